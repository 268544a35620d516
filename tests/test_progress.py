"""Progress bars: drawn on a terminal that reports 0 columns, labelled from the first frame."""

import fcntl
import io
import logging
import os
import pty
import select
import struct
import subprocess
import sys
import termios

import pytest

from w2v.runtime.progress import DEFAULT_SIZE, Bar, terminal_size


def read_all(fd, process=None):
    """Everything written to the pty master `fd` until the writer is done."""
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if process is None or process.poll() is not None:
                return out
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every writer has closed the other side
            return out
        if not chunk:
            return out
        out += chunk


def frames(output):
    """The bar frames in terminal output: '\\r'-separated pieces that draw a bar."""
    text = output.decode("utf-8", "replace")
    return [piece for line in text.split("\n") for piece in line.split("\r") if "%|" in piece]


@pytest.fixture
def no_size_env(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


def test_a_terminal_of_zero_columns_still_gets_a_bar(no_size_env):
    master, slave = pty.openpty()  # a fresh pty reports 0 x 0, as under `script`
    try:
        assert os.get_terminal_size(slave).columns == 0
        with open(slave, "w", closefd=False) as stderr:
            with Bar(True, 100, unit="w", desc="epoch 1/5", file=stderr) as bar:
                bar.update(100)
        shown = frames(read_all(master))
    finally:
        os.close(master)
        os.close(slave)
    assert shown and shown[0].startswith("epoch 1/5")
    assert all(len(frame) == DEFAULT_SIZE[0] - 1 for frame in shown), shown


def test_size_falls_back_to_the_environment_then_a_default(monkeypatch, no_size_env):
    assert terminal_size(io.StringIO()) == (DEFAULT_SIZE[0] - 1, DEFAULT_SIZE[1] - 1)
    monkeypatch.setenv("COLUMNS", "120")
    assert terminal_size(io.StringIO())[0] == 119


def test_log_lines_go_above_the_bar(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)  # as the CLI logs: to stderr, the bar's file
    log = logging.getLogger("w2v")
    handler = logging.StreamHandler(stream)
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.INFO)
    try:
        with Bar(True, 10, unit="w", desc="epoch 1/2") as bar:
            log.info("epoch 1/2: loss 1.0")
            bar.update(10, desc="epoch 2/2")
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    lines = stream.getvalue().split("\n")
    logged = next(line for line in lines if "loss 1.0" in line)
    assert logged.rstrip("\r ").endswith("epoch 1/2: loss 1.0")
    assert "%|" not in logged.split("\r")[-1]  # the bar was cleared before the line


def test_a_disabled_bar_does_nothing():
    stream = io.StringIO()
    with Bar(False, 10, unit="w", desc="x", file=stream) as bar:
        bar.update(5, desc="y", postfix="z")
    assert stream.getvalue() == ""


@pytest.mark.parametrize("columns", [0, 100])
@pytest.mark.parametrize("command", ["train", "glove"])
def test_the_first_frame_names_the_epoch(command, columns, tmp_path, no_size_env):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b a\nc a b\n" * 300)
    master, slave = pty.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30 if columns else 0,
                                                           columns, 0, 0))
        process = subprocess.Popen(
            [sys.executable, "-m", "w2v.cli", command, str(corpus), "--min-count", "1",
             "--epochs", "2", "--dim", "4", "--threads", "1", "-o", str(tmp_path / "v.bin")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        slave = None
        output = read_all(master, process)
        assert process.wait() == 0, output
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    epochs = [frame for frame in frames(output) if not frame.startswith(("reading", "counting"))]
    assert epochs and epochs[0].startswith("epoch 1/2"), frames(output)
    assert "█" in epochs[-1] or "#" in epochs[-1]
    assert all(len(frame) == (columns or DEFAULT_SIZE[0]) - 1 for frame in epochs)
