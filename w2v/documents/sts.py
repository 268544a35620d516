"""Sentence similarity (STS): how well pooled sentence vectors rank graded sentence pairs.

A file holds `score<TAB>sentence1<TAB>sentence2` lines (STS-B, SICK). The score is the
Spearman and Pearson correlation of the pairs' cosines with the gold scores.
"""

import dataclasses
import os

import numpy as np

from ..errors import InputError
from ..vectors.evaluate import (
    correlations,
    finite_score,
    json_number,
    ratio,
    read_lines,
)
from .embed import embed
from .pooling import Pooling


@dataclasses.dataclass
class StsResult:
    """Correlation of pooled-sentence cosines with gold scores for one file and pooling."""

    path: str
    pooling: str
    spearman: float
    pearson: float
    pairs_used: int
    pairs_total: int

    @property
    def coverage(self):
        return ratio(self.pairs_used, self.pairs_total)

    def to_dict(self):
        return {"file": self.path, "pooling": self.pooling,
                "spearman": json_number(self.spearman), "pearson": json_number(self.pearson),
                "pairs_used": self.pairs_used, "pairs_total": self.pairs_total,
                "coverage": json_number(self.coverage)}


def read_sts(path):
    """(gold scores, first sentences, second sentences) of a `score<TAB>s1<TAB>s2` file."""
    path = os.fspath(path)
    gold, left, right = [], [], []
    for line_no, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            if len(fields) != 3:
                raise ValueError
            gold.append(finite_score(fields[0]))
        except ValueError:
            raise InputError(f"{path}: line {line_no}: expected 'score<TAB>sentence1<TAB>"
                             f"sentence2' with a finite score, got {line.strip()[:60]!r}") from None
        left.append(fields[1])
        right.append(fields[2])
    if not gold:
        raise InputError(f"{path}: no sentence pairs in the file")
    return np.array(gold), left, right


def evaluate_sts(wv, path, poolings=("mean", "sif", "usif"), counts=None, preprocess="letters",
                 lowercase=False, remove_pc=None, a=None):
    """Pearson and Spearman between the cosine of pooled sentence vectors and gold scores.

    For each pooling, its components are found on all sentences of the file (both columns),
    as the SIF and uSIF reference code does; a `Pooling` given among `poolings` (a tuned
    encoder: `pooling.tuned_pooling`) embeds as it is, named "tuned" (else its kind). Pairs where a sentence has no known word are
    skipped and counted in the coverage. `preprocess` "letters" suits vectors trained on
    text prepared like the shared corpus (lowercase a-z, digits spelled out).
    """
    path = os.fspath(path)
    gold, left, right = read_sts(path)
    results = []
    for kind in poolings:
        if isinstance(kind, Pooling):
            if not kind.fitted:  # components found on all sentences, as for the others
                kind = embed(wv, left + right, dataclasses.replace(kind)).pooling
            first = embed(wv, left, kind, side="query").vectors
            second = embed(wv, right, kind).vectors
            kind = "tuned" if kind.tuned else kind.kind
        else:
            pooled = embed(wv, left + right, kind, counts=counts, preprocess=preprocess,
                           lowercase=lowercase, remove_pc=remove_pc, a=a).vectors
            first, second = pooled[:len(left)], pooled[len(left):]
        norms = np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1)
        used = norms > 0
        cosines = np.einsum("ij,ij->i", first[used], second[used]) / norms[used]
        spearman, pearson = correlations(gold[used], cosines)
        results.append(StsResult(path, kind, spearman, pearson, int(used.sum()), len(gold)))
    return results
