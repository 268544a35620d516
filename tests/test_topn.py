"""The blocked top-n search against a brute-force ranking of all scores, ties included."""

import numpy as np
import pytest

from w2v.documents import rank as topn
from w2v.documents.rank import top_n


def brute_force(documents, queries, n, scale=None):
    """Best score first, equal scores to the lower row: a stable sort of every score."""
    full = queries @ documents.T
    if scale is not None:
        full = full * scale
    rows = np.argsort(-full, axis=1, kind="stable")[:, :n]
    return rows, np.take_along_axis(full, rows, axis=1)


@pytest.fixture(params=["exact bounds", "sampled bounds"])
def small_blocks(monkeypatch, request):
    """Blocks of 16 or 64 rows in segments of 4, passes of 3 queries: many blocks, several
    passes, a last block partly padding; bounds from every column or from samples (a
    stride above 1, and crowded blocks refined)."""
    sampled = request.param == "sampled bounds"
    monkeypatch.setattr(topn, "BLOCK_SCORES", 192 if sampled else 48)
    monkeypatch.setattr(topn, "SEGMENT", 4)
    monkeypatch.setattr(topn, "SAMPLE", 4 if sampled else topn.SAMPLE)
    monkeypatch.setattr(topn, "PER_N", 1 if sampled else topn.PER_N)
    monkeypatch.setattr(topn, "MAX_QUERY_BATCH", 3)


@pytest.mark.parametrize("n", [1, 5, 37, 300])
def test_ties_go_to_the_lower_row_as_a_stable_sort(small_blocks, n):
    # Small integers: every product is exact, and most scores are tied with others.
    rng = np.random.default_rng(3)
    documents = rng.integers(-2, 3, size=(300, 4)).astype(np.float32)
    queries = rng.integers(-2, 3, size=(8, 4)).astype(np.float32)
    rows, scores = top_n(documents, queries, n)
    expected_rows, expected_scores = brute_force(documents, queries, n)
    assert np.array_equal(rows, expected_rows)
    assert np.array_equal(scores, expected_scores)


def test_rising_scores_crowd_every_block(small_blocks):
    # Each block beats the previous one everywhere: every block is merged, crowded.
    documents = np.repeat(np.arange(200, dtype=np.float32)[:, None] // 3, 2, axis=1)
    queries = np.array([[1, 1], [1, 0], [-1, 0], [0, 0]], dtype=np.float32)
    rows, scores = top_n(documents, queries, 10)
    expected_rows, expected_scores = brute_force(documents, queries, 10)
    assert np.array_equal(rows, expected_rows) and np.array_equal(scores, expected_scores)


def test_scale_multiplies_each_documents_score(small_blocks):
    rng = np.random.default_rng(4)
    documents = rng.integers(-3, 4, size=(100, 3)).astype(np.float32)
    queries = rng.integers(-3, 4, size=(5, 3)).astype(np.float32)
    scale = rng.integers(1, 4, size=100).astype(np.float32)
    rows, scores = top_n(documents, queries, 12, scale=scale)
    expected_rows, expected_scores = brute_force(documents, queries, 12, scale)
    assert np.array_equal(rows, expected_rows) and np.array_equal(scores, expected_scores)


def test_default_blocks_on_random_vectors():
    rng = np.random.default_rng(5)
    documents = rng.standard_normal((5000, 16), dtype=np.float32)
    queries = rng.standard_normal((600, 16), dtype=np.float32)  # two passes
    rows, scores = top_n(documents, queries, 10)
    expected_rows, expected_scores = brute_force(documents, queries, 10)
    assert np.array_equal(rows, expected_rows)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-6)


def test_memory_mapped_documents_are_not_copied(tmp_path, monkeypatch):
    rng = np.random.default_rng(6)
    path = tmp_path / "d.npy"
    np.save(path, rng.integers(-2, 3, size=(64, 4)).astype(np.float32))
    documents = np.load(path, mmap_mode="r")
    queries = rng.integers(-2, 3, size=(3, 4)).astype(np.float32)
    seen = []
    matmul = np.matmul

    def spy(a, b, out=None):
        seen.append(np.shares_memory(b, documents))
        return matmul(a, b, out=out)

    monkeypatch.setattr(topn.np, "matmul", spy)
    rows, _ = top_n(documents, queries, 4)
    monkeypatch.undo()
    assert seen and all(seen)
    assert np.array_equal(rows, brute_force(np.asarray(documents), queries, 4)[0])


def test_nothing_to_rank():
    documents = np.ones((3, 2), np.float32)
    rows, scores = top_n(documents, np.zeros((0, 2), np.float32), 2)
    assert rows.shape == (0, 2)
    rows, scores = top_n(documents, np.ones((2, 2), np.float32), 0)
    assert rows.shape == (2, 0)
