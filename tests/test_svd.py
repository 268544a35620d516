"""PPMI + SVD: solvers against ARPACK, PPMI against a dense hand computation, eig scalings,
planted topics, the CLI end to end and its option errors."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from w2v.corpus.corpus import load_corpus
from w2v.errors import OptionError
from w2v.corpus.subsample import keep_probabilities, subsample_corpus
from w2v.svd.ppmi import ppmi_matrix
from w2v.svd.svd import arpack_svd, fold_in, randomized_svd, svd_embeddings, train_svd


def decaying_matrix(n_rows=1500, n_cols=1000, seed=1):
    """Sparse random entries scaled like a Zipfian co-occurrence matrix: a decaying spectrum."""
    matrix = sp.random(n_rows, n_cols, density=0.02, random_state=seed, format="csr",
                       dtype=np.float32)
    rows = sp.diags(np.arange(1, n_rows + 1) ** -0.7)
    cols = sp.diags(np.arange(1, n_cols + 1) ** -0.7)
    return (rows @ matrix @ cols).tocsr().astype(np.float32)


def dense_ppmi(counts, cds, neg):
    """Shifted PPMI written the long way, straight from the definition."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    p_wc = counts / total
    p_w = counts.sum(axis=1) / total
    smoothed = counts.sum(axis=0) ** cds
    p_c = smoothed / smoothed.sum()
    out = np.zeros_like(counts)
    for w in range(counts.shape[0]):
        for c in range(counts.shape[1]):
            if counts[w, c] > 0:
                out[w, c] = max(0.0, np.log(p_wc[w, c] / (p_w[w] * p_c[c])) - np.log(neg))
    return out


# --------------------------------------------------------------------------- solvers


@pytest.mark.parametrize("seed", [1, 7])
def test_randomized_singular_values_match_arpack(seed):
    matrix = decaying_matrix(seed=seed)
    _, s_rand, _ = randomized_svd(matrix, 20, seed=seed)
    _, s_arpack, _ = arpack_svd(matrix, 20, seed=seed)
    exact = np.linalg.svd(matrix.toarray().astype(np.float64), compute_uv=False)[:20]
    np.testing.assert_allclose(s_arpack, exact, rtol=1e-6)
    np.testing.assert_allclose(s_rand, s_arpack, rtol=0.01)


def test_solvers_give_orthonormal_factors_that_rebuild_the_matrix():
    matrix = decaying_matrix()
    for solver in (randomized_svd, arpack_svd):
        u, s, vt = solver(matrix, 10)
        assert u.shape == (1500, 10) and vt.shape == (10, 1000) and np.all(np.diff(s) <= 0)
        np.testing.assert_allclose(u.T @ u, np.eye(10), atol=1e-4)
        np.testing.assert_allclose(vt @ vt.T, np.eye(10), atol=1e-4)
        np.testing.assert_allclose(u.T @ (matrix @ vt.T), np.diag(s), atol=1e-3 * s[0])


def test_randomized_is_deterministic_for_a_seed():
    matrix = decaying_matrix()
    first = randomized_svd(matrix, 10, seed=3)
    second = randomized_svd(matrix, 10, seed=3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_solvers_agree_on_the_subspace_up_to_sign():
    matrix = decaying_matrix()
    u_rand, _, _ = randomized_svd(matrix, 5)
    u_arpack, _, _ = arpack_svd(matrix, 5)
    np.testing.assert_allclose(np.sum(u_rand * u_arpack, axis=0), 1.0, atol=1e-3)


# --------------------------------------------------------------------------- PPMI


TOY_COUNTS = np.array([
    [0, 4, 1, 0, 2],
    [4, 0, 3, 1, 0],
    [1, 3, 0, 0, 6],
    [0, 1, 0, 0, 0],
    [2, 0, 6, 0, 8],
], dtype=np.float32)


@pytest.mark.parametrize("cds,neg", [(1.0, 1), (0.75, 1), (0.75, 5), (0.5, 2), (1.0, 15)])
def test_ppmi_matches_the_dense_definition(cds, neg):
    ppmi = ppmi_matrix(sp.csr_matrix(TOY_COUNTS), cds=cds, neg=neg)
    expected = dense_ppmi(TOY_COUNTS, cds, neg)
    np.testing.assert_allclose(ppmi.toarray(), expected, rtol=1e-5, atol=1e-6)
    assert ppmi.dtype == np.float32 and np.all(ppmi.data > 0)  # only positive entries stored
    assert ppmi.nnz == np.count_nonzero(expected)


def test_ppmi_clips_negatives_and_shift_removes_entries():
    plain = ppmi_matrix(TOY_COUNTS, cds=1.0, neg=1)
    shifted = ppmi_matrix(TOY_COUNTS, cds=1.0, neg=5)
    assert dense_ppmi(TOY_COUNTS, 1.0, 1).min() == 0  # some PMI were negative and clipped
    assert shifted.nnz < plain.nnz
    np.testing.assert_allclose(shifted.toarray(),
                               np.maximum(plain.toarray() - np.log(5), 0) * (plain.toarray() > 0),
                               atol=1e-6)


def test_ppmi_keeps_zero_rows_and_columns_empty():
    counts = np.zeros((6, 6), dtype=np.float32)
    counts[:5, :5] = TOY_COUNTS
    counts[2, :] = counts[:, 2] = 0  # word 2 never seen with anything; word 5 absent
    ppmi = ppmi_matrix(sp.csr_matrix(counts), cds=0.75, neg=1)
    dense = ppmi.toarray()
    assert not dense[2].any() and not dense[:, 2].any() and not dense[5].any()
    assert np.isfinite(dense).all()
    np.testing.assert_allclose(dense, dense_ppmi(counts, 0.75, 1), rtol=1e-5, atol=1e-6)


def test_ppmi_of_a_non_canonical_matrix_sums_duplicates():
    rows, cols = np.nonzero(TOY_COUNTS)
    values = TOY_COUNTS[rows, cols]
    # every entry split into two halves, listed twice
    coo = sp.coo_matrix((np.concatenate([values / 2, values / 2]),
                         (np.concatenate([rows, rows]), np.concatenate([cols, cols]))),
                        shape=TOY_COUNTS.shape)
    csr = sp.csr_matrix((coo.data, (coo.row, coo.col)), shape=coo.shape)
    np.testing.assert_allclose(ppmi_matrix(coo).toarray(), ppmi_matrix(TOY_COUNTS).toarray(),
                               rtol=1e-6)
    np.testing.assert_allclose(ppmi_matrix(csr).toarray(), ppmi_matrix(TOY_COUNTS).toarray(),
                               rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{"cds": 0}, {"cds": -1}, {"neg": 0.5}])
def test_ppmi_rejects_bad_options(kwargs):
    with pytest.raises(OptionError):
        ppmi_matrix(TOY_COUNTS, **kwargs)


# --------------------------------------------------------------------------- eig scaling


@pytest.mark.parametrize("eig", [0.0, 0.5, 1.0])
def test_eig_scales_u_by_s_to_the_power(eig):
    u, s, vt = randomized_svd(decaying_matrix(1000, 1000), 8)
    vectors = svd_embeddings(u, s, vt, eig=eig)
    expected = {0.0: u, 0.5: u * np.sqrt(s), 1.0: u * s}[eig]
    np.testing.assert_allclose(vectors, expected, rtol=1e-5, atol=1e-7)
    with_context = svd_embeddings(u, s, vt, eig=eig, add_context=True)
    np.testing.assert_allclose(with_context, expected + vt.T * s**eig, rtol=1e-5, atol=1e-7)


# --------------------------------------------------------------------------- subsampling


def test_subsampling_drops_frequent_tokens_reproducibly(tmp_path):
    path = tmp_path / "c.txt"
    rng = np.random.default_rng(0)
    lines = [" ".join(["the"] * 20 + [f"w{i}" for i in rng.integers(0, 50, 10)])
             for _ in range(300)]
    path.write_text("\n".join(lines) + "\n")
    corpus = load_corpus([str(path)], min_count=1)
    first = subsample_corpus(corpus, 1e-2, seed=5)
    again = subsample_corpus(corpus, 1e-2, seed=5)
    other = subsample_corpus(corpus, 1e-2, seed=6)
    np.testing.assert_array_equal(first.ids, again.ids)
    assert not np.array_equal(first.ids, other.ids)
    the = corpus.vocab.index["the"]
    kept_share = np.sum(first.ids == the) / np.sum(corpus.ids == the)
    expected = keep_probabilities(corpus.vocab.counts, 1e-2)[the]
    assert abs(kept_share - expected) < 0.05
    assert first.offsets[-1] == len(first.ids) and np.all(np.diff(first.offsets) > 0)
    assert subsample_corpus(corpus, 0, seed=5) is corpus


# --------------------------------------------------------------------------- end to end


def topic_corpus(path, n_topics=4, words_per_topic=12, lines=2000, seed=0):
    """Each line draws its words from one topic only, so topics never co-occur."""
    rng = np.random.default_rng(seed)
    topics = [[f"t{t}w{i}" for i in range(words_per_topic)] for t in range(n_topics)]
    with open(path, "w") as f:
        for _ in range(lines):
            topic = topics[rng.integers(n_topics)]
            f.write(" ".join(topic[i] for i in rng.integers(0, words_per_topic, 8)) + "\n")
    return topics


def test_planted_topics_are_nearest_neighbours(tmp_path):
    path = tmp_path / "topics.txt"
    topics = topic_corpus(path)
    corpus = load_corpus([str(path)], min_count=1)
    for solver in ("randomized", "arpack"):
        wv = train_svd(corpus, dim=8, window=2, sample=0, solver=solver, seed=1)
        unit = wv.unit
        for topic in topics:
            for word in topic:
                sims = unit @ unit[wv.id(word)]
                sims[wv.id(word)] = -np.inf
                nearest = wv.words[int(np.argmax(sims))]
                assert nearest[:2] == word[:2], (solver, word, nearest)


def test_fold_in_places_rows_left_out_of_the_fit_exactly_when_the_rank_allows():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(60, 3)) @ rng.normal(size=(3, 40))  # rank 3
    fitted = np.arange(0, 60, 2)  # half the rows span the same row space
    u, s, vt = np.linalg.svd(matrix[fitted], full_matrices=False)
    u, s, vt = u[:, :3], s[:3], vt[:3]
    full = fold_in(sp.csr_matrix(matrix), fitted, u, s, vt)
    np.testing.assert_allclose(full[fitted], u)
    np.testing.assert_allclose(full * s @ vt, matrix, atol=1e-9)  # every row rebuilt


def test_fit_words_keeps_the_planted_topics_and_every_word(tmp_path):
    path = tmp_path / "topics.txt"
    topics = topic_corpus(path, words_per_topic=30)
    corpus = load_corpus([str(path)], min_count=1)
    wv = train_svd(corpus, dim=8, window=2, sample=0, fit_words=40, seed=1)
    assert len(wv) == 120 and np.all(np.linalg.norm(wv.vectors, axis=1) > 0)
    unit = wv.unit
    for topic in topics:
        for word in topic:
            sims = unit @ unit[wv.id(word)]
            sims[wv.id(word)] = -np.inf
            assert wv.words[int(np.argmax(sims))][:2] == word[:2], word
    everything = train_svd(corpus, dim=8, window=2, sample=0, seed=1)
    same = train_svd(corpus, dim=8, window=2, sample=0, seed=1, fit_words=len(corpus.vocab))
    np.testing.assert_array_equal(same.vectors, everything.vectors)


def test_train_svd_from_a_count_matrix_and_options(tmp_path):
    path = tmp_path / "topics.txt"
    topic_corpus(path, lines=300)
    corpus = load_corpus([str(path)], min_count=1)
    from w2v.cooccur.counts import cooccurrence_matrix

    counts = cooccurrence_matrix(corpus, window=2, weighting="linear")
    from_matrix = train_svd(counts, corpus.vocab, dim=5)
    from_corpus = train_svd(corpus, dim=5, sample=0)
    np.testing.assert_allclose(from_matrix.vectors, from_corpus.vectors, atol=1e-5)
    assert from_matrix.words == corpus.vocab.words
    normalized = train_svd(corpus, dim=5, normalize=True, add_context=True, sample=1e-3)
    np.testing.assert_allclose(np.linalg.norm(normalized.vectors, axis=1), 1.0, atol=1e-5)
    with pytest.raises(OptionError, match="smaller than the vocabulary"):
        train_svd(corpus, dim=len(corpus.vocab))


def run_cli(args):
    return subprocess.run([sys.executable, "-m", "w2v.cli", *args], capture_output=True,
                          text=True)


def test_cli_end_to_end_and_read_cooccur(tmp_path):
    path = tmp_path / "topics.txt"
    topic_corpus(path, lines=400)
    out = tmp_path / "v.txt"
    result = run_cli(["svd", str(path), "--min-count", "1", "--dim", "6", "--sample", "0",
                      "-o", str(out)])
    assert result.returncode == 0, result.stderr
    for stage in ("co-occurrences:", "PPMI:", "SVD:"):
        assert stage in result.stderr
    from w2v.files.formats import load_vectors

    wv = load_vectors(str(out))
    assert wv.dim == 6 and len(wv) == 48

    from w2v.cooccur.counts import cooccurrence_matrix
    from w2v.cooccur.file import save_cooccur

    corpus = load_corpus([str(path)], min_count=1)
    counts_path = tmp_path / "counts.npz"
    save_cooccur(str(counts_path), cooccurrence_matrix(corpus, window=2, weighting="linear"),
                 corpus.vocab, 2, "linear")
    out2 = tmp_path / "v2.txt"
    result = run_cli(["svd", "--read-cooccur", str(counts_path), "--dim", "6", "-o", str(out2)])
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(load_vectors(str(out2)).vectors, wv.vectors, atol=1e-4)
    # counts are already made: an explicit --sample cannot apply (the default is skipped)
    result = run_cli(["svd", "--read-cooccur", str(counts_path), "--sample", "1e-4",
                      "-o", str(tmp_path / "v3.txt")])
    assert result.returncode == 2 and "--sample" in result.stderr


def test_cli_config_preset(tmp_path):
    path = tmp_path / "topics.txt"
    topic_corpus(path, lines=200)
    config = tmp_path / "svd.toml"
    config.write_text("dim = 4\nwindow = 3\ncds = 1.0\nmin-count = 1\n")
    out = tmp_path / "v.txt"
    result = run_cli(["svd", str(path), "--config", str(config), "-o", str(out)])
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines()[0] == "48 4"


@pytest.mark.parametrize("args,fragment", [
    (["--dim", "0"], "--dim"),
    (["--dim", "-3"], "--dim"),
    (["--solver", "lanczos"], "--solver"),
    (["--cds", "0"], "--cds"),
    (["--cds", "-0.5"], "--cds"),
    (["--neg", "0"], "--neg"),
    (["--dim", "48"], "vocabulary"),
    (["--window", "0"], "--window"),
    (["--weighting", "cubic"], "--weighting"),
    (["--dim", "5", "--fit-words", "5"], "--fit-words"),
])
def test_cli_bad_options_exit_2_with_one_line_and_no_output(tmp_path, args, fragment):
    path = tmp_path / "topics.txt"
    topic_corpus(path, lines=100)
    out = tmp_path / "v.bin"
    result = run_cli(["svd", str(path), "--min-count", "1", "-o", str(out), "-q", *args])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v: error:") and fragment in lines[0], lines
    assert not out.exists()
    assert not list(tmp_path.glob(".w2v-*"))


@pytest.mark.parametrize("args,fragment", [
    ([], "CORPUS or --read-cooccur"),
    (["CORPUS", "--read-cooccur", "x.npz"], "not both"),
])
def test_cli_needs_exactly_one_input(tmp_path, args, fragment):
    path = tmp_path / "topics.txt"
    topic_corpus(path, lines=50)
    args = [str(path) if a == "CORPUS" else a for a in args]
    result = run_cli(["svd", *args, "-o", str(tmp_path / "v.bin")])
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("preset", ["svd.toml", "svd-levy.toml"])
def test_presets_are_valid_configs(tmp_path, preset):
    from pathlib import Path

    path = tmp_path / "topics.txt"
    topic_corpus(path, lines=100)
    config = Path(__file__).parent.parent / "configs" / preset
    out = tmp_path / "v.txt"
    result = run_cli(["svd", str(path), "--config", str(config), "--min-count", "1",
                      "--dim", "4", "-o", str(out), "-q"])
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines()[0] == "48 4"
