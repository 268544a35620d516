"""Nearest neighbours and analogies over unit vectors.

Scores follow gensim's `most_similar` and `most_similar_cosmul` so that numbers can be
compared with it: 3CosAdd reports the cosine to the normalised mean of the signed unit
vectors; 3CosMul (Levy & Goldberg 2014) multiplies cosines shifted to [0, 1].
"""

import logging

import numpy as np

from ..errors import OptionError
from .word_vectors import unit_rows

log = logging.getLogger("w2v")

METHODS = ("3cosadd", "3cosmul")

# gensim's most_similar_cosmul divides by (product + 1e-6); Levy & Goldberg's paper uses
# 1e-3. We follow gensim so that rankings and scores agree with it.
COSMUL_EPSILON = 1e-6


def similar(wv, words, n=10):
    """The `n` words closest to the mean of the unit vectors of `words`, as (word, cosine).

    The query words themselves are left out. Unknown words raise one VocabularyError
    naming all of them.
    """
    if isinstance(words, str):
        words = [words]
    if not words:
        raise OptionError("no query words")
    units, ids = query_units(wv, words)
    target = units.mean(axis=0)
    scores = wv.unit @ _normalised(target)
    return _top(wv, scores, ids, n)


def analogy(wv, a, b, c, n=10, method="3cosadd"):
    """Answers to a - b + c ("king" - "man" + "woman" = "queen"), as (word, score).

    `method` "3cosadd" scores by cosine to the normalised a - b + c; "3cosmul" by
    ((1+cos(x,a))/2 * (1+cos(x,c))/2) / ((1+cos(x,b))/2 + epsilon). The three query words
    are never answers.
    """
    method = check_method(method)
    units, ids = query_units(wv, [a, b, c])
    scores = vector_analogy_scores(wv.unit, *units[:, None, :], method)[0]
    return _top(wv, scores, ids, n)


def query_units(wv, words):
    """Unit vectors of the query `words` and the rows of those in the vocabulary (never
    answers). Vectors with subwords compose the other words, saying so on stderr; plain
    vectors raise one VocabularyError naming them."""
    if all(word in wv.index for word in words):
        ids = wv.ids(words)
        return wv.unit[ids], ids
    vectors = wv.vectors_for(words)  # plain vectors raise VocabularyError here
    composed = [word for word in words if word not in wv.index]
    log.info("composed from character n-grams (not in the vocabulary): %s", ", ".join(composed))
    return unit_rows(vectors), [wv.index[w] for w in words if w in wv.index]


def check_method(method):
    """The method name, lowercased; OptionError for an unknown one."""
    name = str(method).lower()
    if name not in METHODS:
        raise OptionError(f"unknown analogy method {method!r}; "
                          f"expected one of {', '.join(METHODS)}")
    return name


def analogy_scores(unit, questions, method):
    """Scores of every row of `unit` for each question row (a, b, c) of ids: a - b + c.

    Returns a (len(questions), len(unit)) float32 matrix; the question words are not
    excluded here. Shared by `analogy` and the batched evaluation.
    """
    qa, qb, qc = unit[questions[:, 0]], unit[questions[:, 1]], unit[questions[:, 2]]
    return vector_analogy_scores(unit, qa, qb, qc, method)


def vector_analogy_scores(unit, qa, qb, qc, method):
    """`analogy_scores` for questions given as unit vectors (rows of qa, qb, qc), which
    need not be rows of `unit`: words composed from subwords."""
    if method == "3cosadd":
        return unit_rows(qa - qb + qc, None) @ unit.T
    shifted = [(1.0 + q @ unit.T) / 2.0 for q in (qa, qb, qc)]
    return shifted[0] * shifted[2] / (shifted[1] + np.float32(COSMUL_EPSILON))


def _normalised(vector):
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def _top(wv, scores, excluded, n):
    """The `n` best (word, score), excluded rows left out; ties go to the earlier row."""
    scores = scores.astype(np.float64, copy=True)
    scores[excluded] = -np.inf
    available = len(scores) - len(set(excluded))
    n = max(0, min(n, available))
    if n == 0:
        return []
    if n < len(scores):
        candidates = np.argpartition(-scores, n - 1)[:n]
        # Rows tied with the n-th score may sit beyond the partition; gather them all.
        threshold = scores[candidates].min()
        candidates = np.flatnonzero(scores >= threshold)
    else:
        candidates = np.arange(len(scores))
    order = candidates[np.lexsort((candidates, -scores[candidates]))][:n]
    return [(wv.words[i], float(scores[i])) for i in order]
