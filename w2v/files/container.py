"""The container of every w2v data file: one uncompressed zip of `.npy` members (an `.npz`),
with a JSON header, that numpy alone reads without pickle.

Four kinds share it, each declared once below with its format name, the version it writes
and the versions it reads:

| kind | format | written | read | header member |
|---|---|---|---|---|
| model file (`--save-model`) | `w2v-model` | 1 | 1 | `header` |
| count file (`w2v cooccur`) | `w2v-cooccur` | 1 | 1 | `meta` |
| document index (`w2v index`) | `w2v-docindex` | 2 | 2 | `header` |
| pooling (`--save-pooling`, `pooling.*` in an index or a tuned model) | `w2v-pooling` | 1 to 4 | 1-4 | (the `format` member) |

The version rule. Every file carries a format name and an integer version (1 or more). The
kinds spell them as they always have, so their bytes do not change: a model or an index as
`"format"` and `"format_version"` in the header, a count file as `"format"` and
`"version"`, a pooling as one string member `format` that ends in the version
(`w2v-pooling-2`). Reading maps each spelling onto (format, version), then: another format
name is not this kind of file; a version that is not an integer of 1 or more is a damaged
header; a version above the newest this w2v reads is refused with one message for every kind
("... format N is newer than this w2v reads ...: upgrade w2v"); a version below the oldest it
reads (an index of format 1, which lacks what tells a changed text) is refused with the
kind's own advice. A kind's version goes up only when an older w2v would misread the new
files; new optional members or header fields that older readers ignore keep it.

Files may come from strangers, so reading never runs code from the file (`allow_pickle` is
never set, object arrays are refused) and never allocates what a member header claims
before checking it against the bytes the file holds. Members are stored plainly: a
compressed member (`numpy.savez_compressed`) is refused in every kind, since what it
inflates to is not bounded by the file's size. Members are read straight from their offset
in the file, memory-mapped on request; a model
file pads its members so their data start 64-byte aligned, so a large matrix maps without a
copy. The members of count files, indexes and poolings carry the zip epoch as their time,
so their bytes depend on their content only; a model file's carry the time of writing.

numpy only: the reading commands load these files without numba.
"""

import dataclasses
import json
import math
import mmap
import os
import struct
import time
import tokenize
import zipfile

import numpy as np

from ..errors import InputError
from ..runtime.atomic import atomic_write

ZIP_MAGIC = b"PK\x03\x04"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip records: "no time"
PAD_EXTRA_ID = 0x7077  # a zip extra field of padding; readers skip unknown ids
ZIP64_LOCAL_EXTRA = 20  # what zipfile adds to a local header under force_zip64


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of container file: how it names and versions itself, how it is written, and
    what its errors say (templates with `{path}`, and `{why}` where a reason follows)."""

    noun: str  # names the kind in the version message: "model format 2"
    format: str
    version: int  # the version this w2v writes; the newest it reads
    oldest: int  # the oldest version it reads
    spelling: str  # "format_version", "version" (header fields) or "suffix" (the format member)
    header: str  # the member holding the JSON header, or the format string ("suffix")
    broken: str  # a damaged file, with {why}
    foreign: str  # a readable file of another kind
    unreadable: str = "cannot read {path}: {why}"
    missing: str = None  # no such file (None: `unreadable`)
    directory: str = None  # a directory (None: `unreadable`)
    incomplete: str = "it is not a complete zip archive"  # the {why} of a damaged zip
    headless: str = None  # the {why} of a zip without the header member (None: "missing")
    older: str = None  # a version below `oldest`, with {version} and {newest}
    aligned: bool = False  # pad members so their data start 64-byte aligned
    dated: bool = False  # members carry the time of writing (else the zip epoch)
    c_order: bool = True  # write arrays C-ordered (else as they are)
    fortran: bool = True  # accept Fortran-ordered matrices when reading
    ascii_header: bool = False  # escape non-ASCII in the JSON header

    def stamp(self, version=None):
        """The header fields (or, for "suffix", the format string) naming `version`."""
        version = self.version if version is None else version
        if self.spelling == "suffix":
            return f"{self.format}-{version}"
        return {"format": self.format, self.spelling: version}

    def read_stamp(self, fields):
        """(format, version) as the kind spells them in `fields` (the header, or for
        "suffix" the members); version None where it is missing."""
        if self.spelling == "suffix":
            spelled = str(fields[self.header]) if self.header in fields else ""
            name, _, version = spelled.rpartition("-")
            if name != self.format:
                return spelled, None
            return name, int(version) if version.isdigit() else version
        return fields.get("format"), fields.get(self.spelling)

    def message(self, template, path, **values):
        return template.format(path=path, **values)


MODEL = Kind(
    noun="model", format="w2v-model", version=1, oldest=1, spelling="format_version",
    header="header", broken="cannot load {path}: {why}",
    foreign="cannot load {path}: it is not a w2v model file",
    missing="no such model file: {path}",
    incomplete="it is not a complete model file (truncated, or not a w2v model)",
    headless="it is a zip archive but not a w2v model file", aligned=True, dated=True)

COUNTS = Kind(
    noun="co-occurrence", format="w2v-cooccur", version=1, oldest=1, spelling="version",
    header="meta", broken="{path} is not a valid w2v co-occurrence file ({why})",
    foreign="{path} is not a w2v co-occurrence file",
    unreadable="cannot read co-occurrence file {path}: {why}", ascii_header=True)

INDEX = Kind(
    noun="index", format="w2v-docindex", version=2, oldest=2, spelling="format_version",
    header="header", broken="cannot load the index {path}: {why}",
    foreign="cannot load the index {path}: it is not a w2v document index",
    missing="no such index: {path}", directory="{path} is a directory, not an index file",
    incomplete="it is not a complete index (truncated, or not made by 'w2v index')",
    older="cannot load the index {path}: index format {version!r} (this w2v reads {newest}): "
          "index again", fortran=False)

POOLING = Kind(
    noun="pooling", format="w2v-pooling", version=4, oldest=1, spelling="suffix",
    header="format", broken="{path}: not a w2v pooling file ({why})",
    foreign="{path}: not a w2v pooling file", c_order=False)


# --------------------------------------------------------------------------- versions


def check_version(kind, fields, path):
    """The version of a file of `kind` whose header (or members) are `fields`, by the rule
    of the module docstring; InputError when this w2v cannot read it."""
    name, version = kind.read_stamp(fields)
    if name != kind.format:
        raise InputError(kind.message(kind.foreign, path))
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(kind.message(kind.broken, path, why=f"its header has no valid format "
                                                              f"version ({version!r})"))
    if version > kind.version:
        raise InputError(newer_message(kind, path, version, fields.get("w2v_version")
                                       if isinstance(fields, dict) else None))
    if version < kind.oldest:
        raise InputError(kind.message(kind.older, path, version=version, newest=kind.version))
    return version


def newer_message(kind, path, version, w2v_version=None):
    """The one message for a file newer than this w2v reads."""
    reads = str(kind.version) if kind.oldest == kind.version else f"{kind.oldest}-{kind.version}"
    by = f" ({w2v_version})" if w2v_version else ""
    return (f"{path}: {kind.noun} format {version} is newer than this w2v reads ({reads}); it "
            f"was written by a newer w2v{by}: upgrade w2v")


# --------------------------------------------------------------------------- writing


def json_member(header, kind):
    """A JSON header as a uint8 member."""
    text = json.dumps(header, ensure_ascii=kind.ascii_header)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def write(path, kind, members):
    """Write `members` (name -> array, in file order) as a container of `kind`, atomically:
    the file is replaced only once complete, so an interrupted write leaves the previous
    file intact. Object arrays are refused."""
    with atomic_write(path, "wb") as out:
        write_to(out, kind, members)


def write_to(out, kind, members):
    """Write the container to the open binary file `out`; a member may be `Streamed`."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in members.items():
            info = _member_info(name + ".npy", out if kind.aligned else None,
                                _clock() if kind.dated else ZIP_EPOCH)
            with archive.open(info, "w", force_zip64=True) as member:
                if isinstance(array, Streamed):
                    array.write(member)
                    continue
                array = np.asarray(array, order="C") if kind.c_order else np.asanyarray(array)
                np.lib.format.write_array(member, array, allow_pickle=False)


@dataclasses.dataclass(frozen=True)
class Streamed:
    """A C-ordered member written a slice of rows at a time, for a matrix the writer does
    not hold whole: `slices()` yields its rows in order, as arrays of `dtype`. The bytes are
    those `numpy.lib.format.write_array` writes for the whole matrix."""

    shape: tuple
    dtype: np.dtype
    slices: object  # () -> iterator of row slices

    def write(self, member):
        """The .npy header, then the rows, into the open zip member."""
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(self.dtype)),
                  "fortran_order": False, "shape": tuple(self.shape)}
        np.lib.format.write_array_header_1_0(member, header)
        rows = 0
        for part in self.slices():
            member.write(np.ascontiguousarray(part, dtype=self.dtype).tobytes())
            rows += len(part)
        if rows != self.shape[0]:
            raise ValueError(f"{rows} rows streamed into a member of shape {self.shape}")


def _clock():
    """The time a dated member records."""
    return time.localtime(time.time())[:6]


def _member_info(filename, out, date_time):
    """A stored member's ZipInfo; with `out`, its local header padded so the member's data,
    and so its `.npy` array data (numpy pads its header to 64 bytes), start 64-byte aligned:
    then a reader can memory-map a large matrix instead of reading it whole."""
    info = zipfile.ZipInfo(filename, date_time)
    info.compress_type = zipfile.ZIP_STORED
    if out is None:
        return info
    try:
        offset = out.tell()
    except (OSError, ValueError):  # a stream: nothing to map, no need to align
        return info
    header = 30 + len(filename.encode("utf-8")) + 4 + ZIP64_LOCAL_EXTRA
    pad = (-(offset + header)) % 64
    info.extra = struct.pack("<HH", PAD_EXTRA_ID, pad) + b"\0" * pad
    return info


# --------------------------------------------------------------------------- reading


def is_container(path):
    """Whether `path` starts like a zip archive, as opposed to, say, a vector file."""
    if path == "-":
        return False
    try:
        with open(path, "rb") as f:
            return f.read(4) == ZIP_MAGIC
    except OSError:
        return False


def stored_member(path, info):
    """(dtype, shape, order, offset) of an uncompressed `.npy` zip member (`info`) in the
    file at `path`: where its data start, checked to fit in the member and the file. ValueError
    as `read_stored_member`."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if not 0 <= info.header_offset <= size - 30:
            raise ValueError("bad local header")
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != ZIP_MAGIC:
            raise ValueError("bad local header")
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        member = info.header_offset + 30 + name_len + extra_len
        f.seek(member)
        end = min(member + info.compress_size, size)
        shape, fortran, dtype = _npy_header(f, end)
        start = f.tell()
        if start + math.prod(shape) * dtype.itemsize > end:
            raise ValueError("truncated")
        return dtype, shape, "F" if fortran else "C", start


def read_stored_member(path, info, mmap=False):
    """The `.npy` array of an uncompressed zip member (`info`), read straight from its offset
    in the file at `path` (memory-mapped with `mmap` when its data is aligned). ValueError
    for a damaged, truncated or object-dtype member, or one whose header claims more values
    than the member and the file hold; pickle is never used."""
    dtype, shape, order, start = stored_member(path, info)
    count = math.prod(shape)
    if mmap and count and start % dtype.alignment == 0:
        return np.memmap(path, dtype=dtype, mode="r", offset=start, shape=shape, order=order)
    with open(path, "rb") as f:
        f.seek(start)
        data = np.fromfile(f, dtype=dtype, count=count)
    if data.size != count:
        raise ValueError(f"{data.size} of {count} values present")
    return data.reshape(shape, order=order)


def release_rows(matrix, lo, hi):
    """Let rows lo:hi of a matrix memory-mapped by `read_stored_member` leave this process's
    resident memory (they are read from the file again if touched): a mapped matrix read
    through a slice at a time then keeps about a slice resident. Other arrays: a no-op."""
    mapping = getattr(matrix, "_mmap", None)  # numpy.memmap's mapping (mode "r": shared)
    if mapping is None or not hasattr(mmap, "MADV_DONTNEED") or hi <= lo:
        return
    base = np.frombuffer(mapping, dtype=np.uint8).ctypes.data
    first = matrix[lo:hi].ctypes.data - base
    end = first + (hi - lo) * matrix.strides[0]
    first = -(-first // mmap.PAGESIZE) * mmap.PAGESIZE  # whole pages only
    end = end // mmap.PAGESIZE * mmap.PAGESIZE
    if end > first:
        mapping.madvise(mmap.MADV_DONTNEED, first, end - first)


NPY_HEADER_BYTES = 1 << 16  # longer than any header an array of a few dimensions needs


def _npy_header(f, end):
    """(shape, fortran, dtype) of the .npy header at f's position; its declared length is
    checked against the member's `end` and a bound before numpy reads (and allocates) it."""
    version = np.lib.format.read_magic(f)
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise ValueError(f"unknown .npy version {version}")
    width = 2 if version == (1, 0) else 4
    length_bytes = f.read(width)
    if len(length_bytes) != width:
        raise ValueError("truncated")
    length = int.from_bytes(length_bytes, "little")
    if length > NPY_HEADER_BYTES or f.tell() + length > end:
        raise ValueError(f"a .npy header of {length} bytes")
    f.seek(-len(length_bytes), os.SEEK_CUR)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    try:
        shape, fortran, dtype = read_header(f)
    except (SyntaxError, TypeError, KeyError, AttributeError, RecursionError,
            tokenize.TokenError) as e:  # numpy parses the header as Python literals
        raise ValueError(f"a damaged .npy header ({type(e).__name__})") from None
    if dtype.hasobject:
        raise ValueError("object arrays are refused")
    if dtype.itemsize == 0 or dtype.subdtype is not None:
        raise ValueError(f"the dtype {dtype} is refused")
    if any(n < 0 for n in shape):
        raise ValueError(f"negative shape {shape}")
    return shape, fortran, dtype


class Container:
    """An opened container file of `kind`: its members, read on demand; `read_header()`
    reads and checks the JSON header. Every failure is a one-line InputError in the kind's words."""

    def __init__(self, path, kind):
        self.path, self.kind = os.fspath(path), kind
        try:
            self._zip = zipfile.ZipFile(self.path)
            self._members = {info.filename: info for info in self._zip.infolist()}
        except FileNotFoundError as e:
            raise InputError(self._say(kind.missing, kind.unreadable, why=e.strerror)) from None
        except IsADirectoryError as e:
            raise InputError(self._say(kind.directory, kind.unreadable, why=e.strerror)) from None
        except OSError as e:
            raise InputError(self._say(kind.unreadable, why=e.strerror or e)) from None
        except (zipfile.BadZipFile, ValueError, EOFError, OverflowError, struct.error,
                NotImplementedError):
            raise InputError(self.broken(kind.incomplete)) from None

    def _say(self, template, fallback=None, **values):
        return self.kind.message(template or fallback, self.path, **values)

    def broken(self, why):
        """The kind's message for a damaged file, saying `why`."""
        return self.kind.message(self.kind.broken, self.path, why=why)

    def read_header(self):
        """The JSON header, its format and version checked (`check_version`)."""
        kind = self.kind
        if kind.header + ".npy" not in self._members and kind.headless:
            raise InputError(self.broken(kind.headless))
        raw = self.array(kind.header)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise InputError(self.broken("its header is not valid JSON"))
        try:
            header = json.loads(raw.tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InputError(self.broken("its header is not valid JSON")) from None
        if not isinstance(header, dict):
            raise InputError(kind.message(kind.foreign, self.path))
        check_version(kind, header, self.path)
        return header

    def names(self, prefix=""):
        """The names of the members starting with `prefix`, in file order."""
        return [n[:-4] for n in self._members if n.startswith(prefix) and n.endswith(".npy")]

    def __contains__(self, name):
        return name + ".npy" in self._members

    def array(self, name, mmap=False):
        """One member as an array, read straight from its offset when it is stored plainly
        (memory-mapped with `mmap`, where its data is aligned)."""
        info = self._members.get(name + ".npy")
        if info is None:
            raise InputError(self.broken(f"the array {name!r} is missing"))
        try:
            if info.compress_type != zipfile.ZIP_STORED:
                raise InputError(self.broken(
                    f"the array {name!r} is compressed; w2v reads its files uncompressed "
                    f"(numpy.savez, not savez_compressed)"))
            array = read_stored_member(self.path, info, mmap=mmap)
            if not self.kind.fortran and array.ndim > 1 and np.isfortran(array):
                raise ValueError("Fortran-ordered arrays are refused")
            if array.dtype.kind == "U" and array.size:
                codes = array.astype(array.dtype.newbyteorder("=")).reshape(-1).view(np.uint32)
                if codes.max() > 0x10FFFF:
                    raise ValueError("text that is not Unicode")
            return array
        except (ValueError, EOFError, OSError, OverflowError, RecursionError,
                zipfile.BadZipFile) as e:
            raise InputError(self.broken(f"the array {name!r} is damaged ({e})")) from None

    def slices(self, name):
        """A reader of one-dimensional member `name` by ranges, `read(start, stop)`, for a
        member too large to hold whole; its length is `len(reader)`."""
        info = self._members.get(name + ".npy")
        if info is None:
            raise InputError(self.broken(f"the array {name!r} is missing"))
        if info.compress_type != zipfile.ZIP_STORED:
            raise InputError(self.broken(f"the array {name!r} is compressed"))
        try:
            dtype, shape, _, start = stored_member(self.path, info)
        except (ValueError, EOFError, OSError, OverflowError) as e:
            raise InputError(self.broken(f"the array {name!r} is damaged ({e})")) from None
        if len(shape) != 1:
            raise InputError(self.broken(f"the array {name!r} has shape {shape}"))
        return MemberSlices(self, name, dtype, shape[0], start)

    def arrays(self, prefix=""):
        """{name without `prefix`: array} of the members starting with `prefix`."""
        return {name[len(prefix):]: self.array(name) for name in self.names(prefix)}

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class MemberSlices:
    """Ranges of a one-dimensional container member read from the file on demand."""

    def __init__(self, container, name, dtype, length, start):
        self.container, self.name, self.dtype = container, name, dtype
        self.length, self.start = length, start

    def __len__(self):
        return self.length

    def read(self, first, end):
        """Values first:end of the member."""
        first, end = max(0, first), min(end, self.length)
        count = max(0, end - first)
        try:
            with open(self.container.path, "rb") as f:
                f.seek(self.start + first * self.dtype.itemsize)
                data = np.fromfile(f, dtype=self.dtype, count=count)
        except OSError as e:
            raise InputError(self.container.broken(f"the array {self.name!r} cannot be read "
                                                   f"({e})")) from None
        if data.size != count:
            raise InputError(self.container.broken(f"the array {self.name!r} is truncated"))
        return data
