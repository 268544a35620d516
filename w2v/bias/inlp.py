"""INLP, iterative nullspace projection (Ravfogel, Elazar, Gonen, Twiton and Goldberg 2020).

Hard debiasing removes one direction; gender is also encoded in others (Gonen and Goldberg
2019). INLP removes every direction a linear classifier finds:

1. Training words, as in Ravfogel et al.'s word-embedding experiment: among the `candidates`
   most frequent words, the `per_class` most male and most female by cosine with he - she,
   and the `per_class` closest to neutral. Words of the WEAT tests are never training words
   (`excluded`), so the tests measure what the projection does to words it has not seen.
2. Repeat `iterations` times: fit a linear classifier (least squares on one-hot classes,
   ridge-regularised, with intercept) to tell the classes apart, and project the training
   vectors onto the nullspace of its weights.
3. The product of these projections is P = I - B^T B, B an orthonormal basis of all the
   weights' rows; every word not in the gender-specific list becomes P x (`keep` words
   stay as they are, so that king - man + woman still has a gender to add).

Pure numpy, so `w2v debias` never imports numba.
"""

import dataclasses
import logging

import numpy as np

from .weat import data_path, pair_direction, read_json, resolve
from ..errors import InputError
from ..vectors.word_vectors import WordVectors

log = logging.getLogger("w2v")

DEFAULT_ITERATIONS = 2  # the most that cost under 1 point of questions-words (README)
DEFAULT_CANDIDATES = 50_000
DEFAULT_PER_CLASS = 2_500
RIDGE = 1e-3  # relative to the mean eigenvalue of X^T X; keeps the solve well-posed
RANK_TOL = 1e-8  # singular values of the weights below this (relative) add no direction


def weat_words():
    """Every word of the shipped WEAT word sets, lowercased: never INLP training words."""
    sets = read_json(data_path("weat-wordsets.json"), "WEAT word lists")
    return {w.lower() for words in sets.values() for w in words}


def weat_overlap(words):
    """The words of `words` (compared lowercased) that are in a shipped WEAT word set."""
    weat = weat_words()
    return sorted({w.lower() for w in words} & weat)


@dataclasses.dataclass
class InlpResult:
    vectors: WordVectors
    basis: np.ndarray  # orthonormal rows spanning the removed subspace (float64)
    accuracies: list  # training accuracy of the classifier at each iteration
    classes: dict  # class name -> words it was trained on
    projected: int  # words projected (the others kept as they are)
    overlap: list  # training words that are WEAT words (checked; empty unless excluded=())


def training_words(wv, direction=("he", "she"), candidates=DEFAULT_CANDIDATES,
                   per_class=None, excluded=(), neutral=True):
    """{'male': rows, 'female': rows, 'neutral': rows} chosen as Ravfogel et al. choose
    them: among the `candidates` most frequent words (the file's first rows), the most
    extreme by cosine with the unit `direction[0] - direction[1]`, and those nearest zero
    (`neutral`). `per_class` defaults to DEFAULT_PER_CLASS, or a quarter of the usable
    words if fewer. Words in `excluded` (compared lowercased) are never chosen."""
    g = pair_direction(wv, direction, "INLP's training words")
    unit = wv.unit
    banned = {w.lower() for w in excluded}
    rows = np.array([i for i, w in enumerate(wv.words[:candidates])
                     if w.lower() not in banned], dtype=np.int64)
    if per_class is None:
        per_class = min(DEFAULT_PER_CLASS, len(rows) // 4)
    if per_class < 2 or len(rows) < 3 * per_class:
        raise InputError(f"INLP needs at least {3 * max(per_class, 2)} training words, but "
                         f"only {len(rows)} of the {candidates} most frequent words may be "
                         "used (the WEAT words never are)")
    score = unit[rows] @ g
    order = np.argsort(score, kind="stable")
    male, female = order[::-1][:per_class], order[:per_class]
    classes = {"male": rows[male], "female": rows[female]}
    if neutral:
        rest = np.setdiff1d(np.arange(len(rows)), np.concatenate([male, female]))
        nearest = rest[np.argsort(np.abs(score[rest]), kind="stable")[:per_class]]
        classes["neutral"] = rows[nearest]
    return classes


def least_squares_classifier(x, labels, n_classes):
    """Weights W (n_classes x dim) of a ridge least-squares fit of the one-hot classes on
    the centred x, and its training accuracy (argmax of x W^T + intercept)."""
    mean = x.mean(axis=0)
    xc = x - mean
    onehot = np.eye(n_classes)[labels]
    target = onehot - onehot.mean(axis=0)
    gram = xc.T @ xc
    ridge = RIDGE * max(np.trace(gram) / len(gram), 1e-12)
    w = np.linalg.solve(gram + ridge * np.eye(len(gram)), xc.T @ target).T
    predicted = np.argmax(xc @ w.T, axis=1)
    return w, float(np.mean(predicted == labels))


def nullspace_basis(x, labels, iterations):
    """(orthonormal rows B of the subspace INLP removes, training accuracy per iteration):
    `iterations` rounds of fitting the classifier to x projected by I - B^T B and adding
    its weights' row space to B. Stops early when the classifier finds no new direction."""
    x = np.asarray(x, dtype=np.float64)
    n_classes = int(labels.max()) + 1
    basis = np.zeros((0, x.shape[1]))
    accuracies = []
    for _ in range(iterations):
        projected = x - (x @ basis.T) @ basis
        w, accuracy = least_squares_classifier(projected, labels, n_classes)
        accuracies.append(accuracy)
        w = w - (w @ basis.T) @ basis  # already in the nullspace up to rounding
        _, singular, vt = np.linalg.svd(w, full_matrices=False)
        new = vt[singular > RANK_TOL * max(singular.max(initial=0.0), 1e-300)]
        if not len(new):
            break
        # Orthonormalise the union (QR of [B; new]) so rounding does not accumulate.
        q, r = np.linalg.qr(np.vstack([basis, new]).T)
        basis = q[:, np.abs(np.diag(r)) > 1e-10].T
        if len(basis) >= x.shape[1]:
            break  # nothing is left to project onto
    return basis, accuracies


def _accuracy_summary(accuracies, shown=6):
    """The accuracies as a short line: all of them, or the first and last few."""
    text = [f"{a:.3f}" for a in accuracies]
    if len(text) > 2 * shown:
        text = text[:shown] + [f"... ({len(text) - 2 * shown} more) ..."] + text[-shown:]
    return " ".join(text)


def inlp_debias(wv, iterations=DEFAULT_ITERATIONS, keep=(), excluded=None,
                direction=("he", "she"), candidates=DEFAULT_CANDIDATES,
                per_class=None, neutral=True):
    """Copy of `wv` with every word not in `keep` projected onto INLP's nullspace.

    `keep` is a list of gender-specific words left as they are (the shipped list in
    `w2v debias`); `excluded` are words never used for training, by default every word of
    the shipped WEAT tests, so that choosing them is not circular. Rows of the output are
    P x for the input rows x (no renormalisation).
    """
    if iterations < 1:
        raise InputError(f"iterations must be at least 1, got {iterations}")
    if excluded is None:
        excluded = weat_words()
    classes = training_words(wv, direction, candidates, per_class, excluded, neutral)
    rows = np.concatenate(list(classes.values()))
    labels = np.repeat(np.arange(len(classes)), [len(v) for v in classes.values()])
    basis, accuracies = nullspace_basis(wv.unit[rows], labels, iterations)
    log.info("INLP: %d iterations removed %d directions; classifier accuracy %s",
             len(accuracies), len(basis), _accuracy_summary(accuracies))
    if len(basis) >= wv.dim:
        raise InputError(f"INLP removed all {wv.dim} directions in {len(accuracies)} "
                         "iterations, which would zero every projected vector; use fewer "
                         "iterations")
    if 2 * len(basis) > wv.dim:
        log.warning("INLP removed %d of %d directions: most of the space is gone",
                    len(basis), wv.dim)

    projected = np.ones(len(wv), dtype=bool)
    for word in keep:
        row = resolve(wv, word)
        if row is not None:
            projected[row] = False
    vectors = np.array(wv.vectors, dtype=np.float32)
    b32 = basis.astype(np.float32)
    vectors[projected] -= (vectors[projected] @ b32.T) @ b32
    out = WordVectors(wv.words, vectors, counts=wv.counts)
    words = {name: [wv.words[i] for i in r] for name, r in classes.items()}
    overlap = weat_overlap(w for ws in words.values() for w in ws)
    return InlpResult(out, basis, accuracies, words, int(projected.sum()), overlap)
