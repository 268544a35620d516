"""Process plumbing every stage uses: atomic outputs, signals, threads, progress, stdin, the numba cache and random streams."""
