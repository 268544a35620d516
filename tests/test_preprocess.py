"""--preprocess in the corpus pass: every training command normalises text the same way, a
model records it, and `embed`/`search` apply what training applied."""

import numpy as np
import pytest

from w2v.cli import main
from w2v.corpus.corpus import count_corpus, load_corpus
from w2v.errors import OptionError
from w2v.config import Word2VecConfig
from w2v.files.model_file import ModelFile
from w2v.text.preprocess import letters, text_normaliser

RAW = "The Guitar, 1993!\nGUITAR strings; café\n"


@pytest.fixture
def raw_corpus(tmp_path):
    path = tmp_path / "raw.txt"
    path.write_text(RAW * 20, encoding="utf-8")
    return str(path)


def test_letters_is_the_shared_corpus_preparation():
    assert letters("The Guitar, 1993!\nCafé") == "the guitar one nine nine three \ncafe"


def test_lowercase_and_preprocess_combine():
    assert text_normaliser(False, "none") is None
    assert text_normaliser(True, "none")("AbC") == "abc"
    assert text_normaliser(True, "letters")("AbC.") == "abc "


@pytest.mark.parametrize("reader", [load_corpus, count_corpus])
def test_the_corpus_pass_normalises_every_block(raw_corpus, reader):
    if reader is load_corpus:
        words = reader([raw_corpus], min_count=1, preprocess="letters").vocab.words
    else:
        words = reader([raw_corpus], preprocess="letters").vocab(min_count=1).words
    assert set(words) == {"the", "guitar", "one", "nine", "three", "strings", "cafe"}


def test_an_unknown_preprocess_is_refused():
    with pytest.raises(OptionError, match="--preprocess"):
        Word2VecConfig(preprocess="stem")


def test_vocab_command_takes_preprocess(raw_corpus, capsys):
    assert main(["vocab", raw_corpus, "--min-count", "1", "--preprocess", "letters", "-q"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["guitar 40", "nine 40"]


def test_a_model_records_it_and_embed_applies_it(raw_corpus, tmp_path, capsys):
    model = tmp_path / "m.w2v"
    assert main(["train", raw_corpus, "--min-count", "1", "--dim", "8", "--epochs", "1",
                 "--threads", "1", "--preprocess", "letters", "--save-model", str(model),
                 "-o", str(tmp_path / "v.bin"), "-q"]) == 0
    with ModelFile(model) as saved:
        assert saved.header["config"]["preprocess"] == "letters"
    docs = tmp_path / "docs.txt"
    docs.write_text("GUITAR!!\nguitar\n")
    out = tmp_path / "docs.npy"
    assert main(["embed", "-v", str(model), str(docs), "--pooling", "mean", "-o", str(out)]) == 0
    assert "preprocess: letters" in capsys.readouterr().err
    rows = np.load(out)
    assert np.array_equal(rows[0], rows[1]) and np.any(rows[0] != 0)
