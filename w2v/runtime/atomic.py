"""Atomic output files: write to a temporary file beside the target, then rename.

An interrupted or failed run therefore never leaves a truncated file where a good one was.
Only regular files are replaced that way. A target that is something else (a character
device such as /dev/null, a FIFO, /dev/stdout, a process substitution's /dev/fd/N, or a
symlink to one of them) is opened and written in place, as a shell redirection would; a
symlink to a regular file keeps the link and replaces the file it points to.

The temporary file is named `.TARGET.w2v-PID-XXXXXXXX.tmp`, so a file left by a killed run
says what it was for and who wrote it. Before writing, stale ones for the same target are
removed if their writer process is gone; if that process still exists (another w2v
writing the same file, or the pid reused), the file is left alone with a warning.
"""

import contextlib
import glob
import logging
import os
import re
import stat
import sys
import tempfile

from ..errors import OutputError

log = logging.getLogger("w2v")

_TEMP_SUFFIX = ".tmp"


def _writes_in_place(path):
    """True if `path` exists and is not a regular file (after following symlinks), or is
    reached through /proc/<pid>/fd (/dev/stdout, /dev/fd/N), whose entries a rename
    cannot replace."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) or _through_proc(path)


def _through_proc(path):
    """True if `path` or a symlink on the way to its target lies in /proc."""
    for _ in range(40):  # the kernel's own limit on symlink hops
        path = os.path.abspath(path)
        if os.path.realpath(os.path.dirname(path)).startswith("/proc/"):
            return True
        if not os.path.islink(path):
            return False
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    return False


def _real_target(path):
    """The file a rename must replace: `path` with its symlinks resolved."""
    return os.path.realpath(path) if os.path.islink(path) else path


def check_writable(*paths):
    """Raise OutputError now for an output that could not be written at the end.

    Commands call this before hours of training, not after. None and "-" (stdout) pass;
    so do devices, FIFOs and /dev/fd/N that can be opened for writing.
    """
    for path in paths:
        if path is None or path == "-":
            continue
        path = os.fspath(path)
        if os.path.isdir(path):
            raise OutputError(f"cannot write {path}: it is a directory")
        if _writes_in_place(path):
            if not os.access(path, os.W_OK):
                raise OutputError(f"cannot write {path}: permission denied")
            continue
        directory = os.path.dirname(os.path.abspath(_real_target(path)))
        if not os.path.isdir(directory):
            raise OutputError(f"cannot write {path}: there is no directory {directory}")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write {path}: the directory {directory} is not writable")


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file next to `path`; on success fsync and rename it over `path`.

    `path` of "-" yields stdout (its binary buffer for "wb"), which is not closed. A
    `path` that is not a regular file is written in place (see the module docstring).
    On any exception, including KeyboardInterrupt and `signals.Interrupted`, the
    temporary file is removed and `path` is left as it was.
    """
    if path == "-" or path is None:
        stream = sys.stdout.buffer if "b" in mode else sys.stdout
        yield stream
        stream.flush()
        return
    path = os.fspath(path)
    kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
    if _writes_in_place(path):
        with _in_place(path, mode, kwargs) as stream:
            yield stream
        return
    target = _real_target(path)
    directory = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    remove_stale_temporaries(target)
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=f".{base}.w2v-{os.getpid()}-",
                                        suffix=_TEMP_SUFFIX, dir=directory)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror} ({directory})") from None
    try:
        with os.fdopen(fd, mode, **kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates 0600 files; give the result the permissions a normal open would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise


@contextlib.contextmanager
def _in_place(path, mode, kwargs):
    """Stream into a device, FIFO or inherited descriptor; errors become OutputError.

    EPIPE on what is really our stdout (`-o /dev/stdout | head`) stays a BrokenPipeError,
    which the CLI treats as a reader that is done, as for `-o -`.
    """
    try:
        stream = open(path, mode, **kwargs)
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    is_stdout = _is_stdout(stream)
    try:
        with stream:
            yield stream
    except OSError as e:
        if isinstance(e, BrokenPipeError) and is_stdout:
            raise
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None


def _is_stdout(stream):
    try:
        return os.path.samestat(os.fstat(stream.fileno()), os.fstat(1))
    except (OSError, ValueError):
        return False


def remove_stale_temporaries(target):
    """Remove temporary files of killed runs that wrote `target`; warn about live ones.

    Only files named as `atomic_write` names them for this very target are considered,
    and only when no process with the pid in the name exists on this machine.
    """
    directory = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    pattern = os.path.join(glob.escape(directory), f".{glob.escape(base)}.w2v-*{_TEMP_SUFFIX}")
    name = re.compile(re.escape(f".{base}.w2v-") + r"(\d+)-[^/]+" + re.escape(_TEMP_SUFFIX) + "$")
    for stale in glob.glob(pattern):
        match = name.match(os.path.basename(stale))
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and not _process_exists(pid):
            with contextlib.suppress(OSError):
                os.unlink(stale)
                log.info("removed %s, left by an interrupted run (pid %d)", stale, pid)
        elif pid != os.getpid():
            log.warning("%s belongs to process %d, which is still running: another run "
                        "writing %s? left it alone", stale, pid, target)


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True
