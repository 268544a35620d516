"""Vocabulary order and word2vec C's `word count` files."""

import numpy as np
import pytest

from w2v.errors import InputError
from w2v.corpus.vocab import Vocab, build_vocab, read_vocab, save_vocab


def test_build_sorts_by_count_then_first_occurrence():
    vocab = build_vocab(["x", "y", "z", "w"], [2, 5, 2, 1], min_count=2)
    assert vocab.words == ["y", "x", "z"]
    assert vocab.counts.tolist() == [5, 2, 2]
    assert vocab.index["z"] == 2 and vocab.total == 9


def test_save_and_read_round_trip(tmp_path):
    vocab = Vocab(["ß", "naïve", "日本"], np.array([9, 4, 4]))
    save_vocab(vocab, tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text(encoding="utf-8") == "ß 9\nnaïve 4\n日本 4\n"
    back = read_vocab(tmp_path / "v.txt")
    assert back.words == vocab.words and back.counts.tolist() == [9, 4, 4]


def test_read_word2vec_c_vocab_skips_sentence_marker(tmp_path):
    (tmp_path / "v.txt").write_text("</s> 0\nthe 10\ncat 3\n")
    assert read_vocab(tmp_path / "v.txt").words == ["the", "cat"]


def test_read_applies_min_count_and_max_vocab(tmp_path):
    (tmp_path / "v.txt").write_text("a 10\nb 3\nc 1\n")
    assert read_vocab(tmp_path / "v.txt", min_count=2).words == ["a", "b"]
    assert read_vocab(tmp_path / "v.txt", max_vocab=1).words == ["a"]


@pytest.mark.parametrize("text,fragment", [("a 10\nb x\n", "line 2"), ("a 1 2\n", "line 1"),
                                           ("a 1\na 2\n", "duplicate"), ("\n", "no words")])
def test_malformed_vocab_files(tmp_path, text, fragment):
    (tmp_path / "v.txt").write_text(text)
    with pytest.raises(InputError, match=fragment):
        read_vocab(tmp_path / "v.txt")


def test_missing_vocab_file(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_vocab(tmp_path / "none.txt")
