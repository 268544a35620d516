"""Kernels of `w2v tune`: the weighted-mean encoder forward and backward, and the losses
(InfoNCE, triplet, CoSENT) with their gradients written out.

Arrays in, arrays out; parallel over the texts or rows of a batch. Every sum of a row is
taken in a fixed order by one thread, and the scatter of word gradients runs in one thread,
so results do not depend on the number of threads.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def pool(ids, offsets, texts, rows, weights, out):
    """out[b] = mean over the words of text `texts[b]` of weights[w] * rows[w]."""
    dim = rows.shape[1]
    for b in prange(len(texts)):
        t = texts[b]
        start, stop = offsets[t], offsets[t + 1]
        acc = np.zeros(dim, dtype=np.float64)
        for k in range(start, stop):
            w = ids[k]
            scale = weights[w]
            for j in range(dim):
                acc[j] += scale * rows[w, j]
        n = max(stop - start, 1)
        for j in range(dim):
            out[b, j] = acc[j] / n


@njit(cache=True, parallel=True)
def pool_backward(ids, offsets, texts, rows, weights, grad_out, starts, token_grads):
    """The gradient of each word occurrence's weight: token_grads[starts[b] + k] =
    rows[w] . grad_out[b] / n for the k-th word w of text b (n its words)."""
    dim = rows.shape[1]
    for b in prange(len(texts)):
        t = texts[b]
        start, stop = offsets[t], offsets[t + 1]
        n = max(stop - start, 1)
        for k in range(start, stop):
            w = ids[k]
            acc = 0.0
            for j in range(dim):
                acc += rows[w, j] * grad_out[b, j]
            token_grads[starts[b] + k - start] = acc / n


@njit(cache=True)
def scatter_tokens(ids, offsets, texts, starts, token_grads, grad):
    """grad[w] += the token gradients of every occurrence of w, in batch order."""
    for b in range(len(texts)):
        t = texts[b]
        start, stop = offsets[t], offsets[t + 1]
        for k in range(start, stop):
            grad[ids[k]] += token_grads[starts[b] + k - start]


@njit(cache=True, parallel=True)
def infonce(scores, targets, weights, temperature, grad):
    """Mean over rows of -log softmax(scores / temperature)[target], each candidate's
    exponential multiplied by its weight (0 drops it; the target's weight counts as 1).
    Writes d loss / d scores into `grad`; returns the loss."""
    n_rows, n_cols = scores.shape
    losses = np.zeros(n_rows)
    for r in prange(n_rows):
        t = targets[r]
        top = scores[r, t]
        for j in range(n_cols):
            if weights[r, j] > 0 and scores[r, j] > top:
                top = scores[r, j]
        total = 0.0
        for j in range(n_cols):
            w = 1.0 if j == t else weights[r, j]
            if w > 0:
                total += w * np.exp((scores[r, j] - top) / temperature)
        losses[r] = np.log(total) - (scores[r, t] - top) / temperature
        for j in range(n_cols):
            w = 1.0 if j == t else weights[r, j]
            p = w * np.exp((scores[r, j] - top) / temperature) / total if w > 0 else 0.0
            grad[r, j] = (p - (1.0 if j == t else 0.0)) / (temperature * n_rows)
    return losses.sum() / n_rows


@njit(cache=True, parallel=True)
def triplet(scores, targets, weights, margin, grad):
    """Mean over rows of max(0, margin - s(target) + s(n)), n the best-scoring candidate
    with a positive weight other than the target (the hardest negative), the hinge
    multiplied by n's weight. Writes the gradient into `grad`; returns the loss."""
    n_rows, n_cols = scores.shape
    losses = np.zeros(n_rows)
    for r in prange(n_rows):
        t = targets[r]
        for j in range(n_cols):
            grad[r, j] = 0.0
        best = -1
        for j in range(n_cols):
            if j != t and weights[r, j] > 0 and (best < 0 or scores[r, j] > scores[r, best]):
                best = j
        if best < 0:
            continue
        hinge = margin - scores[r, t] + scores[r, best]
        if hinge > 0:
            w = weights[r, best]
            losses[r] = w * hinge
            grad[r, t] = -w / n_rows
            grad[r, best] = w / n_rows
    return losses.sum() / n_rows


@njit(cache=True)
def cosent(cosines, gold, scale, grad):
    """CoSENT: log(1 + sum over pairs i, j with gold[i] > gold[j] of
    exp(scale (cos[j] - cos[i]))). Writes d loss / d cosines into `grad`; returns the loss."""
    n = len(cosines)
    top = 0.0  # the 1 of log(1 + ...) is exp(0)
    for i in range(n):
        for j in range(n):
            if gold[i] > gold[j]:
                top = max(top, scale * (cosines[j] - cosines[i]))
    total = np.exp(-top)
    for i in range(n):
        for j in range(n):
            if gold[i] > gold[j]:
                total += np.exp(scale * (cosines[j] - cosines[i]) - top)
    for i in range(n):
        grad[i] = 0.0
    for i in range(n):
        for j in range(n):
            if gold[i] > gold[j]:
                p = np.exp(scale * (cosines[j] - cosines[i]) - top) / total
                grad[j] += scale * p
                grad[i] -= scale * p
    return top + np.log(total)


@njit(cache=True, parallel=True)
def min_pool(ids, offsets, texts, rows, out, arg):
    """out[b, j] = the minimum over the words of text `texts[b]` of rows[w, j], and
    arg[b, j] the position in `ids` of the word it came from (-1, and 0, for an empty text)."""
    dim = rows.shape[1]
    for b in prange(len(texts)):
        t = texts[b]
        start, stop = offsets[t], offsets[t + 1]
        for j in range(dim):
            out[b, j] = 0.0
            arg[b, j] = -1
        for k in range(start, stop):
            w = ids[k]
            for j in range(dim):
                if arg[b, j] < 0 or rows[w, j] < out[b, j]:
                    out[b, j] = rows[w, j]
                    arg[b, j] = k
