"""Phrase tables without numba: the `--save-phrases` file, and joining a table's phrases in
lines of words in plain Python, for `embed` and `search` (which never import numba).

`PhraseJoiner` joins as `w2v phrases --apply` does (`phrases.join_text`): pass by pass,
greedy from the left, never overlapping, a phrase being its joined string; a candidate is
two words that are not connector words, with up to MAX_CONNECTORS connector words between
them. So text joined here gives the tokens that a model trained with `--phrases N` (or on
`w2v phrases` output) has vectors for: `new york` becomes `new_york`.
"""

import dataclasses
import math

from ..runtime.atomic import atomic_write
from ..errors import InputError, OptionError

MAX_CONNECTORS = 3  # connector words a phrase may have between its two ends


@dataclasses.dataclass
class Phrase:
    text: str
    count: int
    score: float


# --------------------------------------------------------------------------- phrase files


def write_phrases(tables, path):
    """`phrase<TAB>count<TAB>score` lines by score; a `# pass N` line before each pass's
    table when there are several passes (a phrase line always has tabs, that line none)."""
    with atomic_write(path, "w") as f:
        for p, table in enumerate(tables):
            if len(tables) > 1:
                f.write(f"# pass {p + 1}\n")
            for phrase in table:
                f.write(f"{phrase.text}\t{phrase.count}\t{phrase.score!r}\n")


MAX_PHRASE_FILE_BYTES = 1 << 30  # a phrase file larger than this is not one


def read_phrases(path, delimiter=None):
    """The tables of a file `write_phrases` wrote, one list of `Phrase` per pass.

    A leading UTF-8 byte-order mark is skipped. A phrase holding whitespace, a NUL or
    another control character is refused, as is, when `delimiter` is given, one that is not
    two or more words joined by it (`_york`, `new__york`); `phrase_spec` checks that too.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_PHRASE_FILE_BYTES + 1)
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    if len(raw) > MAX_PHRASE_FILE_BYTES:
        raise InputError(f"{path} is not a phrase file: larger than "
                         f"{MAX_PHRASE_FILE_BYTES >> 20} MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a phrase file: not UTF-8 text") from None
    del raw
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tables = [[]]
    for number, line in enumerate(lines, 1):
        line = line[:-1] if line.endswith("\r") else line
        if "\t" not in line and line.startswith("# pass "):
            if tables[-1] or number > 1:
                tables.append([])
            continue
        fields = line.split("\t")
        try:
            if len(fields) != 3 or not fields[0] or not fields[1].isascii() \
                    or not fields[1].isdigit():
                raise ValueError
            score = float(fields[2])
            if not math.isfinite(score):
                raise ValueError
        except ValueError:
            raise InputError(f"{path}, line {number}: expected phrase<TAB>count<TAB>score, "
                             f"got {line[:60]!r}") from None
        problem = phrase_problem(fields[0], delimiter)
        if problem:
            raise InputError(f"{path}, line {number}: {problem}")
        tables[-1].append(Phrase(fields[0], int(fields[1]), score))
    return tables


def phrase_problem(phrase, delimiter=None):
    """Why `phrase` cannot be a phrase (None if it can): whitespace or control characters,
    or, with `delimiter`, not two or more non-empty words joined by it."""
    bad = next((c for c in phrase if c.isspace() or ord(c) < 32 or 0x7f <= ord(c) <= 0x9f),
               None)
    if bad is not None:
        return f"the phrase {phrase[:60]!r} holds {bad!r}, which no word holds"
    if delimiter is not None:
        parts = phrase.split(delimiter)
        if len(parts) < 2 or not all(parts):
            return (f"the phrase {phrase[:60]!r} is not words joined by {delimiter!r} "
                    f"(a delimiter at an end, doubled, or none)")
    return None


# --------------------------------------------------------------------------- joining


def phrase_spec(phrases, delimiter="_", connectors=()):
    """What a joiner needs, as plain JSON-able data: {"tables", "delimiter", "connectors"}.

    `phrases` is a model's phrase record (`corpus.phrases`: it has "tables" and
    "delimiter"), such a spec, or a list of tables (each a list of phrase strings or of
    `Phrase`, as `read_phrases` gives). None or no phrase at all gives None.
    """
    if phrases is None:
        return None
    if isinstance(phrases, dict):
        delimiter = phrases.get("delimiter", delimiter)
        connectors = phrases.get("connectors", connectors)
        phrases = phrases.get("tables", [])
    if not isinstance(phrases, (list, tuple)) or not all(
            isinstance(table, (list, tuple)) and all(isinstance(p, (str, Phrase)) for p in table)
            for table in phrases):
        raise InputError("a phrase record must hold tables that are lists of phrases")
    if not isinstance(connectors, (list, tuple, set, frozenset)) or not all(
            isinstance(c, str) for c in connectors):
        raise InputError("a phrase record's connector words must be a list of words")
    tables = [[p.text if isinstance(p, Phrase) else p for p in table] for table in phrases]
    if not any(tables):
        return None
    if not isinstance(delimiter, str) or not delimiter or delimiter.split() != [delimiter]:
        raise InputError(f"a phrase delimiter must be non-empty and without whitespace, "
                         f"got {delimiter!r}")
    for table in tables:
        for phrase in table:
            problem = phrase_problem(phrase, delimiter)
            if problem:
                raise InputError(problem)
    return {"tables": tables, "delimiter": delimiter, "connectors": sorted(set(connectors))}


class PhraseJoiner:
    """Joins the phrases of a `phrase_spec` in lists of words, as `w2v phrases --apply`."""

    def __init__(self, spec):
        self.tables = [frozenset(table) for table in spec["tables"]]
        self.delimiter = spec["delimiter"]
        self.connectors = frozenset(spec.get("connectors", ()))

    def join(self, words):
        """The words of one line with every pass's phrases joined (a new list)."""
        for table in self.tables:
            if table and len(words) > 1:
                words = self._join_pass(words, table)
        return words

    def _join_pass(self, words, table):
        """One pass, as the kernel `join_ids`: a candidate whose joined string is in the
        table becomes one word, and neither of its ends starts or ends another."""
        out = []
        delimiter, connectors = self.delimiter, self.connectors
        start = -1  # where the open candidate's first word is, -1 for none
        for t, word in enumerate(words):
            if connectors and word in connectors:
                if start < 0:
                    out.append(word)
                continue
            if start >= 0:
                if t - start - 1 <= MAX_CONNECTORS:
                    joined = delimiter.join(words[start:t + 1])
                    if joined in table:
                        out.append(joined)
                        start = -1
                        continue
                out.extend(words[start:t])
            start = t
        if start >= 0:
            out.extend(words[start:])
        return out


def recorded_phrases(path):
    """The phrase record of the model file at `path` (`w2v train --phrases N
    --save-model`), or None: a vector file, or a model trained without phrases."""
    from ..files.model_file import ModelFile, is_model_file

    if path is None or path == "-" or not is_model_file(path):
        return None
    with ModelFile(path) as model:
        corpus = model.header.get("corpus") or {}
    return corpus.get("phrases") or None


def check_phrase_thresholds(passes, thresholds):
    """--phrase-threshold as a tuple of floats: one value, or one per --phrases pass."""
    values = thresholds if isinstance(thresholds, (list, tuple)) else [thresholds]
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            raise OptionError(f"--phrase-threshold must be a finite number or a list, got {value!r}")
    if passes == 0:
        raise OptionError("--phrase-threshold needs --phrases N (N passes)")
    if len(values) not in (1, passes):
        raise OptionError(f"--phrase-threshold has {len(values)} values for {passes} passes")
    return tuple(float(v) for v in values)
