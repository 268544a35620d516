"""`w2v tune`: what contrastive training of the sentence encoder gains over uSIF, and its speed.

Usage: python benchmarks/bench_tune.py --model MODEL [--seeds 3] [--sections main,sick,crops,
                                       ablations,speed,peer] [--crops-lines 0]

MODEL is a w2v model file (skip-gram at w2v's defaults with --save-model, so uSIF has its
counts), e.g. `w2v train enwiki-10m.txt -o sg.bin --save-model sg.w2v`. Every figure is
Spearman x 100 of cosines against gold, sentences through the `letters` normaliser, from
runs at `w2v tune`'s defaults unless the row says otherwise, with no --dev (the last epoch
is kept), mean +- sd over --seeds seeds. One table:

- uSIF (components fitted on each evaluated file, as `w2v evaluate --sts`);
- tuned on STS-B train -> STS-B dev (SICK never used);
- tuned on SICK train without the pairs that repeat an STS-B train or dev pair -> SICK trial;
- two-stage: tuned on --crops, then that model tuned on STS-B train -> STS-B dev;
- --crops CORPUS (the corpus the model was trained on), no labelled pairs ->
  STS-B dev, and retrieval over STS-B dev: each first sentence of a pair with gold >= 4
  against all 1,500 second sentences (recall@1, MRR; an equal text counts as a hit);
- ablations on STS-B (loss, hard negatives, false-negative mitigation, what is trained);
- speed: seconds and pairs/s per epoch over STS-B train (2 threads and 1);
- the peer: sentence-transformers' StaticEmbedding (from the same vectors) +
  MultipleNegativesRankingLoss on the same positive pairs, batch size and epochs, run with
  --peer-python (a venv with sentence-transformers); skipped when it is not installed.
"""

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from w2v.documents.embed import embed
from w2v.documents.rank import top_documents
from w2v.documents.sts import evaluate_sts, read_sts
from w2v.documents.tune import tune
from w2v.files.model_file import load_model_vectors
from w2v.text.preprocess import normaliser

SHARED = os.path.join(ROOT, "..", "shared", "data")
STS = os.path.join(SHARED, "eval", "sts")
STSB_TRAIN, STSB_DEV = os.path.join(STS, "stsb-train.txt"), os.path.join(STS, "stsb-dev.txt")
SICK_TRAIN, SICK_TRIAL = os.path.join(STS, "sick-train.txt"), os.path.join(STS, "sick-trial.txt")
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_static_embedding.py")


def mean_sd(values):
    values = [100 * v for v in values]
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} +- {statistics.stdev(values):.2f}"


def sts_score(wv, pooling, path):
    """Spearman of a tuned pooling (a `Pooling`) or a named one on an STS file."""
    return evaluate_sts(wv, path, [pooling], preprocess="letters")[0].spearman


def retrieval(wv, pooling, path=STSB_DEV, gold_min=4.0):
    """(recall@1, MRR): each first sentence of a pair with gold >= gold_min against all
    second sentences of the file; a second sentence with the gold one's text is a hit."""
    gold, left, right = read_sts(path)
    if isinstance(pooling, str):  # fitted on all sentences of the file, as evaluate --sts
        fitted = embed(wv, left + right, pooling, preprocess="letters").pooling
        queries = embed(wv, left, fitted).vectors
        documents = embed(wv, right, fitted).vectors
    else:
        if not pooling.fitted:  # components found on all sentences, as for uSIF
            pooling = embed(wv, left + right, dataclasses.replace(pooling)).pooling
        queries = embed(wv, left, pooling, side="query").vectors
        documents = embed(wv, right, pooling).vectors
    chosen = np.flatnonzero(gold >= gold_min)
    rows, _ = top_documents(documents, queries[chosen], n=len(right))
    norm = normaliser("letters")
    keys = np.array([" ".join(norm(t).split()) for t in right])
    ranks = []
    for q, i in enumerate(chosen):
        hits = np.flatnonzero(keys[rows[q]] == keys[i])
        ranks.append(hits[0] + 1 if len(hits) else len(right) + 1)
    ranks = np.array(ranks)
    return float(np.mean(ranks == 1)), float(np.mean(1.0 / ranks))


def sick_without_stsb(directory):
    """SICK train minus the pairs that repeat an STS-B train or dev pair (either order)."""
    norm = normaliser("letters")
    seen = set()
    for path in (STSB_TRAIN, STSB_DEV):
        _, left, right = read_sts(path)
        for a, b in zip(left, right):
            a, b = " ".join(norm(a).split()), " ".join(norm(b).split())
            seen.update([(a, b), (b, a)])
    out = os.path.join(directory, "sick-train-no-stsb.txt")
    dropped = 0
    with open(SICK_TRAIN, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            fields = line.rstrip("\n").split("\t")
            key = tuple(" ".join(norm(t).split()) for t in fields[1:3])
            if key in seen:
                dropped += 1
                continue
            dst.write(line)
    return out, dropped


def run(wv, model, files, seed, **options):
    options.setdefault("preprocess", "letters")
    return tune(wv, files, path=model, seed=seed, **options)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sections", default="main,sick,crops,ablations,speed,peer")
    parser.add_argument("--crops", help="the corpus the crops come from (the crops rows need it)")
    parser.add_argument("--crops-epochs", type=int, default=None,
                        help="epochs on crops (default: tune's, on crops alone)")
    parser.add_argument("--max-crops", type=int, default=None, help="tune's --max-crops")
    parser.add_argument("--peer-python", default=os.environ.get("W2V_PEER_PYTHON"),
                        help="a Python with sentence-transformers (default: $W2V_PEER_PYTHON)")
    parser.add_argument("--peer-lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=None, help="w2v tune's --threads")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    seeds = list(range(1, args.seeds + 1))
    wv = load_model_vectors(args.model)
    table = []

    def row(name, data, target, values, note=""):
        table.append((name, data, target, values, note))
        print(f"  {name:<44} {data:<22} {target:<12} {values:<18} {note}", flush=True)

    print(f"model {args.model}: {len(wv)} words, dim {wv.dim}; seeds {seeds}")
    print(f"  {'row':<44} {'trained on':<22} {'scored on':<12} {'spearman x100':<18} note")
    usif_stsb = sts_score(wv, "usif", STSB_DEV)
    usif_sick = sts_score(wv, "usif", SICK_TRIAL)
    row("uSIF (untrained)", "-", "STS-B dev", mean_sd([usif_stsb]))
    row("uSIF (untrained)", "-", "SICK trial", mean_sd([usif_sick]))
    with tempfile.TemporaryDirectory() as tmp:
        if "main" in sections:
            scores, devs, epochs = [], [], []
            for seed in seeds:
                result = run(wv, args.model, [STSB_TRAIN], seed)
                scores.append(sts_score(wv, result.pooling, STSB_DEV))
                chosen = run(wv, args.model, [STSB_TRAIN], seed, dev=STSB_DEV)
                devs.append(chosen.dev)
                epochs.append(chosen.best_epoch)
            row("tuned, defaults", "STS-B train", "STS-B dev", mean_sd(scores),
                f"uSIF {100 * (statistics.mean(scores) - usif_stsb):+.2f} (target +8)")
            row("tuned, --dev stsb-dev (best epoch kept)", "STS-B train", "STS-B dev",
                mean_sd(devs), f"epochs kept {epochs}")
        if "sick" in sections:
            sick, dropped = sick_without_stsb(tmp)
            scores = [sts_score(wv, run(wv, args.model, [sick], seed).pooling, SICK_TRIAL)
                      for seed in seeds]
            row("tuned, defaults", f"SICK train -{dropped} STS-B", "SICK trial", mean_sd(scores),
                f"uSIF {100 * (statistics.mean(scores) - usif_sick):+.2f} (target +8)")
        if "crops" in sections and not args.crops:
            print("  crops rows: give --crops CORPUS (the corpus the model was trained on)")
        elif "crops" in sections:
            scores, r1, mrr, seconds = [], [], [], []
            for seed in seeds:
                result = run(wv, args.model, [], seed, crops=[args.crops],
                             epochs=args.crops_epochs, max_crops=args.max_crops)
                scores.append(sts_score(wv, result.pooling, STSB_DEV))
                found = retrieval(wv, result.pooling)
                r1.append(found[0])
                mrr.append(found[1])
                seconds.append(statistics.mean(e["seconds"] for e in result.epochs))
            base = retrieval(wv, "usif")
            row(f"--crops only, {len(result.epochs)} epochs", "crops of the corpus", "STS-B dev",
                mean_sd(scores), f"uSIF {100 * (statistics.mean(scores) - usif_stsb):+.2f} "
                                 f"(target >= -1); {statistics.mean(seconds):.1f} s/epoch, "
                                 f"{result.pairs} pairs")
            row("retrieval R@1, uSIF", "-", "STS-B dev>=4", f"{100 * base[0]:.2f}",
                f"MRR {base[1]:.4f}")
            row("retrieval R@1, --crops only", "crops of the corpus", "STS-B dev>=4",
                mean_sd(r1), f"MRR {statistics.mean(mrr):.4f}")
        if "two-stage" in sections and args.crops:
            scores = []
            for seed in seeds:
                first = os.path.join(tmp, f"crops-{seed}.w2v")
                run(wv, args.model, [], seed, crops=[args.crops], epochs=args.crops_epochs,
                    max_crops=args.max_crops, output=first)
                tuned_wv = load_model_vectors(first)
                result = tune(tuned_wv, [STSB_TRAIN], path=first, seed=seed)
                scores.append(sts_score(tuned_wv, result.pooling, STSB_DEV))
            row("--crops, then STS-B", "crops, STS-B train",
                "STS-B dev", mean_sd(scores),
                f"uSIF {100 * (statistics.mean(scores) - usif_stsb):+.2f} (target +8)")
        if "ablations" in sections:
            ablations = [
                ("loss cosent", {"loss": "cosent"}),
                ("loss infonce", {"loss": "infonce"}),
                ("loss triplet", {"loss": "triplet"}),
                ("loss cosent+triplet", {"loss": "cosent+triplet"}),
                ("hard negatives 4", {"hard_negatives": 4}),
                ("hard negatives 4 --semi-hard", {"hard_negatives": 4, "semi_hard": True}),
                ("no false-negative mitigation (--guide none)", {"guide": "none"}),
                ("hard 4, --guide none", {"hard_negatives": 4, "guide": "none"}),
                ("fn threshold 0.8 weight 0.5", {"false_negative_threshold": 0.8,
                                                 "false_negative_weight": 0.5}),
                ("train weights", {"train": "weights", "lr": 0.003}),
                ("train map", {"train": "map"}),
                ("train weights+map", {"train": "weights+map"}),
                ("train rows", {"train": "rows"}),
                ("train map+rows", {"train": "map+rows"}),
                ("rows with --row-pull 0.01", {"row_pull": 0.01}),
                ("--asymmetric", {"asymmetric": True}),
            ]
            for name, options in ablations:
                scores = [sts_score(wv, run(wv, args.model, [STSB_TRAIN], seed,
                                            **options).pooling, STSB_DEV) for seed in seeds]
                row(name, "STS-B train", "STS-B dev", mean_sd(scores),
                    f"{100 * (statistics.mean(scores) - usif_stsb):+.2f} vs uSIF")
        if "speed" in sections:
            for threads in (None, 2):
                result = run(wv, args.model, [STSB_TRAIN], 1, threads=threads, epochs=5)
                later = result.epochs[1:]  # the first epoch may load kernels
                seconds = statistics.mean(e["seconds"] for e in later)
                rate = statistics.mean(e["pairs_per_s"] for e in later)
                row(f"speed, threads {threads or 'default (1)'}", "STS-B train", "-",
                    f"{seconds:.3f} s/epoch", f"{rate:,.0f} pairs/s (target < 5 s)")
        if "peer" in sections:
            peer(args, wv, row, tmp)


def peer(args, wv, row, tmp):
    """sentence-transformers' StaticEmbedding + MultipleNegativesRankingLoss
    (`peer_static_embedding.py`), same pairs (STS-B train gold >= 4, the sentences through
    `letters` so both see the same words), batch size and epochs, with --peer-python."""
    check = subprocess.run([args.peer_python, "-c", "import sentence_transformers"],
                           capture_output=True, check=False) if args.peer_python else None
    if check is None or check.returncode != 0:
        where = args.peer_python or "give --peer-python"
        print(f"  peer: no Python with sentence-transformers ({where}); skipped")
        return
    norm = normaliser("letters")
    gold, left, right = read_sts(STSB_TRAIN)
    train = os.path.join(tmp, "peer-train.tsv")
    with open(train, "w", encoding="utf-8") as f:
        f.writelines(f"{norm(a)}\t{norm(b)}\n" for g, a, b in zip(gold, left, right) if g >= 4)
    gold, left, right = read_sts(STSB_DEV)
    dev = os.path.join(tmp, "peer-dev.tsv")
    with open(dev, "w", encoding="utf-8") as f:
        f.writelines(f"{g}\t{norm(a)}\t{norm(b)}\n" for g, a, b in zip(gold, left, right))
    vectors = os.path.join(tmp, "peer-vectors.txt")
    with open(vectors, "w", encoding="utf-8") as f:
        f.write(f"{len(wv.words)} {wv.vectors.shape[1]}\n")
        f.writelines(word + " " + " ".join(f"{x:.6g}" for x in v) + "\n"
                     for word, v in zip(wv.words, np.asarray(wv.vectors, dtype=np.float32)))
    batch, epochs = "128", "5"
    began = time.perf_counter()
    done = subprocess.run([args.peer_python, PEER_SCRIPT, "--vectors", vectors, "--train", train,
                           "--dev", dev, "--batch-size", batch, "--epochs", epochs,
                           "--lr", str(args.peer_lr), "--threads", "2"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  peer failed: {done.stderr.strip().splitlines()[-1:]}")
        return
    epochs_out = json.loads(done.stdout.strip().splitlines()[-1])["epochs"]
    seconds = statistics.mean(e["seconds"] for e in epochs_out[1:] or epochs_out)
    row("peer: StaticEmbedding + MNRL (torch, CPU)", "STS-B train >=4", "STS-B dev",
        mean_sd([max(e["dev_spearman"] for e in epochs_out) / 100]),
        f"{seconds:.2f} s/epoch, best of {epochs} epochs (AdamW lr {args.peer_lr}); "
        f"{time.perf_counter() - began:.0f} s with start-up")
    positives = os.path.join(tmp, "positives.tsv")  # the peer's pairs: gold >= 4
    gold, left, right = read_sts(STSB_TRAIN)
    with open(positives, "w", encoding="utf-8") as f:
        f.writelines(f"{a}\t{b}\n" for g, a, b in zip(gold, left, right) if g >= 4)
    ours = tune(wv, [positives], path=args.model, preprocess="letters", loss="infonce",
                batch_size=int(batch), epochs=int(epochs), dev=STSB_DEV, threads=args.threads)
    ours_s = statistics.mean(e["seconds"] for e in ours.epochs[1:])
    row("w2v tune --loss infonce, same pairs/batch/epochs", "STS-B train >=4", "STS-B dev",
        mean_sd([ours.dev]), f"{ours_s:.2f} s/epoch: {seconds / ours_s:.1f}x the peer's speed")


if __name__ == "__main__":
    main()
