"""Double-Hard Debias (w2v/double_hard.py) on small vectors with a planted frequency
direction and a planted gender direction, and `w2v debias --method double-hard`."""

import os
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_main
from w2v.bias import double_hard
from w2v.bias.hard import hard_debias
from w2v.errors import InputError
from w2v.files.formats import load_vectors, save_vectors
from w2v.vectors.word_vectors import WordVectors

DIM = 12
GENDER, FREQUENCY = 0, 1  # coordinates; 2-4 carry large variance unrelated to either
PER_SIDE = 60  # planted on each side; the clustering words are the 50 most extreme
CLUSTER = 50
NEUTRAL = 400
PAIRS = [("he", "she"), ("his", "her"), ("man", "woman"), ("boy", "girl")]
SPECIFIC = [w for pair in PAIRS for w in pair]
SEARCHED = 4  # the planted frequency direction is the 4th principal component


def name(prefix, i):
    """An alphabetic word: clustering words are lowercase letters only."""
    letters = ""
    for _ in range(3):
        i, r = divmod(i, 26)
        letters += chr(ord("a") + r)
    return prefix + letters


def planted(seed=0):
    """Definitional pairs, then PER_SIDE male and female words, then NEUTRAL others.

    The male words of the pairs are also the more frequent (+1.5 on the frequency
    coordinate, the female -1.5), so the pairs' direction mixes gender and frequency and
    hard debiasing along it leaves gender in the male and female words. Frequency varies
    most among the neutral words; three other coordinates vary more still."""
    rng = np.random.default_rng(seed)
    pairs = np.zeros((2 * len(PAIRS), DIM))
    pairs[:, GENDER] = np.tile([2.0, -2.0], len(PAIRS))
    pairs[:, FREQUENCY] = np.tile([1.5, -1.5], len(PAIRS))
    gendered = np.zeros((2 * PER_SIDE, DIM))
    gendered[:, GENDER] = np.repeat([3.0, -3.0], PER_SIDE)
    gendered[:, FREQUENCY] = rng.normal(scale=0.3, size=2 * PER_SIDE)
    neutral = np.zeros((NEUTRAL, DIM))
    neutral[:, FREQUENCY] = rng.normal(scale=2.0, size=NEUTRAL)
    neutral[:, 2:5] = rng.normal(size=(NEUTRAL, 3)) * [4.0, 3.5, 3.0]
    others = np.vstack([gendered, neutral])
    others += rng.normal(scale=0.3, size=others.shape)
    rows = np.vstack([pairs, others])
    words = (SPECIFIC + [name("m", i) for i in range(PER_SIDE)]
             + [name("f", i) for i in range(PER_SIDE)] + [name("n", i) for i in range(NEUTRAL)])
    return WordVectors(words, rows.astype(np.float32))


def run(wv=None, **kwargs):
    args = dict(definitional=PAIRS, equalize=PAIRS, specific=SPECIFIC, searched=SEARCHED,
                per_side=CLUSTER)
    return double_hard.double_hard_debias(planted() if wv is None else wv, **{**args, **kwargs})


def test_the_chosen_component_is_the_planted_frequency_direction():
    wv = planted()
    result = run(wv)
    _, pcs = double_hard.principal_components(wv.vectors, SEARCHED)
    assert [int(np.argmax(np.abs(pc))) for pc in pcs] == [2, 3, 4, FREQUENCY]
    assert result.component == 3
    # Hard debiasing alone leaves the male and female words apart; removing the frequency
    # direction first brings 2-means near chance, removing any other does not.
    assert result.original_accuracy == 1.0 and result.hard_accuracy > 0.9
    others = [a for i, a in enumerate(result.accuracies) if i != result.component]
    assert result.accuracies[result.component] < 0.7 < min(others)


def test_double_hard_from_the_package():
    import w2v

    assert w2v.double_hard_debias is double_hard.double_hard_debias


def test_clustering_words_are_the_he_she_extremes_outside_the_specific_list():
    result = run()
    for side in ("male", "female"):
        words = result.cluster_words[side]
        assert len(set(words)) == CLUSTER and all(w.startswith(side[0]) for w in words)


def test_the_output_is_hard_debiased_after_removing_the_component():
    wv = planted()
    result = run(wv)
    out = result.vectors
    g = result.hard.basis[0]
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1, atol=1e-6)
    neutral = [w for w in wv.words if w not in SPECIFIC]
    assert np.abs(out.vectors_for(neutral) @ g).max() < 1e-5
    for a, b in PAIRS:  # equalised: symmetric about every neutral word
        assert out[a] @ g == pytest.approx(-(out[b] @ g), abs=1e-5)
        assert np.allclose(out.vectors_for(neutral) @ out[a],
                           out.vectors_for(neutral) @ out[b], atol=1e-5)
    # The component went first: the output is hard debiasing of the centred vectors
    # without it, and the direction found there is (nearly) pure gender.
    mean, pcs = double_hard.principal_components(wv.vectors, SEARCHED)
    u = pcs[result.component]
    centred = wv.vectors - mean
    expected = hard_debias(WordVectors(wv.words, centred - np.outer(centred @ u, u)),
                           PAIRS, PAIRS, SPECIFIC).vectors.vectors
    assert np.allclose(out.vectors, expected, atol=1e-5)
    assert abs(g[GENDER]) > 0.95
    assert abs(hard_debias(wv, PAIRS, PAIRS, SPECIFIC).basis[0][GENDER]) < 0.9


def test_kmeans_is_seeded_and_splits_two_blobs():
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(size=(50, 3)), rng.normal(size=(50, 3)) + [20, 0, 0]])
    truth = np.repeat([0, 1], 50)
    labels = double_hard.kmeans(x, 2, seed=7)
    assert np.array_equal(labels, double_hard.kmeans(x, 2, seed=7))
    assert np.array_equal(labels, truth) or np.array_equal(labels, 1 - truth)
    assert double_hard.cluster_accuracy(x, truth) == 1.0
    assert double_hard.cluster_accuracy(x, 1 - truth) == 1.0  # either labelling


def test_weat_words_among_the_clustering_words_are_reported_not_avoided():
    wv = planted()
    words = list(wv.words)
    first_male = len(SPECIFIC)
    words[first_male] = "john"  # a WEAT name, as male as the others
    result = run(WordVectors(words, wv.vectors))
    assert "john" in result.cluster_words["male"] and result.overlap == ["john"]


def test_double_hard_errors():
    wv = planted()
    with pytest.raises(InputError, match="components searched must be between 1 and"):
        run(wv, searched=DIM + 1)
    with pytest.raises(InputError, match="components searched must be between 1 and"):
        run(wv, searched=0)
    with pytest.raises(InputError, match="Double-Hard needs 2000 clustering words"):
        run(wv, per_side=1000)
    with pytest.raises(InputError, match="must both be in the vocabulary"):
        run(wv, direction=("he", "it"))
    with pytest.raises(InputError, match="no definitional pair"):
        run(wv, definitional=[("cat", "dog")])


@pytest.fixture
def vector_file(tmp_path):
    path = str(tmp_path / "v.bin")
    save_vectors(planted(), path)
    (tmp_path / "pairs.txt").write_text("".join(f"{a} {b}\n" for a, b in PAIRS))
    (tmp_path / "specific.txt").write_text("\n".join(SPECIFIC) + "\n")
    return path


def test_debias_method_double_hard_from_the_command_line(vector_file, tmp_path, capsys):
    out = str(tmp_path / "d.bin")
    lists = ["--pairs", str(tmp_path / "pairs.txt"), "--equalize", str(tmp_path / "pairs.txt"),
             "--specific", str(tmp_path / "specific.txt")]
    code, _, err = run_main(["debias", "-v", vector_file, "-o", out, "--method", "double-hard",
                             "--components-searched", str(SEARCHED), "--cluster-words",
                             str(CLUSTER), "--no-report", *lists], capsys)
    assert code == 0, err
    assert "removed principal component 4 of 4" in err
    assert "WEAT words among them (not used to choose anything): none" in err
    expected = run().vectors.vectors
    assert np.allclose(load_vectors(out).vectors, expected, atol=1e-6)


@pytest.mark.parametrize("args, fragment", [
    (["--components-searched", "50"], "components searched must be between 1 and the "
                                      "vectors' dimension 12, got 50"),
    (["--cluster-words", "5000"], "Double-Hard needs 10000 clustering words"),
])
def test_bad_double_hard_options_are_one_line_errors(vector_file, tmp_path, capsys, args,
                                                     fragment):
    out = tmp_path / "d.bin"
    code, _, err = run_main(["debias", "-v", vector_file, "-o", str(out), "--method",
                             "double-hard", *args], capsys)
    assert code != 0 and not out.exists()
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("args, fragment", [
    (["--method", "double-hard", "--components-searched", "0"], "--components-searched"),
    (["--method", "double-hard", "--cluster-words", "0"], "--cluster-words"),
    (["--method", "double-hard", "--iterations", "2"], "--iterations applies to --method inlp"),
    (["--cluster-words", "100"], "--cluster-words applies to --method double-hard only"),
    (["--method", "inlp", "--components-searched", "5"],
     "--components-searched applies to --method double-hard only"),
])
def test_options_of_other_methods_are_usage_errors(vector_file, tmp_path, capsys, args,
                                                   fragment):
    code, _, err = run_main(["debias", "-v", vector_file, "-o", str(tmp_path / "d.bin"),
                             *args], capsys)
    assert code == 2 and fragment in err


def test_debias_double_hard_does_not_import_numba(vector_file, tmp_path):
    script = ("import sys\nfrom w2v.cli import main\n"
              f"assert main(['debias', '-v', {vector_file!r}, '-o', "
              f"{str(tmp_path / 'd.bin')!r}, '--method', 'double-hard', "
              f"'--components-searched', '4', '--cluster-words', '50', '-q']) == 0\n"
              "assert 'numba' not in sys.modules, 'numba was imported'\n")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": repo}, cwd=repo)
    assert result.returncode == 0, result.stderr
