"""What the commands share: logging and --config on every command, option groups (corpus,
outputs, threads, Dask, phrases, checkpoints), defaults read from the options records,
and the vectors file the reading commands load."""

import functools
import logging
import os
import sys

import click

from .presets import PRESETS, read_config

log = logging.getLogger("w2v")


def default_of(record, name):
    """The default of option `name` in an options record (`Word2VecConfig`, ...): a click
    option and the record then share one written value."""
    return record.__dataclass_fields__[name].default


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
        callback=read_config,
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
    from ..config import CorpusConfig

    options = [
        click.argument("corpus", nargs=-1, required=True),
        click.option("--min-count", type=click.IntRange(min=1),
                     default=default_of(CorpusConfig, "min_count"), show_default=True,
                     help="Drop words seen fewer times."),
        click.option("--max-vocab", type=click.IntRange(min=1), default=None,
                     help="Keep only the most frequent words."),
        click.option("--lowercase", is_flag=True, help="Lowercase the text before splitting."),
        click.option("--preprocess", type=click.Choice(["none", "lower", "letters"]),
                     default=default_of(CorpusConfig, "preprocess"), show_default=True,
                     help="Normalise the text first; letters: lowercase a-z, accents folded, "
                          "digits spelled out, anything else a space (how the shared corpus "
                          "was prepared)."),
        click.option("--max-sentence-length", type=click.IntRange(min=1),
                     default=default_of(CorpusConfig, "max_sentence_length"), show_default=True,
                     help="Cut longer lines into pieces of this many tokens."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def corpus_optional(func):
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


def one_input(corpus, read_cooccur):
    """Commands that can start from counts take a CORPUS or --read-cooccur, not both."""
    if bool(corpus) == bool(read_cooccur):
        raise click.UsageError("give a CORPUS or --read-cooccur PATH" if not corpus else
                               "give a CORPUS or --read-cooccur PATH, not both")


def dask_options(func):
    """--dask [ADDRESS] and --workers N of the counting commands (see `distributed`)."""
    func = click.option("--workers", type=click.IntRange(min=1, max=MAX_WORKERS), default=None,
                        metavar="N",
                        help="With --dask and no address: local worker processes.  "
                             "[default: one per physical core]")(func)
    return click.option("--dask", is_flag=False, flag_value="local", default=None,
                        metavar="[ADDRESS]", callback=_check_dask_address,
                        help="Count on a Dask cluster (glove: and train there, see "
                             "--blocks): a local one, or the scheduler at ADDRESS "
                             "(tcp://HOST:PORT or a scheduler file); the same counts as one "
                             "process. "
                             'Needs pip install "w2v[dask]".')(func)


def _check_dask_address(ctx, param, value):
    """Refuse a --dask value that is no address (say a corpus path it took), while parsing."""
    from ..distributed import is_address

    if value is not None and value != "local" and not is_address(value):
        raise click.BadParameter(f"{value!r} is not a scheduler address (tcp://HOST:PORT or a "
                                 "scheduler file); put --dask after the CORPUS, or write "
                                 "--dask=ADDRESS", ctx=ctx, param=param)
    return value


def dask_target(dask, workers):
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


MAX_MEMORY_GB = 1e6  # --memory: a petabyte; inf or a typo of many digits is a usage error
MAX_WORKERS = 4096


def memory_type():
    """The type of the counting commands' --memory GB: a number, at most MAX_MEMORY_GB
    (0, negative and nan are left to the library's own check, which names them)."""
    return click.FloatRange(max=MAX_MEMORY_GB)


def default_vectors_path():
    return os.environ.get("W2V_VECTORS") or "vectors.bin"


def given_options(ctx, options):
    """Names of the options set on the command line or by --config (not left to default)."""
    from click.core import ParameterSource

    return {name for name in options if ctx.get_parameter_source(name) in
            (ParameterSource.COMMANDLINE, ParameterSource.DEFAULT_MAP)}


def model_output(ctx, save_model, resume):
    """Where checkpoints go: --save-model, else the resumed file; warns if there is none."""
    save_to = save_model or resume
    if save_to is None and "checkpoint_every" in given_options(ctx, ["checkpoint_every"]):
        log.warning("--checkpoint-every does nothing without --save-model")
    return save_to


def checkpoint_every_option(func):
    """--checkpoint-every of the commands that train a model file."""
    from ..checkpoints import CHECKPOINT_EVERY

    return click.option("--checkpoint-every", type=click.FloatRange(min=0, min_open=True),
                        default=CHECKPOINT_EVERY, show_default=True, metavar="SECONDS",
                        help="With --save-model (or --resume): seconds between "
                             "checkpoints.")(func)


def warn_resume_command(command, save_to, outputs):
    """After Ctrl-C/SIGTERM with a checkpoint: the command that carries on, outputs included,
    quoted for the shell."""
    import shlex

    if save_to is None:
        return
    words = ["w2v", command, "--resume", save_to]
    for flag, path in outputs:
        if path is not None and not (flag == "-o" and path == "vectors.bin"):
            words += [flag, path]
    log.warning("the model is saved in %s; resume with: %s", save_to, shlex.join(words))


class Thresholds(click.ParamType):
    """The type of --threshold and --phrase-threshold: one number, or one per pass, given as
    200,100 on the command line or as a number or an array of numbers in a --config file."""

    name = "thresholds"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):  # already converted
            return value
        if isinstance(value, list):  # from a --config file
            value = ",".join(str(v) for v in value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (float(value),)
        try:
            return tuple(float(v) for v in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not a number or a list of numbers such as 200,100",
                      param, ctx)


THRESHOLDS = Thresholds()


def phrase_options(func):
    """--phrases N and --phrase-threshold of the commands that train on a corpus."""
    func = click.option("--phrase-threshold", type=THRESHOLDS, default=None,
                        metavar="T[,T...]",
                        help="Threshold of the --phrases passes, one for all or one each "
                             "(200,100).  [default: 100]")(func)
    from ..config import CorpusConfig

    return click.option("--phrases", type=click.IntRange(min=0),
                        default=default_of(CorpusConfig, "phrases"), show_default=True,
                        metavar="N",
                        help="First join phrases (new_york) in N passes, as 'w2v phrases "
                             "--passes N' does (word2phrase's score, min-count 5).")(func)


def vectors_option(func):
    return click.option(
        "-v", "--vectors", "vectors_path", default=None, metavar="PATH",
        help="Vector file: word2vec text or binary, GloVe text, fastText .vec ('-' is stdin), "
             "or a model: w2v's, or fastText's .bin (subword models also answer words "
             "outside the vocabulary). Default: $W2V_VECTORS, else ./vectors.bin.",
    )(func)


def json_option(func):
    return click.option("--json", "as_json", is_flag=True,
                        help="JSON, one object per line, instead of tab-separated text.")(func)


def load_query_vectors(path):
    """(path, WordVectors) of -v PATH, else of the default, explaining a missing default."""
    from ..errors import InputError
    from ..files.formats import load_vectors

    if path is None:
        path = default_vectors_path()
        if not os.path.exists(path):
            where = "$W2V_VECTORS" if os.environ.get("W2V_VECTORS") else "the default"
            raise InputError(f"no vectors file {path} ({where}); make one with 'w2v train' "
                             f"or pass -v PATH")
    return path, load_vectors(path)


def number(x):
    return "n/a" if x != x else f"{x:.4f}"


def percent(x):
    return "n/a" if x != x else f"{100 * x:.1f}%"
