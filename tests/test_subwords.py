"""fastText's n-gram scheme, byte for byte: the ids decide whether files interoperate."""

import json
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest

from w2v.vectors.ngrams import (check_ngram_range, compose, fnv1a, ngram_buckets, oov_rows, subword_rows,
                          word_ngrams)

FIXTURE = json.loads((Path(__file__).parent / "data" / "fasttext_ngrams.json").read_text("utf-8"))
CASES = [(c["minn"], c["maxn"], c["bucket"], w, e) for c in FIXTURE["cases"] for w, e in c["words"].items()]


@pytest.mark.parametrize("minn,maxn,bucket,word,expected", CASES)
def test_ngrams_and_buckets_equal_fasttexts(minn, maxn, bucket, word, expected):
    assert word_ngrams(word, minn, maxn) == expected["ngrams"]
    offsets, buckets = ngram_buckets([word], minn, maxn, bucket)
    assert buckets.tolist() == expected["buckets"]


def test_vectorised_buckets_equal_the_per_word_hash():
    words = [w for c in FIXTURE["cases"][:1] for w in c["words"]] * 3 + ["", "é"]
    offsets, buckets = ngram_buckets(words, 2, 5, 1009, chunk=4)  # chunking must not matter
    for i, word in enumerate(words):
        expected = [fnv1a(g.encode("utf-8")) % 1009 for g in word_ngrams(word, 2, 5)]
        assert buckets[offsets[i]:offsets[i + 1]].tolist() == expected


def test_fnv1a_sign_extends_bytes_above_127():
    # Plain FNV-1a of b"\xe9" differs: fastText xors 0xffffffe9, not 0xe9.
    plain = ((2166136261 ^ 0xE9) * 16777619) & 0xFFFFFFFF
    assert fnv1a(b"\xe9") == ((2166136261 ^ 0xFFFFFFE9) * 16777619) & 0xFFFFFFFF != plain
    assert fnv1a(b"a") == ((2166136261 ^ 0x61) * 16777619) & 0xFFFFFFFF


def test_subword_rows_put_the_word_first_then_its_ngrams_after_the_word_rows():
    words = ["cat", "cats", "</s>"]
    offsets, rows = subword_rows(words, 3, 4, 100)
    for i, word in enumerate(words):
        mine = rows[offsets[i]:offsets[i + 1]]
        assert mine[0] == i
        grams = word_ngrams(word, 3, 4)
        assert mine[1:].tolist() == [3 + fnv1a(g.encode()) % 100 for g in grams]
    assert offsets[3] - offsets[2] == 1  # the end-of-line token has no n-grams
    assert rows.dtype == np.int32


def test_no_ngrams_when_maxn_is_zero():
    offsets, rows = subword_rows(["cat", "dog"], 3, 0, 100)
    assert rows.tolist() == [0, 1] and offsets.tolist() == [0, 1, 2]
    assert oov_rows("cat", 2, 3, 0, 100).size == 0


@pytest.mark.parametrize("minn,maxn,bucket", [(0, 3, 10), (4, 3, 10), (3, -1, 10), (3, 6, 0)])
def test_bad_ranges_are_refused(minn, maxn, bucket):
    with pytest.raises(ValueError):
        check_ngram_range(minn, maxn, bucket)


def test_live_fasttext_agrees_on_random_words():
    fasttext = pytest.importorskip("fasttext")
    rng = random.Random(0)
    alphabet = "abcxyzéüñ東京🙂-'"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(200)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c.txt")
        Path(path).write_text("the\n")
        model = fasttext.train_unsupervised(path, dim=2, epoch=1, minCount=1, thread=1, bucket=5003,
                                            minn=2, maxn=5, verbose=0)
    n_words = len(model.words)
    offsets, buckets = ngram_buckets(words, 2, 5, 5003)
    for i, word in enumerate(words):
        ids = model.get_subwords(word)[1]
        if model.get_word_id(word) >= 0:
            ids = ids[1:]
        assert (buckets[offsets[i]:offsets[i + 1]] + n_words).tolist() == ids.tolist()


def test_compose_is_the_mean_of_each_words_rows_in_any_chunking():
    rng = np.random.default_rng(0)
    words = ["cat", "dogs", "a", "</s>", "東京"]
    offsets, rows = subword_rows(words, 3, 6, 50)
    matrix = rng.standard_normal((len(words) + 50, 4)).astype(np.float32)
    expected = np.stack([matrix[rows[offsets[i]:offsets[i + 1]]].mean(0) for i in range(len(words))])
    for chunk_rows in (1, 3, 1 << 20):
        assert np.allclose(compose(matrix, offsets, rows, chunk_rows=chunk_rows), expected, atol=1e-6)
    assert not compose(matrix, np.array([0, 0, 2]), np.array([1, 2]))[0].any()  # no rows: zero
