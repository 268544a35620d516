"""Analogy and similarity evaluation: known answers, coverage, errors, agreement with gensim."""

import math

import numpy as np
import pytest

from w2v.errors import InputError, OptionError
from w2v.vectors.evaluate import bundled_dataset, evaluate_analogies, evaluate_similarity
from w2v.vectors.word_vectors import WordVectors

QUESTIONS = bundled_dataset("questions-words.txt")
WORDSIM = bundled_dataset("wordsim353.txt")


def test_bundled_datasets_exist():
    with open(QUESTIONS, encoding="utf-8") as f:
        assert f.readline().startswith(": capital-common-countries")
    with open(WORDSIM, encoding="utf-8") as f:
        assert len(f.readline().split("\t")) == 3


@pytest.fixture
def royals():
    rows = {
        "king": [1.0, 1.0, 0.0, 0.0], "queen": [1.0, -1.0, 0.0, 0.0],
        "man": [0.0, 1.0, 0.1, 0.0], "woman": [0.0, -1.0, 0.1, 0.0],
        "Man": [0.0, -1.0, 0.2, 0.0],  # a case variant that must lose to "man"
        "boy": [0.0, 1.0, 0.0, 1.0], "girl": [0.0, -1.0, 0.0, 1.0],
        "apple": [0.0, 0.0, 1.0, 0.3],
    }
    return WordVectors(list(rows), np.array(list(rows.values()), dtype=np.float32))


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_analogy_accuracy_sections_and_coverage(tmp_path, royals):
    path = write(tmp_path / "q.txt", ": family\nMAN WOMAN KING QUEEN\nman woman boy girl\n"
                                     "man woman duke duchess\n\n: gram-x\nking queen man woman\n")
    result = evaluate_analogies(royals, path)
    family, gram = result.sections
    assert (family.name, family.correct, family.seen, family.total) == ("family", 2, 2, 3)
    assert (gram.name, gram.correct, gram.seen, gram.total) == ("gram-x", 1, 1, 1)
    assert result.semantic.accuracy == 1.0 and result.syntactic.accuracy == 1.0
    assert result.overall.total == 4 and result.coverage == 0.75 and result.accuracy == 1.0
    as_dict = result.to_dict()
    assert as_dict["total"]["correct"] == 3 and as_dict["sections"][0]["section"] == "family"


def test_case_sensitive_analogies_and_restriction(tmp_path, royals):
    path = write(tmp_path / "q.txt", ": s\nMAN WOMAN KING QUEEN\nman woman king queen\n")
    assert evaluate_analogies(royals, path, case_insensitive=False).overall.seen == 1
    restricted = evaluate_analogies(royals, path, restrict_vocab=3)  # no "woman"
    assert restricted.overall.seen == 0 and math.isnan(restricted.accuracy)
    assert restricted.to_dict()["accuracy"] is None


def test_3cosmul_evaluation(tmp_path, royals):
    path = write(tmp_path / "q.txt", ": s\nman woman king queen\n")
    assert evaluate_analogies(royals, path, method="3cosmul").accuracy == 1.0
    with pytest.raises(OptionError):
        evaluate_analogies(royals, path, method="3cosbad")


def test_malformed_analogy_line_is_named(tmp_path, royals):
    path = write(tmp_path / "q.txt", ": s\nman woman king queen\nman woman king\n")
    with pytest.raises(InputError, match=r"q\.txt: line 3: expected 4 words"):
        evaluate_analogies(royals, path)
    with pytest.raises(InputError, match="cannot read"):
        evaluate_analogies(royals, tmp_path / "missing.txt")


def test_similarity_correlations_and_coverage(tmp_path, royals):
    path = write(tmp_path / "s.txt", "# comment\nking queen 5\nman  woman\t4\n\n"
                                     "king apple 0.5\nboy girl 6\nking duke 9\n")
    result = evaluate_similarity(royals, path)
    assert (result.pairs_used, result.pairs_total) == (4, 5) and result.coverage == 0.8
    assert -1 <= result.spearman <= 1 and -1 <= result.pearson <= 1


def test_similarity_with_no_known_pair_gives_nan(tmp_path, royals):
    result = evaluate_similarity(royals, write(tmp_path / "s.txt", "duke duchess 5\n"))
    assert result.pairs_used == 0 and math.isnan(result.spearman)
    assert result.to_dict()["spearman"] is None


def test_malformed_similarity_line_is_named(tmp_path, royals):
    with pytest.raises(InputError, match="line 2: expected 'word1 word2 score'"):
        evaluate_similarity(royals, write(tmp_path / "s.txt", "king queen 5\nking queen high\n"))


# --------------------------------------------------------------------------- gensim agreement


def _words_of(path, skip_prefix):
    words = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith(skip_prefix):
                words.extend(line.split()[:4] if skip_prefix == ":" else line.split("\t")[:2])
    return list(dict.fromkeys(words))


@pytest.fixture(scope="module")
def structured(question_sample):
    """Vectors over the words of both bundled files, lowercased, with case variants, filler
    words, and a few hundred planted analogy answers so that accuracy is far from zero."""
    rng = np.random.default_rng(11)
    base = [w.lower() for w in _words_of(QUESTIONS, ":") + _words_of(WORDSIM, "#")]
    base = list(dict.fromkeys(base))
    variants = [w.capitalize() for w in rng.choice(base, 60, replace=False)]
    filler = [f"filler{i}" for i in range(300)]
    words = base + variants + filler
    order = rng.permutation(len(words))
    words = [words[i] for i in order]
    dim = 24
    vectors = rng.standard_normal((len(words), dim)).astype(np.float32)
    index = {w: i for i, w in enumerate(words)}

    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    with open(question_sample, encoding="utf-8") as f:
        questions = [line.lower().split() for line in f if not line.startswith(":")]
    for q in rng.choice(len(questions), len(questions) // 2, replace=False):
        a, b, c, d = (index[w] for w in questions[q])
        vectors[d] = unit[b] - unit[a] + unit[c] + 0.3 * rng.standard_normal(dim)
    # Similarity structure: the second word of a pair leans on the first by its score.
    with open(WORDSIM, encoding="utf-8") as f:
        for line in f:
            w1, w2, score = line.split("\t")
            i, j = index[w1.lower()], index[w2.lower()]
            vectors[j] += float(score) / 10 * vectors[i]
    return WordVectors(words, vectors)


@pytest.fixture(scope="module")
def question_sample(tmp_path_factory):
    """A tenth of questions-words (every section kept), to keep gensim's loop fast."""
    rng = np.random.default_rng(5)
    lines = []
    with open(QUESTIONS, encoding="utf-8") as f:
        for line in f:
            if line.startswith(":") or rng.random() < 0.1:
                lines.append(line)
    path = tmp_path_factory.mktemp("eval") / "questions-sample.txt"
    path.write_text("".join(lines), encoding="utf-8")
    return str(path)


def gensim_kv(wv):
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(wv.dim)
    kv.add_vectors(wv.words, wv.vectors)
    return kv


@pytest.mark.parametrize("restrict_vocab", [800, 30000])
def test_analogies_agree_with_gensim(structured, question_sample, restrict_vocab):
    kv = gensim_kv(structured)
    ours = evaluate_analogies(structured, question_sample, restrict_vocab=restrict_vocab)
    score, sections = kv.evaluate_word_analogies(question_sample, restrict_vocab=restrict_vocab)
    assert ours.accuracy > 0.05
    assert ours.accuracy == pytest.approx(score, abs=0.001)
    theirs = {s["section"]: s for s in sections}
    for section in ours.sections:
        counts = theirs[section.name]
        assert section.correct == len(counts["correct"])
        assert section.seen == len(counts["correct"]) + len(counts["incorrect"])


@pytest.mark.filterwarnings("ignore:Call to deprecated")  # gensim's own init_sims call
def test_3cosmul_evaluation_agrees_with_gensim_cosmul(structured, question_sample):
    restrict = 900
    kv = gensim_kv(WordVectors(structured.words[:restrict], structured.vectors[:restrict]))
    correct = seen = 0
    with open(question_sample, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if line.startswith(":") or not all(w in kv.key_to_index for w in words):
                continue
            a, b, c, d = words
            seen += 1
            correct += kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1)[0][0] == d
    ours = evaluate_analogies(structured, question_sample, restrict_vocab=restrict,
                              method="3cosmul", case_insensitive=False)
    assert ours.overall.seen == seen and seen > 50
    assert ours.overall.correct == correct


def test_similarity_agrees_with_gensim(structured):
    kv = gensim_kv(structured)
    ours = evaluate_similarity(structured, WORDSIM)
    pearson, spearman, oov_ratio = kv.evaluate_word_pairs(WORDSIM, restrict_vocab=len(structured))
    assert ours.spearman > 0.2
    assert ours.spearman == pytest.approx(spearman[0], abs=0.001)
    assert ours.pearson == pytest.approx(pearson[0], abs=0.001)
    assert 100 * (1 - ours.coverage) == pytest.approx(oov_ratio)
