"""Benchmark `w2v train --subwords` against fastText (fasttext-wheel) at the same settings.

    xzcat ../shared/data/corpus/enwiki-50m.txt.xz | head -173206 > /tmp/enwiki-10m.txt
    flock /tmp/w2v-bench.lock python benchmarks/bench_subwords.py /tmp/enwiki-10m.txt

Settings, the same for both tools: dim 100, window 5, negative 5, 5 epochs, minn 3, maxn 6,
bucket 2M, sample (fastText's t) 1e-4, min count 5, 2 threads, learning rate 0.05 for sg and
cbow (fastText's default; linear decay to 0 in fastText, to lr x 1e-4 in w2v), and negatives
drawn from counts^0.5 (fastText's fixed noise distribution; w2v's --ns-exponent 0.5; change
it for w2v with --ns-exponent). w2v runs its default kernel for each model (batched for sg,
classic for cbow); `--kernels` adds others.

Each run is a subprocess (its peak RSS is its own, through GNU time). Reported:
  train s    seconds of the training loop (w2v: after the corpus is read; fastText: its own
             words/sec/thread x threads, which leaves out building its dictionary, turned
             into seconds over the same token count)
  call s     wall seconds of reading the corpus and training (fastText: the whole
             train_unsupervised call; w2v: load_corpus and train_word2vec)
  total s    wall seconds of the whole worker: reading, training, evaluation
  words/s    corpus tokens (whitespace-separated) x epochs / train s, for both tools
  RSS MB     peak resident memory of the worker (training and evaluation)
  qw/sem/syn questions-words accuracy, 3CosAdd over the 30k most frequent words, computed
             by w2v.evaluate on each tool's in-vocabulary vectors (fastText: get_word_vector)
  ws353, rw  Spearman rho with every pair answered: words outside the vocabulary are composed
             from their n-grams (w2v: subwords.oov_rows over the input matrix; fastText:
             get_word_vector); the share of pairs with both words in the vocabulary is printed
Runs go one after the other in one script, so machine load hits both tools alike; ratios
are w2v / fastText.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from measure import child_peak_kb, count_tokens, plain_text

EVAL = os.environ.get("W2V_EVAL") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "eval")
SIMILARITY = {"ws353": "wordsim353.txt", "rw": "rw.txt"}


# --------------------------------------------------------------------------- evaluation


def pair_words(path):
    """The lowercased words of a 'word1 word2 score' file (the corpus is lowercase)."""
    words = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) == 3:
                words.update(w.lower() for w in fields[:2])
    return words


def scores(wv, oov_vector):
    """Analogy and similarity figures of in-vocabulary vectors `wv`, with `oov_vector(word)`
    answering the similarity sets' words outside the vocabulary."""
    from w2v.evaluate import evaluate_analogies, evaluate_similarity
    from w2v.vectors import WordVectors

    result = {}
    analogy = evaluate_analogies(wv, os.path.join(EVAL, "questions-words.txt"),
                                 restrict_vocab=30000, method="3cosadd")
    result["qw"] = 100 * analogy.accuracy
    result["sem"] = 100 * analogy.semantic.accuracy
    result["syn"] = 100 * analogy.syntactic.accuracy
    for name, filename in SIMILARITY.items():
        path = os.path.join(EVAL, filename)
        in_vocab = evaluate_similarity(wv, path)
        missing = sorted(w for w in pair_words(path) if w not in wv)
        extra = np.array([oov_vector(w) for w in missing], dtype=np.float32).reshape(-1, wv.dim)
        full = WordVectors(wv.words + missing, np.concatenate([wv.vectors, extra]))
        answered = evaluate_similarity(full, path)
        result[name] = answered.spearman
        result[f"{name}_coverage"] = 100 * in_vocab.coverage
        result[f"{name}_answered"] = 100 * answered.coverage
    return result


# --------------------------------------------------------------------------- workers


def work_w2v(args):
    from w2v import subwords
    from w2v.corpus import load_corpus
    from w2v.train import train_word2vec

    started = time.perf_counter()
    corpus = load_corpus([args.corpus], min_count=args.min_count)
    wv = train_word2vec(corpus, model=args.model, kernel=args.kernel, subwords=True,
                        dim=args.dim, window=args.window, negative=args.negative,
                        sample=args.sample, epochs=args.epochs, alpha=args.lr,
                        ns_exponent=args.ns_exponent,
                        minn=args.minn, maxn=args.maxn, bucket=args.bucket,
                        threads=args.threads, seed=args.seed)
    train_s, call_s = wv.train_seconds, time.perf_counter() - started
    w_in, config = wv.model.w_in, wv.model.config

    def oov_vector(word):
        rows = subwords.oov_rows(word, len(wv), config.minn, config.maxn, config.bucket)
        return w_in[rows].mean(axis=0) if len(rows) else np.zeros(config.dim, np.float32)

    result = scores(wv, oov_vector)
    return {"train_s": train_s, "call_s": call_s, "total_s": time.perf_counter() - started,
            **result}


def work_fasttext(args):
    import fasttext

    from w2v.vectors import WordVectors

    started = time.perf_counter()
    model = fasttext.train_unsupervised(
        args.corpus, model="skipgram" if args.model == "sg" else "cbow", dim=args.dim,
        ws=args.window, neg=args.negative, epoch=args.epochs, minn=args.minn, maxn=args.maxn,
        bucket=args.bucket, t=args.sample, minCount=args.min_count, lr=args.lr,
        thread=args.threads, verbose=2)
    call_s = time.perf_counter() - started
    words = model.words
    wv = WordVectors(words, np.array([model.get_word_vector(w) for w in words]))
    result = scores(wv, model.get_word_vector)
    return {"call_s": call_s, "total_s": time.perf_counter() - started, **result}


# --------------------------------------------------------------------------- parent


RATE = re.compile(rb"words/sec/thread:\s*([0-9]+)")


def run_worker(tool, model, kernel, options, corpus, threads):
    command = [sys.executable, __file__, "--worker", tool, "--model", model,
               "--kernel", kernel, corpus, *options]
    command, peak_kb = child_peak_kb(command)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.stderr.write(err.decode("utf-8", "replace")[-3000:])
        raise SystemExit(f"{tool} {model} failed with exit code {proc.returncode}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    if tool == "fasttext":
        rates = RATE.findall(err)
        if not rates:
            raise SystemExit("fastText printed no words/sec/thread")
        result["ft_rate"] = int(rates[-1]) * threads
    result["rss_mb"] = (peak_kb() if peak_kb else 0) / 1024
    return result


COLUMNS = (("train_s", "train s", "{:8.1f}"), ("call_s", "call s", "{:8.1f}"),
           ("total_s", "total s", "{:8.1f}"),
           ("words_s", "words/s", "{:10,.0f}"), ("rss_mb", "RSS MB", "{:7.0f}"),
           ("qw", "qw %", "{:6.2f}"), ("sem", "sem %", "{:6.2f}"), ("syn", "syn %", "{:6.2f}"),
           ("ws353", "ws353", "{:6.3f}"), ("rw", "rw", "{:6.3f}"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--lines", type=int, default=None, help="Use only the first N lines.")
    parser.add_argument("--models", default="sg,cbow")
    parser.add_argument("--kernels", default="auto", help="w2v kernels: auto,classic,batched")
    parser.add_argument("--no-fasttext", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-4)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--minn", type=int, default=3)
    parser.add_argument("--maxn", type=int, default=6)
    parser.add_argument("--bucket", type=int, default=2000000)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--ns-exponent", type=float, default=0.5,
                        help="w2v's noise exponent (fastText's is fixed at 0.5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", choices=["w2v", "fasttext"], help=argparse.SUPPRESS)
    parser.add_argument("--model", default="sg", help=argparse.SUPPRESS)
    parser.add_argument("--kernel", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        work = work_w2v if args.worker == "w2v" else work_fasttext
        print(json.dumps(work(args)))
        return

    options = ["--threads", str(args.threads), "--epochs", str(args.epochs), "--dim",
               str(args.dim), "--window", str(args.window), "--negative", str(args.negative),
               "--sample", str(args.sample), "--min-count", str(args.min_count),
               "--minn", str(args.minn), "--maxn", str(args.maxn), "--bucket", str(args.bucket),
               "--lr", str(args.lr), "--ns-exponent", str(args.ns_exponent),
               "--seed", str(args.seed)]
    with tempfile.TemporaryDirectory(prefix="w2v-bench-") as workdir:
        corpus = plain_text(args.corpus, args.lines, workdir)
        tokens = count_tokens(corpus)
        print(f"corpus {corpus}: {tokens:,} tokens; threads {args.threads}, epochs "
              f"{args.epochs}, dim {args.dim}, window {args.window}, negative {args.negative}, "
              f"minn {args.minn}, maxn {args.maxn}, bucket {args.bucket}, sample {args.sample}, "
              f"min-count {args.min_count}, lr {args.lr}, w2v ns-exponent {args.ns_exponent}",
              flush=True)
        print(f"{'model':6} {'tool':12} " + " ".join(f"{label:>{len(form.format(0))}}"
                                                    for _, label, form in COLUMNS)
              + "  coverage ws353/rw  load")
        for model in args.models.split(","):
            runs = [("w2v", k) for k in args.kernels.split(",")]
            if not args.no_fasttext:
                runs.append(("fasttext", "-"))
            results = {}
            for tool, kernel in runs:
                r = run_worker(tool, model, kernel, options, corpus, args.threads)
                if tool == "fasttext":
                    r["train_s"] = tokens * args.epochs / r["ft_rate"]
                r["words_s"] = tokens * args.epochs / r["train_s"]
                name = "fastText" if tool == "fasttext" else f"w2v {kernel}"
                results[name] = r
                print(f"{model:6} {name:12} "
                      + " ".join(form.format(r[key]) for key, _, form in COLUMNS)
                      + f"  {r['ws353_coverage']:.1f}%/{r['rw_coverage']:.1f}% in vocab"
                      + f"  {os.getloadavg()[0]:.2f}", flush=True)
            if "fastText" in results:
                ft = results["fastText"]
                for name, r in results.items():
                    if name != "fastText":
                        print(f"{model:6} {name:12} vs fastText: words/s x"
                              f"{r['words_s'] / ft['words_s']:.2f} (call s x"
                              f"{ft['call_s'] / r['call_s']:.2f}), qw {r['qw'] - ft['qw']:+.2f}"
                              f", sem {r['sem'] - ft['sem']:+.2f}, syn "
                              f"{r['syn'] - ft['syn']:+.2f}, ws353 "
                              f"{r['ws353'] - ft['ws353']:+.3f}, rw {r['rw'] - ft['rw']:+.3f}",
                              flush=True)


if __name__ == "__main__":
    main()
