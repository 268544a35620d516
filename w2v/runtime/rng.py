"""Randomness shared by the models: per-chunk random streams and per-word initial states.

Every kernel draws from an explicit 64-bit state (xorshift64*), one state per chunk of
work seeded from (seed, epoch, chunk), so results do not depend on which thread ran a chunk
and `--threads 1 --seed N` repeats exactly.
"""

import hashlib

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


def word_states(words, seed, key=0):
    """One random state per word, from the word's UTF-8 bytes, the seed and a key.

    A word's state does not depend on its rank or on the rest of the vocabulary, so the
    same word starts from the same vector in runs over different corpora (gensim's
    hash-seeded init, gensim PR #240), which makes such runs comparable.
    """
    digests = b"".join(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
                       for word in words)
    states = np.frombuffer(digests, dtype="<u8").astype(np.uint64)
    states ^= seed_for(seed, key)
    # splitmix64 finaliser, vectorised: spreads the mixed-in seed over every bit
    states ^= states >> np.uint64(30)
    states *= np.uint64(0xBF58476D1CE4E5B9)
    states ^= states >> np.uint64(27)
    states *= np.uint64(0x94D049BB133111EB)
    states ^= states >> np.uint64(31)
    states[states == 0] = np.uint64(0x2545F4914F6CDD1D)
    return states


@njit(cache=True)
def _uniform_rows(states, out, low, high):
    for w in range(out.shape[0]):
        state = states[w]
        for k in range(out.shape[1]):
            state = next_state(state)
            out[w, k] = low + (high - low) * random_float(state)


def initial_vectors(words, columns, seed, low, high, key=0):
    """A float32 (len(words), columns) matrix uniform in [low, high), row i drawn from
    word i's own state (`word_states`)."""
    out = np.empty((len(words), columns), dtype=np.float32)
    _uniform_rows(word_states(words, seed, key), out, np.float32(low), np.float32(high))
    return out
