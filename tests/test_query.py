"""Nearest neighbours and analogies: known answers, exclusions, and agreement with gensim."""

import numpy as np
import pytest

from w2v.errors import OptionError, VocabularyError
from w2v.vectors.query import analogy, similar
from w2v.vectors.word_vectors import WordVectors


@pytest.fixture
def royals():
    # Dimensions: royalty, maleness, fruitiness.
    rows = {
        "king": [1.0, 1.0, 0.0],
        "queen": [1.0, -1.0, 0.0],
        "man": [0.0, 1.0, 0.1],
        "woman": [0.0, -1.0, 0.1],
        "prince": [0.8, 0.9, 0.2],
        "apple": [0.0, 0.0, 1.0],
        "pear": [0.1, 0.0, 0.9],
    }
    return WordVectors(list(rows), np.array(list(rows.values()), dtype=np.float32))


@pytest.fixture
def random_wv():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(400)]
    return WordVectors(words, rng.standard_normal((400, 16)).astype(np.float32))


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul", "3CosMul"])
def test_king_minus_man_plus_woman_is_queen(royals, method):
    answers = analogy(royals, "king", "man", "woman", method=method)
    assert answers[0][0] == "queen"
    assert {"king", "man", "woman"}.isdisjoint(word for word, _ in answers)
    assert len(answers) == 4 and answers == sorted(answers, key=lambda a: -a[1])


def test_3cosadd_score_is_the_cosine_to_the_target(royals):
    word, score = analogy(royals, "king", "man", "woman", n=1)[0]
    unit = {w: royals[w] / np.linalg.norm(royals[w]) for w in royals.words}
    target = unit["king"] - unit["man"] + unit["woman"]
    assert word == "queen"
    assert score == pytest.approx(unit["queen"] @ target / np.linalg.norm(target), abs=1e-6)


def test_similar_excludes_the_query_and_ranks_by_cosine(royals):
    result = similar(royals, "apple", n=2)
    assert [w for w, _ in result] == ["pear", "prince"]
    assert result[0][1] == pytest.approx(0.9 / np.sqrt(0.82), abs=1e-6)


def test_similar_to_several_words_uses_the_mean(royals):
    words = [w for w, _ in similar(royals, ["king", "queen"], n=3)]
    assert words[0] == "prince" and "king" not in words and "queen" not in words


def test_n_larger_than_the_vocabulary(royals):
    assert len(similar(royals, "king", n=100)) == 6
    assert len(analogy(royals, "king", "man", "woman", n=100)) == 4


def test_ties_go_to_the_earlier_word():
    wv = WordVectors(["q", "b", "a", "c"], np.array([[1, 0], [1, 1], [1, 1], [0, 1]], np.float32))
    assert [w for w, _ in similar(wv, "q", n=2)] == ["b", "a"]


def test_unknown_words_are_all_named(royals):
    with pytest.raises(VocabularyError) as caught:
        analogy(royals, "king", "duke", "duchess")
    assert caught.value.words == ["duke", "duchess"]
    assert "duke" in str(caught.value) and "duchess" in str(caught.value)
    with pytest.raises(VocabularyError, match="emperor"):
        similar(royals, ["king", "emperor"])


def test_unknown_method(royals):
    with pytest.raises(OptionError, match="3cosfoo"):
        analogy(royals, "king", "man", "woman", method="3cosfoo")


def gensim_kv(wv):
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(wv.dim)
    kv.add_vectors(wv.words, wv.vectors)
    return kv


def assert_agree(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:Call to deprecated")  # gensim's own init_sims call
@pytest.mark.parametrize("query", [("w1", "w2", "w3"), ("w10", "w300", "w7"), ("w5", "w6", "w0")])
def test_3cosmul_agrees_with_gensim(random_wv, query):
    kv = gensim_kv(random_wv)
    a, b, c = query
    theirs = kv.most_similar_cosmul(positive=[a, c], negative=[b], topn=10)
    assert_agree(analogy(random_wv, a, b, c, method="3cosmul"), theirs)


@pytest.mark.parametrize("query", [("w1", "w2", "w3"), ("w10", "w300", "w7")])
def test_3cosadd_and_similar_agree_with_gensim(random_wv, query):
    kv = gensim_kv(random_wv)
    a, b, c = query
    assert_agree(analogy(random_wv, a, b, c), kv.most_similar(positive=[a, c], negative=[b]))
    assert_agree(similar(random_wv, [a, b]), kv.most_similar(positive=[a, b]))
