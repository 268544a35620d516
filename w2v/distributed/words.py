"""Phase 1, words: each partition tokenized once and kept on its worker; its word counts
merged in text order, so the vocabulary is the one a single pass chooses."""

import contextlib
from dataclasses import dataclass

import numpy as np

from ..corpus.corpus import tokenize_blocks
from ..corpus.vocab import Vocab, kept_words
from ..text.preprocess import text_normaliser
from ..text.sources import (FileRange, InvalidBytes, Source, first_byte, range_blocks,
                            read_ahead, read_blocks)
from ..text.token_ids import TokenIds
from ..text.tokenize import WordStore
from .cluster import TASK_LOCK, report


class ScannedPartition:
    """A partition read once, kept on its worker between the phases: its words in order of
    first occurrence, their counts, every token's provisional id and the line lengths."""

    def __init__(self, words, counts, ids, lengths, n_tokens, invalid):
        self.words = words
        self.counts = counts
        self.ids = ids
        self.lengths = lengths
        self.n_tokens = n_tokens
        self.invalid = invalid


@dataclass
class WordTally:
    """Words in order of first occurrence with their counts, and the tokens they came from."""

    words: list
    counts: np.ndarray
    n_tokens: int
    invalid: int


def scan_partition(part, lowercase=False, preprocess="none", topic=None):
    """Tokenize one partition as the corpus pass does (same checks, same messages)."""
    with TASK_LOCK:
        store = WordStore()
        tokens = TokenIds(keep=True)
        lengths = []
        invalid = InvalidBytes()
        if part.compressed:
            source = Source(part.path)
            blocks, offset = read_blocks(source), 0
        else:
            source = FileRange(part.path)
            offset = first_byte(source, part.start)
            blocks = range_blocks(source, part.start, part.end)
        size = part.end - part.start
        done = 0

        def advance():
            nonlocal done
            position = min(size, max(0, source.position() if part.compressed
                                     else source.raw.tell() - part.start))
            report(topic, position - done)
            done = max(done, position)

        try:
            with contextlib.closing(read_ahead(blocks)) as ahead:
                tokenize_blocks(source, ahead, invalid.name, text_normaliser(lowercase, preprocess),
                                store, tokens, lengths, offset=offset,
                                check_first=part.start == 0, on_block=advance)
        finally:
            source.close()
        report(topic, size - done)
        tokens.finish(store.n_words)
        ids = np.asarray(tokens.all_ids())
        lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
        return ScannedPartition(store.words(), tokens.counts, ids, lengths, tokens.size,
                                invalid.count)


def tally_of(scanned):
    """The word counts of a scanned partition (what the reduction moves, not the ids)."""
    return WordTally(scanned.words, scanned.counts, scanned.n_tokens, scanned.invalid)


def merge_tallies(*tallies):
    """One tally of several, in order: a word's place is its first occurrence in the first
    tally that has it, so merging partitions in text order keeps the text's order."""
    index = {}
    places = []
    for tally in tallies:
        places.append(np.fromiter((index.setdefault(w, len(index)) for w in tally.words),
                                  dtype=np.int64, count=len(tally.words)))
    counts = np.zeros(len(index), dtype=np.int64)
    for place, tally in zip(places, tallies):
        counts[place] += tally.counts
    return WordTally(list(index), counts, sum(t.n_tokens for t in tallies),
                     sum(t.invalid for t in tallies))


def choose_vocab(tally, min_count, max_vocab, inputs):
    """(Vocab, tokens read, invalid bytes) of the merged tally, as `load_corpus` chooses."""
    kept = kept_words(tally.counts, tally.n_tokens, min_count, max_vocab, inputs)
    words = tally.words
    return Vocab([words[i] for i in kept.tolist()], tally.counts[kept]), tally.n_tokens, \
        tally.invalid
