"""`w2v train`: each mode learns planted structure, the random draws follow their formulas,
threads=1 repeats exactly, options are checked, and the CLI writes (or refuses) cleanly."""

import numpy as np
import pytest

from w2v.word2vec import kernels as sgns
from w2v.cli import main
from w2v.config import Word2VecConfig
from w2v.corpus.corpus import load_corpus
from w2v.errors import OptionError
from w2v.word2vec.huffman import huffman_tree
from w2v.corpus.subsample import keep_probabilities
from w2v.word2vec.model import (check_options, keep_thresholds, noise_distribution, plan_chunks,
                       train_word2vec)

TOPICS = 4
WORDS_PER_TOPIC = 6


def topic_of(word):
    return int(word[1])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Sentences that each draw all their words from one topic: words co-occur only
    within their topic, so every word's nearest neighbours must share its topic."""
    rng = np.random.default_rng(7)
    lines = []
    for _ in range(1500):
        topic = rng.integers(TOPICS)
        words = rng.integers(WORDS_PER_TOPIC, size=rng.integers(6, 14))
        lines.append(" ".join(f"t{topic}w{w}" for w in words))
    path = tmp_path_factory.mktemp("planted") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def planted_corpus(planted):
    return load_corpus([str(planted)], min_count=1)


def neighbour_purity(wv, k=3):
    """Share of each word's k nearest neighbours (cosine) that are in its own topic."""
    unit = wv.unit
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    hits = 0
    for i, word in enumerate(wv.words):
        nearest = np.argsort(-sims[i])[:k]
        hits += sum(topic_of(wv.words[j]) == topic_of(word) for j in nearest)
    return hits / (k * len(wv))


@pytest.mark.parametrize("model", ["sg", "cbow"])
@pytest.mark.parametrize("loss", ["ns", "hs", "ns+hs"])
def test_every_mode_learns_planted_topics(planted_corpus, model, loss):
    negative = 0 if loss == "hs" else 5
    wv = train_word2vec(planted_corpus, model=model, dim=16, window=3, negative=negative,
                        hs="hs" in loss, sample=0, epochs=5, threads=1, seed=3,
                        kernel="classic")
    assert neighbour_purity(wv) == 1.0
    assert wv.epoch_losses[-1] < wv.epoch_losses[0]
    assert (wv.context is None) == (negative == 0)


@pytest.mark.parametrize("model, loss", [("sg", "ns"), ("cbow", "ns"), ("sg", "hs"),
                                         ("sg", "ns+hs")])
def test_batched_kernel_learns_planted_topics(planted_corpus, model, loss):
    wv = train_word2vec(planted_corpus, model=model, dim=16, window=3, sample=0, epochs=5,
                        threads=1, kernel="batched", hs="hs" in loss,
                        negative=0 if loss == "hs" else 5)
    assert neighbour_purity(wv) == 1.0
    assert wv.epoch_losses[-1] < wv.epoch_losses[0]


@pytest.mark.parametrize("model", ["sg", "cbow"])
@pytest.mark.parametrize("kernel", ["classic", "batched"])
def test_parallel_launch_learns_too(planted_corpus, model, kernel):
    wv = train_word2vec(planted_corpus, model=model, dim=16, window=3, sample=0, epochs=5,
                        threads=2, launches_per_epoch=3, kernel=kernel)
    assert neighbour_purity(wv) == 1.0


@pytest.mark.parametrize("options, kernel", [
    (dict(), "batched"),
    (dict(negative=3), "batched"),
    (dict(model="cbow"), "classic"),
    (dict(hs=True, negative=0), "classic"),
    (dict(hs=True), "classic"),
])
def test_kernel_auto_is_batched_for_skipgram_with_negative_sampling_alone(options, kernel):
    assert Word2VecConfig(**options).kernel == kernel
    assert Word2VecConfig(**options, kernel="auto").kernel == kernel
    assert Word2VecConfig(**options, kernel="classic").kernel == "classic"


def test_a_model_records_the_kernel_it_used_and_init_model_chooses_again():
    config = Word2VecConfig()
    assert config.to_dict()["kernel"] == "batched"
    assert Word2VecConfig.from_dict(config.to_dict()) == config
    assert config.replace(model="cbow").kernel == "classic"
    assert config.replace(model="cbow").replace(model="sg").kernel == "batched"
    assert config.replace(kernel="classic").replace(epochs=2).kernel == "classic"


def test_untrained_vectors_are_not_planted(planted_corpus):
    """The purity check can fail: random vectors do not pass it."""
    wv = train_word2vec(planted_corpus, dim=16, epochs=1, threads=1, alpha=1e-12,
                        min_alpha=0.0)
    assert neighbour_purity(wv) < 0.8


def test_a_word_starts_from_the_same_vector_in_any_corpus(tmp_path):
    """Initial vectors are drawn per word, not per rank: runs over different corpora
    start a shared word at the same place (so they can be compared)."""
    first = tmp_path / "a.txt"
    first.write_text("apple banana cherry\n" * 5 + "cherry\n" * 10)
    second = tmp_path / "b.txt"
    second.write_text("date cherry apple\n" * 5 + "date\n" * 20)
    runs = [train_word2vec(load_corpus([str(p)], min_count=1), dim=8, epochs=1, threads=1,
                           alpha=1e-12, min_alpha=0.0, seed=2) for p in (first, second)]
    assert runs[0].words.index("cherry") != runs[1].words.index("cherry")
    for word in ("apple", "cherry"):
        assert np.array_equal(runs[0][word], runs[1][word])
    assert not np.allclose(runs[0]["apple"], runs[0]["cherry"])
    reseeded = train_word2vec(load_corpus([str(first)], min_count=1), dim=8, epochs=1,
                              threads=1, alpha=1e-12, min_alpha=0.0, seed=3)
    assert not np.allclose(reseeded["apple"], runs[0]["apple"])


@pytest.mark.parametrize("options", [dict(kernel="classic"), dict(kernel="batched"),
                                     dict(model="cbow"), dict(model="cbow", kernel="batched"),
                                     dict(kernel="batched", hs=True, negative=2)],
                         ids=["sg", "sg-batched", "cbow", "cbow-batched", "sg+hs-batched"])
def test_threads_1_repeats_bit_for_bit(planted_corpus, options):
    runs = [train_word2vec(planted_corpus, dim=8, epochs=2, threads=1, seed=5,
                           launches_per_epoch=4, **options) for _ in range(2)]
    assert runs[0].vectors.tobytes() == runs[1].vectors.tobytes()
    assert runs[0].context.vectors.tobytes() == runs[1].context.vectors.tobytes()
    other = train_word2vec(planted_corpus, dim=8, epochs=2, threads=1, seed=6,
                           launches_per_epoch=4, **options)
    assert other.vectors.tobytes() != runs[0].vectors.tobytes()


def test_initial_vectors_follow_word2vec(planted_corpus):
    wv = train_word2vec(planted_corpus, dim=10, epochs=1, threads=1, alpha=1e-12, min_alpha=0.0)
    assert np.abs(wv.vectors).max() <= 0.5 / 10
    assert np.abs(wv.vectors).max() > 0.4 / 10
    assert np.abs(wv.context.vectors).max() < 1e-9


# --------------------------------------------------------------------------- random draws


def binomial_ok(observed, n, p, sigmas=6.0):
    return abs(observed - n * p) <= sigmas * np.sqrt(n * p * (1 - p)) + 1


def test_subsampling_keeps_tokens_with_word2vec_probability():
    counts = np.array([50_000, 20_000, 5_000, 500, 50], dtype=np.int64)
    sample = 1e-2
    ids = np.repeat(np.arange(len(counts), dtype=np.uint32), counts)
    keep = keep_probabilities(counts, sample)
    t = sample * counts.sum()
    expected = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    np.testing.assert_allclose(keep, expected, rtol=1e-6)
    out = np.empty(len(ids), dtype=np.int64)
    n, _ = sgns.subsample_sentence(ids, 0, len(ids), keep_thresholds(counts, sample),
                                   np.uint64(12345), out)
    kept = np.bincount(out[:n], minlength=len(counts))
    for word in range(len(counts)):
        assert binomial_ok(kept[word], counts[word], expected[word]), (word, kept[word])
    assert kept[-1] == counts[-1]  # rare words are always kept


def test_sample_zero_keeps_everything():
    counts = np.array([1000, 1], dtype=np.int64)
    assert (keep_thresholds(counts, 0.0) == 2**32).all()


def test_effective_window_is_uniform():
    window, draws = 5, 60_000
    state = np.uint64(99)
    widths = np.empty(draws, dtype=np.int64)
    for i in range(draws):
        widths[i], state = sgns.draw_window(np.uint64(state), window)
    assert widths.min() == 1 and widths.max() == window
    for width in range(1, window + 1):
        assert binomial_ok((widths == width).sum(), draws, 1 / window)


def test_negatives_follow_unigram_to_the_075():
    counts = np.array([9000, 3000, 1000, 300, 100, 10, 1], dtype=np.int64)
    threshold, alias = noise_distribution(counts, 0.75)
    assert len(threshold) == len(counts)  # V-sized, not a 1e8 table
    p = counts**0.75 / (counts**0.75).sum()
    draws = 200_000
    state = np.uint64(4242)
    seen = np.zeros(len(counts), dtype=np.int64)
    for _ in range(draws):
        word, state = sgns.draw_negative(np.uint64(state), threshold, alias)
        seen[word] += 1
    for word in range(len(counts)):
        assert binomial_ok(seen[word], draws, p[word]), (word, seen[word], draws * p[word])


def test_huffman_codes_are_a_complete_prefix_code():
    counts = np.array([500, 300, 120, 80, 80, 40, 9, 5, 3, 1], dtype=np.int64)
    codes, points, lens = huffman_tree(counts)
    words = ["".join(map(str, codes[w, :lens[w]])) for w in range(len(counts))]
    assert sum(2.0 ** -len(c) for c in words) == pytest.approx(1.0)  # Kraft: complete
    assert not any(a != b and b.startswith(a) for a in words for b in words)  # prefix-free
    assert all(np.diff(lens) >= 0)  # frequent words get codes no longer than rare ones
    assert (points[:, 0] == len(counts) - 2).all()  # every path starts at the root
    inner = {int(points[w, d]) for w in range(len(counts)) for d in range(lens[w])}
    assert inner == set(range(len(counts) - 1))


def test_huffman_of_one_word():
    codes, points, lens = huffman_tree(np.array([7]))
    assert lens.tolist() == [0]


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("options, fragment", [
    (dict(dim=0), "--dim"),
    (dict(dim=-5), "--dim"),
    (dict(window=0), "--window"),
    (dict(negative=-1), "--negative"),
    (dict(negative=0), "trains nothing"),
    (dict(model="glove"), "--model"),
    (dict(alpha=0.0), "--alpha"),
    (dict(sample=-1e-3), "--sample"),
    (dict(epochs=0), "--epochs"),
    (dict(alpha=0.01, min_alpha=0.1), "--min-alpha"),
    (dict(kernel="fast"), "--kernel"),
    (dict(kernel="batched", model="cbow", hs=True), "--kernel batched"),
    (dict(kernel="batched", model="cbow", hs=True, negative=0), "--kernel batched"),
])
def test_bad_options_are_refused(options, fragment):
    with pytest.raises(OptionError, match=fragment.replace("-", r"\-")):
        check_options(**options)


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize("args, fragment", [
    (["--dim", "-3"], "--dim"),
    (["--window", "0"], "--window"),
    (["--model", "glove"], "--model"),
    (["--negative", "0"], "trains nothing"),
    (["--negative", "0", "--save-context", "c.txt", "--hs"], "--save-context"),
])
def test_cli_bad_option_exits_2_with_one_line(planted, tmp_path, capsys, args, fragment):
    out = tmp_path / "v.bin"
    assert main(["train", str(planted), "-o", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("w2v: error:") and fragment in err[0]
    assert list(tmp_path.iterdir()) == []


def test_cli_writes_identical_files_with_one_thread(planted, tmp_path):
    args = ["train", str(planted), "--min-count", "1", "--dim", "8", "--epochs", "1",
            "--threads", "1", "--seed", "11", "-q"]
    assert main([*args, "-o", str(tmp_path / "a.bin")]) == 0
    assert main([*args, "-o", str(tmp_path / "b.bin")]) == 0
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()


def test_cli_output_loads_in_gensim(planted, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    out, context, vocab = tmp_path / "v.bin", tmp_path / "c.txt", tmp_path / "vocab.txt"
    assert main(["train", str(planted), "--min-count", "1", "--dim", "12", "--epochs", "2",
                 "--threads", "1", "-o", str(out), "--save-context", str(context),
                 "--save-vocab", str(vocab), "-q"]) == 0
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert len(kv) == TOPICS * WORDS_PER_TOPIC and kv.vector_size == 12
    ctx = gensim_models.KeyedVectors.load_word2vec_format(str(context), binary=False)
    assert ctx.index_to_key == kv.index_to_key
    assert len(vocab.read_text().splitlines()) == len(kv)


def test_cli_read_vocab_restricts_the_vocabulary(planted, tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("t0w0 100\nt0w1 90\nt1w0 80\n")
    out = tmp_path / "v.txt"
    assert main(["train", str(planted), "--read-vocab", str(vocab), "--min-count", "1",
                 "--dim", "4", "--epochs", "1", "--threads", "1", "-o", str(out), "-q"]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "3 4" and [line.split()[0] for line in lines[1:]] == ["t0w0", "t0w1", "t1w0"]


def test_cli_interrupt_leaves_no_file(planted, tmp_path, monkeypatch, capsys):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(sgns, "train_launch_serial", interrupted)
    out = tmp_path / "v.bin"
    assert main(["train", str(planted), "--min-count", "1", "--threads", "1",
                 "-o", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_config_presets_are_valid(planted, tmp_path):
    for preset in ("sgns", "cbow"):
        out = tmp_path / f"{preset}.txt"
        assert main(["train", str(planted), "--config", f"configs/{preset}.toml",
                     "--min-count", "1", "--dim", "4", "--epochs", "1", "--threads", "1",
                     "-o", str(out), "-q"]) == 0
        assert out.read_text().startswith(f"{TOPICS * WORDS_PER_TOPIC} 4\n")


def test_each_launch_is_cut_among_the_threads_into_neighbouring_pieces():
    # Launch l trains slice l of the corpus whatever the threads; the threads train
    # neighbouring pieces of it (a part of the corpus per thread cost CBOW a point of
    # analogies and 0.015 of RW at 2 threads on 50M tokens).
    offsets = np.cumsum(np.r_[0, np.arange(1, 201) % 7 + 1]).astype(np.int64)
    n_sentences, n_launches = len(offsets) - 1, 4
    one = plan_chunks(offsets, n_launches, 1)
    for n_chunks in (1, 2, 3):
        plans = plan_chunks(offsets, n_launches, n_chunks)
        assert len(plans) == n_launches
        for plan, whole in zip(plans, one):
            assert plan.shape == (n_chunks, 2) and plan.dtype == np.int64
            assert plan[0, 0] == whole[0, 0] and plan[-1, 1] == whole[0, 1]
            assert (plan[1:, 0] == plan[:-1, 1]).all()  # neighbours, without gaps
            tokens = offsets[plan[:, 1]] - offsets[plan[:, 0]]
            assert (abs(tokens - tokens.mean()) <= 7).all()  # a sentence at most
    assert one[0][0, 0] == 0 and one[-1][0, 1] == n_sentences


def test_a_part_of_the_corpus_per_thread_for_models_saved_with_parts():
    # The layout of an older w2v: thread c trained part c all epoch long.
    offsets = np.cumsum(np.r_[0, np.arange(1, 201) % 7 + 1]).astype(np.int64)
    n_sentences, n_launches = len(offsets) - 1, 4
    for parts in (2, 3):
        plans = plan_chunks(offsets, n_launches, 5, parts)
        assert all(plan.shape == (parts, 2) for plan in plans)
        for c in range(parts):
            ranges = [tuple(plan[c]) for plan in plans]
            assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
            first, last = ranges[0][0], ranges[-1][1]
            assert abs(offsets[last] - offsets[first] - offsets[-1] / parts) <= 8
        starts = [plans[0][c, 0] for c in range(parts)]
        ends = [plans[-1][c, 1] for c in range(parts)]
        assert starts[0] == 0 and ends[-1] == n_sentences and starts[1:] == ends[:-1]


def test_one_thread_walks_the_corpus_in_order():
    offsets = np.cumsum(np.r_[0, np.full(50, 3)]).astype(np.int64)
    plans = plan_chunks(offsets, 5, 1)
    assert [tuple(plan[0]) for plan in plans] == [(0, 10), (10, 20), (20, 30), (30, 40),
                                                  (40, 50)]


def test_cbow_default_alpha():
    """CBOW with negative sampling alone starts at 0.065; with HS or subwords at word2vec C's
    0.05; skip-gram at 0.025; an alpha given is kept."""
    assert Word2VecConfig(model="cbow").alpha == 0.065
    assert Word2VecConfig(model="cbow", hs=True).alpha == 0.05
    assert Word2VecConfig(model="cbow", hs=True, negative=0).alpha == 0.05
    assert Word2VecConfig(model="cbow", subwords=True).alpha == 0.05
    assert Word2VecConfig(model="sg").alpha == 0.025
    assert Word2VecConfig(model="cbow", alpha=0.05).alpha == 0.05


def test_cbow_with_negative_sampling_alone_decays_to_a_tenth():
    """Its default final rate is a tenth of the start (given or not); other models and
    losses keep word2vec C's alpha x 1e-4; one given is kept; continuing with another start
    moves a default end with it, and keeps one that was given."""
    assert Word2VecConfig(model="cbow").min_alpha == pytest.approx(0.0065)
    assert Word2VecConfig(model="cbow", alpha=0.05).min_alpha == pytest.approx(0.005)
    assert Word2VecConfig(model="cbow", hs=True).min_alpha == pytest.approx(5e-6)
    assert Word2VecConfig(model="cbow", subwords=True).min_alpha == pytest.approx(5e-6)
    assert Word2VecConfig(model="sg").min_alpha == pytest.approx(2.5e-6)
    assert Word2VecConfig(model="cbow", min_alpha=0.0).min_alpha == 0.0
    assert Word2VecConfig(model="cbow").replace(alpha=0.005).min_alpha == pytest.approx(5e-4)
    assert Word2VecConfig(model="cbow").replace(model="sg").min_alpha == pytest.approx(6.5e-6)
    given = Word2VecConfig(model="cbow", min_alpha=1e-4)
    assert given.replace(alpha=0.01).min_alpha == 1e-4
