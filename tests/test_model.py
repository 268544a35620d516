"""Model files, checkpoints, exact resume and continued training (word2vec).

A run stopped at a launch boundary, saved, loaded and trained on must give the same bytes
as an unbroken run (threads 1); a refused model or option must leave the model file as it
was; continued training must keep what the new text does not touch.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from w2v.word2vec import kernels as sgns
from w2v.word2vec import model as train_module
from w2v.cli import main
from w2v.config import Word2VecConfig
from w2v.corpus.corpus import load_corpus, restrict_corpus
from w2v.errors import InputError, OutputError
from w2v.files.formats import load_vectors, save_vectors
from w2v.files.model_file import FORMAT_VERSION, ModelFile, load_model_vectors
from w2v.runtime.rng import initial_vectors
from w2v.word2vec.model import init_model, load_model, plan_chunks, save_model, train
from w2v.corpus.vocab import Vocab

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS_PER_GROUP = 6


def write_groups(path, groups, n_sentences, seed, extra=""):
    """Sentences that each draw all their words from one group (prefix + digit): words
    co-occur only within their group, so nearest neighbours must share the group."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_sentences):
        group = groups[rng.integers(len(groups))]
        words = rng.integers(WORDS_PER_GROUP, size=rng.integers(6, 14))
        lines.append(" ".join(f"{group}{w}" for w in words))
    path.write_text("\n".join(lines) + "\n" + extra)
    return str(path)


def group_of(word):
    return word.rstrip("0123456789")


def nearest(wv, word, among):
    """The word of `among` (not `word` itself) nearest to `word` by cosine."""
    unit = wv.unit
    candidates = [w for w in among if w != word]
    sims = [float(unit[wv.words.index(word)] @ unit[wv.words.index(w)]) for w in candidates]
    return candidates[int(np.argmax(sims))]


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory):
    return write_groups(tmp_path_factory.mktemp("groups") / "a.txt", ["a", "b"], 1500, seed=7)


@pytest.fixture(scope="module")
def corpus(corpus_path):
    return load_corpus([corpus_path], min_count=1)


def one_line_error(err, fragment):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v: error:") and fragment in lines[0], err


def arrays_equal(a, b):
    return all(getattr(a, name).tobytes() == getattr(b, name).tobytes()
               for name in ("w_in", "w_out", "w_hs"))


def without_seconds(losses):
    return [{k: v for k, v in entry.items() if k != "seconds"} for entry in losses]


# --------------------------------------------------------------------------- exact resume


MODES = {
    "sg": dict(kernel="classic"),
    "cbow": dict(model="cbow"),
    "hs": dict(hs=True, negative=0),
    "sg+hs": dict(hs=True, negative=3),
    "batched": dict(kernel="batched"),
    "cbow-batched": dict(model="cbow", kernel="batched"),
    "hs-batched": dict(hs=True, negative=0, kernel="batched"),
}


def fresh_model(corpus, launches=3, epochs=2, **options):
    config = Word2VecConfig(dim=8, window=3, epochs=epochs, sample=1e-2, min_count=1, seed=4,
                            **options)
    model = init_model(config, corpus.vocab)
    model.position.launches_per_epoch = launches  # the corpus is far below MIN_LAUNCH_TOKENS
    return model


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stop", [(0, 1), (0, 2), (1, 0), (1, 2)],
                         ids=["mid-epoch-1", "mid-epoch-2", "epoch-boundary", "last-launch"])
def test_stopped_saved_loaded_and_trained_on_is_an_unbroken_run(corpus, tmp_path, mode, stop):
    unbroken = train(fresh_model(corpus, **MODES[mode]), corpus, threads=1)
    stopped = train(fresh_model(corpus, **MODES[mode]), corpus, threads=1, until=stop)
    assert (stopped.position.epoch, stopped.position.launch) == stop
    assert not arrays_equal(stopped, unbroken)  # it really stopped part-way
    path = tmp_path / "m.w2v"
    save_model(stopped, path)
    resumed = train(load_model(path), corpus, threads=1)
    assert arrays_equal(resumed, unbroken)
    assert resumed.position == unbroken.position
    assert without_seconds(resumed.losses) == without_seconds(unbroken.losses)


def test_resume_with_more_threads_keeps_the_launch_plan(corpus, tmp_path):
    """Launch boundaries (so the learning rate and the saved position) do not depend on
    the thread count: a model stopped with one thread trains on with two."""
    stopped = train(fresh_model(corpus), corpus, threads=1, until=(0, 2))
    save_model(stopped, tmp_path / "m.w2v")
    resumed = train(load_model(tmp_path / "m.w2v"), corpus, threads=2)
    assert resumed.finished and resumed.position.words_done == 2 * corpus.n_tokens
    assert np.isfinite(resumed.w_in).all()


def test_a_model_saved_mid_epoch_with_parts_ends_that_epoch_on_them(corpus, tmp_path):
    """A model saved mid-epoch by a w2v whose threads each owned a part of the corpus
    (position.parts 2) trains the rest of that epoch's launches on the parts, then as now
    (parts 1), whatever the threads."""
    stopped = train(fresh_model(corpus), corpus, threads=1, until=(0, 2))
    assert stopped.position.parts == 1
    stopped.position.parts = 2
    save_model(stopped, tmp_path / "m.w2v")
    resumed = load_model(tmp_path / "m.w2v")
    assert resumed.position.parts == 2
    train(resumed, corpus, threads=1, until=(1, 0))
    launches = resumed.position.launches_per_epoch
    offsets = np.asarray(corpus.offsets)
    words = [int((offsets[b[:, 1]] - offsets[b[:, 0]]).sum())
             for b in plan_chunks(offsets, launches, 1, parts=2)]
    assert resumed.position.words_done == stopped.position.words_done + sum(words[2:])
    assert resumed.position.parts == 2
    train(resumed, corpus, threads=2, until=(1, 1))
    assert resumed.position.parts == 1 and np.isfinite(resumed.w_in).all()


# --------------------------------------------------------------------------- the file


def test_save_load_round_trip(corpus, tmp_path):
    model = train(fresh_model(corpus, **MODES["sg+hs"]), corpus, threads=1, until=(1, 1),
                  inputs=["corpus.txt"])
    path = tmp_path / "m.w2v"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.config == model.config
    assert loaded.vocab.words == model.vocab.words
    assert np.array_equal(loaded.vocab.counts, model.vocab.counts)
    assert loaded.vocab.counts.dtype == np.int64
    for name in ("w_in", "w_out", "w_hs"):
        assert getattr(loaded, name).dtype == np.float32
        assert getattr(loaded, name).tobytes() == getattr(model, name).tobytes()
    assert loaded.position == model.position
    assert loaded.losses == model.losses
    assert loaded.corpus == model.corpus and loaded.corpus["inputs"][0].endswith("corpus.txt")
    assert loaded.train_seconds == pytest.approx(model.train_seconds, abs=1e-3)


def test_numpy_opens_the_file_without_pickle(corpus, tmp_path):
    model = train(fresh_model(corpus), corpus, threads=1, until=(0, 1))
    path = tmp_path / "m.w2v"
    save_model(model, path)
    with np.load(path) as archive:  # allow_pickle is False by default
        assert set(archive.files) == {"header", "words", "counts", "w_in", "w_out", "w_hs"}
        header = json.loads(bytes(archive["header"]).decode("utf-8"))
        assert header["format"] == "w2v-model" and header["format_version"] == FORMAT_VERSION
        assert header["family"] == "word2vec" and header["config"]["dim"] == 8
        assert header["arrays"]["w_in"] == [len(corpus.vocab), 8]
        assert bytes(archive["words"]).decode("utf-8").split("\n") == corpus.vocab.words
        assert np.array_equal(archive["w_in"], model.w_in)
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_a_model_written_by_numpy_savez_loads(corpus, tmp_path):
    """The reader follows the .npz layout, not the exact bytes w2v writes."""
    model = train(fresh_model(corpus), corpus, threads=1, until=(0, 1))
    save_model(model, tmp_path / "m.w2v")
    with np.load(tmp_path / "m.w2v") as archive:
        members = {name: archive[name] for name in archive.files}
    np.savez(tmp_path / "other.npz", **members)
    loaded = load_model(tmp_path / "other.npz")
    assert arrays_equal(loaded, model) and loaded.position == model.position


# --------------------------------------------------------------------------- refusals


@pytest.fixture
def partial(corpus_path, tmp_path):
    """A model stopped in its first epoch, as a checkpoint of `w2v train` would be."""
    corpus = load_corpus([corpus_path], min_count=1)
    config = Word2VecConfig(dim=8, window=3, epochs=2, min_count=1, seed=4)
    model = init_model(config, corpus.vocab)
    model.position.launches_per_epoch = 3
    train(model, corpus, threads=1, until=(0, 1), inputs=[corpus_path])
    path = tmp_path / "partial.w2v"
    save_model(model, path)
    return path


def rewrite_header(source, target, **changes):
    """Copy a model file with header fields changed (as a newer w2v might write it)."""
    with np.load(source) as archive:
        members = {name: archive[name] for name in archive.files}
    header = json.loads(bytes(members["header"]).decode("utf-8"))
    header.update(changes)
    members["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with open(target, "wb") as f:
        np.savez(f, **members)


def refused(args, model_path, tmp_path, capsys):
    """Run `w2v ARGS`; return (exit code, stderr), checking the model file is untouched
    and no file was added beside it."""
    before = model_path.read_bytes()
    listing = sorted(os.listdir(tmp_path))
    code = main(args)
    err = capsys.readouterr().err
    assert model_path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing
    return code, err


def test_a_newer_format_version_is_refused(partial, tmp_path, capsys):
    newer = tmp_path / "newer.w2v"
    rewrite_header(partial, newer, format_version=FORMAT_VERSION + 1, w2v_version="9.0")
    out = str(tmp_path / "v.bin")
    code, err = refused(["train", "--resume", str(newer), "-o", out], newer, tmp_path, capsys)
    assert code == 1
    one_line_error(err, "newer w2v")
    assert f"model format {FORMAT_VERSION + 1}" in err and "9.0" in err
    code, err = refused(["similar", "a0", "-v", str(newer)], newer, tmp_path, capsys)
    assert code == 1
    one_line_error(err, "upgrade w2v")


def test_a_header_without_a_format_version_is_refused(partial, tmp_path, capsys):
    broken = tmp_path / "broken.w2v"
    rewrite_header(partial, broken, format_version=None)
    code, err = refused(["info", str(broken)], broken, tmp_path, capsys)
    assert code == 1
    one_line_error(err, "no valid format version")


def test_resume_of_an_untrained_model_asks_for_the_corpus(corpus, tmp_path, capsys):
    path = tmp_path / "untrained.w2v"
    save_model(fresh_model(corpus), path)
    code, err = refused(["train", "--resume", str(path), "-o", str(tmp_path / "v.bin")],
                        path, tmp_path, capsys)
    assert code == 2
    one_line_error(err, "give CORPUS")


def test_checkpoint_every_without_a_model_file_is_said(corpus_path, tmp_path, capsys):
    out = tmp_path / "v.bin"
    assert main(["train", corpus_path, "--dim", "4", "--epochs", "1", "--threads", "1",
                 "--min-count", "1", "--checkpoint-every", "5", "-o", str(out)]) == 0
    assert "--checkpoint-every does nothing without --save-model" in capsys.readouterr().err


def test_a_truncated_model_file_is_refused(partial, tmp_path, capsys):
    data = partial.read_bytes()
    for keep in (len(data) // 2, len(data) - 10, 30):
        truncated = tmp_path / "truncated.w2v"
        truncated.write_bytes(data[:keep])
        code, err = refused(["train", "--resume", str(truncated), "-o", str(tmp_path / "v.bin")],
                            truncated, tmp_path, capsys)
        assert code == 1
        one_line_error(err, "not a complete model file")
        code, err = refused(["info", str(truncated)], truncated, tmp_path, capsys)
        assert code == 1
        one_line_error(err, "truncated.w2v")


def test_a_damaged_array_is_refused(partial, tmp_path):
    """A member cut short inside an intact archive (its central directory survives)."""
    with zipfile.ZipFile(partial) as archive:
        info = archive.getinfo("w_in.npy")
        start = info.header_offset
    data = bytearray(partial.read_bytes())
    damaged = tmp_path / "damaged.w2v"
    # a local header claiming another name: the member's bytes are no longer found
    data[start:start + 4] = b"XXXX"
    damaged.write_bytes(bytes(data))
    with pytest.raises(InputError, match="w_in"):
        load_model(damaged)


def test_counts_that_do_not_match_the_words_are_refused(partial, tmp_path):
    with np.load(partial) as archive:
        members = {name: archive[name] for name in archive.files}
    members["counts"] = members["counts"][:-1]
    np.savez(tmp_path / "short.npz", **members)
    with pytest.raises(InputError, match="vocabulary is damaged"):
        load_model(tmp_path / "short.npz")


def test_a_zip_that_is_not_a_model_is_refused(tmp_path, capsys):
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "not a model")
    for args in (["train", "--resume", str(other), "-o", str(tmp_path / "v.bin")],
                 ["similar", "a0", "-v", str(other)], ["info", str(other)]):
        code, err = refused(args, other, tmp_path, capsys)
        assert code == 1
        one_line_error(err, "not a w2v model file")


def test_resume_refuses_another_corpus(partial, corpus_path, tmp_path, capsys):
    other = tmp_path / "other.txt"
    text = open(corpus_path).read()
    other.write_text(text.replace("a1", "b2", 1))  # same token count, other text
    code, err = refused(["train", "--resume", str(partial), str(other),
                         "-o", str(tmp_path / "v.bin")], partial, tmp_path, capsys)
    assert code == 1
    one_line_error(err, "not the one the model was trained on")
    code, err = refused(["train", "--resume", str(partial), str(other), "--threads", "1",
                         "-o", str(tmp_path / "v.bin"), "--save-model",
                         str(tmp_path / "elsewhere.w2v")], partial, tmp_path, capsys)
    assert code == 1


@pytest.mark.parametrize("args, fragment", [
    (["--dim", "50"], "--dim 50 differs"),
    (["--epochs", "3"], "--epochs 3 differs"),
    (["--model", "cbow"], "--model cbow differs"),
    (["--kernel", "classic"], "--kernel classic differs"),
    (["--init-model", "{model}"], "--init-model"),
    (["--read-vocab", "{model}"], "--read-vocab"),
])
def test_resume_refuses_other_options(partial, tmp_path, capsys, args, fragment):
    args = [a.format(model=partial) for a in args]
    code, err = refused(["train", "--resume", str(partial), "-o", str(tmp_path / "v.bin"),
                         *args], partial, tmp_path, capsys)
    assert code == 2
    one_line_error(err, fragment)


def test_resume_accepts_the_options_it_already_has(partial, tmp_path, capsys):
    """Options given with the model's own values are not a conflict (--kernel auto is the
    kernel the model chose automatically)."""
    out = tmp_path / "v.bin"
    assert main(["train", "--resume", str(partial), "--dim", "8", "--min-count", "1",
                 "--kernel", "auto", "--threads", "1", "-o", str(out), "-q"]) == 0
    assert load_model(partial).finished and out.exists()


def test_update_vocab_needs_init_model(corpus_path, tmp_path, capsys):
    code = main(["train", corpus_path, "--update-vocab", "-o", str(tmp_path / "v.bin")])
    assert code == 2
    one_line_error(capsys.readouterr().err, "--update-vocab needs --init-model")
    assert os.listdir(tmp_path) == []


def test_update_vocab_refuses_a_hierarchical_softmax_model(corpus_path, tmp_path, capsys):
    base = tmp_path / "hs.w2v"
    assert main(["train", corpus_path, "--min-count", "1", "--dim", "8", "--epochs", "1",
                 "--hs", "--negative", "0", "--threads", "1", "--save-model", str(base),
                 "-o", str(tmp_path / "hs.bin"), "-q"]) == 0
    code, err = refused(["train", corpus_path, "--init-model", str(base), "--update-vocab",
                         "-o", str(tmp_path / "v.bin")], base, tmp_path, capsys)
    assert code == 2
    one_line_error(err, "--update-vocab cannot be used with hierarchical softmax")


# --------------------------------------------------------------------------- continued training


@pytest.fixture(scope="module")
def base_model(corpus_path, tmp_path_factory):
    """Skip-gram trained on groups a and b."""
    where = tmp_path_factory.mktemp("base")
    path = where / "base.w2v"
    assert main(["train", corpus_path, "--min-count", "1", "--dim", "16", "--window", "3",
                 "--sample", "0", "--epochs", "4", "--threads", "1", "--seed", "3",
                 "--save-model", str(path), "-o", str(where / "base.bin"), "-q"]) == 0
    return path


def test_update_vocab_trains_new_words_and_keeps_old_neighbours(base_model, tmp_path):
    new_text = write_groups(tmp_path / "b.txt", ["n"], 800, seed=11)
    out, saved = tmp_path / "v.txt", tmp_path / "cont.w2v"
    assert main(["train", new_text, "--init-model", str(base_model), "--update-vocab",
                 "--epochs", "3", "--threads", "1", "-o", str(out), "--save-model",
                 str(saved), "-q"]) == 0
    base, model = load_model(base_model), load_model(saved)
    wv = load_vectors(str(out))
    new_words = [f"n{i}" for i in range(WORDS_PER_GROUP)]
    old_words = base.vocab.words
    assert set(wv.words) == set(old_words) | set(new_words)
    start = initial_vectors(new_words, 16, base.config.seed, -0.5 / 16, 0.5 / 16)
    for word, init in zip(new_words, start):
        assert np.isfinite(wv[word]).all()
        assert not np.allclose(wv[word], init)
    for word in old_words:  # the new text never mentions them: same group as before
        assert group_of(nearest(wv, word, wv.words)) == group_of(word)
        # skip-gram and CBOW move only the input vectors of words in the text
        assert np.array_equal(model.w_in[model.vocab.index[word]],
                              base.w_in[base.vocab.index[word]])
    for word in new_words:  # and the new words found each other
        assert group_of(nearest(wv, word, wv.words)) == "n"


def test_update_vocab_counts_add_up(base_model, tmp_path):
    base = load_model(base_model)
    known = base.vocab.words[0]
    lines = [f"{known} new1 new2"] * 7 + ["new2 rare"] * 2 + ["new3"] * 5 + ["b0"]
    new_text = tmp_path / "new.txt"
    new_text.write_text("\n".join(lines) + "\n")
    saved = tmp_path / "cont.w2v"
    assert main(["train", str(new_text), "--init-model", str(base_model), "--update-vocab",
                 "--min-count", "5", "--epochs", "1", "--threads", "1", "-o",
                 str(tmp_path / "v.bin"), "--save-model", str(saved), "-q"]) == 0
    model = load_model(saved)
    counts = dict(zip(model.vocab.words, model.vocab.counts.tolist()))
    old = dict(zip(base.vocab.words, base.vocab.counts.tolist()))
    assert counts[known] == old[known] + 7
    assert counts["b0"] == old["b0"] + 1  # under min-count in the new text, but known
    assert counts["new1"] == 7 and counts["new2"] == 9 and counts["new3"] == 5
    assert "rare" not in counts  # 2 < --min-count 5
    assert set(counts) == set(old) | {"new1", "new2", "new3"}
    assert all(np.diff(model.vocab.counts) <= 0)  # re-sorted by count
    assert model.w_in.shape == model.w_out.shape == (len(model.vocab), 16)


def test_init_model_without_update_vocab_keeps_vocabulary_and_rows(base_model, tmp_path):
    new_text = write_groups(tmp_path / "b.txt", ["a", "n"], 300, seed=5)
    out, saved = tmp_path / "v.bin", tmp_path / "cont.w2v"
    assert main(["train", new_text, "--init-model", str(base_model), "--epochs", "1",
                 "--threads", "1", "-o", str(out), "--save-model", str(saved), "-q"]) == 0
    base, model = load_model(base_model), load_model(saved)
    assert model.vocab.words == base.vocab.words == load_vectors(str(out)).words
    assert np.array_equal(model.vocab.counts, base.vocab.counts)
    assert model.position.epoch == 1 and model.config.epochs == 1  # a fresh schedule
    moved = ~np.all(model.w_in == base.w_in, axis=1)
    a_rows = [base.vocab.index[w] for w in base.vocab.words if w.startswith("a")]
    b_rows = [base.vocab.index[w] for w in base.vocab.words if w.startswith("b")]
    assert moved[a_rows].all() and not moved[b_rows].any()


def test_init_model_can_turn_negative_sampling_off(corpus_path, tmp_path):
    """An NS + HS model trained on with --negative 0 is saved in a shape that loads
    (it had kept the full output matrix, which load_model refused)."""
    base, cont = tmp_path / "base.w2v", tmp_path / "cont.w2v"
    common = ["--threads", "1", "-q", "-o", str(tmp_path / "v.bin")]
    assert main(["train", corpus_path, "--min-count", "1", "--dim", "8", "--epochs", "1",
                 "--hs", "--save-model", str(base), *common]) == 0
    assert main(["train", corpus_path, "--init-model", str(base), "--negative", "0",
                 "--epochs", "1", "--save-model", str(cont), *common]) == 0
    model = load_model(cont)
    assert model.config.negative == 0 and model.w_out.shape == (1, 8)
    assert main(["train", "--resume", str(cont), *common]) == 0


def test_restrict_corpus_cuts_like_load_corpus(tmp_path):
    """Dropping words, then cutting long sentences: the order load_corpus uses."""
    text = tmp_path / "t.txt"
    text.write_text("a x b x c x d x e\nx x x\na b c d e f g\n")
    vocab = Vocab(["a", "b", "c", "d", "e", "f", "g"], [2, 2, 2, 2, 2, 1, 1])
    direct = load_corpus([str(text)], vocab=vocab, max_sentence_length=3)
    everything = load_corpus([str(text)], min_count=1, max_sentence_length=None)
    restricted = restrict_corpus(everything, vocab, max_sentence_length=3)
    assert np.array_equal(restricted.ids, direct.ids)
    assert np.array_equal(restricted.offsets, direct.offsets)
    assert np.diff(direct.offsets).tolist() == [3, 2, 3, 3, 1]


def test_an_update_vocab_run_with_long_sentences_resumes(base_model, tmp_path, monkeypatch,
                                                         capsys):
    """--update-vocab read the new text with sentences cut before rare words were dropped,
    --resume after: the fingerprints differed and the run could not be resumed."""
    new_text = write_groups(tmp_path / "b.txt", ["n", "a"], 400, seed=2,
                            extra="".join(f"n1 z{i} n2 " for i in range(40)) + "\n")
    args = ["--threads", "1", "-q", "-o", str(tmp_path / "v.bin")]
    saved, unbroken = tmp_path / "cont.w2v", tmp_path / "unbroken.w2v"
    first = ["train", new_text, "--init-model", str(base_model), "--update-vocab",
             "--max-sentence-length", "7", "--min-count", "2", "--epochs", "3", *args]
    assert main([*first, "--save-model", str(unbroken)]) == 0

    real = sgns.train_launch_serial
    calls = []

    def interrupted_in_epoch_2(*a):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a)

    monkeypatch.setattr(sgns, "train_launch_serial", interrupted_in_epoch_2)
    assert main([*first, "--save-model", str(saved)]) == 130
    monkeypatch.setattr(sgns, "train_launch_serial", real)
    assert load_model(saved).position.epoch == 1
    capsys.readouterr()
    assert main(["train", "--resume", str(saved), *args]) == 0, capsys.readouterr().err
    assert arrays_equal(load_model(saved), load_model(unbroken))


# --------------------------------------------------------------------------- checkpoints


def slow_launches(monkeypatch, seconds=0.002):
    """Launches that take at least `seconds`, so a 0.001 s checkpoint interval has passed."""
    real = sgns.train_launch_serial

    def slow(*args):
        time.sleep(seconds)
        return real(*args)

    monkeypatch.setattr(sgns, "train_launch_serial", slow)


@pytest.mark.parametrize("every, expected", [
    (0.001, [(0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0)]),
    (600.0, [(1, 0), (2, 0)]),  # epoch ends only
])
def test_checkpoints_follow_checkpoint_every(corpus, tmp_path, monkeypatch, every, expected):
    slow_launches(monkeypatch)
    saved = []
    real_save = train_module.save_model

    def counting_save(model, path):
        saved.append((model.position.epoch, model.position.launch))
        real_save(model, path)

    monkeypatch.setattr(train_module, "save_model", counting_save)
    path = tmp_path / "m.w2v"
    model = train(fresh_model(corpus), corpus, threads=1, save_to=path,
                  checkpoint_every=every)
    assert saved == expected
    assert arrays_equal(load_model(path), model)


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt()], ids=["disk-full", "interrupt"])
def test_a_failed_checkpoint_leaves_the_previous_one(corpus, tmp_path, monkeypatch, failure):
    path = tmp_path / "m.w2v"
    model = train(fresh_model(corpus), corpus, threads=1, until=(0, 1))
    save_model(model, path)
    before = path.read_bytes()
    real_write = np.lib.format.write_array
    written = []

    def failing_write(stream, array, *args, **kwargs):
        written.append(array.shape)
        if len(written) == 5:  # header, words, counts, w_in, then fail inside w_out
            stream.write(b"\0" * 100)
            raise failure
        return real_write(stream, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OutputError if isinstance(failure, OSError) else KeyboardInterrupt):
        train(model, corpus, threads=1, save_to=path)
    assert len(written) == 5
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.w2v"]
    monkeypatch.setattr(np.lib.format, "write_array", real_write)
    assert load_model(path).position.launch == 1


# --------------------------------------------------------------------------- loss log


def test_loss_log_has_a_line_per_launch_and_a_resume_appends(corpus, tmp_path):
    unbroken_log, log = tmp_path / "unbroken.tsv", tmp_path / "loss.tsv"
    train(fresh_model(corpus), corpus, threads=1, loss_log=unbroken_log)
    lines = unbroken_log.read_text().splitlines()
    columns = lines[0].split("\t")
    assert columns == ["epoch", "launch", "words", "alpha", "loss", "seconds"]
    rows = [dict(zip(columns, line.split("\t"))) for line in lines[1:]]
    assert [(int(r["epoch"]), int(r["launch"])) for r in rows] == \
        [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    assert int(rows[-1]["words"]) == 2 * corpus.n_tokens
    assert all(float(r["loss"]) > 0 for r in rows)
    alphas = [float(r["alpha"]) for r in rows]
    assert alphas == sorted(alphas, reverse=True)
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds == sorted(seconds)

    stopped = train(fresh_model(corpus), corpus, threads=1, until=(1, 1), loss_log=log)
    assert len(log.read_text().splitlines()) == 1 + 4
    save_model(stopped, tmp_path / "m.w2v")
    train(load_model(tmp_path / "m.w2v"), corpus, threads=1, loss_log=log)
    resumed = log.read_text().splitlines()

    def no_seconds(lines):
        return [line.rsplit("\t", 1)[0] for line in lines]

    assert no_seconds(resumed) == no_seconds(lines)  # one header, every launch once


def test_cli_loss_log(corpus_path, tmp_path):
    log = tmp_path / "loss.tsv"
    assert main(["train", corpus_path, "--min-count", "1", "--dim", "8", "--epochs", "2",
                 "--threads", "1", "-q", "-o", str(tmp_path / "v.bin"),
                 "--loss-log", str(log)]) == 0
    lines = log.read_text().splitlines()
    assert lines[0] == "epoch\tlaunch\twords\talpha\tloss\tseconds"
    assert [line.split("\t")[:2] for line in lines[1:]] == [["1", "1"], ["2", "1"]]


# --------------------------------------------------------------------------- signals


LONG_ARGS = ["--min-count", "1", "--dim", "16", "--window", "3", "--epochs", "10",
             "--threads", "1", "--seed", "5", "-q"]


@pytest.fixture(scope="module")
def long_corpus(tmp_path_factory):
    """200k tokens: two launches an epoch (MIN_LAUNCH_TOKENS is 100k), ten epochs."""
    rng = np.random.default_rng(3)
    groups = rng.integers(4, size=20_000)
    words = rng.integers(25, size=(20_000, 10))
    lines = [" ".join(f"t{g}w{w}" for w in row) for g, row in zip(groups, words)]
    path = tmp_path_factory.mktemp("long") / "long.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def long_unbroken(long_corpus, tmp_path_factory):
    where = tmp_path_factory.mktemp("unbroken")
    assert main(["train", long_corpus, *LONG_ARGS, "-o", str(where / "v.bin"),
                 "--save-model", str(where / "m.w2v")]) == 0
    return where


def interrupt_training(corpus, where, signum):
    """Start `python -m w2v.cli train` in its own session, send `signum` once the loss log
    has its first launch, and return (exit code, stderr)."""
    log = where / "loss.tsv"
    command = [sys.executable, "-m", "w2v.cli", "train", corpus, *LONG_ARGS,
               "-o", str(where / "v.bin"), "--save-model", str(where / "m.w2v"),
               "--loss-log", str(log)]
    env = {**os.environ, "PYTHONPATH": REPO}
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env, cwd=where, start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # only so that a broken run cannot hang the tests
        while not (log.exists() and len(log.read_text().splitlines()) >= 2):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "no launch in the loss log"
            time.sleep(0.005)
        os.kill(process.pid, signum)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, err.decode()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signalled_run_resumes_to_the_same_bytes(long_corpus, long_unbroken, tmp_path,
                                                   signum, capsys):
    code, err = interrupt_training(long_corpus, tmp_path, signum)
    assert code != 0, err
    stopped = load_model(tmp_path / "m.w2v")
    assert 0 < stopped.position.words_done < 10 * stopped.corpus["tokens"], err
    assert not (tmp_path / "v.bin").exists()
    launches = len((tmp_path / "loss.tsv").read_text().splitlines()) - 1
    assert launches == stopped.position.epoch * 2 + stopped.position.launch
    # CORPUS defaults to the recorded input; the loss log is appended to
    assert main(["train", "--resume", str(tmp_path / "m.w2v"), "--threads", "1", "-q",
                 "-o", str(tmp_path / "v.bin"), "--loss-log", str(tmp_path / "loss.tsv")]) == 0
    assert (tmp_path / "v.bin").read_bytes() == (long_unbroken / "v.bin").read_bytes()
    assert arrays_equal(load_model(tmp_path / "m.w2v"), load_model(long_unbroken / "m.w2v"))
    assert len((tmp_path / "loss.tsv").read_text().splitlines()) == 1 + 20


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signalled_run_exits_with_one_line(long_corpus, tmp_path, signum):
    code, err = interrupt_training(long_corpus, tmp_path, signum)
    assert code == 128 + signum, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("w2v: error:")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    assert f"w2v train --resume {tmp_path / 'm.w2v'}" in err
    # the hint names the outputs to write again
    assert f"-o {tmp_path / 'v.bin'}" in err and f"--loss-log {tmp_path / 'loss.tsv'}" in err


# --------------------------------------------------------------------------- reading commands


@pytest.fixture
def royals_model(tmp_path):
    """A model whose input vectors are a small hand-made set (no training: numpy only)."""
    rows = {
        "king": [1.0, 1.0, 0.0], "queen": [1.0, -1.0, 0.0],
        "man": [0.0, 1.0, 0.1], "woman": [0.0, -1.0, 0.1],
        "prince": [0.8, 0.9, 0.2], "apple": [0.0, 0.0, 1.0], "pear": [0.1, 0.0, 0.9],
    }
    config = Word2VecConfig(dim=3, min_count=1, epochs=1)
    model = init_model(config, Vocab(list(rows), [9, 8, 7, 6, 5, 4, 3]))
    model.w_in = np.array(list(rows.values()), dtype=np.float32)
    model.w_out = np.ones_like(model.w_in)  # must not be what the readers use
    path = tmp_path / "royals.w2v"
    save_model(model, path)
    vectors = tmp_path / "royals.bin"
    save_vectors(model.vectors(), vectors)
    return path, vectors


def run_main(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_reading_commands_take_a_model_file(royals_model, tmp_path, capsys):
    model, vectors = (str(p) for p in royals_model)
    for command in (["similar", "king", "-n", "3"], ["analogy", "king", "man", "woman"],
                    ["similar", "apple", "--json"], ["evaluate"]):
        from_model = run_main([*command, "-v", model] if command[0] != "evaluate"
                              else [*command, model], capsys)
        from_vectors = run_main([*command, "-v", vectors] if command[0] != "evaluate"
                                else [*command, vectors], capsys)
        assert from_model[0] == 0
        assert from_model[1].replace(model, "X") == from_vectors[1].replace(vectors, "X")
    out = tmp_path / "converted.bin"
    assert run_main(["convert", model, "-o", str(out), "-q"], capsys)[0] == 0
    assert out.read_bytes() == open(vectors, "rb").read()
    assert load_model_vectors(model).counts.tolist() == [9, 8, 7, 6, 5, 4, 3]


def test_reading_a_model_file_does_not_import_numba(royals_model):
    model = str(royals_model[0])
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['similar', 'king', '-v', {model!r}]) == 0\n"
        f"assert main(['analogy', 'king', 'man', 'woman', '-v', {model!r}]) == 0\n"
        f"assert main(['evaluate', {model!r}]) == 0\n"
        f"assert main(['convert', {model!r}, '-o', {model + '.txt'!r}, '-q']) == 0\n"
        f"assert main(['info', {model!r}]) == 0\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_info_on_a_model(corpus_path, corpus, tmp_path, capsys):
    model = train(fresh_model(corpus, epochs=3), corpus, threads=1, until=(1, 2),
                  inputs=[corpus_path])
    path = tmp_path / "m.w2v"
    save_model(model, path)
    code, out, _ = run_main(["info", str(path)], capsys)
    assert code == 0
    assert f"{path}: w2v model (w2v-model {FORMAT_VERSION}" in out
    assert "family: word2vec" in out and f"words: {len(corpus.vocab)}" in out
    assert "dim: 8" in out
    assert "epochs: 1 of 3 done, 2 of 3 launches into epoch 2" in out
    assert f"corpus: {corpus.n_tokens} tokens in {corpus.n_sentences} sentences from " \
           f"{os.path.abspath(corpus_path)}" in out
    assert "  window = 3" in out and '  model = "sg"' in out
    loss = model.losses[0]["loss"]
    assert f"loss per epoch:\n     1  {loss:.6f}" in out
    code, out, _ = run_main(["info", str(path), "--json"], capsys)
    facts = json.loads(out)
    assert facts["family"] == "word2vec" and facts["words"] == len(corpus.vocab)
    assert facts["config"] == model.config.to_dict()
    assert facts["position"]["epoch"] == 1 and facts["position"]["launch"] == 2
    assert facts["losses"] == model.losses
    assert facts["arrays"]["w_in"] == [len(corpus.vocab), 8]


def test_info_on_vector_files(royals_model, tmp_path, capsys):
    _, vectors = royals_model
    text = tmp_path / "royals.txt"
    assert main(["convert", str(vectors), "-o", str(text), "-q"]) == 0
    for path in (vectors, text):
        code, out, _ = run_main(["info", str(path)], capsys)
        assert code == 0 and out.strip() == f"{path}: vector file, 7 words, dim 3"
        code, out, _ = run_main(["info", str(path), "--json"], capsys)
        assert json.loads(out) == {"path": str(path), "format": "vectors", "words": 7, "dim": 3}


def test_info_on_a_missing_file(tmp_path, capsys):
    code, _, err = run_main(["info", str(tmp_path / "nope.w2v")], capsys)
    assert code == 1
    one_line_error(err, "nope.w2v")


def test_model_file_is_detected_by_content_not_name(royals_model, tmp_path, capsys):
    model, _ = royals_model
    renamed = tmp_path / "vectors.txt"
    renamed.write_bytes(model.read_bytes())
    code, out, _ = run_main(["similar", "king", "-n", "1", "-v", str(renamed)], capsys)
    assert code == 0 and out.startswith("prince\t")
    with ModelFile(renamed) as file:
        assert file.family == "word2vec"


@pytest.mark.parametrize("subwords", [False, True])
def test_compiling_apart_from_training_changes_nothing(corpus, monkeypatch, caplog, subwords):
    """A first run compiles the kernels by a launch over no sentence, timed apart; the
    vectors are the same bytes as a run that did not."""
    import logging

    config = Word2VecConfig(dim=8, epochs=1, min_count=1, subwords=subwords, bucket=101)
    plain = train(init_model(config, corpus.vocab), corpus, threads=1).w_in.copy()
    monkeypatch.setattr(train_module, "kernels_cached", lambda *kernels: False)
    with caplog.at_level(logging.INFO, logger="w2v"):
        compiled = train(init_model(config, corpus.vocab), corpus, threads=1).w_in
    assert "compiled the kernels in" in caplog.text
    assert compiled.tobytes() == plain.tobytes()
