"""Numba thread settings: how many threads the parallel kernels use, and which layer runs them.

The one rule for `--threads N` on every command and in every library function: N >= 1, or
None for the default. numba is imported only when threads are set, so the CLI can check the
option without it.
"""

import logging
import operator
import os

from ..errors import OptionError

log = logging.getLogger("w2v")
_warned = set()  # (requested, available) pairs already warned about in this process


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


def check_threads(threads):
    """Raise OptionError unless `threads` is None (the default) or a whole number >= 1."""
    if threads is None:
        return None
    try:
        count = operator.index(threads)
    except TypeError:
        count = None
    if count is None or isinstance(threads, bool):
        raise OptionError(f"--threads must be a whole number, got {threads!r}")
    if count < 1:
        raise OptionError(f"--threads must be at least 1, got {count}")
    return count


def configure_threads(threads=None):
    """Use `threads` numba threads (default: one per usable physical core); returns the count.

    A request above the CPUs numba may use is capped, with a warning (once per process).
    """
    import numba

    threads = check_threads(threads)
    available = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        threads = min(available, usable_cores())
    elif threads > available:
        if (threads, available) not in _warned:
            _warned.add((threads, available))
            why = (f"NUMBA_NUM_THREADS is {available}" if "NUMBA_NUM_THREADS" in os.environ
                   else f"only {available} CPU{'s' if available > 1 else ''} available")
            log.warning("--threads %d: %s, using %d", threads, why, available)
        threads = available
    numba.set_num_threads(threads)
    return threads


def threading_layer():
    """The layer numba picked ('omp', 'tbb', 'workqueue'), or 'unknown' before any parallel run."""
    import numba

    try:
        return numba.threading_layer()
    except ValueError:
        return "unknown"


def start_numba_without_scipy():
    """Load numba's implementations now, without importing SciPy's linear algebra.

    At its first kernel numba loads all its implementations, and `numba.np.arraymath`
    imports `scipy.linalg.cython_blas` only to learn whether BLAS is there for `np.dot`:
    that import takes in all of `scipy.linalg`, a third of the start of `w2v phrases`,
    whose kernels use no BLAS. SciPy is a dependency, so the answer is known: a stand-in
    module answers it, and is taken out again at once, so a later BLAS call (or import)
    gets the real module. Does nothing once numba's implementations or SciPy's BLAS are
    loaded; any failure leaves numba to load them as usual at its first kernel.
    """
    import sys
    import types

    name = "scipy.linalg.cython_blas"
    if name in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    try:
        from numba.core.registry import cpu_target
    except ImportError:
        return
    stand_in = types.ModuleType(name)
    sys.modules[name] = stand_in
    try:
        cpu_target.target_context.refresh()
    except Exception:  # numba changed: it will load them itself at its first kernel
        log.debug("numba's implementations did not load ahead of the first kernel")
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
