"""How much a co-occurrence at distance d counts (harmonic 1/d, uniform, linear), as exact
integers in units of 1/scale. numpy only, so the option records can name the weightings
without loading the counting kernels."""

import math

import numpy as np

from ..errors import OptionError

WEIGHTINGS = ("harmonic", "uniform", "linear")
EXACT_SCALE_LIMIT = 1 << 31


def distance_weights(window, weighting):
    """Integer weight per distance 1..window and the scale they are in units of (see module doc)."""
    if weighting not in WEIGHTINGS:
        raise OptionError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    distances = np.arange(1, window + 1, dtype=np.int64)
    if weighting == "uniform":
        return np.ones(window, dtype=np.int64), 1
    if weighting == "linear":
        return window - distances + 1, window
    scale = math.lcm(*range(1, window + 1))
    if scale <= EXACT_SCALE_LIMIT:
        return scale // distances, scale
    scale = EXACT_SCALE_LIMIT  # 1/d rounded to 2**-31: far below float32 precision
    return np.rint(scale / distances).astype(np.int64), scale
