"""SIGINT and SIGTERM as one exception, `Interrupted`, raised only where it is safe.

Why deferral is needed: Python runs a signal handler between two bytecodes of the main
thread, wherever they are. A numba dispatcher, on its way back from a kernel, boxes the
result into Python objects and for that calls Python code (numba's `_numba_unpickle`
rebuilds constants such as dtypes). A handler that raises there (Python's default SIGINT
handler raises KeyboardInterrupt) leaves an exception set while the C code goes on and
returns a valid result, and CPython reports the impossible state as
`SystemError: CPUDispatcher(...) returned a result with an exception set`, chained to the
KeyboardInterrupt: a traceback instead of a clean stop. Inside `deferred()` the handler
only records the signal, and the exception is raised at the next safe point (`check()`,
or leaving the block), so kernels always return normally.

Once one signal has been raised, the run is stopping: a second Ctrl-C or SIGTERM is only
recorded, so it cannot break the cleanup and the one-line report (or Python's exit, where
an exception has nowhere to go) with a second exception.
"""

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_pending = None  # the first signal recorded while deferred
_depth = 0  # how many deferred() blocks the main thread is in
_installed = False
_stopping = False  # a signal has been raised: the run is on its way out


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; `exit_code` is the shell's 128 + signal number.

    A KeyboardInterrupt, so code that already cleans up on Ctrl-C cleans up on SIGTERM too.
    """

    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.exit_code = 128 + self.signum


def _handler(signum, frame):
    global _pending
    if _depth > 0 or (_stopping and _installed):
        if _pending is None:
            _pending = signum
        return
    raise _stop(signum)


def _stop(signum):
    """The Interrupted to raise for `signum`; from now on the run is stopping."""
    global _stopping
    _stopping = _installed
    return Interrupted(signum)


def install():
    """Make SIGINT and SIGTERM raise `Interrupted` (main thread only; called by the CLI)."""
    global _installed, _stopping, _pending
    if threading.current_thread() is not threading.main_thread():
        return
    _stopping, _pending = False, None
    for signum in SIGNALS:
        signal.signal(signum, _handler)
    _installed = True


def pending():
    """The number of the signal recorded inside `deferred()` and not yet raised, or None."""
    return _pending


def check():
    """Raise `Interrupted` now if a signal was recorded; call between kernel launches."""
    global _pending
    signum = _pending
    if signum is not None and not (_stopping and _installed):
        _pending = None
        raise _stop(signum)


@contextlib.contextmanager
def deferred():
    """Inside, SIGINT and SIGTERM are recorded, not raised; on leaving, a recorded one is.

    Nestable; the outermost block restores the handlers it found. Without `install()`
    (w2v used as a library), a recorded signal is handed on to the handler that was there
    before, so Ctrl-C still raises KeyboardInterrupt and SIGTERM still terminates. A no-op
    outside the main thread, where Python never runs signal handlers anyway.
    """
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    if _depth == 0 and not _installed:
        for signum in SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not None:  # None: set from C, and could not be put back
                previous[signum] = signal.signal(signum, _handler)
    _depth += 1
    try:
        yield
    except BaseException:
        if _depth == 1:
            _pending = None  # the block failed anyway; do not raise the signal later
        raise
    finally:
        _depth -= 1
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if _depth == 0 and _pending is not None and not (_stopping and _installed):
        signum, _pending = _pending, None
        if _installed or signum not in previous:
            raise _stop(signum)
        signal.raise_signal(signum)  # the caller's own handler (or the default) decides


def ignore():
    """Ignore SIGINT and SIGTERM from now on: for a process that is exiting anyway."""
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
