"""One streaming pass over the corpus: check the UTF-8, split, assign ids, count.

Each line is a sentence; tokens are split on whitespace (as str.split()). The pass keeps
no Python strings of the text beyond one block: a numba kernel (`tokenize`) splits the
bytes and gives words provisional ids (first-occurrence order) in its own hash table,
token ids go to a compact uint32 array (spilled to a memory-mapped temporary file past a
bound), and only then is the vocabulary chosen and the ids remapped in place. So stdin
works, every file is read once, and memory is 4 bytes a token plus the vocabulary.
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

from .errors import InputError, VocabularyError
from .progress import Bar
from .stdio import stdin_buffer
from .tokenize import WordStore
from .vocab import Vocab, vocab_order

log = logging.getLogger("w2v")

BLOCK_BYTES = 1 << 20  # decompressed bytes decoded and split at a time
SPILL_BYTES = 1 << 30  # token ids beyond this go to a memory-mapped temporary file
REMAP_TOKENS = 1 << 22  # tokens remapped per step, to bound temporaries

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


# --------------------------------------------------------------------------- token ids


class _IdBuffer:
    """Append-only uint32 storage: one array grown in place, a temporary memory map past a bound.

    Growth goes through realloc, which moves large blocks by remapping pages rather than
    copying them, so the ids never exist twice in memory.
    """

    def __init__(self, spill_bytes):
        self.ids = np.empty(1 << 20, dtype=np.uint32)
        self.size = 0
        self.spill_tokens = spill_bytes // 4
        self.file = None

    def append(self, ids):
        if self.file is None and self.size + len(ids) > self.spill_tokens:
            self.file = tempfile.TemporaryFile(prefix="w2v-ids-")
            self.file.write(self.ids[: self.size].tobytes())
            self.ids = None
            log.debug("token ids spilled to a temporary file past %d tokens", self.spill_tokens)
        if self.file is not None:
            self.file.write(ids.tobytes())
        else:
            needed = self.size + len(ids)
            if needed > len(self.ids):
                self.ids.resize(max(needed, 2 * len(self.ids)), refcheck=False)
            self.ids[self.size : needed] = ids
        self.size += len(ids)

    def finish(self):
        """All ids as one array (a memory map of the temporary file if they were spilled)."""
        if self.file is None:
            self.ids.resize(self.size, refcheck=False)
            return self.ids
        self.file.flush()
        if self.size == 0:
            return np.zeros(0, dtype=np.uint32)
        return np.memmap(self.file, dtype=np.uint32, mode="r+", shape=(self.size,))


def _cut_long(lengths, max_len):
    """Split sentence lengths above max_len into pieces of max_len and a remainder."""
    if max_len is None or len(lengths) == 0 or lengths.max() <= max_len:
        return lengths
    pieces = -(-lengths // max_len)
    out = np.full(int(pieces.sum()), max_len, dtype=np.int64)
    last = np.cumsum(pieces) - 1
    out[last] = lengths - (pieces - 1) * max_len
    return out


# --------------------------------------------------------------------------- the pass


def scan_corpus(inputs, lowercase=False, progress=False, spill_bytes=SPILL_BYTES):
    """Read every input once. Returns (words, ids, lengths, invalid_bytes).

    `words` are in first-occurrence order, `ids` index them, `lengths` are the token
    counts of the non-empty lines in order.
    """
    store, ids, lengths, invalid = _scan(inputs, lowercase, progress, spill_bytes)
    return store.words(), ids, lengths, invalid


def _scan(inputs, lowercase, progress, spill_bytes):
    """`scan_corpus` with the words left in their WordStore (bytes, not yet strings)."""
    paths = expand_inputs(inputs)
    store = WordStore()
    id_buffer = _IdBuffer(spill_bytes)
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
                done = _scan_source(source, errors, lowercase, store, id_buffer, lengths, bar)
                if bar is not None:
                    bar.update(max(0, (source.size or 0) - done))
            finally:
                source.close()
    finally:
        if bar is not None:
            bar.close()
    ids = id_buffer.finish()
    lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    return store, ids, lengths, invalid["count"]


def _scan_source(source, errors, lowercase, store, id_buffer, lengths, bar):
    """Tokenize one input into the shared buffers; returns the raw bytes consumed."""
    checked = False
    done = 0
    offset = 0  # decompressed bytes before this block
    # closing(): the reader thread is stopped here, before the caller closes the source
    with contextlib.closing(_read_ahead(_read_blocks(source))) as blocks:
        for block in blocks:
            _refuse_nul(source, block, offset)
            offset += len(block)
            if lowercase:
                block = block.decode("utf-8", errors).lower().encode("utf-8")
            else:
                try:
                    block.decode("utf-8")
                except UnicodeDecodeError:  # invalid bytes become U+FFFD, and are counted
                    block = block.decode("utf-8", errors).encode("utf-8")
            if not checked:
                _check_text(source.name, block)
                checked = True
            block_ids, line_lengths = store.tokenize(block)
            id_buffer.append(block_ids)
            lengths.append(line_lengths)
            if bar is not None:
                position = source.position()
                bar.update(position - done)
                done = position
    return done


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
                max_sentence_length=10000, progress=False, spill_bytes=SPILL_BYTES):
    """Read the corpus once and return it as a `Corpus` over its vocabulary.

    The vocabulary is built from the counts (min_count, max_vocab) unless `vocab` is given
    (e.g. from `read_vocab`), in which case words outside it are dropped.
    """
    store, ids, lengths, invalid = _scan(inputs, lowercase, progress, spill_bytes)
    if invalid:
        log.warning("replaced %d bytes that were not valid UTF-8", invalid)
    n_raw = len(ids)
    if n_raw == 0:
        raise InputError("the corpus is empty: no tokens in " + ", ".join(expand_inputs(inputs)))
    counts = _count(ids, store.n_words)
    remap = np.full(store.n_words, -1, dtype=np.int64)
    if vocab is None:
        kept = vocab_order(counts, min_count, max_vocab)
        if len(kept) == 0:
            raise VocabularyError(
                f"no word occurs at least {min_count} times (--min-count) in the corpus "
                f"of {n_raw} tokens; lower --min-count")
        vocab = Vocab(store.words(kept), counts[kept])
        remap[kept] = np.arange(len(kept))
    else:
        for provisional, word in enumerate(store.words()):
            final = vocab.index.get(word)
            if final is not None:
                remap[provisional] = final
    del store
    ids, lengths = _remap_in_place(ids, lengths, remap)
    if len(ids) == 0:
        raise VocabularyError("no token of the corpus is in the vocabulary")
    lengths = _cut_long(lengths, max_sentence_length)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    log.debug("corpus: %d tokens read, %d kept in %d sentences, vocabulary %d",
              n_raw, len(ids), len(lengths), len(vocab))
    return Corpus(vocab=vocab, ids=ids, offsets=offsets, n_raw_tokens=n_raw,
                  invalid_bytes=invalid)


def restrict_corpus(corpus, vocab, max_sentence_length=None):
    """`corpus` over another vocabulary: ids mapped by word, other words dropped.

    Consumes `corpus` (its ids are remapped in place). Sentences left empty are dropped,
    then those longer than `max_sentence_length` are cut, as `load_corpus` does: read
    `corpus` uncut (max_sentence_length=None) to get the sentences `load_corpus(...,
    vocab=vocab)` gives, which is how a resumed run reads the text again.
    """
    remap = np.array([vocab.index.get(word, -1) for word in corpus.vocab.words],
                     dtype=np.int64)
    ids, lengths = _remap_in_place(corpus.ids, np.diff(corpus.offsets), remap)
    if len(ids) == 0:
        raise VocabularyError("no token of the corpus is in the vocabulary")
    lengths = _cut_long(lengths, max_sentence_length)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return Corpus(vocab=vocab, ids=ids, offsets=offsets, n_raw_tokens=corpus.n_raw_tokens,
                  invalid_bytes=corpus.invalid_bytes)


def _count(ids, n_words):
    counts = np.zeros(n_words, dtype=np.int64)
    for start in range(0, len(ids), REMAP_TOKENS):
        counts += np.bincount(ids[start : start + REMAP_TOKENS], minlength=n_words)
    return counts


def _remap_in_place(ids, lengths, remap):
    """Map provisional ids to vocabulary ids, dropping the rest, compacting `ids` in place.

    Works sentence-aligned in steps of about REMAP_TOKENS, so the kept length of every
    sentence is known; sentences left empty are dropped.
    """
    ends = np.cumsum(lengths)
    new_lengths = np.empty_like(lengths)
    read = write = 0
    first = 0
    while first < len(lengths):
        last = int(np.searchsorted(ends, read + REMAP_TOKENS, side="right"))
        last = max(last, first + 1)
        stop = int(ends[last - 1])
        mapped = remap[ids[read:stop]]
        keep = mapped >= 0
        kept = mapped[keep]
        ids[write : write + len(kept)] = kept
        starts = np.concatenate(([0], ends[first : last - 1] - read))
        new_lengths[first:last] = np.add.reduceat(keep, starts, dtype=np.int64)
        write += len(kept)
        read = stop
        first = last
    ids = ids[:write]
    return ids, new_lengths[new_lengths > 0]
