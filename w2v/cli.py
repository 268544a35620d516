"""The `w2v` command line: parse options, call one library function, report on stderr.

No model logic lives here. Commands that train import their modules inside the command
body, so `similar`, `analogy` and `evaluate` never import numba.
"""

import functools
import logging
import os
import sys

import click

from .atomic import check_writable
from .errors import OptionError, W2VError

log = logging.getLogger("w2v")


# --------------------------------------------------------------------------- plumbing


def _read_config(ctx, param, path):
    """Eager --config callback: TOML keys become defaults for this command's options."""
    if path is None:
        return None
    import tomllib

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise click.BadParameter(f"{path}: invalid TOML: {e}") from None
    known = {p.name for p in ctx.command.params if p.name}
    defaults = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in known or name == "config":
            raise click.BadParameter(f"{path}: unknown key {key!r} for 'w2v {ctx.command.name}'")
        defaults[name] = value
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return path


def _setup_logging(quiet, verbose):
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("w2v: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def common_options(func):
    """--config, --quiet, --verbose on every command; sets up logging before the body runs."""

    @click.option(
        "--config",
        type=click.Path(dir_okay=False),
        callback=_read_config,
        is_eager=True,
        expose_value=False,
        help="TOML file whose keys are this command's option names; flags override it.",
    )
    @click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
    @click.option("--verbose", is_flag=True, help="More detail on stderr.")
    @functools.wraps(func)
    def wrapper(*args, quiet, verbose, **kwargs):
        _setup_logging(quiet, verbose)
        return func(*args, **kwargs)

    return wrapper


def progress_option(func):
    """--progress/--no-progress: default is a bar only when stderr is a terminal."""
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Show a progress bar on stderr (default: only when stderr is a terminal).",
    )(func)


def show_progress(progress):
    """Resolve --progress: explicit choice wins; --quiet turns it off; else only on a tty."""
    if progress is not None:
        return progress
    if log.level > logging.INFO:
        return False
    return sys.stderr.isatty()


def corpus_options(func):
    """Options of the one corpus pass, shared by every command that reads a corpus."""
    options = [
        click.argument("corpus", nargs=-1, required=True),
        click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
                     help="Drop words seen fewer times."),
        click.option("--max-vocab", type=click.IntRange(min=1), default=None,
                     help="Keep only the most frequent words."),
        click.option("--lowercase", is_flag=True, help="Lowercase the text before splitting."),
        click.option("--max-sentence-length", type=click.IntRange(min=1), default=10000,
                     show_default=True, help="Cut longer lines into pieces of this many tokens."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _corpus_optional(func):
    """Make corpus_options' CORPUS argument optional (a command that can read counts instead)."""
    for param in getattr(func, "__click_params__", []):
        if isinstance(param, click.Argument) and param.name == "corpus":
            param.required = False
    return func


def vector_output_options(func):
    """-o/--output and --binary/--text of every command that writes vectors."""
    func = click.option("--binary/--text", default=None, help="Force the output format.")(func)
    return click.option(
        "-o", "--output", default=None, metavar="PATH",
        help="Vectors file: binary if it ends in .bin or with --binary, else text; "
             "'-' writes text to stdout.  [default: $W2V_VECTORS, else vectors.bin]")(func)


def _one_input(corpus, read_cooccur):
    """Commands that can start from counts take a CORPUS or --read-cooccur, not both."""
    if bool(corpus) == bool(read_cooccur):
        raise click.UsageError("give a CORPUS or --read-cooccur PATH" if not corpus else
                               "give a CORPUS or --read-cooccur PATH, not both")


def _default_vectors_path():
    return os.environ.get("W2V_VECTORS") or "vectors.bin"


# --------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="w2v")
def cli():
    """Train and query static word embeddings: Skip-gram/CBOW, GloVe, PPMI+SVD.

    Data goes to stdout, logs and progress to stderr.
    """


@cli.command()
@corpus_options
@click.option("-o", "--output", default="-", show_default=True,
              help="Write the vocabulary here ('word count' lines); '-' is stdout.")
@click.option("--top", type=click.IntRange(min=1), default=None, help="Only the N most frequent words.")
@progress_option
@common_options
def vocab(corpus, min_count, max_vocab, lowercase, max_sentence_length, output, top, progress):
    """Count the words of CORPUS (files, globs, '-' for stdin) and print the vocabulary.

    \b
    Example:  w2v vocab data/enwiki-1m.txt.xz --top 20
    """
    from .corpus import count_corpus
    from .vocab import save_vocab

    check_writable(output)
    counted = count_corpus(corpus, lowercase=lowercase, progress=show_progress(progress))
    vocabulary = counted.vocab(min_count, max_vocab)
    save_vocab(vocabulary, output, top=top)
    log.info("%d words in the vocabulary (min-count %d), %d tokens kept of %d",
             len(vocabulary), min_count, vocabulary.total, counted.n_raw_tokens)


# Commands of the reading side (similar, analogy, evaluate) and of the models (train,
# cooccur, glove, svd) are defined below this line, one block each.
# --- commands ---


# ........................................................ train (Skip-gram / CBOW)


@cli.command()
@corpus_options
@vector_output_options
@click.option("--model", default="sg", show_default=True, metavar="sg|cbow",
              help="Skip-gram or continuous bag of words.")
@click.option("--dim", type=int, default=100, show_default=True, help="Vector dimension.")
@click.option("--window", type=int, default=5, show_default=True,
              help="Maximum distance between centre and context word (the effective window "
                   "is drawn uniformly from 1..N per word).")
@click.option("--negative", type=int, default=5, show_default=True,
              help="Noise words per example (0 turns negative sampling off; needs --hs).")
@click.option("--hs", is_flag=True, help="Hierarchical softmax over a Huffman tree "
                                         "(alone with --negative 0, or together).")
@click.option("--ns-exponent", type=float, default=0.75, show_default=True,
              help="Noise distribution: counts raised to this power.")
@click.option("--sample", type=float, default=1e-3, show_default=True,
              help="Subsampling threshold for frequent words (0: off).")
@click.option("--epochs", type=int, default=5, show_default=True, help="Passes over the corpus.")
@click.option("--alpha", type=float, default=None,
              help="Starting learning rate.  [default: 0.025 for sg, 0.05 for cbow]")
@click.option("--min-alpha", type=float, default=None,
              help="Final learning rate (linear decay).  [default: alpha x 1e-4]")
@click.option("--threads", type=int, default=None,
              help="Training threads.  [default: one per physical core]")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed; with --threads 1 the output is identical run after run.")
@click.option("--cbow-mean/--cbow-sum", default=True, show_default=True,
              help="CBOW: average or sum the context vectors.")
@click.option("--kernel", default="classic", show_default=True, metavar="classic|batched",
              help="batched: skip-gram NS with one set of negatives shared by a window "
                   "(pWord2Vec); classic: word2vec C's per-pair updates.")
@click.option("--save-vocab", default=None, metavar="PATH", help="Also write the vocabulary.")
@click.option("--read-vocab", default=None, metavar="PATH",
              help="Use this vocabulary ('word count' lines) instead of counting the corpus.")
@click.option("--save-context", default=None, metavar="PATH",
              help="Also write the output-side (context) vectors, e.g. to use W+C.")
@progress_option
@common_options
def train(corpus, min_count, max_vocab, lowercase, max_sentence_length, output, binary, model,
          dim, window, negative, hs, ns_exponent, sample, epochs, alpha, min_alpha, threads,
          seed, cbow_mean, kernel, save_vocab, read_vocab, save_context, progress):
    """Train Skip-gram or CBOW vectors (negative sampling and/or hierarchical softmax).

    CORPUS: text files (gz/bz2/xz too), globs, or '-' for stdin; one sentence per line.

    \b
    Example:  w2v train data/enwiki-1m.txt.xz -o vectors.bin --model sg --epochs 5
    """
    from .corpus import load_corpus
    from .formats import save_vectors
    from .train import check_options, train_word2vec
    from .vocab import read_vocab as read_vocab_file, save_vocab as write_vocab

    options = dict(model=model, dim=dim, window=window, negative=negative, hs=hs,
                   ns_exponent=ns_exponent, sample=sample, epochs=epochs, alpha=alpha,
                   min_alpha=min_alpha, threads=threads, seed=seed, cbow_mean=cbow_mean,
                   kernel=kernel)
    check_options(**options, save_context=save_context is not None)
    output = output or _default_vectors_path()
    check_writable(output, save_vocab, save_context)
    show = show_progress(progress)
    vocab = None
    if read_vocab:
        vocab = read_vocab_file(read_vocab, min_count=min_count, max_vocab=max_vocab)
    loaded = load_corpus(corpus, min_count=min_count, max_vocab=max_vocab, vocab=vocab,
                         lowercase=lowercase, max_sentence_length=max_sentence_length,
                         progress=show)
    if save_vocab:
        write_vocab(loaded.vocab, save_vocab)
    wv = train_word2vec(loaded, **options, progress=show)
    save_vectors(wv, output, binary=binary)
    if save_context:
        save_vectors(wv.context, save_context, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)


# ........................................................ reading side: similar, analogy, evaluate, convert
# These import only numpy (and scipy for evaluate), never numba: see tests/test_cli_read.py.


def _vectors_option(func):
    return click.option(
        "-v", "--vectors", "vectors_path", default=None, metavar="PATH",
        help="Vector file: word2vec text or binary, GloVe text, fastText .vec ('-' is stdin). "
             "Default: $W2V_VECTORS, else ./vectors.bin.",
    )(func)


def _json_option(func):
    return click.option("--json", "as_json", is_flag=True,
                        help="JSON, one object per line, instead of tab-separated text.")(func)


def _load_query_vectors(path):
    """(path, WordVectors) of -v PATH, else of the default, explaining a missing default."""
    from .errors import InputError
    from .formats import load_vectors

    if path is None:
        path = _default_vectors_path()
        if not os.path.exists(path):
            where = "$W2V_VECTORS" if os.environ.get("W2V_VECTORS") else "the default"
            raise InputError(f"no vectors file {path} ({where}); make one with 'w2v train' "
                             f"or pass -v PATH")
    return path, load_vectors(path)


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
    goes on; at the end, any failure makes the exit status 1. Blank lines are skipped.
    """
    import json

    failed = answered = 0
    for line_no, raw in enumerate(sys.stdin.buffer, 1):
        query = raw.decode("utf-8", "replace").split()
        if not query:
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


@cli.command("similar")
@click.argument("words", nargs=-1, metavar="[WORD]...")
@click.option("-n", "--top", "n", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many words to show.")
@_vectors_option
@_json_option
@common_options
def similar_command(words, n, vectors_path, as_json):
    """Words closest by cosine to WORD (to the mean of the WORDs' unit vectors).

    Prints 'word<TAB>score' lines. Without WORD, reads one query per line from stdin (the
    words of a line form one query) and answers each on one line of tab-separated
    'word<TAB>score' pairs (--json: {"query": [...], "results": [...]}). A query with an
    unknown word is answered with an empty line (--json: an "error" object) and a message on
    stderr; the other lines are still answered, and the exit status is 1.

    \b
    Example:  w2v similar paris -n 5 -v vectors.bin
              printf 'paris\\nking queen\\n' | w2v similar -v vectors.bin
    """
    from .query import similar

    _check_stdin_use(words, vectors_path)
    _, wv = _load_query_vectors(vectors_path)
    if words:
        _echo_results(similar(wv, list(words), n), as_json)
    else:
        _answer_stdin(lambda query: similar(wv, query, n), 0, as_json)


@cli.command("analogy")
@click.argument("words", nargs=-1, metavar="[A B C]")
@click.option("-n", "--top", "n", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many answers to show.")
@click.option("--method", type=click.Choice(["3cosadd", "3cosmul"], case_sensitive=False),
              default="3cosadd", show_default=True,
              help="3cosadd: cosine to A - B + C; 3cosmul: Levy & Goldberg's multiplicative form.")
@_vectors_option
@_json_option
@common_options
def analogy_command(words, n, method, vectors_path, as_json):
    """Words closest to A - B + C: 'king man woman' gives queen (king is to man as queen
    is to woman). The three words are never answers.

    Prints 'word<TAB>score' lines. Without A B C, reads three words per line from stdin and
    answers each line on one line, as `w2v similar` does (failed lines: empty line or JSON
    "error", message on stderr, exit status 1 at the end).

    \b
    Example:  w2v analogy king man woman -v vectors.bin
    """
    from .query import analogy

    if len(words) not in (0, 3):
        raise click.UsageError(f"expected three words A B C (or none, to read them from "
                               f"stdin), got {len(words)}")
    _check_stdin_use(words, vectors_path)
    _, wv = _load_query_vectors(vectors_path)
    if words:
        _echo_results(analogy(wv, *words, n=n, method=method), as_json)
    else:
        _answer_stdin(lambda query: analogy(wv, *query, n=n, method=method), 3, as_json)


@cli.command("evaluate")
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
@_json_option
@common_options
def evaluate_command(vectors_path, analogy_files, similarity_files, restrict_vocab, method,
                     case_sensitive, as_json):
    """Score VECTORS on word analogies (accuracy) and word similarity (Spearman rho).

    VECTORS defaults to $W2V_VECTORS, else ./vectors.bin. Without --analogies or
    --similarity, uses the bundled questions-words.txt and wordsim353.txt. Questions and
    pairs with unknown words are skipped and reported as coverage.

    \b
    Example:  w2v evaluate vectors.bin --method both
    """
    import json

    from .evaluate import bundled_dataset, evaluate_analogies, evaluate_similarity

    if not analogy_files and not similarity_files:
        analogy_files = [bundled_dataset("questions-words.txt")]
        similarity_files = [bundled_dataset("wordsim353.txt")]
    path, wv = _load_query_vectors(vectors_path)
    methods = ["3cosadd", "3cosmul"] if method.lower() == "both" else [method.lower()]
    analogies = [evaluate_analogies(wv, f, restrict_vocab, m, not case_sensitive)
                 for f in analogy_files for m in methods]
    similarities = [evaluate_similarity(wv, f, None, not case_sensitive) for f in similarity_files]
    if as_json:
        click.echo(json.dumps({
            "vectors": path, "words": len(wv), "dim": wv.dim,
            "analogies": [r.to_dict() for r in analogies],
            "similarity": [r.to_dict() for r in similarities],
        }, ensure_ascii=False))
        return
    click.echo(f"vectors: {path} ({len(wv)} words, dim {wv.dim})")
    for result in analogies:
        click.echo(_analogy_table(result))
    for result in similarities:
        click.echo(f"\nsimilarity: {result.path}\n"
                   f"  spearman {_number(result.spearman)}   pearson {_number(result.pearson)}"
                   f"   pairs {result.pairs_used} of {result.pairs_total}"
                   f" ({_percent(result.coverage)})")


def _number(x):
    return "n/a" if x != x else f"{x:.4f}"


def _percent(x):
    return "n/a" if x != x else f"{100 * x:.1f}%"


def _analogy_table(result):
    rows = [f"\nanalogies: {result.path} ({result.method}, first {result.restrict_vocab} words)",
            f"  {'section':<32}{'accuracy':>9}{'correct':>9}{'seen':>8}{'total':>8}"]
    summary = [result.semantic, result.syntactic, result.overall]
    for i, s in enumerate(result.sections + summary):
        if i == len(result.sections):
            rows.append("  " + "-" * 66)
        rows.append(f"  {s.name:<32}{_percent(s.accuracy):>9}{s.correct:>9}{s.seen:>8}{s.total:>8}")
    total = result.overall
    rows.append(f"  coverage: {total.seen} of {total.total} questions ({_percent(result.coverage)})")
    return "\n".join(rows)


@cli.command("convert")
@click.argument("input_path", metavar="INPUT")
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Vectors file to write: binary if it ends in .bin or with --binary, else "
                   "text; '-' writes text to stdout.")
@click.option("--binary/--text", default=None, help="Force the output format.")
@click.option("--no-header", is_flag=True,
              help="Write GloVe's text format (word2vec text without the 'V D' line).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Keep only the first N vectors (files are usually sorted by frequency).")
@click.option("--normalize", is_flag=True, help="Scale every vector to unit length.")
@common_options
def convert_command(input_path, output, binary, no_header, limit, normalize):
    """Rewrite the vectors in INPUT (any format w2v reads; '-' is stdin) in another format.

    The input format is detected: word2vec binary or text, GloVe text, fastText .vec.
    Turns GloVe C's output into files that gensim and word2vec C read, and back.

    \b
    Example:  w2v convert glove.6B.100d.txt -o glove.6B.100d.bin
              w2v convert vectors.bin -o - --limit 1000 | head
    """
    from .formats import load_vectors, save_vectors
    from .vectors import WordVectors

    if no_header and binary:
        raise click.UsageError("--no-header is for text output; drop --binary")
    check_writable(output)
    wv = load_vectors(input_path, limit=limit)
    if normalize:
        wv = WordVectors(wv.words, wv.unit, counts=wv.counts)
    save_vectors(wv, output, binary=None if no_header else binary,
                 format="glove" if no_header else None)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)


# ........................................................ svd (PPMI + truncated SVD)


@cli.command("svd")
@_corpus_optional
@corpus_options
@vector_output_options
@click.option("--read-cooccur", default=None, metavar="PATH",
              help="Start from counts saved by 'w2v cooccur' instead of a CORPUS.")
@click.option("--dim", type=int, default=100, show_default=True,
              help="Rank of the SVD (vector dimension).")
@click.option("--window", type=int, default=2, show_default=True,
              help="Count words at most this far apart.")
@click.option("--weighting", default="linear", show_default=True,
              metavar="linear|harmonic|uniform",
              help="Weight of a pair at distance d: (window - d + 1)/window, 1/d, or 1.")
@click.option("--sample", type=float, default=1e-5, show_default=True,
              help="Subsample frequent words before counting, as word2vec's -sample (0: off).")
@click.option("--cds", type=float, default=0.75, show_default=True,
              help="Context distribution smoothing: context counts raised to this power.")
@click.option("--neg", type=float, default=1, show_default=True,
              help="Shift: subtract log(NEG) from PMI before clipping at 0 (1: no shift).")
@click.option("--eig", type=float, default=0.5, show_default=True,
              help="Vectors are U S^EIG (0: U alone, 1: U S).")
@click.option("--add-context", is_flag=True, help="Add the context vectors: U S^p + V S^p.")
@click.option("--normalize", is_flag=True, help="Scale every vector to unit length.")
@click.option("--solver", default="randomized", show_default=True, metavar="randomized|arpack",
              help="Randomized range finder (fast), or ARPACK's Lanczos (exact, slower).")
@click.option("--power-iterations", type=int, default=4, show_default=True,
              help="Randomized solver: passes that sharpen the subspace.")
@click.option("--fit-words", type=int, default=None, metavar="N",
              help="Fit the SVD to the N most frequent words only and fold the rest in "
                   "(about 15000 helped every benchmark set but one on 10M-50M tokens).")
@click.option("--threads", type=int, default=None,
              help="Threads for counting, products and BLAS.  [default: one per physical core]")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seeds subsampling and the solver's starting vectors.")
@progress_option
@common_options
def svd_command(corpus, min_count, max_vocab, lowercase, max_sentence_length, output, binary,
                read_cooccur, dim, window, weighting, sample, cds, neg, eig, add_context,
                normalize, solver, power_iterations, fit_words, threads, seed, progress):
    """PPMI + truncated SVD vectors (Levy, Goldberg & Dagan 2015) from CORPUS or counts.

    Counts co-occurrences, takes the shifted positive PMI with smoothed context
    probabilities, and keeps U S^EIG of its rank-DIM SVD.

    \b
    Example:  w2v svd data/enwiki-1m.txt.xz -o svd.bin
              w2v svd --config configs/svd-levy.toml corpus.txt -o svd500.bin
    """
    from .formats import save_vectors
    from .svd import check_svd_options, train_svd

    _one_input(corpus, read_cooccur)
    options = dict(dim=dim, window=window, weighting=weighting, sample=sample, cds=cds, neg=neg,
                   eig=eig, solver=solver, power_iterations=power_iterations,
                   fit_words=fit_words)
    check_svd_options(**options)
    if threads is not None and threads < 1:
        raise OptionError(f"--threads must be at least 1, got {threads}")
    output = output or _default_vectors_path()
    check_writable(output)
    show = show_progress(progress)
    if read_cooccur:
        from .cooccur import load_cooccur

        given = click.get_current_context().get_parameter_source("sample")
        if sample > 0 and given != click.core.ParameterSource.DEFAULT:
            raise OptionError("--sample works on a CORPUS; counts read with --read-cooccur "
                              "are already made")
        matrix, vocab, meta = load_cooccur(read_cooccur)
        log.info("read %d x %d counts (window %s, %s weighting) from %s", *matrix.shape,
                 meta.get("window"), meta.get("weighting"), read_cooccur)
        wv = train_svd(matrix, vocab, **options, add_context=add_context, normalize=normalize,
                       threads=threads, seed=seed, progress=show)
    else:
        import time

        from .corpus import load_corpus

        started = time.perf_counter()
        loaded = load_corpus(corpus, min_count=min_count, max_vocab=max_vocab,
                             lowercase=lowercase, max_sentence_length=max_sentence_length,
                             progress=show)
        log.info("corpus: %d tokens, %d words, %.1fs", loaded.n_tokens, len(loaded.vocab),
                 time.perf_counter() - started)
        wv = train_svd(loaded, **options, add_context=add_context, normalize=normalize,
                       threads=threads, seed=seed, progress=show)
    save_vectors(wv, output, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)

# ........................................................ cooccur, glove (GloVe)


def _counting_options(func):
    """Options of co-occurrence counting, shared by `cooccur` and `glove`."""
    options = [
        click.option("--window", type=int, default=10, show_default=True,
                     help="Count words at most this far apart (never across a line)."),
        click.option("--weighting", default="harmonic", show_default=True,
                     metavar="harmonic|uniform|linear",
                     help="Weight of a pair at distance d: 1/d (GloVe), 1, or "
                          "(window - d + 1)/window (word2vec's dynamic window)."),
        click.option("--memory", type=float, default=None, metavar="GB",
                     help="Memory bound for counting; past it, sorted partial counts spill to "
                          "one temporary file.  [default: half the available memory]"),
        click.option("--tmp-dir", default=None, metavar="DIR",
                     help="Where spilled counts go.  [default: $TMPDIR, else /tmp]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _count_corpus(corpus, min_count, max_vocab, lowercase, max_sentence_length, window,
                  weighting, symmetric, memory, tmp_dir, threads, show):
    from .cooccur import cooccurrence_matrix
    from .corpus import load_corpus

    loaded = load_corpus(corpus, min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
                         max_sentence_length=max_sentence_length, progress=show)
    log.info("corpus: %d tokens, %d words", loaded.n_tokens, len(loaded.vocab))
    matrix = cooccurrence_matrix(loaded, window=window, weighting=weighting, symmetric=symmetric,
                                 memory_gb=memory, threads=threads, progress=show,
                                 tmp_dir=tmp_dir)
    return matrix, loaded.vocab


@cli.command("cooccur")
@corpus_options
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Count file to write (.npz: the matrix, the vocabulary, the settings).")
@_counting_options
@click.option("--symmetric/--left-only", default=True, show_default=True,
              help="Count pairs in both directions, or only the words left of each word "
                   "(GloVe C's -symmetric 0).")
@click.option("--threads", type=int, default=None,
              help="Counting threads.  [default: one per physical core]")
@progress_option
@common_options
def cooccur_command(corpus, min_count, max_vocab, lowercase, max_sentence_length, output, window,
                    weighting, memory, tmp_dir, symmetric, threads, progress):
    """Count word co-occurrences in CORPUS within a window; save them for glove or svd.

    Counting runs in bounded memory (--memory): a corpus whose counts do not fit still
    completes. Train on the file as often as needed with --read-cooccur.

    \b
    Example:  w2v cooccur data/enwiki-1m.txt.xz -o counts.npz --window 10
              w2v glove --read-cooccur counts.npz -o glove.bin
    """
    from .cooccur import check_options, save_cooccur

    check_options(window, weighting, memory, threads)
    check_writable(output)
    matrix, vocab = _count_corpus(corpus, min_count, max_vocab, lowercase, max_sentence_length,
                                  window, weighting, symmetric, memory, tmp_dir, threads,
                                  show_progress(progress))
    save_cooccur(output, matrix, vocab, window, weighting, symmetric=symmetric)
    log.info("wrote %d non-zeros over %d words to %s", matrix.nnz, len(vocab), output)


@cli.command("glove")
@_corpus_optional
@corpus_options
@vector_output_options
@click.option("--dim", type=int, default=100, show_default=True, help="Vector dimension.")
@_counting_options
@click.option("--epochs", type=int, default=25, show_default=True,
              help="Passes over the non-zero counts.")
@click.option("--eta", type=float, default=0.05, show_default=True,
              help="AdaGrad learning rate.")
@click.option("--x-max", type=float, default=100.0, show_default=True,
              help="Counts at or above this get full weight in the loss.")
@click.option("--alpha", type=float, default=0.75, show_default=True,
              help="Exponent of the weighting function (x / x-max)^alpha.")
@click.option("--grad-clip", type=float, default=100.0, show_default=True,
              help="Clip every gradient component (biases too) to +-this.")
@click.option("--output-vectors", default="sum", show_default=True, metavar="sum|word|context",
              help="Write word + context vectors, or one of them.")
@click.option("--save-cooccur", default=None, metavar="PATH",
              help="Also save the counts, to train again with --read-cooccur.")
@click.option("--read-cooccur", default=None, metavar="PATH",
              help="Train on counts saved by 'w2v cooccur' or --save-cooccur, not a CORPUS.")
@click.option("--threads", type=int, default=None,
              help="Counting and training threads.  [default: one per physical core]")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed; with --threads 1 the output is identical run after run.")
@progress_option
@common_options
@click.pass_context
def glove_command(ctx, corpus, min_count, max_vocab, lowercase, max_sentence_length, output,
                  binary, dim, window, weighting, memory, tmp_dir, epochs, eta, x_max, alpha,
                  grad_clip, output_vectors, save_cooccur, read_cooccur, threads, seed,
                  progress):
    """Train GloVe vectors (Pennington et al. 2014) on CORPUS or on saved counts.

    Fits w_i . c_j + b_i + b_j to log X_ij by weighted least squares with AdaGrad, over
    the non-zero co-occurrence counts in a fresh random order every epoch; the cost of
    every epoch goes to stderr.

    \b
    Example:  w2v glove data/enwiki-1m.txt.xz -o glove.bin --epochs 15
              w2v glove corpus.txt --save-cooccur counts.npz -o glove.bin
              w2v glove --read-cooccur counts.npz --dim 300 -o glove300.bin
    """
    from .cooccur import check_options as check_counting
    from .formats import save_vectors
    from .glove import check_options, train_glove

    _one_input(corpus, read_cooccur)
    options = dict(dim=dim, epochs=epochs, eta=eta, x_max=x_max, alpha=alpha,
                   grad_clip=grad_clip, output_vectors=output_vectors)
    check_options(**options, threads=threads)
    check_counting(window, weighting, memory, threads)
    if read_cooccur and save_cooccur:
        raise click.UsageError("--save-cooccur needs a CORPUS to count")
    output = output or _default_vectors_path()
    check_writable(output, save_cooccur)
    show = show_progress(progress)
    if read_cooccur:
        from click.core import ParameterSource

        from .cooccur import load_cooccur

        # Settings given on the command line must match the file; defaults yield to it.
        given = {name: value for name, value in (("window", window), ("weighting", weighting))
                 if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
        matrix, vocab, meta = load_cooccur(read_cooccur, **given)
        log.info("read %d x %d counts, %d non-zeros (window %s, %s weighting) from %s",
                 *matrix.shape, matrix.nnz, meta.get("window"), meta.get("weighting"),
                 read_cooccur)
    else:
        from .cooccur import save_cooccur as write_counts

        matrix, vocab = _count_corpus(corpus, min_count, max_vocab, lowercase,
                                      max_sentence_length, window, weighting, True, memory,
                                      tmp_dir, threads, show)
        if save_cooccur:
            write_counts(save_cooccur, matrix, vocab, window, weighting)
            log.info("wrote the counts to %s", save_cooccur)
    counts = [matrix]
    del matrix  # train_glove gets the only reference, and frees the counts once dealt
    wv = train_glove(counts.pop(), vocab, **options, threads=threads, seed=seed, progress=show)
    save_vectors(wv, output, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)


# --------------------------------------------------------------------------- entry point


def main(argv=None):
    """Run the CLI; every failure becomes one line on stderr and a meaningful exit code."""
    try:
        cli.main(args=argv, prog_name="w2v", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        _error(e.format_message())
        return e.exit_code
    except W2VError as e:
        _error(str(e))
        return e.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        _error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`w2v similar ... | head`): not an error. Point stdout at
        # devnull so the interpreter's final flush does not complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MemoryError:
        _error("out of memory")
        return 1
    except OSError as e:
        where = f": {e.filename}" if e.filename else ""
        _error(f"{e.strerror or e}{where}")
        return 1
    return 0


def _error(message):
    print(f"w2v: error: {message}", file=sys.stderr)


def run():
    sys.exit(main())


if __name__ == "__main__":
    run()
