"""Phrases: join word pairs that occur together more than chance, as word2phrase does.

One pass reads the text (every word counts, as in word2phrase), counts each word and each
candidate pair of adjacent words on a line exactly, scores the pairs and writes the text
back with the phrases joined (`new_york`). Scorers:

- `word2phrase`: (count(ab) - min_count) / count(a) / count(b) x train_words, where
  train_words is the number of tokens in the text; a pair joins when its score is above
  the threshold (`>`, as word2phrase) and a, b and ab each occur at least min_count times.
  Scores are float64 in word2phrase's order of operations (word2phrase itself uses float).
- `npmi`: ln(p(ab) / (p(a) p(b))) / -ln(p(ab)), each p a count over train_words, in [-1, 1];
  a pair joins when its score is above the threshold and ab occurs at least min_count times.

Joins are greedy left to right and never overlap; they never cross lines, and unlike
word2phrase (whose counting runs over line ends) pairs are only counted within a line.
With connector words (gensim's idea), a candidate is two other words with up to
MAX_CONNECTORS connector words between them (`bank_of_america`); connector words never
start or end a phrase. A phrase is its joined string: `--apply` and the counting run join
exactly the candidates whose joined string is in the phrase table.

Lines keep their order, blank lines included; tokens are written back separated by one
space. Several passes run on the previous pass's output, kept in memory as token ids: a
joined phrase becomes one word of the text's word store, so the next pass counts it like any
other word (`phrase_passes`, which `load_corpus` runs for `w2v train --phrases N` too).
"""

import contextlib
import dataclasses
import logging
import math
import os

import numpy as np

from .atomic import atomic_write
from .corpus import (_check_text, _invalid_counter, _read_ahead, _read_blocks,
                     _refuse_nul, _Source, _TokenIds, expand_inputs)
from .errors import InputError, OptionError
from .tokenize import WordStore

log = logging.getLogger("w2v")

SCORERS = {"word2phrase": 100.0, "npmi": 0.5}  # scorer -> default threshold
MAX_CONNECTORS = 3  # connector words a phrase may have between its two ends
CHUNK_TOKENS = 1 << 22  # tokens counted per kernel call, to bound temporaries

# gensim's ENGLISH_CONNECTOR_WORDS
ENGLISH_CONNECTORS = ("a an the for of with without at from to in on by and or").split()


@dataclasses.dataclass
class Text:
    """Lines of tokens: line i is ids[offsets[i]:offsets[i + 1]] (blank lines are empty)."""

    store: WordStore
    ids: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = lines + 1

    @property
    def n_tokens(self):
        return len(self.ids)


@dataclasses.dataclass
class Phrase:
    text: str
    count: int
    score: float


# --------------------------------------------------------------------------- reading


def read_text(inputs, lowercase=False):
    """Read every input once (files, globs, '-', compressed) into a `Text`, blank lines kept."""
    return _tokenize_blocks(_file_blocks(expand_inputs(inputs), lowercase))


def _file_blocks(paths, lowercase):
    """Byte blocks of whole lines of every input, checked as the corpus pass checks them."""
    errors, invalid = _invalid_counter()
    for path in paths:
        source = _Source(path)
        try:
            with contextlib.closing(_read_ahead(_read_blocks(source))) as blocks:
                yield from _checked(source, blocks, errors, lowercase)
        finally:
            source.close()
    if invalid["count"]:
        log.warning("replaced %d bytes that were not valid UTF-8", invalid["count"])


def _checked(source, blocks, errors, lowercase):
    """The blocks of one source: no NUL, UTF-8 (bad bytes replaced), ending in a newline."""
    checked = False
    offset = 0
    for block in blocks:
        _refuse_nul(source, block, offset)
        offset += len(block)
        if lowercase:
            block = block.decode("utf-8", errors).lower().encode("utf-8")
        elif not block.isascii():  # ASCII is valid UTF-8, and checked far faster
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                block = block.decode("utf-8", errors).encode("utf-8")
        if not checked:
            _check_text(source.name, block)
            checked = True
        if block and block[-1:] != b"\n":  # a last line without its newline
            block += b"\n"
        yield block


def _tokenize_blocks(blocks):
    from .phrase_kernels import nonblank_lines

    store = WordStore()
    tokens = _TokenIds()  # fixed pieces, copied into one array piece by piece at the end
    lengths = []
    for block in blocks:
        block_ids, nonblank_lengths = store.tokenize(block)
        nonblank = nonblank_lines(np.frombuffer(block, dtype=np.uint8))
        line_lengths = np.zeros(len(nonblank), dtype=np.int64)
        line_lengths[nonblank] = nonblank_lengths
        tokens.append(block_ids, store.n_words)
        lengths.append(line_lengths)
    ids = tokens.finish(store.n_words).take_ids()
    lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Text(store, ids, offsets)


def _line_chunks(offsets, tokens=CHUNK_TOKENS):
    """(first line, end line) ranges of about `tokens` tokens each (at least one line)."""
    n_lines = len(offsets) - 1
    lo = 0
    while lo < n_lines:
        hi = int(np.searchsorted(offsets, offsets[lo] + tokens, side="right")) - 1
        hi = min(max(hi, lo + 1), n_lines)
        yield lo, hi
        lo = hi


# --------------------------------------------------------------------------- candidates


class _Keys:
    """How candidates of one Text are keyed: (a * n_words + b) * n_seq + seq."""

    def __init__(self, text, connectors):
        words = None
        self.n_words = max(text.store.n_words, 1)
        self.conn = np.full(self.n_words, -1, dtype=np.int64)
        self.connectors = sorted(set(connectors))
        if self.connectors:
            words = text.store.words()
            index = {word: i for i, word in enumerate(self.connectors)}
            for w, word in enumerate(words):
                c = index.get(word)
                if c is not None:
                    self.conn[w] = c
        n_conn = len(self.connectors)
        self.max_conn = 0
        for length in range(MAX_CONNECTORS if n_conn else 0, -1, -1):
            n_seq = sum(n_conn ** j for j in range(length + 1))
            if self.n_words * self.n_words * n_seq < 1 << 62:
                self.max_conn = length
                break
        else:
            raise InputError(f"too many distinct words ({self.n_words}) to count pairs of")
        self.seq_start = np.array([sum(n_conn ** j for j in range(length))
                                   for length in range(self.max_conn + 2)], dtype=np.int64)
        self.n_seq = int(self.seq_start[-1])
        self._words = words

    def words(self, text):
        if self._words is None:
            self._words = text.store.words()
        return self._words

    def args(self):
        return self.conn, self.max_conn, self.seq_start, self.n_words, self.n_seq

    def decode(self, keys):
        """(a, b, seq) arrays of keys."""
        seq = keys % self.n_seq
        pair = keys // self.n_seq
        return pair // self.n_words, pair % self.n_words, seq

    def connector_run(self, seq):
        """The connector words a seq number stands for."""
        length = int(np.searchsorted(self.seq_start, seq, side="right")) - 1
        value = int(seq - self.seq_start[length])
        run = []
        for _ in range(length):
            value, c = divmod(value, len(self.connectors))
            run.append(self.connectors[c])
        return run

    def encode(self, a, run_ids, b):
        value, power = 0, 1
        for c in run_ids:
            value += int(self.conn[c]) * power
            power *= len(self.connectors)
        return (a * self.n_words + b) * self.n_seq + int(self.seq_start[len(run_ids)]) + value


def count_candidates(text, keys, min_count=1, memory_gb=None):
    """(word counts, sorted candidate keys, their counts) of a Text, exact int64.

    Candidates with an end seen fewer than `min_count` times are not counted: no scorer
    joins them (a pair is never seen more often than either of its words).
    """
    word_counts, runs = _counted(text, keys, min_count, memory_gb)
    try:
        blocks = [(k.copy(), c.copy()) for k, c in runs.blocks()]
    finally:
        runs.close()
    if not blocks:
        return word_counts, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return word_counts, np.concatenate([k for k, _ in blocks]), \
        np.concatenate([c for _, c in blocks])


def _counted(text, keys, min_count, memory_gb, tmp_dir=None):
    """(word counts, the candidates' counts as cooccur's store of sorted runs, finished).

    Chunks of lines are keyed, sorted and counted, and their runs merged in memory up to
    about `memory_gb` (default: half the memory available); past it, merged runs spill to
    a temporary file and are merged from there in bounded windows, as co-occurrence counts
    are. The caller reads `blocks()` and must `close()` the store.
    """
    from .cooccur import BYTES_PER_ENTRY, _RunStore, default_memory_gb
    from .phrase_kernels import candidate_keys, count_runs

    budget = int((default_memory_gb() if memory_gb is None else memory_gb) * 1e9)
    # a quarter of the bound for a chunk's keys and their sorted copy, the rest for the runs
    chunk_tokens = int(min(CHUNK_TOKENS, max(1, budget // 4 // 16)))
    rest = max(0, budget - 16 * chunk_tokens)
    runs = _RunStore(rest // 2 // BYTES_PER_ENTRY, rest, tmp_dir)
    word_counts = np.bincount(text.ids, minlength=keys.n_words).astype(np.int64)
    frequent = word_counts >= min_count
    try:
        for lo, hi in _line_chunks(text.offsets, chunk_tokens):
            out = np.empty(int(text.offsets[hi] - text.offsets[lo]), dtype=np.int64)
            n = candidate_keys(text.ids, text.offsets, lo, hi, *keys.args(), frequent, out)
            out = np.sort(out[:n])
            chunk_keys, chunk_counts = count_runs(out)
            del out
            runs.push(chunk_keys, chunk_counts)
        runs.finish()
    except BaseException:
        runs.close()
        raise
    if runs.n_spills:
        log.info("pair counts spilled to a temporary file %d times (--memory %.3g GB)",
                 runs.n_spills, budget / 1e9)
    return word_counts, runs


def _phrase_strings(text, keys, sorted_keys, delimiter):
    """The joined string of each key (strings are made for the words of the keys only)."""
    a, b, seq = keys.decode(sorted_keys)
    ends = np.unique(np.concatenate([a, b]))
    word = dict(zip(ends.tolist(), text.store.words(ends)))
    return [delimiter.join([word[x], *keys.connector_run(q), word[y]])
            for x, y, q in zip(a.tolist(), b.tolist(), seq.tolist())]


def score(scorer, count_a, count_b, count_ab, min_count, train_words):
    """Scores of candidates (numpy arrays of counts) and whether each may join at all."""
    count_a = np.asarray(count_a, dtype=np.int64)
    count_b = np.asarray(count_b, dtype=np.int64)
    count_ab = np.asarray(count_ab, dtype=np.int64)
    if scorer == "word2phrase":
        allowed = (count_ab >= min_count) & (count_a >= min_count) & (count_b >= min_count)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = (count_ab - min_count) / count_a.astype(np.float64) / count_b * float(
                train_words)
    elif scorer == "npmi":
        allowed = count_ab >= min_count
        n = float(train_words)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_ab = count_ab / n
            scores = np.log(p_ab / ((count_a / n) * (count_b / n))) / -np.log(p_ab)
    else:
        raise OptionError(f"unknown scorer {scorer!r} (choose from {', '.join(SCORERS)})")
    return scores, allowed


def check_threshold(scorer, threshold):
    if scorer not in SCORERS:
        raise OptionError(f"unknown scorer {scorer!r} (choose from {', '.join(SCORERS)})")
    if not math.isfinite(threshold):
        raise OptionError(f"--threshold must be a finite number, not {threshold}")
    if scorer == "npmi" and not -1.0 <= threshold <= 1.0:
        raise OptionError(f"--threshold {threshold:g} is outside [-1, 1], the range of npmi")


def find_phrases(text, *, scorer="word2phrase", threshold=None, min_count=5, connectors=(),
                 delimiter="_", memory_gb=None):
    """The phrases of a Text: a list of `Phrase`, highest score first (ties by text).

    `memory_gb` bounds the pair counts (default: half the memory available); past it they
    spill to a temporary file."""
    phrases, _ = _choose(text, _Keys(text, connectors), scorer, threshold, min_count, delimiter,
                         memory_gb)
    return phrases


def _choose(text, keys, scorer, threshold, min_count, delimiter, memory_gb=None):
    """(the phrases of a Text by score, the sorted keys of the candidates chosen)."""
    threshold = SCORERS.get(scorer, 0.0) if threshold is None else float(threshold)
    check_threshold(scorer, threshold)
    word_counts, runs = _counted(text, keys, min_count, memory_gb)
    chosen_keys, chosen_counts, chosen_scores = [], [], []
    n_candidates = 0
    try:
        for cand_keys, cand_counts in runs.blocks():  # blocks of sorted keys, in order
            n_candidates += len(cand_keys)
            seen = np.flatnonzero(cand_counts >= min_count)  # no scorer joins the others
            cand_keys, cand_counts = cand_keys[seen], cand_counts[seen]
            a, b, _ = keys.decode(cand_keys)
            scores, allowed = score(scorer, word_counts[a], word_counts[b], cand_counts,
                                    min_count, text.n_tokens)
            chosen = np.flatnonzero(allowed & (scores > threshold))
            chosen_keys.append(cand_keys[chosen])
            chosen_counts.append(cand_counts[chosen])
            chosen_scores.append(scores[chosen])
    finally:
        runs.close()
    chosen_keys = np.concatenate(chosen_keys) if chosen_keys else np.zeros(0, np.int64)
    counts = np.concatenate(chosen_counts) if chosen_counts else np.zeros(0, np.int64)
    scores = np.concatenate(chosen_scores) if chosen_scores else np.zeros(0)
    strings = _phrase_strings(text, keys, chosen_keys, delimiter)
    phrases = [Phrase(string, int(count), float(value)) for string, count, value in
               zip(strings, counts.tolist(), scores.tolist())]
    phrases.sort(key=lambda p: (-p.score, p.text))
    log.debug("%d candidates, %d phrases above %g (%s)", n_candidates, len(phrases),
              threshold, scorer)
    return phrases, chosen_keys


def _no_word_has(store, delimiter):
    """Whether no word of the store contains `delimiter` (then a phrase's string splits into
    its words one way only, so the chosen keys are all the keys of its string)."""
    used = store.word_bytes[: store.word_ends[store.n_words]]
    return delimiter.encode("utf-8") not in used.tobytes()


def phrase_keys(text, phrases, connectors=(), delimiter="_", keys=None):
    """Sorted keys of every candidate of `text` whose joined string is one of `phrases`.

    A phrase string is split at its delimiters every way that gives a word of the text, up
    to MAX_CONNECTORS connector words, and a word of the text.
    """
    keys = keys or _Keys(text, connectors)
    if not phrases:
        return np.zeros(0, dtype=np.int64), keys
    index = {word: w for w, word in enumerate(keys.words(text))}
    found = set()
    for phrase in phrases:
        parts = phrase.split(delimiter) if delimiter else [phrase]
        for i in range(1, len(parts)):
            a = index.get(delimiter.join(parts[:i]))
            if a is None or keys.conn[a] >= 0:
                continue
            for j in range(i, min(len(parts), i + keys.max_conn + 1)):
                run = [index.get(p) for p in parts[i:j]]
                if any(c is None or keys.conn[c] < 0 for c in run):
                    break
                b = index.get(delimiter.join(parts[j:]))
                if b is not None and keys.conn[b] < 0:
                    found.add(keys.encode(a, run, b))
    return np.array(sorted(found), dtype=np.int64), keys


def join_text(text, sorted_keys, keys, delimiter="_"):
    """`text` with the candidates in `sorted_keys` joined, each phrase one token, and how
    many were joined. Consumes `text`: its ids are rewritten in place, and the phrases are
    added to its word store (a phrase that is already a word of the text gets that word's id).
    """
    from .phrase_kernels import join_ids

    store = text.store
    phrase_ids = np.zeros(0, dtype=np.uint32)
    if len(sorted_keys):
        strings = _phrase_strings(text, keys, sorted_keys, delimiter)
        phrase_ids, _ = store.tokenize(("\n".join(strings) + "\n").encode("utf-8"))
        if len(phrase_ids) != len(strings):  # a phrase is one token: no whitespace in it
            raise AssertionError("a phrase split into several tokens")
    first_key = np.searchsorted(keys.decode(sorted_keys)[0], np.arange(keys.n_words + 1))
    new_offsets = np.empty_like(text.offsets)
    n, joined = join_ids(text.ids, text.offsets, *keys.args(), sorted_keys, phrase_ids,
                         first_key, new_offsets)
    return Text(store, text.ids[:n], new_offsets), joined


def write_text(text, stream, buffer_bytes=1 << 24):
    """Write the text to a binary stream, through one buffer of whole lines."""
    from .phrase_kernels import write_lines

    store = text.store
    out = np.empty(buffer_bytes, dtype=np.uint8)
    line, n_lines = 0, len(text.offsets) - 1
    while line < n_lines:
        n, after = write_lines(text.ids, text.offsets, line, n_lines, store.word_bytes,
                               store.word_ends, out)
        if after == line:  # a line longer than the buffer
            out = np.empty(2 * len(out), dtype=np.uint8)
            continue
        stream.write(memoryview(out)[:n])
        line = after


# --------------------------------------------------------------------------- passes


def check_delimiter(delimiter):
    if not delimiter or delimiter.split() != [delimiter]:
        raise OptionError(f"--delimiter must be non-empty and without whitespace (a phrase is "
                          f"one token), got {delimiter!r}")


def phrase_passes(text, passes=1, *, scorer="word2phrase", thresholds=None, min_count=5,
                  connectors=(), delimiter="_", tables=None, memory_gb=None):
    """`text` after `passes` passes, each counting the previous pass's output and joining its
    phrases (or those of `tables`, one list of `Phrase` a pass, without counting).

    Returns (the joined Text, the table of each pass). Consumes `text`; everything stays
    token ids, so memory is the text's ids and the pair counts of one pass.
    """
    check_delimiter(delimiter)
    if tables is None:
        if passes < 1:
            raise OptionError(f"--passes must be at least 1, not {passes}")
        thresholds = expand_thresholds(scorer, thresholds, passes)
        for t in thresholds:
            check_threshold(scorer, t)
    else:
        passes = len(tables)
    found = []
    for p in range(passes):
        keys = _Keys(text, connectors)
        if tables is None:
            table, sorted_keys = _choose(text, keys, scorer, thresholds[p], min_count,
                                         delimiter, memory_gb)
        else:
            table = tables[p]
        if tables is not None or not _no_word_has(text.store, delimiter):
            sorted_keys, keys = phrase_keys(text, [phrase.text for phrase in table], connectors,
                                            delimiter, keys)
        found.append(table)
        text, joined = join_text(text, sorted_keys, keys, delimiter)
        log.info("pass %d: %d phrases, %d joined in the text", p + 1, len(table), joined)
    return text, found


def phrase_record(tables, thresholds=None, passes=None, scorer="word2phrase", min_count=5,
                  delimiter="_"):
    """What a model records of the phrase passes run on its corpus: the settings and each
    pass's phrases (by score), so that the same joins can be made in other text."""
    passes = len(tables) if passes is None else passes
    return {"passes": passes, "scorer": scorer,
            "thresholds": expand_thresholds(scorer, thresholds, passes),
            "min_count": min_count, "delimiter": delimiter,
            "tables": [[phrase.text for phrase in table] for table in tables]}


def run_phrases(inputs, output="-", *, scorer="word2phrase", thresholds=None, min_count=5,
                passes=1, connectors=(), delimiter="_", lowercase=False, save_phrases=None,
                apply=None, memory_gb=None):
    """Read `inputs`, join phrases in `passes` passes (or those of the file `apply`), write
    the text to `output` ('-' for stdout). Returns the phrase table of each pass.

    `thresholds` has one value per pass (or one for all); `save_phrases` writes the tables;
    `memory_gb` bounds the pair counts (past it they spill to a temporary file).
    """
    check_delimiter(delimiter)
    if memory_gb is not None and not memory_gb > 0:
        raise OptionError(f"--memory must be positive, got {memory_gb}")
    applied = None
    if apply is not None:
        applied = read_phrases(apply)
    else:
        if passes < 1:
            raise OptionError(f"--passes must be at least 1, not {passes}")
        for t in expand_thresholds(scorer, thresholds, passes):
            check_threshold(scorer, t)
    text = read_text(inputs, lowercase=lowercase)
    if text.n_tokens == 0:
        raise InputError("the corpus is empty: no tokens in " + ", ".join(expand_inputs(inputs)))
    text, tables = phrase_passes(text, passes, scorer=scorer, thresholds=thresholds,
                                 min_count=min_count, connectors=connectors, delimiter=delimiter,
                                 tables=applied, memory_gb=memory_gb)
    with atomic_write(output, "wb") as f:
        write_text(text, f)
    if save_phrases is not None and apply is None:
        write_phrases(tables, save_phrases)
    return tables


def expand_thresholds(scorer, thresholds, passes):
    """One threshold per pass: the scorer's default, one value for all, or one for each."""
    if thresholds is None or len(thresholds) == 0:
        return [SCORERS.get(scorer, 0.0)] * passes
    thresholds = [float(t) for t in thresholds]
    if len(thresholds) == 1:
        return thresholds * passes
    if len(thresholds) != passes:
        raise OptionError(f"--threshold has {len(thresholds)} values for {passes} passes")
    return thresholds


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


def read_phrases(path):
    """The tables of a file `write_phrases` wrote, one list of `Phrase` per pass."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a phrase file: not UTF-8 text") from None
    tables = [[]]
    for number, line in enumerate(lines, 1):
        if "\t" not in line and line.startswith("# pass "):
            if tables[-1] or number > 1:
                tables.append([])
            continue
        fields = line.split("\t")
        try:
            if len(fields) != 3 or not fields[0]:
                raise ValueError
            tables[-1].append(Phrase(fields[0], int(fields[1]), float(fields[2])))
        except ValueError:
            raise InputError(f"{path}, line {number}: expected phrase<TAB>count<TAB>score, "
                             f"got {line[:60]!r}") from None
    return tables


def read_connectors(name):
    """Connector words: 'english' (gensim's list) or a file of words (whitespace-separated)."""
    if name is None:
        return ()
    if name == "english" and not os.path.exists(name):
        return tuple(ENGLISH_CONNECTORS)
    try:
        with open(name, encoding="utf-8") as f:
            return tuple(f.read().split())
    except OSError as e:
        raise InputError(f"cannot read {name}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{name} is not UTF-8 text") from None
