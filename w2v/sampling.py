"""Randomness shared by the models: per-chunk random streams and frequent-word subsampling.

Every kernel draws from an explicit 64-bit state (xorshift64*), one state per chunk of
work seeded from (seed, epoch, chunk), so results do not depend on which thread ran a chunk
and `--threads 1 --seed N` repeats exactly.
"""

import numpy as np
from numba import njit

_MASK64 = (1 << 64) - 1


def seed_for(seed, *keys):
    """A well-mixed non-zero 64-bit state from a user seed and keys (epoch, chunk, ...)."""
    state = seed & _MASK64
    for key in (*keys, 0x5EED):
        state = (state ^ (key & _MASK64)) + 0x9E3779B97F4A7C15 & _MASK64
        z = state
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK64
        state = z ^ (z >> 31)
    return np.uint64(state or 0x2545F4914F6CDD1D)


def chunk_seeds(seed, epoch, n_chunks):
    """One state per chunk of an epoch, as a uint64 array for the kernels."""
    return np.array([seed_for(seed, epoch, chunk) for chunk in range(n_chunks)], dtype=np.uint64)


@njit(cache=True, inline="always")
def next_state(state):
    """Advance a xorshift64* state (a uint64 scalar; returns the new state)."""
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state


@njit(cache=True, inline="always")
def random_bits(state):
    """64 random bits from a state (the xorshift64* output scramble)."""
    return state * np.uint64(0x2545F4914F6CDD1D)


@njit(cache=True, inline="always")
def random_float(state):
    """A float64 uniform in [0, 1) from a state."""
    return np.float64(random_bits(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


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
