"""Double-Hard Debias (Wang, Lin, Rajani, McCann, Ordonez and Xiong, ACL 2020).

Word frequency shapes a few principal directions of an embedding, and it distorts the
gender direction hard debiasing finds from definitional pairs (he is more frequent than
she, ...). Double-Hard removes the frequency direction that most gets in the way first:

1. Centre every vector (subtract the mean over the vocabulary) and take the principal
   components of the centred vectors.
2. Clustering words, as in the authors' code: among the `candidates` most frequent words
   that are lowercase letters only and not in the gender-specific list, the `per_side`
   most male and most female by cosine with he - she.
3. For each of the first `searched` components u: remove u from the centred vectors,
   hard-debias them (neutralise along the direction the definitional pairs give there),
   and split the clustering words in two with K-means. The accuracy is the share of words
   whose cluster matches their side of he - she (the better of the two labellings, so 0.5
   is chance): how much gender the neutral words still carry.
4. Output: the centred vectors without the component whose accuracy is nearest 0.5,
   hard-debiased as `debias.hard_debias` does it (neutralise and equalise, unit vectors).

The WEAT word sets play no part in any choice; `overlap` lists the clustering words that
happen to be WEAT words. Pure numpy (K-means included), so `w2v debias` never imports
numba.
"""

import dataclasses
import logging

import numpy as np

from .weat import pair_direction
from .hard import DebiasResult, bias_subspace, definitional_rows, hard_debias, \
    lists_or_defaults
from ..errors import InputError
from .inlp import weat_overlap
from ..vectors.word_vectors import WordVectors, unit_rows

log = logging.getLogger("w2v")

DEFAULT_SEARCHED = 20  # the authors search the top 20 components
DEFAULT_PER_SIDE = 500  # clustering words on each side of he - she, as in the paper
DEFAULT_CANDIDATES = 50_000  # the authors' restricted vocabulary: the 50,000 most frequent
KMEANS_RESTARTS = 10
KMEANS_MAX_ITERATIONS = 100
CHUNK = 65_536  # rows at a time when summing the covariance


@dataclasses.dataclass
class DoubleHardResult:
    vectors: WordVectors
    component: int  # the principal component removed (0 is the first)
    accuracies: list  # clustering accuracy after removing each searched component + hard
    hard_accuracy: float  # clustering accuracy after hard debiasing alone
    original_accuracy: float  # clustering accuracy of the input vectors
    cluster_words: dict  # 'male' and 'female' -> the clustering words
    overlap: list  # clustering words that are in a WEAT word set (reported, not avoided)
    hard: DebiasResult  # the final hard debiasing: direction, pairs, counts


def principal_components(vectors, count):
    """(mean row, first `count` principal components as orthonormal float64 rows) of
    `vectors`, from the covariance summed in float64 a chunk at a time."""
    n, dim = vectors.shape
    total = np.zeros(dim)
    gram = np.zeros((dim, dim))
    for start in range(0, n, CHUNK):
        part = np.asarray(vectors[start:start + CHUNK], dtype=np.float64)
        total += part.sum(axis=0)
        gram += part.T @ part
    mean = total / n
    covariance = gram / n - np.outer(mean, mean)
    values, vecs = np.linalg.eigh(covariance)  # ascending
    order = np.argsort(values, kind="stable")[::-1][:count]
    return mean, vecs[:, order].T.copy()


def clustering_rows(wv, specific, direction=("he", "she"), candidates=DEFAULT_CANDIDATES,
                    per_side=DEFAULT_PER_SIDE):
    """{'male': rows, 'female': rows}: among the `candidates` most frequent words (the
    file's first rows) made of lowercase letters and not in `specific`, the `per_side`
    with the largest and the smallest cosine with direction[0] - direction[1]."""
    g = pair_direction(wv, direction, "Double-Hard's clustering words")
    if per_side < 1:
        raise InputError(f"clustering words per side must be at least 1, got {per_side}")
    banned = {w.lower() for w in specific}
    rows = np.array([i for i, w in enumerate(wv.words[:candidates])
                     if w.isalpha() and w.islower() and w not in banned], dtype=np.int64)
    if len(rows) < 2 * per_side:
        raise InputError(f"Double-Hard needs {2 * per_side} clustering words, but only "
                         f"{len(rows)} of the {candidates} most frequent words are lowercase "
                         "words outside the gender-specific list")
    unit = wv.unit
    order = np.argsort(unit[rows] @ g, kind="stable")
    return {"male": rows[order[::-1][:per_side]], "female": rows[order[:per_side]]}


def kmeans(x, k=2, seed=1, restarts=KMEANS_RESTARTS, max_iterations=KMEANS_MAX_ITERATIONS):
    """Cluster labels of the rows of x: Lloyd's K-means from `restarts` k-means++ starts
    (seeded), keeping the one with the smallest within-cluster sum of squares."""
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    best_labels, best_inertia = None, np.inf
    for _ in range(restarts):
        centres = _plus_plus(x, k, rng)
        for _ in range(max_iterations):
            labels = _nearest(x, centres)[0]
            moved = np.array([x[labels == j].mean(axis=0) if np.any(labels == j)
                              else centres[j] for j in range(k)])
            if np.allclose(moved, centres, rtol=0, atol=1e-12):
                break
            centres = moved
        labels, squared = _nearest(x, centres)
        inertia = squared.sum()
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def _nearest(x, centres):
    """(index of each row's nearest centre, its squared distance)."""
    d = (x * x).sum(axis=1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(axis=1)
    labels = np.argmin(d, axis=1)
    return labels, np.maximum(d[np.arange(len(x)), labels], 0.0)


def _plus_plus(x, k, rng):
    """k-means++ starting centres: each next one drawn with probability proportional to
    the squared distance to the nearest chosen so far."""
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        squared = _nearest(x, np.array(centres))[1]
        total = squared.sum()
        pick = rng.integers(len(x)) if total <= 0 else rng.choice(len(x), p=squared / total)
        centres.append(x[pick])
    return np.array(centres)


def cluster_accuracy(x, labels, seed=1):
    """How well 2-means on the rows of x recovers the 0/1 `labels`: the share of rows in
    the matching cluster, under the better of the two ways to match (0.5 is chance)."""
    predicted = kmeans(x, 2, seed)
    agree = float(np.mean(predicted == labels))
    return max(agree, 1.0 - agree)


def _unit(m):
    return unit_rows(m, None)


def _neutralised(unit, pairs, cluster, components):
    """Unit rows `cluster` of `unit` after neutralising along the bias subspace that the
    row `pairs` of `unit` give, as hard debiasing neutralises a neutral word."""
    basis = bias_subspace(unit, pairs, components)[0]
    x = unit[cluster]
    return _unit(x - (x @ basis.T) @ basis)


def double_hard_debias(wv, definitional=None, equalize=None, specific=None, components=1,
                       searched=None, per_side=DEFAULT_PER_SIDE,
                       candidates=DEFAULT_CANDIDATES, direction=("he", "she"), seed=1):
    """Double-Hard debiased copy of `wv` (WordVectors), with how the component was chosen.

    The lists default to Bolukbasi et al.'s, as for `hard_debias`; `components` is the
    dimension of hard debiasing's bias subspace. The first `searched` principal components
    are tried (default DEFAULT_SEARCHED, or all when the vectors have fewer); `per_side`
    clustering words are taken on each side of he - she among the `candidates` most
    frequent words; `seed` seeds K-means.
    """
    if searched is None:
        searched = min(DEFAULT_SEARCHED, wv.dim)
    if searched < 1 or searched > wv.dim:
        raise InputError(f"components searched must be between 1 and the vectors' "
                         f"dimension {wv.dim}, got {searched}")
    if components < 1:
        raise InputError(f"components must be at least 1, got {components}")
    definitional, equalize, specific = lists_or_defaults(definitional, equalize, specific)
    classes = clustering_rows(wv, specific, direction, candidates, per_side)
    cluster = np.concatenate([classes["male"], classes["female"]])
    truth = np.repeat([0, 1], per_side)
    pairs = definitional_rows(wv, definitional)

    # Only the clustering and definitional words matter to the search: work on those rows.
    rows = np.unique(np.concatenate([cluster, np.array(pairs).ravel()]))
    local = {int(r): i for i, r in enumerate(rows)}
    local_pairs = [(local[a], local[b]) for a, b in pairs]
    local_cluster = np.array([local[int(r)] for r in cluster])
    raw = np.asarray(wv.vectors[rows], dtype=np.float64)

    original = cluster_accuracy(_unit(raw[local_cluster]), truth, seed)
    hard_alone = cluster_accuracy(
        _neutralised(_unit(raw), local_pairs, local_cluster, components), truth, seed)
    mean, pcs = principal_components(wv.vectors, searched)
    centred = raw - mean
    accuracies = []
    for u in pcs:
        removed = _unit(centred - np.outer(centred @ u, u))
        accuracies.append(cluster_accuracy(
            _neutralised(removed, local_pairs, local_cluster, components), truth, seed))
    chosen = int(np.argmin(accuracies))  # every accuracy is at least 0.5
    log.info("Double-Hard: clustering accuracy %.3f before, %.3f after hard debiasing alone; "
             "after removing principal component 1-%d: %s", original, hard_alone, searched,
             " ".join(f"{a:.3f}" for a in accuracies))

    u = pcs[chosen].astype(np.float32)
    vectors = np.array(wv.vectors, dtype=np.float32)
    vectors -= mean.astype(np.float32)
    vectors -= np.outer(vectors @ u, u)
    hard = hard_debias(WordVectors(wv.words, vectors, counts=wv.counts), definitional,
                       equalize, specific, components)
    words = {name: [wv.words[i] for i in r] for name, r in classes.items()}
    overlap = weat_overlap(w for ws in words.values() for w in ws)
    return DoubleHardResult(hard.vectors, chosen, accuracies, hard_alone, original, words,
                            overlap, hard)
