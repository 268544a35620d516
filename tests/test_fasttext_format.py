"""fastText `.bin` files read and written, and words outside the vocabulary composed from
their n-grams by the reading commands (`SubwordVectors`).

Matrices are random rather than trained, so every check compares exact arithmetic (the
mean of the right rows) and runs in milliseconds. Checks against fastText and gensim
skip when those packages are absent.
"""

import json
import os
import struct

import numpy as np
import pytest

from w2v.cli import main
from w2v.config import Word2VecConfig
from w2v.errors import InputError, VocabularyError
from w2v.files.fasttext import (FastTextModel, is_fasttext_bin, read_fasttext_bin,
                                 write_fasttext_bin)
from w2v.files.formats import load_vectors
from w2v.files.model_file import load_model_vectors
from w2v.vectors.subword_vectors import SubwordVectors
from w2v.vectors.ngrams import compose, subword_rows

WORDS = ["walking", "talking", "stone", "apple", "pear", "café", "東京", "🙂x", "</s>"]
OOV = ["walkin", "stones", "cafés", "東京都", "pearl", "🙂🙂", "xyzzy"]
DIM, BUCKET, MINN, MAXN = 8, 61, 3, 5


def random_model(seed=0, words=WORDS, bucket=BUCKET):
    rng = np.random.default_rng(seed)
    counts = np.arange(len(words), 0, -1, dtype=np.int64) * 10
    w_in = rng.standard_normal((len(words) + bucket, DIM)).astype(np.float32)
    w_out = rng.standard_normal((len(words), DIM)).astype(np.float32)
    return words, counts, w_in, w_out


def cosine(a, b):
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.fixture
def subword_model_file(tmp_path):
    """A w2v subword model file, as `train --subwords --save-model` lays it out."""
    from w2v.word2vec.model import Word2VecModel, save_model
    from w2v.corpus.vocab import Vocab

    words, counts, w_in, w_out = random_model()
    config = Word2VecConfig(subwords=True, dim=DIM, minn=MINN, maxn=MAXN, bucket=BUCKET,
                            min_count=1, window=3, epochs=2, sample=1e-4)
    model = Word2VecModel(config, Vocab(words, counts), w_in, w_out,
                          np.zeros((1, DIM), np.float32))
    path = tmp_path / "sub.w2v"
    save_model(model, str(path))
    return str(path)


@pytest.fixture
def fasttext_bin(tmp_path):
    """A .bin that fastText itself saved: a small model with random matrices set in."""
    fasttext = pytest.importorskip("fasttext")
    corpus = tmp_path / "c.txt"
    corpus.write_text("walking talking stone apple pear café 東京 🙂x\n" * 3, encoding="utf-8")
    model = fasttext.train_unsupervised(str(corpus), model="skipgram", dim=DIM, epoch=1,
                                        minCount=1, thread=1, bucket=BUCKET, minn=MINN,
                                        maxn=MAXN, verbose=0)
    rng = np.random.default_rng(3)
    n_words = len(model.words)
    model.set_matrices(rng.standard_normal((n_words + BUCKET, DIM)).astype(np.float32),
                       rng.standard_normal((n_words, DIM)).astype(np.float32))
    path = tmp_path / "ft.bin"
    model.save_model(str(path))
    return str(path), model


def run_main(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, *fragments):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v: error:"), err
    assert all(f in lines[0] for f in fragments), err


# --------------------------------------------------------------------------- reading fastText's


def test_a_bin_fasttext_wrote_gives_fasttexts_vectors_for_every_word(fasttext_bin):
    path, model = fasttext_bin
    wv = load_vectors(path)
    assert isinstance(wv, SubwordVectors) and wv.words == model.words
    expected = np.array([model.get_word_vector(w) for w in wv.words])
    np.testing.assert_allclose(wv.vectors, expected, rtol=1e-5, atol=1e-6)
    composed = wv.vectors_for(OOV)
    np.testing.assert_allclose(composed, [model.get_word_vector(w) for w in OOV],
                               rtol=1e-5, atol=1e-6)


def test_the_args_and_dictionary_are_fasttexts(fasttext_bin):
    path, model = fasttext_bin
    ft = read_fasttext_bin(path)
    assert (ft.args["dim"], ft.args["bucket"], ft.args["minn"], ft.args["maxn"]) == \
        (DIM, BUCKET, MINN, MAXN)
    assert ft.args["loss"] == "ns" and ft.args["model"] == "sg" and ft.labels == 0
    words, counts = model.get_words(include_freq=True)
    assert ft.words == list(words) and ft.counts.tolist() == counts.tolist()
    np.testing.assert_array_equal(ft.input_matrix, model.get_input_matrix())
    np.testing.assert_array_equal(ft.output_matrix, model.get_output_matrix())


def test_both_matrices_are_memory_mapped(fasttext_bin):
    ft = read_fasttext_bin(fasttext_bin[0])
    assert isinstance(ft.input_matrix, np.memmap) and isinstance(ft.output_matrix, np.memmap)
    assert isinstance(ft.vectors().input_matrix, np.memmap)


def test_a_supervised_model_is_read_as_its_words(tmp_path):
    fasttext = pytest.importorskip("fasttext")
    data = tmp_path / "train.txt"
    data.write_text("__label__a good fine day\n__label__b bad awful night\n" * 5)
    model = fasttext.train_supervised(str(data), dim=4, epoch=1, minn=2, maxn=3, bucket=31,
                                      verbose=0)
    path = tmp_path / "sup.bin"
    model.save_model(str(path))
    ft = read_fasttext_bin(path)
    assert ft.labels == 2 and ft.words == model.words and ft.args["model"] == "sup"
    wv = ft.vectors()
    np.testing.assert_allclose(wv.vectors, [model.get_word_vector(w) for w in wv.words],
                               rtol=1e-5, atol=1e-6)


def test_a_limit_gives_the_first_words_composed_with_the_full_table():
    words, counts, w_in, w_out = random_model()
    whole = SubwordVectors(words, w_in, MINN, MAXN, BUCKET)
    ft = FastTextModel({"minn": MINN, "maxn": MAXN, "bucket": BUCKET}, words, counts, w_in,
                       w_out)
    first = ft.vectors(limit=3)
    assert first.words == words[:3]
    np.testing.assert_array_equal(first.vectors, whole.vectors[:3])


# --------------------------------------------------------------------------- writing


def test_a_written_bin_reads_back_exactly(tmp_path):
    words, counts, w_in, w_out = random_model()
    path = tmp_path / "w.bin"
    write_fasttext_bin(path, words, counts, w_in, w_out, model="cbow", bucket=BUCKET, minn=MINN,
                       maxn=MAXN, ws=3, epoch=7, min_count=2, neg=4, t=1e-3)
    assert is_fasttext_bin(path)
    ft = read_fasttext_bin(path)
    assert ft.words == words and ft.counts.tolist() == counts.tolist()
    assert ft.ntokens == counts.sum()
    assert {k: ft.args[k] for k in ("model", "ws", "epoch", "minCount", "neg", "loss", "t")} == \
        {"model": "cbow", "ws": 3, "epoch": 7, "minCount": 2, "neg": 4, "loss": "ns", "t": 1e-3}
    np.testing.assert_array_equal(ft.input_matrix, w_in)
    np.testing.assert_array_equal(ft.output_matrix, w_out)


def test_fasttexts_own_bin_is_rewritten_byte_for_byte(fasttext_bin, tmp_path, capsys):
    out = tmp_path / "again.bin"
    assert run_main(["convert", fasttext_bin[0], "-o", str(out), "--fasttext"], capsys)[0] == 0
    assert out.read_bytes() == open(fasttext_bin[0], "rb").read()


def test_fasttext_and_gensim_load_a_bin_w2v_wrote(subword_model_file, tmp_path, capsys):
    fasttext = pytest.importorskip("fasttext")
    gensim_fasttext = pytest.importorskip("gensim.models.fasttext")
    out = tmp_path / "from-w2v.bin"
    code, _, err = run_main(["convert", subword_model_file, "-o", str(out), "--fasttext"], capsys)
    assert code == 0, err
    ours = load_model_vectors(subword_model_file)
    ft = fasttext.load_model(str(out))
    gs = gensim_fasttext.load_facebook_model(str(out))
    assert ft.words == WORDS and list(gs.wv.index_to_key) == WORDS
    for word, vector in zip(OOV, ours.vectors_for(OOV)):
        assert cosine(vector, ft.get_word_vector(word)) > 0.9999, word
        assert cosine(vector, gs.wv[word]) > 0.9999, word
    for word in WORDS:
        assert cosine(ours[word], ft.get_word_vector(word)) > 0.9999, word


def test_fasttext_output_needs_a_subword_model(tmp_path, capsys):
    from w2v.files.formats import save_vectors
    from w2v.vectors.word_vectors import WordVectors

    plain = tmp_path / "plain.bin"
    save_vectors(WordVectors(["a", "b"], np.eye(2, dtype=np.float32)), plain)
    code, _, err = run_main(["convert", str(plain), "-o", str(tmp_path / "o.bin"), "--fasttext"],
                            capsys)
    assert code == 1
    assert_one_line_error(err, "--fasttext needs a subword model")
    assert not (tmp_path / "o.bin").exists()


# --------------------------------------------------------------------------- damaged files


def _offsets(path):
    """Byte offsets of the dictionary, the input matrix and the output matrix."""
    ft = read_fasttext_bin(path)
    rows, dim = ft.input_matrix.shape
    size = os.path.getsize(path)
    output_start = size - 17 - 4 * ft.output_matrix.size
    input_start = output_start - 17 - 4 * rows * dim
    return {"args": 20, "dictionary": 64 + 28 + 3, "input": input_start + 20,
            "output": output_start + 40}


@pytest.mark.parametrize("where", ["args", "dictionary", "input", "output"])
def test_a_truncated_bin_is_one_line_naming_the_byte_offset(tmp_path, capsys, where):
    words, counts, w_in, w_out = random_model()
    path = tmp_path / "w.bin"
    write_fasttext_bin(path, words, counts, w_in, w_out, bucket=BUCKET, minn=MINN, maxn=MAXN)
    cut = _offsets(path)[where]
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    with pytest.raises(InputError, match=f"truncated at byte offset {cut}"):
        read_fasttext_bin(path)
    code, _, err = run_main(["similar", "stone", "-v", str(path)], capsys)
    assert code == 1
    assert_one_line_error(err, str(path), f"truncated at byte offset {cut}")


def test_damaged_and_quantized_bins_are_refused_in_one_line(tmp_path, capsys):
    words, counts, w_in, w_out = random_model()
    path = tmp_path / "w.bin"
    write_fasttext_bin(path, words, counts, w_in, w_out, bucket=BUCKET, minn=MINN, maxn=MAXN)
    good = path.read_bytes()
    quant_at = _offsets(path)["input"] - 20
    assert good[quant_at] == 0
    cases = {
        "quantized model (.ftz)": good[:quant_at] + b"\x01" + good[quant_at + 1:],
        "file version 99": good[:4] + struct.pack("<i", 99) + good[8:],
        "bytes after the output matrix": good + b"\0\0",
        "dictionary announces": good[:64] + struct.pack("<3i", 5, 9, 0) + good[76:],
    }
    for fragment, data in cases.items():
        path.write_bytes(data)
        with pytest.raises(InputError, match="byte offset"):
            read_fasttext_bin(path)
        code, _, err = run_main(["convert", str(path), "-o", str(tmp_path / "x.vec")], capsys)
        assert code == 1
        assert_one_line_error(err, str(path), "byte offset", fragment)


def test_a_dictionary_with_a_word_twice_is_one_line(tmp_path, capsys):
    words, counts, w_in, w_out = random_model()
    path = tmp_path / "w.bin"
    write_fasttext_bin(path, words, counts, w_in, w_out, bucket=BUCKET, minn=MINN, maxn=MAXN)
    path.write_bytes(path.read_bytes().replace(b"pear\0", b"apple\0", 1))  # apple twice
    code, _, err = run_main(["similar", "stone", "-v", str(path)], capsys)
    assert code == 1
    assert_one_line_error(err, str(path), "duplicate words")
    with pytest.raises(ValueError, match="duplicate words"):
        write_fasttext_bin(path, ["a", "a"], [1, 1], np.zeros((3, 2), np.float32),
                           np.zeros((2, 2), np.float32), bucket=1)


# --------------------------------------------------------------------------- composing


def test_subword_vectors_compose_like_fasttext_and_zero_a_word_without_ngrams(caplog):
    words, counts, w_in, _ = random_model()
    wv = SubwordVectors(words, w_in, MINN, MAXN, BUCKET)
    offsets, rows = subword_rows(words, MINN, MAXN, BUCKET)
    np.testing.assert_array_equal(wv.vectors, compose(w_in, offsets, rows))
    assert np.array_equal(wv.vectors_for(["stone"])[0], wv["stone"])
    assert wv.vectors_for(["a"]).any()  # "<a>" is one 3-gram
    short = SubwordVectors(words, w_in, 4, MAXN, BUCKET)  # "<a>" is too short for minn 4
    with caplog.at_level("WARNING", logger="w2v"):
        assert not short.vectors_for(["a"]).any()
    assert "zero vector: a" in caplog.text


def test_plain_vectors_still_refuse_unknown_words():
    from w2v.vectors.word_vectors import WordVectors

    wv = WordVectors(["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(VocabularyError, match="not in the vocabulary: zz"):
        wv.vectors_for(["a", "zz"])


def test_a_subword_model_file_gives_memory_mapped_subword_vectors(subword_model_file):
    wv = load_model_vectors(subword_model_file)
    assert isinstance(wv, SubwordVectors) and wv.words == WORDS
    words, counts, w_in, _ = random_model()
    np.testing.assert_array_equal(wv.vectors, SubwordVectors(words, w_in, MINN, MAXN,
                                                             BUCKET).vectors)
    assert wv.counts.tolist() == counts.tolist()
    assert isinstance(wv.input_matrix, np.memmap)  # members are written 64-byte aligned


# --------------------------------------------------------------------------- reading commands


@pytest.fixture(params=["model", "fasttext"])
def subword_vectors_path(request, subword_model_file, tmp_path):
    """The same subword vectors as a w2v model file and as a fastText .bin w2v wrote."""
    if request.param == "model":
        return subword_model_file
    path = tmp_path / "same.bin"
    words, counts, w_in, w_out = random_model()
    write_fasttext_bin(path, words, counts, w_in, w_out, bucket=BUCKET, minn=MINN, maxn=MAXN)
    return str(path)


def test_similar_answers_an_unknown_word_and_says_it_was_composed(subword_vectors_path, capsys):
    code, out, err = run_main(["similar", "walkin", "-n", "3", "-v", subword_vectors_path], capsys)
    assert code == 0
    assert out.splitlines()[0].split("\t")[0] == "walking"  # shares most of its n-grams
    assert "composed from character n-grams (not in the vocabulary): walkin" in err
    code, out, err = run_main(["similar", "walking", "-n", "3", "-v", subword_vectors_path],
                              capsys)
    assert code == 0 and "composed" not in err


def test_analogy_composes_unknown_words_and_leaves_known_ones_out(subword_vectors_path, capsys):
    wv = load_vectors(subword_vectors_path)
    code, out, err = run_main(["analogy", "stone", "stones", "pearl", "-v", subword_vectors_path,
                               "--json", "-n", "20"], capsys)
    assert code == 0
    answers = [json.loads(line) for line in out.splitlines()]
    assert "stone" not in [a["word"] for a in answers] and len(answers) == len(wv) - 1
    assert "composed from character n-grams (not in the vocabulary): stones, pearl" in err
    units = wv.vectors_for(["stone", "stones", "pearl"])
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    target = units[0] - units[1] + units[2]
    expected = wv.unit @ (target / np.linalg.norm(target))
    best = answers[0]
    assert best["score"] == pytest.approx(float(expected[wv.index[best["word"]]]), abs=1e-6)


def test_evaluate_composes_unknown_pairs_and_states_both_coverages(subword_vectors_path, tmp_path,
                                                                   capsys):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("walking walkin 9\nstone stones 8\napple pear 5\ntalking xyzzy 1\n"
                     "café cafés 7\n")
    code, out, err = run_main(["evaluate", subword_vectors_path, "--similarity", str(pairs),
                               "--json"], capsys)
    assert code == 0
    [result] = json.loads(out)["similarity"]
    assert result["pairs_used"] == 5 and result["pairs_composed"] == 4
    assert result["words_composed"] == 4
    assert "4 words composed from character n-grams" in err
    code, out, _ = run_main(["evaluate", subword_vectors_path, "--similarity", str(pairs)], capsys)
    assert "pairs 5 of 5 (100.0%), 4 with words composed from n-grams (1 in the vocabulary, " \
           "20.0%)" in out
    code, out, _ = run_main(["evaluate", subword_vectors_path, "--similarity", str(pairs),
                             "--skip-oov", "--json"], capsys)
    [result] = json.loads(out)["similarity"]
    assert result["pairs_used"] == 1 and result["pairs_composed"] == 0


def test_convert_writes_the_composed_vectors_as_fasttexts_vec(subword_vectors_path, tmp_path,
                                                             capsys):
    out = tmp_path / "out.vec"
    code, _, err = run_main(["convert", subword_vectors_path, "-o", str(out)], capsys)
    assert code == 0, err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == f"{len(WORDS)} {DIM}"
    back = load_vectors(str(out))
    assert back.words == WORDS
    np.testing.assert_array_equal(back.vectors, load_vectors(subword_vectors_path).vectors)
