"""w2v: word embeddings (Skip-gram/CBOW, GloVe, PPMI+SVD) from the command line and from Python.

Names that need numba are imported on first use, so `import w2v` and the reading side
(vectors, formats, queries, evaluation) start fast.
"""

from .errors import InputError, OptionError, VocabularyError, W2VError
from .kernel_cache import use_user_cache
from .vectors import WordVectors

# Before any module of the package imports numba: kernels are cached outside the package,
# where an uninstall cannot strand them (see kernel_cache).
use_user_cache()

__version__ = "0.1.0"

# name -> module that defines it; imported lazily (PEP 562).
_LAZY = {
    "load_corpus": "corpus",
    "Corpus": "corpus",
    "Vocab": "vocab",
    "build_vocab": "vocab",
    "read_vocab": "vocab",
    "save_vocab": "vocab",
    "load_vectors": "formats",
    "save_vectors": "formats",
    "similar": "query",
    "analogy": "query",
    "evaluate_analogies": "evaluate",
    "evaluate_similarity": "evaluate",
    "train_word2vec": "train",
    "Word2VecConfig": "config",
    "GloveConfig": "config",
    "Word2VecModel": "train",
    "train_svd": "svd",
    "ppmi_matrix": "ppmi",
    "cooccurrence_matrix": "cooccur",
    "train_glove": "glove",
    "embed": "docs",
    "embed_files": "docs",
    "search": "docs",
    "top_documents": "docs",
    "make_pooling": "docs",
    "load_pooling": "docs",
    "Pooling": "docs",
    "Embedding": "docs",
    "write_index": "docindex",
    "open_index": "docindex",
    "search_index": "docindex",
    "DocumentIndex": "docindex",
    "evaluate_sts": "evaluate",
    "weat": "bias",
    "run_tests": "bias",
    "select_tests": "bias",
    "WeatTest": "bias",
    "hard_debias": "debias",
    "compare_debiased": "debias",
    "inlp_debias": "inlp",
    "double_hard_debias": "double_hard",
    "plot_words": "plot",
    "plot_loss": "plot",
    "write_projector": "projector",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'w2v' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["InputError", "OptionError", "VocabularyError", "W2VError", "WordVectors", *_LAZY]
