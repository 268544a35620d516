"""Vector files: round-trips, interop with gensim, format detection, and clear errors."""

import io
import logging
import os
import sys

import numpy as np
import pytest

from w2v.errors import InputError, OptionError, W2VError
from w2v.files.formats import load_vectors, save_vectors
from w2v.vectors.word_vectors import WordVectors

WORDS = ["the", "Über", "日本語", "naïve", "a-b", "x" * 120, "</s>"]


@pytest.fixture
def wv():
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((len(WORDS), 5)).astype(np.float32)
    vectors[0, 0] = np.float32(1e-38)  # tiny and odd values must survive text too
    vectors[1, 1] = np.float32(3.4e38)
    vectors[2, 2] = np.float32(1 / 3)
    return WordVectors(WORDS, vectors)


def assert_same(a, b):
    assert a.words == b.words
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert a.vectors.dtype == np.float32


def write(path, data):
    path.write_bytes(data)
    return str(path)


# --------------------------------------------------------------------------- round-trips


@pytest.mark.parametrize("name,format", [("v.txt", "text"), ("v.bin", "binary"),
                                         ("v.vec", "text"), ("v.glove", "glove")])
def test_round_trip_is_exact(tmp_path, wv, name, format):
    path = tmp_path / name
    save_vectors(wv, path, format=format)
    assert_same(load_vectors(path), wv)
    assert_same(load_vectors(path, format=format), wv)


def test_binary_chosen_by_extension_and_flag(tmp_path, wv):
    save_vectors(wv, tmp_path / "v.bin")
    save_vectors(wv, tmp_path / "v.txt")
    save_vectors(wv, tmp_path / "forced", binary=True)
    header, rest = (tmp_path / "v.bin").read_bytes().split(b"\n", 1)
    assert header == b"7 5" and rest.startswith(b"the ") and len(rest) > 4 * 5
    assert (tmp_path / "forced").read_bytes() == (tmp_path / "v.bin").read_bytes()
    assert (tmp_path / "v.txt").read_text(encoding="utf-8").splitlines()[1].startswith("the ")


def test_binary_layout_is_word2vec_c(tmp_path):
    wv = WordVectors(["ab", "ç"], np.array([[1.0, -2.0], [0.5, 0.0]], dtype=np.float32))
    save_vectors(wv, tmp_path / "v.bin")
    expected = (b"2 2\n" + b"ab " + np.array([1.0, -2.0], "<f4").tobytes() + b"\n"
                + "ç".encode() + b" " + np.array([0.5, 0.0], "<f4").tobytes() + b"\n")
    assert (tmp_path / "v.bin").read_bytes() == expected


def test_binary_without_newlines_and_with_bad_utf8(tmp_path):
    vectors = np.arange(6, dtype="<f4").reshape(3, 2)
    data = b"3 2\n" + b"".join(w + b" " + v.tobytes() for w, v in
                               zip([b"a", b"caf\xc3", b"b"], vectors))
    wv = load_vectors(write(tmp_path / "v.bin", data))
    assert wv.words == ["a", "caf\ufffd", "b"]
    np.testing.assert_array_equal(wv.vectors, vectors)


def test_glove_without_header_and_crlf(tmp_path):
    path = write(tmp_path / "g.txt", b"the 0.5 -1\r\nof 2 3e-2\r\n\r\n")
    wv = load_vectors(path)
    assert wv.words == ["the", "of"]
    np.testing.assert_array_equal(wv.vectors, np.array([[0.5, -1], [2, 0.03]], np.float32))


def test_word2vec_c_text_with_trailing_spaces(tmp_path):
    path = write(tmp_path / "v.txt", b"2 3\nfoo 0.100000 0.200000 0.300000 \nbar 1 2 3 \n")
    wv = load_vectors(path)
    assert wv.words == ["foo", "bar"] and wv.dim == 3


def test_limit(tmp_path, wv):
    for name in ("v.txt", "v.bin"):
        save_vectors(wv, tmp_path / name)
        limited = load_vectors(tmp_path / name, limit=3)
        assert limited.words == WORDS[:3]
        np.testing.assert_array_equal(limited.vectors, wv.vectors[:3])
    with pytest.raises(OptionError):
        load_vectors(tmp_path / "v.txt", limit=0)


@pytest.mark.parametrize("binary", [False, True])
def test_reads_stdin(tmp_path, wv, monkeypatch, binary):
    save_vectors(wv, tmp_path / "v", binary=binary)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "v").read_bytes())))
    assert_same(load_vectors("-"), wv)


def test_writes_text_to_stdout(wv, capsysbinary):
    save_vectors(wv, "-")
    out = capsysbinary.readouterr().out
    assert out.startswith(b"7 5\nthe ") and out.count(b"\n") == 8


def test_duplicate_words_keep_the_first(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("w2v"), "propagate", True)
    path = write(tmp_path / "v.txt", b"3 1\na 1\nb 2\na 3\n")
    with caplog.at_level(logging.WARNING, logger="w2v"):
        wv = load_vectors(path)
    assert wv.words == ["a", "b"] and wv.vectors[:, 0].tolist() == [1, 2]
    assert "duplicate" in caplog.text


# --------------------------------------------------------------------------- gensim interop


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_ours(tmp_path, wv, binary):
    gensim_models = pytest.importorskip("gensim.models")
    path = tmp_path / ("v.bin" if binary else "v.txt")
    save_vectors(wv, path)
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == WORDS
    np.testing.assert_array_equal(kv.vectors, wv.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensims(tmp_path, wv, binary):
    gensim_models = pytest.importorskip("gensim.models")
    kv = gensim_models.KeyedVectors(wv.dim)
    kv.add_vectors(wv.words, wv.vectors)
    path = tmp_path / "g.out"
    kv.save_word2vec_format(str(path), binary=binary)
    loaded = load_vectors(path)
    assert loaded.words == WORDS
    np.testing.assert_allclose(loaded.vectors, wv.vectors, rtol=0 if binary else 1e-6)


# --------------------------------------------------------------------------- malformed input


def error_of(path, **kwargs):
    with pytest.raises(InputError) as caught:
        load_vectors(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_file(tmp_path):
    message = error_of(tmp_path / "nope.bin")
    assert message.startswith("cannot read ") and "nope.bin" in message


def test_empty_file(tmp_path):
    assert "empty file" in error_of(write(tmp_path / "e.txt", b""))


def test_truncated_binary(tmp_path, wv):
    save_vectors(wv, tmp_path / "v.bin")
    data = (tmp_path / "v.bin").read_bytes()
    path = write(tmp_path / "cut.bin", data[:-10])
    message = error_of(path)
    assert "truncated at byte offset" in message and f"{len(data) - 10}" in message
    assert "holds 6" in message and str(path) in message


def test_binary_header_promising_more_than_the_file_holds(tmp_path):
    path = write(tmp_path / "v.bin", b"999999999 300\nab " + b"\x00\x01" * 600 + b"\n")
    assert "truncated" in error_of(path)


@pytest.mark.parametrize("data, expected", [
    (b"3 5\n", "byte offset 4: the file ends after the header, which announces 3 vectors"),
    (b"3 5\n\n\n", "byte offset 4: the file ends after the header"),
    (b"13665 1000000000000\nthe " + b"\x00\x01\xff" * 20,
     "byte offset 20: the header announces vectors of dimension 1000000000000 "
     "(4000000000000 bytes each), but only 64 bytes follow it"),
])
def test_binary_too_short_for_one_record(tmp_path, data, expected):
    path = write(tmp_path / "h.txt", data)
    message = error_of(path)
    assert message.startswith(f"{path}: ") and expected in message
    assert expected in error_of(path, format="binary")


def test_binary_too_short_for_one_record_in_every_reading_command(tmp_path):
    import subprocess

    path = write(tmp_path / "h.bin", b"3 5\n")
    for args in (["similar", "the", "-v", path], ["analogy", "a", "b", "c", "-v", path],
                 ["evaluate", path], ["convert", path, "-o", str(tmp_path / "out.txt")]):
        result = subprocess.run([sys.executable, "-m", "w2v.cli", *args], capture_output=True,
                                text=True)
        assert result.returncode == 1, result.stderr
        assert result.stderr == f"w2v: error: {path}: byte offset 4: the file ends after the " \
                                f"header, which announces 3 vectors of dimension 5\n"


def test_data_after_the_announced_vectors(tmp_path, wv):
    save_vectors(wv, tmp_path / "v.bin")
    path = write(tmp_path / "more.bin", (tmp_path / "v.bin").read_bytes() + b"extra 1 2")
    assert "data after the 7 vectors" in error_of(path)


def test_garbage_header(tmp_path):
    path = write(tmp_path / "v.bin", b"hello world\n\x00\x01\x02")
    assert "line 1: expected a 'COUNT DIM' header" in error_of(path, format="binary")
    assert "line 1" in error_of(path)


def test_text_header_count_mismatch(tmp_path):
    fewer = write(tmp_path / "fewer.txt", b"3 2\na 1 2\nb 3 4\n")
    assert "line 4: the file ends after 2 vectors but the header announces 3" in error_of(fewer)
    more = write(tmp_path / "more.txt", b"2 2\na 1 2\nb 3 4\nc 5 6\n")
    assert "line 4: more vectors than the 2" in error_of(more)
    assert load_vectors(more, limit=2).words == ["a", "b"]


def test_wrong_number_of_floats_names_the_line(tmp_path):
    path = write(tmp_path / "v.txt", b"3 3\na 1 2 3\nb 1 2\nc 1 2 3\n")
    message = error_of(path)
    assert "line 3" in message and "expected a word and 3 numbers, found 2" in message


def test_non_numeric_and_non_finite_values(tmp_path):
    assert "line 2: not a number: 'x'" in error_of(write(tmp_path / "a.txt", b"a 1 2\nb 1 x\n"))
    assert "line 3: non-finite" in error_of(write(tmp_path / "b.txt", b"2 2\na 1 2\nb nan 1\n"))
    assert "non-finite" in error_of(write(tmp_path / "c.txt", b"a 1e39 2\n"))


def test_zero_count_header(tmp_path):
    assert "announces 0 vectors" in error_of(write(tmp_path / "z.txt", b"0 300\n"))


# --------------------------------------------------------------------------- writing safely


def test_refuses_words_with_whitespace_and_keeps_the_old_file(tmp_path, wv):
    path = tmp_path / "v.bin"
    save_vectors(wv, path)
    before = path.read_bytes()
    for bad in ["new york", "tab\there", "", "nbsp\u00a0word"]:
        broken = WordVectors(["ok", bad], np.ones((2, 3), np.float32))
        with pytest.raises(W2VError, match="whitespace"):
            save_vectors(broken, path)
        assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["v.bin"]  # no temporary file left behind


def test_failure_midway_keeps_the_old_file(tmp_path, wv, monkeypatch):
    import w2v.files.formats

    path = tmp_path / "v.txt"
    save_vectors(wv, path)
    before = path.read_bytes()
    monkeypatch.setattr(w2v.files.formats, "WRITE_BLOCK_ROWS", 2)
    real_tolist = np.ndarray.tolist
    calls = []

    class Exploding(np.ndarray):
        def tolist(self):
            calls.append(1)
            if len(calls) == 2:
                raise OSError(28, "No space left on device")
            return real_tolist(self)

    big = WordVectors(["p", "q", "r", "s"], np.ones((4, 5), np.float32))
    big.vectors = big.vectors.view(Exploding)
    with pytest.raises(OSError):
        save_vectors(big, path)
    assert path.read_bytes() == before and len(calls) == 2
    assert sorted(os.listdir(tmp_path)) == ["v.txt"]


def test_refuses_non_finite_vectors(tmp_path):
    wv = WordVectors(["a"], np.array([[np.nan, 1.0]], np.float32))
    with pytest.raises(W2VError, match="non-finite"):
        save_vectors(wv, tmp_path / "v.txt")


def test_contradictory_format_options(tmp_path, wv):
    with pytest.raises(OptionError):
        save_vectors(wv, tmp_path / "v", binary=True, format="text")
    with pytest.raises(OptionError):
        load_vectors(tmp_path / "v", format="word2vec-ish")
