"""The model file: one `.npz` (a zip of `.npy` arrays) that numpy alone reads, without pickle.

Members:
- `header`: UTF-8 JSON as uint8 bytes: `format` ("w2v-model"), `format_version`,
  `w2v_version`, `family` ("word2vec" or "glove"), `config` (the options record),
  `position` (how far training got), `losses` (one entry per finished epoch), `corpus`
  (token count and fingerprint of what it was trained on), `arrays` (name -> shape).
- `words`: the vocabulary as UTF-8, one word per line (words never contain whitespace).
- `counts`: int64 word counts, in vocabulary order.
- the family's matrices, float32: word2vec `w_in`, `w_out`, `w_hs`; GloVe `word` and
  `context` rows laid out as [vector, bias, AdaGrad sums of both].

`np.load(path)` opens it anywhere; this module reads the stored (uncompressed) members
straight from their file offsets, so a 1M x 300 model loads at disk speed. Loading never
runs code from the file. Pure numpy, so the reading commands accept models without numba.
"""

import json
import logging
import os
import struct
import time
import zipfile

import numpy as np

from ..runtime.atomic import atomic_write
from ..errors import InputError

log = logging.getLogger("w2v")

FORMAT = "w2v-model"
FORMAT_VERSION = 1
ZIP_MAGIC = b"PK\x03\x04"


def is_model_file(path):
    """Whether `path` starts like a zip archive (a model), as opposed to a vector file."""
    if path == "-":
        return False
    try:
        with open(path, "rb") as f:
            return f.read(4) == ZIP_MAGIC
    except OSError:
        return False


def write_model(path, family, header, words, counts, arrays):
    """Write one model file atomically: `header` (a JSON-able dict), vocabulary, matrices.

    The file is replaced only once complete, so a checkpoint interrupted while being
    written leaves the previous checkpoint intact.
    """
    from .. import __version__

    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "w2v_version": __version__,
              "family": family, **header,
              "arrays": {name: list(a.shape) for name, a in arrays.items()}}
    members = {
        "header": np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"),
                                dtype=np.uint8),
        "words": np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        "counts": np.asarray(counts, dtype=np.int64),
        **{name: np.ascontiguousarray(a) for name, a in arrays.items()},
    }
    with atomic_write(path, "wb") as out:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in members.items():
                with archive.open(_aligned_member(name + ".npy", out), "w",
                                  force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)


PAD_EXTRA_ID = 0x7077  # a zip extra field of padding; readers skip unknown ids
ZIP64_LOCAL_EXTRA = 20  # what zipfile adds to a local header under force_zip64


def _aligned_member(filename, out):
    """A ZipInfo whose local header is padded so the member's data, and so its `.npy`
    array data (numpy pads its header to 64 bytes), start 64-byte aligned: then
    `read_stored_member` can memory-map a large matrix instead of reading it whole."""
    info = zipfile.ZipInfo(filename, time.localtime(time.time())[:6])
    info.compress_type = zipfile.ZIP_STORED
    try:
        offset = out.tell()
    except (OSError, ValueError):  # a stream: nothing to map, no need to align
        return info
    header = 30 + len(filename.encode("utf-8")) + 4 + ZIP64_LOCAL_EXTRA
    info.extra = struct.pack("<HH", PAD_EXTRA_ID, (-(offset + header)) % 64) + \
        b"\0" * ((-(offset + header)) % 64)
    return info


def read_stored_member(path, info, mmap=False):
    """The `.npy` array of an uncompressed zip member (`info`), read straight from its offset
    in the file at `path` (memory-mapped with `mmap` when its data is aligned). ValueError
    for a damaged, truncated or object-dtype member; pickle is never used."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != ZIP_MAGIC:
            raise ValueError("bad local header")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        f.seek(info.header_offset + 30 + name_len + extra_len)
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(f)
        if dtype.hasobject:
            raise ValueError("object arrays are refused")
        order = "F" if fortran else "C"
        count = int(np.prod(shape, dtype=np.int64))
        start = f.tell()
        if start + count * dtype.itemsize > os.fstat(f.fileno()).st_size:
            raise ValueError("truncated")
        if mmap and count and start % dtype.alignment == 0:
            return np.memmap(path, dtype=dtype, mode="r", offset=start, shape=shape, order=order)
        data = np.fromfile(f, dtype=dtype, count=count)
        if data.size != count:
            raise ValueError(f"{data.size} of {count} values present")
        return data.reshape(shape, order=order)


class ModelFile:
    """An opened model file: its header, and its arrays read on demand."""

    def __init__(self, path):
        self.path = path
        try:
            self._zip = zipfile.ZipFile(path)
            self._members = {info.filename: info for info in self._zip.infolist()}
        except FileNotFoundError:
            raise InputError(f"no such model file: {path}") from None
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror or e}") from None
        except (zipfile.BadZipFile, ValueError, EOFError):
            raise InputError(self._broken("it is not a complete model file "
                                          "(truncated, or not a w2v model)")) from None
        if "header.npy" not in self._members:
            raise InputError(self._broken("it is a zip archive but not a w2v model file"))
        try:
            self.header = json.loads(bytes(self.array("header")).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise InputError(self._broken("its header is not valid JSON")) from None
        if self.header.get("format") != FORMAT:
            raise InputError(self._broken("it is not a w2v model file"))
        version = self.header.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InputError(self._broken(f"its header has no valid format version ({version!r})"))
        if version > FORMAT_VERSION:
            raise InputError(f"{path} was written by a newer w2v (model format {version}, "
                             f"written by w2v {self.header.get('w2v_version')}); this w2v reads "
                             f"format {FORMAT_VERSION}: upgrade w2v")
        self.family = self.header.get("family")

    def _broken(self, why):
        return f"cannot load {self.path}: {why}"

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __contains__(self, name):
        return name + ".npy" in self._members

    def array(self, name, mmap=False):
        """One member as an array, read straight from its offset when it is stored plainly
        (memory-mapped with `mmap`, where its data is aligned)."""
        info = self._members.get(name + ".npy")
        if info is None:
            raise InputError(self._broken(f"the array {name!r} is missing"))
        try:
            if info.compress_type == zipfile.ZIP_STORED:
                return read_stored_member(self.path, info, mmap=mmap)
            with self._zip.open(info) as member:
                return np.lib.format.read_array(member, allow_pickle=False)
        except (ValueError, EOFError, OSError, zipfile.BadZipFile) as e:
            raise InputError(self._broken(f"the array {name!r} is damaged ({e})")) from None

    def words(self):
        blob = bytes(self.array("words"))
        return blob.decode("utf-8").split("\n") if blob else []

    def word_vectors(self):
        """The vectors a reading command uses: word2vec's input vectors; GloVe's by its
        `output_vectors` option (word + context by default)."""
        from ..vectors.word_vectors import WordVectors

        words, counts = self.words(), self.array("counts")
        dim = self.header["config"]["dim"]
        if self.family == "word2vec" and self.header["config"].get("subwords"):
            return self._subword_vectors(words, counts)
        if self.family == "word2vec":
            vectors = self.array("w_in")
        elif self.family == "glove":
            which = self.header["config"].get("output_vectors", "sum")
            if which == "word":
                vectors = self.array("word")[:, :dim]
            elif which == "context":
                vectors = self.array("context")[:, :dim]
            else:
                vectors = self.array("word")[:, :dim] + self.array("context")[:, :dim]
        else:
            raise InputError(self._broken(f"unknown model family {self.family!r}"))
        return WordVectors(words, vectors, counts=counts)

    def _subword_vectors(self, words, counts):
        """A subword model's composed vectors, its input matrix memory-mapped."""
        from ..vectors.subword_vectors import SubwordVectors

        config = self.header["config"]
        try:
            return SubwordVectors(words, self.array("w_in", mmap=True), config["minn"],
                                  config["maxn"], config["bucket"], counts=counts)
        except (KeyError, ValueError) as e:
            raise InputError(self._broken(f"its subword matrix does not fit its options "
                                          f"({e})")) from None


def load_model_vectors(path):
    """WordVectors of a model file (numpy only: the reading commands use this); a subword
    model gives `SubwordVectors`, which also compose words outside the vocabulary."""
    with ModelFile(path) as model:
        return model.word_vectors()


def describe(path):
    """What a model file holds, as a JSON-able dict (header only: no matrix is read)."""
    with ModelFile(path) as model:
        header = model.header
        shapes = header.get("arrays", {})
        config = header.get("config", {})
        n_words = len(model.words())
    return {"path": path, "format": f"{FORMAT} {header['format_version']}",
            "w2v_version": header.get("w2v_version"), "family": header.get("family"),
            "words": n_words, "dim": config.get("dim"), "config": config,
            "position": header.get("position"), "losses": header.get("losses", []),
            "corpus": header.get("corpus"), "train_seconds": header.get("train_seconds"),
            "arrays": shapes}
