"""SIGINT and SIGTERM: deferred around kernels, one line on stderr, no stray files."""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from w2v.runtime import signals
from w2v.cli import main


@pytest.fixture
def fresh_signals(monkeypatch):
    """The module as a library sees it: install() not called, the handlers Python set."""
    saved = {signum: signal.getsignal(signum) for signum in signals.SIGNALS}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(signals, "_installed", False)
    monkeypatch.setattr(signals, "_pending", None)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_deferred_records_and_raises_on_leaving(fresh_signals):
    signals.install()
    with pytest.raises(signals.Interrupted) as caught:
        with signals.deferred():
            signal.raise_signal(signal.SIGTERM)
            assert signals.pending() == signal.SIGTERM
            reached = True
    assert reached and caught.value.signum == signal.SIGTERM and caught.value.exit_code == 143
    assert signals.pending() is None


def test_check_raises_at_the_safe_point(fresh_signals):
    signals.install()
    with pytest.raises(KeyboardInterrupt) as caught:  # Interrupted is a KeyboardInterrupt
        with signals.deferred():
            signals.check()
            signal.raise_signal(signal.SIGINT)
            signals.check()
            pytest.fail("check() did not raise")
    assert isinstance(caught.value, signals.Interrupted) and caught.value.exit_code == 130


def test_nested_blocks_raise_only_at_the_outermost(fresh_signals):
    signals.install()
    with pytest.raises(signals.Interrupted):
        with signals.deferred():
            with signals.deferred():
                signal.raise_signal(signal.SIGINT)
            inner_left = True
    assert inner_left


def test_without_install_the_previous_handler_gets_the_signal(fresh_signals):
    with pytest.raises(KeyboardInterrupt) as caught:
        with signals.deferred():
            signal.raise_signal(signal.SIGINT)
            reached = True
    assert reached and not isinstance(caught.value, signals.Interrupted)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_installed_handler_raises_at_once(fresh_signals):
    signals.install()
    with pytest.raises(signals.Interrupted):
        signal.raise_signal(signal.SIGTERM)


def test_interrupt_inside_a_numba_result_is_reported_as_such(tmp_path, capsys, monkeypatch):
    """What numba raises when a handler fires while it boxes a result (see w2v.runtime.signals)."""
    import w2v.corpus.corpus

    def boxing_hit(*args, **kwargs):
        try:
            raise signals.Interrupted(signal.SIGTERM)
        except signals.Interrupted as e:
            raise SystemError("CPUDispatcher(...) returned a result with an exception set") \
                from e

    monkeypatch.setattr(w2v.corpus.corpus, "count_corpus", boxing_hit)
    (tmp_path / "c.txt").write_text("a b\n")
    assert main(["vocab", str(tmp_path / "c.txt")]) == 143
    assert capsys.readouterr().err == "w2v: error: terminated\n"


# --------------------------------------------------------------------------- real processes


@pytest.fixture(scope="module")
def long_corpus(tmp_path_factory):
    """Enough text that many epochs take far longer than the test waits."""
    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(500)])
    lines = [" ".join(words[rng.zipf(1.3, 40) % 500]) for _ in range(5000)]
    path = tmp_path_factory.mktemp("signals") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def stray_temporaries(directory):
    return [name for name in os.listdir(directory) if ".w2v-" in name]


def signal_when(args, cwd, ready, signum):
    """Start `w2v ARGS`, send `signum` once a stderr line contains `ready`, and wait."""
    process = subprocess.Popen([sys.executable, "-m", "w2v.cli", *args], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in process.stderr:
            seen.append(line)
            if ready in line:
                process.send_signal(signum)
                break
        else:
            pytest.fail("the run ended before the signal:\n" + "".join(seen))
        _, rest = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, rest


@pytest.mark.parametrize("command", [["train"], ["glove", "--window", "2"]])
@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
def test_signal_during_training(command, signum, code, word, long_corpus, tmp_path):
    out = tmp_path / "vectors.bin"
    out.write_text("precious\n")
    args = [*command, long_corpus, "--epochs", "100000", "--dim", "10", "--threads", "2",
            "--min-count", "1", "-o", str(out)]
    returncode, rest = signal_when(args, tmp_path, "epoch 1/", signum)
    assert returncode == code, rest
    assert "Traceback" not in rest and "" not in rest.splitlines()  # click's blank line
    assert [line for line in rest.splitlines() if line.startswith("w2v: error")] \
        == [f"w2v: error: {word}"]
    assert rest.splitlines()[-1] == f"w2v: error: {word}"
    assert out.read_text() == "precious\n" and stray_temporaries(tmp_path) == []


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path):
    """The writer signals itself half-way through the file, as a `kill` would."""
    out = tmp_path / "out.txt"
    out.write_text("precious\n")
    script = textwrap.dedent(f"""
        import os, signal, sys
        import numpy as np
        from w2v.files import formats
        from w2v.cli import main
        from w2v.vectors.word_vectors import WordVectors

        formats.save_vectors(WordVectors([f"w{{i}}" for i in range(20000)],
                                         np.ones((20000, 3), np.float32)), {str(tmp_path / "v.bin")!r})
        write_text = formats._write_text

        def slow_text(stream, wv, header):
            stream.write(b"partial data")
            os.kill(os.getpid(), signal.SIGTERM)
            write_text(stream, wv, header)

        formats._write_text = slow_text
        sys.exit(main(["convert", {str(tmp_path / "v.bin")!r}, "-o", {str(out)!r}]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 143 and result.stderr == "w2v: error: terminated\n"
    assert out.read_text() == "precious\n" and stray_temporaries(tmp_path) == []
