"""The hot loops of `w2v phrases`, in numba: find blank lines, count candidate pairs, join.

A candidate is a word `a`, up to `max_conn` connector words, and a word `b`, adjacent on
one line (without connector words: two adjacent words). It is keyed as one int64,
`(a * n_words + b) * n_seq + seq`, where `seq` numbers the run of connector words between
them (0 for none; runs of length l start at seq_start[l], each connector a base-n_conn
digit). Counting sorts the keys of a chunk and counts its runs (cooccur's run store merges
them, spilling past --memory); joining looks a candidate's key up among the phrase keys of
its first word and rewrites the token ids in place, a phrase becoming one id; `write_lines`
turns ids back into text. `phrases.py` drives them.
"""

import numpy as np
from numba import njit

from ..text.tokenize import space_width


def nonblank_lines(buf):
    """For each line of a block (ended by b"\\n", or by the block's end), whether it has a token.

    The tokenizer reports only lines with tokens; this says where the blank ones were.
    Newlines are found by numpy; the kernel then reads only each line's leading whitespace.
    """
    ends = np.flatnonzero(buf == 10)
    if len(buf) and buf[-1] != 10:
        ends = np.append(ends, len(buf))
    return _nonblank(buf, ends)


@njit(cache=True, nogil=True)
def _nonblank(buf, ends):
    n = len(buf)
    out = np.zeros(len(ends), dtype=np.bool_)
    start = 0
    for line in range(len(ends)):
        end = ends[line]
        i = start
        while i < end:
            width = space_width(buf, i, n)
            if width == 0:
                out[line] = True
                break
            i += width
        start = end + 1
    return out


@njit(cache=True, inline="always")
def _seq_code(seq_len, seq_value, seq_start):
    return seq_start[seq_len] + seq_value


@njit(cache=True, nogil=True)
def candidate_keys(ids, offsets, line_lo, line_hi, conn, max_conn, seq_start, n_words, n_seq,
                   frequent, out):
    """Keys of the candidates on lines [line_lo, line_hi) into `out`; returns how many.

    As gensim's Phrases counts: every word that is not a connector ends a candidate with the
    previous such word on the line (through the connector words between them) and starts
    the next. A run of more than max_conn connector words breaks the chain.
    `conn[w]` is w's index among the connector words, -1 for other words (`conn` is empty
    when there are none); candidates are kept only when both ends are `frequent`.
    """
    n_conn = np.int64(0)
    if max_conn > 0:
        n_conn = seq_start[2] - seq_start[1]
    n = 0
    for line in range(line_lo, line_hi):
        start = np.int64(-1)
        seq_len = 0
        seq_value = np.int64(0)
        power = np.int64(1)
        for t in range(offsets[line], offsets[line + 1]):
            w = np.int64(ids[t])
            c = conn[w] if len(conn) else -1
            if c < 0:
                if start >= 0 and seq_len <= max_conn and frequent[start] and frequent[w]:
                    out[n] = (start * n_words + w) * n_seq + _seq_code(seq_len, seq_value,
                                                                      seq_start)
                    n += 1
                start = w
                seq_len = 0
                seq_value = 0
                power = 1
            elif start >= 0:
                if seq_len < max_conn:
                    seq_value += c * power
                    power *= n_conn
                seq_len += 1
    return n


@njit(cache=True, nogil=True)
def count_runs(sorted_keys):
    """(keys, counts) of the runs of equal values in a sorted int64 array (exact sizes: the
    runs are counted first, so nothing of the input's size is allocated)."""
    n = len(sorted_keys)
    m = 0
    for i in range(n):
        if i == 0 or sorted_keys[i] != sorted_keys[i - 1]:
            m += 1
    keys = np.empty(m, dtype=np.int64)
    counts = np.zeros(m, dtype=np.int64)
    r = -1
    for i in range(n):
        if i == 0 or sorted_keys[i] != sorted_keys[i - 1]:
            r += 1
            keys[r] = sorted_keys[i]
        counts[r] += 1
    return keys, counts


@njit(cache=True, nogil=True)
def join_ids(ids, offsets, line_lo, line_hi, conn, max_conn, seq_start, n_words, n_seq,
             phrase_keys, phrase_ids, first_key, starts, new_offsets):
    """Join the phrases of lines [line_lo, line_hi) in place: their ids, from
    offsets[line_lo] on, become the joined lines' ids, and new_offsets[line + 1] the end of
    each joined line there; returns (where the joined lines end, phrases joined).

    Greedy left to right, as word2phrase and gensim's FrozenPhrases: a candidate whose key is
    in the sorted `phrase_keys` becomes the one token `phrase_ids[i]` (i its place there) and
    neither of its words starts or ends another; otherwise its first word stays alone and
    its last word starts the next candidate. The keys that start with word w are
    phrase_keys[first_key[w]:first_key[w + 1]] (keys sort by their first word), mostly none
    and rarely more than a few, so they are scanned; `starts[w]` says whether there are any.
    `conn` is empty when there are no connector words (it is then not read). A line never
    gets longer, so every id is written at or behind where it was read.
    """
    n_conn = np.int64(0)
    if max_conn > 0:
        n_conn = seq_start[2] - seq_start[1]
    write = offsets[line_lo]
    joined = 0
    for line in range(line_lo, line_hi):
        start = np.int64(-1)
        start_t = np.int64(0)
        seq_len = 0
        seq_value = np.int64(0)
        power = np.int64(1)
        for t in range(offsets[line], offsets[line + 1]):
            w = np.int64(ids[t])
            c = conn[w] if len(conn) else -1
            if c < 0:
                if start >= 0:
                    found = -1
                    if seq_len <= max_conn and starts[start]:
                        key = (start * n_words + w) * n_seq + _seq_code(seq_len, seq_value,
                                                                       seq_start)
                        for k in range(first_key[start], first_key[start + 1]):
                            if phrase_keys[k] == key:
                                found = k
                                break
                    if found >= 0:
                        ids[write] = phrase_ids[found]
                        write += 1
                        joined += 1
                        start = -1
                        continue
                    for u in range(start_t, t):
                        ids[write] = ids[u]
                        write += 1
                start = w
                start_t = t
                seq_len = 0
                seq_value = 0
                power = 1
            elif start >= 0:
                if seq_len < max_conn:
                    seq_value += c * power
                    power *= n_conn
                seq_len += 1
            else:
                ids[write] = w
                write += 1
        if start >= 0:
            for u in range(start_t, offsets[line + 1]):
                ids[write] = ids[u]
                write += 1
        new_offsets[line + 1] = write
    return write, joined


@njit(cache=True, nogil=True)
def words_as_lines(word_bytes, word_ends, n_words):
    """The first n_words words of a word store as text, one a line."""
    out = np.empty(word_ends[n_words] + n_words, dtype=np.uint8)
    pos = 0
    for w in range(n_words):
        for k in range(word_ends[w], word_ends[w + 1]):
            out[pos] = word_bytes[k]
            pos += 1
        out[pos] = 10
        pos += 1
    return out


@njit(cache=True, nogil=True)
def remap_into(ids, remap, out, at):
    """out[at + i] = remap[ids[i]]: a group's ids, split with a store of its own, as the
    text's ids."""
    for i in range(len(ids)):
        out[at + i] = remap[ids[i]]


@njit(cache=True, nogil=True)
def move_down(ids, start, end, to):
    """ids[start:end] to ids[to:], to <= start (front to back, so overlap is safe)."""
    for i in range(end - start):
        ids[to + i] = ids[start + i]


@njit(cache=True, nogil=True)
def write_lines(ids, offsets, line_lo, line_hi, word_bytes, word_ends, out):
    """Lines from line_lo on as text into `out`, as many whole lines as fit (up to line_hi):
    words separated by one space, every line ended by b"\n". Returns (bytes written, the
    first line not written).

    One pass: a word is written once room for it, its separator and the line's newline is
    known; a line that does not fit is dropped back to its start."""
    n = len(out)
    pos = 0
    for line in range(line_lo, line_hi):
        start = pos
        first = offsets[line]
        for t in range(first, offsets[line + 1]):
            w = ids[t]
            a = word_ends[w]
            b = word_ends[w + 1]
            space = 1 if t > first else 0
            if pos + space + (b - a) + 1 > n:  # the word, a space before it, a newline
                return start, line
            if space:
                out[pos] = 32
                pos += 1
            for k in range(a, b):
                out[pos] = word_bytes[k]
                pos += 1
        if pos + 1 > n:
            return start, line
        out[pos] = 10
        pos += 1
    return pos, line_hi


@njit(cache=True, nogil=True)
def first_seen(ids, n_words):
    """(counts by word, the words that occur in the order of their first occurrence)."""
    counts = np.zeros(n_words, dtype=np.int64)
    order = np.empty(n_words, dtype=np.int64)
    n = 0
    for t in range(len(ids)):
        w = ids[t]
        if counts[w] == 0:
            order[n] = w
            n += 1
        counts[w] += 1
    return counts, order[:n].copy()
