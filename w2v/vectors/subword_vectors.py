"""`SubwordVectors`: word vectors that can also answer words outside their vocabulary.

Each vocabulary word holds its composed vector (the mean of its own input row and its
n-gram rows, what fastText's `get_word_vector` and `.vec` give), so every reading command
works on it as on any `WordVectors`. Any other word is composed on request from its n-gram
rows alone. The input matrix may be a memory map (a fastText `.bin`, a model file): only
the rows a composition needs are read.

numpy only, like `w2v.subwords`: the reading commands never import numba.
"""

import logging

import numpy as np

from ..errors import InputError
from .ngrams import compose, ngram_buckets, subword_rows
from .word_vectors import WordVectors

log = logging.getLogger("w2v")

# Rows gathered per piece while composing: a few MB stay in the CPU caches and reuse one
# allocation; pieces of 400 MB (1M rows of dim 100) took 3-5x longer, page faults and all.
COMPOSE_BYTES = 8 << 20


def compose_rows(matrix, offsets, rows):
    """`w2v.subwords.compose` in pieces of about COMPOSE_BYTES of gathered rows."""
    return compose(matrix, offsets, rows, max(1, COMPOSE_BYTES // (4 * max(1, matrix.shape[1]))))


class SubwordVectors(WordVectors):
    """Composed vectors of `words`, and `vectors_for` any word (fastText's n-gram scheme).

    `input_matrix` is fastText's layout, `(len(words) + bucket, dim)`: the word rows, then
    one row per n-gram bucket. It is kept (not copied), so a memory map stays one.
    """

    composes_unknown = True

    def __init__(self, words, input_matrix, minn, maxn, bucket, counts=None):
        words = list(words)
        n_words = len(words)
        if input_matrix.ndim != 2 or input_matrix.shape[0] != n_words + bucket:
            raise ValueError(f"{n_words} words and {bucket} buckets need {n_words + bucket} "
                             f"input rows, got a matrix of shape {input_matrix.shape}")
        self.input_matrix = input_matrix
        self.minn, self.maxn, self.bucket = minn, maxn, bucket
        offsets, rows = subword_rows(words, minn, maxn, bucket)
        super().__init__(words, compose_rows(input_matrix, offsets, rows), counts)

    def __repr__(self):
        return (f"SubwordVectors({len(self)} words, dim {self.dim}, n-grams {self.minn}-"
                f"{self.maxn} in {self.bucket} buckets)")

    def vectors_for(self, words):
        """Vectors of any `words`, one float32 row each: a known word's composed vector, any
        other word the mean of its n-gram rows. A word with no n-grams (shorter than minn
        with its "<" ">", or maxn 0) gets a zero vector and a warning; nothing is refused."""
        out = np.empty((len(words), self.dim), dtype=np.float32)
        unknown = [i for i, word in enumerate(words) if word not in self.index]
        for i, word in enumerate(words):
            if word in self.index:
                out[i] = self.vectors[self.index[word]]
        if unknown:
            unknown_words = [words[i] for i in unknown]
            offsets, buckets = ngram_buckets(unknown_words, self.minn, self.maxn, self.bucket)
            out[unknown] = compose_rows(self.input_matrix, offsets, buckets + len(self.words))
            bad = ~np.isfinite(out[unknown]).all(axis=1)
            if bad.any():
                raise InputError(f"non-finite values in the n-gram rows that compose "
                                 f"{unknown_words[int(np.argmax(bad))]!r}: a damaged model")
            empty = [w for w, n in zip(unknown_words, np.diff(offsets)) if n == 0]
            if empty:
                log.warning("no character n-grams (n-grams %d-%d), so a zero vector: %s",
                            self.minn, self.maxn, ", ".join(empty))
        return out
