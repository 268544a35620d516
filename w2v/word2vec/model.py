"""Training word2vec (Skip-gram / CBOW, negative sampling and/or hierarchical softmax).

A model is a value, `Word2VecModel`: its options (`Word2VecConfig`), vocabulary with
counts, the input, output and HS matrices, and how far training got (`Position`).
`init_model` makes one, `train` advances it launch by launch (and can stop at any launch
boundary, checkpoint, and be resumed to the same bits), `save_model`/`load_model` keep it
in one file (`files.model_file`, through `checkpoints`). `resume` finishes an interrupted
run and `continue_training` trains a saved model on new text, each in one call
(`resumable`, `continuable` and `prepare` are their steps). Orchestration only: the tables
the kernels read (subsampling thresholds, noise distribution, Huffman tree), launches of
`threads` chunks, the learning-rate schedule, progress and loss. The arithmetic lives in
`word2vec.kernels`.
"""

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from . import kernels as sgns
from ..runtime import signals
from ..vectors import ngrams as subwords
from ..config import Word2VecConfig, auto_kernel
from ..corpus.corpus import Corpus, load_corpus
from ..errors import OptionError
from .huffman import huffman_tree
from ..runtime.numba_cache import kernels_cached
from ..checkpoints import (CHECKPOINT_EVERY, Checkpoints, check_arrays, check_same_corpus,
                           corpus_record, read_checkpoint, recorded_inputs,
                           refuse_changed_options, write_checkpoint)
from ..runtime.progress import Bar, LossLog
from ..corpus.subsample import keep_probabilities
from ..runtime.rng import initial_vectors, seed_for
from ..runtime.threads import configure_threads, threading_layer
from ..vectors.word_vectors import WordVectors
from ..corpus.vocab import Vocab

log = logging.getLogger("w2v")

FAMILY = "word2vec"
KERNELS = {("sg", "classic"): sgns.SKIPGRAM, ("cbow", "classic"): sgns.CBOW,
           ("sg", "batched"): sgns.SKIPGRAM_BATCHED, ("cbow", "batched"): sgns.CBOW_BATCHED}
MAX_LAUNCHES = 32  # per epoch: enough for a smooth bar and schedule, few enough to be cheap
MIN_LAUNCH_TOKENS = 100_000
HOT_ROWS = 128  # per output matrix, each chunk its own copies (threads > 1); see sgns.HotRows


def check_options(**options):
    """Raise OptionError, naming the option, for any value training cannot use
    (the rules are `Word2VecConfig`'s)."""
    Word2VecConfig.from_dict(options)


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


def plan_chunks(offsets, n_launches, n_chunks, parts=1):
    """Sentence ranges of each launch: launch l trains slice l of the corpus (n_launches
    slices of about equal tokens, in order), cut into n_chunks neighbouring pieces of about
    equal tokens, one per thread. The launches do not depend on the thread count, so a
    model resumed mid-epoch with other threads trains on the same slices.

    Neighbouring pieces, not a part of the corpus per thread as word2vec C and gensim deal
    it: on 50M tokens, parts cost CBOW at two threads 1.3 points of analogies and 0.018
    of Rare Words (docs/word2vec.md). `parts` > 1 is that layout, for a model saved
    mid-epoch by a w2v that used it: the corpus cut into `parts` parts, launch l trains
    slice l of each (one chunk per part, n_chunks ignored). Returns a list, one per launch,
    of int64 (chunks, 2) arrays of [first, last) sentence indices.
    """
    n_sentences = len(offsets) - 1
    if parts > 1:
        part_cuts = _cut(offsets, 0, n_sentences, parts)
        slices = np.stack([_cut(offsets, first, last, n_launches)
                           for first, last in zip(part_cuts[:-1], part_cuts[1:])])
        return [np.ascontiguousarray(np.stack([slices[:, at], slices[:, at + 1]], axis=1))
                for at in range(n_launches)]
    slices = _cut(offsets, 0, n_sentences, n_launches)
    plans = []
    for first, last in zip(slices[:-1], slices[1:]):
        cuts = _cut(offsets, first, last, n_chunks)
        plans.append(np.ascontiguousarray(np.stack([cuts[:-1], cuts[1:]], axis=1)))
    return plans


def _cut(offsets, first, last, n):
    """n + 1 sentence indices cutting sentences first..last-1 into n runs of about equal
    tokens (first and last included; runs may be empty)."""
    targets = np.linspace(offsets[first], offsets[last], n + 1)
    cuts = np.searchsorted(offsets[first:last + 1], targets) + first
    cuts[0], cuts[-1] = first, last
    return np.maximum.accumulate(np.minimum(cuts, last))


# --------------------------------------------------------------------------- the model


@dataclass
class Position:
    """How far training got: everything the schedule and the random streams derive from.

    The learning rate at any point is alpha -> min_alpha linear in words_done, and the
    random stream of chunk c of launch l in epoch e is seeded from (seed, e, l, c), so a
    model saved at a launch boundary and trained on continues exactly as an unbroken run.
    Launch l trains slice l of the corpus whatever the threads (`plan_chunks`), so a model
    resumed mid-epoch with other threads trains on the same slices; one saved mid-epoch by
    a w2v whose threads each owned a part of the corpus (`parts` > 1) ends that epoch on
    its parts.
    """

    epoch: int = 0  # epochs finished
    launch: int = 0  # launches finished in the current epoch
    words_done: int = 0  # tokens trained, all epochs
    epoch_loss: float = 0.0  # loss summed over the current epoch's finished launches
    epoch_examples: int = 0
    launches_per_epoch: int = 0  # fixed by the first training call (0: not yet)
    parts: int = 0  # 1: launches cut among the threads; > 1: parts, one per thread (older)


@dataclass
class Word2VecModel:
    """Options, vocabulary, matrices and training position of a Skip-gram / CBOW model.

    `w_out` has one row when negative sampling is off, `w_hs` one row when HS is off.
    `losses` has one dict per finished epoch (epoch, loss per example, examples, seconds);
    `corpus` records what it is trained on (tokens, sentences, fingerprint, inputs).
    With subwords, `w_in` has the word rows first, then `config.bucket` n-gram rows
    (fastText's layout).
    """

    config: Word2VecConfig
    vocab: Vocab
    w_in: np.ndarray
    w_out: np.ndarray
    w_hs: np.ndarray
    position: Position = field(default_factory=Position)
    losses: list = field(default_factory=list)
    corpus: dict | None = None
    train_seconds: float = 0.0

    @property
    def finished(self):
        return self.position.epoch >= self.config.epochs

    def vectors(self):
        """The input vectors, as WordVectors in vocabulary order; with subwords, each word's
        mean of its own row and its n-gram rows (what fastText's .vec holds)."""
        if self.config.subwords:
            offsets, rows = self.subword_table()
            # pieces of 64k gathered rows: 26 MB at dim 100 (compose's default is 1M rows)
            composed = subwords.compose(self.w_in, offsets, rows, chunk_rows=1 << 16)
            return WordVectors(self.vocab.words, composed, self.vocab.counts)
        return WordVectors(self.vocab.words, self.w_in, self.vocab.counts)

    def subword_table(self):
        """(offsets, rows): each word's input rows, CSR (`subwords.subword_rows`)."""
        config = self.config
        return subwords.subword_rows(self.vocab.words, config.minn, config.maxn, config.bucket)

    def context_vectors(self):
        """The negative-sampling output vectors, or None under HS alone."""
        if self.config.negative == 0:
            return None
        return WordVectors(self.vocab.words, self.w_out, self.vocab.counts)


def init_model(config, vocab):
    """A fresh model: input vectors uniform in +-0.5/dim, output matrices at zero.

    word2vec C's init, but each word's vector is drawn from a stream seeded by the word
    itself (`initial_vectors`), so a word starts at the same point whatever the corpus.
    With subwords, fastText's: every row, words' and n-grams', uniform in +-1/dim.
    """
    n_words, dim = len(vocab), config.dim
    if config.subwords:  # one allocation: the n-gram matrix is the big one
        w_in = np.empty((n_words + config.bucket, dim), dtype=np.float32)
        w_in[:n_words] = _initial_input(vocab.words, config)
        _initial_buckets(config, w_in[n_words:])
    else:
        w_in = _initial_input(vocab.words, config)
    w_out = np.zeros((n_words if config.negative else 1, dim), dtype=np.float32)
    w_hs = np.zeros((max(n_words - 1, 1) if config.hs else 1, dim), dtype=np.float32)
    return Word2VecModel(config, vocab, w_in, w_out, w_hs)


def _initial_input(words, config):
    bound = (1.0 if config.subwords else 0.5) / config.dim
    return initial_vectors(words, config.dim, config.seed, -bound, bound)


BUCKET_STREAM = 0x6E6772616D73  # "ngrams": keeps the n-gram rows' stream apart from others


def _initial_buckets(config, out, block=1 << 16):
    """Fill `out` (the n-gram rows) uniform in +-1/dim from a stream seeded by `config.seed`."""
    rng = np.random.default_rng([config.seed & 0xFFFFFFFFFFFFFFFF, BUCKET_STREAM])
    bound = np.float32(1.0 / config.dim)
    for start in range(0, config.bucket, block):
        part = out[start:start + block]
        rng.random(out=part, dtype=np.float32)
        part *= 2 * bound
        part -= bound


def ngram_matrix_note(config):
    """The n-gram matrix's size in words, for the log line."""
    megabytes = config.bucket * config.dim * 4 / 1e6
    return f"n-gram matrix {config.bucket} x {config.dim} float32 ({megabytes:,.1f} MB)"


FIXED_ON_CONTINUE = ("dim", "hs", "lowercase", "preprocess", "subwords", "minn", "maxn",
                     "bucket")


def check_continuable(base, config, update_vocab=False):
    """Raise OptionError if `base` cannot be trained on under `config` (before any reading)."""
    for name in FIXED_ON_CONTINUE:
        if getattr(config, name) != getattr(base.config, name):
            raise OptionError(f"--{name.replace('_', '-')} must stay {getattr(base.config, name)}"
                              f" when training on from a model (got {getattr(config, name)})")
    if config.negative and not base.config.negative:
        raise OptionError("the model was trained without negative sampling (--negative 0): "
                          "it has no output vectors to train on from")
    if update_vocab and config.hs:
        raise OptionError("--update-vocab cannot be used with hierarchical softmax (--hs): "
                          "the Huffman tree would change under the trained inner nodes; "
                          "train on without --update-vocab, or train a new model")


def continue_model(base, config, new_vocab=None):
    """A model that starts from `base`'s weights under `config`, with a fresh schedule.

    The vocabulary and counts stay `base`'s (so do the noise table, subsampling and the
    Huffman tree), unless `new_vocab` (every word of the new corpus with its count) is
    given: then counts of known words are summed, new words reaching `config.min_count` on
    the new counts are added with their per-word initial vectors, and the vocabulary is
    re-sorted by count. Refused with HS, whose tree would change under its trained nodes.
    """
    check_continuable(base, config, update_vocab=new_vocab is not None)
    n_base = len(base.vocab)
    w_in, w_out, w_hs = base.w_in[:n_base].copy(), base.w_out.copy(), base.w_hs.copy()
    buckets = base.w_in[n_base:]  # the n-gram rows of a subword model, after the word rows
    vocab = base.vocab
    if new_vocab is not None:
        counts = base.vocab.counts.copy()
        added, added_counts = [], []
        for word, count in zip(new_vocab.words, new_vocab.counts.tolist()):
            row = base.vocab.index.get(word)
            if row is not None:
                counts[row] += count
            elif count >= config.min_count:
                added.append(word)
                added_counts.append(count)
        all_counts = np.concatenate([counts, np.asarray(added_counts, dtype=np.int64)])
        order = np.argsort(-all_counts, kind="stable")
        words = base.vocab.words + added
        vocab = Vocab([words[i] for i in order], all_counts[order])
        w_in = np.concatenate([w_in, _initial_input(added, config)])[order]
        if config.negative:
            w_out = np.concatenate([w_out, np.zeros((len(added), config.dim),
                                                    np.float32)])[order]
        log.info("vocabulary: %d words added to the model's %d (min-count %d on the new "
                 "corpus)", len(added), len(base.vocab), config.min_count)
    if not config.negative:
        # no negative sampling from here on: one placeholder row, the shape load_model expects
        w_out = np.zeros((1, config.dim), dtype=np.float32)
    if len(buckets):
        words_part, w_in = w_in, np.empty((len(vocab) + len(buckets), config.dim), np.float32)
        w_in[:len(vocab)] = words_part
        w_in[len(vocab):] = buckets
    return Word2VecModel(config, vocab, w_in, w_out, w_hs)


def _tables(model):
    """The read-only lookups of the kernels, derived from the vocabulary and options."""
    config, counts = model.config, model.vocab.counts
    if config.hs:
        codes, points, code_lens = huffman_tree(counts)
    else:
        codes, points = np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32)
        code_lens = np.zeros(1, np.int32)
    neg_threshold, neg_alias = noise_distribution(counts, config.ns_exponent)
    sigmoid, log_sigmoid = sgns.sigmoid_tables()
    if config.subwords:
        row_offsets, rows = model.subword_table()
    else:  # plain kernels never read the table
        row_offsets, rows = np.zeros(1, np.int64), np.zeros(1, np.int32)
    return sgns.Tables(keep_thresholds(counts, config.sample), neg_threshold, neg_alias,
                       codes, points, code_lens, sigmoid, log_sigmoid, row_offsets, rows)


def _with_room(matrix, extra_rows):
    """(matrix, the array the kernels write): with extra_rows, the matrix becomes the first
    rows of a taller array whose last rows hold the threads' copies of hot rows."""
    if extra_rows == 0:
        return matrix, matrix
    whole = np.empty((len(matrix) + extra_rows, matrix.shape[1]), dtype=matrix.dtype)
    whole[:len(matrix)] = matrix
    return whole[:len(matrix)], whole


def launch_seeds(seed, epoch, launch, n_chunks):
    """One random state per chunk of a launch, from (seed, epoch, launch, chunk)."""
    return np.array([seed_for(seed, epoch, launch, c) for c in range(n_chunks)],
                    dtype=np.uint64)


def train(model, corpus, *, threads=None, progress=False, until=None, save_to=None,
          checkpoint_every=CHECKPOINT_EVERY, loss_log=None, inputs=None):
    """Train `model` on `corpus` from its position to its planned epochs, in place.

    `until=(epoch, launch)` stops at that launch boundary instead (for tests and tools).
    With `save_to`, the model file is rewritten atomically at the end of every epoch,
    every `checkpoint_every` seconds (at a launch boundary), and when SIGINT or SIGTERM
    arrives, after which `signals.Interrupted` is raised. A model that has trained
    refuses a different corpus (token count and fingerprint). Returns the model.
    """
    config, pos = model.config, model.position
    if corpus.eos != config.eos:
        raise OptionError(f"the model's eos is {config.eos} but the corpus was read with "
                          f"eos={corpus.eos}: read it with load_corpus(..., eos={config.eos})")
    record = corpus_record(corpus, inputs)
    if model.corpus is None:
        model.corpus = record
    else:
        check_same_corpus(model.corpus, record, "; use --init-model to train on new text")
    if model.finished:
        log.info("the model has finished its %d epochs; nothing to train", config.epochs)
        return model
    threads = configure_threads(threads)
    n_tokens = corpus.n_tokens
    offsets = np.ascontiguousarray(corpus.offsets, dtype=np.int64)
    tokens = sgns.Tokens(np.ascontiguousarray(corpus.ids), offsets)
    tables = _tables(model)
    hot_rows = HOT_ROWS if threads > 1 else 0
    chunks = max(threads, pos.parts)
    n_words = len(model.vocab)
    model.w_out, w_out = _with_room(
        model.w_out, chunks * min(hot_rows, n_words) if config.negative else 0)
    model.w_hs, w_hs = _with_room(
        model.w_hs, chunks * min(hot_rows, n_words - 1) if config.hs else 0)
    weights = sgns.Weights(model.w_in, w_out, w_hs)
    max_len = int(np.diff(offsets).max()) if len(offsets) > 1 else 1
    settings = sgns.Settings(KERNELS[config.model, config.kernel], config.window,
                             config.negative, config.hs, config.cbow_mean, max_len, hot_rows)
    if pos.launches_per_epoch == 0:
        pos.launches_per_epoch = min(MAX_LAUNCHES, max(1, n_tokens // MIN_LAUNCH_TOKENS))
    plans = {}  # by (parts, threads)
    if config.subwords:
        launch = sgns.train_launch_subwords_serial if threads == 1 else \
            sgns.train_launch_subwords
        chunk = sgns.train_chunk_subwords
    else:
        launch = sgns.train_launch_serial if threads == 1 else sgns.train_launch
        chunk = sgns.train_chunk
    alpha, min_alpha = config.alpha, config.min_alpha
    total_words = config.epochs * n_tokens

    log.info("training %s (%s%s%s) on %d tokens, vocabulary %d, dim %d, window %d, "
             "%d epochs, alpha %g -> %g, %d threads%s", config.model, config.kernel,
             f", negative {config.negative}" if config.negative else "",
             ", hs" if config.hs else "", n_tokens, len(model.vocab), config.dim,
             config.window, config.epochs, alpha, min_alpha, threads,
             f"; resuming at epoch {pos.epoch + 1}, {pos.words_done / max(total_words, 1):.1%} "
             f"done" if pos.words_done else "")
    if config.subwords:
        log.info("subwords: character %d-%d-grams in %d buckets; %s", config.minn,
                 config.maxn, config.bucket, ngram_matrix_note(config))
    if hasattr(launch, "py_func") and not kernels_cached(launch, chunk):
        # Compiled by a launch over no sentence, so the training speed reported below is
        # the kernels' own, and the first run's cost is said apart from it.
        log.info("compiling kernels (first run only)...")
        compile_started = time.perf_counter()
        launch(tokens, weights, tables, settings, np.zeros((0, 2), np.int64),
               np.zeros(0, np.uint64), alpha, alpha)
        log.info("compiled the kernels in %.1f s; later runs load them from a cache",
                 time.perf_counter() - compile_started)

    def rate(words):
        return alpha - (alpha - min_alpha) * (words / total_words)

    bar = Bar(progress, total_words, unit="w", desc=f"epoch {pos.epoch + 1}/{config.epochs}",
              initial=pos.words_done, smoothing=0.1,
              bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                         "[{elapsed}<{remaining}, {rate_fmt}{postfix}]")
    losses_out = LossLog(loss_log, ("epoch", "launch", "words", "alpha", "loss", "seconds"),
                         append=pos.words_done > 0)
    checkpoints = Checkpoints(model, save_model, save_to, checkpoint_every)
    run_started = epoch_started = time.perf_counter()
    run_words = 0
    try:
        with signals.deferred():
            while not model.finished:
                if until is not None and (pos.epoch, pos.launch) >= tuple(until):
                    return model
                if pos.launch == 0:
                    pos.parts = 1
                # a model saved mid-epoch with parts (an older w2v) ends that epoch on them
                # (0: saved before parts were recorded, when launches were cut as now)
                layout = (pos.parts or 1, threads)
                if layout not in plans:
                    plans[layout] = plan_chunks(offsets, pos.launches_per_epoch, threads,
                                                layout[0])
                bounds = plans[layout][pos.launch]
                words = int((offsets[bounds[:, 1]] - offsets[bounds[:, 0]]).sum())
                alpha_to = rate(pos.words_done + words)
                losses, examples = launch(
                    tokens, weights, tables, settings, bounds,
                    launch_seeds(config.seed, pos.epoch, pos.launch, len(bounds)),
                    rate(pos.words_done), alpha_to)
                pos.epoch_loss += float(losses.sum())
                pos.epoch_examples += int(examples.sum())
                pos.words_done += words
                pos.launch += 1
                run_words += words
                now = time.perf_counter()
                bar.update(words, desc=f"epoch {pos.epoch + 1}/{config.epochs}",
                           postfix=f"alpha {alpha_to:.3g}")
                launch_loss = float(losses.sum()) / max(int(examples.sum()), 1)
                losses_out.write(pos.epoch + 1, pos.launch, pos.words_done, f"{alpha_to:.6g}",
                                 f"{launch_loss:.6f}", f"{checkpoints.seconds():.2f}")
                epoch_ended = pos.launch == pos.launches_per_epoch
                if epoch_ended:
                    _finish_epoch(model, now - epoch_started, rate(pos.words_done))
                    epoch_started = now
                checkpoints.after_launch(epoch_ended)
    finally:
        bar.close()
        losses_out.close()
        checkpoints.close()
    seconds = time.perf_counter() - run_started
    log.info("trained %d words in %.1f s: %.0f words/s, %d threads, numba threading layer %s",
             run_words, seconds, run_words / max(seconds, 1e-9), threads,
             threading_layer() if threads > 1 else "none (serial)")
    if not np.isfinite(model.w_in.sum(dtype=np.float64)):  # no bool copy of the n-gram rows
        log.warning("training diverged: some vectors are not finite (try a lower --alpha)")
    return model


def _finish_epoch(model, seconds, alpha_now):
    """Close the current epoch: record and log its loss, move the position on."""
    pos = model.position
    mean_loss = pos.epoch_loss / max(pos.epoch_examples, 1)
    model.losses.append({"epoch": pos.epoch + 1, "loss": mean_loss,
                         "examples": pos.epoch_examples, "seconds": round(seconds, 3)})
    log.info("epoch %d/%d: loss %.4f per example (%d examples), alpha now %.3g",
             pos.epoch + 1, model.config.epochs, mean_loss, pos.epoch_examples, alpha_now)
    pos.epoch += 1
    pos.launch = 0
    pos.epoch_loss = 0.0
    pos.epoch_examples = 0


# --------------------------------------------------------------------------- model files


def save_model(model, path):
    """Write the whole model (options, vocabulary, matrices, position) to one file."""
    write_checkpoint(path, FAMILY, model,
                     {"w_in": model.w_in, "w_out": model.w_out, "w_hs": model.w_hs},
                     corpus=model.corpus)


def load_model(path):
    """Read a model written by `save_model`; one-line InputError for anything else."""
    config, vocab, arrays, fields, _ = read_checkpoint(
        path, FAMILY, "word2vec (skip-gram/CBOW)", Word2VecConfig, Position,
        ("w_in", "w_out", "w_hs"))
    dim, n_words = config.dim, len(vocab)
    shapes = {"w_in": (n_words + (config.bucket if config.subwords else 0), dim),
              "w_out": (n_words if config.negative else 1, dim),
              "w_hs": (max(n_words - 1, 1) if config.hs else 1, dim)}
    return Word2VecModel(config, vocab, *check_arrays(path, arrays, shapes), **fields)


# --------------------------------------------------------------------------- starting a run


def resumable(path, given=None):
    """The model saved at `path`, to train on from where it stopped.

    `given` (option name -> value) are options asked for again: one whose value differs
    from the model's is an OptionError, since a resumed run keeps its options (a kernel
    given as "auto" is compared as the model chose it).
    """
    model = load_model(path)
    given = dict(given or {})
    config = model.config
    if given.get("kernel") == "auto":  # what the model would choose, as it did when made
        given["kernel"] = auto_kernel(config.model, config.negative, config.hs, config.subwords)
    refuse_changed_options(given, config)
    return model


def continuable(path, changes=None, update_vocab=False):
    """(base model, config): the model saved at `path` and the options to train it on under
    (its own with `changes`); OptionError, before any text is read, if it cannot be."""
    base = load_model(path)
    config = base.config.replace(**(changes or {}))
    check_continuable(base, config, update_vocab)
    return base, config


def prepare(corpus, config=None, *, resume=None, base=None, update_vocab=False, vocab=None,
            threads=None, progress=False):
    """(model, Corpus) ready for `train`: read `corpus` as the model's options say.

    With `resume` (a model from `resumable`), its vocabulary; `corpus` None reads the files
    it recorded. With `base` (from `continuable`), a model that starts from its weights
    under `config`; `update_vocab` adds the new corpus's words that reach min_count. Else a
    new model of `config`, on `vocab` (a Vocab, e.g. `read_vocab`'s) or the corpus's own.
    """
    if resume is not None:
        config = resume.config
        if not corpus:
            corpus = recorded_inputs(resume.corpus)
    reading = dict(config.corpus_options(), progress=progress, threads=threads)
    if resume is not None:
        return resume, load_corpus(corpus, **reading, vocab=resume.vocab)
    if base is not None and update_vocab:
        from ..corpus.corpus import restrict_corpus

        # cut long sentences after dropping words, as load_corpus (and so a resume) does
        loaded = load_corpus(corpus, **{**reading, "min_count": 1, "max_vocab": None,
                                        "max_sentence_length": None})
        model = continue_model(base, config, new_vocab=loaded.vocab)
        return model, restrict_corpus(loaded, model.vocab, config.max_sentence_length)
    if base is not None:
        loaded = load_corpus(corpus, **reading, vocab=base.vocab)
        return continue_model(base, config), loaded
    loaded = load_corpus(corpus, **reading, vocab=vocab)
    return init_model(config, loaded.vocab), loaded


def resume(path, corpus=None, *, threads=None, progress=False, save_to=None,
           checkpoint_every=CHECKPOINT_EVERY, loss_log=None):
    """Resume the interrupted run saved at `path` to its planned end and return the model.

    `corpus` defaults to the files the model recorded; checkpoints go back to `path`
    (or to `save_to`). At threads=1 the result is the same, bit for bit, as an unbroken run.
    """
    model, loaded = prepare(corpus, resume=resumable(path), threads=threads,
                            progress=progress)
    return train(model, loaded, threads=threads, progress=progress, save_to=save_to or path,
                 checkpoint_every=checkpoint_every, loss_log=loss_log,
                 inputs=corpus or recorded_inputs(model.corpus))


def continue_training(path, corpus, *, update_vocab=False, threads=None, progress=False,
                      save_to=None, checkpoint_every=CHECKPOINT_EVERY, loss_log=None,
                      **changes):
    """Train the model saved at `path` on new text `corpus`, with a fresh learning-rate
    schedule; `changes` are options to change (epochs, alpha, ...), `update_vocab` adds the
    new text's words that reach min_count. Returns the new model (`path` is not rewritten
    unless `save_to` names it)."""
    base, config = continuable(path, changes, update_vocab)
    model, loaded = prepare(corpus, config, base=base, update_vocab=update_vocab,
                            threads=threads, progress=progress)
    return train(model, loaded, threads=threads, progress=progress, save_to=save_to,
                 checkpoint_every=checkpoint_every, loss_log=loss_log, inputs=corpus)


# --------------------------------------------------------------------------- one call


def train_word2vec(corpus, *, threads=None, progress=False, launches_per_epoch=None,
                   **options):
    """Train word vectors on `corpus` (a `Corpus`, or paths/globs/'-' to read one).

    `options` are `Word2VecConfig`'s (model, dim, window, ..., min_count for reading).
    Returns `WordVectors` (input vectors, vocabulary order) with extra attributes:
    `context` (output-side vectors, None under HS alone), `epoch_losses` (mean loss per
    example of each epoch), `train_seconds` and `model` (the `Word2VecModel`).
    With threads=1 the result is the same, bit for bit, for the same seed.
    """
    config = Word2VecConfig.from_dict(options)
    if not isinstance(corpus, Corpus):
        corpus = load_corpus(corpus, **config.corpus_options(), progress=progress,
                             threads=threads)
    model = init_model(config, corpus.vocab)
    if launches_per_epoch is not None:
        model.position.launches_per_epoch = launches_per_epoch
    train(model, corpus, threads=threads, progress=progress)
    result = model.vectors()
    result.context = model.context_vectors()
    result.epoch_losses = [entry["loss"] for entry in model.losses]
    result.train_seconds = model.train_seconds
    result.model = model
    return result
