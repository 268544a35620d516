"""`w2v vocab` and `w2v phrases`: the commands that read a corpus and write text."""

import logging

import click

from ..config import MAX_PHRASE_PASSES
from ..runtime.atomic import check_writable
from .options import (common_options, corpus_options, dask_options, dask_target, memory_type,
                      progress_option, show_progress, THRESHOLDS, threads_option)

log = logging.getLogger("w2v")


@click.command(short_help="Count the words of a corpus and print the vocabulary.")
@corpus_options
@click.option("-o", "--output", default="-", show_default=True,
              help="Write the vocabulary here ('word count' lines); '-' is stdout.")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the N most frequent words.")
@dask_options
@progress_option
@common_options
def vocab(corpus, min_count, max_vocab, lowercase, preprocess, max_sentence_length, output, top,
          dask, workers, progress):
    """Count the words of CORPUS (files, globs, '-' for stdin) and print the vocabulary.

    \b
    Example:  w2v vocab data/enwiki-1m.txt.xz --top 20
    """
    from ..corpus.corpus import count_corpus
    from ..corpus.vocab import save_vocab

    check_writable(output)
    cluster = dask_target(dask, workers)
    if cluster is not None:
        from ..distributed import count_vocabulary

        vocabulary, n_raw, _ = count_vocabulary(
            corpus, min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
            preprocess=preprocess, dask=cluster, workers=workers,
            progress=show_progress(progress))
    else:
        counted = count_corpus(corpus, lowercase=lowercase, preprocess=preprocess,
                               progress=show_progress(progress))
        vocabulary, n_raw = counted.vocab(min_count, max_vocab), counted.n_raw_tokens
    save_vocab(vocabulary, output, top=top)
    log.info("%d words in the vocabulary (min-count %d), %d tokens kept of %d",
             len(vocabulary), min_count, vocabulary.total, n_raw)


@click.command("phrases", short_help="Join frequent word pairs into phrases (word2phrase).")
@click.argument("corpus", nargs=-1, required=True)
@click.option("-o", "--output", default="-", show_default=True,
              help="Write the text with its phrases joined here; '-' is stdout.")
@click.option("--scorer", type=click.Choice(["word2phrase", "npmi"]), default="word2phrase",
              show_default=True, help="word2phrase's score, or normalised PMI in [-1, 1].")
@click.option("--threshold", type=THRESHOLDS, default=None, metavar="T[,T...]",
              help="Join pairs scoring above T; one per pass, e.g. 200,100.  "
                   "[default: 100 for word2phrase, 0.5 for npmi]")
@click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Pairs seen fewer times never join (and word2phrase's delta).")
@click.option("--passes", type=click.IntRange(min=1, max=MAX_PHRASE_PASSES), default=1, show_default=True,
              help="Run again on the output, to build longer phrases.")
@click.option("--connector-words", default=None, metavar="FILE|english",
              help="Words that may sit inside a phrase but never start or end one "
                   "(bank_of_america); 'english' is gensim's list.")
@click.option("--delimiter", default="_", show_default=True, help="Joins the words of a phrase.")
@click.option("--lowercase", is_flag=True, help="Lowercase the text before splitting.")
@click.option("--save-phrases", default=None, metavar="FILE",
              help="Write the phrases found (phrase<TAB>count<TAB>score, by score).")
@click.option("--apply", "apply_path", default=None, metavar="FILE",
              help="Join the phrases of a --save-phrases file instead of counting.")
@click.option("--memory", type=memory_type(), default=None, metavar="GB",
              help="Memory bound for the pair counts; past it, sorted partial counts spill to "
                   "a temporary file.  [default: half the available memory]")
@threads_option("Threads for splitting, counting, joining and writing (by default at most 4).")
@common_options
def phrases_command(corpus, output, scorer, threshold, min_count, passes, connector_words,
                    delimiter, lowercase, save_phrases, apply_path, memory, threads):
    """Write CORPUS (files, globs, '-' for stdin) back with its phrases joined: new_york.

    Pairs of adjacent words on a line are counted exactly and scored; those above the
    threshold are joined greedily from the left, never overlapping, never across lines.

    \b
    Example:  xzcat corpus.xz | w2v phrases - --passes 2 | w2v train - -o vectors.bin
              w2v phrases train.txt --save-phrases phrases.tsv -o train.phr.txt
              w2v phrases --apply phrases.tsv test.txt -o test.phr.txt
    """
    from ..corpus.phrases import read_connectors, run_phrases

    if apply_path is not None:
        ctx = click.get_current_context()
        counting = [name for name in ("scorer", "threshold", "min_count", "passes", "memory")
                    if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT]
        if counting:
            raise click.UsageError("--apply joins the phrases of a file without counting; "
                                   f"--{counting[0].replace('_', '-')} does not apply")
    check_writable(output, save_phrases)
    run_phrases(corpus, output, scorer=scorer, thresholds=threshold, min_count=min_count,
                passes=passes, connectors=read_connectors(connector_words), delimiter=delimiter,
                lowercase=lowercase, save_phrases=save_phrases, apply=apply_path,
                memory_gb=memory, threads=threads)
