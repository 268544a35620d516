"""`w2v tune`: the losses' gradients, the negatives' masks, planted paraphrases learned only
through pairs, exact repeats, the tuned model read back by embed/search, bad input."""

import dataclasses
import os

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, run_main

from w2v.documents import tune_kernels as k
from w2v.documents.embed import embed
from w2v.documents.pooling import for_vectors, load_pooling, pooling_from_arrays
from w2v.documents.search import search
from w2v.documents.sts import evaluate_sts
from w2v.documents.tune import Encoder, negative_weights, select_negatives, tune
from w2v.files.model_file import load_model_vectors
from w2v.vectors.word_vectors import WordVectors

GROUPS = "abcdefgh"  # a-b, c-d, e-f, g-h are paraphrases, only through the pairs


def planted_vectors(dim=16, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"{g}{i}" for g in GROUPS for i in range(5)]
    centres = np.linalg.qr(rng.normal(size=(dim, len(GROUPS))))[0].T  # orthonormal groups
    vectors = np.repeat(centres, 5, axis=0) + 0.3 * rng.normal(size=(len(words), dim))
    counts = np.full(len(words), 100, dtype=np.int64)
    return WordVectors(words, vectors, counts=counts)


def sentence(group, rng, n=3):
    return " ".join(f"{group}{i}" for i in rng.choice(5, size=n, replace=False))


def write_pairs(path, n=240, seed=1):
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for _ in range(n):
            pair = rng.integers(4)
            f.write(f"{sentence(GROUPS[2 * pair], rng)}\t{sentence(GROUPS[2 * pair + 1], rng)}\n")
    return str(path)


def paraphrase_margin(wv, pooling):
    """Mean cosine of held-out a-b sentence pairs minus that of a-d pairs."""
    rng = np.random.default_rng(7)
    a = [sentence("a", rng) for _ in range(20)]
    b = [sentence("b", rng) for _ in range(20)]
    d = [sentence("d", rng) for _ in range(20)]
    va, vb, vd = (embed(wv, t, pooling).vectors for t in (a, b, d))
    unit = [v / np.linalg.norm(v, axis=1, keepdims=True) for v in (va, vb, vd)]
    return float(np.mean(np.sum(unit[0] * unit[1], 1)) - np.mean(np.sum(unit[0] * unit[2], 1)))


OPTIONS = {"epochs": 4, "batch_size": 16, "lr": 0.05, "threads": 1, "seed": 3}


def test_planted_paraphrases_are_learned_through_pairs(tmp_path):
    wv = planted_vectors()
    pairs = write_pairs(tmp_path / "pairs.tsv")
    untrained = for_vectors(wv, None, "mean")
    assert paraphrase_margin(wv, untrained) < 0.2  # the untrained encoder does not know
    result = tune(wv, [pairs], **OPTIONS)
    assert result.pooling.row_index is not None
    assert paraphrase_margin(wv, result.pooling) > 0.5
    # the shared map and the weights alone also learn it (no word row moves)
    result = tune(wv, [pairs], train="weights+map", **OPTIONS)
    assert result.pooling.row_index is None
    assert paraphrase_margin(wv, result.pooling) > 0.3


def test_threads_1_repeats_exactly_and_seeds_differ(tmp_path):
    wv = planted_vectors()
    pairs = write_pairs(tmp_path / "pairs.tsv")
    runs = [tune(wv, [pairs], hard_negatives=2, **OPTIONS).pooling.arrays() for _ in range(2)]
    other = tune(wv, [pairs], hard_negatives=2, **{**OPTIONS, "seed": 4}).pooling.arrays()
    assert runs[0].keys() == runs[1].keys()
    for name in runs[0]:
        assert np.asarray(runs[0][name]).tobytes() == np.asarray(runs[1][name]).tobytes(), name
    assert not np.array_equal(runs[0]["row_values"], other["row_values"])


def test_tuned_model_read_back_by_embed_and_search(tmp_path):
    wv = planted_vectors()
    pairs = write_pairs(tmp_path / "pairs.tsv")
    out = str(tmp_path / "tuned.w2v")
    result = tune(wv, [pairs], output=out, asymmetric=True, **OPTIONS)
    texts = ["a0 a1 a2", "b3 b4", "c0 d1", "h2"]
    in_memory = embed(wv, texts, result.pooling).vectors
    back = load_model_vectors(out)
    pooling = for_vectors(back, out)
    assert pooling.tuned and pooling.query_map is not None
    assert np.array_equal(embed(back, texts, pooling).vectors, in_memory)
    queries = embed(back, texts, pooling, side="query").vectors
    assert not np.allclose(queries, in_memory)  # the query side has its own map
    found = search(back, embed(back, texts, pooling), ["b3 b4"], n=1)
    assert found[0][0][0] == 1
    # the default encoder appends the minimum of the rows: vectors twice as wide
    assert result.pooling.min_weight > 0 and in_memory.shape == (4, 32)
    # the pooling file itself round-trips, format 4 (3 without the minimum)
    path = tmp_path / "p.npz"
    result.pooling.save(path)
    assert str(np.load(path)["format"]) == "w2v-pooling-4"
    again = load_pooling(path)
    assert np.array_equal(embed(wv, texts, again).vectors, in_memory)
    # an index of the tuned model holds its wide vectors and searches with them
    from w2v.documents.index import open_index, write_index

    docs = tmp_path / "docs.txt"
    docs.write_text("".join(t + "\n" for t in texts))
    write_index(str(tmp_path / "i.idx"), back, [str(docs)], pooling, out)
    index = open_index(str(tmp_path / "i.idx"))
    assert index.unit.shape == (4, 32)
    plain = tune(wv, [pairs], min_weight=0, **OPTIONS).pooling
    assert str(plain.arrays()["format"]) == "w2v-pooling-3"
    assert embed(wv, texts, plain).vectors.shape == (4, 16)


def test_after_crops_the_components_are_those_of_the_texts_embedded(tmp_path):
    wv = planted_vectors()
    rng = np.random.default_rng(5)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(" ".join(sentence(g, rng, 5) for g in rng.choice(list(GROUPS), 3))
                              + "\n" for _ in range(64)))
    options = {**OPTIONS, "epochs": 1, "pooling": "usif"}
    out = str(tmp_path / "crops.w2v")
    crops = tune(wv, [], crops=[str(corpus)], output=out, **options).pooling
    assert crops.tuned and crops.remove_pc and crops.components is None  # refit: auto
    kept = tune(wv, [], crops=[str(corpus)], refit="no", **options).pooling
    assert kept.components is not None
    assert tune(wv, [write_pairs(tmp_path / "p.tsv")], **options).pooling.fitted
    # embed finds the components on the texts it embeds, as for uSIF, read back the same
    texts, other = ["a0 a1 b2", "c1 c2", "e0 f1 f2", "h1 g0"], ["a0", "b0 b4 h1", "d2", "g2 e3"]
    first = embed(wv, texts, tune_copy(crops))
    assert first.pooling.fitted
    again = embed(wv, texts, dataclasses.replace(kept, components=None,
                                                     component_weights=None))
    assert np.allclose(first.vectors, again.vectors, atol=1e-6)
    assert not np.allclose(embed(wv, other, tune_copy(crops)).pooling.components,
                           first.pooling.components)
    back = load_model_vectors(out)
    assert np.array_equal(embed(back, texts, for_vectors(back, out)).vectors, first.vectors)
    # evaluate --sts finds them on both columns of the file
    sts = tmp_path / "sts.txt"
    sts.write_text("".join(f"{s}\t{a}\t{b}\n" for s, a, b in
                           [(5, "a0 a1", "b0 b1"), (1, "a2 c1", "h0"), (3, "e0 e1", "f1 f2"),
                            (0, "g1", "c2 c3"), (4, "d1 d2 d3", "c4 c0")]))
    fitted = embed(wv, ["a0 a1", "a2 c1", "e0 e1", "g1", "d1 d2 d3", "b0 b1", "h0", "f1 f2",
                        "c2 c3", "c4 c0"], tune_copy(crops)).pooling
    assert evaluate_sts(wv, sts, [crops])[0].spearman == \
        evaluate_sts(wv, sts, [fitted])[0].spearman


def test_crops_alone_run_whole_epochs_until_enough_pairs_are_seen(tmp_path):
    from w2v.documents.tune import crops_epochs
    from w2v.documents.tune_options import TUNE_DEFAULTS

    enough = TUNE_DEFAULTS.crops_pairs
    assert crops_epochs(enough) == crops_epochs(10 * enough) == 1
    assert crops_epochs(enough // 3) == 3 and crops_epochs(enough // 3 - 1) == 4
    assert crops_epochs(5) == TUNE_DEFAULTS.epochs  # a tiny corpus: at most the pairs' epochs
    wv = planted_vectors()
    rng = np.random.default_rng(5)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(" ".join(sentence(g, rng, 5) for g in rng.choice(list(GROUPS), 3))
                              + "\n" for _ in range(64)))
    options = {key: value for key, value in OPTIONS.items() if key != "epochs"}
    assert len(tune(wv, [], crops=[str(corpus)], **options).epochs) == crops_epochs(64)
    assert len(tune(wv, [write_pairs(tmp_path / "p.tsv")], **options).epochs) == \
        TUNE_DEFAULTS.epochs


def tune_copy(pooling):
    return dataclasses.replace(pooling)


def test_checkpoint_written_each_epoch_goes_on_from_its_encoder(tmp_path):
    wv = planted_vectors()
    pairs = write_pairs(tmp_path / "pairs.tsv")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{w} 100\n" for w in wv.words))
    checkpoint = str(tmp_path / "ck.w2v")
    first = tune(wv, [pairs], checkpoint=checkpoint, vocab_path=str(vocab), **OPTIONS)
    back = load_model_vectors(checkpoint)
    assert np.array_equal(for_vectors(back, checkpoint).map, first.pooling.map)
    again = tune(back, [pairs], path=checkpoint, **{**OPTIONS, "epochs": 1})
    assert paraphrase_margin(back, again.pooling) > 0.5  # started from the tuned encoder


def test_older_pooling_versions_still_read_and_a_map_needs_format_3():
    wv = planted_vectors()
    plain = for_vectors(wv, None, "usif")
    plain.fit(np.eye(16, dtype=np.float32))
    arrays = plain.arrays()
    assert str(arrays["format"]) == "w2v-pooling-1"
    assert pooling_from_arrays(arrays, "x").map is None
    with pytest.raises(Exception, match="without a map|with a map"):
        pooling_from_arrays({**arrays, "format": np.array("w2v-pooling-3")}, "x")
    wide = dataclasses.replace(plain, map=np.eye(16, dtype=np.float32), min_weight=0.5)
    arrays = wide.arrays()
    assert str(arrays["format"]) == "w2v-pooling-4"
    assert pooling_from_arrays(arrays, "x").min_weight == 0.5
    with pytest.raises(Exception, match="min_weight"):
        pooling_from_arrays({**arrays, "format": np.array("w2v-pooling-3")}, "x")


def numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("loss", ["infonce", "triplet"])
def test_contrastive_gradients_match_finite_differences(loss):
    rng = np.random.default_rng(0)
    scores = rng.uniform(-1, 1, size=(4, 7))
    targets = np.array([0, 1, 2, 3], dtype=np.int64)
    weights = rng.choice([0.0, 0.5, 1.0], size=(4, 7))
    grad = np.empty_like(scores)

    def value():
        scratch = np.empty_like(scores)
        if loss == "infonce":
            return k.infonce(scores, targets, weights, 0.3, scratch)
        return k.triplet(scores, targets, weights, 0.5, scratch)

    if loss == "infonce":
        k.infonce(scores, targets, weights, 0.3, grad)
    else:
        k.triplet(scores, targets, weights, 0.5, grad)
    assert np.allclose(grad, numeric_gradient(value, scores), atol=1e-6)
    assert np.any(grad != 0)


def test_cosent_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    cosines = rng.uniform(-1, 1, size=9)
    gold = rng.choice([0.0, 1.5, 3.0, 5.0], size=9)
    grad = np.empty_like(cosines)
    k.cosent(cosines, gold, 5.0, grad)
    numeric = numeric_gradient(lambda: k.cosent(cosines, gold, 5.0, np.empty(9)), cosines)
    assert np.allclose(grad, numeric, atol=1e-6)


def test_encoder_gradient_matches_finite_differences(tmp_path):
    from w2v.documents.pairs import load_pairs

    wv = planted_vectors()
    pooling = for_vectors(wv, None, "usif")
    pairs = load_pairs(wv, pooling, [write_pairs(tmp_path / "p.tsv", n=8)])
    encoder = Encoder(wv, pooling)
    encoder.theta = np.random.default_rng(2).normal(scale=0.3, size=len(wv))
    encoder.maps[0] += np.random.default_rng(3).normal(scale=0.1, size=(16, 16))
    texts = np.arange(4)
    target = np.random.default_rng(4).normal(size=(4, 16))

    def value():
        return float(np.sum(encoder.forward(pairs, texts)[2] * target))

    cache = encoder.forward(pairs, texts)
    grad_theta, grad_maps = np.zeros(len(wv)), [np.zeros((16, 16))]
    encoder.backward(pairs, texts, False, cache, target, encoder.weights, grad_theta, grad_maps)
    used = np.unique(np.concatenate([pairs.text(t) for t in texts]))
    numeric = numeric_gradient(value, encoder.theta, eps=1e-4)
    assert np.allclose(grad_theta[used], numeric[used], rtol=1e-3, atol=1e-4)
    numeric = numeric_gradient(value, encoder.maps[0], eps=1e-4)
    assert np.allclose(grad_maps[0], numeric, rtol=1e-3, atol=1e-4)


def test_row_gradient_with_the_minimum_matches_finite_differences(tmp_path):
    from w2v.documents.pairs import load_pairs

    wv = planted_vectors()
    pooling = for_vectors(wv, None, "usif")
    pairs = load_pairs(wv, pooling, [write_pairs(tmp_path / "p.tsv", n=8)])
    encoder = Encoder(wv, pooling, min_weight=0.7)
    texts = np.arange(4)
    target = np.random.default_rng(4).normal(size=(4, 32))

    def value():
        return float(np.sum(encoder.forward(pairs, texts)[2] * target))

    cache = encoder.forward(pairs, texts)
    row_grads = []
    encoder.backward(pairs, texts, False, cache, target, encoder.weights, np.zeros(len(wv)),
                     [np.zeros((16, 16))], row_grads)
    dense = np.zeros(encoder.rows.shape)
    for entry in row_grads:
        if len(entry) == 2:
            np.add.at(dense, entry[0], entry[1])
        else:
            np.add.at(dense, (entry[0], entry[1]), entry[2])
    assert any(len(entry) == 3 for entry in row_grads)
    used = np.unique(np.concatenate([pairs.text(t) for t in texts]))
    encoder.rows = encoder.rows.astype(np.float64)
    numeric = numeric_gradient(value, encoder.rows, eps=1e-5)
    assert np.allclose(dense[used], numeric[used], rtol=1e-3, atol=1e-4)


def test_false_negative_mask_on_hand_made_similarities():
    # two anchors; candidates 0, 1 are their positives; 2 repeats positive 0's text
    target_text, anchor_text = np.array([10, 11]), np.array([20, 21])
    candidate_text = np.array([10, 11, 10, 30, 31])
    guide = np.array([[0.8, 0.1, 0.8, 0.9, 0.5],
                      [0.2, 0.6, 0.2, 0.3, 0.65]])
    positive = guide[[0, 1], [0, 1]]
    plain = negative_weights(target_text, anchor_text, candidate_text, None, None)
    assert plain[0].tolist() == [0, 1, 0, 1, 1]  # the repeat of the positive is dropped
    gist = negative_weights(target_text, anchor_text, candidate_text, guide, positive)
    assert gist[0].tolist() == [0, 1, 0, 0, 1]  # 0.9 > 0.8: the guide masks candidate 3
    assert gist[1].tolist() == [1, 0, 1, 1, 0]  # 0.65 > 0.6
    soft = negative_weights(target_text, anchor_text, candidate_text, guide, positive,
                            gist=False, threshold=0.45, weight=0.25)
    assert soft[0].tolist() == [0, 1, 0, 0.25, 0.25]
    assert soft[1].tolist() == [1, 0, 1, 1, 0.25]


def test_semi_hard_selection_and_curriculum():
    rows = np.array([[5, 6, 7, 8, 9]])
    scores = np.array([[0.95, 0.85, 0.75, 0.65, 0.3]])
    positive = np.array([0.9])
    exclude = np.zeros((1, 5), dtype=bool)
    assert select_negatives(rows, scores, positive, exclude, 2).tolist() == [[5, 6]]
    # semi-hard: below the positive (0.9), above 0.9 - 0.3
    assert select_negatives(rows, scores, positive, exclude, 2, True, 0.3).tolist() == [[6, 7]]
    assert select_negatives(rows, scores, positive, exclude, 2, True, 0.3,
                            skip=1).tolist() == [[7, 8]]
    exclude[0, 1] = True
    assert select_negatives(rows, scores, positive, exclude, 3, True, 0.3).tolist() \
        == [[7, 8, -1]]


@pytest.fixture
def files(tmp_path):
    from w2v.files.formats import save_vectors

    wv = planted_vectors()
    vectors = str(tmp_path / "v.txt")
    save_vectors(wv, vectors, binary=False)
    (tmp_path / "vocab.txt").write_text("".join(f"{w} 100\n" for w in wv.words))
    return vectors, write_pairs(tmp_path / "pairs.tsv", n=40), tmp_path


@pytest.mark.parametrize("lines, fragment", [
    ("a0 a1\tb0 b1\nc0 c1\n", "pairs.bad:2: expected 'anchor<TAB>positive"),
    ("4.0\ta0 a1\tb0 b1\nx\ta0\tb0\n", "pairs.bad:2: expected 'score<TAB>text1<TAB>text2'"),
    ("a0 a1\t \n", "pairs.bad:1: text 2 is empty"),
])
def test_malformed_pairs_name_file_and_line(files, capsys, lines, fragment):
    _, _, tmp = files
    bad = tmp / "pairs.bad"
    bad.write_text(lines)
    vectors = files[0]
    code, _, err = run_main(["tune", "-v", vectors, str(bad), "-o", str(tmp / "t.w2v"),
                             "--batch-size", "2", "-q", "--vocab", str(tmp / "vocab.txt")],
                            capsys)
    assert code != 0
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("options, fragment", [
    (["--batch-size", "41"], "larger than the data (40 pairs)"),
    (["--temperature", "0"], "--temperature must be positive"),
    (["--hard-negatives", "1000"], "--hard-negatives 1000 is larger than the data"),
    (["--pooling", "usif"], "usif pooling needs word counts"),
    ([], "give the counts of these vectors with --vocab FILE"),
])
def test_bad_options_are_refused_before_work(files, capsys, options, fragment):
    vectors, pairs, tmp = files
    out = tmp / "t.w2v"
    vocab = [] if "counts" in fragment else ["--vocab", str(tmp / "vocab.txt")]
    code, _, err = run_main(["tune", "-v", vectors, pairs, "-o", str(out), "-q",
                             "--batch-size", "8", *vocab, *options], capsys)
    assert code != 0
    assert_one_line_error(err, fragment)
    assert not os.path.exists(out)


def test_unknown_pairs_are_skipped_and_counted_once(files, capsys, caplog):
    vectors, pairs, tmp = files
    with open(pairs, "a") as f:
        f.write("zz yy\ta0\n")
        f.write("a0\tqq\n")
    out = str(tmp / "t.w2v")
    code, _, err = run_main(["tune", "-v", vectors, pairs, "-o", out, "--epochs", "1",
                             "--batch-size", "8", "--threads", "1", "--vocab",
                             str(tmp / "vocab.txt")], capsys)
    assert code == 0, err
    assert "2 pairs skipped: a side has no known word" in err
    code, _, err = run_main(["embed", "-v", out, pairs, "-o", str(tmp / "e.npy")], capsys)
    assert code == 0 and "the tuned encoder" in err
    sts = tmp / "sts.txt"
    sts.write_text("4.5\ta0 a1\tb0 b1\n0.5\ta0 a2\tc1 c2\n2.0\td0\tb3 e1\n")
    code, out_text, err = run_main(["evaluate", out, "--sts", str(sts), "--preprocess", "none"],
                                   capsys)
    assert code == 0 and "\n  tuned " in out_text, err
