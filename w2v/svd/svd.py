"""PPMI + truncated SVD embeddings (Levy, Goldberg and Dagan 2015): count, PPMI, SVD, weight.

The word vectors are U S^p from the rank-d SVD of the shifted PPMI matrix; p = `eig` = 0.5
rather than the "correct" p = 1, which the paper found about 15 points better on similarity.
Two solvers: a randomized range finder (Halko, Martinsson and Tropp 2011) that needs only
a few passes over the sparse matrix, and ARPACK through scipy's `svds`. Both multiply by the
sparse matrix with numba kernels so `--threads` applies; dense algebra goes to BLAS.
"""

import contextlib
import ctypes
import logging
import time

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from numba import njit, prange

from ..config import SvdConfig
from ..errors import InputError, OptionError
from ..corpus.subsample import subsample_corpus
from .ppmi import balanced_row_blocks, ppmi_matrix
from ..vectors.word_vectors import WordVectors, unit_rows

log = logging.getLogger("w2v")


# --------------------------------------------------------------------------- sparse products


class SparseOperator:
    """A CSR matrix with threaded products A @ X and A.T @ X (A.T kept as its own CSR)."""

    def __init__(self, matrix):
        self.matrix = sp.csr_matrix(matrix)
        self.transposed = self.matrix.T.tocsr()
        self.shape = self.matrix.shape
        self._blocks = balanced_row_blocks(self.matrix.indptr)
        self._blocks_t = balanced_row_blocks(self.transposed.indptr)

    def dot(self, x):
        """A @ x for a dense vector or matrix x (result in x's float type)."""
        return _product(self.matrix, self._blocks, x)

    def tdot(self, x):
        """A.T @ x."""
        return _product(self.transposed, self._blocks_t, x)


def _product(matrix, blocks, x):
    x = np.asarray(x)
    vector = x.ndim == 1
    x2 = np.ascontiguousarray(x.reshape(len(x), -1))
    if x2.dtype not in (np.float32, np.float64):
        x2 = x2.astype(np.float64)
    out = np.empty((matrix.shape[0], x2.shape[1]), dtype=x2.dtype)
    _csr_times_dense(matrix.indptr, matrix.indices, matrix.data, x2, blocks, out)
    return out[:, 0] if vector else out


@njit(cache=True, parallel=True)
def _csr_times_dense(indptr, indices, data, x, blocks, out):
    k = x.shape[1]
    for b in prange(len(blocks) - 1):
        row_sum = np.empty(k, dtype=np.float64)
        for row in range(blocks[b], blocks[b + 1]):
            row_sum[:] = 0.0
            for j in range(indptr[row], indptr[row + 1]):
                value = data[j]
                column = indices[j]
                for t in range(k):
                    row_sum[t] += value * x[column, t]
            for t in range(k):
                out[row, t] = row_sum[t]


# --------------------------------------------------------------------------- solvers


def randomized_svd(matrix, k, oversample=10, power_iterations=4, seed=1):
    """Top-k SVD (u, s, vt) by a randomized range finder with power iterations.

    A Gaussian sketch A @ Omega with k + oversample columns spans most of A's top singular
    subspace; each power iteration (A A^T) sharpens it by the ratio of singular values, with a
    QR between products so the small directions are not lost to rounding. The exact SVD of
    the small projection Q^T A then gives the factors. Float32 for the tall matrices (they
    are the memory), float64 for the small SVD.
    """
    operator = matrix if isinstance(matrix, SparseOperator) else SparseOperator(matrix)
    n_rows, n_cols = operator.shape
    width = min(k + oversample, n_rows, n_cols)
    rng = np.random.default_rng(seed)
    sketch = rng.standard_normal((n_cols, width), dtype=np.float32)
    basis = _orthonormal(operator.dot(sketch))[0]
    for i in range(power_iterations):
        started = time.perf_counter()
        basis = _orthonormal(operator.dot(_orthonormal(operator.tdot(basis))[0]))[0]
        log.debug("SVD: power iteration %d of %d, %.1fs", i + 1, power_iterations,
                  time.perf_counter() - started)
    # B = Q^T A through its transpose: A^T Q = Q2 R and R = Ur S Vr^T give
    # A ~ Q B = (Q Vr) S (Q2 Ur)^T, with only a width x width dense SVD.
    basis_t, r = _orthonormal(operator.tdot(basis))
    ur, s, vr_t = np.linalg.svd(r)
    u = basis @ vr_t.T[:, :k].astype(np.float32)
    v = basis_t @ ur[:, :k].astype(np.float32)
    return _fix_signs(u, s[:k], v.T)


def _orthonormal(y):
    """(Q, R) with Q orthonormal and Q R = y, for a tall y; Q in float32.

    Cholesky QR done twice (CholQR2) in float64: two matrix products and triangular
    solves, several times faster than Householder QR on tall matrices, and accurate while
    y's condition number stays well below 1e8, as it does for range-finder bases. A
    rank-deficient y (Cholesky fails) falls back to Householder QR.
    """
    q = np.asarray(y, dtype=np.float64)
    r = np.eye(q.shape[1])
    try:
        for _ in range(2):
            lower = np.linalg.cholesky(q.T @ q)
            q = solve_triangular(lower, q.T, lower=True, check_finite=False).T
            r = lower.T @ r
        if not np.allclose(q.T @ q, np.eye(q.shape[1]), rtol=0, atol=1e-6):
            raise np.linalg.LinAlgError("Cholesky QR lost orthogonality")
    except np.linalg.LinAlgError:
        q, r = np.linalg.qr(np.asarray(y, dtype=np.float64))
    return np.ascontiguousarray(q, dtype=np.float32), r


def arpack_svd(matrix, k, seed=1, tol=0):
    """Top-k SVD (u, s, vt) by ARPACK (scipy's svds), through the threaded products."""
    from scipy.sparse.linalg import LinearOperator, svds

    operator = matrix if isinstance(matrix, SparseOperator) else SparseOperator(matrix)
    as_float64 = lambda f: (lambda x: f(np.asarray(x, dtype=np.float64)))  # noqa: E731
    linear = LinearOperator(operator.shape, dtype=np.float64, matvec=as_float64(operator.dot),
                            rmatvec=as_float64(operator.tdot), matmat=as_float64(operator.dot),
                            rmatmat=as_float64(operator.tdot))
    start = np.random.default_rng(seed).uniform(-1, 1, min(operator.shape))
    u, s, vt = svds(linear, k=k, solver="arpack", tol=tol, v0=start)
    order = np.argsort(-s)
    return _fix_signs(u[:, order], s[order], vt[order])


def _fix_signs(u, s, vt):
    """Make each left singular vector's largest entry positive, so output is deterministic."""
    biggest = np.argmax(np.abs(u), axis=0)
    signs = np.sign(u[biggest, np.arange(u.shape[1])])
    signs[signs == 0] = 1
    u = (u * signs).astype(np.float32)
    vt = (vt * signs[:, None]).astype(np.float32)
    return u, s.astype(np.float64), vt


# --------------------------------------------------------------------------- embeddings


def svd_embeddings(u, s, vt, eig=0.5, add_context=False):
    """Word vectors U S^eig (eig 0: U, 1: U S); with add_context, U S^eig + V S^eig."""
    weights = np.power(s, eig).astype(np.float32)  # 0 ** 0 == 1, so eig 0 is U itself
    vectors = u * weights
    if add_context:
        if vt.shape[1] != u.shape[0]:
            raise OptionError("--add-context needs as many contexts as words")
        vectors += vt.T * weights
    return np.ascontiguousarray(vectors, dtype=np.float32)


def normalize_rows(vectors):
    """Rows scaled to unit L2 norm; zero rows (words without a positive PMI) stay zero."""
    return unit_rows(vectors)


def check_svd_options(**options):
    """Raise OptionError for a value that makes no sense, before any work is done
    (the rules, and the defaults of options not given, are `SvdConfig`'s)."""
    return SvdConfig.from_dict(options)


# --------------------------------------------------------------------------- orchestration


def train_svd(source, vocab=None, config=None, *, threads=None, progress=False, **options):
    """PPMI-SVD word vectors from a `Corpus`, or from a co-occurrence matrix and its vocabulary.

    The options are `config` (an `SvdConfig`), or `SvdConfig`'s keywords (dim, window, ...).
    `source` is a Corpus (counted here with `window` and `weighting`, after subsampling
    with `sample` if positive), or a words x words count matrix with `vocab` (a Vocab or a
    list of words) giving its rows. With `fit_words` N, the SVD is fitted to the PPMI rows
    of the N most frequent words only and the other words are folded in (`fold_in`).
    Logs each stage with its time.
    """
    if config is None:
        config = SvdConfig.from_dict(options)
    elif options:
        raise TypeError("give an SvdConfig or its options, not both")
    dim, window, weighting, sample, seed = (config.dim, config.window, config.weighting,
                                            config.sample, config.seed)
    cds, neg, eig, solver, fit_words = (config.cds, config.neg, config.eig, config.solver,
                                        config.fit_words)
    from ..runtime.threads import configure_threads

    threads = configure_threads(threads)
    with blas_threads(threads):
        if hasattr(source, "ids") and hasattr(source, "offsets"):
            words, counts = source.vocab.words, source.vocab.counts
            _check_dim(dim, len(words))
            counts_matrix = _count(source, window, weighting, sample, seed, threads, progress)
        else:
            if vocab is None:
                raise TypeError("a co-occurrence matrix needs its vocabulary (vocab=)")
            words = list(getattr(vocab, "words", vocab))
            counts = getattr(vocab, "counts", None)
            counts_matrix = source
            if counts_matrix.shape[0] != len(words):
                raise InputError(f"the co-occurrence matrix has {counts_matrix.shape[0]} rows "
                                 f"for {len(words)} words")
            _check_dim(dim, len(words))

        started = time.perf_counter()
        ppmi = ppmi_matrix(counts_matrix, cds=cds, neg=neg)
        del counts_matrix
        log.info("PPMI: %d positive entries (%.2f%% of %d x %d), cds %g, shift log %g, %.1fs",
                 ppmi.nnz, 100.0 * ppmi.nnz / max(1, ppmi.shape[0] * ppmi.shape[1]),
                 *ppmi.shape, cds, neg, time.perf_counter() - started)
        if ppmi.nnz == 0:
            raise InputError("no positive PMI entry: the corpus is too small for these options "
                             "(try a larger --window or a smaller --neg)")

        started = time.perf_counter()
        fitted = None
        if fit_words is not None and fit_words < len(words):
            fitted = _most_frequent(counts, fit_words)
        operator = SparseOperator(ppmi if fitted is None else ppmi[fitted])
        if fitted is None:
            del ppmi
        if solver == "arpack":
            u, s, vt = arpack_svd(operator, dim, seed=seed)
        else:
            u, s, vt = randomized_svd(operator, dim, oversample=config.oversample,
                                      power_iterations=config.power_iterations, seed=seed)
        del operator
        if fitted is not None:
            u = fold_in(ppmi, fitted, u, s, vt)
            del ppmi
        log.info("SVD: %s, rank %d, singular values %.4g..%.4g, %s%.1fs", solver, dim, s[0],
                 s[-1], "" if fitted is None else
                 f"fitted to {len(fitted)} words, {len(u) - len(fitted)} folded in, ",
                 time.perf_counter() - started)

    vectors = svd_embeddings(u, s, vt, eig=eig, add_context=config.add_context)
    if config.normalize:
        vectors = normalize_rows(vectors)
    return WordVectors(words, vectors, counts)


def svd_vectors(inputs=None, config=None, *, cooccur=None, given=(), phrase_threshold=None,
                threads=None, progress=False, dask=None, workers=None):
    """PPMI-SVD word vectors of a corpus or of saved counts, as `w2v svd` makes them.

    From the count file `cooccur`, or from the corpus `inputs` read under `config`'s corpus
    options (`phrase_threshold`, if given, for its phrase passes; counted on a Dask cluster
    when `dask` is not None: "" for a local one, else a scheduler address). Counts are
    already made, so with `cooccur`, phrases or a `sample` in `given` (names of options
    asked for) are an OptionError.
    """
    config = config or SvdConfig()
    if dask is not None:
        from ..distributed import cooccurrence_counts

        reading = {name: getattr(config, name) for name in (
            "min_count", "max_vocab", "lowercase", "preprocess", "max_sentence_length")}
        matrix, vocab, _ = cooccurrence_counts(
            inputs, **reading, window=config.window, weighting=config.weighting,
            symmetric=True, sample=config.sample, seed=config.seed, threads=threads,
            dask=dask, workers=workers, progress=progress, phrases=config.phrases)
        return train_svd(matrix, vocab, config, threads=threads, progress=progress)
    if cooccur:
        from ..cooccur.file import load_cooccur

        if config.phrases:
            raise OptionError("--phrases works on a CORPUS; counts read with --read-cooccur "
                              "are already made")
        if config.sample > 0 and "sample" in given:
            raise OptionError("--sample works on a CORPUS; counts read with --read-cooccur "
                              "are already made")
        matrix, vocab, meta = load_cooccur(cooccur)
        log.info("read %d x %d counts (window %s, %s weighting) from %s", *matrix.shape,
                 meta.get("window"), meta.get("weighting"), cooccur)
        return train_svd(matrix, vocab, config, threads=threads, progress=progress)
    from ..corpus.corpus import load_corpus

    started = time.perf_counter()
    reading = config.corpus_options()
    if phrase_threshold is not None:
        reading["phrase_threshold"] = phrase_threshold
    loaded = load_corpus(inputs, **reading, progress=progress, threads=threads)
    log.info("corpus: %d tokens, %d words, %.1fs", loaded.n_tokens, len(loaded.vocab),
             time.perf_counter() - started)
    return train_svd(loaded, config=config, threads=threads, progress=progress)


def _most_frequent(counts, n):
    """Row indices of the n most frequent words (the first n rows if counts are unknown)."""
    if counts is None:
        return np.arange(n)
    return np.sort(np.argsort(-np.asarray(counts), kind="stable")[:n])


def fold_in(matrix, fitted, u, s, vt):
    """U for every row of `matrix`, from an SVD U S Vt of its rows `fitted` alone.

    A row x outside the fit gets x V S^-1, its coordinates in the fitted subspace (as
    latent semantic indexing folds in new documents). Rows of rare words are noisy; fitted
    on the frequent words only, the subspace is cleaner and the rare words still get vectors.
    """
    full = np.empty((matrix.shape[0], u.shape[1]), dtype=u.dtype)
    rest = np.setdiff1d(np.arange(matrix.shape[0]), fitted)
    full[fitted] = u
    if len(rest):
        inverse = np.divide(1.0, s, out=np.zeros_like(s), where=s > 0).astype(u.dtype)
        full[rest] = SparseOperator(matrix[rest]).dot(np.ascontiguousarray(vt.T)) * inverse
    return full


def _check_dim(dim, n_words):
    if dim >= n_words:
        raise OptionError(f"--dim {dim} must be smaller than the vocabulary ({n_words} words)")


def _count(corpus, window, weighting, sample, seed, threads, progress):
    from ..cooccur.counts import cooccurrence_matrix

    if sample > 0:
        started = time.perf_counter()
        before = corpus.n_tokens
        corpus = subsample_corpus(corpus, sample, seed=seed)
        log.info("subsample: kept %d of %d tokens (sample %g), %.1fs", corpus.n_tokens, before,
                 sample, time.perf_counter() - started)
    return cooccurrence_matrix(corpus, window=window, weighting=weighting, symmetric=True,
                               threads=threads, progress=progress)  # logs its own line


# --------------------------------------------------------------------------- BLAS threads

_BLAS_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads",
                 "scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                 "MKL_Set_Num_Threads")


@contextlib.contextmanager
def blas_threads(threads):
    """Best effort: run BLAS/LAPACK on `threads` threads (OpenBLAS or MKL as loaded), then restore.

    numpy and scipy each bundle their own OpenBLAS, so every loaded copy is set.
    """
    setters, getters = _blas_controls()
    previous = [get() for get in getters]
    for set_threads in setters:
        set_threads(threads)
    try:
        yield
    finally:
        for set_threads, old in zip(setters, previous):
            if old > 0:
                set_threads(old)


def _blas_controls():
    setters, getters = [], []
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps
                     if "blas" in line.lower() or "mkl" in line.lower()}
    except OSError:
        return setters, getters
    for path in sorted(paths):
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            setter = getattr(library, name, None)
            if setter is None:
                continue
            getter = getattr(library, name.replace("set_num", "get_num"), None)
            setters.append(setter)
            getters.append(getter if getter is not None else (lambda: 0))
            break
    return setters, getters
