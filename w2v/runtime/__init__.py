"""Process plumbing every stage uses: atomic outputs, signals, threads, progress, stdin, the numba cache, random streams and freed memory handed back."""
