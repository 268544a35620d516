"""The numba reproduction of word2vec C's CBOW (benchmarks/word2vec_c_reference.py) gives
word2vec C's vectors: same vocabulary, same floats, on a small corpus with its edge cases (an
empty line, a line over the 1000-word sentence limit, two epochs).

word2vec.c comes from the sdist of the PyPI package `word2vec` (pip, once, into a cache
folder) and is compiled with gcc: without a compiler, pip or network, the test skips.
"""

import lzma
import os
import shutil
import sys
import tempfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import word2vec_c_reference as ref

SAMPLE = os.path.join(ROOT, "data", "enwiki-1m.txt.xz")
CACHE = os.environ.get("W2V_WORD2VEC_C_CACHE") or os.path.join(tempfile.gettempdir(),
                                                               "w2v-word2vec-c")


@pytest.fixture(scope="module")
def word2vec_c():
    if shutil.which("gcc") is None and shutil.which("cc") is None:
        pytest.skip("no C compiler")
    binary = ref.word2vec_c_binary(CACHE)
    if binary is None:
        pytest.skip("word2vec.c not available (no network for pip, or no sdist in the cache)")
    return binary


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    if not os.path.exists(SAMPLE):
        pytest.skip("no bundled sample corpus")
    with lzma.open(SAMPLE, "rb") as f:
        lines = [next(f) for _ in range(400)]
    long_line = b" ".join(line.strip() for line in lines[:30]) + b"\n"  # > 1000 words
    path = tmp_path_factory.mktemp("w2vc") / "corpus.txt"
    path.write_bytes(b"".join(lines[30:200]) + b"\n" + long_line + b"".join(lines[200:]))
    assert len(long_line.split()) > ref.MAX_SENTENCE_LENGTH
    return str(path)


def test_reference_matches_word2vec_c(word2vec_c, corpus, tmp_path):
    size, iters, min_count = 20, 2, 3
    c_words, c_vectors = ref.run_word2vec_c(word2vec_c, corpus, str(tmp_path / "c.bin"),
                                            size=size, iters=iters, min_count=min_count)
    lines = ref.read_text(corpus)
    words, counts = ref.vocabulary(lines, min_count)
    assert words == c_words
    syn0, _ = ref.train_cbow(ref.token_stream(lines, words), counts, size=size, iters=iters)
    initial = ref.initial_vectors(len(words), size)
    assert np.abs(c_vectors - initial).max() > 1e-3  # training moved the vectors
    assert np.abs(syn0 - c_vectors).max() <= 1e-6
