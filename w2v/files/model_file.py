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


class ModelFile(Container):
    """An opened model file: its header, and its arrays read on demand."""

    def __init__(self, path):
        super().__init__(path, MODEL)
        self.header = self.read_header()
        self.family = self.header.get("family")

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
            raise InputError(self.broken(f"unknown model family {self.family!r}"))
        return WordVectors(words, vectors, counts=counts)

    def _subword_vectors(self, words, counts):
        """A subword model's composed vectors, its input matrix memory-mapped."""
        from ..vectors.subword_vectors import SubwordVectors

        config = self.header["config"]
        try:
            return SubwordVectors(words, self.array("w_in", mmap=True), config["minn"],
                                  config["maxn"], config["bucket"], counts=counts)
        except (KeyError, ValueError) as e:
            raise InputError(self.broken(f"its subword matrix does not fit its options "
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
