"""The reading commands: `similar`, `analogy`, `evaluate` and `plot`.

They import numpy (scipy for evaluate, matplotlib for plot), never numba: see
tests/test_cli_read.py.
"""

import logging
import sys

import click

from ..errors import OptionError, W2VError
from ..runtime.atomic import check_writable
from ..runtime.stdio import stdin_buffer
from .options import (
    common_options,
    json_option,
    load_query_vectors,
    number,
    percent,
    vectors_option,
)

log = logging.getLogger("w2v")


def _echo_results(results, as_json):
    """One 'word<TAB>score' line per result, or one {"word", "score"} object per line."""
    import json

    for word, score in results:
        if as_json:
            click.echo(json.dumps({"word": word, "score": score}, ensure_ascii=False))
        else:
            click.echo(f"{word}\t{score:.4f}")


def _answer_stdin(answer, n_words, as_json):
    """Answer queries read from stdin, one per line, each with one output line.

    A query that fails (unknown word, wrong number of words) is answered with an empty line
    (with --json, {"query": [...], "error": "..."}) and a message on stderr, and the stream
    goes on; at the end, any failure makes the exit status 1. A blank line is answered with
    an empty line ({"query": [], "results": []}) and is not a failure, so the answers stay
    aligned with the input lines.
    """
    import json

    failed = answered = 0
    for line_no, raw in enumerate(stdin_buffer(), 1):
        query = raw.decode("utf-8", "replace").split()
        if not query:  # answered too, so that output line N answers input line N
            click.echo(json.dumps({"query": [], "results": []}) if as_json else "")
            sys.stdout.flush()
            continue
        answered += 1
        try:
            if n_words and len(query) != n_words:
                raise OptionError(f"expected {n_words} words, got {len(query)}")
            results = answer(query)
        except W2VError as e:
            failed += 1
            log.error("stdin line %d: %s", line_no, e)
            click.echo(json.dumps({"query": query, "error": str(e)}, ensure_ascii=False)
                       if as_json else "")
        else:
            if as_json:
                click.echo(json.dumps({"query": query, "results": [
                    {"word": word, "score": score} for word, score in results]},
                    ensure_ascii=False))
            else:
                click.echo("\t".join(f"{word}\t{score:.4f}" for word, score in results))
        sys.stdout.flush()
    if failed:
        raise W2VError(f"{failed} of {answered} queries failed")


def _check_stdin_use(words, vectors_path):
    if not words and vectors_path == "-":
        raise click.UsageError("vectors and queries cannot both come from stdin; give words "
                               "on the command line or a vector file")


@click.command("similar", short_help="Nearest words by cosine.")
@click.argument("words", nargs=-1, metavar="[WORD]...")
@click.option("-n", "--top", "n", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many words to show.")
@vectors_option
@json_option
@common_options
def similar_command(words, n, vectors_path, as_json):
    """Words closest by cosine to WORD (to the mean of the WORDs' unit vectors).

    Prints 'word<TAB>score' lines. Without WORD, reads one query per line from stdin (the
    words of a line form one query) and answers every line on one line of tab-separated
    'word<TAB>score' pairs (--json: {"query": [...], "results": [...]}); a blank line gets
    an empty line. A query with an unknown word is answered with an empty line (--json: an
    "error" object) and a message on stderr; the other lines are still answered, and the
    exit status is 1.

    \b
    Example:  w2v similar paris -n 5 -v vectors.bin
              printf 'paris\\nking queen\\n' | w2v similar -v vectors.bin
    """
    from ..vectors.query import similar

    _check_stdin_use(words, vectors_path)
    _, wv = load_query_vectors(vectors_path)
    if words:
        _echo_results(similar(wv, list(words), n), as_json)
    else:
        _answer_stdin(lambda query: similar(wv, query, n), 0, as_json)


@click.command("analogy", short_help="Answer A - B + C analogies.")
@click.argument("words", nargs=-1, metavar="[A B C]")
@click.option("-n", "--top", "n", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many answers to show.")
@click.option("--method", type=click.Choice(["3cosadd", "3cosmul"], case_sensitive=False),
              default="3cosadd", show_default=True,
              help="3cosadd: cosine to A - B + C; 3cosmul: Levy & Goldberg's multiplicative form.")
@vectors_option
@json_option
@common_options
def analogy_command(words, n, method, vectors_path, as_json):
    """Words closest to A - B + C (A is to B as the answer is to C); the three words are
    never answers. On vectors from the bundled 1M-token sample, 'he his her' gives she
    first, while 'king man woman' ranks queen below the top 100 (so little text).

    Prints 'word<TAB>score' lines. Without A B C, reads three words per line from stdin and
    answers each line on one line, as `w2v similar` does (failed lines: empty line or JSON
    "error", message on stderr, exit status 1 at the end).

    \b
    Example:  w2v analogy he his her -v vectors.bin
    """
    from ..vectors.query import analogy

    if len(words) not in (0, 3):
        raise click.UsageError(f"expected three words A B C (or none, to read them from "
                               f"stdin), got {len(words)}")
    _check_stdin_use(words, vectors_path)
    _, wv = load_query_vectors(vectors_path)
    if words:
        _echo_results(analogy(wv, *words, n=n, method=method), as_json)
    else:
        _answer_stdin(lambda query: analogy(wv, *query, n=n, method=method), 3, as_json)


@click.command("evaluate", short_help="Score vectors on analogies, word and sentence similarity.")
@click.argument("vectors_path", required=False, metavar="[VECTORS]")
@click.option("--analogies", "analogy_files", multiple=True, metavar="FILE",
              help="Analogy questions (': section' lines, then 'a b c d'); repeatable.")
@click.option("--similarity", "similarity_files", multiple=True, metavar="FILE",
              help="Word pairs with human scores ('word1 word2 score'); repeatable.")
@click.option("--restrict-vocab", type=click.IntRange(min=1), default=30000, show_default=True,
              help="Analogies use only this many words from the top of the vector file.")
@click.option("--method", type=click.Choice(["3cosadd", "3cosmul", "both"], case_sensitive=False),
              default="3cosadd", show_default=True, help="How analogies are answered.")
@click.option("--case-sensitive", is_flag=True,
              help="Match words as they are (default: uppercase both sides, like word2vec C "
                   "and gensim).")
@click.option("--sts", "sts_files", multiple=True, metavar="FILE",
              help="Sentence pairs with gold scores ('score<TAB>sentence1<TAB>sentence2'); "
                   "repeatable. Scored for each --pooling.")
@click.option("--pooling", "poolings", multiple=True,
              type=click.Choice(["mean", "sif", "usif"], case_sensitive=False),
              help="Poolings for --sts; repeatable.  [default: all three with word counts, "
                   "else mean]")
@click.option("--vocab", "vocab_path", default=None, metavar="FILE",
              help="Word counts ('word count' lines) for SIF and uSIF when VECTORS has none.")
@click.option("--preprocess", type=click.Choice(["none", "lower", "letters"],
                                                case_sensitive=False),
              default="letters", show_default=True,
              help="--sts: normalise the sentences first (letters suits the shared corpus).")
@click.option("--skip-oov", is_flag=True,
              help="With a subword model or fastText .bin, skip word pairs with unknown words "
                   "as for other vectors (default: compose those words from n-grams).")
@json_option
@common_options
def evaluate_command(vectors_path, analogy_files, similarity_files, restrict_vocab, method,
                     case_sensitive, sts_files, poolings, vocab_path, preprocess, skip_oov,
                     as_json):
    """Score VECTORS on word analogies (accuracy), word similarity (Spearman rho) and
    sentence similarity (--sts: Spearman and Pearson of pooled-sentence cosines).

    VECTORS defaults to $W2V_VECTORS, else ./vectors.bin. Without --analogies,
    --similarity or --sts, uses the bundled questions-words.txt and wordsim353.txt.
    Questions and pairs with unknown words are skipped and reported as coverage; with
    a subword model or a fastText .bin, word pairs compose unknown words from their
    character n-grams instead (see --skip-oov), and the output says how many.

    \b
    Example:  w2v evaluate vectors.bin --method both
              w2v evaluate run.w2v --sts stsb-dev.txt --sts sick-trial.txt
    """
    import json

    from ..documents.pooling import counts_for, estimated_counts, tuned_pooling
    from ..documents.sts import evaluate_sts
    from ..vectors.evaluate import (
        bundled_dataset,
        evaluate_analogies,
        evaluate_similarity,
    )

    if not analogy_files and not similarity_files and not sts_files:
        analogy_files = [bundled_dataset("questions-words.txt")]
        similarity_files = [bundled_dataset("wordsim353.txt")]
    path, wv = load_query_vectors(vectors_path)
    methods = ["3cosadd", "3cosmul"] if method.lower() == "both" else [method.lower()]
    analogies = [evaluate_analogies(wv, f, restrict_vocab, m, not case_sensitive)
                 for f in analogy_files for m in methods]
    similarities = [evaluate_similarity(wv, f, None, not case_sensitive, compose=not skip_oov)
                    for f in similarity_files]
    sts = []
    if sts_files:
        counts = counts_for(wv, vocab_path)
        given_poolings = bool(poolings)
        if not poolings:
            poolings = ("mean", "sif", "usif") if counts is not None else ("mean",)
            if counts is None:
                log.info("--sts: mean pooling only (no word counts: give a model file or "
                         "--vocab FILE for sif and usif)")
        weighted = [p.lower() for p in poolings if p.lower() != "mean"]
        if counts is None and weighted:
            counts = estimated_counts(wv, "/".join(dict.fromkeys(weighted)))
        chosen = [p.lower() for p in poolings]
        tuned = None if given_poolings else tuned_pooling(path)
        if tuned is not None:  # a model written by 'w2v tune': its encoder too
            chosen.append(tuned)
        sts = [r for f in sts_files for r in evaluate_sts(
            wv, f, chosen, counts=counts, preprocess=preprocess)]
    if as_json:
        click.echo(json.dumps({
            "vectors": path, "words": len(wv), "dim": wv.dim,
            "analogies": [r.to_dict() for r in analogies],
            "similarity": [r.to_dict() for r in similarities],
            "sts": [r.to_dict() for r in sts],
        }, ensure_ascii=False))
        return
    click.echo(f"vectors: {path} ({len(wv)} words, dim {wv.dim})")
    for result in analogies:
        click.echo(_analogy_table(result))
    for result in similarities:
        click.echo(f"\nsimilarity: {result.path}\n"
                   f"  spearman {number(result.spearman)}   pearson {number(result.pearson)}"
                   f"   pairs {result.pairs_used} of {result.pairs_total}"
                   f" ({percent(result.coverage)})" + _composed_note(result))
    for i, result in enumerate(sts):
        if i == 0 or result.path != sts[i - 1].path:
            click.echo(f"\nsts: {result.path} (preprocess {preprocess})\n"
                       f"  {'pooling':<10}{'spearman':>10}{'pearson':>10}{'pairs':>16}")
        click.echo(f"  {result.pooling:<10}{number(result.spearman):>10}"
                   f"{number(result.pearson):>10}"
                   f"{f'{result.pairs_used} of {result.pairs_total}':>16}"
                   f" ({percent(result.coverage)})")


def _composed_note(result):
    """How many pairs needed composed words, and the coverage without them."""
    if not result.pairs_composed:
        return ""
    in_vocabulary = result.pairs_used - result.pairs_composed
    return (f", {result.pairs_composed} with words composed from n-grams ({in_vocabulary} "
            f"in the vocabulary, {percent(result.vocabulary_coverage)})")


def _analogy_table(result):
    rows = [f"\nanalogies: {result.path} ({result.method}, first {result.restrict_vocab} words)",
            f"  {'section':<32}{'accuracy':>9}{'correct':>9}{'seen':>8}{'total':>8}"]
    summary = [result.semantic, result.syntactic, result.overall]
    for i, s in enumerate(result.sections + summary):
        if i == len(result.sections):
            rows.append("  " + "-" * 66)
        rows.append(f"  {s.name:<32}{percent(s.accuracy):>9}{s.correct:>9}{s.seen:>8}{s.total:>8}")
    total = result.overall
    rows.append(f"  coverage: {total.seen} of {total.total} questions ({percent(result.coverage)})")
    return "\n".join(rows)


@click.command("plot", short_help="Draw words in 2D, or a training loss curve.")
@click.argument("words", nargs=-1, metavar="[WORD]...")
@vectors_option
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Figure to write: .png, .svg or .pdf.")
@click.option("--neighbours", "--neighbors", "neighbours", type=click.IntRange(min=0),
              default=0, show_default=True, help="Also plot the N nearest words of each WORD.")
@click.option("--method", type=click.Choice(["pca", "tsne"], case_sensitive=False),
              default="pca", show_default=True, help="Projection to 2D.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of t-SNE.")
@click.option("--loss-log", default=None, metavar="FILE",
              help="Draw the loss curve of a --loss-log file instead of words.")
@click.option("--title", default=None, help="Title of the figure.")
@common_options
def plot_command(words, vectors_path, output, neighbours, method, seed, loss_log, title):
    """Draw WORDs (and --neighbours N of each) projected to 2D by PCA or t-SNE, labelled;
    or, with --loss-log FILE, the loss curve that 'w2v train' or 'w2v glove' logged.

    Needs the plot extra: pip install "w2v[plot]" (matplotlib, scikit-learn for t-SNE).

    \b
    Example:  w2v plot -v vectors.bin king queen man woman -o royals.png
              w2v plot -v vectors.bin paris --neighbours 15 --method tsne -o paris.svg
              w2v plot --loss-log loss.tsv -o loss.png
    """
    from ..vectors.plot import output_format, plot_loss, plot_words

    if loss_log is not None and words:
        raise click.UsageError("give WORDs or --loss-log FILE, not both")
    if loss_log is None and not words:
        raise click.UsageError("give the WORDs to plot, or --loss-log FILE")
    output_format(output)
    check_writable(output)
    if loss_log is not None:
        n = plot_loss(loss_log, output, title)
        log.info("wrote %s (%d points)", output, n)
        return
    _, wv = load_query_vectors(vectors_path)
    n = plot_words(wv, list(words), output, neighbours, method.lower(), seed, title)
    log.info("wrote %s (%d words)", output, n)
