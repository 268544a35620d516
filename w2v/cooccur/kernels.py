"""The kernels of co-occurrence counting: emit, sort and reduce the pairs of a chunk, and
fill CSR rows from sorted entries (see `counts` for how they are used)."""

import numpy as np
from numba import njit, prange


@njit(cache=True)
def emit_pairs(ids, offsets, first_sentence, end_sentence, n_words, window, dbits, symmetric,
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
def radix_sort(keys, scratch, n, key_bits):
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
def reduce_sorted(sorted_keys, n, dbits, weights, out_pairs, out_counts):
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
def count_chunks(ids, offsets, bounds, n_words, window, dbits, key_bits, weights, symmetric,
                  keys_buf, scratch_buf, lengths, in_scratch):
    """Count chunk t (sentences bounds[t]:bounds[t+1]) into row t of the buffers, in parallel.

    Afterwards row t of one buffer holds the sorted distinct pairs and row t of the other
    their counts: pairs in scratch_buf when in_scratch[t], else in keys_buf.
    """
    for t in prange(len(bounds) - 1):
        keys = keys_buf[t]
        scratch = scratch_buf[t]
        n = emit_pairs(ids, offsets, bounds[t], bounds[t + 1], n_words, window, dbits,
                        symmetric, keys)
        flipped = radix_sort(keys, scratch, n, key_bits)
        if flipped:
            lengths[t] = reduce_sorted(scratch, n, dbits, weights, scratch, keys)
        else:
            lengths[t] = reduce_sorted(keys, n, dbits, weights, keys, scratch)
        in_scratch[t] = flipped


@njit(cache=True)
def transposed(pairs, counts, n_words, out_pairs, out_counts):
    """The off-diagonal entries (r, c) of sorted pairs as (c, r), sorted; returns how many.

    A counting sort by column: stable, so the rows within a column keep their order. This
    is how a cluster's partition (`distributed`) turns its upper triangle into whole rows
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
def add_row_lengths(pairs, n_words, symmetric, lengths):
    for p in pairs:
        row = p // n_words
        col = p - row * n_words
        lengths[row] += 1
        if symmetric and row != col:
            lengths[col] += 1


@njit(cache=True)
def fill_csr(pairs, counts, n_words, symmetric, scale, cursor, indices, data):
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
