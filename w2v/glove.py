"""GloVe: weighted least squares on log co-occurrence counts, trained with AdaGrad.

Minimises sum_ij f(X_ij) (w_i . c_j + b_i + b~_j - log X_ij)^2, f(x) = min(1, (x/x_max)^alpha),
over the non-zeros of X (both (i, j) and (j, i) of a symmetric matrix), as Pennington et
al. and GloVe C do. The non-zeros are dealt once into random blocks; every epoch
visits the blocks in a fresh random order and each block in a fresh random order, threads
sharing the parameters without locks (Hogwild). The kernels are in `glove_kernels`.
"""

import logging
import time

import numpy as np

from . import signals
from .errors import OptionError, W2VError
from .glove_kernels import scatter_into_blocks, train_blocks
from .progress import Bar
from .sampling import chunk_seeds, initial_vectors, seed_for
from .threads import configure_threads
from .vectors import WordVectors

log = logging.getLogger("w2v")

OUTPUTS = ("sum", "word", "context")
BLOCK_ENTRIES = 1 << 16  # mean non-zeros per block: its order array stays in L2
LAUNCHES_PER_EPOCH = 20  # kernel launches per epoch, so the progress bar moves


def check_options(dim=100, epochs=25, eta=0.05, x_max=100.0, alpha=0.75, grad_clip=100.0,
                  output_vectors="sum", threads=None, **_):
    """Raise OptionError for values that make no sense, before any work is done."""
    if dim is None or dim < 1:
        raise OptionError(f"--dim must be at least 1, got {dim}")
    if epochs is None or epochs < 1:
        raise OptionError(f"--epochs must be at least 1, got {epochs}")
    if not eta > 0:
        raise OptionError(f"--eta must be positive, got {eta}")
    if not x_max > 0:
        raise OptionError(f"--x-max must be positive, got {x_max}")
    if not alpha >= 0:
        raise OptionError(f"--alpha must be at least 0, got {alpha}")
    if not grad_clip > 0:
        raise OptionError(f"--grad-clip must be positive, got {grad_clip}")
    if output_vectors not in OUTPUTS:
        raise OptionError(f"--output-vectors must be one of {', '.join(OUTPUTS)}, "
                          f"got {output_vectors!r}")
    if threads is not None and threads < 0:
        raise OptionError(f"--threads must be at least 1, got {threads}")


def _dealt_entries(cooc, seed):
    """Rows, columns and values of the positive non-zeros, dealt into random blocks.

    Returns (rows, cols, values, block_starts): 12 bytes per entry, beside the matrix.
    """
    cooc = cooc.tocsr()
    nnz = int(np.count_nonzero(cooc.data > 0))
    n_blocks = max(1, -(-nnz // BLOCK_ENTRIES))
    block_starts = np.zeros(n_blocks + 1, dtype=np.int64)
    rows = np.empty(nnz, dtype=np.int32)
    cols = np.empty(nnz, dtype=np.int32)
    values = np.empty(nnz, dtype=np.float32)
    scatter_into_blocks(cooc.indptr, cooc.indices, cooc.data, seed_for(seed, 0xDEA1),
                        block_starts, rows, cols, values)
    return rows, cols, values, block_starts


def train_glove(cooc, vocab, dim=100, epochs=25, eta=0.05, x_max=100.0, alpha=0.75,
                grad_clip=100.0, output_vectors="sum", threads=None, seed=1, progress=False,
                stats=None):
    """Fit GloVe vectors to a co-occurrence matrix (scipy sparse, V x V over `vocab`).

    Returns WordVectors: word + context vectors by default (output_vectors="sum"), or
    either alone. `stats`, if a dict, receives the cost and seconds of every epoch.
    With threads=1 a given seed gives the same vectors every run.
    """
    check_options(dim=dim, epochs=epochs, eta=eta, x_max=x_max, alpha=alpha,
                  grad_clip=grad_clip, output_vectors=output_vectors, threads=threads)
    n_words = len(vocab)
    if cooc.shape != (n_words, n_words):
        raise W2VError(f"co-occurrence matrix of shape {cooc.shape} for {n_words} words")
    n_threads = configure_threads(threads)
    rows, cols, values, block_starts = _dealt_entries(cooc, seed)
    del cooc  # freed here if the caller passed its only reference (as `w2v glove` does)
    nnz = len(values)
    if nnz == 0:
        raise W2VError("the co-occurrence matrix is empty: no two words of the vocabulary "
                       "occur within the window; use a larger corpus or window")

    # GloVe C's init: uniform in +-0.5/dim for vectors and biases; AdaGrad sums start at 1.
    # A row holds [vector, bias, squared-gradient sums of both] (see glove_kernels).
    word = np.ones((n_words, 2 * (dim + 1)), dtype=np.float32)
    context = np.ones((n_words, 2 * (dim + 1)), dtype=np.float32)
    word[:, : dim + 1] = initial_vectors(vocab.words, dim + 1, seed, -0.5 / dim, 0.5 / dim, key=1)
    context[:, : dim + 1] = initial_vectors(vocab.words, dim + 1, seed, -0.5 / dim, 0.5 / dim,
                                            key=2)

    block_sizes = np.diff(block_starts)
    n_blocks = len(block_sizes)
    order_scratch = np.empty((n_threads, block_sizes.max()), dtype=np.int32)
    launches = max(1, min(LAUNCHES_PER_EPOCH, n_blocks // n_threads))
    cuts = np.linspace(0, n_blocks, launches + 1).astype(np.int64)

    history = []
    with Bar(progress, epochs * nnz, unit="nz", desc=f"epoch 1/{epochs}") as bar, \
            signals.deferred():  # kernels return before a signal acts
        for epoch in range(epochs):
            started = time.perf_counter()
            epoch_rng = np.random.default_rng(int(seed_for(seed, epoch, 0xB10C)))
            block_order = epoch_rng.permutation(n_blocks).astype(np.int64)
            seeds = chunk_seeds(seed, epoch + 1, n_blocks)
            cost = 0.0
            updates = skipped = 0
            for first, last in zip(cuts[:-1], cuts[1:]):
                part_cost, part_updates, part_skipped = train_blocks(
                    rows, cols, values, block_starts, block_order[first:last],
                    seeds[first:last], word, context, float(x_max), float(alpha), float(eta),
                    float(grad_clip), order_scratch)
                cost += part_cost
                updates += part_updates
                skipped += part_skipped
                bar.update(int(block_sizes[block_order[first:last]].sum()),
                           desc=f"epoch {epoch + 1}/{epochs}",
                           postfix=f"cost {cost / max(updates, 1):.4f}")
                signals.check()
            seconds = time.perf_counter() - started
            mean_cost = cost / max(updates, 1)
            history.append({"epoch": epoch + 1, "cost": mean_cost, "seconds": seconds,
                            "skipped": skipped})
            log.info("epoch %d/%d: cost %.6f, %d non-zeros in %.1f s (%.2fM/s)%s",
                     epoch + 1, epochs, mean_cost, nnz, seconds,
                     nnz / max(seconds, 1e-9) / 1e6,
                     f", {skipped} non-finite updates skipped" if skipped else "")
            if not np.isfinite(mean_cost) or updates == 0:
                raise W2VError(f"training diverged in epoch {epoch + 1} (cost {mean_cost}); "
                               f"lower --eta or --grad-clip")
    if stats is not None:
        stats.update(epochs=history, nnz=nnz, threads=n_threads)

    vectors = {"word": word[:, :dim], "context": context[:, :dim]}.get(output_vectors)
    if vectors is None:
        vectors = word[:, :dim] + context[:, :dim]
    return WordVectors(vocab.words, vectors, counts=vocab.counts)
