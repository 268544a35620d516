"""Search: the best documents for each query text, over embedded texts or an index."""

from ..errors import OptionError
from .embed import Embedding, embed
from .index import DocumentIndex, search_index
from .rank import hits, top_documents


def search(wv, documents, queries, n=10, metric="cosine", **options):
    """The n best documents for each query text: a list per query of (row, score).

    `documents` is an `Embedding` (from `embed`/`embed_files`), an open index (`open_index`)
    or a list of texts (embedded here with `options`, as `embed` takes them); queries are
    pooled with the documents' pooling, so exactly as they were.
    """
    if isinstance(queries, str):
        queries = [queries]
    if isinstance(documents, DocumentIndex):
        if options:
            raise OptionError("an index carries its own pooling and tokenisation")
        documents.check(wv)
        pooled, rows, scores = search_index(documents, wv, queries, n, metric)
        return hits(pooled, rows, scores)
    if not isinstance(documents, Embedding):
        documents = embed(wv, documents, **options)
    pooled = embed(wv, queries, documents.pooling, label="queries", side="query")
    rows, scores = top_documents(documents.vectors, pooled.vectors, n, metric)
    return hits(pooled.vectors, rows, scores)

