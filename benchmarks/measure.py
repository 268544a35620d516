"""Measuring helpers shared by the benchmark scripts."""

import lzma
import os
import tempfile


def plain_text(path, lines, workdir):
    """A plain-text copy of the first `lines` lines of `path` (gensim's corpus_file and
    fastText cannot read compressed input); `path` itself when it is plain and whole."""
    opener = lzma.open if path.endswith(".xz") else open
    if lines is None and opener is open:
        return path
    out = os.path.join(workdir, "corpus.txt")
    with opener(path, "rt", encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if lines is not None and i >= lines:
                break
            dst.write(line)
    return out


def count_tokens(path):
    """Whitespace-separated tokens in a plain-text file: the words/s numerator of both tools."""
    with open(path, "rb") as f:
        return sum(len(line.split()) for line in f)


def child_peak_kb(command):
    """(command wrapped to measure its peak RSS, a function giving that peak in KB).

    A child's own ru_maxrss is no good here: it starts at the parent's high-water mark
    (fork and vfork fold the parent's RSS into it), so GNU time, a small process, runs the
    command and reports the peak of its child alone. Without GNU time, ru_maxrss is used.
    """
    if not os.path.exists("/usr/bin/time"):
        return command, None
    fd, path = tempfile.mkstemp(prefix="w2v-bench-rss-")
    os.close(fd)

    def read():
        with open(path) as f:
            kb = int(f.read().split()[-1])
        os.remove(path)
        return kb

    return ["/usr/bin/time", "-f", "%M", "-o", path, *command], read


def mean_sd(values):
    """Mean and sample standard deviation (0 for one value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def spread_cells(runs, figures):
    """"label mean +- sd" for each (key, label, format) of figures, over the runs (dicts)."""
    cells = []
    for key, label, form in figures:
        mean, sd = mean_sd([r[key] for r in runs])
        cells.append(f"{label} {form.format(mean)} +- {form.format(sd)}")
    return cells
