"""The count file: co-occurrence counts with their vocabulary and window settings, as .npz
(written and read through the one container of w2v's data files)."""

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
    if vocab is not None:
        expected = list(vocab.words if hasattr(vocab, "words") else vocab)
        if expected != words:
            raise InputError(_vocab_mismatch(path, words, expected))
    for name, value in (("window", window), ("weighting", weighting)):
        if value is not None and meta.get(name) != value:
            raise InputError(f"{path} was counted with {name} {meta.get(name)}, not {value}")
    return matrix, file_vocab, meta


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
    def need(ok, why):
        if not ok:
            raise InputError(f"{f.path} is not a valid w2v co-occurrence file ({why})")

    raw = f.array("words")
    need(raw.dtype == np.uint8 and raw.ndim == 1, "its words are not UTF-8 bytes")
    try:
        text = raw.tobytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f.broken(f"its words are not valid UTF-8 (byte {e.start})")) from None
    words = text.split("\n") if text else []
    n = len(words)
    shape, counts = f.array("shape"), f.array("counts")
    need(shape.dtype.kind in "iu" and shape.shape == (2,), f"its shape is {shape!r}")
    if tuple(int(x) for x in shape) != (n, n) or counts.shape != (n,):
        raise InputError(f"{f.path}: matrix of shape {tuple(int(x) for x in shape)} for {n} "
                         f"words")
    need(counts.dtype.kind in "iu" and (n == 0 or counts.min() >= 0),
         "its word counts are not non-negative integers")
    indptr, indices, data = f.array("indptr"), f.array("indices"), f.array("data")
    for name, array, kinds in (("indptr", indptr, "i"), ("indices", indices, "i"),
                               ("data", data, "f")):
        need(array.ndim == 1 and array.dtype.kind in kinds and array.dtype.itemsize in (4, 8),
             f"{name} is {array.dtype} {array.shape}")
    # The kernels take native byte order, and counts as float32 (what w2v writes).
    indptr, indices = (a.astype(a.dtype.newbyteorder("="), copy=False) for a in (indptr, indices))
    data = data.astype(np.float32, copy=False)
    nnz = len(data)
    need(len(indptr) == n + 1 and len(indices) == nnz, f"indptr of {len(indptr)} and indices "
                                                      f"of {len(indices)} for {n} words and "
                                                      f"{nnz} counts")
    need(indptr[0] == 0 and indptr[-1] == nnz and (np.diff(indptr) >= 0).all(),
         "indptr does not rise from 0 to the number of counts")
    need(nnz == 0 or (indices.min() >= 0 and indices.max() < n), "a column index is out of "
                                                                  "range")
    need(nnz == 0 or (np.isfinite(data).all() and data.min() > 0),
         "a count is not finite and positive")
    return words, counts.astype(np.int64), (indptr, indices, data)


def _vocab_mismatch(path, words, expected):
    if len(words) != len(expected):
        return (f"{path} was counted over a different vocabulary: {len(words)} words, "
                f"not {len(expected)}")
    at = next(i for i, (a, b) in enumerate(zip(words, expected)) if a != b)
    return (f"{path} was counted over a different vocabulary: word {at} is {words[at]!r}, "
            f"not {expected[at]!r}")
