"""The container every data file uses (`w2v.files.container`): one version rule for the four
kinds, and files from strangers read without running code or trusting their sizes."""

import json
import os
import struct

import numpy as np
import pytest

from w2v.cooccur.file import load_cooccur
from w2v.documents.index import open_index
from w2v.documents.pooling import load_pooling
from w2v.errors import InputError
from w2v.files import container
from w2v.files.model_file import ModelFile

FIXTURES = os.path.join(os.path.dirname(__file__), "data", "fixtures")


def members_of(name):
    with np.load(os.path.join(FIXTURES, name), allow_pickle=False) as archive:
        return {member: archive[member] for member in archive.files}


def with_header(name, kind, target, **changes):
    """A copy of the fixture `name` with header fields changed, written as `kind` writes."""
    members = members_of(name)
    header = json.loads(bytes(members[kind.header]).decode("utf-8"))
    header.update(changes)
    members[kind.header] = container.json_member(header, kind)
    container.write(target, kind, members)
    return target


def test_the_kinds_spell_their_versions_as_before():
    assert container.MODEL.stamp() == {"format": "w2v-model", "format_version": 1}
    assert container.COUNTS.stamp() == {"format": "w2v-cooccur", "version": 1}
    assert container.INDEX.stamp() == {"format": "w2v-docindex", "format_version": 2}
    assert [container.POOLING.stamp(v) for v in (1, 2)] == ["w2v-pooling-1", "w2v-pooling-2"]


def test_a_newer_file_of_every_kind_says_the_same(tmp_path):
    newer = {
        "model": lambda: ModelFile(with_header("sg.w2v", container.MODEL, tmp_path / "m.w2v",
                                               format_version=2, w2v_version="9.0")),
        "co-occurrence": lambda: load_cooccur(with_header("counts.npz", container.COUNTS,
                                                          tmp_path / "c.npz", version=2)),
        "index": lambda: open_index(with_header("docs.idx", container.INDEX,
                                                tmp_path / "d.idx", format_version=3)),
    }
    members = members_of("pooling.npz")
    members["format"] = np.array("w2v-pooling-5")
    container.write(tmp_path / "p.npz", container.POOLING, members)
    newer["pooling"] = lambda: load_pooling(tmp_path / "p.npz")
    for noun, read in newer.items():
        with pytest.raises(InputError) as refused:
            read()
        message = str(refused.value)
        assert f"{noun} format" in message and "is newer than this w2v reads" in message
        assert message.endswith("written by a newer w2v" + (" (9.0)" if noun == "model" else "")
                                + ": upgrade w2v"), message


def test_an_index_older_than_this_w2v_reads_says_index_again(tmp_path):
    path = with_header("docs.idx", container.INDEX, tmp_path / "d.idx", format_version=1)
    with pytest.raises(InputError, match=r"index format 1 \(this w2v reads 2\): index again"):
        open_index(path)


@pytest.mark.parametrize("version", [None, 0, "1", True])
def test_a_version_that_is_not_a_positive_integer_is_refused(version, tmp_path):
    path = with_header("counts.npz", container.COUNTS, tmp_path / "c.npz", version=version)
    with pytest.raises(InputError, match="no valid format version"):
        load_cooccur(path)


def test_another_format_is_not_this_kind(tmp_path):
    path = with_header("counts.npz", container.COUNTS, tmp_path / "c.npz", format="w2v-other")
    with pytest.raises(InputError, match="c.npz is not a w2v co-occurrence file"):
        load_cooccur(path)
    with pytest.raises(InputError, match="not a w2v pooling file"):
        load_pooling(os.path.join(FIXTURES, "counts.npz"))


def test_a_size_a_member_claims_is_checked_before_reading(tmp_path):
    """A member whose .npy header claims far more values than the file holds."""
    path = tmp_path / "c.npz"
    container.write(path, container.COUNTS, members_of("counts.npz"))
    data = bytearray(path.read_bytes())
    at = data.index(b"'shape': (") + len(b"'shape': (")
    end = data.index(b")", at)
    data[at:end] = b"9" * (end - at - 1) + b","
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="is damaged .*truncated"):
        load_cooccur(path)


def test_object_arrays_are_refused_and_never_unpickled(tmp_path):
    members = members_of("pooling.npz")
    members["kind"] = np.array([{"a": 1}], dtype=object)
    np.savez(tmp_path / "p.npz", **members)  # numpy pickles the object array
    with pytest.raises(InputError, match="object arrays are refused"):
        load_pooling(tmp_path / "p.npz")


@pytest.mark.parametrize("name, load", [("pooling.npz", load_pooling), ("docs.idx", open_index),
                                        ("counts.npz", load_cooccur), ("sg.w2v", ModelFile)])
def test_compressed_members_are_refused_in_every_kind(tmp_path, name, load):
    """What a deflated member inflates to is not bounded by the file's size."""
    np.savez_compressed(tmp_path / "x.npz", **members_of(name))
    with pytest.raises(InputError, match="is compressed; .*not savez_compressed"):
        load(tmp_path / "x.npz")


def test_model_members_are_aligned_and_others_are_not_padded(tmp_path):
    import zipfile

    for name, padded in (("sg.w2v", True), ("counts.npz", False)):
        with zipfile.ZipFile(os.path.join(FIXTURES, name)) as archive:
            infos = archive.infolist()
        with open(os.path.join(FIXTURES, name), "rb") as f:
            for info in infos:
                f.seek(info.header_offset + 26)
                name_len, extra_len = struct.unpack("<HH", f.read(4))
                data = info.header_offset + 30 + name_len + extra_len
                assert data % 64 == 0 or not padded, (name, info.filename)
                assert (extra_len > 20) == padded, (name, info.filename)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads Linux's RssFile")
def test_rows_of_a_mapped_matrix_leave_resident_memory_once_released(tmp_path):
    def resident_file_kb():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("RssFile"))

    matrix = np.arange(4096 * 512, dtype=np.float32).reshape(4096, 512)  # 8 MB
    container.write(tmp_path / "m.npz", container.MODEL, {"header": container.json_member(
        {"format": "w2v-model", "format_version": 1}, container.MODEL), "m": matrix})
    mapped = container.Container(tmp_path / "m.npz", container.MODEL).array("m", mmap=True)
    assert float(mapped.sum(dtype=np.float64)) == float(matrix.sum(dtype=np.float64))
    touched = resident_file_kb()
    container.release_rows(mapped, 0, 4096)
    assert resident_file_kb() < touched - 6 * 1024  # most of the 8 MB let go
    assert np.array_equal(mapped, matrix)  # and read again from the file when touched
    container.release_rows(matrix, 0, 4096)  # an array in memory: nothing to release
