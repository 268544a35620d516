"""A document index: documents embedded once, searched later without embedding them again.

The index is one uncompressed `.npz` (a zip of `.npy` members; numpy alone reads it, no
pickle), written atomically:
- `header`: UTF-8 JSON: format, the text files (absolute paths, lines each, and what tells
  a changed file: size, modification time, a hash of the first and last blocks, a hash of
  all of it), the
  vectors it was made with (path, fingerprint), the document count and dimension.
- `unit_rows_`: float32 document vectors scaled to unit length (zero rows stay zero), read by
  memory-mapping the member at its offset in the file, so opening costs nothing;
  `norms`: their lengths (the `dot` metric multiplies them back).
- `offsets`: int64 byte offset of each document's line in its text file: a hit's text is
  read from there, so the text is never loaded.
- `pooling.*`: the pooling state (`Pooling.arrays`), so queries are pooled as documents were.

numpy only: `search --index` never imports numba.
"""

import hashlib
import logging
import os
import stat

import numpy as np

from ..vectors.word_vectors import unit_rows
from .embed import embed, embed_files
from .pooling import pooling_from_arrays, vocabulary_digest
from ..errors import InputError
from ..files import container
from ..files.container import INDEX
from ..text.sources import check_inputs, check_plain, line_offsets

log = logging.getLogger("w2v")

FORMAT = INDEX.format
FORMAT_VERSION = INDEX.version  # 2: files carry mtime_ns, ends_sha256, sha256 (1: size only)
FINGERPRINT_ROWS = 4096  # rows of the vectors hashed (evenly spaced) besides the vocabulary
SCAN_BYTES = 1 << 22
END_BYTES = 1 << 16  # the first and last bytes hashed on every search
UNIT = "unit_rows_"  # + ".npy": 14 bytes, see write_index


def vectors_fingerprint(wv):
    """Words, dimension and a sample of rows: an index answers only with its own vectors
    (the same words with retrained vectors differ too)."""
    h = hashlib.sha256(vocabulary_digest(wv).encode())
    step = max(1, len(wv) // FINGERPRINT_ROWS)
    h.update(np.ascontiguousarray(wv.vectors[::step], dtype="<f4").tobytes())
    return h.hexdigest()


def check_documents(docs):
    """Refuse, before any work, text an index cannot point into: missing, stdin, compressed."""
    docs = check_inputs(docs)
    for doc in docs:
        check_plain(doc)
    return docs


def ends_digest(path, size):
    """sha256 of a file's first and last END_BYTES: cheap enough to check on every search."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read(END_BYTES))
        f.seek(max(0, size - END_BYTES))
        h.update(f.read(END_BYTES))
    return h.hexdigest()


def file_digest(path):
    """sha256 of a whole file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(SCAN_BYTES):
            h.update(chunk)
    return h.hexdigest()


def file_record(path, lines):
    """What the index keeps of a text file to tell later whether it changed."""
    status = os.stat(path)
    return {"path": os.path.abspath(path), "lines": lines, "size": status.st_size,
            "mtime_ns": status.st_mtime_ns, "ends_sha256": ends_digest(path, status.st_size),
            "sha256": file_digest(path)}


def write_index(path, wv, docs, pooling, vectors_path=None):
    """Embed the lines of the text files `docs` with `pooling` (a name or a `Pooling`) and
    write the index at `path`. Returns the `Embedding`."""
    docs = check_documents(docs)
    offsets = [line_offsets(doc) for doc in docs]
    embedding, _, _ = embed_files(wv, docs, pooling)
    total = sum(len(o) for o in offsets)
    if total != len(embedding):  # a file changed while it was read
        raise InputError(f"the documents changed while they were read ({total} lines, then "
                         f"{len(embedding)}); index them again")
    if total == 0:
        raise InputError("no documents: the text is empty")
    vectors = embedding.vectors
    norms = np.linalg.norm(vectors, axis=1).astype(np.float32)
    header = {
        **INDEX.stamp(),
        "documents": int(total), "dim": int(vectors.shape[1]),
        "files": [file_record(d, len(o)) for d, o in zip(docs, offsets)],
        "vectors": {"path": None if vectors_path is None else os.path.abspath(vectors_path),
                    "fingerprint": vectors_fingerprint(wv)},
    }
    # The matrix goes first, under a name of 14 bytes: its local header (30 bytes, the name,
    # a 20-byte zip64 extra) then ends at byte 64, and a .npy header is a multiple of 64, so
    # the rows start 64-aligned; a misaligned memory map would make numpy skip BLAS (40x).
    members = {UNIT: unit_rows(vectors), "header": container.json_member(header, INDEX),
               "norms": norms,
               "offsets": np.concatenate(offsets),
               **{f"pooling.{k}": np.asarray(v) for k, v in embedding.pooling.arrays().items()}}
    container.write(path, INDEX, members)
    return embedding


FILE_FIELDS = {"path": str, "lines": int, "size": int, "mtime_ns": int, "ends_sha256": str,
               "sha256": str}
CHECK_ROWS = 1 << 16  # rows of the matrix checked at a time


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class DocumentIndex:
    """An opened index: `unit` (memory-mapped), `norms`, `offsets`, `pooling`, `text(row)`.

    Opening checks the header's schema and every array against it (types, shapes, finite
    unit rows and norms, offsets inside their files), so a damaged or crafted index is a
    one-line InputError. `vectors_path` is the recorded vectors file, None when the header
    names none or names something other than a regular file (a device never is read)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        with container.Container(self.path, INDEX) as self._file:
            self.header = self._file.read_header()
            self._check_header()
            self.unit = self._array(UNIT, mmap=True)
            self.norms = self._array("norms")
            self.offsets = self._array("offsets")
            self.pooling = pooling_from_arrays(self._file.arrays("pooling."), self.path)
        n = self.header["documents"]
        if self.unit.shape != (n, self.header["dim"]) or self.norms.shape != (n,) \
                or self.offsets.shape != (n,):
            raise InputError(self._broken("its arrays do not match its header"))
        if self.unit.dtype.kind != "f" or self.norms.dtype.kind != "f" \
                or self.offsets.dtype.kind not in "iu":
            raise InputError(self._broken(f"its arrays have the wrong types ({self.unit.dtype}, "
                                          f"{self.norms.dtype}, {self.offsets.dtype})"))
        if self.pooling.out_dim != self.header["dim"]:
            raise InputError(self._broken(f"its pooling is for dimension {self.pooling.out_dim}, "
                                          f"its documents have {self.header['dim']}"))
        self.files = self.header["files"]
        self._first_row = np.cumsum([0] + [f["lines"] for f in self.files])
        self._check_arrays()
        self._handles = {}

    def _check_header(self):
        header = self.header
        for name in ("documents", "dim"):
            if not _is_int(header.get(name)) or header[name] < 1:
                raise InputError(self._broken(f"its header holds {name} {header.get(name)!r}"))
        files = header.get("files")
        if not isinstance(files, list) or not files:
            raise InputError(self._broken("its header has no list of text files"))
        for record in files:
            if not isinstance(record, dict) or not all(
                    isinstance(record.get(k), t) and not isinstance(record.get(k), bool)
                    for k, t in FILE_FIELDS.items()):
                raise InputError(self._broken(f"its header holds a damaged text file record "
                                              f"({str(record)[:80]})"))
            if record["lines"] < 0 or record["size"] < 0:
                raise InputError(self._broken(f"its header holds a damaged text file record "
                                              f"({str(record)[:80]})"))
        if sum(f["lines"] for f in files) != header["documents"]:
            raise InputError(self._broken("its files' lines do not add up to its documents"))
        vectors = header.get("vectors")
        if not isinstance(vectors, dict) or not isinstance(vectors.get("fingerprint"), str) \
                or not isinstance(vectors.get("path"), (str, type(None))):
            raise InputError(self._broken("its header has no valid vectors record"))
        recorded = vectors["path"] = vectors.get("path")
        if recorded is not None and "\0" in recorded:
            raise InputError(self._broken("its vectors record names no possible path"))
        if recorded is not None and os.path.exists(recorded) and not os.path.isfile(recorded):
            log.warning("the index %s records its vectors as %s, which is not a regular file: "
                        "not read", self.path, recorded)
            vectors["path"] = None

    def _check_arrays(self):
        """Unit rows within [-1, 1] (so finite), norms finite and non-negative, and each
        document's offset inside its file."""
        for start in range(0, len(self.unit), CHECK_ROWS):
            block = self.unit[start:start + CHECK_ROWS]
            if block.size and not np.abs(block).max() <= 1.001:
                raise InputError(self._broken("its document vectors hold values that are not "
                                              "unit-length rows (NaN, infinity or damage)"))
        if len(self.norms) and not (np.isfinite(self.norms).all() and self.norms.min() >= 0):
            raise InputError(self._broken("its document norms hold NaN, infinity or a "
                                          "negative value"))
        for which, f in enumerate(self.files):
            offsets = self.offsets[self._first_row[which]:self._first_row[which + 1]]
            if len(offsets) and (offsets.min() < 0 or offsets.max() >= max(f["size"], 1)):
                raise InputError(self._broken(f"its line offsets fall outside {f['path']}"))

    @property
    def vectors_path(self):
        return self.header["vectors"]["path"]

    def _broken(self, why):
        return f"cannot load the index {self.path}: {why}"

    def __len__(self):
        return len(self.unit)

    def _array(self, name, mmap=False):
        return self._file.array(name, mmap=mmap)

    def check(self, wv):
        """Refuse vectors other than the ones the index was made with."""
        self.pooling.check(wv)
        if vectors_fingerprint(wv) != self.header["vectors"]["fingerprint"]:
            raise InputError(f"the index {self.path} was made with other vectors; index the "
                             f"documents again with these")

    def check_text(self):
        """Refuse text files that changed since indexing: offsets would point elsewhere.

        Size, then a hash of the first and last blocks, on every search; a file whose
        modification time changed too (an edit of the same size in the middle) is hashed
        in full, so a file merely touched or copied with its content is still accepted."""
        for f in self.files:
            path = f["path"]
            try:
                status = os.stat(path)
                if not stat.S_ISREG(status.st_mode):
                    raise InputError(f"the index's text {path} is not a regular file; index "
                                     f"again")
                if status.st_size != f["size"]:
                    raise InputError(f"{path} changed since it was indexed ({f['size']} bytes, "
                                     f"now {status.st_size}); index it again")
                same = (ends_digest(path, status.st_size) == f["ends_sha256"]
                        and (status.st_mtime_ns == f["mtime_ns"]
                             or file_digest(path) == f["sha256"]))
            except (OSError, ValueError):  # ValueError: a path with a NUL byte
                raise InputError(f"the index's text {path} is gone or unreadable; index "
                                 f"again") from None
            if not same:
                raise InputError(f"{path} changed since it was indexed (same size, other "
                                 f"content); index it again")

    def text(self, row):
        """Line `row` of the documents, read from its offset."""
        which = int(np.searchsorted(self._first_row, row, side="right")) - 1
        handle = self._handles.get(which)
        if handle is None:
            handle = self._handles[which] = open(self.files[which]["path"], "rb")
        handle.seek(int(self.offsets[row]))
        return handle.readline().decode("utf-8", "replace").rstrip("\n").rstrip("\r")

    __getitem__ = text

    def close(self):
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def search_index(index, wv, queries, n=10, metric="cosine"):
    """(pooled queries, rows, scores) for the query texts, ranked exactly over the index's
    memory-mapped unit rows (never copied): cosine scores as `top_documents` gives them;
    dot scores are the cosine times the document's norm."""
    from .rank import check_metric, top_n

    pooled = embed(wv, list(queries), index.pooling, label="queries", side="query").vectors
    if check_metric(metric) == "dot":
        rows, scores = top_n(index.unit, pooled, min(n, len(index)), scale=index.norms)
    else:
        rows, scores = top_n(index.unit, unit_rows(pooled), min(n, len(index)))
    return pooled, rows, scores


def open_index(path):
    """A `DocumentIndex`; InputError (one line) when it is missing or damaged."""
    return DocumentIndex(path)


__all__ = ["check_documents", "write_index", "open_index", "search_index", "DocumentIndex", "line_offsets",
           "vectors_fingerprint"]
