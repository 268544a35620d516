"""Atomic output files: write to a temporary file beside the target, then rename.

An interrupted or failed run therefore never leaves a truncated file where a good one was.
"""

import contextlib
import os
import sys
import tempfile

from .errors import OutputError


def check_writable(*paths):
    """Raise OutputError now for an output that could not be written at the end.

    Commands call this before hours of training, not after. None and "-" (stdout) pass.
    """
    for path in paths:
        if path is None or path == "-":
            continue
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise OutputError(f"cannot write {path}: it is a directory")
        if not os.path.isdir(directory):
            raise OutputError(f"cannot write {path}: there is no directory {directory}")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write {path}: the directory {directory} is not writable")


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file next to `path`; on success fsync and rename it over `path`.

    `path` of "-" yields stdout (its binary buffer for "wb"), which is not closed.
    On any exception, including KeyboardInterrupt, the temporary file is removed and
    `path` is left as it was.
    """
    if path == "-" or path is None:
        stream = sys.stdout.buffer if "b" in mode else sys.stdout
        yield stream
        stream.flush()
        return
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=".w2v-", suffix=".tmp", dir=directory)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror} ({directory})") from None
    try:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates 0600 files; give the result the permissions a normal open would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
