"""Benchmark `w2v cooccur --dask` against one process.

    flock /tmp/w2v-bench.lock python benchmarks/bench_dask.py [CORPUS] [--window 10]
        [--workers 2] [--memory 0.5] [--lines N]

CORPUS defaults to the shared 50M-token file, decompressed once to a plain file in $TMPDIR
(a compressed file is one partition, so it would not spread over the workers). Runs, each
in a fresh process:
  one process   `w2v cooccur CORPUS -o ... --window W`: wall seconds and peak RSS
  dask          the same counts with a LocalCluster of --workers processes (one thread
                each): wall seconds (cluster start included), peak RSS of the client and
                of every worker, and the bytes of the row-range pieces shuffled between the
                counting and the row tasks
then both again with --memory GB (per worker for dask) to force spilling. Every dask file
is compared with the one-process file byte for byte. The overhead is dask's wall time over
one process's.

    flock /tmp/w2v-cpu.lock python benchmarks/bench_dask.py --glove [CORPUS] [--epochs 25]
        [--dim 100] [--x-max 10] [--window 10] [--lines N] [--configs 0,2,4]

GloVe by block rotation (`w2v glove --dask`) against one process, on counts made once by
`w2v cooccur` (window 10). Each configuration runs in a fresh process: 0 is one process
(`glove.model.train`, 2 threads), N > 0 a LocalCluster of N workers with one thread each and
K = N blocks. Printed side by side: questions-words and WS-353, the final cost, training
seconds (cluster start left out; the cells' scatter included) and their ratio to one
process, the bytes of blocks the workers sent each other per epoch (w2v's counts: context
blocks a task fetched from another worker, and the copies sent to keepers; Dask's own
transfer counters apart) against the sketch's estimate (every worker receives all of the
context rows once an epoch: K x V x 2 (dim + 1) x 4 B), and the peak RSS of the client and
of every worker.
"""

import argparse
import json
import lzma
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
SHARED = os.path.join(ROOT, "..", "shared", "data", "corpus", "enwiki-50m.txt.xz")

from benchmarks.measure import child_peak_kb  # noqa: E402


def plain_corpus(path, lines):
    """A plain-text copy of `path` (decompressed, or its first `lines` lines), made once;
    a plain file itself when it is whole."""
    if not lines and not path.endswith((".xz", ".gz", ".bz2")):
        return path
    name = os.path.basename(path).split(".")[0] + (f"-{lines}" if lines else "")
    out = os.path.join(tempfile.gettempdir(), f"w2v-bench-{name}.txt")
    if os.path.exists(out):
        return out
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as src, open(out + ".part", "wb") as dst:
        if lines:
            for i, line in enumerate(src):
                if i >= lines:
                    break
                dst.write(line)
        else:
            shutil.copyfileobj(src, dst, 1 << 22)
    os.replace(out + ".part", out)
    return out


def run_single(corpus, output, window, memory):
    command = [sys.executable, "-m", "w2v.cli", "cooccur", corpus, "-o", output, "--window",
               str(window), "-q"]
    if memory:
        command += ["--memory", str(memory)]
    command, peak = child_peak_kb(command)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_rss_mb": peak() / 1024 if peak else None}


def run_dask(corpus, output, window, memory, workers):
    command = [sys.executable, os.path.abspath(__file__), "--child", corpus, "--output", output,
               "--window", str(window), "--workers", str(workers)]
    if memory:
        command += ["--memory", str(memory)]
    started = time.perf_counter()
    done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = seconds
    return result


def child(args):
    """One dask run in this process: what `w2v cooccur --dask` does, plus the peaks."""
    import distributed

    from w2v.cooccur.file import save_cooccur
    from w2v.distributed import cooccurrence_counts

    def worker_peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    stats = {}
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        matrix, vocab, _ = cooccurrence_counts([args.corpus], window=args.window,
                                               memory_gb=args.memory, dask=client, stats=stats)
        workers = client.run(worker_peak_mb)
    save_cooccur(args.output, matrix, vocab, args.window, "harmonic")
    print(json.dumps({"client_peak_rss_mb": worker_peak_mb(),
                      "worker_peak_rss_mb": sorted(workers.values()),
                      "shuffled_mb": stats["shuffled_bytes"] / 1e6, "nnz": stats["nnz"],
                      "partitions": stats["partitions"], "count_seconds": stats["seconds"]}))


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 22), fb.read(1 << 22)
            if x != y:
                return False
            if not x:
                return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", default=SHARED)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", type=float, default=None,
                        help="GB for the spilling runs (default 0.5); in --child, the bound")
    parser.add_argument("--lines", type=int, default=None, help="Only the first N lines.")
    parser.add_argument("--output", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--glove", action="store_true", help="Benchmark GloVe training.")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--x-max", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--configs", default="0,2,4",
                        help="0: one process; N: N workers of one thread.")
    parser.add_argument("--glove-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.glove_child is not None:
        return glove_child(args)
    if args.glove:
        return glove_main(args)
    if args.child:
        return child(args)
    corpus = plain_corpus(args.corpus, args.lines)
    print(f"corpus {corpus}: {os.path.getsize(corpus) / 1e6:.0f} MB, window {args.window}, "
          f"{args.workers} workers", flush=True)
    tmp = tempfile.mkdtemp(prefix="w2v-bench-dask-")
    try:
        for memory in (None, args.memory or 0.5):
            one = os.path.join(tmp, "one.npz")
            many = os.path.join(tmp, "dask.npz")
            single = run_single(corpus, one, args.window, memory)
            print(f"--memory {memory or 'default'}: one process {single['seconds']:.1f} s, "
                  f"peak RSS {single['peak_rss_mb']:.0f} MB", flush=True)
            dask = run_dask(corpus, many, args.window, memory, args.workers)
            print(f"--memory {memory or 'default'}: dask {dask['seconds']:.1f} s "
                  f"(counting {dask['count_seconds']:.1f} s, {dask['partitions']} partitions), "
                  f"overhead {dask['seconds'] / single['seconds']:.2f}x; client peak RSS "
                  f"{dask['client_peak_rss_mb']:.0f} MB, workers "
                  f"{', '.join(f'{m:.0f}' for m in dask['worker_peak_rss_mb'])} MB; shuffled "
                  f"{dask['shuffled_mb']:.0f} MB; {dask['nnz']} non-zeros; identical file: "
                  f"{same_bytes(one, many)}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- GloVe


EVAL = os.path.join(ROOT, "..", "shared", "data", "eval")


def glove_child(args):
    """One GloVe training in this process (workers 0: one process), as JSON on stdout."""
    from w2v.config import GloveConfig
    from w2v.cooccur.file import load_cooccur, open_cooccur
    from w2v.glove.model import init_model, train
    from w2v.vectors.evaluate import evaluate_analogies, evaluate_similarity

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def sent(dask_worker):
        return dask_worker.transfer_outgoing_bytes_total

    # One process reads the whole matrix; a cluster run opens the file and deals it out to
    # the workers a chunk of rows at a time, as `w2v glove --read-cooccur F --dask` does.
    if args.workers == 0:
        matrix, vocab, meta = load_cooccur(args.glove_child)
    else:
        matrix, vocab, meta = open_cooccur(args.glove_child)
    config = GloveConfig(dim=args.dim, epochs=args.epochs, x_max=args.x_max,
                         window=meta["window"], seed=args.seed)
    model = init_model(config, vocab)
    result = {"words": len(vocab), "nnz": int(matrix.nnz), "workers": args.workers}
    if args.workers == 0:
        started = time.perf_counter()
        train(model, matrix, threads=2)
        result["seconds"] = time.perf_counter() - started
    else:
        import distributed

        from w2v.glove.cluster import train_on_cluster

        def loaded_mb():  # a worker with the GloVe kernels loaded and run, before any counts
            import numpy as np

            from w2v.glove.blocks import cell_of_pieces, train_cell

            piece = (np.array([1, 1], np.int64), np.array([1, 0], np.int32),
                     np.array([2.0, 2.0], np.float32))
            rows = np.full((2, 2 * (args.dim + 1)), 0.01, np.float32)
            train_cell(rows, rows.copy(), cell_of_pieces([piece], 1, 0, 0), 1, 0, 0, 0, 10.0,
                       0.05, 0.75, 100.0)
            return peak_mb()

        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                      processes=True, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            result["worker_base_rss_mb"] = max(client.run(loaded_mb).values())
            before = sum(client.run(sent).values())
            stats = {}
            started = time.perf_counter()
            train_on_cluster(model, matrix, client, threads=1, stats=stats)
            result["seconds"] = time.perf_counter() - started
            result["sent_bytes"] = sum(client.run(sent).values()) - before
            result["fetched_bytes"] = stats["moved_bytes"]
            result["kept_bytes"] = stats["kept_bytes"]
            result["kept_on_disk_bytes"] = stats["kept_on_disk_bytes"]
            result["worker_peak_rss_mb"] = sorted(client.run(peak_mb).values())
    del matrix
    wv = model.vectors()
    result["epoch_seconds"] = sum(e["seconds"] for e in model.losses)
    result["cost"] = model.losses[-1]["cost"]
    result["analogies"] = 100 * evaluate_analogies(
        wv, os.path.join(EVAL, "questions-words.txt")).accuracy
    result["ws353"] = evaluate_similarity(wv, os.path.join(EVAL, "wordsim353.txt")).spearman
    result["client_peak_rss_mb"] = peak_mb()
    print(json.dumps(result))


def glove_main(args):
    corpus = plain_corpus(args.corpus, args.lines)
    name = os.path.basename(corpus).split(".")[0]
    counts = os.path.join(tempfile.gettempdir(), f"w2v-bench-glove-{name}-w{args.window}.npz")
    if not os.path.exists(counts):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "w2v.cli", "cooccur", corpus, "-o", counts,
                        "--window", str(args.window), "-q"], check=True, cwd=ROOT)
        print(f"counted {corpus} in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"GloVe on {counts}: dim {args.dim}, {args.epochs} epochs, x-max {args.x_max:g}, "
          f"window {args.window}, seed {args.seed}", flush=True)
    rows = []
    for workers in (int(c) for c in args.configs.split(",")):
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--glove-child",
                               counts, "--workers", str(workers), "--epochs", str(args.epochs),
                               "--dim", str(args.dim), "--x-max", str(args.x_max),
                               "--seed", str(args.seed)],
                              check=True, cwd=ROOT, capture_output=True, text=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(r)
        base = rows[0] if rows[0]["workers"] == 0 else None
        what = "one process, 2 threads" if workers == 0 else \
            f"dask {workers} workers x 1 thread (K = {workers})"
        line = (f"{what}: analogies {r['analogies']:.2f}%, WS-353 {r['ws353']:.3f}, final "
                f"cost {r['cost']:.5f}, training {r['seconds']:.1f} s (epochs "
                f"{r['epoch_seconds']:.1f} s)")
        if base is not None and workers:
            line += (f", {r['seconds'] / base['seconds']:.2f}x one process; "
                     f"{r['analogies'] - base['analogies']:+.2f} points, WS-353 "
                     f"{r['ws353'] - base['ws353']:+.3f}")
        if workers:
            estimate = workers * r["words"] * 2 * (args.dim + 1) * 4
            share = 12 * r["nnz"] / workers  # a worker's cells: int32 row, column, float32 value
            column_block = r["words"] / workers * 2 * (args.dim + 1) * 4
            epoch_mb = (r["fetched_bytes"] + r["kept_bytes"]) / args.epochs / 1e6
            line += (f"; blocks sent between workers {epoch_mb:.0f} MB an epoch (context "
                     f"blocks fetched by tasks {r['fetched_bytes'] / args.epochs / 1e6:.0f} "
                     f"MB, copies to keepers {r['kept_bytes'] / args.epochs / 1e6:.0f} MB; "
                     f"sketch {estimate / 1e6:.0f} MB; Dask's own transfers, the count cells "
                     f"among them, {r['sent_bytes'] / args.epochs / 1e6:.0f} MB); counts kept "
                     f"on disk "
                     f"{r['kept_on_disk_bytes'] / 1e6:.0f} MB; worker peak RSS "
                     f"{', '.join(f'{m:.0f}' for m in r['worker_peak_rss_mb'])} MB against "
                     f"base {r['worker_base_rss_mb']:.0f} + share of counts {share / 1e6:.0f} + "
                     f"column block {column_block / 1e6:.0f} = "
                     f"{r['worker_base_rss_mb'] + (share + column_block) / 1e6:.0f} MB")
        line += f"; client peak RSS {r['client_peak_rss_mb']:.0f} MB"
        print(line, flush=True)
        print("json", json.dumps(r), flush=True)
    print(f"{rows[0]['words']} words, {rows[0]['nnz']} non-zeros")


if __name__ == "__main__":
    main()
