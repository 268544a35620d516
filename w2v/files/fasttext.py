"""fastText's `.bin` model files, read and written with numpy alone (never numba).

The layout, as fastText 0.9 (file version 12) saves it and as checked against files that
fasttext-wheel wrote (little-endian, C++ `bool` one byte):

  int32 magic 793712314, int32 version (11 or 12)
  args        int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn,
              maxn, lrUpdateRate; float64 t
  dictionary  int32 size, nwords, nlabels; int64 ntokens, pruneidx_size (-1: not pruned);
              `size` entries of UTF-8 word, NUL, int64 count, int8 type (0 word, 1 label);
              `pruneidx_size` pairs of int32
  input       bool quantized; int64 rows, int64 cols; rows x cols float32
              (rows = nwords + bucket: the word rows, then the n-gram buckets)
  output      the same (NS: nwords rows; HS: nwords - 1; supervised: nlabels)

Reading memory-maps both matrices, so a 7 GB model needs RAM for its composed vocabulary
vectors, not for the matrices (gensim #2724). Quantized `.ftz` files are refused.
Supervised models (classifiers, with labels) are read as their words only.
"""

import dataclasses
import logging
import mmap
import os
import struct

import numpy as np

from ..runtime.atomic import atomic_write
from ..errors import InputError, OptionError
from ..vectors.ngrams import MAX_NGRAM

log = logging.getLogger("w2v")

MAGIC = 793712314
VERSION = 12
READABLE_VERSIONS = (11, 12)
ARG_NAMES = ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket",
             "minn", "maxn", "lrUpdateRate")
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODELS = {1: "cbow", 2: "sg", 3: "sup"}
_ARGS = struct.Struct("<12id")
_DICT_HEAD = struct.Struct("<3i2q")
_ENTRY_TAIL = struct.Struct("<qb")
_MATRIX_HEAD = struct.Struct("<?2q")
_HEAD_BYTES = 8 + _ARGS.size
WRITE_BLOCK_BYTES = 16 << 20
MAX_WORD_BYTES = 1 << 16  # a dictionary entry whose word runs longer is taken for garbage


@dataclasses.dataclass
class FastTextModel:
    """What a fastText `.bin` holds: its options (fastText's names; `loss` and `model` as
    names), the words with their counts, and the input and output matrices."""

    args: dict
    words: list
    counts: np.ndarray
    input_matrix: np.ndarray
    output_matrix: np.ndarray
    ntokens: int = 0
    labels: int = 0

    def vectors(self, limit=None):
        """The words' composed vectors as `SubwordVectors`, which also compose unseen words;
        with `limit`, plain `WordVectors` of the first `limit` words only."""
        from ..vectors.subword_vectors import SubwordVectors
        from ..vectors.word_vectors import WordVectors

        a = self.args
        if limit is not None and limit < len(self.words):
            from ..vectors.subword_vectors import compose_rows
            from ..vectors.ngrams import subword_rows

            offsets, rows = subword_rows(self.words[:limit], a["minn"], a["maxn"], a["bucket"])
            rows = np.where(rows >= limit, rows - limit + len(self.words), rows)
            return WordVectors(self.words[:limit], compose_rows(self.input_matrix, offsets, rows),
                               counts=self.counts[:limit])
        return SubwordVectors(self.words, self.input_matrix, a["minn"], a["maxn"], a["bucket"],
                              counts=self.counts)


def is_fasttext_bin(path):
    """Whether `path` starts with fastText's magic number (word2vec binary files also end in
    `.bin`, so the name says nothing)."""
    if path == "-":
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and struct.unpack("<i", head)[0] == MAGIC


# --------------------------------------------------------------------------- reading


def read_fasttext_bin(path):
    """Read a fastText `.bin` into a `FastTextModel` (matrices memory-mapped).

    Every malformed or truncated file is a one-line InputError naming the byte offset.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise InputError(f"{path}: empty file")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, path, size)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None


def _parse(buf, path, size):
    def fail(offset, why):
        return InputError(f"{path}: byte offset {offset}: {why}")

    def need(offset, n, what):
        if offset + n > size:
            raise InputError(f"{path}: truncated at byte offset {size}: {what} needs bytes "
                             f"{offset}-{offset + n - 1}")

    need(0, _HEAD_BYTES, "the header")
    magic, version = struct.unpack_from("<2i", buf, 0)
    if magic != MAGIC:
        raise fail(0, f"not a fastText .bin (magic {magic}, expected {MAGIC})")
    if version not in READABLE_VERSIONS:
        raise fail(4, f"fastText file version {version}; this reader knows versions "
                      f"{', '.join(map(str, READABLE_VERSIONS))}")
    values = _ARGS.unpack_from(buf, 8)
    args = dict(zip(ARG_NAMES, values[:12]), t=values[12])
    if args["loss"] not in LOSSES or args["model"] not in MODELS:
        raise fail(8, f"unknown loss {args['loss']} or model {args['model']}: not a fastText "
                      f"model, or a damaged one")
    args["loss"], args["model"] = LOSSES[args["loss"]], MODELS[args["model"]]
    if version == 11 and args["model"] == "sup":
        args["maxn"] = 0  # as fastText reads them: old classifiers had no character n-grams
    for name in ("dim", "bucket", "minn", "maxn"):
        if args[name] < 0 or (name == "dim" and args[name] == 0):
            raise fail(8, f"the options hold {name} {args[name]}: a damaged file")
    if args["maxn"] > 0 and (args["bucket"] == 0 or args["minn"] < 1 or args["maxn"] < args["minn"]
                             or args["maxn"] > MAX_NGRAM):
        raise fail(8, f"the options hold n-grams {args['minn']}-{args['maxn']} in "
                      f"{args['bucket']} buckets: a damaged file")

    pos = _HEAD_BYTES
    need(pos, _DICT_HEAD.size, "the dictionary header")
    n_entries, n_words, n_labels, ntokens, prune_size = _DICT_HEAD.unpack_from(buf, pos)
    if not (0 <= n_words <= n_entries and n_words + n_labels == n_entries):
        raise fail(pos, f"the dictionary announces {n_entries} entries, {n_words} words and "
                        f"{n_labels} labels: a damaged file")
    pos += _DICT_HEAD.size
    if n_entries > (size - pos) // (1 + _ENTRY_TAIL.size):  # each entry: NUL, count, type
        raise InputError(f"{path}: truncated at byte offset {size}: the dictionary announces "
                         f"{n_entries} entries, more than the file can hold")
    words, counts = [], np.empty(n_words, dtype=np.int64)
    find = buf.find
    for i in range(n_entries):
        end = find(b"\0", pos, pos + MAX_WORD_BYTES)
        if end < 0:
            if size - pos < MAX_WORD_BYTES:
                raise InputError(f"{path}: truncated at byte offset {size}: the dictionary "
                                 f"announces {n_entries} entries, the file holds {i}")
            raise fail(pos, f"dictionary entry {i + 1} has no end: a damaged file")
        need(end + 1, _ENTRY_TAIL.size, f"dictionary entry {i + 1} of {n_entries}")
        count, kind = _ENTRY_TAIL.unpack_from(buf, end + 1)
        if kind != (0 if i < n_words else 1) or count < 0:
            raise fail(pos, f"dictionary entry {i + 1} has count {count} and type {kind}: a "
                            f"damaged file")
        if i < n_words:
            words.append(buf[pos:end].decode("utf-8", "replace"))
            counts[i] = count
        pos = end + 1 + _ENTRY_TAIL.size
    if prune_size > 0:
        raise fail(_HEAD_BYTES + 20, "a pruned dictionary (from quantization): quantized "
                                     "models are not supported")
    if n_labels:
        log.info("%s: a supervised fastText model: reading its %d words, not its %d labels",
                 path, n_words, n_labels)

    input_matrix, pos = _matrix(buf, path, size, pos, "input", need, fail)
    rows = n_words + args["bucket"]
    if input_matrix.shape != (rows, args["dim"]):
        raise fail(pos, f"the input matrix is {input_matrix.shape[0]} x "
                        f"{input_matrix.shape[1]}, but {n_words} words + {args['bucket']} "
                        f"buckets at dim {args['dim']} need {rows} x {args['dim']}")
    output_matrix, end = _matrix(buf, path, size, pos, "output", need, fail)
    if end != size:
        raise fail(end, f"{size - end} bytes after the output matrix: a damaged file")
    return FastTextModel(args, words, counts, input_matrix, output_matrix, ntokens, n_labels)


def _matrix(buf, path, size, pos, which, need, fail):
    """The memory-mapped float32 matrix at `pos` (after its header) and the offset after it."""
    need(pos, _MATRIX_HEAD.size, f"the {which} matrix header")
    quantized, rows, cols = _MATRIX_HEAD.unpack_from(buf, pos)
    if buf[pos] not in (0, 1):
        raise fail(pos, f"the {which} matrix header is damaged")
    if quantized:
        raise fail(pos, f"a quantized model (.ftz): its {which} matrix is compressed by "
                        f"product quantization, which w2v does not read; use the .bin "
                        f"model it was made from")
    if rows < 0 or cols < 1:
        raise fail(pos, f"the {which} matrix is announced as {rows} x {cols}: a damaged file")
    start = pos + _MATRIX_HEAD.size
    need(start, 4 * rows * cols, f"the {which} matrix ({rows} x {cols} float32)")
    if rows == 0:
        return np.zeros((0, cols), dtype=np.float32), start
    matrix = np.memmap(path, dtype="<f4", mode="r", offset=start, shape=(rows, cols))
    return matrix, start + 4 * rows * cols


def load_fasttext_vectors(path, limit=None):
    """The vectors of a fastText `.bin`: `SubwordVectors` (unseen words composed), or with
    `limit` plain `WordVectors` of the first `limit` words."""
    try:
        wv = read_fasttext_bin(path).vectors(limit)
    except ValueError as e:  # words that decode alike (invalid UTF-8 replaced), say
        raise InputError(f"{os.fspath(path)}: cannot use its dictionary: {e}") from None
    bad = ~np.isfinite(wv.vectors).all(axis=1)
    if bad.any():
        raise InputError(f"{os.fspath(path)}: non-finite values in the vector of "
                         f"{wv.words[int(np.argmax(bad))]!r}")
    return wv


# --------------------------------------------------------------------------- writing


def write_fasttext_bin(path, words, counts, input_matrix, output_matrix, *, model="sg",
                       ws=5, epoch=5, min_count=5, neg=5, word_ngrams=1, loss="ns",
                       bucket=2000000, minn=3, maxn=6, lr_update_rate=100, t=1e-4, ntokens=None):
    """Write a fastText `.bin` atomically, that `fasttext.load_model` and gensim's
    `load_facebook_model` load.

    `input_matrix` is `(len(words) + bucket, dim)` (word rows, then n-gram buckets),
    `output_matrix` the loss's output rows (NS: one per word). The words are written as
    given: fastText's end-of-line token `</s>` is not added when they lack it, since a
    new word row would move every n-gram row (they follow the word rows); both readers
    load such a file and compose unseen words as w2v does. `ntokens`, the tokens fastText
    trained on, defaults to the sum of the counts.
    """
    words = list(words)
    counts = np.asarray(counts, dtype=np.int64)
    n_words, dim = len(words), input_matrix.shape[1]
    reverse = {v: k for k, v in MODELS.items()}, {v: k for k, v in LOSSES.items()}
    if model not in reverse[0] or model == "sup":
        raise OptionError(f"fastText model must be sg or cbow, got {model!r}")
    if loss not in reverse[1]:
        raise OptionError(f"fastText loss must be one of {', '.join(LOSSES.values())}, "
                          f"got {loss!r}")
    if len(counts) != n_words:
        raise ValueError(f"{n_words} words but {len(counts)} counts")
    if input_matrix.shape != (n_words + bucket, dim) or output_matrix.ndim != 2 or \
            output_matrix.shape[1] != dim:
        raise ValueError(f"{n_words} words and {bucket} buckets need an input matrix of "
                         f"{n_words + bucket} x {dim} and an output matrix of width {dim}; got "
                         f"{input_matrix.shape} and {output_matrix.shape}")
    if len(set(words)) != n_words:
        raise ValueError("duplicate words: a fastText dictionary holds each word once")
    for word in words:
        if not word or "\0" in word or any(c.isspace() for c in word):
            raise ValueError(f"fastText cannot hold the word {word!r} (empty, or with "
                             f"whitespace or NUL)")
    head = struct.pack("<2i", MAGIC, VERSION) + _ARGS.pack(
        dim, ws, epoch, min_count, neg, word_ngrams, reverse[1][loss], reverse[0][model],
        bucket, minn, maxn, lr_update_rate, float(t))
    head += _DICT_HEAD.pack(n_words, n_words, 0, int(counts.sum()) if ntokens is None else ntokens,
                            -1)
    with atomic_write(path, "wb") as out:
        out.write(head)
        tail = _ENTRY_TAIL.pack
        out.write(b"".join(w.encode("utf-8") + b"\0" + tail(int(c), 0)
                           for w, c in zip(words, counts.tolist())))
        for matrix in (input_matrix, output_matrix):
            out.write(_MATRIX_HEAD.pack(False, *matrix.shape))
            _write_rows(out, matrix)


def _write_rows(out, matrix):
    """float32 rows in blocks, so a memory-mapped matrix is never copied whole."""
    step = max(1, WRITE_BLOCK_BYTES // (4 * max(1, matrix.shape[1])))
    for start in range(0, matrix.shape[0], step):
        block = np.ascontiguousarray(matrix[start:start + step], dtype="<f4")
        out.write(memoryview(block).cast("B"))


def write_model_as_fasttext(model_path, path):
    """Write the w2v subword model file at `model_path` as a fastText `.bin` at `path`."""
    from .model_file import ModelFile

    with ModelFile(model_path) as file:
        config = file.header["config"]
        if file.family != "word2vec" or not config.get("subwords"):
            raise InputError(f"{model_path} is not a subword model (w2v train --subwords): "
                             f"a fastText .bin holds character n-grams")
        words = file.words()
        counts, dim = file.counts(len(words)), file.dim
        input_matrix = file.matrix("w_in", len(words) + config["bucket"], dim, mmap=True)
        output_matrix = (file.matrix("w_out", len(words), dim, mmap=True)
                         if config.get("negative") else None)
        try:
            return write_weights_as_fasttext(path, config, words, counts, input_matrix,
                                             output_matrix, model_path)
        except (KeyError, TypeError, ValueError, struct.error) as e:
            raise InputError(file.broken(f"it cannot be written as a fastText model "
                                         f"({e!r})")) from None


def write_weights_as_fasttext(path, config, words, counts, input_matrix, output_matrix,
                              name="the model"):
    """Write a w2v subword model's weights (its `Word2VecConfig` as a dict) as fastText's
    `.bin`; returns (words, dim).

    The options map onto fastText's: window -> ws, epochs -> epoch, min_count -> minCount,
    negative -> neg, sample -> t. Only negative-sampling models have the output rows a
    fastText NS model holds; HS-only and word-level models are refused.
    """
    if not config.get("subwords"):
        raise InputError(f"{name} is not a subword model (w2v train --subwords): "
                         f"a fastText .bin holds character n-grams")
    if not config.get("negative"):
        raise InputError(f"{name} was trained without negative sampling; fastText's "
                         f".bin from w2v needs its output vectors (--negative N)")
    write_fasttext_bin(path, words, counts, input_matrix, output_matrix,
                       model=config["model"], ws=config["window"], epoch=config["epochs"],
                       min_count=config["min_count"], neg=config["negative"],
                       bucket=config["bucket"], minn=config["minn"], maxn=config["maxn"],
                       t=config["sample"])
    return len(words), input_matrix.shape[1]


def rewrite_fasttext_bin(source, path):
    """Copy a fastText `.bin` through this writer (its words, options and matrices)."""
    ft = read_fasttext_bin(source)
    if ft.labels or ft.args["model"] == "sup":
        raise InputError(f"{source} is a supervised fastText model; only sg and cbow models "
                         f"are written")
    a = ft.args
    try:
        write_fasttext_bin(path, ft.words, ft.counts, ft.input_matrix, ft.output_matrix,
                           model=a["model"], ws=a["ws"], epoch=a["epoch"],
                           min_count=a["minCount"], neg=a["neg"], word_ngrams=a["wordNgrams"],
                           loss=a["loss"], bucket=a["bucket"], minn=a["minn"], maxn=a["maxn"],
                           lr_update_rate=a["lrUpdateRate"], t=a["t"], ntokens=ft.ntokens)
    except ValueError as e:  # words that decode alike, or hold whitespace: a damaged file
        raise InputError(f"{source}: cannot copy its dictionary: {e}") from None
    return len(ft.words), ft.input_matrix.shape[1]
