"""Fuzz every reader of files from strangers: mutate valid files, run `w2v` on them in process.

Usage: python benchmarks/fuzz_readers.py [--cases 100000] [--kinds model,text,...]
                                         [--seed 0] [--minutes M] [--failures DIR]

Valid seed files of every kind w2v reads are built once in a temporary folder (a tiny
corpus, `w2v train --dim 8 --min-count 1 --save-model`, `w2v cooccur`, `w2v index`,
`w2v embed --save-pooling`, a fastText `.bin`, vector, vocabulary, phrase, WEAT and config
files). Each case mutates one seed (truncation at a region boundary or anywhere, byte flips,
inserted, deleted or repeated runs, header fields set to 0, -1, huge, NaN or a wrong type;
in a container, the values of its JSON header and the members themselves; in a text file,
its tokens and lines) and runs a command that reads it through `w2v.cli.main`. A case
passes when the command exits 0, 1 or 2, raises nothing but SystemExit, prints no
traceback, and, when it fails, ends with one `w2v: error: ...` line (other stderr lines
being w2v's own log lines), within a bound on peak traced memory and time.

Cases are spread over the kinds round-robin; the run prints the cases run per kind and
every distinct failure (deduplicated by kind, exception type and the w2v line it came
from, or by the kind of misbehaviour), each with the file that shows it (saved under
--failures) and the command to reproduce it. `tests/test_fuzz_readers.py` runs a short,
deterministic slice of the same mutations with hypothesis.
"""

import argparse
import contextlib
import dataclasses
import io
import json
import math
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import time
import tracemalloc
import traceback
import warnings
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from w2v.cli import main  # noqa: E402

MEMORY_BOUND = 96 << 20  # peak traced bytes a case may take, plus a multiple of its size
MEMORY_PER_BYTE = 24
SLOW_SECONDS = 20.0
ENDLESS_BYTES = 3 << 20  # a line without an end, as from /dev/zero
WORDS = "the cat dog sat on mat new york city big apple red blue green stone tree river".split()

# --------------------------------------------------------------------------- seed files


def _corpus_lines(seed=0):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(8)) + " new york" for _ in range(60)]


def _quiet_main(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    if code != 0:
        raise RuntimeError(f"building a seed failed: w2v {' '.join(args)}: {err.getvalue()}")


def build_seeds(folder):
    """Write the valid seed files into `folder`: {kind: path}, and the reference files."""
    from w2v.corpus.phrase_tables import Phrase, write_phrases
    from w2v.corpus.vocab import Vocab, save_vocab
    from w2v.files.fasttext import write_fasttext_bin
    from w2v.files.formats import load_vectors, save_vectors

    f = lambda name: os.path.join(folder, name)  # noqa: E731
    with open(f("corpus.txt"), "w") as out:
        out.write("\n".join(_corpus_lines()) + "\n")
    with open(f("docs.txt"), "w") as out:
        out.write("\n".join(_corpus_lines(1)[:4]) + "\n")
    common = ["--dim", "8", "--min-count", "1", "--epochs", "1", "--threads", "1", "--seed",
              "1", "-q"]
    _quiet_main(["train", f("corpus.txt"), "-o", f("vec.txt"), "--save-model", f("model.w2v"),
                 "--phrases", "1", "--phrase-threshold", "0.1", *common])
    _quiet_main(["cooccur", f("corpus.txt"), "-o", f("counts.npz"), "--min-count", "1",
                 "--window", "2", "--threads", "1", "-q"])
    _quiet_main(["index", f("docs.txt"), "-v", f("vec.txt"), "-o", f("docs.idx"), "-q"])
    _quiet_main(["embed", f("docs.txt"), "-v", f("model.w2v"), "--pooling", "sif",
                 "--save-pooling", f("pooling.npz"), "-o", f("emb.npy"), "-q"])
    wv = load_vectors(f("vec.txt"))
    wv = type(wv)(wv.words[:12], wv.vectors[:12])
    save_vectors(wv, f("vec.bin"), format="binary")
    save_vectors(wv, f("vec.glove"), format="glove")
    save_vectors(wv, f("small.txt"), format="text")
    rng = np.random.default_rng(0)
    words, bucket = wv.words[:6], 20
    write_fasttext_bin(f("ft.bin"), words, np.arange(len(words), 0, -1) * 5,
                       rng.standard_normal((len(words) + bucket, 4)).astype(np.float32),
                       rng.standard_normal((len(words), 4)).astype(np.float32),
                       bucket=bucket, minn=2, maxn=3, min_count=1)
    save_vocab(Vocab(wv.words, np.arange(len(wv.words), 0, -1) * 7), f("vocab.txt"))
    write_phrases([[Phrase("new_york", 60, 12.5), Phrase("big_apple", 3, 0.25)],
                   [Phrase("new_york_city", 2, 1.5)]], f("phrases.tsv"))
    with open(f("tests.toml"), "w") as out:
        out.write('[pets]\ndescription = "pets vs things"\nX = ["cat", "dog"]\n'
                  'Y = ["stone", "tree"]\nA = ["red", "blue"]\nB = ["green", "river"]\n'
                  'X_name = "animals"\n\n[other]\nX = ["the"]\nY = ["on"]\nA = ["sat"]\n'
                  'B = ["mat"]\n')
    with open(f("similar.toml"), "w") as out:
        out.write('top = 3\njson = true\nquiet = false\n')
    with open(f("train.toml"), "w") as out:
        out.write('dim = 4\nmin-count = 1\nepochs = 1\nthreads = 1\nwindow = 2\n'
                  'model = "cbow"\nsample = 0.001\nphrases = 0\n')
    return {kind.name: f(kind.seed) for kind in KINDS.values()}


# --------------------------------------------------------------------------- mutations

HOSTILE_NUMBERS = [0, -1, 1, 2**31 - 1, 2**31, 2**32 + 3, 2**62, 2**63 - 1, -2**63, 10**30,
                   -(10**30)]
HOSTILE_JSON = HOSTILE_NUMBERS + [0.5, -0.0, float("nan"), float("inf"), -float("inf"), 1e308,
                                  "", "x", "\x00", "../" * 8 + "etc/passwd", "/dev/zero",
                                  None, True, False, [], {}, [1, 2], {"a": 1}, [[[]]],
                                  "w2v-model", "w2v-cooccur", "w2v-docindex", "w2v-pooling-2",
                                  "9" * 400]
HOSTILE_TOKENS = [b"0", b"-1", b"1", b"2147483648", b"4294967297", b"9" * 30, b"1e39",
                  b"-1e39", b"nan", b"NaN", b"inf", b"-inf", b"", b"x", b"\x00", b"\xef\xbb\xbf",
                  b"\xff\xfe", b"true", b"[]", b"{}", b'"s"', b"'", b'"', b"[x]", b"=",
                  b"\xef\xbc\x91", b"\xd9\xa3", b"a" * 5000, b"\t", b"\r", b"#", b"_",
                  b"__", b"a b", b"0x10", b"1_000", b"+5", b"1.5", b"-0", b"</s>"]


def _interesting_offsets(data):
    """Region boundaries of a file: line ends, zip headers, npy headers, and the ends."""
    marks = {0, 1, len(data) - 1, len(data) // 2}
    for pattern in (b"\n", b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\x93NUMPY", b"{",
                    b"\x00"):
        start = 0
        for _ in range(64):
            at = data.find(pattern, start)
            if at < 0:
                break
            marks.update((at, at + len(pattern)))
            start = at + 1
    return sorted(m for m in marks if 0 <= m <= len(data))


def truncate(data, rng, seed_info):
    if rng.random() < 0.7:
        at = rng.choice(_interesting_offsets(data))
        at = max(0, min(len(data), at + rng.choice([-1, 0, 0, 1])))
    else:
        at = rng.randrange(len(data) + 1)
    return data[:at], f"truncated at byte {at}"


def flip_bits(data, rng, seed_info):
    if not data:
        return data, "empty"
    out = bytearray(data)
    n = rng.choice([1, 1, 2, 4, 16])
    places = []
    for _ in range(n):
        i = rng.randrange(len(out))
        bit = rng.randrange(8)
        out[i] ^= 1 << bit
        places.append(f"{i}^{1 << bit}")
    return bytes(out), "bit flips at " + ",".join(places)


def overwrite_run(data, rng, seed_info):
    if not data:
        return data, "empty"
    i = rng.choice(_interesting_offsets(data)) if rng.random() < 0.5 else rng.randrange(len(data))
    n = rng.choice([1, 2, 4, 8, 64])
    fill = rng.choice([b"\x00", b"\xff", b"\x7f", b"9", b" ", b"\n", None])
    run = bytes(rng.randrange(256) for _ in range(n)) if fill is None else fill * n
    return data[:i] + run + data[i + n:], f"{n} bytes at {i} set to {run[:8]!r}"


def splice(data, rng, seed_info):
    """Delete, repeat or insert a run of bytes."""
    i = rng.randrange(len(data) + 1)
    n = rng.choice([1, 3, 16, 200, 5000])
    how = rng.choice(["delete", "repeat", "insert"])
    if how == "delete":
        return data[:i] + data[i + n:], f"{n} bytes deleted at {i}"
    if how == "repeat":
        return data[:i] + data[i:i + n] * rng.choice([2, 50]) + data[i:], f"bytes {i}+{n} repeated"
    junk = bytes(rng.randrange(256) for _ in range(min(n, 300)))
    return data[:i] + junk + data[i:], f"{len(junk)} random bytes inserted at {i}"


def append_or_prepend(data, rng, seed_info):
    how = rng.choice(["bom", "endless-zero", "endless-digits", "endless-nul-end", "junk",
                      "nul", "crlf"])
    if how == "bom":
        return b"\xef\xbb\xbf" + data, "a UTF-8 byte-order mark prepended"
    if how == "endless-zero":
        return b"\x00" * ENDLESS_BYTES, f"{ENDLESS_BYTES} NUL bytes, no newline"
    if how == "endless-digits":
        return b"1" * ENDLESS_BYTES, f"{ENDLESS_BYTES} digits, no newline"
    if how == "endless-nul-end":
        return data + b"\x00" * ENDLESS_BYTES, f"{ENDLESS_BYTES} NUL bytes appended"
    if how == "nul":
        return data.replace(b"\n", b"\x00\n", 1), "a NUL before the first newline"
    if how == "crlf":
        return data.replace(b"\n", b"\r\n"), "CRLF line ends"
    junk = bytes(rng.randrange(256) for _ in range(rng.choice([1, 10, 500])))
    return data + junk, f"{len(junk)} random bytes appended"


_TOKEN = re.compile(rb"[^\s=,\[\]\"]+")


def replace_token(data, rng, seed_info):
    """A token of a text file (a number, word or TOML value) swapped for a hostile one."""
    tokens = list(_TOKEN.finditer(data))
    if not tokens:
        return data, "no tokens"
    first_line = data.find(b"\n")
    if rng.random() < 0.3 and first_line > 0:  # the header line, where there is one
        tokens = [t for t in tokens if t.start() < first_line] or tokens
    t = rng.choice(tokens)
    new = rng.choice(HOSTILE_TOKENS)
    return data[:t.start()] + new + data[t.end():], f"token {t.group()[:20]!r} at {t.start()} -> {new[:20]!r}"


def shuffle_lines(data, rng, seed_info):
    lines = data.split(b"\n")
    how = rng.choice(["duplicate", "delete", "swap", "insert", "blank"])
    i = rng.randrange(len(lines))
    if how == "duplicate":
        lines.insert(i, lines[i])
    elif how == "delete":
        del lines[i]
    elif how == "swap":
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif how == "blank":
        lines[i] = b" \t "
    else:
        lines.insert(i, rng.choice(HOSTILE_TOKENS) + rng.choice([b" ", b"\t", b" = "])
                     + rng.choice(HOSTILE_TOKENS))
    return b"\n".join(lines), f"line {i + 1}: {how}"


# ----- containers (.npz + JSON)


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _rezip(members):
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        warnings.simplefilter("ignore")  # a member written twice, on purpose
        for name, raw in members:
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), raw)
    return out.getvalue()


def _npy(array, allow_pickle=False):
    out = io.BytesIO()
    np.lib.format.write_array(out, array, allow_pickle=allow_pickle)
    return out.getvalue()


def _load_npy(raw):
    return np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)


def _json_members(members):
    found = []
    for i, (name, raw) in enumerate(members):
        try:
            array = _load_npy(raw)
            if array.dtype == np.uint8 and array.ndim == 1:
                found.append((i, json.loads(array.tobytes().decode("utf-8")), "bytes"))
            elif array.dtype.kind == "U" and array.ndim == 0:
                found.append((i, str(array), "str"))
        except Exception:
            continue
    return found


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for k, v in enumerate(value[:20]):
            yield from _paths(v, prefix + (k,))


def _set(value, path, new, delete=False):
    if not path:
        return new
    parent = value
    for k in path[:-1]:
        parent = parent[k]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return value


_DEEP = "<a deeply nested list>"


def mutate_json_header(data, rng, seed_info):
    """A value of the container's JSON header (or its format string) set to a hostile one."""
    try:
        members = _members(data)
    except Exception:
        return data, "not a zip"
    found = _json_members(members)
    if not found:
        return data, "no JSON member"
    i, value, how = rng.choice(found)
    deep = json.dumps(_DEEP)
    name = members[i][0]
    if how == "str":
        new = rng.choice(["w2v-pooling-0", "w2v-pooling-3", "w2v-pooling-99999999999999999999",
                          "w2v-pooling--1", "w2v-pooling-x", "", "w2v-model", "w2v-pooling-1"])
        raw = _npy(np.array(new))
        desc = f"{name} = {new!r}"
    else:
        paths = list(_paths(value))
        path = rng.choice(paths)
        action = rng.random()
        if action < 0.15 and path:
            value = _set(value, path, None, delete=True)
            desc = f"{name}: deleted {list(path)}"
        elif action < 0.2 and isinstance(value, dict):
            value["unknown_key"] = rng.choice(HOSTILE_JSON)
            desc = f"{name}: added an unknown key"
        elif action < 0.25:
            depth = rng.choice([100, 5000])
            value = _set(value, path, _DEEP)
            deep = "[" * depth + "]" * depth
            desc = f"{name}: {list(path)} = a deeply nested list"
        else:
            new = rng.choice(HOSTILE_JSON)
            if isinstance(new, (list, dict)):
                new = json.loads(json.dumps(new))
            value = _set(value, path, new)
            desc = f"{name}: {list(path)} = {new!r}"[:300]
        text = json.dumps(value, allow_nan=True).replace(json.dumps(_DEEP), deep)
        raw = _npy(np.frombuffer(text.encode("utf-8"), dtype=np.uint8))
    members[i] = (name, raw)
    return _rezip(members), desc


def mutate_member(data, rng, seed_info):
    """A member array replaced: other dtype, shape, size, values, object dtype, or gone."""
    try:
        members = _members(data)
    except Exception:
        return data, "not a zip"
    if not members:
        return data, "no members"
    i = rng.randrange(len(members))
    name, raw = members[i]
    try:
        array = _load_npy(raw)
    except Exception:
        return data, f"{name} unreadable"
    how = rng.choice(["delete", "empty", "dtype", "shape", "flat", "nan", "huge", "object",
                      "scalar", "claim", "duplicate", "negative", "fortran"])
    desc = f"{name}: {how}"
    if how == "delete":
        del members[i]
        return _rezip(members), desc
    if how == "duplicate":
        members.append(members[i])
        return _rezip(members), desc
    if how == "empty":
        new = np.zeros((0,) + array.shape[1:], dtype=array.dtype)
    elif how == "dtype":
        dtype = rng.choice([np.int8, np.float64, np.complex64, np.int64, np.uint64, "U3", "S4",
                            np.bool_, ">f4", ">i8", np.float16])
        try:
            new = array.astype(dtype)
        except Exception:
            new = np.zeros(array.shape, dtype=dtype)
        desc += f" {np.dtype(dtype)}"
    elif how == "shape":
        new = array.reshape(-1)[: max(0, array.size - 1)] if array.ndim < 2 else array.T.copy()
    elif how == "flat":
        new = array.reshape(-1)
        new = new.reshape(1, -1) if rng.random() < 0.5 else new
    elif how == "nan":
        new = array.copy() if array.dtype.kind in "fc" else np.zeros(array.shape, np.float32)
        if new.size:
            new.reshape(-1)[rng.randrange(new.size)] = np.nan
    elif how == "huge" or how == "negative":
        new = array.copy()
        if new.size and new.dtype.kind in "iuf":
            if new.dtype.kind == "f":
                value = 3e38 if how == "huge" else -1.0
            else:
                info = np.iinfo(new.dtype)
                value = info.max if how == "huge" or info.min == 0 else -1
            new.reshape(-1)[rng.randrange(new.size)] = value
    elif how == "object":
        members[i] = (name, _npy(np.array([{"x": 1}, None], dtype=object), allow_pickle=True))
        return _rezip(members), desc
    elif how == "scalar":
        new = np.array(7, dtype=array.dtype if array.dtype.kind in "iufb" else np.int64)
    elif how == "fortran":
        new = np.asfortranarray(array)
    else:  # claim: the npy header announces far more than the bytes that follow
        header_end = raw.index(b"\n") + 1
        header = raw[:header_end].decode("latin-1")
        claimed = re.sub(r"'shape': \((\d*)", lambda m: f"'shape': ({10**12}", header, count=1)
        claimed = claimed.rstrip("\n").rstrip(" ")
        pad = header_end - len(claimed) - 1
        if pad < 0:
            return data, desc + " (no room)"
        members[i] = (name, (claimed + " " * pad + "\n").encode("latin-1") + raw[header_end:])
        return _rezip(members), desc
    members[i] = (name, _npy(new))
    return _rezip(members), desc


# ----- fastText .bin


def _fasttext_fields(data):
    """(offset, struct format, name) of every header field of a fastText .bin."""
    fields = [(0, "<i", "magic"), (4, "<i", "version")]
    names = ["dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket",
             "minn", "maxn", "lrUpdateRate"]
    fields += [(8 + 4 * k, "<i", n) for k, n in enumerate(names)] + [(56, "<d", "t")]
    fields += [(64, "<i", "size"), (68, "<i", "nwords"), (72, "<i", "nlabels"),
               (76, "<q", "ntokens"), (84, "<q", "pruneidx_size")]
    try:
        size = struct.unpack_from("<i", data, 64)[0]
        pos = 92
        for k in range(size):
            end = data.index(b"\x00", pos)
            fields += [(end + 1, "<q", f"count[{k}]"), (end + 9, "<b", f"type[{k}]")]
            pos = end + 10
        fields += [(pos, "<?", "quant_input"), (pos + 1, "<q", "rows_in"), (pos + 9, "<q", "dim_in")]
        m, n = struct.unpack_from("<2q", data, pos + 1)
        pos += 17 + 4 * m * n
        fields += [(pos, "<?", "quant_output"), (pos + 1, "<q", "rows_out"),
                   (pos + 9, "<q", "dim_out")]
    except (ValueError, struct.error):
        pass
    return [f for f in fields if f[0] + struct.calcsize(f[1]) <= len(data)]


def mutate_fasttext_field(data, rng, seed_info):
    fields = _fasttext_fields(data)
    offset, fmt, name = rng.choice(fields)
    if fmt == "<d":
        value = rng.choice([0.0, -1.0, float("nan"), float("inf"), 1e300])
    elif fmt in ("<?", "<b"):
        value = rng.choice([0, 1, 2, 127, -1]) if fmt == "<b" else rng.choice([True, False])
    else:
        bits = 8 * struct.calcsize(fmt) - 1
        value = rng.choice([0, -1, 1, 2, 7, 100, 2**bits - 1, -2**bits, 2**(bits // 2),
                            rng.randrange(-2**bits, 2**bits)])
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out), f"{name} (byte {offset}) = {value!r}"


# --------------------------------------------------------------------------- kinds


@dataclasses.dataclass
class Kind:
    name: str
    seed: str  # file name in the seed folder
    commands: list  # argument lists; "{F}" is the mutated file, "{D}/" the seed folder
    mutators: list


BYTES = [truncate, flip_bits, overwrite_run, splice, append_or_prepend]
TEXT = BYTES + [replace_token, replace_token, shuffle_lines]
CONTAINER = BYTES + [mutate_json_header, mutate_json_header, mutate_json_header, mutate_member,
                     mutate_member]
VECTORS = [["info", "{F}"], ["similar", "cat", "-v", "{F}", "-n", "3"],
           ["convert", "{F}", "-o", "{D}/out.txt", "-q"]]

KINDS = {k.name: k for k in [
    Kind("model", "model.w2v", [["info", "{F}"], ["similar", "cat", "-v", "{F}"],
                                ["embed", "{D}/docs.txt", "-v", "{F}", "-o", "{D}/out.npy", "-q"]],
         CONTAINER),
    Kind("counts", "counts.npz", [["svd", "--read-cooccur", "{F}", "--dim", "2", "--threads",
                                   "1", "-o", "{D}/out.txt", "-q"]], CONTAINER),
    Kind("index", "docs.idx", [["search", "--index", "{F}", "cat dog", "-n", "2"]], CONTAINER),
    Kind("pooling", "pooling.npz", [["embed", "{D}/docs.txt", "-v", "{D}/model.w2v",
                                     "--read-pooling", "{F}", "-o", "{D}/out.npy", "-q"]],
         CONTAINER),
    Kind("fasttext", "ft.bin", VECTORS, BYTES + [mutate_fasttext_field] * 4),
    Kind("text", "small.txt", VECTORS, TEXT),
    Kind("binary", "vec.bin", VECTORS, TEXT),
    Kind("glove", "vec.glove", VECTORS, TEXT),
    Kind("vocab", "vocab.txt", [["embed", "{D}/docs.txt", "-v", "{D}/vec.txt", "--pooling",
                                 "sif", "--vocab", "{F}", "-o", "{D}/out.npy", "-q"]], TEXT),
    Kind("phrases", "phrases.tsv", [["embed", "{D}/docs.txt", "-v", "{D}/vec.txt",
                                     "--phrases-file", "{F}", "-o", "{D}/out.npy", "-q"],
                                    ["search", "--docs", "{D}/docs.txt", "-v", "{D}/vec.txt",
                                     "--phrases-file", "{F}", "new york"]], TEXT),
    Kind("weat", "tests.toml", [["bias", "-v", "{D}/vec.txt", "--tests-file", "{F}",
                                 "--permutations", "20"]], TEXT),
    Kind("config", "similar.toml", [["similar", "--config", "{F}", "cat", "-v", "{D}/vec.txt"],
                                    ["info", "--config", "{F}", "{D}/vec.txt"]], TEXT),
    Kind("train-config", "train.toml", [["train", "{D}/corpus.txt", "--config", "{F}",
                                         "-o", "{D}/out.txt", "-q"]], TEXT),
]}


# --------------------------------------------------------------------------- one case


@dataclasses.dataclass
class Failure:
    kind: str
    signature: str  # what dedupes it
    detail: str  # the message, the traceback's last lines
    args: list
    mutation: str
    data: bytes


def mutate(kind, seed_bytes, rng):
    """One to three mutations of the seed: (bytes, description)."""
    data, steps = seed_bytes, []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        mutator = rng.choice(KINDS[kind].mutators)
        try:
            data, desc = mutator(data, rng, None)
        except Exception as e:  # a mutation that does not apply to this file; the next may
            desc = f"not applied ({type(e).__name__})"
        steps.append(f"{mutator.__name__}: {desc}")
    return data, "; ".join(steps)


def _where(exc):
    """file:line function of the innermost w2v frame of a traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}w2v{os.sep}" in f.filename] or frames
    f = ours[-1]
    return f"{f.filename.split(os.sep + 'w2v' + os.sep)[-1]}:{f.lineno} {f.name}"


_DIGITS = re.compile(r"\d+")


def run_case(kind, data, mutation, folder, rng, baseline=None, template=None):
    """Run one command of `kind` on `data`; a Failure, or None when w2v behaved.

    `baseline` maps a command's index in the kind's commands to the peak traced memory of
    its run on the seed, which the memory bound allows for."""
    ext = os.path.splitext(KINDS[kind].seed)[1]
    path = os.path.join(folder, f"case{ext}")
    with open(path, "wb") as out:
        out.write(data)
    command = rng.randrange(len(KINDS[kind].commands)) if template is None else template
    template = KINDS[kind].commands[command]
    args = [a.replace("{F}", path).replace("{D}", folder) for a in template]
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
    tracemalloc.reset_peak()
    held = tracemalloc.get_traced_memory()[0]  # what earlier cases left is not this one's
    start = time.perf_counter()
    exc = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException as e:  # noqa: BLE001 -- anything else is the finding
        exc, code = e, None
    finally:
        sys.stdin = stdin
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - held

    def failure(signature, detail):
        return Failure(kind, signature, detail, args, mutation, data)

    if exc is not None:
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:300]
        return failure(f"{type(exc).__name__} at {_where(exc)}", detail)
    lines = err.getvalue().splitlines()
    if any("Traceback" in line for line in lines):
        return failure("traceback on stderr", err.getvalue()[-600:])
    if code not in (0, 1, 2):
        return failure(f"exit code {code}", err.getvalue()[-300:])
    errors = [line for line in lines if line.startswith("w2v: error:")]
    if errors and errors[-1] == "w2v: error: out of memory":
        return failure(f"memory: out of memory in {template[0]}", err.getvalue()[-300:])
    if code != 0:
        if len(errors) != 1 or lines[-1] != errors[0]:
            return failure("not one error line", err.getvalue()[-600:])
    elif errors:
        return failure("error line with exit code 0", err.getvalue()[-600:])
    stray = [line for line in lines if not line.startswith("w2v: ")]
    if stray:
        return failure("stray stderr: " + _DIGITS.sub("N", stray[0])[:80], err.getvalue()[-600:])
    allowed = max(MEMORY_BOUND, 2 * (baseline or {}).get(command, 0))
    if peak > allowed + MEMORY_PER_BYTE * len(data):
        return failure(f"memory: {' '.join(template[:1])}",
                       f"peak {peak / 2**20:.0f} MiB for a {len(data)}-byte file")
    if seconds > SLOW_SECONDS:
        return failure(f"slow: {' '.join(template[:1])}", f"{seconds:.0f} s")
    return None


class Fuzzer:
    """Seeds built once in a temporary folder; cases run there, in this process."""

    def __init__(self, folder=None):
        """`folder` keeps the seeds (the reproductions name them); None: a temporary one."""
        self._own = folder is None
        self.folder = folder or tempfile.mkdtemp(prefix="w2v-fuzz-")
        self.seeds = {k: open(p, "rb").read() for k, p in build_seeds(self.folder).items()}
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        self.baseline = {}  # (kind, command) -> peak traced memory on the seed
        self.seconds = {}
        for name, kind in KINDS.items():
            for command in range(len(kind.commands)):
                for _ in range(2):  # the first run also imports and compiles
                    start = time.perf_counter()
                    failure = run_case(name, self.seeds[name], "none", self.folder, None,
                                       template=command)
                if failure is not None and not failure.signature.startswith("memory"):
                    raise RuntimeError(f"the seed of {name} fails: {failure.signature}: "
                                       f"{failure.detail}")
                self.seconds[name, command] = time.perf_counter() - start
                self.baseline.setdefault(name, {})[command] = tracemalloc.get_traced_memory()[1]

    def case(self, kind, rng):
        data, mutation = mutate(kind, self.seeds[kind], rng)
        return run_case(kind, data, mutation, self.folder, rng, self.baseline[kind])


    def close(self):
        tracemalloc.stop()
        if self._own:
            shutil.rmtree(self.folder, ignore_errors=True)


def case_seed(seed, n):
    return random.Random(f"{seed}-{n}").getrandbits(64)


def worker(opts, kinds, start):
    """Run cases from number `start` on, in this process; each failure is one JSON line of
    `results.jsonl`, and `current.json` names the case running, for a crash to be told."""
    import resource

    limit = opts.memory_limit_gb << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fuzzer = Fuzzer(os.path.abspath(os.path.join(opts.failures, "seeds")))
    deadline = None if opts.minutes is None else opts.started + 60 * opts.minutes
    results = open(os.path.join(opts.failures, "results.jsonl"), "a")
    current = os.path.join(opts.failures, "current")
    try:
        for n in range(start, opts.cases):
            if deadline is not None and time.time() > deadline:
                break
            kind = kinds[n % len(kinds)]
            rng = random.Random(case_seed(opts.seed, n))
            data, mutation = mutate(kind, fuzzer.seeds[kind], rng)
            command = rng.randrange(len(KINDS[kind].commands))
            with open(current + ".data", "wb") as out:
                out.write(data)
            with open(current + ".json", "w") as out:
                json.dump({"n": n, "kind": kind, "mutation": mutation, "command": command}, out)
            failure = run_case(kind, data, mutation, fuzzer.folder, rng,
                               fuzzer.baseline[kind], template=command)
            record = {"n": n, "kind": kind}
            if failure is not None:
                record.update(signature=failure.signature, detail=failure.detail,
                              args=failure.args, mutation=failure.mutation)
                with open(os.path.join(opts.failures, f"case-{n}.data"), "wb") as out:
                    out.write(data)
            results.write(json.dumps(record) + "\n")
            results.flush()
    finally:
        results.close()
        fuzzer.close()


def main_cli(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=None, help="stop after this long")
    parser.add_argument("--failures",
                        default=os.path.join(tempfile.gettempdir(), "w2v-fuzz-failures"),
                        help="folder for the seeds and the files that show each failure")
    parser.add_argument("--memory-limit-gb", type=int, default=8,
                        help="address-space limit of the process that runs the cases")
    parser.add_argument("--hang-seconds", type=float, default=120,
                        help="a case running longer is killed and reported as a hang")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--started", type=float, default=None, help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    kinds = opts.kinds.split(",")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")
    if opts.worker is not None:
        worker(opts, kinds, opts.worker)
        return 0
    # The cases run in one child process at a time; one that crashes it (a segfault) is
    # recorded as a failure and the next child goes on after it.
    os.makedirs(os.path.join(opts.failures, "seeds"), exist_ok=True)
    results_path = os.path.join(opts.failures, "results.jsonl")
    if os.path.exists(results_path):
        os.remove(results_path)
    started = time.time()
    crashes = []
    start = 0
    while start < opts.cases:
        args = [sys.executable, os.path.abspath(__file__), "--worker", str(start),
                "--started", str(started)] + [a for a in (argv or sys.argv[1:])]
        rc = _run_worker(args, os.path.join(opts.failures, "current.json"), opts.hang_seconds)
        if rc == 0:
            break
        with open(os.path.join(opts.failures, "current.json")) as f:
            case = json.load(f)
        shutil.copy(os.path.join(opts.failures, "current.data"),
                    os.path.join(opts.failures, f"case-{case['n']}.data"))
        template = KINDS[case["kind"]].commands[case["command"]]
        what = "hang" if rc == HUNG else f"crash (exit {rc})"
        crashes.append({**case, "signature": f"{what} in {template[0]}",
                        "detail": (f"no answer within {opts.hang_seconds} s" if rc == HUNG else
                                   f"the process died with exit status {rc}"),
                        "args": template})
        print(f"[{case['n'] + 1}] {case['kind']}: {what}", file=sys.stderr, flush=True)
        start = case["n"] + 1
    report(opts, kinds, results_path, crashes, time.time() - started)
    return 0


HUNG = "hung"


def _run_worker(args, current, hang_seconds):
    """The worker's exit status, or HUNG when one case ran `hang_seconds` (it is killed)."""
    import subprocess

    child = subprocess.Popen(args)
    while True:
        try:
            return child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            idle = time.time() - os.path.getmtime(current)
        except OSError:
            continue
        if idle > hang_seconds:
            child.kill()
            child.wait()
            return HUNG


def report(opts, kinds, results_path, crashes, seconds):
    counts = {k: 0 for k in kinds}
    found = {}
    records = []
    if os.path.exists(results_path):
        with open(results_path) as f:
            records = [json.loads(line) for line in f]
    for record in records + crashes:
        counts[record["kind"]] += 1
        if "signature" in record:
            key = (record["kind"], record["signature"])
            found.setdefault(key, []).append(record)
    print(f"{sum(counts.values())} cases in {seconds:.0f} s (seed {opts.seed})")
    for kind, n in counts.items():
        print(f"  {kind:13} {n}")
    print(f"{len(found)} distinct failures")
    seeds = os.path.abspath(os.path.join(opts.failures, "seeds"))
    for (kind, signature), hits in found.items():
        first = hits[0]
        ext = os.path.splitext(KINDS[kind].seed)[1]
        saved = os.path.abspath(os.path.join(opts.failures, f"case-{first['n']}{ext}"))
        data_file = os.path.join(opts.failures, f"case-{first['n']}.data")
        if os.path.exists(data_file):
            os.replace(data_file, saved)
        args = [a.replace("{F}", saved).replace("{D}", seeds) for a in first["args"]]
        print(f"\n{kind}: {signature} ({len(hits)} cases; first: case {first['n']})")
        print(f"  mutation: {first['mutation'][:300]}")
        print("  detail:   " + first["detail"].strip()[-400:].replace("\n", "\n            "))
        print(f"  repro:    {reproduction(args, saved)}")


def reproduction(args, saved):
    args = [saved if re.search(r"case\.\w+$", a) else a for a in args]
    return "python -m w2v " + " ".join(_quote(a) for a in args)


def _quote(text):
    return text if re.fullmatch(r"[\w./=:,+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    sys.exit(main_cli())
