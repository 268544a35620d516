"""One phrase pass: `w2v phrases` against gensim's Phrases + FrozenPhrases.

Usage: python benchmarks/bench_phrases.py [CORPUS] [--lines 173206]

CORPUS defaults to ../shared/data/corpus/enwiki-50m.txt.xz; its first --lines lines (173,206
lines are the 10M-token slice; 0 for all of it) are decompressed once to a temporary file.
Each tool then runs one pass in a fresh process, timed by wall clock, its peak RSS measured
by GNU time: read the text, count, score, write the text back with the phrases joined.
gensim gets word2phrase's score as a custom scorer (its own default is scaled by vocabulary
size, not corpus size) with min_count 5 and threshold 100, and sentences as line.split(),
so both should find the same phrases; the script reports how many each found and whether
the outputs are identical.
"""

import argparse
import itertools
import lzma
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from measure import child_peak_kb  # noqa: E402

DEFAULT = os.path.join(HERE, "..", "..", "shared", "data", "corpus", "enwiki-50m.txt.xz")

GENSIM = r"""
import sys, time
from gensim.models.phrases import Phrases

def word2phrase(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    if worda_count < min_count or wordb_count < min_count or bigram_count < min_count:
        return float("-inf")
    return (bigram_count - min_count) / worda_count / wordb_count * corpus_word_count

class Lines:
    def __init__(self, path):
        self.path = path
    def __iter__(self):
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                yield line.split()

if __name__ == "__main__":
    source, out = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    model = Phrases(Lines(source), min_count=5, threshold=100.0, scoring=word2phrase,
                    progress_per=10**9)
    learnt = time.perf_counter()
    frozen = model.freeze()
    with open(out, "w", encoding="utf-8") as f:
        for words in Lines(source):
            f.write(" ".join(frozen[words]) + "\n")
    print(len(frozen.phrasegrams), learnt - started, time.perf_counter() - learnt)
"""


def decompress(path, lines, directory):
    out = os.path.join(directory, "corpus.txt")
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as src, open(out, "wb") as dst:
        dst.writelines(itertools.islice(src, lines) if lines else src)
    return out


def timed(command):
    wrapped, peak = child_peak_kb(command)
    start = time.perf_counter()
    result = subprocess.run(wrapped, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, (peak() / 1024 if peak else float("nan")), result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=DEFAULT)
    parser.add_argument("--lines", type=int, default=173206, help="first N lines; 0 for all")
    parser.add_argument("--skip-gensim", action="store_true")
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"corpus not found: {args.corpus}")

    with tempfile.TemporaryDirectory() as tmp:
        plain = decompress(args.corpus, args.lines, tmp)
        with open(plain, "rb") as f:
            tokens = sum(len(line.split()) for line in f)
        print(f"corpus: {args.corpus}" + (f" (first {args.lines} lines)" if args.lines else ""))
        print(f"{os.path.getsize(plain) / 1e6:.1f} MB, {tokens:,} tokens; "
              f"min-count 5, threshold 100, word2phrase's score")
        ours_out = os.path.join(tmp, "w2v.txt")
        table = os.path.join(tmp, "phrases.tsv")
        w2v = [sys.executable, "-m", "w2v.cli", "phrases", plain, "-o", ours_out, "-q",
               "--save-phrases", table]
        timed(w2v[:3] + ["--help"])  # compile or load the kernels outside the timing
        timed(w2v)  # first run compiles the kernels into the cache
        seconds, rss, _ = timed(w2v)
        with open(table, encoding="utf-8") as f:
            found = sum(1 for _ in f)
        print(f"w2v phrases      {seconds:8.1f} s  {tokens / seconds / 1e6:8.3f} M tokens/s  "
              f"peak RSS {rss:6.0f} MB  {found:,} phrases")
        if args.skip_gensim:
            return
        script = os.path.join(tmp, "gensim_pass.py")
        with open(script, "w") as f:
            f.write(GENSIM)
        gensim_out = os.path.join(tmp, "gensim.txt")
        g_seconds, g_rss, stdout = timed([sys.executable, script, plain, gensim_out])
        g_found, learn, apply = stdout.split()
        print(f"gensim Phrases   {g_seconds:8.1f} s  {tokens / g_seconds / 1e6:8.3f} M tokens/s  "
              f"peak RSS {g_rss:6.0f} MB  {int(g_found):,} phrases "
              f"(learn {float(learn):.1f} s, freeze + apply {float(apply):.1f} s)")
        with open(ours_out, "rb") as a, open(gensim_out, "rb") as b:
            same = a.read() == b.read()
        print(f"speed-up {g_seconds / seconds:.1f}x; outputs identical: {same}")


if __name__ == "__main__":
    main()
