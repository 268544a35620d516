"""The `w2v` command line: parse options, call the library, report on stderr.

No model logic lives here: each command checks its options, calls one library function
and says what it wrote. The commands live in one module per group (`corpus`, `train`,
`counting`, `vectors`, `files`, `documents`, `bias`); a module is imported when its command runs,
and commands import their library modules inside the command body, so `similar`,
`analogy` and `evaluate` never import numba.
"""

import importlib
import logging
import os
import signal
import sys
from collections.abc import MutableMapping

import click

from ..errors import W2VError
from ..runtime import signals

log = logging.getLogger("w2v")

# name -> (module of w2v.cli, function): the commands, in the order they were added
COMMANDS = {
    "vocab": ("corpus", "vocab"),
    "train": ("train", "train"),
    "similar": ("vectors", "similar_command"),
    "analogy": ("vectors", "analogy_command"),
    "evaluate": ("vectors", "evaluate_command"),
    "info": ("files", "info_command"),
    "convert": ("files", "convert_command"),
    "bias": ("bias", "bias_command"),
    "debias": ("bias", "debias_command"),
    "plot": ("vectors", "plot_command"),
    "embed": ("documents", "embed_command"),
    "search": ("documents", "search_command"),
    "index": ("documents", "index_command"),
    "svd": ("counting", "svd_command"),
    "cooccur": ("counting", "cooccur_command"),
    "glove": ("counting", "glove_command"),
    "phrases": ("corpus", "phrases_command"),
    "tune": ("tune", "tune_command"),
}


class LazyCommands(MutableMapping):
    """The group's commands by name, each module imported when one of its commands is
    first looked up: a command's start-up pays for its own options only."""

    def __init__(self, table):
        self._table = dict(table)
        self._loaded = {}

    def __getitem__(self, name):
        if name not in self._loaded:
            module, function = self._table[name]
            self._loaded[name] = getattr(importlib.import_module(f"{__name__}.{module}"),
                                         function)
        return self._loaded[name]

    def __setitem__(self, name, command):
        self._table.setdefault(name, None)
        self._loaded[name] = command

    def __delitem__(self, name):
        del self._table[name]
        self._loaded.pop(name, None)

    def __contains__(self, name):
        return name in self._table

    def __iter__(self):
        return iter(self._table)

    def __len__(self):
        return len(self._table)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="w2v")
def cli():
    """Train and query static word embeddings: Skip-gram/CBOW, GloVe, PPMI+SVD.

    Data goes to stdout, logs and progress to stderr.
    """


cli.commands = LazyCommands(COMMANDS)


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
    code = main()
    signals.ignore()  # Python's shutdown puts the default handlers back: a late Ctrl-C would kill
    sys.exit(code)


if __name__ == "__main__":
    run()
