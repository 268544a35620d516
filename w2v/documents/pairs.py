"""Training pairs for `w2v tune`: texts as word ids, and which texts are pairs.

Three sources, each tokenised exactly as the pooling embeds (normaliser, lowercasing,
phrases), words outside the vocabulary dropped:
- STS files, `score<TAB>text1<TAB>text2`: every pair keeps its graded score (for CoSENT);
  a pair scored at least `min_score` is also a positive (for InfoNCE and the triplet loss).
- pair files, `anchor<TAB>positive[<TAB>negative...]`: positives, with explicit negatives.
- crops of a corpus: two random spans of the same line, a positive pair (Contriever's
  unsupervised pairs). The corpus is read as a stream; only word ids are kept.

A file is an STS file when its first line is a number and two texts. A pair with a side
that has no known word is skipped, and the skipped pairs are counted in one warning.
"""

import dataclasses
import logging
import math
import os

import numpy as np

from ..corpus.phrase_tables import PhraseJoiner
from ..errors import InputError
from ..text.preprocess import normaliser

log = logging.getLogger("w2v")

CROP_MIN, CROP_MAX = 10, 30  # tokens in a crop (fewer when the line is shorter)
CROP_DROP = 0.1  # share of a crop's tokens dropped at random
CROP_MIN_LINE = 8  # lines with fewer known words make no crops


class Tokenizer:
    """Text to word ids, as `embed` tokenises for `pooling`."""

    def __init__(self, wv, pooling):
        self.index = wv.index
        self.normalise = normaliser(pooling.preprocess)
        self.lowercase = pooling.lowercase
        self.phrases = None if pooling.phrases is None else PhraseJoiner(pooling.phrases)

    def __call__(self, text):
        if self.normalise is not None:
            text = self.normalise(text)
        if self.lowercase:
            text = text.lower()
        words = text.split()
        if self.phrases is not None:
            words = self.phrases.join(words)
        index = self.index
        return np.array([index[w] for w in words if w in index], dtype=np.int32)


class TextStore:
    """Texts as word ids in one flat array (`ids`, `offsets`); equal texts stored once
    when `dedupe`."""

    def __init__(self, dedupe=True):
        self.chunks, self.lengths = [], []
        self.seen = {} if dedupe else None

    def add(self, ids, key=None):
        if self.seen is not None:
            key = ids.tobytes() if key is None else key
            found = self.seen.get(key)
            if found is not None:
                return found
            self.seen[key] = len(self.lengths)
        self.chunks.append(ids)
        self.lengths.append(len(ids))
        return len(self.lengths) - 1

    def arrays(self):
        offsets = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=offsets[1:])
        ids = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int32)
        return ids.astype(np.int32, copy=False), offsets


@dataclasses.dataclass
class Pairs:
    """Training pairs over texts stored as word ids.

    Text t is `ids[offsets[t]:offsets[t + 1]]`. Pair i joins `left[i]` and `right[i]`;
    `score[i]` is its gold score (NaN for pairs without one) and `positive[i]` whether it
    is a positive pair; `negatives` (CSR in `negative_offsets`) its explicit negatives.
    """

    ids: np.ndarray
    offsets: np.ndarray
    left: np.ndarray
    right: np.ndarray
    score: np.ndarray
    positive: np.ndarray
    negatives: np.ndarray
    negative_offsets: np.ndarray
    skipped: int = 0

    def __len__(self):
        return len(self.left)

    @property
    def n_texts(self):
        return len(self.offsets) - 1

    @property
    def graded(self):
        return bool(np.isfinite(self.score).any())

    def text(self, t):
        return self.ids[self.offsets[t]:self.offsets[t + 1]]


class _Builder:
    def __init__(self, tokenizer, dedupe=True):
        self.tokenizer = tokenizer
        self.store = TextStore(dedupe)
        self.left, self.right, self.score, self.positive = [], [], [], []
        self.negatives, self.negative_counts = [], []
        self.skipped = 0

    def text(self, text):
        ids = self.tokenizer(text)
        return None if len(ids) == 0 else self.store.add(ids)

    def pair(self, a, b, score=math.nan, positive=True, negatives=()):
        if a is None or b is None:
            self.skipped += 1
            return
        self.left.append(a)
        self.right.append(b)
        self.score.append(score)
        self.positive.append(positive)
        kept = [n for n in negatives if n is not None]
        self.negatives.extend(kept)
        self.negative_counts.append(len(kept))

    def build(self):
        ids, offsets = self.store.arrays()
        negative_offsets = np.zeros(len(self.negative_counts) + 1, dtype=np.int64)
        np.cumsum(self.negative_counts, out=negative_offsets[1:])
        return Pairs(ids, offsets, np.array(self.left, np.int64), np.array(self.right, np.int64),
                     np.array(self.score, np.float64), np.array(self.positive, bool),
                     np.array(self.negatives, np.int64), negative_offsets, self.skipped)


def _lines(path):
    """(line number, line without its newline) of a text file, read as a stream."""
    from ..text.sources import InvalidBytes, decoded_blocks

    line_no = 0
    for block in decoded_blocks([path], InvalidBytes()):
        for line in block.split("\n")[:-1]:
            line_no += 1
            yield line_no, line.rstrip("\r")


def _number(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def is_sts_line(line):
    fields = line.split("\t")
    return len(fields) == 3 and _number(fields[0]) is not None


def read_pairs(tokenizer, paths, min_score=4.0, builder=None):
    """`Pairs` from STS and pair files (see the module docstring); InputError naming the
    file and line of a malformed line."""
    builder = builder or _Builder(tokenizer)
    for path in paths:
        path = os.fspath(path)
        sts = None
        for line_no, line in _lines(path):
            if not line.strip():
                continue
            if sts is None:
                sts = is_sts_line(line)
            fields = line.split("\t")
            where = f"{path}:{line_no}"
            if sts:
                score = _number(fields[0]) if len(fields) == 3 else None
                if score is None:
                    raise InputError(f"{where}: expected 'score<TAB>text1<TAB>text2' with a "
                                     f"finite score (as the file's first line), got "
                                     f"{line.strip()[:60]!r}")
                texts = fields[1:]
            else:
                if len(fields) < 2:
                    raise InputError(f"{where}: expected 'anchor<TAB>positive[<TAB>negative"
                                     f"...]', got {line.strip()[:60]!r}")
                texts = fields
            empty = next((i for i, t in enumerate(texts) if not t.strip()), None)
            if empty is not None:
                raise InputError(f"{where}: text {empty + 1} is empty")
            ids = [builder.text(t) for t in texts]
            if sts:
                builder.pair(ids[0], ids[1], score, score >= min_score)
            else:
                builder.pair(ids[0], ids[1], negatives=ids[2:])
        if sts is None:
            raise InputError(f"{path}: no pairs in the file")
    return builder


def read_crops(tokenizer, paths, seed=1, max_pairs=None, builder=None):
    """Two random spans of each line of the corpus `paths` (at least CROP_MIN_LINE known
    words), CROP_DROP of their tokens dropped: positive pairs, read as a stream."""
    builder = builder or _Builder(tokenizer, dedupe=False)
    from ..runtime.rng import seed_for

    rng = np.random.default_rng(int(seed_for(seed, 0xC409)))
    for path in paths:
        for _, line in _lines(os.fspath(path)):
            if max_pairs is not None and len(builder.left) >= max_pairs:
                return builder
            ids = tokenizer(line)
            if len(ids) < CROP_MIN_LINE:
                continue
            crops = []
            for _ in range(2):
                length = int(rng.integers(min(CROP_MIN, len(ids)), min(CROP_MAX, len(ids)) + 1))
                start = int(rng.integers(0, len(ids) - length + 1))
                span = ids[start:start + length]
                keep = rng.random(len(span)) >= CROP_DROP
                span = span[keep] if keep.any() else span
                crops.append(builder.store.add(span))
            builder.pair(crops[0], crops[1])
    return builder


def load_pairs(wv, pooling, paths=(), crops=(), min_score=4.0, seed=1, max_crops=None):
    """All training `Pairs`: from the STS and pair files `paths` and the crops of the
    corpus files `crops`; the skipped pairs (a side without a known word) in one warning."""
    tokenizer = Tokenizer(wv, pooling)
    builder = _Builder(tokenizer, dedupe=not crops)
    if paths:
        read_pairs(tokenizer, paths, min_score, builder)
    if crops:
        read_crops(tokenizer, crops, seed, max_crops, builder)
    pairs = builder.build()
    if pairs.skipped:
        log.warning("%d pairs skipped: a side has no known word", pairs.skipped)
    if len(pairs) == 0:
        raise InputError("no training pairs: every pair has a side with no known word")
    return pairs


def graded_pairs(wv, pooling, path):
    """Every pair of the STS file `path` with its score, texts not merged (a dev file)."""
    tokenizer = Tokenizer(wv, pooling)
    pairs = read_pairs(tokenizer, [path], -math.inf, _Builder(tokenizer, dedupe=False)).build()
    if not pairs.graded:
        raise InputError(f"{path}: --dev needs an STS file (score<TAB>text1<TAB>text2)")
    return pairs
