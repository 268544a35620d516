"""Character n-grams as fastText defines them, so that our files and fastText's interoperate.

A word is wrapped in ``<`` and ``>``; its n-grams are the runs of ``minn..maxn`` Unicode code
points (a UTF-8 continuation byte never starts one), the bare ``<`` and ``>`` excluded. Each
n-gram is hashed with 32-bit FNV-1a over its UTF-8 bytes, every byte sign-extended from int8
before the xor (a quirk fastText keeps for compatibility), and taken modulo ``bucket``. Row
``nwords + hash % bucket`` of the input matrix holds it. A word's input vector is the mean of
its rows: its own row first (in-vocabulary words only), then its n-grams in fastText's order
(by start, then by length), duplicates kept.

numpy only: the query commands compose out-of-vocabulary words without importing numba.
"""

import numpy as np

from ..text.preprocess import EOS

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
BOW, EOW = "<", ">"  # EOS, fastText's end-of-line token, has no n-grams
MAX_NGRAM = 100  # longest n-gram length accepted (fastText's default is 6); bounds the work per word
GRAM_SLOTS = 1 << 21  # (code point, n-gram length) candidates hashed per chunk of words


def check_ngram_range(minn, maxn, bucket):
    """One rule for the three options, as fastText reads them (maxn 0: no n-grams)."""
    if minn < 1 and maxn > 0:
        raise ValueError(f"--minn must be at least 1 (got {minn})")
    if maxn < 0:
        raise ValueError(f"--maxn must be 0 (no n-grams) or at least --minn (got {maxn})")
    if 0 < maxn < minn:
        raise ValueError(f"--maxn ({maxn}) must be at least --minn ({minn}), or 0 for no n-grams")
    if maxn > MAX_NGRAM:
        raise ValueError(f"--maxn must be at most {MAX_NGRAM} (got {maxn})")
    if bucket < 1 and maxn > 0:
        raise ValueError(f"--bucket must be at least 1 (got {bucket})")


def fnv1a(data):
    """fastText's hash of a byte string: FNV-1a 32-bit with bytes sign-extended from int8."""
    h = FNV_OFFSET
    for byte in data:
        h ^= byte | 0xFFFFFF00 if byte >= 0x80 else byte
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def word_ngrams(word, minn, maxn):
    """The n-gram strings of one word, in fastText's order (for reading and for tests)."""
    if maxn <= 0 or word == EOS:
        return []
    wrapped = BOW + word + EOW
    ngrams = []
    for i in range(len(wrapped)):
        for n in range(minn, maxn + 1):
            if i + n > len(wrapped):
                break
            if n == 1 and (i == 0 or i + n == len(wrapped)):
                continue
            ngrams.append(wrapped[i:i + n])
    return ngrams


def ngram_buckets(words, minn, maxn, bucket, chunk=32768):
    """Every word's n-gram buckets (hash % bucket), as a CSR pair (offsets, buckets).

    Vectorised over all n-grams of a chunk of words at once, so a vocabulary of a million
    words takes seconds, not minutes: the hash loop runs over byte positions (at most
    4 * maxn), each step one numpy operation over every n-gram of the chunk. A chunk holds
    at most `chunk` words and about GRAM_SLOTS candidate n-grams, so long words or a wide
    n-gram range cost time, never a matrix sized by the product of the two.
    """
    words = list(words)
    n_words = len(words)
    if maxn <= 0 or n_words == 0:
        return np.zeros(n_words + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if minn < 1 or maxn < minn or maxn > MAX_NGRAM:
        raise ValueError(f"n-grams of {minn} to {maxn} characters: expected 1 <= minn <= maxn "
                         f"<= {MAX_NGRAM}")
    slots = np.cumsum(np.fromiter((len(w) + 2 for w in words), dtype=np.int64, count=n_words))
    slots *= maxn - minn + 1
    pieces, start = [], 0
    while start < n_words:
        before = slots[start - 1] if start else 0
        stop = int(np.searchsorted(slots, before + GRAM_SLOTS, side="right"))
        stop = min(max(stop, start + 1), start + chunk)
        pieces.append(_chunk_buckets(words[start:stop], minn, maxn, bucket))
        start = stop
    offsets = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(np.concatenate([np.diff(o) for o, _ in pieces]), out=offsets[1:])
    return offsets, np.concatenate([b for _, b in pieces])


def _chunk_buckets(words, minn, maxn, bucket):
    n_words = len(words)
    wrapped = [(BOW + w + EOW).encode("utf-8") for w in words]
    byte_len = np.fromiter((len(b) for b in wrapped), dtype=np.int64, count=n_words)
    data = np.frombuffer(b"".join(wrapped), dtype=np.uint8)
    byte_start = np.zeros(n_words, dtype=np.int64)
    np.cumsum(byte_len[:-1], out=byte_start[1:])

    # Code point starts of each word, then the word's end as a sentinel start.
    is_start = (data & 0xC0) != 0x80
    word_of_byte = np.repeat(np.arange(n_words), byte_len)
    starts = np.flatnonzero(is_start)
    word_of_start = word_of_byte[starts]
    n_points = np.bincount(word_of_start, minlength=n_words)
    first_point = np.cumsum(n_points) - n_points          # index of each word's first start
    slot = np.arange(len(starts)) + word_of_start         # one sentinel per earlier word
    bounds = np.empty(len(starts) + n_words, dtype=np.int64)
    bounds[slot] = starts
    bounds[first_point + np.arange(n_words) + n_points] = byte_start + byte_len

    # Candidate (start point, length n) pairs, row-major: by word, by start, by length.
    # No n-gram is longer than the longest wrapped word, so longer lengths are not tried.
    point_index = np.arange(len(starts)) - first_point[word_of_start]
    lengths = np.arange(minn, max(minn, min(maxn, int(n_points.max()))) + 1)
    first = slot[:, None]
    points_left = (n_points[word_of_start] - point_index)[:, None]
    valid = lengths[None, :] <= points_left
    if minn == 1:  # fastText leaves out the bare "<" and ">"
        edge = (point_index[:, None] == 0) | (lengths[None, :] == points_left)
        valid &= ~((lengths[None, :] == 1) & edge)
    if EOS in words:
        valid[word_of_start == words.index(EOS)] = False
    gram_first = np.broadcast_to(first, valid.shape)[valid]
    gram_len = np.broadcast_to(lengths[None, :], valid.shape)[valid]
    gram_begin = bounds[gram_first]
    gram_end = bounds[gram_first + gram_len]
    gram_word = np.broadcast_to(word_of_start[:, None], valid.shape)[valid]

    signed = data.astype(np.int8).astype(np.int32).astype(np.uint32)
    h = np.full(len(gram_begin), FNV_OFFSET, dtype=np.uint32)
    longest = int((gram_end - gram_begin).max()) if len(gram_begin) else 0
    for t in range(longest):
        pos = gram_begin + t
        live = pos < gram_end
        step = (h ^ signed[np.minimum(pos, len(data) - 1)]) * np.uint32(FNV_PRIME)
        h = np.where(live, step, h)

    offsets = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(np.bincount(gram_word, minlength=n_words), out=offsets[1:])
    return offsets, (h % np.uint32(bucket)).astype(np.int64)


def subword_rows(words, minn, maxn, bucket):
    """The input rows of each vocabulary word, CSR: its own row, then n_words + bucket ids.

    This is the table the training kernels read a word's input vector through.
    """
    n_words = len(words)
    gram_offsets, buckets = ngram_buckets(words, minn, maxn, bucket)
    counts = np.diff(gram_offsets) + 1
    offsets = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    dtype = np.int32 if n_words + max(bucket, 0) < 2**31 else np.int64
    rows = np.empty(offsets[-1], dtype=dtype)
    rows[offsets[:-1]] = np.arange(n_words)
    own = np.zeros(offsets[-1], dtype=bool)
    own[offsets[:-1]] = True
    rows[~own] = buckets + n_words
    return offsets, rows


def oov_rows(word, n_words, minn, maxn, bucket):
    """Input rows of a word outside the vocabulary: its n-grams only (may be empty)."""
    offsets, buckets = ngram_buckets([word], minn, maxn, bucket)
    return buckets + n_words


def compose(matrix, offsets, rows, chunk_rows=1 << 20):
    """Mean of each word's rows of `matrix` (float32, one output row per CSR entry).

    A word with no rows gets a zero vector. Done in pieces of about `chunk_rows` gathered
    rows, so composing a large vocabulary never gathers every n-gram row at once.
    """
    n_words = len(offsets) - 1
    out = np.zeros((n_words, matrix.shape[1]), dtype=np.float32)
    counts = np.diff(offsets)
    first = 0
    while first < n_words:
        last = int(np.searchsorted(offsets, offsets[first] + chunk_rows, side="right")) - 1
        last = min(max(last, first + 1), n_words)
        lo, hi = offsets[first], offsets[last]
        if hi > lo:
            gathered = np.asarray(matrix[rows[lo:hi]], dtype=np.float32)
            owner = np.repeat(np.arange(last - first), counts[first:last])
            _sum_by_owner(out[first:last], owner, gathered)
        first = last
    nonzero = counts > 0
    out[nonzero] /= counts[nonzero, None].astype(np.float32)
    return out


def _sum_by_owner(out, owner, gathered):
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    with np.errstate(over="ignore", invalid="ignore"):  # callers refuse non-finite sums
        out[owner[starts]] = np.add.reduceat(gathered, starts, axis=0)
