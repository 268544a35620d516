"""`w2v similar`, `w2v analogy`, `w2v evaluate`: output formats, stdin mode, errors, no numba."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from w2v.files.formats import save_vectors
from w2v.vectors.word_vectors import WordVectors

from cli_helpers import assert_one_line_error, run_main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def vectors(tmp_path):
    rows = {
        "king": [1.0, 1.0, 0.0], "queen": [1.0, -1.0, 0.0],
        "man": [0.0, 1.0, 0.1], "woman": [0.0, -1.0, 0.1],
        "prince": [0.8, 0.9, 0.2], "apple": [0.0, 0.0, 1.0], "pear": [0.1, 0.0, 0.9],
    }
    path = tmp_path / "royals.bin"
    save_vectors(WordVectors(list(rows), np.array(list(rows.values()), np.float32)), path)
    return str(path)


def test_similar_prints_word_tab_score(vectors, capsys, monkeypatch):
    code, out, err = run_main(["similar", "apple", "-n", "2", "-v", vectors], capsys, monkeypatch)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["pear", "prince"]
    assert all(len(line.split("\t")[1].split(".")[1]) == 4 for line in lines)


def test_analogy_text_and_json(vectors, capsys, monkeypatch):
    code, out, _ = run_main(["analogy", "king", "man", "woman", "-v", vectors], capsys, monkeypatch)
    assert code == 0 and out.splitlines()[0].startswith("queen\t")
    code, out, _ = run_main(["analogy", "king", "man", "woman", "-v", vectors, "--json",
                             "--method", "3cosmul", "-n", "1"], capsys, monkeypatch)
    assert code == 0
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["word"] == "queen" and isinstance(record["score"], float)


def test_vectors_from_the_environment(vectors, capsys, monkeypatch):
    monkeypatch.setenv("W2V_VECTORS", vectors)
    code, out, _ = run_main(["similar", "king", "-n", "1"], capsys, monkeypatch)
    assert code == 0 and out.startswith("prince\t")


def test_stdin_queries_with_an_unknown_word(vectors, capsys, monkeypatch):
    code, out, err = run_main(["similar", "-v", vectors, "-n", "2"], capsys, monkeypatch,
                              stdin="apple\nkong\n\nking queen\n")
    assert code == 1
    lines = out.split("\n")
    assert lines[0].startswith("pear\t") and lines[0].count("\t") == 3
    assert lines[1] == "" and lines[2] == "" and lines[3].startswith("prince\t")
    assert len(lines) == 5  # a blank input line is answered by an empty line too
    assert "stdin line 2: not in the vocabulary: kong" in err
    assert err.strip().splitlines()[-1] == "w2v: error: 1 of 3 queries failed"


def test_stdin_analogies_as_json(vectors, capsys, monkeypatch):
    code, out, _ = run_main(["analogy", "-v", vectors, "--json", "-n", "1"], capsys, monkeypatch,
                            stdin="king man woman\nking man\nking man duchess\n")
    assert code == 1
    first, short, unknown = (json.loads(line) for line in out.splitlines())
    assert first["query"] == ["king", "man", "woman"] and first["results"][0]["word"] == "queen"
    assert "expected 3 words" in short["error"]
    assert unknown == {"query": ["king", "man", "duchess"],
                       "error": "not in the vocabulary: duchess"}


def test_unknown_words_on_the_command_line(vectors, capsys, monkeypatch):
    code, out, err = run_main(["analogy", "king", "duke", "duchess", "-v", vectors],
                              capsys, monkeypatch)
    assert code == 1 and out == ""
    assert_one_line_error(err, "not in the vocabulary: duke, duchess")


def test_analogy_needs_three_words(vectors, capsys, monkeypatch):
    code, _, err = run_main(["analogy", "king", "man", "-v", vectors], capsys, monkeypatch)
    assert code == 2 and "three words" in err


def test_missing_default_vectors_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("W2V_VECTORS", raising=False)
    code, _, err = run_main(["similar", "king"], capsys, monkeypatch)
    assert code == 1
    assert_one_line_error(err, "no vectors file vectors.bin")
    assert "w2v train" in err and "-v" in err


def test_missing_explicit_vectors_file(tmp_path, capsys, monkeypatch):
    code, _, err = run_main(["similar", "king", "-v", str(tmp_path / "nope.txt")],
                            capsys, monkeypatch)
    assert code == 1
    assert_one_line_error(err, "cannot read")


def test_malformed_vectors_file_names_the_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "bad.txt"
    path.write_text("2 3\nking 1 2 3\nqueen 1 2\n")
    code, _, err = run_main(["similar", "king", "-v", str(path)], capsys, monkeypatch)
    assert code == 1
    assert_one_line_error(err, "bad.txt: line 3")


def test_evaluate_table_and_json(vectors, tmp_path, capsys, monkeypatch):
    questions = tmp_path / "q.txt"
    questions.write_text(": family\nman woman king queen\nman woman duke duchess\n")
    pairs = tmp_path / "s.txt"
    pairs.write_text("king queen 8\nking apple 1\napple pear 9\nman duke 5\n")
    args = ["evaluate", vectors, "--analogies", str(questions), "--similarity", str(pairs)]
    code, out, _ = run_main(args + ["--method", "both"], capsys, monkeypatch)
    assert code == 0
    assert "family" in out and "100.0%" in out and "coverage: 1 of 2 questions (50.0%)" in out
    assert "3cosmul" in out and "spearman" in out and "pairs 3 of 4" in out
    code, out, _ = run_main(args + ["--json"], capsys, monkeypatch)
    report = json.loads(out)
    assert report["analogies"][0]["total"] == {"section": "total", "correct": 1, "seen": 1,
                                                "total": 2, "accuracy": 1.0}
    assert report["similarity"][0]["pairs_used"] == 3


def test_evaluate_defaults_to_the_bundled_datasets(vectors, capsys, monkeypatch):
    code, out, _ = run_main(["evaluate", vectors], capsys, monkeypatch)
    assert code == 0
    assert "questions-words.txt" in out and "wordsim353.txt" in out and "of 19544 questions" in out


def _subword_files(tmp_path):
    """A subword model file and a fastText .bin of the same random 2-gram..4-gram model."""
    from w2v.config import Word2VecConfig
    from w2v.files.fasttext import write_fasttext_bin
    from w2v.files.model_file import write_model

    words, bucket = ["king", "queen", "man", "woman", "kings"], 17
    rng = np.random.default_rng(0)
    w_in = rng.standard_normal((len(words) + bucket, 4)).astype(np.float32)
    w_out = rng.standard_normal((len(words), 4)).astype(np.float32)
    counts = [5, 4, 3, 2, 1]
    config = Word2VecConfig(subwords=True, dim=4, minn=2, maxn=4, bucket=bucket, min_count=1)
    model = str(tmp_path / "sub.w2v")
    write_model(model, "word2vec", {"config": config.to_dict()}, words, counts,
                {"w_in": w_in, "w_out": w_out, "w_hs": np.zeros((1, 4), np.float32)})
    fasttext_bin = str(tmp_path / "sub.bin")
    write_fasttext_bin(fasttext_bin, words, counts, w_in, w_out, bucket=bucket, minn=2, maxn=4)
    return model, fasttext_bin


def test_reading_commands_do_not_import_numba(vectors, tmp_path):
    model, fasttext_bin = _subword_files(tmp_path)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("king kingz 5\nman woman 3\nqueen queens 4\n")
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['similar', 'king', '-v', {vectors!r}]) == 0\n"
        f"assert main(['analogy', 'king', 'man', 'woman', '-v', {vectors!r}]) == 0\n"
        f"assert main(['evaluate', {vectors!r}]) == 0\n"
        f"assert main(['convert', {vectors!r}, '-o', {vectors + '.txt'!r}, '-q']) == 0\n"
        f"for path in ({model!r}, {fasttext_bin!r}):\n"
        "    assert main(['similar', 'kingz', '-v', path]) == 0\n"
        "    assert main(['analogy', 'kingz', 'man', 'womenz', '-v', path]) == 0\n"
        f"    assert main(['evaluate', path, '--similarity', {str(pairs)!r}]) == 0\n"
        "    assert main(['convert', path, '-o', path + '.vec', '-q']) == 0\n"
        f"assert main(['convert', {model!r}, '-o', {fasttext_bin + '2'!r}, '--fasttext']) == 0\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_convert_between_formats_round_trips(vectors, tmp_path, capsys, monkeypatch):
    from w2v.files.formats import load_vectors

    original = load_vectors(vectors)
    glove = tmp_path / "royals.glove.txt"
    back = tmp_path / "back.bin"
    assert run_main(["convert", vectors, "-o", str(glove), "--no-header"], capsys,
                    monkeypatch)[0] == 0
    first_line = glove.read_text().splitlines()[0].split()
    assert first_line[0] == "king" and len(first_line) == 4  # GloVe: no "V D" header line
    assert run_main(["convert", str(glove), "-o", str(back)], capsys, monkeypatch)[0] == 0
    assert back.read_bytes() == open(vectors, "rb").read()  # same binary file again
    restored = load_vectors(str(back))
    assert restored.words == original.words
    assert np.array_equal(restored.vectors, original.vectors)


def test_convert_limit_and_normalize_to_stdout(vectors, capsys, monkeypatch):
    code, out, err = run_main(["convert", vectors, "-o", "-", "--limit", "2", "--normalize"],
                              capsys, monkeypatch)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "2 3" and [line.split()[0] for line in lines[1:]] == ["king", "queen"]
    king = np.array(lines[1].split()[1:], dtype=np.float64)
    assert abs(np.linalg.norm(king) - 1.0) < 1e-6


def test_convert_errors(vectors, tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 3\nking 1 2 3\nqueen 1 two 3\n")
    code, _, err = run_main(["convert", str(bad), "-o", str(tmp_path / "out.bin")], capsys,
                            monkeypatch)
    assert code != 0
    assert_one_line_error(err, "line 3")
    assert not (tmp_path / "out.bin").exists()
    code, _, err = run_main(["convert", vectors, "-o", str(tmp_path / "x"), "--binary",
                             "--no-header"], capsys, monkeypatch)
    assert code == 2 and "--no-header" in err
