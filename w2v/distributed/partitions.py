"""Partitions: a plain file cut into byte ranges that own the lines starting in them, a
compressed file whole."""

import os
from dataclasses import dataclass

from ..errors import InputError
from ..text.sources import expand_inputs, is_compressed

MAX_PARTITION_BYTES = 256 << 20  # a plain file is cut into ranges of at most this


@dataclass(frozen=True)
class Partition:
    """Bytes [start, end) of a file: the lines starting there (a compressed file: all)."""

    path: str
    start: int
    end: int
    compressed: bool


def input_files(inputs):
    """[(path, size, compressed)] of the inputs, in order; stdin, which workers cannot
    share, is refused (before any cluster starts)."""
    paths = expand_inputs(inputs)
    if "-" in paths:
        raise InputError("--dask reads files that every worker can open, not stdin ('-'): "
                         "save the text to a file on a shared filesystem first")
    files = []
    for path in paths:
        try:
            files.append((path, os.path.getsize(path), is_compressed(path)))
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from None
    return files


def plan_partitions(inputs, n_partitions):
    """The partitions of the inputs, in text order: each plain file cut into byte ranges of
    about total / n_partitions bytes (at most MAX_PARTITION_BYTES), each compressed file
    whole."""
    files = input_files(inputs)
    plain = sum(size for _, size, compressed in files if not compressed)
    target = max(1, min(MAX_PARTITION_BYTES, -(-plain // max(1, n_partitions))))
    parts = []
    for path, size, compressed in files:
        k = 1 if compressed else max(1, round(size / target))
        cuts = [size * i // k for i in range(k + 1)]
        parts.extend(Partition(path, a, b, compressed) for a, b in zip(cuts, cuts[1:]))
    return parts
