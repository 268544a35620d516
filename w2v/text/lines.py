"""Lines of text files, stdin and .gz/.bz2/.xz, in blocks, without numba.

The document commands (`embed`, `search`, `evaluate --sts`) read text the way the corpus
reader does (`corpus.py`: a line ends at b"\\n" only, invalid UTF-8 is replaced and
counted, a NUL byte is refused), but they must start without numba, which `corpus.py`
imports for its tokenizer. So the few lines of input handling live here too.
"""

import bz2
import codecs
import gzip
import lzma
import os

from ..errors import InputError
from ..runtime.stdio import stdin_buffer

BLOCK_BYTES = 1 << 20

_MAGIC = [(b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw, mode="rb")), (b"BZh", bz2.BZ2File),
          (b"\xfd7zXZ\x00", lzma.LZMAFile)]
_BY_EXTENSION = {".gz": _MAGIC[0][1], ".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}


def check_inputs(paths):
    """Refuse missing files and directories before any work starts."""
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


def _open(path):
    name = "<stdin>" if path == "-" else path
    try:
        raw = stdin_buffer() if path == "-" else open(path, "rb")
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from None
    opener = _BY_EXTENSION.get(os.path.splitext(path)[1].lower())
    if opener is None and hasattr(raw, "peek"):
        head = raw.peek(8)[:8]
        opener = next((o for magic, o in _MAGIC if head.startswith(magic)), None)
    return name, raw, raw if opener is None else opener(raw)


class InvalidBytes:
    """A codecs error handler that replaces bad bytes with U+FFFD and counts them."""

    def __init__(self):
        self.count = 0
        self.name = f"w2v-lines-{id(self)}"
        codecs.register_error(self.name, self._handle)

    def _handle(self, error):
        self.count += error.end - error.start
        return "\ufffd", error.end


def read_blocks(paths, invalid=None):
    """Decoded blocks of whole lines of every input in order, each ending with "\\n".

    A last line without its newline gets one, so every block splits into whole lines.
    `invalid` (an InvalidBytes) counts the replaced bytes.
    """
    errors = invalid.name if invalid is not None else "replace"
    for path in check_inputs(paths):
        name, raw, stream = _open(path)
        offset = 0
        try:
            rest = b""
            while True:
                try:
                    chunk = stream.read(BLOCK_BYTES)
                except (OSError, EOFError, lzma.LZMAError) as e:
                    raise InputError(f"cannot read {name}: {e}") from None
                if not chunk:
                    if rest:
                        yield _decode(name, rest + b"\n", offset, errors)
                    break
                cut = chunk.rfind(b"\n")
                if cut < 0:
                    rest += chunk
                    continue
                block, rest = rest + chunk[: cut + 1], chunk[cut + 1:]
                yield _decode(name, block, offset, errors)
                offset += len(block)
        finally:
            if path != "-":
                raw.close()


def _decode(name, block, offset, errors):
    at = block.find(b"\x00")
    if at >= 0:
        raise InputError(f"{name} looks like binary data, not text: a NUL byte at byte "
                         f"offset {offset + at}")
    return block.decode("utf-8", errors)
