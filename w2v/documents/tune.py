"""`w2v tune`: train the sentence encoder contrastively on pairs of texts.

The encoder is the pooling (`pooling.Pooling`) with three trainable parts, started so that
the untrained encoder is the pooling (with the minimum part below beside it): each word's
weight, a start weight (uSIF's, or 1 for mean pooling) times exp(theta) with theta from 0; a
shared dim x dim linear map applied after the fixed component removal, from the identity
(with `asymmetric`, queries and documents get their own map); and the rows of the words the
pairs use (SGD with each word's step bounded, or lazy Adam; an optional L2 pull toward the
start). The model's word vectors are never changed: moved rows are kept in the encoder. A
word the pairs never saw keeps its row and start weight, and the map carries what was
learned to it. L2 terms pull theta toward 0 and the map toward the identity. On STS-B the
rows carry most of the gain (see docs/tune.md).

A text's vector is z = unit(((1/n) sum_w weight_w row_w) P M), P the projection that
removes the pooling's components (fitted once on the training texts, then fixed; with
`refit`, the saved encoder finds them again on the texts it embeds, as uSIF does); with
`min_weight` W > 0, it is [z, W unit(min_w row_w)] / sqrt(1 + W^2), the elementwise minimum
of the words' (unweighted) rows appended. The losses are on cosines of these vectors:
InfoNCE over in-batch and mined negatives at a temperature (both directions unless
asymmetric), the triplet hinge on the hardest negative, and CoSENT on graded pairs.
Gradients are written out (`tune_kernels`); Adam updates the weights and the map.

Negatives: the other pairs' second texts in the batch; with `hard_negatives` K, K texts
mined each epoch with the exact top-n (`rank.top_documents`) under the current encoder;
`semi_hard` keeps those scored below the positive but within `margin` of it, and the
curriculum starts from easier (lower-ranked) ones. False negatives: a candidate equal to the
positive or the anchor is dropped; the guide (the untrained encoder, computed once) drops
the candidates it scores above its anchor-positive score (GISTEmbed's mask), and one it
scores above `false_negative_threshold` is weighted by `false_negative_weight`.
"""

import dataclasses
import logging
import math
import time

import numpy as np

from ..errors import OptionError
from ..runtime import signals
from ..runtime.progress import Bar
from ..runtime.rng import seed_for
from . import tune_kernels as k
from .pairs import graded_pairs, load_pairs
from .pooling import MAX_TUNED_WEIGHT, Pooling, for_vectors, load_pooling
from .rank import top_documents
from .tune_options import TUNE_DEFAULTS as D

log = logging.getLogger("w2v")

LOSSES = ("infonce", "triplet", "cosent")
TRAINED = ("weights", "map", "rows")
COSENT_SCALE = 10.0  # sentence-transformers uses 20; 10 ranked STS-B dev 1 point better
MINE_DEPTH = 4  # the curriculum's first epoch takes negatives from ranks up to K x this
GIST_MARGIN = 0.0
REFITS = ("auto", "yes", "no")
ROW_OPTIMIZERS = ("sgd", "adam")
ROW_MAX_STEP = 0.02  # the longest step a word's row takes in one batch (sgd)


@dataclasses.dataclass
class TuneResult:
    """The tuned pooling and what training saw."""

    pooling: Pooling
    epochs: list  # per epoch: {"epoch", "loss", "seconds", "pairs_per_s", "dev"}
    best_epoch: int
    pairs: int
    skipped: int
    dev: float = None  # the dev Spearman of the kept epoch (0: the untrained encoder)


def check_losses(loss, graded):
    """The losses `loss` names ("cosent+infonce"); "auto" is CoSENT + InfoNCE for graded
    pairs, else InfoNCE."""
    if loss in (None, "auto"):
        return ("cosent", "infonce") if graded else ("infonce",)
    names = tuple(dict.fromkeys(part.strip().lower() for part in str(loss).split("+")))
    bad = [n for n in names if n not in LOSSES]
    if bad or not names:
        raise OptionError(f"unknown loss {loss!r}; expected {', '.join(LOSSES)} or a "
                          f"combination such as cosent+infonce")
    if "cosent" in names and not graded:
        raise OptionError("--loss cosent needs graded pairs (an STS file: score<TAB>text1"
                          "<TAB>text2)")
    return names


def check_trained(train):
    names = tuple(dict.fromkeys(part.strip().lower() for part in str(train).split("+")))
    bad = [n for n in names if n not in TRAINED]
    if bad or not names:
        raise OptionError(f"unknown --train {train!r}; expected weights, map, rows or a "
                          f"combination such as weights+map")
    return names


# --------------------------------------------------------------------------- the encoder


class Encoder:
    """The trainable state: rows (a copy), weights = start x exp(theta), maps, projection P."""

    def __init__(self, wv, pooling, asymmetric=False, min_weight=0.0):
        # a copy (with a tuned start's moved rows): moving rows never touches the vectors
        self.rows = np.ascontiguousarray(pooling.row_matrix(wv))
        self.start = (np.ones(len(wv)) if pooling.weights is None
                      else pooling.weights.astype(np.float64))
        self.theta = np.zeros(len(wv))
        dim = wv.dim
        self.projection = _projection(pooling, dim)
        first = np.eye(dim) if pooling.map is None else pooling.map.astype(np.float64)
        second = first if pooling.query_map is None else pooling.query_map.astype(np.float64)
        self.maps = [first.copy(), second.copy()] if asymmetric else [first.copy()]
        self.anchors = [m.copy() for m in self.maps]  # what the L2 pull pulls toward
        self.start_rows = None  # the rows before training, kept once rows move
        self.moved = np.zeros(len(wv), dtype=bool)
        self.row_m = self.row_v = None
        self.row_steps = 0
        self.min_weight = min_weight
        self.out_dim = 2 * dim if min_weight > 0 else dim

    @property
    def weights(self):
        return np.minimum(self.start * np.exp(self.theta), MAX_TUNED_WEIGHT)

    def side(self, query):
        """Index of the map of the query (True) or document side."""
        return 1 if query and len(self.maps) == 2 else 0

    def forward(self, pairs, texts, query=False, weights=None):
        """(c, y, out, norms, minimum): projected mean, mapped, the vectors of `texts`, the
        mapped norms, and with `min_weight` (minimum, its norms, its words' positions)."""
        weights = self.weights if weights is None else weights
        dim = self.rows.shape[1]
        raw = np.empty((len(texts), dim))
        k.pool(pairs.ids, pairs.offsets, texts, self.rows, weights, raw)
        c = raw @ self.projection
        y = c @ self.maps[self.side(query)]
        norms = np.linalg.norm(y, axis=1)
        z = y / np.maximum(norms, 1e-12)[:, None]
        if not self.min_weight > 0:
            return c, y, z, norms, None
        low = np.empty((len(texts), dim))
        arg = np.empty((len(texts), dim), dtype=np.int64)
        k.min_pool(pairs.ids, pairs.offsets, texts, self.rows, low, arg)
        low_norms = np.linalg.norm(low, axis=1)
        scale = 1.0 / math.sqrt(1.0 + self.min_weight ** 2)
        out = np.hstack([z, (self.min_weight * low) / np.maximum(low_norms, 1e-12)[:, None]])
        return c, y, out * scale, norms, (low, low_norms, arg)

    def backward(self, pairs, texts, query, cache, dz, weights, grad_theta, grad_maps,
                 row_grads=None):
        """Add the gradients of a side's vectors `dz` to theta's and the map's (and, with
        `row_grads`, a list, append (word ids, gradients) of the word rows, and for the
        minimum part (word ids, coordinates, gradients))."""
        c, y, out, norms, minimum = cache
        dim = self.rows.shape[1]
        z = y / np.maximum(norms, 1e-12)[:, None]
        if minimum is not None:
            scale = 1.0 / math.sqrt(1.0 + self.min_weight ** 2)
            if row_grads is not None:
                low, low_norms, arg = minimum
                unit = low / np.maximum(low_norms, 1e-12)[:, None]
                d_low = dz[:, dim:] * (self.min_weight * scale)
                d_low = (d_low - unit * np.einsum("ij,ij->i", unit, d_low)[:, None]) \
                    / np.maximum(low_norms, 1e-12)[:, None]
                found = arg >= 0
                row_grads.append((pairs.ids[arg[found]], np.nonzero(found)[1], d_low[found]))
            dz = dz[:, :dim] * scale
        dy = (dz - z * np.einsum("ij,ij->i", z, dz)[:, None]) / np.maximum(norms, 1e-12)[:, None]
        side = self.side(query)
        grad_maps[side] += c.T @ dy
        draw = (dy @ self.maps[side].T) @ self.projection.T
        lengths = pairs.offsets[texts + 1] - pairs.offsets[texts]
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        token_grads = np.empty(starts[-1])
        k.pool_backward(pairs.ids, pairs.offsets, texts, self.rows, weights, draw, starts,
                        token_grads)
        grad = np.zeros(len(self.theta))
        k.scatter_tokens(pairs.ids, pairs.offsets, texts, starts, token_grads, grad)
        grad_theta += grad * weights
        if row_grads is not None:
            token_ids = np.concatenate([pairs.text(t) for t in texts])
            per_text = draw / np.maximum(lengths, 1)[:, None]
            row_grads.append((token_ids, np.repeat(per_text, lengths, axis=0)
                              * weights[token_ids][:, None]))

    def step_rows(self, row_grads, lr, pull, optimizer="sgd", beta1=0.9, beta2=0.999,
                  eps=1e-8):
        """A step on the rows the batch touched, pulled toward their start: "sgd", each
        word's step at most ROW_MAX_STEP long, or a lazy "adam" step."""
        whole = [g for g in row_grads if len(g) == 2]
        single = [g for g in row_grads if len(g) == 3]
        ids = np.concatenate([g[0] for g in whole + single])
        touched, inverse = np.unique(ids, return_inverse=True)
        grad = np.zeros((len(touched), self.rows.shape[1]))
        n_whole = sum(len(g[0]) for g in whole)
        if whole:
            np.add.at(grad, inverse[:n_whole], np.concatenate([g[1] for g in whole]))
        if single:
            np.add.at(grad, (inverse[n_whole:], np.concatenate([g[1] for g in single])),
                      np.concatenate([g[2] for g in single]))
        if self.start_rows is None:
            self.start_rows = self.rows.copy()
            if optimizer == "adam":
                self.row_m = np.zeros(self.rows.shape, np.float32)
                self.row_v = np.zeros(self.rows.shape, np.float32)
        self.moved[touched] = True
        grad += 2 * pull * (self.rows[touched] - self.start_rows[touched])
        self.row_steps += 1
        if optimizer == "sgd":
            length = lr * np.linalg.norm(grad, axis=1, keepdims=True)
            step = lr * grad * np.minimum(1.0, ROW_MAX_STEP / np.maximum(length, 1e-30))
            self.rows[touched] -= step.astype(np.float32)
            return
        t = self.row_steps
        m = beta1 * self.row_m[touched] + (1 - beta1) * grad
        v = beta2 * self.row_v[touched] + (1 - beta2) * grad * grad
        self.row_m[touched], self.row_v[touched] = m, v
        scale = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        self.rows[touched] -= (scale * m / (np.sqrt(v) + eps)).astype(np.float32)

    def embed(self, pairs, texts, query=False, block=8192):
        out = np.empty((len(texts), self.out_dim), dtype=np.float32)
        weights = self.weights
        for s in range(0, len(texts), block):
            out[s:s + block] = self.forward(pairs, texts[s:s + block], query, weights)[2]
        return out

    def pooling(self, base):
        """`base` (a copy) with the tuned weights and maps."""
        tuned = dataclasses.replace(base)
        if base.weights is not None or np.any(self.theta):
            tuned.weights = self.weights.astype(np.float32)
        tuned.map = self.maps[0].astype(np.float32)
        if self.moved.any():
            tuned.row_index = np.flatnonzero(self.moved)
            tuned.row_values = self.rows[tuned.row_index].copy()
        tuned.query_map = self.maps[1].astype(np.float32) if len(self.maps) == 2 else None
        tuned.min_weight = float(self.min_weight)
        if tuned.components is None:
            tuned.components = np.zeros((0, base.dim), np.float32)
            tuned.component_weights = np.zeros(0, np.float32)
        return tuned

    def state(self):
        moved = np.flatnonzero(self.moved)
        return self.theta.copy(), [m.copy() for m in self.maps], moved, self.rows[moved].copy()

    def restore(self, state):
        self.theta = state[0].copy()
        self.maps = [m.copy() for m in state[1]]
        if self.start_rows is not None:
            later = self.moved.copy()
            later[state[2]] = False
            self.rows[later] = self.start_rows[later]
            self.moved[:] = False
            self.moved[state[2]] = True
            self.rows[state[2]] = state[3]


def _projection(pooling, dim):
    """P = I - sum_i lambda_i c_i c_i^T: the pooling's component removal as a matrix."""
    projection = np.eye(dim)
    if pooling.components is not None and len(pooling.components):
        c = pooling.components.astype(np.float64)
        projection -= (c.T * pooling.component_weights) @ c
    return projection


class Adam:
    def __init__(self, shapes, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        scale = self.lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= scale * m / (np.sqrt(v) + self.eps)


# --------------------------------------------------------------------------- negatives


def negative_weights(target_text, anchor_text, candidate_text, guide_scores, guide_positive,
                     gist=True, threshold=None, weight=0.0):
    """Weights (rows x candidates) of the candidates of each row: 1, 0 for a candidate
    equal to the row's positive (other than the target itself) or anchor, 0 (`gist`) where
    the guide scores it above its anchor-positive score, `weight` where the guide scores it
    above `threshold`. The target column is set by the loss (always 1)."""
    same = (candidate_text[None, :] == target_text[:, None]) \
        | (candidate_text[None, :] == anchor_text[:, None])
    weights = np.where(same, 0.0, 1.0)
    if guide_scores is not None:
        if threshold is not None:
            weights = np.where(guide_scores > threshold, np.minimum(weights, weight), weights)
        if gist:
            weights = np.where(guide_scores > guide_positive[:, None] - GIST_MARGIN, 0.0, weights)
    return weights


def select_negatives(rows, scores, positive_scores, exclude, k, semi_hard=False, margin=0.2,
                     skip=0):
    """Per query, up to `k` of its ranked candidates `rows` (scores `scores`, best first),
    -1 where fewer qualify: not in `exclude` (a boolean mask of the same shape), and with
    `semi_hard` scored below the query's positive but within `margin` of it; the first
    `skip` qualifying ones are passed over (a curriculum starts lower in the ranking)."""
    ok = ~exclude
    if semi_hard:
        ok &= (scores < positive_scores[:, None]) & (scores > positive_scores[:, None] - margin)
    chosen = np.full((len(rows), k), -1, dtype=np.int64)
    for q in range(len(rows)):
        found = rows[q][ok[q]]
        if len(found) > skip:
            found = found[skip:skip + k]
        else:
            found = found[max(0, len(found) - k):]
        chosen[q, :len(found)] = found
    return chosen


# --------------------------------------------------------------------------- training


@dataclasses.dataclass
class _Data:
    pairs: object
    positives: np.ndarray  # indices of positive pairs
    doc_texts: np.ndarray  # texts that appear as positives or negatives (the mining pool)
    guide_q: np.ndarray  # guide unit vectors of every text, query side
    guide_d: np.ndarray


def crops_epochs(n_pairs):
    """The epochs of a run on crops alone: whole passes until `crops_pairs` pairs are seen
    (one pass over a corpus of at least that many lines), at most the epochs of pairs."""
    return max(1, min(D.epochs, math.ceil(D.crops_pairs / max(n_pairs, 1))))


def _check(pairs, batch_size, temperature, hard_negatives, losses, epochs, lr):
    if epochs < 1:
        raise OptionError(f"--epochs must be at least 1, got {epochs}")
    if not lr > 0:
        raise OptionError(f"--lr must be positive, got {lr}")
    if not temperature > 0:
        raise OptionError(f"--temperature must be positive, got {temperature}")
    if batch_size < 2:
        raise OptionError(f"--batch-size must be at least 2, got {batch_size}")
    if batch_size > len(pairs):
        raise OptionError(f"--batch-size {batch_size} is larger than the data ({len(pairs)} "
                          f"pairs)")
    contrastive = [name for name in losses if name != "cosent"]
    n_pos = int(pairs.positive.sum())
    if contrastive and n_pos == 0:
        raise OptionError(f"--loss {'+'.join(losses)}: no positive pairs (lower --min-score, "
                          f"or use --loss cosent)")
    if hard_negatives < 0:
        raise OptionError(f"--hard-negatives must be at least 0, got {hard_negatives}")
    if hard_negatives and hard_negatives >= pairs.n_texts:
        raise OptionError(f"--hard-negatives {hard_negatives} is larger than the data "
                          f"({pairs.n_texts} texts)")


def _one_blas_thread():
    """BLAS held to one thread: the products here are small, and BLAS threads spinning
    beside the kernels' threads slow an epoch tenfold on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def tune(wv, pairs_files=(), **options):
    """Tune the sentence encoder of the vectors `wv` (read from `path`) on pairs of texts;
    returns a `TuneResult`, and writes the tuned model to `output` when given.

    `pairs_files` are STS (`score<TAB>text1<TAB>text2`, positives from `min_score`) or pair
    files (`anchor<TAB>positive[<TAB>negative...]`); `crops` corpus files give pairs of two
    random spans of a line. The start is `pooling` (a `Pooling`, or a name), else the
    pooling `for_vectors` gives (uSIF with word counts; the encoder of an already tuned
    model). `loss` is "infonce", "triplet", "cosent" or a combination ("cosent+infonce");
    "auto" is CoSENT + InfoNCE for graded pairs, else InfoNCE. `guide` "untuned" masks the
    candidates the untrained encoder scores above its anchor-positive score (GISTEmbed),
    "none" turns it off. `dev` is an STS file scored after each epoch (Spearman); the best
    epoch is kept. `train` is "weights", "map", "rows" or a combination ("weights+map+rows");
    the default is "rows" ("map+rows" when `asymmetric`, so each side has its own map).
    `threads` (default 1: the kernels of a batch are small) parallelise the kernels over the
    batch; 1 with a `seed` repeats exactly. `checkpoint`: a path the model is written to after
    each epoch, and on Ctrl-C. `refit` "yes" saves the encoder without its components, so
    that `embed` finds those of the texts it embeds (as uSIF does); "auto" (the default) does
    so after training on crops alone, whose texts (corpus spans) are unlike those embedded.
    `min_weight` W > 0 appends the elementwise minimum of the words' rows, weighted W
    (vectors twice as wide); `row_optimizer` "sgd" (each word's step at most ROW_MAX_STEP)
    or "adam" moves the rows at `row_lr`. `epochs`, `temperature`, `batch_size`,
    `min_weight`, `row_optimizer` and `row_lr` None are the defaults for the data (crops
    alone: passes until 300,000 pairs are seen, at most 20; 0.05, 512, 0, adam, 0.001).
    Defaults: `TuneOptions`. See the module docstring for the method.
    """
    with _one_blas_thread():
        return _tune(wv, pairs_files, **options)


def _tune(wv, pairs_files=(), *, path=None, crops=(), output=None, pooling=None, vocab_path=None,
          preprocess=None, lowercase=False, loss=D.loss, temperature=None,
          margin=D.margin, hard_negatives=D.hard_negatives, semi_hard=False,
          false_negative_threshold=None, false_negative_weight=D.false_negative_weight,
          guide=D.guide, min_score=D.min_score, epochs=None, batch_size=None,
          lr=D.lr, dev=None, seed=D.seed, threads=None, asymmetric=False, train=None,
          map_pull=0.1, weight_pull=1e-4, max_crops=None, checkpoint=None, progress=False,
          symmetric=True, row_lr=None, row_pull=D.row_pull, refit=D.refit, min_weight=None,
          row_optimizer=None):
    from ..runtime.threads import configure_threads

    # The kernels of a batch of a few hundred pairs take microseconds: one thread is fastest
    # (two threads measured several times slower per epoch on a busy two-core machine).
    configure_threads(1 if threads is None else threads)
    if guide not in ("untuned", "none", None):
        raise OptionError(f"unknown --guide {guide!r}; expected untuned or none")
    trained = check_trained(train or ("map+rows" if asymmetric else "rows"))
    refit = "auto" if refit is None else str(refit).lower()
    if refit not in REFITS:
        raise OptionError(f"unknown --refit {refit!r}; expected {', '.join(REFITS)}")
    refit = (refit == "yes") or (refit == "auto" and not pairs_files)
    if temperature is None:
        temperature = D.temperature if pairs_files else D.crops_temperature
    if batch_size is None:
        batch_size = D.batch_size if pairs_files else D.crops_batch_size
    if row_optimizer is None:
        row_optimizer = D.row_optimizer if pairs_files else D.crops_row_optimizer
    if row_optimizer not in ROW_OPTIMIZERS:
        raise OptionError(f"unknown row optimizer {row_optimizer!r}; expected "
                          f"{', '.join(ROW_OPTIMIZERS)}")
    if row_lr is None:
        row_lr = D.row_lr if row_optimizer == "sgd" else D.row_lr_adam
    if not row_lr > 0:
        raise OptionError(f"--row-lr must be positive, got {row_lr}")
    start = _start_pooling(wv, path, pooling, vocab_path, preprocess, lowercase)
    if min_weight is None:  # a start that has the minimum part keeps it
        min_weight = start.min_weight or (D.min_weight if pairs_files else D.crops_min_weight)
    if not 0 <= min_weight < math.inf:
        raise OptionError(f"--min-weight must be at least 0, got {min_weight}")
    if output and not _is_model(path) and wv.counts is None and vocab_path is None:
        raise OptionError("the tuned model is a model file, which holds word counts: give the "
                          "counts of these vectors with --vocab FILE ('word count' lines)")
    if not pairs_files and not crops:
        raise OptionError("no training data: give pair files or --crops CORPUS")
    pairs = load_pairs(wv, start, pairs_files, crops, min_score, seed, max_crops)
    losses = check_losses(loss, pairs.graded)
    if epochs is None:
        epochs = D.epochs if pairs_files else crops_epochs(len(pairs))
    _check(pairs, batch_size, temperature, hard_negatives, losses, epochs, lr)
    if not start.fitted:
        _fit_components(wv, start, pairs)
    encoder = Encoder(wv, start, asymmetric, min_weight)
    everything = np.arange(pairs.n_texts)
    guide_on = guide not in ("none", None)
    data = _Data(pairs, np.flatnonzero(pairs.positive),
                 np.unique(np.concatenate([pairs.right, pairs.negatives])),
                 encoder.embed(pairs, everything, True) if guide_on else None,
                 encoder.embed(pairs, everything, False) if guide_on else None)
    dev_data = _read_dev(wv, start, dev) if dev else None
    log.info("tune: %d pairs (%d positive) over %d texts; loss %s; batch %d, %d epochs",
             len(pairs), len(data.positives), pairs.n_texts, "+".join(losses), batch_size,
             epochs)
    options = {"losses": losses, "temperature": temperature, "margin": margin,
               "gist": guide_on, "threshold": false_negative_threshold,
               "fn_weight": false_negative_weight, "symmetric": symmetric and not asymmetric,
               "trained": trained, "map_pull": map_pull, "weight_pull": weight_pull,
               "row_lr": row_lr, "row_pull": row_pull, "row_optimizer": row_optimizer}
    adam = Adam([encoder.theta.shape] + [m.shape for m in encoder.maps], lr)
    history, best, best_state = [], None, None
    if dev_data is not None:
        best = _dev_score(encoder, dev_data, start if refit else None)
        best_state = encoder.state()
        log.info("tune: dev spearman %.2f before training", 100 * best)
    best_epoch = 0
    n_batches = len(pairs) // batch_size
    with Bar(progress, epochs * n_batches * batch_size, unit="pair", desc="tune") as bar:
        try:
            for epoch in range(epochs):
                began = time.perf_counter()
                hard = None
                if hard_negatives:
                    hard = _mine(encoder, data, hard_negatives, semi_hard, margin,
                                 epoch, epochs)
                rng = np.random.default_rng(int(seed_for(seed, epoch + 1)))
                order = rng.permutation(len(pairs))
                total = 0.0
                for b in range(n_batches):
                    batch = order[b * batch_size:(b + 1) * batch_size]
                    total += _step(encoder, adam, data, batch, hard, options)
                    signals.check()
                    bar.update(len(batch), desc=f"tune {epoch + 1}/{epochs}",
                               postfix=f"loss {total / (b + 1):.4f}")
                seconds = time.perf_counter() - began
                record = {"epoch": epoch + 1, "loss": total / max(n_batches, 1),
                          "seconds": seconds, "pairs_per_s": n_batches * batch_size / seconds}
                if dev_data is not None:
                    record["dev"] = _dev_score(encoder, dev_data, start if refit else None)
                    if record["dev"] > best:
                        best, best_state, best_epoch = record["dev"], encoder.state(), epoch + 1
                history.append(record)
                log.info("tune: epoch %d/%d loss %.4f, %.1f s (%.0f pairs/s)%s", epoch + 1,
                         epochs, record["loss"], seconds, record["pairs_per_s"],
                         "" if dev_data is None else f", dev spearman {100 * record['dev']:.2f}")
                if checkpoint:
                    _write(checkpoint, wv, path, _saved(encoder, start, refit), history,
                           vocab_path)
        except signals.Interrupted:
            if checkpoint:
                _write(checkpoint, wv, path, _saved(encoder, start, refit), history,
                       vocab_path)
                log.warning("interrupted: the encoder so far is in %s", checkpoint)
            raise
    if dev_data is None:
        best_epoch = epochs
    else:
        encoder.restore(best_state)
        log.info("tune: kept epoch %d (dev spearman %.2f)", best_epoch, 100 * best)
    tuned = _saved(encoder, start, refit)
    result = TuneResult(tuned, history, best_epoch, len(pairs), pairs.skipped,
                        None if dev_data is None else best)
    if output:
        _write(output, wv, path, tuned, history, vocab_path)
    return result


def _saved(encoder, start, refit):
    """The tuned pooling; with `refit`, without its components, so that `embed` (like
    uSIF's) removes those of the texts it embeds."""
    tuned = encoder.pooling(start)
    if refit and tuned.remove_pc:
        tuned.components = tuned.component_weights = None
    return tuned


def _is_model(path):
    from ..files.model_file import is_model_file

    return path is not None and is_model_file(path)


def _start_pooling(wv, path, pooling, vocab_path, preprocess, lowercase):
    if isinstance(pooling, Pooling):
        pooling.check(wv)
        return dataclasses.replace(pooling)
    if isinstance(pooling, str) and pooling.endswith(".npz"):
        chosen = load_pooling(pooling)
        chosen.check(wv)
        return chosen
    from .pooling import counts_for

    if pooling in ("sif", "usif") and counts_for(wv, vocab_path) is None:
        raise OptionError(f"{pooling} pooling needs word counts: a model file, or a vocabulary "
                          f"file of 'word count' lines (--vocab)")
    return for_vectors(wv, path, pooling, vocab_path=vocab_path, preprocess=preprocess,
                       lowercase=lowercase)


def _fit_components(wv, pooling, pairs):
    """The pooling's components, from the pooled training texts (fixed from then on), with
    the rows a tuned start moved."""
    raw = np.empty((pairs.n_texts, wv.dim))
    rows = np.ascontiguousarray(pooling.row_matrix(wv))
    weights = np.ones(len(wv)) if pooling.weights is None else pooling.weights.astype(np.float64)
    k.pool(pairs.ids, pairs.offsets, np.arange(pairs.n_texts), rows, weights, raw)
    pooling.fit(raw.astype(np.float32))


def _step(encoder, adam, data, batch, hard, o):
    """One batch: losses, gradients, an Adam step; returns the loss."""
    pairs = data.pairs
    left, right = pairs.left[batch], pairs.right[batch]
    extra = []
    if hard is not None:
        extra.append(hard[batch].ravel())
    if len(pairs.negatives):
        for i in batch:
            extra.append(pairs.negatives[pairs.negative_offsets[i]:pairs.negative_offsets[i + 1]])
    candidates = np.concatenate([right] + extra) if extra else right
    candidates = candidates[candidates >= 0] if extra else candidates
    weights = encoder.weights
    q = encoder.forward(pairs, left, True, weights)
    d = encoder.forward(pairs, candidates, False, weights)
    dz_q, dz_d = np.zeros_like(q[2]), np.zeros_like(d[2])
    loss = 0.0
    if "cosent" in o["losses"]:
        graded = np.flatnonzero(np.isfinite(pairs.score[batch]))
        if len(graded) > 1:
            cos = np.einsum("ij,ij->i", q[2][graded], d[2][graded])
            grad = np.empty(len(graded))
            loss += k.cosent(cos, pairs.score[batch][graded], COSENT_SCALE, grad)
            dz_q[graded] += grad[:, None] * d[2][graded]
            dz_d[graded] += grad[:, None] * q[2][graded]
    rows = np.flatnonzero(pairs.positive[batch])
    contrastive = [name for name in o["losses"] if name != "cosent"]
    if contrastive and len(rows):
        scores = q[2][rows] @ d[2].T
        guide_scores = guide_positive = None
        if o["gist"] or o["threshold"] is not None:
            gq = data.guide_q[left[rows]]
            guide_scores = gq.astype(np.float64) @ data.guide_d[candidates].T
            guide_positive = guide_scores[np.arange(len(rows)), rows]
        weights_nc = negative_weights(right[rows], left[rows], candidates, guide_scores,
                                      guide_positive, o["gist"], o["threshold"], o["fn_weight"])
        for name in contrastive:
            grad = np.empty_like(scores)
            if name == "infonce":
                loss += k.infonce(scores, rows, weights_nc, o["temperature"], grad)
            else:
                loss += k.triplet(scores, rows, weights_nc, o["margin"], grad)
            dz_q[rows] += grad @ d[2]
            dz_d += grad.T @ q[2][rows]
            if name == "infonce" and o["symmetric"]:
                back = scores[:, rows].T  # positives against the anchors of positive pairs
                w_back = weights_nc[:, rows].T
                grad = np.empty_like(back)
                loss += k.infonce(back, np.arange(len(rows)), w_back, o["temperature"], grad)
                dz_d[rows] += grad @ q[2][rows]
                dz_q[rows] += grad.T @ d[2][rows]
    grad_theta = np.zeros_like(encoder.theta)
    grad_maps = [np.zeros_like(m) for m in encoder.maps]
    row_grads = [] if "rows" in o["trained"] else None
    encoder.backward(pairs, left, True, q, dz_q, weights, grad_theta, grad_maps, row_grads)
    encoder.backward(pairs, candidates, False, d, dz_d, weights, grad_theta, grad_maps,
                     row_grads)
    if row_grads is not None:
        encoder.step_rows(row_grads, o["row_lr"], o["row_pull"], o["row_optimizer"])
    for g, m, a in zip(grad_maps, encoder.maps, encoder.anchors):
        g += 2 * o["map_pull"] * (m - a)
    grad_theta += 2 * o["weight_pull"] * encoder.theta
    if "weights" not in o["trained"]:
        grad_theta[:] = 0
    if "map" not in o["trained"]:
        for g in grad_maps:
            g[:] = 0
    adam.step([encoder.theta] + encoder.maps, [grad_theta] + grad_maps)
    return loss


def _mine(encoder, data, n, semi_hard, margin, epoch, epochs):
    """Per pair, up to n hard negatives among the mining pool (-1 where none), by the exact
    top-n under the current encoder."""
    pairs = data.pairs
    pool = data.doc_texts
    docs = encoder.embed(pairs, pool, False)
    anchors = pairs.left[data.positives]
    queries = encoder.embed(pairs, anchors, True)
    depth = n * MINE_DEPTH + 2
    rows, scores = top_documents(docs, queries, depth, metric="dot")
    texts = pool[rows]
    partner = pairs.right[data.positives]
    positive = np.einsum("ij,ij->i", queries, encoder.embed(pairs, partner, False))
    exclude = (texts == partner[:, None]) | (texts == anchors[:, None])
    if data.guide_q is not None:
        g = np.einsum("qj,qij->qi", data.guide_q[anchors], data.guide_d[texts])
        gp = np.einsum("ij,ij->i", data.guide_q[anchors], data.guide_d[partner])
        exclude |= g > gp[:, None] - GIST_MARGIN
    skip = 0
    if semi_hard and epochs > 1:  # easy first: from ranks about n x MINE_DEPTH down to the top
        skip = round(n * (MINE_DEPTH - 1) * max(0.0, 1 - 2 * epoch / (epochs - 1)))
    chosen = select_negatives(texts, scores, positive, exclude, n, semi_hard, margin, skip)
    hard = np.full((len(pairs), n), -1, dtype=np.int64)
    hard[data.positives] = np.where(chosen >= 0, chosen, -1)
    return hard


@dataclasses.dataclass
class _Dev:
    pairs: object
    gold: np.ndarray


def _read_dev(wv, pooling, path):
    pairs = graded_pairs(wv, pooling, path)
    return _Dev(pairs, pairs.score)


def _dev_score(encoder, dev, refit=None):
    """Spearman on the dev pairs; with `refit` (the start pooling), the components found
    on the dev texts, as the saved encoder will find them on the texts it embeds."""
    from ..vectors.evaluate import correlations

    p = dev.pairs
    kept = encoder.projection
    if refit is not None and refit.remove_pc:
        texts = np.concatenate([p.left, p.right])
        raw = np.empty((len(texts), encoder.rows.shape[1]))
        k.pool(p.ids, p.offsets, texts, encoder.rows, encoder.weights, raw)
        fitted = dataclasses.replace(refit, components=None, component_weights=None)
        encoder.projection = _projection(fitted.fit(raw.astype(np.float32)), raw.shape[1])
    try:
        a = encoder.embed(p, p.left, True)
        b = encoder.embed(p, p.right, False)
    finally:
        encoder.projection = kept
    return correlations(dev.gold, np.einsum("ij,ij->i", a, b))[0]


# --------------------------------------------------------------------------- the output


def _write(output, wv, path, pooling, history, vocab_path):
    write_tuned(output, wv, path, pooling, {"epochs": history}, vocab_path)


def write_tuned(output, wv, path, pooling, record=None, vocab_path=None):
    """A model file holding the vectors and the tuned encoder (`pooling.*` members), which
    `embed`, `index`, `search` and `evaluate --sts` use by default: the members of the model
    file at `path`, or for a vector file its vectors and counts (from `vocab_path`)."""
    from ..files import container
    from ..files.container import MODEL
    from ..files.model_file import ModelFile, is_model_file, write_model
    from .pooling import TUNED_PREFIX, counts_for

    members = {TUNED_PREFIX + name: value for name, value in pooling.arrays().items()}
    if path is not None and is_model_file(path):
        with ModelFile(path) as model:
            header = dict(model.header)
            header["tune"] = record or {}
            arrays = {name: model.array(name, mmap=True) for name in model.names()
                      if name != "header" and not name.startswith(TUNED_PREFIX)}
            container.write(output, MODEL, {"header": container.json_member(header, MODEL),
                                            **arrays, **members})
        return
    counts = counts_for(wv, vocab_path)
    config = {"dim": wv.dim, "lowercase": pooling.lowercase, "preprocess": pooling.preprocess}
    write_model(output, "word2vec", {"config": config, "tune": record or {}}, wv.words, counts,
                {"w_in": np.asarray(wv.vectors, dtype=np.float32), **members})
