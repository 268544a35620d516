"""Numba thread settings: how many threads the parallel kernels use, and which layer runs them."""

import os

import numba

from .errors import OptionError


def configure_threads(threads=None):
    """Use `threads` numba threads (default: all usable cores); returns the number set."""
    available = numba.config.NUMBA_NUM_THREADS
    if threads is None or threads == 0:
        threads = min(available, len(os.sched_getaffinity(0)))
    if threads < 1:
        raise OptionError(f"--threads must be at least 1, got {threads}")
    threads = min(threads, available)
    numba.set_num_threads(threads)
    return threads


def threading_layer():
    """The layer numba picked ('omp', 'tbb', 'workqueue'), or 'unknown' before any parallel run."""
    try:
        return numba.threading_layer()
    except ValueError:
        return "unknown"
