"""GloVe models you can keep: the model as a value, one model file, checkpoints, exact resume."""

import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from w2v.glove import model as glove
from w2v.cli import main
from w2v.config import GloveConfig
from w2v.cooccur.counts import cooccurrence_matrix
from w2v.corpus.corpus import load_corpus
from w2v.errors import InputError
from w2v.glove.model import init_model, load_model, save_model, train, train_glove

SMALL = dict(dim=8, epochs=3, seed=4)


@pytest.fixture(scope="module")
def zipf_corpus(tmp_path_factory):
    """A few thousand words with Zipf frequencies: about 230k non-zeros at window 5, four
    blocks of the dealt counts, so an epoch has four launches."""
    rng = np.random.default_rng(7)
    n_words = 3000
    p = 1 / np.arange(1, n_words + 1)
    lines = [" ".join(f"w{i}" for i in rng.choice(n_words, 15, p=p / p.sum()))
             for _ in range(5000)]
    path = tmp_path_factory.mktemp("zipf") / "zipf.txt"
    path.write_text("\n".join(lines) + "\n")
    corpus = load_corpus([str(path)], min_count=1)
    return str(path), corpus, cooccurrence_matrix(corpus, window=5)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of about 4096 non-zeros: many launch boundaries inside an epoch."""
    monkeypatch.setattr(glove, "BLOCK_ENTRIES", 4096)


def test_stopped_at_a_launch_boundary_saved_loaded_and_resumed_is_byte_identical(
        zipf_corpus, tmp_path, small_blocks, monkeypatch):
    _, corpus, cooc = zipf_corpus
    config = GloveConfig(**SMALL)
    unbroken = train(init_model(config, corpus.vocab), cooc, threads=1)

    model = train(init_model(config, corpus.vocab), cooc, threads=1, until=(1, 7))
    assert (model.position.epoch, model.position.launch) == (1, 7)
    assert model.position.launches_per_epoch == 20 and model.position.blocks > 20
    save_model(model, tmp_path / "m.w2v")
    monkeypatch.undo()  # the block count is the model's, not the module's
    resumed = train(load_model(tmp_path / "m.w2v"), cooc, threads=1)

    assert resumed.word.tobytes() == unbroken.word.tobytes()
    assert resumed.context.tobytes() == unbroken.context.tobytes()
    assert [e["cost"] for e in resumed.losses] == [e["cost"] for e in unbroken.losses]
    assert resumed.finished and resumed.position.epoch == 3


def test_launch_cuts_do_not_depend_on_threads(zipf_corpus, small_blocks):
    _, corpus, cooc = zipf_corpus
    config = GloveConfig(**SMALL)
    one = train(init_model(config, corpus.vocab), cooc, threads=1, until=(0, 1))
    two = train(init_model(config, corpus.vocab), cooc, threads=2, until=(0, 1))
    assert dataclasses.asdict(one.position).keys() == dataclasses.asdict(two.position).keys()
    assert (one.position.blocks, one.position.launches_per_epoch) == \
        (two.position.blocks, two.position.launches_per_epoch)
    # a run begun on two threads resumes on one
    assert train(two, cooc, threads=1).finished


def test_save_load_round_trip(zipf_corpus, tmp_path, small_blocks):
    _, corpus, cooc = zipf_corpus
    model = train(init_model(GloveConfig(**SMALL, output_vectors="word"), corpus.vocab), cooc,
                  threads=1, until=(2, 3))
    save_model(model, tmp_path / "m.w2v")
    back = load_model(tmp_path / "m.w2v")
    assert back.config == model.config
    assert back.position == model.position
    assert back.vocab.words == model.vocab.words
    assert np.array_equal(back.vocab.counts, model.vocab.counts)
    assert back.word.tobytes() == model.word.tobytes()
    assert back.context.tobytes() == model.context.tobytes()
    assert back.losses == model.losses and len(back.losses) == 2
    assert back.counts == model.counts and back.counts["nnz"] == cooc.nnz
    # AdaGrad sums are kept, not restarted (GloVe C restarts them: GloVe #170)
    assert (back.word[:, SMALL["dim"] + 1:] > 1).any()
    assert np.array_equal(back.vectors().vectors, model.word[:, :SMALL["dim"]])


def test_a_damaged_vocabulary_is_one_line_input_error(zipf_corpus, tmp_path):
    _, corpus, cooc = zipf_corpus
    save_model(init_model(GloveConfig(**SMALL), corpus.vocab), tmp_path / "m.w2v")
    with np.load(tmp_path / "m.w2v") as archive:
        members = {name: archive[name] for name in archive.files}
    members["counts"] = members["counts"][:-1]
    np.savez(tmp_path / "short.npz", **members)
    with pytest.raises(InputError, match="vocabulary is damaged"):
        load_model(tmp_path / "short.npz")


def test_other_counts_are_refused(zipf_corpus, small_blocks):
    _, corpus, cooc = zipf_corpus
    model = train(init_model(GloveConfig(**SMALL), corpus.vocab), cooc, threads=1,
                  until=(0, 2))
    before = model.word.copy()
    other = cooc.copy()
    other.data[0] += 1
    with pytest.raises(InputError, match="not the ones the model was trained on"):
        train(model, other, threads=1)
    assert np.array_equal(model.word, before) and model.position.launch == 2


def test_train_glove_is_the_model_trained_in_one_call(zipf_corpus):
    _, corpus, cooc = zipf_corpus
    wv = train_glove(cooc, corpus.vocab, threads=1, **SMALL)
    model = train(init_model(GloveConfig(**SMALL), corpus.vocab), cooc, threads=1)
    assert wv.vectors.tobytes() == model.vectors().vectors.tobytes()
    assert wv.model.finished and len(wv.model.losses) == SMALL["epochs"]


# --------------------------------------------------------------------------- CLI


def _glove_args(path, *more):
    return ["glove", path, "--dim", "8", "--window", "5", "--min-count", "1", "--threads", "1",
            "-q", *more]


def test_cli_sigterm_checkpoints_and_resume_gives_the_same_bytes(zipf_corpus, tmp_path):
    path, _, _ = zipf_corpus
    epochs = ["--epochs", "40"]
    assert main(_glove_args(path, *epochs, "-o", str(tmp_path / "unbroken.bin"))) == 0

    model = tmp_path / "run.w2v"
    out = tmp_path / "resumed.bin"
    command = [sys.executable, "-m", "w2v.cli",
               *_glove_args(path, *epochs, "-o", str(out), "--save-model", str(model),
                            "--loss-log", str(tmp_path / "loss.tsv"))]
    command.remove("-q")  # the resume hint is a warning, but keep every line to show on failure
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not model.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # the first checkpoint is written at the end of epoch 1
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert model.exists(), err
    assert not out.exists(), err
    stopped = load_model(model)
    assert not stopped.finished, err
    assert f"resume with: w2v glove --resume {model} -o {out}" in err
    assert process.returncode == 143, err
    assert err.strip().splitlines()[-1] == "w2v: error: terminated"

    assert main(["glove", "--resume", str(model), "-o", str(out), "--threads", "1", "-q",
                 "--loss-log", str(tmp_path / "loss.tsv")]) == 0
    assert out.read_bytes() == (tmp_path / "unbroken.bin").read_bytes()
    assert load_model(model).finished
    lines = (tmp_path / "loss.tsv").read_text().splitlines()
    assert lines[0].startswith("epoch\tlaunch") and lines.count(lines[0]) == 1
    assert len(lines) == 1 + 40 * stopped.position.launches_per_epoch


def test_cli_resume_refuses_other_counts_and_keeps_the_model(zipf_corpus, tmp_path, capsys):
    path, _, _ = zipf_corpus
    model = tmp_path / "run.w2v"
    assert main(_glove_args(path, "--epochs", "1", "-o", str(tmp_path / "v.bin"),
                            "--save-model", str(model))) == 0
    saved = model.read_bytes()
    lines = open(path).read().splitlines()
    other = tmp_path / "other.txt"
    other.write_text("\n".join(lines[:-1] + [lines[-1] + " w1"]) + "\n")
    capsys.readouterr()
    assert main(["glove", "--resume", str(model), str(other), "-o", str(tmp_path / "x.bin"),
                 "--epochs", "1", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("w2v: error: ") and len(err.strip().splitlines()) == 1
    assert "this corpus is not the one the model was trained on (75001 tokens" in err
    assert model.read_bytes() == saved and not (tmp_path / "x.bin").exists()


def test_cli_resume_refuses_a_different_option(zipf_corpus, tmp_path, capsys):
    path, _, _ = zipf_corpus
    model = tmp_path / "run.w2v"
    assert main(_glove_args(path, "--epochs", "1", "-o", str(tmp_path / "v.bin"),
                            "--save-model", str(model))) == 0
    saved = model.read_bytes()
    capsys.readouterr()
    assert main(["glove", "--resume", str(model), "--dim", "16", "-o",
                 str(tmp_path / "x.bin")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("w2v: error: --dim 16 differs from the resumed model's 8")
    assert len(err.strip().splitlines()) == 1
    assert model.read_bytes() == saved
    # the same value, --threads and the outputs may be given
    assert main(["glove", "--resume", str(model), "--dim", "8", "--threads", "2", "-q",
                 "--output-vectors", "word", "-o", str(tmp_path / "word.bin")]) == 0
    from w2v.files.formats import load_vectors

    assert np.array_equal(load_vectors(str(tmp_path / "word.bin")).vectors,
                          load_model(model).vectors("word").vectors)


def test_cli_resume_reads_the_recorded_counts_file(zipf_corpus, tmp_path, small_blocks):
    path, _, _ = zipf_corpus
    counts = tmp_path / "counts.npz"
    assert main(["cooccur", path, "-o", str(counts), "--window", "3", "--min-count", "1",
                 "-q"]) == 0
    common = ["--dim", "8", "--epochs", "2", "--threads", "1", "-q"]
    assert main(["glove", "--read-cooccur", str(counts), *common,
                 "-o", str(tmp_path / "unbroken.txt")]) == 0
    from w2v.cooccur.file import load_cooccur

    matrix, vocab, _ = load_cooccur(counts)
    model = init_model(GloveConfig(dim=8, epochs=2, window=3), vocab)
    train(model, matrix, threads=1, until=(1, 2), source={"cooccur": str(counts)})
    save_model(model, tmp_path / "run.w2v")
    out = tmp_path / "resumed.txt"
    assert main(["glove", "--resume", str(tmp_path / "run.w2v"), "--threads", "1", "-q",
                 "-o", str(out)]) == 0
    assert out.read_bytes() == (tmp_path / "unbroken.txt").read_bytes()


def test_info_and_similar_read_a_glove_model(zipf_corpus, tmp_path, capsys):
    path, corpus, _ = zipf_corpus
    model = tmp_path / "run.w2v"
    vectors = tmp_path / "v.txt"
    assert main(_glove_args(path, "--epochs", "2", "-o", str(vectors),
                            "--save-model", str(model))) == 0
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "family: glove" in out and "epochs: 2 of 2 done" in out
    assert f"corpus: {corpus.n_tokens} tokens" in out and "loss per epoch:" in out
    assert main(["similar", "-v", str(model), "w1", "-n", "3"]) == 0
    from_model = capsys.readouterr().out
    assert main(["similar", "-v", str(vectors), "w1", "-n", "3"]) == 0
    assert capsys.readouterr().out == from_model and len(from_model.splitlines()) == 3


def test_resume_of_a_stdin_corpus_needs_the_corpus(zipf_corpus, tmp_path, capsys,
                                                   monkeypatch):
    path, corpus, cooc = zipf_corpus
    model = init_model(GloveConfig(dim=8, epochs=2, window=5, min_count=1), corpus.vocab)
    model.corpus = {"tokens": corpus.n_tokens, "sentences": corpus.n_sentences,
                    "inputs": ["-"]}
    train(model, cooc, threads=1, until=(1, 0))
    save_model(model, tmp_path / "run.w2v")
    assert main(["glove", "--resume", str(tmp_path / "run.w2v"), "-o",
                 str(tmp_path / "v.bin")]) == 2
    assert "came from stdin: give CORPUS again" in capsys.readouterr().err
    assert os.path.exists(tmp_path / "run.w2v")
