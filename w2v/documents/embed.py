"""Embedding texts and files with a pooling: one vector per line of text.

Row i of every result is line i of the input; a line with no known word (or no word at
all) gets a zero row. numpy only: `embed`, `search` and `evaluate --sts` never import numba.
"""

import dataclasses
import logging

import numpy as np

from ..corpus.phrase_tables import PhraseJoiner
from ..errors import OptionError
from ..text.preprocess import normaliser
from .pooling import Pooling, make_pooling

log = logging.getLogger("w2v")


@dataclasses.dataclass
class Embedding:
    """Document vectors (row i = document i) and the pooling that made them."""

    vectors: np.ndarray
    pooling: Pooling
    tokens: int = 0  # tokens read
    unknown: int = 0  # tokens outside the vocabulary, skipped
    empty: int = 0  # documents with no known word (zero rows)

    def __len__(self):
        return len(self.vectors)


class _Pooler:
    """Turns lists of lines into raw (not yet component-removed) document vectors."""

    def __init__(self, wv, pooling):
        self.index = wv.index
        self.matrix = pooling.word_matrix(wv)
        # an encoder with the minimum part: its words' rows, and the minimum per document
        self.rows = pooling.row_matrix(wv) if pooling.min_weight > 0 else None
        self.minima = []
        self.normalise = normaliser(pooling.preprocess)
        self.lowercase = pooling.lowercase
        self.phrases = None if pooling.phrases is None else PhraseJoiner(pooling.phrases)
        self.blocks = []
        self.tokens = self.unknown = self.empty = 0

    def text(self, text):
        """Apply the tokenisation's text steps to a block (before splitting)."""
        if self.normalise is not None:
            text = self.normalise(text)
        return text.lower() if self.lowercase else text

    def add(self, lines):
        """Pool a list of lines (already through `text`)."""
        index = self.index
        ids, lengths = [], np.zeros(len(lines), dtype=np.int64)
        tokens = 0
        for i, line in enumerate(lines):
            words = line.split()
            if self.phrases is not None:
                words = self.phrases.join(words)
            tokens += len(words)
            known = [index[w] for w in words if w in index]
            lengths[i] = len(known)
            ids.extend(known)
        self.tokens += tokens
        self.unknown += tokens - len(ids)
        self.empty += int(np.count_nonzero(lengths == 0))
        out = np.zeros((len(lines), self.matrix.shape[1]), dtype=np.float32)
        filled = np.flatnonzero(lengths)
        if len(filled):
            starts = np.concatenate([[0], np.cumsum(lengths[filled])[:-1]])
            sums = np.add.reduceat(self.matrix[np.asarray(ids, dtype=np.int64)], starts, axis=0,
                                   dtype=np.float64)
            out[filled] = sums / lengths[filled, None]
        self.blocks.append(out)
        if self.rows is not None:
            minimum = np.zeros_like(out)
            if len(filled):
                minimum[filled] = np.minimum.reduceat(
                    self.rows[np.asarray(ids, dtype=np.int64)], starts, axis=0)
            self.minima.append(minimum)

    def result(self):
        if not self.blocks:
            return np.zeros((0, self.matrix.shape[1]), dtype=np.float32)
        return np.concatenate(self.blocks) if len(self.blocks) > 1 else self.blocks[0]


def _finish(pooler, pooling, label="documents", side="document"):
    raw = pooler.result()
    if not pooling.fitted:
        pooling.fit(raw)
    raw = pooling.apply(raw, side)
    if pooler.rows is not None:
        raw = pooling.combine(raw, np.concatenate(pooler.minima) if pooler.minima
                              else np.zeros_like(raw))
    if pooler.empty:
        log.warning("%d of %d %s have no known word: zero vectors", pooler.empty, len(raw), label)
    return Embedding(raw, pooling, pooler.tokens, pooler.unknown, pooler.empty)


def _pooling_for(wv, pooling, options):
    """A Pooling given is checked against the vectors; a name makes a new one."""
    if isinstance(pooling, Pooling):
        if options.get("remove_pc") is not None or options.get("a") is not None:
            raise OptionError("a saved pooling carries its own a and components")
        if options.get("phrases") is not None:
            raise OptionError("a saved pooling carries its own phrases")
        pooling.check(wv)
        return pooling
    return make_pooling(wv, pooling, **options)


def embed(wv, texts, pooling="auto", *, counts=None, a=None, remove_pc=None, normalize=False,
          lowercase=False, preprocess="none", phrases=None, label="documents", side="document"):
    """Pool the word vectors of each text (one document each) into an `Embedding`.

    `pooling` is "mean", "sif", "usif", "auto" (uSIF when counts are known) or a fitted
    `Pooling` (then the texts are embedded exactly as the documents it was fitted on, e.g.
    queries). A pooling not yet fitted removes components found on these texts themselves.
    A text holding newlines is still one document. `phrases` (see `make_pooling`) are joined
    after splitting. `label` names the texts in the warning about texts with no known word.
    `side` "query" embeds with the query side of an asymmetric tuned encoder (`w2v tune
    --asymmetric`); every other pooling has one side.
    """
    pooling = _pooling_for(wv, pooling, dict(
        counts=counts, a=a, remove_pc=remove_pc, normalize=normalize, lowercase=lowercase,
        preprocess=preprocess, phrases=phrases))
    if isinstance(texts, str):
        raise OptionError("texts must be a list of strings (one document each), not a string")
    pooler = _Pooler(wv, pooling)
    batch = []
    for text in texts:
        batch.append(pooler.text(text))
        if len(batch) == 8192:
            pooler.add(batch)
            batch = []
    pooler.add(batch)
    return _finish(pooler, pooling, label, side)


def embed_files(wv, paths, pooling="auto", *, keep_text=False, id_column=False, **options):
    """`embed` over the lines of text files ('-' is stdin, .gz/.bz2/.xz read as text).

    Row i is line i, across the files in order. With `keep_text`, also returns a
    `LineStore` of the original lines (for showing search hits); with `id_column`, the first
    tab-separated field of each line is its id (returned as a list) and not embedded.
    Returns (Embedding, LineStore or None, ids or None).
    """
    from ..text.sources import InvalidBytes, decoded_blocks

    pooling = _pooling_for(wv, pooling, options)
    pooler = _Pooler(wv, pooling)
    invalid = InvalidBytes()
    store = LineStore() if keep_text else None
    ids = [] if id_column else None
    for block in decoded_blocks(paths, invalid):
        lines = block.split("\n")[:-1]  # a block ends with "\n"
        if store is not None:
            store.add(block, len(lines))
        if id_column:
            parts = [line.split("\t", 1) for line in lines]
            ids.extend(p[0].strip() for p in parts)
            lines = [p[1] if len(p) > 1 else "" for p in parts]
        if pooling.preprocess != "none" or pooling.lowercase:
            lines = pooler.text("\n".join(lines)).split("\n")
        pooler.add(lines)
    if invalid.count:
        log.warning("%d invalid UTF-8 bytes replaced with U+FFFD", invalid.count)
    return _finish(pooler, pooling), store, ids


class LineStore:
    """The lines of the documents as a few large strings, one per block read, not one
    Python string per line."""

    def __init__(self):
        self.blocks, self.first_line, self.line_starts = [], [0], []

    def add(self, block, n_lines):
        self.blocks.append(block)
        ends = np.flatnonzero(np.frombuffer(block.encode("utf-32-le"), dtype="<u4") == 10)
        self.line_starts.append(np.concatenate([[0], ends[:-1] + 1]))
        self.first_line.append(self.first_line[-1] + n_lines)

    def __len__(self):
        return self.first_line[-1]

    def __getitem__(self, i):
        block = int(np.searchsorted(self.first_line, i, side="right")) - 1
        starts = self.line_starts[block]
        j = i - self.first_line[block]
        text = self.blocks[block]
        end = starts[j + 1] - 1 if j + 1 < len(starts) else len(text) - 1
        return text[starts[j]:end].rstrip("\r")
