"""The count file: co-occurrence counts with their vocabulary and window settings, as .npz
(written and read through the one container of w2v's data files)."""

import numpy as np

from ..corpus.vocab import Vocab
from ..errors import InputError
from ..files import container
from ..files.container import COUNTS

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
        try:
            shape = tuple(int(x) for x in f.array("shape"))
            matrix = scipy.sparse.csr_matrix((f.array("data"), f.array("indices"),
                                              f.array("indptr")), shape=shape)
            text = bytes(f.array("words")).decode("utf-8")
        except (ValueError, TypeError) as e:
            raise InputError(f.broken(e)) from None
        words = text.split("\n") if text else []
        counts = f.array("counts")
    if len(words) != shape[0] or shape[0] != shape[1] or len(counts) != len(words):
        raise InputError(f"{path}: matrix of shape {shape} for {len(words)} words")
    file_vocab = Vocab(words, counts)
    if vocab is not None:
        expected = list(vocab.words if hasattr(vocab, "words") else vocab)
        if expected != words:
            raise InputError(_vocab_mismatch(path, words, expected))
    for name, value in (("window", window), ("weighting", weighting)):
        if value is not None and meta.get(name) != value:
            raise InputError(f"{path} was counted with {name} {meta.get(name)}, not {value}")
    return matrix, file_vocab, meta


def _vocab_mismatch(path, words, expected):
    if len(words) != len(expected):
        return (f"{path} was counted over a different vocabulary: {len(words)} words, "
                f"not {len(expected)}")
    at = next(i for i, (a, b) in enumerate(zip(words, expected)) if a != b)
    return (f"{path} was counted over a different vocabulary: word {at} is {words[at]!r}, "
            f"not {expected[at]!r}")
