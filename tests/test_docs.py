"""Document vectors: SIF/uSIF against hand computations, line i = row i, the pooling file,
search, `w2v embed/search/evaluate --sts` and their errors, no numba on these paths."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from w2v.cli import main
from w2v.documents.embed import embed, embed_files
from w2v.documents.pooling import Pooling, load_pooling, make_pooling, usif_a
from w2v.documents.rank import top_documents
from w2v.documents.search import search
from w2v.errors import InputError
from w2v.files.formats import load_vectors, save_vectors
from w2v.text.preprocess import letters
from w2v.vectors.word_vectors import WordVectors

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def toy():
    """Four words with counts 50/20/20/10 (p = .5, .2, .2, .1)."""
    vectors = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 0]], np.float32)
    return WordVectors(["the", "cat", "sat", "dog"], vectors, counts=[50, 20, 20, 10])


@pytest.fixture
def twenty():
    """20 words of dim 6; 'w0' alone is frequent enough for uSIF's alpha (p > 0.431)."""
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(20)]
    return WordVectors(words, rng.normal(size=(20, 6)).astype(np.float32),
                       counts=[100] + [5] * 19)


def run_main(args, capsys, monkeypatch, stdin=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, fragment):
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith("w2v: error:") and fragment in lines[-1], err
    assert not any("Traceback" in line for line in lines)


# --------------------------------------------------------------------------- the poolings


def test_mean_pooling_averages_known_words(toy):
    result = embed(toy, ["the cat", "cat unknown dog"], "mean")
    np.testing.assert_allclose(result.vectors, [[0.5, 1, 0], [0.5, 1.5, 0]])
    assert result.unknown == 1 and result.tokens == 5


def test_sif_weights_and_first_component_by_hand(toy):
    texts = ["the cat", "sat dog sat", "cat", "the the dog", "dog sat"]
    a = 1e-3
    weight = {w: a / (a + p) for w, p in zip(toy.words, [0.5, 0.2, 0.2, 0.1])}
    raw = np.array([np.mean([weight[w] * toy[w] for w in t.split()], axis=0) for t in texts])
    u = np.linalg.svd(raw)[2][0]  # first right singular vector, independently of w2v's route
    expected = raw - np.outer(raw @ u, u)

    result = embed(toy, texts, "sif")
    assert result.pooling.a == a and result.pooling.remove_pc == 1
    np.testing.assert_allclose(result.vectors, expected, atol=1e-6)
    unremoved = embed(toy, texts, "sif", remove_pc=0).vectors
    np.testing.assert_allclose(unremoved, raw, rtol=1e-6)


def test_usif_a_from_the_vocabulary(twenty):
    # |V| = 20: threshold 1 - (19/20)^11 = 0.431; only w0 (p = 100/195) is above it, so
    # alpha = 1/20, Z = 10 and a = (1 - alpha) / (alpha Z) = 1.9.
    p = np.array(twenty.counts, float) / 195
    assert usif_a(p) == pytest.approx(1.9)


def test_usif_by_hand(twenty):
    rng = np.random.default_rng(5)
    texts = [" ".join(f"w{i}" for i in rng.integers(0, 20, size=rng.integers(2, 9)))
             for _ in range(12)]
    a = 1.9
    p = np.array(twenty.counts, float) / 195
    unit = twenty.vectors / np.linalg.norm(twenty.vectors, axis=1, keepdims=True)
    weight = a / (0.5 * a + p)
    raw = np.array([np.mean([weight[int(w[1:])] * unit[int(w[1:])] for w in t.split()], axis=0)
                    for t in texts])
    _, s, vt = np.linalg.svd(raw)
    lambdas = s[:5] ** 2 / (s[:5] ** 2).sum()
    expected = raw.copy()
    for i in range(5):  # the reference code's loop, one component at a time
        expected = expected - lambdas[i] * np.outer(expected @ vt[i], vt[i])

    result = embed(twenty, texts, "usif")
    assert result.pooling.a == pytest.approx(a)
    np.testing.assert_allclose(result.pooling.component_weights, lambdas, rtol=1e-5)
    np.testing.assert_allclose(result.vectors, expected, atol=1e-5)


def test_auto_is_usif_with_counts_else_mean(toy):
    assert make_pooling(toy).kind == "usif"
    assert make_pooling(WordVectors(toy.words, toy.vectors)).kind == "mean"


def test_sif_without_counts_is_refused(toy):
    from w2v.errors import OptionError

    with pytest.raises(OptionError, match="needs word counts"):
        make_pooling(WordVectors(toy.words, toy.vectors), "sif")


def test_letters_is_the_shared_corpus_preparation():
    assert letters("Rousseau's café in 1993, Straße!").split() == [
        "rousseau", "s", "cafe", "in", "one", "nine", "nine", "three", "strasse"]
    assert letters("a\nB-c\n") == "a\nb c\n"


# --------------------------------------------------------------------------- line i = row i


def test_row_i_is_line_i_with_empty_and_unknown_lines(toy, tmp_path):
    path = tmp_path / "docs.txt"
    path.write_bytes(b"the cat\n\nzzz qqq\r\n   \ndog\tsat\nCAT")  # no final newline
    result, lines, _ = embed_files(toy, [str(path)], "mean", keep_text=True)
    assert result.vectors.shape == (6, 3) and result.empty == 4
    np.testing.assert_allclose(result.vectors[0], [0.5, 1, 0])
    assert not result.vectors[1:4].any() and not result.vectors[5].any()
    np.testing.assert_allclose(result.vectors[4], [0.5, 0.5, 1.5])
    assert [lines[i] for i in range(6)] == ["the cat", "", "zzz qqq", "   ", "dog\tsat", "CAT"]
    lowered, _, _ = embed_files(toy, [str(path)], "mean", lowercase=True)
    np.testing.assert_allclose(lowered.vectors[5], [0, 2, 0])


def test_embed_command_rows_from_stdin_and_files(toy, tmp_path, capsys, monkeypatch):
    vectors = str(tmp_path / "toy.bin")
    save_vectors(toy, vectors)
    first = tmp_path / "a.txt"
    first.write_text("the cat\n\n")
    out = tmp_path / "docs.npy"
    code, _, err = run_main(["embed", "-v", vectors, str(first), "-", "-o", str(out)], capsys,
                            monkeypatch, stdin="nothing known\ndog\n")
    assert code == 0, err
    matrix = np.load(out)
    assert matrix.dtype == np.float32 and matrix.shape == (4, 3)
    assert [bool(row.any()) for row in matrix] == [True, False, False, True]
    assert "pooling: mean" in err and "2 of 4 documents have no known word" in err


def test_embed_word2vec_output_keyed_by_line_or_id(toy, tmp_path, capsys, monkeypatch):
    vectors = str(tmp_path / "toy.bin")
    save_vectors(toy, vectors)
    code, out, _ = run_main(["embed", "-v", vectors, "-", "-o", "-", "-q"], capsys, monkeypatch,
                            stdin="the\n\ncat\n")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == ["3", "1", "2", "3"]
    target = tmp_path / "ids.bin"
    code, _, _ = run_main(["embed", "-v", vectors, "-", "--id-column", "-o", str(target)],
                          capsys, monkeypatch, stdin="doc-a\tthe cat\ndoc-b\tdog\n")
    assert code == 0 and load_vectors(str(target)).words == ["doc-a", "doc-b"]


# --------------------------------------------------------------------------- the pooling file


def test_pooling_round_trip_embeds_queries_as_documents(twenty, tmp_path):
    docs = ["w0 w1 w2", "w3 w4", "w0 w5 w6 w7", "w8 w9 w0", "w10 w11 w12", "w13 w0 w14",
            "w15 w16", "w17 w18 w19 w0"]
    result = embed(twenty, docs, "usif", normalize=True)
    path = tmp_path / "pool.npz"
    result.pooling.save(path)
    loaded = load_pooling(path)
    for field in ("kind", "dim", "n_words", "vocabulary", "a", "unit_words", "remove_pc",
                  "normalize", "lowercase", "preprocess"):
        assert getattr(loaded, field) == getattr(result.pooling, field), field
    for field in ("weights", "components", "component_weights"):
        assert np.array_equal(getattr(loaded, field), getattr(result.pooling, field)), field
    again = embed(twenty, docs, loaded).vectors  # not refitted: the saved components
    np.testing.assert_array_equal(again, result.vectors)


def test_pooling_refuses_other_vectors(twenty, toy, tmp_path):
    pooling = make_pooling(twenty, "sif")
    with pytest.raises(InputError, match="dimension 6"):
        embed(toy, ["the cat"], pooling)
    shuffled = WordVectors(twenty.words[::-1], twenty.vectors, counts=twenty.counts)
    with pytest.raises(InputError, match="other vectors"):
        embed(shuffled, ["w1"], pooling)


def test_not_a_pooling_file(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(2))
    with pytest.raises(InputError, match="not a w2v pooling file"):
        load_pooling(path)
    assert isinstance(make_pooling(WordVectors(["a"], np.ones((1, 2)))), Pooling)


# --------------------------------------------------------------------------- search


@pytest.fixture
def collection():
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(200)]
    wv = WordVectors(words, rng.normal(size=(200, 64)).astype(np.float32),
                     counts=rng.integers(5, 500, size=200))
    docs = [" ".join(rng.choice(words, size=8)) for _ in range(300)]
    planted = docs[137].split()
    planted[3] = "w199" if planted[3] != "w199" else "w198"
    return wv, docs, " ".join(planted)


@pytest.mark.parametrize("pooling", ["mean", "sif", "usif"])
def test_search_ranks_a_planted_near_duplicate_first(collection, pooling):
    wv, docs, query = collection
    [hits] = search(wv, docs, [query], n=5, pooling=pooling)
    assert hits[0][0] == 137 and len(hits) == 5
    assert all(hits[i][1] >= hits[i + 1][1] for i in range(4))


def test_top_documents_matches_a_full_sort():
    rng = np.random.default_rng(2)
    documents = rng.normal(size=(500, 8)).astype(np.float32)
    queries = rng.normal(size=(7, 8)).astype(np.float32)
    for metric in ("cosine", "dot"):
        rows, scores = top_documents(documents, queries, n=10, metric=metric)
        d = documents / np.linalg.norm(documents, axis=1, keepdims=True) if metric == "cosine" \
            else documents
        q = queries / np.linalg.norm(queries, axis=1, keepdims=True) if metric == "cosine" \
            else queries
        full = q @ d.T
        assert np.array_equal(rows, np.argsort(-full, axis=1, kind="stable")[:, :10])
        np.testing.assert_allclose(scores, np.take_along_axis(full, rows, axis=1), rtol=1e-5)
    with pytest.raises(InputError, match="dimension"):
        top_documents(documents, queries[:, :4])


def test_search_command_text_json_and_stdin(collection, tmp_path, capsys, monkeypatch):
    wv, docs, query = collection
    vectors = str(tmp_path / "v.w2v.bin")
    save_vectors(wv, vectors)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{w} {c}\n" for w, c in zip(wv.words, wv.counts)))
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(docs) + "\n")
    code, out, err = run_main(["search", "-v", vectors, "--docs", str(path), "--vocab",
                               str(vocab), "-n", "3", query, "w1 w2"], capsys, monkeypatch)
    assert code == 0, err
    first, second = out.split("\n\n")
    rank, score, line, text = first.splitlines()[0].split("\t")
    assert (rank, line, text) == ("1", "138", docs[137]) and float(score) > 0.5
    assert len(second.splitlines()) == 3
    code, out, _ = run_main(["search", "-v", vectors, "--docs", str(path), "-n", "2", "--json",
                             "--metric", "dot"], capsys, monkeypatch,
                            stdin=f"{query}\n\nzzz\n")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [len(r["results"]) for r in records] == [2, 0, 0]
    assert records[0]["results"][0]["line"] == 138


def test_search_docs_takes_one_file_each(collection, tmp_path, capsys, monkeypatch):
    """`--docs a b` used to search a for the text "b": an argument naming a file is refused,
    and two files need two --docs."""
    wv, docs, query = collection
    vectors = str(tmp_path / "v.bin")
    save_vectors(wv, vectors)
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("\n".join(docs[:100]) + "\n")
    second.write_text("\n".join(docs[100:]) + "\n")
    code, out, err = run_main(["search", "-v", vectors, "--docs", str(first), str(second)],
                              capsys, monkeypatch)
    assert code == 2 and out == ""
    assert_one_line_error(err, "is a file: each --docs takes one file")
    code, out, err = run_main(["search", "-v", vectors, "--docs", str(first), "--docs",
                               str(second), "-n", "1", query], capsys, monkeypatch)
    assert code == 0, err
    assert out.split("\t")[2] == "138"  # line 38 of b.txt, counted across both files


# --------------------------------------------------------------------------- bad input


def test_missing_docs_is_one_line_error_and_no_output(toy, tmp_path, capsys, monkeypatch):
    vectors = str(tmp_path / "toy.bin")
    save_vectors(toy, vectors)
    out = tmp_path / "out.npy"
    code, _, err = run_main(["embed", "-v", vectors, str(tmp_path / "nope.txt"), "-o", str(out)],
                            capsys, monkeypatch)
    assert code == 1 and not out.exists()
    assert_one_line_error(err, "no such file")
    code, out_text, err = run_main(["search", "-v", vectors, "--docs", str(tmp_path / "nope"),
                                    "cat"], capsys, monkeypatch)
    assert code == 1 and out_text == ""
    assert_one_line_error(err, "no such file")


def test_pooling_of_other_vectors_is_one_line_error(toy, twenty, tmp_path, capsys, monkeypatch):
    vectors = str(tmp_path / "toy.bin")
    save_vectors(toy, vectors)
    pool = tmp_path / "twenty.npz"
    make_pooling(twenty, "mean").save(pool)
    docs = tmp_path / "docs.txt"
    docs.write_text("the cat\n")
    out = tmp_path / "out.npy"
    code, _, err = run_main(["embed", "-v", vectors, str(docs), "--read-pooling", str(pool),
                             "-o", str(out)], capsys, monkeypatch)
    assert code == 1 and not out.exists()
    assert_one_line_error(err, "dimension 6")


def test_broken_id_column_leaves_no_output(toy, tmp_path, capsys, monkeypatch):
    vectors = str(tmp_path / "toy.bin")
    save_vectors(toy, vectors)
    out = tmp_path / "out.bin"
    code, _, err = run_main(["embed", "-v", vectors, "-", "--id-column", "-o", str(out)],
                            capsys, monkeypatch, stdin="a\tthe\na\tcat\n")
    assert code == 1 and not out.exists()
    assert_one_line_error(err, "'a' is used twice")


# --------------------------------------------------------------------------- STS


def test_evaluate_sts(twenty, tmp_path, capsys, monkeypatch):
    vectors = str(tmp_path / "v.bin")
    save_vectors(twenty, vectors)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("".join(f"{w} {c}\n" for w, c in zip(twenty.words, twenty.counts)))
    sts = tmp_path / "sts.txt"
    sts.write_text("5.0\tW1 w2 w3.\tw1, w2 w3\n1.0\tw4 w5\tw16 w17\n3.2\tw1 w9\tw1 w10\n"
                   "2.5\tw6 w7 w8\tW6 w11\n0.5\tw12\tw13 w14\n4\txx\tw1\n")
    code, out, err = run_main(["evaluate", vectors, "--sts", str(sts), "--vocab", str(vocab),
                               "--preprocess", "lower", "--json"], capsys, monkeypatch)
    assert code == 0, err
    results = json.loads(out)["sts"]
    assert [r["pooling"] for r in results] == ["mean", "sif", "usif"]
    assert all(r["pairs_used"] == 5 and r["pairs_total"] == 6 for r in results)
    assert all(-1 <= r["spearman"] <= 1 for r in results)
    bad = tmp_path / "bad.txt"
    bad.write_text("5.0\tonly one sentence\n")
    code, _, err = run_main(["evaluate", vectors, "--sts", str(bad)], capsys, monkeypatch)
    assert code == 1
    assert_one_line_error(err, "line 1: expected 'score<TAB>sentence1<TAB>sentence2'")


def test_document_commands_do_not_import_numba(twenty, tmp_path):
    vectors = str(tmp_path / "v.bin")
    save_vectors(twenty, vectors)
    docs = tmp_path / "docs.txt"
    docs.write_text("w1 w2\nw3\n")
    sts = tmp_path / "sts.txt"
    sts.write_text("5.0\tw1 w2\tw1 w3\n1.0\tw4\tw5\n")
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['embed', '-v', {vectors!r}, {str(docs)!r}, '-o', "
        f"{str(tmp_path / 'd.npy')!r}, '-q']) == 0\n"
        f"assert main(['search', '-v', {vectors!r}, '--docs', {str(docs)!r}, 'w1', '-q']) == 0\n"
        f"assert main(['evaluate', {vectors!r}, '--sts', {str(sts)!r}, '-q']) == 0\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


def test_read_pooling_refuses_options_it_would_ignore(toy, tmp_path, capsys, monkeypatch):
    vectors = str(tmp_path / "toy.bin")
    save_vectors(toy, vectors)
    pool = tmp_path / "pool.npz"
    make_pooling(toy, "mean").save(pool)
    code, _, err = run_main(["embed", "-v", vectors, "-", "--read-pooling", str(pool),
                             "--lowercase", "-o", "-"], capsys, monkeypatch, stdin="the\n")
    assert code == 2
    assert_one_line_error(err, "--read-pooling carries its own pooling")


def test_sif_on_vectors_without_counts_can_estimate_them_by_rank(toy, caplog):
    from w2v.documents.pooling import zipf_counts

    plain = WordVectors(toy.words, toy.vectors)
    pooling = make_pooling(plain, "usif", estimate_counts=True)
    assert "Zipf" in caplog.text
    expected = make_pooling(WordVectors(toy.words, toy.vectors, zipf_counts(len(toy))), "usif")
    np.testing.assert_array_equal(pooling.weights, expected.weights)
    assert np.all(np.diff(zipf_counts(1000)) <= 0) and zipf_counts(1000)[-1] >= 1
