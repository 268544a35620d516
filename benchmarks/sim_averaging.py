"""Simulate data-parallel skip-gram with periodic model averaging (docs/scaling.md).

    flock /tmp/w2v-bench.lock python benchmarks/sim_averaging.py /tmp/enwiki-10m.txt \
        --workers 1,2,4,8 --sync-words 250000 [--hot-words 10000 --hot-every 4] [--epochs 3]

K simulated workers run one after another in this process, each on its own contiguous
shard of the corpus (1/K of the tokens) with its own copy of the model, through w2v's own
training kernels (skip-gram, negative sampling, the default batched kernel). After every
--sync-words words per worker, the K copies of both matrices are averaged (--merge mean; or
--merge touched: each row's change since the last sync averaged over the workers that changed
it; --merge sum: the changes added up) and every worker goes on from the result: synchronous model averaging, as a cluster would run it, but with
no network. The learning rate decays over the words of all workers together. With
--hot-words H the H most frequent words' rows are also averaged --hot-every times per
period (pWord2Vec's idea: frequent words drift apart fastest). K = 1 is plain training.

Prints, per K: words/s of the simulation (not a cluster's speed), Google analogies (top
30k words, 3CosAdd) and WordSim-353 Spearman rho.
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
EVAL = os.path.join(ROOT, "..", "shared", "data", "eval")

from w2v.word2vec import kernels as sgns  # noqa: E402
from w2v.config import Word2VecConfig  # noqa: E402
from w2v.corpus.corpus import load_corpus  # noqa: E402
from w2v.vectors.evaluate import evaluate_analogies, evaluate_similarity  # noqa: E402
from w2v.runtime.threads import configure_threads  # noqa: E402
from w2v.word2vec.model import KERNELS, _tables, init_model, launch_seeds  # noqa: E402


def shard_bounds(offsets, k):
    """Sentence indices cutting the corpus into k shards of about equal tokens."""
    n = int(offsets[-1])
    cuts = np.searchsorted(offsets, np.arange(1, k) * n // k, "left")
    return np.concatenate(([0], cuts, [len(offsets) - 1])).astype(np.int64)


def simulate(corpus, config, k, sync_words, hot_words, hot_every, threads, merge="mean"):
    model = init_model(config, corpus.vocab)
    offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    tokens = sgns.Tokens(np.ascontiguousarray(corpus.ids), offsets)
    tables = _tables(model)
    max_len = int(np.diff(offsets).max())
    settings = sgns.Settings(KERNELS[config.model, config.kernel], config.window,
                             config.negative, config.hs, config.cbow_mean, max_len, 0)
    launch = sgns.train_launch_serial if threads == 1 else sgns.train_launch
    copies = [sgns.Weights(model.w_in.copy(), model.w_out.copy(), model.w_hs.copy())
              for _ in range(k)]
    shards = shard_bounds(offsets, k)
    total = config.epochs * int(offsets[-1])
    alpha, min_alpha = config.alpha, config.min_alpha
    done = 0
    syncs = 0
    step = max(1, sync_words // max(1, hot_every if hot_words else 1))

    synced = {name: getattr(copies[0], name)[:].copy() for name in ("w_in", "w_out")}

    def average(rows=None):
        for name in ("w_in", "w_out"):
            mats = [getattr(c, name) for c in copies]
            end = len(mats[0]) if rows is None else rows
            if merge == "mean":
                mean = np.mean([m[:end] for m in mats], axis=0, dtype=np.float64)
            elif merge == "sum":  # every worker's change kept, as Hogwild threads keep theirs
                base = synced[name][:end]
                mean = base + np.sum([m[:end] - base for m in mats], axis=0, dtype=np.float64)
            else:  # each row's changes averaged over the workers that changed it
                base = synced[name][:end]
                deltas = [m[:end] - base for m in mats]
                touched = sum((d != 0).any(axis=1).astype(np.int64) for d in deltas)
                mean = base + np.sum(deltas, axis=0, dtype=np.float64) \
                    / np.maximum(touched, 1)[:, None]
            for m in mats:
                m[:end] = mean
            synced[name][:end] = mats[0][:end]

    started = time.perf_counter()
    since_sync = 0  # words per worker since the last full average, across epochs
    for epoch in range(config.epochs):
        cursor = shards[:-1].copy()  # each worker's next sentence
        round_ = 0
        while (cursor < shards[1:]).any():
            ends = []
            for w in range(k):
                start = int(cursor[w])
                end = int(np.searchsorted(offsets, offsets[start] + step, "left"))
                ends.append(min(max(end, start + 1), int(shards[w + 1])))
            words = sum(int(offsets[e] - offsets[c]) for c, e in zip(cursor, ends))
            a_from = alpha - (alpha - min_alpha) * done / total
            a_to = alpha - (alpha - min_alpha) * (done + words) / total
            for w in range(k):
                if ends[w] <= cursor[w]:
                    continue
                bounds = np.linspace(cursor[w], ends[w], threads + 1).astype(np.int64)
                launch(tokens, copies[w], tables, settings, bounds,
                       launch_seeds(config.seed, epoch, round_ * k + w, threads), a_from, a_to)
                cursor[w] = ends[w]
            done += words
            round_ += 1
            since_sync += step
            if k > 1:
                if since_sync >= sync_words:
                    average()
                    syncs += 1
                    since_sync = 0
                elif hot_words:
                    average(hot_words)
    if k > 1:
        average()
    seconds = time.perf_counter() - started
    model.w_in, model.w_out = copies[0].w_in, copies[0].w_out
    return model, seconds, done, syncs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--sync-words", type=int, default=250000,
                        help="Words each worker trains between two averagings.")
    parser.add_argument("--hot-words", type=int, default=0)
    parser.add_argument("--hot-every", type=int, default=4)
    parser.add_argument("--merge", choices=("mean", "touched", "sum"), default="mean",
                        help="mean: average every row over the K workers; touched: average "
                             "each row's change over the workers that changed it (a word seen "
                             "by one worker keeps its whole update); sum: add up every "
                             "worker's change since the last sync.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=None,
                        help="Starting learning rate (default: skip-gram's 0.025).")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    config = Word2VecConfig.from_dict({"epochs": args.epochs, "seed": args.seed,
                                       "alpha": args.alpha})
    corpus = load_corpus([args.corpus], **config.corpus_options())
    print(f"{corpus.n_tokens} tokens, {len(corpus.vocab)} words, epochs {args.epochs}, sync every "
          f"{args.sync_words} words per worker"
          + (f", top {args.hot_words} words {args.hot_every}x as often" if args.hot_words else "")
          + f", merge: {args.merge}, alpha {config.alpha}",
          flush=True)
    questions = os.path.join(EVAL, "questions-words.txt")
    ws353 = os.path.join(EVAL, "wordsim353.txt")
    print("| K | syncs | words/s (simulated) | questions-words | WS353 |")
    print("|---:|---:|---:|---:|---:|")
    for k in (int(x) for x in args.workers.split(",")):
        model, seconds, words, syncs = simulate(corpus, config, k, args.sync_words,
                                                args.hot_words, args.hot_every, threads,
                                                args.merge)
        wv = model.vectors()
        analogies = evaluate_analogies(wv, questions, restrict_vocab=30000)
        similarity = evaluate_similarity(wv, ws353)
        print(f"| {k} | {syncs} | {words / seconds:,.0f} | {100 * analogies.accuracy:.2f}% | "
              f"{similarity.spearman:.3f} |", flush=True)


if __name__ == "__main__":
    main()
