"""The `w2v` command line: parse options, call one library function, report on stderr.

No model logic lives here. Commands that train import their modules inside the command
body, so `similar`, `analogy` and `evaluate` never import numba.
"""

import functools
import logging
import os
import sys

import click

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
    from .corpus import load_corpus
    from .vocab import save_vocab

    loaded = load_corpus(corpus, min_count=min_count, max_vocab=max_vocab, lowercase=lowercase,
                         max_sentence_length=max_sentence_length, progress=show_progress(progress))
    save_vocab(loaded.vocab, output, top=top)
    log.info("%d words in the vocabulary (min-count %d), %d tokens kept of %d",
             len(loaded.vocab), min_count, len(loaded.ids), loaded.n_raw_tokens)


# Commands of the reading side (similar, analogy, evaluate) and of the models (train,
# cooccur, glove, svd) are defined below this line, one block each.
# --- commands ---


# --------------------------------------------------------------------------- entry point


def main(argv=None):
    """Run the CLI; every failure becomes one line on stderr and a meaningful exit code."""
    try:
        cli.main(args=argv, prog_name="w2v", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        _error(e.format_message(), e.exit_code)
        return e.exit_code
    except W2VError as e:
        _error(str(e), e.exit_code)
        return e.exit_code
    except (KeyboardInterrupt, click.exceptions.Abort):
        _error("interrupted", 130)
        return 130
    except BrokenPipeError:
        # The reader went away (`w2v similar ... | head`): not an error. Point stdout at
        # devnull so the interpreter's final flush does not complain.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except MemoryError:
        _error("out of memory", 1)
        return 1
    except OSError as e:
        where = f": {e.filename}" if e.filename else ""
        _error(f"{e.strerror or e}{where}", 1)
        return 1
    return 0


def _error(message, code):
    print(f"w2v: error: {message}", file=sys.stderr)


def run():
    sys.exit(main())


if __name__ == "__main__":
    run()
