"""A WEAT fixture and WEFE's figures for it, to check w2v.bias.weat against (test_bias.py).

WEFE pins numpy<=1.26.4 and scipy<1.13, so it is not in the test extra; the figures it
gave are recorded in test_bias.py. To make them again, in a separate environment:

    python3 -m venv /tmp/wefe && /tmp/wefe/bin/pip install wefe==1.0.1
    /tmp/wefe/bin/python tests/wefe_reference.py
"""

import json

WEFE_ROWS = {
    "x0": [2, -1, 0, 3, 1], "x1": [1, 2, -2, 0, 3], "x2": [3, 0, 1, 1, -1], "x3": [0, 3, 2, -1, 1],
    "y0": [-2, 1, 3, 0, -1], "y1": [-1, -3, 1, 2, 0], "y2": [1, -2, -1, -3, 2],
    "y3": [-3, 0, 2, 1, 1],
    "a0": [2, 1, -1, 2, 0], "a1": [3, 1, 0, 1, 2], "a2": [1, 0, -2, 2, 1],
    "b0": [-1, -1, 2, 0, -2], "b1": [0, -2, 3, -1, 0], "b2": [-2, 1, 1, -1, -1],
}
WEFE_SETS = (["x0", "x1", "x2", "x3"], ["y0", "y1", "y2", "y3"], ["a0", "a1", "a2"],
             ["b0", "b1", "b2"])


def wefe_figures(rows, sets):
    """{"statistic", "effect_size"} of WEFE's WEAT on `rows` (word -> vector) and
    `sets` (X, Y, A, B word lists)."""
    import numpy as np
    from gensim.models import KeyedVectors
    from wefe.metrics import WEAT
    from wefe.query import Query
    from wefe.word_embedding_model import WordEmbeddingModel

    kv = KeyedVectors(vector_size=len(next(iter(rows.values()))))
    kv.add_vectors(list(rows), np.array(list(rows.values()), dtype=np.float32))
    model = WordEmbeddingModel(kv, "fixture")
    x, y, a, b = sets
    query = Query([x, y], [a, b], ["X", "Y"], ["A", "B"])
    statistic = WEAT().run_query(query, model)["weat"]
    effect_size = WEAT().run_query(query, model, return_effect_size=True)["effect_size"]
    return {"statistic": float(statistic), "effect_size": float(effect_size)}


if __name__ == "__main__":
    print(json.dumps(wefe_figures(WEFE_ROWS, WEFE_SETS)))
