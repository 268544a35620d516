"""Token ids in bounded memory: a store of fixed-size pieces that counts them as they come,
and the kernels that map them through a vocabulary.

The ids of a pass go to fixed-size uint32 pieces (spilled to a temporary file past a
bound) and are counted as each piece fills; once the vocabulary is chosen they are mapped
into one array of the kept tokens, each piece freed as it is mapped, so they cost 4 bytes
a token and are never held twice. The corpus pass, the phrase passes and a cluster's
partitions all keep their ids here.
"""

import logging
import tempfile

import numpy as np
from numba import njit

log = logging.getLogger("w2v")

SPILL_BYTES = 1 << 30  # token ids beyond this go to a memory-mapped temporary file
PIECE_TOKENS = 1 << 24  # ids are kept in pieces of 64 MB (above glibc's largest mmap threshold)


@njit(cache=True, nogil=True)
def count_ids(ids, counts):
    """counts[w] += occurrences of w in ids (no temporaries, unlike np.bincount)."""
    for w in ids:
        counts[w] += 1


@njit(cache=True, nogil=True)
def remap_ids(src, remap, out, write, read, ends, kept_ends, first):
    """Map src (the ids from global position `read` on) through remap into out[write:].

    Ids mapped to -1 are dropped. kept_ends[s] gets the number of ids kept before the end
    of sentence s, for the sentences ending within src (from `first` on). out may be the
    array src is a view of: an id is written only at or behind where it was read.
    Returns (write, first) for the next call.
    """
    n_sentences = len(ends)
    for i in range(len(src)):
        mapped = remap[src[i]]
        if mapped >= 0:
            out[write] = mapped
            write += 1
        while first < n_sentences and ends[first] == read + i + 1:
            kept_ends[first] = write
            first += 1
    return write, first


@njit(cache=True)
def drop_repeats(ends):
    """Compact non-decreasing ends in place to their distinct non-zero values; returns how many."""
    n = 0
    last = 0
    for v in ends:
        if v != last:
            ends[n] = v
            n += 1
            last = v
    return n


class TokenIds:
    """Token ids in fixed-size pieces, and the count of every provisional id.

    No array of ids ever grows or is copied: a piece is `np.empty` (committed page by page
    as it is written, and large enough to be its own memory map, so freeing it returns it
    to the system), so the ids cost 4 bytes a token plus at most one unfilled piece. With
    keep=False (counts only) each block is counted and dropped. Past `spill_bytes`, full
    pieces go to a temporary file instead.
    """

    def __init__(self, keep=True, spill_bytes=SPILL_BYTES):
        self.keep = keep
        self.pieces = []  # full pieces, in order (in memory until spilled)
        self.piece = np.empty(PIECE_TOKENS, dtype=np.uint32) if keep else None
        self.fill = 0
        self.size = 0  # tokens appended
        self.closed = 0  # tokens in full (or finished) pieces
        self.counts = np.zeros(1 << 16, dtype=np.int64)  # by provisional id; grown by doubling
        self.spill_tokens = max(1, spill_bytes // 4)
        self.file = None

    def append(self, ids, n_words):
        """Count ids (provisional ids below n_words) and keep them unless counting only."""
        if n_words > len(self.counts):
            grown = np.zeros(max(n_words, 2 * len(self.counts)), dtype=np.int64)
            grown[: len(self.counts)] = self.counts
            self.counts = grown
        count_ids(ids, self.counts)
        self.size += len(ids)
        if not self.keep:
            return
        start = 0
        while start < len(ids):
            take = min(len(ids) - start, len(self.piece) - self.fill)
            self.piece[self.fill : self.fill + take] = ids[start : start + take]
            self.fill += take
            start += take
            if self.fill == len(self.piece):
                self._close_piece()

    def _close_piece(self):
        piece = self.piece[: self.fill]
        self.closed += len(piece)
        if self.file is None and self.closed > self.spill_tokens:
            self.file = tempfile.TemporaryFile(prefix="w2v-ids-")
            for kept in self.pieces:
                self.file.write(memoryview(kept))
            self.pieces = []
            log.debug("token ids spilled to a temporary file past %d tokens", self.spill_tokens)
        if self.file is not None:
            self.file.write(memoryview(piece))
        else:
            self.pieces.append(piece)
        self.piece = np.empty(PIECE_TOKENS, dtype=np.uint32)
        self.fill = 0

    def finish(self, n_words):
        """Store the last partial piece; the counts then cover exactly n_words words."""
        if self.fill:
            self._close_piece()
        self.piece = None
        if self.file is not None:
            self.file.flush()
        self.counts = self.counts[:n_words].copy()
        return self

    def take_ids(self):
        """Every id as one writable array (a memory map of the spill file when the ids were
        spilled), each piece freed once copied, so ids are never held twice."""
        if self.file is not None:
            return np.memmap(self.file, dtype=np.uint32, mode="r+", shape=(self.size,)) \
                if self.size else np.zeros(0, dtype=np.uint32)
        out = np.empty(self.size, dtype=np.uint32)
        at = 0
        for piece in self._pop_pieces():
            out[at:at + len(piece)] = piece
            at += len(piece)
        return out

    def all_ids(self):
        """Every id as one array (a copy; for small corpora and tests)."""
        if self.file is not None:
            return np.memmap(self.file, dtype=np.uint32, mode="r", shape=(self.size,)) \
                if self.size else np.zeros(0, dtype=np.uint32)
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0, dtype=np.uint32)

    def remap(self, remap, lengths, n_kept):
        """(ids, sentence offsets) with provisional ids mapped through `remap` (-1: dropped).

        Kept ids go to one array of exactly n_kept (a memory map of the spill file when
        the ids were spilled, compacted in place); each piece is freed once it is mapped,
        so ids are never held twice. Sentences left empty are dropped; `lengths` (the
        line lengths) is overwritten.
        """
        if self.file is None:
            out = np.empty(n_kept, dtype=np.uint32)
            pieces = self._pop_pieces()
        elif self.size == 0:
            out, pieces = np.zeros(0, dtype=np.uint32), []
        else:
            out = np.memmap(self.file, dtype=np.uint32, mode="r+", shape=(self.size,))
            # written behind where it is read: each step is read before its kept ids go out
            pieces = (out[a : a + PIECE_TOKENS] for a in range(0, self.size, PIECE_TOKENS))
        written, offsets = remap_pieces(pieces, lengths, remap, out)
        return out[:written], offsets

    def _pop_pieces(self):
        self.pieces.reverse()
        while self.pieces:
            yield self.pieces.pop()


def remap_pieces(pieces, lengths, remap, out):
    """Map the ids of `pieces` (in order) through `remap` into `out`, dropping -1s.

    Returns (ids written, offsets of the sentences left non-empty). A sentence's new end
    is the number of ids kept before its old end, so a piece is mapped without any other
    piece; the ends are computed in `lengths` itself, which is overwritten.
    """
    ends = np.cumsum(lengths, out=lengths)
    read = write = first = 0
    for piece in pieces:
        # the kept ends overwrite the ends, each once it has been passed
        write, first = remap_ids(piece, remap, out, write, read, ends, ends, first)
        read += len(piece)
    n_sentences = drop_repeats(ends)
    offsets = np.empty(n_sentences + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends[:n_sentences]
    return write, offsets


def cut_long(offsets, max_len):
    """Offsets with sentences longer than max_len cut into pieces of max_len and a remainder."""
    if max_len is None or len(offsets) < 2 or np.diff(offsets).max() <= max_len:
        return offsets
    lengths = np.diff(offsets)
    pieces = -(-lengths // max_len)
    out = np.full(int(pieces.sum()), max_len, dtype=np.int64)
    last = np.cumsum(pieces) - 1
    out[last] = lengths - (pieces - 1) * max_len
    offsets = np.zeros(len(out) + 1, dtype=np.int64)
    np.cumsum(out, out=offsets[1:])
    return offsets
