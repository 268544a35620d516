"""Shared test set-up."""

import logging

import pytest


@pytest.fixture(autouse=True)
def restore_logger():
    """main() points the w2v logger at the sys.stderr of its call, which capsys closes after
    the test; put the logger back so later tests do not log into a closed stream."""
    log = logging.getLogger("w2v")
    handlers, level, propagate = log.handlers[:], log.level, log.propagate
    yield
    log.handlers[:] = handlers
    log.setLevel(level)  # not a bare .level, which keeps logging's cached decision
    log.propagate = propagate
