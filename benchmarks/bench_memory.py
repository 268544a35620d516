"""Peak memory of the corpus-reading commands at 250M tokens, against what README states.

    python benchmarks/bench_memory.py [--copies 5] [--tokens N] [--tmp-dir DIR] [--memory 1]

Builds the corpus by writing ../shared/data/corpus/enwiki-50m.txt.xz decompressed --copies
times (5: 250M tokens, about 1.5 GB) into a temporary directory under --tmp-dir, or only its
first --tokens tokens, and deletes it afterwards (also on an error or Ctrl-C). Then runs,
one at a time, each under GNU time (its peak RSS, see measure.py):

  vocab     w2v vocab: the counts-only pass (no token ids); its peak is what README calls
            "the vocabulary and a constant", the base of the other bounds
  load      load_corpus() alone (the pass every training command makes)
  cooccur   w2v cooccur --window 10 --memory GB
  train     w2v train --epochs 1 --model cbow (one epoch: memory does not grow per epoch)

and prints wall seconds, peak RSS, bytes per token and the bound README states, evaluated
with this run's figures (tokens, vocabulary, non-zeros). Run it alone: it takes several
minutes at full size and the timings are only meaningful on an idle machine.
"""

import argparse
import lzma
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

from measure import child_peak_kb  # noqa: E402

DEFAULT = os.path.join(HERE, "..", "..", "shared", "data", "corpus", "enwiki-50m.txt.xz")
COMMANDS = ("vocab", "load", "cooccur", "train")
GB = 1e9


def build_corpus(source, copies, tokens, path):
    """Write `copies` decompressed copies of source (or its first `tokens` tokens) to path."""
    with open(path, "wb") as out:
        if tokens is None:
            with lzma.open(source, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 24)
            out.flush()
            size = out.tell()
            with open(path, "rb") as first:
                for _ in range(copies - 1):
                    first.seek(0)
                    left = size  # exactly one copy: the file grows as it is read
                    while left:
                        chunk = first.read(min(left, 1 << 24))
                        out.write(chunk)
                        left -= len(chunk)
            return size * copies
        written = 0
        while written < tokens:
            with lzma.open(source, "rb") as src:
                for line in src:
                    out.write(line)
                    written += len(line.split())
                    if written >= tokens:
                        break
    return os.path.getsize(path)


def run_measured(command):
    """(wall seconds, peak RSS in bytes, stderr) of a command run under GNU time."""
    wrapped, peak_kb = child_peak_kb(command)
    started = time.perf_counter()
    result = subprocess.run(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    peak = peak_kb() * 1024
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-2000:]}")
    return seconds, peak, result.stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=DEFAULT, help="an .xz corpus to repeat")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=None,
                        help="only this many tokens (whole lines), e.g. 10000000 to try it out")
    parser.add_argument("--tmp-dir", default=None, help="where the corpus and spills go")
    parser.add_argument("--memory", type=float, default=1.0, help="cooccur's --memory, GB")
    parser.add_argument("--window", type=int, default=10, help="cooccur's --window")
    parser.add_argument("--only", default=",".join(COMMANDS),
                        help=f"comma-separated subset of {','.join(COMMANDS)}")
    args = parser.parse_args()
    only = [c for c in args.only.split(",") if c]
    if unknown := set(only) - set(COMMANDS):
        sys.exit(f"unknown command(s): {', '.join(sorted(unknown))}")
    if not os.path.exists(args.corpus):
        sys.exit(f"corpus not found: {args.corpus}")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("GNU time (/usr/bin/time) is needed to measure a child's peak RSS")
    # SIGTERM unwinds like Ctrl-C, so the temporary directory is removed either way
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    python = sys.executable
    w2v = [python, "-m", "w2v.cli"]
    with tempfile.TemporaryDirectory(prefix="w2v-bench-memory-", dir=args.tmp_dir) as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        started = time.perf_counter()
        size = build_corpus(args.corpus, args.copies, args.tokens, corpus)
        print(f"corpus: {size / GB:.2f} GB of text in {time.perf_counter() - started:.0f} s "
              f"({'first %d tokens' % args.tokens if args.tokens else '%d copies' % args.copies}"
              f" of {os.path.basename(args.corpus)})", flush=True)

        from w2v.corpus.corpus import count_corpus

        counted = count_corpus(corpus)
        tokens = counted.n_raw_tokens
        vocab = counted.vocab(min_count=5)
        n_words, kept = len(vocab), vocab.total
        del counted, vocab
        print(f"{tokens:,} tokens, {n_words:,} words of min-count 5 ({kept:,} tokens kept)\n",
              flush=True)

        commands = {
            "vocab": w2v + ["vocab", corpus, "-o", os.path.join(tmp, "vocab.txt")],
            "load": [python, "-c", "import sys; from w2v.corpus.corpus import load_corpus; "
                     "load_corpus(sys.argv[1])", corpus],
            "cooccur": w2v + ["cooccur", corpus, "--window", str(args.window), "--memory",
                              str(args.memory), "--tmp-dir", tmp, "-o",
                              os.path.join(tmp, "counts.npz"), "--verbose"],
            "train": w2v + ["train", corpus, "--epochs", "1", "--model", "cbow", "-o",
                            os.path.join(tmp, "vectors.bin")],
        }
        base = None  # the counts-only pass: the vocabulary and the constant
        dim = 100
        print(f"{'command':<10} {'wall s':>8} {'peak GB':>8} {'B/token':>8}  bound README states")
        for name in only:
            seconds, peak, err = run_measured(commands[name])
            if name == "vocab":
                base = peak
                bound = "vocabulary + constant (no token ids): this figure, V below"
            else:
                v = "V" if base is not None else "V (run vocab too)"
                ids = 4 * tokens
                value = (base or 0) + ids
                terms = f"{v} + 4 B/token read ({ids / GB:.2f})"
                if name == "train":
                    vectors = 2 * dim * 4 * n_words
                    value += vectors
                    terms += f" + 2 x dim x 4 B/word ({vectors / GB:.2f})"
                if name == "cooccur":
                    nnz = int(re.search(r"co-occurrences: (\d+) non-zeros", err).group(1))
                    csr = 8 * nnz + 4 * n_words
                    value += args.memory * GB + csr
                    terms += (f" + --memory ({args.memory:g}) + 8 B/non-zero ({nnz:,}: "
                              f"{csr / GB:.2f})")
                bound = f"{terms} = {value / GB:.2f} GB" if base is not None else terms
            print(f"{name:<10} {seconds:>8.1f} {peak / GB:>8.2f} {peak / tokens:>8.2f}  {bound}",
                  flush=True)


if __name__ == "__main__":
    main()
