"""Word-word co-occurrence counts in bounded memory, as a scipy CSR matrix over the vocabulary.

How it counts. Sentences are cut into chunks of about equal token counts; one parallel
launch handles one chunk per thread. For each pair of tokens at distance d <= window in a
sentence, a chunk emits one int64 key ((row * V + col) << dbits | d - 1) into its own
buffer, radix-sorts the buffer and reduces equal pairs to one (pair, count) entry, a sorted
run (`kernels`). The runs go to the run store (`runtime.runs`): merged in memory like a
binary counter, past the memory bound merged into one run and appended to a single
temporary spill file (its runs merged into one when there are more than MAX_SPILL_RUNS, so
the number of runs and of files stays bounded, unlike GloVe C's one file per overflow),
and merged by streaming through small windows read with plain reads. The CSR result is
filled in two passes over the merged stream (row lengths, then entries). `--memory` thus bounds the sort buffers, the runs in
memory and the merge windows; the token ids and the result matrix come on top.

Counts are kept as integers in units of 1/scale, where every distance weight is an exact
multiple (harmonic: lcm(1..window); linear: window; uniform: 1). Integer sums do not depend
on the order of addition, so a count that spilled equals a count made in memory, bit for
bit, and the thread count does not change the result.

In the symmetric case only pairs with row <= col are counted (half the work) and the full
matrix is that upper triangle plus its transpose, as GloVe C's `-symmetric 1` counts
X[a,b] and X[b,a] for every pair (so the diagonal gets twice the weight). The asymmetric
matrix has the word as row and the words to its left as columns (GloVe C's `-symmetric 0`).
"""

import logging
import time

import numpy as np

from ..errors import OptionError
from ..runtime.progress import Bar
from ..runtime.runs import BYTES_PER_ENTRY, RunStore, default_memory_gb
from ..runtime.threads import configure_threads
from .kernels import add_row_lengths, count_chunks, fill_csr
from .weights import WEIGHTINGS, distance_weights

log = logging.getLogger("w2v")

MAX_CHUNK_TOKENS = 1 << 19  # tokens per chunk and launch slot; bounds the sort buffers


# --------------------------------------------------------------------------- orchestration


def _plan_chunks(offsets, target_tokens):
    """Sentence boundaries of chunks of about target_tokens tokens (whole sentences)."""
    n_tokens = int(offsets[-1])
    cuts = np.searchsorted(offsets, np.arange(target_tokens, n_tokens, target_tokens), "left")
    bounds = np.unique(np.concatenate(([0], cuts, [len(offsets) - 1]))).astype(np.int64)
    return bounds


def check_options(window=10, weighting="harmonic", memory_gb=None, threads=None):
    """Raise OptionError for counting options that make no sense, before any work."""
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise OptionError(f"--window must be at least 1, got {window}")
    if weighting not in WEIGHTINGS:
        raise OptionError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    if memory_gb is not None and not memory_gb > 0:
        raise OptionError(f"--memory must be positive, got {memory_gb}")
    if threads is not None and threads < 1:
        raise OptionError(f"--threads must be at least 1, got {threads}")


def counting_plan(window=10, weighting="harmonic", n_words=0):
    """(weights, scale, dbits, key_bits) of a count: the integer weight of each distance code,
    the unit 1/scale the counts are in, the bits of the distance code and of a whole key."""
    weights, scale = distance_weights(window, weighting)
    dbits = (window - 1).bit_length() if weighting != "uniform" else 0
    if weighting == "uniform":
        weights = weights[:1]
    key_bits = max(1, (n_words * n_words - 1).bit_length()) + dbits
    if key_bits > 62:
        raise OptionError(f"a vocabulary of {n_words} words is too large to count co-occurrences")
    return weights, scale, dbits, key_bits


def count_runs(ids, offsets, n_words, window=10, weighting="harmonic", symmetric=True,
               memory_gb=None, threads=None, tmp_dir=None, on_tokens=None, stats=None):
    """Count the pairs of sentences `ids[offsets[i]:offsets[i + 1]]` into a finished run store.

    The store's `blocks()` yields the sorted distinct pair keys (row * n_words + col; only
    row <= col when symmetric) with their integer counts in units of 1/scale; the caller
    must `close()` it. This is the counting that one process and every partition of a
    cluster run (`distributed`), within `memory_gb`. on_tokens(n) is called as chunks
    of n tokens are counted.
    """
    check_options(window, weighting, memory_gb)
    weights, _, dbits, key_bits = counting_plan(window, weighting, n_words)
    if memory_gb is None:
        memory_gb = default_memory_gb()
    n_threads = configure_threads(threads)
    ids = np.asarray(ids)
    offsets = np.asarray(offsets, dtype=np.int64)
    budget = int(memory_gb * 1e9)
    # A quarter of the bound for the per-thread sort buffers (2 int64 per emitted pair),
    # the rest for the runs in memory, of which a merge needs up to twice what they hold,
    # and for the windows of the merges of spilled runs (made when no run is in memory).
    target = budget // 4 // (n_threads * 2 * 8 * window)
    target = int(min(MAX_CHUNK_TOKENS, max(1, target)))
    bounds = _plan_chunks(offsets, target)
    chunk_tokens = offsets[bounds[1:]] - offsets[bounds[:-1]]
    capacity = max(1, int(chunk_tokens.max(initial=0)) * window)
    buffer_bytes = n_threads * 2 * 8 * capacity
    rest = max(0, budget - buffer_bytes)
    keys_buf = np.empty((n_threads, capacity), dtype=np.int64)
    scratch_buf = np.empty((n_threads, capacity), dtype=np.int64)
    lengths = np.zeros(n_threads, dtype=np.int64)
    in_scratch = np.zeros(n_threads, dtype=np.bool_)
    store = RunStore(rest // 2 // BYTES_PER_ENTRY, rest, tmp_dir)
    try:
        n_chunks = len(bounds) - 1
        for first in range(0, n_chunks, n_threads):
            batch = bounds[first : min(first + n_threads, n_chunks) + 1]
            count_chunks(ids, offsets, batch, n_words, window, dbits, key_bits, weights,
                          symmetric, keys_buf, scratch_buf, lengths, in_scratch)
            for t in range(len(batch) - 1):
                m = lengths[t]
                pairs_row, counts_row = ((scratch_buf[t], keys_buf[t]) if in_scratch[t]
                                         else (keys_buf[t], scratch_buf[t]))
                store.push(pairs_row[:m], counts_row[:m])
            if on_tokens is not None:
                on_tokens(int(offsets[batch[-1]] - offsets[batch[0]]))
        del keys_buf, scratch_buf
        store.finish()
    except BaseException:
        store.close()
        raise
    if stats is not None:
        stats.update(chunks=len(bounds) - 1, chunk_tokens=target, threads=n_threads)
    return store


def count_partition(ids, offsets, n_words, window=10, weighting="harmonic", symmetric=True,
                    memory_gb=None, threads=None, tmp_dir=None):
    """(keys, counts) of one stretch of corpus: sorted distinct pair keys (row * n_words + col)
    and their integer counts in units of 1/scale (`distance_weights`).

    Counts are integers, so the counts of any partition of a corpus sum to the whole's.
    """
    store = count_runs(ids, offsets, n_words, window, weighting, symmetric, memory_gb, threads,
                       tmp_dir)
    try:
        blocks = [(p.copy(), c.copy()) for p, c in store.blocks()]
    finally:
        store.close()
    if not blocks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.concatenate([p for p, _ in blocks]), np.concatenate([c for _, c in blocks]))


def cooccurrence_matrix(corpus, window=10, weighting="harmonic", symmetric=True, memory_gb=None,
                        threads=None, progress=False, tmp_dir=None, stats=None):
    """Weighted co-occurrence counts of `corpus` (a `Corpus`) as a float32 CSR matrix, V x V.

    weighting: "harmonic" (1/d, GloVe's), "uniform" (1), or "linear" ((w - d + 1)/w,
    word2vec's expected weight under a dynamic window). Pairs never cross a sentence.
    memory_gb bounds the counting (sort buffers, partial runs, merge windows); past it,
    sorted runs spill to one temporary file in tmp_dir. The corpus and the returned matrix
    (8 bytes a non-zero) are not part of the bound. `stats`, if a dict, receives figures
    of the run.
    """
    check_options(window, weighting, memory_gb)
    _, scale = distance_weights(window, weighting)
    n_words = len(corpus.vocab)
    offsets = np.asarray(corpus.offsets, dtype=np.int64)
    n_tokens = int(offsets[-1])
    bar = Bar(True, n_tokens, unit="tok", desc="counting") if progress else None
    started = time.perf_counter()
    details = {}
    try:
        store = count_runs(corpus.ids, offsets, n_words, window, weighting, symmetric, memory_gb,
                           threads, tmp_dir, None if bar is None else bar.update, details)
        try:
            counted = time.perf_counter() - started
            matrix = _to_csr(store.blocks, n_words, symmetric, scale)
        finally:
            store.close()
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - started
    log.info("co-occurrences: %d non-zeros over %d words, %d tokens in %.1f s (%.2fM tokens/s), "
             "%d spill(s)", matrix.nnz, n_words, n_tokens, elapsed,
             n_tokens / max(elapsed, 1e-9) / 1e6, store.n_spills)
    if stats is not None:
        stats.update(seconds=elapsed, count_seconds=counted, nnz=matrix.nnz, spills=store.n_spills,
                     compactions=store.n_compactions, window_reads=store.n_window_reads,
                     **details)
    return matrix


def _to_csr(blocks, n_words, symmetric, scale):
    """The CSR matrix of the sorted entries that `blocks()` yields, in two passes over them.

    The first pass counts each row's entries, the second fills the rows, so the entries
    never need to be in memory at once (each pass re-merges spilled runs).
    """
    row_lengths = np.zeros(n_words, dtype=np.int64)
    for pairs, _ in blocks():
        add_row_lengths(pairs, n_words, symmetric, row_lengths)
    nnz = int(row_lengths.sum())
    index_dtype = np.int32 if nnz < 2**31 else np.int64
    indptr = np.zeros(n_words + 1, dtype=index_dtype)
    np.cumsum(row_lengths, out=indptr[1:])
    cursor = row_lengths  # reused: where each row's next entry goes
    cursor[:] = indptr[:-1]
    indices = np.empty(nnz, dtype=index_dtype)
    data = np.empty(nnz, dtype=np.float32)
    for pairs, counts in blocks():
        fill_csr(pairs, counts, n_words, symmetric, float(scale), cursor, indices, data)
    import scipy.sparse  # here, not at the top: `w2v phrases` uses the run store only

    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n_words, n_words), copy=False)
