"""The vocabulary: words in descending count order, and word2vec C's `word count` files."""

import logging

import numpy as np

from ..runtime.atomic import atomic_write
from ..errors import InputError, VocabularyError

log = logging.getLogger("w2v")


class Vocab:
    """Words sorted by descending count (ties in order of first occurrence); id = position."""

    def __init__(self, words, counts):
        self.words = list(words)
        self.counts = np.asarray(counts, dtype=np.int64)
        if self.counts.shape != (len(self.words),):
            raise ValueError("one count per word is needed")
        self.index = {word: i for i, word in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("duplicate words in the vocabulary")

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __repr__(self):
        return f"Vocab({len(self)} words, {int(self.counts.sum())} tokens)"

    @property
    def total(self):
        """Tokens of the corpus that are in the vocabulary."""
        return int(self.counts.sum())


MAX_COUNT_DIGITS = 15  # so a file's counts, summed, fit in int64 (a trillion words a word at most)


def build_vocab(words, counts, min_count=5, max_vocab=None):
    """Keep words with count >= min_count, most frequent first, at most max_vocab of them.

    `words` must be in first-occurrence order: the stable sort then breaks ties by it,
    as word2vec C does.
    """
    counts = np.asarray(counts, dtype=np.int64)
    order = vocab_order(counts, min_count, max_vocab)
    return Vocab([words[i] for i in order], counts[order])


def vocab_order(counts, min_count=5, max_vocab=None):
    """Indices of the words `build_vocab` keeps, in vocabulary order."""
    counts = np.asarray(counts)
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count]
    return order if max_vocab is None else order[:max_vocab]


def save_vocab(vocab, path, top=None):
    """Write `word count` lines (word2vec C's -save-vocab format), atomically; '-' is stdout."""
    n = len(vocab) if top is None else min(top, len(vocab))
    lines = "".join(f"{w} {c}\n" for w, c in zip(vocab.words[:n], vocab.counts[:n].tolist()))
    with atomic_write(path, "wb") as out:
        out.write(lines.encode("utf-8"))


MAX_VOCAB_LINE_BYTES = 1 << 16  # a 'word count' line at most
VOCAB_BLOCK_BYTES = 16 << 20


def _vocab_lines(f, path):
    """(line number, text) of each line, decoded with replacement, a leading byte-order mark
    skipped; a line longer than MAX_VOCAB_LINE_BYTES is an InputError, found in bounded
    memory."""
    rest, lineno, first = b"", 0, True
    while True:
        chunk = f.read(VOCAB_BLOCK_BYTES)
        data = rest + chunk if rest else chunk
        if first and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        first = False
        if not chunk:
            lines, rest = ([data] if data else []), b""
        else:
            cut = data.rfind(b"\n")
            lines, rest = (data[:cut].split(b"\n") if cut >= 0 else []), data[cut + 1:]
        for line in lines:
            lineno += 1
            if len(line) > MAX_VOCAB_LINE_BYTES:
                raise InputError(f"{path}, line {lineno}: longer than {MAX_VOCAB_LINE_BYTES} "
                                 f"bytes: not a 'word count' line")
            yield lineno, line.decode("utf-8", errors="replace")
        if len(rest) > MAX_VOCAB_LINE_BYTES:
            raise InputError(f"{path}, line {lineno + 1}: longer than {MAX_VOCAB_LINE_BYTES} "
                             f"bytes: not a 'word count' line")
        if not chunk:
            return


def read_vocab(path, min_count=1, max_vocab=None):
    """Read `word count` lines; word2vec C's `</s>` entry is skipped.

    A leading UTF-8 byte-order mark is skipped, and lines are bounded (MAX_VOCAB_LINE_BYTES),
    so a file without line ends costs no more than that. Counts come from the file (they drive subsampling and negative sampling, as in C);
    min_count and max_vocab apply to them.
    """
    words, counts = [], []
    seen = set()
    try:
        with open(path, "rb") as f:
            for lineno, line in _vocab_lines(f, path):
                if not line.strip():
                    continue
                parts = line.split()
                if len(parts) != 2 or not (parts[1].isascii() and parts[1].isdigit()):
                    raise InputError(f"{path}, line {lineno}: expected 'word count', "
                                     f"got {line[:60]!r}")
                if len(parts[1]) > MAX_COUNT_DIGITS:
                    raise InputError(f"{path}, line {lineno}: the count of {parts[0]!r} is too "
                                     f"large (at most {MAX_COUNT_DIGITS} digits)")
                word = parts[0]
                if word == "</s>":
                    continue
                if word in seen:
                    raise InputError(f"{path}, line {lineno}: duplicate word {word!r}")
                seen.add(word)
                words.append(word)
                counts.append(int(parts[1]))
    except OSError as e:
        raise InputError(f"cannot read vocabulary {path}: {e.strerror}") from None
    if not words:
        raise InputError(f"vocabulary file {path} has no words")
    vocab = build_vocab(words, counts, min_count=min_count, max_vocab=max_vocab)
    if len(vocab) == 0:
        raise VocabularyError(f"no word in {path} has count >= {min_count}")
    return vocab


def kept_words(counts, n_raw, min_count, max_vocab, inputs):
    """`vocab_order`, refusing an empty corpus or an empty vocabulary with a clear error."""
    if n_raw == 0:
        raise InputError("the corpus is empty: no tokens in " + ", ".join(inputs))
    kept = vocab_order(counts, min_count, max_vocab)
    if len(kept) == 0:
        raise VocabularyError(
            f"no word occurs at least {min_count} times (--min-count) in the corpus "
            f"of {n_raw} tokens; lower --min-count")
    return kept
