"""Phase 2, pairs: each partition mapped to the vocabulary, cut, subsampled and counted
within --memory, then split into row ranges; each row range merged into its CSR rows."""

import numpy as np

from ..cooccur.counts import count_runs
from ..cooccur.kernels import add_row_lengths, fill_csr, transposed
from ..corpus.subsample import subsample_stretch
from ..runtime.runs import BYTES_PER_ENTRY, RunStore, merge_pair, merge_two
from ..text.token_ids import cut_long, remap_pieces
from .cluster import TASK_LOCK, report, worker_memory_gb, worker_threads


def restrict_partition(scanned, vocab, max_sentence_length):
    """(ids, offsets) of a partition over the vocabulary, as `load_corpus` maps and cuts."""
    with TASK_LOCK:
        remap = np.array([vocab.index.get(w, -1) for w in scanned.words], dtype=np.int32)
        n_kept = int(scanned.counts[remap >= 0].sum()) if len(remap) else 0
        out = np.empty(n_kept, dtype=np.uint32)
        written, offsets = remap_pieces([scanned.ids], scanned.lengths.copy(), remap, out)
        return out[:written], cut_long(offsets, max_sentence_length)


def tokens_of(restricted):
    return len(restricted[0]), len(restricted[1]) - 1


def chunk_firsts(restricted, first_token, chunk_tokens):
    """{chunk: token where its first sentence starts} for the subsampling chunks whose
    start position falls in this partition (see `subsample.subsample_stretch`)."""
    ids, offsets = restricted
    end = first_token + len(ids)
    found = {}
    for c in range(-(-first_token // chunk_tokens), -(-end // chunk_tokens)):
        at = int(np.searchsorted(offsets[:-1], c * chunk_tokens - first_token, "left"))
        found[c] = first_token + (int(offsets[at]) if at < len(offsets) - 1 else len(ids))
    return found


def subsample_partition(restricted, keep, first_token, firsts, seed):
    with TASK_LOCK:
        return subsample_stretch(restricted[0], restricted[1], keep, first_token, firsts, seed)


def count_partition_rows(restricted, n_words, row_edges, window, weighting, symmetric,
                         memory_gb, threads, hosts, tmp_dir, topic=None):
    """A partition's pair counts as one sorted (keys, counts) piece per row range.

    Keys are row * n_words + col of the whole matrix: a symmetric count's upper triangle
    is mirrored here (`_whole_rows`), so each row range can be reduced to its CSR rows
    alone.
    """
    ids, offsets = restricted
    edge_keys = np.asarray(row_edges, dtype=np.int64) * n_words
    pieces = [[] for _ in range(len(row_edges) - 1)]
    with TASK_LOCK:
        store = count_runs(ids, offsets, n_words, window, weighting, symmetric,
                           worker_memory_gb(memory_gb), worker_threads(threads, hosts),
                           tmp_dir, on_tokens=lambda n: report(topic, n))
        try:
            for keys, counts in store.blocks():
                if symmetric:
                    keys, counts = _whole_rows(keys, counts, n_words)
                cuts = np.searchsorted(keys, edge_keys)
                for r in range(len(pieces)):
                    if cuts[r + 1] > cuts[r]:
                        pieces[r].append((keys[cuts[r]:cuts[r + 1]].copy(),
                                          counts[cuts[r]:cuts[r + 1]].copy()))
        finally:
            store.close()
        return tuple(_merged(piece) for piece in pieces)


def _whole_rows(keys, counts, n_words):
    """Sorted upper-triangle entries (row <= col) as the symmetric matrix's entries, sorted:
    each off-diagonal entry also as (col, row), the diagonal doubled (as `fill_csr` does)."""
    rows = keys // n_words
    counts = counts.copy()
    counts[rows == keys - rows * n_words] *= 2
    below_keys = np.empty(len(keys), dtype=np.int64)
    below_counts = np.empty(len(keys), dtype=np.int64)
    m = transposed(keys, counts, n_words, below_keys, below_counts)
    out_keys = np.empty(len(keys) + m, dtype=np.int64)
    out_counts = np.empty(len(keys) + m, dtype=np.int64)
    n = merge_two(keys, counts, below_keys[:m], below_counts[:m], out_keys, out_counts)
    return out_keys[:n], out_counts[:n]


def _merged(runs):
    if not runs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    while len(runs) > 1:
        runs = [merge_pair(runs[i], runs[i + 1]) if i + 1 < len(runs) else runs[i]
                for i in range(0, len(runs), 2)]
    return runs[0]


def piece_of(pieces, r):
    return pieces[r]


def reduce_rows(first_row, end_row, n_words, scale, memory_gb, tmp_dir, *pieces):
    """The CSR rows first_row:end_row of the pieces' counts: (row lengths, indices, data).

    The pieces are merged through `cooccur`'s run store (spilling past memory_gb), then
    filled in two passes by the kernels `cooccurrence_matrix` fills its rows with.
    """
    with TASK_LOCK:
        budget = int(worker_memory_gb(memory_gb) * 1e9)
        store = RunStore(budget // 2 // BYTES_PER_ENTRY, budget, tmp_dir)
        base = first_row * n_words
        try:
            for keys, counts in pieces:
                if len(keys):
                    store.push(keys - base, counts)
            store.finish()
            lengths = np.zeros(end_row - first_row, dtype=np.int64)
            for keys, _ in store.blocks():
                add_row_lengths(keys, n_words, False, lengths)
            nnz = int(lengths.sum())
            cursor = np.zeros(len(lengths), dtype=np.int64)
            np.cumsum(lengths[:-1], out=cursor[1:])
            indices = np.empty(nnz, dtype=np.int64)
            data = np.empty(nnz, dtype=np.float32)
            for keys, counts in store.blocks():
                fill_csr(keys, counts, n_words, False, float(scale), cursor, indices, data)
        finally:
            store.close()
        return lengths, indices, data


def row_ranges(vocab_counts, n_ranges, window):
    """Row boundaries of n_ranges ranges of about equal entries (a row's entries are at
    most min(2 window count, V))."""
    n_words = len(vocab_counts)
    n_ranges = max(1, min(n_ranges, n_words))
    weight = np.minimum(np.asarray(vocab_counts, dtype=np.float64) * 2 * window, n_words)
    total = np.cumsum(weight)
    cuts = np.searchsorted(total, total[-1] * np.arange(1, n_ranges) / n_ranges, "right")
    return np.unique(np.concatenate(([0], cuts, [n_words]))).astype(np.int64)


def select_rows(rows, first_row, wanted):
    """The rows `wanted` (sorted word ids) that fall in a row range's CSR rows (`reduce_rows`'s
    (lengths, indices, data) of rows first_row:...), as (row ids, lengths, indices, data)."""
    lengths, indices, data = rows
    wanted = np.asarray(wanted, dtype=np.int64)
    wanted = wanted[(wanted >= first_row) & (wanted < first_row + len(lengths))]
    local = wanted - first_row
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    picked = lengths[local]
    total = int(picked.sum())
    at = np.zeros(len(local) + 1, dtype=np.int64)
    np.cumsum(picked, out=at[1:])
    where = np.repeat(starts[local] - at[:-1], picked) + np.arange(total, dtype=np.int64)
    return wanted, picked, indices[where], data[where]

