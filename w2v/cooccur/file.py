"""The count file: co-occurrence counts with their vocabulary and window settings, as .npz."""

import json
import zipfile

import numpy as np

from ..corpus.vocab import Vocab
from ..errors import InputError
from ..runtime.atomic import atomic_write

FORMAT_VERSION = 1
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so a count file's bytes depend on its content only


def save_cooccur(path, matrix, vocab, window, weighting, symmetric=True):
    """Write counts with their vocabulary and window settings (.npz), atomically.

    The words are stored with their counts, so a later run can check that its vocabulary
    is the same one the counts were made over.
    """
    import scipy.sparse

    matrix = scipy.sparse.csr_matrix(matrix)
    meta = {"format": "w2v-cooccur", "version": FORMAT_VERSION, "window": int(window),
            "weighting": str(weighting), "symmetric": bool(symmetric)}
    words = "\n".join(vocab.words)
    members = dict(data=matrix.data.astype(np.float32, copy=False), indices=matrix.indices,
                   indptr=matrix.indptr, shape=np.array(matrix.shape, dtype=np.int64),
                   words=np.frombuffer(words.encode("utf-8"), dtype=np.uint8),
                   counts=np.asarray(vocab.counts, dtype=np.int64),
                   meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    # What np.savez writes, less the time stamps: the same counts give the same bytes.
    with atomic_write(path, "wb") as out:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in members.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_TIME)
                with archive.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def load_cooccur(path, vocab=None, window=None, weighting=None):
    """Read a count file: returns (matrix, vocab, meta).

    If vocab (a Vocab or a list of words), window or weighting is given and differs from
    what the file was made with, raises InputError saying what differs.
    """
    import scipy.sparse

    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(f["meta"].tobytes().decode("utf-8"))
            if meta.get("format") != "w2v-cooccur":
                raise InputError(f"{path} is not a w2v co-occurrence file")
            if meta.get("version", 0) > FORMAT_VERSION:
                raise InputError(f"{path} was written by a newer w2v (format {meta['version']})")
            shape = tuple(int(x) for x in f["shape"])
            matrix = scipy.sparse.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=shape)
            text = f["words"].tobytes().decode("utf-8")
            words = text.split("\n") if text else []
            counts = f["counts"]
    except OSError as e:
        raise InputError(f"cannot read co-occurrence file {path}: {e.strerror or e}") from None
    except (KeyError, ValueError, EOFError) as e:
        raise InputError(f"{path} is not a valid w2v co-occurrence file ({e})") from None
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
