"""Training with subwords (fastText's model): the update itself against a numpy re-implementation,
planted suffix structure reaching unseen words, exact resume, the model file and the CLI.
"""

import numpy as np
import pytest

from w2v.word2vec import kernels as sgns
from w2v.vectors import ngrams as subwords
from w2v.cli import main
from w2v.config import Word2VecConfig
from w2v.corpus.corpus import load_corpus
from w2v.errors import OptionError
from w2v.word2vec.model import _tables, continue_model, init_model, launch_seeds, load_model, save_model, \
    train

SUFFIXES = ("ation", "ology")
STEMS = ("bral", "cord", "dint", "fesk", "gulp", "hark", "jint", "lomb", "mesk", "narp")


# --------------------------------------------------------------------------- the update itself


def _step(hidden, row, label, alpha, grad, sigmoid):
    """numpy `_logistic_step` (NS: saturated scores still update)."""
    f = np.float32(hidden @ row)
    if f >= sgns.MAX_EXP:
        g = np.float32((label - 1.0) * alpha)
    elif f <= -sgns.MAX_EXP:
        g = np.float32(label * alpha)
    else:
        i = int((f + sgns.MAX_EXP) * (sgns.TABLE_SIZE / sgns.MAX_EXP / 2.0))
        g = np.float32((label - sigmoid[i]) * alpha)
    grad += g * row
    row += g * hidden


def reference_sentence(model, ids, kernel_model):
    """One sentence trained by numpy, from the model's weights: fastText's rules (a word's
    input vector is the mean of its rows; the gradient goes unscaled to each row), with the
    kernels' own random draws so that windows and negatives are the same."""
    config, tables = model.config, _tables(model)
    offsets, rows = tables.subword_offsets, tables.subword_rows
    w_in, w_out = model.w_in.copy(), model.w_out.copy()
    alpha = np.float32(config.alpha)

    def rows_of(word):
        return rows[offsets[word]:offsets[word + 1]]

    def negatives_and_target(target, state):
        _step(hidden, w_out[target], 1.0, alpha, grad, tables.sigmoid)
        for _ in range(config.negative):
            noise, state = sgns.draw_negative(state, tables.neg_threshold, tables.neg_alias)
            state = np.uint64(state)  # numba hands uint64 back as a Python int
            if noise != target:
                _step(hidden, w_out[noise], 0.0, alpha, grad, tables.sigmoid)
        return state

    state = launch_seeds(config.seed, 0, 0, 1)[0]
    sentence = np.empty(len(ids), np.int64)
    n, state = sgns.subsample_sentence(ids, 0, len(ids), tables.keep_threshold, state, sentence)
    state = np.uint64(state)
    assert n == len(ids)
    for pos in range(n):
        width, state = sgns.draw_window(state, config.window)
        state = np.uint64(state)
        contexts = [c for c in range(max(0, pos - width), min(n, pos + width + 1)) if c != pos]
        centre = sentence[pos]
        if kernel_model == sgns.CBOW:
            bag = np.concatenate([rows_of(sentence[c]) for c in contexts])
            hidden = w_in[bag].mean(axis=0)
            grad = np.zeros_like(hidden)
            state = negatives_and_target(centre, state)
            for c in contexts:
                np.add.at(w_in, rows_of(sentence[c]), grad)
        elif kernel_model == sgns.SKIPGRAM_BATCHED:
            hidden = w_in[rows_of(centre)].mean(axis=0)
            grad = np.zeros_like(hidden)
            for c in contexts:
                state = negatives_and_target(sentence[c], state)
            np.add.at(w_in, rows_of(centre), grad)
        else:
            for c in contexts:
                hidden = w_in[rows_of(centre)].mean(axis=0)
                grad = np.zeros_like(hidden)
                state = negatives_and_target(sentence[c], state)
                np.add.at(w_in, rows_of(centre), grad)
    return w_in, w_out


@pytest.mark.parametrize("options,kernel_model", [
    (dict(kernel="batched"), sgns.SKIPGRAM_BATCHED),
    (dict(kernel="classic"), sgns.SKIPGRAM),
    (dict(model="cbow"), sgns.CBOW),
], ids=["sg-batched", "sg-classic", "cbow"])
def test_one_sentence_matches_a_numpy_reimplementation(tmp_path, options, kernel_model):
    text = tmp_path / "one.txt"
    text.write_text("ambling brambles crumbling dwindles\n")
    corpus = load_corpus([str(text)], min_count=1)
    config = Word2VecConfig(subwords=True, bucket=50, dim=8, window=2, negative=2, sample=0,
                            epochs=1, min_count=1, alpha=0.5, seed=3, **options)
    model = init_model(config, corpus.vocab)
    model.position.launches_per_epoch = 1
    expected_in, expected_out = reference_sentence(model, corpus.ids.astype(np.int64),
                                                   kernel_model)
    assert not np.allclose(expected_in, model.w_in)  # the sentence moved the rows
    train(model, corpus, threads=1)
    np.testing.assert_allclose(model.w_in, expected_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.w_out, expected_out, rtol=1e-4, atol=1e-6)


def test_the_bucket_rows_start_like_fasttexts(tmp_path):
    text = tmp_path / "one.txt"
    text.write_text("a b c\n")
    config = Word2VecConfig(subwords=True, bucket=3000, dim=10, min_count=1)
    model = init_model(config, load_corpus([str(text)], min_count=1).vocab)
    assert model.w_in.shape == (3 + 3000, 10) and model.w_in.dtype == np.float32
    assert np.abs(model.w_in).max() <= 0.1 and np.abs(model.w_in).max() > 0.09
    again = init_model(config, model.vocab)
    assert again.w_in.tobytes() == model.w_in.tobytes()


# --------------------------------------------------------------------------- planted structure


def topics(suffix):
    """Plain words that come with a suffix's words: two upper-case letters, so they share no
    n-gram with each other or with any suffix word."""
    letters = "BCDFGHJK" if suffix == SUFFIXES[0] else "LMNPQRST"
    return [letter + suffix[0].upper() for letter in letters]


def write_suffix_groups(path, n_sentences=1200, seed=5):
    """Sentences whose words all share one suffix (stem + suffix), with two of that suffix's
    topic words: words co-occur only with their own suffix's words and topics."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n_sentences):
        suffix = SUFFIXES[rng.integers(len(SUFFIXES))]
        words = [STEMS[s] + suffix for s in rng.integers(len(STEMS), size=rng.integers(4, 8))]
        words += [topics(suffix)[t] for t in rng.integers(8, size=2)]
        lines.append(" ".join(words[i] for i in rng.permutation(len(words))))
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def suffix_corpus(tmp_path_factory):
    path = write_suffix_groups(tmp_path_factory.mktemp("suffix") / "s.txt")
    return load_corpus([path], min_count=1)


def oov_vector(model, word):
    config = model.config
    rows = subwords.oov_rows(word, len(model.vocab), config.minn, config.maxn, config.bucket)
    return model.w_in[rows].mean(axis=0)


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def topic_margins(model, word):
    """Mean cosine of unseen `word` to its suffix's topic words, less that to the other's."""
    wv = model.vectors()
    vectors, v = unit(wv.vectors), unit(oov_vector(model, word))
    suffix = next(s for s in SUFFIXES if word.endswith(s))
    other = next(s for s in SUFFIXES if s != suffix)
    return (vectors[[wv.index[t] for t in topics(suffix)]] @ v).mean() - \
        (vectors[[wv.index[t] for t in topics(other)]] @ v).mean()


UNSEEN = ("praxation", "zwoqation", "praxology", "zwoqology")


@pytest.mark.parametrize("options", [dict(kernel="batched"), dict(kernel="classic"),
                                     dict(model="cbow")],
                         ids=["sg-batched", "sg-classic", "cbow"])
def test_an_unseen_word_lands_near_the_company_of_its_suffix(suffix_corpus, options):
    """Its n-grams are shared only with the words of its suffix, so only training can bring
    it near the topic words that those words come with."""
    config = Word2VecConfig(subwords=True, bucket=4000, dim=32, window=3, epochs=3,
                            min_count=1, sample=0, seed=2, alpha=0.05, **options)
    model = train(init_model(config, suffix_corpus.vocab), suffix_corpus, threads=1)
    wv = model.vectors()
    vectors = unit(wv.vectors)
    for suffix in SUFFIXES:
        own = [wv.index[stem + suffix] for stem in STEMS]
        other = [wv.index[stem + s] for stem in STEMS for s in SUFFIXES if s != suffix]
        within = (vectors[own] @ vectors[own].T)[~np.eye(len(own), dtype=bool)].mean()
        assert within > (vectors[own] @ vectors[other].T).mean() + 0.3, suffix
    for word in UNSEEN:
        assert word not in wv
        assert topic_margins(model, word) > 0.5, word


def test_untrained_an_unseen_word_is_near_no_company(suffix_corpus):
    """The check above is not met by chance: the untrained rows give no margin."""
    config = Word2VecConfig(subwords=True, bucket=4000, dim=32, min_count=1)
    model = init_model(config, suffix_corpus.vocab)
    for word in UNSEEN:
        assert abs(topic_margins(model, word)) < 0.25, word


# --------------------------------------------------------------------------- model file, resume


MODES = {"sg-batched": dict(kernel="batched"), "sg-classic": dict(kernel="classic"), "cbow": dict(model="cbow"),
         "sg-hs": dict(kernel="classic", hs=True, negative=2)}


def fresh_model(corpus, **options):
    config = Word2VecConfig(subwords=True, bucket=500, dim=8, window=3, epochs=2, sample=1e-2,
                            min_count=1, seed=4, **options)
    model = init_model(config, corpus.vocab)
    model.position.launches_per_epoch = 3
    return model


def same_weights(a, b):
    return all(getattr(a, n).tobytes() == getattr(b, n).tobytes() for n in ("w_in", "w_out", "w_hs"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("stop", [(0, 2), (1, 0)], ids=["mid-epoch", "epoch-boundary"])
def test_stopped_saved_loaded_and_trained_on_is_an_unbroken_run(suffix_corpus, tmp_path, mode,
                                                                 stop):
    unbroken = train(fresh_model(suffix_corpus, **MODES[mode]), suffix_corpus, threads=1)
    stopped = train(fresh_model(suffix_corpus, **MODES[mode]), suffix_corpus, threads=1,
                    until=stop)
    assert not same_weights(stopped, unbroken)
    save_model(stopped, tmp_path / "m.w2v")
    loaded = load_model(tmp_path / "m.w2v")
    assert loaded.config == stopped.config and same_weights(loaded, stopped)
    resumed = train(loaded, suffix_corpus, threads=1)
    assert same_weights(resumed, unbroken)
    assert resumed.position == unbroken.position


def test_update_vocab_puts_new_words_before_the_bucket_rows(suffix_corpus, tmp_path):
    base = train(fresh_model(suffix_corpus), suffix_corpus, threads=1)
    new_text = tmp_path / "new.txt"
    new_text.write_text("quillation quillation bralation\n" * 3)
    new = load_corpus([str(new_text)], min_count=1)
    model = continue_model(base, base.config, new_vocab=new.vocab)
    n_words = len(model.vocab)
    assert n_words == len(base.vocab) + 1
    assert model.w_in.shape == (n_words + base.config.bucket, base.config.dim)
    assert model.w_in[n_words:].tobytes() == base.w_in[len(base.vocab):].tobytes()
    for word in base.vocab.words:
        assert model.w_in[model.vocab.index[word]].tobytes() == \
            base.w_in[base.vocab.index[word]].tobytes()


def test_batched_cbow_with_subwords_is_refused():
    with pytest.raises(OptionError, match="--subwords has no batched CBOW kernel"):
        Word2VecConfig(subwords=True, model="cbow", kernel="batched")


# --------------------------------------------------------------------------- command line


def test_cli_trains_subwords_from_a_toml_config_and_says_the_matrix_size(suffix_corpus,
                                                                         tmp_path, capsys):
    corpus = write_suffix_groups(tmp_path / "s.txt", n_sentences=200)
    config = tmp_path / "ft.toml"
    config.write_text("subwords = true\nminn = 2\nmaxn = 4\nbucket = 1000\nmin-count = 1\n"
                      "dim = 8\nepochs = 1\n")
    out, model_path = tmp_path / "v.txt", tmp_path / "m.w2v"
    assert main(["train", corpus, "--config", str(config), "--threads", "1", "-o", str(out),
                 "--save-model", str(model_path)]) == 0
    err = capsys.readouterr().err
    assert "n-gram matrix 1000 x 8 float32 (0.0 MB)" in err
    model = load_model(model_path)
    assert (model.config.subwords, model.config.minn, model.config.maxn) == (True, 2, 4)
    lines = out.read_text().splitlines()
    assert lines[0] == f"{len(model.vocab)} 8"
    composed = model.vectors()
    first = lines[1].split()
    np.testing.assert_allclose([float(x) for x in first[1:]], composed[first[0]], rtol=1e-5)
    assert main(["similar", "bralation", "-v", str(model_path), "-n", "3"]) == 0


def test_help_states_the_ngram_matrix_size(capsys):
    assert main(["train", "--help"]) == 0
    assert "800 MB" in " ".join(capsys.readouterr().out.split())


def test_save_fasttext_writes_a_bin_that_fasttext_answers_as_w2v_does(tmp_path, capsys):
    fasttext = pytest.importorskip("fasttext")
    from w2v.files.fasttext import load_fasttext_vectors

    corpus = write_suffix_groups(tmp_path / "s.txt", n_sentences=200)
    out, ft_path, model_path = tmp_path / "v.txt", tmp_path / "m.bin", tmp_path / "m.w2v"
    assert main(["train", corpus, "--subwords", "--minn", "2", "--maxn", "4", "--bucket", "500",
                 "--min-count", "1", "--dim", "8", "--epochs", "1", "--threads", "1",
                 "-o", str(out), "--save-model", str(model_path),
                 "--save-fasttext", str(ft_path)]) == 0
    ours = load_model(model_path)
    composed = ours.vectors()  # the in-vocabulary words' vectors
    theirs = fasttext.load_model(str(ft_path))
    word, unseen = ours.vocab.words[3], "qqlation"
    assert unseen not in composed
    np.testing.assert_allclose(theirs.get_word_vector(word), composed[word], rtol=1e-5, atol=1e-6)
    rows = subwords.oov_rows(unseen, len(ours.vocab), 2, 4, 500)
    expected = ours.w_in[rows].mean(axis=0)
    np.testing.assert_allclose(theirs.get_word_vector(unseen), expected, rtol=1e-5, atol=1e-6)
    read_back = load_fasttext_vectors(str(ft_path))
    np.testing.assert_allclose(read_back.vectors_for([unseen])[0], expected, rtol=1e-5, atol=1e-6)


def test_save_fasttext_needs_subwords_and_negative_sampling(tmp_path, capsys):
    corpus = write_suffix_groups(tmp_path / "s.txt", n_sentences=20)
    target = tmp_path / "m.bin"
    assert main(["train", corpus, "--min-count", "1", "--epochs", "1", "-o",
                 str(tmp_path / "v.txt"), "--save-fasttext", str(target)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("w2v: error: --save-fasttext") and not target.exists()


# --------------------------------------------------------------------------- fastText's defaults


def test_subword_skipgram_defaults_to_the_classic_kernel():
    """fastText's per-pair update: slower than batched with subwords, but better over 3
    seeds; plain skip-gram keeps batched."""
    assert Word2VecConfig(subwords=True).kernel == "classic"
    assert Word2VecConfig(subwords=True, kernel="batched").kernel == "batched"
    assert Word2VecConfig().kernel == "batched"
    assert Word2VecConfig().replace(subwords=True).kernel == "classic"


def test_subwords_default_to_fasttexts_noise_exponent():
    """fastText draws negatives from counts^0.5; word2vec's 0.75 stays the plain default."""
    assert Word2VecConfig().ns_exponent == 0.75
    assert Word2VecConfig(subwords=True).ns_exponent == 0.5
    assert Word2VecConfig(subwords=True, ns_exponent=0.75).ns_exponent == 0.75
    assert Word2VecConfig().replace(subwords=True).ns_exponent == 0.5
    assert Word2VecConfig(ns_exponent=0.6).replace(subwords=True).ns_exponent == 0.6
    saved = Word2VecConfig(subwords=True, ns_exponent=0.75).to_dict()
    assert Word2VecConfig.from_dict(saved).ns_exponent == 0.75  # a record keeps its value


def test_cli_subwords_record_their_noise_exponent_and_resume_keeps_it(tmp_path, capsys):
    corpus = write_suffix_groups(tmp_path / "s.txt", n_sentences=40)
    model_path = tmp_path / "m.w2v"
    common = ["--min-count", "1", "--dim", "8", "--epochs", "1", "--threads", "1",
              "-o", str(tmp_path / "v.txt")]
    assert main(["train", corpus, "--subwords", "--bucket", "500", *common,
                 "--save-model", str(model_path)]) == 0
    assert load_model(model_path).config.ns_exponent == 0.5
    assert main(["train", "--resume", str(model_path), "--ns-exponent", "0.75", *common]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("w2v: error: --ns-exponent 0.75 differs")
    assert main(["train", "--resume", str(model_path), *common]) == 0
    assert load_model(model_path).config.ns_exponent == 0.5


def test_help_states_the_subword_noise_exponent(capsys):
    assert main(["train", "--help"]) == 0
    assert "0.5 with --subwords" in " ".join(capsys.readouterr().out.split())


# --------------------------------------------------------------------------- --eos


def test_eos_ends_every_line_as_fasttext_reads_text(tmp_path):
    """`</s>` after every line (an empty line is `</s>` alone; a last line without a newline
    gets none), exactly as if the text had ` </s>` appended to each line."""
    text = "a b\nc\n\nb a"
    plain, appended = tmp_path / "plain.txt", tmp_path / "appended.txt"
    plain.write_text(text)
    appended.write_text("a b </s>\nc </s>\n </s>\nb a")
    ours = load_corpus([str(plain)], min_count=1, eos=True)
    theirs = load_corpus([str(appended)], min_count=1)
    assert ours.vocab.words == theirs.vocab.words
    assert list(ours.vocab.counts) == list(theirs.vocab.counts)
    assert np.array_equal(ours.ids, theirs.ids) and np.array_equal(ours.offsets, theirs.offsets)
    assert ours.vocab.counts[ours.vocab.index["</s>"]] == 3
    words = [[ours.vocab.words[i] for i in ours.ids[a:b]]
             for a, b in zip(ours.offsets[:-1], ours.offsets[1:])]
    assert words == [["a", "b", "</s>"], ["c", "</s>"], ["</s>"], ["b", "a"]]
    assert "</s>" not in load_corpus([str(plain)], min_count=1).vocab.words


def test_cli_eos_gives_the_token_no_ngrams_and_resume_reads_it_again(tmp_path, capsys):
    corpus = write_suffix_groups(tmp_path / "s.txt", n_sentences=40)
    model_path = tmp_path / "m.w2v"
    common = ["--min-count", "1", "--dim", "8", "--epochs", "1", "--threads", "1",
              "-o", str(tmp_path / "v.txt")]
    assert main(["train", corpus, "--subwords", "--eos", "--bucket", "500", *common,
                 "--save-model", str(model_path)]) == 0
    model = load_model(model_path)
    assert model.config.eos
    eos = model.vocab.index["</s>"]
    assert model.vocab.counts[eos] == 40
    offsets, rows = model.subword_table()
    assert list(rows[offsets[eos]:offsets[eos + 1]]) == [eos]
    # the resumed run reads the corpus with </s> again: without it the text would not be the
    # one the model recorded, and resuming would be refused
    assert main(["train", "--resume", str(model_path), *common]) == 0


def test_a_corpus_read_without_eos_is_refused_by_an_eos_model(tmp_path):
    from w2v.word2vec.model import train_word2vec

    path = tmp_path / "c.txt"
    path.write_text("a b c\nb c a\n" * 20)
    with pytest.raises(OptionError, match="eos"):
        train_word2vec(load_corpus([str(path)], min_count=1), eos=True, min_count=1, dim=4,
                       epochs=1, threads=1)
    wv = train_word2vec(load_corpus([str(path)], min_count=1, eos=True), eos=True, min_count=1,
                        dim=4, epochs=1, threads=1)
    assert "</s>" in wv.words
    assert "</s>" in train_word2vec(str(path), eos=True, min_count=1, dim=4, epochs=1,
                                    threads=1).words
