"""Probes of `w2v tune` on STS-B train/dev: methods measured and not (or not yet) kept.

Usage: python benchmarks/tune_probes.py PROBE --model MODEL [--corpus CORPUS] [--seeds N]

- `unseen`: the share of STS-B dev's words (types, tokens, uSIF weight) that STS-B train
  never uses: how much any generalisation to unseen words could move.
- `propagate`: tune at the defaults, then move each word the pairs never saw by the
  similarity-weighted displacement of its k nearest trained words in the start space
  (softmax of the cosines at a temperature; retrofitting-like), STS-B dev before and after.
- `soup`: per seed, the rows of the last epoch against their average over epochs 12-20
  (stochastic weight averaging), and the average over seeds (a model soup).
- `two-stage`: `--crops CORPUS` (3 epochs, the crops defaults), then that model tuned on
  STS-B train at the defaults.
- `crops`: `--crops CORPUS` only at each of `--settings` (JSON options of `tune`), STS-B dev and retrieval (as
  bench_tune.py) with the components kept from training and refitted on the file.
- `crops-mix`: `--crops CORPUS` only (3 epochs unless the settings say) at each of
  `--settings` (a "repeat": N key reads the corpus N times, each with other spans),
  refitted as `--refit auto` does; then the tuned encoder mixed with uSIF: at the output
  (cosine w x tuned + (1 - w) x uSIF's) and at the rows (start + alpha (tuned - start),
  WiSE-FT).
- `settings`: tuned on STS-B train at each of `--settings` (JSON options of `tune`, e.g.
  '{"min_weight": 0, "row_optimizer": "adam"}'), STS-B dev per seed and the mean.
- `minimum-after`: the minimum of the words' rows appended after training (not trained
  with it) to an encoder tuned with `--min-weight 0`, at a few weights.

Every figure is Spearman x 100 on STS-B dev (sentences through `letters`), seed 1 unless
--seeds; nothing here reads a test split or SICK.
"""

import argparse
import dataclasses
import json
import os
import sys
import tempfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_tune import STSB_DEV, STSB_TRAIN, retrieval, sts_score

import w2v.documents.tune as tune_module
from w2v.documents.embed import embed
from w2v.documents.pairs import graded_pairs
from w2v.documents.pooling import for_vectors
from w2v.documents.rank import top_documents
from w2v.documents.sts import read_sts
from w2v.files.model_file import load_model_vectors
from w2v.text.preprocess import normaliser
from w2v.vectors.evaluate import correlations


def tuned(wv, model, seed=1, **options):
    options.setdefault("preprocess", "letters")
    return tune_module.tune(wv, [STSB_TRAIN], path=model, seed=seed, **options)


def with_rows(pooling, rows):
    out = dataclasses.replace(pooling)
    out.row_index = np.arange(len(rows))
    out.row_values = rows.astype(np.float32)
    return out


def dev(wv, pooling):
    return f"{100 * sts_score(wv, pooling, STSB_DEV):.2f}"


def unseen(wv, args):
    start = for_vectors(wv, args.model, "usif", preprocess="letters")
    train, dev_pairs = graded_pairs(wv, start, STSB_TRAIN), graded_pairs(wv, start, STSB_DEV)
    seen = np.zeros(len(wv), bool)
    seen[train.ids] = True
    ids = dev_pairs.ids
    weights = start.weights[ids]
    types = np.unique(ids)
    print(f"STS-B dev words unseen in STS-B train: {100 * np.mean(~seen[types]):.1f}% of "
          f"{len(types)} types, {100 * np.mean(~seen[ids]):.1f}% of {len(ids)} tokens, "
          f"{100 * weights[~seen[ids]].sum() / weights.sum():.1f}% of the uSIF weight")


def propagate(wv, args):
    pooling = tuned(wv, args.model).pooling
    print(f"tuned: {dev(wv, pooling)}")
    start = np.asarray(wv.unit, dtype=np.float32)
    moved = pooling.row_index
    delta = pooling.row_values - start[moved]
    rest = np.setdiff1d(np.arange(len(wv)), moved)
    rows, sims = top_documents(start[moved], start[rest], 20, metric="dot")
    for k in (5, 10, 20):
        for temperature in (0.05, 0.1):
            s = sims[:, :k]
            w = np.exp((s - s[:, :1]) / temperature)
            w /= w.sum(1, keepdims=True)
            for alpha in (0.5, 1.0):
                matrix = start.copy()
                matrix[moved] = pooling.row_values
                matrix[rest] += alpha * np.einsum("ik,ikj->ij", w, delta[rows[:, :k]])
                print(f"  k {k}, temperature {temperature}, alpha {alpha}: "
                      f"{dev(wv, with_rows(pooling, matrix))}", flush=True)


def soup(wv, args):
    snapshots = []
    score = tune_module._dev_score

    def record(encoder, data, refit=None):  # every epoch's rows, as --dev scores them
        snapshots[-1].append(encoder.rows.copy())
        return score(encoder, data, refit)

    tune_module._dev_score = record
    try:
        pooling = None
        for seed in range(1, args.seeds + 1):
            snapshots.append([])
            pooling = tuned(wv, args.model, seed, dev=STSB_DEV).pooling
    finally:
        tune_module._dev_score = score
    for seed, rows in enumerate(snapshots, 1):
        print(f"seed {seed}: last epoch {dev(wv, with_rows(pooling, rows[-1]))}, "
              f"average of epochs 12-20 {dev(wv, with_rows(pooling, np.mean(rows[12:], 0)))}")
    print(f"soup of {args.seeds} seeds: last epochs "
          f"{dev(wv, with_rows(pooling, np.mean([r[-1] for r in snapshots], 0)))}")


def two_stage(wv, args):
    with tempfile.TemporaryDirectory() as tmp:
        first = os.path.join(tmp, "crops.w2v")
        result = tune_module.tune(wv, [], path=args.model, crops=[args.corpus],
                                  preprocess="letters", epochs=3, output=first)
        print(f"crops: {dev(wv, result.pooling)} ({result.pairs} pairs)")
        again = load_model_vectors(first)
        second = tune_module.tune(again, [STSB_TRAIN], path=first)
        print(f"then STS-B train: {dev(again, second.pooling)}")


def crops(wv, args):
    print(f"uSIF: {dev(wv, 'usif')}, retrieval {retrieval(wv, 'usif')}")
    _, left, right = read_sts(STSB_DEV)
    for spec in args.settings:
        options = {"epochs": 3, **json.loads(spec)}
        for seed in range(1, args.seeds + 1):
            pooling = tune_module.tune(wv, [], path=args.model, crops=[args.corpus],
                                       preprocess="letters", seed=seed, refit="no",
                                       **options).pooling
            refit = dataclasses.replace(pooling, components=None, component_weights=None)
            refit = embed(wv, left + right, refit).pooling
            print(f"{spec} seed {seed}: kept {dev(wv, pooling)} {retrieval(wv, pooling)}; "
                  f"refitted {dev(wv, refit)} {retrieval(wv, refit)}", flush=True)


def crops_mix(wv, args):
    gold, left, right = read_sts(STSB_DEV)
    norm = normaliser("letters")
    keys = np.array([" ".join(norm(t).split()) for t in right])
    chosen = np.flatnonzero(gold >= 4)

    def vectors(pooling):  # unit query and document vectors, components fitted on the file
        if isinstance(pooling, str):
            pooling = embed(wv, left + right, pooling, preprocess="letters").pooling
        elif not pooling.fitted:
            pooling = embed(wv, left + right, dataclasses.replace(pooling)).pooling
        out = [embed(wv, left, pooling, side="query").vectors, embed(wv, right, pooling).vectors]
        return [v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12) for v in out]

    def scores(q, d):  # STS-B dev Spearman, then retrieval as bench_tune.retrieval
        rows, _ = top_documents(d.astype(np.float32), q[chosen].astype(np.float32), len(right))
        ranks = np.array([np.flatnonzero(keys[rows[r]] == keys[i])[0] + 1
                          for r, i in enumerate(chosen)])
        spearman = correlations(gold, np.einsum("ij,ij->i", q, d))[0]
        return (f"{100 * spearman:.2f}, R@1 {100 * np.mean(ranks == 1):.2f} / "
                f"MRR {np.mean(1.0 / ranks):.4f}")

    uq, ud = vectors("usif")
    print(f"uSIF: {scores(uq, ud)}")
    for spec in args.settings:
        options = {"epochs": 3, **json.loads(spec)}
        corpora = [args.corpus] * options.pop("repeat", 1)
        for seed in range(1, args.seeds + 1):
            pooling = tune_module.tune(wv, [], path=args.model, crops=corpora,
                                       preprocess="letters", seed=seed, **options).pooling
            tq, td = vectors(pooling)
            print(f"{spec} seed {seed}: {scores(tq, td)}", flush=True)
            for w in (0.25, 0.5, 0.75):
                a, b = np.sqrt(w), np.sqrt(1 - w)
                print(f"  output mix, w {w}: "
                      f"{scores(np.hstack([a * tq, b * uq]), np.hstack([a * td, b * ud]))}")
            start = np.asarray(wv.unit, dtype=np.float32)[pooling.row_index]
            for alpha in (0.5, 0.75, 1.25, 1.5):
                rows = start + alpha * (pooling.row_values - start)
                mixed = dataclasses.replace(pooling, row_values=rows.astype(np.float32))
                print(f"  rows, alpha {alpha}: {scores(*vectors(mixed))}", flush=True)


def settings(wv, args):
    for spec in args.settings:
        scores = [sts_score(wv, tuned(wv, args.model, seed, **json.loads(spec)).pooling, STSB_DEV)
                  for seed in range(1, args.seeds + 1)]
        print(f"{spec}: {', '.join(f'{100 * s:.2f}' for s in scores)}; mean "
              f"{100 * np.mean(scores):.2f}", flush=True)


def minimum_after(wv, args):
    pooling = tuned(wv, args.model, min_weight=0).pooling
    print(f"tuned without the minimum: {dev(wv, pooling)}")
    for weight in (0.3, 0.5, 0.7):
        print(f"  minimum appended at {weight}: "
              f"{dev(wv, dataclasses.replace(pooling, min_weight=weight))}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("probe", choices=["unseen", "propagate", "soup", "two-stage", "crops",
                                          "crops-mix", "settings", "minimum-after"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--corpus")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--settings", nargs="*", default=["{}"])
    args = parser.parse_args()
    wv = load_model_vectors(args.model)
    {"unseen": unseen, "propagate": propagate, "soup": soup, "two-stage": two_stage,
     "crops": crops, "crops-mix": crops_mix, "settings": settings,
     "minimum-after": minimum_after}[args.probe](wv, args)


if __name__ == "__main__":
    main()
