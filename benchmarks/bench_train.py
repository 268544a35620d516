"""Benchmark `w2v train` against gensim's Word2Vec(corpus_file=...) with identical settings,
and against word2vec C with `--word2vec-c`.

    flock /tmp/w2v-bench.lock python benchmarks/bench_train.py /tmp/enwiki-10m.txt \
        --threads 2 --models sg,cbow --kernels auto,classic,batched --seeds 1,2,3

`--word2vec-c` adds word2vec C's runs: word2vec.c from the sdist of the PyPI package
`word2vec`, compiled with the flags that package uses (-Ofast -march=native -funroll-loops;
`word2vec_c_reference.word2vec_c_binary`, cached in the temporary directory), or the binary
given (`--word2vec-c PATH`). It has no seed option: its runs at a "seed" are repeated runs,
which differ by the threads' timing (at one thread they are all the same run). Its train s is
the run that reads the vocabulary it saved in a first run (`-save-vocab`, then `-read-vocab`):
building its tables, training and writing the vectors; total s adds the counting run.

`--threads 1,2` runs everything at each thread count and adds each run's speed-up from the
first count to the others (words/s at N threads / words/s at the first), seed by seed.

Each run is a subprocess (so its peak RSS is its own, read with os.wait4). Reported:
  train s    wall seconds of the training loop alone (gensim: Word2Vec.train; w2v:
             train_word2vec after the corpus is loaded); total s also counts reading the
             corpus and building the vocabulary, and saving the vectors.
  words/s    corpus tokens (whitespace-separated, as in the file) x epochs / train s,
             the same numerator for both tools, so the ratio is the ratio of train times.
  analogy    questions-words.txt, 3CosAdd, gensim's evaluate_word_analogies with
             restrict_vocab=30000, on both tools' saved vectors put in one vocabulary
             order (count, then the word), so both answer the same questions.
  ws353      Spearman rho on wordsim353.txt (gensim's evaluate_word_pairs).
  rw         Spearman rho on rw.txt (Rare Words), the same way.
  load       the 1-minute load average when the run ended (the machine may be shared).
The evaluation sets are read from ../shared/data/eval, or from $W2V_EVAL.

Runs are interleaved (each seed runs every w2v kernel and gensim in turn), so a change in
the machine's load hits both tools alike. With several seeds, a summary gives each run's
mean and spread (sample standard deviation) and its standard error (sd / sqrt(seeds)),
w2v's speed as a ratio to gensim's, and w2v's quality minus gensim's (mean +- standard
error), both taken seed by seed (and the same against word2vec C). A w2v kernel that is not
valid for a model (batched with cbow) is skipped.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from measure import child_peak_kb, count_tokens, mean_sd, plain_text, spread_cells

EVAL = os.environ.get("W2V_EVAL") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "eval")


# --------------------------------------------------------------------------- workers


def work_w2v(args):
    from w2v.corpus.corpus import load_corpus
    from w2v.files.formats import save_vectors
    from w2v.word2vec.model import train_word2vec

    started = time.perf_counter()
    corpus = load_corpus([args.corpus], min_count=args.min_count)
    wv = train_word2vec(corpus, model=args.model, dim=args.dim, window=args.window,
                        negative=args.negative, hs=args.hs, sample=args.sample,
                        epochs=args.epochs, threads=args.threads, seed=args.seed,
                        kernel=args.kernel)
    save_vectors(wv, args.output)
    return {"train_s": wv.train_seconds, "total_s": time.perf_counter() - started}


def work_word2vec_c(args):
    """word2vec C at the same settings (its own default alpha, as gensim's runs use)."""
    binary = args.word2vec_c
    common = ["-train", args.corpus, "-min-count", str(args.min_count), "-debug", "0"]
    started = time.perf_counter()
    vocab = args.output + ".vocab"
    subprocess.run([binary, *common, "-save-vocab", vocab], check=True, capture_output=True)
    t0 = time.perf_counter()
    subprocess.run([binary, *common, "-read-vocab", vocab, "-output", args.output, "-binary", "1",
                    "-cbow", str(int(args.model == "cbow")), "-size", str(args.dim),
                    "-window", str(args.window), "-negative", str(args.negative),
                    "-hs", str(int(args.hs)), "-sample", str(args.sample),
                    "-threads", str(args.threads), "-iter", str(args.epochs)],
                   check=True, capture_output=True)
    train_s = time.perf_counter() - t0
    os.remove(vocab)
    return {"train_s": train_s, "total_s": time.perf_counter() - started}


def work_gensim(args):
    from gensim.models import Word2Vec

    started = time.perf_counter()
    model = Word2Vec(vector_size=args.dim, window=args.window, min_count=args.min_count,
                     sg=int(args.model == "sg"), hs=int(args.hs), negative=args.negative,
                     sample=args.sample, workers=args.threads, epochs=args.epochs, seed=args.seed,
                     alpha=0.025 if args.model == "sg" else 0.05)
    model.build_vocab(corpus_file=args.corpus)
    t0 = time.perf_counter()
    model.train(corpus_file=args.corpus, total_words=model.corpus_total_words,
                epochs=args.epochs)
    train_s = time.perf_counter() - t0
    model.wv.save_word2vec_format(args.output, binary=True)
    return {"train_s": train_s, "total_s": time.perf_counter() - started}


# --------------------------------------------------------------------------- parent


def word2vec_c(path):
    """The word2vec C binary to run: `path`, or word2vec.c built as the package builds it."""
    if path:
        return os.path.abspath(path)
    from word2vec_c_reference import PACKAGE_FLAGS, word2vec_c_binary

    binary = word2vec_c_binary(os.path.join(tempfile.gettempdir(), "w2v-word2vec-c"),
                               PACKAGE_FLAGS)
    if binary is None:
        raise SystemExit("--word2vec-c: no C compiler, or word2vec.c could not be downloaded")
    return binary


WORKERS = {"w2v": work_w2v, "gensim": work_gensim, "word2vec-c": work_word2vec_c}
PEERS = {"gensim": "gensim", "word2vec-c": "word2vec C"}
"""The peer tools: worker name -> the name their runs are reported under."""


def run_worker(tool, model, kernel, seed, options, corpus, output):
    command = [sys.executable, __file__, "--worker", tool, "--model", model, "--kernel", kernel,
               "--seed", str(seed), "--output", output, corpus, *options]
    command, peak_kb = child_peak_kb(command)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{tool} {model} failed with exit code {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_mb"] = (peak_kb() if peak_kb else usage.ru_maxrss) / 1024
    return result


def evaluation_order(corpus, min_count):
    """The words of the corpus's vocabulary, count descending and ties by the word itself.

    Questions-words is scored over the 30k first words of a file, so two files with the same
    counts but ties broken differently at the 30k cut are scored on different questions (on
    50M tokens w2v's order covered 7,432 questions, gensim's 7,366). Both tools' vectors are
    put in this one order before scoring, so they answer the same questions.
    """
    from w2v.corpus.corpus import count_corpus

    counts = count_corpus([corpus])
    vocab = counts.vocab(min_count)
    return [w for _, w in sorted(zip((-vocab.counts).tolist(), vocab.words))]


def evaluate(path, order=None):
    """Questions-words (top 30k of `order`, else of the file), WS353 and RW of a vector file."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    if order is not None:
        known = [w for w in order if w in kv.key_to_index]
        seen = set(known)
        rest = [w for w in kv.index_to_key if w not in seen]
        ordered = KeyedVectors(kv.vector_size)
        ordered.add_vectors(known + rest, kv[known + rest])
        kv = ordered
    analogy, _ = kv.evaluate_word_analogies(f"{EVAL}/questions-words.txt", restrict_vocab=30000)
    ws353 = kv.evaluate_word_pairs(f"{EVAL}/wordsim353.txt")[1][0]
    rw = kv.evaluate_word_pairs(f"{EVAL}/rw.txt")[1][0]
    return {"analogy": 100 * analogy, "ws353": ws353, "rw": rw}


def valid_kernel(model, kernel, args):
    """Whether w2v accepts this kernel for this model and loss (batched CBOW may not exist)."""
    from w2v.config import Word2VecConfig
    from w2v.errors import OptionError

    try:
        Word2VecConfig(model=model, kernel=kernel, hs=args.hs, negative=args.negative)
    except OptionError:
        return False
    return True


FIGURES = (("words_s", "words/s", "{:,.0f}"), ("analogy", "analogy %", "{:.2f}"),
           ("ws353", "ws353", "{:.3f}"), ("rw", "rw", "{:.3f}"))


def summary(model, results, seeds):
    """Mean +- sd of each figure over the seeds, w2v's speed ratio to each peer and quality
    minus the peer's, seed by seed, and
    (with several thread counts) each run's speed-up over its first thread count."""
    lines = []
    by_threads = {}
    for name, runs in results.items():
        tool, _, threads = name.rpartition(" t")
        by_threads.setdefault(tool, {})[int(threads)] = runs
    for name, runs in results.items():
        lines.append(f"{model:6} {name:17} " + "  ".join(spread_cells(runs, FIGURES)))
        if len(runs) > 1:
            errors = [f"{label} "
                      f"{form.format(mean_sd([r[key] for r in runs])[1] / len(runs) ** 0.5)}"
                      for key, label, form in FIGURES]
            lines.append(f"{model:6} {name:17} standard error: " + "  ".join(errors))
    for peer in PEERS.values():
        for name, runs in results.items():
            tool, _, threads = name.rpartition(" t")
            other = results.get(f"{peer} t{threads}")
            if tool in PEERS.values() or not other or len(other) != len(runs):
                continue
            ratios = [r["words_s"] / g["words_s"] for r, g in zip(runs, other)]
            mean, sd = mean_sd(ratios)
            lines.append(f"{model:6} {name:17} speed / {peer} x{mean:.2f} +- {sd:.2f} "
                         f"(per seed: {', '.join(f'{x:.2f}' for x in ratios)})")
            cells = []
            for key, label, form in FIGURES[1:]:
                mean, sd = mean_sd([r[key] - g[key] for r, g in zip(runs, other)])
                cells.append(f"{label} {form.format(mean)} +- "
                             f"{form.format(sd / len(runs) ** 0.5)}")
            lines.append(f"{model:6} {name:17} minus {peer}, seed by seed (mean +- se): "
                         + "  ".join(cells))
    for tool, counts in by_threads.items():
        first = min(counts)
        for threads, runs in sorted(counts.items()):
            if threads == first or len(runs) != len(counts[first]):
                continue
            ups = [r["words_s"] / b["words_s"] for r, b in zip(runs, counts[first])]
            mean, sd = mean_sd(ups)
            lines.append(f"{model:6} {tool:14} threads {first} -> {threads}: x{mean:.2f} +- "
                         f"{sd:.2f} (per seed: {', '.join(f'{x:.2f}' for x in ups)})")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--lines", type=int, default=None, help="Use only the first N lines.")
    parser.add_argument("--threads", default="2",
                        help="Thread count, or several (1,2) to measure scaling.")
    parser.add_argument("--models", default="sg,cbow")
    parser.add_argument("--kernels", default="auto", help="w2v kernels: auto,classic,batched")
    parser.add_argument("--seeds", default="1", help="Seeds, e.g. 1,2,3: every run per seed.")
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--word2vec-c", nargs="?", const="", default=None, metavar="BINARY",
                        help="Also run word2vec C (built from the word2vec sdist unless given).")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--hs", action="store_true")
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--model", default="sg", help=argparse.SUPPRESS)
    parser.add_argument("--kernel", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        args.threads = int(args.threads)
        print(json.dumps(WORKERS[args.worker](args)))
        return

    seeds = [int(x) for x in args.seeds.split(",")]
    thread_counts = [int(x) for x in args.threads.split(",")]
    options = ["--epochs", str(args.epochs), "--dim",
               str(args.dim), "--window", str(args.window), "--negative", str(args.negative),
               "--sample", str(args.sample), "--min-count", str(args.min_count)]
    if args.hs:
        options.append("--hs")
    if args.word2vec_c is not None:
        options += ["--word2vec-c", word2vec_c(args.word2vec_c)]
    with tempfile.TemporaryDirectory(prefix="w2v-bench-") as workdir:
        corpus = plain_text(args.corpus, args.lines, workdir)
        tokens = count_tokens(corpus)
        order = evaluation_order(corpus, args.min_count)
        print(f"corpus {corpus}: {tokens:,} tokens; threads {args.threads}, epochs {args.epochs}, "
              f"dim {args.dim}, window {args.window}, negative {args.negative}, hs {args.hs}, "
              f"sample {args.sample}, min-count {args.min_count}, seeds {args.seeds}", flush=True)
        header = (f"{'model':6} {'tool':17} {'seed':>4} {'train s':>8} {'total s':>8} "
                  f"{'words/s':>10} {'RSS MB':>7} {'analogy':>8} {'ws353':>6} {'rw':>6} "
                  f"{'load':>5}")
        print(header)
        summaries = []
        for model in args.models.split(","):
            runs = [("w2v", k) for k in args.kernels.split(",") if valid_kernel(model, k, args)]
            if not args.no_gensim:
                runs.append(("gensim", "-"))
            if args.word2vec_c is not None:
                runs.append(("word2vec-c", "-"))
            results = {}
            for seed in seeds:
                for (tool, kernel), threads in [(run, t) for run in runs for t in thread_counts]:
                    output = os.path.join(workdir, f"{tool}-{model}-{kernel}-{seed}-{threads}.bin")
                    r = run_worker(tool, model, kernel, seed,
                                   [*options, "--threads", str(threads)], corpus, output)
                    load = os.getloadavg()[0]
                    r.update(evaluate(output, order))
                    os.remove(output)
                    r["words_s"] = tokens * args.epochs / r["train_s"]
                    name = PEERS.get(tool, f"w2v {kernel}") + f" t{threads}"
                    results.setdefault(name, []).append(r)
                    print(f"{model:6} {name:17} {seed:4} {r['train_s']:8.1f} {r['total_s']:8.1f} "
                          f"{r['words_s']:10,.0f} {r['rss_mb']:7.0f} {r['analogy']:7.2f}% "
                          f"{r['ws353']:6.3f} {r['rw']:6.3f} {load:5.2f}", flush=True)
            summaries += summary(model, results, seeds)
        print(f"\nover seeds {args.seeds} (mean +- sd, then the standard error sd / sqrt(seeds)):")
        print("\n".join(summaries))


if __name__ == "__main__":
    main()
