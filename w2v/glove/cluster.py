"""GloVe on a Dask cluster by block rotation: the schedule of `glove.blocks`, one row block
per worker.

Row block k (its word rows: vectors, biases and AdaGrad sums) and the count cells of its
stripe, (k, 0..K-1), live in the process of worker k, its home (not as Dask results, which
Dask may copy); a copy of both waits on the local disk of another worker, its keeper. A
column block (context rows) moves each sub-epoch to the worker whose row block meets it
next, which trains it in place. The K tasks of a sub-epoch touch disjoint rows, so with one
thread per worker the result is the bits of `blocks.LocalBlocks`, whatever the timing.

After each cell its keeper writes a copy of the cell's two blocks to disk, and a sub-epoch
ends once every copy is kept, so a worker that dies at any point costs only its task: its
keeper takes the stripe over (cells and blocks from its disk) and runs it again from the
same inputs, to the same bits. The client never holds a whole block of the model: it draws
(or reads from a resumed model's file) and sends out the blocks a part of rows at a time, and
writes checkpoints (the ordinary GloVe model file) a slice of rows at a time, asked of the
blocks' workers; the model it returns has its matrices memory-mapped from the file written
last.

Dask is imported here only when a run asks for a cluster.
"""

import asyncio
import concurrent.futures
import logging
import os
import re
import shutil
import tempfile
import time
import uuid

import numpy as np

from ..checkpoints import CHECKPOINT_EVERY
from ..distributed.cluster import (TASK_LOCK, check_futures, cluster_workers, connect,
                                   import_distributed, workers_per_host, worker_threads)
from ..errors import W2VError
from ..distributed.pairs import select_rows
from .blocks import (block_columns, cell_nnz, cell_of_pieces, check_blocks, resume_blocks,
                     schedule, split_rows, train_cell, train_rotation)
from ..cooccur.file import row_chunk_bounds
from ..files.container import Streamed
from ..files.model_file import ModelFile
from ..runtime.memory import release_free_memory
from .model import MATRICES, init_model, model_rows, prepare, recorded_source, resumable, \
    save_model

log = logging.getLogger("w2v")

CHUNK_NNZ = 1 << 22  # non-zeros of a part of a cell a keeper copies at once
DEAL_NNZ = 1 << 20  # at most, non-zeros of a chunk of rows dealt out at once
DEAL_BYTES_PER_NNZ = 32  # what a chunk and its working copies take, measured (about 25)
DEAL_WAVE = 2  # chunks of counts left on the workers cut at once, each wave stashed in turn
CLIENT_ROWS = 1 << 13  # rows of the model the client holds at once (sending or saving)
POLL_SECONDS = 1.0  # how often a sub-epoch looks for workers that left

LOST = (OSError, TimeoutError, concurrent.futures.CancelledError, asyncio.CancelledError)


class LostDuringSave(Exception):
    """A LOST error met while a checkpoint is written: not an OSError, so the atomic write
    it interrupts removes its temporary file and lets it through unchanged."""


# --------------------------------------------------------------------------- on a worker

# The count cells a worker trains, by (run token, a, b): its share of the counts, held in the
# worker process, never as a Dask result, so Dask keeps no second copy of it in any worker's
# memory (its keeper's copy is written a part at a time).
CELLS = {}


CELL_ARRAYS = ("rows", "cols", "values", "block_starts")


def _run_folder(worker, token):
    """Where a run's copies wait on this worker's local disk."""
    return os.path.join(worker.local_directory, f"w2v-glove-{token}")


def _folder(worker, token):
    folder = _run_folder(worker, token)
    os.makedirs(folder, exist_ok=True)
    return folder


def _cell_path(token, a, b, name):
    import distributed

    return os.path.join(_folder(distributed.get_worker(), token), f"cell-{a}-{b}-{name}.npy")


def _write_whole(path, write):
    """`write(file)` into path.part, then renamed to `path`: a scratch file on the worker's
    disk is there whole or not at all (no fsync: it lives only as long as the run)."""
    with open(path + ".part", "wb") as f:
        write(f)
    os.replace(path + ".part", path)


# The pieces of the cells a worker will build, by (run token, a, b): {chunk: PieceFile},
# waiting on the worker's local disk from their arrival until their cell is built.
PIECES = {}


class PieceFile:
    """A piece (`blocks.split_rows`: row lengths, columns, values) saved on this worker's
    disk, read back each time it is unpacked: dealing a cell (`glove.model.deal_into_blocks`)
    then holds one piece in memory at a time beside the cell, not all of them."""

    def __init__(self, path, piece):
        self.path = path
        _write_whole(path, lambda f: np.savez(f, *piece))

    def __iter__(self):
        with np.load(self.path, allow_pickle=False) as saved:
            return iter([saved[f"arr_{i}"] for i in range(3)])

    def remove(self):
        os.remove(self.path)


def stash_pieces(token, a, chunk, split):
    """Keep the K pieces of one chunk of stripe a's rows (`blocks.split_rows`) on this
    worker's disk until their cells are built."""
    import distributed

    folder = _folder(distributed.get_worker(), token)
    for b, piece in enumerate(split):
        path = os.path.join(folder, f"piece-{a}-{b}-{chunk}.npz")
        PIECES.setdefault((token, a, b), {})[chunk] = PieceFile(path, piece)
    return None


def build_cell(token, a, b, seed):
    """Cell (a, b) from the pieces kept for it (in row order), held in this worker from now
    on; each piece's file is removed once dealt. Returns its non-zeros."""
    with TASK_LOCK:
        held = PIECES.pop((token, a, b), {})
        files = [held.pop(chunk) for chunk in sorted(held)]
        cell = cell_of_pieces(list(files), seed, a, b)
        for piece in files:
            piece.remove()
        CELLS[token, a, b] = cell
        return cell_nnz(cell)


def cell_here(token, a, b):
    """Cell (a, b) as this worker holds it: in memory, else the copy kept on its disk (then
    held in memory from now on: the worker has taken the cell over)."""
    cell = CELLS.get((token, a, b))
    if cell is None:
        paths = [_cell_path(token, a, b, name) for name in CELL_ARRAYS]
        if not all(os.path.exists(path) for path in paths):
            raise W2VError(f"cell ({a}, {b}) of the GloVe counts is neither in this Dask "
                           f"worker's memory nor on its disk")
        cell = tuple(np.load(path, allow_pickle=False) for path in paths)
        CELLS[token, a, b] = cell
    return cell


def cell_part(token, a, b, i, lo, hi):
    """Entries lo:hi of array i (`CELL_ARRAYS`) of cell (a, b), as this worker holds it."""
    return cell_here(token, a, b)[i][lo:hi]


def keep_cell_part(token, a, b, i, lo, size, part):
    """Write `part`, entries lo.. of array i of cell (a, b) (`size` entries in all; None:
    the part is the whole array), into this worker's copy of the cell on its local disk;
    returns the bytes written. A cell is kept a part at a time, so a keeper never holds a
    whole cell of another's in memory."""
    path = _cell_path(token, a, b, CELL_ARRAYS[i]) + ".part"
    if not size:
        with open(path, "wb") as f:
            np.save(f, part, allow_pickle=False)
        return int(part.nbytes)
    mode = "r+" if os.path.exists(path) else "w+"
    copy = np.lib.format.open_memmap(path, mode=mode, dtype=part.dtype, shape=(size,))
    copy[lo:lo + len(part)] = part
    copy.flush()
    del copy
    return int(part.nbytes)


def finish_kept_cell(token, a, b):
    """The copy of cell (a, b) is whole: give its files their names."""
    for name in CELL_ARRAYS:
        path = _cell_path(token, a, b, name)
        os.replace(path + ".part", path)


def drop_cells(token, dask_worker=None):
    """Forget the cells and blocks of run `token` in this worker, memory and disk (run by
    `client.run`, which passes the worker)."""
    import shutil

    for key in [key for key in CELLS if key[0] == token]:
        del CELLS[key]
    for key in [key for key in BLOCKS if key[0] == token]:
        del BLOCKS[key]
    for key in [key for key in PIECES if key[0] == token]:
        del PIECES[key]
    shutil.rmtree(_run_folder(dask_worker, token), ignore_errors=True)


# The word and context blocks a worker holds, by (run token, "word" or "context", index):
# (generation, rows), generation g being the value at the start of the run's sub-epoch g.
# A block is trained in place; its copy for a re-run waits on its keeper's disk.
BLOCKS = {}
BLOCK_SERVER = "w2v_glove_block"
BLOCK_FILE = re.compile(r"(?:word|context)-\d+-g(\d+)\.npy")  # `_block_path`'s names
KEEP_ROWS = 1 << 12  # rows of a block received at a time


def _block_path(worker, token, kind, index, gen):
    return os.path.join(_folder(worker, token), f"{kind}-{index}-g{gen}.npy")


def _block_held(worker, token, kind, index, gen, mapped=False):
    """Block (kind, index) at generation `gen` if this worker has it, in memory or on disk
    (`mapped`: memory-mapped read-only, not read whole), else None."""
    entry = BLOCKS.get((token, kind, index))
    if entry is not None and entry[0] == gen:
        return entry[1]
    path = _block_path(worker, token, kind, index, gen)
    if os.path.exists(path):
        return np.load(path, allow_pickle=False, mmap_mode="r" if mapped else None)
    return None


def serve_blocks(dask_worker=None):
    """Let the other workers ask this one for rows lo:hi of a block it holds (run by
    `client.run`)."""
    from distributed.protocol import to_serialize

    async def serve(comm=None, token=None, kind=None, index=None, gen=None, lo=0, hi=None):
        block = _block_held(dask_worker, token, kind, index, gen, mapped=True)
        if block is None:
            return {"block": None, "rows": 0}
        return {"block": to_serialize(np.array(block[lo:hi])), "rows": len(block)}

    dask_worker.handlers[BLOCK_SERVER] = serve


def _ask(worker, sources, token, kind, index, gen, lo=0, hi=None):
    """Rows lo:hi of block (kind, index) at generation `gen` from the first of the workers
    `sources` that holds it: (rows, the block's length)."""
    from distributed.utils import sync

    for address in sources:
        if address is None or address == worker.address:
            continue
        try:
            reply = sync(worker.loop, worker.rpc(address).w2v_glove_block, token=token,
                         kind=kind, index=index, gen=gen, lo=lo, hi=hi)
        except (OSError, TimeoutError):  # the worker left: try the next
            continue
        if reply["block"] is not None:
            return reply["block"], reply["rows"]
    raise W2VError(f"the GloVe {kind} block {index + 1} is on no Dask worker left "
                   f"(asked {', '.join(a for a in sources if a)}); --resume from the last "
                   f"checkpoint")


def _receive(worker, sources, token, kind, index, gen):
    """Block (kind, index) at generation `gen` from the first of the workers `sources` that
    holds it, KEEP_ROWS rows at a time (never a second whole copy in memory): yields
    (first row, rows, the block's length)."""
    lo = 0
    while True:
        part, length = _ask(worker, sources, token, kind, index, gen, lo, lo + KEEP_ROWS)
        yield lo, part, length
        lo += KEEP_ROWS
        if lo >= length:
            return


def fetch_block(token, kind, index, gen, sources):
    """Block (kind, index) at generation `gen`: this worker's own, else from the first of
    the workers `sources` that has it; returns (rows, bytes received)."""
    import distributed

    worker = distributed.get_worker()
    block = _block_held(worker, token, kind, index, gen)
    if block is not None:
        return block, 0
    received = 0
    for lo, part, length in _receive(worker, sources, token, kind, index, gen):
        if lo == 0:
            block = np.empty((length, *part.shape[1:]), dtype=part.dtype)
        block[lo:lo + len(part)] = part
        received += int(part.nbytes)
    return block, received


def put_rows(token, kind, index, gen, lo, rows, length):
    """Hold `rows` as rows lo.. of block (kind, index) at generation `gen`, `length` rows in
    all, in this worker (the client sends a block a part at a time, first to last)."""
    if lo == 0:
        BLOCKS[token, kind, index] = (gen, np.empty((length, *rows.shape[1:]), rows.dtype))
    BLOCKS[token, kind, index][1][lo:lo + len(rows)] = rows
    return int(rows.nbytes)


def _save_block(path, block):
    _write_whole(path, lambda f: np.save(f, block, allow_pickle=False))


def keep_block(token, kind, index, gen, sources):
    """Write a copy of block (kind, index) at generation `gen` to this worker's disk,
    received a part at a time (a keeper never holds another's whole block); returns the
    bytes received for it."""
    import distributed

    worker = distributed.get_worker()
    path = _block_path(worker, token, kind, index, gen)
    block = _block_held(worker, token, kind, index, gen)
    if block is not None:
        _save_block(path, block)
        return 0
    received = 0
    for lo, part, length in _receive(worker, sources, token, kind, index, gen):
        received += int(part.nbytes)
        if len(part) == length:  # the whole block in one part
            _save_block(path, part)
            return received
        copy = np.lib.format.open_memmap(path + ".part", mode="w+" if lo == 0 else "r+",
                                         dtype=part.dtype, shape=(length, *part.shape[1:]))
        copy[lo:lo + len(part)] = part
        copy.flush()
        del copy
    os.replace(path + ".part", path)
    return received


def spill_blocks(worker, token, kind, keep):
    """Move this worker's blocks of `kind` other than `keep` from its memory to its disk,
    where `fetch_block` still finds them: a cell's task holds in memory only the context
    block it trains, not also the one it trained last, which its next trainer fetches."""
    for key in [key for key in BLOCKS if key[:2] == (token, kind) and key[2] != keep]:
        gen, block = BLOCKS.pop(key)
        path = _block_path(worker, token, kind, key[2], gen)
        if not os.path.exists(path):
            _save_block(path, block)
        del block


def block_part(token, kind, index, gen, lo, hi):
    """Rows lo:hi of block (kind, index) at generation `gen`, the newest, as this worker
    holds it (for the client's checkpoints)."""
    import distributed

    block = _block_held(distributed.get_worker(), token, kind, index, gen, mapped=True)
    if block is None:
        raise W2VError(f"the GloVe {kind} block {index + 1} is not on the Dask worker that "
                       f"trained it last")
    return np.array(block[lo:hi])


def drop_generations(token, below, dask_worker=None):
    """Forget the blocks of run `token` older than generation `below`, memory and disk."""
    for key, (gen, _) in list(BLOCKS.items()):
        if key[0] == token and gen < below:
            del BLOCKS[key]
    folder = _run_folder(dask_worker, token)
    for name in os.listdir(folder) if os.path.isdir(folder) else []:
        kept = BLOCK_FILE.fullmatch(name)
        if kept and int(kept.group(1)) < below:
            os.remove(os.path.join(folder, name))


def train_task(token, gen, seed, epoch, a, b, word_from, context_from, x_max, alpha, eta,
               grad_clip, threads, hosts):
    """Cell (a, b) trained in place on word block a and context block b at generation
    `gen` (taken from here, else from `word_from` / `context_from`), which this worker then
    holds at gen + 1: (cost, updates, skipped, bytes received)."""
    import distributed

    with TASK_LOCK:
        cell = cell_here(token, a, b)
        spill_blocks(distributed.get_worker(), token, "context", b)
        word, got_word = fetch_block(token, "word", a, gen, word_from)
        context, got_context = fetch_block(token, "context", b, gen, context_from)
        result = train_cell(word, context, cell, seed, epoch, a, b, x_max, alpha, eta,
                            grad_clip, worker_threads(threads, hosts))
        BLOCKS[token, "word", a] = (gen + 1, word)
        BLOCKS[token, "context", b] = (gen + 1, context)
        return (*result, got_word + got_context)


def cell_pieces(rows, first_row, lo, hi, start, end, wanted, assign, local, k):
    """The pieces (`blocks.split_rows`) of the rows `wanted` among rows lo:hi of a row range
    left on this worker by counting (its first row `first_row`; those rows' non-zeros are
    start:end), one per column block."""
    lengths, indices, data = rows
    _, picked, picked_indices, picked_data = select_rows(
        (lengths[lo:hi], indices[start:end], data[start:end]), first_row + lo, wanted)
    pieces = split_rows(picked, picked_indices, picked_data, assign, local, k)
    del picked, picked_indices, picked_data
    release_free_memory()  # the copies made on the way
    return pieces


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
    """The blocks on the workers of `client`: what `blocks.train_rotation` drives.

    Row block a is trained on its home worker, which holds the K cells of its stripe in
    memory; a copy of those cells waits on the disk of another worker, its keeper, which
    takes the stripe over if the home is lost. The word and context blocks live in the
    workers' processes too (`BLOCKS`), one generation a sub-epoch: a cell's task trains its
    two blocks in place, taking the context block from the worker that trained it last
    (`fetch_block`), and moving the one it trained before to its disk (`spill_blocks`);
    then the keeper writes a copy of both to its disk (`keep_block`), and a sub-epoch ends
    once every copy is kept. The previous generation is dropped only then, so
    a task lost at any point runs again from the same inputs."""

    def __init__(self, client, model, cooc, members, threads=None, tmp_dir=None):
        self.distributed = import_distributed()
        self.tmp_dir = tmp_dir
        self.saved = (None, -1)  # the last checkpoint's path and generation
        self.client, self.model, self.members, self.threads = client, model, members, threads
        self.k = k = len(members)
        self.token = uuid.uuid4().hex[:12]
        self.hosts = workers_per_host(client)
        self.alive = self._workers()
        if not self.alive:
            raise W2VError("the Dask cluster has no workers")
        self.home = [self.alive[a % len(self.alive)] for a in range(k)]
        self.keeper = [self._keeper_for(a) for a in range(k)]
        self.moved = 0  # bytes of blocks a task received from another worker
        self.at = list(range(k))  # the row block whose home holds each context block
        self.kept = 0  # bytes of word and context blocks keepers received to copy
        self.kept_on_disk = 0  # bytes of count cells written to keepers' disks
        self.unkept = set()  # stripes whose keeper left, to copy to a new one
        self.gen = 0  # the blocks' generation: sub-epochs run
        seed = model.config.seed
        columns = block_columns(members, len(model.vocab))
        self.deal_nnz = deal_chunk(members, model.config.dim)
        client.run(release_free_memory)  # what counting freed and the allocator held back
        if hasattr(cooc, "ranges"):  # rows left on the workers by counting
            stashed = self._pieces_on_cluster(cooc, columns)
        else:  # a matrix or a count file here: dealt out chunk by chunk
            stashed = self._pieces_from_here(cooc, columns)
            if hasattr(cooc, "close"):
                cooc.close()
        del cooc
        self.nnz_of = self._build_cells(stashed, seed)
        client.run(release_free_memory)  # what dealing and building freed
        self.nnz = int(sum(map(sum, self.nnz_of)))
        self._keep_cells(range(k))
        client.run(serve_blocks)
        for kind in MATRICES:
            for a in range(k):
                self._put(kind, a)
        self._wait([self._keep(kind, a, a, self.gen) for a in range(k)
                    for kind in ("word", "context")])

    def _pieces_from_here(self, cooc, columns):
        """Send each cell's pieces to its home, one chunk of rows at a time (the client never
        holds more than a chunk); returns the tasks that hold them there."""
        assign, local = columns
        chunks = (cooc.row_chunks(self.deal_nnz) if hasattr(cooc, "row_chunks")
                  else matrix_row_chunks(cooc, self.deal_nnz))
        stashed = []
        for chunk, (first, lengths, indices, data) in enumerate(chunks):
            for a, wanted in enumerate(self.members):
                _, picked, picked_indices, picked_data = select_rows((lengths, indices, data),
                                                                     first, wanted)
                split = split_rows(picked, picked_indices, picked_data, assign, local, self.k)
                [sent] = self.client.scatter([split], workers=[self.home[a]], hash=False)
                stashed.append(self._stash(a, chunk, sent))
                del split, sent
            release_free_memory()  # else each chunk's copies stay in the allocator's heap
        return stashed

    def _pieces_on_cluster(self, rows, columns):
        """Cut each cell's pieces from the row ranges where counting left them, a chunk of
        rows at a time (`deal_chunk`), and send them to its home; returns the tasks that hold
        them there (the row ranges are released once they are all held)."""
        client, k = self.client, self.k
        assign, local = client.scatter(list(columns), broadcast=True, hash=False)
        members = client.scatter(list(self.members), broadcast=True, hash=False)
        stashed, chunk = [], 0
        for r, f in enumerate(rows.ranges):
            first, end = int(rows.edges[r]), int(rows.edges[r + 1])
            indptr = np.zeros(end - first + 1, dtype=np.int64)
            np.cumsum(rows.row_lengths[first:end], out=indptr[1:])
            for lo, hi in row_chunk_bounds(indptr, self.deal_nnz):
                for a, wanted in enumerate(members):
                    split = client.submit(cell_pieces, f, first, lo, hi, int(indptr[lo]),
                                          int(indptr[hi]), wanted, assign, local, k, pure=False,
                                          key=f"w2v-glove-split-{self.token}-{a}-{chunk}")
                    stashed.append(self._stash(a, chunk, split))
                    del split
                chunk += 1
                if chunk % DEAL_WAVE == 0:  # else a range's worker runs ahead of the stashing
                    check_futures(self.distributed, stashed[-DEAL_WAVE * k:])
        rows.ranges = []
        return stashed

    def _stash(self, a, chunk, split):
        return self.client.submit(stash_pieces, self.token, a, chunk, split,
                                  workers=[self.home[a]], pure=False,
                                  key=f"w2v-glove-stash-{self.token}-{a}-{chunk}")

    def _build_cells(self, stashed, seed):
        """Build every cell on its home worker from the pieces held there; [a][b] its
        non-zeros."""
        client, k = self.client, self.k
        check_futures(self.distributed, stashed)
        del stashed
        builds = [client.submit(build_cell, self.token, a, b, seed, workers=[self.home[a]],
                                key=f"w2v-glove-build-{self.token}-{a}-{b}", pure=False)
                  for a in range(k) for b in range(k)]
        check_futures(self.distributed, builds)
        sizes = client.gather(builds)
        return [sizes[a * k:(a + 1) * k] for a in range(k)]

    def _keeper_for(self, a):
        """The worker after a's home among those alive (None on a cluster of one)."""
        if len(self.alive) < 2:
            return None
        at = self.alive.index(self.home[a]) if self.home[a] in self.alive else a
        return self.alive[(at + 1) % len(self.alive)]

    def _keep_cells(self, stripes):
        """Copy the cells of `stripes` from their home to their keeper's disk, a part of
        CHUNK_NNZ entries at a time (a keeper never holds a whole cell of another's)."""
        client, token = self.client, self.token
        stripes = [a for a in stripes if self.keeper[a] is not None]
        parts = {a: [] for a in stripes}  # (b, array, lo, hi, size) of each part, in turn
        for a in stripes:
            for b in range(self.k):
                nnz = int(self.nnz_of[a][b])
                for i in range(3):  # rows, cols, values: nnz entries each
                    parts[a] += [(b, i, lo, min(lo + CHUNK_NNZ, nnz), nnz)
                                 for lo in (range(0, nnz, CHUNK_NNZ) if nnz else [0])]
                parts[a].append((b, 3, 0, None, None))  # block_starts: small, whole
        for wave in range(max((len(p) for p in parts.values()), default=0)):
            kept = []
            for a in stripes:
                if wave < len(parts[a]):
                    b, i, lo, hi, size = parts[a][wave]
                    part = client.submit(cell_part, token, a, b, i, lo, hi, pure=False,
                                         workers=[self.home[a]],
                                         key=f"w2v-glove-export-{token}-{a}-{b}-{i}-{lo}")
                    kept.append(client.submit(keep_cell_part, token, a, b, i, lo, size, part,
                                              workers=[self.keeper[a]], pure=False,
                                              key=f"w2v-glove-keep-{token}-{a}-{b}-{i}-{lo}"))
                    del part
            check_futures(self.distributed, kept)
            self.kept_on_disk += sum(client.gather(kept))
            del kept
        check_futures(self.distributed, [
            client.submit(finish_kept_cell, token, a, b, workers=[self.keeper[a]], pure=False,
                          key=f"w2v-glove-kept-{token}-{a}-{b}")
            for a in stripes for b in range(self.k)])

    def _workers(self):
        return sorted(cluster_workers(self.client))

    def _put(self, kind, a):
        """Send block (kind, a) of the model to the home of stripe a, CLIENT_ROWS rows at a
        time, each drawn (a fresh model) or read (a resumed one) as it goes."""
        model, members = self.model, self.members[a]
        for lo in range(0, len(members), CLIENT_ROWS):
            rows = model_rows(model.config, model.vocab, getattr(model, kind), kind,
                              members[lo:lo + CLIENT_ROWS])
            sent = self.client.scatter(rows, workers=[self.home[a]], hash=False)
            del rows
            self.client.submit(put_rows, self.token, kind, a, self.gen, lo, sent,
                               len(members), workers=[self.home[a]], pure=False,
                               key=f"w2v-glove-put-{self.token}-{kind}{a}-{lo}").result()
            del sent

    def _keep(self, kind, index, a, gen):
        """Have stripe a's keeper copy block (kind, index) at generation `gen`, held by a's
        home, to its disk; None on a cluster of one."""
        if self.keeper[a] is None:
            return None
        return self.client.submit(
            keep_block, self.token, kind, index, gen, [self.home[a]],
            workers=[self.keeper[a]], pure=False,
            key=f"w2v-glove-keep-{self.token}-{gen}-{kind}{index}-{uuid.uuid4().hex[:6]}")

    def _wait(self, futures):
        futures = [f for f in futures if f is not None]
        check_futures(self.distributed, futures)
        self.kept += sum(self.client.gather(futures))

    def _train(self, epoch, s, a, b, attempt, holder):
        """Submit cell (a, b) to a's home; `holder` is the stripe whose home held context
        block b when the sub-epoch began."""
        config = self.model.config
        again = f"-again{attempt}" if attempt else ""
        return self.client.submit(
            train_task, self.token, self.gen, config.seed, epoch, a, b,
            [self.home[a], self.keeper[a]], [self.home[holder], self.keeper[holder]],
            config.x_max, config.alpha, config.eta, config.grad_clip, self.threads,
            self.hosts, key=f"w2v-glove-{self.token}-{epoch}-{s}-{a}{again}",
            workers=[self.home[a]], pure=False)

    def sub_epoch(self, epoch, s, on_cell=None):
        """Run sub-epoch s: each cell trained, then its blocks copied to its keeper; a cell
        whose home leaves before both copies are kept runs again on the keeper from the
        blocks it started from. Returns [(cost, updates, skipped, nnz)] by row block."""
        config = self.model.config
        self._check_workers(epoch, s)
        self._keep_again()
        cells = dict(schedule(self.k, s, config.seed, epoch))
        holder = {b: self.at[b] for b in cells.values()}  # as the sub-epoch began
        attempts = dict.fromkeys(cells, 0)
        results = {}
        tasks = {self._train(epoch, s, a, b, 0, holder[b]): ("train", a)
                 for a, b in cells.items()}
        checked = time.monotonic()
        while tasks:
            done = [future for future in tasks if future.done()]
            if not done:
                time.sleep(0.02)
            for future in done:
                what, a = tasks.pop(future)
                check_futures(self.distributed, [future])
                if what == "train":
                    *result, received = future.result()
                    self.moved += received
                    results[a] = (*result, self.nnz_of[a][cells[a]])
                    self._keep_trained(tasks, a, cells[a])
                    if on_cell is not None:
                        on_cell(self.nnz_of[a][cells[a]])
                else:
                    self.kept += future.result()
            if not tasks or time.monotonic() - checked < POLL_SECONDS:
                continue
            checked = time.monotonic()
            keepers = list(self.keeper)
            moved = self._check_workers(epoch, s)
            if moved or keepers != self.keeper:
                self._rerun(epoch, s, moved, tasks, cells, holder, attempts, results)
        self.gen += 1
        for a, b in cells.items():
            self.at[b] = a
        self.client.run(drop_generations, self.token, self.gen)
        return [results[a] for a in range(self.k)]

    def _rerun(self, epoch, s, moved, tasks, cells, holder, attempts, results):
        """After workers left: the cells of the stripes that moved run again on their new
        home, and the copies a keeper that left was to write go to the new keeper."""
        for future, (what, a) in list(tasks.items()):
            if a in moved or what == "keep":
                future.cancel()
                del tasks[future]
        for a in cells:
            if a in moved:  # its blocks' new generation may be lost with the home
                results.pop(a, None)
                attempts[a] += 1
                tasks[self._train(epoch, s, a, cells[a], attempts[a], holder[cells[a]])] = \
                    ("train", a)
            elif a in results:  # trained: its copies go to its keeper (again)
                self._keep_trained(tasks, a, cells[a])

    def _keep_trained(self, tasks, a, b):
        """Add to `tasks` the copies of cell (a, b)'s blocks, as trained, to a's keeper."""
        for kind, index in (("word", a), ("context", b)):
            kept = self._keep(kind, index, a, self.gen + 1)
            if kept is not None:
                tasks[kept] = ("keep", a)

    def _check_workers(self, epoch, s):
        """Follow workers leaving and joining: a one-line note for each that left; a stripe
        whose home left moves to its keeper, and a stripe without a live keeper gets a new
        one (its cells copied there). Returns the stripes that moved."""
        now = self._workers()
        gone = [w for w in self.alive if w not in now]
        if gone:
            log.warning("Dask worker %s left during epoch %d, sub-epoch %d; its cells ran "
                        "again on another worker from the kept copies", ", ".join(gone),
                        epoch + 1, s + 1)
        if not gone and now == self.alive:
            return set()
        self.alive = now
        moved = set()
        for a in range(self.k):
            if self.home[a] not in now:
                if self.keeper[a] not in now:
                    raise W2VError(f"the Dask workers holding row block {a + 1} of {self.k} "
                                   f"({self.home[a]} and its copy on {self.keeper[a]}) have "
                                   f"both left; --resume from the last checkpoint")
                self.home[a], self.keeper[a] = self.keeper[a], None
                moved.add(a)
        for a in range(self.k):
            if self.keeper[a] not in now:
                self.keeper[a] = self._keeper_for(a)  # None while one worker is left
                if self.keeper[a] is not None:
                    self.unkept.add(a)
        return moved

    def _keep_again(self):
        """Copy the cells and blocks of the stripes that lost their keeper to their new
        one."""
        if self.unkept:
            stripes = sorted(self.unkept)
            self._keep_cells(stripes)
            self._wait([self._keep("word", a, a, self.gen) for a in stripes] +
                       [self._keep("context", b, a, self.gen)
                        for b, a in enumerate(self.at) if a in self.unkept])
            self.unkept = set()

    def save(self, model, path):
        """Write the model file to `path`, its matrices CLIENT_ROWS rows at a time from the
        blocks' workers (the client never holds a whole matrix)."""
        shape = (len(model.vocab), 2 * (model.config.dim + 1))
        save_model(model, path, {kind: Streamed(shape, np.float32,
                                                lambda kind=kind: self._row_slices(kind))
                                 for kind in MATRICES})
        self.saved = (path, self.gen)

    def _holder(self, kind, index):
        """The worker holding block (kind, index) now."""
        return self.home[index if kind == "word" else self.at[index]]

    def _row_slices(self, kind):
        """`_slices(kind)`, a lost cluster raised as `LostDuringSave`."""
        try:
            yield from self._slices(kind)
        except LOST as e:
            raise LostDuringSave(e) from e

    def _slices(self, kind):
        """The rows of matrix `kind` in vocabulary order, CLIENT_ROWS at a time: each block's
        members in a slice are a range of its rows (they are sorted), asked of its worker;
        the next slice is asked for while this one is written."""
        n_words, width = len(self.model.vocab), 2 * (self.model.config.dim + 1)
        asked = self._ask_rows(kind, 0, CLIENT_ROWS)
        for lo in range(0, n_words, CLIENT_ROWS):
            parts = asked
            check_futures(self.distributed, [f for _, _, f in parts])
            if lo + CLIENT_ROWS < n_words:
                asked = self._ask_rows(kind, lo + CLIENT_ROWS, lo + 2 * CLIENT_ROWS)
            rows = np.empty((min(lo + CLIENT_ROWS, n_words) - lo, width), dtype=np.float32)
            for b, (i, j), future in parts:
                rows[self.members[b][i:j] - lo] = future.result()
                future.release()
            del parts
            yield rows

    def _ask_rows(self, kind, lo, hi):
        """[(block, its rows (i, j), the task returning them)] for words lo:hi."""
        asked = []
        for b, m in enumerate(self.members):
            i, j = np.searchsorted(m, [lo, hi]).tolist()
            if j > i:
                asked.append((b, (i, j), self.client.submit(
                    block_part, self.token, kind, b, self.gen, i, j, pure=False,
                    workers=[self._holder(kind, b)],
                    key=f"w2v-glove-get-{self.token}-{self.gen}-{kind}{b}-{lo}-"
                        f"{uuid.uuid4().hex[:6]}")))
        return asked

    def gather(self):
        """Point the model's matrices at the blocks' newest rows, memory-mapped read-only
        from a model file: the last checkpoint where it holds them, else one written for
        this in a scratch folder of `tmp_dir` (unlinked once mapped)."""
        path, gen = self.saved
        if path is not None and gen == self.gen and os.path.isfile(path):
            self._map(path)
            return
        folder = tempfile.mkdtemp(prefix="w2v-glove-", dir=self.tmp_dir)
        try:
            path = os.path.join(folder, "model.w2v")
            self.save(self.model, path)
            self._map(path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _map(self, path):
        """The model's matrices, memory-mapped read-only from the model file `path`."""
        model = self.model
        with ModelFile(path) as file:
            model.word, model.context = (
                file.matrix(kind, len(model.vocab), 2 * (model.config.dim + 1), mmap=True)
                for kind in MATRICES)

    def worker_memory(self):
        """{worker: process memory in bytes} as the scheduler last heard it."""
        workers = cluster_workers(self.client)
        return {w: int(info.get("metrics", {}).get("memory", 0)) for w, info in workers.items()}

    def close(self):
        try:
            self.client.run(drop_cells, self.token)
        except Exception:  # noqa: BLE001 - tidying a cluster that may be gone
            pass


def deal_chunk(members, dim):
    """Non-zeros of a chunk of counts dealt out at once: DEAL_NNZ, or fewer where a chunk
    and its working copies would outgrow one column block (the rows of the largest block,
    vectors, biases and their AdaGrad sums)."""
    block_bytes = max(map(len, members)) * 2 * (dim + 1) * 4
    return int(min(DEAL_NNZ, max(1 << 12, block_bytes // DEAL_BYTES_PER_NNZ)))


def matrix_row_chunks(cooc, nnz_per_chunk):
    """`CountFile.row_chunks` of a CSR matrix in memory."""
    cooc = cooc.tocsr()
    indptr = cooc.indptr
    for first, end in row_chunk_bounds(indptr, nnz_per_chunk):
        lo, hi = indptr[first], indptr[end]
        yield first, np.diff(indptr[first:end + 1]), cooc.indices[lo:hi], cooc.data[lo:hi]


def cluster_blocks(client, blocks):
    """K for a run on `client`: `blocks`, else its number of workers."""
    if blocks is not None:
        return blocks
    return max(1, len(cluster_workers(client)))


def train_on_cluster(model, cooc, client, *, blocks=None, threads=None, progress=False,
                     until=None, save_to=None, checkpoint_every=CHECKPOINT_EVERY, loss_log=None,
                     source=None, stats=None, tmp_dir=None):
    """`blocks.train_rotation` with the cells on the workers of `client` (a
    `distributed.Client`); K is `blocks`, else the number of workers. Every worker must
    run this w2v's version. Losing the scheduler is a one-line W2VError (the model file
    keeps its last checkpoint). `stats`, if a dict, receives the bytes moved and the
    workers' memory.

    The model's matrices may be None (`init_model(draw=False)`: drawn a block at a time) or
    memory-mapped (`resumable(mmap=True)`); once trained they are memory-mapped read-only
    from `save_to`, or from a file written for that in `tmp_dir` and unlinked."""
    import w2v

    mine = w2v.__version__
    try:
        check_versions(worker_versions(client), mine)
        k = cluster_blocks(client, blocks)
        made = []

        def runner(model, cooc, members):
            made.append(ClusterBlocks(client, model, cooc, members, threads, tmp_dir))
            return made[0]

        train_rotation(model, cooc, k, runner=runner, progress=progress, until=until,
                       save_to=save_to, checkpoint_every=checkpoint_every, loss_log=loss_log,
                       source=source)
        if stats is not None and made:
            stats.update(blocks=k, moved_bytes=made[0].moved, kept_bytes=made[0].kept,
                         kept_on_disk_bytes=made[0].kept_on_disk,
                         worker_memory=made[0].worker_memory())
    except (*LOST, LostDuringSave) as e:
        lost = e.__cause__ if isinstance(e, LostDuringSave) else e
        kept = f"; {save_to} keeps the last checkpoint (--resume it)" if save_to else ""
        why = " ".join(str(lost).split())
        why = why if len(why) <= 120 else why[:117] + "..."
        raise W2VError(f"lost the Dask cluster in epoch {model.position.epoch + 1} "
                       f"({type(lost).__name__}: {why}){kept}") from None
    return model


def prepare_on_cluster(client, inputs=None, config=None, *, cooccur=None, resume=None,
                       save_cooccur=None, memory=None, tmp_dir=None, threads=None,
                       progress=False, **options):
    """`model.prepare` for a cluster run: a corpus is counted on `client` and its counts are
    left on the workers (a `distributed.ClusterRows`), unless they are to be saved; a count
    file is opened, not read whole (a `cooccur.file.CountFile`, dealt out to the workers a
    chunk of rows at a time)."""
    from ..checkpoints import check_same_corpus
    from ..distributed import cooccurrence_counts

    model = resume
    if model is not None:
        config = model.config
    inputs, cooccur = recorded_source(model, inputs, cooccur)
    if cooccur or save_cooccur:
        from ..cooccur.file import open_cooccur

        return prepare(inputs, config, cooccur=cooccur, resume=model, memory=memory,
                       tmp_dir=tmp_dir, save_cooccur=save_cooccur, threads=threads,
                       progress=progress, dask=client, read_counts=open_cooccur, draw=False,
                       **options)
    rows, vocab, counted = cooccurrence_counts(
        inputs, **config.corpus_options(), vocab=None if model is None else model.vocab,
        window=config.window, weighting=config.weighting, memory_gb=memory, threads=threads,
        tmp_dir=tmp_dir, dask=client, progress=progress, gather=False)
    record = {"tokens": counted["tokens"], "sentences": counted["sentences"],
              "fingerprint": None, "inputs": counted["inputs"]}
    if model is None:
        model = init_model(config, vocab, draw=False)
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
    (`blocks.train_rotation`). The model's matrices come back memory-mapped read-only from
    its file (`train_on_cluster`).
    """
    if blocks is not None:
        check_blocks(blocks, None)
    model = resumable(resume, mmap=True) if resume is not None else None
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
                                source=source, stats=stats, tmp_dir=counting.get("tmp_dir"))
