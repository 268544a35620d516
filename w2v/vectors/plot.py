"""`w2v plot`: words (and their neighbours) projected to 2D, and training loss curves.

matplotlib (and scikit-learn, for t-SNE) come with the `w2v[plot]` extra and are imported
only here, inside the functions that draw, so nothing else in w2v needs them. Figures are
drawn with matplotlib's object API (no pyplot, no global backend) and saved atomically.
"""

import math
import os

import numpy as np

from ..runtime.atomic import atomic_write
from ..errors import InputError, OptionError, W2VError

FORMATS = ("png", "svg", "pdf")
METHODS = ("pca", "tsne")
EXTRA = 'pip install "w2v[plot]"'


def output_format(path):
    """The figure format from the output's extension; OptionError for anything else."""
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise OptionError(f"cannot tell the figure format of {path}: name it .png, .svg or .pdf")
    return ext


def _figure(width, height):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise W2VError(f"plotting needs matplotlib, which is not installed: {EXTRA}") from None
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(figure, path):
    fmt = output_format(path)
    with atomic_write(path, "wb") as out:
        figure.savefig(out, format=fmt, metadata=_metadata(fmt))


def _metadata(fmt):
    """No creation date in SVG and PDF, so the same plot gives the same bytes."""
    return {"Date": None} if fmt in ("svg", "pdf") else None


# --------------------------------------------------------------------------- projections


def project_pca(points):
    """Rows of `points` on their first two principal components (n x 2)."""
    centred = np.asarray(points, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    if coords.shape[1] < 2:  # one dimension only
        coords = np.column_stack([coords, np.zeros(len(coords))])
    # Fix each axis's arbitrary sign: the largest coordinate is positive.
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), [0, 1]])
    return coords * np.where(signs == 0, 1, signs)


def project_tsne(points, seed=1):
    """t-SNE of `points` (scikit-learn's, cosine metric, PCA start, one thread) to n x 2."""
    try:
        from sklearn.manifold import TSNE
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise W2VError(f"--method tsne needs scikit-learn, which is not installed: "
                       f"{EXTRA}") from None
    n = len(points)
    if n < 4:
        raise InputError(f"t-SNE needs at least 4 points, got {n}; use --method pca")
    perplexity = min(30.0, (n - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca",
                random_state=seed)
    # One thread: a plot's few hundred points take well under a second that way, while
    # OpenMP threads on a busy machine spin (14 points: 8 s instead of 0.1 s at load 8).
    with threadpool_limits(limits=1):
        return tsne.fit_transform(np.asarray(points, dtype=np.float64))


# --------------------------------------------------------------------------- words


def neighbourhood(wv, words, neighbours=0):
    """(words to plot, group of each: the index of the query word it belongs to).

    Query words come first; each brings its `neighbours` nearest words by cosine
    (a word already plotted keeps its first group). Unknown words raise VocabularyError.
    """
    from .query import similar

    wv.ids(words)
    points = {w: i for i, w in enumerate(dict.fromkeys(words))}
    for i, word in enumerate(words):
        if neighbours:
            for neighbour, _ in similar(wv, [word], neighbours):
                points.setdefault(neighbour, i)
    return list(points), list(points.values())


def plot_words(wv, words, output, neighbours=0, method="pca", seed=1, title=None):
    """Draw `words` (and `neighbours` nearest words of each) in 2D, labelled, to `output`
    (.png, .svg or .pdf). Query words are bold; neighbours share their query's colour."""
    output_format(output)
    if method not in METHODS:
        raise OptionError(f"unknown projection {method!r}; expected pca or tsne")
    figure = _figure(8, 6.5)  # before any work, so a missing matplotlib fails fast
    labels, groups = neighbourhood(wv, list(words), neighbours)
    if len(labels) < 2:
        raise InputError("a plot needs at least two words (give more words or --neighbours N)")
    points = wv.unit[wv.ids(labels)]
    coords = project_tsne(points, seed) if method == "tsne" else project_pca(points)
    queries = set(words)
    ax = figure.add_subplot()
    colours = [f"C{g % 10}" for g in groups]
    ax.scatter(coords[:, 0], coords[:, 1], c=colours, s=18)
    texts = []
    for (x, y), label, colour in zip(coords, labels, colours):
        bold = label in queries
        texts.append(ax.annotate(label, (x, y), xytext=(3, 3), textcoords="offset points",
                                 color=colour, fontsize=10 if bold else 8,
                                 fontweight="bold" if bold else "normal"))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or (f"{', '.join(dict.fromkeys(words))}"
                           + (f" and {neighbours} neighbours each" if neighbours else "")
                           + (" (t-SNE)" if method == "tsne" else " (PCA)")))
    _repel_labels(figure, texts)
    _save(figure, output)
    return len(labels)


def separate_boxes(boxes, iterations=300, pad=1.0):
    """Shifts (n x 2) that move overlapping boxes (n x 4: x0, y0, x1, y1) apart.

    Each round, every overlapping pair is pushed apart along the axis where it overlaps
    least, each box by half the overlap (plus `pad`); boxes that overlap nothing stay put.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    shift = np.zeros((len(boxes), 2))
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) / 2
    for _ in range(iterations):
        c = centre + shift
        gap = np.abs(c[:, None, :] - c[None, :, :]) - (half[:, None, :] + half[None, :, :])
        overlap = -gap  # per pair and axis: > 0 where the boxes overlap on that axis
        hit = (overlap > 0).all(axis=2)
        np.fill_diagonal(hit, False)
        if not hit.any():
            break
        axis = np.argmin(overlap, axis=2)  # push along the axis of least overlap
        push = np.zeros((len(boxes), len(boxes), 2))
        i, j = np.nonzero(hit)
        amount = overlap[i, j, axis[i, j]] / 2 + pad
        direction = np.sign(c[i, axis[i, j]] - c[j, axis[i, j]])
        direction[direction == 0] = np.where(i[direction == 0] < j[direction == 0], -1, 1)
        push[i, j, axis[i, j]] = direction * amount
        shift += push.sum(axis=1) / np.maximum(1, hit.sum(axis=1))[:, None]
    return shift


def _repel_labels(figure, texts):
    """Move the labels of a plot so that none covers another (label placement by repulsion)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    boxes = np.array([t.get_window_extent(renderer).extents for t in texts])
    points_per_pixel = 72.0 / figure.dpi
    for text, (dx, dy) in zip(texts, separate_boxes(boxes) * points_per_pixel):
        x, y = text.xyann
        text.xyann = (x + dx, y + dy)


# --------------------------------------------------------------------------- loss


def read_loss_log(path):
    """(x in epochs, y, y's name) from a --loss-log file: a tab-separated header with
    "epoch" and "loss" (train) or "cost" (glove), then one line per launch. A launch's x
    is its epoch's share done: epoch - 1 + (i + 1) / launches in that epoch."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except OSError as e:
        raise InputError(f"cannot read the loss log {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a loss log (not UTF-8 text)") from None
    if not lines:
        raise InputError(f"{path}: empty loss log")
    header = lines[0]
    measure = next((m for m in ("loss", "cost") if m in header), None)
    if "epoch" not in header or measure is None:
        raise InputError(f"{path}: line 1: expected a header with 'epoch' and 'loss' or "
                         f"'cost' (a file from --loss-log), got {' '.join(header)[:60]!r}")
    epoch_col, y_col = header.index("epoch"), header.index(measure)
    epochs, ys = [], []
    for line_no, fields in enumerate(lines[1:], 2):
        if fields == header:  # a resumed run appends; skip a repeated header
            continue
        try:
            epochs.append(int(fields[epoch_col]))
            ys.append(float(fields[y_col]))
        except (ValueError, IndexError):
            raise InputError(f"{path}: line {line_no}: expected {len(header)} tab-separated "
                             f"fields with a number for {measure}") from None
    if not ys:
        raise InputError(f"{path}: no loss lines after the header")
    epochs = np.array(epochs)
    x = np.empty(len(epochs))
    for epoch in np.unique(epochs):
        at = np.flatnonzero(epochs == epoch)
        x[at] = epoch - 1 + np.arange(1, len(at) + 1) / len(at)
    return x, np.array(ys), measure


def plot_loss(loss_log, output, title=None):
    """Draw the loss (or GloVe cost) per launch against epochs, to `output`."""
    output_format(output)
    figure = _figure(7, 4.5)
    x, y, measure = read_loss_log(loss_log)
    ax = figure.add_subplot()
    ax.plot(x, y, marker="." if len(x) < 50 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel(measure + (" per example" if measure == "loss" else " per update"))
    ax.set_xlim(0, max(1, math.ceil(x.max())))
    ax.grid(alpha=0.3)
    ax.set_title(title or os.path.basename(os.fspath(loss_log)))
    _save(figure, output)
    return len(x)
