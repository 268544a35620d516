"""The count file: co-occurrence counts with their vocabulary and window settings, as .npz
(written and read through the one container of w2v's data files)."""

import hashlib

import numpy as np

from ..corpus.vocab import Vocab
from ..errors import InputError
from ..files import container
from ..files.container import COUNTS
from .weights import WEIGHTINGS

FORMAT_VERSION = COUNTS.version


def save_cooccur(path, matrix, vocab, window, weighting, symmetric=True):
    """Write counts with their vocabulary and window settings (.npz), atomically.

    The words are stored with their counts, so a later run can check that its vocabulary
    is the same one the counts were made over.
    """
    import scipy.sparse

    matrix = scipy.sparse.csr_matrix(matrix)
    meta = {**COUNTS.stamp(), "window": int(window), "weighting": str(weighting),
            "symmetric": bool(symmetric)}
    words = "\n".join(vocab.words)
    container.write(path, COUNTS, dict(
        data=matrix.data.astype(np.float32, copy=False), indices=matrix.indices,
        indptr=matrix.indptr, shape=np.array(matrix.shape, dtype=np.int64),
        words=np.frombuffer(words.encode("utf-8"), dtype=np.uint8),
        counts=np.asarray(vocab.counts, dtype=np.int64), meta=container.json_member(meta, COUNTS)))


def load_cooccur(path, vocab=None, window=None, weighting=None):
    """Read a count file: returns (matrix, vocab, meta).

    If vocab (a Vocab or a list of words), window or weighting is given and differs from
    what the file was made with, raises InputError saying what differs.
    """
    import scipy.sparse

    with container.Container(path, COUNTS) as f:
        meta = f.read_header()
        _check_meta(f, meta)
        words, counts, (indptr, indices, data) = _checked_members(f)
        n = len(words)
        matrix = scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, n), copy=False)
        try:
            file_vocab = Vocab(words, counts)
        except ValueError as e:
            raise InputError(f.broken(f"its vocabulary is damaged ({e})")) from None
    _check_asked(path, meta, words, vocab, window, weighting)
    return matrix, file_vocab, meta


def _check_asked(path, meta, words, vocab, window, weighting):
    """InputError unless the file's words and settings are those asked for (None: any)."""
    if vocab is not None:
        expected = list(vocab.words if hasattr(vocab, "words") else vocab)
        if expected != words:
            raise InputError(_vocab_mismatch(path, words, expected))
    for name, value in (("window", window), ("weighting", weighting)):
        if value is not None and meta.get(name) != value:
            raise InputError(f"{path} was counted with {name} {meta.get(name)}, not {value}")


def _check_meta(f, meta):
    """The settings a count file records, of the types readers use."""
    window = meta.get("window")
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise InputError(f.broken(f"its header holds window {window!r}"))
    if meta.get("weighting") not in WEIGHTINGS:
        raise InputError(f.broken(f"its header holds weighting {meta.get('weighting')!r}"))
    if not isinstance(meta.get("symmetric", True), bool):
        raise InputError(f.broken(f"its header holds symmetric {meta.get('symmetric')!r}"))


def _checked_members(f):
    """(words, counts, (indptr, indices, data)) of an open count file, each checked: the
    shape square and one row per word, indptr rising from 0 to the non-zeros, every index
    a column of the matrix, every count finite and positive. Members are read from their
    offsets without a CRC check, so a flipped byte must not reach the kernels that trust
    this structure."""
    words, counts, indptr = _checked_rows(f)
    indices, data = f.array("indices"), f.array("data")
    indices, data = _checked_entries(f, indices, data, len(words))
    _need(f, len(indices) == indptr[-1], f"indptr of {len(indptr)} and indices of "
                                         f"{len(indices)} for {len(words)} words and "
                                         f"{len(data)} counts")
    return words, counts, (indptr, indices, data)


def _need(f, ok, why):
    if not ok:
        raise InputError(f"{f.path} is not a valid w2v co-occurrence file ({why})")


def _checked_rows(f):
    """(words, counts, indptr) of an open count file, checked (see `_checked_members`)."""
    raw = f.array("words")
    _need(f, raw.dtype == np.uint8 and raw.ndim == 1, "its words are not UTF-8 bytes")
    try:
        text = raw.tobytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f.broken(f"its words are not valid UTF-8 (byte {e.start})")) from None
    words = text.split("\n") if text else []
    n = len(words)
    shape, counts = f.array("shape"), f.array("counts")
    _need(f, shape.dtype.kind in "iu" and shape.shape == (2,), f"its shape is {shape!r}")
    if tuple(int(x) for x in shape) != (n, n) or counts.shape != (n,):
        raise InputError(f"{f.path}: matrix of shape {tuple(int(x) for x in shape)} for {n} "
                         f"words")
    _need(f, counts.dtype.kind in "iu" and (n == 0 or counts.min() >= 0),
          "its word counts are not non-negative integers")
    indptr = f.array("indptr")
    _need(f, indptr.ndim == 1 and indptr.dtype.kind == "i" and indptr.dtype.itemsize in (4, 8),
          f"indptr is {indptr.dtype} {indptr.shape}")
    indptr = indptr.astype(indptr.dtype.newbyteorder("="), copy=False)
    _need(f, len(indptr) == n + 1, f"indptr of {len(indptr)} for {n} words")
    _need(f, indptr[0] == 0 and (np.diff(indptr) >= 0).all(),
          "indptr does not rise from 0 to the number of counts")
    return words, counts.astype(np.int64), indptr


def _checked_entries(f, indices, data, n):
    """Column indices and counts (all of them, or a range), checked and in the types the
    kernels take: native int indices within the matrix, float32 counts finite and positive."""
    for name, array, kinds in (("indices", indices, "i"), ("data", data, "f")):
        _need(f, array.ndim == 1 and array.dtype.kind in kinds and array.dtype.itemsize in (4, 8),
              f"{name} is {array.dtype} {array.shape}")
    _need(f, len(indices) == len(data), f"{len(indices)} indices for {len(data)} counts")
    indices = indices.astype(indices.dtype.newbyteorder("="), copy=False)
    data = data.astype(np.float32, copy=False)
    _need(f, len(indices) == 0 or (indices.min() >= 0 and indices.max() < n),
          "a column index is out of range")
    _need(f, len(data) == 0 or (np.isfinite(data).all() and data.min() > 0),
          "a count is not finite and positive")
    return indices, data


def row_chunk_bounds(indptr, nnz_per_chunk):
    """(first, end) of consecutive runs of whole CSR rows of about `nnz_per_chunk` entries
    each (a longer row alone), in row order."""
    n, first = len(indptr) - 1, 0
    while first < n:
        end = int(np.searchsorted(indptr, indptr[first] + nnz_per_chunk, side="right")) - 1
        end = min(max(end, first + 1), n)
        yield first, end
        first = end


def open_cooccur(path, vocab=None, window=None, weighting=None):
    """`load_cooccur` without reading the counts: (CountFile, vocab, meta)."""
    counts = CountFile(path, vocab, window, weighting)
    return counts, counts.vocab, counts.meta


class CountFile:
    """A count file read by row ranges, never whole: its vocabulary, settings and row
    lengths up front, its entries chunk by chunk (`row_chunks`), each checked as it is read.
    What a cluster run deals out to its workers without holding the matrix."""

    def __init__(self, path, vocab=None, window=None, weighting=None):
        self.path = path
        self._file = f = container.Container(path, COUNTS)
        try:
            meta = f.read_header()
            _check_meta(f, meta)
            words, counts, self.indptr = _checked_rows(f)
            self._indices, self._data = f.slices("indices"), f.slices("data")
            nnz = int(self.indptr[-1])
            _need(f, len(self._indices) == nnz and len(self._data) == nnz,
                  f"indptr of {len(self.indptr)} and indices of {len(self._indices)} for "
                  f"{len(words)} words and {len(self._data)} counts")
            try:
                self.vocab = Vocab(words, counts)
            except ValueError as e:
                raise InputError(f.broken(f"its vocabulary is damaged ({e})")) from None
        except BaseException:
            f.close()
            raise
        _check_asked(path, meta, words, vocab, window, weighting)
        self.meta = meta
        n = len(words)
        self.shape, self.nnz = (n, n), nnz
        self.row_lengths = np.diff(self.indptr)

    def row_chunks(self, nnz_per_chunk=1 << 22):
        """(first row, row lengths, indices, data) of consecutive whole rows, about
        `nnz_per_chunk` entries each (a longer row alone), in row order."""
        for first, end in row_chunk_bounds(self.indptr, nnz_per_chunk):
            lo, hi = int(self.indptr[first]), int(self.indptr[end])
            indices, data = _checked_entries(self._file, self._indices.read(lo, hi),
                                             self._data.read(lo, hi), self.shape[0])
            yield first, self.row_lengths[first:end], indices, data

    def counts_record(self, source=None):
        """`checkpoints.counts_record` of the matrix, read through once in chunks."""
        def arrays():
            yield np.asarray(self.shape, dtype=np.int64), None
            yield self.indptr, np.int64
            chunks = list(self._ranges())
            for lo, hi in chunks:
                yield self._indices.read(lo, hi), np.int32
            for lo, hi in chunks:
                yield self._data.read(lo, hi), np.float32

        return {"words": self.shape[0], "nnz": self.nnz, "fingerprint": counts_digest(arrays()),
                **(source or {})}

    def _ranges(self, step=1 << 20):
        return ((lo, min(lo + step, self.nnz)) for lo in range(0, self.nnz, step))

    def close(self):
        self._file.close()


def counts_digest(arrays):
    """The fingerprint of a matrix's arrays, given as (slice, dtype) in order: the same
    for any slicing of the same arrays. A slice already contiguous in its dtype is hashed
    where it lies, not copied."""
    digest = hashlib.blake2b(digest_size=16)
    for array, dtype in arrays:
        digest.update(memoryview(np.ascontiguousarray(array, dtype=dtype)).cast("B"))
    return digest.hexdigest()


def _vocab_mismatch(path, words, expected):
    if len(words) != len(expected):
        return (f"{path} was counted over a different vocabulary: {len(words)} words, "
                f"not {len(expected)}")
    at = next(i for i, (a, b) in enumerate(zip(words, expected)) if a != b)
    return (f"{path} was counted over a different vocabulary: word {at} is {words[at]!r}, "
            f"not {expected[at]!r}")
