"""From word2vec C's CBOW to w2v's, one change at a time: quality at each step.

    flock /tmp/w2v-cpu.lock python benchmarks/cbow_steps.py enwiki-10m.txt \
        --steps c,no-eos-noise,xorshift --seeds 1,2,3

Steps (each includes the ones before it in STEPS, unless named with a leading '+', which
applies that single change to word2vec C alone):
  c              word2vec C's CBOW, reproduced by `word2vec_c_reference.train_cbow` (one thread)
  no-eos-noise   `</s>` out of the noise distribution and the subsampling total (w2v has no
                 `</s>` word)
  xorshift       w2v's random generator for every draw
  alias          negatives from w2v's alias table
  sigmoid        w2v's exp-table index
  w2v-init       w2v's per-word initial vectors
  w2v-t1         w2v's CBOW itself (`train_word2vec`, one thread)
  w2v-t2         w2v's CBOW at two threads
  +divide        (word2vec C with the context gradient divided by the context size)
  +alpha025      (word2vec C at alpha 0.025, gensim's default; +alpha075 at 0.075)
  +sigmoid       (word2vec C with w2v's exp-table index)
  +skip          (word2vec C skipping saturated updates, as gensim does)
  +init1         (word2vec C with gensim's initial scale, +-1/dim)

Defaults are the benchmark's: dim 100, window 5, negative 5, sample 1e-3, min-count 5,
5 epochs, alpha 0.05. Evaluation as `bench_train.py`: questions-words (3CosAdd, top 30k),
WS353 and RW (Spearman), by gensim's evaluators; `</s>` is left out of the vectors.
Prints one line per run and the mean +- standard error of each step over the seeds.
"""

import argparse
import os
import time

import numpy as np
import word2vec_c_reference as ref

EVAL = os.environ.get("W2V_EVAL") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "eval")

STEPS = ["c", "no-eos-noise", "xorshift", "alias", "sigmoid", "w2v-init", "w2v-t1", "w2v-t2"]
SINGLE = {"+divide": {"divide_gradient": True}, "+alpha025": {"alpha": 0.025},
          "+sigmoid": {"w2v_sigmoid_index": True}, "+skip": {"skip_saturated": True},
          "+init1": {"init_scale": 2.0}, "+alpha075": {"alpha": 0.075}}
OPTIONS = {"no-eos-noise": {"eos_in_noise": False}, "xorshift": {"xorshift": True},
           "alias": {"alias_table": True}, "sigmoid": {"w2v_sigmoid_index": True}}


def evaluate(words, vectors):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(words, vectors)
    analogy, _ = kv.evaluate_word_analogies(f"{EVAL}/questions-words.txt", restrict_vocab=30000)
    ws353 = kv.evaluate_word_pairs(f"{EVAL}/wordsim353.txt")[1][0]
    rw = kv.evaluate_word_pairs(f"{EVAL}/rw.txt")[1][0]
    return 100 * analogy, ws353, rw


def run_step(step, seed, data, args):
    words, counts, stream, corpus_path = data
    names = [w.decode("utf-8", "replace") for w in words]
    if step.startswith("w2v-t"):
        from w2v.corpus.corpus import load_corpus
        from w2v.word2vec.model import train_word2vec

        corpus = load_corpus([corpus_path], min_count=args.min_count)
        wv = train_word2vec(corpus, model="cbow", dim=args.dim, window=args.window,
                            negative=args.negative, sample=args.sample, epochs=args.epochs,
                            threads=int(step[-1]), seed=seed)
        return wv.words, wv.vectors
    options = {"alpha": args.alpha}
    if step in SINGLE:
        options.update(SINGLE[step])
    else:
        for earlier in STEPS[:STEPS.index(step) + 1]:
            options.update(OPTIONS.get(earlier, {}))
        if STEPS.index(step) >= STEPS.index("w2v-init"):
            from w2v.runtime.rng import initial_vectors

            bound = 0.5 / args.dim
            options["syn0"] = np.concatenate([
                np.zeros((1, args.dim), np.float32),
                initial_vectors(names[1:], args.dim, seed, -bound, bound)])
    syn0, _ = ref.train_cbow(stream, counts, size=args.dim, window=args.window,
                             negative=args.negative, sample=args.sample, iters=args.epochs,
                             seed=seed, **options)
    return names[1:], syn0[1:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--min-count", type=int, default=5)
    args = parser.parse_args()
    steps = args.steps.split(",")
    for step in steps:
        if step not in STEPS and step not in SINGLE:
            raise SystemExit(f"unknown step {step}")
    seeds = [int(s) for s in args.seeds.split(",")]
    lines = ref.read_text(args.corpus)
    words, counts = ref.vocabulary(lines, args.min_count)
    stream = ref.token_stream(lines, words)
    del lines
    data = (words, counts, stream, args.corpus)
    print(f"{args.corpus}: {len(stream):,} tokens read (with </s>), vocabulary {len(words):,}",
          flush=True)
    results = {}
    for seed in seeds:
        for step in steps:
            started = time.perf_counter()
            figures = evaluate(*run_step(step, seed, data, args))
            results.setdefault(step, []).append(figures)
            print(f"{step:14} seed {seed}: analogy {figures[0]:6.2f}%  ws353 {figures[1]:.3f}  "
                  f"rw {figures[2]:.3f}  ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"\nmean +- standard error over seeds {args.seeds}:")
    for step in steps:
        table = np.array(results[step])
        mean = table.mean(axis=0)
        se = table.std(axis=0, ddof=1) / np.sqrt(len(table)) if len(table) > 1 else 0 * mean
        print(f"| {step} | {mean[0]:.2f} ± {se[0]:.2f}% | {mean[1]:.3f} ± {se[1]:.3f} | "
              f"{mean[2]:.3f} ± {se[2]:.3f} |")


if __name__ == "__main__":
    main()
