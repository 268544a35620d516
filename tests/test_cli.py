"""CLI plumbing: exit codes, one-line errors, --config, stdout for data only."""

import os
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
    import w2v.text.token_ids

    modes = []
    original = w2v.text.token_ids.TokenIds.__init__

    def spy(self, keep=True, *args, **kwargs):
        modes.append(keep)
        original(self, keep, *args, **kwargs)

    monkeypatch.setattr(w2v.text.token_ids.TokenIds, "__init__", spy)
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
    import w2v.corpus.corpus
    import w2v.glove.model  # noqa: F401  imported before the patch: they bind load_corpus
    import w2v.svd.svd  # noqa: F401
    import w2v.word2vec.model  # noqa: F401

    def no_reading(*args, **kwargs):
        raise AssertionError("the corpus was read before the output was checked")

    monkeypatch.setattr(w2v.corpus.corpus, "load_corpus", no_reading)
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


@pytest.mark.parametrize("line, message", [
    ("window = [1, 2]", "window = [1, 2]: expected an integer"),
    ("dim = true", "dim = true: expected an integer"),
    ("epochs = 1.7", "epochs = 1.7: expected an integer"),
    ("alpha = \"fast\"", "alpha = \"fast\": expected a number"),
    ("hs = 1", "hs = 1: expected true or false"),
    ("model = 3", "model = 3: expected a string"),
    ("min-count = 0", "min-count = 0: 0 is not in the range x>=1"),
    ("corpus = \"a.txt\"", "corpus = \"a.txt\": expected a list of strings"),
])
def test_config_values_of_the_wrong_type(line, message, corpus, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(line + "\n")
    result = run(["train", corpus, "--config", str(config), "-o", str(tmp_path / "v.bin")])
    assert_one_line_error(result, 2, f"{config}: {message}")
    assert not (tmp_path / "v.bin").exists()


def test_config_values_of_the_right_type(corpus, tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text("min-count = 1\nsample = 0\nalpha = 1\nhs = true\nnegative = 0\n"
                      "model = \"cbow\"\nepochs = 1\ndim = 4\nthreads = 1\n")
    out = tmp_path / "v.txt"
    assert main(["train", corpus, "--config", str(config), "-o", str(out), "-q"]) == 0
    assert out.read_text().startswith("3 4\n")


PRESET_COMMANDS = {"sgns": "train", "cbow": "train", "glove": "glove", "svd": "svd",
                   "svd-levy": "svd"}


@pytest.mark.parametrize("preset", sorted(PRESET_COMMANDS))
def test_presets_load_by_name_from_any_directory(preset, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([PRESET_COMMANDS[preset], "--config", preset, "--help"]) == 0
    assert main([PRESET_COMMANDS[preset], "--config", f"{preset}.toml", "--help"]) == 0


def test_unknown_preset_lists_the_presets(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(run(["vocab", corpus, "--config", "sgn"]), 2,
                          "no file sgn, and no preset of that name (presets: sgns, cbow, glove, "
                          "svd, svd-levy)")


def test_repository_presets_are_the_packaged_ones():
    import pathlib

    import w2v

    repo = pathlib.Path(__file__).resolve().parent.parent / "configs"
    packaged = pathlib.Path(w2v.__file__).parent / "configs"
    if not repo.is_dir():
        pytest.skip("not run from a checkout")
    names = sorted(p.name for p in repo.glob("*.toml"))
    assert names == sorted(p.name for p in packaged.glob("*.toml"))
    assert names == sorted(f"{name}.toml" for name in PRESET_COMMANDS)
    assert repo.resolve() == packaged.resolve()


@pytest.mark.parametrize("args", [["similar"], ["analogy"], ["train", "-", "--min-count", "1"],
                                  ["vocab", "-"], ["convert", "-", "-o", "-"]])
def test_closed_stdin(args, tmp_path):
    """`w2v similar <&-`: Python sets sys.stdin to None when file descriptor 0 is closed."""
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 2\na 1 0\nb 0 1\n")
    extra = ["-v", str(vectors)] if args[0] in ("similar", "analogy") else []
    extra += ["-o", str(tmp_path / "out.bin")] if args[0] == "train" else []
    result = subprocess.run([sys.executable, "-m", "w2v.cli", *args, *extra],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            preexec_fn=lambda: os.close(0))
    assert_one_line_error(result, 1, "stdin is closed")


def test_stdin_answers_stay_aligned_with_blank_lines(tmp_path):
    import json

    vectors = tmp_path / "v.txt"
    vectors.write_text("3 2\na 1 0\nb 0 1\nc 1 1\n")
    queries = "a\n\n   \nb\n"
    text = run(["similar", "-n", "1", "-v", str(vectors)], stdin=queries)
    assert text.returncode == 0 and text.stderr == ""
    assert text.stdout.split("\n") == ["c\t0.7071", "", "", "c\t0.7071", ""]
    as_json = run(["similar", "-n", "1", "-v", str(vectors), "--json"], stdin=queries)
    answers = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert as_json.returncode == 0 and len(answers) == 4
    assert answers[1] == answers[2] == {"query": [], "results": []}
    assert answers[3]["query"] == ["b"]


def test_top_level_help_lists_every_command_with_a_whole_summary(capsys):
    from w2v.cli import cli

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    commands = out.split("Commands:\n", 1)[1].splitlines()
    assert len(commands) == len(cli.commands)
    for line in commands:
        name, summary = line.split(None, 1)
        assert summary.endswith(".") and not summary.endswith("..."), line
        assert summary == cli.commands[name].short_help
    assert "Train GloVe vectors (Pennington et al. 2014)." in out


def test_config_checks_custom_option_types_by_their_name(corpus, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("threads = 1.5\n")  # --threads has its own click type, named "integer"
    assert_one_line_error(run(["train", corpus, "--config", str(config)]), 2,
                          "threads = 1.5: expected an integer")
