"""The one error family of w2v.

Library code raises these; the CLI turns each into a one-line message on stderr and its
exit code (1 for a runtime failure, 2 for bad usage), never a traceback.
"""


class W2VError(Exception):
    """A failure the user can act on: a missing file, an empty corpus, a malformed vector file."""

    exit_code = 1


class InputError(W2VError):
    """The input (corpus, vocabulary, vector or evaluation file) is unreadable or malformed."""


class OutputError(W2VError, OSError):
    """An output file that cannot be written (missing or read-only directory, full disk).

    Also an OSError, so code that caught the underlying error still catches it.
    """


class VocabularyError(W2VError):
    """Words not in the vocabulary, or a vocabulary that ended up empty."""

    def __init__(self, message, words=()):
        super().__init__(message)
        self.words = list(words)


class OptionError(W2VError):
    """An option value that makes no sense (negative dim, zero window, unknown method)."""

    exit_code = 2
