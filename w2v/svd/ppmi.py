"""Positive PMI from co-occurrence counts.

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
