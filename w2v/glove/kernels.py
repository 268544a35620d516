"""GloVe's AdaGrad step, Hogwild over threads: the numba side of `w2v.glove`.

Each word has one float32 row of 2 (dim + 1) values in `word` and one in `context`:
the vector, its bias, then the AdaGrad sums of squared gradients of both. An update then
touches two contiguous rows instead of four scattered ones (GloVe C keeps W and gradsq
apart), which more than doubles the updates per second. Dot products and the cost are
accumulated in float64.
"""

import numpy as np
from numba import njit, prange

from ..runtime.rng import next_state, random_bits

# No "nnan"/"ninf": the update checks for NaN and infinity and must keep that check.
# error_model="numpy": no ZeroDivisionError check, which would stop the update loop from
# being vectorised (the divisors are square roots of sums that start at 1).
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, inline="always")
def _clip(value, bound):
    return min(max(value, -bound), bound)


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def glove_update(row, col, x, word, context, x_max, alpha, eta, grad_clip):
    """One AdaGrad step on f(x) (w . c + b_w + b_c - log x)^2 / 2; returns its cost.

    As GloVe C (glove.c after its -grad-clip change): a vector gradient is clipped, then
    scaled by eta, and accumulated scaled, with accumulators starting at 1; a bias
    gradient is not scaled by eta (GloVe PR #209 found scaling it made vectors worse) but,
    unlike GloVe C, it is clipped too. A non-finite difference skips the update and
    returns NaN.
    """
    dim = word.shape[1] // 2 - 1
    sq = dim + 1  # where the squared-gradient sums start in a row
    w = word[row]
    c = context[col]
    dot = 0.0
    for k in range(dim):
        dot += np.float64(w[k]) * np.float64(c[k])
    log_x = np.log(np.float64(x))
    diff = dot + np.float64(w[dim]) + np.float64(c[dim]) - log_x
    weight = 1.0 if x >= x_max else np.exp(alpha * (log_x - np.log(x_max)))  # (x/x_max)^alpha
    weighted = weight * diff
    if not np.isfinite(weighted):
        return np.nan
    cost = 0.5 * weighted * diff
    grad = np.float32(weighted)
    rate = np.float32(eta)
    clip = np.float32(grad_clip)
    for k in range(dim + 1):  # k = dim is the bias: gradient `grad`, not scaled by eta
        grad_w = _clip(grad * c[k], clip) * rate if k < dim else _clip(grad, clip)
        grad_c = _clip(grad * w[k], clip) * rate if k < dim else _clip(grad, clip)
        w[k] -= grad_w / np.sqrt(w[sq + k])
        c[k] -= grad_c / np.sqrt(c[sq + k])
        w[sq + k] += grad_w * grad_w
        c[sq + k] += grad_c * grad_c
    return cost


@njit(cache=True)
def count_dealt(data, state, sizes):
    """First pass of dealing entries into len(sizes) - 1 random blocks: add to sizes[1 + k]
    the positive entries of `data` drawn for block k. Returns the state after them.

    Every entry goes to a block drawn uniformly at random, so a block is a random sample of
    the whole matrix; with the in-block shuffle of every epoch this is as good as a full
    shuffle, yet needs no permutation array and writes sequentially into each block.
    """
    n_blocks = np.uint64(len(sizes) - 1)
    s = state
    for e in range(len(data)):
        if data[e] > 0:
            s = next_state(s)
            sizes[1 + random_bits(s) % n_blocks] += 1
    return s


@njit(cache=True)
def deal_rows(lengths, indices, data, state, first_row, cursor, rows, cols, values):
    """Second pass: rows first_row.. (their lengths, columns and values) dealt as
    `count_dealt` drew them from the same state, each entry written at its block's cursor.
    Returns the state after them, so rows can be dealt a piece at a time."""
    n_blocks = np.uint64(len(cursor))
    s = state
    e = 0
    for r in range(len(lengths)):
        for _ in range(lengths[r]):
            if data[e] > 0:
                s = next_state(s)
                block = random_bits(s) % n_blocks
                at = cursor[block]
                cursor[block] = at + 1
                rows[at] = first_row + r
                cols[at] = indices[e]
                values[at] = data[e]
            e += 1
    return s


@njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def train_block(rows, cols, values, start, size, state, order, word, context, x_max, alpha,
                eta, grad_clip):
    """Visit entries start:start+size in a random order drawn from state (Fisher-Yates into
    `order`); returns (cost, updates, skipped)."""
    for i in range(size):
        order[i] = i
    for i in range(size - 1, 0, -1):
        state = next_state(state)
        j = np.int64(random_bits(state) % np.uint64(i + 1))
        kept = order[i]
        order[i] = order[j]
        order[j] = kept
    cost = 0.0
    updates = 0
    skipped = 0
    for i in range(size):
        e = start + order[i]
        entry_cost = glove_update(rows[e], cols[e], values[e], word, context, x_max, alpha,
                                  eta, grad_clip)
        if np.isnan(entry_cost):
            skipped += 1
        else:
            cost += entry_cost
            updates += 1
    return cost, updates, skipped


@njit(cache=True, error_model="numpy", fastmath=FASTMATH, parallel=True, nogil=True)
def train_blocks(rows, cols, values, block_starts, block_order, block_seeds, word, context,
                 x_max, alpha, eta, grad_clip, order_scratch):
    """Visit the entries of the blocks block_order (in that order), each block shuffled.

    Thread t takes a contiguous share of block_order and shuffles each block's entries
    into its own row of order_scratch with the block's random state, so a block is
    visited in the same order whichever thread runs it. Returns (cost, updates, skipped).
    Runs without the GIL, so a Dask worker that trains still answers for its blocks.
    """
    n_threads = order_scratch.shape[0]
    n_blocks = len(block_order)
    cost = 0.0
    updates = 0
    skipped = 0
    for t in prange(n_threads):
        for k in range(t * n_blocks // n_threads, (t + 1) * n_blocks // n_threads):
            block = block_order[k]
            start = block_starts[block]
            block_cost, block_updates, block_skipped = train_block(
                rows, cols, values, start, block_starts[block + 1] - start, block_seeds[k],
                order_scratch[t], word, context, x_max, alpha, eta, grad_clip)
            cost += block_cost
            updates += block_updates
            skipped += block_skipped
    return cost, updates, skipped
