"""GloVe: the cost falls, planted topics are learnt, runs repeat, and the CLI behaves."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

from w2v.cli import main
from w2v.cooccur.counts import cooccurrence_matrix
from w2v.corpus.corpus import load_corpus
from w2v.errors import OptionError
from w2v.glove.model import BLOCK_ENTRIES, _dealt_entries, train_glove

PRESET = str(Path(__file__).resolve().parent.parent / "configs" / "glove.toml")
N_TOPICS = 5
WORDS_PER_TOPIC = 10


def topic_of(word):
    return word.split("w")[0]


@pytest.fixture(scope="module")
def topic_corpus(tmp_path_factory):
    """Lines of words from one topic each, and a few lines of words from any topic.

    Words co-occur often within their topic and rarely across topics. (Without the mixed
    lines the biases alone could fit every count, as GloVe never sees the zeros.)
    """
    rng = np.random.default_rng(11)
    topics = [[f"t{t}w{i}" for i in range(WORDS_PER_TOPIC)] for t in range(N_TOPICS)]
    every_word = [w for topic in topics for w in topic]
    lines = [" ".join(rng.choice(topics[rng.integers(N_TOPICS)], 12)) for _ in range(1500)]
    lines += [" ".join(rng.choice(every_word, 12)) for _ in range(300)]
    path = tmp_path_factory.mktemp("topics") / "topics.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path), load_corpus([str(path)], min_count=1)


def test_cost_falls_and_topics_are_learnt(topic_corpus):
    _, corpus = topic_corpus
    cooc = cooccurrence_matrix(corpus, window=5)
    stats = {}
    wv = train_glove(cooc, corpus.vocab, dim=16, epochs=25, threads=2, seed=5, stats=stats)
    costs = [e["cost"] for e in stats["epochs"]]
    assert costs[-1] < 0.05 * costs[0]
    assert all(b <= a * 1.05 for a, b in zip(costs, costs[1:]))
    sims = wv.unit @ wv.unit.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(axis=1)
    same = sum(topic_of(wv.words[i]) == topic_of(wv.words[j]) for i, j in enumerate(nearest))
    assert same == len(wv)
    # and every word is closer to its own topic's centroid than to any other
    centroids = {t: wv.unit[[wv.index[w] for w in wv.words if topic_of(w) == t]].mean(0)
                 for t in {topic_of(w) for w in wv.words}}
    for w in wv.words:
        best = max(centroids, key=lambda t: float(centroids[t] @ wv.unit[wv.index[w]]))
        assert best == topic_of(w)


def test_one_thread_and_a_seed_repeat_exactly(topic_corpus):
    _, corpus = topic_corpus
    cooc = cooccurrence_matrix(corpus, window=5)
    a = train_glove(cooc, corpus.vocab, dim=8, epochs=3, threads=1, seed=9)
    b = train_glove(cooc, corpus.vocab, dim=8, epochs=3, threads=1, seed=9)
    c = train_glove(cooc, corpus.vocab, dim=8, epochs=3, threads=1, seed=10)
    assert np.array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


def test_entries_are_dealt_into_random_blocks_each_exactly_once():
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 4, size=(600, 600)).astype(np.float32)  # about 4 blocks
    dense[rng.random(dense.shape) < 0.1] = -1.0  # non-positive entries are left out
    cooc = scipy.sparse.csr_matrix(dense)
    rows, cols, values, block_starts = _dealt_entries(cooc, seed=3)
    positive = np.argwhere(dense > 0)
    assert len(rows) == len(positive) and block_starts[-1] == len(rows)
    assert np.all(np.diff(block_starts) > 0)
    assert len(block_starts) - 1 == -(-len(rows) // BLOCK_ENTRIES)
    got = sorted(zip(rows.tolist(), cols.tolist()))
    assert got == sorted(map(tuple, positive.tolist()))
    assert np.array_equal(values, dense[rows, cols])
    first_block = slice(block_starts[0], block_starts[1])
    assert len(block_starts) > 3 and len(np.unique(rows[first_block])) > 0.95 * len(dense)
    again = _dealt_entries(cooc, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip((rows, cols, values, block_starts), again))
    other = _dealt_entries(cooc, seed=4)
    assert not np.array_equal(rows, other[0])


def test_output_vectors(topic_corpus):
    _, corpus = topic_corpus
    cooc = cooccurrence_matrix(corpus, window=3)
    kwargs = dict(dim=4, epochs=2, threads=1, seed=1)
    word = train_glove(cooc, corpus.vocab, output_vectors="word", **kwargs)
    context = train_glove(cooc, corpus.vocab, output_vectors="context", **kwargs)
    both = train_glove(cooc, corpus.vocab, **kwargs)
    np.testing.assert_allclose(both.vectors, word.vectors + context.vectors, rtol=1e-6)
    assert both.words == corpus.vocab.words and both.dim == 4


@pytest.mark.parametrize("bad", [dict(dim=0), dict(epochs=0), dict(eta=-1), dict(x_max=0),
                                 dict(alpha=-0.5), dict(grad_clip=0),
                                 dict(output_vectors="both")])
def test_bad_options_raise(topic_corpus, bad):
    _, corpus = topic_corpus
    with pytest.raises(OptionError):
        train_glove(cooccurrence_matrix(corpus, window=2), corpus.vocab, **bad)


# --------------------------------------------------------------------------- CLI


def test_cli_glove_writes_vectors_and_counts(topic_corpus, tmp_path, capsys):
    path, corpus = topic_corpus
    out = tmp_path / "glove.txt"
    counts = tmp_path / "counts.npz"
    code = main(["glove", path, "-o", str(out), "--dim", "8", "--epochs", "3", "--min-count", "1",
                 "--threads", "1", "--save-cooccur", str(counts), "--window", "4"])
    assert code == 0, capsys.readouterr().err
    lines = out.read_text().splitlines()
    assert lines[0] == f"{len(corpus.vocab)} 8"
    assert "epoch 3/3: cost" in capsys.readouterr().err

    again = tmp_path / "again.txt"
    assert main(["glove", "--read-cooccur", str(counts), "-o", str(again), "--dim", "8",
                 "--epochs", "3", "--threads", "1"]) == 0
    assert again.read_text() == out.read_text()  # same counts, same seed, one thread

    # a window given on the command line must match the file's
    assert main(["glove", "--read-cooccur", str(counts), "-o", str(tmp_path / "x.txt"),
                 "--window", "10"]) == 1
    assert "window 4, not 10" in capsys.readouterr().err


def test_cli_cooccur_then_glove(topic_corpus, tmp_path, capsys):
    path, corpus = topic_corpus
    counts = tmp_path / "c.npz"
    assert main(["cooccur", path, "-o", str(counts), "--min-count", "1", "--window", "3",
                 "--weighting", "linear", "--memory", "0.001"]) == 0
    from w2v.cooccur.file import load_cooccur

    matrix, vocab, meta = load_cooccur(counts, vocab=corpus.vocab)
    assert meta["window"] == 3 and meta["weighting"] == "linear" and matrix.nnz > 0
    out = tmp_path / "v.bin"
    assert main(["glove", "--read-cooccur", str(counts), "-o", str(out), "--dim", "4",
                 "--epochs", "1"]) == 0
    from w2v.files.formats import load_vectors

    assert load_vectors(str(out)).vectors.shape == (len(corpus.vocab), 4)


@pytest.mark.parametrize("args, message", [
    (["--dim", "-3"], "--dim"),
    (["--x-max", "0"], "--x-max"),
    (["--weighting", "gaussian"], "weighting"),
    (["--window", "0"], "--window"),
    (["--output-vectors", "all"], "--output-vectors"),
])
def test_cli_bad_options_exit_2_with_one_line(topic_corpus, tmp_path, capsys, args, message):
    path, _ = topic_corpus
    out = tmp_path / "v.txt"
    assert main(["glove", path, "-o", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("w2v: error:") and message in err and len(err.splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_cooccur_bad_weighting(topic_corpus, tmp_path, capsys):
    path, _ = topic_corpus
    assert main(["cooccur", path, "-o", str(tmp_path / "c.npz"), "--weighting", "x"]) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [[], ["CORPUS", "--read-cooccur", "c.npz"]])
def test_cli_needs_exactly_one_source(topic_corpus, tmp_path, capsys, args):
    path, _ = topic_corpus
    args = [path if a == "CORPUS" else a for a in args]
    assert main(["glove", "-o", str(tmp_path / "v.txt"), *args]) == 2
    assert "CORPUS or --read-cooccur" in capsys.readouterr().err


def test_cli_config_preset(topic_corpus, tmp_path):
    path, _ = topic_corpus
    out = tmp_path / "v.txt"
    assert main(["glove", "--config", PRESET, path, "-o", str(out), "--dim", "4",
                 "--epochs", "1", "--min-count", "1", "-q"]) == 0
    assert out.read_text().splitlines()[0].endswith(" 4")
