"""Atomic output files: write to a temporary file beside the target, then rename.

An interrupted or failed run therefore never leaves a truncated file where a good one was.
"""

import contextlib
import os
import sys
import tempfile


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
    fd, tmp_path = tempfile.mkstemp(prefix=".w2v-", suffix=".tmp", dir=directory)
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
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
