"""Poolings: how word vectors become one document vector (mean, SIF, uSIF), and the state
that embeds later text exactly as the documents were.

A document is one line of text, tokenised as the corpus reader does (optional normaliser,
optional lowercasing, then `str.split()`). Row i of every result is line i of the input:
a line with no known word (or no word at all) gets a zero row.

- mean: the average of the word vectors of the known words.
- SIF (Arora, Liang & Ma 2017, "A simple but tough-to-beat baseline for sentence
  embeddings"): the average of a/(a + p(w)) v_w over the known words (a = 1e-3, p(w) the
  unigram probability from the training counts), then the projection on the first
  singular vector of the document matrix (uncentred, as TruncatedSVD in the reference code)
  is removed.
- uSIF (Ethayarajh 2018, "Unsupervised random walk sentence embeddings"): a is derived
  from the vocabulary (alpha = share of words with p(w) > 1 - (1 - 1/|V|)^n, n = 11, the
  assumed sentence length; Z = |V|/2; a = (1 - alpha)/(alpha Z)), words weigh
  a/(0.5 a + p(w)) and their vectors are scaled to unit length first, the average is taken
  over the known words, and the projections on the first m = 5 singular vectors are removed,
  each scaled by lambda_i = s_i^2 / sum_j s_j^2 of the m singular values.

The state needed to embed later text exactly as the documents were (kind, weights, removed
components and their weights, the tokenisation) is a `Pooling`, saved as a numpy `.npz`.
The tokenisation includes phrases: when the vectors were trained on text with phrases
joined (`w2v train --phrases N` records them in the model), the same phrases are joined in
every line after splitting (`phrase_tables.PhraseJoiner`), so `new york` finds `new_york`.
"""

import dataclasses
import hashlib
import json
import logging
import math
import os

import numpy as np

from ..corpus.phrase_tables import phrase_spec
from ..errors import InputError, OptionError
from ..files import container
from ..files.container import POOLING, check_version
from ..text.preprocess import check_preprocess

log = logging.getLogger("w2v")

POOLINGS = ("mean", "sif", "usif")
MAX_WORD_WEIGHT = 2.0 + 1e-3  # SIF weighs words a/(a + p) <= 1, uSIF a/(0.5 a + p) <= 2
UNIT_SLACK = 1e-3  # rounding allowed on unit components and on weights of at most 1
SIF_A = 1e-3
USIF_SENTENCE_LENGTH = 11  # n in uSIF's derivation of a (the reference code's default)
DEFAULT_REMOVE_PC = {"mean": 0, "sif": 1, "usif": 5}
POOLING_FORMAT = POOLING.stamp(1)
# A pooling that joins phrases is format 2, so that a w2v that cannot join them refuses the
# file rather than embedding the text unjoined; one without phrases stays format 1.
POOLING_FORMAT_PHRASES = POOLING.stamp(2)
# A tuned encoder (`w2v tune`: a linear map after pooling, weights beyond uSIF's range) is
# format 3, so that an older w2v refuses it rather than embedding without the map.
POOLING_FORMAT_TUNED = POOLING.stamp(3)
# A tuned encoder that appends the minimum of its words' rows (`min_weight`) is format 4:
# its vectors are twice as wide, which an older w2v would not make.
POOLING_FORMAT_MIN = POOLING.stamp(4)
MAX_TUNED_WEIGHT = 1e4  # a tuned weight is a start weight times a learned factor
SIDES = ("document", "query")



# --------------------------------------------------------------------------- weights


def word_probabilities(counts):
    """p(w) = count / total over the vocabulary (float64)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if counts.ndim != 1 or total <= 0 or (counts < 0).any():
        raise InputError("word counts must be non-negative with a positive total")
    return counts / total


def sif_weights(p, a=SIF_A):
    """SIF's a / (a + p(w))."""
    return a / (a + np.asarray(p, dtype=np.float64))


def usif_a(p, n=USIF_SENTENCE_LENGTH):
    """uSIF's a from the vocabulary: (1 - alpha) / (alpha |V|/2), alpha the share of words
    with p(w) above 1 - (1 - 1/|V|)^n. inf when no word is that frequent (tiny vocabularies),
    where the weights tend to 2 for every word."""
    p = np.asarray(p, dtype=np.float64)
    size = len(p)
    threshold = 1.0 - (1.0 - 1.0 / size) ** n
    alpha = np.count_nonzero(p > threshold) / size
    if alpha == 0:
        return math.inf
    return (1.0 - alpha) / (alpha * 0.5 * size)


def usif_weights(p, a):
    """uSIF's a / (0.5 a + p(w)); the limit 2 when a is infinite."""
    p = np.asarray(p, dtype=np.float64)
    if math.isinf(a):
        return np.full(len(p), 2.0)
    return a / (0.5 * a + p)


# --------------------------------------------------------------------------- pooling state


def vocabulary_digest(wv):
    """A fingerprint of the words and the dimension: a pooling fits only these vectors."""
    h = hashlib.sha256(f"{len(wv)} {wv.dim}\n".encode())
    for start in range(0, len(wv), 65536):
        h.update("\n".join(wv.words[start:start + 65536]).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


@dataclasses.dataclass
class Pooling:
    """How documents become vectors; saved with them so that queries are pooled the same way.

    `weights` (one per vocabulary row) is None for mean pooling. `components` (k x dim) are
    the removed directions and `component_weights` how much of each is removed (SIF: 1,
    uSIF: lambda_i); both are None until `fit` has seen the documents.
    """

    kind: str
    dim: int
    n_words: int
    vocabulary: str  # vocabulary_digest of the vectors
    weights: np.ndarray = None
    a: float = math.nan
    unit_words: bool = False
    remove_pc: int = 0
    components: np.ndarray = None
    component_weights: np.ndarray = None
    normalize: bool = False
    lowercase: bool = False
    preprocess: str = "none"
    phrases: dict = None  # `phrase_tables.phrase_spec`: joined after splitting, pass by pass
    map: np.ndarray = None  # dim x dim, applied after the components are removed (tuned)
    query_map: np.ndarray = None  # the query side's own map (an asymmetric tuned encoder)
    row_index: np.ndarray = None  # words whose rows a tuned encoder moved (int64, sorted)
    row_values: np.ndarray = None  # ... and their rows (after the unit scaling of uSIF)
    min_weight: float = 0.0  # > 0: the vector also holds the words' rows' minimum (`combine`)

    @property
    def tuned(self):
        return self.map is not None

    @property
    def label(self):
        """The pooling's name for messages: its kind, "tuned" in front for a tuned encoder."""
        return f"tuned {self.kind}" if self.tuned else self.kind

    @property
    def out_dim(self):
        """The width of the document vectors: twice `dim` with the minimum part."""
        return 2 * self.dim if self.min_weight > 0 else self.dim

    @property
    def fitted(self):
        return self.remove_pc == 0 or self.components is not None

    def check(self, wv):
        """Refuse vectors other than the ones this pooling was made with."""
        if wv.dim != self.dim:
            raise InputError(f"the pooling is for vectors of dimension {self.dim}, these have "
                             f"dimension {wv.dim}")
        if len(wv) != self.n_words or vocabulary_digest(wv) != self.vocabulary:
            raise InputError("the pooling was made with other vectors (the vocabulary "
                             "differs); embed the documents again with these vectors")

    def word_matrix(self, wv):
        """Rows already weighted, so a document vector is the mean of its words' rows."""
        matrix = wv.unit if self.unit_words else wv.vectors
        if self.row_index is not None:
            matrix = np.array(matrix, dtype=np.float32)
            matrix[self.row_index] = self.row_values
        if self.weights is None:
            return matrix
        return (matrix * self.weights[:, None]).astype(np.float32)

    def row_matrix(self, wv):
        """The words' rows (unit with uSIF, a tuned encoder's moved rows in place), not
        weighted: what the minimum part is taken over."""
        matrix = np.array(wv.unit if self.unit_words else wv.vectors, dtype=np.float32)
        if self.row_index is not None:
            matrix[self.row_index] = self.row_values
        return matrix

    def combine(self, pooled, minimum):
        """[unit(pooled), min_weight unit(minimum)] / sqrt(1 + min_weight^2): the document
        vector of an encoder with the minimum part (`pooled` after `apply`, `minimum` the
        elementwise minimum of the words' `row_matrix` rows), unit length unless empty."""
        parts = []
        for part, scale in ((pooled, 1.0), (minimum, self.min_weight)):
            norms = np.linalg.norm(part, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            parts.append(part * (scale / norms))
        out = np.hstack(parts) / math.sqrt(1.0 + self.min_weight ** 2)
        return out.astype(np.float32)

    def fit(self, raw):
        """Find the components to remove from the pooled document matrix `raw`."""
        if self.remove_pc == 0:
            return self
        k = min(self.remove_pc, self.dim, int(np.count_nonzero(np.any(raw != 0, axis=1))))
        if k == 0:
            log.warning("no document has a known word: no component to remove")
            self.components = np.zeros((0, self.dim), np.float32)
            self.component_weights = np.zeros(0, np.float32)
            return self
        singular, components = top_singular_vectors(raw, k)
        self.components = components.astype(np.float32)
        if self.kind == "usif":
            self.component_weights = (singular ** 2 / (singular ** 2).sum()).astype(np.float32)
        else:
            self.component_weights = np.ones(k, np.float32)
        return self

    def apply(self, raw, side="document"):
        """Remove the weighted components, apply a tuned encoder's map (the query side's
        own for queries of an asymmetric one) and normalise if asked; returns the result
        (`raw` itself, changed in place, unless a map applies)."""
        if not self.fitted:
            raise OptionError("the pooling has not been fitted to documents yet")
        if side not in SIDES:
            raise OptionError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
        if self.components is not None and len(self.components):
            projections = raw @ self.components.T  # (n, k)
            raw -= (projections * self.component_weights) @ self.components
        linear = self.query_map if side == "query" and self.query_map is not None else self.map
        if linear is not None:
            raw = np.ascontiguousarray(raw @ linear, dtype=np.float32)
        if self.normalize:
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            raw /= norms
        return raw

    def arrays(self):
        """The pooling as named numpy arrays (no objects): what `save` and an index store."""
        fields = {"format": np.array(POOLING_FORMAT_MIN if self.min_weight > 0
                                     else POOLING_FORMAT_TUNED if self.tuned
                                     else POOLING_FORMAT if self.phrases is None
                                     else POOLING_FORMAT_PHRASES),
                  "kind": np.array(self.kind),
                  "dim": np.int64(self.dim), "n_words": np.int64(self.n_words),
                  "vocabulary": np.array(self.vocabulary), "a": np.float64(self.a),
                  "unit_words": np.bool_(self.unit_words), "remove_pc": np.int64(self.remove_pc),
                  "normalize": np.bool_(self.normalize), "lowercase": np.bool_(self.lowercase),
                  "preprocess": np.array(self.preprocess)}
        if self.phrases is not None:  # absent otherwise: format 1, as before phrases
            fields["phrases"] = np.array(json.dumps(self.phrases, ensure_ascii=False))
        if self.min_weight > 0:  # absent otherwise: format 3 or older
            fields["min_weight"] = np.float64(self.min_weight)
        for name in ("weights", "components", "component_weights", "map", "query_map",
                     "row_index", "row_values"):
            value = getattr(self, name)
            if value is not None:
                fields[name] = value
        return fields

    def save(self, path):
        """Write an .npz (numpy only, no pickle), atomically."""
        container.write(path, POOLING, self.arrays())


def load_pooling(path):
    """A `Pooling` saved by `Pooling.save`; InputError for anything else."""
    name = os.fspath(path)
    with container.Container(name, POOLING) as data:
        return pooling_from_arrays(data.arrays(), name)


TUNED_PREFIX = "pooling."  # the members of a tuned encoder inside a model file


def tuned_pooling(path):
    """The tuned encoder a model file written by `w2v tune` carries, or None (another model
    file, a vector file, no path)."""
    from ..files.model_file import ModelFile, is_model_file

    if path is None or not is_model_file(path):
        return None
    with ModelFile(path) as model:
        if not model.names(TUNED_PREFIX):
            return None
        return pooling_from_arrays(model.arrays(TUNED_PREFIX), os.fspath(path))


# The scalar members of a pooling and the numpy kinds each may have.
SCALARS = {"kind": "U", "dim": "iu", "n_words": "iu", "vocabulary": "U", "a": "fiu",
           "unit_words": "b", "remove_pc": "iu", "normalize": "b", "lowercase": "b",
           "preprocess": "U"}


def pooling_from_arrays(data, name):
    """A `Pooling` from the arrays of `Pooling.arrays` (a mapping, or an open .npz);
    InputError naming `name` when they are not one: every member is checked for its type
    and shape, weights and components for their length, width and finite values."""
    try:
        files = set(data.files if hasattr(data, "files") else data.keys())
        version = check_version(POOLING, data, name)
        values = {}
        for key, kinds in SCALARS.items():
            if key not in files:
                raise ValueError(f"the member {key!r} is missing")
            value = np.asarray(data[key])
            if value.shape != () or value.dtype.kind not in kinds:
                raise ValueError(f"{key} is {value.dtype} {value.shape}")
            values[key] = value[()]
        pooling = Pooling(kind=str(values["kind"]), dim=int(values["dim"]),
                          n_words=int(values["n_words"]), vocabulary=str(values["vocabulary"]),
                          a=float(values["a"]), unit_words=bool(values["unit_words"]),
                          remove_pc=int(values["remove_pc"]), normalize=bool(values["normalize"]),
                          lowercase=bool(values["lowercase"]),
                          preprocess=str(values["preprocess"]))
        if pooling.kind not in POOLINGS:
            raise ValueError(f"unknown pooling kind {pooling.kind!r}")
        if pooling.dim < 1 or pooling.n_words < 1 or pooling.remove_pc < 0:
            raise ValueError(f"dim {pooling.dim}, {pooling.n_words} words, remove_pc "
                             f"{pooling.remove_pc}")
        try:
            pooling.preprocess = check_preprocess(pooling.preprocess)
        except OptionError as e:
            raise ValueError(str(e)) from None
        if pooling.kind != "mean" and "weights" not in files:
            raise ValueError(f"{pooling.kind} pooling without its weights")
        if "weights" in files:
            pooling.weights = _real(data["weights"], "weights", (pooling.n_words,))
            top = MAX_TUNED_WEIGHT if version >= 3 else MAX_WORD_WEIGHT
            if len(pooling.weights) and not (0 <= pooling.weights.min()
                                             and pooling.weights.max() <= top):
                raise ValueError(f"a word weight outside [0, {top}]")
        if ("components" in files) != ("component_weights" in files):
            raise ValueError("components without their weights, or weights without them")
        if "components" in files:
            components = np.asarray(data["components"])
            if components.ndim != 2:
                raise ValueError(f"components of shape {components.shape}")
            k = len(components)
            if k > min(pooling.remove_pc, pooling.dim):
                raise ValueError(f"{k} components, remove_pc {pooling.remove_pc}")
            pooling.components = _real(components, "components", (k, pooling.dim))
            pooling.component_weights = _real(data["component_weights"], "component_weights",
                                              (k,))
            # unit directions, each removed by a share of at most all of it
            if k and (np.abs(pooling.components).max() > 1 + UNIT_SLACK
                      or not 0 <= pooling.component_weights.min()
                      or pooling.component_weights.max() > 1 + UNIT_SLACK):
                raise ValueError("components that are not unit directions, or weights outside "
                                 "[0, 1]")
        if "phrases" in files:
            pooling.phrases = phrase_spec(json.loads(str(data["phrases"])))
        if ("min_weight" in files) != (version >= 4):
            raise ValueError(f"format {version} with{'' if 'min_weight' in files else 'out'} "
                             f"min_weight")
        if "min_weight" in files:
            value = np.asarray(data["min_weight"])
            if value.shape != () or value.dtype.kind not in "fiu" or not (
                    0 < float(value) < math.inf):
                raise ValueError(f"min_weight {value!r}")
            pooling.min_weight = float(value)
        if ("map" in files) != (version >= 3) or ("query_map" in files and "map" not in files):
            raise ValueError(f"format {version} with{'' if 'map' in files else 'out'} a map")
        for key in ("map", "query_map"):
            if key in files:
                setattr(pooling, key, _real(data[key], key, (pooling.dim, pooling.dim)))
        if ("row_index" in files) != ("row_values" in files) or ("row_index" in files
                                                                  and "map" not in files):
            raise ValueError("moved rows without their words, or words without their rows")
        if "row_index" in files:
            index = np.asarray(data["row_index"])
            if index.ndim != 1 or index.dtype.kind not in "iu" or (len(index) and (
                    index.min() < 0 or index.max() >= pooling.n_words
                    or np.any(np.diff(index) <= 0))):
                raise ValueError("row_index is not increasing word numbers of the vocabulary")
            pooling.row_index = index.astype(np.int64)
            pooling.row_values = _real(data["row_values"], "row_values",
                                       (len(index), pooling.dim))
        return pooling
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise InputError(f"{name}: not a w2v pooling file ({e})") from None


def _real(value, what, shape):
    """`value` as finite float32 of `shape`; ValueError otherwise."""
    value = np.asarray(value)
    if value.dtype.kind not in "fiu" or value.shape != shape:
        raise ValueError(f"{what} are {value.dtype} {value.shape}, expected {shape}")
    value = value.astype(np.float32)
    if not np.isfinite(value).all():
        raise ValueError(f"{what} hold NaN or infinity")
    return value


def check_pooling(kind):
    value = str(kind).lower()
    if value not in POOLINGS + ("auto",):
        raise OptionError(f"unknown pooling {kind!r}; expected one of {', '.join(POOLINGS)}")
    return value


def zipf_counts(n_words, top=10**9):
    """Counts that Zipf's law gives words by rank (the r-th most frequent ~ top / r), for
    vectors whose file lists words most frequent first but carries no counts."""
    return np.maximum(1, top // np.arange(1, n_words + 1, dtype=np.int64))


def make_pooling(wv, kind="auto", counts=None, a=None, remove_pc=None, normalize=False,
                 lowercase=False, preprocess="none", phrases=None, estimate_counts=False):
    """A `Pooling` for the vectors `wv` (not yet fitted to documents).

    `kind` "auto" is uSIF when word counts are known (`counts`, else `wv.counts`), else
    mean. `a` overrides SIF's 1e-3 or uSIF's derived value; `remove_pc` the number of
    components removed (SIF 1, uSIF 5, mean 0). `phrases` are joined in the text after
    splitting: a model's phrase record (`phrase_tables.recorded_phrases(path)`) or tables
    (`phrase_tables.read_phrases(path)`); see `phrase_tables.phrase_spec`. SIF and uSIF
    need counts; with `estimate_counts`, vectors without them get `zipf_counts` and a warning.
    """
    kind = check_pooling(kind)
    if counts is None:
        counts = wv.counts
    if kind == "auto":
        kind = "usif" if counts is not None else "mean"
    if remove_pc is None:
        remove_pc = DEFAULT_REMOVE_PC[kind]
    if remove_pc < 0:
        raise OptionError(f"remove_pc must be at least 0, got {remove_pc}")
    if a is not None and not a > 0:
        raise OptionError(f"a must be positive, got {a}")
    pooling = Pooling(kind=kind, dim=wv.dim, n_words=len(wv), vocabulary=vocabulary_digest(wv),
                      remove_pc=int(remove_pc), normalize=bool(normalize),
                      lowercase=bool(lowercase), preprocess=check_preprocess(preprocess),
                      phrases=phrase_spec(phrases))
    if kind == "mean":
        return pooling
    if counts is None and estimate_counts:
        counts = estimated_counts(wv, kind)
    if counts is None:
        raise OptionError(f"{kind} pooling needs word counts: a model file, or a vocabulary "
                          f"file of 'word count' lines")
    counts = np.asarray(counts)
    if counts.shape != (len(wv),):
        raise InputError(f"{len(counts)} word counts for {len(wv)} vectors")
    p = word_probabilities(counts)
    if kind == "sif":
        pooling.a = SIF_A if a is None else float(a)
        pooling.weights = sif_weights(p, pooling.a).astype(np.float32)
    else:
        pooling.a = usif_a(p) if a is None else float(a)
        pooling.weights = usif_weights(p, pooling.a).astype(np.float32)
        pooling.unit_words = True
    return pooling


def counts_from_vocab(wv, path):
    """Counts in the order of `wv` from a `word count` file; words it lacks count 0."""
    from ..corpus.vocab import read_vocab

    vocab = read_vocab(path)
    counts = np.zeros(len(wv), dtype=np.int64)
    found = 0
    for word, count in zip(vocab.words, vocab.counts.tolist()):
        row = wv.index.get(word)
        if row is not None:
            counts[row] = count
            found += 1
    if found == 0:
        raise InputError(f"{path}: none of its words are in the vectors")
    missing = len(wv) - found
    if missing:
        log.warning("%s: %d of %d words of the vectors have no count (taken as 0)", path,
                    missing, len(wv))
    return counts


def top_singular_vectors(matrix, k):
    """The k largest singular values and right singular vectors of `matrix` (uncentred).

    Through the dim x dim Gram matrix, summed in float64 in chunks: cheap for millions of
    rows of dimension a few hundred. Signs are fixed (largest entry positive), though the
    removal does not depend on them.
    """
    dim = matrix.shape[1]
    gram = np.zeros((dim, dim), dtype=np.float64)
    for start in range(0, len(matrix), 65536):
        chunk = np.asarray(matrix[start:start + 65536], dtype=np.float64)
        gram += chunk.T @ chunk
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:k]
    singular = np.sqrt(np.clip(values[order], 0, None))
    components = vectors[:, order].T
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    return singular, components * signs[:, None]


# --------------------------------------------------------------------------- from a vectors file


def estimated_counts(wv, kind):
    """`zipf_counts` for the vectors `wv`, which carry none, with a warning naming `kind`."""
    log.warning("%s pooling: the vectors carry no word counts, so they are estimated from "
                "each word's rank by Zipf's law (assuming the file lists words most "
                "frequent first); give --vocab FILE for the real ones", kind)
    return zipf_counts(len(wv))


def counts_for(wv, vocab_path=None):
    """Word counts for SIF and uSIF: from the `word count` file `vocab_path`, else those the
    vectors carry (a model file's), else None."""
    if vocab_path is None:
        return wv.counts
    return counts_from_vocab(wv, vocab_path)


def trained_text_options(path):
    """(lowercase, preprocess) that the training of the model file at `path` applied to its
    text; None for a vector file (or no path)."""
    from ..files.model_file import ModelFile, is_model_file

    if path is None or not is_model_file(path):
        return None
    with ModelFile(path) as model:
        config = model.header.get("config", {})
    return bool(config.get("lowercase", False)), config.get("preprocess", "none")


def phrases_for(path, phrases_file=None):
    """The phrases to join in the text: those of the tables file `phrases_file`, else those
    the model file at `path` recorded (`train --phrases N`), else None."""
    from ..corpus.phrase_tables import read_phrases, recorded_phrases

    if phrases_file is not None:
        return phrase_spec(read_phrases(phrases_file))
    spec = phrase_spec(recorded_phrases(path))
    if spec is not None:
        passes = len(spec["tables"])
        log.info("phrases: joined in the text as in the model's training text (%d pass%s)",
                 passes, "" if passes == 1 else "es")
    return spec


def for_vectors(wv, path=None, kind=None, *, vocab_path=None, a=None, remove_pc=None,
                normalize=False, lowercase=False, preprocess=None, phrases_file=None):
    """The pooling for the vectors `wv` read from `path`, text handled as they were trained.

    A model file written by `w2v tune` gives its tuned encoder (with its own tokenisation)
    unless `kind`, `a`, `remove_pc` or `phrases_file` ask for another pooling.
    A model file's training decides what is not given: its lowercasing (`lowercase` can
    only add it), its `preprocess` normaliser and its phrases (`phrases_file` replaces
    them). `kind` None is uSIF with word counts (`vocab_path`, else the model's), else
    mean; which one is said on stderr. SIF or uSIF asked for by name on vectors without
    counts estimate them (`estimated_counts`). Other arguments are `make_pooling`'s.
    """
    if kind is None and a is None and remove_pc is None and phrases_file is None:
        tuned = tuned_pooling(path)
        if tuned is not None:
            if normalize:
                tuned.normalize = True
            tuned.check(wv)
            log.info("pooling: the tuned encoder of %s", path)
            return tuned
    trained = trained_text_options(path)
    if trained is not None:
        lowercase = lowercase or trained[0]
        if preprocess is None and trained[1] != "none":
            preprocess = trained[1]
            log.info("preprocess: %s (as the model's training text)", preprocess)
    preprocess = preprocess or "none"
    counts = counts_for(wv, vocab_path)
    if kind is None and counts is not None:
        log.info("pooling: usif (word counts from %s)", "--vocab" if vocab_path else "the model")
    elif kind is None:
        log.info("pooling: mean (no word counts: give a model file or --vocab FILE for usif)")
    return make_pooling(wv, kind or "auto", counts=counts, a=a, remove_pc=remove_pc,
                        normalize=normalize, lowercase=lowercase, preprocess=preprocess,
                        phrases=phrases_for(path, phrases_file),
                        estimate_counts=kind is not None)
