"""Files written by an earlier w2v (tests/data/fixtures) still read, answer the same, and
re-write to the same bytes.

`expected.json` holds what the w2v that wrote the fixtures answered (make_expected.py);
each entry runs again here, in a copy of the fixtures folder.
"""

import hashlib
import json
import lzma
import os
import shutil

import numpy as np
import pytest
from cli_helpers import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), "data", "fixtures")
MODELS = ["sg.w2v", "cbow-hs.w2v", "subwords.w2v", "glove.w2v"]
CONTAINERS = MODELS + ["counts.npz", "docs.idx", "pooling.npz", "pooling-phrases.npz"]
CORPUS = os.path.join(os.path.dirname(__file__), "..", "data", "enwiki-1m.txt.xz")

with open(os.path.join(FIXTURES, "expected.json"), encoding="utf-8") as f:
    EXPECTED = json.load(f)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def repoint_index(path, docs):
    """Point the index at `path` to the text `docs` (its header holds the documents' absolute
    path), keeping every member as it is, in numpy alone."""
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    header = json.loads(bytes(members["header"]).decode("utf-8"))
    header["files"][0]["path"] = os.path.abspath(docs)
    members["header"] = np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"),
                                      dtype=np.uint8)
    np.savez(path, **members)


@pytest.fixture
def fixtures(tmp_path, monkeypatch):
    """A copy of the fixtures folder as the working directory, its index pointing at its
    own copy of the documents."""
    for name in CONTAINERS + ["docs.txt"]:
        shutil.copy(os.path.join(FIXTURES, name), tmp_path)
    repoint_index(tmp_path / "docs.idx", tmp_path / "docs.txt")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("name", CONTAINERS)
def test_numpy_alone_reads_every_fixture(name):
    with np.load(os.path.join(FIXTURES, name), allow_pickle=False) as archive:
        arrays = {member: archive[member] for member in archive.files}
    assert all(not a.dtype.hasobject for a in arrays.values())
    for member in ("header", "meta"):
        if member in arrays:
            assert isinstance(json.loads(bytes(arrays[member]).decode("utf-8")), dict)


@pytest.mark.parametrize("entry", EXPECTED, ids=[" ".join(e["args"][:3]) for e in EXPECTED])
def test_fixtures_answer_as_when_written(entry, fixtures, capsys):
    code, out, err = run_main(list(entry["args"]), capsys)
    assert (code, out) == (entry["code"], entry["stdout"]), err
    for name, digest in entry["outputs"].items():
        assert sha256(fixtures / name) == digest, name


def test_a_count_file_rereads_and_rewrites_to_the_same_bytes(tmp_path):
    from w2v.cooccur.file import load_cooccur, save_cooccur

    matrix, vocab, meta = load_cooccur(os.path.join(FIXTURES, "counts.npz"))
    save_cooccur(tmp_path / "again.npz", matrix, vocab, meta["window"], meta["weighting"],
                 symmetric=meta["symmetric"])
    assert sha256(tmp_path / "again.npz") == sha256(os.path.join(FIXTURES, "counts.npz"))


def test_counting_the_same_text_again_gives_the_fixture_bytes(tmp_path, capsys):
    with lzma.open(CORPUS, "rt", encoding="utf-8") as f:
        lines = [next(f) for _ in range(2000)]
    (tmp_path / "corpus.txt").write_text("".join(lines), encoding="utf-8")
    code, _, err = run_main(["cooccur", str(tmp_path / "corpus.txt"), "-o",
                             str(tmp_path / "counts.npz"), "--min-count", "150", "--window", "2",
                             "--threads", "1", "-q"], capsys)
    assert code == 0, err
    assert sha256(tmp_path / "counts.npz") == sha256(os.path.join(FIXTURES, "counts.npz"))


@pytest.mark.parametrize("name", ["pooling.npz", "pooling-phrases.npz"])
def test_a_pooling_rereads_and_rewrites_to_the_same_bytes(name, tmp_path):
    from w2v.documents.pooling import load_pooling

    load_pooling(os.path.join(FIXTURES, name)).save(tmp_path / name)
    assert sha256(tmp_path / name) == sha256(os.path.join(FIXTURES, name))


@pytest.mark.parametrize("name", MODELS)
def test_a_model_file_rereads_and_rewrites_to_the_same_bytes(name, tmp_path, monkeypatch):
    """At the time its members record (a model file's members carry the time of writing)."""
    import zipfile

    from w2v.files import container
    from w2v.glove import model as glove
    from w2v.word2vec import model as word2vec

    path = os.path.join(FIXTURES, name)
    with zipfile.ZipFile(path) as archive:
        written = archive.infolist()[0].date_time
    monkeypatch.setattr(container, "_clock", lambda: written)
    family = glove if name.startswith("glove") else word2vec
    family.save_model(family.load_model(path), tmp_path / name)
    assert sha256(tmp_path / name) == sha256(path)
