"""Hot output rows: with threads, each chunk trains on its own copies of the most written
output rows and merges them into the shared ones (`sgns.HotRows`). The merge keeps every
chunk's changes, the copies are of the right rows, and a chunk on its copies trains as it
would on the shared rows."""

import numpy as np
import pytest

from w2v import sgns
from w2v.config import Word2VecConfig
from w2v.corpus import load_corpus
from w2v.train import KERNELS, _tables, init_model, launch_seeds, train_word2vec


def test_a_merge_keeps_what_every_chunk_changed():
    shared = np.array([[1.0, 1.0], [5.0, 5.0], [9.0, 9.0]], np.float32)
    ids = np.array([0, 2])
    base = shared[ids].copy()
    local = base + np.float32(2.0)  # this chunk added 2 to its copies
    shared += np.float32(4.0)  # meanwhile another chunk added 4 to every shared row
    sgns._merge_rows(shared, ids, local, base)
    np.testing.assert_array_equal(shared, [[7, 7], [9, 9], [15, 15]])
    np.testing.assert_array_equal(local, shared[ids])
    np.testing.assert_array_equal(base, shared[ids])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(60)]
    p = 1.0 / np.arange(1, 61)
    lines = [" ".join(rng.choice(words, size=12, p=p / p.sum())) for _ in range(400)]
    path = tmp_path_factory.mktemp("hot") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return load_corpus([str(path)], min_count=1)


def test_the_hot_rows_are_the_most_written(corpus):
    model = init_model(Word2VecConfig(hs=True, negative=5, sample=0), corpus.vocab)
    tables = _tables(model, hot_rows=8)
    counts = np.asarray(corpus.vocab.counts, np.float64)
    assert set(tables.hot_out) == set(np.argsort(-counts, kind="stable")[:8])
    writes = np.zeros(len(model.w_hs))
    for word, count in enumerate(counts):
        for d in range(tables.code_lens[word]):
            writes[tables.points[word, d]] += count
    hot = writes[tables.hot_hs]
    assert len(tables.hot_hs) == 8 and hot.min() >= np.delete(writes, tables.hot_hs).max()
    assert writes.argmax() in tables.hot_hs  # the root: on every path
    for ids, slot in ((tables.hot_out, tables.hot_out_slot), (tables.hot_hs, tables.hot_hs_slot)):
        np.testing.assert_array_equal(slot[ids], np.arange(len(ids)))
        assert (np.delete(slot, ids) == -1).all()
    plain = _tables(model)
    assert len(plain.hot_out) == len(plain.hot_hs) == 0 and (plain.hot_out_slot == -1).all()


@pytest.mark.parametrize("options", [
    dict(model="sg", kernel="classic", hs=True),
    dict(model="sg", kernel="batched", hs=True),
    dict(model="cbow", kernel="classic", hs=True),
    dict(model="cbow", kernel="batched"),
    dict(model="sg", kernel="classic", subwords=True, minn=2, maxn=3, bucket=500),
    dict(model="cbow", kernel="classic", subwords=True, minn=2, maxn=3, bucket=500),
])
def test_a_chunk_on_its_copies_trains_as_on_the_shared_rows(corpus, options):
    """One chunk, nobody else writing: the copies only move where the sums are rounded."""
    config = Word2VecConfig(dim=16, window=3, sample=0, epochs=1, **options)
    offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    tokens = sgns.Tokens(np.ascontiguousarray(corpus.ids), offsets)
    settings = sgns.Settings(KERNELS[config.model, config.kernel], config.window,
                             config.negative, config.hs, config.cbow_mean,
                             int(np.diff(offsets).max()))
    bounds = np.array([[0, len(offsets) - 1]], np.int64)
    launch = sgns.train_launch_subwords_serial if config.subwords else sgns.train_launch_serial
    results = []
    for hot_rows in (0, 16):
        model = init_model(config, corpus.vocab)
        tables = _tables(model, hot_rows)
        assert len(tables.hot_out) == (16 if hot_rows else 0)
        weights = sgns.Weights(model.w_in, model.w_out, model.w_hs)
        launch(tokens, weights, tables, settings, bounds, launch_seeds(1, 0, 0, 1), 0.025, 0.0001)
        results.append(model)
    plain, hot = results
    moved = np.abs(plain.w_out - init_model(config, corpus.vocab).w_out).max()
    assert moved > 0.01
    for name in ("w_in", "w_out", "w_hs"):
        np.testing.assert_allclose(getattr(hot, name), getattr(plain, name), atol=2e-5)


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
