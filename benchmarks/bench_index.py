"""`w2v search --index` startup: process start to first answer over N synthetic documents.

Builds (once, in --dir) 10k-word random vectors of dim 100, a text file of N one-word-per-line
documents and an index of them, written by `write_index` with mean pooling, then times
`w2v search --index IDX QUERY` as a fresh process, --repeat times (the best and the median).

    python benchmarks/bench_index.py --documents 1000000 --dir /tmp/bench-index
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def build(directory, n_docs, n_words=10000, dim=100):
    from w2v.docindex import write_index
    from w2v.formats import save_vectors
    from w2v.vectors import WordVectors

    os.makedirs(directory, exist_ok=True)
    vectors, docs = os.path.join(directory, "v.bin"), os.path.join(directory, "docs.txt")
    index = os.path.join(directory, f"docs-{n_docs}.idx")
    if os.path.exists(index):
        return vectors, index
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(n_words)]
    wv = WordVectors(words, rng.normal(size=(n_words, dim)).astype(np.float32))
    save_vectors(wv, vectors)
    ids = rng.integers(0, n_words, size=(n_docs, 3))
    with open(docs, "w") as f:
        for start in range(0, n_docs, 100000):
            f.write("".join(f"w{a} w{b} w{c}\n" for a, b, c in ids[start:start + 100000]))
    write_index(index, wv, [docs], "mean", vectors_path=vectors)
    return vectors, index


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000000)
    parser.add_argument("--dir", default="/tmp/w2v-bench-index")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    vectors, index = build(args.dir, args.documents)
    print(f"index ready ({os.path.getsize(index) / 2**20:.0f} MiB) in "
          f"{time.perf_counter() - started:.1f} s")
    w2v = os.path.join(os.path.dirname(sys.executable), "w2v")
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        subprocess.run([w2v, "search", "--index", index, "-n", "10", "w1 w2 w3"], check=True,
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    print(f"search --index over {args.documents} x 100 documents, process start to answer: "
          f"best {min(times):.3f} s, median {statistics.median(times):.3f} s "
          f"({args.repeat} runs)")


if __name__ == "__main__":
    main()
