"""WEAT (w2v.bias.weat) and hard debiasing (w2v.bias.hard) on tiny vectors worked out by hand."""

import itertools
import json
import math

import numpy as np
import pytest

from w2v.bias import weat as bias
from w2v.bias import hard as debias
from w2v.errors import InputError, OptionError, VocabularyError
from w2v.vectors.word_vectors import WordVectors
from wefe_reference import WEFE_ROWS, WEFE_SETS, wefe_figures


def vectors(rows):
    return WordVectors(list(rows), np.array(list(rows.values()), dtype=np.float32))


# s(w) = cos(w, A) - cos(w, B) with A along x and B along y:
#   x1 (1,0): 1 - 0 = 1       x2 (3,4): 0.6 - 0.8 = -0.2
#   y1 (0,1): 0 - 1 = -1      y2 (4,3): 0.8 - 0.6 = 0.2
# a2 is a1 scaled: cosines do not see length.
BY_HAND = vectors({"x1": [1, 0], "x2": [3, 4], "y1": [0, 1], "y2": [4, 3],
                   "a1": [1, 0], "a2": [5, 0], "b1": [0, 2]})
BY_HAND_TEST = bias.WeatTest("by-hand", ("x1", "x2"), ("y1", "y2"), ("a1", "a2"), ("b1",))


def test_weat_by_hand():
    result = bias.weat(BY_HAND, BY_HAND_TEST)
    # S = (1 - 0.2) - (-1 + 0.2) = 1.6; d = (0.4 - -0.4) / std([1, -0.2, -1, 0.2]) = 0.8 / sqrt(0.52)
    assert result.statistic == pytest.approx(1.6, abs=1e-12)
    assert result.effect_size == pytest.approx(0.8 / math.sqrt(0.52), abs=1e-12)
    # X_i sums over the 6 splits: 0.8, 0, 1.2, -1.2, 0, -0.8; two are >= 0.8.
    assert result.p_value == pytest.approx(2 / 6) and result.p_method == "exact"
    assert result.partitions == 6 and result.coverage == 1.0


def test_swapping_the_targets_flips_the_sign():
    swapped = bias.WeatTest("swapped", ("y1", "y2"), ("x1", "x2"), ("a1", "a2"), ("b1",))
    result = bias.weat(BY_HAND, swapped)
    assert result.statistic == pytest.approx(-1.6) and result.effect_size < 0
    assert result.p_value == pytest.approx(5 / 6)  # all but the -1.2 split reach -0.8


def brute_force_p(wv, test):
    """The p-value from its definition, recomputing S for every split of X u Y."""
    unit = {w: wv[w] / np.linalg.norm(wv[w]) for w in wv.words}

    def s(w):
        return (np.mean([unit[w] @ unit[a] for a in test.a])
                - np.mean([unit[w] @ unit[b] for b in test.b]))

    def statistic(xs, ys):
        return sum(s(x) for x in xs) - sum(s(y) for y in ys)

    observed = statistic(test.x, test.y)
    pool = test.x + test.y
    splits = list(itertools.combinations(pool, len(test.x)))
    hits = sum(statistic(xs, [w for w in pool if w not in xs]) >= observed - 1e-9
               for xs in splits)
    return hits / len(splits)


def random_case(seed, n_x=5, n_y=4, dim=6):
    rng = np.random.default_rng(seed)
    names = ([f"x{i}" for i in range(n_x)] + [f"y{i}" for i in range(n_y)]
             + [f"a{i}" for i in range(3)] + [f"b{i}" for i in range(3)])
    wv = WordVectors(names, rng.normal(size=(len(names), dim)))
    test = bias.WeatTest("random", tuple(names[:n_x]), tuple(names[n_x:n_x + n_y]),
                         ("a0", "a1", "a2"), ("b0", "b1", "b2"))
    return wv, test


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_p_value_is_the_enumeration(seed):
    wv, test = random_case(seed)
    result = bias.weat(wv, test)
    assert result.p_method == "exact" and result.partitions == math.comb(9, 5)
    assert result.p_value == pytest.approx(brute_force_p(wv, test), abs=1e-12)


def test_sampled_p_value_is_seeded_and_close_to_the_exact_one():
    wv, test = random_case(3, 6, 6)
    exact = bias.weat(wv, test).p_value
    first = bias.weat(wv, test, permutations=500, seed=7)
    again = bias.weat(wv, test, permutations=500, seed=7)
    assert first.p_method == "sampled" and first.partitions == 500
    assert first.p_value == again.p_value
    assert abs(first.p_value - exact) < 0.1  # 500 draws: standard error at most 0.023


def test_ties_count_as_reaching_the_statistic():
    s = np.array([0.3, 0.1, 0.2, 0.2, 0.1, 0.3])  # X's sum 0.6 is reached by many splits
    p, method, total = bias.permutation_p_value(s, 3)
    sums = [sum(c) for c in itertools.combinations(s, 3)]
    assert method == "exact" and total == 20
    assert p == sum(x >= 0.6 - 1e-12 for x in sums) / 20


def test_words_are_found_as_written_else_lowercased_and_missing_ones_reported():
    wv = vectors({"john": [1, 0], "amy": [0, 1], "work": [1, 0.1], "home": [0.1, 1]})
    test = bias.WeatTest("names", ("John", "Kevin"), ("Amy",), ("work",), ("home", "kids"))
    result = bias.weat(wv, test)
    assert result.found == {"X": ["John"], "Y": ["Amy"], "A": ["work"], "B": ["home"]}
    assert result.missing == {"X": ["Kevin"], "Y": [], "A": [], "B": ["kids"]}
    assert result.coverage == pytest.approx(4 / 6)


def test_a_set_left_empty_is_an_error_naming_the_test_and_set():
    test = bias.WeatTest("empty", ("x1",), ("nope", "nada"), ("a1",), ("b1",))
    with pytest.raises(VocabularyError, match=r"test empty: no word of set Y"):
        bias.weat(BY_HAND, test)
    results, failures = bias.run_tests(BY_HAND, [BY_HAND_TEST, test])
    assert [r.test.name for r in results] == ["by-hand"] and len(failures) == 1


def test_the_standard_tests_are_caliskans():
    tests = bias.standard_tests()
    assert len(tests) == 10
    career = tests["gender-career"]
    assert career.x[:2] == ("John", "Paul") and "family" in career.b and len(career.a) == 8
    assert tests["flowers-insects"].b != tests["race-names"].b  # unpleasant_5a vs 5b
    assert {"bomb", "evil"} <= set(tests["race-names"].b)


def test_select_tests_by_name_and_unknown_names(tmp_path):
    assert [t.name for t in bias.select_tests(["gender-math", "gender-career"])] == [
        "gender-math", "gender-career"]
    assert len(bias.select_tests()) == 10
    with pytest.raises(OptionError, match="unknown test 'gender'.*gender-career"):
        bias.select_tests(["gender"])


def test_user_tests_from_toml(tmp_path):
    path = tmp_path / "tests.toml"
    path.write_text('[by-hand]\ndescription = "mine"\nX = ["x1", "x2"]\nY = ["y1", "y2"]\n'
                    'A = ["a1", "a2"]\nB = ["b1"]\nA_name = "along x"\n')
    [test] = bias.select_tests([], path)  # a file and no names: the file's tests
    assert test.description == "mine" and test.names == ("X", "Y", "along x", "B")
    assert bias.weat(BY_HAND, test).statistic == pytest.approx(1.6)
    assert [t.name for t in bias.select_tests(["by-hand", "gender-math"], path)] == [
        "by-hand", "gender-math"]


@pytest.mark.parametrize("text, message", [
    ("[t]\nX = []\nY = ['a']\nA = ['a']\nB = ['b']\n", "X must be a non-empty list"),
    ("[t]\nX = ['a']\nY = ['a']\nA = ['a']\n", "B must be a non-empty list"),
    ("[t]\nX = ['a']\nY = ['a']\nA = ['a']\nB = ['b']\nC = ['c']\n", "unknown key 'C'"),
    ("t = 1\n", "t is not a table"),
    ("[t\n", "not valid TOML"),
    ("", "no tests in the file"),
])
def test_malformed_tests_files(tmp_path, text, message):
    path = tmp_path / "tests.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        bias.read_tests(path)


def test_missing_word_lists(tmp_path):
    with pytest.raises(InputError, match="cannot read the tests file"):
        bias.read_tests(tmp_path / "nope.toml")
    with pytest.raises(InputError, match="cannot read the WEAT word lists"):
        bias.standard_tests(tmp_path / "nope.json")
    (tmp_path / "sets.json").write_text(json.dumps({"flowers": ["rose"]}))
    with pytest.raises(InputError, match="no word set 'insects'"):
        bias.standard_tests(tmp_path / "sets.json")


# --------------------------------------------------------------------------- WEFE

# WEFE_ROWS (integer vectors, exact in float32) and WEFE_SETS live in wefe_reference.py,
# which runs WEFE on them; WEFE 1.0.1 gave these figures (command in its docstring).
WEFE_FIGURES = {"statistic": 5.092645597954591, "effect_size": 1.53732943418062}


def wefe_test():
    return bias.WeatTest("wefe", *(tuple(s) for s in WEFE_SETS))


def test_weat_agrees_with_wefes_recorded_figures():
    result = bias.weat(vectors(WEFE_ROWS), wefe_test())
    assert result.statistic == pytest.approx(WEFE_FIGURES["statistic"], abs=1e-6)
    assert result.effect_size == pytest.approx(WEFE_FIGURES["effect_size"], abs=1e-6)


def test_weat_agrees_with_wefe_run_now():
    pytest.importorskip("wefe")

    figures = wefe_figures(WEFE_ROWS, WEFE_SETS)
    result = bias.weat(vectors(WEFE_ROWS), wefe_test())
    assert result.statistic == pytest.approx(figures["statistic"], abs=1e-6)
    assert result.effect_size == pytest.approx(figures["effect_size"], abs=1e-6)


# --------------------------------------------------------------------------- debiasing


def gendered(dim=6, seed=0):
    """Vectors with a gender axis (coordinate 0) plus noise, for the shipped lists."""
    rng = np.random.default_rng(seed)
    words = {"he": 1, "she": -1, "his": 1, "her": -1, "man": 1, "woman": -1, "boy": 1,
             "girl": -1, "father": 1, "mother": -1, "king": 1, "queen": -1,
             "doctor": 0.4, "nurse": -0.5, "engineer": 0.6, "homemaker": -0.7, "table": 0.0}
    rows = rng.normal(scale=0.3, size=(len(words), dim))
    rows[:, 0] += np.array(list(words.values())) * 2
    return WordVectors(list(words), rows)


def test_hard_debias_neutralises_and_equalises():
    wv = gendered()
    result = debias.hard_debias(wv)
    out = result.vectors
    g = result.basis[0]
    assert np.allclose(np.linalg.norm(out.vectors, axis=1), 1, atol=1e-6)
    assert g @ (wv.unit[wv.index["woman"]] - wv.unit[wv.index["man"]]) > 0  # first pair's way
    for word in ("doctor", "nurse", "engineer", "homemaker", "table"):  # neutral words
        assert abs(out[word] @ g) < 1e-5
    for a, b in (("he", "she"), ("man", "woman"), ("king", "queen")):  # equalised pairs
        assert (a, b) in result.equalized or (b, a) in result.equalized
        assert out[a] @ g == pytest.approx(-(out[b] @ g), abs=1e-5)
        for word in ("doctor", "nurse"):
            assert out[a] @ out[word] == pytest.approx(out[b] @ out[word], abs=1e-5)
    assert result.neutralized == 5 and len(result.definitional) == 5


def test_hard_debias_lowers_the_bias_of_neutral_words():
    wv = gendered()
    test = bias.WeatTest("jobs", ("doctor", "engineer"), ("nurse", "homemaker"),
                         ("he", "man"), ("she", "woman"))
    before = bias.weat(wv, test).statistic
    after = bias.weat(debias.hard_debias(wv).vectors, test).statistic
    assert before > 0.5 and abs(after) < 0.1 * before


def test_a_bias_subspace_of_two_components():
    result = debias.hard_debias(gendered(), components=2)
    assert result.basis.shape == (2, 6)
    assert np.allclose(result.basis @ result.basis.T, np.eye(2), atol=1e-9)
    assert np.abs(result.vectors["table"] @ result.basis.T).max() < 1e-5


def test_debias_lists_from_files(tmp_path):
    (tmp_path / "pairs.txt").write_text("# mine\nshe he\nwoman man\n")
    (tmp_path / "keep.json").write_text('["he", "she"]')
    pairs = debias.read_pairs(tmp_path / "pairs.txt", "definitional pairs")
    assert pairs == [("she", "he"), ("woman", "man")]
    result = debias.hard_debias(gendered(), pairs, [("king", "queen")],
                                debias.read_words(tmp_path / "keep.json", "words"))
    assert result.neutralized == len(gendered()) - 2 and result.equalized == [("king", "queen")]


def test_debias_errors(tmp_path):
    with pytest.raises(InputError, match="cannot read the definitional pairs"):
        debias.read_pairs(tmp_path / "nope.json", "definitional pairs")
    (tmp_path / "bad.txt").write_text("she he it\n")
    with pytest.raises(InputError, match="entry 1: expected a pair of words"):
        debias.read_pairs(tmp_path / "bad.txt", "definitional pairs")
    (tmp_path / "empty.json").write_text("[]")
    with pytest.raises(InputError, match="no entries"):
        debias.read_words(tmp_path / "empty.json", "words")
    with pytest.raises(InputError, match="no definitional pair has both words"):
        debias.hard_debias(gendered(), [("cat", "dog")], [], [])


def test_more_components_than_pairs_is_an_error():
    with pytest.raises(InputError, match="3 bias components asked, but 2 definitional pairs"):
        debias.hard_debias(gendered(), [("she", "he"), ("her", "his")], [], [], components=3)


def test_compare_debiased_from_python():
    import w2v

    wv = gendered()
    test = bias.WeatTest("jobs", ("doctor", "engineer"), ("nurse", "homemaker"),
                         ("he", "man"), ("she", "woman"))
    comparison = w2v.compare_debiased(wv, w2v.hard_debias(wv).vectors, [test])
    [before], [after] = comparison.weat_before, comparison.weat_after
    assert before.test is after.test is test and abs(after.statistic) < abs(before.statistic)
    assert math.isnan(before.p_value)  # the report skips the permutation test
    assert comparison.similarity[0].pairs_total == 353  # the bundled WS353
    assert comparison.analogies[1].overall.total == 19544  # the bundled questions-words
