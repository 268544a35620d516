"""Benchmark `w2v glove`: counting speed and memory, seconds per epoch, and vector quality.

    flock /tmp/w2v-bench.lock python benchmarks/bench_glove.py /tmp/enwiki-10m.txt \
        --threads 2 --epochs 15 [--lines N] [--sgns] [--glove-c PATH/TO/GloVe/build/glove]

Reported:
  counting     wall seconds of cooccurrence_matrix, corpus tokens per second, and the peak
               resident memory above what the process held before it (sampled every 10 ms);
               the same again under a small --spill-memory bound, to show spilling's cost
  training     seconds and cost of every epoch, seconds per 100M non-zeros, and peak memory
               above what counting left
  quality      Google analogies (3CosAdd and 3CosMul, top 30k words, questions with an
               unknown word count as unseen) and WordSim-353 Spearman rho, on W + W~
  --sgns       w2v's own skip-gram (5 epochs, window 5) on the same corpus, for reference
  --glove-c    Stanford GloVe C's `glove` binary trained on the same counts (written in its
               record format and shuffled, as its `shuffle` would), same settings and threads:
               wall seconds per iteration and the same quality figures on its W + W~
"""

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "eval")


class PeakRSS:
    """Peak resident set size above the level at entry, sampled by a thread."""

    def __enter__(self):
        self.base = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    @property
    def extra_gb(self):
        return (self.peak - self.base) / 1e9


def first_lines(path, lines, workdir):
    if lines is None:
        return path
    out = os.path.join(workdir, "corpus.txt")
    with open(path, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        dst.writelines(itertools.islice(src, lines))
    return out


def quality(wv):
    from w2v.vectors.evaluate import evaluate_analogies, evaluate_similarity

    questions = os.path.join(EVAL, "questions-words.txt")
    add = evaluate_analogies(wv, questions, restrict_vocab=30000, method="3cosadd")
    mul = evaluate_analogies(wv, questions, restrict_vocab=30000, method="3cosmul")
    ws = evaluate_similarity(wv, os.path.join(EVAL, "wordsim353.txt"))
    return {"3cosadd": add.accuracy, "3cosmul": mul.accuracy, "seen": add.overall.seen,
            "total": add.overall.total, "semantic_add": add.semantic.accuracy,
            "syntactic_add": add.syntactic.accuracy, "ws353": ws.spearman}


def show_quality(name, q):
    print(f"  {name:<10} 3CosAdd {q['3cosadd']:.3f}  3CosMul {q['3cosmul']:.3f}  "
          f"(sem {q['semantic_add']:.3f}, syn {q['syntactic_add']:.3f}; seen {q['seen']}/"
          f"{q['total']})  WS353 rho {q['ws353']:.3f}")


def run_glove_c(binary, cooc, vocab, args, workdir):
    """Train GloVe C's `glove` on `cooc`; returns (wall seconds, WordVectors)."""
    import numpy as np

    from w2v.files.formats import load_vectors

    cooc = cooc.tocsr()
    records = np.empty(cooc.nnz, dtype=[("word1", "<i4"), ("word2", "<i4"), ("val", "<f8")])
    records["word1"] = np.repeat(np.arange(1, cooc.shape[0] + 1, dtype=np.int32),
                                 np.diff(cooc.indptr))
    records["word2"] = cooc.indices + 1
    records["val"] = cooc.data
    np.random.default_rng(1).shuffle(records)
    shuffled = os.path.join(workdir, "cooccurrence.shuf.bin")
    records.tofile(shuffled)
    del records
    vocab_file = os.path.join(workdir, "vocab.txt")
    with open(vocab_file, "w", encoding="utf-8") as f:
        f.writelines(f"{w} {c}\n" for w, c in zip(vocab.words, vocab.counts))
    save = os.path.join(workdir, "glove-c")
    command = [binary, "-input-file", shuffled, "-vocab-file", vocab_file, "-save-file", save,
               "-vector-size", str(args.dim), "-threads", str(args.threads),
               "-iter", str(args.epochs), "-x-max", str(args.x_max), "-eta", "0.05",
               "-alpha", "0.75", "-seed", "1", "-binary", "0", "-model", "2"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"GloVe C failed ({result.returncode}): {result.stderr[-2000:]}")
    costs = [line.split("cost:")[1].split(",")[0].strip()
             for line in result.stderr.splitlines() if "cost:" in line]
    print("  GloVe C cost by iteration: " + " ".join(f"{float(c):.4f}" for c in costs))
    os.remove(shuffled)
    return seconds, load_vectors(save + ".txt")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--lines", type=int, default=None, help="Only the first N lines.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--x-max", type=float, default=100.0)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--spill-memory", type=float, default=0.05,
                        help="GB bound for the spilling run (0: skip it).")
    parser.add_argument("--sgns", action="store_true", help="Also train w2v skip-gram.")
    parser.add_argument("--glove-c", default=None, metavar="BINARY",
                        help="Also train Stanford GloVe C's glove binary on the same counts.")
    parser.add_argument("--json", default=None, help="Also write the figures here.")
    args = parser.parse_args()

    from w2v.cooccur.counts import cooccurrence_matrix
    from w2v.corpus.corpus import Corpus, load_corpus
    from w2v.glove.model import train_glove
    from w2v.runtime.threads import threading_layer

    report = {"args": vars(args)}
    with tempfile.TemporaryDirectory() as workdir:
        path = first_lines(args.corpus, args.lines, workdir)
        started = time.perf_counter()
        corpus = load_corpus([path], min_count=args.min_count)
        print(f"corpus: {corpus.n_tokens:,} tokens, {len(corpus.vocab):,} words "
              f"({time.perf_counter() - started:.1f} s to read)")

        # Compile outside the timings (numba caches the kernels on disk after the first run).
        head = corpus.offsets[:50]
        small = Corpus(vocab=corpus.vocab, ids=corpus.ids[: head[-1]], offsets=head,
                       n_raw_tokens=int(head[-1]))
        cooccurrence_matrix(small, window=args.window, threads=args.threads)

        stats = {}
        with PeakRSS() as rss:
            cooc = cooccurrence_matrix(corpus, window=args.window, threads=args.threads,
                                       stats=stats)
        rate = corpus.n_tokens / stats["seconds"]
        print(f"counting: {stats['seconds']:.2f} s, {rate / 1e6:.2f}M tokens/s, "
              f"{cooc.nnz:,} non-zeros, peak +{rss.extra_gb:.2f} GB, {args.threads} threads "
              f"({threading_layer()})")
        report["count"] = dict(stats, tokens_per_s=rate, peak_extra_gb=rss.extra_gb)
        if args.spill_memory:
            spill_stats = {}
            with PeakRSS() as rss:
                spilled = cooccurrence_matrix(corpus, window=args.window, threads=args.threads,
                                              memory_gb=args.spill_memory, stats=spill_stats)
            same = (spilled != cooc).nnz == 0
            print(f"counting with --memory {args.spill_memory}: {spill_stats['seconds']:.2f} s, "
                  f"{spill_stats['spills']} spills, {spill_stats['compactions']} merges of the "
                  f"spill file, peak +{rss.extra_gb:.2f} GB, equal to the in-memory counts: "
                  f"{same}")
            report["count_spilled"] = dict(spill_stats, peak_extra_gb=rss.extra_gb, equal=same)
            del spilled

        glove_stats = {}
        started = time.perf_counter()
        with PeakRSS() as rss:
            wv = train_glove(cooc, corpus.vocab, dim=args.dim, epochs=args.epochs,
                             x_max=args.x_max, threads=args.threads, seed=1, stats=glove_stats)
        total = time.perf_counter() - started
        epochs = glove_stats["epochs"]
        steady = [e["seconds"] for e in epochs[1:]] or [epochs[0]["seconds"]]
        per_epoch = sum(steady) / len(steady)
        print(f"training: {total:.1f} s for {args.epochs} epochs; epoch 1 {epochs[0]['seconds']:.2f}"
              f" s (compile included on a cold cache), later epochs {per_epoch:.2f} s = "
              f"{per_epoch * 1e8 / cooc.nnz:.1f} s per 100M non-zeros at dim {args.dim}; "
              f"peak +{rss.extra_gb:.2f} GB beside the counts")
        print("  cost by epoch: " + " ".join(f"{e['cost']:.4f}" for e in epochs))
        report["glove"] = {"seconds": total, "epochs": epochs, "peak_extra_gb": rss.extra_gb,
                           "seconds_per_100m_nnz": per_epoch * 1e8 / cooc.nnz}
        report["glove_quality"] = quality(wv)
        print("quality:")
        show_quality("glove", report["glove_quality"])

        if args.glove_c:
            seconds, glove_c = run_glove_c(args.glove_c, cooc, corpus.vocab, args, workdir)
            report["glove_c"] = {"seconds": seconds, "seconds_per_iteration": seconds / args.epochs,
                                 "quality": quality(glove_c)}
            show_quality("GloVe C", report["glove_c"]["quality"])
            print(f"  (GloVe C: {seconds:.0f} s for {args.epochs} iterations = "
                  f"{seconds / args.epochs:.1f} s each, w2v {total / args.epochs:.1f} s each: "
                  f"x{seconds / total:.2f})")

        if args.sgns:
            try:
                from w2v.word2vec.model import train_word2vec
            except ImportError:
                print("  (skip-gram skipped: w2v.word2vec.model is not there)")
            else:
                started = time.perf_counter()
                sg = train_word2vec(corpus, model="sg", dim=args.dim, window=5, epochs=5,
                                    threads=args.threads, seed=1)
                report["sgns_seconds"] = time.perf_counter() - started
                report["sgns_quality"] = quality(sg)
                show_quality("skip-gram", report["sgns_quality"])
                print(f"  (skip-gram: 5 epochs, window 5, neg 5, {report['sgns_seconds']:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2, default=float)


if __name__ == "__main__":
    main()
