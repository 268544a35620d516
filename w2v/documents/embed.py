"""Document vectors pooled from word vectors (mean, SIF, uSIF), and search over them.

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
numpy only: `embed`, `search` and `evaluate --sts` never import numba.
"""

import dataclasses
import hashlib
import json
import logging
import math
import os

import numpy as np

from ..runtime.atomic import atomic_write
from ..errors import InputError, OptionError
from ..corpus.phrase_tables import PhraseJoiner, phrase_spec
from ..text.preprocess import check_preprocess, normaliser

log = logging.getLogger("w2v")

POOLINGS = ("mean", "sif", "usif")
METRICS = ("cosine", "dot")
SIF_A = 1e-3
USIF_SENTENCE_LENGTH = 11  # n in uSIF's derivation of a (the reference code's default)
DEFAULT_REMOVE_PC = {"mean": 0, "sif": 1, "usif": 5}
POOLING_FORMAT = "w2v-pooling-1"
# A pooling that joins phrases is format 2, so that a w2v that cannot join them refuses the
# file rather than embedding the text unjoined; one without phrases stays format 1.
POOLING_FORMAT_PHRASES = "w2v-pooling-2"


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
        if self.weights is None:
            return matrix
        return (matrix * self.weights[:, None]).astype(np.float32)

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

    def apply(self, raw):
        """Remove the weighted components and normalise if asked, in place; returns `raw`."""
        if not self.fitted:
            raise OptionError("the pooling has not been fitted to documents yet")
        if self.components is not None and len(self.components):
            projections = raw @ self.components.T  # (n, k)
            raw -= (projections * self.component_weights) @ self.components
        if self.normalize:
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            raw /= norms
        return raw

    def arrays(self):
        """The pooling as named numpy arrays (no objects): what `save` and an index store."""
        fields = {"format": np.array(POOLING_FORMAT if self.phrases is None
                                     else POOLING_FORMAT_PHRASES),
                  "kind": np.array(self.kind),
                  "dim": np.int64(self.dim), "n_words": np.int64(self.n_words),
                  "vocabulary": np.array(self.vocabulary), "a": np.float64(self.a),
                  "unit_words": np.bool_(self.unit_words), "remove_pc": np.int64(self.remove_pc),
                  "normalize": np.bool_(self.normalize), "lowercase": np.bool_(self.lowercase),
                  "preprocess": np.array(self.preprocess)}
        if self.phrases is not None:  # absent otherwise: format 1, as before phrases
            fields["phrases"] = np.array(json.dumps(self.phrases, ensure_ascii=False))
        for name in ("weights", "components", "component_weights"):
            value = getattr(self, name)
            if value is not None:
                fields[name] = value
        return fields

    def save(self, path):
        """Write an .npz (numpy only, no pickle), atomically."""
        with atomic_write(path, "wb") as out:
            np.savez(out, **self.arrays())


def load_pooling(path):
    """A `Pooling` saved by `Pooling.save`; InputError for anything else."""
    name = os.fspath(path)
    try:
        with np.load(name, allow_pickle=False) as data:
            return pooling_from_arrays(data, name)
    except OSError as e:
        raise InputError(f"cannot read {name}: {e.strerror or e}") from None


def pooling_from_arrays(data, name):
    """A `Pooling` from the arrays of `Pooling.arrays` (a mapping, or an open .npz);
    InputError naming `name` when they are not one."""
    try:
        files = set(data.files if hasattr(data, "files") else data.keys())
        kind = str(data["format"]) if "format" in files else ""
        if kind not in (POOLING_FORMAT, POOLING_FORMAT_PHRASES):
            newer = kind.startswith("w2v-pooling-")
            raise InputError(f"{name}: " + (f"pooling format {kind[12:]} is newer than this w2v "
                                            "reads (1-2): upgrade w2v" if newer
                                            else "not a w2v pooling file"))
        optional = {k: data[k] for k in ("weights", "components", "component_weights")
                    if k in files}
        if "phrases" in files:
            optional["phrases"] = phrase_spec(json.loads(str(data["phrases"])))
        return Pooling(kind=str(data["kind"]), dim=int(data["dim"]),
                       n_words=int(data["n_words"]), vocabulary=str(data["vocabulary"]),
                       a=float(data["a"]), unit_words=bool(data["unit_words"]),
                       remove_pc=int(data["remove_pc"]), normalize=bool(data["normalize"]),
                       lowercase=bool(data["lowercase"]), preprocess=str(data["preprocess"]),
                       **optional)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(f"{name}: not a w2v pooling file ({e})") from None


def check_pooling(kind):
    value = str(kind).lower()
    if value not in POOLINGS + ("auto",):
        raise OptionError(f"unknown pooling {kind!r}; expected one of {', '.join(POOLINGS)}")
    return value


def make_pooling(wv, kind="auto", counts=None, a=None, remove_pc=None, normalize=False,
                 lowercase=False, preprocess="none", phrases=None):
    """A `Pooling` for the vectors `wv` (not yet fitted to documents).

    `kind` "auto" is uSIF when word counts are known (`counts`, else `wv.counts`), else
    mean. `a` overrides SIF's 1e-3 or uSIF's derived value; `remove_pc` the number of
    components removed (SIF 1, uSIF 5, mean 0). `phrases` are joined in the text after
    splitting: a model's phrase record (`phrase_tables.recorded_phrases(path)`) or tables
    (`phrase_tables.read_phrases(path)`); see `phrase_tables.phrase_spec`.
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


# --------------------------------------------------------------------------- pooling text


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

    def result(self):
        if not self.blocks:
            return np.zeros((0, self.matrix.shape[1]), dtype=np.float32)
        return np.concatenate(self.blocks) if len(self.blocks) > 1 else self.blocks[0]


def _finish(pooler, pooling, label="documents"):
    raw = pooler.result()
    if not pooling.fitted:
        pooling.fit(raw)
    pooling.apply(raw)
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
          lowercase=False, preprocess="none", phrases=None, label="documents"):
    """Pool the word vectors of each text (one document each) into an `Embedding`.

    `pooling` is "mean", "sif", "usif", "auto" (uSIF when counts are known) or a fitted
    `Pooling` (then the texts are embedded exactly as the documents it was fitted on, e.g.
    queries). A pooling not yet fitted removes components found on these texts themselves.
    A text holding newlines is still one document. `phrases` (see `make_pooling`) are joined
    after splitting. `label` names the texts in the warning about texts with no known word.
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
    return _finish(pooler, pooling, label)


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


# --------------------------------------------------------------------------- search


def check_metric(metric):
    value = str(metric).lower()
    if value not in METRICS:
        raise OptionError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return value


def unit_rows(matrix):
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def top_documents(documents, queries, n=10, metric="cosine"):
    """(rows, scores): the n best documents of each query, best first.

    `documents` (N x dim) and `queries` (Q x dim) are pooled vectors; "cosine" scales both to
    unit length first (zero vectors score 0), "dot" uses them as they are. The ranking is
    exact: equal scores go to the lower row, as a stable sort of all scores would order
    them; documents are scored in blocks by matrix product (see `topn`). A zero query (no
    known word) matches nothing: `hits` leaves it out.
    """
    from .rank import top_n

    metric = check_metric(metric)
    documents = np.asarray(documents, dtype=np.float32)
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    if queries.shape[1] != documents.shape[1]:
        raise InputError(f"queries have dimension {queries.shape[1]}, documents "
                         f"{documents.shape[1]}")
    if metric == "cosine":
        documents, queries = unit_rows(documents), unit_rows(queries)
    return top_n(documents, queries, max(0, min(n, len(documents))))


def search(wv, documents, queries, n=10, metric="cosine", **options):
    """The n best documents for each query text: a list per query of (row, score).

    `documents` is an `Embedding` (from `embed`/`embed_files`), an open index (`open_index`)
    or a list of texts (embedded here with `options`, as `embed` takes them); queries are
    pooled with the documents' pooling, so exactly as they were.
    """
    from .index import DocumentIndex, search_index

    if isinstance(queries, str):
        queries = [queries]
    if isinstance(documents, DocumentIndex):
        if options:
            raise OptionError("an index carries its own pooling and tokenisation")
        documents.check(wv)
        pooled, rows, scores = search_index(documents, wv, queries, n, metric)
        return hits(pooled, rows, scores)
    if not isinstance(documents, Embedding):
        documents = embed(wv, documents, **options)
    pooled = embed(wv, queries, documents.pooling, label="queries")
    rows, scores = top_documents(documents.vectors, pooled.vectors, n, metric)
    return hits(pooled.vectors, rows, scores)


def hits(queries, rows, scores):
    """Per query a list of (row, score); empty for a query with no known word."""
    empty = ~np.any(queries != 0, axis=1)
    return [[] if e else list(zip(r.tolist(), s.tolist())) for e, r, s in zip(empty, rows, scores)]
