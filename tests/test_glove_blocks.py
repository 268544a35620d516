"""GloVe by block rotation: the schedule in one process (`glove.blocks`) and on a Dask
cluster (`glove.cluster`, `w2v glove --dask`), to the same bits with one thread a worker."""

import logging
import os
import signal
import sys

import numpy as np
import pytest

from w2v.cli import main
from w2v.config import GloveConfig
from w2v.cooccur.counts import cooccurrence_matrix
from w2v.cooccur.file import CountFile, save_cooccur
from w2v.corpus.corpus import load_corpus
from w2v.errors import OptionError, W2VError
from w2v.glove import blocks as rotation
from w2v.glove.model import init_model, load_model, save_model, train

SMALL = {"dim": 8, "epochs": 3, "seed": 4, "window": 5}


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    """A Zipf text of 800 words: about 50k non-zeros at window 5."""
    rng = np.random.default_rng(3)
    n_words = 800
    p = 1 / np.arange(1, n_words + 1)
    lines = [" ".join(f"w{i}" for i in rng.choice(n_words, 12, p=p / p.sum()))
             for _ in range(2500)]
    root = tmp_path_factory.mktemp("rotation")
    text = root / "zipf.txt"
    text.write_text("\n".join(lines) + "\n")
    corpus = load_corpus([str(text)], min_count=1)
    cooc = cooccurrence_matrix(corpus, window=5, threads=1)
    path = root / "counts.npz"
    save_cooccur(path, cooc, corpus.vocab, 5, "harmonic")
    return str(text), str(path), corpus.vocab, cooc


def _run(vocab, cooc, k, **kwargs):
    return rotation.train_rotation(init_model(GloveConfig(**SMALL), vocab), cooc, k, **kwargs)


# --------------------------------------------------------------------------- one process


def test_words_are_dealt_by_rank_to_the_lightest_block():
    row_nnz = np.array([100, 90, 80, 5, 5, 5, 4, 3, 2, 1, 1, 1])
    assign = rotation.deal_words(row_nnz, 3)
    assert assign[:3].tolist() == [0, 1, 2]  # the first K as rank mod K
    loads = np.bincount(assign, weights=row_nnz, minlength=3)
    assert loads.max() - loads.min() <= row_nnz[3:].max()
    members = rotation.block_members(assign, 3)
    assert sorted(np.concatenate(members).tolist()) == list(range(len(row_nnz)))


def test_a_sub_epoch_touches_disjoint_rows_and_an_epoch_every_cell_once():
    k = 5
    firsts = set()
    for epoch in range(6):
        seen = set()
        for s in range(k):
            cells = rotation.schedule(k, s, seed=1, epoch=epoch)
            assert len({a for a, _ in cells}) == len({b for _, b in cells}) == k
            seen.update(cells)
        assert seen == {(a, b) for a in range(k) for b in range(k)}
        firsts.add(rotation.schedule(k, 0, seed=1, epoch=epoch)[0])
    assert len(firsts) > 1  # the strata come in another order each epoch


def test_the_cells_hold_every_non_zero_once(counts):
    cooc = counts[3]
    members = rotation.block_members(rotation.deal_words(np.diff(cooc.indptr), 3), 3)
    total = 0.0
    for a in range(3):
        for b, (rows, cols, values, _) in enumerate(rotation.stripe_cells(cooc, members, a, 1)):
            assert np.array_equal(cooc[members[a][rows], members[b][cols]].A1, values)
            total += values.sum(dtype=np.float64)
    assert len(values) and total == pytest.approx(cooc.sum(dtype=np.float64))


def test_rows_dealt_a_piece_at_a_time_are_dealt_as_the_whole_matrix(counts):
    from w2v.glove.model import deal_into_blocks

    cooc = counts[3].tocsr()
    state = np.uint64(2**64 - 5)  # beyond int64: the state must stay unsigned between pieces
    whole = deal_into_blocks([(np.diff(cooc.indptr), cooc.indices, cooc.data)], state)
    cuts = [0, 1, 300, 300, 301, cooc.shape[0]]
    pieces = [(np.diff(cooc[lo:hi].indptr), cooc[lo:hi].indices, cooc[lo:hi].data)
              for lo, hi in zip(cuts[:-1], cuts[1:])]
    dealt = deal_into_blocks(pieces, state)
    assert all(np.array_equal(x, y) for x, y in zip(whole, dealt))
    assert len(whole[3]) > 2 and whole[3][-1] == np.count_nonzero(cooc.data > 0)


def test_select_rows_picks_a_row_ranges_rows_of_a_block(counts):
    from w2v.distributed.pairs import select_rows

    cooc = counts[3]
    first, end = 100, 400
    part = cooc[first:end]
    rows = (np.diff(part.indptr), part.indices.astype(np.int64), part.data)
    wanted = np.arange(3, 800, 7)
    ids, lengths, indices, data = select_rows(rows, first, wanted)
    assert ids.tolist() == [w for w in wanted.tolist() if first <= w < end]
    picked = cooc[ids]
    assert lengths.tolist() == np.diff(picked.indptr).tolist()
    assert indices.tolist() == picked.indices.tolist() and data.tolist() == picked.data.tolist()


def test_rotation_learns_as_one_process_does(counts):
    _, _, vocab, cooc = counts
    one = train(init_model(GloveConfig(**SMALL), vocab), cooc, threads=1)
    blocks = _run(vocab, cooc, 3, threads=1)
    again = _run(vocab, cooc, 3, threads=1)
    assert again.word.tobytes() == blocks.word.tobytes()
    assert not np.array_equal(blocks.word, one.word)  # another valid order of the updates
    costs = [e["cost"] for e in blocks.losses]
    assert costs[-1] < costs[0]
    assert costs[-1] == pytest.approx(one.losses[-1]["cost"], rel=0.05)


def test_stopped_at_a_sub_epoch_boundary_saved_and_resumed_is_byte_identical(counts, tmp_path):
    _, _, vocab, cooc = counts
    unbroken = _run(vocab, cooc, 3, threads=1)
    model = _run(vocab, cooc, 3, threads=1, until=(1, 2))
    assert (model.position.epoch, model.position.launch, model.position.rotation) == (1, 2, 3)
    save_model(model, tmp_path / "m.w2v")
    resumed = rotation.train_rotation(load_model(tmp_path / "m.w2v"), cooc, 3, threads=1)
    assert resumed.word.tobytes() == unbroken.word.tobytes()
    assert resumed.context.tobytes() == unbroken.context.tobytes()
    assert [e["cost"] for e in resumed.losses] == [e["cost"] for e in unbroken.losses]
    with pytest.raises(OptionError, match="resume it with --blocks 3"):
        rotation.train_rotation(load_model(tmp_path / "m.w2v"), cooc, 2, threads=1)
    with pytest.raises(OptionError, match="resume it with --blocks 3"):
        train(load_model(tmp_path / "m.w2v"), cooc, threads=1)


def test_a_model_file_streamed_a_slice_of_rows_at_a_time_is_the_file_save_model_writes(
        counts, tmp_path, monkeypatch):
    from w2v.files import container

    monkeypatch.setattr(container, "_clock", lambda: (2026, 1, 2, 3, 4, 6))
    _, _, vocab, cooc = counts
    model = _run(vocab, cooc, 2, threads=1, until=(1, 1))

    def streamed(step, rows=None):
        rows = rows or len(vocab)
        return {kind: container.Streamed(
            getattr(model, kind).shape, np.float32,
            lambda kind=kind: (getattr(model, kind)[i:i + step] for i in range(0, rows, step)))
            for kind in ("word", "context")}

    save_model(model, tmp_path / "whole.w2v")
    save_model(model, tmp_path / "streamed.w2v", streamed(77))
    assert (tmp_path / "streamed.w2v").read_bytes() == (tmp_path / "whole.w2v").read_bytes()
    with pytest.raises(ValueError, match="799 rows streamed"):
        save_model(model, tmp_path / "short.w2v", streamed(1, len(vocab) - 1))
    assert sorted(os.listdir(tmp_path)) == ["streamed.w2v", "whole.w2v"]  # no stray file


def test_the_output_vectors_written_a_slice_at_a_time_are_the_whole_matrixs(counts, tmp_path):
    from w2v.files.formats import save_vectors

    _, _, vocab, cooc = counts
    model = _run(vocab, cooc, 2, threads=1, until=(0, 1))
    for which in ("sum", "word"):
        for binary in (True, False):
            save_vectors(model.vectors(which), tmp_path / "whole", binary=binary)
            save_vectors(model.row_vectors(which), tmp_path / "rows", binary=binary)
            assert (tmp_path / "rows").read_bytes() == (tmp_path / "whole").read_bytes()
    model.word[5, 0] = np.nan
    with pytest.raises(W2VError, match="1 vectors have non-finite values"):
        save_vectors(model.row_vectors(), tmp_path / "bad")


def test_cli_interrupted_at_a_sub_epoch_boundary_resumes_to_the_same_bits(counts, tmp_path,
                                                                          monkeypatch):
    _, path, _, _ = counts
    common = ["glove", "--read-cooccur", path, "--dim", "8", "--epochs", "3", "--threads",
              "1", "--blocks", "2", "-q"]
    assert main([*common, "-o", str(tmp_path / "whole.txt")]) == 0
    real = rotation.LocalBlocks.sub_epoch
    calls = []

    def interrupted(self, epoch, s, on_cell=None):
        calls.append((epoch, s))
        if len(calls) == 3:  # SIGINT arrives in epoch 2's first sub-epoch
            os.kill(os.getpid(), signal.SIGINT)
        return real(self, epoch, s, on_cell)

    monkeypatch.setattr(rotation.LocalBlocks, "sub_epoch", interrupted)
    assert main([*common, "-o", str(tmp_path / "cut.txt"), "--save-model",
                 str(tmp_path / "m.w2v")]) == 130
    saved = load_model(tmp_path / "m.w2v").position
    assert (saved.epoch, saved.launch, saved.rotation) == (1, 1, 2)
    monkeypatch.undo()
    assert main(["glove", "--resume", str(tmp_path / "m.w2v"), "-o",
                 str(tmp_path / "cut.txt"), "--threads", "1", "-q"]) == 0
    assert (tmp_path / "cut.txt").read_bytes() == (tmp_path / "whole.txt").read_bytes()


def test_options_rotation_cannot_honour_are_usage_errors(counts, tmp_path, capsys):
    text, path, vocab, cooc = counts
    out = str(tmp_path / "v.txt")
    assert main(["glove", "--read-cooccur", path, "--blocks", "0", "-o", out]) == 2
    assert main(["glove", "-", "--dask", "-o", out]) == 2
    assert "not stdin" in capsys.readouterr().err
    assert main(["glove", text, "--dask", "--phrases", "1", "-o", out]) == 2
    assert "--phrases runs in one process" in capsys.readouterr().err
    model = train(init_model(GloveConfig(**SMALL), vocab), cooc, threads=1, until=(1, 1))
    save_model(model, tmp_path / "one.w2v")
    capsys.readouterr()
    assert main(["glove", "--resume", str(tmp_path / "one.w2v"), "--blocks", "2", "-o",
                 out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "one-process run" in err[0]
    model = _run(vocab, cooc, 3, threads=1, until=(0, 1))
    save_model(model, tmp_path / "three.w2v")
    capsys.readouterr()
    assert main(["glove", "--resume", str(tmp_path / "three.w2v"), "--blocks", "2", "-o",
                 out]) == 2
    assert "--blocks 3, not 2" in capsys.readouterr().err
    assert not os.path.exists(out)


def test_another_version_on_a_worker_is_named():
    from w2v.glove.cluster import check_versions

    check_versions({"tcp://a:1": "1.0", "tcp://b:2": "1.0"}, "1.0")
    with pytest.raises(W2VError, match="tcp://b:2 runs w2v 0.9, this client w2v 1.0"):
        check_versions({"tcp://a:1": "1.0", "tcp://b:2": "0.9"}, "1.0")
    with pytest.raises(W2VError, match="cannot import w2v"):
        check_versions({"tcp://a:1": None}, "1.0")


# --------------------------------------------------------------------------- on a cluster


distributed = pytest.importorskip("distributed")


class _KillInEpochTwo(distributed.WorkerPlugin):
    """SIGKILLs its worker as a training task of epoch 2 starts, once (a marker file says
    it happened), so the task runs again on the other worker."""

    def __init__(self, marker):
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        name = key if isinstance(key, str) else str(key)
        if finish == "executing" and name.startswith("w2v-glove-") and name.endswith("-1-1-1"):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)


def test_a_cluster_run_equals_the_schedule_in_one_process_and_survives_a_killed_worker(
        counts, tmp_path, caplog):
    import cloudpickle

    from w2v.glove.cluster import train_on_cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    _, _, vocab, cooc = counts
    expected = _run(vocab, cooc, 2, threads=1)
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        stats = {}
        model = init_model(GloveConfig(**SMALL), vocab)
        train_on_cluster(model, cooc, client, threads=1, stats=stats)
        assert model.word.tobytes() == expected.word.tobytes()
        assert model.context.tobytes() == expected.context.tobytes()
        assert [e["cost"] for e in model.losses] == [e["cost"] for e in expected.losses]
        assert stats["blocks"] == 2 and stats["kept_bytes"] > 0

        _, path, _, _ = counts
        model = init_model(GloveConfig(**SMALL), vocab)
        train_on_cluster(model, CountFile(path), client, threads=1)  # read a chunk at a time
        assert model.word.tobytes() == expected.word.tobytes()

        client.register_plugin(_KillInEpochTwo(str(marker)))
        model = init_model(GloveConfig(**SMALL), vocab)
        with caplog.at_level(logging.WARNING, logger="w2v"):
            train_on_cluster(model, cooc, client, blocks=2, threads=1)
        assert marker.exists()  # a worker died in epoch 2, sub-epoch 2
        assert model.word.tobytes() == expected.word.tobytes()
        notes = [r.getMessage() for r in caplog.records if "left during" in r.getMessage()]
        assert len(notes) == 1 and "epoch 2, sub-epoch 2" in notes[0]


def test_three_workers_pass_blocks_between_them_in_parts_to_the_same_bits(counts):
    import cloudpickle

    from w2v.glove.cluster import train_on_cluster

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    _, _, vocab, cooc = counts
    expected = _run(vocab, cooc, 3, threads=1)
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.run(_keep_rows, 50)  # blocks of about 270 rows sent 50 rows at a time
        stats = {}
        model = init_model(GloveConfig(**SMALL), vocab)
        train_on_cluster(model, cooc, client, threads=1, stats=stats)
    assert model.word.tobytes() == expected.word.tobytes()
    assert model.context.tobytes() == expected.context.tobytes()
    assert stats["blocks"] == 3 and stats["moved_bytes"] > 0  # fetched from another worker


def _cells_held(token, dask_worker=None):
    from w2v.glove.cluster import BLOCKS, CELLS

    folder = os.path.join(dask_worker.local_directory, f"w2v-glove-{token}")
    on_disk = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    return (sorted([a, b] for t, a, b in CELLS if t == token),
            sorted([kind, i, gen] for (t, kind, i), (gen, _) in BLOCKS.items() if t == token),
            on_disk)


def _cell_files(a):
    return [f"cell-{a}-{b}-{name}.npy" for b in (0, 1)
            for name in ("rows", "cols", "values", "block_starts")]


def _keep_rows(rows):
    from w2v.glove import cluster

    cluster.KEEP_ROWS = rows


def _block_digest(token, kind, index, gen, dask_worker=None):
    import hashlib

    from w2v.glove.cluster import _block_held

    block = _block_held(dask_worker, token, kind, index, gen)
    return hashlib.sha256(np.ascontiguousarray(block).tobytes()).hexdigest(), block.shape


def _pieces_held(token):
    from w2v.glove.cluster import PIECES

    return [key for key in PIECES if key[0] == token]


def _cell_digest(token, a, b, dask_worker=None):
    import hashlib

    from w2v.glove.cluster import CELLS

    if (token, a, b) in CELLS:
        arrays = CELLS[token, a, b]
    else:
        folder = os.path.join(dask_worker.local_directory, f"w2v-glove-{token}")
        arrays = [np.load(os.path.join(folder, name)) for name in _cell_files(a)
                  if name.startswith(f"cell-{a}-{b}-")]
    return hashlib.sha256(b"".join(np.ascontiguousarray(x).tobytes() for x in arrays)).hexdigest()


def test_a_worker_holds_its_stripe_in_memory_and_a_copy_of_anothers_on_disk(counts,
                                                                             monkeypatch):
    import cloudpickle

    from w2v.glove import cluster
    from w2v.glove.cluster import ClusterBlocks

    monkeypatch.setattr(cluster, "CHUNK_NNZ", 5000)  # cells kept in several parts
    monkeypatch.setattr(cluster, "DEAL_NNZ", 5000)  # and dealt in several chunks

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    _, path, vocab, _ = counts
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.run(_keep_rows, 70)  # blocks kept in several parts
        model = init_model(GloveConfig(**SMALL), vocab)
        members = rotation.rotation_plan(model, CountFile(path), 2)
        blocks = ClusterBlocks(client, model, CountFile(path), members, threads=1)
        held = client.run(_cells_held, blocks.token)
        assert blocks.home != blocks.keeper and set(blocks.home) == set(held)
        assert all(p == [] for p in client.run(_pieces_held, blocks.token).values())
        for a, home in enumerate(blocks.home):
            cells, rows, on_disk = held[home]
            assert cells == [[a, 0], [a, 1]]  # its own stripe, in memory
            assert rows == [["context", a, 0], ["word", a, 0]]  # its own blocks
            other = 1 - a  # and a copy of the other's cells and blocks on its disk
            assert on_disk == sorted(_cell_files(other) + [f"context-{other}-g0.npy",
                                                           f"word-{other}-g0.npy"])
        assert blocks.kept_on_disk > 0 and blocks.kept > 0
        for a in range(2):
            for b in range(2):
                [home] = client.run(_cell_digest, blocks.token, a, b,
                                    workers=[blocks.home[a]]).values()
                [kept] = client.run(_cell_digest, blocks.token, a, b,
                                    workers=[blocks.keeper[a]]).values()
                assert home == kept

        blocks.sub_epoch(0, 0)  # trained in place, the older generation dropped
        held = client.run(_cells_held, blocks.token)
        for a, home in enumerate(blocks.home):
            b = blocks.at.index(a)
            cells, rows, on_disk = held[home]
            assert rows == [["context", b, 1], ["word", a, 1]]
            assert on_disk == sorted(_cell_files(1 - a) + [
                f"context-{blocks.at.index(1 - a)}-g1.npy", f"word-{1 - a}-g1.npy"])
            for kind, index in (("word", a), ("context", b)):  # the copies equal the blocks
                [trained] = client.run(_block_digest, blocks.token, kind, index, 1,
                                       workers=[home]).values()
                [kept] = client.run(_block_digest, blocks.token, kind, index, 1,
                                    workers=[blocks.keeper[a]]).values()
                assert trained == kept
        blocks.close()
        assert all(h == ([], [], []) for h in client.run(_cells_held, blocks.token).values())


def test_a_spilled_context_block_leaves_memory_and_is_still_found(tmp_path):
    from types import SimpleNamespace

    from w2v.glove import cluster

    worker = SimpleNamespace(local_directory=str(tmp_path))
    token = "spill-test"
    trained_last = np.arange(12, dtype=np.float32).reshape(3, 4)
    cluster.BLOCKS[token, "context", 0] = (5, trained_last)
    cluster.BLOCKS[token, "context", 1] = (6, np.ones((2, 4), np.float32))
    cluster.BLOCKS[token, "word", 0] = (6, np.zeros((3, 4), np.float32))
    try:
        cluster.spill_blocks(worker, token, "context", keep=1)
        assert sorted(k[1:] for k in cluster.BLOCKS if k[0] == token) == [("context", 1),
                                                                          ("word", 0)]
        found = cluster._block_held(worker, token, "context", 0, 5)
        assert found is not None and found.tobytes() == trained_last.tobytes()
        assert cluster._block_held(worker, token, "context", 0, 6) is None
        assert not [name for name in os.listdir(tmp_path / f"w2v-glove-{token}")
                    if name.endswith(".part")]
    finally:
        for key in [k for k in cluster.BLOCKS if k[0] == token]:
            del cluster.BLOCKS[key]


@pytest.mark.parametrize("lost_in", ["training", "a checkpoint"])
def test_a_lost_scheduler_is_one_line_and_the_last_checkpoint_stays(counts, tmp_path,
                                                                   monkeypatch, lost_in):
    import w2v
    from w2v.glove import cluster

    _, _, vocab, cooc = counts

    class Client:  # answers as a cluster of one worker would
        def run(self, func):
            return {"tcp://w:1": w2v.__version__}

        def sync(self, func, **kwargs):
            return func(**kwargs)

        class scheduler:  # noqa: N801
            @staticmethod
            def identity(**kwargs):
                return {"workers": {"tcp://w:1": {}}}

    streaming = cluster.ClusterBlocks

    class Vanishing(rotation.LocalBlocks):
        gen, _row_slices = 0, streaming._row_slices

        def __init__(self, client, model, cooc, members, threads=None, tmp_dir=None):
            super().__init__(model, cooc, members, 1)

        def sub_epoch(self, epoch, s, on_cell=None):
            if (epoch, s) == (1, 1) and lost_in == "training":
                raise distributed.comm.CommClosedError("in <TCP (closed)>: Stream is closed")
            return super().sub_epoch(epoch, s, on_cell)

        def save(self, model, path):  # streamed as a cluster's, the cluster lost midway
            if (model.position.epoch, model.position.launch) != (1, 1) or \
                    lost_in == "training":
                return super().save(model, path)
            self.model = model
            return streaming.save(self, model, path)

        def _slices(self, kind):
            yield self.model.word[:5]
            raise distributed.comm.CommClosedError("in <TCP (closed)>: Stream is closed")

    monkeypatch.setattr(cluster, "ClusterBlocks", Vanishing)
    path = tmp_path / "m.w2v"
    with pytest.raises(W2VError, match=r"lost the Dask cluster in epoch 2 .*m.w2v keeps the "
                                       r"last checkpoint") as caught:
        cluster.train_on_cluster(init_model(GloveConfig(**SMALL), vocab), cooc, Client(),
                                 blocks=2, save_to=str(path), checkpoint_every=0)
    assert "\n" not in str(caught.value) and "CommClosedError" in str(caught.value)
    saved = load_model(path).position  # a checkpoint every sub-epoch: the last one kept
    assert (saved.epoch, saved.launch) == ((1, 1) if lost_in == "training" else (1, 0))
    assert os.listdir(tmp_path) == ["m.w2v"]  # no temporary file left


def test_a_cluster_client_never_holds_a_whole_matrix_and_streams_the_files(counts, tmp_path,
                                                                          monkeypatch):
    """The client draws, reads and writes the model a part of rows at a time: its files
    hold the arrays of the one-process rotation's, a streamed checkpoint resumes to the same
    bits, and the model comes back memory-mapped read-only."""
    import cloudpickle

    from w2v.glove import cluster
    from w2v.glove import model as glove_model

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    _, counts_path, vocab, cooc = counts
    expected = _run(vocab, cooc, 2, threads=1)
    _run(vocab, cooc, 2, threads=1, until=(1, 1), save_to=str(tmp_path / "one.w2v"),
         checkpoint_every=0)  # a checkpoint every sub-epoch
    n_words = len(vocab)
    largest = {"drawn": 0, "made": 0, "slice": 0}  # rows at once: a block is about 400
    draw, make, slices = glove_model.initial_vectors, cluster.model_rows, \
        cluster.ClusterBlocks._row_slices

    def drawn(words, *args, **kwargs):
        largest["drawn"] = max(largest["drawn"], len(words))
        return draw(words, *args, **kwargs)

    def made(config, vocab, matrix, kind, members):  # drawn, or read from a resumed model
        largest["made"] = max(largest["made"], len(members))
        return make(config, vocab, matrix, kind, members)

    def sliced(self, kind):
        for rows in slices(self, kind):
            largest["slice"] = max(largest["slice"], len(rows))
            yield rows

    monkeypatch.setattr(glove_model, "initial_vectors", drawn)
    monkeypatch.setattr(cluster, "model_rows", made)
    monkeypatch.setattr(cluster.ClusterBlocks, "_row_slices", sliced)
    monkeypatch.setattr(cluster, "CLIENT_ROWS", 300)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as dask_cluster, \
            distributed.Client(dask_cluster) as client:
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        model = init_model(GloveConfig(**SMALL), vocab, draw=False)
        assert model.word is None and model.context is None
        cluster.train_on_cluster(model, cooc, client, threads=1, tmp_dir=str(scratch))
        assert isinstance(model.word, np.memmap) and not model.word.flags.writeable
        assert model.word.tobytes() == expected.word.tobytes()
        assert model.context.tobytes() == expected.context.tobytes()
        assert os.listdir(scratch) == []  # the scratch file is unlinked once mapped

        stopped = tmp_path / "stopped.w2v"
        cluster.train_on_cluster(init_model(GloveConfig(**SMALL), vocab, draw=False), cooc,
                                 client, threads=1, until=(1, 1), save_to=str(stopped),
                                 checkpoint_every=0)
        one, many = load_model(tmp_path / "one.w2v"), load_model(stopped)
        assert (many.position.epoch, many.position.launch) == (1, 1)
        many.position.epoch_seconds = one.position.epoch_seconds
        assert one.position == many.position
        for kind in ("word", "context"):
            assert np.array_equal(getattr(one, kind), getattr(many, kind))
        assert [e["cost"] for e in one.losses] == [e["cost"] for e in many.losses]
        resumed = cluster.fit(cooccur=counts_path, resume=str(stopped), dask=client, threads=1)
        assert resumed.word.tobytes() == expected.word.tobytes()
        assert [e["cost"] for e in resumed.losses] == [e["cost"] for e in expected.losses]
    assert max(largest.values()) <= 300 < n_words and min(largest.values()) > 0


def test_a_dealt_chunk_and_its_copies_stay_under_one_column_block():
    from w2v.glove.cluster import DEAL_BYTES_PER_NNZ, DEAL_NNZ, deal_chunk

    for rows, k in ((60841, 2), (30467, 4), (5000, 8)):
        nnz = deal_chunk([np.arange(rows)] * k, 100)
        assert nnz * DEAL_BYTES_PER_NNZ <= rows * 2 * 101 * 4 and nnz <= DEAL_NNZ
    assert deal_chunk([np.arange(60841)] * 2, 100) == DEAL_NNZ  # large blocks: the cap
    assert deal_chunk([np.arange(3)] * 2, 100) == 4096  # tiny ones: a floor, not one row
