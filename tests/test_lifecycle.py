"""The library side of the training commands: one call resumes a run, continues a model on
new text, fits GloVe, or makes PPMI-SVD vectors, as the commands do."""

import numpy as np
import pytest

from w2v.checkpoints import recorded_inputs, refuse_changed_options
from w2v.config import GloveConfig, SvdConfig, Word2VecConfig
from w2v.corpus.corpus import load_corpus
from w2v.errors import OptionError
from w2v.glove import model as glove
from w2v.svd.svd import svd_vectors, train_svd
from w2v.word2vec import model as word2vec

SMALL = dict(dim=8, epochs=2, min_count=1, seed=3)


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    rng = np.random.default_rng(5)
    lines = [" ".join(f"w{i}" for i in rng.integers(0, 40, 10)) for _ in range(600)]
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_resume_finishes_a_stopped_run_as_an_unbroken_one(text, tmp_path):
    config = Word2VecConfig(**SMALL)
    loaded = load_corpus([text], **config.corpus_options())
    whole = word2vec.train(word2vec.init_model(config, loaded.vocab), loaded, threads=1)
    stopped = word2vec.init_model(config, loaded.vocab)
    stopped.position.launches_per_epoch = whole.position.launches_per_epoch
    word2vec.train(stopped, loaded, threads=1, until=(1, 0), inputs=[text])
    word2vec.save_model(stopped, tmp_path / "run.w2v")
    resumed = word2vec.resume(tmp_path / "run.w2v", threads=1)  # the recorded corpus
    assert resumed.finished
    assert resumed.w_in.tobytes() == whole.w_in.tobytes()
    assert word2vec.load_model(tmp_path / "run.w2v").finished


def test_continue_training_adds_the_new_words(text, tmp_path):
    model = word2vec.train_word2vec(text, **SMALL, threads=1).model
    word2vec.save_model(model, tmp_path / "base.w2v")
    new = tmp_path / "new.txt"
    new.write_text("fresh words w1 w2\n" * 20)
    more = word2vec.continue_training(tmp_path / "base.w2v", [str(new)], update_vocab=True,
                                      threads=1, epochs=1)
    assert {"fresh", "words"} <= set(more.vocab.words)
    assert more.config.epochs == 1 and more.finished


def test_resume_keeps_the_options_and_needs_files():
    config = Word2VecConfig(**SMALL)
    refuse_changed_options({"dim": 8}, config)  # the same value: no error
    with pytest.raises(OptionError, match="--dim 9 differs from the resumed model's 8"):
        refuse_changed_options({"dim": 9}, config)
    with pytest.raises(OptionError, match="came from stdin"):
        recorded_inputs({"inputs": ["-"]})
    with pytest.raises(OptionError, match="records no corpus files"):
        recorded_inputs(None)


def test_glove_fit_from_text_and_from_counts_file(text, tmp_path):
    config = GloveConfig(**SMALL, window=3)
    counts = tmp_path / "counts.npz"
    model = glove.fit([text], config, threads=1, save_cooccur=str(counts))
    assert model.finished and model.corpus["tokens"] == 6000
    again = glove.fit(config=config, cooccur=str(counts), threads=1)
    assert again.word.tobytes() == model.word.tobytes()


def test_svd_vectors_reads_the_corpus_as_train_svd_is_given_it(text):
    config = SvdConfig(dim=4, min_count=1, sample=0)
    direct = train_svd(load_corpus([text], min_count=1), config=config)
    assert np.array_equal(svd_vectors([text], config).vectors, direct.vectors)
    assert np.array_equal(train_svd(load_corpus([text], min_count=1), dim=4, sample=0).vectors,
                          direct.vectors)


def test_a_pooling_reads_text_as_the_model_was_trained(text, tmp_path):
    from w2v.documents.pooling import for_vectors
    from w2v.files.model_file import load_model_vectors

    model = word2vec.train_word2vec(text, **SMALL, preprocess="letters", threads=1).model
    word2vec.save_model(model, tmp_path / "m.w2v")
    wv = load_model_vectors(tmp_path / "m.w2v")
    pooling = for_vectors(wv, str(tmp_path / "m.w2v"))
    assert (pooling.kind, pooling.preprocess, pooling.lowercase) == ("usif", "letters", False)
    plain = for_vectors(wv, None, "mean", lowercase=True)
    assert (plain.kind, plain.preprocess, plain.lowercase) == ("mean", "none", True)
