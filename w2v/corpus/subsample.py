"""Subsampling of frequent tokens, as word2vec C's -sample: the keep probabilities every
model uses, and the subsampled corpus that `w2v svd` (and a cluster's partitions) count.
"""

import numpy as np
from numba import njit, prange

from ..runtime.rng import chunk_seeds, next_state, random_float
from .corpus import Corpus

SUBSAMPLE_CHUNK_TOKENS = 1 << 20  # tokens per random stream; fixed, so threads don't matter


def keep_probabilities(counts, sample, total=None):
    """word2vec C's subsampling: keep a token of frequency f with (sqrt(f/t) + 1) * t/f.

    Equivalently (sqrt(c / (t N)) + 1) (t N) / c for count c of N tokens, capped at 1.
    sample <= 0 keeps everything.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * (counts.sum() if total is None else total)
    with np.errstate(divide="ignore"):
        keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    keep[counts == 0] = 1.0
    return np.minimum(keep, 1.0).astype(np.float32)


def subsample_corpus(corpus, sample, seed=1):
    """A copy of `corpus` with frequent tokens dropped as word2vec C's -sample does.

    Each token is kept with `keep_probabilities(counts, sample)`, drawn from random streams
    seeded by (seed, chunk of tokens), so the result depends on the seed only. Dropped
    tokens close the gap (windows then reach further, as in word2vec); sentences left
    empty disappear. The vocabulary and its counts stay those of the full corpus.
    """
    if sample <= 0:
        return corpus
    keep = keep_probabilities(corpus.vocab.counts, sample)
    offsets = np.asarray(corpus.offsets, dtype=np.int64)
    n_chunks = max(1, -(-len(corpus.ids) // SUBSAMPLE_CHUNK_TOKENS))
    # Chunks are whole sentences starting at fixed token positions.
    chunk_starts = np.searchsorted(offsets[:-1], np.arange(n_chunks, dtype=np.int64)
                                   * SUBSAMPLE_CHUNK_TOKENS, side="left")
    chunk_starts = np.append(chunk_starts, len(offsets) - 1).astype(np.int64)
    mask = np.empty(len(corpus.ids), dtype=np.bool_)
    lengths = _keep_mask(corpus.ids, offsets, keep, chunk_starts, chunk_seeds(seed, 0, n_chunks),
                         mask)
    ids = np.asarray(corpus.ids)[mask]
    lengths = lengths[lengths > 0]
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    return Corpus(vocab=corpus.vocab, ids=ids, offsets=new_offsets,
                  n_raw_tokens=corpus.n_raw_tokens, invalid_bytes=corpus.invalid_bytes)


@njit(cache=True, parallel=True)
def _keep_mask(ids, offsets, keep, chunk_starts, seeds, mask):
    lengths = np.zeros(len(offsets) - 1, dtype=np.int64)
    for chunk in prange(len(chunk_starts) - 1):
        state = seeds[chunk]
        for sentence in range(chunk_starts[chunk], chunk_starts[chunk + 1]):
            n = 0
            for t in range(offsets[sentence], offsets[sentence + 1]):
                state = next_state(state)
                kept = random_float(state) < keep[ids[t]]
                mask[t] = kept
                n += kept
            lengths[sentence] = n
    return lengths


def subsample_stretch(ids, offsets, keep, first_token, chunk_firsts, seed=1):
    """(ids, offsets) of the tokens `subsample_corpus` keeps of a stretch of a corpus.

    The stretch (whole sentences, `ids[offsets[i]:offsets[i + 1]]`) starts at token
    `first_token` of the whole corpus; chunk_firsts[c] is the token where chunk c's first
    sentence starts in the whole corpus. Each token then meets the very random draw it
    meets when the whole corpus is subsampled at once, so a cluster's partitions
    (`distributed`) keep exactly the tokens one process keeps.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    chunk_firsts = np.asarray(chunk_firsts, dtype=np.int64)
    seeds = chunk_seeds(seed, 0, len(chunk_firsts))
    mask = np.empty(len(ids), dtype=np.bool_)
    lengths = _keep_mask_stretch(ids, offsets, keep, first_token, chunk_firsts, seeds,
                                 SUBSAMPLE_CHUNK_TOKENS, mask)
    lengths = lengths[lengths > 0]
    new_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    return np.asarray(ids)[mask], new_offsets


@njit(cache=True)
def _keep_mask_stretch(ids, offsets, keep, first_token, chunk_firsts, seeds, chunk_tokens, mask):
    """`_keep_mask` for a stretch: a sentence starting at whole-corpus token g is in chunk
    g // chunk_tokens, whose stream has advanced once per token since the chunk's start."""
    lengths = np.zeros(len(offsets) - 1, dtype=np.int64)
    chunk = -1
    state = np.uint64(0)
    for sentence in range(len(offsets) - 1):
        g = first_token + offsets[sentence]
        c = g // chunk_tokens
        if c != chunk:
            chunk = c
            state = seeds[c]
            for _ in range(g - chunk_firsts[c]):
                state = next_state(state)
        n = 0
        for t in range(offsets[sentence], offsets[sentence + 1]):
            state = next_state(state)
            kept = random_float(state) < keep[ids[t]]
            mask[t] = kept
            n += kept
        lengths[sentence] = n
    return lengths
