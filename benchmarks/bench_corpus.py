"""Throughput of the corpus pass (read, split, count, ids, vocabulary, remap).

Usage: python benchmarks/bench_corpus.py [CORPUS] [--lines N] [--repeat 3]

CORPUS defaults to ../shared/data/corpus/enwiki-50m.txt.xz, decompressed once to a temporary
file first, because the target (3M tokens/s on one core) is for decompressed text. The pass
tokenizes on one core (Python around a numba kernel) while a second thread reads and
decompresses ahead. Also times the same pass straight
from the .xz file, and reports the peak RSS of a pass in a fresh process.
"""

import argparse
import itertools
import lzma
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "shared", "data", "corpus", "enwiki-50m.txt.xz")


def decompress(path, lines, directory):
    out = os.path.join(directory, "corpus.txt")
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as src, open(out, "wb") as dst:
        dst.writelines(itertools.islice(src, lines) if lines else src)
    return out


def timed_pass(path):
    from w2v.corpus.corpus import load_corpus

    start = time.perf_counter()
    corpus = load_corpus(path, min_count=5)
    return time.perf_counter() - start, corpus


def peak_rss_mb(path):
    """Peak RSS of one pass in a fresh interpreter (so earlier passes do not count).

    Read from VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's RSS when it
    was forked, which here holds a whole corpus.
    """
    code = ("import sys; from w2v.corpus.corpus import load_corpus; load_corpus(sys.argv[1]); "
            "print(next(l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('VmHWM')))")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True,
                         check=True)
    return int(out.stdout) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=DEFAULT)
    parser.add_argument("--lines", type=int, default=None, help="only the first N lines")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"corpus not found: {args.corpus}")

    with tempfile.TemporaryDirectory() as tmp:
        plain = decompress(args.corpus, args.lines, tmp)
        size = os.path.getsize(plain)
        times = []
        for _ in range(args.repeat):
            seconds, corpus = timed_pass(plain)
            times.append(seconds)
        best = min(times)
        tokens = corpus.n_raw_tokens
        print(f"corpus: {args.corpus}" + (f" (first {args.lines} lines)" if args.lines else ""))
        print(f"decompressed: {size / 1e6:.1f} MB, {tokens:,} tokens, "
              f"{corpus.n_sentences:,} sentences, vocabulary {len(corpus.vocab):,} (min-count 5)")
        print(f"plain text pass: best {best:.2f} s of {args.repeat} "
              f"({', '.join(f'{t:.2f}' for t in times)}) -> {tokens / best / 1e6:.2f} M tokens/s, "
              f"{size / best / 1e6:.1f} MB/s")
        print(f"peak RSS of a plain-text pass: {peak_rss_mb(plain):.0f} MB "
              f"({tokens * 4 / 1e6:.0f} MB of it is the uint32 ids)")
        if args.corpus.endswith(".xz") and not args.lines:
            seconds, _ = timed_pass(args.corpus)
            print(f"straight from .xz: {seconds:.2f} s -> {tokens / seconds / 1e6:.2f} M tokens/s")
    print(f"(machine: {os.cpu_count()} cores; the pass tokenizes on one; "
          f"self ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
