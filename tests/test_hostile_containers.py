"""Container files from strangers (model, count, index and pooling files): a crafted member
never costs what it claims, and every damaged file is one line on stderr with exit code 1,
never a traceback or a silent empty answer."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_main

from w2v.cooccur.file import CountFile, load_cooccur
from w2v.documents.index import open_index
from w2v.documents.pooling import load_pooling
from w2v.errors import InputError
from w2v.files import container
from w2v.files.fasttext import read_fasttext_bin, write_fasttext_bin

FIXTURES = os.path.join(os.path.dirname(__file__), "data", "fixtures")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_RSS_MB = 600


def members_of(name):
    with np.load(os.path.join(FIXTURES, name), allow_pickle=False) as archive:
        return {member: archive[member] for member in archive.files}


def savez(path, members):
    """Members written by numpy itself (not w2v's writer), uncompressed."""
    with open(path, "wb") as f:
        np.savez(f, **members)
    return path


def json_bytes(value):
    text = value if isinstance(value, str) else json.dumps(value)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def crafted(tmp_path, fixture, header=None, **changes):
    """A copy of `fixture` with header fields changed (`header`: a function of the header
    dict returning the new header, or raw JSON text) and members replaced (None: removed)."""
    members = members_of(fixture)
    key = "meta" if "meta" in members else "header"
    if header is not None:
        old = json.loads(bytes(members[key]).decode("utf-8"))
        members[key] = json_bytes(header if isinstance(header, str) else header(old))
    for name, value in changes.items():
        if value is None:
            del members[name]
        else:
            members[name] = value
    return savez(tmp_path / f"x{os.path.splitext(fixture)[1]}", members)


PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[2:]).returncode; "
        "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN)"
        ".ru_maxrss)); sys.exit(code)")


def w2v_rss(args, cwd, env=None, timeout=120):
    """(exit code, stderr, peak MB) of `python -m w2v.cli ARGS`, measured by a parent of
    its own (this process's children's peak holds every earlier test's too)."""
    peak = os.path.join(cwd, "peak.txt")
    done = subprocess.run([sys.executable, "-c", PEAK, peak, sys.executable, "-m", "w2v.cli",
                           *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": ROOT, **(env or {})})
    with open(peak) as f:
        return done.returncode, done.stderr, int(f.read()) / 1024


def words_of(fixture):
    return bytes(members_of(fixture)["words"]).decode("utf-8").split("\n")


# --------------------------------------------------------------------------- compressed


def test_a_deflated_header_bomb_is_refused_before_it_inflates(tmp_path):
    """A header member that inflates to 1 GiB from about 1 MB of file."""
    path = tmp_path / "bomb.w2v"
    members = members_of("sg.w2v")
    savez(path, {k: v for k, v in members.items() if k != "header"})
    block = b" " * (1 << 20)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("header.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {
                "descr": "|u1", "fortran_order": False, "shape": (1 << 30,)})
            for _ in range(1024):
                member.write(block)
    assert path.stat().st_size < 8 << 20
    for command in (["info", path], ["similar", "the", "-v", path]):
        code, err, peak = w2v_rss(command, tmp_path)
        assert code == 1 and "compressed" in err and len(err.strip().splitlines()) == 1, err
        assert peak < MAX_RSS_MB, peak


@pytest.mark.parametrize("fixture, command", [
    ("sg.w2v", lambda p: ["similar", "the", "-v", p]),
    ("counts.npz", lambda p: ["glove", "--read-cooccur", p, "-o", "g.bin"]),
    ("docs.idx", lambda p: ["search", "--index", p, "the", "-v", "sg.w2v"]),
])
def test_a_compressed_member_is_one_line_in_every_kind(tmp_path, capsys, monkeypatch, fixture,
                                                       command):
    monkeypatch.chdir(tmp_path)
    np.savez_compressed(tmp_path / "x.npz", **members_of(fixture))
    code, out, err = run_main(command(str(tmp_path / "x.npz")), capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, "is compressed")


# --------------------------------------------------------------------------- model files


MODEL_CASES = {
    "header a list": dict(header="[1]"),
    "header a string": dict(header='"w2v-model"'),
    "header nested deep": dict(header="[" * 100000 + "]" * 100000),
    "no config": dict(header=lambda h: {k: v for k, v in h.items() if k != "config"}),
    "config a list": dict(header=lambda h: {**h, "config": [1, 2]}),
    "dim a string": dict(header=lambda h: {**h, "config": {**h["config"], "dim": "8"}}),
    "dim zero": dict(header=lambda h: {**h, "config": {**h["config"], "dim": 0}}),
    "unknown family": dict(header=lambda h: {**h, "family": "fasttext"}),
    "corpus a list": dict(header=lambda h: {**h, "corpus": [1]}),
    "position a string": dict(header=lambda h: {**h, "position": "x"}),
    "subwords with string minn": dict(header=lambda h: {**h, "config": {
        **h["config"], "subwords": True, "minn": "3", "maxn": 6, "bucket": 10}}),
    "phrases not a record": dict(header=lambda h: {**h, "corpus": {**h["corpus"], "phrases": 5}}),
    "phrase tables not lists": dict(header=lambda h: {**h, "corpus": {
        **h["corpus"], "phrases": {"tables": [[["new", "york"]]], "delimiter": "_"}}}),
    "preprocess bogus": dict(header=lambda h: {**h, "config": {**h["config"],
                                                              "preprocess": "bogus"}}),
    "lowercase a string": dict(header=lambda h: {**h, "config": {**h["config"],
                                                                "lowercase": "yes"}}),
    "fewer words than rows": dict(words=json_bytes("\n".join(words_of("sg.w2v")[:-1]))),
    "w_in 1-D": dict(w_in=np.zeros(204 * 8, np.float32)),
    "w_in 3-D": dict(w_in=np.zeros((204, 8, 1), np.float32)),
    "w_in 0-D": dict(w_in=np.float32(1)),
    "w_in strings": dict(w_in=np.full((204, 8), "x")),
    "w_in complex": dict(w_in=np.ones((204, 8), np.complex64)),
    "w_in missing": dict(w_in=None),
    "a word twice": dict(words=json_bytes("\n".join(words_of("sg.w2v")[:1] * 2
                                                    + words_of("sg.w2v")[2:]))),
    "words not UTF-8": dict(words=np.frombuffer(b"\xff\xfe" + bytes(members_of("sg.w2v")[
        "words"])[2:], np.uint8)),
    "words float": dict(words=np.zeros(10, np.float32)),
    "counts short": dict(counts=np.ones(3, np.int64)),
    "counts float": dict(counts=np.ones(204, np.float64)),
    "counts negative": dict(counts=-np.ones(204, np.int64)),
}


@pytest.mark.parametrize("case", MODEL_CASES)
def test_a_malformed_model_file_is_one_line(tmp_path, capsys, case):
    path = crafted(tmp_path, "sg.w2v", **MODEL_CASES[case])
    code, out, err = run_main(["similar", "the", "-v", str(path)], capsys)
    assert code == 1 and out == "", (out, err)
    assert_one_line_error(err, str(path))


@pytest.mark.parametrize("case", ["header a list", "header nested deep", "no config",
                                  "config a list", "unknown family", "words not UTF-8"])
def test_info_on_a_malformed_model_file_is_one_line(tmp_path, capsys, case):
    path = crafted(tmp_path, "sg.w2v", **MODEL_CASES[case])
    code, out, err = run_main(["info", str(path)], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, str(path))


@pytest.mark.parametrize("fixture, member", [("sg.w2v", "w_in"), ("glove.w2v", "word"),
                                             ("glove.w2v", "context"), ("subwords.w2v", "w_in")])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_vectors_in_a_model_file_are_refused(tmp_path, capsys, fixture, member,
                                                        bad):
    matrix = members_of(fixture)[member].copy()
    matrix[3, 1] = bad
    path = crafted(tmp_path, fixture, **{member: matrix})
    (tmp_path / "t.txt").write_text("the of and\n")
    for command in (["similar", "the", "-v", path],
                    ["embed", tmp_path / "t.txt", "-v", path, "-o", tmp_path / "e.npy"]):
        code, out, err = run_main([str(a) for a in command], capsys)
        assert code == 1 and out == ""
        assert_one_line_error(err, "non-finite values in the vector of")


def test_a_glove_sum_that_overflows_is_refused(tmp_path, capsys):
    word, context = members_of("glove.w2v")["word"].copy(), members_of("glove.w2v")["context"]
    context = context.copy()
    word[2, 0] = context[2, 0] = np.finfo(np.float32).max
    path = crafted(tmp_path, "glove.w2v", word=word, context=context)
    code, out, err = run_main(["similar", "the", "-v", str(path)], capsys)
    assert code == 1
    assert_one_line_error(err, "non-finite values")


def test_a_model_whose_subword_options_do_not_fit_is_one_line_in_convert(tmp_path, capsys):
    path = crafted(tmp_path, "subwords.w2v",
                   header=lambda h: {**h, "config": {**h["config"], "window": "five"}})
    code, out, err = run_main(["convert", str(path), "-o", str(tmp_path / "ft.bin"),
                               "--fasttext"], capsys)
    assert code == 1
    assert_one_line_error(err, "cannot be written as a fastText model")


def test_a_negative_size_in_a_member_header_is_refused(tmp_path):
    path = savez(tmp_path / "m.w2v", members_of("sg.w2v"))
    data = bytearray(path.read_bytes())
    at = data.index(b"'shape': (204, 8)")
    data[at:at + 17] = b"'shape': (-4, 8) "
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="negative shape"):
        container.Container(path, container.MODEL).array("w_in")


def test_a_member_shape_whose_product_wraps_int64_is_refused(tmp_path):
    path = savez(tmp_path / "m.w2v", members_of("sg.w2v"))
    data = bytearray(path.read_bytes())
    at = data.index(b"'shape': (204, 8), }")
    new = b"'shape': (4294967296, 4294967296), }"
    data[at:at + len(new)] = new  # overwrites padding spaces of the .npy header
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="truncated"):
        container.Container(path, container.MODEL).array("w_in")


def test_a_member_header_numpy_cannot_tokenize_is_damaged(tmp_path):
    path = savez(tmp_path / "m.w2v", members_of("sg.w2v"))
    data = bytearray(path.read_bytes())
    at = data.index(b"'shape': (204, 8), }")
    data[at:at + 20] = b"'shape': (204, 8 ((("
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="'w_in' is damaged"):
        container.Container(path, container.MODEL).array("w_in")


# --------------------------------------------------------------------------- pooling files


POOLING_CASES = {
    "kind bogus": dict(kind=np.array("bogus")),
    "weights all NaN": dict(weights=np.full(204, np.nan, np.float32)),
    "weights short": dict(weights=np.ones(10, np.float32)),
    "weights 2-D": dict(weights=np.ones((204, 204), np.float32)),
    "weights missing": dict(weights=None),
    "components wrong width": dict(components=np.ones((5, 3), np.float32)),
    "components 1-D": dict(components=np.ones(40, np.float32)),
    "component weights short": dict(component_weights=np.ones(2, np.float32)),
    "component weights NaN": dict(component_weights=np.full(5, np.nan, np.float32)),
    "component weights missing": dict(component_weights=None),
    "dim a string": dict(dim=np.array("8")),
    "dim an array": dict(dim=np.arange(3)),
    "dim missing": dict(dim=None),
    "preprocess bogus": dict(preprocess=np.array("bogus")),
    "phrases nested deep": dict(phrases=np.array("[" * 100000 + "]" * 100000)),
    "components huge": dict(components=np.full((5, 8), 3e38, np.float32)),
    "component weights above one": dict(component_weights=np.full(5, 1e30, np.float32)),
    "weights huge": dict(weights=np.full(204, 3e38, np.float32)),
    "text not Unicode": dict(preprocess=np.frombuffer(b"\xff\xff\xff\x7f", dtype="<U1").reshape(())),
}


@pytest.mark.parametrize("case", POOLING_CASES)
def test_a_malformed_pooling_file_is_refused(tmp_path, capsys, case):
    path = crafted(tmp_path, "pooling.npz", **POOLING_CASES[case])
    with pytest.raises(InputError, match="not a w2v pooling file"):
        load_pooling(path)


@pytest.mark.parametrize("content", [
    b"not a zip at all\n",
    lambda: open(os.path.join(FIXTURES, "pooling.npz"), "rb").read()[:1000],
    lambda: (lambda d: d[:-30] + b"\xff" * 30)(open(os.path.join(FIXTURES, "pooling.npz"),
                                                     "rb").read()),
    "npy",
])
def test_a_pooling_that_is_not_a_whole_zip_is_one_line(tmp_path, capsys, content):
    path = tmp_path / "p.npz"
    if content == "npy":
        np.save(tmp_path / "p.npy", np.ones(3))
        os.replace(tmp_path / "p.npy", path)
    else:
        path.write_bytes(content() if callable(content) else content)
    (tmp_path / "t.txt").write_text("the of and\n")
    code, out, err = run_main(["embed", str(tmp_path / "t.txt"), "-v",
                               os.path.join(FIXTURES, "sg.w2v"), "--read-pooling", str(path),
                               "-o", str(tmp_path / "e.npy")], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, "not a w2v pooling file")


# --------------------------------------------------------------------------- index files


def index_header_without(key):
    return lambda h: {k: v for k, v in h.items() if k != key}


INDEX_CASES = {
    "no documents": dict(header=index_header_without("documents")),
    "no vectors": dict(header=index_header_without("vectors")),
    "files not a list": dict(header=lambda h: {**h, "files": "docs.txt"}),
    "no lines": dict(header=lambda h: {**h, "files": [
        {k: v for k, v in h["files"][0].items() if k != "lines"}]}),
    "lines do not add up": dict(header=lambda h: {**h, "files": [{**h["files"][0], "lines": 3}]}),
    "vectors path a number": dict(header=lambda h: {**h, "vectors": {**h["vectors"], "path": 3}}),
    "vectors path with NUL": dict(header=lambda h: {**h, "vectors": {**h["vectors"],
                                                                     "path": "a\0b"}}),
    "all-NaN rows": dict(unit_rows_=np.full((40, 8), np.nan, np.float32)),
    "norms NaN": dict(norms=np.full(40, np.nan, np.float32)),
    "offsets negative": dict(offsets=-np.ones(40, np.int64)),
    "offsets past the file": dict(offsets=np.full(40, 10**9, np.int64)),
    "unit rows ints": dict(unit_rows_=np.zeros((40, 8), np.int32)),
    "short pooling weights": {"pooling.weights": np.ones(3, np.float32)},
    "pooling of another width": {"pooling.components": np.ones((5, 4), np.float32),
                                 "pooling.dim": np.int64(4)},
}


@pytest.mark.parametrize("case", INDEX_CASES)
def test_a_malformed_index_is_refused(tmp_path, case):
    path = crafted(tmp_path, "docs.idx", **INDEX_CASES[case])
    with pytest.raises(InputError, match=str(path)):
        open_index(path)


def test_an_index_without_a_vectors_path_records_none(tmp_path):
    path = crafted(tmp_path, "docs.idx", header=lambda h: {**h, "vectors": {
        k: v for k, v in h["vectors"].items() if k != "path"}})
    with open_index(path) as index:
        assert index.vectors_path is None


def test_an_index_recording_a_device_as_its_vectors_does_not_read_it(tmp_path, caplog):
    path = crafted(tmp_path, "docs.idx",
                   header=lambda h: {**h, "vectors": {**h["vectors"], "path": "/dev/zero"}})
    with open_index(path) as index:
        assert index.vectors_path is None and index.header["vectors"]["path"] is None
    assert "not a regular file" in caplog.text


def test_search_with_an_index_recording_dev_zero_is_one_line(tmp_path):
    path = crafted(tmp_path, "docs.idx",
                   header=lambda h: {**h, "vectors": {**h["vectors"], "path": "/dev/zero"}})
    code, err, peak = w2v_rss(["search", "--index", path, "the"], tmp_path,
                              env={"W2V_VECTORS": str(tmp_path / "none.bin")}, timeout=60)
    assert code == 1 and len(err.strip().splitlines()) == 2, err  # the warning, the error
    assert err.strip().splitlines()[-1].startswith("w2v: error: no vectors file"), err
    assert peak < MAX_RSS_MB


def test_an_index_whose_text_is_a_device_is_refused(tmp_path):
    path = crafted(tmp_path, "docs.idx", header=lambda h: {**h, "files": [
        {**h["files"][0], "path": "/dev/zero", "size": 0}]},
        offsets=np.zeros(40, np.int64))
    with open_index(path) as index, pytest.raises(InputError, match="not a regular file"):
        index.check_text()


# --------------------------------------------------------------------------- count files


def counts_copy(tmp_path):
    path = tmp_path / "counts.npz"
    path.write_bytes(open(os.path.join(FIXTURES, "counts.npz"), "rb").read())
    return path


@pytest.mark.parametrize("command", ["glove", "svd"])
def test_a_cut_count_file_is_one_line(tmp_path, capsys, command):
    path = counts_copy(tmp_path)
    path.write_bytes(path.read_bytes()[:30000])
    code, out, err = run_main([command, "--read-cooccur", str(path), "-o",
                               str(tmp_path / "g.bin")], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, "not a valid w2v co-occurrence file")


def _member_data_offset(path, name):
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name + ".npy")
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = np.frombuffer(f.read(4), "<u2")
        start = info.header_offset + 30 + int(name_len) + int(extra_len)
        f.seek(start)
        np.lib.format.read_magic(f)
        np.lib.format.read_array_header_1_0(f)
        return f.tell()


@pytest.mark.parametrize("member, index, value, fragment", [
    ("indices", 5, np.int32(10**6), "out of range"),
    ("indices", 5, np.int32(-7), "out of range"),
    ("indptr", 40, np.int32(10**6), "indptr"),
    ("indptr", 40, np.int32(-1), "indptr"),
    ("data", 7, np.float32(np.nan), "finite and positive"),
    ("data", 7, np.float32(-1), "finite and positive"),
])
def test_a_flipped_value_in_a_count_file_is_caught(tmp_path, capsys, member, index, value,
                                                   fragment):
    """Members are read without a CRC check: the CSR structure itself is checked."""
    path = counts_copy(tmp_path)
    at = _member_data_offset(path, member) + index * value.itemsize
    data = bytearray(path.read_bytes())
    data[at:at + value.itemsize] = value.tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=fragment):
        load_cooccur(path)
    with pytest.raises(InputError, match=fragment):
        _read_by_chunks(path)
    code, out, err = run_main(["glove", "--read-cooccur", str(path), "-o",
                               str(tmp_path / "g.bin")], capsys)
    assert code == 1
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("changes, fragment", [
    (dict(header=lambda m: {**m, "window": "2"}), "window"),
    (dict(header=lambda m: {**m, "weighting": ["harmonic"]}), "weighting"),
    (dict(header=lambda m: {**m, "weighting": "bogus"}), "weighting"),
    (dict(shape=np.array([80.0, 80.0])), "shape"),
    (dict(counts=np.ones(80, np.float32)), "word counts"),
    (dict(words=json_bytes("a\na" + "\nw" * 78)), "vocabulary is damaged"),
    (dict(indices=np.zeros((5916, 1), np.int32)), "indices"),
    (dict(indices=np.zeros(5916, np.uint64)), "indices"),
    (dict(data=np.ones(5916, np.complex64)), "data"),
    (dict(data=np.ones(5916, np.float16)), "data"),
])
def test_a_count_file_with_wrong_types_is_refused(tmp_path, changes, fragment):
    path = crafted(tmp_path, "counts.npz", **changes)
    with pytest.raises(InputError, match=fragment):
        load_cooccur(path)
    with pytest.raises(InputError, match=fragment):
        _read_by_chunks(path)


def _read_by_chunks(path):
    """A count file read as a cluster run reads it: by chunks of rows, never whole."""
    counts = CountFile(path)
    try:
        return [chunk for chunk in counts.row_chunks(97)]
    finally:
        counts.close()


def test_a_count_file_read_by_chunks_is_the_file_read_whole(tmp_path):
    from w2v.checkpoints import counts_record

    path = os.path.join(FIXTURES, "counts.npz")
    matrix, vocab, meta = load_cooccur(path)
    counts = CountFile(path)
    chunks = list(counts.row_chunks(97))
    assert len(chunks) > 10 and chunks[0][0] == 0
    assert np.concatenate([c[1] for c in chunks]).tolist() == np.diff(matrix.indptr).tolist()
    assert np.concatenate([c[2] for c in chunks]).tolist() == matrix.indices.tolist()
    assert np.concatenate([c[3] for c in chunks]).tobytes() == matrix.data.tobytes()
    assert counts.vocab.words == vocab.words and counts.meta == meta
    assert counts.counts_record({"cooccur": "x"}) == counts_record(matrix, {"cooccur": "x"})
    counts.close()


def test_a_counts_fingerprint_is_the_hash_of_its_arrays_bytes_however_it_is_read():
    """Models record this fingerprint to be resumed on the same counts: it must stay the
    blake2b of shape, indptr, indices and data in order, whatever the slicing or copying."""
    import hashlib

    from w2v.checkpoints import counts_record

    path = os.path.join(FIXTURES, "counts.npz")
    matrix, _, _ = load_cooccur(path)
    digest = hashlib.blake2b(digest_size=16)
    for array, dtype in ((np.array(matrix.shape), np.int64), (matrix.indptr, np.int64),
                         (matrix.indices, np.int32), (matrix.data, np.float32)):
        digest.update(np.asarray(array, dtype=dtype).tobytes())
    counts = CountFile(path)
    try:
        assert counts.counts_record()["fingerprint"] == digest.hexdigest()
        assert counts_record(matrix)["fingerprint"] == digest.hexdigest()
        counts._ranges = lambda step=5: CountFile._ranges(counts, step)  # many small reads
        assert counts.counts_record()["fingerprint"] == digest.hexdigest()
    finally:
        counts.close()


@pytest.mark.parametrize("data_dtype", [">f4", "<f8"])
def test_counts_of_another_float_type_or_byte_order_reach_the_kernels_as_float32(tmp_path,
                                                                                 data_dtype):
    original, _, _ = load_cooccur(os.path.join(FIXTURES, "counts.npz"))
    members = members_of("counts.npz")
    path = crafted(tmp_path, "counts.npz", data=members["data"].astype(data_dtype),
                   indices=members["indices"].astype(">i4"))
    matrix, _, _ = load_cooccur(path)
    assert matrix.data.dtype == np.float32 and matrix.indices.dtype.isnative
    assert (matrix != original.astype(np.float32)).nnz == 0


# --------------------------------------------------------------------------- fastText .bin


def test_a_fasttext_dictionary_larger_than_the_file_is_refused_before_allocating(tmp_path):
    path = tmp_path / "ft.bin"
    write_fasttext_bin(path, ["a", "b"], [3, 2], np.zeros((12, 4), np.float32),
                       np.zeros((2, 4), np.float32), bucket=10, minn=1, maxn=2)
    data = bytearray(path.read_bytes())
    data[64:76] = np.array([2**31 - 1, 2**31 - 1, 0], "<i4").tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="more than the file can hold"):
        read_fasttext_bin(path)


@pytest.mark.parametrize("case", ["phrases not a record", "phrase tables not lists",
                                  "preprocess bogus"])
def test_embed_with_a_damaged_training_record_is_one_line(tmp_path, capsys, case):
    path = crafted(tmp_path, "sg.w2v", **MODEL_CASES[case])
    (tmp_path / "t.txt").write_text("the of and\n")
    code, out, err = run_main(["embed", str(tmp_path / "t.txt"), "-v", str(path), "-o",
                               str(tmp_path / "e.npy")], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, str(path))


def test_a_npy_header_claiming_a_huge_length_is_refused_before_it_is_read(tmp_path):
    """A .npy member of version 2 declares its header's length in four bytes: a flipped bit
    there must not make the reader allocate what it claims."""
    data = bytearray(open(os.path.join(FIXTURES, "docs.idx"), "rb").read())
    at = data.index(b"\x93NUMPY\x01\x00")
    data[at + 6:at + 8] = b"\x02\x00"  # version 2.0: the next four bytes are the length
    data[at + 8:at + 12] = (662372470).to_bytes(4, "little")
    path = tmp_path / "x.idx"
    path.write_bytes(bytes(data))
    import tracemalloc

    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        with pytest.raises(InputError, match="a .npy header of 662372470 bytes"):
            open_index(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not tracing:
            tracemalloc.stop()
    assert peak - before < 64 << 20


def test_info_on_a_zip_of_an_unknown_zip_version_is_one_line(tmp_path, capsys):
    data = bytearray(open(os.path.join(FIXTURES, "sg.w2v"), "rb").read())
    central = data.index(b"PK\x01\x02")
    data[central + 6:central + 8] = b"\x7f\x7f"  # "version needed to extract": unknown
    path = tmp_path / "x.w2v"
    path.write_bytes(bytes(data))
    code, out, err = run_main(["info", str(path)], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, str(path))
