"""`w2v bias`, `w2v debias`, `w2v plot`, `w2v convert --projector`: output, errors, no numba."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from w2v.bias import weat as bias
from w2v.files.formats import load_vectors, save_vectors
from w2v.vectors.word_vectors import WordVectors

from cli_helpers import assert_one_line_error, run_main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Words of the standard gender-career test (names and career/family words), with a gender
# axis on coordinate 0 that the names and the career/family words share.
CAREER = {"John": 1, "Paul": 1, "Mike": 1, "Kevin": 1, "Amy": -1, "Joan": -1, "Lisa": -1,
          "Sarah": -1, "executive": 0.5, "salary": 0.5, "office": 0.5, "home": -0.5,
          "parents": -0.5, "children": -0.5}
GENDER = {"he": 1, "she": -1, "his": 1, "her": -1, "man": 1, "woman": -1, "boy": 1,
          "girl": -1, "father": 1, "mother": -1}


@pytest.fixture
def vectors(tmp_path):
    rng = np.random.default_rng(0)
    words = {**{w.lower(): v for w, v in CAREER.items()}, **GENDER}
    rows = rng.normal(scale=0.3, size=(len(words), 8))
    rows[:, 0] += np.array(list(words.values())) * 2
    path = tmp_path / "vectors.bin"
    save_vectors(WordVectors(list(words), rows), path)
    return str(path)


@pytest.fixture
def tests_file(tmp_path):
    path = tmp_path / "tests.toml"
    path.write_text('[jobs]\nX = ["john", "paul"]\nY = ["amy", "joan"]\n'
                    'A = ["executive", "salary"]\nB = ["home", "children"]\n'
                    '[nothing]\nX = ["john"]\nY = ["zebra", "quokka"]\nA = ["office"]\n'
                    'B = ["home"]\n')
    return str(path)


# --------------------------------------------------------------------------- bias


def test_bias_table(vectors, capsys):
    code, out, err = run_main(["bias", "-v", vectors, "--test", "gender-career"], capsys)
    assert code == 0 and err == ""
    header, row, missing, *words = out.splitlines()
    assert header.split()[:3] == ["test", "effect", "size"]
    fields = row.split()
    assert fields[0] == "gender-career" and float(fields[1]) > 1 and fields[5] == "exact"
    assert fields[6] == "14/32"  # 4 + 4 of 16 names, 3 of 8 career and 3 of 8 family words
    assert missing == "not in the vocabulary:"
    assert words[0] == "  gender-career X: Steve Greg Jeff Bill"
    assert words[2].startswith("  gender-career A: management professional")


def test_bias_json_matches_the_library(vectors, capsys):
    code, out, _ = run_main(["bias", "-v", vectors, "--test", "gender-career", "--json"],
                            capsys)
    [record] = [json.loads(line) for line in out.splitlines()]
    expected = bias.weat(load_vectors(vectors), bias.standard_tests()["gender-career"])
    assert code == 0 and record["test"] == "gender-career"
    assert record["effect_size"] == pytest.approx(expected.effect_size)
    assert record["statistic"] == pytest.approx(expected.statistic)
    assert record["p_value"] == expected.p_value and record["partitions"] == 70
    assert record["found"] == {"X": 4, "Y": 4, "A": 3, "B": 3}
    assert record["sets"]["X"] == "male_names"


def test_bias_permutations_and_seed(vectors, capsys):
    args = ["bias", "-v", vectors, "--test", "gender-career", "--json", "--permutations", "50"]
    first = json.loads(run_main(args + ["--seed", "3"], capsys)[1])
    again = json.loads(run_main(args + ["--seed", "3"], capsys)[1])
    assert first["p_method"] == "sampled" and first["partitions"] == 50
    assert first["p_value"] == again["p_value"]


def test_bias_list(capsys):
    code, out, _ = run_main(["bias", "--list"], capsys)
    assert code == 0 and len(out.splitlines()) == 10 and out.startswith("flowers-insects\t")


def test_unknown_test_name(vectors, capsys):
    code, _, err = run_main(["bias", "-v", vectors, "--test", "gender"], capsys)
    assert code == 2
    assert_one_line_error(err, "unknown test 'gender'; known tests: flowers-insects")


def test_a_test_with_an_empty_set_fails_after_the_others(vectors, tests_file, capsys):
    code, out, err = run_main(["bias", "-v", vectors, "--tests-file", tests_file], capsys)
    assert code == 1
    assert out.splitlines()[1].startswith("jobs ")
    assert_one_line_error(err, "test nothing: no word of set Y (Y) is in the vocabulary")


def test_missing_word_lists(vectors, tmp_path, capsys, monkeypatch):
    code, _, err = run_main(["bias", "-v", vectors, "--tests-file", str(tmp_path / "no.toml")],
                            capsys)
    assert code == 1
    assert_one_line_error(err, "cannot read the tests file")
    monkeypatch.setattr(bias, "data_path", lambda name: str(tmp_path / name))
    code, _, err = run_main(["bias", "-v", vectors], capsys)
    assert code == 1
    assert_one_line_error(err, "cannot read the WEAT word lists")


def test_a_malformed_tests_file(vectors, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[t]\nX = 'john'\n")
    code, _, err = run_main(["bias", "-v", vectors, "--tests-file", str(path)], capsys)
    assert code == 1
    assert_one_line_error(err, "test t: X must be a non-empty list of words")


# --------------------------------------------------------------------------- debias


def test_debias_writes_unit_vectors_and_reports(vectors, tmp_path, capsys):
    out_path = tmp_path / "debiased.txt"
    code, out, err = run_main(["debias", "-v", vectors, "-o", str(out_path)], capsys)
    assert code == 0 and out == ""
    debiased = load_vectors(out_path)
    assert debiased.words == load_vectors(vectors).words
    assert np.allclose(np.linalg.norm(debiased.vectors, axis=1), 1, atol=1e-6)
    assert "from 5 definitional pairs" in err and "equalised 5 pairs" in err
    assert "gender-career" in err and "questions-words accuracy" in err
    before, after = (bias.weat(v, bias.standard_tests()["gender-career"]).statistic
                     for v in (load_vectors(vectors), debiased))
    assert abs(after) < 0.5 * abs(before)


def test_debias_quiet_and_no_report(vectors, tmp_path, capsys):
    code, _, err = run_main(["debias", "-v", vectors, "-o", str(tmp_path / "d.bin"), "-q"],
                            capsys)
    assert code == 0 and err == ""
    code, _, err = run_main(["debias", "-v", vectors, "-o", str(tmp_path / "d.bin"),
                             "--no-report"], capsys)
    assert code == 0 and "WEAT" not in err


def test_debias_with_own_lists(vectors, tmp_path, capsys):
    (tmp_path / "pairs.txt").write_text("she he\n")
    (tmp_path / "specific.txt").write_text("he\nshe\n")
    (tmp_path / "equalize.json").write_text('[["he", "she"]]')
    code, _, err = run_main(["debias", "-v", vectors, "-o", str(tmp_path / "d.bin"),
                             "--pairs", str(tmp_path / "pairs.txt"),
                             "--specific", str(tmp_path / "specific.txt"),
                             "--equalize", str(tmp_path / "equalize.json"), "--no-report"],
                            capsys)
    assert code == 0 and "from 1 definitional pairs" in err and "equalised 1 pairs" in err
    assert "neutralised 22 words" in err


@pytest.mark.parametrize("option", ["--pairs", "--specific", "--equalize"])
def test_debias_missing_word_lists(vectors, tmp_path, capsys, option):
    out_path = tmp_path / "d.bin"
    code, _, err = run_main(["debias", "-v", vectors, "-o", str(out_path), option,
                             str(tmp_path / "nope.json")], capsys)
    assert code == 1 and not out_path.exists()
    assert_one_line_error(err, "cannot read the")


def test_debias_with_no_definitional_pair_in_the_vocabulary(vectors, tmp_path, capsys):
    (tmp_path / "pairs.txt").write_text("cat dog\n")
    code, _, err = run_main(["debias", "-v", vectors, "-o", str(tmp_path / "d.bin"),
                             "--pairs", str(tmp_path / "pairs.txt")], capsys)
    assert code == 1
    assert_one_line_error(err, "no definitional pair has both words in the vocabulary")


# --------------------------------------------------------------------------- plot


def read_png(path):
    from matplotlib.image import imread

    return imread(path)


def test_plot_words_writes_a_png(vectors, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out_path = tmp_path / "words.png"
    code, _, err = run_main(["plot", "-v", vectors, "he", "she", "john", "amy",
                             "--neighbours", "2", "-o", str(out_path)], capsys)
    from w2v.vectors.plot import neighbourhood

    labels, groups = neighbourhood(load_vectors(vectors), ["he", "she", "john", "amy"], 2)
    assert labels[:4] == ["he", "she", "john", "amy"] and groups[:4] == [0, 1, 2, 3]
    assert 4 < len(labels) <= 12  # a neighbour of two words is drawn once
    assert code == 0 and f"({len(labels)} words)" in err
    image = read_png(out_path)
    assert image.shape[:2] == (650, 800)
    assert (image[:, :, :3] < 0.5).any()  # labels and points, not a blank page
    assert out_path.stat().st_size < 200_000


def test_plot_tsne_and_svg(vectors, tmp_path, capsys):
    pytest.importorskip("sklearn")
    out_path = tmp_path / "words.svg"
    code, _, err = run_main(["plot", "-v", vectors, "he", "she", "--neighbours", "3",
                             "--method", "tsne", "-o", str(out_path)], capsys)
    assert code == 0, err
    assert out_path.read_text().lstrip().startswith("<?xml")


def test_plot_loss_log(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    log_path = tmp_path / "loss.tsv"
    lines = ["epoch\tlaunch\twords\talpha\tloss\tseconds"]
    lines += [f"{e}\t{i}\t{1000 * (3 * (e - 1) + i)}\t0.02\t{3 - 0.1 * (3 * e + i)}\t1.0"
              for e in (1, 2) for i in (1, 2, 3)]
    log_path.write_text("\n".join(lines) + "\n")
    out_path = tmp_path / "loss.png"
    code, _, err = run_main(["plot", "--loss-log", str(log_path), "-o", str(out_path)], capsys)
    assert code == 0 and "(6 points)" in err
    image = read_png(out_path)
    assert image.shape[:2] == (450, 700) and (image[:, :, :3] < 0.5).any()


def test_loss_log_epochs(tmp_path):
    from w2v.vectors.plot import read_loss_log

    path = tmp_path / "glove-loss.tsv"  # glove's columns; a resumed run repeats the header
    path.write_text("epoch\tlaunch\tnonzeros\tcost\tseconds\n1\t1\t5\t0.5\t1\n1\t2\t9\t0.4\t2\n"
                    "epoch\tlaunch\tnonzeros\tcost\tseconds\n2\t1\t14\t0.3\t3\n")
    x, y, measure = read_loss_log(path)
    assert measure == "cost" and list(x) == [0.5, 1.0, 2.0] and list(y) == [0.5, 0.4, 0.3]


def test_plot_without_matplotlib(vectors, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    out_path = tmp_path / "words.png"
    code, _, err = run_main(["plot", "-v", vectors, "he", "she", "-o", str(out_path)], capsys)
    assert code == 1 and not out_path.exists()
    assert_one_line_error(err, 'pip install "w2v[plot]"')


@pytest.mark.parametrize("args, code, fragment", [
    (["he", "she", "-o", "words.gif"], 2, "name it .png, .svg or .pdf"),
    (["-o", "words.png"], 2, "give the WORDs to plot, or --loss-log FILE"),
    (["he", "--loss-log", "loss.tsv", "-o", "words.png"], 2, "not both"),
    (["he", "zebra", "-o", "words.png"], 1, "not in the vocabulary: zebra"),
    (["he", "-o", "words.png"], 1, "at least two words"),
    (["--loss-log", "missing.tsv", "-o", "loss.png"], 1, "cannot read the loss log"),
])
def test_plot_errors(vectors, tmp_path, capsys, monkeypatch, args, code, fragment):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    got, _, err = run_main(["plot", "-v", vectors] + args, capsys)
    assert got == code
    assert_one_line_error(err, fragment)
    assert not [p for p in os.listdir(tmp_path) if p.endswith((".png", ".gif"))]


def test_a_file_that_is_not_a_loss_log(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "loss.tsv"
    path.write_text("a\tb\n1\t2\n")
    code, _, err = run_main(["plot", "--loss-log", str(path), "-o", str(tmp_path / "l.png")],
                            capsys)
    assert code == 1
    assert_one_line_error(err, "expected a header with 'epoch' and 'loss' or 'cost'")


# --------------------------------------------------------------------------- projector


def test_convert_to_projector_files(vectors, tmp_path, capsys):
    directory = tmp_path / "proj"
    code, _, err = run_main(["convert", vectors, "--projector", str(directory), "--limit", "5"],
                            capsys)
    assert code == 0
    wv = load_vectors(vectors)
    rows = (directory / "tensors.tsv").read_text().splitlines()
    assert len(rows) == 5 and all(len(row.split("\t")) == wv.dim for row in rows)
    assert np.allclose([float(v) for v in rows[0].split("\t")], wv.vectors[0], rtol=1e-6)
    assert (directory / "metadata.tsv").read_text().splitlines() == wv.words[:5]


def test_convert_needs_an_output(vectors, capsys):
    code, _, err = run_main(["convert", vectors], capsys)
    assert code == 2
    assert_one_line_error(err, "give -o PATH, --projector DIR or both")


def test_projector_refuses_words_it_cannot_hold(tmp_path):
    from w2v.errors import W2VError
    from w2v.files.projector import write_projector

    wv = WordVectors(["a\tb", "c"], np.zeros((2, 2)))
    with pytest.raises(W2VError, match="tab or line break"):
        write_projector(wv, tmp_path / "proj")
    assert not (tmp_path / "proj" / "tensors.tsv").exists()


# --------------------------------------------------------------------------- imports


def test_bias_debias_plot_and_projector_do_not_import_numba(vectors, tmp_path):
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['bias', '-v', {vectors!r}, '--test', 'gender-career', '-q']) == 0\n"
        f"assert main(['debias', '-v', {vectors!r}, '-o', {str(tmp_path / 'd.bin')!r}]) == 0\n"
        f"assert main(['convert', {vectors!r}, '--projector', {str(tmp_path / 'p')!r}]) == 0\n"
        "try:\n"
        "    import matplotlib\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        f"    assert main(['plot', '-v', {vectors!r}, 'he', 'she', '-o', "
        f"{str(tmp_path / 'w.png')!r}]) == 0\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_matplotlib_is_imported_only_by_plot(vectors):
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['bias', '-v', {vectors!r}, '--test', 'gender-career', '-q']) == 0\n"
        "assert 'matplotlib' not in sys.modules and 'sklearn' not in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_projector_directory_checked_before_loading(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_main(["convert", str(tmp_path / "missing.bin"), "--projector",
                             str(blocker / "proj")], capsys)
    assert code == 1
    assert_one_line_error(err, "cannot create")  # not "cannot read missing.bin"


def test_label_boxes_are_separated_and_lone_boxes_stay():
    from w2v.vectors.plot import separate_boxes

    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 40, size=(30, 2))
    boxes = np.hstack([corners, corners + [30, 8]])  # 30 labels piled on a small area
    lone = np.array([[500, 500, 530, 508]])
    shift = separate_boxes(np.vstack([boxes, lone]))
    moved = np.vstack([boxes, lone]) + np.hstack([shift, shift])
    x0, y0, x1, y1 = (moved[:, k] for k in range(4))
    overlap = ((np.minimum(x1[:, None], x1[None]) - np.maximum(x0[:, None], x0[None]) > 1e-9)
               & (np.minimum(y1[:, None], y1[None]) - np.maximum(y0[:, None], y0[None]) > 1e-9))
    np.fill_diagonal(overlap, False)
    assert not overlap.any()
    assert np.all(shift[-1] == 0)
