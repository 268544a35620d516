"""CLI plumbing: exit codes, one-line errors, --config, stdout for data only."""

import subprocess
import sys

import pytest

from w2v.cli import main


def run(args, stdin=None):
    """Run `w2v ARGS` in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "w2v.cli", *args], input=stdin,
                          capture_output=True, text=True)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("a b c a b a\nc a\n")
    return str(path)


def assert_one_line_error(result, code, fragment):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("w2v: error:") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_vocab_prints_word_counts(corpus):
    result = run(["vocab", corpus, "--min-count", "1", "-q"])
    assert result.returncode == 0
    assert result.stdout == "a 4\nb 2\nc 2\n" and result.stderr == ""


def test_vocab_top_and_output_file(corpus, tmp_path):
    out = tmp_path / "v.txt"
    assert main(["vocab", corpus, "--min-count", "1", "--top", "1", "-o", str(out), "-q"]) == 0
    assert out.read_text() == "a 4\n"


def test_vocab_keeps_no_token_ids(corpus, tmp_path, monkeypatch):
    """`w2v vocab` only prints counts: its pass must not hold 4 bytes a token."""
    import w2v.corpus

    modes = []
    original = w2v.corpus._TokenIds.__init__

    def spy(self, keep=True, *args, **kwargs):
        modes.append(keep)
        original(self, keep, *args, **kwargs)

    monkeypatch.setattr(w2v.corpus._TokenIds, "__init__", spy)
    out = tmp_path / "v.txt"
    assert main(["vocab", corpus, "--min-count", "1", "-o", str(out), "-q"]) == 0
    assert out.read_text() == "a 4\nb 2\nc 2\n" and modes == [False]


def test_logs_go_to_stderr(corpus):
    result = run(["vocab", corpus, "--min-count", "1"])
    assert result.stdout.startswith("a 4") and "words in the vocabulary" in result.stderr


def test_config_sets_defaults_and_flags_override(corpus, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("min-count = 3\ntop = 5\n")
    assert run(["vocab", corpus, "--config", str(config), "-q"]).stdout == "a 4\n"
    assert run(["vocab", corpus, "--config", str(config), "--min-count", "2", "-q"]).stdout \
        == "a 4\nb 2\nc 2\n"


def test_config_unknown_key(corpus, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("min_cont = 3\n")
    assert_one_line_error(run(["vocab", corpus, "--config", str(config)]), 2, "unknown key")


def test_missing_corpus_file(tmp_path):
    assert_one_line_error(run(["vocab", str(tmp_path / "none.txt")]), 1, "no such file")


def test_empty_corpus(tmp_path):
    (tmp_path / "e.txt").write_text("")
    assert_one_line_error(run(["vocab", str(tmp_path / "e.txt")]), 1, "empty")


def test_min_count_empties_vocabulary(corpus):
    assert_one_line_error(run(["vocab", corpus, "--min-count", "50"]), 1, "min-count")


def test_binary_garbage_corpus(tmp_path):
    (tmp_path / "g.bin").write_bytes(bytes(range(256)) * 40)
    assert_one_line_error(run(["vocab", str(tmp_path / "g.bin")]), 1, "not text")


def test_invalid_option_value(corpus):
    assert_one_line_error(run(["vocab", corpus, "--min-count", "-3"]), 2, "--min-count")


def test_unknown_option(corpus):
    assert_one_line_error(run(["vocab", corpus, "--frobnicate"]), 2, "frobnicate")


def test_failed_run_keeps_existing_output(tmp_path, corpus):
    out = tmp_path / "v.txt"
    out.write_text("precious\n")
    result = run(["vocab", corpus, "--min-count", "99", "-o", str(out)])
    assert result.returncode == 1 and out.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".w2v-")] == []


@pytest.mark.parametrize("command", [
    ["train", "--min-count", "1", "--epochs", "1"],
    ["glove", "--min-count", "1", "--epochs", "1"],
    ["svd", "--min-count", "1", "--dim", "1"],
    ["cooccur", "--min-count", "1"],
    ["vocab"],
])
def test_unwritable_output_is_refused_before_any_work(command, corpus, tmp_path, capsys,
                                                      monkeypatch):
    import w2v.corpus

    def no_reading(*args, **kwargs):
        raise AssertionError("the corpus was read before the output was checked")

    monkeypatch.setattr(w2v.corpus, "load_corpus", no_reading)
    target = tmp_path / "missing" / "out.bin"
    code = main([command[0], corpus, *command[1:], "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("w2v: error: cannot write") and "no directory" in err
    code = main([command[0], corpus, *command[1:], "-o", str(tmp_path)])
    assert code == 1 and "it is a directory" in capsys.readouterr().err


def test_unwritable_side_outputs_are_refused_too(corpus, tmp_path, capsys):
    out = str(tmp_path / "v.bin")
    for extra in (["--save-vocab"], ["--save-context"]):
        code = main(["train", corpus, "--min-count", "1", "-o", out, *extra,
                     str(tmp_path / "nope" / "x")])
        assert code == 1 and "no directory" in capsys.readouterr().err
    code = main(["glove", corpus, "--min-count", "1", "-o", out, "--save-cooccur",
                 str(tmp_path / "nope" / "c.npz")])
    assert code == 1 and "no directory" in capsys.readouterr().err
