"""Files for the TensorFlow Embedding Projector (projector.tensorflow.org, "Load"):
`tensors.tsv` (one vector a line, tab-separated) and `metadata.tsv` (one word a line; a
single column has no header). Both are written atomically."""

import os

from ..runtime.atomic import atomic_write, check_writable
from ..errors import OutputError, W2VError

BLOCK_ROWS = 4096


def projector_paths(directory):
    """(tensors.tsv, metadata.tsv) in `directory`, created if missing; OutputError now if
    they could not be written, so that a command fails before loading any vectors."""
    directory = os.fspath(directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {directory}: {e.strerror or e}") from None
    paths = os.path.join(directory, "tensors.tsv"), os.path.join(directory, "metadata.tsv")
    check_writable(*paths)
    return paths


def write_projector(wv, directory, limit=None):
    """Write the first `limit` (all if None) vectors of `wv` into `directory`, creating it;
    returns the two paths."""
    tensors, metadata = projector_paths(directory)
    n = len(wv) if limit is None else min(limit, len(wv))
    bad = [w for w in wv.words[:n] if not w or any(c in w for c in "\t\n\r")]
    if bad:
        raise W2VError(f"cannot write {directory}: {len(bad)} words are empty or hold a tab "
                       f"or line break (first: {bad[0]!r}); metadata.tsv could not hold them")
    row_format = "\t".join(["%.7g"] * wv.dim)
    with atomic_write(tensors, "w") as out:
        for start in range(0, n, BLOCK_ROWS):
            rows = wv.vectors[start:min(n, start + BLOCK_ROWS)].tolist()
            out.write("".join(row_format % tuple(row) + "\n" for row in rows))
    with atomic_write(metadata, "w") as out:
        out.write("".join(word + "\n" for word in wv.words[:n]))
    return tensors, metadata
