"""Output targets that are not regular files, symlinks, and temporaries of killed runs."""

import logging
import os
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest

from w2v.runtime.atomic import atomic_write, check_writable
from w2v.errors import OutputError
from w2v.files.formats import load_vectors, save_vectors
from w2v.vectors.word_vectors import WordVectors


@pytest.fixture
def wv():
    return WordVectors(["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2))


def temporaries(directory):
    return [p for p in os.listdir(directory) if ".w2v-" in p]


def test_fifo_is_written_in_place(tmp_path, wv):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        check_writable(str(fifo))
        save_vectors(wv, str(fifo), binary=False)
    finally:
        reader.join(10)
        if reader.is_alive():  # the FIFO was never opened for writing: release the reader
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert received == [b"3 2\na 0 1\nb 2 3\nc 4 5\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and temporaries(tmp_path) == []


def system_target(path):
    """`path`, once w2v is known to write it in place: as root, code that renamed over it
    would replace the machine's /dev/null or /dev/stdout with a regular file."""
    from w2v.runtime import atomic

    if not os.path.exists(path):
        pytest.skip(f"no {path}")
    if not getattr(atomic, "_writes_in_place", lambda p: False)(path):
        pytest.fail(f"{path} would be renamed over; not trying it")
    return path


def test_dev_null_stays_a_device(wv):
    check_writable(system_target("/dev/null"))
    save_vectors(wv, "/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dev_full_reports_the_full_device(wv):
    with pytest.raises(OutputError, match="cannot write /dev/full"):
        save_vectors(wv, system_target("/dev/full"))
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="mknod needs root")
def test_character_device_made_by_mknod(tmp_path, wv):
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # same device as /dev/null
    save_vectors(wv, str(node))
    assert stat.S_ISCHR(os.lstat(node).st_mode) and temporaries(tmp_path) == []


def test_symlink_to_a_file_replaces_the_file_not_the_link(tmp_path, wv):
    real = tmp_path / "real" / "vectors.txt"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    check_writable(str(link))
    save_vectors(wv, str(link))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load_vectors(real).words == ["a", "b", "c"]
    assert temporaries(tmp_path) == [] and temporaries(real.parent) == []


def test_dangling_symlink_creates_its_target(tmp_path, wv):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "new.txt")
    save_vectors(wv, str(link))
    assert link.is_symlink() and (tmp_path / "new.txt").read_text().startswith("3 2\n")


def test_symlink_to_stdout_of_the_process(tmp_path, wv):
    path = tmp_path / "v.bin"
    save_vectors(wv, str(path))
    link = tmp_path / "out"
    link.symlink_to("/proc/self/fd/1")
    result = subprocess.run([sys.executable, "-m", "w2v.cli", "convert", str(path), "-o",
                             str(link), "-q"], capture_output=True)
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout == b"3 2\na 0 1\nb 2 3\nc 4 5\n" and link.is_symlink()


def test_symlink_to_dev_null(tmp_path, wv):
    link = tmp_path / "sink"
    link.symlink_to("/dev/null")
    check_writable(str(link))
    save_vectors(wv, str(link))
    assert link.is_symlink() and temporaries(tmp_path) == []


def test_dev_stdout_writes_to_stdout(tmp_path, wv):
    path = tmp_path / "v.bin"
    save_vectors(wv, str(path))
    result = subprocess.run([sys.executable, "-m", "w2v.cli", "convert", str(path), "-o",
                             system_target("/dev/stdout"), "-q"], capture_output=True)
    assert result.returncode == 0 and result.stderr == b""
    assert result.stdout == b"3 2\na 0 1\nb 2 3\nc 4 5\n"


def test_process_substitution(tmp_path, wv):
    path = tmp_path / "v.bin"
    save_vectors(wv, str(path))
    script = f'{sys.executable} -m w2v.cli convert {path} -q -o >(cat > {tmp_path}/copy.txt)'
    result = subprocess.run(["bash", "-c", script + "; wait"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for _ in range(100):  # the substituted process may finish after bash's wait
        if (tmp_path / "copy.txt").stat().st_size:
            break
        threading.Event().wait(0.05)
    assert (tmp_path / "copy.txt").read_text() == "3 2\na 0 1\nb 2 3\nc 4 5\n"


def test_temporary_file_names_the_target_and_the_writer(tmp_path):
    target = tmp_path / "vectors.bin"
    with atomic_write(target) as out:
        out.write(b"x")
        [name] = temporaries(tmp_path)
    assert name.startswith(f".vectors.bin.w2v-{os.getpid()}-") and name.endswith(".tmp")
    assert target.read_bytes() == b"x" and temporaries(tmp_path) == []


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_of_a_dead_writer_is_removed(tmp_path):
    stale = tmp_path / f".vectors.bin.w2v-{dead_pid()}-abcd1234.tmp"
    stale.write_bytes(b"partial")
    other = tmp_path / f".other.bin.w2v-{dead_pid()}-abcd1234.tmp"  # another target's
    other.write_bytes(b"partial")
    with atomic_write(tmp_path / "vectors.bin") as out:
        out.write(b"x")
    assert not stale.exists() and other.exists()


def test_temporary_of_a_live_writer_is_kept_with_a_warning(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("w2v"), "propagate", True)
    live = tmp_path / f".vectors.bin.w2v-{os.getppid()}-abcd1234.tmp"
    live.write_bytes(b"partial")
    with caplog.at_level(logging.WARNING, logger="w2v"), \
            atomic_write(tmp_path / "vectors.bin") as out:
        out.write(b"x")
    assert live.exists() and "still running" in caplog.text
