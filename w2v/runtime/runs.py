"""Sorted runs of (key, count) entries in bounded memory: what counting, phrases and Dask share.

A producer pushes sorted runs (int64 keys, int64 counts; equal keys within a run already
summed). Runs are merged in memory like a binary counter (runs of similar size merge), so
memory holds O(log) runs; when they would pass the memory bound they are merged into one run
and appended to a single temporary spill file. When that file holds more than MAX_SPILL_RUNS
runs they are merged into one, so the number of runs (and of files: one) stays bounded.
Spilled runs are merged by streaming: each run is read through a small window with plain
reads (never memory-mapped, so the spill's pages do not count against the process). Counts
are integers, so a sum that spilled equals a sum made in memory, bit for bit.
"""

import os
import tempfile

import numpy as np
from numba import njit

MAX_SPILL_RUNS = 16  # sorted runs the spill file may hold before they are merged into one
BYTES_PER_ENTRY = 16  # an entry of a run: int64 pair key + int64 count
MIN_WINDOW_ENTRIES = 64  # entries of each run a merge reads at a time: at least,
MAX_WINDOW_ENTRIES = 1 << 19  # and at most (8 MB a run; larger reads gain nothing)


@njit(cache=True)
def merge_two(a_pairs, a_counts, b_pairs, b_counts, out_pairs, out_counts):
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


class RunStore:
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
            self.stack.append(merge_pair(a, b))

    def collapse(self):
        """Merge the in-memory runs into one (smallest first) and return it."""
        while len(self.stack) >= 2:
            b = self.stack.pop()
            a = self.stack.pop()
            self.stack.append(merge_pair(a, b))
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


def merge_pair(a, b):
    n = len(a[0]) + len(b[0])
    out_pairs = np.empty(n, dtype=np.int64)
    out_counts = np.empty(n, dtype=np.int64)
    m = merge_two(a[0], a[1], b[0], b[1], out_pairs, out_counts)
    # Untouched tail pages of a large np.empty are never committed, so a view costs only m.
    return out_pairs[:m], out_counts[:m]
