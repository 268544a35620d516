"""INLP (w2v/inlp.py) on small vectors with planted gender, and `w2v debias --method inlp`."""

import os
import subprocess
import sys

import numpy as np
import pytest

from w2v.bias import inlp
from w2v.cli import main
from w2v.bias.hard import hard_debias
from w2v.errors import InputError
from w2v.files.formats import load_vectors, save_vectors
from w2v.vectors.word_vectors import WordVectors

PER_SET = 200


def planted(dim=20, seed=0):
    """he, she, then PER_SET male, female and neutral words. Gender is planted in two
    directions: coordinate 0, which he - she shows, and coordinate 1, which it does not
    (as names keep gender outside the he - she direction)."""
    rng = np.random.default_rng(seed)
    sign = np.repeat([1.0, -1.0, 0.0], PER_SET)
    rows = rng.normal(scale=0.5, size=(3 * PER_SET, dim))
    rows[:, 0] += 1.5 * sign
    rows[:, 1] += 1.5 * sign * rng.choice([0.5, 1.5], size=3 * PER_SET)
    pronouns = np.zeros((2, dim))
    pronouns[:, 0] = [3.0, -3.0]
    pronouns[:, 2] = 1.0
    words = (["he", "she"] + [f"m{i}" for i in range(PER_SET)]
             + [f"f{i}" for i in range(PER_SET)] + [f"n{i}" for i in range(PER_SET)])
    return WordVectors(words, np.vstack([pronouns, rows]))


def separability(wv):
    """Training accuracy of a fresh least-squares classifier, male vs female words."""
    x = np.vstack([wv.vectors_for([f"m{i}" for i in range(PER_SET)]),
                   wv.vectors_for([f"f{i}" for i in range(PER_SET)])])
    labels = np.repeat([0, 1], PER_SET)
    return inlp.least_squares_classifier(np.float64(x), labels, 2)[1]


def test_training_words_are_the_extremes_and_the_neutral_ones():
    wv = planted()
    classes = inlp.training_words(wv, per_class=50, excluded=())
    words = {name: [wv.words[r] for r in rows] for name, rows in classes.items()}
    assert words["male"][0] == "he" and words["female"][0] == "she"
    assert sum(w.startswith("m") for w in words["male"]) >= 45
    assert sum(w.startswith("f") for w in words["female"]) >= 45
    assert sum(w.startswith("n") for w in words["neutral"]) >= 40
    assert len(set(np.concatenate(list(classes.values())))) == 150  # no word in two classes


def test_after_inlp_a_linear_classifier_is_at_chance():
    wv = planted()
    assert separability(wv) == 1.0
    # Hard debiasing along he - she leaves the gender planted on coordinate 1.
    hard = hard_debias(wv, [("he", "she")], [], ["he", "she"]).vectors
    assert separability(hard) > 0.9
    result = inlp.inlp_debias(wv, iterations=4, keep=["he", "she"])
    assert result.accuracies[0] > 0.8 and result.accuracies[-1] < 0.4  # 3 classes
    assert separability(result.vectors) < 0.6  # 0.5 is chance; 400 words in 12 dimensions


def test_the_output_rows_are_the_projection_of_the_input():
    wv = planted()
    result = inlp.inlp_debias(wv, iterations=3, keep=["he", "she"])
    basis = result.basis
    assert np.allclose(basis @ basis.T, np.eye(len(basis)), atol=1e-9)
    projection = np.eye(wv.dim) - basis.T @ basis
    rows = np.arange(2, len(wv))
    assert np.allclose(result.vectors.vectors[rows], wv.vectors[rows] @ projection, atol=1e-5)
    assert np.array_equal(result.vectors.vectors[:2], wv.vectors[:2])  # kept as they are
    assert result.projected == len(wv) - 2


def test_weat_words_are_never_training_words():
    wv = planted()
    words = list(wv.words)
    words[2], words[2 + PER_SET] = "john", "amy"  # WEAT names, as male and female as can be
    rows = wv.vectors.copy()
    rows[2], rows[2 + PER_SET] = rows[0], rows[1]
    wv = WordVectors(words, rows)
    result = inlp.inlp_debias(wv, iterations=1)
    trained = {w for ws in result.classes.values() for w in ws}
    assert "john" not in trained and "amy" not in trained and result.overlap == []
    unchecked = inlp.inlp_debias(wv, iterations=1, excluded=())
    assert unchecked.overlap == ["amy", "he", "john", "she"]  # he and she are WEAT words too
    assert inlp.weat_overlap(["John", "table", "Career"]) == ["career", "john"]


def test_inlp_errors():
    wv = planted()
    with pytest.raises(InputError, match="must both be in the vocabulary"):
        inlp.inlp_debias(wv, direction=("he", "her"))
    with pytest.raises(InputError, match="INLP needs at least"):
        inlp.inlp_debias(WordVectors(wv.words[:6], wv.vectors[:6]))
    with pytest.raises(InputError, match="iterations must be at least 1"):
        inlp.inlp_debias(wv, iterations=0)


def test_debias_method_inlp_from_the_command_line(tmp_path, capsys):
    path, out = str(tmp_path / "v.bin"), str(tmp_path / "d.bin")
    save_vectors(planted(), path)
    assert main(["debias", "-v", path, "-o", out, "--method", "inlp", "--iterations", "3",
                 "--no-report"]) == 0
    err = capsys.readouterr().err
    assert "INLP removed 6 directions" in err and "none of them a WEAT word" in err
    expected = inlp.inlp_debias(planted(), 3, keep=["he", "she"]).vectors.vectors
    assert np.allclose(load_vectors(out).vectors[2:], expected[2:], atol=1e-6)


@pytest.mark.parametrize("args, fragment", [
    (["--method", "inlp", "--components", "2"], "--components applies to --method hard"),
    (["--method", "inlp", "--pairs", "p.txt"], "--pairs applies to --method hard"),
    (["--iterations", "3"], "--iterations applies to --method inlp"),
])
def test_options_of_the_other_method_are_usage_errors(tmp_path, capsys, args, fragment):
    path = str(tmp_path / "v.bin")
    save_vectors(planted(), path)
    code = main(["debias", "-v", path, "-o", str(tmp_path / "d.bin"), *args])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err


def test_debias_inlp_does_not_import_numba(tmp_path):
    path = str(tmp_path / "v.bin")
    save_vectors(planted(), path)
    script = ("import sys\nfrom w2v.cli import main\n"
              f"assert main(['debias', '-v', {path!r}, '-o', {str(tmp_path / 'd.bin')!r}, "
              "'--method', 'inlp', '-q']) == 0\n"
              "assert 'numba' not in sys.modules, 'numba was imported'\n")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": repo}, cwd=repo)
    assert result.returncode == 0, result.stderr
