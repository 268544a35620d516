"""Co-occurrence counting: exact weights on hand-checked corpora, spilling, count files."""

import numpy as np
import pytest

import w2v.runtime.runs as cooccur_module
from w2v.cooccur.counts import cooccurrence_matrix
from w2v.cooccur.file import load_cooccur, save_cooccur
from w2v.corpus.corpus import load_corpus
from w2v.errors import InputError, OptionError


def corpus_of(tmp_path, text, name="c.txt", **kwargs):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_corpus([str(path)], min_count=kwargs.pop("min_count", 1), **kwargs)


def dense(corpus, matrix):
    """The matrix as a dict {(word, word): value} without zeros, for readable asserts."""
    words = corpus.vocab.words
    m = matrix.tocoo()
    return {(words[r], words[c]): float(v) for r, c, v in zip(m.row, m.col, m.data)}


def reference(corpus, window, weighting, symmetric=True):
    """Slow, obvious count: every pair in every sentence, both orders when symmetric."""
    n = len(corpus.vocab)
    x = np.zeros((n, n))
    for s in range(len(corpus.offsets) - 1):
        sent = corpus.ids[corpus.offsets[s] : corpus.offsets[s + 1]]
        for i in range(len(sent)):
            for j in range(i + 1, min(len(sent), i + window + 1)):
                d = j - i
                w = {"harmonic": 1 / d, "uniform": 1.0, "linear": (window - d + 1) / window}[
                    weighting]
                x[sent[j], sent[i]] += w
                if symmetric:
                    x[sent[i], sent[j]] += w
    return x


def test_hand_checked_harmonic_window_edges_and_sentences(tmp_path):
    # "a b c" then "c a": no pair across the line break.
    corpus = corpus_of(tmp_path, "a b c\nc a\n")
    m = cooccurrence_matrix(corpus, window=2, weighting="harmonic", threads=1)
    assert m.dtype == np.float32 and m.shape == (3, 3) and m.has_sorted_indices
    got = dense(corpus, m)
    # a-b at 1, b-c at 1, a-c at 2 (first line) and c-a at 1 (second line)
    assert got == {("a", "b"): 1.0, ("b", "a"): 1.0, ("b", "c"): 1.0, ("c", "b"): 1.0,
                   ("a", "c"): 1.5, ("c", "a"): 1.5}
    # window 1: a-c at distance 2 falls outside
    got1 = dense(corpus, cooccurrence_matrix(corpus, window=1, threads=1))
    assert got1[("a", "c")] == 1.0 and got1[("a", "b")] == 1.0


def test_hand_checked_uniform_linear_and_diagonal(tmp_path):
    corpus = corpus_of(tmp_path, "x x y\n")
    uniform = dense(corpus, cooccurrence_matrix(corpus, window=2, weighting="uniform"))
    # x-x once at distance 1: counted in both orders, so the diagonal gets 2 (as GloVe C)
    assert uniform == {("x", "x"): 2.0, ("x", "y"): 2.0, ("y", "x"): 2.0}
    linear = dense(corpus, cooccurrence_matrix(corpus, window=2, weighting="linear"))
    # x-y at distances 1 (weight 1) and 2 (weight 1/2)
    assert linear == {("x", "x"): 2.0, ("x", "y"): 1.5, ("y", "x"): 1.5}


def test_asymmetric_counts_left_context(tmp_path):
    corpus = corpus_of(tmp_path, "a b\n")
    got = dense(corpus, cooccurrence_matrix(corpus, window=2, symmetric=False))
    assert got == {("b", "a"): 1.0}  # row: the word, column: the word to its left


@pytest.fixture(scope="module")
def zipf_corpus(tmp_path_factory):
    rng = np.random.default_rng(7)
    lines = []
    for _ in range(400):
        n = int(rng.integers(1, 40))
        lines.append(" ".join(f"w{min(int(rng.zipf(1.4)), 300)}" for _ in range(n)))
    return corpus_of(tmp_path_factory.mktemp("zipf"), "\n".join(lines) + "\n")


@pytest.mark.parametrize("weighting", ["harmonic", "uniform", "linear"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_matches_reference(zipf_corpus, weighting, symmetric):
    for window in (1, 5):
        m = cooccurrence_matrix(zipf_corpus, window=window, weighting=weighting,
                                symmetric=symmetric, threads=2)
        np.testing.assert_allclose(m.toarray(), reference(zipf_corpus, window, weighting,
                                                          symmetric), rtol=1e-6)


@pytest.mark.parametrize("weighting", ["harmonic", "linear"])
def test_tiny_memory_spills_and_equals_in_memory_exactly(zipf_corpus, weighting, monkeypatch):
    monkeypatch.setattr(cooccur_module, "MAX_SPILL_RUNS", 4)
    in_memory, spilled = {}, {}
    a = cooccurrence_matrix(zipf_corpus, window=8, weighting=weighting, threads=2,
                            memory_gb=10, stats=in_memory)
    b = cooccurrence_matrix(zipf_corpus, window=8, weighting=weighting, threads=2,
                            memory_gb=2e-5, stats=spilled)
    assert in_memory["spills"] == 0
    assert spilled["spills"] >= 5 and spilled["compactions"] >= 1
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)  # bit for bit: integer sums
    c = cooccurrence_matrix(zipf_corpus, window=8, weighting=weighting, threads=1)
    assert np.array_equal(a.data, c.data)


@pytest.mark.parametrize("symmetric", [True, False])
def test_spilled_runs_merge_through_small_windows_without_memory_maps(zipf_corpus, symmetric,
                                                                      monkeypatch):
    """The merges read each spilled run in windows of a few entries with plain reads; the
    counts stay bit for bit those counted in memory."""
    expected = cooccurrence_matrix(zipf_corpus, window=6, symmetric=symmetric, threads=2,
                                   memory_gb=10)

    def no_memmap(*args, **kwargs):
        raise AssertionError("the spill file was memory-mapped")

    monkeypatch.setattr(cooccur_module.np, "memmap", no_memmap)
    monkeypatch.setattr(cooccur_module, "MAX_SPILL_RUNS", 3)
    monkeypatch.setattr(cooccur_module, "MIN_WINDOW_ENTRIES", 3)
    stats = {}
    got = cooccurrence_matrix(zipf_corpus, window=6, symmetric=symmetric, threads=2,
                              memory_gb=1e-6, stats=stats)
    assert stats["spills"] >= 5 and stats["compactions"] >= 1
    assert stats["window_reads"] > 10 * stats["spills"]  # many windows per run
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)


def test_bad_options(zipf_corpus):
    with pytest.raises(OptionError, match="weighting"):
        cooccurrence_matrix(zipf_corpus, weighting="gaussian")
    with pytest.raises(OptionError, match="window"):
        cooccurrence_matrix(zipf_corpus, window=0)
    with pytest.raises(OptionError, match="memory"):
        cooccurrence_matrix(zipf_corpus, memory_gb=0)


def test_save_load_round_trip_and_checks(tmp_path, zipf_corpus):
    m = cooccurrence_matrix(zipf_corpus, window=5, weighting="linear")
    path = tmp_path / "counts.npz"
    save_cooccur(path, m, zipf_corpus.vocab, 5, "linear")
    loaded, vocab, meta = load_cooccur(path, vocab=zipf_corpus.vocab, window=5)
    assert (loaded != m).nnz == 0 and loaded.dtype == np.float32
    assert vocab.words == zipf_corpus.vocab.words
    assert vocab.counts.tolist() == zipf_corpus.vocab.counts.tolist()
    assert meta["window"] == 5 and meta["weighting"] == "linear" and meta["symmetric"]

    other = corpus_of(tmp_path, "p q r\n", name="other.txt")
    with pytest.raises(InputError, match="different vocabulary"):
        load_cooccur(path, vocab=other.vocab)
    swapped = list(zipf_corpus.vocab.words)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(InputError, match="word 0"):
        load_cooccur(path, vocab=swapped)
    with pytest.raises(InputError, match="window 5, not 10"):
        load_cooccur(path, window=10)


def test_load_refuses_other_files(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError):
        load_cooccur(junk)
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    with pytest.raises(InputError):
        load_cooccur(tmp_path / "plain.npz")
    with pytest.raises(InputError, match="cannot read"):
        load_cooccur(tmp_path / "missing.npz")


def test_partitions_counts_sum_to_the_whole(tmp_path):
    """count_partition is what a cluster's partitions run: integer counts of any split of
    the sentences add up to the whole's, key for key."""
    from w2v.cooccur.counts import count_partition

    rng = np.random.default_rng(5)
    text = "\n".join(" ".join(f"w{i}" for i in rng.integers(0, 30, rng.integers(1, 12)))
                     for _ in range(300))
    corpus = corpus_of(tmp_path, text)
    ids, offsets, n = corpus.ids, corpus.offsets, len(corpus.vocab)
    whole = count_partition(ids, offsets, n, window=3)
    cut = len(offsets) // 3
    parts = [count_partition(ids[offsets[a]:offsets[b]], offsets[a:b + 1] - offsets[a], n,
                             window=3) for a, b in ((0, cut), (cut, len(offsets) - 1))]
    summed = {}
    for keys, counts in parts:
        for k, c in zip(keys.tolist(), counts.tolist()):
            summed[k] = summed.get(k, 0) + c
    assert list(whole[0]) == sorted(summed) and list(whole[1]) == [summed[k] for k in whole[0]]
