"""Giving back to the system the memory the C allocator keeps after large temporary arrays.

glibc serves arrays of up to 32 MB from its heap once one of that size has been freed, and
keeps what is freed there for reuse: a loop that makes and drops such arrays (dealing a
count file to a cluster, a chunk at a time) grows the process as if it held several chunks
at once. `release_free_memory` hands the free pages back; elsewhere than glibc it does
nothing."""

import ctypes
import sys


def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None


_TRIM = _malloc_trim()


def release_free_memory():
    """Return the allocator's free pages to the system; True if there was a way to."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
