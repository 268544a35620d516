"""Files from strangers: a crafted header never costs what it claims, and every bad file is
one line on stderr with exit code 1, never a traceback or a silent empty answer."""

import struct

import numpy as np
import pytest

from w2v.cli import main
from w2v.errors import InputError
from w2v.files.fasttext import read_fasttext_bin
from w2v.vectors.ngrams import MAX_NGRAM, check_ngram_range, ngram_buckets

MAXN_OFFSET = 48  # int32 maxn in a fastText .bin: magic, version, then the 11th int32 option


@pytest.fixture
def fasttext_bin(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    corpus = tmp_path / "c.txt"
    corpus.write_text("walking talking stone apple pear cafe tokyo smile\n" * 20 + "hapax\n")
    model = fasttext.train_unsupervised(str(corpus), dim=10, epoch=1, minCount=2, thread=1,
                                        bucket=1000, verbose=0)
    path = tmp_path / "ft.bin"
    model.save_model(str(path))
    return path, model


def run(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err, fragment):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v: error:") and fragment in lines[0], err


def patched(path, offset, fmt, value):
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("maxn", [MAX_NGRAM + 1, 100000, 2**31 - 1])
def test_a_fasttext_bin_with_an_absurd_maxn_is_refused_in_one_line(fasttext_bin, tmp_path,
                                                                   capsys, maxn):
    path, _ = fasttext_bin
    patched(path, MAXN_OFFSET, "<i", maxn)
    with pytest.raises(InputError, match="damaged"):
        read_fasttext_bin(path)
    code, out, err = run(["similar", "stone", "-v", path], capsys)
    assert code == 1 and out == ""
    assert_one_line(err, "damaged")


def test_maxn_is_bounded_for_training_and_model_headers_too():
    check_ngram_range(3, MAX_NGRAM, 1000)
    with pytest.raises(ValueError, match="at most"):
        check_ngram_range(3, MAX_NGRAM + 1, 1000)
    with pytest.raises(ValueError):
        ngram_buckets(["stone"], 3, 100000, 1000)


def test_the_widest_ngram_range_on_long_words_is_chunked_and_exact():
    words = ["x" * 3000, "stone", "y" * 50]
    offsets, buckets = ngram_buckets(words, 1, MAX_NGRAM, 997)
    one_by_one = [ngram_buckets([w], 1, MAX_NGRAM, 997)[1] for w in words]
    assert np.array_equal(buckets, np.concatenate(one_by_one))
    assert np.diff(offsets).tolist() == [len(b) for b in one_by_one]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_fasttext_bin_with_non_finite_vectors_is_refused(fasttext_bin, tmp_path, capsys, bad):
    path, model = fasttext_bin
    w_in = model.get_input_matrix().copy()
    w_in[model.get_word_id("stone")] = bad
    model.set_matrices(w_in, model.get_output_matrix())
    model.save_model(str(path))
    code, out, err = run(["similar", "apple", "-v", path], capsys)
    assert code == 1 and out == ""
    assert_one_line(err, "non-finite")


def test_a_non_finite_ngram_row_is_refused_when_an_unknown_word_needs_it(fasttext_bin, capsys):
    path, model = fasttext_bin
    w_in = model.get_input_matrix().copy()
    n_words = len(model.words)
    rows = model.get_subwords("zzqq")[1]
    w_in[[r for r in rows if r >= n_words]] = np.nan
    model.set_matrices(w_in, model.get_output_matrix())
    model.save_model(str(path))
    code, out, err = run(["similar", "zzqq", "-v", path], capsys)
    assert code == 1 and out == ""
    assert_one_line(err, "non-finite")


def test_convert_keeps_the_token_count_fasttext_wrote(fasttext_bin, tmp_path, capsys):
    path, model = fasttext_bin
    ntokens = read_fasttext_bin(path).ntokens
    assert ntokens != int(read_fasttext_bin(path).counts.sum())  # pruned words still count
    out = tmp_path / "again.bin"
    assert run(["convert", path, "--fasttext", "-o", out], capsys)[0] == 0
    assert out.read_bytes() == path.read_bytes()


def test_inlp_that_would_remove_every_direction_is_refused_with_a_short_line(tmp_path, capsys):
    from w2v.files.formats import save_vectors
    from w2v.vectors.word_vectors import WordVectors

    rng = np.random.default_rng(0)
    words = ["he", "she"] + [f"w{i}" for i in range(300)]
    vectors = rng.normal(size=(len(words), 6)).astype(np.float32)
    path = tmp_path / "v.txt"
    save_vectors(WordVectors(words, vectors), str(path))
    code, out, err = run(["debias", "-v", path, "--method", "inlp", "--iterations", "1000",
                          "-o", tmp_path / "d.txt"], capsys)
    assert code == 1 and not (tmp_path / "d.txt").exists()
    assert "all 6 directions" in err
    assert max(len(line) for line in err.splitlines()) < 300


@pytest.fixture
def small_vectors(tmp_path):
    from w2v.files.formats import save_vectors
    from w2v.vectors.word_vectors import WordVectors

    rng = np.random.default_rng(1)
    words = ["cat", "dog", "car", "bus", "tree"]
    path = tmp_path / "v.txt"
    save_vectors(WordVectors(words, rng.normal(size=(5, 4)).astype(np.float32)), str(path))
    return path


@pytest.mark.parametrize("score", ["1e400", "nan", "-inf"])
def test_a_non_finite_gold_score_is_refused(small_vectors, tmp_path, capsys, score):
    pairs = tmp_path / "sim.txt"
    pairs.write_text(f"cat dog 1\ncar bus {score}\n")
    code, _, err = run(["evaluate", small_vectors, "--similarity", pairs], capsys)
    assert code == 1
    assert_one_line(err, "finite score")
    sts = tmp_path / "sts.txt"
    sts.write_text(f"1\tcat dog\tcar\n{score}\tbus\ttree\n")
    code, _, err = run(["evaluate", small_vectors, "--sts", sts, "--pooling", "mean"], capsys)
    assert code == 1
    assert_one_line(err, "finite score")


def test_constant_gold_scores_give_nan_without_warnings(small_vectors, tmp_path, capsys):
    import warnings

    sts = tmp_path / "sts.txt"
    sts.write_text("3\tcat dog\tcar\n3\tbus\ttree\n3\tdog\tcat tree\n")
    pairs = tmp_path / "sim.txt"
    pairs.write_text("cat dog 2\ncar bus 2\ntree cat 2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run(["evaluate", small_vectors, "--sts", sts, "--similarity", pairs,
                              "--pooling", "mean"], capsys)
    assert code == 0, err
    assert "Warning" not in err


@pytest.mark.parametrize("count", ["100000000000000000000000", "²"])
def test_a_vocabulary_count_out_of_range_is_one_line(tmp_path, capsys, small_vectors, count):
    vocab = tmp_path / "v.vocab"
    vocab.write_text(f"cat {count}\ndog 4\n")
    docs = tmp_path / "d.txt"
    docs.write_text("cat dog\n")
    code, _, err = run(["embed", "-v", small_vectors, "--vocab", vocab, "--pooling", "sif",
                        docs, "-o", tmp_path / "e.npy"], capsys)
    assert code == 1
    assert_one_line(err, "line 1")


def test_a_binary_weat_tests_file_is_one_line(tmp_path, capsys, small_vectors):
    binary = tmp_path / "tests.toml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    code, _, err = run(["bias", "-v", small_vectors, "--tests-file", binary], capsys)
    assert code == 1
    assert_one_line(err, "not valid TOML")


def test_sts_and_similarity_files_are_read_like_every_input(small_vectors, tmp_path, capsys,
                                                              monkeypatch):
    import gzip
    import io
    import sys

    sts = tmp_path / "sts.txt.gz"
    sts.write_bytes(gzip.compress(b"1\tcat dog\tcar\n2\tbus\ttree\n3\tdog\tcat tree\n"))
    code, out, err = run(["evaluate", small_vectors, "--sts", sts, "--pooling", "mean"], capsys)
    assert code == 0, err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"cat dog 1\ncar bus 2\n"
                                                                  b"tree cat 3\n")))
    code, out, err = run(["evaluate", small_vectors, "--similarity", "-"], capsys)
    assert code == 0, err


def test_phrases_passes_empty_input_through(tmp_path, capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\n\n")))
    code, out, err = run(["phrases", "-", "-o", tmp_path / "out.txt"], capsys)
    assert code == 0, err
    assert (tmp_path / "out.txt").read_bytes() == b"\n\n"


def test_huge_finite_values_give_unit_rows_without_overflow_warnings(tmp_path, capsys):
    import warnings

    from w2v.vectors.word_vectors import unit_rows

    matrix = np.array([[1e20, 1], [1, 1], [0, 0], [3e38, 3e38]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unit = unit_rows(matrix)
    np.testing.assert_allclose(np.linalg.norm(unit[[0, 1, 3]].astype(np.float64), axis=1), 1,
                               rtol=1e-6)
    assert not unit[2].any()
    path = tmp_path / "v.txt"
    path.write_text("2 2\na 1e20 1\nb 1 1\n")
    code, out, err = run(["similar", "b", "-v", path], capsys)
    assert code == 0 and out.startswith("a\t0.7071") and err == "", err


def test_phrases_apply_refuses_a_phrase_with_an_edge_delimiter(tmp_path, capsys, monkeypatch):
    import io
    import sys

    table = tmp_path / "bad.phr"
    table.write_text("new_york\t5\t10\n_york\t3\t5\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"new york\n")))
    code, _, err = run(["phrases", "-", "--apply", table], capsys)
    assert code == 1
    assert_one_line(err, "'_york'")


def test_ngram_rows_of_opposite_infinities_compose_without_warnings():
    import warnings

    from w2v.vectors.ngrams import compose

    matrix = np.array([[np.inf, 1], [-np.inf, 1], [1, 1]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = compose(matrix, np.array([0, 2, 3]), np.array([0, 1, 2]))
    assert np.isnan(out[0, 0]) and out[1].tolist() == [1, 1]
