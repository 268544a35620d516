"""Splitting UTF-8 text into token ids, in numba: the hot loop of the corpus pass.

A block of bytes (whole lines) is split on exactly the characters Python's `str.split()`
splits on (ASCII and Unicode whitespace), lines on b"\\n"; every token is looked up in an
open-addressing hash table of the words seen so far, new words taking the next id. The
words themselves live as bytes in one growing buffer, so no Python string is made per
token. `corpus` drives it and turns the words into strings once, at the end.
"""

import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_EMPTY = -1
_KEY_BITS = np.uint64((1 << 63) - 1)  # keys are hashes less the top bit, so never -1


@njit(cache=True, inline="always")
def space_width(buf, i, n):
    """Bytes taken by the whitespace character at buf[i] (0 if it is not whitespace)."""
    c = buf[i]
    if c > 32:
        if c < 0xC2:
            return 0
        if c == 0xC2:  # U+0085, U+00A0
            return 2 if i + 1 < n and (buf[i + 1] == 0x85 or buf[i + 1] == 0xA0) else 0
        if c > 0xE3 or i + 2 >= n:
            return 0
        b1 = buf[i + 1]
        b2 = buf[i + 2]
        if c == 0xE2:  # U+2000..U+200A, U+2028, U+2029, U+202F, U+205F
            if b1 == 0x80 and (0x80 <= b2 <= 0x8A or b2 == 0xA8 or b2 == 0xA9 or b2 == 0xAF):
                return 3
            return 3 if b1 == 0x81 and b2 == 0x9F else 0
        if c == 0xE1:  # U+1680
            return 3 if b1 == 0x9A and b2 == 0x80 else 0
        if c == 0xE3:  # U+3000
            return 3 if b1 == 0x80 and b2 == 0x80 else 0
        return 0
    return 1 if c == 32 or 9 <= c <= 13 or 28 <= c <= 31 else 0


@njit(cache=True, inline="always")
def _ascii_space(c):
    """1 if the ASCII byte c is whitespace to str.split(), else 0."""
    return 1 if c == 32 or 9 <= c <= 13 or 28 <= c <= 31 else 0


@njit(cache=True)
def _wide_space_width(buf, i, n):
    """`space_width` of a byte >= 0x80, called rather than inlined: with its reads of the
    next bytes inlined, the tokenizing loop ran 6x slower on ASCII text."""
    return space_width(buf, i, n)


@njit(cache=True, nogil=True)  # nogil: runs while the reader thread decompresses
def tokenize_block(buf, pos, ids, n_ids, line_lengths, n_lines, line_start, table, word_ends,
                   word_bytes, n_words):
    """Split buf from pos on: token ids into `ids`, non-empty line lengths into `line_lengths`.

    The word store: word w is word_bytes[word_ends[w]:word_ends[w + 1]]; `table` holds
    (key, word) pairs, a power of two of them, word -1 marking a free slot. The caller
    makes room in word_ends and word_bytes for a whole block; when the table passes half
    full the kernel stops at the token it was about to add, and the caller grows the table
    and calls again from there. Returns (pos, n_ids, n_lines, line_start, n_words), pos
    past len(buf) once the block is done.
    """
    n = len(buf)
    mask = np.uint64(len(table) // 2 - 1)
    i = pos
    while i <= n:
        if i == n or buf[i] == 10:  # end of a line (or of the block); empty lines are skipped
            if n_ids > line_start:
                line_lengths[n_lines] = n_ids - line_start
                n_lines += 1
            line_start = n_ids
            i += 1
            continue
        c = buf[i]
        if c <= 32 or c >= 0x80:
            width = _wide_space_width(buf, i, n) if c >= 0x80 else _ascii_space(c)
            if width:
                i += width
                continue
        start = i
        h = _FNV_OFFSET
        while i < n:
            c = buf[i]
            if c <= 32 or c >= 0x80:  # ASCII letters skip both tests below
                if (_wide_space_width(buf, i, n) if c >= 0x80 else _ascii_space(c)) != 0:
                    break
            h = (h ^ np.uint64(c)) * _FNV_PRIME
            i += 1
        length = i - start
        key = np.int64(h & _KEY_BITS)
        slot = h & mask
        while True:
            w = table[2 * slot + 1]
            if w == _EMPTY:
                break
            if table[2 * slot] == key:
                begin = word_ends[w]
                if word_ends[w + 1] - begin == length:
                    k = 0
                    while k < length and word_bytes[begin + k] == buf[start + k]:
                        k += 1
                    if k == length:
                        break
            slot = (slot + np.uint64(1)) & mask
        if w == _EMPTY:  # a new word
            if 4 * (n_words + 1) > len(table):
                return start, n_ids, n_lines, line_start, n_words
            w = n_words
            begin = word_ends[w]
            word_bytes[begin : begin + length] = buf[start:i]
            word_ends[w + 1] = begin + length
            table[2 * slot] = key
            table[2 * slot + 1] = w
            n_words += 1
        ids[n_ids] = w
        n_ids += 1
    return i, n_ids, n_lines, line_start, n_words


@njit(cache=True)
def _rehash(table, n_slots):
    """The pairs of `table` in a table of n_slots slots."""
    grown = np.full(2 * n_slots, _EMPTY, dtype=np.int64)
    mask = np.uint64(n_slots - 1)
    for old in range(len(table) // 2):
        w = table[2 * old + 1]
        if w == _EMPTY:
            continue
        key = table[2 * old]
        slot = np.uint64(key) & mask  # a key is the hash less its top bit
        while grown[2 * slot + 1] != _EMPTY:
            slot = (slot + np.uint64(1)) & mask
        grown[2 * slot] = key
        grown[2 * slot + 1] = w
    return grown


class WordStore:
    """The words seen so far and their ids (first-occurrence order), as numba arrays."""

    def __init__(self, n_slots=1 << 16):
        self.table = np.full(2 * n_slots, _EMPTY, dtype=np.int64)
        self.word_ends = np.zeros(1, dtype=np.int64)
        self.word_bytes = np.zeros(0, dtype=np.uint8)
        self.n_words = 0

    def tokenize(self, block, ids=None, start=0):
        """(ids uint32, line_lengths int64) of a bytes-like block of whole lines.

        With `ids` (uint32, room for `most_tokens(block)` ids from `start` on), the ids are
        written there and the returned ids are a view of it: no array per block.
        """
        buf = np.frombuffer(block, dtype=np.uint8)
        most = most_tokens(len(buf))  # tokens, lines or new words a block can hold
        if self.n_words + most + 1 > len(self.word_ends):
            self.word_ends = grown(self.word_ends, 2 * (self.n_words + most + 1))
        used = self.word_ends[self.n_words]
        if used + len(buf) > len(self.word_bytes):
            self.word_bytes = grown(self.word_bytes, 2 * (used + len(buf)))
        if ids is None:
            ids, start = np.empty(most, dtype=np.uint32), 0
        elif len(ids) - start < most:
            raise ValueError("no room for the ids of a block")
        line_lengths = np.empty(most, dtype=np.int64)
        pos, n_ids, n_lines, line_start = 0, start, 0, start
        while pos <= len(buf):
            pos, n_ids, n_lines, line_start, self.n_words = tokenize_block(
                buf, pos, ids, n_ids, line_lengths, n_lines, line_start, self.table,
                self.word_ends, self.word_bytes, self.n_words)
            if pos <= len(buf):  # the table is half full
                self.table = _rehash(self.table, len(self.table))
        return ids[start:n_ids], line_lengths[:n_lines].copy()  # a copy frees the large base

    def clear(self):
        """Forget every word, keeping the arrays (and their size) for the next text."""
        self.table.fill(_EMPTY)
        self.n_words = 0

    def words(self, ids=None):
        """The words as strings, in id order, or those of `ids` only (in that order).

        Only the words asked for become Python strings, so a corpus with millions of rare
        types costs strings for just the words that are kept.
        """
        if ids is None:
            ids = range(self.n_words)
        ends = self.word_ends
        data = memoryview(self.word_bytes)
        return [str(data[ends[i] : ends[i + 1]], "utf-8") for i in np.asarray(ids).tolist()]


def most_tokens(n_bytes):
    """The most tokens (or lines) n bytes can hold: one a byte and its separator."""
    return n_bytes // 2 + 1


def grown(array, size):
    out = np.empty(size, dtype=array.dtype)
    out[: len(array)] = array
    return out
