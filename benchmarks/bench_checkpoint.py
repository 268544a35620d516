"""Model files: save and load time and size, and what checkpoints cost a training run.

    flock /tmp/w2v-bench.lock python benchmarks/bench_checkpoint.py \
        [--sizes 100000,1000000] [--dim 300] [--repeat 3] \
        [--corpus ../shared/data/corpus/enwiki-50m.txt.xz] [--lines 173206] \
        [--model sg] [--epochs 3] [--threads 2] [--checkpoint-every 60] [--pairs 2]

Files: a word2vec model of random weights (w_in and w_out, N x dim each, no HS) is saved
with `save_model` (which fsyncs) and loaded with `load_model` (the whole model, as --resume
does) and `load_model_vectors` (the input vectors only, as `similar` and `evaluate` do).
Loads are the best of --repeat, "cold" right after the file's pages were dropped from the
page cache (posix_fadvise DONTNEED; the file is clean after the fsync), and "warm" from
the cache. The issue's target: loading 1M x 300 in under 3 s.

Training: the first --lines lines of --corpus (173,206 lines: the 10M-token slice) go to a
temporary file; `w2v train` runs on it alternately without and with `--save-model PATH
--checkpoint-every S`, same settings, --pairs times each, and reports the words/s w2v logs
(training loop alone, corpus pass excluded), the checkpoints written and the seconds spent
writing them (as logged by --verbose): on a shared machine the words/s of two runs can differ
by more than the checkpoints cost, and that share does not. With --save-model
the model is also saved at every epoch end. The target: under 2% slower.
"""

import argparse
import lzma
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from w2v.config import Word2VecConfig  # noqa: E402
from w2v.files.model_file import load_model_vectors  # noqa: E402
from w2v.word2vec.model import Word2VecModel, load_model, save_model  # noqa: E402
from w2v.corpus.vocab import Vocab  # noqa: E402

CORPUS = os.path.join(ROOT, "..", "shared", "data", "corpus", "enwiki-50m.txt.xz")


def random_model(n_words, dim, seed=0):
    """A trained-looking model: words of 2-13 letters, Zipf-like counts, random weights."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 14, n_words)
    letters = rng.integers(97, 123, int(lengths.sum()), dtype=np.uint8).tobytes().decode()
    ends = np.cumsum(lengths)
    words = [f"{letters[end - k:end]}{i}" for i, (end, k) in enumerate(zip(ends, lengths))]
    counts = (1e8 / np.arange(1, n_words + 1)).astype(np.int64) + 5
    config = Word2VecConfig(dim=dim)
    w_in = rng.standard_normal((n_words, dim), dtype=np.float32) * 0.1
    w_out = rng.standard_normal((n_words, dim), dtype=np.float32) * 0.1
    w_hs = np.zeros((1, dim), dtype=np.float32)
    return Word2VecModel(config, Vocab(words, counts), w_in, w_out, w_hs)


def drop_from_cache(path):
    with open(path, "rb") as f:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def best_of(repeat, load, path, cold):
    times = []
    for _ in range(repeat):
        if cold:
            drop_from_cache(path)
        start = time.perf_counter()
        result = load(path)
        times.append(time.perf_counter() - start)
        del result
    return min(times)


def bench_files(sizes, dim, repeat, workdir):
    print(f"model files: random weights, w_in and w_out of N x {dim} float32, "
          f"best of {repeat} loads")
    print(f"{'words':>9} {'MiB':>8} {'save s':>7} {'load cold':>10} {'load warm':>10} "
          f"{'vectors cold':>13} {'vectors warm':>13}")
    for n_words in sizes:
        model = random_model(n_words, dim)
        path = os.path.join(workdir, f"model-{n_words}.w2v")
        start = time.perf_counter()
        save_model(model, path)
        saved = time.perf_counter() - start
        loaded = load_model(path)
        assert loaded.vocab.words == model.vocab.words
        assert np.array_equal(loaded.w_in, model.w_in) and np.array_equal(loaded.w_out,
                                                                          model.w_out)
        del loaded, model
        row = [best_of(repeat, load, path, cold) for load in (load_model, load_model_vectors)
               for cold in (True, False)]
        size = os.path.getsize(path) / 2**20
        print(f"{n_words:>9} {size:>8.1f} {saved:>7.2f} {row[0]:>10.2f} {row[1]:>10.2f} "
              f"{row[2]:>13.2f} {row[3]:>13.2f}", flush=True)
        os.remove(path)


def write_slice(corpus, lines, path):
    opener = lzma.open if corpus.endswith(".xz") else open
    with opener(corpus, "rt", encoding="utf-8") as src, \
            open(path, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i >= lines:
                break
            dst.write(line)


TRAINED = re.compile(r"trained (\d+) words in ([\d.]+) s: (\d+) words/s")
SAVED = re.compile(r"w2v: checkpoint: .* \(([\d.]+) s\)")


def train_run(corpus, args, workdir, checkpoints):
    """One `w2v train` run; returns (words/s as logged, checkpoints written, wall s)."""
    command = [sys.executable, "-m", "w2v.cli", "train", corpus, "--model", args.model,
               "--epochs", str(args.epochs), "--threads", str(args.threads), "--verbose",
               "-o", os.path.join(workdir, "v.bin")]
    if checkpoints:
        command += ["--save-model", os.path.join(workdir, "m.w2v"),
                    "--checkpoint-every", str(args.checkpoint_every)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT})
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"w2v train failed:\n{result.stderr}")
    match = TRAINED.search(result.stderr)
    saving = [float(s) for s in SAVED.findall(result.stderr)]
    return int(match.group(3)), float(match.group(2)), saving, wall


def bench_training(args, workdir):
    corpus = os.path.join(workdir, "corpus.txt")
    write_slice(args.corpus, args.lines, corpus)
    print(f"\ntraining: first {args.lines} lines of {os.path.basename(args.corpus)}, "
          f"w2v train --model {args.model} --epochs {args.epochs} --threads {args.threads}; "
          f"with checkpoints: --save-model --checkpoint-every {args.checkpoint_every:g}")
    results = {False: [], True: []}
    for pair in range(args.pairs):
        # alternate the order, so a drift in machine load hits both sides alike
        for checkpoints in ((False, True) if pair % 2 == 0 else (True, False)):
            speed, seconds, saving, wall = train_run(corpus, args, workdir, checkpoints)
            results[checkpoints].append(speed)
            label = "with checkpoints" if checkpoints else "without"
            print(f"  {label:<17} {speed:>10,} words/s  {len(saving):>3} checkpoints taking "
                  f"{sum(saving):5.2f} s of {seconds:6.1f} s training "
                  f"({100 * sum(saving) / seconds:.2f}%)  {wall:6.1f} s wall", flush=True)
    without, with_ = (float(np.mean(results[c])) for c in (False, True))
    print(f"  mean: without {without:,.0f} words/s, with {with_:,.0f} words/s: "
          f"ratio {with_ / without:.3f}, slowdown {100 * (1 - with_ / without):+.1f}%")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="Vocabulary sizes of the model files, comma-separated.")
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", default=CORPUS)
    parser.add_argument("--lines", type=int, default=173_206)
    parser.add_argument("--model", default="sg")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint-every", type=float, default=60.0)
    parser.add_argument("--pairs", type=int, default=2,
                        help="Runs without and with checkpoints, this many of each.")
    parser.add_argument("--no-files", action="store_true", help="Skip the model files part.")
    parser.add_argument("--no-train", action="store_true", help="Skip the training part.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="w2v-bench-", dir=os.environ.get("TMPDIR")) as tmp:
        if not args.no_files:
            bench_files([int(n) for n in args.sizes.split(",")], args.dim, args.repeat, tmp)
        if not args.no_train:
            if not os.path.exists(args.corpus):
                sys.exit(f"no corpus {args.corpus} (see --corpus)")
            bench_training(args, tmp)


if __name__ == "__main__":
    main()
