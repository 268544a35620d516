"""Hard debiasing (Bolukbasi, Chang, Zou, Saligrama and Kalai 2016), as their debiaswe does it.

1. Every vector is scaled to unit length.
2. The bias direction g is the first principal component of the definitional pairs'
   differences from their midpoints (she/he, her/his, woman/man, ...); with
   `components` k > 1, the first k span a bias subspace (the paper's general form).
3. Neutralise: every word not in the gender-specific list loses its component along g
   and is scaled back to unit length.
4. Equalise: each equality pair (a, b), in lower, title and upper case where the
   vocabulary has both, is moved to mu +/- z g, where mu is the pair's midpoint without
   its g component and z = sqrt(1 - |mu|^2), so both words are equally far from every
   neutral word; each keeps its side of g.

List words are looked up as written, else lowercased (see `bias.resolve`). Pure numpy.
"""

import dataclasses
import logging

import numpy as np

from .weat import data_path, read_json, resolve
from ..errors import InputError
from ..vectors.word_vectors import WordVectors, unit_rows

log = logging.getLogger("w2v")

DEFINITIONAL = "gender-definitional-pairs.json"
EQUALIZE = "gender-equalize-pairs.json"
SPECIFIC = "gender-specific.json"


@dataclasses.dataclass
class DebiasResult:
    vectors: WordVectors
    basis: np.ndarray  # orthonormal rows spanning the bias subspace (float64)
    explained: np.ndarray  # variance shares of the first ten principal components
    definitional: list  # pairs used to find the direction
    equalized: list  # pairs equalised (as found in the vocabulary)
    neutralized: int  # words neutralised


def read_pairs(path, what):
    """Word pairs from a JSON list of two-word lists, or a text file of 'a b' lines."""
    items = _read_list(path, what)
    pairs = []
    for i, item in enumerate(items, 1):
        words = item.split() if isinstance(item, str) else item
        if (not isinstance(words, list) or len(words) != 2
                or not all(isinstance(w, str) and w for w in words)):
            raise InputError(f"{path}: entry {i}: expected a pair of words, got {item!r}")
        pairs.append(tuple(words))
    return pairs


def read_words(path, what):
    """Words from a JSON list of strings, or a text file of one word per line."""
    items = _read_list(path, what)
    bad = [w for w in items if not isinstance(w, str) or not w.strip()]
    if bad:
        raise InputError(f"{path}: expected words, got {bad[0]!r}")
    return [w.strip() for w in items]


def _read_list(path, what):
    """A JSON list, or the non-blank lines (without '#' comments) of a text file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"cannot read the {what} {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    if text.lstrip().startswith("["):
        items = read_json(path, what)
    else:
        items = [line.strip() for line in text.splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
    if not isinstance(items, list) or not items:
        raise InputError(f"{path}: no entries in the {what}")
    return items


def default_lists():
    """(definitional pairs, equalize pairs, gender-specific words) shipped in data/."""
    return (read_pairs(data_path(DEFINITIONAL), "definitional pairs"),
            read_pairs(data_path(EQUALIZE), "equalize pairs"),
            read_words(data_path(SPECIFIC), "gender-specific words"))


def lists_or_defaults(definitional, equalize, specific):
    """The three lists, each None replaced by the shipped one (read only when needed)."""
    if None not in (definitional, equalize, specific):
        return definitional, equalize, specific
    defaults = default_lists()
    return tuple(default if given is None else given
                 for given, default in zip((definitional, equalize, specific), defaults))


def bias_subspace(unit, rows_pairs, components=1):
    """(orthonormal rows spanning the bias subspace, explained-variance shares of the first
    ten components): the first principal components of the pairs' differences from their
    midpoints. `unit` holds unit rows."""
    diffs = []
    for a, b in rows_pairs:
        va, vb = np.float64(unit[a]), np.float64(unit[b])
        centre = (va + vb) / 2
        diffs += [va - centre, vb - centre]
    matrix = np.array(diffs)
    matrix -= matrix.mean(axis=0)  # already zero; kept so this is plain PCA
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = min(len(rows_pairs), len(vt))  # each pair adds one difference, +d and -d
    if components > rank:
        raise InputError(f"{components} bias components asked, but {len(rows_pairs)} "
                         f"definitional pairs in the vocabulary give at most {rank}")
    variance = singular ** 2
    basis = vt[:components].copy()
    # A principal component's sign is arbitrary; point the first from the second word of
    # the first pair to the first, so that runs agree.
    a, b = rows_pairs[0]
    if (np.float64(unit[a]) - unit[b]) @ basis[0] < 0:
        basis[0] = -basis[0]
    return basis, variance[:10] / variance.sum()


def definitional_rows(wv, definitional):
    """Row pairs of the definitional pairs with both words in the vocabulary (each once);
    InputError if there is none."""
    rows, seen = [], set()
    for a, b in definitional:
        ra, rb = resolve(wv, a), resolve(wv, b)
        if ra is not None and rb is not None and ra != rb and (ra, rb) not in seen:
            seen.add((ra, rb))
            rows.append((ra, rb))
    if not rows:
        raise InputError("no definitional pair has both words in the vocabulary "
                         f"({len(definitional)} pairs given)")
    return rows


def hard_debias(wv, definitional=None, equalize=None, specific=None, components=1):
    """Debiased copy of `wv` (WordVectors): unit vectors, neutralised and equalised.

    The lists default to Bolukbasi et al.'s (data/). `components` is the dimension k of
    the bias subspace (the paper's k; 1, a single direction, is debiaswe's gender setting).
    Pairs with a word not in the vocabulary are skipped; InputError if no definitional
    pair is left.
    """
    if components < 1:
        raise InputError(f"components must be at least 1, got {components}")
    definitional, equalize, specific = lists_or_defaults(definitional, equalize, specific)
    unit = _normalized(wv.vectors)  # float32, as big as the input
    def_rows = definitional_rows(wv, definitional)
    if len(def_rows) < len(definitional):
        log.info("bias direction from %d of %d definitional pairs (the others have a word "
                 "not in the vocabulary)", len(def_rows), len(definitional))
    basis, explained = bias_subspace(unit, def_rows, components)

    keep = np.zeros(len(wv), dtype=bool)
    for word in specific:
        row = resolve(wv, word)
        if row is not None:
            keep[row] = True
    neutral = ~keep
    b32 = basis.astype(unit.dtype)
    unit[neutral] -= (unit[neutral] @ b32.T) @ b32
    unit = _normalized(unit)

    candidates = [(case(a), case(b)) for a, b in equalize
                  for case in (str.lower, str.title, str.upper)]
    eq_rows = [(a, b) for a, b in dict.fromkeys(
        (wv.index[a], wv.index[b]) for a, b in candidates if a in wv.index and b in wv.index)
        if a != b]
    for a, b in eq_rows:
        unit[a], unit[b] = _equalize(np.float64(unit[a]), np.float64(unit[b]), basis)
    unit = _normalized(unit)
    out = WordVectors(wv.words, unit, counts=wv.counts)
    return DebiasResult(out, basis, explained,
                        [(wv.words[a], wv.words[b]) for a, b in def_rows],
                        [(wv.words[a], wv.words[b]) for a, b in eq_rows], int(neutral.sum()))


def _equalize(va, vb, basis):
    """The pair moved to nu +/- sqrt(1 - |nu|^2) u: nu is their midpoint outside the bias
    subspace, u the unit direction of a's part in it from the midpoint's (Bolukbasi et al.,
    eq. in section 5). A pair with no difference inside the subspace (both neutralised)
    is split along the first component, as debiaswe does."""
    mid = (va + vb) / 2
    mid_in = basis.T @ (basis @ mid)
    nu = mid - mid_in
    side = basis.T @ (basis @ va) - mid_in
    length = np.linalg.norm(side)
    u = side / length if length > 1e-6 else basis[0]
    z = np.sqrt(max(0.0, 1.0 - nu @ nu))
    return nu + z * u, nu - z * u


@dataclasses.dataclass
class DebiasComparison:
    """WEAT results and the bundled evaluations of vectors before and after debiasing."""

    weat_before: list  # WeatResult per standard test that could run (no p-values)
    weat_after: list
    analogies: tuple  # (AnalogyResult before, after) on questions-words
    similarity: tuple  # (SimilarityResult before, after) on WS353


def compare_debiased(before, after, tests=None):
    """Score `before` and `after` on the standard WEAT tests (or `tests`), questions-words
    and WS353, as `w2v debias` reports them."""
    from .weat import run_tests, select_tests
    from ..vectors.evaluate import bundled_dataset, evaluate_analogies, evaluate_similarity

    tests = select_tests() if tests is None else tests
    old = run_tests(before, tests, p_value=False)[0]
    new = {r.test.name: r for r in run_tests(after, tests, p_value=False)[0]}
    old = [r for r in old if r.test.name in new]
    analogies = bundled_dataset("questions-words.txt")
    similarity = bundled_dataset("wordsim353.txt")
    return DebiasComparison(old, [new[r.test.name] for r in old],
                            tuple(evaluate_analogies(v, analogies) for v in (before, after)),
                            tuple(evaluate_similarity(v, similarity) for v in (before, after)))


def _normalized(m):
    """Rows of `m` at unit length, as float32 (zero rows stay zero)."""
    return unit_rows(np.asarray(m, dtype=np.float32))
