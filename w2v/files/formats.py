"""Reading and writing word-vector files: word2vec text and binary, GloVe text, fastText .vec.

Readers are bulk numpy operations with Python only walking the words, because big files
(GoogleNews: 3M x 300) made per-float parsing the slow part of other tools. Every malformed
input becomes an `InputError` that names the file and the line (text) or byte offset
(binary). Writers refuse words a reader could not split back out (anchors C.12).

Formats:
  text    word2vec text: a "COUNT DIM" header, then "word v1 ... vDIM" lines (= fastText .vec)
  binary  word2vec binary: the header, then per word its UTF-8 bytes, a space, DIM
          little-endian float32 and an optional newline (word2vec C writes it, gensim not)
  glove   GloVe text: the lines of `text` without the header

Lines are bounded, so a file without line ends (`/dev/zero`) costs no more than the bound:
the first line (the header, or GloVe's first vector) holds at most MAX_LINE_BYTES (1 MiB),
and a vector line at most MAX_WORD_BYTES plus MAX_NUMBER_BYTES per number.
"""

import io
import logging
import mmap
import os
import re

import numpy as np

from ..runtime.atomic import atomic_write
from ..errors import InputError, OptionError, W2VError
from .fasttext import is_fasttext_bin, load_fasttext_vectors
from .model_file import is_model_file, load_model_vectors
from ..runtime.stdio import stdin_buffer
from ..vectors.word_vectors import WordVectors

log = logging.getLogger("w2v")

FORMATS = ("auto", "text", "binary", "glove")

TEXT_BLOCK_BYTES = 16 << 20  # text lines parsed per numpy call
MAX_LINE_BYTES = 1 << 20  # the first line: a header, or a GloVe vector of up to ~80k numbers
MAX_NUMBER_BYTES = 64  # a number of a vector line with its separator, at most
MAX_VECTOR_LINE_BYTES = 64 << 20  # a vector line at most, whatever dimension a header claims
WRITE_BLOCK_ROWS = 4096
MAX_WORD_BYTES = 4096  # a binary record whose word runs longer is taken for garbage
_NUMBER_BYTES = frozenset(b"0123456789+-.eEinfatyINFATY \t\r")  # incl. nan, inf, infinity
_WHITESPACE = re.compile(r"\s")
_FLOAT32_MAX = float(np.finfo(np.float32).max)


# --------------------------------------------------------------------------- reading


def load_vectors(path, format="auto", limit=None):
    """Read a vector file into `WordVectors`; `path` "-" reads stdin.

    A w2v model file (`--save-model`) gives its vectors, and a fastText `.bin` (told from
    word2vec binary by its magic number) its composed vectors; both give `SubwordVectors`
    when they hold character n-grams. `format` "auto" tells binary from
    text by the bytes after the header, and GloVe from word2vec text by whether the first
    line is two integers. `limit` keeps only the first
    rows (files are usually sorted by frequency). A word seen twice keeps its first vector,
    with a warning, as GoogleNews-style files decoded with replacement characters can
    collide.
    """
    if format not in FORMATS:
        raise OptionError(f"unknown vector format {format!r}; expected one of {', '.join(FORMATS)}")
    if limit is not None and limit < 1:
        raise OptionError(f"limit must be at least 1, got {limit}")
    name = "<stdin>" if path == "-" else os.fspath(path)
    if format == "auto" and is_fasttext_bin(name):
        return load_fasttext_vectors(name, limit)
    if format == "auto" and is_model_file(name):
        wv = load_model_vectors(name)
        return wv if limit is None else WordVectors(wv.words[:limit], wv.vectors[:limit],
                                                    counts=wv.counts[:limit])
    stream = _open_input(path, name)
    with stream:
        first_line = stream.readline(MAX_LINE_BYTES + 1)
        if len(first_line) > MAX_LINE_BYTES:
            raise InputError(f"{name}: line 1 is longer than {MAX_LINE_BYTES} bytes: not a "
                             f"vector file (its first line is a 'COUNT DIM' header or a vector)")
        if first_line.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark
            first_line = first_line[3:]
        if not first_line.strip():
            raise InputError(f"{name}: empty file" if not first_line
                             else f"{name}: line 1 is empty")
        header = _parse_header(first_line)
        if format in ("text", "binary") and header is None:
            raise InputError(f"{name}: line 1: expected a 'COUNT DIM' header, "
                             f"got {_show(first_line)}")
        if format == "glove" or (format == "auto" and header is None):
            words, vectors = _read_glove(stream, name, first_line, limit)
        else:
            count, dim = header
            data_start = stream.tell()
            if format == "auto":
                sample = stream.read(min(4 * dim + 1024, 1 << 20))
                stream.seek(data_start)
                format = "text" if _looks_like_text(sample) else "binary"
            if format == "binary":
                words, vectors = _read_binary(stream, name, data_start, count, dim, limit)
            else:
                words, vectors = _read_text(stream, name, dim, count, 2, limit)
    return _dedupe(words, vectors, name)


def _open_input(path, name):
    """A seekable binary stream over the file, or over all of stdin."""
    if path == "-":
        return io.BytesIO(stdin_buffer().read())
    try:
        stream = open(path, "rb")
        if not stream.seekable():  # a pipe given by name, e.g. <(zcat vectors.txt.gz)
            with stream:
                return io.BytesIO(stream.read())
        return stream
    except OSError as e:
        raise InputError(f"cannot read {name}: {e.strerror or e}") from None


def _parse_header(line):
    """(count, dim) if the line is two non-negative integers, else None."""
    tokens = line.split()
    if len(tokens) != 2 or not all(t.isdigit() for t in tokens):
        return None
    return int(tokens[0]), int(tokens[1])


def _check_header(name, count, dim):
    if count < 1:
        raise InputError(f"{name}: line 1: the header announces {count} vectors")
    if dim < 1:
        raise InputError(f"{name}: line 1: the header announces dimension {dim}")


def _looks_like_text(sample):
    """True if the first line after the header is a word followed by numbers.

    Raw float32 bytes almost surely hold a byte outside the number characters before
    their first 0x0A, so this misreads a binary file only with vanishing probability.
    """
    line = sample.split(b"\n", 1)[0]
    parts = line.split(None, 1)
    return len(parts) == 2 and _NUMBER_BYTES.issuperset(parts[1])


def _show(raw, width=60):
    """A line for an error message: decoded, stripped and cut short."""
    text = raw.decode("utf-8", "replace").strip()
    return repr(text if len(text) <= width else text[:width] + "...")


def _read_glove(stream, name, first_line, limit):
    """GloVe text: no header, so the dimension comes from the first line."""
    dim = len(first_line.split()) - 1
    if dim < 1:
        raise InputError(f"{name}: line 1: expected a word and its vector, got {_show(first_line)}")
    stream.seek(0)
    if stream.read(3) != b"\xef\xbb\xbf":
        stream.seek(0)
    return _read_text(stream, name, dim, None, 1, limit)


def _read_text(stream, name, dim, count, first_line_no, limit):
    """Lines "word v1 ... vDIM" from the stream's position; `count` None means up to EOF.

    Blocks of lines go to numpy's C parser in one call; only when a block fails is it
    walked line by line to name the offending line. Blank lines are skipped.
    """
    if count is not None:
        _check_header(name, count, dim)
    wanted = count if limit is None else limit if count is None else min(count, limit)
    check_count = count is not None and limit is None  # rows beyond the header are errors
    reader = _LineReader(stream, name, first_line_no,
                         min(MAX_WORD_BYTES + MAX_NUMBER_BYTES * dim, MAX_VECTOR_LINE_BYTES))
    words, blocks, n_rows = [], [], 0
    line_no = first_line_no
    while wanted is None or n_rows < wanted:
        lines = reader.block()
        if not lines:
            break
        pairs = [line.split(None, 1) for line in lines]
        kept = [p for p in pairs if p]
        if wanted is not None and n_rows + len(kept) > wanted:
            if check_count:
                extra = _line_of_row(pairs, count - n_rows)
                raise InputError(f"{name}: line {line_no + extra}: more vectors than the "
                                 f"{count} the header announces")
            kept = kept[: wanted - n_rows]
        if not kept:  # blank lines only
            line_no += len(lines)
            continue
        try:
            if any(len(p) != 2 for p in kept):
                raise ValueError
            values = np.loadtxt([p[1].decode("latin-1") for p in kept], dtype=np.float32,
                                ndmin=2, comments=None)
            if values.shape != (len(kept), dim) or not np.isfinite(values).all():
                raise ValueError
        except ValueError:
            _diagnose_text(lines, name, line_no, dim)
            raise InputError(f"{name}: lines {line_no}-{line_no + len(lines) - 1}: "
                             f"cannot parse the vectors") from None
        words.extend(p[0] for p in kept)
        blocks.append(values)
        n_rows += len(kept)
        line_no += len(lines)
    if count is not None and n_rows < wanted:
        raise InputError(f"{name}: line {line_no}: the file ends after {n_rows} vectors but the "
                         f"header announces {count}")
    if check_count:
        rest = reader.rest + stream.read(1 << 16)
        if rest.strip():
            raise InputError(f"{name}: line {line_no}: more vectors than the {count} the header "
                             f"announces")
    if not words:
        raise InputError(f"{name}: no vectors in the file")
    vectors = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return [w.decode("utf-8", "replace") for w in words], vectors


class _LineReader:
    """Blocks of whole lines (bytes, without their newline) of about TEXT_BLOCK_BYTES from a
    binary stream, a line longer than `max_line` bytes being an InputError: memory stays
    bounded by the block and the bound, whatever the file holds."""

    def __init__(self, stream, name, first_line_no, max_line):
        self.stream, self.name, self.max_line = stream, name, max_line
        self.line_no = first_line_no  # of the first line not yet returned
        self.rest = b""  # a line begun but not ended in the bytes read so far

    def block(self):
        """The next lines, or [] at the end of the stream."""
        while True:
            chunk = self.stream.read(TEXT_BLOCK_BYTES)
            data = self.rest + chunk if self.rest else chunk
            if not chunk:
                self.rest = b""
                return [data] if data else []
            cut = data.rfind(b"\n")
            self.rest = data[cut + 1:]
            if cut >= 0:
                lines = data[:cut].split(b"\n")
                if max(map(len, lines)) > self.max_line:
                    offset = next(i for i, line in enumerate(lines) if len(line) > self.max_line)
                    self._too_long(self.line_no + offset)
                self.line_no += len(lines)
                if len(self.rest) > self.max_line:
                    self._too_long(self.line_no)
                return lines
            if len(self.rest) > self.max_line:
                self._too_long(self.line_no)

    def _too_long(self, line_no):
        raise InputError(f"{self.name}: line {line_no} is longer than {self.max_line} bytes, "
                         f"more than a vector of this dimension takes")


def _line_of_row(pairs, row):
    """Offset within the block of the line holding its row-th non-blank line (0-based)."""
    seen = -1
    for offset, pair in enumerate(pairs):
        seen += bool(pair)
        if seen == row:
            return offset
    return len(pairs)


def _diagnose_text(lines, name, first_line_no, dim):
    """Raise an InputError naming the first bad line of a block that failed to parse."""
    for offset, line in enumerate(lines):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{name}: line {first_line_no + offset}"
        if len(tokens) - 1 != dim:
            raise InputError(f"{where}: expected a word and {dim} numbers, found "
                             f"{len(tokens) - 1} numbers")
        for token in tokens[1:]:
            try:
                value = float(token)
            except ValueError:
                raise InputError(f"{where}: not a number: {_show(token)}") from None
            if not abs(value) <= _FLOAT32_MAX:
                raise InputError(f"{where}: non-finite value {_show(token)}")


def _read_binary(stream, name, data_start, count, dim, limit):
    """word2vec binary records from byte `data_start` on.

    Only the word boundaries are found in Python; vector bytes are copied as whole rows
    into a preallocated float32 matrix.
    """
    _check_header(name, count, dim)
    try:
        buf = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, io.UnsupportedOperation):  # stdin read into memory
        stream.seek(0)
        buf = stream.read()
    try:
        return _parse_binary(buf, name, data_start, count, dim, limit)
    finally:
        if isinstance(buf, mmap.mmap):
            buf.close()


def _parse_binary(buf, name, pos, count, dim, limit):
    row_bytes = 4 * dim
    size = len(buf)
    wanted = count if limit is None else min(count, limit)
    # Each record takes at least a 1-byte word, a space and the floats, so this many rows
    # fit; a header promising more is met by the truncation error below, not a huge alloc.
    capacity = min(wanted, max(0, size - pos) // (row_bytes + 2))
    if capacity == 0:  # not one record fits (and numpy cannot view a 0-row matrix as bytes)
        if not buf[pos:pos + 1024].strip():
            raise InputError(f"{name}: byte offset {pos}: the file ends after the header, "
                             f"which announces {count} vectors of dimension {dim}")
        raise InputError(f"{name}: byte offset {pos}: the header announces vectors of "
                         f"dimension {dim} ({row_bytes} bytes each), but only {size - pos} "
                         f"bytes follow it")
    vectors = np.empty((capacity, dim), dtype="<f4")
    vector_bytes = memoryview(vectors).cast("B")
    raw_words = []
    find = buf.find

    def truncated(i, offset):
        return InputError(f"{name}: truncated at byte offset {offset}: the header announces "
                          f"{count} vectors of dimension {dim}, the file holds {i}")

    with memoryview(buf) as view:
        for i in range(wanted):
            while buf[pos:pos + 1] == b"\n":
                pos += 1
            space = find(b" ", pos, pos + MAX_WORD_BYTES)
            if space < 0:
                if size - pos < MAX_WORD_BYTES:
                    raise truncated(i, size)
                raise InputError(f"{name}: byte offset {pos}: no word of at most "
                                 f"{MAX_WORD_BYTES} bytes (is the header's dimension right?)")
            end = space + 1 + row_bytes
            if end > size:
                raise truncated(i, size)
            word = buf[pos:space]
            if not word or b"\n" in word:
                raise InputError(f"{name}: byte offset {pos}: malformed word {_show(word)} "
                                 f"(is the header's dimension right?)")
            raw_words.append(word)
            vector_bytes[i * row_bytes:(i + 1) * row_bytes] = view[space + 1:end]
            pos = end
        del vector_bytes
    if limit is None:
        trailing = buf[pos:pos + 1024]
        if trailing.strip():
            raise InputError(f"{name}: byte offset {pos + len(trailing) - len(trailing.lstrip())}: "
                             f"data after the {count} vectors the header announces")
    bad = ~np.isfinite(vectors).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(f"{name}: non-finite values in the vector of "
                         f"{_show(raw_words[row])} (vector {row + 1})")
    return [w.decode("utf-8", "replace") for w in raw_words], vectors.astype(np.float32, copy=False)


def _dedupe(words, vectors, name):
    """Keep the first occurrence of each word, warning about the rest."""
    first_row = {}
    duplicates = []
    for row, word in enumerate(words):
        if first_row.setdefault(word, row) != row:
            duplicates.append(row)
    if duplicates:
        example = words[duplicates[0]]
        log.warning("%s: %d duplicate words (first: %r, vector %d); kept the first vector of each",
                    name, len(duplicates), example, duplicates[0] + 1)
        keep = np.ones(len(words), dtype=bool)
        keep[duplicates] = False
        words = [w for w, k in zip(words, keep) if k]
        vectors = vectors[keep]
    return WordVectors(words, vectors)


# --------------------------------------------------------------------------- writing


def save_vectors(wv, path, binary=None, format=None):
    """Write `wv` atomically; `path` "-" is stdout. `wv` is WordVectors, or
    `word_vectors.RowVectors`, read a slice of rows at a time and never held whole.

    `format` is "text", "binary" or "glove"; `binary` True/False is shorthand for the first
    two. With neither, a path ending in ".bin" gets binary and anything else text. Text
    floats carry 9 significant digits, enough to read back the same float32. Words that
    are empty or hold whitespace are refused (W2VError): no reader could split them back.
    """
    format = _output_format(path, binary, format)
    name = "<stdout>" if path == "-" else os.fspath(path)
    with atomic_write(path, "wb") as out:
        encoded = _encode_words(wv, name)
        if format == "binary":
            _write_binary(out, wv, encoded)
        else:
            _write_text(out, wv, header=format == "text")


def _output_format(path, binary, format):
    if format is None:
        if binary is None:
            binary = path != "-" and os.fspath(path).endswith(".bin")
        return "binary" if binary else "text"
    if format not in ("text", "binary", "glove"):
        raise OptionError(f"unknown vector format {format!r}; expected text, binary or glove")
    if binary is not None and binary != (format == "binary"):
        raise OptionError(f"binary={binary} contradicts format={format!r}")
    return format


def _encode_words(wv, name):
    """UTF-8 bytes of every word, after checking each can be read back."""
    bad = [row for row, word in enumerate(wv.words) if not word or _WHITESPACE.search(word)]
    if bad:
        raise W2VError(f"cannot write {name}: {len(bad)} words are empty or contain whitespace "
                       f"(first: {wv.words[bad[0]]!r}, row {bad[0] + 1}); the file could not be "
                       f"read back")
    rows = _non_finite_rows(wv)
    if rows.size:
        raise W2VError(f"cannot write {name}: {rows.size} vectors have non-finite values "
                       f"(first: {wv.words[rows[0]]!r})")
    try:
        return [word.encode("utf-8") for word in wv.words]
    except UnicodeEncodeError as e:
        raise W2VError(f"cannot write {name}: a word is not valid Unicode: {e.object!r}") from None


def _non_finite_rows(wv):
    """The rows of `wv` holding NaN or infinity, checked WRITE_BLOCK_ROWS at a time."""
    found = [start + np.flatnonzero(~np.isfinite(wv.vectors[start:start + WRITE_BLOCK_ROWS])
                                    .all(axis=1))
             for start in range(0, len(wv), WRITE_BLOCK_ROWS)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _write_text(out, wv, header):
    if header:
        out.write(f"{len(wv)} {wv.dim}\n".encode())
    row_format = " ".join(["%.9g"] * wv.dim)
    for start in range(0, len(wv), WRITE_BLOCK_ROWS):
        rows = wv.vectors[start:start + WRITE_BLOCK_ROWS].tolist()
        words = wv.words[start:start + WRITE_BLOCK_ROWS]
        block = "".join([f"{word} {row_format % tuple(row)}\n" for word, row in zip(words, rows)])
        out.write(block.encode("utf-8"))


def _write_binary(out, wv, encoded_words):
    """Exactly word2vec C's layout, newline after each vector included."""
    out.write(f"{len(wv)} {wv.dim}\n".encode())
    for start in range(0, len(wv), WRITE_BLOCK_ROWS):
        parts = []
        little_endian = np.asarray(wv.vectors[start:start + WRITE_BLOCK_ROWS], dtype="<f4")
        for word, row in zip(encoded_words[start:start + WRITE_BLOCK_ROWS], little_endian):
            parts += (word, b" ", row.tobytes(), b"\n")
        out.write(b"".join(parts))
