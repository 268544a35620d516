"""The `w2v` command line: parse options, call one library function, report on stderr.

No model logic lives here. Commands that train import their modules inside the command
body, so `similar`, `analogy` and `evaluate` never import numba.
"""

import functools
import logging
import os
import signal
import sys

import click

from ..runtime import signals
from ..runtime.atomic import check_writable
from ..errors import OptionError, W2VError
from ..runtime.stdio import stdin_buffer

log = logging.getLogger("w2v")


# --------------------------------------------------------------------------- plumbing


PRESETS = ("sgns", "cbow", "glove", "svd", "svd-levy")  # w2v/configs/NAME.toml


def _read_config(ctx, param, path):
    """Eager --config callback: TOML keys become defaults for this command's options.

    PATH is a file, else the name of a preset shipped in the package. Each value must have
    the type its option declares (no bool for an int, no 1.7 for an int), checked here
    once for every option, since click would coerce or fail with a traceback.
    """
    if path is None:
        return None
    import tomllib

    path = _config_path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise click.BadParameter(f"{path}: invalid TOML: {e}") from None
    params = {p.name: p for p in ctx.command.params if p.name and p.name != "config"}
    defaults = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in params:
            raise click.BadParameter(f"{path}: unknown key {key!r} for 'w2v {ctx.command.name}'")
        _check_config_value(ctx, params[name], path, key, value)
        defaults[name] = value
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return path


def _config_path(path):
    """`path` if it is a file, else the preset it names ('sgns' or 'sgns.toml')."""
    if os.path.exists(path):
        return path
    from importlib import resources

    name = path[:-len(".toml")] if path.endswith(".toml") else path
    if name in PRESETS:
        preset = resources.files("w2v") / "configs" / f"{name}.toml"
        if preset.is_file():
            return str(preset)
    raise click.BadParameter(f"no file {path}, and no preset of that name "
                             f"(presets: {', '.join(PRESETS)})")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# click type, or a custom type's name -> (what a TOML value must be, its name, the plural)
_CONFIG_TYPES = [
    (click.types.BoolParamType, "boolean", lambda v: isinstance(v, bool), "true or false",
     "booleans"),
    (click.types.IntParamType, "integer", _is_int, "an integer", "integers"),
    (click.types.FloatParamType, "float", _is_number, "a number", "numbers"),
]


def _check_config_value(ctx, param, path, key, value):
    """Raise BadParameter unless `value` has the TOML type of `param`'s click type.

    Then the type's own check runs too (ranges, choices), so the message names the file.
    """
    fits, expected, plural = next(
        ((fits, one, many) for kind, name, fits, one, many in _CONFIG_TYPES
         if isinstance(param.type, kind) or param.type.name == name),
        (lambda v: isinstance(v, str), "a string", "strings"))
    if param.multiple or param.nargs != 1:
        items = value if isinstance(value, list) else None
        expected = f"a list of {plural}"
    else:
        items = [value]
    problem = f"expected {expected}"
    if items is not None and all(fits(item) for item in items):
        try:
            for item in items:
                param.type.convert(item, param, ctx)
            return
        except click.BadParameter as e:
            problem = e.message
    raise click.BadParameter(f"{path}: {key} = {_toml(value)}: {problem}")


def _toml(value):
    """A value as TOML writes it, for error messages."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)


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
        help="TOML file whose keys are this command's option names, or a preset: "
             f"{', '.join(PRESETS)}. Flags override it.",
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


class ThreadCount(click.ParamType):
    """The type of every command's --threads: a whole number >= 1, by the library's own rule."""

    name = "integer"

    def convert(self, value, param, ctx):
        from ..runtime.threads import check_threads  # numba-free; raises the library's OptionError

        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                pass  # check_threads names it
        return check_threads(value)


def threads_option(what):
    """--threads N of every command; `what` says what the threads do."""
    return click.option("--threads", type=ThreadCount(), default=None, metavar="N",
                        help=f"{what}  [default: one per physical core]")


def corpus_options(func):
    """Options of the one corpus pass, shared by every command that reads a corpus."""
    options = [
        click.argument("corpus", nargs=-1, required=True),
        click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
                     help="Drop words seen fewer times."),
        click.option("--max-vocab", type=click.IntRange(min=1), default=None,
                     help="Keep only the most frequent words."),
        click.option("--lowercase", is_flag=True, help="Lowercase the text before splitting."),
        click.option("--preprocess", type=click.Choice(["none", "lower", "letters"]),
                     default="none", show_default=True,
                     help="Normalise the text first; letters: lowercase a-z, accents folded, "
                          "digits spelled out, anything else a space (how the shared corpus "
                          "was prepared)."),
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


def dask_options(func):
    """--dask [ADDRESS] and --workers N of the counting commands (see `distributed`)."""
    func = click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
                        help="With --dask and no address: local worker processes.  "
                             "[default: one per physical core]")(func)
    return click.option("--dask", is_flag=False, flag_value="local", default=None,
                        metavar="[ADDRESS]", callback=_check_dask_address,
                        help="Count on a Dask cluster: a local one, or the scheduler at "
                             "ADDRESS (tcp://HOST:PORT or a scheduler file); same result. "
                             'Needs pip install "w2v[dask]".')(func)


def _check_dask_address(ctx, param, value):
    """Refuse a --dask value that is no address (say a corpus path it took), while parsing."""
    from ..distributed import is_address

    if value is not None and value != "local" and not is_address(value):
        raise click.BadParameter(f"{value!r} is not a scheduler address (tcp://HOST:PORT or a "
                                 "scheduler file); put --dask after the CORPUS, or write "
                                 "--dask=ADDRESS", ctx=ctx, param=param)
    return value


def _dask_target(dask, workers):
    """None (one process), "" (a local cluster) or the scheduler address that --dask names."""
    if dask is None:
        if workers is not None:
            raise click.UsageError("--workers needs --dask")
        return None
    from ..distributed import import_distributed

    import_distributed()  # a one-line error naming the extra when Dask is missing
    if dask == "local":
        return ""
    if workers is not None:
        raise click.UsageError("--workers is for a local cluster; an existing cluster has "
                               "its own workers")
    return dask


def _default_vectors_path():
    return os.environ.get("W2V_VECTORS") or "vectors.bin"


# --------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="w2v")
def cli():
    """Train and query static word embeddings: Skip-gram/CBOW, GloVe, PPMI+SVD.

    Data goes to stdout, logs and progress to stderr.
    """


@cli.command(short_help="Count the words of a corpus and print the vocabulary.")
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
    cluster = _dask_target(dask, workers)
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


# Commands of the reading side (similar, analogy, evaluate) and of the models (train,
# cooccur, glove, svd) are defined below this line, one block each.
# --- commands ---


# ........................................................ model files (train, glove)


def _given_options(ctx, options):
    """Names of the options set on the command line or by --config (not left to default)."""
    from click.core import ParameterSource

    return {name for name in options if ctx.get_parameter_source(name) in
            (ParameterSource.COMMANDLINE, ParameterSource.DEFAULT_MAP)}


def _model_output(ctx, save_model, resume):
    """Where checkpoints go: --save-model, else the resumed file; warns if there is none."""
    save_to = save_model or resume
    if save_to is None and "checkpoint_every" in _given_options(ctx, ["checkpoint_every"]):
        log.warning("--checkpoint-every does nothing without --save-model")
    return save_to


def _refuse_changed_options(given, options, config, free=()):
    """A resumed run keeps its model's options: refuse one given with another value."""
    for name in sorted(given):
        if name not in free and options[name] != getattr(config, name):
            raise OptionError(
                f"--{name.replace('_', '-')} {options[name]} differs from the resumed model's "
                f"{getattr(config, name)}: a resumed run keeps its options (only --threads, "
                f"--progress and outputs may change); use --init-model to train anew")


def _recorded_inputs(record):
    """The corpus files a model recorded, for a --resume given no CORPUS."""
    inputs = tuple((record or {}).get("inputs") or ())
    if not inputs:
        raise click.UsageError("the model records no corpus files (it has not trained yet): "
                               "give CORPUS")
    if "-" in inputs:
        raise click.UsageError("the model's corpus came from stdin: give CORPUS again")
    return inputs


def _warn_resume_command(command, save_to, outputs):
    """After Ctrl-C/SIGTERM with a checkpoint: the command that carries on, outputs included."""
    if save_to is None:
        return
    flags = "".join(f" {flag} {path}" for flag, path in outputs
                    if path is not None and not (flag == "-o" and path == "vectors.bin"))
    log.warning("the model is saved in %s; resume with: w2v %s --resume %s%s",
                save_to, command, save_to, flags)


def _thresholds(ctx, param, value):
    """--threshold, --phrase-threshold: one number, or a comma-separated list of one per pass."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):  # from a --config file
        value = ",".join(str(v) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value),)
    try:
        return tuple(float(v) for v in str(value).split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number or a list of numbers "
                                 "such as 200,100") from None


def phrase_options(func):
    """--phrases N and --phrase-threshold of the commands that train on a corpus."""
    func = click.option("--phrase-threshold", default=None, callback=_thresholds,
                        metavar="T[,T...]",
                        help="Threshold of the --phrases passes, one for all or one each "
                             "(200,100).  [default: 100]")(func)
    return click.option("--phrases", type=click.IntRange(min=0), default=0, show_default=True,
                        metavar="N",
                        help="First join phrases (new_york) in N passes, as 'w2v phrases "
                             "--passes N' does (word2phrase's score, min-count 5).")(func)


# ........................................................ train (Skip-gram / CBOW)


@cli.command(short_help="Train Skip-gram or CBOW vectors (word2vec).")
@_corpus_optional
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
@click.option("--ns-exponent", type=float, default=None,
              help="Noise distribution: counts raised to this power.  [default: 0.75; 0.5 "
                   "with --subwords, as fastText]")
@click.option("--sample", type=float, default=1e-3, show_default=True,
              help="Subsampling threshold for frequent words (0: off).")
@click.option("--epochs", type=int, default=5, show_default=True, help="Passes over the corpus.")
@click.option("--alpha", type=float, default=None,
              help="Starting learning rate.  [default: 0.025 for sg, 0.05 for cbow]")
@click.option("--min-alpha", type=float, default=None,
              help="Final learning rate (linear decay).  [default: alpha x 1e-4]")
@threads_option("Training threads.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed; with --threads 1 the output is identical run after run.")
@click.option("--cbow-mean/--cbow-sum", default=True, show_default=True,
              help="CBOW: average or sum the context vectors.")
@click.option("--kernel", default="auto", show_default=True, metavar="auto|classic|batched",
              help="batched: negative sampling with one set of negatives shared by a "
                   "skip-gram window (pWord2Vec; 1.7x the classic kernel's speed on 10M "
                   "tokens, as good or better on every evaluation set) or by 8 consecutive "
                   "CBOW windows; classic: word2vec C's per-pair updates. auto: batched for "
                   "skip-gram with negative sampling alone (without --subwords), else "
                   "classic.")
@click.option("--subwords", is_flag=True,
              help="fastText's model: a word's input vector is the mean of its own row and "
                   "its character n-gram rows, so unseen words get vectors too. The n-gram "
                   "matrix is --bucket x --dim float32 (800 MB at the defaults with dim 100): "
                   "lower --bucket on small machines.")
@click.option("--eos", is_flag=True,
              help="End every line with fastText's </s> token, a word of the vocabulary, as "
                   "fastText reads text (with --subwords it has no n-grams). With CBOW "
                   "--subwords it raised Rare Words rho by 0.006 on 10M tokens (README).")
@click.option("--minn", type=int, default=3, show_default=True,
              help="With --subwords: shortest character n-gram.")
@click.option("--maxn", type=int, default=6, show_default=True,
              help="With --subwords: longest character n-gram (0: none).")
@click.option("--bucket", type=int, default=2000000, show_default=True,
              help="With --subwords: n-gram hash buckets, one row of --dim floats each.")
@click.option("--save-vocab", default=None, metavar="PATH", help="Also write the vocabulary.")
@click.option("--read-vocab", default=None, metavar="PATH",
              help="Use this vocabulary ('word count' lines) instead of counting the corpus.")
@click.option("--save-context", default=None, metavar="PATH",
              help="Also write the output-side (context) vectors, e.g. to use W+C.")
@click.option("--save-fasttext", default=None, metavar="PATH",
              help="With --subwords: also write fastText's .bin (fasttext.load_model, gensim's "
                   "load_facebook_model), n-gram rows and all.")
@click.option("--save-model", default=None, metavar="PATH",
              help="Keep the whole model in one file (options, vocabulary, all weights, "
                   "position), rewritten at every epoch end and every --checkpoint-every "
                   "seconds, and on Ctrl-C/SIGTERM.")
@click.option("--checkpoint-every", type=click.FloatRange(min=0, min_open=True), default=600.0,
              show_default=True, metavar="SECONDS",
              help="With --save-model (or --resume): seconds between checkpoints.")
@click.option("--resume", default=None, metavar="MODEL",
              help="Continue an interrupted run from its model file, to the same bits as an "
                   "unbroken run (threads 1); CORPUS defaults to the recorded inputs.")
@click.option("--init-model", default=None, metavar="MODEL",
              help="Start from this model's weights on a new CORPUS, with a fresh "
                   "learning-rate schedule from --alpha.")
@click.option("--update-vocab", is_flag=True,
              help="With --init-model: add the new corpus's words that reach --min-count.")
@click.option("--loss-log", default=None, metavar="PATH",
              help="Write one TSV line per launch (epoch, launch, words, alpha, loss, seconds).")
@phrase_options
@progress_option
@common_options
@click.pass_context
def train(ctx, corpus, output, binary, save_vocab, read_vocab, save_context, save_fasttext,
          save_model, checkpoint_every, resume, init_model, update_vocab, loss_log, threads,
          progress, **options):
    """Train Skip-gram or CBOW vectors (negative sampling and/or hierarchical softmax).

    CORPUS: text files (gz/bz2/xz too), globs, or '-' for stdin; one sentence per line.

    \b
    Example:  w2v train data/enwiki-1m.txt.xz -o vectors.bin --model sg --epochs 5
              w2v train corpus.txt -o v.bin --save-model run.w2v      # interruptible
              w2v train --resume run.w2v -o v.bin                      # after Ctrl-C
              w2v train new.txt --init-model run.w2v --update-vocab -o v2.bin
    """
    from ..runtime import signals
    from ..config import Word2VecConfig, auto_kernel
    from ..corpus.corpus import load_corpus
    from ..files.formats import save_vectors
    from ..word2vec.model import (check_continuable, continue_model, init_model as new_model, load_model,
                        train as train_model)
    from ..corpus.vocab import read_vocab as read_vocab_file, save_vocab as write_vocab

    given = _given_options(ctx, options)
    if resume and init_model:
        raise click.UsageError("--resume continues a run; --init-model starts a new one: "
                               "give one of them")
    if update_vocab and not init_model:
        raise click.UsageError("--update-vocab needs --init-model MODEL")
    if not corpus and not resume:
        raise click.UsageError("missing CORPUS (files, globs or '-' for stdin)")
    if read_vocab and (resume or init_model):
        raise click.UsageError("--read-vocab cannot change a saved model's vocabulary "
                               "(--update-vocab adds the new corpus's words)")
    save_to = _model_output(ctx, save_model, resume)
    output = output or _default_vectors_path()
    check_writable(output, save_vocab, save_context, save_fasttext, save_to, loss_log)
    show = show_progress(progress)

    if resume:
        model = load_model(resume)
        config = model.config
        if options["kernel"] == "auto":  # what the model would choose, as it did when made
            options = {**options, "kernel": auto_kernel(config.model, config.negative,
                                                        config.hs, config.subwords)}
        _refuse_changed_options(given, options, config)
        if not corpus:
            corpus = _recorded_inputs(model.corpus)
    elif init_model:
        base = load_model(init_model)
        config = base.config.replace(**{name: options[name] for name in given})
        check_continuable(base, config, update_vocab)
    else:
        config = Word2VecConfig.from_dict(options)
    if save_context and config.negative == 0:
        raise OptionError("--save-context needs negative sampling (--negative >= 1): "
                          "hierarchical softmax has no per-word output vectors")
    if save_fasttext and not (config.subwords and config.negative):
        raise OptionError("--save-fasttext writes fastText's subword model: it needs "
                          "--subwords and negative sampling (--negative >= 1)")

    reading = dict(config.corpus_options(), progress=show, threads=threads)
    if resume:
        loaded = load_corpus(corpus, **{**reading, "vocab": model.vocab})
    elif init_model and update_vocab:
        from ..corpus.corpus import restrict_corpus

        # cut long sentences after dropping words, as load_corpus (and so --resume) does
        loaded = load_corpus(corpus, **{**reading, "min_count": 1, "max_vocab": None,
                                        "max_sentence_length": None})
        model = continue_model(base, config, new_vocab=loaded.vocab)
        loaded = restrict_corpus(loaded, model.vocab, config.max_sentence_length)
    elif init_model:
        loaded = load_corpus(corpus, **{**reading, "vocab": base.vocab})
        model = continue_model(base, config)
    else:
        vocab = None
        if read_vocab:
            vocab = read_vocab_file(read_vocab, min_count=config.min_count,
                                    max_vocab=config.max_vocab)
        loaded = load_corpus(corpus, **{**reading, "vocab": vocab})
        model = new_model(config, loaded.vocab)
    if save_vocab:
        write_vocab(model.vocab, save_vocab)
    try:
        train_model(model, loaded, threads=threads, progress=show, save_to=save_to,
                    checkpoint_every=checkpoint_every, loss_log=loss_log, inputs=corpus)
    except signals.Interrupted:
        _warn_resume_command("train", save_to, [("-o", output), ("--save-context", save_context),
                                                ("--save-fasttext", save_fasttext),
                                                ("--loss-log", loss_log)])
        raise
    wv = model.vectors()
    save_vectors(wv, output, binary=binary)
    if save_context:
        save_vectors(model.context_vectors(), save_context, binary=binary)
    if save_fasttext:
        from ..files.fasttext import write_weights_as_fasttext

        write_weights_as_fasttext(save_fasttext, config.to_dict(), model.vocab.words,
                                  model.vocab.counts, model.w_in, model.w_out)
        log.info("wrote fastText's model (%d words, %d n-gram buckets) to %s", len(wv),
                 config.bucket, save_fasttext)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)


# ........................................................ reading side: similar, analogy, evaluate, convert
# These import only numpy (and scipy for evaluate), never numba: see tests/test_cli_read.py.


def _vectors_option(func):
    return click.option(
        "-v", "--vectors", "vectors_path", default=None, metavar="PATH",
        help="Vector file: word2vec text or binary, GloVe text, fastText .vec ('-' is stdin), "
             "or a model: w2v's, or fastText's .bin (subword models also answer words "
             "outside the vocabulary). Default: $W2V_VECTORS, else ./vectors.bin.",
    )(func)


def _json_option(func):
    return click.option("--json", "as_json", is_flag=True,
                        help="JSON, one object per line, instead of tab-separated text.")(func)


def _load_query_vectors(path):
    """(path, WordVectors) of -v PATH, else of the default, explaining a missing default."""
    from ..errors import InputError
    from ..files.formats import load_vectors

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


@cli.command("similar", short_help="Nearest words by cosine.")
@click.argument("words", nargs=-1, metavar="[WORD]...")
@click.option("-n", "--top", "n", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many words to show.")
@_vectors_option
@_json_option
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
    _, wv = _load_query_vectors(vectors_path)
    if words:
        _echo_results(similar(wv, list(words), n), as_json)
    else:
        _answer_stdin(lambda query: similar(wv, query, n), 0, as_json)


@cli.command("analogy", short_help="Answer A - B + C analogies.")
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
    _, wv = _load_query_vectors(vectors_path)
    if words:
        _echo_results(analogy(wv, *words, n=n, method=method), as_json)
    else:
        _answer_stdin(lambda query: analogy(wv, *query, n=n, method=method), 3, as_json)


@cli.command("evaluate", short_help="Score vectors on analogies, word and sentence similarity.")
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
@_json_option
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

    from ..vectors.evaluate import bundled_dataset, evaluate_analogies, evaluate_similarity, evaluate_sts

    if not analogy_files and not similarity_files and not sts_files:
        analogy_files = [bundled_dataset("questions-words.txt")]
        similarity_files = [bundled_dataset("wordsim353.txt")]
    path, wv = _load_query_vectors(vectors_path)
    methods = ["3cosadd", "3cosmul"] if method.lower() == "both" else [method.lower()]
    analogies = [evaluate_analogies(wv, f, restrict_vocab, m, not case_sensitive)
                 for f in analogy_files for m in methods]
    similarities = [evaluate_similarity(wv, f, None, not case_sensitive, compose=not skip_oov)
                    for f in similarity_files]
    sts = []
    if sts_files:
        counts = _word_counts(wv, vocab_path)
        if not poolings:
            poolings = ("mean", "sif", "usif") if counts is not None else ("mean",)
            if counts is None:
                log.info("--sts: mean pooling only (no word counts: give a model file or "
                         "--vocab FILE for sif and usif)")
        sts = [r for f in sts_files for r in evaluate_sts(
            wv, f, [p.lower() for p in poolings], counts=counts, preprocess=preprocess)]
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
                   f"  spearman {_number(result.spearman)}   pearson {_number(result.pearson)}"
                   f"   pairs {result.pairs_used} of {result.pairs_total}"
                   f" ({_percent(result.coverage)})" + _composed_note(result))
    for i, result in enumerate(sts):
        if i == 0 or result.path != sts[i - 1].path:
            click.echo(f"\nsts: {result.path} (preprocess {preprocess})\n"
                       f"  {'pooling':<10}{'spearman':>10}{'pearson':>10}{'pairs':>16}")
        click.echo(f"  {result.pooling:<10}{_number(result.spearman):>10}"
                   f"{_number(result.pearson):>10}"
                   f"{f'{result.pairs_used} of {result.pairs_total}':>16}"
                   f" ({_percent(result.coverage)})")


def _composed_note(result):
    """How many pairs needed composed words, and the coverage without them."""
    if not result.pairs_composed:
        return ""
    in_vocabulary = result.pairs_used - result.pairs_composed
    return (f", {result.pairs_composed} with words composed from n-grams ({in_vocabulary} "
            f"in the vocabulary, {_percent(result.vocabulary_coverage)})")


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


@cli.command("info", short_help="Say what a model or vector file holds.")
@click.argument("path", metavar="FILE")
@_json_option
@common_options
def info_command(path, as_json):
    """Say what FILE holds: a model (options, progress, loss per epoch) or a vector file.

    \b
    Example:  w2v info run.w2v
    """
    import json

    from ..files.model_file import describe, is_model_file

    if not is_model_file(path):
        from ..files.formats import load_vectors

        wv = load_vectors(path)
        facts = {"path": path, "format": "vectors", "words": len(wv), "dim": wv.dim}
        click.echo(json.dumps(facts) if as_json else
                   f"{path}: vector file, {len(wv)} words, dim {wv.dim}")
        return
    facts = describe(path)
    if as_json:
        click.echo(json.dumps(facts, ensure_ascii=False))
        return
    config, position = facts["config"], facts["position"] or {}
    epochs = config.get("epochs")
    lines = [f"{path}: w2v model ({facts['format']}, written by w2v {facts['w2v_version']})",
             f"family: {facts['family']}", f"words: {facts['words']}", f"dim: {facts['dim']}",
             f"epochs: {position.get('epoch', 0)} of {epochs} done"
             + (f", {position['launch']} of {position.get('launches_per_epoch')} launches "
                f"into epoch {position['epoch'] + 1}" if position.get("launch") else "")]
    corpus = facts.get("corpus")
    if corpus:
        lines.append(f"corpus: {corpus['tokens']} tokens in {corpus['sentences']} sentences"
                     + (f" from {' '.join(corpus['inputs'])}" if corpus.get("inputs") else ""))
    if facts.get("train_seconds") is not None:
        lines.append(f"training time: {facts['train_seconds']:.1f} s")
    lines.append("options:")
    lines += [f"  {name.replace('_', '-')} = {json.dumps(value)}" for name, value in config.items()]
    if facts["losses"]:
        lines.append("loss per epoch:")
        lines += [f"  {entry['epoch']:>4}  {entry.get('loss', entry.get('cost')):.6f}"
                  for entry in facts["losses"]]
    click.echo("\n".join(lines))


@cli.command("convert", short_help="Rewrite a vector file in another format.")
@click.argument("input_path", metavar="INPUT")
@click.option("-o", "--output", default=None, metavar="PATH",
              help="Vectors file to write: binary if it ends in .bin or with --binary, else "
                   "text; '-' writes text to stdout.")
@click.option("--binary/--text", default=None, help="Force the output format.")
@click.option("--no-header", is_flag=True,
              help="Write GloVe's text format (word2vec text without the 'V D' line).")
@click.option("--projector", "projector_dir", default=None, metavar="DIR",
              help="Also (or instead of -o) write tensors.tsv and metadata.tsv into DIR for "
                   "the TensorFlow Embedding Projector.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Keep only the first N vectors (files are usually sorted by frequency).")
@click.option("--normalize", is_flag=True, help="Scale every vector to unit length.")
@click.option("--fasttext", "as_fasttext", is_flag=True,
              help="Write a fastText .bin model (n-grams and all, for fasttext.load_model and "
                   "gensim's load_facebook_model) from a w2v subword model or a fastText .bin.")
@common_options
def convert_command(input_path, output, binary, no_header, projector_dir, limit, normalize,
                    as_fasttext):
    """Rewrite the vectors in INPUT (any format w2v reads; '-' is stdin) in another format.

    The input format is detected: word2vec binary or text, GloVe text, fastText .vec, a
    w2v model, a fastText .bin (its words' vectors composed with their n-grams, as
    fastText's .vec holds them). Turns GloVe C's output into files that gensim and
    word2vec C read, and back.
    --projector DIR writes the files that projector.tensorflow.org loads ("Load": first
    tensors.tsv, then metadata.tsv); a few thousand words (--limit) keep it responsive.

    \b
    Example:  w2v convert glove.6B.100d.txt -o glove.6B.100d.bin
              w2v convert vectors.bin -o - --limit 1000 | head
              w2v convert vectors.bin --projector proj/ --limit 5000
              w2v convert cc.en.300.bin -o cc.en.300.vec
              w2v convert subwords.w2v -o subwords.bin --fasttext
    """
    from ..files.formats import load_vectors, save_vectors
    from ..vectors.word_vectors import WordVectors

    if output is None and projector_dir is None:
        raise click.UsageError("give -o PATH, --projector DIR or both")
    if no_header and binary:
        raise click.UsageError("--no-header is for text output; drop --binary")
    if as_fasttext:
        given = [name for name, value in (("--binary/--text", binary is not None),
                                          ("--no-header", no_header), ("--limit", limit),
                                          ("--normalize", normalize),
                                          ("--projector", projector_dir is not None)) if value]
        if given:
            raise click.UsageError(f"--fasttext writes the whole model; drop {', '.join(given)}")
        if output is None or output == "-":
            raise click.UsageError("--fasttext writes a file; give -o PATH")
        check_writable(output)
        _convert_to_fasttext(input_path, output)
        return
    if output is not None:
        check_writable(output)
    if projector_dir is not None:
        from ..files.projector import projector_paths

        projector_paths(projector_dir)
    wv = load_vectors(input_path, limit=limit)
    if normalize:
        wv = WordVectors(wv.words, wv.unit, counts=wv.counts)
    if output is not None:
        save_vectors(wv, output, binary=None if no_header else binary,
                     format="glove" if no_header else None)
        log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
                 "<stdout>" if output == "-" else output)
    if projector_dir is not None:
        from ..files.projector import write_projector

        tensors, metadata = write_projector(wv, projector_dir)
        log.info("wrote %s and %s (%d vectors of dim %d)", tensors, metadata, len(wv), wv.dim)


# ........................................................ bias, debias, plot
# bias and debias only read and write vectors: numpy, never numba (tests/test_bias_cli.py).
# plot imports matplotlib, from the w2v[plot] extra, inside w2v.plot only.


@cli.command("bias", short_help="WEAT bias tests: effect size, statistic, p-value.")
@_vectors_option
@click.option("--test", "test_names", multiple=True, metavar="NAME",
              help="A test to run (repeatable): a standard one (see --list) or one from "
                   "--tests-file.  [default: all standard tests, or all of --tests-file]")
@click.option("--tests-file", default=None, metavar="FILE",
              help="TOML file of user tests: a [NAME] table each with word lists X, Y "
                   "(targets) and A, B (attributes).")
@click.option("--permutations", type=click.IntRange(min=1), default=100000, show_default=True,
              help="Exact p-value when X and Y split into at most this many ways, else this "
                   "many random splits.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seed of the random splits.")
@click.option("--list", "list_tests", is_flag=True, help="List the standard tests and exit.")
@_json_option
@common_options
def bias_command(vectors_path, test_names, tests_file, permutations, seed, list_tests, as_json):
    """WEAT (Caliskan et al. 2017) on the vectors: for each test, the effect size, the test
    statistic, a one-sided permutation p-value and the words not in the vocabulary.

    Words are looked up as written, else lowercased. A test whose set has no word in the
    vocabulary is reported on stderr after the others, and the exit status is 1.

    \b
    Example:  w2v bias -v vectors.bin
              w2v bias -v vectors.bin --test gender-career --test gender-math --json
              w2v bias -v vectors.bin --tests-file my-tests.toml
    """
    import json

    from ..bias.weat import run_tests, select_tests, standard_tests

    if list_tests:
        for test in standard_tests().values():
            click.echo(f"{test.name}\t{test.description}")
        return
    tests = select_tests(test_names, tests_file)
    _, wv = _load_query_vectors(vectors_path)
    results, failures = run_tests(wv, tests, permutations, seed)
    if as_json:
        for result in results:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif results:
        click.echo(_bias_table(results))
    if failures:
        raise W2VError("; ".join(map(str, failures)) if len(failures) == 1 else
                       f"{len(failures)} of {len(tests)} tests could not run: "
                       + "; ".join(map(str, failures)))


def _bias_table(results):
    rows = [f"{'test':<22}{'effect size':>12}{'statistic':>11}{'p-value':>10}  "
            f"{'p from':<16}{'words':>8}"]
    for r in results:
        found = sum(len(v) for v in r.found.values())
        total = found + sum(len(v) for v in r.missing.values())
        rows.append(f"{r.test.name:<22}{_number(r.effect_size):>12}{_number(r.statistic):>11}"
                    f"{r.p_value:>10.2g}  {f'{r.partitions} {r.p_method}':<16}"
                    f"{f'{found}/{total}':>8}")
    missing = [(r.test.name, key, words) for r in results for key, words in r.missing.items()
               if words]
    if missing:
        rows.append("not in the vocabulary:")
        rows += [f"  {name} {key}: {' '.join(words)}" for name, key, words in missing]
    return "\n".join(rows)


@cli.command("debias", short_help="Hard debiasing (Bolukbasi et al. 2016), INLP or "
                                  "Double-Hard.")
@_vectors_option
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Debiased vectors: binary if it ends in .bin or with --binary, else text; "
                   "'-' writes text to stdout.")
@click.option("--binary/--text", default=None, help="Force the output format.")
@click.option("--pairs", "pairs_file", default=None, metavar="FILE",
              help="Definitional pairs that give the bias direction (JSON list of pairs, or "
                   "'a b' lines).  [default: Bolukbasi et al.'s she/he, her/his, ...]")
@click.option("--specific", "specific_file", default=None, metavar="FILE",
              help="Words not to neutralise (JSON list, or one per line).  [default: "
                   "Bolukbasi et al.'s gender-specific words]")
@click.option("--equalize", "equalize_file", default=None, metavar="FILE",
              help="Pairs to equalise (as --pairs).  [default: Bolukbasi et al.'s]")
@click.option("--components", type=click.IntRange(min=1), default=None,
              help="hard: dimension of the bias subspace (principal components of the "
                   "pairs).  [default: 1]")
@click.option("--method", type=click.Choice(["hard", "inlp", "double-hard"],
                                            case_sensitive=False),
              default="hard", show_default=True,
              help="hard: Bolukbasi et al.'s neutralise and equalise; inlp: iterative "
                   "nullspace projection (Ravfogel et al. 2020); double-hard: remove a "
                   "frequency direction, then hard (Wang et al. 2020).")
@click.option("--iterations", type=click.IntRange(min=1), default=None,
              help="inlp: classifiers trained, each removing up to 2 directions.  "
                   "[default: 2]")
@click.option("--components-searched", type=click.IntRange(min=1), default=None,
              help="double-hard: principal components tried as the frequency direction.  "
                   "[default: 20, or all of fewer dimensions]")
@click.option("--cluster-words", type=click.IntRange(min=1), default=None,
              help="double-hard: words on each side of he - she that K-means must fail to "
                   "split.  [default: 500]")
@click.option("--report/--no-report", default=True, show_default=True,
              help="WEAT effect sizes, questions-words and WS353 before and after, on stderr.")
@common_options
def debias_command(vectors_path, output, binary, pairs_file, specific_file, equalize_file,
                   components, method, iterations, components_searched, cluster_words,
                   report):
    """Debias the vectors. --method hard (Bolukbasi et al. 2016, as their debiaswe does):
    find the bias direction by PCA over definitional pairs, remove it from every word not
    in the gender-specific list, and equalise the equality pairs; the output has unit
    vectors. --method inlp (Ravfogel et al. 2020): train a linear classifier to tell the
    words most male, most female and least gendered along he - she apart (WEAT words never
    among them), project onto its nullspace, and repeat; every word not in the
    gender-specific list gets the final projection. --method double-hard (Wang et al.
    2020): centre the vectors, remove the principal component (of the first 20) whose
    removal best stops K-means from splitting the most male and most female words after
    hard debiasing, then hard-debias.

    Reports on stderr (unless -q or --no-report) the standard WEAT effect sizes, the
    questions-words accuracy and the WS353 correlation before and after.

    \b
    Example:  w2v debias -v vectors.bin -o debiased.bin
              w2v debias -v vectors.bin -o d.bin --pairs my-pairs.txt --specific keep.txt
              w2v debias -v vectors.bin -o d.bin --method inlp --iterations 2
              w2v debias -v vectors.bin -o d.bin --method double-hard
    """
    from ..bias.hard import hard_debias, read_pairs, read_words
    from ..files.formats import save_vectors

    method = method.lower()
    hard_only = [name for name, value in (("--pairs", pairs_file), ("--equalize", equalize_file),
                                          ("--components", components)) if value is not None]
    if method == "inlp" and hard_only:
        raise click.UsageError(f"{hard_only[0]} applies to --method hard or double-hard "
                               "only")
    if method != "inlp" and iterations is not None:
        raise click.UsageError("--iterations applies to --method inlp only")
    double_only = [name for name, value in (("--components-searched", components_searched),
                                            ("--cluster-words", cluster_words))
                   if value is not None]
    if method != "double-hard" and double_only:
        raise click.UsageError(f"{double_only[0]} applies to --method double-hard only")
    check_writable(output)
    pairs = read_pairs(pairs_file, "definitional pairs") if pairs_file else None
    specific = read_words(specific_file, "gender-specific words") if specific_file else None
    equalize = read_pairs(equalize_file, "equalize pairs") if equalize_file else None
    _, wv = _load_query_vectors(vectors_path)
    if method == "inlp":
        from ..bias.hard import default_lists
        from ..bias.inlp import DEFAULT_ITERATIONS, inlp_debias

        keep = specific if specific is not None else default_lists()[2]
        result = inlp_debias(wv, iterations or DEFAULT_ITERATIONS, keep=keep)
        if result.overlap:  # cannot happen with the default exclusions; checked anyway
            raise W2VError("INLP training words include WEAT words: "
                           + " ".join(result.overlap))
        log.info("INLP removed %d directions; projected %d words, kept %d gender-specific "
                 "ones; training words: %s, none of them a WEAT word", len(result.basis),
                 result.projected, len(wv) - result.projected,
                 ", ".join(f"{len(v)} {k}" for k, v in result.classes.items()))
    elif method == "double-hard":
        from ..bias.double_hard import DEFAULT_PER_SIDE, double_hard_debias

        result = double_hard_debias(wv, pairs, equalize, specific, components or 1,
                                    components_searched, cluster_words or DEFAULT_PER_SIDE)
        log.info("Double-Hard removed principal component %d of %d (clustering accuracy "
                 "%.3f); then hard debiasing along %d definitional pairs, neutralised %d "
                 "words, equalised %d pairs", result.component + 1, len(result.accuracies),
                 result.accuracies[result.component], len(result.hard.definitional),
                 result.hard.neutralized, len(result.hard.equalized))
        log.info("clustering words: %d male, %d female by cosine with he - she; WEAT words "
                 "among them (not used to choose anything): %s",
                 len(result.cluster_words["male"]), len(result.cluster_words["female"]),
                 " ".join(result.overlap) or "none")
    else:
        result = hard_debias(wv, pairs, equalize, specific, components or 1)
        shares = ", ".join(f"{100 * x:.1f}%" for x in result.explained[:3])
        log.info("bias %s from %d definitional pairs (variance shares of the first "
                 "components: %s); neutralised %d words, equalised %d pairs",
                 "direction" if (components or 1) == 1
                 else f"subspace of {components} dimensions",
                 len(result.definitional), shares, result.neutralized, len(result.equalized))
    save_vectors(result.vectors, output, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)
    if report and log.isEnabledFor(logging.INFO):
        for line in _debias_report(wv, result.vectors):
            log.info("%s", line)


def _debias_report(before, after):
    """Lines comparing WEAT effect sizes and the bundled evaluations before and after."""
    from ..bias.hard import compare_debiased

    c = compare_debiased(before, after)
    lines = [f"{'WEAT test':<22}{'effect before':>14}{'after':>8}"
             f"{'statistic before':>18}{'after':>8}"]
    lines += [f"{old.test.name:<22}{_number(old.effect_size):>14}{_number(new.effect_size):>8}"
              f"{_number(old.statistic):>18}{_number(new.statistic):>8}"
              for old, new in zip(c.weat_before, c.weat_after)]
    (a0, a1), (s0, s1) = c.analogies, c.similarity
    change = a1.accuracy - a0.accuracy
    lines.append(f"questions-words accuracy {_percent(a0.accuracy)} -> {_percent(a1.accuracy)}"
                 + ("" if change != change else f" ({100 * change:+.2f} points)")
                 + f"; WS353 spearman {_number(s0.spearman)} -> {_number(s1.spearman)}")
    return lines


@cli.command("plot", short_help="Draw words in 2D, or a training loss curve.")
@click.argument("words", nargs=-1, metavar="[WORD]...")
@_vectors_option
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
    _, wv = _load_query_vectors(vectors_path)
    n = plot_words(wv, list(words), output, neighbours, method.lower(), seed, title)
    log.info("wrote %s (%d words)", output, n)


def _convert_to_fasttext(input_path, output):
    from ..errors import InputError
    from ..files.fasttext import is_fasttext_bin, rewrite_fasttext_bin, write_model_as_fasttext
    from ..files.model_file import is_model_file

    if is_fasttext_bin(input_path):
        n_words, dim = rewrite_fasttext_bin(input_path, output)
    elif is_model_file(input_path):
        n_words, dim = write_model_as_fasttext(input_path, output)
    elif input_path != "-" and not os.path.exists(input_path):
        raise InputError(f"no such file: {input_path}")
    else:
        raise InputError(f"{input_path} is a vector file; --fasttext needs a subword model "
                         f"(w2v train --subwords --save-model) or a fastText .bin")
    log.info("wrote a fastText model of %d words, dim %d, to %s", n_words, dim, output)


# ........................................................ documents: embed, search
# numpy only, like the reading side: see tests/test_docs.py.


def _pooling_options(func):
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
        click.option("--remove-pc", type=click.IntRange(min=0), default=None,
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


def _word_counts(wv, vocab_path):
    """Counts for SIF/uSIF: from --vocab, else from a model file, else None."""
    if vocab_path is None:
        return wv.counts
    from ..documents.embed import counts_from_vocab

    return counts_from_vocab(wv, vocab_path)


def _trained_text_options(path):
    """(lowercase, preprocess) that a model file's training applied; None for vector files."""
    from ..files.model_file import ModelFile, is_model_file

    if path is None or not is_model_file(path):
        return None
    with ModelFile(path) as model:
        config = model.header.get("config", {})
    return bool(config.get("lowercase", False)), config.get("preprocess", "none")


def _phrases_for(path, phrases_file):
    """The phrases to join in the text: --phrases-file's tables, else those recorded in the
    model at `path` (`train --phrases N`), else None."""
    from ..corpus.phrase_tables import phrase_spec, read_phrases, recorded_phrases

    if phrases_file is not None:
        return phrase_spec(read_phrases(phrases_file))
    spec = phrase_spec(recorded_phrases(path))
    if spec is not None:
        passes = len(spec["tables"])
        log.info("phrases: joined in the text as in the model's training text (%d pass%s)",
                 passes, "" if passes == 1 else "es")
    return spec


def _make_pooling(wv, pooling, vocab_path, sif_a, remove_pc, normalize, lowercase, preprocess,
                  path=None, phrases_file=None):
    """The pooling the options ask for; says on stderr which one 'auto' chose. Text is
    normalised as the model at `path` was trained, unless --lowercase/--preprocess say, and
    gets the phrases the model recorded joined (or those of --phrases-file)."""
    from ..documents.embed import make_pooling

    trained = _trained_text_options(path)
    if trained is not None:
        lowercase = lowercase or trained[0]
        if preprocess is None and trained[1] != "none":
            preprocess = trained[1]
            log.info("preprocess: %s (as the model's training text)", preprocess)
    preprocess = preprocess or "none"
    counts = _word_counts(wv, vocab_path)
    if pooling is None and counts is not None:
        log.info("pooling: usif (word counts from %s)", "--vocab" if vocab_path else "the model")
    elif pooling is None:
        log.info("pooling: mean (no word counts: give a model file or --vocab FILE for usif)")
    return make_pooling(wv, pooling or "auto", counts=counts, a=sif_a, remove_pc=remove_pc,
                        normalize=normalize, lowercase=lowercase, preprocess=preprocess,
                        phrases=_phrases_for(path, phrases_file))


def _phrases_file_option(func):
    return click.option(
        "--phrases-file", default=None, metavar="FILE",
        help="Join the phrases of this table ('w2v phrases --save-phrases') in the text.  "
             "[default: those a model file's training joined (train --phrases N)]")(func)


@cli.command("embed", short_help="Document vectors: one per line of text (mean, SIF, uSIF).")
@click.argument("text", nargs=-1, required=True)
@_vectors_option
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Document vectors: .npy (float32 rows), else word2vec binary (.bin or "
                   "--binary) or text keyed by line number; '-' writes text to stdout.")
@click.option("--binary/--text", default=None, help="Force the word2vec output format.")
@_pooling_options
@click.option("--normalize", is_flag=True, help="Scale every document vector to unit length.")
@click.option("--id-column", is_flag=True,
              help="The first tab-separated field of each line is its key, not text.")
@click.option("--save-pooling", default=None, metavar="FILE",
              help="Also save the pooling (weights, removed components) as .npz, so that "
                   "later text is embedded exactly as this was.")
@click.option("--read-pooling", default=None, metavar="FILE",
              help="Embed with a saved pooling instead of fitting one to this text.")
@_phrases_file_option
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
    from ..documents.embed import embed_files, load_pooling
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
    path, wv = _load_query_vectors(vectors_path)
    if read_pooling:
        chosen = load_pooling(read_pooling)
        chosen.check(wv)
    else:
        chosen = _make_pooling(wv, pooling, vocab_path, sif_a, remove_pc, normalize, lowercase,
                               preprocess, path, phrases_file)
    result, _, ids = embed_files(wv, text, chosen, id_column=id_column)
    _write_documents(result.vectors, output, binary, ids)
    if save_pooling:
        result.pooling.save(save_pooling)
    log.info("wrote %d document vectors of dim %d (%s pooling; %d of %d tokens unknown) to %s",
             len(result), wv.dim, result.pooling.kind, result.unknown, result.tokens,
             "<stdout>" if output == "-" else output)


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


@cli.command("search", short_help="Rank the lines of a file against queries.")
@click.argument("queries", nargs=-1, metavar="[QUERY]...")
@_vectors_option
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
@_pooling_options
@_phrases_file_option
@_json_option
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
    from ..documents.embed import embed, embed_files, hits, top_documents
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
    path, wv = _load_query_vectors(vectors_path)
    chosen = _make_pooling(wv, pooling, vocab_path, sif_a, remove_pc, False, lowercase,
                           preprocess, path, phrases_file)
    documents, lines, _ = embed_files(wv, docs_paths, chosen, keep_text=True)
    if len(documents) == 0:
        from ..errors import InputError

        raise InputError("no documents: the --docs text is empty")
    if not queries:
        queries = [raw.decode("utf-8", "replace").rstrip("\r\n") for raw in stdin_buffer()]
    pooled = embed(wv, queries, documents.pooling, label="queries").vectors
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
    from ..documents.embed import hits

    with open_index(index_path) as index:
        recorded = index.header["vectors"]["path"]
        if vectors_path is None and recorded and os.path.exists(recorded):
            vectors_path = recorded
        _, wv = _load_query_vectors(vectors_path)
        index.check(wv)
        index.check_text()
        if not queries:
            queries = [raw.decode("utf-8", "replace").rstrip("\r\n") for raw in stdin_buffer()]
        pooled, rows, scores = search_index(index, wv, queries, n, metric)
        _echo_hits(queries, hits(pooled, rows, scores), index, as_json)


@cli.command("index", short_help="Embed documents once, for fast 'w2v search --index'.")
@click.argument("docs", nargs=-1, required=True, metavar="DOCS...")
@_vectors_option
@click.option("-o", "--output", required=True, metavar="PATH",
              help="The index file (an uncompressed .npz).")
@_pooling_options
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

    if vectors_path == "-":
        raise click.UsageError("index reads vectors from a file, not stdin")
    check_documents(docs)
    check_writable(output)
    path, wv = _load_query_vectors(vectors_path)
    chosen = _make_pooling(wv, pooling, vocab_path, sif_a, remove_pc, False, lowercase,
                           preprocess, path)
    result = write_index(output, wv, docs, chosen, vectors_path=path)
    log.info("indexed %d documents of dim %d (%s pooling; %d of %d tokens unknown) in %s",
             len(result), wv.dim, result.pooling.kind, result.unknown, result.tokens, output)


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


# ........................................................ svd (PPMI + truncated SVD)


@cli.command("svd", short_help="Train PPMI + SVD vectors (Levy et al. 2015).")
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
@threads_option("Threads for counting, products and BLAS.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Seeds subsampling and the solver's starting vectors.")
@phrase_options
@dask_options
@progress_option
@common_options
def svd_command(corpus, min_count, max_vocab, lowercase, preprocess, max_sentence_length, output,
                binary,
                read_cooccur, dim, window, weighting, sample, cds, neg, eig, add_context,
                normalize, solver, power_iterations, fit_words, threads, seed, phrases,
                phrase_threshold, dask, workers, progress):
    """PPMI + truncated SVD vectors (Levy, Goldberg & Dagan 2015) from CORPUS or counts.

    Counts co-occurrences, takes the shifted positive PMI with smoothed context
    probabilities, and keeps U S^EIG of its rank-DIM SVD.

    \b
    Example:  w2v svd data/enwiki-1m.txt.xz -o svd.bin
              w2v svd --config configs/svd-levy.toml corpus.txt -o svd500.bin
    """
    from ..files.formats import save_vectors
    from ..svd.svd import check_svd_options, train_svd

    _one_input(corpus, read_cooccur)
    options = dict(dim=dim, window=window, weighting=weighting, sample=sample, cds=cds, neg=neg,
                   eig=eig, solver=solver, power_iterations=power_iterations,
                   fit_words=fit_words)
    check_svd_options(**options)
    output = output or _default_vectors_path()
    check_writable(output)
    show = show_progress(progress)
    cluster = _dask_target(dask, workers)
    if read_cooccur and cluster is not None:
        raise click.UsageError("--dask counts a CORPUS; --read-cooccur counts are already made")
    if cluster is not None:
        from ..distributed import cooccurrence_counts

        matrix, vocab, _ = cooccurrence_counts(
            corpus, min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
            preprocess=preprocess, max_sentence_length=max_sentence_length, window=window,
            weighting=weighting, symmetric=True, sample=sample, seed=seed, threads=threads,
            dask=cluster, workers=workers, progress=show, phrases=phrases)
        wv = train_svd(matrix, vocab, **options, add_context=add_context, normalize=normalize,
                       threads=threads, seed=seed, progress=show)
    elif read_cooccur:
        from ..cooccur.file import load_cooccur

        if phrases:
            raise OptionError("--phrases works on a CORPUS; counts read with --read-cooccur "
                              "are already made")
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

        from ..corpus.corpus import load_corpus

        started = time.perf_counter()
        loaded = load_corpus(corpus, min_count=min_count, max_vocab=max_vocab,
                             lowercase=lowercase, preprocess=preprocess,
                             max_sentence_length=max_sentence_length, progress=show,
                             phrases=phrases, phrase_threshold=phrase_threshold,
                             threads=threads)
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


def _count_corpus(corpus, reading, window, weighting, symmetric, memory, tmp_dir, threads, show,
                  cluster=None, workers=None):
    """Read CORPUS with the corpus options `reading` and count its co-occurrences (on a Dask
    cluster when `cluster` is not None)."""
    from ..cooccur.counts import cooccurrence_matrix

    if cluster is not None:
        from ..distributed import cooccurrence_counts

        matrix, vocab, _ = cooccurrence_counts(
            corpus, **reading, window=window, weighting=weighting, symmetric=symmetric,
            memory_gb=memory, threads=threads, tmp_dir=tmp_dir, dask=cluster, workers=workers,
            progress=show)
        return matrix, vocab
    from ..corpus.corpus import load_corpus

    loaded = load_corpus(corpus, **reading, progress=show, threads=threads)
    log.info("corpus: %d tokens, %d words", loaded.n_tokens, len(loaded.vocab))
    matrix = cooccurrence_matrix(loaded, window=window, weighting=weighting, symmetric=symmetric,
                                 memory_gb=memory, threads=threads, progress=show,
                                 tmp_dir=tmp_dir)
    return matrix, loaded.vocab


@cli.command("cooccur", short_help="Count co-occurrences once, for glove or svd.")
@corpus_options
@click.option("-o", "--output", required=True, metavar="PATH",
              help="Count file to write (.npz: the matrix, the vocabulary, the settings).")
@_counting_options
@click.option("--symmetric/--left-only", default=True, show_default=True,
              help="Count pairs in both directions, or only the words left of each word "
                   "(GloVe C's -symmetric 0).")
@threads_option("Counting threads (per worker with --dask).")
@dask_options
@progress_option
@common_options
def cooccur_command(corpus, min_count, max_vocab, lowercase, preprocess, max_sentence_length,
                    output, window, weighting, memory, tmp_dir, symmetric, threads, dask, workers,
                    progress):
    """Count word co-occurrences in CORPUS within a window; save them for glove or svd.

    Counting runs in bounded memory (--memory): a corpus whose counts do not fit still
    completes. Train on the file as often as needed with --read-cooccur.

    \b
    Example:  w2v cooccur data/enwiki-1m.txt.xz -o counts.npz --window 10
              w2v glove --read-cooccur counts.npz -o glove.bin
    """
    from ..cooccur.counts import check_options
    from ..cooccur.file import save_cooccur

    check_options(window, weighting, memory, threads)
    check_writable(output)
    cluster = _dask_target(dask, workers)
    reading = dict(min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
                   preprocess=preprocess, max_sentence_length=max_sentence_length)
    matrix, vocab = _count_corpus(corpus, reading, window, weighting, symmetric, memory, tmp_dir,
                                  threads, show_progress(progress), cluster, workers)
    save_cooccur(output, matrix, vocab, window, weighting, symmetric=symmetric)
    log.info("wrote %d non-zeros over %d words to %s", matrix.nnz, len(vocab), output)


@cli.command("glove", short_help="Train GloVe vectors (Pennington et al. 2014).")
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
@click.option("--save-model", default=None, metavar="PATH",
              help="Keep the whole model in one file (options, vocabulary, vectors, biases, "
                   "AdaGrad sums, position), rewritten at every epoch end, every "
                   "--checkpoint-every seconds, and on Ctrl-C/SIGTERM.")
@click.option("--checkpoint-every", type=click.FloatRange(min=0, min_open=True), default=600.0,
              show_default=True, metavar="SECONDS",
              help="With --save-model (or --resume): seconds between checkpoints.")
@click.option("--resume", default=None, metavar="MODEL",
              help="Continue an interrupted run from its model file, to the same bits as an "
                   "unbroken run (threads 1); the counts default to the recorded CORPUS or "
                   "--read-cooccur file, and must be the same.")
@click.option("--loss-log", default=None, metavar="PATH",
              help="Write one TSV line per launch (epoch, launch, non-zeros, cost, seconds).")
@threads_option("Counting and training threads.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed; with --threads 1 the output is identical run after run.")
@phrase_options
@dask_options
@progress_option
@common_options
@click.pass_context
def glove_command(ctx, corpus, output, binary, memory, tmp_dir, save_cooccur, read_cooccur,
                  save_model, checkpoint_every, resume, loss_log, threads, dask, workers,
                  progress, **options):
    """Train GloVe vectors (Pennington et al. 2014) on CORPUS or on saved counts.

    Fits w_i . c_j + b_i + b_j to log X_ij by weighted least squares with AdaGrad, over
    the non-zero co-occurrence counts in a fresh random order every epoch; the cost of
    every epoch goes to stderr.

    \b
    Example:  w2v glove data/enwiki-1m.txt.xz -o glove.bin --epochs 15
              w2v glove corpus.txt --save-cooccur counts.npz -o glove.bin
              w2v glove --read-cooccur counts.npz --dim 300 -o glove300.bin
              w2v glove corpus.txt -o glove.bin --save-model run.w2v   # interruptible
              w2v glove --resume run.w2v -o glove.bin                  # after Ctrl-C
    """
    from click.core import ParameterSource

    from ..runtime import signals
    from ..config import GloveConfig
    from ..cooccur.counts import check_options as check_counting
    from ..errors import InputError
    from ..files.formats import save_vectors
    from ..glove.model import init_model, load_model, train as train_model

    given = _given_options(ctx, options)
    if resume:
        if corpus and read_cooccur:
            raise click.UsageError("give a CORPUS or --read-cooccur PATH, not both")
    else:
        _one_input(corpus, read_cooccur)
    if read_cooccur and save_cooccur:
        raise click.UsageError("--save-cooccur needs a CORPUS to count")
    config = GloveConfig.from_dict(options)  # every value checked, resumed or not
    if read_cooccur and config.phrases:
        raise click.UsageError("--phrases works on a CORPUS, not on --read-cooccur counts")
    check_counting(config.window, config.weighting, memory, threads)
    save_to = _model_output(ctx, save_model, resume)
    output = output or _default_vectors_path()
    check_writable(output, save_cooccur, save_to, loss_log)
    show = show_progress(progress)
    cluster = _dask_target(dask, workers)

    model = None
    if resume:
        model = load_model(resume)
        config = model.config
        _refuse_changed_options(given, options, config, free=("output_vectors",))
        if "output_vectors" in given:  # an output: which vectors to write
            model.config = config = config.replace(output_vectors=options["output_vectors"])
        if not corpus and not read_cooccur:
            read_cooccur = (model.counts or {}).get("cooccur")
            corpus = () if read_cooccur else _recorded_inputs(model.corpus)

    if read_cooccur:
        from ..cooccur.file import load_cooccur

        if model is not None:
            check = dict(vocab=model.vocab, window=config.window, weighting=config.weighting)
        else:  # settings given on the command line must match the file; defaults yield to it
            check = {name: options[name] for name in ("window", "weighting")
                     if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
        matrix, vocab, meta = load_cooccur(read_cooccur, **check)
        log.info("read %d x %d counts, %d non-zeros (window %s, %s weighting) from %s",
                 *matrix.shape, matrix.nnz, meta.get("window"), meta.get("weighting"),
                 read_cooccur)
        if model is None:
            config = config.replace(window=meta.get("window", config.window),
                                    weighting=meta.get("weighting", config.weighting))
            model = init_model(config, vocab)
        source = {"cooccur": os.path.abspath(read_cooccur)}
    else:
        from ..cooccur.counts import cooccurrence_matrix
        from ..cooccur.file import save_cooccur as write_counts
        from ..corpus.corpus import load_corpus
        from ..word2vec.model import corpus_record

        if cluster is not None:  # the ids stay on the workers: no fingerprint of them
            from ..distributed import cooccurrence_counts

            matrix, vocab, counted = cooccurrence_counts(
                corpus, **config.corpus_options(), vocab=None if model is None else model.vocab,
                window=config.window, weighting=config.weighting, memory_gb=memory,
                threads=threads, tmp_dir=tmp_dir, dask=cluster, workers=workers, progress=show)
            record = {"tokens": counted["tokens"], "sentences": counted["sentences"],
                      "fingerprint": None, "inputs": counted["inputs"]}
        else:
            loaded = load_corpus(corpus, **config.corpus_options(), progress=show,
                                 vocab=None if model is None else model.vocab, threads=threads)
            log.info("corpus: %d tokens, %d words", loaded.n_tokens, len(loaded.vocab))
            matrix = cooccurrence_matrix(loaded, window=config.window,
                                         weighting=config.weighting, symmetric=True,
                                         memory_gb=memory, threads=threads, progress=show,
                                         tmp_dir=tmp_dir)
            record = corpus_record(loaded, corpus)
            vocab = loaded.vocab
            del loaded
        if model is None:
            model = init_model(config, vocab)
            model.corpus = record
        elif record["fingerprint"] is not None and \
                (model.corpus or {}).get("fingerprint") not in (None, record["fingerprint"]):
            raise InputError(
                f"this corpus is not the one the model was trained on ({record['tokens']} "
                f"tokens in {record['sentences']} sentences, the model's had "
                f"{model.corpus['tokens']} in {model.corpus['sentences']}, or the same counts "
                f"with other text); resume needs the same corpus")
        if save_cooccur:
            write_counts(save_cooccur, matrix, model.vocab, config.window, config.weighting)
            log.info("wrote the counts to %s", save_cooccur)
        source = None
    counts = [matrix]
    del matrix  # train gets the only reference, and frees the counts once dealt
    try:
        train_model(model, counts.pop(), threads=threads, progress=show, save_to=save_to,
                    checkpoint_every=checkpoint_every, loss_log=loss_log, source=source)
    except signals.Interrupted:
        _warn_resume_command("glove", save_to, [("-o", output), ("--loss-log", loss_log)])
        raise
    wv = model.vectors()
    save_vectors(wv, output, binary=binary)
    log.info("wrote %d vectors of dim %d to %s", len(wv), wv.dim,
             "<stdout>" if output == "-" else output)


# ........................................................ phrases (word2phrase)


@cli.command("phrases", short_help="Join frequent word pairs into phrases (word2phrase).")
@click.argument("corpus", nargs=-1, required=True)
@click.option("-o", "--output", default="-", show_default=True,
              help="Write the text with its phrases joined here; '-' is stdout.")
@click.option("--scorer", type=click.Choice(["word2phrase", "npmi"]), default="word2phrase",
              show_default=True, help="word2phrase's score, or normalised PMI in [-1, 1].")
@click.option("--threshold", default=None, callback=_thresholds, metavar="T[,T...]",
              help="Join pairs scoring above T; one per pass, e.g. 200,100.  "
                   "[default: 100 for word2phrase, 0.5 for npmi]")
@click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Pairs seen fewer times never join (and word2phrase's delta).")
@click.option("--passes", type=click.IntRange(min=1), default=1, show_default=True,
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
@click.option("--memory", type=float, default=None, metavar="GB",
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


# --------------------------------------------------------------------------- entry point


def main(argv=None):
    """Run the CLI; every failure becomes one line on stderr and a meaningful exit code.

    SIGINT and SIGTERM stop the run with 'interrupted' or 'terminated' and exit 130 or 143
    (see `signals`); a reader that closes stdout early (`| head`) ends the run quietly with 0.
    """
    signals.install()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        # Not cli.main(): it writes a blank line on Ctrl-C and exits 1 on EPIPE by itself.
        with cli.make_context("w2v", args) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        _error(e.format_message())
        return e.exit_code
    except W2VError as e:
        _error(str(e))
        return e.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort) as e:
        return _interrupted(e)
    except BrokenPipeError:
        return _reader_went_away()
    except MemoryError:
        _error("out of memory")
        return 1
    except SystemError as e:
        interrupt = _interrupt_cause(e)
        if interrupt is None:
            raise
        return _interrupted(interrupt)
    except OSError as e:
        where = f": {e.filename}" if e.filename else ""
        _error(f"{e.strerror or e}{where}")
        return 1
    return 0


def _interrupted(e):
    if isinstance(e, signals.Interrupted) and e.signum != signal.SIGINT:
        _error("terminated")
        return e.exit_code
    _error("interrupted")
    return 128 + signal.SIGINT


def _interrupt_cause(e):
    """The KeyboardInterrupt behind a SystemError that numba raised while boxing, if any.

    Kernels run outside `signals.deferred()` (corpus, counting) can still be hit this way.
    """
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, KeyboardInterrupt):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def _reader_went_away():
    """Exit 0: EPIPE reaching main comes from stdout, whose reader closed it early (`| head`).

    Not an error, as for `yes | head`. Other outputs report EPIPE as OutputError. Stdout is
    pointed at devnull so that the interpreter's final flush does not complain.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    return 0


def _error(message):
    print(f"w2v: error: {message}", file=sys.stderr)


def run():
    sys.exit(main())


if __name__ == "__main__":
    run()
