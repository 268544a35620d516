"""Numba kernels of word2vec: Skip-gram and CBOW with negative sampling and/or hierarchical
softmax, run Hogwild over contiguous chunks of sentences.

Pure arrays in and out. One launch trains a slice of the corpus split into chunks; each
chunk has its own random state and scratch, and `prange` runs the chunks in parallel
(the serial launcher runs the same chunks in order, for `--threads 1`). The vectors are
shared and updated without locks, as in word2vec C.

The arithmetic follows word2vec C: the effective window is uniform in 1..window per centre
word, subsampling drops tokens before windowing, Skip-gram updates the context word's input
vector against the centre word's output vector, CBOW averages (or sums) its context and
sends the whole gradient to every context word, and the sigmoid comes from a 1000-entry
table over [-6, 6] (NS clamps outside it, HS skips the node). An example's negatives are
drawn before its hidden vector is formed, so their rows can be fetched meanwhile
(`prefetch.prefetch_row`). With threads, each chunk trains on its own copies of the most
written output rows and merges them now and then (`HotRows`): shared, those rows made two
threads slower than one with HS.

With subwords (fastText's model) a word's input vector is the mean of its rows, read through
a CSR table (`Tables.subword_offsets`, `subword_rows`), and the gradient goes unscaled to each
row. Those kernels are compiled as their own launchers (`train_chunk_subwords`), so plain
training runs exactly the code it ran before. As in fastText, the centre word is the input of
skip-gram (its context words are predicted) and CBOW averages one bag of every row of every
context word.
"""

import types
from collections import namedtuple

import numpy as np
from numba import njit, prange

from ..runtime.prefetch import prefetch_row
from ..runtime.rng import next_state, random_bits

MAX_EXP = 6.0
TABLE_SIZE = 1000

SKIPGRAM = 0
CBOW = 1
SKIPGRAM_BATCHED = 2
CBOW_BATCHED = 3

CBOW_BATCH = 8
"""Consecutive CBOW windows (centre words of one sentence) that share one set of negatives."""

HOT_SYNC_TOKENS = 1024
"""A chunk merges its hot output rows into the shared ones after at least this many tokens."""

_U32 = np.uint64(32)

# The kernels' arguments, in a few named groups (numba passes namedtuples of arrays).
Tokens = namedtuple("Tokens", ["ids", "offsets"])
"""Sentence i is ids[offsets[i]:offsets[i + 1]]."""
Weights = namedtuple("Weights", ["w_in", "w_out", "w_hs"])
"""Input vectors, negative-sampling output vectors, HS inner-node vectors (updated in place)."""
Tables = namedtuple("Tables", ["keep_threshold", "neg_threshold", "neg_alias", "codes",
                               "points", "code_lens", "sigmoid", "log_sigmoid",
                               "subword_offsets", "subword_rows"])
"""Read-only lookups: subsampling thresholds, noise alias table, Huffman paths, sigmoid, and
the input rows of each word (CSR: word w's rows are subword_rows[subword_offsets[w]:
subword_offsets[w + 1]]; read by the subword kernels only)."""
HotRows = namedtuple("HotRows", ["out_n", "out_first", "hs_first", "hs_shift", "out_base",
                                 "hs_base"])
"""A chunk's own copies of the most written output rows. Every example writes some of them,
so when threads share them each write moves the row's cache lines between cores, and two
threads ran slower than one (CBOW+HS: 4.4 s against 3.9 s an epoch of 10M tokens). Each chunk
trains on its copies and adds what it changed to the shared rows every `HOT_SYNC_TOKENS`
tokens (`_merge_hot_rows`), as a thread of data-parallel SGD would.

The hot rows are found by position, with no lookup: the `Settings.hot_rows` most frequent
words (w_out rows 0..out_n-1, the vocabulary being sorted) and the as many heaviest Huffman
nodes (w_hs rows hs_first.., the last ones built). The copies are rows of the same matrices,
after the shared ones (the kernels are handed matrices with room for them): w_out row
i < out_n is read at out_first + i, w_hs row p >= hs_first at p + hs_shift. (Copies in arrays
of their own, or a lookup table of hot rows, compiled into loops 30-60% slower.) base holds
the shared rows as last seen. With one thread hot_rows is 0, so results are word2vec's."""
Settings = namedtuple("Settings", ["model", "window", "negative", "use_hs", "cbow_mean",
                                   "max_len", "hot_rows"])
"""Scalars: model id (SKIPGRAM, CBOW, SKIPGRAM_BATCHED, CBOW_BATCHED), window, negatives, HS
on, CBOW mean, longest sentence (scratch size), and the hot output rows of each matrix that
each chunk keeps its own copy of (`HotRows`; 0 with one thread)."""


def sigmoid_tables():
    """sigmoid and log-sigmoid at TABLE_SIZE + 1 points over [-MAX_EXP, MAX_EXP].

    Entry i is at x_i = (2 i / TABLE_SIZE - 1) MAX_EXP, so entry TABLE_SIZE - i is at -x_i,
    which gives log(1 - sigmoid(x)) = log sigmoid(-x) from the same table.
    """
    x = (2.0 * np.arange(TABLE_SIZE + 1) / TABLE_SIZE - 1.0) * MAX_EXP
    sigmoid = 1.0 / (1.0 + np.exp(-x))
    log_sigmoid = -np.log1p(np.exp(-x))
    return sigmoid.astype(np.float32), log_sigmoid.astype(np.float32)


# --------------------------------------------------------------------------- random draws


@njit(cache=True, inline="always")
def draw_window(state, window):
    """Effective half-width uniform in 1..window; returns (width, new state)."""
    state = next_state(state)
    width = 1 + np.int64(((random_bits(state) >> _U32) * np.uint64(window)) >> _U32)
    return width, state


@njit(cache=True, inline="always")
def draw_negative(state, neg_threshold, neg_alias):
    """A word from the noise distribution (alias method: one draw gives bucket and coin)."""
    state = next_state(state)
    bits = random_bits(state)
    bucket = np.int64(((bits >> _U32) * np.uint64(neg_threshold.shape[0])) >> _U32)
    if (bits & np.uint64(0xFFFFFFFF)) < neg_threshold[bucket]:
        return bucket, state
    return np.int64(neg_alias[bucket]), state


@njit(cache=True, inline="always")
def subsample_sentence(ids, start, end, keep_threshold, state, out):
    """Copy the kept tokens of ids[start:end] to `out`; returns (how many, new state).

    A token of word w is kept when 32 random bits fall below keep_threshold[w]
    (the keep probability times 2^32, so probability 1 is 2^32 and always passes).
    """
    n = 0
    for t in range(start, end):
        word = ids[t]
        state = next_state(state)
        if (random_bits(state) >> _U32) < keep_threshold[word]:
            out[n] = word
            n += 1
    return n, state


# --------------------------------------------------------------------------- hot rows


@njit(cache=True)
def _hot_rows(settings, n_words, w_out, w_hs, chunk):
    """Chunk `chunk`'s copies of the hot rows, taken from the shared rows (`HotRows`)."""
    out_n = min(settings.hot_rows, n_words) if settings.negative > 0 else 0
    hs_n = min(settings.hot_rows, n_words - 1) if settings.use_hs else 0
    out_first = n_words + chunk * out_n
    hs_first = n_words - 1 - hs_n
    hs_copy = max(n_words - 1, 1) + chunk * hs_n
    for k in range(out_n):
        w_out[out_first + k] = w_out[k]
    for k in range(hs_n):
        w_hs[hs_copy + k] = w_hs[hs_first + k]
    return HotRows(out_n, out_first, hs_first, hs_copy - hs_first,
                   w_out[:out_n].copy(), w_hs[hs_first:hs_first + hs_n].copy())


@njit(cache=True, fastmath=True, inline="always")
def _merge_rows(matrix, first, copy, base):
    """Shared rows first.., the chunk's copies at copy.., as base saw them."""
    dim = matrix.shape[1]
    for k in range(base.shape[0]):
        shared = matrix[first + k]
        local = matrix[copy + k]
        for j in range(dim):
            value = shared[j] + (local[j] - base[k, j])
            shared[j] = value
            local[j] = value
            base[k, j] = value


@njit(cache=True)
def _merge_hot_rows(w_out, w_hs, hot):
    """Add what the chunk changed in its hot rows to the shared rows, and take the result
    (with the other threads' changes) as the chunk's copies again."""
    _merge_rows(w_out, 0, hot.out_first, hot.out_base)
    _merge_rows(w_hs, hot.hs_first, hot.hs_first + hot.hs_shift, hot.hs_base)


# --------------------------------------------------------------------------- one output unit


@njit(cache=True, fastmath=True, inline="always")
def _logistic_gradient(f, label, alpha, sigmoid, log_sigmoid):
    """For a logistic unit with score f and label 1 (true word, HS branch 0) or 0 (a
    negative): the gradient scale g and the loss -log p(label). Outside [-MAX_EXP, MAX_EXP]
    the sigmoid is clamped to 0 or 1 and the loss is |f| or 0 (word2vec C's NS rule; HS
    skips those nodes before calling this)."""
    if f >= MAX_EXP:
        return np.float32((label - 1) * alpha), (0.0 if label else np.float64(f))
    if f <= -MAX_EXP:
        return np.float32(label * alpha), (-np.float64(f) if label else 0.0)
    i = np.int64((f + MAX_EXP) * (TABLE_SIZE / MAX_EXP / 2.0))
    loss = -np.float64(log_sigmoid[i] if label else log_sigmoid[TABLE_SIZE - i])
    return np.float32((label - sigmoid[i]) * alpha), loss


@njit(cache=True, fastmath=True, inline="always")
def _output_layer(hidden, target, grad_hidden, w_out, w_hs, hot, tables, noise, negative,
                  use_hs, alpha):
    """HS along target's Huffman path, then NS: target plus the `negative` noise words
    drawn beforehand (`_draw_noise`), a noise word equal to target skipped.

    Returns the loss; grad_hidden receives the gradient for `hidden`.
    """
    codes, points, code_lens = tables.codes, tables.points, tables.code_lens
    sigmoid, log_sigmoid = tables.sigmoid, tables.log_sigmoid
    loss = 0.0
    if use_hs:
        dim = hidden.shape[0]
        for d in range(code_lens[target]):
            node = points[target, d]
            row = w_hs[node + hot.hs_shift if node >= hot.hs_first else node]
            f = np.float32(0.0)
            for k in range(dim):
                f += hidden[k] * row[k]
            if f >= MAX_EXP or f <= -MAX_EXP:
                continue  # word2vec C's HS rule: no update at a saturated node
            g, node_loss = _logistic_gradient(f, 1 - codes[target, d], alpha, sigmoid, log_sigmoid)
            loss += node_loss
            for k in range(dim):
                grad_hidden[k] += g * row[k]
                row[k] += g * hidden[k]
    if negative > 0:
        dim = hidden.shape[0]
        for s in range(negative + 1):
            if s == 0:
                out, label = target, 1
            else:
                out = noise[s - 1]
                if out == target:
                    continue
                label = 0
            row = w_out[out + hot.out_first if out < hot.out_n else out]
            f = np.float32(0.0)
            for k in range(dim):
                f += hidden[k] * row[k]
            g, step_loss = _logistic_gradient(f, label, alpha, sigmoid, log_sigmoid)
            loss += step_loss
            for k in range(dim):
                grad_hidden[k] += g * row[k]
                row[k] += g * hidden[k]
    return loss


@njit(cache=True, inline="always")
def _draw_noise(state, tables, negative, noise, w_out):
    """Draw the `negative` noise words of one example into noise, in the order the output
    layer uses them, and hint the cache to fetch their rows. Returns the new state.
    (The hint is what makes drawing them early pay: 20-30% less CPU time for CBOW and
    skip-gram on 10M tokens, the rows being scattered over more than the cache holds.)"""
    for s in range(negative):
        noise[s], state = draw_negative(state, tables.neg_threshold, tables.neg_alias)
        prefetch_row(w_out, noise[s])
    return state


# --------------------------------------------------------------------------- one chunk


@njit(cache=True, fastmath=True)
def train_chunk(tokens, weights, tables, settings, first, last, state, alpha_from, alpha_to,
                chunk):
    """Train on sentences first..last-1; alpha goes linearly from alpha_from to alpha_to
    over the chunk's tokens; `chunk` (its index in the launch) places its hot-row copies.
    Returns (summed loss, examples trained).
    """
    ids, offsets = tokens.ids, tokens.offsets
    w_in, w_out, w_hs = weights.w_in, weights.w_out, weights.w_hs
    model, window, negative, use_hs = (settings.model, settings.window, settings.negative,
                                       settings.use_hs)
    dim = w_in.shape[1]
    sentence = np.empty(settings.max_len, dtype=np.int64)
    hidden = np.empty(dim, dtype=np.float32)
    grad_hidden = np.empty(dim, dtype=np.float32)
    batch_grads = np.empty((max(2 * window, negative), dim), dtype=np.float32)
    batch_bounds = np.empty((CBOW_BATCH, 3), dtype=np.int64)
    noise = np.empty(max(negative, 1), dtype=np.int64)
    hot = _hot_rows(settings, tables.keep_threshold.shape[0], w_out, w_hs, chunk)
    total = max(offsets[last] - offsets[first], 1)
    done = 0
    unmerged = 0
    loss = 0.0
    examples = 0
    for s in range(first, last):
        start = offsets[s]
        end = offsets[s + 1]
        alpha = alpha_from + (alpha_to - alpha_from) * (done / total)
        done += end - start
        unmerged += end - start
        if unmerged >= HOT_SYNC_TOKENS:
            _merge_hot_rows(w_out, w_hs, hot)
            unmerged = 0
        n, state = subsample_sentence(ids, start, end, tables.keep_threshold, state, sentence)
        if model == CBOW:  # the first windows' input rows (later ones: one word ahead)
            for c in range(min(n, window + 1)):
                prefetch_row(w_in, sentence[c])
        if model == CBOW_BATCHED:
            pos = 0
            while pos < n:
                m = 0
                while m < CBOW_BATCH and pos < n:
                    width, state = draw_window(state, window)
                    lo = max(0, pos - width)
                    hi = min(n, pos + width + 1)
                    if hi - lo > 1:
                        batch_bounds[m, 0] = pos
                        batch_bounds[m, 1] = lo
                        batch_bounds[m, 2] = hi
                        m += 1
                    pos += 1
                if m > 0:
                    step_loss, state = _cbow_batched_step(
                        sentence, batch_bounds, m, weights, tables, hot, negative,
                        settings.cbow_mean, alpha, noise, batch_grads, hidden, grad_hidden,
                        state)
                    loss += step_loss
                    examples += m
            continue
        for pos in range(n):
            word = sentence[pos]
            width, state = draw_window(state, window)
            lo = max(0, pos - width)
            hi = min(n, pos + width + 1)
            if model == SKIPGRAM:
                for c in range(lo, hi):
                    if c == pos:
                        continue
                    context_row = w_in[sentence[c]]
                    grad_hidden[:] = 0.0
                    state = _draw_noise(state, tables, negative, noise, w_out)
                    loss += _output_layer(context_row, word, grad_hidden, w_out, w_hs, hot,
                                          tables, noise, negative, use_hs, alpha)
                    examples += 1
                    for k in range(dim):
                        context_row[k] += grad_hidden[k]
            elif model == SKIPGRAM_BATCHED:
                if hi - lo > 1:
                    step_loss, state = _sg_batched_step(
                        sentence, pos, lo, hi, weights, tables, hot, negative, use_hs, alpha,
                        noise, batch_grads, hidden, state)
                    loss += step_loss
                    examples += hi - lo - 1
            else:
                count = hi - lo - 1
                if count == 0:
                    continue
                state = _draw_noise(state, tables, negative, noise, w_out)
                if negative > 0:
                    prefetch_row(w_out, word)
                    if pos + 1 < n:  # the next centre word's output row
                        prefetch_row(w_out, sentence[pos + 1])
                if pos + window + 1 < n:  # the word that enters the widest window next
                    prefetch_row(w_in, sentence[pos + window + 1])
                hidden[:] = 0.0
                for c in range(lo, hi):
                    if c == pos:
                        continue
                    context_row = w_in[sentence[c]]
                    for k in range(dim):
                        hidden[k] += context_row[k]
                if settings.cbow_mean:
                    scale = np.float32(1.0 / count)
                    for k in range(dim):
                        hidden[k] *= scale
                grad_hidden[:] = 0.0
                loss += _output_layer(hidden, word, grad_hidden, w_out, w_hs, hot, tables,
                                      noise, negative, use_hs, alpha)
                examples += 1
                for c in range(lo, hi):
                    if c == pos:
                        continue
                    context_row = w_in[sentence[c]]
                    for k in range(dim):
                        context_row[k] += grad_hidden[k]
    _merge_hot_rows(w_out, w_hs, hot)
    return loss, examples


@njit(cache=True, fastmath=True, inline="always")
def _sg_batched_step(sentence, pos, lo, hi, weights, tables, hot, negative, use_hs, alpha,
                     noise, grads, out_grad, state):
    """Skip-gram for one centre word with every context word sharing its output units
    (pWord2Vec's HogBatch): the Huffman path's nodes (HS) and the centre's and its
    negatives' output rows (NS) are each read once and updated once for the whole window,
    instead of once per context word. HS skips a saturated (context, node) pair, as
    word2vec C does.
    """
    w_in, w_out, w_hs = weights.w_in, weights.w_out, weights.w_hs
    sigmoid, log_sigmoid = tables.sigmoid, tables.log_sigmoid
    dim = w_in.shape[1]
    word = sentence[pos]
    m = 0
    for c in range(lo, hi):
        if c != pos:
            grads[m, :] = 0.0
            m += 1
    loss = 0.0
    state = _draw_noise(state, tables, negative, noise, w_out)
    n_nodes = tables.code_lens[word] if use_hs else 0
    n_units = n_nodes + (negative + 1 if negative > 0 else 0)
    for s in range(n_units):
        node = s < n_nodes
        if node:
            node = tables.points[word, s]
            row = w_hs[node + hot.hs_shift if node >= hot.hs_first else node]
            label = 1 - np.int64(tables.codes[word, s])
        else:
            if s == n_nodes:
                target = word
                label = 1
            else:
                target = noise[s - n_nodes - 1]
                if target == word:
                    continue
                label = 0
            row = w_out[target + hot.out_first if target < hot.out_n else target]
        out_grad[:] = 0.0
        j = -1
        for c in range(lo, hi):
            if c == pos:
                continue
            j += 1
            context_row = w_in[sentence[c]]
            f = np.float32(0.0)
            for k in range(dim):
                f += context_row[k] * row[k]
            if node and (f >= MAX_EXP or f <= -MAX_EXP):
                continue
            g, step_loss = _logistic_gradient(f, label, alpha, sigmoid, log_sigmoid)
            loss += step_loss
            for k in range(dim):
                grads[j, k] += g * row[k]
                out_grad[k] += g * context_row[k]
        for k in range(dim):
            row[k] += out_grad[k]
    j = 0
    for c in range(lo, hi):
        if c == pos:
            continue
        context_row = w_in[sentence[c]]
        for k in range(dim):
            context_row[k] += grads[j, k]
        j += 1
    return loss, state


@njit(cache=True, fastmath=True, inline="always")
def _cbow_batched_step(sentence, bounds, m, weights, tables, hot, negative, cbow_mean, alpha,
                       noise, out_grads, hidden, grad_hidden, state):
    """CBOW NS for m consecutive windows (bounds[b] = centre, lo, hi) sharing one set of
    negatives (BlazingText's batch idea applied to CBOW): the negatives' output rows stay in
    cache for the batch and are written once, at its end, with the summed updates. Each
    window is otherwise trained in turn as in the classic kernel: its hidden vector from the
    current input rows, its own positive (its centre word) updated at once, its input rows
    updated before the next window; a negative equal to a window's centre is skipped for
    that window only.
    """
    w_in, w_out = weights.w_in, weights.w_out
    sigmoid, log_sigmoid = tables.sigmoid, tables.log_sigmoid
    out_n, out_first = hot.out_n, hot.out_first
    dim = w_in.shape[1]
    state = _draw_noise(state, tables, negative, noise, w_out)
    for s in range(negative):
        out_grads[s, :] = 0.0
    loss = 0.0
    for b in range(m):
        pos, lo, hi = bounds[b, 0], bounds[b, 1], bounds[b, 2]
        word = sentence[pos]
        hidden[:] = 0.0
        for c in range(lo, hi):
            if c != pos:
                context_row = w_in[sentence[c]]
                for k in range(dim):
                    hidden[k] += context_row[k]
        if cbow_mean:
            scale = np.float32(1.0 / (hi - lo - 1))
            for k in range(dim):
                hidden[k] *= scale
        grad_hidden[:] = 0.0
        row = w_out[word + out_first if word < out_n else word]
        f = np.float32(0.0)
        for k in range(dim):
            f += hidden[k] * row[k]
        g, step_loss = _logistic_gradient(f, 1, alpha, sigmoid, log_sigmoid)
        loss += step_loss
        for k in range(dim):
            grad_hidden[k] += g * row[k]
            row[k] += g * hidden[k]
        for s in range(negative):
            if noise[s] == word:
                continue
            row = w_out[noise[s] + out_first if noise[s] < out_n else noise[s]]
            f = np.float32(0.0)
            for k in range(dim):
                f += hidden[k] * row[k]
            if f >= MAX_EXP:
                g = np.float32(-alpha)
                loss += np.float64(f)
            elif f <= -MAX_EXP:
                continue
            else:
                i = np.int64((f + MAX_EXP) * (TABLE_SIZE / MAX_EXP / 2.0))
                g = np.float32(-sigmoid[i] * alpha)
                loss -= np.float64(log_sigmoid[TABLE_SIZE - i])
            for k in range(dim):
                grad_hidden[k] += g * row[k]
                out_grads[s, k] += g * hidden[k]
        for c in range(lo, hi):
            if c != pos:
                context_row = w_in[sentence[c]]
                for k in range(dim):
                    context_row[k] += grad_hidden[k]
    for s in range(negative):
        row = w_out[noise[s] + out_first if noise[s] < out_n else noise[s]]
        for k in range(dim):
            row[k] += out_grads[s, k]
    return loss, state


# --------------------------------------------------------------------------- subwords


@njit(cache=True, fastmath=True, inline="always")
def _mean_of_rows(w_in, offsets, rows, word, out):
    """out = the mean of word's input rows (its input vector under subwords)."""
    dim = out.shape[0]
    first, last = offsets[word], offsets[word + 1]
    out[:] = 0.0
    for j in range(first, last):
        row = w_in[rows[j]]
        for k in range(dim):
            out[k] += row[k]
    scale = np.float32(1.0 / max(last - first, 1))
    for k in range(dim):
        out[k] *= scale


@njit(cache=True, fastmath=True, inline="always")
def _add_to_rows(w_in, offsets, rows, word, grad):
    """Add `grad`, unscaled, to each of word's input rows (fastText's rule)."""
    dim = grad.shape[0]
    for j in range(offsets[word], offsets[word + 1]):
        row = w_in[rows[j]]
        for k in range(dim):
            row[k] += grad[k]


@njit(cache=True, fastmath=True)
def train_chunk_subwords(tokens, weights, tables, settings, first, last, state, alpha_from,
                         alpha_to, chunk):
    """`train_chunk` for subword models (SKIPGRAM, SKIPGRAM_BATCHED, CBOW).

    SKIPGRAM is fastText's update: per (centre, context) pair, the centre's mean input
    vector is computed, the context word is predicted, and the gradient goes to every row of
    the centre. SKIPGRAM_BATCHED computes the centre's vector once per position, trains every
    context word of the window (each with its own negatives) against it, and adds the summed
    gradient to the centre's rows once. CBOW averages (or sums) the bag of every row of every
    context word and sends the gradient to each row of the bag.
    """
    ids, offsets = tokens.ids, tokens.offsets
    w_in, w_out, w_hs = weights.w_in, weights.w_out, weights.w_hs
    row_offsets, rows = tables.subword_offsets, tables.subword_rows
    model, window, negative, use_hs = (settings.model, settings.window, settings.negative,
                                       settings.use_hs)
    dim = w_in.shape[1]
    sentence = np.empty(settings.max_len, dtype=np.int64)
    hidden = np.empty(dim, dtype=np.float32)
    grad_hidden = np.empty(dim, dtype=np.float32)
    noise = np.empty(max(negative, 1), dtype=np.int64)
    hot = _hot_rows(settings, tables.keep_threshold.shape[0], w_out, w_hs, chunk)
    total = max(offsets[last] - offsets[first], 1)
    done = 0
    unmerged = 0
    loss = 0.0
    examples = 0
    for s in range(first, last):
        start = offsets[s]
        end = offsets[s + 1]
        alpha = alpha_from + (alpha_to - alpha_from) * (done / total)
        done += end - start
        unmerged += end - start
        if unmerged >= HOT_SYNC_TOKENS:
            _merge_hot_rows(w_out, w_hs, hot)
            unmerged = 0
        n, state = subsample_sentence(ids, start, end, tables.keep_threshold, state, sentence)
        for pos in range(n):
            word = sentence[pos]
            width, state = draw_window(state, window)
            lo = max(0, pos - width)
            hi = min(n, pos + width + 1)
            if hi - lo <= 1:
                continue
            if model == CBOW:
                state = _draw_noise(state, tables, negative, noise, w_out)
                hidden[:] = 0.0
                bag = 0
                for c in range(lo, hi):
                    if c == pos:
                        continue
                    context = sentence[c]
                    for j in range(row_offsets[context], row_offsets[context + 1]):
                        row = w_in[rows[j]]
                        for k in range(dim):
                            hidden[k] += row[k]
                    bag += row_offsets[context + 1] - row_offsets[context]
                if settings.cbow_mean:
                    scale = np.float32(1.0 / bag)
                    for k in range(dim):
                        hidden[k] *= scale
                grad_hidden[:] = 0.0
                loss += _output_layer(hidden, word, grad_hidden, w_out, w_hs, hot, tables,
                                      noise, negative, use_hs, alpha)
                examples += 1
                for c in range(lo, hi):
                    if c != pos:
                        _add_to_rows(w_in, row_offsets, rows, sentence[c], grad_hidden)
                continue
            batched = model == SKIPGRAM_BATCHED
            if batched:
                _mean_of_rows(w_in, row_offsets, rows, word, hidden)
                grad_hidden[:] = 0.0
            for c in range(lo, hi):
                if c == pos:
                    continue
                if not batched:
                    _mean_of_rows(w_in, row_offsets, rows, word, hidden)
                    grad_hidden[:] = 0.0
                state = _draw_noise(state, tables, negative, noise, w_out)
                loss += _output_layer(hidden, sentence[c], grad_hidden, w_out, w_hs, hot,
                                      tables, noise, negative, use_hs, alpha)
                examples += 1
                if not batched:
                    _add_to_rows(w_in, row_offsets, rows, word, grad_hidden)
            if batched:
                _add_to_rows(w_in, row_offsets, rows, word, grad_hidden)
    _merge_hot_rows(w_out, w_hs, hot)
    return loss, examples


# --------------------------------------------------------------------------- launches


def _launch(tokens, weights, tables, settings, chunk_bounds, seeds, alpha_from, alpha_to):
    """Chunk c = sentences chunk_bounds[c, 0]..chunk_bounds[c, 1]-1, each from its own seed.

    Compiled four times (below): in parallel (Hogwild over the chunks) and serially, for
    `--threads 1`, where the same chunks run in order and results repeat bit for bit; each
    with `train_chunk` (plain words) and with `train_chunk_subwords`.
    Returns per-chunk (loss, examples), so the totals are race-free and summed in order.
    """
    n_chunks = chunk_bounds.shape[0]
    losses = np.zeros(n_chunks, dtype=np.float64)
    examples = np.zeros(n_chunks, dtype=np.int64)
    for c in prange(n_chunks):
        losses[c], examples[c] = train_chunk(
            tokens, weights, tables, settings, chunk_bounds[c, 0], chunk_bounds[c, 1], seeds[c],
            alpha_from, alpha_to, c)
    return losses, examples


def _compile(func, name, chunk=None, **options):
    """njit a copy of `func` under its own name: numba's cache is keyed by the function's
    name, so the parallel and serial builds of one body must not share a name. `chunk`
    replaces the `train_chunk` that the body calls."""
    namespace = func.__globals__ if chunk is None else {**func.__globals__, "train_chunk": chunk}
    copy = types.FunctionType(func.__code__.replace(co_name=name), namespace, name,
                              func.__defaults__, func.__closure__)
    copy.__qualname__ = name
    copy.__doc__ = func.__doc__
    return njit(cache=True, **options)(copy)


train_launch = _compile(_launch, "train_launch", parallel=True)
train_launch_serial = _compile(_launch, "train_launch_serial")
train_launch_subwords = _compile(_launch, "train_launch_subwords", train_chunk_subwords,
                                 parallel=True)
train_launch_subwords_serial = _compile(_launch, "train_launch_subwords_serial",
                                        train_chunk_subwords)
