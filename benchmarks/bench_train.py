"""Benchmark `w2v train` against gensim's Word2Vec(corpus_file=...) with identical settings.

    flock /tmp/w2v-bench.lock python benchmarks/bench_train.py /tmp/enwiki-10m.txt \
        --threads 2 --models sg,cbow --kernels classic,batched

Each run is a subprocess (so its peak RSS is its own, read with os.wait4). Reported:
  train s    wall seconds of the training loop alone (gensim: Word2Vec.train; w2v:
             train_word2vec after the corpus is loaded); total s also counts reading the
             corpus and building the vocabulary, and saving the vectors.
  words/s    corpus tokens (whitespace-separated, as in the file) x epochs / train s,
             the same numerator for both tools, so the ratio is the ratio of train times.
  analogy    questions-words.txt, 3CosAdd, gensim's evaluate_word_analogies with
             restrict_vocab=30000, on both tools' saved vectors (identical evaluation).
  ws353      Spearman rho on wordsim353.txt (gensim's evaluate_word_pairs).
"""

import argparse
import json
import lzma
import os
import subprocess
import sys
import tempfile
import time

from measure import child_peak_kb

EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "eval")


def plain_text(path, lines, workdir):
    """A plain-text copy of the first `lines` lines (corpus_file can't read compressed input)."""
    opener = lzma.open if path.endswith(".xz") else open
    if lines is None and opener is open:
        return path
    out = os.path.join(workdir, "corpus.txt")
    with opener(path, "rt", encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if lines is not None and i >= lines:
                break
            dst.write(line)
    return out


def count_tokens(path):
    n = 0
    with open(path, "rb") as f:
        for line in f:
            n += len(line.split())
    return n


# --------------------------------------------------------------------------- workers


def work_w2v(args):
    from w2v.corpus import load_corpus
    from w2v.formats import save_vectors
    from w2v.train import train_word2vec

    started = time.perf_counter()
    corpus = load_corpus([args.corpus], min_count=args.min_count)
    wv = train_word2vec(corpus, model=args.model, dim=args.dim, window=args.window,
                        negative=args.negative, hs=args.hs, sample=args.sample,
                        epochs=args.epochs, threads=args.threads, seed=1, kernel=args.kernel)
    save_vectors(wv, args.output)
    return {"train_s": wv.train_seconds, "total_s": time.perf_counter() - started}


def work_gensim(args):
    from gensim.models import Word2Vec

    started = time.perf_counter()
    model = Word2Vec(vector_size=args.dim, window=args.window, min_count=args.min_count,
                     sg=int(args.model == "sg"), hs=int(args.hs), negative=args.negative,
                     sample=args.sample, workers=args.threads, epochs=args.epochs, seed=1,
                     alpha=0.025 if args.model == "sg" else 0.05)
    model.build_vocab(corpus_file=args.corpus)
    t0 = time.perf_counter()
    model.train(corpus_file=args.corpus, total_words=model.corpus_total_words,
                epochs=args.epochs)
    train_s = time.perf_counter() - t0
    model.wv.save_word2vec_format(args.output, binary=True)
    return {"train_s": train_s, "total_s": time.perf_counter() - started}


# --------------------------------------------------------------------------- parent


def run_worker(tool, model, kernel, options, corpus, output):
    command = [sys.executable, __file__, "--worker", tool, "--model", model, "--kernel", kernel,
               "--output", output, corpus, *options]
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


def evaluate(path):
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(path, binary=True)
    analogy, _ = kv.evaluate_word_analogies(f"{EVAL}/questions-words.txt", restrict_vocab=30000)
    pairs = kv.evaluate_word_pairs(f"{EVAL}/wordsim353.txt")
    return analogy, pairs[1][0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--lines", type=int, default=None, help="Use only the first N lines.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="sg,cbow")
    parser.add_argument("--kernels", default="classic", help="w2v kernels: classic,batched")
    parser.add_argument("--no-gensim", action="store_true")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--hs", action="store_true")
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--worker", choices=["w2v", "gensim"], help=argparse.SUPPRESS)
    parser.add_argument("--model", default="sg", help=argparse.SUPPRESS)
    parser.add_argument("--kernel", default="classic", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        work = work_w2v if args.worker == "w2v" else work_gensim
        print(json.dumps(work(args)))
        return

    options = ["--threads", str(args.threads), "--epochs", str(args.epochs), "--dim",
               str(args.dim), "--window", str(args.window), "--negative", str(args.negative),
               "--sample", str(args.sample), "--min-count", str(args.min_count)]
    if args.hs:
        options.append("--hs")
    with tempfile.TemporaryDirectory(prefix="w2v-bench-") as workdir:
        corpus = plain_text(args.corpus, args.lines, workdir)
        tokens = count_tokens(corpus)
        print(f"corpus {corpus}: {tokens:,} tokens; threads {args.threads}, epochs {args.epochs}, "
              f"dim {args.dim}, window {args.window}, negative {args.negative}, hs {args.hs}, "
              f"sample {args.sample}, min-count {args.min_count}", flush=True)
        header = (f"{'model':6} {'tool':14} {'train s':>8} {'total s':>8} {'words/s':>10} "
                  f"{'RSS MB':>7} {'analogy':>8} {'ws353':>6}")
        print(header)
        rows = []
        for model in args.models.split(","):
            runs = [("w2v", k) for k in args.kernels.split(",")
                    if not (k == "batched" and model != "sg")]
            if not args.no_gensim:
                runs.append(("gensim", "-"))
            results = {}
            for tool, kernel in runs:
                output = os.path.join(workdir, f"{tool}-{model}-{kernel}.bin")
                r = run_worker(tool, model, kernel, options, corpus, output)
                r["analogy"], r["ws353"] = evaluate(output)
                r["words_s"] = tokens * args.epochs / r["train_s"]
                name = tool if tool == "gensim" else f"w2v {kernel}"
                results[name] = r
                print(f"{model:6} {name:14} {r['train_s']:8.1f} {r['total_s']:8.1f} "
                      f"{r['words_s']:10,.0f} {r['rss_mb']:7.0f} {100 * r['analogy']:7.2f}% "
                      f"{r['ws353']:6.3f}", flush=True)
            if "gensim" in results:
                g = results["gensim"]
                for name, r in results.items():
                    if name != "gensim":
                        rows.append(f"{model:6} {name:14} speed x{r['words_s'] / g['words_s']:.2f}"
                                    f"  RSS x{r['rss_mb'] / g['rss_mb']:.2f}"
                                    f"  analogy {100 * (r['analogy'] - g['analogy']):+.2f} pt"
                                    f"  ws353 {r['ws353'] - g['ws353']:+.3f}")
        if rows:
            print("\nw2v / gensim:")
            print("\n".join(rows))


if __name__ == "__main__":
    main()
