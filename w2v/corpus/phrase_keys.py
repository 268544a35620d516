"""Candidate keys of the phrase passes: how a pair of words, with up to MAX_CONNECTORS
connector words between them, is one int64 key, and the joined string of a key."""

import numpy as np

from ..errors import InputError

MAX_CONNECTORS = 3  # connector words a phrase may have between its two ends


class CandidateKeys:
    """How candidates of one Text are keyed: (a * n_words + b) * n_seq + seq."""

    def __init__(self, text, connectors):
        words = None
        self.n_words = max(text.store.n_words, 1)
        self.conn = np.full(self.n_words, -1, dtype=np.int64)
        self.connectors = sorted(set(connectors))
        if self.connectors:
            words = text.store.words()
            index = {word: i for i, word in enumerate(self.connectors)}
            for w, word in enumerate(words):
                c = index.get(word)
                if c is not None:
                    self.conn[w] = c
        n_conn = len(self.connectors)
        self.max_conn = 0
        for length in range(MAX_CONNECTORS if n_conn else 0, -1, -1):
            n_seq = sum(n_conn ** j for j in range(length + 1))
            if self.n_words * self.n_words * n_seq < 1 << 62:
                self.max_conn = length
                break
        else:
            raise InputError(f"too many distinct words ({self.n_words}) to count pairs of")
        self.seq_start = np.array([sum(n_conn ** j for j in range(length))
                                   for length in range(self.max_conn + 2)], dtype=np.int64)
        self.n_seq = int(self.seq_start[-1])
        self._words = words

    def words(self, text):
        if self._words is None:
            self._words = text.store.words()
        return self._words

    def args(self):
        """The kernels' view: without connector words `conn` is empty, and is not read."""
        conn = self.conn if self.connectors else self.conn[:0]
        return conn, self.max_conn, self.seq_start, self.n_words, self.n_seq

    def decode(self, keys):
        """(a, b, seq) arrays of keys."""
        seq = keys % self.n_seq
        pair = keys // self.n_seq
        return pair // self.n_words, pair % self.n_words, seq

    def connector_run(self, seq):
        """The connector words a seq number stands for."""
        length = int(np.searchsorted(self.seq_start, seq, side="right")) - 1
        value = int(seq - self.seq_start[length])
        run = []
        for _ in range(length):
            value, c = divmod(value, len(self.connectors))
            run.append(self.connectors[c])
        return run

    def encode(self, a, run_ids, b):
        value, power = 0, 1
        for c in run_ids:
            value += int(self.conn[c]) * power
            power *= len(self.connectors)
        return (a * self.n_words + b) * self.n_seq + int(self.seq_start[len(run_ids)]) + value


def phrase_strings(text, keys, sorted_keys, delimiter):
    """The joined string of each key (strings are made for the words of the keys only)."""
    a, b, seq = keys.decode(sorted_keys)
    ends = np.unique(np.concatenate([a, b]))
    word = dict(zip(ends.tolist(), text.store.words(ends)))
    if keys.n_seq == 1:  # no connector words
        return [word[x] + delimiter + word[y] for x, y in zip(a.tolist(), b.tolist())]
    return [delimiter.join([word[x], *keys.connector_run(q), word[y]])
            for x, y, q in zip(a.tolist(), b.tolist(), seq.tolist())]


def no_word_has(store, delimiter):
    """Whether no word of the store contains `delimiter` (then a phrase's string splits into
    its words one way only, so the chosen keys are all the keys of its string)."""
    used = store.word_bytes[: store.word_ends[store.n_words]]
    return delimiter.encode("utf-8") not in used.tobytes()


def phrase_keys(text, phrases, connectors=(), delimiter="_", keys=None):
    """Sorted keys of every candidate of `text` whose joined string is one of `phrases`.

    A phrase string is split at its delimiters every way that gives a word of the text, up
    to MAX_CONNECTORS connector words, and a word of the text.
    """
    keys = keys or CandidateKeys(text, connectors)
    if not phrases:
        return np.zeros(0, dtype=np.int64), keys
    index = {word: w for w, word in enumerate(keys.words(text))}
    found = set()
    for phrase in phrases:
        parts = phrase.split(delimiter) if delimiter else [phrase]
        for i in range(1, len(parts)):
            a = index.get(delimiter.join(parts[:i]))
            if a is None or keys.conn[a] >= 0:
                continue
            for j in range(i, min(len(parts), i + keys.max_conn + 1)):
                run = [index.get(p) for p in parts[i:j]]
                if any(c is None or keys.conn[c] < 0 for c in run):
                    break
                b = index.get(delimiter.join(parts[j:]))
                if b is not None and keys.conn[b] < 0:
                    found.add(keys.encode(a, run, b))
    return np.array(sorted(found), dtype=np.int64), keys
