"""The counting stages on a Dask cluster, with the very same result as one process.

Where a corpus outgrows one machine, the corpus pass and the co-occurrence counts are what
break first, and they distribute exactly: counts are integers, so any partition of the text
sums to the same totals. This module runs them on `dask.distributed` (a LocalCluster, or a
cluster by address) and hands back what `load_corpus` + `cooccurrence_matrix` give.

1. Partitions. Inputs are files every worker can read. A plain file is cut into byte
   ranges; a range owns the lines that start in it (Hadoop's rule), so a worker finds the
   line boundaries itself. A compressed file is one partition.
2. Words. Each partition is tokenized once and kept on its worker. Its word counts (words
   in first-occurrence order) are merged in partition order by a tree reduction, so the
   vocabulary's ties fall in order of first occurrence in the whole text, as one pass
   gives; then min-count and max-vocab as always.
3. Pairs. The vocabulary goes to every worker; each partition maps its ids, cuts long
   sentences (and, for svd, subsamples from the whole corpus's token positions, so every
   token meets the random draw it meets in one process), counts its pairs with the kernels
   of `cooccur.count_runs` within --memory, and splits them into row ranges (symmetric
   counts mirrored, so a range holds whole rows).
4. Rows. Each row range is merged on a worker through `cooccur`'s run store (spilling past
   --memory) into its CSR rows; the client joins the rows into the CSR matrix that
   `cooccurrence_matrix` builds, and the caller writes it with the same writer.

Dask is imported here only, and only when asked for (`w2v ... --dask`).
"""

import contextlib
import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass

import numpy as np

from .errors import InputError, OptionError, VocabularyError, W2VError

log = logging.getLogger("w2v")

DASK_MISSING = 'counting on a Dask cluster needs Dask: pip install "w2v[dask]"'
MAX_PARTITION_BYTES = 256 << 20  # a plain file is cut into ranges of at most this
MERGE_FAN_IN = 8  # word tallies merged by one task of the reduction
_TASK_LOCK = threading.Lock()  # numba's parallel kernels run one task at a time per process


# --------------------------------------------------------------------------- the cluster


def import_distributed():
    """The `distributed` module, or an OptionError naming the extra to install."""
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise OptionError(DASK_MISSING) from None
    return distributed


def is_address(value):
    """Whether `value` names a scheduler: tcp://HOST:PORT (any scheme), HOST:PORT, or a
    scheduler file (JSON with an "address")."""
    if not isinstance(value, str) or not value:
        return False
    if "://" in value:
        return True
    if os.path.isfile(value):
        try:
            with open(value, encoding="utf-8") as f:
                return "address" in json.load(f)
        except (OSError, ValueError, TypeError, UnicodeDecodeError):
            return False
    host, _, port = value.rpartition(":")
    return bool(host) and port.isdigit()


@contextlib.contextmanager
def connect(dask=None, workers=None):
    """A `distributed.Client`: `dask` itself if it is one, one to the scheduler at `dask`
    (an address or a scheduler file), or to a new LocalCluster of `workers` processes
    (default: one per physical core) that is shut down on leaving."""
    distributed = import_distributed()
    if isinstance(dask, distributed.Client):
        yield dask
        return
    quiet = log.level > logging.DEBUG or not log.isEnabledFor(logging.DEBUG)
    previous = logging.getLogger("distributed").level
    if quiet:  # Dask's own chatter would run through the progress bar
        logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        if dask:
            try:
                if os.path.isfile(dask):
                    client = distributed.Client(scheduler_file=dask, timeout="20s")
                else:
                    client = distributed.Client(dask, timeout="20s")
            except (OSError, TimeoutError, ValueError) as e:
                raise InputError(f"cannot reach the Dask scheduler at {dask}: {e}") from None
            with client:
                _log_cluster(client, dask)
                yield client
        else:
            from .runtime.threads import usable_cores

            n = workers or usable_cores()
            if n < 1:
                raise OptionError(f"--workers must be at least 1, got {n}")
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True,
                dashboard_address=":0" if _has_bokeh() else None,
                silence_logs=logging.ERROR if quiet else logging.WARNING)
            with cluster, distributed.Client(cluster) as client:
                _log_cluster(client, "a local cluster")
                yield client
    finally:
        logging.getLogger("distributed").setLevel(previous)


def _has_bokeh():
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _log_cluster(client, where):
    n = len(client.scheduler_info().get("workers", {}))
    log.info("dask: %d worker(s) at %s", n, where)
    log.debug("dask dashboard: %s", client.dashboard_link if _has_bokeh() else
              "none (install bokeh for one)")


def _workers_per_host(client):
    hosts = {}
    for info in client.scheduler_info().get("workers", {}).values():
        host = info.get("host", "")
        hosts[host] = hosts.get(host, 0) + 1
    return hosts


def _worker_threads(threads, hosts):
    """Numba threads for a task: `threads`, else this host's cores shared by its workers."""
    if threads is not None:
        return threads
    from .runtime.threads import usable_cores

    try:
        from distributed import get_worker

        address = get_worker().address
        n = hosts.get(address.split("://")[-1].rsplit(":", 1)[0], 1)
    except (ImportError, ValueError):
        n = 1
    return max(1, usable_cores() // max(1, n))


def _worker_memory_gb(memory_gb):
    """--memory for a task: as given, else half of what the worker may use (its memory
    limit, or the memory available)."""
    if memory_gb is not None:
        return memory_gb
    from .runtime.runs import default_memory_gb

    memory = default_memory_gb()
    try:
        from distributed import get_worker

        limit = get_worker().memory_manager.memory_limit
        if limit:
            memory = min(memory, max(0.25, limit / 2 / 1e9))
    except (ImportError, ValueError, AttributeError):
        pass
    return memory


def _report(topic, n):
    """Tell the client's progress bar that n more units are done (no-op outside a worker)."""
    if topic is None or n <= 0:
        return
    try:
        from distributed import get_worker

        get_worker().log_event(topic, int(n))
    except (ImportError, ValueError):
        pass


class _Progress:
    """The client's tqdm bar, fed by the workers' events on one topic."""

    def __init__(self, client, enabled, total, unit, desc):
        from .runtime.progress import Bar

        self.client = client
        self.topic = f"w2v-progress-{uuid.uuid4().hex}" if enabled else None
        self.bar = Bar(enabled, total, unit=unit, desc=desc)
        if enabled:
            client.subscribe_topic(self.topic, self._event)

    def _event(self, event):
        _, n = event
        self.bar.update(n)

    def close(self):
        if self.topic is not None:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.topic)
        self.bar.close()


# --------------------------------------------------------------------------- partitions


@dataclass(frozen=True)
class Partition:
    """Bytes [start, end) of a file: the lines starting there (a compressed file: all)."""

    path: str
    start: int
    end: int
    compressed: bool


def input_files(inputs):
    """[(path, size, compressed)] of the inputs, in order; stdin, which workers cannot
    share, is refused (before any cluster starts)."""
    from .corpus.corpus import expand_inputs

    paths = expand_inputs(inputs)
    if "-" in paths:
        raise InputError("--dask reads files that every worker can open, not stdin ('-'): "
                         "save the text to a file on a shared filesystem first")
    files = []
    for path in paths:
        try:
            files.append((path, os.path.getsize(path), _is_compressed(path)))
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from None
    return files


def plan_partitions(inputs, n_partitions):
    """The partitions of the inputs, in text order: each plain file cut into byte ranges of
    about total / n_partitions bytes (at most MAX_PARTITION_BYTES), each compressed file
    whole."""
    files = input_files(inputs)
    plain = sum(size for _, size, compressed in files if not compressed)
    target = max(1, min(MAX_PARTITION_BYTES, -(-plain // max(1, n_partitions))))
    parts = []
    for path, size, compressed in files:
        k = 1 if compressed else max(1, round(size / target))
        cuts = [size * i // k for i in range(k + 1)]
        parts.extend(Partition(path, a, b, compressed) for a, b in zip(cuts, cuts[1:]))
    return parts


def _is_compressed(path):
    from .corpus.corpus import _BY_EXTENSION, _MAGIC

    if os.path.splitext(path)[1].lower() in _BY_EXTENSION:
        return True
    with open(path, "rb") as f:
        head = f.read(8)
    return any(head.startswith(magic) for magic, _ in _MAGIC)


class _FileRange:
    """A plain file as `corpus`'s reading code sees a source (name, raw, stream)."""

    def __init__(self, path):
        self.path = self.name = path
        try:
            self.raw = self.stream = open(path, "rb")
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from None

    def close(self):
        self.raw.close()


def _range_blocks(source, start, end):
    """Blocks of whole lines of a plain file: the lines that start in [start, end)."""
    from .corpus.corpus import BLOCK_BYTES

    f = source.raw
    try:
        pos = start
        f.seek(start)
        if start > 0:
            f.seek(start - 1)
            if f.read(1) != b"\n":  # the line in progress belongs to the range before
                pos += len(f.readline())
        rest = b""
        while pos < end:
            chunk = f.read(min(BLOCK_BYTES, end - pos))
            if not chunk:
                break
            pos += len(chunk)
            cut = chunk.rfind(b"\n")
            if cut < 0:
                rest += chunk
                continue
            block, rest = rest + chunk[: cut + 1], chunk[cut + 1:]
            yield block
        if rest:  # a line that started in the range ends past it
            yield rest + f.readline()
    except OSError as e:
        raise InputError(f"cannot read {source.name}: {e}") from None


def _first_byte(source, start):
    """Where the first line a range owns starts (for messages' byte offsets)."""
    if start == 0:
        return 0
    f = source.raw
    f.seek(start - 1)
    if f.read(1) == b"\n":
        return start
    return start + len(f.readline())


# --------------------------------------------------------------------------- phase 1: words


class ScannedPartition:
    """A partition read once, kept on its worker between the phases: its words in order of
    first occurrence, their counts, every token's provisional id and the line lengths."""

    def __init__(self, words, counts, ids, lengths, n_tokens, invalid):
        self.words = words
        self.counts = counts
        self.ids = ids
        self.lengths = lengths
        self.n_tokens = n_tokens
        self.invalid = invalid


@dataclass
class WordTally:
    """Words in order of first occurrence with their counts, and the tokens they came from."""

    words: list
    counts: np.ndarray
    n_tokens: int
    invalid: int


def scan_partition(part, lowercase=False, preprocess="none", topic=None):
    """Tokenize one partition as the corpus pass does (same checks, same messages)."""
    from .corpus.corpus import (_invalid_counter, _read_ahead, _read_blocks, _Source, _TokenIds,
                         tokenize_blocks)
    from .text.preprocess import text_normaliser
    from .text.tokenize import WordStore

    with _TASK_LOCK:
        store = WordStore()
        tokens = _TokenIds(keep=True)
        lengths = []
        errors, invalid = _invalid_counter()
        if part.compressed:
            source = _Source(part.path)
            blocks, offset = _read_blocks(source), 0
        else:
            source = _FileRange(part.path)
            offset = _first_byte(source, part.start)
            blocks = _range_blocks(source, part.start, part.end)
        size = part.end - part.start
        done = 0

        def advance():
            nonlocal done
            position = min(size, max(0, source.position() if part.compressed
                                     else source.raw.tell() - part.start))
            _report(topic, position - done)
            done = max(done, position)

        try:
            with contextlib.closing(_read_ahead(blocks)) as ahead:
                tokenize_blocks(source, ahead, errors, text_normaliser(lowercase, preprocess),
                                store, tokens, lengths, offset=offset,
                                check_first=part.start == 0, on_block=advance)
        finally:
            source.close()
        _report(topic, size - done)
        tokens.finish(store.n_words)
        ids = np.asarray(tokens.all_ids())
        lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
        return ScannedPartition(store.words(), tokens.counts, ids, lengths, tokens.size,
                                invalid["count"])


def tally_of(scanned):
    """The word counts of a scanned partition (what the reduction moves, not the ids)."""
    return WordTally(scanned.words, scanned.counts, scanned.n_tokens, scanned.invalid)


def merge_tallies(*tallies):
    """One tally of several, in order: a word's place is its first occurrence in the first
    tally that has it, so merging partitions in text order keeps the text's order."""
    index = {}
    places = []
    for tally in tallies:
        places.append(np.fromiter((index.setdefault(w, len(index)) for w in tally.words),
                                  dtype=np.int64, count=len(tally.words)))
    counts = np.zeros(len(index), dtype=np.int64)
    for place, tally in zip(places, tallies):
        counts[place] += tally.counts
    return WordTally(list(index), counts, sum(t.n_tokens for t in tallies),
                     sum(t.invalid for t in tallies))


def choose_vocab(tally, min_count, max_vocab, inputs):
    """(Vocab, tokens read, invalid bytes) of the merged tally, as `load_corpus` chooses."""
    from .corpus.corpus import _kept_words
    from .corpus.vocab import Vocab

    kept = _kept_words(tally.counts, tally.n_tokens, min_count, max_vocab, inputs)
    words = tally.words
    return Vocab([words[i] for i in kept.tolist()], tally.counts[kept]), tally.n_tokens, \
        tally.invalid


# --------------------------------------------------------------------------- phase 2: pairs


def restrict_partition(scanned, vocab, max_sentence_length):
    """(ids, offsets) of a partition over the vocabulary, as `load_corpus` maps and cuts."""
    from .corpus.corpus import _cut_long, _remap_pieces

    with _TASK_LOCK:
        remap = np.array([vocab.index.get(w, -1) for w in scanned.words], dtype=np.int32)
        n_kept = int(scanned.counts[remap >= 0].sum()) if len(remap) else 0
        out = np.empty(n_kept, dtype=np.uint32)
        written, offsets = _remap_pieces([scanned.ids], scanned.lengths.copy(), remap, out)
        return out[:written], _cut_long(offsets, max_sentence_length)


def tokens_of(restricted):
    return len(restricted[0]), len(restricted[1]) - 1


def chunk_firsts(restricted, first_token, chunk_tokens):
    """{chunk: token where its first sentence starts} for the subsampling chunks whose
    start position falls in this partition (see `ppmi.subsample_stretch`)."""
    ids, offsets = restricted
    end = first_token + len(ids)
    found = {}
    for c in range(-(-first_token // chunk_tokens), -(-end // chunk_tokens)):
        at = int(np.searchsorted(offsets[:-1], c * chunk_tokens - first_token, "left"))
        found[c] = first_token + (int(offsets[at]) if at < len(offsets) - 1 else len(ids))
    return found


def subsample_partition(restricted, keep, first_token, firsts, seed):
    from .svd.ppmi import subsample_stretch

    with _TASK_LOCK:
        return subsample_stretch(restricted[0], restricted[1], keep, first_token, firsts, seed)


def count_partition_rows(restricted, n_words, row_edges, window, weighting, symmetric,
                         memory_gb, threads, hosts, tmp_dir, topic=None):
    """A partition's pair counts as one sorted (keys, counts) piece per row range.

    Keys are row * n_words + col of the whole matrix: a symmetric count's upper triangle
    is mirrored here (`_whole_rows`), so each row range can be reduced to its CSR rows
    alone.
    """
    from .cooccur.counts import count_runs

    ids, offsets = restricted
    edge_keys = np.asarray(row_edges, dtype=np.int64) * n_words
    pieces = [[] for _ in range(len(row_edges) - 1)]
    with _TASK_LOCK:
        store = count_runs(ids, offsets, n_words, window, weighting, symmetric,
                           _worker_memory_gb(memory_gb), _worker_threads(threads, hosts),
                           tmp_dir, on_tokens=lambda n: _report(topic, n))
        try:
            for keys, counts in store.blocks():
                if symmetric:
                    keys, counts = _whole_rows(keys, counts, n_words)
                cuts = np.searchsorted(keys, edge_keys)
                for r in range(len(pieces)):
                    if cuts[r + 1] > cuts[r]:
                        pieces[r].append((keys[cuts[r]:cuts[r + 1]].copy(),
                                          counts[cuts[r]:cuts[r + 1]].copy()))
        finally:
            store.close()
        return tuple(_merged(piece) for piece in pieces)


def _whole_rows(keys, counts, n_words):
    """Sorted upper-triangle entries (row <= col) as the symmetric matrix's entries, sorted:
    each off-diagonal entry also as (col, row), the diagonal doubled (as `fill_csr` does)."""
    from .cooccur.kernels import transposed
    from .runtime.runs import merge_two

    rows = keys // n_words
    counts = counts.copy()
    counts[rows == keys - rows * n_words] *= 2
    below_keys = np.empty(len(keys), dtype=np.int64)
    below_counts = np.empty(len(keys), dtype=np.int64)
    m = transposed(keys, counts, n_words, below_keys, below_counts)
    out_keys = np.empty(len(keys) + m, dtype=np.int64)
    out_counts = np.empty(len(keys) + m, dtype=np.int64)
    n = merge_two(keys, counts, below_keys[:m], below_counts[:m], out_keys, out_counts)
    return out_keys[:n], out_counts[:n]


def _merged(runs):
    from .runtime.runs import merge_pair

    if not runs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    while len(runs) > 1:
        runs = [merge_pair(runs[i], runs[i + 1]) if i + 1 < len(runs) else runs[i]
                for i in range(0, len(runs), 2)]
    return runs[0]


def piece_of(pieces, r):
    return pieces[r]


def reduce_rows(first_row, end_row, n_words, scale, memory_gb, tmp_dir, *pieces):
    """The CSR rows first_row:end_row of the pieces' counts: (row lengths, indices, data).

    The pieces are merged through `cooccur`'s run store (spilling past memory_gb), then
    filled in two passes by the kernels `cooccurrence_matrix` fills its rows with.
    """
    from .cooccur.kernels import add_row_lengths, fill_csr
    from .runtime.runs import BYTES_PER_ENTRY, RunStore

    with _TASK_LOCK:
        budget = int(_worker_memory_gb(memory_gb) * 1e9)
        store = RunStore(budget // 2 // BYTES_PER_ENTRY, budget, tmp_dir)
        base = first_row * n_words
        try:
            for keys, counts in pieces:
                if len(keys):
                    store.push(keys - base, counts)
            store.finish()
            lengths = np.zeros(end_row - first_row, dtype=np.int64)
            for keys, _ in store.blocks():
                add_row_lengths(keys, n_words, False, lengths)
            nnz = int(lengths.sum())
            cursor = np.zeros(len(lengths), dtype=np.int64)
            np.cumsum(lengths[:-1], out=cursor[1:])
            indices = np.empty(nnz, dtype=np.int64)
            data = np.empty(nnz, dtype=np.float32)
            for keys, counts in store.blocks():
                fill_csr(keys, counts, n_words, False, float(scale), cursor, indices, data)
        finally:
            store.close()
        return lengths, indices, data


def row_ranges(vocab_counts, n_ranges, window):
    """Row boundaries of n_ranges ranges of about equal entries (a row's entries are at
    most min(2 window count, V))."""
    n_words = len(vocab_counts)
    n_ranges = max(1, min(n_ranges, n_words))
    weight = np.minimum(np.asarray(vocab_counts, dtype=np.float64) * 2 * window, n_words)
    total = np.cumsum(weight)
    cuts = np.searchsorted(total, total[-1] * np.arange(1, n_ranges) / n_ranges, "right")
    return np.unique(np.concatenate(([0], cuts, [n_words]))).astype(np.int64)


# --------------------------------------------------------------------------- orchestration


def _check_futures(distributed, futures):
    """Wait for futures; raise the error of the first (in text order) that failed."""
    distributed.wait(futures)
    for future in futures:
        if future.status == "error":
            error = future.exception()
            if isinstance(error, W2VError):
                raise error
            if type(error).__name__ == "KilledWorker":
                raise W2VError(f"Dask workers kept dying on one task ({error}); "
                               "is --memory above what a worker may use?") from None
            raise error
        if future.status == "cancelled":
            raise W2VError("a Dask task was cancelled (did the cluster shut down?)")


def _submit(client, name, token, i, func, *args, **kwargs):
    return client.submit(func, *args, key=f"w2v-{name}-{token}-{i}", pure=False, **kwargs)


def _words_phase(client, distributed, parts, lowercase, preprocess, progress, token):
    """Scan every partition; returns (scanned futures, merged tally future)."""
    total = sum(p.end - p.start for p in parts)
    bar = _Progress(client, progress, total, "B", "reading")
    try:
        scanned = [_submit(client, "scan", token, i, scan_partition, part, lowercase,
                           preprocess, bar.topic) for i, part in enumerate(parts)]
        _check_futures(distributed, scanned)
    finally:
        bar.close()
    tallies = [_submit(client, "tally", token, i, tally_of, s) for i, s in enumerate(scanned)]
    level = 0
    while len(tallies) > 1:
        tallies = [_submit(client, f"merge{level}", token, i, merge_tallies,
                           *tallies[i:i + MERGE_FAN_IN])
                   for i in range(0, len(tallies), MERGE_FAN_IN)]
        level += 1
    return scanned, tallies[0]


def _n_partitions(client, partitions):
    if partitions is not None:
        if partitions < 1:
            raise OptionError(f"partitions must be at least 1, got {partitions}")
        return partitions
    return 2 * max(1, len(client.scheduler_info().get("workers", {})))


def count_vocabulary(inputs, *, min_count=5, max_vocab=None, lowercase=False, preprocess="none",
                     dask=None, workers=None, partitions=None, progress=False):
    """`count_corpus(...).vocab(min_count, max_vocab)` on a Dask cluster.

    dask: a `distributed.Client`, a scheduler address or file, or None for a LocalCluster
    of `workers` processes. Returns (vocab, tokens read, invalid bytes replaced).
    """
    distributed = import_distributed()
    from .corpus.corpus import expand_inputs

    input_files(inputs)
    with connect(dask, workers) as client:
        parts = plan_partitions(inputs, _n_partitions(client, partitions))
        token = uuid.uuid4().hex[:12]
        _, tally = _words_phase(client, distributed, parts, lowercase, preprocess, progress,
                                token)
        chosen = _submit(client, "vocab", token, 0, choose_vocab, tally, min_count, max_vocab,
                         expand_inputs(inputs))
        _check_futures(distributed, [chosen])
        vocab, n_raw, invalid = chosen.result()
    if invalid:
        log.warning("replaced %d bytes that were not valid UTF-8", invalid)
    return vocab, n_raw, invalid


def cooccurrence_counts(inputs, *, min_count=5, max_vocab=None, vocab=None, lowercase=False,
                        preprocess="none", max_sentence_length=10000, window=10,
                        weighting="harmonic", symmetric=True, sample=0.0, seed=1,
                        memory_gb=None, threads=None, tmp_dir=None, dask=None, workers=None,
                        partitions=None, progress=False, stats=None, phrases=0,
                        phrase_threshold=None):
    """`load_corpus` + `cooccurrence_matrix` on a Dask cluster: (matrix, vocab, record).

    The options mean what they mean there; `sample` > 0 subsamples the tokens first as
    `w2v svd` does (`ppmi.subsample_corpus`, with `seed`). `vocab` given: count over it
    (words outside dropped). memory_gb and threads apply per worker (default: half the
    worker's memory limit; the host's cores shared by its workers). record: tokens and
    sentences counted. `stats`, if a dict, receives figures of the run.
    """
    import time

    import scipy.sparse

    from .cooccur.counts import check_options, counting_plan
    from .corpus.corpus import expand_inputs

    check_options(window, weighting, memory_gb, threads)
    if phrases:  # a phrase pass needs the whole corpus counted first: one process only
        raise OptionError("--phrases runs in one process; drop --dask, or run `w2v phrases` "
                          "first and count its output on the cluster")
    distributed = import_distributed()
    input_files(inputs)
    started = time.perf_counter()
    with connect(dask, workers) as client:
        n_parts = _n_partitions(client, partitions)
        parts = plan_partitions(inputs, n_parts)
        token = uuid.uuid4().hex[:12]
        scanned, tally = _words_phase(client, distributed, parts, lowercase, preprocess,
                                      progress, token)
        if vocab is None:
            chosen = _submit(client, "vocab", token, 0, choose_vocab, tally, min_count,
                             max_vocab, expand_inputs(inputs))
            _check_futures(distributed, [chosen])
            vocab, n_raw, invalid = chosen.result()
        else:
            tally_result = tally.result()
            n_raw, invalid = tally_result.n_tokens, tally_result.invalid
            del tally_result
        del tally
        if invalid:
            log.warning("replaced %d bytes that were not valid UTF-8", invalid)
        read_seconds = time.perf_counter() - started
        n_words = len(vocab)
        _, scale, _, _ = counting_plan(window, weighting, n_words)
        [shared_vocab] = client.scatter([vocab], broadcast=True, hash=False)
        restricted = [_submit(client, "restrict", token, i, restrict_partition, s, shared_vocab,
                              max_sentence_length) for i, s in enumerate(scanned)]
        del scanned
        sizes = client.gather([_submit(client, "size", token, i, tokens_of, r)
                               for i, r in enumerate(restricted)])
        n_tokens = sum(t for t, _ in sizes)
        n_sentences = sum(s for _, s in sizes)
        if n_tokens == 0:
            raise VocabularyError("no token of the corpus is in the vocabulary")
        log.info("corpus: %d tokens, %d words (%d partitions, %.1fs)", n_tokens, n_words,
                 len(parts), read_seconds)
        if sample > 0:
            restricted, n_counted = _subsample(client, distributed, restricted, sizes, vocab,
                                               sample, seed, token)
        else:
            n_counted = n_tokens
        edges = row_ranges(vocab.counts, max(n_parts, 1), window)
        hosts = _workers_per_host(client)
        bar = _Progress(client, progress, n_counted, "tok", "counting")
        try:
            counted = [_submit(client, "count", token, i, count_partition_rows, r, n_words,
                               edges, window, weighting, symmetric, memory_gb, threads, hosts,
                               tmp_dir, bar.topic) for i, r in enumerate(restricted)]
            del restricted
            _check_futures(distributed, counted)
        finally:
            bar.close()
        shuffled = _shuffled_bytes(client, counted, token)
        reduced = []
        for r in range(len(edges) - 1):
            pieces = [_submit(client, f"piece{r}", token, i, piece_of, c, r)
                      for i, c in enumerate(counted)]
            reduced.append(_submit(client, "rows", token, r, reduce_rows, int(edges[r]),
                                   int(edges[r + 1]), n_words, scale, memory_gb, tmp_dir,
                                   *pieces))
        del counted
        _check_futures(distributed, reduced)
        rows = client.gather(reduced)
        del reduced
    lengths = np.concatenate([r[0] for r in rows])
    nnz = int(lengths.sum())
    index_dtype = np.int32 if nnz < 2**31 else np.int64
    indptr = np.zeros(n_words + 1, dtype=index_dtype)
    np.cumsum(lengths, out=indptr[1:])
    indices = np.concatenate([r[1] for r in rows]).astype(index_dtype, copy=False)
    data = np.concatenate([r[2] for r in rows])
    del rows
    matrix = scipy.sparse.csr_matrix((data, indices, indptr), shape=(n_words, n_words),
                                     copy=False)
    elapsed = time.perf_counter() - started
    log.info("co-occurrences: %d non-zeros over %d words, %d tokens in %.1f s on the cluster "
             "(%.2fM tokens/s)", matrix.nnz, n_words, n_counted, elapsed,
             n_counted / max(elapsed, 1e-9) / 1e6)
    if stats is not None:
        stats.update(seconds=elapsed, read_seconds=read_seconds, nnz=matrix.nnz,
                     partitions=len(parts), row_ranges=len(edges) - 1, shuffled_bytes=shuffled)
    record = {"tokens": n_tokens, "sentences": n_sentences, "tokens_read": n_raw,
              "inputs": [os.path.abspath(p) for p in expand_inputs(inputs)]}
    return matrix, vocab, record


def _shuffled_bytes(client, counted, token):
    """Bytes of the row-range pieces (what moves between the count and the row tasks)."""
    sizes = [_submit(client, "nbytes", token, i, _pieces_nbytes, c)
             for i, c in enumerate(counted)]
    return int(sum(client.gather(sizes)))


def _pieces_nbytes(pieces):
    return sum(k.nbytes + c.nbytes for k, c in pieces)


def _subsample(client, distributed, restricted, sizes, vocab, sample, seed, token):
    """The partitions subsampled as `subsample_corpus` would subsample the whole corpus."""
    from .svd.ppmi import SUBSAMPLE_CHUNK_TOKENS
    from .runtime.rng import keep_probabilities

    firsts_at = np.concatenate(([0], np.cumsum([t for t, _ in sizes]))).astype(np.int64)
    found = client.gather([_submit(client, "chunks", token, i, chunk_firsts, r,
                                   int(firsts_at[i]), SUBSAMPLE_CHUNK_TOKENS)
                           for i, r in enumerate(restricted)])
    n_chunks = max(1, -(-int(firsts_at[-1]) // SUBSAMPLE_CHUNK_TOKENS))
    firsts = np.zeros(n_chunks, dtype=np.int64)
    for part in found:
        for c, at in part.items():
            firsts[c] = at
    keep = keep_probabilities(vocab.counts, sample)
    sampled = [_submit(client, "sample", token, i, subsample_partition, r, keep,
                       int(firsts_at[i]), firsts, seed) for i, r in enumerate(restricted)]
    _check_futures(distributed, sampled)
    n_kept = sum(t for t, _ in client.gather([_submit(client, "ssize", token, i, tokens_of, s)
                                              for i, s in enumerate(sampled)]))
    log.info("subsample: kept %d of %d tokens (sample %g)", n_kept, int(firsts_at[-1]), sample)
    return sampled, n_kept

