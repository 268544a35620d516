"""The memory of a `w2v glove --dask` run's client and workers, phase by phase.

Trains GloVe (dim 100, window 10, seed 1, $EPOCHS epochs, default 1) by rotation over K
blocks on a count file, on a LocalCluster of K workers x 1 thread, with a checkpoint every
sub-epoch, then writes the sum vectors as `-o` does. After each phase it prints the client's
and the workers' peak (`VmHWM`, reset after every phase), resident memory (`VmRSS`) and its
anonymous and file-backed parts (`RssAnon`, `RssFile`), in MB, and the size of one column
block. Linux only (it reads and resets /proc/self). Run by hand:

    EPOCHS=1 PYTHONPATH=. python benchmarks/glove_dask_memory.py COUNTS.npz K [MODEL.w2v]
    EPOCHS=1 PYTHONPATH=. python benchmarks/glove_dask_memory.py CORPUS.txt K [MODEL.w2v]

Given a corpus instead of a count file, it is counted on the cluster first and its counts
stay on the workers, as `w2v glove CORPUS --dask` does (no RESUME).

STOP=1 stops after the first sub-epoch (its checkpoint in MODEL.w2v); RESUME=1 resumes
MODEL.w2v instead of starting afresh; TRIM=1 also prints the client after setup once Python
and the allocator have returned what they can (`gc.collect`, `malloc_trim`). Against a tree
older than the client's part-at-a-time model, the model is made and resumed whole.
"""

import ctypes
import gc
import os
import sys
import tempfile
import time

import distributed

from w2v import checkpoints
from w2v.config import GloveConfig
from w2v.cooccur.file import open_cooccur
from w2v.files.formats import save_vectors
from w2v.glove import blocks
from w2v.glove import cluster as glove_cluster
from w2v.glove.model import init_model, resumable
from w2v.runtime.rng import initial_vectors

FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile")


def memory(dask_worker=None):
    """This process's FIELDS in MB; its peak is reset to its resident memory after."""
    with open("/proc/self/status") as status:
        found = {line.split(":")[0]: int(line.split()[1]) // 1024 for line in status
                 if line.startswith(FIELDS)}
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return found


def show(phase, client):
    """One line: the client's memory, then the workers' range of each field."""
    mine = memory()
    theirs = list(client.run(memory).values())
    spans = {f: f"{min(w[f] for w in theirs)}-{max(w[f] for w in theirs)}" for f in FIELDS}
    print(f"{phase}: client " + " ".join(f"{f} {mine[f]}" for f in FIELDS)
          + " | workers " + " ".join(f"{f} {spans[f]}" for f in FIELDS), flush=True)


def watch(client):
    """Print the memory when dealing starts, after the cells are built, after setup and
    after each sub-epoch."""
    for name in ("_pieces_from_here", "_pieces_on_cluster"):
        def dealing(self, *args, _deal=getattr(glove_cluster.ClusterBlocks, name)):
            show("the start of dealing (RSS)", client)
            return _deal(self, *args)

        setattr(glove_cluster.ClusterBlocks, name, dealing)
    build = glove_cluster.ClusterBlocks._keep_cells

    def kept(self, stripes):
        if len(stripes) == self.k:  # the first call: the cells just built
            show("dealing the counts, building the cells", client)
        build(self, stripes)

    setup = glove_cluster.ClusterBlocks.__init__

    def set_up(self, *args, **kwargs):
        setup(self, *args, **kwargs)
        show("sending the blocks", client)
        if os.environ.get("TRIM"):
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            show("  then gc.collect and malloc_trim", client)

    after = checkpoints.Checkpoints.after_launch

    def launched(self, epoch_ended):
        saved = after(self, epoch_ended)
        show(f"a sub-epoch{' and its checkpoint' if saved else ''}", client)
        return saved

    glove_cluster.ClusterBlocks._keep_cells = kept
    glove_cluster.ClusterBlocks.__init__ = set_up
    checkpoints.Checkpoints.after_launch = launched


def settings():
    return GloveConfig(dim=100, epochs=int(os.environ.get("EPOCHS", "1")), window=10, seed=1)


def start(path, vocab):
    """The model to train: MODEL.w2v resumed (RESUME=1), else a fresh one."""
    if os.environ.get("RESUME"):
        try:
            return resumable(path, mmap=True)
        except TypeError:  # an older tree
            return resumable(path)
    config = settings()
    try:
        return init_model(config, vocab, draw=False)
    except TypeError:  # an older tree
        return init_model(config, vocab)


def main():
    source, k = sys.argv[1], int(sys.argv[2])
    path = sys.argv[3] if len(sys.argv) > 3 else os.path.join(tempfile.mkdtemp(), "m.w2v")
    with distributed.LocalCluster(n_workers=k, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local, \
            distributed.Client(local) as client:
        initial_vectors(["a"], 2, 1, -0.5, 0.5)  # numba's kernels loaded, as any init does
        if source.endswith(".npz"):
            counts, vocab, _ = open_cooccur(source)
            model = start(path, vocab)
            show("the model made (or opened)", client)
        else:  # a corpus: counted on the workers, where its counts stay
            model, counts, _ = glove_cluster.prepare_on_cluster(client, [source],
                                                                settings())
            vocab = model.vocab
            show("the corpus counted on the cluster, the model made", client)
        members = blocks.block_members(blocks.deal_words(counts.row_lengths, k), k)
        watch(client)
        started = time.perf_counter()
        glove_cluster.train_on_cluster(model, counts, client, blocks=k, threads=1,
                                       save_to=path, checkpoint_every=0,
                                       until=(0, 1) if os.environ.get("STOP") else None)
        show(f"the end of training ({time.perf_counter() - started:.0f} s)", client)
        vectors = model.row_vectors() if hasattr(model, "row_vectors") else model.vectors()
        save_vectors(vectors, path + ".vectors.bin", binary=True)
        del vectors
        show("writing the sum vectors (-o)", client)
        rows, width = max(map(len, members)), 2 * (model.config.dim + 1)
        print(f"one column block: {rows} rows x {width} x 4 bytes = {rows * width * 4 / 1e6:.1f}"
              f" MB; the whole model {2 * len(vocab) * width * 4 / 1e6:.1f} MB; its matrices "
              f"returned as {type(model.word).__name__}", flush=True)


if __name__ == "__main__":
    main()
