"""Benchmark `w2v cooccur --dask` against one process (issue 14).

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
    """A plain-text copy of `path` (decompressed, or its first `lines` lines), made once."""
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
