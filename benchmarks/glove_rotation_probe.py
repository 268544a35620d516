"""GloVe's block-rotation schedule against one process's order, in one process, on a count file.

    python benchmarks/glove_rotation_probe.py COUNTS.npz --blocks 1,4 --slices 1,4 --seeds 1,3
    python benchmarks/glove_rotation_probe.py COUNTS.npz --blocks 0 --seeds 1,3   # one process

Trains `glove.blocks.LocalBlocks`' cells (2 threads a cell) by the rotation schedule, with
each cell optionally trained in R slices, the K strata rotated once per slice (R = 1 is
w2v's schedule), and prints questions-words (top 30k, 3CosAdd) and WS-353 after 25 epochs.
`--blocks 0` is one process (`glove.model.train`), for the seed-to-seed spread.
A probe, not a benchmark of speed: it says whether the rotation order itself costs quality.
"""
import argparse
import os
import time

import numpy as np

from w2v.config import GloveConfig
from w2v.cooccur.file import load_cooccur
from w2v.glove import blocks
from w2v.glove.kernels import train_blocks
from w2v.glove.model import init_model, train
from w2v.runtime.rng import seed_for
from w2v.runtime.threads import configure_threads
from w2v.vectors.evaluate import evaluate_analogies, evaluate_similarity

EVAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
                    "eval")


def rotation(model, matrix, k, slices, seed):
    config = model.config
    members = blocks.rotation_plan(model, matrix, k)
    local = blocks.LocalBlocks(model, matrix, members, threads=2)
    n_threads = configure_threads(2)
    for epoch in range(config.epochs):
        orders = {}
        for r in range(slices):
            for s in range(k):
                for a, b in blocks.schedule(k, s, seed, epoch * slices + r):
                    rows, cols, values, starts = local.cells[a][b]
                    n_blocks = len(starts) - 1
                    if (a, b) not in orders:
                        rng = np.random.default_rng(int(seed_for(seed, epoch, a, b, 0xB10C)))
                        orders[a, b] = rng.permutation(n_blocks).astype(np.int64)
                    order = orders[a, b][r::slices].copy()
                    seeds = np.array([seed_for(seed, epoch + 1, a, b, int(i)) for i in order],
                                     dtype=np.uint64)
                    scratch = np.empty((n_threads, max(int(np.diff(starts).max()), 1)),
                                       dtype=np.int32)
                    train_blocks(rows, cols, values, starts, order, seeds, local.word[a],
                                 local.context[b], config.x_max, config.alpha, config.eta,
                                 config.grad_clip, scratch)
    local.gather()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("counts")
    parser.add_argument("--blocks", default="1,4", help="K values; 0 is one process")
    parser.add_argument("--slices", default="1")
    parser.add_argument("--seeds", default="1")
    args = parser.parse_args()
    matrix, vocab, meta = load_cooccur(args.counts)
    for seed in (int(x) for x in args.seeds.split(",")):
        for k in (int(x) for x in args.blocks.split(",")):
            for slices in ([1] if k == 0 else [int(x) for x in args.slices.split(",")]):
                config = GloveConfig(dim=100, epochs=25, x_max=10.0, window=meta["window"],
                                     seed=seed)
                model = init_model(config, vocab)
                started = time.time()
                if k == 0:
                    train(model, matrix, threads=2)
                else:
                    rotation(model, matrix, k, slices, seed)
                wv = model.vectors()
                analogies = 100 * evaluate_analogies(
                    wv, os.path.join(EVAL, "questions-words.txt")).accuracy
                ws = evaluate_similarity(wv, os.path.join(EVAL, "wordsim353.txt")).spearman
                what = "one process" if k == 0 else f"K = {k}, {slices} slice(s)"
                print(f"{what}, seed {seed}: analogies {analogies:.2f}%, WS-353 {ws:.3f} "
                      f"({time.time() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
