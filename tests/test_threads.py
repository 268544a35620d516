"""--threads: one per physical core by default, one rule (N >= 1) everywhere, capping said aloud."""

import logging
import os

import numba
import pytest

from w2v.runtime import threads
from w2v.cli import main
from w2v.errors import OptionError


def test_hyperthreads_of_one_core_count_once(tmp_path, monkeypatch):
    # cpus 0/2 and 1/3 are sibling pairs; cpu 3 is outside the affinity mask
    siblings = {0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"}
    for cpu, text in siblings.items():
        (tmp_path / f"cpu{cpu}").write_text(text + "\n")
    monkeypatch.setattr(threads, "SIBLINGS", str(tmp_path / "cpu{cpu}"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert threads.usable_cores() == 2
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2})
    assert threads.usable_cores() == 1


def test_unreadable_topology_counts_every_usable_cpu(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "SIBLINGS", str(tmp_path / "missing{cpu}"))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 5})
    assert threads.usable_cores() == 4


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a b c a b a\nc a\n" * 20)
    return str(path)


@pytest.mark.parametrize("command", ["train", "glove", "cooccur", "svd"])
@pytest.mark.parametrize("value, message", [
    ("0", "--threads must be at least 1, got 0"),
    ("-2", "--threads must be at least 1, got -2"),
    ("two", "--threads must be a whole number, got 'two'"),
])
def test_every_command_refuses_threads_below_one_alike(command, value, message, corpus, tmp_path,
                                                       capsys):
    code = main([command, corpus, "--threads", value, "-o", str(tmp_path / "out.bin")])
    assert code == 2
    assert capsys.readouterr().err == f"w2v: error: {message}\n"


def test_library_callers_get_the_same_error():
    for bad in (0, -1):
        with pytest.raises(OptionError, match=f"^--threads must be at least 1, got {bad}$"):
            threads.configure_threads(bad)


def test_a_capped_request_is_warned_about(monkeypatch, caplog):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "_warned", set(), raising=False)
    available = numba.config.NUMBA_NUM_THREADS
    cpus = f"{available} CPU{'s' if available > 1 else ''}"
    with caplog.at_level(logging.WARNING, logger="w2v"):
        assert threads.configure_threads(available + 62) == available
        assert threads.configure_threads(available + 62) == available  # warned once
    assert caplog.messages == [f"--threads {available + 62}: only {cpus} available, "
                               f"using {available}"]
    assert numba.get_num_threads() == available
    caplog.clear()
    assert threads.configure_threads(1) == 1 and caplog.messages == []


def test_the_cli_warns_on_stderr(corpus, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(threads, "_warned", set(), raising=False)
    available = numba.config.NUMBA_NUM_THREADS
    code = main(["cooccur", corpus, "--min-count", "1", "--threads", str(available + 1),
                 "-o", str(tmp_path / "c.npz")])
    err = capsys.readouterr().err
    assert code == 0
    assert f"w2v: --threads {available + 1}: " in err and f"using {available}\n" in err, err
