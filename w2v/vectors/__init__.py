"""Word vectors in memory, subword composition, queries, evaluation and plots (numba-free)."""
