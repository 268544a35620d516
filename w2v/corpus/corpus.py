"""One streaming pass over the corpus: check the UTF-8, split, assign ids, count.

Each line is a sentence; tokens are split on whitespace (as str.split()). The pass keeps
no Python strings of the text beyond one block: a numba kernel (`tokenize`) splits the
bytes and gives words provisional ids (first-occurrence order) in its own hash table,
token ids go to fixed-size uint32 pieces (spilled to a temporary file past a bound) and
are counted as each piece fills, and only then is the vocabulary chosen and the ids mapped
into one array of the kept tokens, each piece freed as it is mapped. So stdin works, every
file is read once, and memory is 4 bytes a token plus the vocabulary and a constant.
`count_corpus` is the same pass keeping no ids (what `w2v vocab` needs).
"""

import contextlib
import logging
import os
from dataclasses import dataclass

import numpy as np

from ..errors import VocabularyError
from ..runtime.progress import Bar
from ..text.preprocess import text_normaliser
from ..text.sources import (InvalidBytes, Source, checked_blocks, expand_inputs, read_ahead,
                            read_blocks)
from ..text.token_ids import SPILL_BYTES, TokenIds, cut_long, remap_pieces
from ..text.tokenize import WordStore
from .vocab import Vocab, kept_words

log = logging.getLogger("w2v")


@dataclass
class Corpus:
    """The shared input of every model.

    Sentence i is `ids[offsets[i]:offsets[i + 1]]`; ids index `vocab`. Words outside the
    vocabulary are already removed (so windows span over them, as in word2vec C).
    """

    vocab: Vocab
    ids: np.ndarray  # uint32, possibly a memory map
    offsets: np.ndarray  # int64, len = sentences + 1
    n_raw_tokens: int  # tokens read, before pruning
    invalid_bytes: int = 0
    phrases: dict | None = None  # the phrase passes run on the text (`phrases.phrase_record`)
    eos: bool = False  # every line ends with fastText's `</s>` (load_corpus(eos=True))

    @property
    def n_sentences(self):
        return len(self.offsets) - 1

    @property
    def n_tokens(self):
        return len(self.ids)


# --------------------------------------------------------------------------- the pass


class WordCounts:
    """What a counts-only pass gives: every word seen, in first-occurrence order, counted.

    The words stay bytes in the pass's word table until asked for, so building a
    vocabulary makes strings of the kept words only.
    """

    def __init__(self, store, counts, n_raw_tokens, invalid_bytes=0, inputs=()):
        self._store = store
        self.counts = counts  # int64, by word
        self.n_raw_tokens = n_raw_tokens
        self.invalid_bytes = invalid_bytes
        self.inputs = tuple(inputs)  # the paths read, for messages

    @property
    def words(self):
        """All the words as strings, in first-occurrence order (the order of `counts`)."""
        return self._store.words()

    def vocab(self, min_count=5, max_vocab=None):
        """The `Vocab` of these counts (min_count, max_vocab as in `load_corpus`, same errors)."""
        kept = kept_words(self.counts, self.n_raw_tokens, min_count, max_vocab, self.inputs)
        return Vocab(self._store.words(kept), self.counts[kept])


def scan_corpus(inputs, lowercase=False, progress=False, spill_bytes=SPILL_BYTES,
                preprocess="none"):
    """Read every input once. Returns (words, ids, lengths, invalid_bytes).

    `words` are in first-occurrence order, `ids` index them, `lengths` are the token
    counts of the non-empty lines in order.
    """
    store, tokens, lengths, invalid = _scan(inputs, text_normaliser(lowercase, preprocess),
                                            progress, True, spill_bytes)
    return store.words(), tokens.all_ids(), lengths, invalid


def count_corpus(inputs, lowercase=False, progress=False, preprocess="none"):
    """Count the words of the inputs in one pass, keeping no token ids (`WordCounts`).

    Memory is the vocabulary (every distinct word, with its count) plus a constant, not 4
    bytes a token: each block's ids are counted and dropped.
    """
    store, tokens, _, invalid = _scan(inputs, text_normaliser(lowercase, preprocess), progress,
                                      False, SPILL_BYTES)
    if invalid:
        log.warning("replaced %d bytes that were not valid UTF-8", invalid)
    return WordCounts(store, tokens.counts, tokens.size, invalid, expand_inputs(inputs))


def _scan(inputs, normalise, progress, keep_ids, spill_bytes):
    """The pass: (WordStore, finished TokenIds, line lengths, invalid bytes)."""
    paths = expand_inputs(inputs)
    store = WordStore()
    tokens = TokenIds(keep_ids, spill_bytes)
    lengths = []
    invalid = InvalidBytes()

    bar = None
    if progress:
        sizes = [None if p == "-" else os.path.getsize(p) for p in paths]
        total = None if None in sizes else sum(sizes)
        bar = Bar(True, total, unit="B", desc="reading")
    try:
        for path in paths:
            source = Source(path)
            try:
                done = _scan_source(source, invalid.name, normalise, store, tokens,
                                    lengths if keep_ids else None, bar)
                if bar is not None:
                    bar.update(max(0, (source.size or 0) - done))
            finally:
                source.close()
    finally:
        if bar is not None:
            bar.close()
    tokens.finish(store.n_words)
    lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    return store, tokens, lengths, invalid.count


def _scan_source(source, errors, normalise, store, tokens, lengths, bar):
    """Tokenize one input into the shared buffers; returns the raw bytes consumed."""
    done = 0

    def advance():
        nonlocal done
        if bar is not None:
            position = source.position()
            bar.update(position - done)
            done = position

    # closing(): the reader thread is stopped here, before the caller closes the source
    with contextlib.closing(read_ahead(read_blocks(source))) as blocks:
        tokenize_blocks(source, blocks, errors, normalise, store, tokens, lengths,
                        on_block=advance)
    return done


def tokenize_blocks(source, blocks, errors, normalise, store, tokens, lengths, *, offset=0,
                    check_first=True, on_block=None):
    """Tokenize byte blocks of whole lines of `source` into `store`, `tokens` and `lengths`.

    The blocks are checked as `sources.checked_blocks` checks them (`offset`, `check_first`
    as there). A cluster's partitions of one file (`distributed`) come through here too.
    """
    for block in checked_blocks(source, blocks, errors, normalise, offset=offset,
                                check_first=check_first):
        block_ids, line_lengths = store.tokenize(block)
        tokens.append(block_ids, store.n_words)
        if lengths is not None:
            lengths.append(line_lengths)
        if on_block is not None:
            on_block()


def load_corpus(inputs, *, min_count=5, max_vocab=None, vocab=None, lowercase=False,
                max_sentence_length=10000, progress=False, spill_bytes=SPILL_BYTES,
                preprocess="none", phrases=0, phrase_threshold=None, threads=None, eos=False):
    """Read the corpus once and return it as a `Corpus` over its vocabulary.

    The vocabulary is built from the counts (min_count, max_vocab) unless `vocab` is given
    (e.g. from `read_vocab`), in which case words outside it are dropped. The text is
    lowercased (`lowercase`) and normalised (`preprocess`: none, lower, letters) first.
    With `phrases` N, N passes of `w2v phrases` (word2phrase's score, `phrase_threshold`:
    one value or one a pass, default 100) join phrases in the token ids before the
    vocabulary is chosen, as `w2v phrases --passes N` piped into this would (same words,
    counts and order); `Corpus.phrases` records them, and at most `threads` threads run
    those passes (`w2v.phrases.workers`).
    Memory: 4 bytes a token read, plus the vocabulary, the sentence offsets and a constant
    (see README); with phrases, also the pair counts of one pass.
    `eos` ends every line with fastText's `</s>` token, a word of the vocabulary like any
    other (`preprocess.end_lines`).
    """
    if phrase_threshold is not None:
        from .phrase_tables import check_phrase_thresholds

        phrase_threshold = check_phrase_thresholds(phrases, phrase_threshold)
    store, tokens, lengths, invalid = _scan(inputs, text_normaliser(lowercase, preprocess, eos),
                                            progress, True, spill_bytes)
    if invalid:
        log.warning("replaced %d bytes that were not valid UTF-8", invalid)
    n_raw = tokens.size
    counts = tokens.counts
    order = None  # words in first-occurrence order, when the provisional ids are not
    ids = record = None
    if phrases and n_raw:
        ids, lengths, counts, order, record = _phrased(store, tokens, lengths, phrases,
                                                       phrase_threshold, threads)
        tokens = None
        n_raw = len(ids)
    remap = np.full(store.n_words, -1, dtype=np.int32)
    if vocab is None:
        kept = kept_words(counts if order is None else counts[order], n_raw, min_count,
                           max_vocab, expand_inputs(inputs))
        if order is not None:
            kept = order[kept]
        vocab = Vocab(store.words(kept), counts[kept])
        remap[kept] = np.arange(len(kept))
    else:
        for provisional, word in enumerate(store.words()):
            final = vocab.index.get(word)
            if final is not None:
                remap[provisional] = final
    del store
    n_kept = int(counts[remap >= 0].sum())
    if ids is None:
        ids, offsets = tokens.remap(remap, lengths, n_kept)
    else:
        written, offsets = remap_pieces([ids], lengths, remap, ids)
        ids = ids[:written]
    del tokens, lengths
    if len(ids) == 0:
        raise VocabularyError("no token of the corpus is in the vocabulary")
    offsets = cut_long(offsets, max_sentence_length)
    log.debug("corpus: %d tokens read, %d kept in %d sentences, vocabulary %d",
              n_raw, len(ids), len(offsets) - 1, len(vocab))
    return Corpus(vocab=vocab, ids=ids, offsets=offsets, n_raw_tokens=n_raw,
                  invalid_bytes=invalid, phrases=record, eos=eos)


def _phrased(store, tokens, lengths, passes, thresholds, threads=None):
    """Phrase passes over the ids of a finished scan, in place.

    Returns (ids, line lengths, counts by provisional id, the words that occur in
    first-occurrence order, the phrase record); the phrases are added to `store`.
    """
    from .phrase_kernels import first_seen
    from .phrases import Text, phrase_passes, phrase_record

    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    text = Text(store, tokens.take_ids(), offsets)
    text, tables = phrase_passes(text, passes, thresholds=thresholds, threads=threads)
    counts, order = first_seen(text.ids, store.n_words)
    return (text.ids, np.diff(text.offsets), counts, order,
            phrase_record(tables, thresholds, passes))


def restrict_corpus(corpus, vocab, max_sentence_length=None):
    """`corpus` over another vocabulary: ids mapped by word, other words dropped.

    Consumes `corpus` (its ids are remapped in place). Sentences left empty are dropped,
    then those longer than `max_sentence_length` are cut, as `load_corpus` does: read
    `corpus` uncut (max_sentence_length=None) to get the sentences `load_corpus(...,
    vocab=vocab)` gives, which is how a resumed run reads the text again.
    """
    remap = np.array([vocab.index.get(word, -1) for word in corpus.vocab.words],
                     dtype=np.int64)
    ids = corpus.ids
    written, offsets = remap_pieces([ids], np.diff(corpus.offsets), remap, ids)
    if written == 0:
        raise VocabularyError("no token of the corpus is in the vocabulary")
    return Corpus(vocab=vocab, ids=ids[:written], offsets=cut_long(offsets, max_sentence_length),
                  n_raw_tokens=corpus.n_raw_tokens, invalid_bytes=corpus.invalid_bytes,
                  eos=corpus.eos)
