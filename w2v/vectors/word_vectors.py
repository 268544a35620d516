"""`WordVectors`: the words and their float32 matrix, the object every model returns.

Pure numpy, so the commands that only read vectors start without numba.
"""

import numpy as np

from ..errors import VocabularyError


def unit_rows(matrix, dtype=np.float32):
    """Rows scaled to unit L2 norm, zero rows staying zero; computed in the matrix's own
    precision, then cast to `dtype` (None keeps the matrix's). A row whose squares overflow
    that precision (float32 values near 1e19 and up) is scaled in float64 instead."""
    with np.errstate(over="ignore"):
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1
    rows = matrix / norms
    over = np.isinf(norms[:, 0])
    if over.any():
        wide = np.asarray(matrix[over], dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            rows[over] = wide / np.linalg.norm(wide, axis=1, keepdims=True)
    return rows if dtype is None else rows.astype(dtype, copy=False)


class WordVectors:
    """Words in a fixed order (most frequent first when a model made them) and one row each.

    `counts` is optional (word frequencies from training); files do not carry it.
    """

    composes_unknown = False  # SubwordVectors compose words outside the vocabulary

    def __init__(self, words, vectors, counts=None):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        words = list(words)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"{len(words)} words but a matrix of shape {vectors.shape}")
        self.words = words
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.index = {word: i for i, word in enumerate(words)}
        if len(self.index) != len(words):
            raise ValueError("duplicate words in the vocabulary")
        self._unit = None

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.vectors[self.id(word)]

    def __repr__(self):
        return f"WordVectors({len(self)} words, dim {self.dim})"

    @property
    def dim(self):
        return self.vectors.shape[1]

    def id(self, word):
        """Row of `word`; raises VocabularyError naming it if it is not there."""
        try:
            return self.index[word]
        except KeyError:
            raise VocabularyError(f"not in the vocabulary: {word}", [word]) from None

    def ids(self, words):
        """Rows of `words`; raises one VocabularyError naming every missing word."""
        missing = [w for w in words if w not in self.index]
        if missing:
            raise VocabularyError("not in the vocabulary: " + ", ".join(missing), missing)
        return [self.index[w] for w in words]

    def vectors_for(self, words):
        """Vectors of `words`, one row each; raises one VocabularyError naming every missing
        word (`SubwordVectors` composes those instead)."""
        return self.vectors[self.ids(words)]

    @property
    def unit(self):
        """Rows scaled to unit L2 norm (zero rows stay zero), computed once."""
        if self._unit is None:
            self._unit = unit_rows(self.vectors)
        return self._unit


class RowVectors:
    """Words and vectors made a slice of rows at a time, `rows(lo, hi)`, never as one matrix:
    what `files.formats.save_vectors` writes from a model too large to copy whole.
    `vectors[lo:hi]` gives rows lo:hi."""

    def __init__(self, words, dim, rows):
        self.words, self.dim, self._rows = list(words), dim, rows
        self.vectors = self

    def __len__(self):
        return len(self.words)

    def __getitem__(self, rows):
        lo, hi, step = rows.indices(len(self.words))
        if step != 1:
            raise ValueError("RowVectors are read by ranges of rows")
        return self._rows(lo, max(lo, hi))
