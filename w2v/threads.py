"""Numba thread settings: how many threads the parallel kernels use, and which layer runs them."""

import os

import numba

from .errors import OptionError


SIBLINGS = "/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list"  # Linux


def usable_cores():
    """Physical cores among the CPUs this process may run on.

    Hyper-threads of one core share its floating-point units, so Hogwild SGD gains nothing
    from them (fastText#743); where the topology cannot be read, every usable CPU counts.
    """
    cpus = os.sched_getaffinity(0)
    cores = set()
    for cpu in cpus:
        try:
            with open(SIBLINGS.format(cpu=cpu)) as f:
                cores.add(f.read().strip())
        except OSError:
            return len(cpus)
    return max(1, len(cores))


def configure_threads(threads=None):
    """Use `threads` numba threads (default: one per usable physical core); returns it."""
    available = numba.config.NUMBA_NUM_THREADS
    if threads is None or threads == 0:
        threads = min(available, usable_cores())
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
