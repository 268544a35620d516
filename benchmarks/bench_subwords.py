"""Benchmark `w2v train --subwords` against fastText (fasttext-wheel) at the same settings.

    xzcat ../shared/data/corpus/enwiki-50m.txt.xz | head -173206 > /tmp/enwiki-10m.txt
    flock /tmp/w2v-bench.lock python benchmarks/bench_subwords.py /tmp/enwiki-10m.txt \
        --models sg,cbow --kernels batched,classic --seeds 1,2,3

Settings, the same for both tools: dim 100, window 5, negative 5, 5 epochs, minn 3, maxn 6,
bucket 2M, sample (fastText's t) 1e-4, min count 5, 2 threads, learning rate 0.05 for sg and
cbow (fastText's default; linear decay to 0 in fastText, to lr x 1e-4 in w2v), and negatives
drawn from counts^0.5 (fastText's fixed noise distribution; w2v's default with --subwords;
change it for w2v with --ns-exponent). w2v runs its default kernel for each model (classic
with --subwords, for sg and cbow); `--kernels` adds others (a kernel a model lacks, batched for cbow,
is skipped). Each seed goes to both tools (fastText's `seed`; with 2 threads neither tool
is deterministic anyway).

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
             by w2v.vectors.evaluate on each tool's in-vocabulary vectors (fastText: get_word_vector)
  ws353, rw  Spearman rho with every pair answered: words outside the vocabulary are composed
             from their n-grams (w2v: subwords.oov_rows over the input matrix; fastText:
             get_word_vector); the share of pairs with both words in the vocabulary is printed
Runs go one after the other in one script, seed by seed (every w2v kernel, then fastText),
so machine load hits both tools alike; ratios are w2v / fastText. With several seeds
(`--seeds 1,2,3`) a summary follows: each figure's mean +- sample standard deviation per
tool, and w2v's speed ratio and quality differences to fastText taken seed by seed.
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

from measure import child_peak_kb, count_tokens, mean_sd, plain_text, spread_cells

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
    from w2v.vectors.evaluate import evaluate_analogies, evaluate_similarity
    from w2v.vectors.word_vectors import WordVectors

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
    from w2v.vectors import ngrams as subwords
    from w2v.corpus.corpus import load_corpus
    from w2v.word2vec.model import train_word2vec

    started = time.perf_counter()
    corpus = load_corpus([args.corpus], min_count=args.min_count)
    wv = train_word2vec(corpus, model=args.model, kernel=args.kernel, subwords=True,
                        dim=args.dim, window=args.window, negative=args.negative,
                        sample=args.sample, epochs=args.epochs, alpha=args.lr,
                        ns_exponent=args.ns_exponent,  # None: w2v's default
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


def train_fasttext(corpus, **options):
    """fasttext.train_unsupervised with a seed: the wheel's wrapper refuses `seed` for
    unsupervised models although fastText 0.9.2 seeds their initial vectors and each
    thread's generator with it, so build the arguments as the wrapper does, seed included."""
    from fasttext.FastText import _build_args, _FastText, fasttext, unsupervised_default

    values = {**unsupervised_default, "input": corpus, **options}
    built = _build_args(values, set(options) | {"input"})
    model = _FastText(args=built)
    fasttext.train(model.f, built)
    model.set_args(model.f.getArgs())
    return model


def work_fasttext(args):
    from w2v.vectors.word_vectors import WordVectors

    started = time.perf_counter()
    model = train_fasttext(
        args.corpus, model="skipgram" if args.model == "sg" else "cbow", dim=args.dim,
        ws=args.window, neg=args.negative, epoch=args.epochs, minn=args.minn, maxn=args.maxn,
        bucket=args.bucket, t=args.sample, minCount=args.min_count, lr=args.lr,
        thread=args.threads, seed=args.seed, verbose=2)
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
QUALITY = (("qw", "qw", "{:+.2f}"), ("sem", "sem", "{:+.2f}"), ("syn", "syn", "{:+.2f}"),
           ("ws353", "ws353", "{:+.3f}"), ("rw", "rw", "{:+.3f}"))
SUMMARY = (("words_s", "words/s", "{:,.0f}"), ("rss_mb", "RSS MB", "{:.0f}"),
           ("qw", "qw", "{:.2f}"), ("sem", "sem", "{:.2f}"), ("syn", "syn", "{:.2f}"),
           ("ws353", "ws353", "{:.3f}"), ("rw", "rw", "{:.3f}"))


def valid_kernel(model, kernel):
    """Whether w2v has `kernel` for `model` with --subwords (no batched CBOW)."""
    return not (model == "cbow" and kernel == "batched")


def compare(model, name, r, ft):
    """One line: w2v run `r` against the fastText run `ft` of the same seed."""
    return (f"{model:6} {name:12} vs fastText: words/s x{r['words_s'] / ft['words_s']:.2f} "
            f"(call s x{ft['call_s'] / r['call_s']:.2f}), "
            + ", ".join(f"{label} {form.format(r[key] - ft[key])}"
                        for key, label, form in QUALITY))


def summary(model, results):
    """Mean +- sd of each figure per tool over the seeds, then w2v's speed ratio and
    quality differences to fastText taken seed by seed (paired), mean +- sd."""
    lines = []
    for name, runs in results.items():
        lines.append(f"{model:6} {name:12} " + "  ".join(spread_cells(runs, SUMMARY)))
    ft = results.get("fastText")
    for name, runs in results.items():
        if name == "fastText" or not ft or len(ft) != len(runs):
            continue
        ratio = mean_sd([r["words_s"] / f["words_s"] for r, f in zip(runs, ft)])
        cells = [f"words/s x{ratio[0]:.2f} +- {ratio[1]:.2f}"]
        for key, label, form in QUALITY:
            mean, sd = mean_sd([r[key] - f[key] for r, f in zip(runs, ft)])
            cells.append(f"{label} {form.format(mean)} +- {form.format(abs(sd))[1:]}")
        lines.append(f"{model:6} {name:12} - fastText: " + "  ".join(cells))
    return lines


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
    parser.add_argument("--ns-exponent", type=float, default=None,
                        help="w2v's noise exponent (default: w2v's, 0.5 with --subwords; "
                             "fastText's is fixed at 0.5)")
    parser.add_argument("--seeds", default="1", help="Seeds, e.g. 1,2,3: every run per seed.")
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=["w2v", "fasttext"], help=argparse.SUPPRESS)
    parser.add_argument("--model", default="sg", help=argparse.SUPPRESS)
    parser.add_argument("--kernel", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        work = work_w2v if args.worker == "w2v" else work_fasttext
        print(json.dumps(work(args)))
        return

    seeds = [int(x) for x in args.seeds.split(",")]
    options = ["--threads", str(args.threads), "--epochs", str(args.epochs), "--dim",
               str(args.dim), "--window", str(args.window), "--negative", str(args.negative),
               "--sample", str(args.sample), "--min-count", str(args.min_count),
               "--minn", str(args.minn), "--maxn", str(args.maxn), "--bucket", str(args.bucket),
               "--lr", str(args.lr)]
    if args.ns_exponent is not None:
        options += ["--ns-exponent", str(args.ns_exponent)]
    with tempfile.TemporaryDirectory(prefix="w2v-bench-") as workdir:
        corpus = plain_text(args.corpus, args.lines, workdir)
        tokens = count_tokens(corpus)
        exponent = "default" if args.ns_exponent is None else args.ns_exponent
        print(f"corpus {corpus}: {tokens:,} tokens; threads {args.threads}, epochs "
              f"{args.epochs}, dim {args.dim}, window {args.window}, negative {args.negative}, "
              f"minn {args.minn}, maxn {args.maxn}, bucket {args.bucket}, sample {args.sample}, "
              f"min-count {args.min_count}, lr {args.lr}, w2v ns-exponent {exponent}, "
              f"seeds {args.seeds}", flush=True)
        print(f"{'model':6} {'tool':12} {'seed':>4} "
              + " ".join(f"{label:>{len(form.format(0))}}" for _, label, form in COLUMNS)
              + "  coverage ws353/rw  load")
        summaries = []
        for model in args.models.split(","):
            runs = [("w2v", k) for k in args.kernels.split(",") if valid_kernel(model, k)]
            if not args.no_fasttext:
                runs.append(("fasttext", "-"))
            results = {}
            for seed in seeds:
                seeded = {}
                for tool, kernel in runs:
                    r = run_worker(tool, model, kernel, [*options, "--seed", str(seed)],
                                   corpus, args.threads)
                    if tool == "fasttext":
                        r["train_s"] = tokens * args.epochs / r["ft_rate"]
                    r["words_s"] = tokens * args.epochs / r["train_s"]
                    name = "fastText" if tool == "fasttext" else f"w2v {kernel}"
                    seeded[name] = r
                    results.setdefault(name, []).append(r)
                    print(f"{model:6} {name:12} {seed:4} "
                          + " ".join(form.format(r[key]) for key, _, form in COLUMNS)
                          + f"  {r['ws353_coverage']:.1f}%/{r['rw_coverage']:.1f}% in vocab"
                          + f"  {os.getloadavg()[0]:.2f}", flush=True)
                if "fastText" in seeded:
                    for name, r in seeded.items():
                        if name != "fastText":
                            print(compare(model, name, r, seeded["fastText"]), flush=True)
            summaries += summary(model, results)
        if len(seeds) > 1:
            print(f"\nover seeds {args.seeds} (mean +- sd):")
            print("\n".join(summaries))

if __name__ == "__main__":
    main()
