"""`w2v embed`, `w2v index` and `w2v search`: document vectors pooled from word vectors.

numpy only, like the reading commands: see tests/test_docs.py.
"""

import logging
import os

import click

from ..config import MAX_DIM
from ..runtime.atomic import check_writable
from ..runtime.stdio import stdin_buffer
from .options import (common_options, default_vectors_path, json_option, load_query_vectors,
                      vectors_option)

log = logging.getLogger("w2v")


def pooling_options(func):
    """Options that choose and tune the pooling of word vectors into document vectors."""
    options = [
        click.option("--pooling", type=click.Choice(["mean", "sif", "usif"],
                                                    case_sensitive=False), default=None,
                     help="mean, SIF (Arora et al. 2017) or uSIF (Ethayarajh 2018).  "
                          "[default: usif with word counts (a model file or --vocab), else mean]"),
        click.option("--vocab", "vocab_path", default=None, metavar="FILE",
                     help="Word counts ('word count' lines, as 'w2v vocab' writes) for SIF and "
                          "uSIF when the vectors file has none."),
        click.option("--sif-a", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="a in a/(a + p(w)).  [default: 1e-3 for sif; derived from the "
                          "vocabulary for usif]"),
        click.option("--remove-pc", type=click.IntRange(min=0, max=MAX_DIM), default=None,
                     help="Principal components removed.  [default: sif 1, usif 5, mean 0]"),
        click.option("--lowercase", is_flag=True, help="Lowercase the text before splitting."),
        click.option("--preprocess", type=click.Choice(["none", "lower", "letters"],
                                                       case_sensitive=False), default=None,
                     help="Normalise the text first; letters: lowercase a-z, accents folded, "
                          "digits spelled out, the rest spaces (the shared corpus's preparation)."
                          "  [default: what a model file's training applied, else none]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def phrases_file_option(func):
    return click.option(
        "--phrases-file", default=None, metavar="FILE",
        help="Join the phrases of this table ('w2v phrases --save-phrases') in the text.  "
             "[default: those a model file's training joined (train --phrases N)]")(func)


@click.command("embed", short_help="Document vectors: one per line of text (mean, SIF, uSIF).")
@click.argument("text", nargs=-1, required=True)
@vectors_option
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Document vectors: .npy (float32 rows), else word2vec binary (.bin or "
                   "--binary) or text keyed by line number; '-' writes text to stdout.")
@click.option("--binary/--text", default=None, help="Force the word2vec output format.")
@pooling_options
@click.option("--normalize", is_flag=True, help="Scale every document vector to unit length.")
@click.option("--id-column", is_flag=True,
              help="The first tab-separated field of each line is its key, not text.")
@click.option("--save-pooling", default=None, metavar="FILE",
              help="Also save the pooling (weights, removed components) as .npz, so that "
                   "later text is embedded exactly as this was.")
@click.option("--read-pooling", default=None, metavar="FILE",
              help="Embed with a saved pooling instead of fitting one to this text.")
@phrases_file_option
@common_options
def embed_command(text, vectors_path, output, binary, pooling, vocab_path, sif_a, remove_pc,
                  lowercase, preprocess, normalize, id_column, save_pooling, read_pooling,
                  phrases_file):
    """One vector per line of TEXT (files, .gz/.bz2/.xz, '-' for stdin): row i is line i.

    Words are split as the corpus reader splits them (whitespace, --lowercase), and the
    phrases a model was trained with are joined (new york -> new_york); words outside the
    vocabulary are skipped, and a line with no known word gets a zero vector (counted in one
    warning). SIF and uSIF need word counts: a model file (--save-model)
    has them, or give --vocab. Keys of word2vec output are line numbers from 1.

    \b
    Example:  w2v embed -v run.w2v reviews.txt -o reviews.npy --save-pooling reviews.pool.npz
              w2v embed -v run.w2v reviews.txt -o reviews.bin && w2v similar -v reviews.bin 12
    """
    from ..documents.embed import embed_files
    from ..documents.pooling import for_vectors, load_pooling
    from ..text.sources import check_inputs

    if vectors_path == "-" and "-" in text:
        raise click.UsageError("vectors and text cannot both come from stdin")
    if read_pooling and (pooling or vocab_path or sif_a or remove_pc is not None or normalize
                         or lowercase or preprocess is not None or phrases_file):
        raise click.UsageError("--read-pooling carries its own pooling and tokenisation; drop "
                               "--pooling, --vocab, --sif-a, --remove-pc, --normalize, "
                               "--lowercase, --preprocess and --phrases-file")
    check_inputs(text)
    check_writable(output)
    if save_pooling:
        check_writable(save_pooling)
    path, wv = load_query_vectors(vectors_path)
    if read_pooling:
        chosen = load_pooling(read_pooling)
        chosen.check(wv)
    else:
        chosen = for_vectors(wv, path, pooling, vocab_path=vocab_path, a=sif_a,
                             remove_pc=remove_pc, normalize=normalize, lowercase=lowercase,
                             preprocess=preprocess, phrases_file=phrases_file)
    result, _, ids = embed_files(wv, text, chosen, id_column=id_column)
    _write_documents(result.vectors, output, binary, ids)
    if save_pooling:
        result.pooling.save(save_pooling)
    log.info("wrote %d document vectors of dim %d (%s pooling; %d of %d tokens unknown) to %s",
             len(result), result.pooling.out_dim, result.pooling.label, result.unknown,
             result.tokens, "<stdout>" if output == "-" else output)


def _write_documents(vectors, output, binary, ids):
    """.npy by extension, else word2vec vectors keyed by ids (or line numbers from 1)."""
    import numpy as np

    from ..runtime.atomic import atomic_write

    if output != "-" and output.endswith(".npy"):
        with atomic_write(output, "wb") as out:
            np.save(out, vectors.astype(np.float32, copy=False))
        return
    from ..errors import InputError
    from ..files.formats import save_vectors
    from ..vectors.word_vectors import WordVectors

    keys = [str(i) for i in range(1, len(vectors) + 1)] if ids is None else ids
    if len(vectors) == 0:
        raise InputError("no documents: the text is empty")
    try:
        documents = WordVectors(keys, vectors)
    except ValueError:
        seen = set()
        first = next(k for k in keys if k in seen or seen.add(k))
        raise InputError(f"--id-column: the id {first!r} is used twice") from None
    save_vectors(documents, output, binary=binary)


@click.command("search", short_help="Rank the lines of a file against queries.")
@click.argument("queries", nargs=-1, metavar="[QUERY]...")
@vectors_option
@click.option("--docs", "docs_paths", multiple=True, metavar="FILE",
              help="A file of documents, one per line (.gz/.bz2/.xz, '-' for stdin); "
                   "repeat --docs for each further file.")
@click.option("--index", "index_path", default=None, metavar="PATH",
              help="Search an index made by 'w2v index' instead of embedding --docs "
                   "(-v defaults to the vectors it was made with).")
@click.option("-n", "--top", "n", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many documents per query.")
@click.option("--metric", type=click.Choice(["cosine", "dot"], case_sensitive=False),
              default="cosine", show_default=True, help="How documents are scored.")
@pooling_options
@phrases_file_option
@json_option
@common_options
def search_command(queries, vectors_path, docs_paths, index_path, n, metric, pooling, vocab_path,
                   sif_a, remove_pc, lowercase, preprocess, phrases_file, as_json):
    """The best lines of --docs for each QUERY (each argument is one query; without any,
    one query per line of stdin). Each --docs takes one file: repeat it for more
    (--docs a.txt --docs b.txt); an argument that names a file is refused, not searched for.

    Documents and queries are pooled the same way (the documents fix the pooling's removed
    components). Prints 'rank<TAB>score<TAB>line<TAB>text' lines (line numbers from 1), a
    blank line between queries; --json prints one {"query", "results"} object per query.

    \b
    Example:  w2v search -v run.w2v --docs faq.txt "how do i reset my password"
              cat questions.txt | w2v search -v run.w2v --docs faq.txt -n 3 --json
    """
    from ..documents.embed import embed, embed_files
    from ..documents.pooling import for_vectors
    from ..documents.rank import hits, top_documents
    from ..text.sources import check_inputs

    if vectors_path == "-":
        raise click.UsageError("search reads vectors from a file, not stdin")
    if bool(docs_paths) == bool(index_path):
        raise click.UsageError("give either --docs FILE or --index PATH")
    if index_path:
        if pooling or vocab_path or sif_a or remove_pc is not None or lowercase \
                or preprocess is not None or phrases_file:
            raise click.UsageError("--index carries its own pooling and tokenisation; drop "
                                   "--pooling, --vocab, --sif-a, --remove-pc, --lowercase, "
                                   "--preprocess and --phrases-file")
        _search_index(queries, vectors_path, index_path, n, metric, as_json)
        return
    if not queries and "-" in docs_paths:
        raise click.UsageError("documents and queries cannot both come from stdin; give "
                               "queries as arguments")
    _refuse_file_queries(queries, docs_paths)
    check_inputs(docs_paths)
    path, wv = load_query_vectors(vectors_path)
    chosen = for_vectors(wv, path, pooling, vocab_path=vocab_path, a=sif_a, remove_pc=remove_pc,
                         lowercase=lowercase, preprocess=preprocess, phrases_file=phrases_file)
    documents, lines, _ = embed_files(wv, docs_paths, chosen, keep_text=True)
    if len(documents) == 0:
        from ..errors import InputError

        raise InputError("no documents: the --docs text is empty")
    if not queries:
        queries = [raw.decode("utf-8", "replace").rstrip("\r\n") for raw in stdin_buffer()]
    pooled = embed(wv, queries, documents.pooling, label="queries", side="query").vectors
    rows, scores = top_documents(documents.vectors, pooled, n, metric)
    _echo_hits(queries, hits(pooled, rows, scores), lines, as_json)


def _refuse_file_queries(queries, docs_paths):
    """`--docs a.txt b.txt` searches for the text "b.txt": each --docs takes one file and
    every argument is a query, so an argument naming a file is most likely a lost --docs."""
    for query in queries:
        if query != "-" and os.path.isfile(query):
            raise click.UsageError(
                f"the query {query!r} is a file: each --docs takes one file (--docs "
                f"{docs_paths[-1]} --docs {query}); to search for that text, give it on stdin")


def _search_index(queries, vectors_path, index_path, n, metric, as_json):
    """search --index: the matrix memory-mapped, hits' text read by offset."""
    from ..documents.index import open_index, search_index
    from ..documents.rank import hits

    with open_index(index_path) as index:
        recorded = index.header["vectors"]["path"]
        if vectors_path is None and recorded:
            if os.path.exists(recorded):
                vectors_path = recorded
            elif not os.path.exists(default_vectors_path()):
                from ..errors import InputError

                raise InputError(f"no vectors file {recorded} (the one {index_path} was made "
                                 f"with); pass -v PATH")
        _, wv = load_query_vectors(vectors_path)
        index.check(wv)
        index.check_text()
        if not queries:
            queries = [raw.decode("utf-8", "replace").rstrip("\r\n") for raw in stdin_buffer()]
        pooled, rows, scores = search_index(index, wv, queries, n, metric)
        _echo_hits(queries, hits(pooled, rows, scores), index, as_json)


@click.command("index", short_help="Embed documents once, for fast 'w2v search --index'.")
@click.argument("docs", nargs=-1, required=True, metavar="DOCS...")
@vectors_option
@click.option("-o", "--output", required=True, metavar="PATH",
              help="The index file (an uncompressed .npz).")
@pooling_options
@common_options
def index_command(docs, vectors_path, output, pooling, vocab_path, sif_a, remove_pc, lowercase,
                  preprocess):
    """Embed the lines of DOCS (plain text files) once and write an index that
    'w2v search --index' memory-maps: the document vectors, the pooling, the byte offset of
    each line (hits are read from DOCS, which must stay where they are, unchanged), and a
    fingerprint of the vectors (an index refuses other vectors).

    \b
    Example:  w2v index -v run.w2v faq.txt -o faq.idx
              w2v search --index faq.idx "how do i reset my password"
    """
    from ..documents.index import check_documents, write_index
    from ..documents.pooling import for_vectors

    if vectors_path == "-":
        raise click.UsageError("index reads vectors from a file, not stdin")
    check_documents(docs)
    check_writable(output)
    path, wv = load_query_vectors(vectors_path)
    chosen = for_vectors(wv, path, pooling, vocab_path=vocab_path, a=sif_a, remove_pc=remove_pc,
                         lowercase=lowercase, preprocess=preprocess)
    result = write_index(output, wv, docs, chosen, vectors_path=path)
    log.info("indexed %d documents of dim %d (%s pooling; %d of %d tokens unknown) in %s",
             len(result), result.pooling.out_dim, result.pooling.label, result.unknown,
             result.tokens, output)


def _echo_hits(queries, answers, lines, as_json):
    import json

    for q, (query, found) in enumerate(zip(queries, answers)):
        if as_json:
            click.echo(json.dumps({"query": query, "results": [
                {"rank": rank, "score": score, "line": row + 1, "text": lines[row]}
                for rank, (row, score) in enumerate(found, 1)]}, ensure_ascii=False))
            continue
        if q:
            click.echo("")
        for rank, (row, score) in enumerate(found, 1):
            click.echo(f"{rank}\t{score:.4f}\t{row + 1}\t{lines[row]}")
