"""Counting on a Dask cluster (`w2v.distributed`, `--dask`): the same bytes as one process."""

import builtins
import contextlib
import gzip
import os
import random
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from w2v.cli import main
from w2v.cooccur.counts import cooccurrence_matrix
from w2v.cooccur.file import load_cooccur, save_cooccur
from w2v.corpus.corpus import load_corpus

distributed = pytest.importorskip("distributed")
from w2v import distributed as dist  # noqa: E402
from w2v.text import sources  # noqa: E402


def _text(seed, lines):
    """Zipf-ish text with empty lines, tabs, a long line and no final newline."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)] + ["é", "ß", "naïve"]
    weights = [1 / (i + 1) for i in range(len(words))]
    out = []
    for i in range(lines):
        if i % 97 == 0:
            out.append("")
            continue
        n = 400 if i == 5 else rng.randint(1, 25)
        out.append(("\t" if i % 11 == 0 else " ").join(rng.choices(words, weights, k=n)))
    return "\n".join(out)


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("dask-corpus")
    plain = root / "a.txt"
    plain.write_text(_text(0, 1500), encoding="utf-8")
    packed = root / "b.txt.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as f:
        f.write(_text(1, 400) + "\n")
    return str(plain), str(packed)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _single(inputs, path, **options):
    reading = {k: options.pop(k) for k in ("min_count", "max_vocab") if k in options}
    corpus = load_corpus(inputs, **reading)
    matrix = cooccurrence_matrix(corpus, threads=1, **options)
    save_cooccur(path, matrix, corpus.vocab, options.get("window", 10),
                 options.get("weighting", "harmonic"), options.get("symmetric", True))
    return path.read_bytes()


# --------------------------------------------------------------------------- no cluster


@pytest.mark.parametrize("n", [1, 2, 3, 7, 40])
def test_byte_ranges_own_every_line_once(tmp_path, n):
    text = b"one two\n\nthree\n" + b"x " * 3000 + b"\nfour\n\n\nfive six"
    path = tmp_path / "t.txt"
    path.write_bytes(text)
    parts = dist.plan_partitions([str(path)], n)
    assert len(parts) == n and parts[0].start == 0 and parts[-1].end == len(text)
    got = b""
    for part in parts:
        source = sources.FileRange(part.path)
        try:
            got += b"".join(sources.range_blocks(source, part.start, part.end))
        finally:
            source.close()
    assert got == text


def test_compressed_files_are_whole_partitions(corpus_files):
    parts = dist.plan_partitions(list(corpus_files), 4)
    assert [p.compressed for p in parts] == [False] * 4 + [True]


def test_subsampled_stretches_keep_the_tokens_one_pass_keeps(monkeypatch):
    from w2v.corpus import subsample as ppmi
    from w2v.corpus.corpus import Corpus
    from w2v.corpus.vocab import Vocab

    monkeypatch.setattr(ppmi, "SUBSAMPLE_CHUNK_TOKENS", 1000)
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 3000, size=100)
    lengths[5] = 5000  # a sentence over several chunks
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    ids = rng.integers(0, 50, size=offsets[-1]).astype(np.uint32)
    counts = np.bincount(ids, minlength=50)
    whole = ppmi.subsample_corpus(Corpus(Vocab([str(i) for i in range(50)], counts), ids,
                                         offsets, len(ids)), 2e-3, seed=3)
    keep = ppmi.keep_probabilities(counts, 2e-3)
    for cuts in ([0, 100], [0, 5, 6, 50, 51, 99, 100], [0, 1, 2, 99, 100]):
        stretches = [(ids[offsets[a]:offsets[b]], offsets[a:b + 1] - offsets[a], int(offsets[a]))
                     for a, b in zip(cuts, cuts[1:])]
        firsts = np.zeros(-(-len(ids) // 1000), dtype=np.int64)
        for s_ids, s_offsets, start in stretches:
            for c, at in dist.chunk_firsts((s_ids, s_offsets), start, 1000).items():
                firsts[c] = at
        kept = [ppmi.subsample_stretch(s_ids, s_offsets, keep, start, firsts, 3)
                for s_ids, s_offsets, start in stretches]
        assert np.array_equal(np.concatenate([k for k, _ in kept]), whole.ids)
        assert np.array_equal(np.concatenate([np.diff(o) for _, o in kept]),
                              np.diff(whole.offsets))
    assert len(whole.ids) < len(ids)


def test_dask_without_the_extra_names_it(corpus_files, tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_dask(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    out = tmp_path / "c.npz"
    assert main(["cooccur", corpus_files[0], "--dask", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['w2v: error: counting on a Dask cluster needs Dask: pip install "w2v[dask]"']
    assert not out.exists()


def test_stdin_is_refused_before_any_cluster(tmp_path, capsys):
    assert main(["vocab", "-", "--dask", "--workers", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not stdin" in err[0]


def test_a_corpus_taken_for_an_address_is_a_usage_error(corpus_files, tmp_path, capsys):
    assert main(["cooccur", "--dask", corpus_files[0], "-o", str(tmp_path / "c.npz")]) == 2
    assert "is not a scheduler address" in capsys.readouterr().err


# --------------------------------------------------------------------------- on a cluster


@pytest.mark.parametrize("partitions", [1, 2, 5])
def test_counts_are_byte_identical_for_any_partitioning(client, corpus_files, tmp_path,
                                                        partitions):
    inputs = list(corpus_files)
    expected = _single(inputs, tmp_path / "one.npz", min_count=2, window=5)
    matrix, vocab, record = dist.cooccurrence_counts(inputs, min_count=2, window=5, dask=client,
                                                     partitions=partitions)
    save_cooccur(tmp_path / "dask.npz", matrix, vocab, 5, "harmonic")
    assert (tmp_path / "dask.npz").read_bytes() == expected
    corpus = load_corpus(inputs, min_count=2)
    assert record["tokens"] == corpus.n_tokens and record["sentences"] == corpus.n_sentences


@pytest.mark.parametrize("options", [dict(weighting="linear", window=2, symmetric=False),
                                     dict(weighting="uniform", window=3, max_vocab=40)])
def test_other_settings_and_spilling_are_identical(client, corpus_files, tmp_path, options):
    expected = _single([corpus_files[0]], tmp_path / "one.npz", min_count=1, **dict(options))
    options = dict(options)
    matrix, vocab, _ = dist.cooccurrence_counts([corpus_files[0]], min_count=1, dask=client,
                                                partitions=3, memory_gb=1e-5, **options)
    save_cooccur(tmp_path / "dask.npz", matrix, vocab, options.get("window"),
                 options.get("weighting"), options.get("symmetric", True))
    assert (tmp_path / "dask.npz").read_bytes() == expected


def test_vocabulary_is_identical_ties_included(client, corpus_files, tmp_path, capsys):
    address = client.scheduler.address
    one, many = tmp_path / "one.txt", tmp_path / "many.txt"
    assert main(["vocab", *corpus_files, "--min-count", "1", "-o", str(one)]) == 0
    assert main(["vocab", *corpus_files, "--min-count", "1", "-o", str(many),
                 "--dask", address]) == 0
    assert many.read_bytes() == one.read_bytes()
    vocab, n_raw, _ = dist.count_vocabulary(list(corpus_files), min_count=1, dask=client,
                                            partitions=6)
    assert "\n".join(f"{w} {c}" for w, c in zip(vocab.words, vocab.counts.tolist())) + "\n" \
        == one.read_text(encoding="utf-8")


def test_cli_cooccur_glove_and_svd_match_one_process(client, corpus_files, tmp_path,
                                                      monkeypatch):
    from w2v.glove import cluster as glove_cluster

    monkeypatch.setattr(glove_cluster, "DEAL_NNZ", 40)  # row ranges cut in many pieces
    address = client.scheduler.address
    common = [corpus_files[0], "--min-count", "2", "--threads", "1"]
    assert main(["cooccur", *common, "-o", str(tmp_path / "one.npz")]) == 0
    assert main(["cooccur", *common, "-o", str(tmp_path / "dask.npz"), "--dask", address]) == 0
    assert (tmp_path / "dask.npz").read_bytes() == (tmp_path / "one.npz").read_bytes()
    glove = ["glove", *common, "--epochs", "2", "--dim", "8", "--blocks", "2"]
    assert main([*glove, "-o", str(tmp_path / "g1.txt")]) == 0  # the cluster's schedule, here
    assert main([*glove, "-o", str(tmp_path / "g2.txt"), "--dask", address, "--save-model",
                 str(tmp_path / "g2.w2v")]) == 0
    assert (tmp_path / "g2.txt").read_bytes() == (tmp_path / "g1.txt").read_bytes()
    assert main(["glove", "--resume", str(tmp_path / "g2.w2v"), "--dask", address, "-o",
                 str(tmp_path / "g2-again.txt")]) == 0  # finished: its file's vectors, mapped
    assert (tmp_path / "g2-again.txt").read_bytes() == (tmp_path / "g1.txt").read_bytes()
    assert main(["glove", "--read-cooccur", str(tmp_path / "dask.npz"), "--threads", "1",
                 "--epochs", "2", "--dim", "8", "-o", str(tmp_path / "g3.txt"), "--dask",
                 address]) == 0  # the count file dealt out by chunks
    assert (tmp_path / "g3.txt").read_bytes() == (tmp_path / "g1.txt").read_bytes()
    svd = ["svd", *common, "--dim", "8", "--sample", "1e-3"]
    assert main([*svd, "-o", str(tmp_path / "s1.txt")]) == 0
    assert main([*svd, "-o", str(tmp_path / "s2.txt"), "--dask", address]) == 0
    assert (tmp_path / "s2.txt").read_bytes() == (tmp_path / "s1.txt").read_bytes()


def test_bad_input_is_the_same_one_line_error_and_no_output(client, corpus_files, tmp_path,
                                                             capsys):
    bad = tmp_path / "bad.txt"
    text = open(corpus_files[0], "rb").read()
    bad.write_bytes(text[:20000] + b"\x00\x01binary" + text[20000:])
    errors = []
    for extra in ([], ["--dask", client.scheduler.address]):
        out = tmp_path / "c.npz"
        assert main(["cooccur", str(bad), "-o", str(out), *extra]) == 1
        assert not out.exists()
        lines = capsys.readouterr().err.strip().splitlines()
        errors.append([line for line in lines if "error" in line])
    assert errors[0] == errors[1] and len(errors[0]) == 1
    assert "NUL byte at byte offset 20000" in errors[0][0]


class _KillOnFirstCount(distributed.WorkerPlugin):
    """Kills its worker (SIGKILL) as the first counting task starts, once: a marker file
    says it happened, so the task's retry on another worker runs to the end."""

    def __init__(self, marker):
        self.marker = marker

    def setup(self, worker):
        self.pid = os.getpid()

    def transition(self, key, start, finish, **kwargs):
        name = key if isinstance(key, str) else str(key)
        if finish == "executing" and name.startswith("w2v-count-"):
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_run_is_retried_and_the_result_is_identical(corpus_files, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    expected = _single([corpus_files[0]], tmp_path / "one.npz", min_count=2, window=5)
    marker = tmp_path / "killed"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        c.register_plugin(_KillOnFirstCount(str(marker)))
        matrix, vocab, _ = dist.cooccurrence_counts([corpus_files[0]], min_count=2, window=5,
                                                    dask=c, partitions=4)
    assert marker.exists()  # a worker died in a counting task, and Dask ran it again
    save_cooccur(tmp_path / "dask.npz", matrix, vocab, 5, "harmonic")
    assert (tmp_path / "dask.npz").read_bytes() == expected


# --------------------------------------------------------------------------- a real cluster


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_scheduler_and_two_workers(corpus_files, tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    processes = []
    try:
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        for _ in range(2):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--no-dashboard", "--local-directory", str(tmp_path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError, TimeoutError):
                with distributed.Client(address, timeout=5) as c:
                    c.wait_for_workers(2, timeout=max(1, deadline - time.monotonic()))
                    break
            assert time.monotonic() < deadline, "the cluster did not start"
            time.sleep(0.5)
        one, many = tmp_path / "one.npz", tmp_path / "many.npz"
        common = [*corpus_files, "--min-count", "2", "--window", "4"]
        assert main(["cooccur", *common, "-o", str(one)]) == 0
        run = subprocess.run([sys.executable, "-m", "w2v.cli", "cooccur", *common, "-o",
                              str(many), "--dask", address], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        assert many.read_bytes() == one.read_bytes()
        matrix, vocab, meta = load_cooccur(many)
        assert matrix.nnz > 0 and meta["window"] == 4
    finally:
        for p in reversed(processes):
            p.terminate()
        for p in reversed(processes):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_an_empty_corpus_or_vocabulary_is_the_same_error(client, tmp_path):
    from w2v.errors import InputError, VocabularyError

    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(InputError, match="the corpus is empty"):
        dist.count_vocabulary([str(empty)], dask=client)
    rare = tmp_path / "rare.txt"
    rare.write_text("a b c\n")
    with pytest.raises(VocabularyError, match="no word occurs at least 5 times"):
        dist.cooccurrence_counts([str(rare)], dask=client)
