"""Signals while w2v waits on a pipe whose writer stays open, and input without line ends:
w2v stops at once, with one line and the signal's exit code, whatever the input does."""

import os
import signal
import subprocess
import sys
import time

import pytest

from w2v.errors import InputError
from w2v.text import sources

COMMANDS = [
    ["vocab", "-"],
    ["train", "-", "-o", "{tmp}/v.bin", "--min-count", "1"],
    ["phrases", "-", "-o", "{tmp}/p.txt"],
    ["cooccur", "-", "-o", "{tmp}/c.npz", "--min-count", "1"],
]


def start(args, tmp_path):
    """w2v reading from a pipe that has a line in it and stays open."""
    command = [sys.executable, "-m", "w2v.cli", *[a.format(tmp=tmp_path) for a in args]]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, cwd=tmp_path)
    process.stdin.write(b"hello world\n")
    process.stdin.flush()
    return process


def wait_until_reading(process):
    """Until the process has started and sits in its reader (its Python is up)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open(f"/proc/{process.pid}/status") as f:
            threads = int(next(line for line in f if line.startswith("Threads:")).split()[1])
        if threads >= 2:  # the reader thread has started
            time.sleep(0.5)
            return
        time.sleep(0.05)
    pytest.fail("w2v never started reading")


def finish(process, timeout):
    started = time.monotonic()
    try:
        _, err = process.communicate(timeout=timeout)
    finally:
        process.stdin.close() if not process.stdin.closed else None
        if process.poll() is None:
            process.kill()
    return process.returncode, err.decode(), time.monotonic() - started


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("args, signum, code", [
    (COMMANDS[0], signal.SIGINT, 130), *((args, signal.SIGTERM, 143) for args in COMMANDS)],
    ids=lambda a: a[0] if isinstance(a, list) else str(a))
def test_a_signal_does_not_wait_for_the_pipe(args, signum, code, tmp_path):
    process = start(args, tmp_path)
    wait_until_reading(process)
    process.send_signal(signum)
    rc, err, seconds = finish(process, timeout=10)
    assert rc == code, err
    assert seconds < 3, f"took {seconds:.1f} s to stop"
    assert len(err.strip().splitlines()) == 1 and err.startswith("w2v: error:"), err


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("args", COMMANDS[:1], ids=lambda a: a[0])
@pytest.mark.parametrize("gap", [0.0, 0.05, 1.0])
def test_a_second_signal_still_ends_in_one_line(args, gap, tmp_path):
    process = start(args, tmp_path)
    wait_until_reading(process)
    process.send_signal(signal.SIGINT)
    time.sleep(gap)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    rc, err, _ = finish(process, timeout=10)
    assert rc == 130, err
    assert "Fatal Python error" not in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_dev_zero_is_refused_at_once(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    result = subprocess.run([sys.executable, "-m", "w2v.cli", "vocab", "/dev/zero"],
                            capture_output=True, timeout=60)
    assert result.returncode == 1
    err = result.stderr.decode()
    assert "NUL byte at byte offset 0" in err and len(err.strip().splitlines()) == 1, err


def test_a_nul_deep_in_a_line_without_end_is_found(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b c\n" + b"x" * (3 << 20) + b"\0" + b"y" * 1000)
    blocks = sources.read_blocks(sources.Source(str(path)))
    with pytest.raises(InputError, match="NUL byte at byte offset 3145734"):
        for offset, block in [(0, next(blocks))] + [(6, b) for b in blocks]:
            sources.refuse_nul(sources.Source(str(path)), block, offset)


def test_a_line_longer_than_the_bound_is_an_error_in_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_LINE_BYTES", 3 << 20)
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b c\n" + b"x" * (5 << 20))
    with pytest.raises(InputError, match="a line longer than 3 MB"):
        list(sources.read_blocks(sources.Source(str(path))))


def test_compressed_stdin_is_still_recognised(tmp_path):
    import gzip

    data = gzip.compress(b"the cat sat\nthe dog sat\n")
    result = subprocess.run([sys.executable, "-m", "w2v.cli", "vocab", "-", "--min-count", "1"],
                            input=data, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split("\n")[0] == "the 2"


def test_a_failed_dask_task_is_one_line_without_dasks_own_logging(tmp_path):
    pytest.importorskip("distributed")
    path = tmp_path / "late-nul.txt"
    path.write_bytes(b"the cat sat on the mat\n" * 5000 + b"bad \0 line\n")
    result = subprocess.run([sys.executable, "-m", "w2v.cli", "cooccur", str(path), "--dask",
                             "--workers", "1", "-o", str(tmp_path / "c.npz")],
                            capture_output=True, timeout=300)
    err = result.stderr.decode()
    assert result.returncode == 1, err
    errors = [line for line in err.splitlines() if not line.startswith("w2v: dask:")]
    assert errors == [errors[0]] and "NUL byte" in errors[0], err
