"""Hot output rows: with threads, each chunk trains on its own copies of the most written
output rows and merges them into the shared ones (`sgns.HotRows`). The merge keeps every
chunk's changes, the copies are of the heaviest rows, and a chunk on its copies trains as it
would on the shared rows."""

import numpy as np
import pytest

from w2v.word2vec import kernels as sgns
from w2v.config import Word2VecConfig
from w2v.corpus.corpus import load_corpus
from w2v.word2vec.model import KERNELS, _tables, _with_room, init_model, launch_seeds, train_word2vec


def test_a_merge_keeps_what_every_chunk_changed():
    matrix = np.array([[1.0, 1.0], [5.0, 5.0], [9.0, 9.0], [0, 0], [0, 0]], np.float32)
    first, copy = 1, 3  # hot rows 1 and 2; the chunk's copies are rows 3 and 4
    matrix[copy:] = matrix[first:first + 2]
    base = matrix[copy:].copy()
    matrix[copy:] += np.float32(2.0)  # this chunk added 2 to its copies
    matrix[:copy] += np.float32(4.0)  # meanwhile another chunk added 4 to every shared row
    sgns._merge_rows(matrix, first, copy, base)
    np.testing.assert_array_equal(matrix[:copy], [[5, 5], [11, 11], [15, 15]])
    np.testing.assert_array_equal(matrix[copy:], matrix[first:copy])
    np.testing.assert_array_equal(base, matrix[first:copy])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(60)]
    p = 1.0 / np.arange(1, 61)
    lines = [" ".join(rng.choice(words, size=12, p=p / p.sum())) for _ in range(400)]
    path = tmp_path_factory.mktemp("hot") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return load_corpus([str(path)], min_count=1)


def test_the_last_huffman_nodes_are_the_most_visited(corpus):
    """HotRows takes the last-built inner nodes as the heaviest: check it on the tree."""
    model = init_model(Word2VecConfig(hs=True), corpus.vocab)
    tables = _tables(model)
    visits = np.zeros(len(model.w_hs))
    for word, count in enumerate(corpus.vocab.counts):
        visits[tables.points[word, :tables.code_lens[word]]] += count
    assert visits[-1] == sum(corpus.vocab.counts)  # the root, on every path
    for hot in (1, 8, 20):
        assert visits[-hot:].min() >= visits[:-hot].max()


def test_hot_rows_copy_the_most_frequent_words_and_the_last_nodes(corpus):
    model = init_model(Word2VecConfig(hs=True, negative=5), corpus.vocab)
    n_words, dim = len(corpus.vocab), model.w_in.shape[1]
    w_out = np.arange((n_words + 2 * 8) * dim, dtype=np.float32).reshape(-1, dim)
    w_hs = -np.arange((n_words - 1 + 2 * 8) * dim, dtype=np.float32).reshape(-1, dim)
    settings = sgns.Settings(0, 5, 5, True, True, 10, 8)
    hot = sgns._hot_rows(settings, n_words, w_out, w_hs, 1)  # chunk 1: the second copies
    np.testing.assert_array_equal(w_out[n_words + 8:], w_out[:8])
    np.testing.assert_array_equal(w_hs[n_words - 1 + 8:], w_hs[n_words - 1 - 8:n_words - 1])
    assert (hot.out_n, hot.out_first, hot.hs_first) == (8, n_words + 8, n_words - 9)
    assert hot.hs_first + hot.hs_shift == n_words - 1 + 8


@pytest.mark.parametrize("options", [
    dict(model="sg", kernel="classic", hs=True),
    dict(model="sg", kernel="batched", hs=True),
    dict(model="cbow", kernel="classic", hs=True),
    dict(model="cbow", kernel="batched"),
    dict(model="sg", kernel="classic", subwords=True, minn=2, maxn=3, bucket=500),
    dict(model="cbow", kernel="classic", subwords=True, minn=2, maxn=3, bucket=500, hs=True),
])
def test_a_chunk_on_its_copies_trains_as_on_the_shared_rows(corpus, options):
    """One chunk, nobody else writing: the copies only move where the sums are rounded (a
    row read from the shared matrix but written to its copy moves by 1e-2 and more)."""
    config = Word2VecConfig(dim=16, window=3, sample=0, epochs=1, **options)
    offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    tokens = sgns.Tokens(np.ascontiguousarray(corpus.ids), offsets)
    bounds = np.array([[0, len(offsets) - 1]], np.int64)
    launch = sgns.train_launch_subwords_serial if config.subwords else sgns.train_launch_serial
    results = []
    for hot_rows in (0, 16):
        model = init_model(config, corpus.vocab)
        settings = sgns.Settings(KERNELS[config.model, config.kernel], config.window,
                                 config.negative, config.hs, config.cbow_mean,
                                 int(np.diff(offsets).max()), hot_rows)
        model.w_out, w_out = _with_room(model.w_out, hot_rows if config.negative else 0)
        model.w_hs, w_hs = _with_room(model.w_hs, hot_rows if config.hs else 0)
        weights = sgns.Weights(model.w_in, w_out, w_hs)
        launch(tokens, weights, _tables(model), settings, bounds, launch_seeds(1, 0, 0, 1),
               0.025, 0.0001)
        results.append(model)
    plain, hot = results
    assert np.abs(plain.w_out - init_model(config, corpus.vocab).w_out).max() > 0.01
    for name in ("w_in", "w_out", "w_hs"):
        np.testing.assert_allclose(getattr(hot, name), getattr(plain, name), atol=1e-4)


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_two_threads_with_hs_learn_planted_topics(tmp_path, model):
    rng = np.random.default_rng(7)
    lines = []
    for _ in range(1500):
        topic = rng.integers(4)
        lines.append(" ".join(f"t{topic}w{w}" for w in rng.integers(10, size=rng.integers(6, 14))))
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    wv = train_word2vec(load_corpus([str(path)], min_count=1), model=model, dim=16, window=3,
                        sample=0, epochs=5, threads=2, launches_per_epoch=3, hs=True,
                        negative=0)
    unit = wv.unit
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argsort(-sims, axis=1)[:, :3]
    topics = np.array([int(w[1]) for w in wv.words])
    assert (topics[nearest] == topics[:, None]).mean() == 1.0
