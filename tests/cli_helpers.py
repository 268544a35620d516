"""Helpers the command-line tests share: run `w2v` in process, check one-line errors."""

import io
import sys

from w2v.cli import main


def run_main(args, capsys, monkeypatch=None, stdin=None):
    """(exit code, stdout, stderr) of `w2v ARGS`, with `stdin` as standard input if given."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, fragment):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v: error:") and fragment in lines[0], err
