"""Benchmark `w2v svd`: time and peak memory per stage, analogy and similarity scores.

    flock /tmp/w2v-bench.lock python benchmarks/bench_svd.py /tmp/enwiki-10m.txt \
        --threads 2 --solvers randomized,arpack [--lines N] [--sgns]

Each solver runs in its own subprocess so its memory figures are its own. Reported:
  stage s / peak GB   wall seconds and peak RSS of each stage: corpus (read + vocabulary),
                      count (co-occurrences), PPMI, SVD, total. The peak is reset before each
                      stage (/proc/self/clear_refs), so it is that stage's own high-water mark.
  cli                 `w2v svd` end to end as a user runs it (wall s, peak RSS), with --cli.
  analogy             questions-words.txt, top 30k words, 3CosAdd and 3CosMul (w2v.vectors.evaluate).
  rho                 Spearman on WS353, WS353-sim, WS353-rel, MTurk-771, SimVerb-3500.
  sgns                `w2v train` (skip-gram, its defaults) on the same corpus, with --sgns.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from measure import child_peak_kb

EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "eval")
SIMILARITY = {"ws353": "wordsim353.txt", "ws353-sim": "wordsim353-sim.txt",
              "ws353-rel": "wordsim353-rel.txt", "mturk771": "mturk-771.txt",
              "simverb3500": "simverb-3500.txt"}


def first_lines(path, lines, workdir):
    if lines is None:
        return path
    out = os.path.join(workdir, "corpus.txt")
    with open(path, "rb") as src, open(out, "wb") as dst:
        for i, line in enumerate(src):
            if i >= lines:
                break
            dst.write(line)
    return out


# --------------------------------------------------------------------------- worker


def _peak_gb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e6
    return float("nan")


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def work(args):
    """One solver, stage by stage as train_svd runs them, writing vectors to args.output."""
    import numpy as np

    from w2v.cooccur.counts import cooccurrence_matrix
    from w2v.corpus.corpus import load_corpus
    from w2v.files.formats import save_vectors
    from w2v.corpus.subsample import subsample_corpus
    from w2v.svd.ppmi import ppmi_matrix
    from w2v.svd.svd import (SparseOperator, arpack_svd, blas_threads, normalize_rows,
                         randomized_svd, svd_embeddings)
    from w2v.runtime.threads import configure_threads
    from w2v.vectors.word_vectors import WordVectors

    stages = {}
    threads = configure_threads(args.threads)

    def stage(name, started):
        stages[name] = {"s": round(time.perf_counter() - started, 2), "peak_gb": round(_peak_gb(), 3)}
        _reset_peak()
        return time.perf_counter()

    with blas_threads(threads):
        begin = t = time.perf_counter()
        corpus = load_corpus([args.corpus], min_count=args.min_count)
        t = stage("corpus", t)
        if args.sample > 0:
            corpus = subsample_corpus(corpus, args.sample, seed=1)
        counts = cooccurrence_matrix(corpus, window=args.window, weighting=args.weighting,
                                     threads=threads)
        words, word_counts = corpus.vocab.words, corpus.vocab.counts
        del corpus
        t = stage("count", t)
        ppmi = ppmi_matrix(counts, cds=args.cds, neg=args.neg)
        nnz = ppmi.nnz
        del counts
        t = stage("ppmi", t)
        operator = SparseOperator(ppmi)
        del ppmi
        if args.solver == "arpack":
            u, s, vt = arpack_svd(operator, args.dim)
        else:
            u, s, vt = randomized_svd(operator, args.dim, power_iterations=args.power_iterations)
        del operator
        vectors = svd_embeddings(u, s, vt, eig=args.eig)
        t = stage("svd", t)
        stages["total"] = {"s": round(t - begin, 2)}
    save_vectors(WordVectors(words, normalize_rows(vectors), word_counts), args.output)
    json.dump({"stages": stages, "words": len(words), "ppmi_nnz": int(nnz),
               "top_singular_values": np.round(s[:5], 2).tolist()}, sys.stdout)


# --------------------------------------------------------------------------- parent


def run_measured(cmd):
    """Run cmd; (stdout, wall seconds, peak RSS in GB of that child alone, via wait4)."""
    cmd, peak_kb = child_peak_kb(cmd)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{err.read()}")
        return out.read(), wall, (peak_kb() if peak_kb else usage.ru_maxrss) / 1e6


def evaluate(path):
    from w2v.vectors.evaluate import evaluate_analogies, evaluate_similarity
    from w2v.files.formats import load_vectors

    wv = load_vectors(path)
    scores = {}
    for method in ("3cosadd", "3cosmul"):
        result = evaluate_analogies(wv, f"{EVAL}/questions-words.txt", restrict_vocab=30000,
                                    method=method)
        scores[method] = round(result.accuracy, 4)
    scores["analogy_coverage"] = round(result.coverage, 4)
    for name, filename in SIMILARITY.items():
        scores[name] = round(evaluate_similarity(wv, f"{EVAL}/{filename}").spearman, 4)
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--lines", type=int, default=None, help="Use only the first N lines.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--solvers", default="randomized,arpack")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=2)
    parser.add_argument("--weighting", default="linear")
    parser.add_argument("--cds", type=float, default=0.75)
    parser.add_argument("--neg", type=float, default=1)
    parser.add_argument("--eig", type=float, default=0.5)
    parser.add_argument("--sample", type=float, default=1e-5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--power-iterations", type=int, default=4)
    parser.add_argument("--cli", action="store_true",
                        help="Also time `w2v svd` end to end at these settings.")
    parser.add_argument("--sgns", action="store_true",
                        help="Also train `w2v train` skip-gram (its defaults) for comparison.")
    parser.add_argument("--json", dest="json_path", default=None, help="Write results here too.")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.solver = args.worker
        return work(args)

    results = {"corpus": args.corpus, "lines": args.lines, "threads": args.threads,
               "settings": {k: getattr(args, k) for k in ("dim", "window", "weighting", "cds",
                                                          "neg", "eig", "sample", "min_count",
                                                          "power_iterations")}}
    with tempfile.TemporaryDirectory(prefix="bench-svd-") as workdir:
        corpus = first_lines(args.corpus, args.lines, workdir)
        settings = ["--window", str(args.window), "--weighting", args.weighting, "--cds",
                    str(args.cds), "--neg", str(args.neg), "--eig", str(args.eig), "--dim",
                    str(args.dim), "--sample", str(args.sample), "--min-count",
                    str(args.min_count), "--power-iterations", str(args.power_iterations)]
        if args.cli:
            out = os.path.join(workdir, "cli.bin")
            _, wall, peak = run_measured([sys.executable, "-m", "w2v.cli", "svd", corpus, "-o",
                                          out, "--threads", str(args.threads), "-q", *settings])
            results["cli"] = {"s": round(wall, 1), "peak_gb": round(peak, 2), **evaluate(out)}
            print(f"cli   w2v svd: {wall:.1f}s, peak {peak:.2f} GB  {results['cli']}", flush=True)
        for solver in args.solvers.split(","):
            out = os.path.join(workdir, f"{solver}.bin")
            stdout, wall, peak = run_measured(
                [sys.executable, __file__, corpus, "--worker", solver, "--output", out,
                 "--threads", str(args.threads), *settings])
            record = json.loads(stdout)
            record.update(wall_s=round(wall, 1), peak_gb=round(peak, 2), scores=evaluate(out))
            results[solver] = record
            line = "  ".join(f"{k} {v['s']}s" + (f"/{v['peak_gb']}GB" if "peak_gb" in v else "")
                             for k, v in record["stages"].items())
            print(f"{solver:<10} {line}\n           {record['scores']}", flush=True)
        if args.sgns:
            out = os.path.join(workdir, "sgns.bin")
            _, wall, peak = run_measured([sys.executable, "-m", "w2v.cli", "train", corpus, "-o",
                                          out, "--threads", str(args.threads), "-q"])
            results["sgns"] = {"s": round(wall, 1), "peak_gb": round(peak, 2), **evaluate(out)}
            print(f"sgns  w2v train: {wall:.1f}s  {results['sgns']}", flush=True)
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
