"""Standard streams as the commands use them, with a clear error when one is missing."""

import io
import sys

from ..errors import InputError


def stdin_buffer():
    """The binary stdin; InputError when the shell closed it (`<&-`), where Python sets
    sys.stdin to None and `.buffer` would fail with an AttributeError."""
    if sys.stdin is None:
        raise InputError("stdin is closed")
    return sys.stdin.buffer


def stdin_reader():
    """Binary stdin for a reader thread: unbuffered, straight from its file descriptor where
    it has one. A thread blocked in read() then holds no lock of `sys.stdin.buffer`, which
    Python takes at exit (a daemon thread holding it aborts the interpreter)."""
    buffer = stdin_buffer()
    try:
        fd = buffer.fileno()
    except (AttributeError, OSError, ValueError):
        return buffer
    return io.FileIO(fd, "rb", closefd=False)
