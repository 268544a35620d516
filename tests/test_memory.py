"""Handing the C allocator's free memory back to the system."""

import platform
import sys

import numpy as np
import pytest

from w2v.runtime.memory import release_free_memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="malloc_trim is glibc's")
def test_free_memory_is_released_on_glibc():
    for size in (1 << 20, 3 << 20, 2 << 20):  # freed arrays the heap would keep
        np.ones(size, dtype=np.uint8).sum()
    assert release_free_memory() is True


def test_releasing_never_fails_where_there_is_no_way_to(monkeypatch):
    from w2v.runtime import memory

    monkeypatch.setattr(memory, "_TRIM", None)
    assert memory.release_free_memory() is False
