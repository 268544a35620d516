"""Placeholder of the signal API (the hardening branch brings the real module)."""

import contextlib
import signal
import threading


class Interrupted(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum


_pending = []


def install():
    def handler(signum, frame):
        raise Interrupted(signum)
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@contextlib.contextmanager
def deferred():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def record(signum, frame):
        _pending.append(signum)
    for s in old:
        signal.signal(s, record)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    check()


def pending():
    return _pending[0] if _pending else None


def check():
    if _pending:
        signum = _pending.pop(0)
        _pending.clear()
        raise Interrupted(signum)
