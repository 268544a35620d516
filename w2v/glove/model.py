"""GloVe: weighted least squares on log co-occurrence counts, trained with AdaGrad.

Minimises sum_ij f(X_ij) (w_i . c_j + b_i + b~_j - log X_ij)^2, f(x) = min(1, (x/x_max)^alpha),
over the non-zeros of X (both (i, j) and (j, i) of a symmetric matrix), as Pennington et
al. and GloVe C do. The non-zeros are dealt once into random blocks; every epoch
visits the blocks in a fresh random order and each block in a fresh random order, threads
sharing the parameters without locks (Hogwild). The kernels are in `glove.kernels`.

A model is a value, `GloveModel`: its options (`GloveConfig`), vocabulary, the `word` and
`context` rows (vectors, biases and AdaGrad sums), and how far training got
(`GlovePosition`). `init_model` makes one, `train` advances it launch by launch (and can
stop at a launch boundary, checkpoint, and be resumed to the same bits), and
`save_model`/`load_model` keep it in one file (`files.model_file`). `fit` trains one on a
corpus or a count file, or resumes one, in one call (`resumable` and `prepare` are its
steps). Unlike GloVe C, which restarts AdaGrad when it starts from saved vectors
(GloVe #170), the AdaGrad sums are kept.
"""

import logging
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..runtime import signals
from ..config import GloveConfig
from ..errors import OptionError, W2VError
from .kernels import count_dealt, deal_rows, train_blocks
from ..checkpoints import (CHECKPOINT_EVERY, Checkpoints, check_arrays, check_same_corpus,
                           check_same_counts, corpus_record, counts_record, read_checkpoint,
                           recorded_inputs, refuse_changed_options, write_checkpoint)
from ..runtime.progress import Bar, LossLog
from ..runtime.rng import chunk_seeds, initial_vectors, seed_for
from ..runtime.threads import check_threads, configure_threads
from ..files.container import release_rows
from ..vectors.word_vectors import RowVectors, WordVectors
from ..corpus.vocab import Vocab

log = logging.getLogger("w2v")

FAMILY = "glove"
OUTPUTS = ("sum", "word", "context")
MATRICES = ("word", "context")  # and the key of each one's initial draw: its place + 1
BLOCK_ENTRIES = 1 << 16  # mean non-zeros per block: its order array stays in L2
LAUNCHES_PER_EPOCH = 20  # kernel launches per epoch, so the progress bar moves


def check_options(threads=None, **options):
    """Raise OptionError, naming the option, for values that make no sense, before any work
    is done (the rules are `GloveConfig`'s and the one --threads rule)."""
    check_threads(threads)
    GloveConfig.from_dict(options)


def _dealt_entries(cooc, seed, n_blocks=None):
    """Rows, columns and values of the positive non-zeros, dealt into random blocks.

    Returns (rows, cols, values, block_starts): 12 bytes per entry, beside the matrix.
    The same counts, seed and number of blocks deal the same way (a resumed run deals
    again rather than storing the dealt arrays).
    """
    cooc = cooc.tocsr()
    return deal_into_blocks([(np.diff(cooc.indptr), cooc.indices, cooc.data)],
                            seed_for(seed, 0xDEA1), n_blocks)


def deal_into_blocks(pieces, state, n_blocks=None):
    """The positive entries of rows given in pieces (row lengths, columns, values; the rows
    of a piece follow those of the one before) dealt into random blocks from `state`:
    (rows, cols, values, block_starts). Read a piece at a time, never concatenated; the list
    `pieces` is emptied as they are dealt, so each can be let go."""
    nnz = sum(int(np.count_nonzero(data > 0)) for _, _, data in pieces)
    if n_blocks is None:
        n_blocks = block_count(nnz)
    sizes = np.zeros(n_blocks + 1, dtype=np.int64)
    s = np.uint64(state)
    for _, _, data in pieces:
        s = np.uint64(count_dealt(data, s, sizes))  # numba returns a Python int
    block_starts = np.cumsum(sizes)
    cursor = block_starts[:-1].copy()
    rows = np.empty(nnz, dtype=np.int32)
    cols = np.empty(nnz, dtype=np.int32)
    values = np.empty(nnz, dtype=np.float32)
    s = np.uint64(state)
    first_row = 0
    while pieces:
        lengths, indices, data = pieces.pop(0)
        s = np.uint64(deal_rows(np.asarray(lengths, dtype=np.int64), indices, data, s,
                                first_row, cursor, rows, cols, values))
        first_row += len(lengths)
        del lengths, indices, data
    return rows, cols, values, block_starts


def block_count(nnz):
    """Blocks the non-zeros are dealt into: about BLOCK_ENTRIES each."""
    return max(1, -(-nnz // BLOCK_ENTRIES))


# --------------------------------------------------------------------------- the model


@dataclass
class GlovePosition:
    """How far training got: the block order, the random streams and the launch cuts all
    derive from (seed, epoch) and the two counts fixed here, so a model saved at a launch
    boundary and trained on continues exactly as an unbroken run."""

    epoch: int = 0  # epochs finished
    launch: int = 0  # launches finished in the current epoch
    epoch_cost: float = 0.0  # cost summed over the current epoch's finished launches
    epoch_updates: int = 0
    epoch_skipped: int = 0
    epoch_seconds: float = 0.0
    blocks: int = 0  # blocks the non-zeros are dealt into (0: not yet fixed)
    launches_per_epoch: int = 0  # fixed by the first training call, whatever the threads
    rotation: int = 0  # K of a run by block rotation (`glove.blocks`): launch = sub-epochs


@dataclass
class GloveModel:
    """Options, vocabulary, parameters and training position of a GloVe model.

    `word` and `context` have one float32 row per word: [vector (dim), bias, AdaGrad sums of
    the vector and of the bias (dim + 1)]. `losses` has one dict per finished epoch (epoch,
    cost, seconds, skipped); `counts` records the co-occurrence matrix it is trained on
    (words, nnz, fingerprint, source); `corpus` the corpus the counts came from, if known.
    """

    config: GloveConfig
    vocab: Vocab
    word: np.ndarray
    context: np.ndarray
    position: GlovePosition = field(default_factory=GlovePosition)
    losses: list = field(default_factory=list)
    counts: dict | None = None
    corpus: dict | None = None
    train_seconds: float = 0.0

    @property
    def finished(self):
        return self.position.epoch >= self.config.epochs

    def vectors(self, which=None):
        """WordVectors of `which` ("sum", "word" or "context"; default the config's
        `output_vectors`), in vocabulary order."""
        rows = self._output_rows(which)
        return WordVectors(self.vocab.words, rows(0, len(self.vocab)), counts=self.vocab.counts)

    def row_vectors(self, which=None):
        """The vectors of `vectors(which)` as `RowVectors`, made a slice of rows at a time:
        writing them (`files.formats.save_vectors`) never copies the matrices whole."""
        return RowVectors(self.vocab.words, self.config.dim, self._output_rows(which))

    def _output_rows(self, which):
        """`rows(lo, hi)`: rows lo:hi of the vectors of `which`."""
        which = which or self.config.output_vectors
        dim = self.config.dim
        if which not in OUTPUTS:
            raise OptionError(f"--output-vectors must be one of {', '.join(OUTPUTS)}, "
                              f"got {which!r}")

        def rows(lo, hi):
            if which == "sum":
                out = self.word[lo:hi, :dim] + self.context[lo:hi, :dim]
            else:
                out = np.array(getattr(self, which)[lo:hi, :dim])
            for matrix in (self.word, self.context):  # memory-mapped: read once, let go
                release_rows(matrix, lo, hi)
            return out

        return rows


def init_model(config, vocab, draw=True):
    """A fresh model: GloVe C's init, uniform in +-0.5/dim for vectors and biases, AdaGrad
    sums at 1; each word's row drawn from a stream seeded by the word itself, so any rows
    can be drawn alone (`model_rows`). With `draw` False the matrices are left None, for a
    cluster run that draws them a part at a time."""
    if not draw:
        return GloveModel(config, vocab, None, None)
    every = np.arange(len(vocab))
    return GloveModel(config, vocab, *(model_rows(config, vocab, None, kind, every)
                                       for kind in MATRICES))


def model_rows(config, vocab, matrix, kind, members):
    """Rows `members` (sorted word ids) of the matrix `kind` ("word" or "context"): copied
    from `matrix`, or drawn as `init_model` draws them where `matrix` is None."""
    if matrix is not None:
        rows = np.asarray(matrix[members])
        if len(members):
            release_rows(matrix, int(members[0]), int(members[-1]) + 1)
        return rows
    dim = config.dim
    rows = np.ones((len(members), 2 * (dim + 1)), dtype=np.float32)
    words = [vocab.words[i] for i in members.tolist()]
    rows[:, : dim + 1] = initial_vectors(words, dim + 1, config.seed, -0.5 / dim, 0.5 / dim,
                                         key=MATRICES.index(kind) + 1)
    return rows


def _epoch_plan(seed, epoch, n_blocks):
    """The block order of an epoch and one random state per place in it."""
    epoch_rng = np.random.default_rng(int(seed_for(seed, epoch, 0xB10C)))
    return (epoch_rng.permutation(n_blocks).astype(np.int64),
            chunk_seeds(seed, epoch + 1, n_blocks))


def train(model, cooc, *, threads=None, progress=False, until=None, save_to=None,
          checkpoint_every=CHECKPOINT_EVERY, loss_log=None, source=None):
    """Train `model` on `cooc` (scipy sparse, V x V over its vocabulary) from its position
    to its planned epochs, in place; returns the model.

    `until=(epoch, launch)` stops at that launch boundary instead (for tests and tools).
    With `save_to`, the model file is rewritten atomically at the end of every epoch,
    every `checkpoint_every` seconds (at a launch boundary), and when SIGINT or SIGTERM
    arrives, after which `signals.Interrupted` is raised. A model that has trained refuses
    other counts (non-zeros and fingerprint). `source` is recorded with the counts the
    first time. The counts are freed once dealt if the caller passed the only reference.
    """
    config, pos = model.config, model.position
    n_words = len(model.vocab)
    if cooc.shape != (n_words, n_words):
        raise W2VError(f"co-occurrence matrix of shape {cooc.shape} for {n_words} words")
    record = counts_record(cooc, source)
    if model.counts is None:
        model.counts = record
    else:
        check_same_counts(model.counts, record)
    if model.finished:
        log.info("the model has finished its %d epochs; nothing to train", config.epochs)
        return model
    if pos.rotation and pos.launch:
        raise OptionError(f"the model stopped in epoch {pos.epoch + 1} after sub-epoch "
                          f"{pos.launch} of a {pos.rotation}-block rotation: resume it with "
                          f"--blocks {pos.rotation}")
    pos.rotation = 0
    n_threads = configure_threads(threads)
    if pos.blocks == 0:
        pos.blocks = block_count(int(np.count_nonzero(cooc.data > 0)))
    rows, cols, values, block_starts = _dealt_entries(cooc, config.seed, pos.blocks)
    del cooc  # freed here if the caller passed its only reference (as `w2v glove` does)
    nnz = len(values)
    if nnz == 0:
        raise W2VError("the co-occurrence matrix is empty: no two words of the vocabulary "
                       "occur within the window; use a larger corpus or window")
    n_blocks = pos.blocks
    if pos.launches_per_epoch == 0:
        pos.launches_per_epoch = max(1, min(LAUNCHES_PER_EPOCH, n_blocks))
    cuts = np.linspace(0, n_blocks, pos.launches_per_epoch + 1).astype(np.int64)
    block_sizes = np.diff(block_starts)
    order_scratch = np.empty((n_threads, max(int(block_sizes.max()), 1)), dtype=np.int32)
    block_order, seeds = _epoch_plan(config.seed, pos.epoch, n_blocks)
    planned = pos.epoch
    done = pos.epoch * nnz + int(block_sizes[block_order[:cuts[pos.launch]]].sum())

    log.info("training GloVe on %d non-zeros, vocabulary %d, dim %d, %d epochs, %d threads%s",
             nnz, n_words, config.dim, config.epochs, n_threads,
             f"; resuming at epoch {pos.epoch + 1}, launch {pos.launch + 1} of "
             f"{pos.launches_per_epoch}" if pos.epoch or pos.launch else "")
    bar = Bar(progress, config.epochs * nnz, unit="nz", initial=done,
              desc=f"epoch {pos.epoch + 1}/{config.epochs}")
    losses_out = LossLog(loss_log, ("epoch", "launch", "nonzeros", "cost", "seconds"),
                         append=pos.epoch > 0 or pos.launch > 0)
    checkpoints = Checkpoints(model, save_model, save_to, checkpoint_every)
    launch_started = time.perf_counter()
    try:
        with signals.deferred():
            while not model.finished:
                if until is not None and (pos.epoch, pos.launch) >= tuple(until):
                    return model
                if planned != pos.epoch:
                    block_order, seeds = _epoch_plan(config.seed, pos.epoch, n_blocks)
                    planned = pos.epoch
                first, last = cuts[pos.launch], cuts[pos.launch + 1]
                cost, updates, skipped = train_blocks(
                    rows, cols, values, block_starts, block_order[first:last],
                    seeds[first:last], model.word, model.context, config.x_max, config.alpha,
                    config.eta, config.grad_clip, order_scratch)
                pos.epoch_cost += cost
                pos.epoch_updates += updates
                pos.epoch_skipped += skipped
                pos.launch += 1
                now = time.perf_counter()
                pos.epoch_seconds += now - launch_started
                launch_started = now
                nonzeros = int(block_sizes[block_order[first:last]].sum())
                done += nonzeros
                bar.update(nonzeros, desc=f"epoch {pos.epoch + 1}/{config.epochs}",
                           postfix=f"cost {pos.epoch_cost / max(pos.epoch_updates, 1):.4f}")
                losses_out.write(pos.epoch + 1, pos.launch, done, f"{cost / max(updates, 1):.6f}",
                                 f"{checkpoints.seconds():.2f}")
                epoch_ended = pos.launch == pos.launches_per_epoch
                if epoch_ended:
                    finish_epoch(model, nnz)
                if checkpoints.after_launch(epoch_ended):
                    launch_started = time.perf_counter()  # epoch seconds leave saving out
    finally:
        bar.close()
        losses_out.close()
        checkpoints.close()
    return model


def finish_epoch(model, nnz):
    """Close the current epoch: record and log its cost, move the position on.

    A non-finite cost raises before the epoch is recorded, so no checkpoint keeps it.
    """
    pos, epochs = model.position, model.config.epochs
    mean_cost = pos.epoch_cost / max(pos.epoch_updates, 1)
    if not np.isfinite(mean_cost) or pos.epoch_updates == 0:
        raise W2VError(f"training diverged in epoch {pos.epoch + 1} (cost {mean_cost}); "
                       f"lower --eta or --grad-clip")
    seconds = pos.epoch_seconds
    model.losses.append({"epoch": pos.epoch + 1, "cost": mean_cost,
                         "seconds": round(seconds, 3), "skipped": pos.epoch_skipped})
    log.info("epoch %d/%d: cost %.6f, %d non-zeros in %.1f s (%.2fM/s)%s",
             pos.epoch + 1, epochs, mean_cost, nnz, seconds, nnz / max(seconds, 1e-9) / 1e6,
             f", {pos.epoch_skipped} non-finite updates skipped" if pos.epoch_skipped else "")
    pos.epoch += 1
    pos.launch = 0
    pos.epoch_cost = pos.epoch_seconds = 0.0
    pos.epoch_updates = pos.epoch_skipped = 0


# --------------------------------------------------------------------------- model files


def save_model(model, path, matrices=None):
    """Write the whole model (options, vocabulary, parameters with their AdaGrad sums,
    position) to one file, atomically; `matrices` ("word" and "context", arrays or
    `container.Streamed`) stand for the model's own where it does not hold them."""
    write_checkpoint(path, FAMILY, model,
                     matrices or {"word": model.word, "context": model.context},
                     omit_zero=("rotation",), counts=model.counts, corpus=model.corpus)


def load_model(path, mmap=False):
    """Read a model written by `save_model`; one-line InputError for anything else. With
    `mmap`, its matrices are memory-mapped read-only from the file, not read whole."""
    config, vocab, arrays, fields, header = read_checkpoint(
        path, FAMILY, "GloVe", GloveConfig, GlovePosition, MATRICES, mmap=mmap)
    shape = (len(vocab), 2 * (config.dim + 1))
    return GloveModel(config, vocab, *check_arrays(path, arrays, dict(word=shape, context=shape)),
                      counts=header.get("counts"), **fields)


# --------------------------------------------------------------------------- starting a run


def resumable(path, given=None, mmap=False):
    """The model saved at `path`, to train on from where it stopped (its matrices
    memory-mapped read-only with `mmap`, for a cluster run that reads them a block at a
    time).

    `given` (option name -> value) are options asked for again: one whose value differs
    from the model's is an OptionError (a resumed run keeps its options), except
    `output_vectors`, which only says which vectors to write and is taken.
    """
    model = load_model(path, mmap=mmap)
    given = given or {}
    refuse_changed_options(given, model.config, free=("output_vectors",))
    if "output_vectors" in given:
        model.config = model.config.replace(output_vectors=given["output_vectors"])
    return model


def count_corpus(inputs, config, *, vocab=None, symmetric=True, memory=None, tmp_dir=None,
                 threads=None, progress=False, dask=None, workers=None, fingerprint=True):
    """Read `inputs` with `config`'s corpus options (over `vocab` if given) and count their
    co-occurrences within its window, on a Dask cluster when `dask` is not None ("" for a
    local one, else a scheduler address).

    Returns (matrix, vocab, record): `record` is the corpus's `corpus_record` with
    `fingerprint`, else None (and always None on Dask, where the ids stay on the workers).
    """
    from ..cooccur.counts import cooccurrence_matrix

    if dask is not None:
        from ..distributed import cooccurrence_counts

        matrix, vocab, counted = cooccurrence_counts(
            inputs, **config.corpus_options(), vocab=vocab, window=config.window,
            weighting=config.weighting, symmetric=symmetric, memory_gb=memory,
            threads=threads, tmp_dir=tmp_dir, dask=dask, workers=workers, progress=progress)
        record = {"tokens": counted["tokens"], "sentences": counted["sentences"],
                  "fingerprint": None, "inputs": counted["inputs"]}
        return matrix, vocab, record if fingerprint else None
    from ..corpus.corpus import load_corpus

    loaded = load_corpus(inputs, **config.corpus_options(), progress=progress, vocab=vocab,
                         threads=threads)
    log.info("corpus: %d tokens, %d words", loaded.n_tokens, len(loaded.vocab))
    matrix = cooccurrence_matrix(loaded, window=config.window, weighting=config.weighting,
                                 symmetric=symmetric, memory_gb=memory, threads=threads,
                                 progress=progress, tmp_dir=tmp_dir)
    return matrix, loaded.vocab, corpus_record(loaded, inputs) if fingerprint else None


def recorded_source(model, inputs, cooccur):
    """(inputs, cooccur): what a resumed `model` trains on when neither is given, the count
    file or the corpus it recorded."""
    if model is not None and not inputs and not cooccur:
        cooccur = (model.counts or {}).get("cooccur")
        inputs = () if cooccur else recorded_inputs(model.corpus)
    return inputs, cooccur


def prepare(inputs=None, config=None, *, cooccur=None, resume=None, match=None, memory=None,
            tmp_dir=None, save_cooccur=None, threads=None, progress=False, dask=None,
            workers=None, read_counts=None, draw=True):
    """(model, counts, source) ready for `train(model, counts, source=source)`.

    The counts are those of the file `cooccur` (a new model takes its window and
    weighting; `match`, settings such as {"window": 5}, must agree with it), else those of
    the corpus `inputs` counted under `config` (saved to `save_cooccur` if given). With
    `resume` (a model from `resumable`), they must be the ones it trained on, and default
    to the count file or corpus it recorded. `read_counts(path, **checks)` reads the count
    file (default `cooccur.file.load_cooccur`: the whole matrix). A new model's rows are
    drawn unless `draw` is False (`init_model`).
    """
    model = resume
    if model is not None:
        config = model.config
    inputs, cooccur = recorded_source(model, inputs, cooccur)
    if cooccur:
        if read_counts is None:
            from ..cooccur.file import load_cooccur as read_counts
        if model is not None:
            check = dict(vocab=model.vocab, window=config.window, weighting=config.weighting)
        else:  # settings asked for must match the file; defaults yield to it
            check = dict(match or {})
        matrix, vocab, meta = read_counts(cooccur, **check)
        log.info("read %d x %d counts, %d non-zeros (window %s, %s weighting) from %s",
                 *matrix.shape, matrix.nnz, meta.get("window"), meta.get("weighting"),
                 cooccur)
        if model is None:
            config = config.replace(window=meta.get("window", config.window),
                                    weighting=meta.get("weighting", config.weighting))
            model = init_model(config, vocab, draw)
        return model, matrix, {"cooccur": os.path.abspath(cooccur)}
    matrix, vocab, record = count_corpus(
        inputs, config, vocab=None if model is None else model.vocab, memory=memory,
        tmp_dir=tmp_dir, threads=threads, progress=progress, dask=dask, workers=workers)
    if model is None:
        model = init_model(config, vocab, draw)
        model.corpus = record
    else:
        check_same_corpus(model.corpus, record)
    if save_cooccur:
        from ..cooccur.file import save_cooccur as write_counts

        write_counts(save_cooccur, matrix, model.vocab, config.window, config.weighting)
        log.info("wrote the counts to %s", save_cooccur)
    return model, matrix, None


def fit(inputs=None, config=None, *, cooccur=None, resume=None, threads=None, progress=False,
        save_to=None, checkpoint_every=CHECKPOINT_EVERY, loss_log=None, **counting):
    """Train a GloVe model on a corpus or a count file in one call, and return it.

    `inputs` (corpus files) or `cooccur` (a count file) as in `prepare`, under `config`
    (a GloveConfig); `resume`, a model file, resumes its interrupted run on the same
    counts (checkpoints go back to it unless `save_to` says). `counting` holds `prepare`'s
    other keywords (memory, tmp_dir, save_cooccur, dask, workers).
    """
    model = resumable(resume) if resume is not None else None
    if model is None and config is None:
        config = GloveConfig()
    model, matrix, source = prepare(inputs, config, cooccur=cooccur, resume=model,
                                    threads=threads, progress=progress, **counting)
    counts = [matrix]
    del matrix  # train gets the only reference, and frees the counts once dealt
    return train(model, counts.pop(), threads=threads, progress=progress,
                 save_to=save_to or resume, checkpoint_every=checkpoint_every,
                 loss_log=loss_log, source=source)


# --------------------------------------------------------------------------- one call


def train_glove(cooc, vocab, *, threads=None, progress=False, stats=None, **options):
    """Fit GloVe vectors to a co-occurrence matrix (scipy sparse, V x V over `vocab`).

    `options` are `GloveConfig`'s (dim, epochs, eta, x_max, alpha, grad_clip,
    output_vectors, seed, ...). Returns WordVectors: word + context vectors by default
    (output_vectors="sum"), or either alone, with `model` (the `GloveModel`) attached.
    `stats`, if a dict, receives the cost and seconds of every epoch. With threads=1 a
    given seed gives the same vectors every run. Frees the counts once dealt if the caller
    passed the only reference.
    """
    config = GloveConfig.from_dict(options)
    check_threads(threads)
    n_words = len(vocab)
    if cooc.shape != (n_words, n_words):
        raise W2VError(f"co-occurrence matrix of shape {cooc.shape} for {n_words} words")
    model = init_model(config, vocab)
    counts = [cooc]
    del cooc
    train(model, counts.pop(), threads=threads, progress=progress)
    if stats is not None:
        stats.update(epochs=model.losses, nnz=model.counts["nnz"],
                     threads=configure_threads(threads))
    result = model.vectors()
    result.model = model
    return result
