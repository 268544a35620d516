"""`w2v index` and `w2v search --index`: the round trip, refusals, no partial index, no numba."""

import os
import subprocess
import sys

import numpy as np
import pytest

from w2v.documents.index import line_offsets, open_index
from w2v.errors import InputError
from w2v.files.formats import save_vectors
from w2v.vectors.word_vectors import WordVectors

from cli_helpers import assert_one_line_error, run_main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_vectors(path, seed):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(200)]
    save_vectors(WordVectors(words, rng.normal(size=(200, 16)).astype(np.float32)), path)
    return str(path)


@pytest.fixture
def setup(tmp_path):
    """Vectors, a vocabulary file and two text files (the second without a last newline,
    with an empty line, a CRLF line and a line of unknown words)."""
    vectors = make_vectors(tmp_path / "v.bin", 1)
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(200)]
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{w} {c}\n" for w, c in zip(words, rng.integers(5, 500, 200))))
    first = tmp_path / "a.txt"
    first.write_text("\n".join(" ".join(rng.choice(words, 6)) for _ in range(40)) + "\n")
    second = tmp_path / "b.txt"
    second.write_bytes("w1 w2 w3\r\n\nzz yy\ncafé w4 w5\nw7 w8 w9".encode())
    return tmp_path, vectors, str(vocab), [str(first), str(second)]


@pytest.mark.parametrize("extra", [[], ["--pooling", "sif"], ["--pooling", "usif", "--json"],
                                   ["--metric", "dot"]])
def test_search_index_answers_as_search_docs(setup, capsys, monkeypatch, extra):
    tmp, vectors, vocab, docs = setup
    index = str(tmp / "docs.idx")
    pooling = [a for a in extra if a in ("--pooling", "sif", "usif")]
    if pooling:
        pooling += ["--vocab", vocab]
    query = [a for a in extra if a not in pooling]
    code, _, err = run_main(["index", "-v", vectors, *docs, "-o", index, *pooling],
                            capsys, monkeypatch)
    assert code == 0, err
    queries = ["w1 w2 w3", "w7 w9 w4", "café", "nothing known"]
    code, expected, err = run_main(["search", "-v", vectors, "--docs", docs[0], "--docs", docs[1], "-n", "5",
                                    *pooling, *query, *queries], capsys, monkeypatch)
    assert code == 0, err
    code, out, err = run_main(["search", "--index", index, "-n", "5", *query, *queries],
                              capsys, monkeypatch)
    assert code == 0, err
    assert out == expected and "w1 w2 w3" in out
    with open_index(index) as opened:  # memory-mapped, and aligned (else numpy skips BLAS)
        assert isinstance(opened.unit, np.memmap) and opened.unit.offset % 64 == 0
    code, out, _ = run_main(["search", "--index", index, "-n", "5", *query], capsys,
                            monkeypatch, stdin="\n".join(queries) + "\n")
    assert code == 0 and out == expected


def test_line_offsets_match_the_readers_lines(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"a\n\nbb\r\ncc")
    assert line_offsets(path).tolist() == [0, 2, 3, 7]
    path.write_bytes(b"a\n")
    assert line_offsets(path).tolist() == [0]
    path.write_bytes(b"")
    assert line_offsets(path).tolist() == []


def test_index_of_other_vectors_is_refused(setup, capsys, monkeypatch):
    tmp, vectors, _, docs = setup
    index = str(tmp / "docs.idx")
    assert run_main(["index", "-v", vectors, *docs, "-o", index], capsys, monkeypatch)[0] == 0
    other = make_vectors(tmp / "other.bin", 2)  # same words and dimension, other vectors
    code, out, err = run_main(["search", "--index", index, "-v", other, "w1"], capsys,
                              monkeypatch)
    assert code == 1 and out == ""
    assert_one_line_error(err, "made with other vectors")


def test_changed_text_is_refused(setup, capsys, monkeypatch):
    tmp, vectors, _, docs = setup
    index = str(tmp / "docs.idx")
    assert run_main(["index", "-v", vectors, *docs, "-o", index], capsys, monkeypatch)[0] == 0
    with open(docs[0], "a") as f:
        f.write("w1 w1\n")
    code, out, err = run_main(["search", "--index", index, "w1"], capsys, monkeypatch)
    assert code == 1 and out == ""
    assert_one_line_error(err, "changed since it was indexed")


@pytest.mark.parametrize("where", ["middle", "start", "start, old mtime"])
def test_same_size_edit_is_refused(setup, capsys, monkeypatch, where):
    """Size alone missed an edit that kept the size: offsets then point mid-line. The hashed
    ends are cut to 64 bytes, so that a middle edit is told by the mtime and full hash."""
    import w2v.documents.index

    monkeypatch.setattr(w2v.documents.index, "END_BYTES", 64)
    tmp, vectors, _, docs = setup
    index = str(tmp / "docs.idx")
    assert run_main(["index", "-v", vectors, *docs, "-o", index], capsys, monkeypatch)[0] == 0
    data = bytearray(open(docs[0], "rb").read())
    before = os.stat(docs[0])
    at = 0 if where.startswith("start") else len(data) // 2
    newline = data.index(b"\n", at)  # move a line break: same bytes, other lines
    data[newline], data[newline - 1] = data[newline - 1], data[newline]
    with open(docs[0], "wb") as f:
        f.write(data)
    if where == "start, old mtime":  # mtime restored: the hash of the first block tells
        os.utime(docs[0], ns=(before.st_atime_ns, before.st_mtime_ns))
    else:
        os.utime(docs[0], ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    code, out, err = run_main(["search", "--index", index, "w1"], capsys, monkeypatch)
    assert code == 1 and out == ""
    assert_one_line_error(err, "changed since it was indexed (same size, other content)")


def test_touched_text_is_still_accepted(setup, capsys, monkeypatch):
    tmp, vectors, _, docs = setup
    index = str(tmp / "docs.idx")
    assert run_main(["index", "-v", vectors, *docs, "-o", index], capsys, monkeypatch)[0] == 0
    code, expected, _ = run_main(["search", "--index", index, "w1"], capsys, monkeypatch)
    before = os.stat(docs[1])
    os.utime(docs[1], ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    code, out, err = run_main(["search", "--index", index, "w1"], capsys, monkeypatch)
    assert code == 0 and out == expected, err


def test_missing_or_truncated_index_is_one_line_error(setup, capsys, monkeypatch):
    tmp, vectors, _, docs = setup
    index = tmp / "docs.idx"
    code, _, err = run_main(["search", "--index", str(index), "w1"], capsys, monkeypatch)
    assert code == 1
    assert_one_line_error(err, "no such index")
    assert run_main(["index", "-v", vectors, *docs, "-o", str(index)], capsys,
                    monkeypatch)[0] == 0
    data = index.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        (tmp / "cut.idx").write_bytes(data[:cut])
        code, out, err = run_main(["search", "--index", str(tmp / "cut.idx"), "w1"], capsys,
                                  monkeypatch)
        assert code == 1 and out == ""
        assert_one_line_error(err, "cannot load the index")
    with pytest.raises(InputError, match="not a w2v document index|not a complete index"):
        open_index(vectors)


def test_failed_index_leaves_no_file(setup, capsys, monkeypatch):
    tmp, vectors, _, docs = setup
    index = tmp / "docs.idx"
    gz = tmp / "c.txt.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00")
    for bad, fragment in (([str(tmp / "nope.txt")], "no such file"), ([str(gz)], "compressed"),
                          (["-"], "not stdin")):
        code, _, err = run_main(["index", "-v", vectors, *docs, *bad, "-o", str(index)],
                                capsys, monkeypatch, stdin="w1\n")
        assert code == 1
        assert_one_line_error(err, fragment)
        assert not index.exists()
    before = sorted(os.listdir(tmp))
    real = np.lib.format.write_array
    written = []

    def fail_at_third_member(*args, **kwargs):
        written.append(1)
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_at_third_member)
    code, _, err = run_main(["index", "-v", vectors, *docs, "-o", str(index), "-q"], capsys,
                            monkeypatch)
    assert code == 1 and len(written) == 3 and "Traceback" not in err
    assert_one_line_error(err.strip().splitlines()[-1], "No space left")  # after a warning
    assert sorted(os.listdir(tmp)) == before  # neither the index nor a temporary file


def test_search_index_does_not_import_numba(setup):
    tmp, vectors, _, docs = setup
    index = str(tmp / "docs.idx")
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['index', '-v', {vectors!r}, *{docs!r}, '-o', {index!r}, '-q']) == 0\n"
        f"assert main(['search', '--index', {index!r}, 'w1', '-q']) == 0\n"
        "import w2v\n"
        f"wv = w2v.load_vectors({vectors!r})\n"
        f"assert w2v.search(wv, w2v.open_index({index!r}), ['w1'])[0]\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_python_api_from_the_package(setup):
    import w2v

    tmp, vectors, _, docs = setup
    wv = w2v.load_vectors(vectors)
    index = str(tmp / "api.idx")
    w2v.write_index(index, wv, docs, "mean", vectors_path=vectors)
    queries = ["w1 w2 w3", "w7 w9 w4", "nothing known"]
    texts = [line for d in docs for line in open(d, encoding="utf-8").read().splitlines()]
    with w2v.open_index(index) as opened:
        assert isinstance(opened, w2v.DocumentIndex) and len(opened) == len(texts)
        found = w2v.search(wv, opened, queries, n=4)
        _, rows, _ = w2v.search_index(opened, wv, queries, n=4)
    assert found == w2v.search(wv, w2v.embed(wv, texts, "mean"), queries, n=4)
    assert [r for r, _ in found[0]] == rows[0].tolist() and found[2] == []
    assert found[0][0][0] == 40  # "w1 w2 w3", the first line of the second file
    with w2v.open_index(index) as opened, pytest.raises(w2v.OptionError):
        w2v.search(wv, opened, queries, pooling="sif")
