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

It is a container of the `container` module (kind `MODEL`). `np.load(path)` opens it
anywhere; w2v reads the stored (uncompressed) members straight from their file offsets, so a 1M x 300 model loads at disk speed. Loading never
runs code from the file. Pure numpy, so the reading commands accept models without numba.
"""

import logging

import numpy as np

from ..errors import InputError
from ..text.preprocess import PREPROCESSORS
from . import container
from .container import MODEL, Container

log = logging.getLogger("w2v")

FORMAT = MODEL.format
FORMAT_VERSION = MODEL.version


def is_model_file(path):
    """Whether `path` starts like a zip archive (a model), as opposed to a vector file."""
    return container.is_container(path)


def write_model(path, family, header, words, counts, arrays):
    """Write one model file atomically: `header` (a JSON-able dict), vocabulary, matrices.

    The file is replaced only once complete, so a checkpoint interrupted while being
    written leaves the previous checkpoint intact.
    """
    from .. import __version__

    header = {**MODEL.stamp(), "w2v_version": __version__, "family": family, **header,
              "arrays": {name: list(a.shape) for name, a in arrays.items()}}
    container.write(path, MODEL, {
        "header": container.json_member(header, MODEL),
        "words": np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8),
        "counts": np.asarray(counts, dtype=np.int64),
        **arrays,
    })


FAMILIES = ("word2vec", "glove")
GLOVE_OUTPUTS = ("word", "context", "sum")
FINITE_CHECK_ROWS = 1 << 16  # rows checked for NaN and infinity at a time
# Top-level header fields besides the format and the options, with the JSON types they may
# hold (absent is always allowed): every reader of a model file relies on these.
HEADER_FIELDS = {"w2v_version": (str,), "position": (dict, type(None)), "losses": (list,),
                 "corpus": (dict, type(None)), "train_seconds": (int, float),
                 "arrays": (dict,), "counts": (dict, type(None))}


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def first_non_finite(matrix):
    """The first row of `matrix` holding NaN or infinity, or None (checked in chunks, so a
    large or memory-mapped matrix is never copied whole)."""
    for start in range(0, len(matrix), FINITE_CHECK_ROWS):
        bad = ~np.isfinite(matrix[start:start + FINITE_CHECK_ROWS]).all(axis=1)
        if bad.any():
            return start + int(np.argmax(bad))
    return None


def _phrase_record(record):
    """Whether `record` is a phrase record as training writes it: {"tables": lists of
    phrase strings, "delimiter": a string, "connectors": strings}."""
    def strings(value):
        return isinstance(value, list) and all(isinstance(x, str) for x in value)

    return (isinstance(record, dict) and isinstance(record.get("tables"), list)
            and all(strings(table) for table in record["tables"])
            and isinstance(record.get("delimiter", "_"), str)
            and strings(record.get("connectors", [])))


class ModelFile(Container):
    """An opened model file: its header, and its arrays read on demand.

    Opening checks the header's schema (family, options, the types of every field readers
    use); `words`, `counts` and `matrix` check what they return, so a damaged or crafted
    file is a one-line InputError, never an exception from deeper down."""

    def __init__(self, path):
        super().__init__(path, MODEL)
        try:
            self.header = self.read_header()
            self.family = self.header.get("family")
            self._check_header()
        except BaseException:
            self.close()
            raise

    def _check_header(self):
        header = self.header
        if self.family not in FAMILIES:
            raise InputError(self.broken(f"unknown model family {self.family!r}"))
        for name, types in HEADER_FIELDS.items():
            if name in header and not isinstance(header[name], types):
                raise InputError(self.broken(f"its header field {name!r} is "
                                             f"{type(header[name]).__name__}"))
        config = header.get("config")
        if not isinstance(config, dict):
            raise InputError(self.broken("its header has no options record ('config')"))
        dim = config.get("dim")
        if not _integer(dim) or dim < 1:
            raise InputError(self.broken(f"its options hold dim {dim!r}"))
        for name, types in (("lowercase", (bool,)), ("preprocess", (str,))):
            if name in config and not isinstance(config[name], types):
                raise InputError(self.broken(f"its options hold {name} {config[name]!r}"))
        if config.get("preprocess", "none") not in PREPROCESSORS:
            raise InputError(self.broken(f"its options hold preprocess "
                                         f"{config['preprocess']!r}"))
        phrases = (header.get("corpus") or {}).get("phrases")
        if phrases and not _phrase_record(phrases):
            raise InputError(self.broken("its phrase record is damaged"))
        if self.family == "glove" and config.get("output_vectors", "sum") not in GLOVE_OUTPUTS:
            raise InputError(self.broken(f"its options hold output_vectors "
                                         f"{config['output_vectors']!r}"))
        if self.family == "word2vec" and config.get("subwords"):
            from ..vectors.ngrams import check_ngram_range

            values = [config.get(k) for k in ("minn", "maxn", "bucket")]
            if not all(_integer(v) for v in values):
                raise InputError(self.broken(f"its options hold n-grams minn, maxn, bucket "
                                             f"{values}"))
            try:
                check_ngram_range(*values)
            except ValueError as e:
                raise InputError(self.broken(f"its options are not valid ({e})")) from None

    @property
    def dim(self):
        return self.header["config"]["dim"]

    def words(self):
        """The vocabulary: UTF-8, one word per line, no word twice."""
        raw = self.array("words")
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise InputError(self.broken(f"its words are {raw.dtype} {raw.shape}, not UTF-8 "
                                         f"bytes"))
        try:
            text = raw.tobytes().decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(self.broken(f"its words are not valid UTF-8 (byte {e.start})")) \
                from None
        return text.split("\n") if text else []

    def counts(self, n_words):
        """The word counts: `n_words` non-negative integers."""
        counts = self.array("counts")
        if counts.dtype.kind not in "iu" or counts.shape != (n_words,):
            raise InputError(self.broken(f"its counts are {counts.dtype} {counts.shape}, "
                                         f"expected {n_words} integers"))
        counts = counts.astype(np.int64)
        if n_words and counts.min() < 0:
            raise InputError(self.broken("its counts hold a negative count"))
        return counts

    def matrix(self, name, rows, cols, mmap=False):
        """The real-valued matrix `name`, checked to be `rows` x `cols`."""
        matrix = self.array(name, mmap=mmap)
        if matrix.dtype.kind != "f" or matrix.shape != (rows, cols):
            raise InputError(self.broken(f"{name} is {matrix.dtype} {matrix.shape}, expected "
                                         f"float32 ({rows}, {cols})"))
        return matrix

    def word_vectors(self):
        """The vectors a reading command uses: word2vec's input vectors; GloVe's by its
        `output_vectors` option (word + context by default). Refused when a vector holds
        NaN or infinity, or two words are the same."""
        from ..vectors.word_vectors import WordVectors

        words = self.words()
        counts, dim, config = self.counts(len(words)), self.dim, self.header["config"]
        if self.family == "word2vec" and config.get("subwords"):
            wv = self._subword_vectors(words, counts)
        else:
            if self.family == "word2vec":
                vectors = self.matrix("w_in", len(words), dim)
            else:
                which = config.get("output_vectors", "sum")
                width = 2 * (dim + 1)
                if which == "word":
                    vectors = self.matrix("word", len(words), width)[:, :dim]
                elif which == "context":
                    vectors = self.matrix("context", len(words), width)[:, :dim]
                else:
                    with np.errstate(over="ignore", invalid="ignore"):
                        vectors = (self.matrix("word", len(words), width)[:, :dim]
                                   + self.matrix("context", len(words), width)[:, :dim])
            wv = self._vectors(WordVectors, words, vectors, counts=counts)
        bad = first_non_finite(wv.vectors)
        if bad is not None:
            raise InputError(self.broken(f"non-finite values in the vector of "
                                         f"{wv.words[bad]!r}"))
        return wv

    def _vectors(self, make, words, *args, **kwargs):
        """`make(words, ...)`, a vocabulary with a word twice refused in one line."""
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                return make(words, *args, **kwargs)
        except ValueError as e:
            seen = set()
            twice = next((w for w in words if w in seen or seen.add(w)), None)
            if twice is not None:
                raise InputError(self.broken(f"the word {twice!r} is in its vocabulary "
                                             f"twice")) from None
            raise InputError(self.broken(f"its vectors do not fit its words ({e})")) from None

    def _subword_vectors(self, words, counts):
        """A subword model's composed vectors, its input matrix memory-mapped."""
        from ..vectors.subword_vectors import SubwordVectors

        config = self.header["config"]
        matrix = self.matrix("w_in", len(words) + config["bucket"], self.dim, mmap=True)
        return self._vectors(SubwordVectors, words, matrix, config["minn"], config["maxn"],
                             config["bucket"], counts=counts)


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
        config = header["config"]
        n_words = len(model.words())
    return {"path": path, "format": f"{FORMAT} {header['format_version']}",
            "w2v_version": header.get("w2v_version"), "family": header.get("family"),
            "words": n_words, "dim": config.get("dim"), "config": config,
            "position": header.get("position"), "losses": header.get("losses", []),
            "corpus": header.get("corpus"), "train_seconds": header.get("train_seconds"),
            "arrays": shapes}
