"""Training word2vec (Skip-gram / CBOW, negative sampling and/or hierarchical softmax).

Orchestration only: check options, build the tables the kernels read (subsampling
thresholds, noise distribution, Huffman tree), split each epoch into a few large launches
of `threads` equal chunks, drive the learning-rate schedule and the progress bar between
launches, and sum the per-chunk losses. The arithmetic lives in `sgns.py`.
"""

import logging
import time

import numpy as np

from . import sgns
from .corpus import Corpus, load_corpus
from .errors import OptionError
from .huffman import huffman_tree
from .kernel_cache import kernels_cached
from .progress import Bar
from .sampling import chunk_seeds, initial_vectors, keep_probabilities
from .threads import configure_threads, threading_layer
from .vectors import WordVectors

log = logging.getLogger("w2v")

MODELS = {"sg": sgns.SKIPGRAM, "cbow": sgns.CBOW}
KERNELS = ("classic", "batched")
DEFAULT_ALPHA = {"sg": 0.025, "cbow": 0.05}
MAX_LAUNCHES = 32  # per epoch: enough for a smooth bar and schedule, few enough to be cheap
MIN_LAUNCH_TOKENS = 100_000


def check_options(*, model="sg", dim=100, window=5, negative=5, hs=False, ns_exponent=0.75,
                  sample=1e-3, epochs=5, alpha=None, min_alpha=None, threads=None,
                  kernel="classic", save_context=False, **_):
    """Raise OptionError, naming the option, for any value training cannot use."""
    if model not in MODELS:
        raise OptionError(f"--model must be 'sg' or 'cbow', got {model!r}")
    if kernel not in KERNELS:
        raise OptionError(f"--kernel must be 'classic' or 'batched', got {kernel!r}")
    for name, value, least in (("--dim", dim, 1), ("--window", window, 1),
                               ("--negative", negative, 0), ("--epochs", epochs, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < least:
            raise OptionError(f"{name} must be an integer >= {least}, got {value}")
    if negative == 0 and not hs:
        raise OptionError("--negative 0 without --hs trains nothing; "
                          "use --negative N (N >= 1), --hs, or both")
    if kernel == "batched" and (model != "sg" or hs or negative == 0):
        raise OptionError("--kernel batched is for skip-gram with negative sampling only "
                          "(--model sg, --negative >= 1, no --hs)")
    if save_context and negative == 0:
        raise OptionError("--save-context needs negative sampling (--negative >= 1): "
                          "hierarchical softmax has no per-word output vectors")
    if not np.isfinite(ns_exponent):
        raise OptionError(f"--ns-exponent must be a finite number, got {ns_exponent}")
    if not (sample >= 0 and np.isfinite(sample)):
        raise OptionError(f"--sample must be >= 0 (0 turns subsampling off), got {sample}")
    if alpha is not None and not (alpha > 0 and np.isfinite(alpha)):
        raise OptionError(f"--alpha must be > 0, got {alpha}")
    if min_alpha is not None and not (min_alpha >= 0 and np.isfinite(min_alpha)):
        raise OptionError(f"--min-alpha must be >= 0, got {min_alpha}")
    if alpha is not None and min_alpha is not None and min_alpha > alpha:
        raise OptionError(f"--min-alpha ({min_alpha}) must not exceed --alpha ({alpha})")
    if threads is not None and threads < 0:
        raise OptionError(f"--threads must be at least 1, got {threads}")


def noise_distribution(counts, exponent=0.75):
    """Alias table of P(w) ~ count^exponent, the negative-sampling distribution.

    Returns (threshold uint64, alias int32), V entries each: bucket b keeps b when 32
    random bits fall below threshold[b], else yields alias[b]. Exact, O(1) per draw,
    and V-sized (word2vec C's table has 1e8 entries).
    """
    weights = np.power(np.asarray(counts, dtype=np.float64), exponent)
    weights[~np.isfinite(weights)] = 0.0
    if weights.sum() <= 0:
        weights = np.ones(len(counts))
    n = len(weights)
    scaled = weights * (n / weights.sum())
    alias = np.arange(n, dtype=np.int32)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s = small.pop()
        b = large[-1]
        alias[s] = b
        scaled[b] -= 1.0 - scaled[s]
        if scaled[b] < 1.0:
            large.pop()
            small.append(b)
    # Left-overs are 1 up to rounding.
    for i in small + large:
        scaled[i] = 1.0
    threshold = np.minimum(np.round(scaled * 2.0**32), 2.0**32).astype(np.uint64)
    return threshold, alias


def keep_thresholds(counts, sample):
    """Subsampling keep probabilities as 32-bit thresholds (2^32 = always keep)."""
    keep = keep_probabilities(counts, sample).astype(np.float64)
    return np.minimum(np.round(keep * 2.0**32), 2.0**32).astype(np.uint64)


def plan_chunks(offsets, n_launches, n_chunks):
    """Sentence boundaries: launches of about equal tokens, each cut into n_chunks parts.

    Returns a list of int64 arrays, one per launch, of n_chunks + 1 sentence indices.
    """
    n_tokens = offsets[-1]
    launch_cuts = np.searchsorted(offsets, np.linspace(0, n_tokens, n_launches + 1))
    launch_cuts[0], launch_cuts[-1] = 0, len(offsets) - 1
    plans = []
    for first, last in zip(launch_cuts[:-1], launch_cuts[1:]):
        targets = np.linspace(offsets[first], offsets[last], n_chunks + 1)
        cuts = np.searchsorted(offsets[first:last + 1], targets) + first
        cuts[0], cuts[-1] = first, last
        plans.append(np.maximum.accumulate(cuts).astype(np.int64))
    return plans


def train_word2vec(corpus, *, model="sg", dim=100, window=5, negative=5, hs=False,
                   ns_exponent=0.75, sample=1e-3, epochs=5, alpha=None, min_alpha=None,
                   threads=None, seed=1, cbow_mean=True, kernel="classic", min_count=5,
                   max_vocab=None, progress=False, launches_per_epoch=None):
    """Train word vectors on `corpus` (a `Corpus`, or paths/globs/'-' to read one).

    Defaults follow word2vec C, except Skip-gram is the default model. Returns
    `WordVectors` (input vectors, vocabulary order) with two extra attributes:
    `context`, the output-side (negative-sampling) vectors as `WordVectors` or None
    under HS alone, and `epoch_losses`, the mean loss per example of each epoch.
    With threads=1 the result is the same, bit for bit, for the same seed.
    """
    check_options(model=model, dim=dim, window=window, negative=negative, hs=hs,
                  ns_exponent=ns_exponent, sample=sample, epochs=epochs, alpha=alpha,
                  min_alpha=min_alpha, threads=threads, kernel=kernel)
    if alpha is None:
        alpha = DEFAULT_ALPHA[model]
    if min_alpha is None:
        min_alpha = alpha * 1e-4
    if min_alpha > alpha:
        raise OptionError(f"--min-alpha ({min_alpha}) must not exceed --alpha ({alpha})")
    if not isinstance(corpus, Corpus):
        corpus = load_corpus(corpus, min_count=min_count, max_vocab=max_vocab, progress=progress)
    threads = configure_threads(threads)

    vocab = corpus.vocab
    n_words, n_tokens = len(vocab), corpus.n_tokens
    ids = np.ascontiguousarray(corpus.ids)
    offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    max_len = int(np.diff(offsets).max()) if len(offsets) > 1 else 1

    # word2vec C's init, uniform in +-0.5/dim, but drawn per word: a word starts from the
    # same vector whatever the corpus (see `initial_vectors`)
    w_in = initial_vectors(vocab.words, dim, seed, -0.5 / dim, 0.5 / dim)
    w_out = np.zeros((n_words if negative else 1, dim), dtype=np.float32)
    if hs:
        codes, points, code_lens = huffman_tree(vocab.counts)
        w_hs = np.zeros((max(n_words - 1, 1), dim), dtype=np.float32)
    else:
        codes, points = np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32)
        code_lens = np.zeros(1, np.int32)
        w_hs = np.zeros((1, dim), dtype=np.float32)
    neg_threshold, neg_alias = noise_distribution(vocab.counts, ns_exponent)
    keep_threshold = keep_thresholds(vocab.counts, sample)
    sigmoid, log_sigmoid = sgns.sigmoid_tables()

    if launches_per_epoch is None:
        launches_per_epoch = min(MAX_LAUNCHES, max(1, n_tokens // MIN_LAUNCH_TOKENS))
    plans = plan_chunks(offsets, launches_per_epoch, threads)
    launch = sgns.train_launch_serial if threads == 1 else sgns.train_launch
    kernel_id = sgns.SKIPGRAM_BATCHED if kernel == "batched" else MODELS[model]

    log.info("training %s (%s%s%s) on %d tokens, vocabulary %d, dim %d, window %d, "
             "%d epochs, alpha %g -> %g, %d threads", model, kernel,
             f", negative {negative}" if negative else "", ", hs" if hs else "",
             n_tokens, n_words, dim, window, epochs, alpha, min_alpha, threads)
    if not kernels_cached(launch, sgns.train_chunk):
        log.info("compiling kernels (first run only)...")

    total_words = epochs * n_tokens
    words_done = 0
    epoch_losses = []
    bar = Bar(progress, total_words, unit="w", desc=f"epoch 1/{epochs}", smoothing=0.1,
              bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                         "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")
    started = time.perf_counter()
    try:
        for epoch in range(epochs):
            seeds = chunk_seeds(seed, epoch, len(plans) * threads)
            epoch_loss, epoch_examples = 0.0, 0
            for i, bounds in enumerate(plans):
                words = int(offsets[bounds[-1]] - offsets[bounds[0]])
                alpha_from = alpha - (alpha - min_alpha) * (words_done / total_words)
                alpha_to = alpha - (alpha - min_alpha) * ((words_done + words) / total_words)
                losses, examples = launch(
                    kernel_id, ids, offsets, bounds, seeds[i * threads:(i + 1) * threads],
                    w_in, w_out, w_hs, keep_threshold, neg_threshold, neg_alias, codes, points,
                    code_lens, window, negative, bool(hs), bool(cbow_mean), alpha_from,
                    alpha_to, sigmoid, log_sigmoid, max_len)
                epoch_loss += float(losses.sum())
                epoch_examples += int(examples.sum())
                words_done += words
                bar.update(words, desc=f"epoch {epoch + 1}/{epochs}",
                           postfix=f"alpha {alpha_to:.3g}")
            mean_loss = epoch_loss / max(epoch_examples, 1)
            epoch_losses.append(mean_loss)
            log.info("epoch %d/%d: loss %.4f per example (%d examples), alpha now %.3g",
                     epoch + 1, epochs, mean_loss, epoch_examples,
                     alpha - (alpha - min_alpha) * (words_done / total_words))
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    log.info("trained %d tokens x %d epochs in %.1f s: %.0f words/s, %d threads, "
             "numba threading layer %s", n_tokens, epochs, seconds,
             total_words / max(seconds, 1e-9), threads,
             threading_layer() if threads > 1 else "none (serial)")

    if not np.isfinite(w_in).all():
        log.warning("training diverged: some vectors are not finite (try a lower --alpha)")
    result = WordVectors(vocab.words, w_in, vocab.counts)
    result.context = WordVectors(vocab.words, w_out, vocab.counts) if negative else None
    result.epoch_losses = epoch_losses
    result.train_seconds = seconds
    return result
