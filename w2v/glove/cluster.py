"""GloVe on a Dask cluster by block rotation: the schedule of `glove.blocks`, one row block
per worker.

Row block k (its word rows: vectors, biases and AdaGrad sums) and the count cells of its
stripe, (k, 0..K-1), live on worker k; a column block (context rows) is a Dask future that
moves each sub-epoch to the worker whose row block meets it next.
The K tasks of a sub-epoch touch disjoint rows, so with one thread per worker the result is
the bits of `blocks.LocalBlocks`, whatever the timing.

A sub-epoch starts from futures kept on two workers (the cells once, the rows after every
sub-epoch), so a worker that dies mid-task costs only that task, which Dask runs again on a
survivor from the same inputs, to the same bits. The client keeps the model it started from
and gathers the blocks into it at checkpoints (the ordinary GloVe model file).

Dask is imported here only when a run asks for a cluster.
"""

import asyncio
import concurrent.futures
import logging
import operator
import uuid

import numpy as np

from ..checkpoints import CHECKPOINT_EVERY
from ..distributed.cluster import (TASK_LOCK, check_futures, connect, import_distributed,
                                   workers_per_host, worker_threads)
from ..errors import W2VError
from ..distributed.pairs import select_rows
from .blocks import (cell_nnz, cells_of_stripe, check_blocks, resume_blocks, schedule,
                     stripe_cells, train_cell, train_rotation)
from .model import init_model, prepare, recorded_source, resumable

log = logging.getLogger("w2v")

LOST = (OSError, TimeoutError, concurrent.futures.CancelledError, asyncio.CancelledError)


# --------------------------------------------------------------------------- on a worker


def train_task(word, context, cell, seed, epoch, a, b, x_max, alpha, eta, grad_clip, threads,
               hosts):
    """Cell (a, b) trained on copies of its row blocks (the inputs stay as they were, for a
    re-run): (word block, context block, (cost, updates, skipped))."""
    with TASK_LOCK:
        word = word.copy()
        context = context.copy()
        result = train_cell(word, context, cell, seed, epoch, a, b, x_max, alpha, eta,
                            grad_clip, worker_threads(threads, hosts))
        return word, context, result


def stripe_task(members, a, seed, n_words, *pieces):
    """The K cells of row block a from `distributed.select_rows` pieces of its rows (in row
    order), built on the worker that keeps them."""
    import scipy.sparse

    with TASK_LOCK:
        lengths = np.concatenate([p[1] for p in pieces])
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.concatenate([p[2] for p in pieces])
        data = np.concatenate([p[3] for p in pieces])
        del pieces
        stripe = scipy.sparse.csr_matrix((data, indices, indptr),
                                         shape=(len(lengths), n_words), copy=False)
        return cells_of_stripe(stripe, members, a, seed)


def cell_sizes(cells):
    return [cell_nnz(c) for c in cells]


# --------------------------------------------------------------------------- the client


def check_versions(found, mine):
    """W2VError naming the version unless every worker's w2v (`found`: address -> version,
    None where w2v is missing) is `mine`."""
    for address, version in sorted(found.items()):
        if version is None:
            raise W2VError(f"the Dask worker at {address} cannot import w2v: install w2v "
                           f"{mine} on every worker")
        if version != mine:
            raise W2VError(f"the Dask worker at {address} runs w2v {version}, this client "
                           f"w2v {mine}: install w2v {mine} on every worker")


def worker_versions(client):
    """{worker address: its w2v version, or None}."""

    def version():
        try:
            import w2v
        except ImportError:
            return None
        return getattr(w2v, "__version__", "unknown")

    return client.run(version)


class ClusterBlocks:
    """The blocks on the workers of `client`: what `blocks.train_rotation` drives."""

    def __init__(self, client, model, cooc, members, threads=None):
        self.distributed = import_distributed()
        self.client, self.model, self.members, self.threads = client, model, members, threads
        self.k = k = len(members)
        self.token = uuid.uuid4().hex[:12]
        self.hosts = workers_per_host(client)
        self.alive = self._workers()
        if not self.alive:
            raise W2VError("the Dask cluster has no workers")
        self.home = [self.alive[a % len(self.alive)] for a in range(k)]
        self.amm = self._pause_amm()
        self.moved = 0  # bytes of context blocks sent between workers
        self.at = list(range(k))  # the row block each context block last met
        self.kept = 0  # bytes copied to a second worker, to survive a lost one
        seed = model.config.seed
        self.cells, self.nnz_of = [], []
        if hasattr(cooc, "ranges"):  # rows left on the workers by counting: cut there
            self._cells_on_cluster(cooc, members, seed)
        else:  # a matrix here: one stripe at a time is cut and sent
            for a in range(k):
                cells = stripe_cells(cooc, members, a, seed)
                self.nnz_of.append([cell_nnz(c) for c in cells])
                self.cells.append(client.scatter(cells, workers=[self.home[a]], hash=False))
                del cells
        self.nnz = int(sum(map(sum, self.nnz_of)))
        self.word = [client.scatter(model.word[m], workers=[self.home[a]], hash=False)
                     for a, m in enumerate(members)]
        self.context = [client.scatter(model.context[m], workers=[self.home[b]], hash=False)
                        for b, m in enumerate(members)]
        self.block_bytes = [int(model.context[m].nbytes) for m in members]
        self._replicate([f for stripe in self.cells for f in stripe])
        self._replicate(self.word + self.context)

    def _cells_on_cluster(self, rows, members, seed):
        """Each stripe built on its worker from the pieces of the row ranges it needs; the
        row ranges are released once every stripe is made."""
        client, n_words = self.client, rows.shape[0]
        stripes = []
        for a, wanted in enumerate(members):
            pieces = [client.submit(select_rows, f, int(rows.edges[r]), wanted, pure=False,
                                    key=f"w2v-glove-select-{self.token}-{a}-{r}")
                      for r, f in enumerate(rows.ranges)]
            stripes.append(client.submit(stripe_task, members, a, seed, n_words, *pieces,
                                         key=f"w2v-glove-stripe-{self.token}-{a}",
                                         workers=[self.home[a]], pure=False))
        check_futures(self.distributed, stripes)
        rows.ranges = []
        for a, stripe in enumerate(stripes):
            self.cells.append([client.submit(operator.getitem, stripe, b, pure=False,
                                             key=f"w2v-glove-cell-{self.token}-{a}-{b}",
                                             workers=[self.home[a]])
                               for b in range(self.k)])
            self.nnz_of.append(client.submit(cell_sizes, stripe, pure=False,
                                             key=f"w2v-glove-sizes-{self.token}-{a}").result())
        check_futures(self.distributed, [f for stripe in self.cells for f in stripe])
        del stripes

    def _pause_amm(self):
        """Stop Dask's active memory manager for the run (its ReduceReplicas policy drops
        the second copies within seconds); returns whether it was running."""
        try:
            running = self.client.amm.running()
            if running:
                self.client.amm.stop()
            return running
        except (AttributeError, OSError, TimeoutError):
            return False

    def _workers(self):
        return sorted(self.client.scheduler_info().get("workers", {}))

    def _replicate(self, futures):
        if len(self.alive) > 1:
            self.client.replicate(futures, n=2)

    def sub_epoch(self, epoch, s, on_cell=None):
        config, client = self.model.config, self.client
        tasks = {}
        for a, b in schedule(self.k, s, config.seed, epoch):
            future = client.submit(
                train_task, self.word[a], self.context[b], self.cells[a][b], config.seed,
                epoch, a, b, config.x_max, config.alpha, config.eta, config.grad_clip,
                self.threads, self.hosts, key=f"w2v-glove-{self.token}-{epoch}-{s}-{a}",
                workers=[self.home[a]], allow_other_workers=True, pure=False)
            tasks[future] = (a, b)
        for future in self.distributed.as_completed(list(tasks)):
            if future.status == "finished" and on_cell is not None:
                a, b = tasks[future]
                on_cell(self.nnz_of[a][b])
        check_futures(self.distributed, list(tasks))
        results = [None] * self.k
        for future, (a, b) in tasks.items():
            parts = [client.submit(operator.getitem, future, i, pure=False,
                                   key=f"w2v-glove-part{i}-{self.token}-{epoch}-{s}-{a}")
                     for i in range(3)]
            self.word[a], self.context[b] = parts[0], parts[1]
            results[a] = (*parts[2].result(), self.nnz_of[a][b])
            if self.at[b] != a:  # the column block came from the worker that had it
                self.moved += self.block_bytes[b]
                self.at[b] = a
        del tasks, future
        self._check_workers(epoch, s)
        if len(self.alive) > 1:
            self.kept += 2 * sum(self.block_bytes)
        self._replicate(self.word + self.context)
        return results

    def _check_workers(self, epoch, s):
        """A one-line note for a worker that left; the blocks it homed move to survivors."""
        now = self._workers()
        gone = [w for w in self.alive if w not in now]
        if gone:
            log.warning("Dask worker %s left during epoch %d, sub-epoch %d; its cells ran "
                        "again on another worker from the kept copies", ", ".join(gone),
                        epoch + 1, s + 1)
        if gone or len(now) != len(self.alive):
            self.alive = now
            if not now:
                raise W2VError("every Dask worker has left")
            self.home = [h if h in now else now[a % len(now)] for a, h in enumerate(self.home)]
            self._replicate([f for stripe in self.cells for f in stripe])

    def gather(self):
        words = self.client.gather(self.word)
        contexts = self.client.gather(self.context)
        for m, w, c in zip(self.members, words, contexts):
            self.model.word[m] = w
            self.model.context[m] = c

    def worker_memory(self):
        """{worker: process memory in bytes} as the scheduler last heard it."""
        workers = self.client.scheduler_info().get("workers", {})
        return {w: int(info.get("metrics", {}).get("memory", 0)) for w, info in workers.items()}

    def close(self):
        self.cells = self.word = self.context = []
        if self.amm:
            try:
                self.client.amm.start()
            except (OSError, TimeoutError):
                pass


def cluster_blocks(client, blocks):
    """K for a run on `client`: `blocks`, else its number of workers."""
    if blocks is not None:
        return blocks
    return max(1, len(client.scheduler_info().get("workers", {})))


def train_on_cluster(model, cooc, client, *, blocks=None, threads=None, progress=False,
                     until=None, save_to=None, checkpoint_every=CHECKPOINT_EVERY, loss_log=None,
                     source=None, stats=None):
    """`blocks.train_rotation` with the cells on the workers of `client` (a
    `distributed.Client`); K is `blocks`, else the number of workers. Every worker must
    run this w2v's version. Losing the scheduler is a one-line W2VError (the model file
    keeps its last checkpoint). `stats`, if a dict, receives the bytes moved and the
    workers' memory."""
    import w2v

    mine = w2v.__version__
    try:
        check_versions(worker_versions(client), mine)
        k = cluster_blocks(client, blocks)
        made = []

        def runner(model, cooc, members):
            made.append(ClusterBlocks(client, model, cooc, members, threads))
            return made[0]

        train_rotation(model, cooc, k, runner=runner, progress=progress, until=until,
                       save_to=save_to, checkpoint_every=checkpoint_every, loss_log=loss_log,
                       source=source)
        if stats is not None and made:
            stats.update(blocks=k, moved_bytes=made[0].moved, kept_bytes=made[0].kept,
                         worker_memory=made[0].worker_memory())
    except LOST as e:
        kept = f"; {save_to} keeps the last checkpoint (--resume it)" if save_to else ""
        why = " ".join(str(e).split())
        why = why if len(why) <= 120 else why[:117] + "..."
        raise W2VError(f"lost the Dask cluster in epoch {model.position.epoch + 1} "
                       f"({type(e).__name__}: {why}){kept}") from None
    return model


def prepare_on_cluster(client, inputs=None, config=None, *, cooccur=None, resume=None,
                       save_cooccur=None, memory=None, tmp_dir=None, threads=None,
                       progress=False, **options):
    """`model.prepare` for a cluster run: a corpus is counted on `client` and its counts are
    left on the workers (a `distributed.ClusterRows`), unless they are to be saved; a count
    file is read here as usual."""
    from ..checkpoints import check_same_corpus
    from ..distributed import cooccurrence_counts

    model = resume
    if model is not None:
        config = model.config
    inputs, cooccur = recorded_source(model, inputs, cooccur)
    if cooccur or save_cooccur:
        return prepare(inputs, config, cooccur=cooccur, resume=model, memory=memory,
                       tmp_dir=tmp_dir, save_cooccur=save_cooccur, threads=threads,
                       progress=progress, dask=client, **options)
    rows, vocab, counted = cooccurrence_counts(
        inputs, **config.corpus_options(), vocab=None if model is None else model.vocab,
        window=config.window, weighting=config.weighting, memory_gb=memory, threads=threads,
        tmp_dir=tmp_dir, dask=client, progress=progress, gather=False)
    record = {"tokens": counted["tokens"], "sentences": counted["sentences"],
              "fingerprint": None, "inputs": counted["inputs"]}
    if model is None:
        model = init_model(config, vocab)
        model.corpus = record
    else:
        check_same_corpus(model.corpus, record)
    return model, rows, None


def fit(inputs=None, config=None, *, cooccur=None, resume=None, blocks=None, dask="",
        workers=None, threads=None, progress=False, save_to=None,
        checkpoint_every=CHECKPOINT_EVERY, loss_log=None, stats=None, **counting):
    """Train GloVe on a Dask cluster by block rotation, and return the model.

    As `glove.model.fit` (a corpus `inputs`, counted on the cluster, or a count file
    `cooccur`; or `resume`, a model file), with `dask` a `distributed.Client`, a scheduler
    address or file, or "" for a LocalCluster of `workers` processes; `blocks` is K (default:
    the number of workers). `threads` is per worker: with 1, a fixed seed and K give the
    same bits every run, and the bits of the same schedule run in one process
    (`blocks.train_rotation`).
    """
    if blocks is not None:
        check_blocks(blocks, None)
    model = resumable(resume) if resume is not None else None
    if model is None and config is None:
        from ..config import GloveConfig

        config = GloveConfig()
    blocks = resume_blocks(model, blocks)
    with connect(dask, workers) as client:
        model, matrix, source = prepare_on_cluster(client, inputs, config, cooccur=cooccur,
                                                   resume=model, threads=threads,
                                                   progress=progress, **counting)
        counts = [matrix]
        del matrix
        return train_on_cluster(model, counts.pop(), client, blocks=blocks, threads=threads,
                                progress=progress, save_to=save_to or resume,
                                checkpoint_every=checkpoint_every, loss_log=loss_log,
                                source=source, stats=stats)
