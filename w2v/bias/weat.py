"""WEAT, the Word Embedding Association Test (Caliskan, Bryson and Narayanan 2017).

For target sets X, Y and attribute sets A, B, each word w gets

    s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)

and the test reports the statistic  S = sum_{x in X} s(x) - sum_{y in Y} s(y),  the effect
size  d = (mean_X s - mean_Y s) / std_{X u Y} s  (the population standard deviation, as WEFE
computes it), and a one-sided permutation p-value: the share of the partitions of X u Y
into sets of sizes |X| and |Y| whose statistic is at least S. With few partitions all are
enumerated; otherwise a seeded random sample of them gives (count + 1) / (samples + 1).

The standard tests (`STANDARD_TESTS`) use the word sets shipped in `data/weat-wordsets.json`
(see `data/BIAS-SOURCES.txt`); `read_tests` reads more from a TOML file. Words are looked up
as written, else lowercased, so capitalised names match a lowercased corpus. Pure numpy:
`w2v bias` only reads vectors and never imports numba.
"""

import dataclasses
import itertools
import json
import math
import os

import numpy as np

from ..errors import InputError, OptionError, VocabularyError
from ..vectors.evaluate import bundled_dataset as data_path  # noqa: F401  (hard, inlp)
from ..vectors.word_vectors import unit_rows

DEFAULT_PERMUTATIONS = 100_000
SAMPLE_BATCH = 10_000  # random partitions drawn per numpy call
MAX_TESTS_FILE_BYTES = 16 << 20  # a tests file (TOML) larger than this is not one


@dataclasses.dataclass(frozen=True)
class WeatTest:
    """Two target sets and two attribute sets of words, each with a name."""

    name: str
    x: tuple
    y: tuple
    a: tuple
    b: tuple
    names: tuple = ("X", "Y", "A", "B")
    description: str = ""

    def sets(self):
        return {"X": self.x, "Y": self.y, "A": self.a, "B": self.b}


# name: (X, Y, A, B, description), sets named as in weat-wordsets.json; Caliskan's numbering.
_STANDARD = {
    "flowers-insects": ("flowers", "insects", "pleasant_5", "unpleasant_5a",
                        "WEAT 1: flowers vs insects, pleasant vs unpleasant"),
    "instruments-weapons": ("instruments", "weapons", "pleasant_5", "unpleasant_5a",
                            "WEAT 2: instruments vs weapons, pleasant vs unpleasant"),
    "race-names": ("european_american_names_5", "african_american_names_5", "pleasant_5",
                   "unpleasant_5b", "WEAT 3: European vs African American names "
                   "(Greenwald), pleasant vs unpleasant"),
    "race-names-bertrand": ("european_american_names_7", "african_american_names_7",
                            "pleasant_5", "unpleasant_5b", "WEAT 4: European vs African "
                            "American names (Bertrand), pleasant vs unpleasant"),
    "race-names-nosek": ("european_american_names_7", "african_american_names_7",
                         "pleasant_9", "unpleasant_9", "WEAT 5: European vs African American "
                         "names (Bertrand), pleasant vs unpleasant (Nosek)"),
    "gender-career": ("male_names", "female_names", "career", "family",
                      "WEAT 6: male vs female names, career vs family"),
    "gender-math": ("math", "arts", "male_terms", "female_terms",
                    "WEAT 7: math vs arts, male vs female terms"),
    "gender-science": ("science", "arts_2", "male_terms_2", "female_terms_2",
                       "WEAT 8: science vs arts, male vs female terms"),
    "disease-permanence": ("mental_disease", "physical_disease", "temporary", "permanent",
                           "WEAT 9: mental vs physical disease, temporary vs permanent"),
    "age-pleasant": ("young_people_names", "old_people_names", "pleasant_9", "unpleasant_9",
                     "WEAT 10: young vs old people's names, pleasant vs unpleasant"),
}
STANDARD_TESTS = tuple(_STANDARD)
GENDER_TESTS = ("gender-career", "gender-math", "gender-science")


def read_json(path, what):
    """A JSON file, or InputError naming it and `what` it should hold."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise InputError(f"cannot read the {what} {path}: {e.strerror or e}") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None


def standard_tests(wordsets_path=None):
    """The standard tests, by name, with their word sets from `data/weat-wordsets.json`."""
    path = wordsets_path or data_path("weat-wordsets.json")
    sets = read_json(path, "WEAT word lists")
    tests = {}
    for name, (x, y, a, b, description) in _STANDARD.items():
        missing = [s for s in (x, y, a, b) if not isinstance(sets, dict) or s not in sets]
        if missing:
            raise InputError(f"{path}: no word set {missing[0]!r} (needed by {name})")
        tests[name] = WeatTest(name, *(tuple(sets[s]) for s in (x, y, a, b)),
                               names=(x, y, a, b), description=description)
    return tests


def read_tests(path):
    """User-defined tests from a TOML file: one table per test with lists X, Y, A, B
    (and optionally `description` and the names `X_name` ... `B_name`):

        [my-test]
        X = ["rose", "tulip"]
        Y = ["ant", "wasp"]
        A = ["love", "peace"]
        B = ["hatred", "war"]
    """
    import tomllib

    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TESTS_FILE_BYTES + 1)
        if len(raw) > MAX_TESTS_FILE_BYTES:
            raise InputError(f"{path}: not a tests file: larger than "
                             f"{MAX_TESTS_FILE_BYTES >> 20} MiB")
        doc = tomllib.loads(raw.decode("utf-8"))
    except OSError as e:
        raise InputError(f"cannot read the tests file {path}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise InputError(f"{path}: not valid TOML ({e})") from None
    if not doc:
        raise InputError(f"{path}: no tests in the file")
    tests = {}
    for name, table in doc.items():
        if not isinstance(table, dict):
            raise InputError(f"{path}: {name} is not a table [{name}] with X, Y, A and B")
        sets = []
        for key in "XYAB":
            words = table.get(key)
            if (not isinstance(words, list) or not words
                    or not all(isinstance(w, str) and w for w in words)):
                raise InputError(f"{path}: test {name}: {key} must be a non-empty list of words")
            sets.append(tuple(words))
        unknown = set(table) - set("XYAB") - {"description"} - {k + "_name" for k in "XYAB"}
        if unknown:
            raise InputError(f"{path}: test {name}: unknown key {sorted(unknown)[0]!r}")
        names = tuple(str(table.get(k + "_name", k)) for k in "XYAB")
        tests[name] = WeatTest(name, *sets, names=names,
                               description=str(table.get("description", "")))
    return tests


def select_tests(names=(), tests_path=None):
    """The tests to run: `names` from the standard ones and the file's (all of the file's,
    or all standard ones, when no names are given). Unknown names raise OptionError."""
    standard = standard_tests()
    extra = read_tests(tests_path) if tests_path else {}
    if not names:
        return list((extra or standard).values())
    known = {**standard, **extra}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise OptionError(f"unknown test {unknown[0]!r}; known tests: {', '.join(known)}")
    return [known[n] for n in dict.fromkeys(names)]


# --------------------------------------------------------------------------- the test


@dataclasses.dataclass
class WeatResult:
    test: WeatTest
    effect_size: float
    statistic: float
    p_value: float
    p_method: str  # "exact" or "sampled"
    partitions: int  # enumerated or sampled
    found: dict  # set key -> words found
    missing: dict  # set key -> words not in the vocabulary

    @property
    def coverage(self):
        found = sum(len(v) for v in self.found.values())
        return found / (found + sum(len(v) for v in self.missing.values()))

    def to_dict(self):
        def number(x):
            return None if x != x else x

        t = self.test
        return {"test": t.name, "description": t.description,
                "sets": dict(zip("XYAB", t.names)),
                "effect_size": number(self.effect_size), "statistic": number(self.statistic),
                "p_value": number(self.p_value), "p_method": self.p_method,
                "partitions": self.partitions,
                "found": {k: len(v) for k, v in self.found.items()},
                "coverage": self.coverage, "missing": self.missing}


def resolve(wv, word):
    """Row of `word` in `wv`: as written, else lowercased; None if neither is there."""
    row = wv.index.get(word)
    if row is None:
        row = wv.index.get(word.lower())
    return row


def pair_direction(wv, pair, purpose):
    """Unit float64 vector from pair[1] to pair[0] ("he" - "she") over unit word vectors;
    InputError naming `purpose` when a word of the pair is not in the vocabulary."""
    a, b = (resolve(wv, w) for w in pair)
    if a is None or b is None:
        raise InputError(f"{pair[0]!r} and {pair[1]!r} must both be in the "
                         f"vocabulary to choose {purpose}")
    unit = wv.unit
    g = np.float64(unit[a]) - unit[b]
    return g / np.linalg.norm(g)


def lookup(wv, test):
    """(rows per set key, missing words per set key); raises VocabularyError if a set
    has no word in the vocabulary."""
    rows, missing = {}, {}
    for key, words in test.sets().items():
        found = [(w, resolve(wv, w)) for w in words]
        rows[key] = [(w, r) for w, r in found if r is not None]
        missing[key] = [w for w, r in found if r is None]
    empty = [k for k in "XYAB" if not rows[k]]
    if empty:
        k = empty[0]
        label = test.names["XYAB".index(k)]
        raise VocabularyError(f"test {test.name}: no word of set {k} ({label}) is in the "
                              f"vocabulary", missing[k])
    return rows, missing


def _unit_rows_of(vectors, rows):
    """The given rows scaled to unit length, in float64 (zero rows stay zero)."""
    return unit_rows(np.asarray(vectors[rows], dtype=np.float64), None)


def association(vectors, targets, a, b):
    """s(w, A, B) for each target row: mean cosine to A's rows minus mean cosine to B's."""
    w = _unit_rows_of(vectors, targets)
    return ((w @ _unit_rows_of(vectors, a).T).mean(axis=1)
            - (w @ _unit_rows_of(vectors, b).T).mean(axis=1))


def effect_size(sx, sy):
    """(mean sx - mean sy) / population std of both; NaN when all associations are equal."""
    both = np.concatenate([sx, sy])
    std = both.std()
    return float((sx.mean() - sy.mean()) / std) if std > 0 else math.nan


def weat(wv, test, permutations=DEFAULT_PERMUTATIONS, seed=1, p_value=True):
    """Run one WEAT on `wv` (WordVectors); words not in the vocabulary are dropped and
    reported. With `p_value` False the permutation test is skipped (NaN)."""
    rows, missing = lookup(wv, test)
    ids = {k: [r for _, r in v] for k, v in rows.items()}
    s = association(wv.vectors, ids["X"] + ids["Y"], ids["A"], ids["B"])
    sx, sy = s[:len(ids["X"])], s[len(ids["X"]):]
    statistic = float(sx.sum() - sy.sum())
    p, method, count = math.nan, "none", 0
    if p_value:
        p, method, count = permutation_p_value(s, len(sx), permutations, seed)
    return WeatResult(test, effect_size(sx, sy), statistic, p, method, count,
                      {k: [w for w, _ in v] for k, v in rows.items()}, missing)


def permutation_p_value(s, n_x, permutations=DEFAULT_PERMUTATIONS, seed=1):
    """(p, "exact" or "sampled", partitions used): the one-sided p-value of the statistic
    sum(s[:n_x]) - sum(s[n_x:]) over the partitions of `s` into sizes n_x and the rest.

    Exact when there are at most `permutations` partitions; otherwise `permutations`
    random ones from a generator seeded with `seed`, counted as (hits + 1) / (n + 1).
    The statistic of a partition is 2 sum(s[X_i]) - sum(s), so only sums over X_i are
    compared, with a tolerance for the rounding of sums taken in another order.
    """
    s = np.asarray(s, dtype=np.float64)
    n = len(s)
    observed = s[:n_x].sum()
    tolerance = 1e-12 * max(1.0, np.abs(s).sum())
    total = math.comb(n, n_x)
    if total <= permutations:
        subsets = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), n_x)),
                              dtype=np.int64, count=total * n_x).reshape(total, n_x)
        hits = int((s[subsets].sum(axis=1) >= observed - tolerance).sum())
        return hits / total, "exact", total
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, permutations, SAMPLE_BATCH):
        size = min(SAMPLE_BATCH, permutations - start)
        picks = np.argpartition(rng.random((size, n)), n_x - 1, axis=1)[:, :n_x]
        hits += int((s[picks].sum(axis=1) >= observed - tolerance).sum())
    return (hits + 1) / (permutations + 1), "sampled", permutations


def run_tests(wv, tests, permutations=DEFAULT_PERMUTATIONS, seed=1, p_value=True):
    """(results, failures): one WeatResult per test that could run, and one VocabularyError
    per test with a set left empty by unknown words."""
    results, failures = [], []
    for test in tests:
        try:
            results.append(weat(wv, test, permutations, seed, p_value))
        except VocabularyError as e:
            failures.append(e)
    return results, failures
