"""w2v's CBOW with one training setting changed: the learning-rate schedule, where it ends, the
initial scale, the hot rows. Quality only (scored as `bench_train.py` scores, in one
vocabulary order).

    nice -n 10 python benchmarks/cbow_schedules.py enwiki-50m.txt --schedule sawtooth --seed 1

The launches, chunks, kernels and random streams are `w2v.word2vec.model.train`'s; the rate
of each launch comes from the schedule asked for:
  linear     alpha -> min_alpha linearly over all epochs (w2v's own)
  sawtooth   gensim's `corpus_file` schedule with one worker per thread: each thread decays
             the rate as if its part were the whole epoch, so within epoch e the rate goes
             from alpha (1 - e/E) to alpha (1 - (e + 1/threads)/E), jumps back up at the
             next epoch, and ends at alpha / E with 2 threads and 5 epochs
`--min-alpha` is a fraction of alpha (w2v's 1e-4); `--init` the bound of the initial vectors
times dim (w2v's and word2vec C's 0.5, gensim's 1.0); `--hot-rows` the output rows each
thread trains its own copy of (w2v's 128; 0 shares every row, as word2vec C and gensim do).
Prints one line per run.
"""

import argparse
import os
import tempfile
import time

import numpy as np
from bench_train import evaluate

from w2v.config import Word2VecConfig
from w2v.corpus.corpus import load_corpus
from w2v.files.formats import save_vectors
from w2v.runtime.threads import configure_threads
from w2v.word2vec import kernels as sgns
from w2v.word2vec import model as w2v_model


def train(corpus, args, seed):
    """Input vectors of a CBOW model trained as `train` does, with the schedule of `args`."""
    config = Word2VecConfig(model="cbow", alpha=args.alpha, seed=seed, epochs=args.epochs)
    model = w2v_model.init_model(config, corpus.vocab)
    model.w_in *= np.float32(args.init / 0.5)
    threads = configure_threads(args.threads)
    offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    tokens = sgns.Tokens(np.ascontiguousarray(corpus.ids), offsets)
    tables = w2v_model._tables(model)
    hot = args.hot_rows if threads > 1 else 0
    model.w_out, w_out = w2v_model._with_room(model.w_out, threads * min(hot, len(corpus.vocab)))
    weights = sgns.Weights(model.w_in, w_out, model.w_hs)
    settings = sgns.Settings(sgns.CBOW, config.window, config.negative, False, True,
                             int(np.diff(offsets).max()), hot)
    launch = sgns.train_launch if threads > 1 else sgns.train_launch_serial
    launches = min(w2v_model.MAX_LAUNCHES,
                   max(1, corpus.n_tokens // w2v_model.MIN_LAUNCH_TOKENS))
    plan = w2v_model.plan_chunks(offsets, launches, threads)
    alpha, end, epochs = args.alpha, args.alpha * args.min_alpha, args.epochs
    share = 1.0 if args.schedule == "linear" else 1.0 / threads

    def rate(epoch, done):  # done: the fraction of the epoch's launches finished
        return max(end, alpha - (alpha - end) * (epoch + done * share) / epochs)

    for epoch in range(epochs):
        for at in range(launches):
            launch(tokens, weights, tables, settings, plan[at],
                   w2v_model.launch_seeds(seed, epoch, at, threads),
                   rate(epoch, at / launches), rate(epoch, (at + 1) / launches))
    return model.vectors()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--alpha", type=float, default=0.065)
    parser.add_argument("--schedule", choices=["linear", "sawtooth"], default="linear")
    parser.add_argument("--min-alpha", type=float, default=1e-4, help="a fraction of alpha")
    parser.add_argument("--init", type=float, default=0.5, help="initial bound times dim")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hot-rows", type=int, default=w2v_model.HOT_ROWS,
                        help="output rows each thread keeps its own copy of (0: all shared)")
    args = parser.parse_args()
    corpus = load_corpus([args.corpus], min_count=5)
    vocab = corpus.vocab
    order = [w for _, w in sorted(zip((-vocab.counts).tolist(), vocab.words))]
    for seed in [int(s) for s in args.seeds.split(",")]:
        started = time.perf_counter()
        vectors = train(corpus, args, seed)
        with tempfile.TemporaryDirectory(prefix="w2v-cbow-") as workdir:
            path = os.path.join(workdir, "vectors.bin")
            save_vectors(vectors, path)
            r = evaluate(path, order)
        print(f"{args.schedule} alpha {args.alpha} min-alpha {args.min_alpha} init "
              f"{args.init} hot {args.hot_rows} threads {args.threads} seed {seed}: "
              f"analogy {r['analogy']:.2f}%  "
              f"ws353 {r['ws353']:.3f}  rw {r['rw']:.3f}  "
              f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
