"""Word-word co-occurrence counts in bounded memory, as a scipy CSR matrix over the vocabulary.

How it counts. Sentences are cut into chunks of about equal token counts; one parallel
launch handles one chunk per thread. For each pair of tokens at distance d <= window in a
sentence, a chunk emits one int64 key ((row * V + col) << dbits | d - 1) into its own
buffer, radix-sorts the buffer and reduces equal pairs to one (pair, count) entry, a sorted
run. Runs are merged in memory like a binary counter (runs of similar size merge), so
memory holds O(log) runs; when they would pass the memory bound they are merged into one run
and appended to a single temporary spill file. When that file holds more than MAX_SPILL_RUNS
runs they are merged into one, so the number of runs (and of files: one) stays bounded,
unlike GloVe C's one file per overflow. Spilled runs are merged by streaming: each run is
read through a small window with plain reads (never memory-mapped, so the spill's pages do
not count against the process), and the CSR result is filled in two passes over the merged
stream (row lengths, then entries). `--memory` thus bounds the sort buffers, the runs in
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
import math
import os
import tempfile
import time

import numpy as np
from numba import njit, prange

from ..errors import OptionError
from ..runtime.progress import Bar
from ..runtime.threads import configure_threads

log = logging.getLogger("w2v")

WEIGHTINGS = ("harmonic", "uniform", "linear")
MAX_SPILL_RUNS = 16  # sorted runs the spill file may hold before they are merged into one
MAX_CHUNK_TOKENS = 1 << 19  # tokens per chunk and launch slot; bounds the sort buffers
BYTES_PER_ENTRY = 16  # an entry of a run: int64 pair key + int64 count
MIN_WINDOW_ENTRIES = 64  # entries of each run a merge reads at a time: at least,
MAX_WINDOW_ENTRIES = 1 << 19  # and at most (8 MB a run; larger reads gain nothing)
_EXACT_SCALE_LIMIT = 1 << 31


# --------------------------------------------------------------------------- kernels


@njit(cache=True)
def _emit_pairs(ids, offsets, first_sentence, end_sentence, n_words, window, dbits, symmetric,
                keys):
    """Write one key per (token, context within the window) pair of the chunk; returns how many."""
    code_mask = (np.int64(1) << dbits) - 1  # no distance code when every weight is the same
    n = 0
    for s in range(first_sentence, end_sentence):
        start = offsets[s]
        end = offsets[s + 1]
        for i in range(start, end):
            a = np.int64(ids[i])
            stop = min(end, i + window + 1)
            for j in range(i + 1, stop):
                b = np.int64(ids[j])
                if symmetric:
                    pair = a * n_words + b if a <= b else b * n_words + a
                else:
                    pair = b * n_words + a  # row: the later word; column: the word to its left
                keys[n] = (pair << dbits) | ((j - i - 1) & code_mask)
                n += 1
    return n


@njit(cache=True)
def _radix_sort(keys, scratch, n, key_bits):
    """LSD radix sort of keys[:n] (non-negative, below 2**key_bits).

    Returns True when the sorted keys ended up in scratch. Digits that are equal for every
    key are skipped, which saves a pass on small vocabularies.
    """
    passes = max(1, (key_bits + 11) // 12)
    digit_bits = (key_bits + passes - 1) // passes
    n_buckets = 1 << digit_bits
    mask = n_buckets - 1
    counts = np.empty(n_buckets, dtype=np.int64)
    in_scratch = False
    for p in range(passes):
        shift = p * digit_bits
        src = scratch if in_scratch else keys
        dst = keys if in_scratch else scratch
        counts[:] = 0
        for i in range(n):
            counts[(src[i] >> shift) & mask] += 1
        if n == 0 or counts[(src[0] >> shift) & mask] == n:
            continue
        total = 0
        for b in range(n_buckets):
            c = counts[b]
            counts[b] = total
            total += c
        for i in range(n):
            key = src[i]
            b = (key >> shift) & mask
            dst[counts[b]] = key
            counts[b] += 1
        in_scratch = not in_scratch
    return in_scratch


@njit(cache=True)
def _reduce_sorted(sorted_keys, n, dbits, weights, out_pairs, out_counts):
    """Sum the weights of equal pairs in sorted keys[:n]; returns the number of distinct pairs.

    out_pairs may be sorted_keys itself: an entry is written only after it was read.
    """
    mask = (np.int64(1) << dbits) - 1
    m = 0
    i = 0
    while i < n:
        key = sorted_keys[i]
        pair = key >> dbits
        count = weights[key & mask]
        i += 1
        while i < n and (sorted_keys[i] >> dbits) == pair:
            count += weights[sorted_keys[i] & mask]
            i += 1
        out_pairs[m] = pair
        out_counts[m] = count
        m += 1
    return m


@njit(cache=True, parallel=True)
def _count_chunks(ids, offsets, bounds, n_words, window, dbits, key_bits, weights, symmetric,
                  keys_buf, scratch_buf, lengths, in_scratch):
    """Count chunk t (sentences bounds[t]:bounds[t+1]) into row t of the buffers, in parallel.

    Afterwards row t of one buffer holds the sorted distinct pairs and row t of the other
    their counts: pairs in scratch_buf when in_scratch[t], else in keys_buf.
    """
    for t in prange(len(bounds) - 1):
        keys = keys_buf[t]
        scratch = scratch_buf[t]
        n = _emit_pairs(ids, offsets, bounds[t], bounds[t + 1], n_words, window, dbits,
                        symmetric, keys)
        flipped = _radix_sort(keys, scratch, n, key_bits)
        if flipped:
            lengths[t] = _reduce_sorted(scratch, n, dbits, weights, scratch, keys)
        else:
            lengths[t] = _reduce_sorted(keys, n, dbits, weights, keys, scratch)
        in_scratch[t] = flipped


@njit(cache=True)
def _merge_two(a_pairs, a_counts, b_pairs, b_counts, out_pairs, out_counts):
    """Merge two sorted runs, adding the counts of pairs in both; returns the entries written."""
    i = j = m = 0
    na = len(a_pairs)
    nb = len(b_pairs)
    while i < na and j < nb:
        pa = a_pairs[i]
        pb = b_pairs[j]
        if pa < pb:
            out_pairs[m] = pa
            out_counts[m] = a_counts[i]
            i += 1
        elif pb < pa:
            out_pairs[m] = pb
            out_counts[m] = b_counts[j]
            j += 1
        else:
            out_pairs[m] = pa
            out_counts[m] = a_counts[i] + b_counts[j]
            i += 1
            j += 1
        m += 1
    while i < na:
        out_pairs[m] = a_pairs[i]
        out_counts[m] = a_counts[i]
        i += 1
        m += 1
    while j < nb:
        out_pairs[m] = b_pairs[j]
        out_counts[m] = b_counts[j]
        j += 1
        m += 1
    return m


@njit(cache=True)
def _merge_windows(win_pairs, win_counts, pos, fill, final, out_pairs, out_counts, m):
    """k-way merge of windows of sorted runs into out[m:], adding the counts of equal pairs.

    Row r of win_pairs/win_counts holds entries pos[r]:fill[r] of run r's current window;
    final[r] says the window reaches the end of the run. k is small (bounded), so the
    smallest head is found by a linear scan. Returns (m, r): r >= 0 when run r's window is
    used up before its run ends (refill it and call again), -2 when out is full (the
    entries in it are complete: the next pair differs from the last), -1 when all is done.
    """
    k = len(pos)
    while True:
        best = -1
        best_pair = np.int64(0)
        for r in range(k):
            if pos[r] < fill[r]:
                p = win_pairs[r, pos[r]]
                if best < 0 or p < best_pair:
                    best = r
                    best_pair = p
            elif not final[r]:
                return m, r
        if best < 0:
            return m, -1
        count = win_counts[best, pos[best]]
        if m > 0 and out_pairs[m - 1] == best_pair:
            out_counts[m - 1] += count
        else:
            if m == len(out_pairs):
                return m, -2
            out_pairs[m] = best_pair
            out_counts[m] = count
            m += 1
        pos[best] += 1


@njit(cache=True)
def _transposed(pairs, counts, n_words, out_pairs, out_counts):
    """The off-diagonal entries (r, c) of sorted pairs as (c, r), sorted; returns how many.

    A counting sort by column: stable, so the rows within a column keep their order. This
    is how a cluster's partition (`distributed.py`) turns its upper triangle into whole rows
    without sorting again.
    """
    starts = np.zeros(n_words + 1, dtype=np.int64)
    for p in pairs:
        r = p // n_words
        c = p - r * n_words
        if r != c:
            starts[c + 1] += 1
    for i in range(n_words):
        starts[i + 1] += starts[i]
    m = starts[n_words]
    for e in range(len(pairs)):
        p = pairs[e]
        r = p // n_words
        c = p - r * n_words
        if r != c:
            at = starts[c]
            out_pairs[at] = c * n_words + r
            out_counts[at] = counts[e]
            starts[c] = at + 1
    return m


@njit(cache=True)
def _add_row_lengths(pairs, n_words, symmetric, lengths):
    for p in pairs:
        row = p // n_words
        col = p - row * n_words
        lengths[row] += 1
        if symmetric and row != col:
            lengths[col] += 1


@njit(cache=True)
def _fill_csr(pairs, counts, n_words, symmetric, scale, cursor, indices, data):
    """Scatter sorted (pair, count) entries into CSR arrays, mirroring them when symmetric.

    cursor[row] is where row's next entry goes; blocks of the sorted entries are filled
    in order. Walking pairs in order fills every row in increasing column order: the
    mirrored entries (c, r) of row r come from rows c < r, which precede row r's own entries.
    """
    inv_scale = 1.0 / scale
    for e in range(len(pairs)):
        p = pairs[e]
        row = p // n_words
        col = p - row * n_words
        value = counts[e] * inv_scale
        if symmetric and row == col:
            value *= 2.0
        at = cursor[row]
        indices[at] = col
        data[at] = value
        cursor[row] = at + 1
        if symmetric and row != col:
            at = cursor[col]
            indices[at] = row
            data[at] = value
            cursor[col] = at + 1


# --------------------------------------------------------------------------- orchestration


def distance_weights(window, weighting):
    """Integer weight per distance 1..window and the scale they are in units of (see module doc)."""
    if weighting not in WEIGHTINGS:
        raise OptionError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    distances = np.arange(1, window + 1, dtype=np.int64)
    if weighting == "uniform":
        return np.ones(window, dtype=np.int64), 1
    if weighting == "linear":
        return window - distances + 1, window
    scale = math.lcm(*range(1, window + 1))
    if scale <= _EXACT_SCALE_LIMIT:
        return scale // distances, scale
    scale = _EXACT_SCALE_LIMIT  # 1/d rounded to 2**-31: far below float32 precision
    return np.rint(scale / distances).astype(np.int64), scale


def default_memory_gb():
    """Half of the memory available now (at least 0.25 GB): room for the corpus and the result."""
    available = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            available = 4 << 30
    return max(0.25, available / 2 / 1e9)


def _plan_chunks(offsets, target_tokens):
    """Sentence boundaries of chunks of about target_tokens tokens (whole sentences)."""
    n_tokens = int(offsets[-1])
    cuts = np.searchsorted(offsets, np.arange(target_tokens, n_tokens, target_tokens), "left")
    bounds = np.unique(np.concatenate(([0], cuts, [len(offsets) - 1]))).astype(np.int64)
    return bounds


class _RunStore:
    """Sorted runs: a few in memory (merged like a binary counter), the rest in one spill file.

    run_entries bounds the entries the in-memory runs hold (a merge needs up to twice that);
    merge_bytes bounds the windows through which spilled runs are merged. The spill file
    is only ever read with plain reads of bounded windows, never memory-mapped, so its
    pages stay in the page cache and not in this process.
    """

    def __init__(self, run_entries, merge_bytes, tmp_dir):
        self.run_entries = max(1, run_entries)
        self.merge_bytes = merge_bytes
        self.tmp_dir = tmp_dir
        self.stack = []  # (pairs, counts), sizes roughly halving towards the top
        self.result = None  # the one run, once finished without spilling
        self.spill_file = None
        self.spill_runs = []  # (pair_start, count_start, length) in int64 elements
        self.spill_end = 0
        self.n_spills = 0
        self.n_compactions = 0
        self.n_window_reads = 0

    def in_memory(self):
        return sum(len(p) for p, _ in self.stack)

    def push(self, pairs, counts, copy=True):
        """Store a copy of a sorted run (pairs, counts may be views of reused buffers), or
        the arrays themselves with copy=False (the caller gives them away)."""
        if self.stack and self.in_memory() + len(pairs) > self.run_entries:
            self.spill()
        self.stack.append((pairs.copy(), counts.copy()) if copy else (pairs, counts))
        while len(self.stack) >= 2 and len(self.stack[-2][0]) <= 2 * len(self.stack[-1][0]):
            b = self.stack.pop()
            a = self.stack.pop()
            self.stack.append(_merge_pair(a, b))

    def collapse(self):
        """Merge the in-memory runs into one (smallest first) and return it."""
        while len(self.stack) >= 2:
            b = self.stack.pop()
            a = self.stack.pop()
            self.stack.append(_merge_pair(a, b))
        if not self.stack:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return self.stack.pop()

    def spill(self):
        pairs, counts = self.collapse()
        if len(pairs) == 0:
            return
        if self.spill_file is None:
            self.spill_file = tempfile.TemporaryFile(prefix="w2v-cooccur-", dir=self.tmp_dir)
        n = len(pairs)
        _write_at(self.spill_file, self.spill_end, pairs)
        _write_at(self.spill_file, self.spill_end + n, counts)
        self.spill_runs.append((self.spill_end, self.spill_end + n, n))
        self.spill_end += 2 * n
        self.n_spills += 1
        del pairs, counts
        if len(self.spill_runs) > MAX_SPILL_RUNS:
            self._compact()

    def _merged_blocks(self):
        """Blocks (pairs, counts) of all spilled runs merged, in order.

        Each run is read through a window of W entries, refilled with a plain read when
        used up; the blocks are views of one output buffer, valid until the next block.
        """
        runs = np.array(self.spill_runs, dtype=np.int64).reshape(-1, 3)
        k = len(runs)
        width = self.merge_bytes // (BYTES_PER_ENTRY * (k + 1))
        width = max(MIN_WINDOW_ENTRIES, min(MAX_WINDOW_ENTRIES, width))
        win_pairs = np.empty((k, width), dtype=np.int64)
        win_counts = np.empty((k, width), dtype=np.int64)
        pos = np.zeros(k, dtype=np.int64)
        fill = np.zeros(k, dtype=np.int64)
        final = np.zeros(k, dtype=np.bool_)
        taken = np.zeros(k, dtype=np.int64)  # entries of each run read so far
        out_pairs = np.empty(width, dtype=np.int64)
        out_counts = np.empty(width, dtype=np.int64)

        def refill(r):
            n = int(min(width, runs[r, 2] - taken[r]))
            _read_at(self.spill_file, runs[r, 0] + taken[r], win_pairs[r, :n])
            _read_at(self.spill_file, runs[r, 1] + taken[r], win_counts[r, :n])
            taken[r] += n
            pos[r] = 0
            fill[r] = n
            final[r] = taken[r] == runs[r, 2]
            self.n_window_reads += 1

        for r in range(k):
            refill(r)
        m = 0
        while True:
            m, r = _merge_windows(win_pairs, win_counts, pos, fill, final, out_pairs,
                                  out_counts, m)
            if r >= 0:
                refill(r)
                continue
            if m:
                yield out_pairs[:m], out_counts[:m]
            if r == -1:
                return
            m = 0

    def _compact(self):
        """Merge every spilled run into one, in a new spill file that replaces the old one."""
        upper = sum(r[2] for r in self.spill_runs)
        new_file = tempfile.TemporaryFile(prefix="w2v-cooccur-", dir=self.tmp_dir)
        m = 0
        for pairs, counts in self._merged_blocks():
            _write_at(new_file, m, pairs)
            _write_at(new_file, upper + m, counts)
            m += len(pairs)
        self.spill_file.close()
        self.spill_file = new_file
        self.spill_runs = [(0, upper, m)]
        self.spill_end = 2 * upper
        self.n_compactions += 1

    def finish(self):
        """End the counting: what is still in memory becomes one run, or is spilled."""
        if self.spill_file is None:
            self.result = self.collapse()
        else:
            self.spill()

    def blocks(self):
        """The finished counts as sorted blocks (pairs, counts); may be iterated again."""
        if self.spill_file is not None:
            yield from self._merged_blocks()
        elif self.result is not None and len(self.result[0]):
            yield self.result

    def close(self):
        self.result = None
        if self.spill_file is not None:
            self.spill_file.close()
            self.spill_file = None


def _write_at(file, offset, array):
    """Write an int64 array at element offset `offset` of a file (unbuffered)."""
    data = memoryview(np.ascontiguousarray(array)).cast("B")
    at = offset * 8
    while len(data):
        n = os.pwrite(file.fileno(), data, at)
        data = data[n:]
        at += n


def _read_at(file, offset, out):
    """Fill the int64 array `out` from element offset `offset` of a file (a plain read)."""
    view = memoryview(out).cast("B")
    at = offset * 8
    while len(view):
        n = os.preadv(file.fileno(), [view], at)
        if n == 0:
            raise OSError("the co-occurrence spill file ended early")
        view = view[n:]
        at += n


def _merge_pair(a, b):
    n = len(a[0]) + len(b[0])
    out_pairs = np.empty(n, dtype=np.int64)
    out_counts = np.empty(n, dtype=np.int64)
    m = _merge_two(a[0], a[1], b[0], b[1], out_pairs, out_counts)
    # Untouched tail pages of a large np.empty are never committed, so a view costs only m.
    return out_pairs[:m], out_counts[:m]


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
    cluster run (`distributed.py`), within `memory_gb`. on_tokens(n) is called as chunks
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
    store = _RunStore(rest // 2 // BYTES_PER_ENTRY, rest, tmp_dir)
    try:
        n_chunks = len(bounds) - 1
        for first in range(0, n_chunks, n_threads):
            batch = bounds[first : min(first + n_threads, n_chunks) + 1]
            _count_chunks(ids, offsets, batch, n_words, window, dbits, key_bits, weights,
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
        _add_row_lengths(pairs, n_words, symmetric, row_lengths)
    nnz = int(row_lengths.sum())
    index_dtype = np.int32 if nnz < 2**31 else np.int64
    indptr = np.zeros(n_words + 1, dtype=index_dtype)
    np.cumsum(row_lengths, out=indptr[1:])
    cursor = row_lengths  # reused: where each row's next entry goes
    cursor[:] = indptr[:-1]
    indices = np.empty(nnz, dtype=index_dtype)
    data = np.empty(nnz, dtype=np.float32)
    for pairs, counts in blocks():
        _fill_csr(pairs, counts, n_words, symmetric, float(scale), cursor, indices, data)
    import scipy.sparse  # here, not at the top: `w2v phrases` uses the run store only

    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(n_words, n_words), copy=False)
