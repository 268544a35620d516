"""The progress bar of every long step (corpus pass, training, counting): one tqdm helper.

It keeps the bar usable where tqdm alone is not: a terminal that reports a size of 0 (a
pty under `script`, some CI runners) or none (a pipe, with --progress) gets a fixed size
instead of no bar at all; the description (say "epoch 1/5") is there from the first
frame; and w2v's log lines are printed above the bar rather than through it.
"""

import logging
import os
import sys

log = logging.getLogger("w2v")

DEFAULT_SIZE = (80, 24)  # columns, lines


def terminal_size(file, default=DEFAULT_SIZE):
    """(columns, lines) for a bar on `file`, as tqdm counts them (one less than the terminal's).

    A size the terminal reports as 0 (or not at all) is taken from $COLUMNS/$LINES, else
    `default`: tqdm alone turns a 0 x 0 terminal into -1 x -1 and then hides the bar.
    """
    try:
        reported = tuple(os.get_terminal_size(file.fileno()))
    except (AttributeError, ValueError, OSError):
        reported = (0, 0)
    size = []
    for value, name, fallback in zip(reported, ("COLUMNS", "LINES"), default):
        if value <= 0:
            try:
                value = int(os.environ.get(name, ""))
            except ValueError:
                value = 0
        size.append(max(1, (value if value > 0 else fallback) - 1))
    return tuple(size)


class Bar:
    """A tqdm bar on stderr over `total` units, or a no-op when `enabled` is false.

    While it is open, records of the "w2v" logger are written above the bar. Use as a
    context manager, or call close().
    """

    def __init__(self, enabled, total, *, unit, desc, file=None, **options):
        self.bar = None
        self.redirect = None
        if not enabled:
            return
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        file = file if file is not None else sys.stderr
        columns, lines = terminal_size(file)
        self.bar = tqdm(total=total, unit=unit, unit_scale=True, desc=desc, file=file,
                        ncols=columns, nrows=lines, leave=False, **options)
        self.bar.dynamic_ncols = terminal_size  # follow resizes, never down to 0
        self.redirect = logging_redirect_tqdm(loggers=[log])
        self.redirect.__enter__()

    def update(self, n, desc=None, postfix=None):
        """Advance by n units; `desc` and `postfix` replace the text left and right of the bar."""
        if self.bar is None:
            return
        if desc is not None:
            self.bar.set_description_str(desc, refresh=False)
        if postfix is not None:
            self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.redirect.__exit__(None, None, None)
            self.bar = self.redirect = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LossLog:
    """--loss-log: one tab-separated line per launch under a header line, flushed as
    training goes, for plotting and `tail -f`; a resumed run appends to it."""

    def __init__(self, path, columns, append=False):
        self.file = None
        if path is not None:
            fresh = not append or not os.path.exists(path) or os.path.getsize(path) == 0
            self.file = open(path, "a" if append else "w", encoding="utf-8")
            if fresh:
                self.write(*columns)

    def write(self, *values):
        """One line of `values` (format floats before passing them)."""
        if self.file is not None:
            self.file.write("\t".join(map(str, values)) + "\n")
            self.file.flush()

    def close(self):
        if self.file is not None:
            self.file.close()

