"""Reading text: the one reader of every command, without numba.

Inputs are files, globs (`expand_inputs`) and '-' for stdin; .gz, .bz2 and .xz are read
decompressed, known by extension or, failing that, by their first bytes. Text is read in
blocks of whole lines (a line ends at b"\\n" only). Invalid UTF-8 is replaced with U+FFFD and
counted (`InvalidBytes`); a NUL byte anywhere refuses the input as binary data
(`refuse_nul`), as does a first block that is mostly invalid UTF-8 (`check_text`). A plain
file can also be read by byte ranges that own the lines starting in them (`FileRange`),
which is how a cluster splits one file.

The training commands tokenize these blocks (`corpus`), the document commands decode them
(`decoded_blocks`); both must start without numba, so nothing here imports it.
"""

import bz2
import codecs
import contextlib
import glob
import gzip
import io
import logging
import lzma
import os
import queue
import threading

import numpy as np

from ..errors import InputError
from ..runtime.stdio import stdin_reader

log = logging.getLogger("w2v")

BLOCK_BYTES = 1 << 20  # decompressed bytes decoded and split at a time
MAX_LINE_BYTES = 100 << 20  # a longer line is refused: binary data, or text without line ends
STOP_WAIT_SECONDS = 0.1  # how long a consumer that stops early waits for its reader thread


def _gunzip(raw):
    return gzip.GzipFile(fileobj=raw, mode="rb")


MAGIC = [(b"\x1f\x8b", _gunzip), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ\x00", lzma.LZMAFile)]
BY_EXTENSION = {".gz": _gunzip, ".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}


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


def check_inputs(paths):
    """Refuse missing files and directories before any work starts (no globs: the document
    commands take paths as given)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise InputError("no text given")
    for path in paths:
        if path == "-":
            continue
        if os.path.isdir(path):
            raise InputError(f"{path} is a directory, not a text file")
        if not os.path.exists(path):
            raise InputError(f"no such file: {path}")
    if paths.count("-") > 1:
        raise InputError("stdin ('-') can be read only once")
    return paths


def is_compressed(path):
    """Whether a file is read decompressed (by its extension or its first bytes)."""
    if os.path.splitext(path)[1].lower() in BY_EXTENSION:
        return True
    with open(path, "rb") as f:
        head = f.read(8)
    return any(head.startswith(magic) for magic, _ in MAGIC)


def check_plain(path):
    """Hits are read back by byte offset, so the text must be a plain file."""
    if path == "-":
        raise InputError("an index needs its documents in files (hits are read back from "
                         "them), not stdin")
    if is_compressed(path):
        raise InputError(f"{path} is compressed; an index reads hits back by byte offset: "
                         f"decompress it first")


def plain_bytes(paths):
    """The inputs' size in bytes when every one is an uncompressed file, else None.

    Then the text cannot hold more tokens than half its bytes (plus a newline a file), so
    the ids can go straight into one array of that many (only the pages written to are
    ever committed), rather than into pieces copied into one array at the end.
    """
    total = 0
    for path in paths:
        if path == "-":
            return None
        source = Source(path)
        try:
            if source.stream is not source.raw:
                return None
            total += source.size
        finally:
            source.close()
    return total + len(paths)


def line_offsets(path, scan_bytes=1 << 22):
    """Byte offset of every line's start (a last line without newline counts, as the
    readers count it)."""
    starts = [np.zeros(1, np.int64)]
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(scan_bytes)
            if not chunk:
                break
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            starts.append(ends.astype(np.int64) + size + 1)
            size += len(chunk)
    starts = np.concatenate(starts)
    return starts[starts < size]


# --------------------------------------------------------------------------- sources


class Source:
    """A decompressed binary stream over one input, and how far into the raw bytes it is."""

    def __init__(self, path):
        self.path = path
        self.name = "<stdin>" if path == "-" else path
        try:
            raw = stdin_reader() if path == "-" else open(path, "rb")
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from None
        self.size = None if path == "-" else os.fstat(raw.fileno()).st_size
        opener = BY_EXTENSION.get(os.path.splitext(path)[1].lower())
        if opener is None:
            if hasattr(raw, "peek"):
                head = raw.peek(8)[:8]
            else:  # unbuffered stdin: the first bytes are read, then given back in front
                head = _read_up_to(raw, 8)
                raw = _Prefixed(head, raw)
            opener = next((o for magic, o in MAGIC if head.startswith(magic)), None)
        self.raw = raw
        self.stream = raw if opener is None else opener(raw)

    def position(self):
        try:
            return self.raw.tell()
        except OSError:
            return 0

    def close(self):
        if self.path != "-":
            self.raw.close()


class _Prefixed(io.RawIOBase):
    """A raw stream that gives `head` first, then the rest of `raw`: stdin read unbuffered
    after its first bytes were looked at."""

    def __init__(self, head, raw):
        super().__init__()
        self.head, self.raw = head, raw

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        return self.raw.readinto(buffer)


def _read_up_to(stream, size):
    """`size` bytes of `stream`, fewer only at its end (a pipe returns what it has)."""
    parts, got = [], 0
    while got < size:
        data = stream.read(size - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


class FileRange:
    """A plain file read by byte ranges; a source like `Source` (name, raw, stream)."""

    def __init__(self, path):
        self.path = self.name = path
        try:
            self.raw = self.stream = open(path, "rb")
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from None

    def close(self):
        self.raw.close()


def range_blocks(source, start, end):
    """Blocks of whole lines of a plain file (a `FileRange`): the lines that start in
    [start, end), so that ranges cut anywhere own every line once."""
    f = source.raw

    def chunks():
        pos = start
        f.seek(start)
        if start > 0:
            f.seek(start - 1)
            if f.read(1) != b"\n":  # the line in progress belongs to the range before
                pos += len(f.readline())
        while pos < end:
            chunk = f.read(min(BLOCK_BYTES, end - pos))
            if not chunk:
                break
            pos += len(chunk)
            yield chunk

    try:
        rest = yield from _line_blocks(chunks(), source.name)
        if rest:  # a line that started in the range ends past it
            yield rest + f.readline()
    except OSError as e:
        raise InputError(f"cannot read {source.name}: {e}") from None


def first_byte(source, start):
    """Where the first line a range of a `FileRange` owns starts (for messages' byte offsets)."""
    if start == 0:
        return 0
    f = source.raw
    f.seek(start - 1)
    if f.read(1) == b"\n":
        return start
    return start + len(f.readline())


# --------------------------------------------------------------------------- blocks


class InvalidBytes:
    """A codecs error handler that replaces bad bytes with U+FFFD and counts them; decode
    with errors=`name`."""

    def __init__(self):
        self.count = 0
        self.name = f"w2v-invalid-{id(self)}"
        codecs.register_error(self.name, self._handle)

    def _handle(self, error):
        self.count += error.end - error.start
        return "\ufffd", error.end


def _line_blocks(chunks, name):
    """Blocks of whole lines of the byte chunks; returns what follows the last line end.

    Input without line ends stays bounded: a chunk with a NUL byte goes out at once, line
    end or not (every consumer refuses it as binary data), and a line longer than
    MAX_LINE_BYTES is an InputError.
    """
    parts, pending = [], 0
    for chunk in chunks:
        cut = chunk.rfind(b"\n")
        if cut < 0:
            parts.append(chunk)
            pending += len(chunk)
            if b"\0" in chunk:
                yield b"".join(parts)
                parts, pending = [], 0
            elif pending > MAX_LINE_BYTES:
                raise InputError(f"{name} has a line longer than {MAX_LINE_BYTES >> 20} MB: "
                                 f"not text with line ends")
            continue
        parts.append(chunk[: cut + 1])
        yield b"".join(parts)
        rest = chunk[cut + 1 :]
        parts, pending = [rest], len(rest)
    return b"".join(parts)


def read_blocks(source):
    """Byte blocks of `source`, each ending at a line end (or at the end of input)."""

    read = _read_up_to if isinstance(source.stream, _Prefixed) else lambda f, n: f.read(n)

    def chunks():
        while True:
            try:
                chunk = read(source.stream, BLOCK_BYTES)
            except (OSError, EOFError, lzma.LZMAError) as e:
                raise InputError(f"cannot read {source.name}: {e}") from None
            if not chunk:
                return
            yield chunk

    rest = yield from _line_blocks(chunks(), source.name)
    if rest:
        yield rest


def read_ahead(blocks, depth=4):
    """Yield the items of the generator `blocks`, produced by a thread up to `depth` ahead.

    Reading and decompressing (zlib, bz2 and lzma release the GIL) then overlap with
    tokenizing (a nogil kernel), so a compressed corpus costs about the slower of the two
    rather than their sum. An exception in the thread is raised here. If the consumer
    stops early (an error, Ctrl-C), the thread is told to stop and waited for briefly: one
    blocked in read() on a pipe whose writer stays open is left behind, a daemon thread
    that ends with the process, so a signal stops w2v at once whatever the input does.
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
    finished = False
    try:
        while True:
            item = items.get()
            if item is done:
                finished = True
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(None if finished else STOP_WAIT_SECONDS)


def refuse_nul(source, block, offset, decompressed=True):
    """Refuse input with a NUL byte anywhere: binary data given as a corpus by mistake.

    Every block is searched (memchr speed, a few microseconds a megabyte), so a NUL deep in
    the file stops the pass instead of entering the vocabulary inside a word. With
    `decompressed`, the message says when the offset is one in the decompressed text.
    """
    at = block.find(b"\x00")
    if at >= 0:
        where = (" of the decompressed text" if decompressed and source.stream is not source.raw
                 else "")
        raise InputError(f"{source.name} looks like binary data, not text: a NUL byte at "
                         f"byte offset {offset + at}{where}")


def check_text(name, block):
    """Refuse a first block that is mostly invalid UTF-8 (binary data given by mistake)."""
    head = block[:65536]
    bad = head.count("\ufffd".encode("utf-8"))
    if bad > 16 and bad > 0.05 * len(head):
        raise InputError(f"{name} is not UTF-8 text ({bad} invalid bytes in its first block)")


def checked_blocks(source, blocks, errors, normalise=None, *, offset=0, check_first=True,
                   whole_lines=False):
    """The byte blocks of `source`, checked: no NUL, UTF-8 (invalid bytes replaced through
    the error handler `errors` and counted there), normalised by `normalise` (str -> str,
    or None).

    `offset` is where the first block starts in the (decompressed) text, for the messages
    about NUL bytes; `check_first` refuses a first block that is not UTF-8 text (the start
    of a file); `whole_lines` ends a last line without its newline with one.
    """
    checked = not check_first
    for block in blocks:
        refuse_nul(source, block, offset)
        offset += len(block)
        if normalise is not None:  # --lowercase, --preprocess
            block = normalise(block.decode("utf-8", errors)).encode("utf-8")
        elif not block.isascii():  # ASCII is valid UTF-8, and checked far faster
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:  # invalid bytes become U+FFFD, and are counted
                block = block.decode("utf-8", errors).encode("utf-8")
        if not checked:
            check_text(source.name, block)
            checked = True
        if whole_lines and block and block[-1:] != b"\n":  # a last line without its newline
            block += b"\n"
        yield block


def file_blocks(paths, normalise=None):
    """Checked byte blocks of whole lines of every input (`checked_blocks`), each ending
    with a newline, read ahead in a thread; the bytes replaced are logged at the end."""
    invalid = InvalidBytes()
    for path in paths:
        source = Source(path)
        try:
            with contextlib.closing(read_ahead(read_blocks(source))) as blocks:
                yield from checked_blocks(source, blocks, invalid.name, normalise,
                                          whole_lines=True)
        finally:
            source.close()
    if invalid.count:
        log.warning("replaced %d bytes that were not valid UTF-8", invalid.count)


def decoded_blocks(paths, invalid=None):
    """Decoded blocks of whole lines of every input in order, each ending with "\\n".

    A last line without its newline gets one, so every block splits into whole lines.
    `invalid` (an InvalidBytes) counts the replaced bytes.
    """
    errors = invalid.name if invalid is not None else "replace"
    for path in check_inputs(paths):
        source = Source(path)
        offset = 0
        try:
            for block in read_blocks(source):
                if block[-1:] != b"\n":
                    block += b"\n"
                refuse_nul(source, block, offset, decompressed=False)
                yield block.decode("utf-8", errors)
                offset += len(block)
        finally:
            source.close()
