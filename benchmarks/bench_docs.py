"""Document vectors: STS quality and retrieval for mean, SIF and uSIF pooling, and speed.

Usage: python benchmarks/bench_docs.py [--vectors MODEL [--vocab FILE]] [--lines 173206]
                                       [--corpus TEXT] [--no-speed]

Without --vectors, trains skip-gram vectors with `w2v train` at its defaults (--save-model,
so the word counts SIF and uSIF need come with them) on the first --lines lines of
../shared/data/corpus/enwiki-50m.txt.xz (173,206 lines = the first 10M tokens; 0 = all
50M). A vector file without counts takes them from --vocab (`w2v vocab` of the same
corpus). Then reports, for each pooling:

- Spearman x 100 (and Pearson) on STS-B dev and SICK trial (sentences through the
  `letters` normaliser, the corpus's own preparation; components fitted on each file);
- retrieval on real pairs: the pairs of stsb-train.txt with gold >= 4, each first sentence
  a query against all second sentences of the file: recall@1, recall@10 and MRR (a
  document with the same text as the gold one counts as a hit);
- speed: `embed_files` throughput on the corpus slice, one line a document; search over
  1M synthetic documents of dim 100: one query alone, and batches of 1000.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from w2v.documents.embed import embed, embed_files  # noqa: E402
from w2v.documents.pooling import counts_from_vocab, make_pooling  # noqa: E402
from w2v.documents.rank import top_documents  # noqa: E402
from w2v.documents.sts import evaluate_sts, read_sts  # noqa: E402
from w2v.files.formats import load_vectors  # noqa: E402

SHARED = os.path.join(ROOT, "..", "shared", "data")
CORPUS = os.path.join(SHARED, "corpus", "enwiki-50m.txt.xz")
STS = os.path.join(SHARED, "eval", "sts")
POOLINGS = ("mean", "sif", "usif")


def corpus_slice(lines, directory):
    """The first `lines` lines of the 50M corpus as a plain file (all of it for 0)."""
    import lzma

    path = os.path.join(directory, f"enwiki-{lines or 'all'}.txt")
    with lzma.open(CORPUS, "rb") as src, open(path, "wb") as out:
        for i, line in enumerate(src):
            if lines and i == lines:
                break
            out.write(line)
    return path


def train(corpus, directory):
    model = os.path.join(directory, "sg.w2v")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "w2v.cli", "train", corpus, "-o",
                    os.path.join(directory, "sg.bin"), "--save-model", model, "-q"],
                   check=True, cwd=ROOT)
    print(f"trained skip-gram (w2v defaults) on {corpus} in {time.perf_counter() - start:.0f} s")
    return model


def sts_table(wv):
    print("\nSTS: Spearman x 100 (Pearson x 100), sentences preprocessed with 'letters'")
    files = [("STS-B dev", "stsb-dev.txt"), ("SICK trial", "sick-trial.txt")]
    print(f"  {'pooling':<8}" + "".join(f"{name:>22}" for name, _ in files))
    results = {name: {r.pooling: r for r in evaluate_sts(wv, os.path.join(STS, f), POOLINGS)}
               for name, f in files}
    for kind in POOLINGS:
        cells = [results[name][kind] for name, _ in files]
        print(f"  {kind:<8}" + "".join(f"{100 * r.spearman:>13.1f} ({100 * r.pearson:4.1f})"
                                       for r in cells))
    print("  coverage: " + ", ".join(f"{name} {r.pairs_used}/{r.pairs_total}"
                                     for name in results for r in [results[name]["mean"]]))


def retrieval_table(wv):
    gold, first, second = read_sts(os.path.join(STS, "stsb-train.txt"))
    queries = [i for i in range(len(gold)) if gold[i] >= 4]
    print(f"\nretrieval: {len(queries)} stsb-train first sentences (gold >= 4) against all "
          f"{len(second)} second sentences")
    print(f"  {'pooling':<8}{'R@1':>8}{'R@10':>8}{'MRR':>8}")
    texts = np.array(second, dtype=object)
    for kind in POOLINGS:
        docs = embed(wv, second, kind, preprocess="letters")
        pooled = embed(wv, [first[i] for i in queries], docs.pooling, preprocess="letters",
                       label="queries").vectors
        unit_docs = docs.vectors / np.maximum(np.linalg.norm(docs.vectors, axis=1,
                                                             keepdims=True), 1e-12)
        unit_q = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        scores = unit_q @ unit_docs.T
        ranks = []
        for row, i in enumerate(queries):
            hits = texts == second[i]  # the gold text, wherever it occurs
            best_gold = scores[row, hits].max()
            ranks.append(1 + int(np.count_nonzero(scores[row] > best_gold)))
        ranks = np.array(ranks)
        print(f"  {kind:<8}{100 * np.mean(ranks <= 1):>8.1f}{100 * np.mean(ranks <= 10):>8.1f}"
              f"{np.mean(1.0 / ranks):>8.3f}")


def speed(wv, corpus):
    print("\nspeed")
    if corpus is not None:
        embed_speed(wv, corpus)
    search_speed()


def embed_speed(wv, corpus):
    pooling = make_pooling(wv, "usif")
    start = time.perf_counter()
    result, _, _ = embed_files(wv, [corpus], pooling)
    elapsed = time.perf_counter() - start
    print(f"  embed (usif) {corpus}: {len(result)} documents, {result.tokens} tokens in "
          f"{elapsed:.1f} s: {len(result) / elapsed:,.0f} documents/s, "
          f"{result.tokens / elapsed:,.0f} tokens/s")


def search_speed():
    rng = np.random.default_rng(0)
    documents = rng.standard_normal((1_000_000, 100), dtype=np.float32)
    documents /= np.linalg.norm(documents, axis=1, keepdims=True)
    queries = rng.standard_normal((1000, 100), dtype=np.float32)
    top_documents(documents, queries[:1], n=10, metric="dot")  # warm up
    times = []
    for q in range(20):
        start = time.perf_counter()
        top_documents(documents, queries[q:q + 1], n=10, metric="dot")
        times.append(time.perf_counter() - start)
    print(f"  search 1M x 100 (unit rows, dot = cosine), top 10: one query "
          f"{1000 * np.median(times):.1f} ms (median of 20; best {1000 * min(times):.1f} ms)")
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        top_documents(documents, queries, n=10, metric="dot")
        rates.append(len(queries) / (time.perf_counter() - start))
    print(f"  search 1M x 100, batches of 1000 queries: {np.median(rates):,.0f} queries/s "
          f"(median of 3; best {max(rates):,.0f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", help="a model file (with counts) instead of training")
    parser.add_argument("--vocab", help="word counts for --vectors ('word count' lines)")
    parser.add_argument("--corpus", help="the corpus slice for the embed speed figure")
    parser.add_argument("--lines", type=int, default=173206)
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--search-speed-only", action="store_true",
                        help="only the search speed figures (no vectors, no corpus)")
    args = parser.parse_args()
    if args.search_speed_only:
        search_speed()
        return
    with tempfile.TemporaryDirectory() as directory:
        corpus = args.corpus
        if corpus is None and (args.vectors is None or not args.no_speed):
            corpus = corpus_slice(args.lines, directory)
        model = args.vectors or train(corpus, directory)
        wv = load_vectors(model)
        if args.vocab:
            from w2v.vectors.word_vectors import WordVectors

            wv = WordVectors(wv.words, wv.vectors, counts=counts_from_vocab(wv, args.vocab))
        print(f"vectors: {model} ({len(wv)} words, dim {wv.dim}, counts "
              f"{'yes' if wv.counts is not None else 'no'})")
        sts_table(wv)
        retrieval_table(wv)
        if not args.no_speed:
            speed(wv, corpus)


if __name__ == "__main__":
    main()
