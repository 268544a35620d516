"""Standard streams as the commands use them, with a clear error when one is missing."""

import sys

from ..errors import InputError


def stdin_buffer():
    """The binary stdin; InputError when the shell closed it (`<&-`), where Python sets
    sys.stdin to None and `.buffer` would fail with an AttributeError."""
    if sys.stdin is None:
        raise InputError("stdin is closed")
    return sys.stdin.buffer
