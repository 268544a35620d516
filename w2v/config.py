"""Options as one frozen record per model family, validated once, saved inside the model.

The CLI, TOML presets and Python callers all build the same record
(`Word2VecConfig(dim=300)`, `Word2VecConfig.from_dict(saved)`), so every rule and every
message lives here: a misspelt keyword is an error, a value of the wrong type is an
error, and a saved model carries exactly the options it was trained with.

Pure Python: loading a model file to read its options never imports numba.
"""

import dataclasses
import math
from dataclasses import dataclass, fields

from .cooccur.weights import WEIGHTINGS
from .corpus.phrase_tables import check_phrase_thresholds
from .errors import OptionError
from .text.preprocess import PREPROCESSORS
from .vectors.ngrams import MAX_NGRAM, check_ngram_range


def _option(name):
    return "--" + name.replace("_", "-")


# Upper bounds of the size options: far above any useful value, low enough that a typo
# (an extra digit or ten) is an option error rather than an allocation or a kernel that fails.
MAX_DIM = 100_000
MAX_WINDOW = 100_000
MAX_NEGATIVE = 10_000
MAX_EPOCHS = 1_000_000
MAX_BUCKET = 1_000_000_000  # n-gram rows follow the word rows, indexed by int32
MAX_PHRASE_PASSES = 100
MAX_POWER_ITERATIONS = 1_000
MAX_OVERSAMPLE = 100_000


def _check_int(name, value, least, allow_none=False, most=None):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise OptionError(f"{_option(name)} must be an integer >= {least}, got {value!r}")
    if most is not None and value > most:
        raise OptionError(f"{_option(name)} must be at most {most}, got {value}")


def _check_seed(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"--seed must be an integer, got {value!r}")


def _check_float(name, value, test, wants):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not test(value):
        raise OptionError(f"{_option(name)} must be {wants}, got {value!r}")


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise OptionError(f"{_option(name)} must be true or false, got {value!r}")


def _check_choice(name, value, choices):
    if value not in choices:
        raise OptionError(f"{_option(name)} must be one of {', '.join(choices)}, got {value!r}")


class _Config:
    """What every family's record shares: dict round trip, unknown keys refused."""

    @classmethod
    def from_dict(cls, values):
        """Build from a dict (a saved model, TOML): unknown keys are an OptionError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OptionError(f"unknown option{'s' if len(unknown) > 1 else ''} for "
                              f"{cls.__name__}: {', '.join(unknown)}")
        return cls(**values)

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        """A copy with `changes`, validated like a new record."""
        return self.from_dict({**self.to_dict(), **changes})

    def differences(self, other):
        """Names of the options whose values differ between two records of one family."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


@dataclass(frozen=True)
class CorpusConfig(_Config):
    """How the corpus becomes token ids: the options of the one corpus pass."""

    min_count: int = 5
    max_vocab: int | None = None
    lowercase: bool = False
    max_sentence_length: int = 10000
    preprocess: str = "none"
    phrases: int = 0  # passes of `w2v phrases` run on the token ids before the vocabulary
    phrase_threshold: tuple | None = None  # one a pass, or one for all; None: the default

    def __post_init__(self):
        _check_int("min_count", self.min_count, 1)
        _check_int("max_vocab", self.max_vocab, 1, allow_none=True)
        _check_bool("lowercase", self.lowercase)
        _check_int("max_sentence_length", self.max_sentence_length, 1)
        _check_choice("preprocess", self.preprocess, PREPROCESSORS)
        _check_int("phrases", self.phrases, 0, most=MAX_PHRASE_PASSES)
        if self.phrase_threshold is not None:
            object.__setattr__(self, "phrase_threshold",
                               check_phrase_thresholds(self.phrases, self.phrase_threshold))

    def corpus_options(self):
        """Keyword arguments of `load_corpus`."""
        return {f.name: getattr(self, f.name) for f in fields(CorpusConfig)}


MODELS = ("sg", "cbow")
KERNELS = ("auto", "classic", "batched")
DEFAULT_ALPHA = {"sg": 0.025, "cbow": 0.05}
# CBOW with negative sampling alone starts higher than word2vec C's 0.05 (docs/word2vec.md)
CBOW_NS_ALPHA = 0.065
# the final learning rate, as a fraction of the starting one: word2vec C's, and a tenth for
# CBOW with negative sampling alone (docs/word2vec.md)
END_ALPHA = 1e-4
CBOW_NS_END_ALPHA = 0.1
# noise distribution counts^x: word2vec's 0.75, fastText's 0.5 (fixed in fastText)
DEFAULT_NS_EXPONENT = {False: 0.75, True: 0.5}


@dataclass(frozen=True)
class Word2VecConfig(CorpusConfig):
    """Skip-gram / CBOW options; defaults are word2vec C's (skip-gram is the default model),
    except the learning rate of CBOW with negative sampling alone (from 0.065 to a tenth of
    it, against word2vec C's 0.05 to nearly 0: docs/word2vec.md).

    `alpha` None means 0.025 for sg, 0.065 for cbow with negative sampling alone (no hs, no
    subwords) and 0.05 for other cbow, `min_alpha` None means alpha x 0.1 for cbow with
    negative sampling alone and alpha x 1e-4 otherwise,
    `ns_exponent` None means 0.75, or fastText's 0.5 with `subwords`,
    `kernel` "auto" means the fastest kernel for the model and loss (`auto_kernel`); all are
    resolved when the record is made, so a saved model records the values used.
    `subwords` adds fastText's character n-grams (`minn..maxn` code points hashed into
    `bucket` rows after the word rows of the input matrix; see `w2v.subwords`).
    """

    model: str = "sg"
    dim: int = 100
    window: int = 5
    negative: int = 5
    hs: bool = False
    ns_exponent: float | None = None
    sample: float = 1e-3
    epochs: int = 5
    alpha: float | None = None
    min_alpha: float | None = None
    seed: int = 1
    cbow_mean: bool = True
    kernel: str = "auto"
    subwords: bool = False
    minn: int = 3
    maxn: int = 6
    bucket: int = 2000000
    eos: bool = False  # every line ends with fastText's `</s>` token (read by load_corpus)

    def corpus_options(self):
        """Keyword arguments of `load_corpus`, `eos` included."""
        return {**super().corpus_options(), "eos": self.eos}

    def __post_init__(self):
        super().__post_init__()
        _check_choice("model", self.model, MODELS)
        _check_choice("kernel", self.kernel, KERNELS)
        _check_int("dim", self.dim, 1, most=MAX_DIM)
        _check_int("window", self.window, 1, most=MAX_WINDOW)
        _check_int("negative", self.negative, 0, most=MAX_NEGATIVE)
        _check_int("epochs", self.epochs, 1, most=MAX_EPOCHS)
        _check_seed(self.seed)
        _check_bool("hs", self.hs)
        _check_bool("cbow_mean", self.cbow_mean)
        _check_bool("subwords", self.subwords)
        _check_bool("eos", self.eos)
        for name in ("minn", "maxn"):
            _check_int(name, getattr(self, name), 0, most=MAX_NGRAM)
        _check_int("bucket", self.bucket, 0, most=MAX_BUCKET)
        if self.subwords:
            try:
                check_ngram_range(self.minn, self.maxn, self.bucket)
            except ValueError as error:
                raise OptionError(str(error)) from None
        if self.ns_exponent is None:
            object.__setattr__(self, "ns_exponent", DEFAULT_NS_EXPONENT[self.subwords])
        _check_float("ns_exponent", self.ns_exponent, lambda x: True, "a finite number")
        _check_float("sample", self.sample, lambda x: x >= 0, ">= 0 (0 turns subsampling off)")
        if self.negative == 0 and not self.hs:
            raise OptionError("--negative 0 without --hs trains nothing; "
                              "use --negative N (N >= 1), --hs, or both")
        if self.kernel == "auto":
            object.__setattr__(self, "kernel", auto_kernel(self.model, self.negative, self.hs,
                                                           self.subwords))
        if self.kernel == "batched" and self.model == "cbow" and (self.hs or self.negative == 0):
            raise OptionError("--kernel batched with CBOW is for negative sampling only "
                              "(--negative >= 1, no --hs)")
        if self.kernel == "batched" and self.model == "cbow" and self.subwords:
            raise OptionError("--subwords has no batched CBOW kernel: use --kernel classic "
                              "(the default for cbow)")
        if self.alpha is None:
            object.__setattr__(self, "alpha", CBOW_NS_ALPHA if self._cbow_ns_alone()
                               else DEFAULT_ALPHA[self.model])
        _check_float("alpha", self.alpha, lambda x: x > 0, "> 0")
        if self.min_alpha is None:
            object.__setattr__(self, "min_alpha", self.default_min_alpha())
        _check_float("min_alpha", self.min_alpha, lambda x: x >= 0, ">= 0")
        if self.min_alpha > self.alpha:
            raise OptionError(f"--min-alpha ({self.min_alpha}) must not exceed "
                              f"--alpha ({self.alpha})")
        # ints given as floats by TOML or JSON (1.0) are refused above; floats given as
        # ints (alpha = 1) are kept as floats so saved records compare equal
        for name in ("ns_exponent", "sample", "alpha", "min_alpha"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def _cbow_ns_alone(self):
        """CBOW with negative sampling and no hs or subwords: the case with its own rates."""
        return self.model == "cbow" and self.negative > 0 and not self.hs and not self.subwords

    def default_min_alpha(self):
        """The final learning rate when none is given, from the starting one."""
        return self.alpha * (CBOW_NS_END_ALPHA if self._cbow_ns_alone() else END_ALPHA)

    def replace(self, **changes):
        """A copy with `changes`; a kernel that was the automatic choice is chosen again
        when the model or loss changes (sg -> cbow must not keep sg's batched kernel), and
        so is a default noise exponent when `subwords` changes, and a default final
        learning rate when the starting one or the model changes."""
        if "kernel" not in changes and \
                self.kernel == auto_kernel(self.model, self.negative, self.hs, self.subwords):
            changes["kernel"] = "auto"
        if "ns_exponent" not in changes and \
                self.ns_exponent == DEFAULT_NS_EXPONENT[self.subwords]:
            changes["ns_exponent"] = None
        if "min_alpha" not in changes and self.min_alpha == self.default_min_alpha():
            changes["min_alpha"] = None
        return super().replace(**changes)


def auto_kernel(model, negative, hs, subwords=False):
    """The default kernel: batched (shared negatives, faster and as good) for skip-gram
    with negative sampling alone, else classic (word2vec C's per-pair updates). With
    subwords, classic (fastText's update) for skip-gram too: about 1.4x slower than batched
    there, but better on every evaluation set over 3 seeds, on syntactic analogies and Rare
    Words in every seed (README, subword section)."""
    return "batched" if model == "sg" and negative > 0 and not hs and not subwords \
        else "classic"


GLOVE_OUTPUTS = ("sum", "word", "context")


@dataclass(frozen=True)
class GloveConfig(CorpusConfig):
    """GloVe options: counting (window, weighting) and AdaGrad weighted least squares."""

    dim: int = 100
    window: int = 10
    weighting: str = "harmonic"
    epochs: int = 25
    eta: float = 0.05
    x_max: float = 100.0
    alpha: float = 0.75
    grad_clip: float = 100.0
    output_vectors: str = "sum"
    seed: int = 1

    def __post_init__(self):
        super().__post_init__()
        _check_int("dim", self.dim, 1, most=MAX_DIM)
        _check_int("window", self.window, 1, most=MAX_WINDOW)
        _check_int("epochs", self.epochs, 1, most=MAX_EPOCHS)
        _check_seed(self.seed)
        _check_choice("weighting", self.weighting, WEIGHTINGS)
        _check_choice("output_vectors", self.output_vectors, GLOVE_OUTPUTS)
        _check_float("eta", self.eta, lambda x: x > 0, "positive")
        _check_float("x_max", self.x_max, lambda x: x > 0, "positive")
        _check_float("alpha", self.alpha, lambda x: x >= 0, "at least 0")
        _check_float("grad_clip", self.grad_clip, lambda x: x > 0, "positive")
        for name in ("eta", "x_max", "alpha", "grad_clip"):
            object.__setattr__(self, name, float(getattr(self, name)))


SVD_SOLVERS = ("randomized", "arpack")


@dataclass(frozen=True)
class SvdConfig(CorpusConfig):
    """PPMI + truncated SVD options (Levy, Goldberg and Dagan 2015's hyperparameters)."""

    dim: int = 100
    window: int = 2
    weighting: str = "linear"
    sample: float = 1e-5
    cds: float = 0.75
    neg: float = 1
    eig: float = 0.5
    add_context: bool = False
    normalize: bool = False
    solver: str = "randomized"
    power_iterations: int = 4
    oversample: int = 10
    fit_words: int | None = None
    seed: int = 1

    def __post_init__(self):
        super().__post_init__()
        _check_int("dim", self.dim, 1, most=MAX_DIM)
        _check_int("window", self.window, 1, most=MAX_WINDOW)
        _check_int("power_iterations", self.power_iterations, 0, most=MAX_POWER_ITERATIONS)
        _check_int("oversample", self.oversample, 0, most=MAX_OVERSAMPLE)
        _check_int("fit_words", self.fit_words, 1, allow_none=True)
        _check_seed(self.seed)
        _check_bool("add_context", self.add_context)
        _check_bool("normalize", self.normalize)
        _check_choice("weighting", self.weighting, WEIGHTINGS)
        _check_choice("solver", self.solver, SVD_SOLVERS)
        _check_float("sample", self.sample, lambda x: x >= 0, "0 (off) or positive")
        _check_float("cds", self.cds, lambda x: x > 0, "positive")
        _check_float("neg", self.neg, lambda x: x >= 1, "at least 1")
        _check_float("eig", self.eig, lambda x: x >= 0, "0 or more")
        if self.fit_words is not None and self.fit_words <= self.dim:
            raise OptionError(f"--fit-words must exceed --dim ({self.dim}), got {self.fit_words}")
        for name in ("sample", "cds", "neg", "eig"):
            object.__setattr__(self, name, float(getattr(self, name)))
