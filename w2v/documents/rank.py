"""The exact top n documents of many queries, by inner product, without scoring them all at once.

Documents are scored in blocks of rows, each block against a batch of queries in one BLAS
sgemm (numpy `@`) into a reused float32 buffer. Each query keeps its n best so far, and its
n-th best score is a threshold: the maxima of a block's segments (one vectorised pass) say
where a query has anything above it, and only those segments are searched and merged.
After the first blocks almost nothing is, so the cost is the matrix product and the maxima.
The first block has no threshold yet: there the n-th best of a strided sample of each row
bounds what can stay, so a single query over a million rows is one product, one comparison
and a sort of a few thousand entries, never an argpartition of all its scores.

The order is exact, ties included: best score first, equal scores to the lower row, as a
stable sort of all scores would give. Blocks come in row order, so an entry equal to the
current n-th best comes from a later row and loses the tie: strict `>` against the threshold
drops nothing that belongs in the top n.

numpy only (the query path never imports numba). The documents may be a memory map: blocks
are views of it, never copies.
"""

import numpy as np

from ..errors import InputError, OptionError
from ..vectors.word_vectors import unit_rows

METRICS = ("cosine", "dot")
BLOCK_SCORES = 1 << 23  # query x document scores per block (32 MiB of float32)
MAX_QUERY_BATCH = 512  # queries per pass over the documents
SEGMENT = 1024  # columns of a block whose maximum is checked against a query's threshold
SAMPLE = 4096  # columns sampled for a first bound on a query's n-th best
PER_N = 16  # ... or this many per result wanted; more entries than this per result: crowded


def top_n(documents, queries, n, scale=None):
    """(rows, scores), each (Q, n): the n best documents of each query, best first.

    `documents` (N x dim) and `queries` (Q x dim) are float32; a score is the inner product,
    times `scale[row]` when given (per-document factors, e.g. the norms of unit rows).
    `n` is at most N.
    """
    total, n_queries = len(documents), len(queries)
    rows = np.zeros((n_queries, n), dtype=np.int64)
    scores = np.zeros((n_queries, n), dtype=np.float32)
    if n == 0 or n_queries == 0:
        return rows, scores
    batch = min(n_queries, MAX_QUERY_BATCH)
    segments = max(1, min(BLOCK_SCORES // (batch * SEGMENT), -(-total // SEGMENT)))
    block_rows = segments * SEGMENT
    buffer = np.empty((batch, block_rows), dtype=np.float32)
    for start in range(0, n_queries, batch):
        stop = min(start + batch, n_queries)
        best = _RunningTop(stop - start, n, total)
        out = buffer[:stop - start]
        for first in range(0, total, block_rows):
            block = documents[first:first + block_rows]
            width = len(block)
            np.matmul(queries[start:stop], block.T, out=out[:, :width])
            if scale is not None:
                out[:, :width] *= scale[first:first + width]
            out[:, width:] = -np.inf  # the last block's unused columns
            best.add(out.reshape(len(out), segments, SEGMENT), first)
        rows[start:stop], scores[start:stop] = best.rows, best.scores
    return rows, scores


class _RunningTop:
    """Each query's n best (scores, rows) so far, sorted; -inf and row N until filled."""

    def __init__(self, n_queries, n, total):
        self.n = n
        self.scores = np.full((n_queries, n), -np.inf, dtype=np.float32)
        self.rows = np.full((n_queries, n), total, dtype=np.int64)

    def add(self, block, first):
        """Merge a block of scores (queries x segments x columns, documents from `first`)."""
        n = self.n
        threshold = self.scores[:, n - 1]
        # An entry must beat the n-th best so far: strictly, as it comes from a later row.
        limit = np.nextafter(threshold, np.float32(np.inf))  # and never the -inf padding
        unfilled = np.flatnonzero(threshold == -np.inf)
        if len(unfilled):  # the first block: at most the block's own n best stay
            flat = block.reshape(len(block), -1)
            limit[unfilled] = self._bound(flat if len(unfilled) == len(flat) else flat[unfilled])
        np.maximum(limit, np.finfo(np.float32).min, out=limit)
        if len(unfilled) == len(block):  # all bounds sampled: one comparison over the block
            flat = block.reshape(len(block), -1)
            query, column = np.nonzero(flat >= limit[:, None])
            score = flat[query, column]
            row = column + first
        else:
            query, segment = np.nonzero(block.max(axis=2) >= limit[:, None])
            if len(query) == 0:
                return
            pieces = block[query, segment]
            pair, column = np.nonzero(pieces >= limit[query, None])
            score = pieces[pair, column]
            query = query[pair]
            row = segment[pair] * block.shape[2] + column + first
        crowded = np.flatnonzero(np.bincount(query, minlength=len(limit)) > PER_N * n)
        crowded = crowded[threshold[crowded] > -np.inf]  # the unfilled have their bound
        if len(crowded):  # scores rising from block to block: keep about the block's n best
            bound = np.full(len(limit), -np.inf, dtype=np.float32)
            bound[crowded] = self._bound(block.reshape(len(block), -1)[crowded])
            keep = score >= bound[query]
            query, score, row = query[keep], score[keep], row[keep]
        self._merge(query, score, row)

    def _bound(self, rows):
        """At most each row's n-th largest value: the n-th largest of a strided sample (a few
        thousand columns), exact when the sample is the whole row. Entries at or above it
        hold the row's n best, ties included, and number about n x the stride."""
        n = min(self.n, rows.shape[1])
        stride = max(1, rows.shape[1] // max(SAMPLE, PER_N * n))
        sample = rows[:, ::stride]
        return -np.partition(-sample, n - 1, axis=1)[:, n - 1]

    def _merge(self, query, score, row):
        """Sort the new entries with the kept n of their queries; keep the first n of each."""
        n = self.n
        touched, query = np.unique(query, return_inverse=True)
        query = np.concatenate([np.repeat(np.arange(len(touched)), n), query])
        score = np.concatenate([self.scores[touched].ravel(), score])
        row = np.concatenate([self.rows[touched].ravel(), row])
        order = np.lexsort((row, -score, query))
        starts = np.concatenate([[0], np.cumsum(np.bincount(query))[:-1]])
        keep = order[starts[:, None] + np.arange(n)]
        self.scores[touched] = score[keep]
        self.rows[touched] = row[keep]


def check_metric(metric):
    value = str(metric).lower()
    if value not in METRICS:
        raise OptionError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return value


def top_documents(documents, queries, n=10, metric="cosine"):
    """(rows, scores): the n best documents of each query, best first.

    `documents` (N x dim) and `queries` (Q x dim) are pooled vectors; "cosine" scales both to
    unit length first (zero vectors score 0), "dot" uses them as they are. The ranking is
    exact: equal scores go to the lower row, as a stable sort of all scores would order
    them; documents are scored in blocks by matrix product (see `top_n`). A zero query (no
    known word) matches nothing: `hits` leaves it out.
    """
    metric = check_metric(metric)
    documents = np.asarray(documents, dtype=np.float32)
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    if queries.shape[1] != documents.shape[1]:
        raise InputError(f"queries have dimension {queries.shape[1]}, documents "
                         f"{documents.shape[1]}")
    if metric == "cosine":
        documents, queries = unit_rows(documents), unit_rows(queries)
    return top_n(documents, queries, max(0, min(n, len(documents))))



def hits(queries, rows, scores):
    """Per query a list of (row, score); empty for a query with no known word."""
    empty = ~np.any(queries != 0, axis=1)
    return [[] if e else list(zip(r.tolist(), s.tolist())) for e, r, s in zip(empty, rows, scores)]
