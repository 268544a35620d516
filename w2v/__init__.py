"""w2v: word embeddings (Skip-gram/CBOW, GloVe, PPMI+SVD) from the command line and from Python.

Names that need numba are imported on first use, so `import w2v` and the reading side
(vectors, formats, queries, evaluation) start fast.
"""

from .errors import InputError, OptionError, VocabularyError, W2VError
from .runtime.numba_cache import use_user_cache
from .vectors.word_vectors import WordVectors

# Before any module of the package imports numba: kernels are cached outside the package,
# where an uninstall cannot strand them (see kernel_cache).
use_user_cache()

__version__ = "0.1.0"

# name -> module that defines it ("module:name" where it has another name there);
# imported lazily (PEP 562).
_LAZY = {
    "load_corpus": "corpus.corpus",
    "Corpus": "corpus.corpus",
    "Vocab": "corpus.vocab",
    "build_vocab": "corpus.vocab",
    "read_vocab": "corpus.vocab",
    "save_vocab": "corpus.vocab",
    "load_vectors": "files.formats",
    "save_vectors": "files.formats",
    "similar": "vectors.query",
    "analogy": "vectors.query",
    "evaluate_analogies": "vectors.evaluate",
    "evaluate_similarity": "vectors.evaluate",
    "train_word2vec": "word2vec.model",
    "Word2VecConfig": "config",
    "GloveConfig": "config",
    "Word2VecModel": "word2vec.model",
    "resume_word2vec": "word2vec.model:resume",
    "continue_word2vec": "word2vec.model:continue_training",
    "SvdConfig": "config",
    "train_svd": "svd.svd",
    "svd_vectors": "svd.svd",
    "ppmi_matrix": "svd.ppmi",
    "cooccurrence_matrix": "cooccur.counts",
    "train_glove": "glove.model",
    "fit_glove": "glove.model:fit",
    "fit_glove_dask": "glove.cluster:fit",
    "embed": "documents.embed",
    "embed_files": "documents.embed",
    "search": "documents.search",
    "top_documents": "documents.rank",
    "make_pooling": "documents.pooling",
    "load_pooling": "documents.pooling",
    "Pooling": "documents.pooling",
    "pooling_for_vectors": "documents.pooling:for_vectors",
    "Embedding": "documents.embed",
    "write_index": "documents.index",
    "open_index": "documents.index",
    "search_index": "documents.index",
    "DocumentIndex": "documents.index",
    "evaluate_sts": "documents.sts",
    "tune": "documents.tune",
    "weat": "bias.weat",
    "run_tests": "bias.weat",
    "select_tests": "bias.weat",
    "WeatTest": "bias.weat",
    "hard_debias": "bias.hard",
    "compare_debiased": "bias.hard",
    "inlp_debias": "bias.inlp",
    "double_hard_debias": "bias.double_hard",
    "plot_words": "vectors.plot",
    "plot_loss": "vectors.plot",
    "write_projector": "files.projector",
}


def __getattr__(name):
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'w2v' has no attribute {name!r}")
    import importlib

    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(f".{module}", __name__), attribute or name)
    globals()[name] = value
    return value


__all__ = ["InputError", "OptionError", "VocabularyError", "W2VError", "WordVectors", *_LAZY]
