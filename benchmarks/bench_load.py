"""Time loading word-vector files: w2v's `load_vectors` against gensim's reader.

Usage: python benchmarks/bench_load.py [--words 100000] [--dim 300] [--repeat 3] [--no-text]

Writes random vectors (word lengths like a real vocabulary) as word2vec binary and text to
a temporary directory, then reports the best of --repeat loads of each, and gensim's
`KeyedVectors.load_word2vec_format` on the same files when gensim is installed. The target
is a 100k x 300 binary file in well under 2 s.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from w2v.files.formats import load_vectors, save_vectors  # noqa: E402
from w2v.vectors.word_vectors import WordVectors  # noqa: E402


def random_vectors(n_words, dim, seed=0):
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(2, 14, n_words)
    words = [f"{''.join(rng.choice(letters, k))}{i}" for i, k in enumerate(lengths)]
    return WordVectors(words, rng.standard_normal((n_words, dim)).astype(np.float32) * 0.1)


def best_of(repeat, load):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = load()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-text", action="store_true", help="Only the binary file.")
    args = parser.parse_args()
    try:
        from gensim.models import KeyedVectors
    except ImportError:
        KeyedVectors = None

    wv = random_vectors(args.words, args.dim)
    with tempfile.TemporaryDirectory() as tmp:
        files = [("binary", os.path.join(tmp, "vectors.bin"))]
        if not args.no_text:
            files.append(("text", os.path.join(tmp, "vectors.txt")))
        print(f"{args.words} words x {args.dim} dims, best of {args.repeat}")
        for kind, path in files:
            start = time.perf_counter()
            save_vectors(wv, path, format=kind)
            saved = time.perf_counter() - start
            size = os.path.getsize(path) / 2**20
            ours, loaded = best_of(args.repeat, lambda: load_vectors(path))
            assert loaded.words == wv.words
            line = f"{kind:>6} {size:7.1f} MiB  save {saved:6.2f} s  w2v load {ours:6.2f} s"
            if KeyedVectors is not None:
                theirs, kv = best_of(args.repeat, lambda: KeyedVectors.load_word2vec_format(
                    path, binary=kind == "binary"))
                assert kv.index_to_key == wv.words
                line += f"  gensim load {theirs:6.2f} s  gensim/w2v {theirs / ours:5.1f}x"
            print(line, flush=True)


if __name__ == "__main__":
    main()
