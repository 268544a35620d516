"""GloVe by block rotation (DSGD, Gemulla et al. 2011): the schedule, in one process.

The words are dealt into K blocks, and the non-zeros into the K x K cells (row block, column
block) of the matrix. An epoch is K sub-epochs; in sub-epoch s, row block k is trained
against column block (k + d) mod K, for every k, where d runs over 0..K-1 in an order drawn
afresh for each epoch (`schedule`). The K cells of a sub-epoch share no word
row and no context row, so they can run at once on K workers without touching the same
parameters (`glove.cluster`), and the result does not depend on which finishes first.
Here they run one after another: the same arithmetic, so a cluster run with one thread per
worker equals this one bit for bit.

Every cell trains with the one-process kernel (`kernels.train_blocks`) on its entries
re-indexed to the blocks' local rows, dealt once into random sub-blocks and visited in a
fresh random order each epoch, seeded by (seed, epoch, row block, column block). The
objective, options and AdaGrad rows are those of `glove.model`; only the order of the
updates differs (another valid order; no K repeats the bits of the one-process order).
"""

import heapq
import logging
import time

import numpy as np

from ..checkpoints import CHECKPOINT_EVERY, Checkpoints, check_same_counts, counts_record
from ..errors import OptionError, W2VError
from ..runtime import signals
from ..runtime.progress import Bar, LossLog
from ..runtime.rng import seed_for
from ..runtime.threads import configure_threads
from .kernels import train_blocks
from .model import deal_into_blocks, finish_epoch, save_model

log = logging.getLogger("w2v")

MAX_BLOCKS = 4096


# --------------------------------------------------------------------------- blocks


def deal_words(row_nnz, k):
    """The block (0..k-1) of every word: words taken in frequency rank order, each to the
    block with the fewest non-zeros so far (the lowest on ties).

    The first k words go to blocks 0..k-1, as rank mod k would deal them, so every block
    mixes frequent and rare words; taking the lightest block keeps the K x K cells near
    nnz / K^2 each where rank mod k alone would not (the head of a Zipf vocabulary is heavy).
    """
    row_nnz = np.asarray(row_nnz, dtype=np.int64)
    heap = [(0, b) for b in range(k)]
    assign = np.empty(len(row_nnz), dtype=np.int32)
    for word, nnz in enumerate(row_nnz.tolist()):
        load, b = heapq.heappop(heap)
        assign[word] = b
        heapq.heappush(heap, (load + nnz, b))
    return assign


def block_members(assign, k):
    """The words of every block, in vocabulary order (a word's local row is its place)."""
    return [np.flatnonzero(assign == b).astype(np.int64) for b in range(k)]


def check_blocks(k, n_words):
    """OptionError unless 1 <= k <= min(n_words, MAX_BLOCKS)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise OptionError(f"--blocks must be a whole number of at least 1, got {k!r}")
    if k > MAX_BLOCKS:
        raise OptionError(f"--blocks must be at most {MAX_BLOCKS}, got {k}")
    if n_words is not None and k > n_words:
        raise OptionError(f"--blocks {k} is more than the {n_words} words of the vocabulary")


def block_columns(members, n_words):
    """(assign, local): every word's block and its row within the block (its place in the
    block's members)."""
    assign = np.empty(n_words, dtype=np.int32)
    local = np.empty(n_words, dtype=np.int32)
    for b, m in enumerate(members):
        assign[m] = b
        local[m] = np.arange(len(m), dtype=np.int32)
    return assign, local


def split_rows(lengths, indices, data, assign, local, k):
    """Rows of counts (their lengths, column indices and values) split by column block:
    K pieces (row lengths, columns local to block b, values), each row's entries kept in
    their order. A cell is the concatenation of its pieces over its rows (`cell_of_pieces`)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    n_rows = len(lengths)
    column_block = assign[indices]
    row_of = np.repeat(np.arange(n_rows, dtype=np.int64), lengths)
    per_row = np.bincount(row_of * k + column_block, minlength=n_rows * k).reshape(n_rows, k)
    del row_of
    order = np.argsort(column_block, kind="stable")
    del column_block
    ends = np.cumsum(per_row.sum(axis=0))
    pieces = []
    for b in range(k):
        at = order[ends[b] - per_row[:, b].sum():ends[b]]
        pieces.append((per_row[:, b].copy(), local[indices[at]],
                       np.asarray(data[at], dtype=np.float32)))
    return pieces


def cell_of_pieces(pieces, seed, a, b):
    """Cell (a, b) from its pieces in row order (`split_rows`): its positive entries (local
    rows and columns, values) dealt into random sub-blocks, (rows, cols, values,
    block_starts), as `model` deals the whole matrix."""
    return deal_into_blocks(pieces, seed_for(seed, 0xDEA1, a, b))


def stripe_cells(cooc, members, a, seed, columns=None):
    """The K cells of row block a of the CSR matrix `cooc`: [(rows, cols, values,
    block_starts)] by column block."""
    assign, local = columns or block_columns(members, cooc.shape[1])
    stripe = cooc[members[a]]
    pieces = split_rows(np.diff(stripe.indptr), stripe.indices, stripe.data, assign, local,
                        len(members))
    del stripe
    cells = []
    for b in range(len(members)):
        cells.append(cell_of_pieces([pieces[b]], seed, a, b))
        pieces[b] = None
    return cells


def cell_nnz(cell):
    return len(cell[2])


def train_cell(word, context, cell, seed, epoch, a, b, x_max, alpha, eta, grad_clip,
               threads=1):
    """Train cell (a, b) of `epoch` on the block rows `word` and `context`, in place:
    its sub-blocks in an order drawn from (seed, epoch, a, b), each shuffled.
    Returns (cost, updates, skipped)."""
    rows, cols, values, block_starts = cell
    n_blocks = len(block_starts) - 1
    if len(values) == 0:
        return 0.0, 0, 0
    rng = np.random.default_rng(int(seed_for(seed, epoch, a, b, 0xB10C)))
    order = rng.permutation(n_blocks).astype(np.int64)
    seeds = np.array([seed_for(seed, epoch + 1, a, b, i) for i in range(n_blocks)],
                     dtype=np.uint64)
    n_threads = configure_threads(threads)
    scratch = np.empty((n_threads, max(int(np.diff(block_starts).max()), 1)), dtype=np.int32)
    cost, updates, skipped = train_blocks(rows, cols, values, block_starts, order, seeds, word,
                                          context, x_max, alpha, eta, grad_clip, scratch)
    return float(cost), int(updates), int(skipped)


def resume_blocks(model, blocks):
    """K for a resumed `model` (`blocks` where it may train by any K: a fresh run or an
    epoch end): a model stopped mid-epoch of a rotation continues with its K; another K, or
    a one-process run stopped mid-epoch, is an OptionError, before any work."""
    if model is None or not model.position.launch or model.finished:
        return blocks
    pos = model.position
    if not pos.rotation:
        raise OptionError(f"the model stopped in the middle of epoch {pos.epoch + 1} of a "
                          "one-process run: resume it without --blocks/--dask, then train on "
                          "by rotation from an epoch end")
    if blocks is not None and blocks != pos.rotation:
        raise OptionError(f"the model stopped in epoch {pos.epoch + 1} after sub-epoch "
                          f"{pos.launch} of a {pos.rotation}-block rotation: resume it with "
                          f"--blocks {pos.rotation}, not {blocks}")
    return pos.rotation


def schedule(k, s, seed=None, epoch=0):
    """The cells of sub-epoch s: [(row block, column block)], row block k with column block
    (k + d) mod K. d is s, or with a seed the s-th of a random order of 0..K-1 drawn for each
    epoch (DSGD's strata in a fresh order every epoch), so no cell is always trained first."""
    shift = s if seed is None else int(stratum_order(seed, epoch, k)[s])
    return [(a, (a + shift) % k) for a in range(k)]


def stratum_order(seed, epoch, k):
    """The order of an epoch's K strata (shifts 0..K-1)."""
    return np.random.default_rng(int(seed_for(seed, epoch, 0x57A7))).permutation(k)


# --------------------------------------------------------------------------- runners


class LocalBlocks:
    """The blocks in this process, the K cells of a sub-epoch run one after another (the
    simulation a cluster run is checked against)."""

    def __init__(self, model, cooc, members, threads=1):
        self.model, self.members, self.threads = model, members, threads
        config = model.config
        self.k = len(members)
        columns = block_columns(members, cooc.shape[1])
        self.cells = [stripe_cells(cooc, members, a, config.seed, columns)
                      for a in range(self.k)]
        self.word = [model.word[m] for m in members]
        self.context = [model.context[m] for m in members]
        self.nnz = sum(cell_nnz(c) for stripe in self.cells for c in stripe)

    def sub_epoch(self, epoch, s, on_cell=None):
        """Run sub-epoch s; returns [(cost, updates, skipped, nnz)] by row block."""
        config = self.model.config
        out = []
        for a, b in schedule(self.k, s, config.seed, epoch):
            cell = self.cells[a][b]
            result = train_cell(self.word[a], self.context[b], cell, config.seed, epoch, a, b,
                                config.x_max, config.alpha, config.eta, config.grad_clip,
                                self.threads)
            out.append((*result, cell_nnz(cell)))
            if on_cell is not None:
                on_cell(cell_nnz(cell))
        return out

    def gather(self):
        """Write the blocks' rows back into the model's matrices."""
        for m, w, c in zip(self.members, self.word, self.context):
            self.model.word[m] = w
            self.model.context[m] = c

    def save(self, model, path):
        """Write the model with the blocks' rows to `path` (a checkpoint)."""
        self.gather()
        save_model(model, path)

    def close(self):
        pass


# --------------------------------------------------------------------------- the loop


def rotation_plan(model, cooc, k, source=None):
    """Check `model` can train by rotation over K blocks on `cooc` from where it stands and
    fix K in its position; returns the blocks' members. Raises OptionError (mid-epoch,
    another K or a one-process run's launch) before any work."""
    pos, n_words = model.position, len(model.vocab)
    if cooc.shape != (n_words, n_words):
        raise W2VError(f"co-occurrence matrix of shape {cooc.shape} for {n_words} words")
    check_blocks(k, n_words)
    if pos.launch and pos.rotation != k:
        if pos.rotation:
            raise OptionError(f"the model stopped in epoch {pos.epoch + 1} after sub-epoch "
                              f"{pos.launch} of a {pos.rotation}-block rotation: resume it "
                              f"with --blocks {pos.rotation}")
        raise OptionError(f"the model stopped in the middle of epoch {pos.epoch + 1} of a "
                          "one-process run: resume it without --blocks/--dask, then train "
                          "on from an epoch end")
    if hasattr(cooc, "counts_record"):  # a count file read by chunks, rows on a cluster
        record = cooc.counts_record(source)
        row_nnz = cooc.row_lengths
    else:
        record = counts_record(cooc, source)
        row_nnz = np.diff(cooc.tocsr().indptr)
    if model.counts is None:
        model.counts = record
    else:
        check_same_counts(model.counts, record)
    pos.rotation = k
    return block_members(deal_words(row_nnz, k), k)


def train_rotation(model, cooc, k, *, runner=None, threads=1, progress=False, until=None,
                   save_to=None, checkpoint_every=CHECKPOINT_EVERY, loss_log=None, source=None):
    """Train `model` on `cooc` by rotation over K x K cells, from its position to its
    planned epochs, in place; returns the model.

    `runner(model, cooc, members)` makes what runs the cells (default: `LocalBlocks`, one
    after another in this process; `glove.cluster` passes one for Dask): its `sub_epoch`
    trains, `save(model, path)` writes a checkpoint, and `gather()` leaves the newest rows
    in the model's matrices at the end. Checkpoints, the
    loss of each epoch, --loss-log (one line per sub-epoch), `until=(epoch, sub-epoch)` and
    signals behave as in `model.train`, at sub-epoch boundaries.
    """
    config = model.config
    members = rotation_plan(model, cooc, k, source)
    if model.finished:
        log.info("the model has finished its %d epochs; nothing to train", config.epochs)
        return model
    if runner is None:
        blocks = LocalBlocks(model, cooc, members, threads)
    else:
        blocks = runner(model, cooc, members)
    del cooc
    try:
        return _rotate(model, blocks, k, progress, until, save_to, checkpoint_every, loss_log)
    finally:
        blocks.close()


def _rotate(model, blocks, k, progress, until, save_to, checkpoint_every, loss_log):
    config, pos = model.config, model.position
    nnz = blocks.nnz
    if nnz == 0:
        raise W2VError("the co-occurrence matrix is empty: no two words of the vocabulary "
                       "occur within the window; use a larger corpus or window")
    log.info("training GloVe by rotation over %d x %d blocks: %d non-zeros, vocabulary %d, "
             "dim %d, %d epochs%s", k, k, nnz, len(model.vocab), config.dim, config.epochs,
             f"; resuming at epoch {pos.epoch + 1}, sub-epoch {pos.launch + 1} of {k}"
             if pos.epoch or pos.launch else "")
    done = pos.epoch * nnz + pos.epoch_updates + pos.epoch_skipped
    bar = Bar(progress, config.epochs * nnz, unit="nz", initial=done,
              desc=f"epoch {pos.epoch + 1}/{config.epochs}")
    losses_out = LossLog(loss_log, ("epoch", "launch", "nonzeros", "cost", "seconds"),
                         append=pos.epoch > 0 or pos.launch > 0)

    checkpoints = Checkpoints(model, blocks.save, save_to, checkpoint_every)
    started = time.perf_counter()
    try:
        with signals.deferred():
            while not model.finished:
                if until is not None and (pos.epoch, pos.launch) >= tuple(until):
                    break
                results = blocks.sub_epoch(pos.epoch, pos.launch,
                                           on_cell=lambda n: bar.update(n))
                cost = sum(r[0] for r in results)
                updates = sum(r[1] for r in results)
                pos.epoch_cost += cost
                pos.epoch_updates += updates
                pos.epoch_skipped += sum(r[2] for r in results)
                pos.launch += 1
                now = time.perf_counter()
                pos.epoch_seconds += now - started
                started = now
                done += sum(r[3] for r in results)
                bar.update(0, desc=f"epoch {pos.epoch + 1}/{config.epochs}",
                           postfix=f"cost {pos.epoch_cost / max(pos.epoch_updates, 1):.4f}")
                losses_out.write(pos.epoch + 1, pos.launch, done,
                                 f"{cost / max(updates, 1):.6f}", f"{checkpoints.seconds():.2f}")
                epoch_ended = pos.launch == k
                if epoch_ended:
                    finish_epoch(model, nnz)
                if checkpoints.after_launch(epoch_ended):
                    started = time.perf_counter()
        blocks.gather()
    finally:
        bar.close()
        losses_out.close()
        checkpoints.close()
    return model
