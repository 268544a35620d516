"""`w2v search --index` speed over N synthetic documents: startup, one query, batches.

Builds (once, in --dir) 10k-word random vectors of dim 100, a text file of N three-word
documents and an index of them, written by `write_index` with mean pooling, then times
- `w2v search --index IDX QUERY` as a fresh process, --repeat times (process start to first
  answer; the best and the median);
- in this process, on the opened (memory-mapped) index: `search_index` for one query at a
  time (20 queries; the median and the best), and for a batch of --batch queries
  (3 times; queries/s, the median and the best). Queries are three random words.

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
    from w2v.documents.index import open_index, write_index
    from w2v.errors import W2VError
    from w2v.files.formats import save_vectors
    from w2v.vectors.word_vectors import WordVectors

    os.makedirs(directory, exist_ok=True)
    vectors, docs = os.path.join(directory, "v.bin"), os.path.join(directory, "docs.txt")
    index = os.path.join(directory, f"docs-{n_docs}.idx")
    if os.path.exists(index):
        try:  # an index left by an older w2v (another index format) is made again
            with open_index(index):
                return vectors, index
        except W2VError:
            pass
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
    parser.add_argument("--batch", type=int, default=1000)
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
    in_process(vectors, index, args.batch)


def in_process(vectors, index_path, batch):
    from w2v.documents.index import open_index, search_index
    from w2v.files.formats import load_vectors

    wv = load_vectors(vectors)
    rng = np.random.default_rng(1)
    queries = [" ".join(f"w{i}" for i in rng.integers(0, len(wv), 3)) for _ in range(batch)]
    with open_index(index_path) as index:
        search_index(index, wv, queries[:1])  # page the matrix in
        times = []
        for query in queries[:20]:
            t = time.perf_counter()
            search_index(index, wv, [query])
            times.append(time.perf_counter() - t)
        print(f"one query (search_index, in process): median {1000 * statistics.median(times):.1f}"
              f" ms, best {1000 * min(times):.1f} ms (20 queries)")
        rates = []
        for _ in range(3):
            t = time.perf_counter()
            search_index(index, wv, queries)
            rates.append(batch / (time.perf_counter() - t))
        print(f"batches of {batch} queries: median {statistics.median(rates):,.0f} queries/s, "
              f"best {max(rates):,.0f} (3 batches)")


if __name__ == "__main__":
    main()
