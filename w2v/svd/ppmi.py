"""Positive PMI from co-occurrence counts, and subsampling of the tokens before counting.

    PPMI(w, c) = max(0, log(P(w, c) / (P(w) P_alpha(c))) - log k)

with P_alpha(c) = #(c)^alpha / sum_c' #(c')^alpha, the context distribution smoothing of Levy,
Goldberg and Dagan (2015): raising context counts to alpha = 0.75 lifts rare contexts and
damps PMI's bias towards them, as SGNS's smoothed negative distribution does. k shifts PMI
like SGNS's k negatives. Only positive entries are ever stored, so the matrix keeps at most
the sparsity of the counts.
"""

import numpy as np
import scipy.sparse as sp
from numba import njit, prange

from ..errors import OptionError
from ..runtime.rng import chunk_seeds, keep_probabilities, next_state, random_float

SUBSAMPLE_CHUNK_TOKENS = 1 << 20  # tokens per random stream; fixed, so threads don't matter
BLOCKS_PER_THREAD = 16  # row blocks of equal work, so frequent words don't serialise a kernel


# --------------------------------------------------------------------------- PPMI


def ppmi_matrix(counts, cds=0.75, neg=1):
    """Shifted PPMI of a words x contexts count matrix, as float32 CSR with positive entries only.

    Rows or columns without counts stay empty. `cds` is the context smoothing exponent
    alpha (1 = none), `neg` the shift k (1 = no shift).
    """
    if not cds > 0:
        raise OptionError(f"--cds must be positive, got {cds}")
    if not neg >= 1:
        raise OptionError(f"--neg must be at least 1, got {neg}")
    counts = _canonical_csr(counts)
    row_sums = _row_sums(counts.indptr, counts.data)
    context_sums = _column_sums(counts.indices, counts.data, counts.shape[1])
    smoothed = context_sums**cds
    total = smoothed.sum()
    with np.errstate(divide="ignore"):
        log_rows = np.log(row_sums)
        log_context_probs = np.log(smoothed / total) if total > 0 else smoothed
    blocks = balanced_row_blocks(counts.indptr)
    args = (counts.indptr, counts.indices, counts.data, log_rows, log_context_probs,
            float(np.log(neg)), blocks)
    kept_per_row = _count_positive(*args)
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(kept_per_row, out=indptr[1:])
    index_dtype = np.int32 if indptr[-1] < 2**31 and counts.shape[1] < 2**31 else np.int64
    indptr = indptr.astype(index_dtype)
    indices = np.empty(indptr[-1], dtype=index_dtype)
    data = np.empty(indptr[-1], dtype=np.float32)
    _fill_positive(*args, indptr, indices, data)
    return sp.csr_matrix((data, indices, indptr), shape=counts.shape)


def _canonical_csr(matrix):
    """CSR with sorted, summed indices (duplicates would split one PMI entry in two)."""
    if not sp.issparse(matrix):
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"a 2-d count matrix is needed, got shape {matrix.shape}")
    matrix = sp.csr_matrix(matrix)
    if not matrix.has_canonical_format:
        matrix = matrix.copy()
        matrix.sum_duplicates()
    return matrix


def balanced_row_blocks(indptr, threads=None):
    """Row boundaries of blocks with about equal stored entries, for the parallel kernels."""
    import numba

    n_blocks = BLOCKS_PER_THREAD * (threads or numba.get_num_threads())
    n_rows = len(indptr) - 1
    targets = np.linspace(0, indptr[-1], n_blocks + 1)
    bounds = np.searchsorted(indptr, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n_rows
    return np.unique(np.minimum(bounds, n_rows))


@njit(cache=True)
def _row_sums(indptr, data):
    sums = np.zeros(len(indptr) - 1, dtype=np.float64)
    for row in range(len(indptr) - 1):
        total = 0.0
        for j in range(indptr[row], indptr[row + 1]):
            total += data[j]
        sums[row] = total
    return sums


@njit(cache=True)
def _column_sums(indices, data, n_columns):
    sums = np.zeros(n_columns, dtype=np.float64)
    for j in range(len(indices)):
        sums[indices[j]] += data[j]
    return sums


@njit(cache=True, inline="always")
def _shifted_pmi(count, log_row, log_context_prob, shift):
    # log(P(w,c) / (P(w) P_a(c))) with P(w,c) = count/N and P(w) = row/N: the N cancels.
    return np.log(count) - log_row - log_context_prob - shift


@njit(cache=True, parallel=True)
def _count_positive(indptr, indices, data, log_rows, log_context_probs, shift, blocks):
    kept = np.zeros(len(indptr) - 1, dtype=np.int64)
    for b in prange(len(blocks) - 1):
        for row in range(blocks[b], blocks[b + 1]):
            n = 0
            for j in range(indptr[row], indptr[row + 1]):
                if data[j] > 0 and _shifted_pmi(data[j], log_rows[row],
                                                log_context_probs[indices[j]], shift) > 0:
                    n += 1
            kept[row] = n
    return kept


@njit(cache=True, parallel=True)
def _fill_positive(indptr, indices, data, log_rows, log_context_probs, shift, blocks,
                   out_indptr, out_indices, out_data):
    for b in prange(len(blocks) - 1):
        for row in range(blocks[b], blocks[b + 1]):
            k = out_indptr[row]
            for j in range(indptr[row], indptr[row + 1]):
                if data[j] > 0:
                    value = _shifted_pmi(data[j], log_rows[row],
                                         log_context_probs[indices[j]], shift)
                    if value > 0:
                        out_indices[k] = indices[j]
                        out_data[k] = value
                        k += 1


# --------------------------------------------------------------------------- subsampling


def subsample_corpus(corpus, sample, seed=1):
    """A copy of `corpus` with frequent tokens dropped as word2vec C's -sample does.

    Each token is kept with `keep_probabilities(counts, sample)`, drawn from random streams
    seeded by (seed, chunk of tokens), so the result depends on the seed only. Dropped
    tokens close the gap (windows then reach further, as in word2vec); sentences left
    empty disappear. The vocabulary and its counts stay those of the full corpus.
    """
    from ..corpus.corpus import Corpus

    if sample <= 0:
        return corpus
    keep = keep_probabilities(corpus.vocab.counts, sample)
    offsets = np.asarray(corpus.offsets, dtype=np.int64)
    n_chunks = max(1, -(-len(corpus.ids) // SUBSAMPLE_CHUNK_TOKENS))
    # Chunks are whole sentences starting at fixed token positions.
    chunk_starts = np.searchsorted(offsets[:-1], np.arange(n_chunks, dtype=np.int64)
                                   * SUBSAMPLE_CHUNK_TOKENS, side="left")
    chunk_starts = np.append(chunk_starts, len(offsets) - 1).astype(np.int64)
    mask = np.empty(len(corpus.ids), dtype=np.bool_)
    lengths = _keep_mask(corpus.ids, offsets, keep, chunk_starts, chunk_seeds(seed, 0, n_chunks),
                         mask)
    ids = np.asarray(corpus.ids)[mask]
    lengths = lengths[lengths > 0]
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    return Corpus(vocab=corpus.vocab, ids=ids, offsets=new_offsets,
                  n_raw_tokens=corpus.n_raw_tokens, invalid_bytes=corpus.invalid_bytes)


@njit(cache=True, parallel=True)
def _keep_mask(ids, offsets, keep, chunk_starts, seeds, mask):
    lengths = np.zeros(len(offsets) - 1, dtype=np.int64)
    for chunk in prange(len(chunk_starts) - 1):
        state = seeds[chunk]
        for sentence in range(chunk_starts[chunk], chunk_starts[chunk + 1]):
            n = 0
            for t in range(offsets[sentence], offsets[sentence + 1]):
                state = next_state(state)
                kept = random_float(state) < keep[ids[t]]
                mask[t] = kept
                n += kept
            lengths[sentence] = n
    return lengths


def subsample_stretch(ids, offsets, keep, first_token, chunk_firsts, seed=1):
    """(ids, offsets) of the tokens `subsample_corpus` keeps of a stretch of a corpus.

    The stretch (whole sentences, `ids[offsets[i]:offsets[i + 1]]`) starts at token
    `first_token` of the whole corpus; chunk_firsts[c] is the token where chunk c's first
    sentence starts in the whole corpus. Each token then meets the very random draw it
    meets when the whole corpus is subsampled at once, so a cluster's partitions
    (`distributed.py`) keep exactly the tokens one process keeps.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    chunk_firsts = np.asarray(chunk_firsts, dtype=np.int64)
    seeds = chunk_seeds(seed, 0, len(chunk_firsts))
    mask = np.empty(len(ids), dtype=np.bool_)
    lengths = _keep_mask_stretch(ids, offsets, keep, first_token, chunk_firsts, seeds,
                                 SUBSAMPLE_CHUNK_TOKENS, mask)
    lengths = lengths[lengths > 0]
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    return np.asarray(ids)[mask], new_offsets


@njit(cache=True)
def _keep_mask_stretch(ids, offsets, keep, first_token, chunk_firsts, seeds, chunk_tokens, mask):
    """`_keep_mask` for a stretch: a sentence starting at whole-corpus token g is in chunk
    g // chunk_tokens, whose stream has advanced once per token since the chunk's start."""
    lengths = np.zeros(len(offsets) - 1, dtype=np.int64)
    chunk = -1
    state = np.uint64(0)
    for sentence in range(len(offsets) - 1):
        g = first_token + offsets[sentence]
        c = g // chunk_tokens
        if c != chunk:
            chunk = c
            state = seeds[c]
            for _ in range(g - chunk_firsts[c]):
                state = next_state(state)
        n = 0
        for t in range(offsets[sentence], offsets[sentence + 1]):
            state = next_state(state)
            kept = random_float(state) < keep[ids[t]]
            mask[t] = kept
            n += kept
        lengths[sentence] = n
    return lengths
