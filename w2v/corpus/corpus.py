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

import bz2
import codecs
import contextlib
import glob
import gzip
import logging
import lzma
import os
import queue
import tempfile
import threading
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..errors import InputError, VocabularyError
from ..text.preprocess import text_normaliser
from ..runtime.progress import Bar
from ..runtime.stdio import stdin_buffer
from ..text.tokenize import WordStore
from .vocab import Vocab, vocab_order

log = logging.getLogger("w2v")

BLOCK_BYTES = 1 << 20  # decompressed bytes decoded and split at a time
SPILL_BYTES = 1 << 30  # token ids beyond this go to a memory-mapped temporary file
PIECE_TOKENS = 1 << 24  # ids are kept in pieces of 64 MB (above glibc's largest mmap threshold)

def _gunzip(raw):
    return gzip.GzipFile(fileobj=raw, mode="rb")


_MAGIC = [(b"\x1f\x8b", _gunzip), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ\x00", lzma.LZMAFile)]
_BY_EXTENSION = {".gz": _gunzip, ".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}


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


# --------------------------------------------------------------------------- inputs


def expand_inputs(inputs):
    """Paths, globs and '-' (stdin) in the order given; a glob matches in sorted order."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths = []
    for item in inputs:
        item = os.fspath(item)
        if item == "-":
            paths.append(item)
        elif os.path.isdir(item):
            raise InputError(f"{item} is a directory, not a corpus file")
        elif os.path.exists(item):
            paths.append(item)
        else:
            matches = sorted(p for p in glob.glob(item) if not os.path.isdir(p))
            if not matches:
                raise InputError(f"no such file: {item}")
            paths.extend(matches)
    if not paths:
        raise InputError("no corpus given")
    return paths


class _Source:
    """A decompressed binary stream over one input, and how far into the raw bytes it is."""

    def __init__(self, path):
        self.path = path
        self.name = "<stdin>" if path == "-" else path
        try:
            raw = stdin_buffer() if path == "-" else open(path, "rb")
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from None
        self.raw = raw
        self.size = None if path == "-" else os.fstat(raw.fileno()).st_size
        opener = _BY_EXTENSION.get(os.path.splitext(path)[1].lower())
        if opener is None:
            head = raw.peek(8)[:8] if hasattr(raw, "peek") else b""
            opener = next((o for magic, o in _MAGIC if head.startswith(magic)), None)
        self.stream = raw if opener is None else opener(raw)

    def position(self):
        try:
            return self.raw.tell()
        except OSError:
            return 0

    def close(self):
        if self.path != "-":
            self.raw.close()


def _invalid_counter():
    """A codecs error handler that replaces bad bytes with U+FFFD and counts them."""
    state = {"count": 0}

    def handler(error):
        state["count"] += error.end - error.start
        return "\ufffd", error.end

    name = f"w2v-count-{id(state)}"
    codecs.register_error(name, handler)
    return name, state


def _read_blocks(source):
    """Byte blocks of `source`, each ending at a line end (or at the end of input)."""
    rest = b""
    while True:
        try:
            chunk = source.stream.read(BLOCK_BYTES)
        except (OSError, EOFError, lzma.LZMAError) as e:
            raise InputError(f"cannot read {source.name}: {e}") from None
        if not chunk:
            if rest:
                yield rest
            return
        cut = chunk.rfind(b"\n")
        if cut < 0:
            rest += chunk
            continue
        block, rest = rest + chunk[: cut + 1], chunk[cut + 1 :]
        yield block


def _read_ahead(blocks, depth=4):
    """Yield the items of the generator `blocks`, produced by a thread up to `depth` ahead.

    Reading and decompressing (zlib, bz2 and lzma release the GIL) then overlap with
    tokenizing (a nogil kernel), so a compressed corpus costs about the slower of the two
    rather than their sum. An exception in the thread is raised here; if the consumer
    stops early, the thread is told to stop and is waited for.
    """
    items = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def offer(item):
        """Put item in the queue unless the consumer has stopped; False if it has."""
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def produce():
        try:
            for item in blocks:
                if not offer(item):
                    return
            offer(done)
        except BaseException as e:  # handed to the consumer
            offer(e)

    thread = threading.Thread(target=produce, name="w2v-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _count_ids(ids, counts):
    """counts[w] += occurrences of w in ids (no temporaries, unlike np.bincount)."""
    for w in ids:
        counts[w] += 1


@njit(cache=True, nogil=True)
def _remap_ids(src, remap, out, write, read, ends, kept_ends, first):
    """Map src (the ids from global position `read` on) through remap into out[write:].

    Ids mapped to -1 are dropped. kept_ends[s] gets the number of ids kept before the end
    of sentence s, for the sentences ending within src (from `first` on). out may be the
    array src is a view of: an id is written only at or behind where it was read.
    Returns (write, first) for the next call.
    """
    n_sentences = len(ends)
    for i in range(len(src)):
        mapped = remap[src[i]]
        if mapped >= 0:
            out[write] = mapped
            write += 1
        while first < n_sentences and ends[first] == read + i + 1:
            kept_ends[first] = write
            first += 1
    return write, first


@njit(cache=True)
def _drop_repeats(ends):
    """Compact non-decreasing ends in place to their distinct non-zero values; returns how many."""
    n = 0
    last = 0
    for v in ends:
        if v != last:
            ends[n] = v
            n += 1
            last = v
    return n


# --------------------------------------------------------------------------- token ids


class _TokenIds:
    """Token ids in fixed-size pieces, and the count of every provisional id.

    No array of ids ever grows or is copied: a piece is `np.empty` (committed page by page
    as it is written, and large enough to be its own memory map, so freeing it returns it
    to the system), so the ids cost 4 bytes a token plus at most one unfilled piece. With
    keep=False (counts only) each block is counted and dropped. Past `spill_bytes`, full
    pieces go to a temporary file instead.
    """

    def __init__(self, keep=True, spill_bytes=SPILL_BYTES):
        self.keep = keep
        self.pieces = []  # full pieces, in order (in memory until spilled)
        self.piece = np.empty(PIECE_TOKENS, dtype=np.uint32) if keep else None
        self.fill = 0
        self.size = 0  # tokens appended
        self.closed = 0  # tokens in full (or finished) pieces
        self.counts = np.zeros(1 << 16, dtype=np.int64)  # by provisional id; grown by doubling
        self.spill_tokens = max(1, spill_bytes // 4)
        self.file = None

    def append(self, ids, n_words):
        """Count ids (provisional ids below n_words) and keep them unless counting only."""
        if n_words > len(self.counts):
            grown = np.zeros(max(n_words, 2 * len(self.counts)), dtype=np.int64)
            grown[: len(self.counts)] = self.counts
            self.counts = grown
        _count_ids(ids, self.counts)
        self.size += len(ids)
        if not self.keep:
            return
        start = 0
        while start < len(ids):
            take = min(len(ids) - start, len(self.piece) - self.fill)
            self.piece[self.fill : self.fill + take] = ids[start : start + take]
            self.fill += take
            start += take
            if self.fill == len(self.piece):
                self._close_piece()

    def _close_piece(self):
        piece = self.piece[: self.fill]
        self.closed += len(piece)
        if self.file is None and self.closed > self.spill_tokens:
            self.file = tempfile.TemporaryFile(prefix="w2v-ids-")
            for kept in self.pieces:
                self.file.write(memoryview(kept))
            self.pieces = []
            log.debug("token ids spilled to a temporary file past %d tokens", self.spill_tokens)
        if self.file is not None:
            self.file.write(memoryview(piece))
        else:
            self.pieces.append(piece)
        self.piece = np.empty(PIECE_TOKENS, dtype=np.uint32)
        self.fill = 0

    def finish(self, n_words):
        """Store the last partial piece; the counts then cover exactly n_words words."""
        if self.fill:
            self._close_piece()
        self.piece = None
        if self.file is not None:
            self.file.flush()
        self.counts = self.counts[:n_words].copy()
        return self

    def take_ids(self):
        """Every id as one writable array (a memory map of the spill file when the ids were
        spilled), each piece freed once copied, so ids are never held twice."""
        if self.file is not None:
            return np.memmap(self.file, dtype=np.uint32, mode="r+", shape=(self.size,)) \
                if self.size else np.zeros(0, dtype=np.uint32)
        out = np.empty(self.size, dtype=np.uint32)
        at = 0
        for piece in self._pop_pieces():
            out[at:at + len(piece)] = piece
            at += len(piece)
        return out

    def all_ids(self):
        """Every id as one array (a copy; for small corpora and tests)."""
        if self.file is not None:
            return np.memmap(self.file, dtype=np.uint32, mode="r", shape=(self.size,)) \
                if self.size else np.zeros(0, dtype=np.uint32)
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0, dtype=np.uint32)

    def remap(self, remap, lengths, n_kept):
        """(ids, sentence offsets) with provisional ids mapped through `remap` (-1: dropped).

        Kept ids go to one array of exactly n_kept (a memory map of the spill file when
        the ids were spilled, compacted in place); each piece is freed once it is mapped,
        so ids are never held twice. Sentences left empty are dropped; `lengths` (the
        line lengths) is overwritten.
        """
        if self.file is None:
            out = np.empty(n_kept, dtype=np.uint32)
            pieces = self._pop_pieces()
        elif self.size == 0:
            out, pieces = np.zeros(0, dtype=np.uint32), []
        else:
            out = np.memmap(self.file, dtype=np.uint32, mode="r+", shape=(self.size,))
            # written behind where it is read: each step is read before its kept ids go out
            pieces = (out[a : a + PIECE_TOKENS] for a in range(0, self.size, PIECE_TOKENS))
        written, offsets = _remap_pieces(pieces, lengths, remap, out)
        return out[:written], offsets

    def _pop_pieces(self):
        self.pieces.reverse()
        while self.pieces:
            yield self.pieces.pop()


def _remap_pieces(pieces, lengths, remap, out):
    """Map the ids of `pieces` (in order) through `remap` into `out`, dropping -1s.

    Returns (ids written, offsets of the sentences left non-empty). A sentence's new end
    is the number of ids kept before its old end, so a piece is mapped without any other
    piece; the ends are computed in `lengths` itself, which is overwritten.
    """
    ends = np.cumsum(lengths, out=lengths)
    read = write = first = 0
    for piece in pieces:
        # the kept ends overwrite the ends, each once it has been passed
        write, first = _remap_ids(piece, remap, out, write, read, ends, ends, first)
        read += len(piece)
    n_sentences = _drop_repeats(ends)
    offsets = np.empty(n_sentences + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends[:n_sentences]
    return write, offsets


def _cut_long(offsets, max_len):
    """Offsets with sentences longer than max_len cut into pieces of max_len and a remainder."""
    if max_len is None or len(offsets) < 2 or np.diff(offsets).max() <= max_len:
        return offsets
    lengths = np.diff(offsets)
    pieces = -(-lengths // max_len)
    out = np.full(int(pieces.sum()), max_len, dtype=np.int64)
    last = np.cumsum(pieces) - 1
    out[last] = lengths - (pieces - 1) * max_len
    offsets = np.zeros(len(out) + 1, dtype=np.int64)
    np.cumsum(out, out=offsets[1:])
    return offsets


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
        kept = _kept_words(self.counts, self.n_raw_tokens, min_count, max_vocab, self.inputs)
        return Vocab(self._store.words(kept), self.counts[kept])


def _kept_words(counts, n_raw, min_count, max_vocab, inputs):
    """`vocab_order`, refusing an empty corpus or an empty vocabulary with a clear error."""
    if n_raw == 0:
        raise InputError("the corpus is empty: no tokens in " + ", ".join(inputs))
    kept = vocab_order(counts, min_count, max_vocab)
    if len(kept) == 0:
        raise VocabularyError(
            f"no word occurs at least {min_count} times (--min-count) in the corpus "
            f"of {n_raw} tokens; lower --min-count")
    return kept


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
    """The pass: (WordStore, finished _TokenIds, line lengths, invalid bytes)."""
    paths = expand_inputs(inputs)
    store = WordStore()
    tokens = _TokenIds(keep_ids, spill_bytes)
    lengths = []
    errors, invalid = _invalid_counter()

    bar = None
    if progress:
        sizes = [None if p == "-" else os.path.getsize(p) for p in paths]
        total = None if None in sizes else sum(sizes)
        bar = Bar(True, total, unit="B", desc="reading")
    try:
        for path in paths:
            source = _Source(path)
            try:
                done = _scan_source(source, errors, normalise, store, tokens,
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
    return store, tokens, lengths, invalid["count"]


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
    with contextlib.closing(_read_ahead(_read_blocks(source))) as blocks:
        tokenize_blocks(source, blocks, errors, normalise, store, tokens, lengths,
                        on_block=advance)
    return done


def tokenize_blocks(source, blocks, errors, normalise, store, tokens, lengths, *, offset=0,
                    check_first=True, on_block=None):
    """Tokenize byte blocks of whole lines of `source` into `store`, `tokens` and `lengths`.

    `offset` is where the first block starts in the (decompressed) text, for the messages
    about NUL bytes; `check_first` refuses a first block that is not UTF-8 text (the start
    of a file). A cluster's partitions of one file (`distributed.py`) come through here too.
    """
    checked = not check_first
    for block in blocks:
        _refuse_nul(source, block, offset)
        offset += len(block)
        if normalise is not None:  # --lowercase, --preprocess
            block = normalise(block.decode("utf-8", errors)).encode("utf-8")
        elif not block.isascii():  # ASCII is valid UTF-8, and checked far faster
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:  # invalid bytes become U+FFFD, and are counted
                block = block.decode("utf-8", errors).encode("utf-8")
        if not checked:
            _check_text(source.name, block)
            checked = True
        block_ids, line_lengths = store.tokenize(block)
        tokens.append(block_ids, store.n_words)
        if lengths is not None:
            lengths.append(line_lengths)
        if on_block is not None:
            on_block()


def _refuse_nul(source, block, offset):
    """Refuse input with a NUL byte anywhere: binary data given as a corpus by mistake.

    Every block is searched (memchr speed, a few microseconds a megabyte), so a NUL deep in
    the file stops the pass instead of entering the vocabulary inside a word.
    """
    at = block.find(b"\x00")
    if at >= 0:
        where = " of the decompressed text" if source.stream is not source.raw else ""
        raise InputError(f"{source.name} looks like binary data, not text: a NUL byte at "
                         f"byte offset {offset + at}{where}")


def _check_text(name, block):
    """Refuse a first block that is mostly invalid UTF-8 (binary data given by mistake)."""
    head = block[:65536]
    bad = head.count("\ufffd".encode("utf-8"))
    if bad > 16 and bad > 0.05 * len(head):
        raise InputError(f"{name} is not UTF-8 text ({bad} invalid bytes in its first block)")


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
        from ..config import check_phrase_thresholds

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
        kept = _kept_words(counts if order is None else counts[order], n_raw, min_count,
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
        written, offsets = _remap_pieces([ids], lengths, remap, ids)
        ids = ids[:written]
    del tokens, lengths
    if len(ids) == 0:
        raise VocabularyError("no token of the corpus is in the vocabulary")
    offsets = _cut_long(offsets, max_sentence_length)
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
    written, offsets = _remap_pieces([ids], np.diff(corpus.offsets), remap, ids)
    if written == 0:
        raise VocabularyError("no token of the corpus is in the vocabulary")
    return Corpus(vocab=vocab, ids=ids[:written], offsets=_cut_long(offsets, max_sentence_length),
                  n_raw_tokens=corpus.n_raw_tokens, invalid_bytes=corpus.invalid_bytes,
                  eos=corpus.eos)
