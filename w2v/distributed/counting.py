"""Counting on the cluster: the phases in order, as `count_corpus(...).vocab()` and
`load_corpus` + `cooccurrence_matrix` give them in one process."""

import logging
import os
import time
import uuid

import numpy as np

from ..cooccur.counts import check_options, counting_plan
from ..corpus.subsample import SUBSAMPLE_CHUNK_TOKENS, keep_probabilities
from ..errors import OptionError, VocabularyError
from ..text.sources import expand_inputs
from .cluster import (Progress, check_futures, cluster_workers, connect, import_distributed,
                      submit, workers_per_host)
from .pairs import (chunk_firsts, count_partition_rows, piece_of, reduce_rows, restrict_partition,
                    row_ranges, subsample_partition, tokens_of)
from .partitions import input_files, plan_partitions
from .words import choose_vocab, merge_tallies, scan_partition, tally_of

log = logging.getLogger("w2v")

MERGE_FAN_IN = 8  # word tallies merged by one task of the reduction


def _words_phase(client, distributed, parts, lowercase, preprocess, progress, token):
    """Scan every partition; returns (scanned futures, merged tally future)."""
    total = sum(p.end - p.start for p in parts)
    bar = Progress(client, progress, total, "B", "reading")
    try:
        scanned = [submit(client, "scan", token, i, scan_partition, part, lowercase,
                           preprocess, bar.topic) for i, part in enumerate(parts)]
        check_futures(distributed, scanned)
    finally:
        bar.close()
    tallies = [submit(client, "tally", token, i, tally_of, s) for i, s in enumerate(scanned)]
    level = 0
    while len(tallies) > 1:
        tallies = [submit(client, f"merge{level}", token, i, merge_tallies,
                           *tallies[i:i + MERGE_FAN_IN])
                   for i in range(0, len(tallies), MERGE_FAN_IN)]
        level += 1
    return scanned, tallies[0]


def _n_partitions(client, partitions):
    if partitions is not None:
        if partitions < 1:
            raise OptionError(f"partitions must be at least 1, got {partitions}")
        return partitions
    return 2 * max(1, len(cluster_workers(client)))


def count_vocabulary(inputs, *, min_count=5, max_vocab=None, lowercase=False, preprocess="none",
                     dask=None, workers=None, partitions=None, progress=False):
    """`count_corpus(...).vocab(min_count, max_vocab)` on a Dask cluster.

    dask: a `distributed.Client`, a scheduler address or file, or None for a LocalCluster
    of `workers` processes. Returns (vocab, tokens read, invalid bytes replaced).
    """
    distributed = import_distributed()
    input_files(inputs)
    with connect(dask, workers) as client:
        parts = plan_partitions(inputs, _n_partitions(client, partitions))
        token = uuid.uuid4().hex[:12]
        _, tally = _words_phase(client, distributed, parts, lowercase, preprocess, progress,
                                token)
        chosen = submit(client, "vocab", token, 0, choose_vocab, tally, min_count, max_vocab,
                         expand_inputs(inputs))
        check_futures(distributed, [chosen])
        vocab, n_raw, invalid = chosen.result()
    if invalid:
        log.warning("replaced %d bytes that were not valid UTF-8", invalid)
    return vocab, n_raw, invalid


def cooccurrence_counts(inputs, *, min_count=5, max_vocab=None, vocab=None, lowercase=False,
                        preprocess="none", max_sentence_length=10000, window=10,
                        weighting="harmonic", symmetric=True, sample=0.0, seed=1,
                        memory_gb=None, threads=None, tmp_dir=None, dask=None, workers=None,
                        partitions=None, progress=False, stats=None, phrases=0,
                        phrase_threshold=None, gather=True):
    """`load_corpus` + `cooccurrence_matrix` on a Dask cluster: (matrix, vocab, record).

    The options mean what they mean there; `sample` > 0 subsamples the tokens first as
    `w2v svd` does (`subsample.subsample_corpus`, with `seed`). `vocab` given: count over it
    (words outside dropped). memory_gb and threads apply per worker (default: half the
    worker's memory limit; the host's cores shared by its workers). record: tokens and
    sentences counted. `stats`, if a dict, receives figures of the run. With gather=False
    (`dask` must then be a Client, which the rows need) the matrix stays on the workers:
    a `ClusterRows` in its place.
    """
    import scipy.sparse

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
            chosen = submit(client, "vocab", token, 0, choose_vocab, tally, min_count,
                             max_vocab, expand_inputs(inputs))
            check_futures(distributed, [chosen])
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
        restricted = [submit(client, "restrict", token, i, restrict_partition, s, shared_vocab,
                              max_sentence_length) for i, s in enumerate(scanned)]
        del scanned
        sizes = client.gather([submit(client, "size", token, i, tokens_of, r)
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
        hosts = workers_per_host(client)
        bar = Progress(client, progress, n_counted, "tok", "counting")
        try:
            counted = [submit(client, "count", token, i, count_partition_rows, r, n_words,
                               edges, window, weighting, symmetric, memory_gb, threads, hosts,
                               tmp_dir, bar.topic) for i, r in enumerate(restricted)]
            del restricted
            check_futures(distributed, counted)
        finally:
            bar.close()
        shuffled = _shuffled_bytes(client, counted, token)
        reduced = []
        # Row ranges of about equal weight, dealt round the workers: counts left there
        # (gather=False) are spread evenly, not wherever the scheduler ran each range.
        names = sorted(cluster_workers(client)) or [None]
        for r in range(len(edges) - 1):
            pieces = [submit(client, f"piece{r}", token, i, piece_of, c, r)
                      for i, c in enumerate(counted)]
            home = names[r % len(names)]
            reduced.append(submit(client, "rows", token, r, reduce_rows, int(edges[r]),
                                   int(edges[r + 1]), n_words, scale, memory_gb, tmp_dir,
                                   *pieces, workers=None if home is None else [home],
                                   allow_other_workers=True))
        del counted
        check_futures(distributed, reduced)
        if not gather:
            lengths = np.concatenate(client.gather(
                [submit(client, "lengths", token, r, row_lengths, f)
                 for r, f in enumerate(reduced)]))
            record = {"tokens": n_tokens, "sentences": n_sentences, "tokens_read": n_raw,
                      "inputs": [os.path.abspath(p) for p in expand_inputs(inputs)]}
            log.info("co-occurrences: %d non-zeros over %d words, %d tokens in %.1f s on the "
                     "cluster, kept there", int(lengths.sum()), n_words, n_counted,
                     time.perf_counter() - started)
            return ClusterRows(reduced, edges, lengths), vocab, record
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


class ClusterRows:
    """A co-occurrence matrix left on the workers: `ranges`, futures of the CSR rows
    edges[r]:edges[r + 1] as (row lengths, indices, data), and every row's length."""

    def __init__(self, ranges, edges, lengths):
        self.ranges = ranges
        self.edges = np.asarray(edges, dtype=np.int64)
        self.row_lengths = np.asarray(lengths, dtype=np.int64)
        self.shape = (len(self.row_lengths), len(self.row_lengths))
        self.nnz = int(self.row_lengths.sum())

    def counts_record(self, source=None):
        """What a model records of these counts (no fingerprint: they were never whole)."""
        return {"words": self.shape[0], "nnz": self.nnz, "fingerprint": None, **(source or {})}


def row_lengths(rows):
    return rows[0]


def _shuffled_bytes(client, counted, token):
    """Bytes of the row-range pieces (what moves between the count and the row tasks)."""
    sizes = [submit(client, "nbytes", token, i, _pieces_nbytes, c)
             for i, c in enumerate(counted)]
    return int(sum(client.gather(sizes)))


def _pieces_nbytes(pieces):
    return sum(k.nbytes + c.nbytes for k, c in pieces)


def _subsample(client, distributed, restricted, sizes, vocab, sample, seed, token):
    """The partitions subsampled as `subsample_corpus` would subsample the whole corpus."""
    firsts_at = np.concatenate(([0], np.cumsum([t for t, _ in sizes]))).astype(np.int64)
    found = client.gather([submit(client, "chunks", token, i, chunk_firsts, r,
                                   int(firsts_at[i]), SUBSAMPLE_CHUNK_TOKENS)
                           for i, r in enumerate(restricted)])
    n_chunks = max(1, -(-int(firsts_at[-1]) // SUBSAMPLE_CHUNK_TOKENS))
    firsts = np.zeros(n_chunks, dtype=np.int64)
    for part in found:
        for c, at in part.items():
            firsts[c] = at
    keep = keep_probabilities(vocab.counts, sample)
    sampled = [submit(client, "sample", token, i, subsample_partition, r, keep,
                       int(firsts_at[i]), firsts, seed) for i, r in enumerate(restricted)]
    check_futures(distributed, sampled)
    n_kept = sum(t for t, _ in client.gather([submit(client, "ssize", token, i, tokens_of, s)
                                              for i, s in enumerate(sampled)]))
    log.info("subsample: kept %d of %d tokens (sample %g)", n_kept, int(firsts_at[-1]), sample)
    return sampled, n_kept
