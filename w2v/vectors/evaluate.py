"""Intrinsic evaluation: word analogies (questions-words format) and word-pair similarity.

Sentence similarity (STS) pools sentences, so it lives with the documents (`documents.sts`).

The rules follow gensim's `evaluate_word_analogies` / `evaluate_word_pairs` (and
word2vec C's compute-accuracy) so that numbers are comparable with theirs:

- only the first `restrict_vocab` words of the vectors, in file order, are used;
- with `case_insensitive`, words are compared uppercased and a word with several case
  variants takes the vector of its first (most frequent) variant;
- questions and pairs with an unknown word are skipped and counted, not scored as wrong;
- the three question words of an analogy (in any case variant) are never the answer;
- sections whose name does not start with "gram" are semantic, the others syntactic.
"""

import dataclasses
import logging
import math
import os
import warnings
from importlib import resources

import numpy as np

from ..errors import InputError
from .query import analogy_scores, check_method
from .word_vectors import unit_rows

log = logging.getLogger("w2v")

BATCH_SCORES = 1 << 24  # scores computed per batch of analogy questions (64 MiB of float32)


def bundled_dataset(name):
    """Path of a file shipped in w2v/data (installed package, else the checkout): the
    evaluation sets ("questions-words.txt", "wordsim353.txt") and the bias word lists."""
    packaged = resources.files("w2v") / "data" / name
    if packaged.is_file():
        return str(packaged)
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", name)


# --------------------------------------------------------------------------- results


def ratio(part, whole):
    """part / whole, NaN when whole is 0 (a result with nothing scored)."""
    return part / whole if whole else math.nan


def json_number(x):
    """x for JSON output: NaN becomes null."""
    return None if isinstance(x, float) and math.isnan(x) else x


@dataclasses.dataclass
class SectionScore:
    name: str
    correct: int = 0
    seen: int = 0  # questions with all four words in the vocabulary
    total: int = 0

    @property
    def accuracy(self):
        return ratio(self.correct, self.seen)

    @property
    def semantic(self):
        return not self.name.startswith("gram")

    def to_dict(self):
        return {"section": self.name, "correct": self.correct, "seen": self.seen,
                "total": self.total, "accuracy": json_number(self.accuracy)}


@dataclasses.dataclass
class AnalogyResult:
    """Per-section counts; `semantic`, `syntactic` and `overall` are summed from them."""

    path: str
    method: str
    restrict_vocab: int
    sections: list

    def _sum(self, name, sections):
        return SectionScore(name, sum(s.correct for s in sections), sum(s.seen for s in sections),
                            sum(s.total for s in sections))

    @property
    def semantic(self):
        return self._sum("semantic", [s for s in self.sections if s.semantic])

    @property
    def syntactic(self):
        return self._sum("syntactic", [s for s in self.sections if not s.semantic])

    @property
    def overall(self):
        return self._sum("total", self.sections)

    @property
    def accuracy(self):
        return self.overall.accuracy

    @property
    def coverage(self):
        return ratio(self.overall.seen, self.overall.total)

    def to_dict(self):
        return {
            "file": self.path, "method": self.method, "restrict_vocab": self.restrict_vocab,
            "accuracy": json_number(self.accuracy), "coverage": json_number(self.coverage),
            "sections": [s.to_dict() for s in self.sections],
            "semantic": self.semantic.to_dict(), "syntactic": self.syntactic.to_dict(),
            "total": self.overall.to_dict(),
        }


@dataclasses.dataclass
class SimilarityResult:
    path: str
    spearman: float
    pearson: float
    pairs_used: int
    pairs_total: int
    pairs_composed: int = 0  # used pairs with a word composed from subwords
    words_composed: list = dataclasses.field(default_factory=list)

    @property
    def coverage(self):
        return ratio(self.pairs_used, self.pairs_total)

    @property
    def vocabulary_coverage(self):
        """Share of pairs whose words are both in the vocabulary (none composed)."""
        return ratio(self.pairs_used - self.pairs_composed, self.pairs_total)

    def to_dict(self):
        return {"file": self.path, "spearman": json_number(self.spearman),
                "pearson": json_number(self.pearson), "pairs_used": self.pairs_used,
                "pairs_total": self.pairs_total, "coverage": json_number(self.coverage),
                "pairs_composed": self.pairs_composed,
                "words_composed": len(self.words_composed)}


# --------------------------------------------------------------------------- vocabulary view


def _lookup(wv, restrict_vocab, case_insensitive):
    """(key -> row of the first word with that key, row -> that first row) over the
    first `restrict_vocab` words; the key is the uppercased word when case-insensitive."""
    n_rows = len(wv) if restrict_vocab is None else min(restrict_vocab, len(wv))
    first = {}
    canonical = np.empty(n_rows, dtype=np.int64)
    for row, word in enumerate(wv.words[:n_rows]):
        canonical[row] = first.setdefault(word.upper() if case_insensitive else word, row)
    return first, canonical


def finite_score(text):
    """A gold score as a float; ValueError unless it is a finite number."""
    score = float(text)
    if not math.isfinite(score):
        raise ValueError(text)
    return score


def correlations(gold, model):
    """(Spearman, Pearson) of two equal-length sequences; NaN where they are undefined
    (fewer than two pairs, or one side constant), without scipy's warnings."""
    from scipy import stats

    gold, model = np.asarray(gold, dtype=np.float64), np.asarray(model, dtype=np.float64)
    if len(gold) < 2 or np.ptp(gold) == 0 or np.ptp(model) == 0:
        return math.nan, math.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(gold, model)[0]), float(stats.pearsonr(gold, model)[0])


def read_lines(path):
    """The lines of a UTF-8 text file (bad bytes replaced), read as every input is: '-' is
    stdin, .gz/.bz2/.xz are decompressed; InputError if it cannot be read."""
    from ..text.sources import decoded_blocks

    path = os.fspath(path)
    if path != "-":
        try:
            os.stat(path)
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    return "".join(decoded_blocks([path])).splitlines()


# --------------------------------------------------------------------------- analogies


def evaluate_analogies(wv, path, restrict_vocab=30000, method="3cosadd", case_insensitive=True):
    """Accuracy on an analogy file: ": section" lines, then "a b c d" questions (a:b = c:d).

    The answer is the best-scoring word for b - a + c among the first `restrict_vocab`
    words. Questions are scored in batches as one matrix product each. Blank lines are
    skipped; any other line that is not four words raises InputError naming it.
    """
    method = check_method(method)
    path = os.fspath(path)
    key_to_row, canonical = _lookup(wv, restrict_vocab, case_insensitive)
    sections, questions = _read_analogies(path, key_to_row, case_insensitive)
    unit = wv.unit[: len(canonical)]
    batch = max(1, min(1000, BATCH_SCORES // max(1, len(canonical))))
    correct = np.zeros(len(questions), dtype=bool)
    for start in range(0, len(questions), batch):
        a, b, c, expected = questions[start:start + batch, 1:5].T
        # analogy_scores(x, y, z) scores x - y + z; the question asks for b - a + c.
        scores = analogy_scores(unit, np.stack([b, a, c], axis=1), method)
        predicted = _best_excluding(scores, np.stack([a, b, c], axis=1), canonical)
        correct[start:start + batch] = predicted == expected
    per_section = np.bincount(questions[:, 0], weights=correct, minlength=len(sections))
    for section, n in zip(sections, per_section):
        section.correct = int(n)
    return AnalogyResult(path, method, len(canonical), sections)


def _read_analogies(path, key_to_row, case_insensitive):
    """Sections with their totals and seen counts, and an int array of the answerable
    questions as rows (section index, a, b, c, expected) of canonical ids."""
    sections, questions = [], []
    for line_no, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        if line.startswith(":"):
            sections.append(SectionScore(line[1:].strip()))
            continue
        words = line.split()
        if len(words) != 4:
            raise InputError(f"{path}: line {line_no}: expected 4 words or a ': section' line, "
                             f"got {line.strip()[:60]!r}")
        if not sections:
            sections.append(SectionScore("(no section)"))
        section = sections[-1]
        section.total += 1
        ids = [key_to_row.get(w.upper() if case_insensitive else w) for w in words]
        if None not in ids:
            section.seen += 1
            questions.append([len(sections) - 1, *ids])
    if not sections:
        raise InputError(f"{path}: no analogy questions in the file")
    return sections, np.array(questions, dtype=np.int64).reshape(-1, 5)


def _best_excluding(scores, question_ids, canonical):
    """Canonical id of each row's best-scoring word that is not a question word.

    Question words are excluded in every case variant. `scores` is overwritten.
    """
    batch = np.arange(len(scores))
    for column in range(question_ids.shape[1]):
        scores[batch, question_ids[:, column]] = -np.inf
    best = canonical[scores.argmax(axis=1)]
    # A case variant (another row with the same canonical id) can still win; only for
    # those questions pay for masking every row of the question's words.
    clash = np.flatnonzero((best[:, None] == question_ids).any(axis=1))
    for i in clash:
        scores[i, np.isin(canonical, question_ids[i])] = -np.inf
        best[i] = canonical[scores[i].argmax()]
    return best


# --------------------------------------------------------------------------- similarity


def evaluate_similarity(wv, path, restrict_vocab=None, case_insensitive=True, compose=True):
    """Spearman and Pearson correlation between cosines and human scores of word pairs.

    Lines are "word1 word2 score", tab- or space-separated; blank lines and lines starting
    with "#" are skipped; any other malformed line raises InputError naming it. Pairs with
    an unknown word are skipped and counted, unless `compose` and the vectors compose
    words from subwords (`SubwordVectors`): then an unknown word, as the file spells it,
    gets the mean of its n-gram rows, as fastText answers it, and the result counts those
    pairs. With no usable pair the correlations are NaN.
    """
    path = os.fspath(path)
    key_to_row, _ = _lookup(wv, restrict_vocab, case_insensitive)
    compose = compose and wv.composes_unknown
    extra = {}  # composed word -> its row in the extra matrix
    left, right, gold, total, composed_pairs = [], [], [], 0, 0
    for line_no, line in enumerate(read_lines(path), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) != 3:  # not tab-separated (tabs allow phrases, which are then OOV)
            fields = line.split()
        try:
            if len(fields) != 3:
                raise ValueError
            score = finite_score(fields[2])
        except ValueError:
            raise InputError(f"{path}: line {line_no}: expected 'word1 word2 score' with a "
                             f"finite score, got {line.strip()[:60]!r}") from None
        total += 1
        a, b = (key_to_row.get(w.upper() if case_insensitive else w) for w in fields[:2])
        if compose and (a is None or b is None):
            # composed words get rows after the vocabulary's, in an extra matrix
            a, b = (row if row is not None else len(wv) + extra.setdefault(w, len(extra))
                    for row, w in ((a, fields[0]), (b, fields[1])))
            composed_pairs += 1
        if a is not None and b is not None:
            left.append(a)
            right.append(b)
            gold.append(score)
    if total == 0:
        raise InputError(f"{path}: no word pairs in the file")
    if extra:
        composed_unit = unit_rows(wv.vectors_for(list(extra)))
        log.info("%s: %d words composed from character n-grams (not in the vocabulary), "
                 "in %d pairs", path, len(extra), composed_pairs)
    else:
        composed_unit = np.zeros((0, wv.dim), dtype=np.float32)
    first, second = (_gather(wv.unit, composed_unit, ids) for ids in (left, right))
    model = np.einsum("ij,ij->i", first, second) if left else np.zeros(0)
    spearman, pearson = correlations(gold, model)
    return SimilarityResult(path, spearman, pearson, len(gold), total, composed_pairs,
                            list(extra))


def _gather(unit, composed_unit, ids):
    """Rows `ids` of the vocabulary's unit vectors followed by the composed words' ones
    (never concatenated: the vocabulary's matrix can be gigabytes)."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.empty((len(ids), unit.shape[1]), dtype=np.float32)
    known = ids < len(unit)
    out[known] = unit[ids[known]]
    out[~known] = composed_unit[ids[~known] - len(unit)]
    return out


# --------------------------------------------------------------------------- sentence similarity
