"""`w2v phrases`: hand-checked toy corpora for both scorers, the CLI, and word2phrase's rule
checked against a plain-Python implementation on the bundled 1M-token sample."""

import collections
import lzma
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from w2v.cli import main
from w2v.corpus.phrases import ENGLISH_CONNECTORS, find_phrases, read_text, run_phrases

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "data", "enwiki-1m.txt.xz")

# N = 8 tokens; a, b, c each 2, 2, 4 times; (a, b) twice, (c, c) three times.
# word2phrase, min-count 1: (a, b) = (2 - 1) / 2 / 2 x 8 = 2.0, (c, c) = (3 - 1) / 4 / 4 x 8 = 1.0
# npmi: (a, b) = ln(.25 / .0625) / -ln(.25) = 1.0, (c, c) = ln(1.5) / ln(8 / 3) = 0.4134
TOY = "a b\na b\nc c c c\n"


def phrases_of(text, tmp_path, **options):
    path = tmp_path / "in.txt"
    path.write_text(text)
    out = tmp_path / "out.txt"
    tables = run_phrases([str(path)], str(out), **options)
    return out.read_text(), tables


def run(args, stdin=None):
    return subprocess.run([sys.executable, "-m", "w2v.cli", *args], input=stdin,
                          capture_output=True, text=True)


def assert_one_line_error(result, code, fragment):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v: error:"), result.stderr
    assert fragment in lines[0], lines[0]


# --------------------------------------------------------------------------- scorers


def test_word2phrase_scores_by_hand(tmp_path):
    _, (table,) = phrases_of(TOY, tmp_path, min_count=1, thresholds=[0.5])
    assert [(p.text, p.count, p.score) for p in table] == [("a_b", 2, 2.0), ("c_c", 3, 1.0)]


def test_word2phrase_pair_exactly_at_the_threshold_does_not_join(tmp_path):
    """word2phrase joins when score > threshold, not >=."""
    out, _ = phrases_of(TOY, tmp_path, min_count=1, thresholds=[2.0])
    assert out == TOY
    out, _ = phrases_of(TOY, tmp_path, min_count=1, thresholds=[1.99])
    assert out == "a_b\na_b\nc c c c\n"


def test_word2phrase_pair_below_min_count_never_joins(tmp_path):
    # min-count 3: (a, b) is seen twice, so it never joins whatever the threshold
    out, (table,) = phrases_of(TOY, tmp_path, min_count=3, thresholds=[-1e9])
    assert [p.text for p in table] == ["c_c"]
    assert out == "a b\na b\nc_c c_c\n"


def test_overlapping_candidates_join_greedily_from_the_left(tmp_path):
    # (a, b) and (b, c) both qualify; on "a b c" only the first joins, "c c c c" gives two
    out, _ = phrases_of("a b c\na b c\nb c\nc c c c\n", tmp_path, min_count=1, thresholds=[0])
    assert out == "a_b c\na_b c\nb_c\nc_c c_c\n"


def test_npmi_scores_by_hand(tmp_path):
    out, (table,) = phrases_of(TOY, tmp_path, scorer="npmi", min_count=1, thresholds=[0.5])
    assert [(p.text, p.count) for p in table] == [("a_b", 2)]
    assert table[0].score == pytest.approx(1.0)
    assert out == "a_b\na_b\nc c c c\n"
    _, (table,) = phrases_of(TOY, tmp_path, scorer="npmi", min_count=1, thresholds=[0.4])
    assert [p.text for p in table] == ["a_b", "c_c"]
    assert table[1].score == pytest.approx(math.log(1.5) / math.log(8 / 3))


def test_npmi_pair_below_min_count_never_joins(tmp_path):
    """gensim#2086: its npmi ignored min_count; here a pair seen less never joins."""
    out, (table,) = phrases_of(TOY, tmp_path, scorer="npmi", min_count=3, thresholds=[-1.0])
    assert [p.text for p in table] == ["c_c"]
    assert out == "a b\na b\nc_c c_c\n"


def test_npmi_stays_within_one_after_passes(tmp_path):
    """gensim#1979: chained npmi scores went above 1; counts from one text cannot."""
    _, tables = phrases_of("a b c\n" * 5, tmp_path, scorer="npmi", min_count=1,
                           thresholds=[-1.0, -1.0], passes=2)
    assert all(-1.0 <= p.score <= 1.0 + 1e-12 for table in tables for p in table)


# --------------------------------------------------------------------------- text


def test_lines_and_blank_lines_keep_their_place(tmp_path):
    # (a, b) never meet on a line but often across lines: no phrase
    text = "\nx a\nb y\n\n  \nx a\nb y\n\t\nx a\nb y\n"
    out, (table,) = phrases_of(text, tmp_path, min_count=1, thresholds=[0])
    assert [p.text for p in table] == ["b_y", "x_a"]  # equal scores: by text
    assert out == "\nx_a\nb_y\n\n\nx_a\nb_y\n\nx_a\nb_y\n"


def test_last_line_without_newline_and_spaces_normalised(tmp_path):
    out, _ = phrases_of("a  b\ta b\n\na b", tmp_path, min_count=1, thresholds=[0])
    assert out == "a_b a_b\n\na_b\n"


def test_connector_words_sit_inside_phrases_only(tmp_path):
    text = "bank of america\nbank of america\nbank of america\nof the of the\nof the\n"
    out, (table,) = phrases_of(text, tmp_path, min_count=1, thresholds=[0],
                               connectors=ENGLISH_CONNECTORS)
    assert [p.text for p in table] == ["bank_of_america"]
    assert out == "bank_of_america\n" * 3 + "of the of the\nof the\n"
    # without connector words, 'of the' is a pair like any other
    out, _ = phrases_of(text, tmp_path, min_count=1, thresholds=[0])
    assert "of_the" in out


def test_two_passes_make_trigrams(tmp_path):
    text = "new york city\n" * 4 + "in new york\n"
    out, tables = phrases_of(text, tmp_path, min_count=1, thresholds=[0, 0], passes=2)
    assert [p.text for p in tables[0]] == ["new_york", "york_city"]  # 2.4, 2.25
    assert [p.text for p in tables[1]] == ["new_york_city"]
    assert out == "new_york_city\n" * 4 + "in new_york\n"


def test_read_text_counts_every_word(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a b\n\nc\n")
    text = read_text(str(path))
    assert text.store.words() == ["a", "b", "c"]
    assert text.offsets.tolist() == [0, 2, 2, 3]


# --------------------------------------------------------------------------- the CLI


def test_apply_gives_the_output_of_the_counting_run(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("new york city\n" * 4 + "bank of america\n" * 3 + "in new york\n\na b\n")
    table = tmp_path / "phrases.tsv"
    counted, applied = tmp_path / "counted.txt", tmp_path / "applied.txt"
    options = ["--min-count", "1", "--threshold", "0", "--connector-words", "english", "-q"]
    assert main(["phrases", str(path), "--passes", "2", *options, "--save-phrases", str(table),
                 "-o", str(counted)]) == 0
    assert main(["phrases", str(path), "--apply", str(table), "--connector-words", "english",
                 "-q", "-o", str(applied)]) == 0
    assert applied.read_text() == counted.read_text()
    assert "new_york_city" in counted.read_text()
    lines = table.read_text().splitlines()
    assert lines[0] == "# pass 1" and "# pass 2" in lines
    assert all(len(line.split("\t")) == 3 for line in lines if not line.startswith("# pass"))


def test_stdin_to_stdout():
    result = run(["phrases", "-", "--min-count", "1", "--threshold", "1.99", "-q"], stdin=TOY)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "a_b\na_b\nc c c c\n" and result.stderr == ""


def test_npmi_threshold_out_of_range_is_an_error(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TOY)
    assert_one_line_error(run(["phrases", str(path), "--scorer", "npmi", "--threshold", "1.5"]),
                          2, "outside [-1, 1]")


def test_unreadable_phrase_file_is_an_error(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TOY)
    assert_one_line_error(run(["phrases", str(path), "--apply", str(tmp_path / "none.tsv")]),
                          1, "cannot read")
    assert_one_line_error(run(["phrases", str(path), "--apply", str(path)]), 1,
                          "expected phrase<TAB>count<TAB>score")


def test_bad_threshold_lists_are_errors(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TOY)
    assert_one_line_error(run(["phrases", str(path), "--threshold", "200,x"]), 2, "200,x")
    assert_one_line_error(run(["phrases", str(path), "--threshold", "200,100,50", "--passes",
                               "2"]), 2, "3 values for 2 passes")


def test_output_is_atomic_when_the_run_fails(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old\n")
    assert main(["phrases", str(tmp_path / "missing.txt"), "-o", str(out), "-q"]) == 1
    assert out.read_text() == "old\n"


# --------------------------------------------------------------------------- acceptance


def word2phrase_in_python(lines, min_count=5, threshold=100.0):
    """word2phrase's rule, directly: counts within lines, score, greedy joins."""
    unigrams = collections.Counter()
    pairs = collections.Counter()
    for words in lines:
        unigrams.update(words)
        pairs.update(zip(words, words[1:]))
    train_words = sum(unigrams.values())

    def joins(a, b):
        pa, pb, pab = unigrams[a], unigrams[b], pairs[(a, b)]
        if pa < min_count or pb < min_count or pab < min_count:
            return False
        return (pab - min_count) / pa / pb * train_words > threshold

    table = {f"{a}_{b}" for (a, b) in pairs if joins(a, b)}
    out = []
    for words in lines:
        joined, i = [], 0
        while i < len(words):
            if i + 1 < len(words) and joins(words[i], words[i + 1]):
                joined.append(words[i] + "_" + words[i + 1])
                i += 2
            else:
                joined.append(words[i])
                i += 1
        out.append(" ".join(joined))
    return table, out


@pytest.mark.skipif(not os.path.exists(SAMPLE), reason="no bundled sample")
def test_joined_bigrams_are_word2phrases_on_the_1m_sample(tmp_path):
    with lzma.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = [line.split() for line in f]
    assert not any("_" in w for words in lines for w in words)  # so joins are unambiguous
    table, expected = word2phrase_in_python(lines)
    out = tmp_path / "out.txt"
    saved = tmp_path / "phrases.tsv"
    (found,) = run_phrases([SAMPLE], str(out), save_phrases=str(saved))
    assert {p.text for p in found} == table
    assert len(table) > 1000
    text = out.read_text().split("\n")
    assert text[-1] == "" and text[:-1] == expected
    applied = tmp_path / "applied.txt"
    run_phrases([SAMPLE], str(applied), apply=str(saved))
    assert applied.read_bytes() == out.read_bytes()


def test_find_phrases_from_python(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(TOY)
    assert [p.text for p in find_phrases(read_text(str(path)), min_count=1, threshold=1.5)] \
        == ["a_b"]


def test_delimiter_with_whitespace_is_an_error(tmp_path):
    """A phrase is one token: a delimiter that splits it would make no phrase at all."""
    path = tmp_path / "in.txt"
    path.write_text(TOY)
    assert_one_line_error(run(["phrases", str(path), "--delimiter", " "]), 2, "whitespace")
    assert_one_line_error(run(["phrases", str(path), "--delimiter", ""]), 2, "non-empty")


# --------------------------------------------------------------------------- train --phrases


def planted_corpus(path, lines=500, seed=0):
    """Random words from 40, with 'new york' planted 12 times: 5,000 tokens where (new, york)
    scores (12 - 5) / 12 / 12 x N, about 250, and no random pair is seen 5 times."""
    import random

    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)]
    text = [[rng.choice(words) for _ in range(10)] for _ in range(lines)]
    for i in range(12):
        line = text[i * 37]
        line[3:5] = ["new", "york"]
    path.write_text("".join(" ".join(line) + "\n" for line in text))
    return str(path)


def test_train_phrases_gives_the_planted_phrase_a_vector(tmp_path):
    from w2v.word2vec.model import load_model

    corpus = planted_corpus(tmp_path / "c.txt")
    out, model = tmp_path / "v.txt", tmp_path / "m.w2v"
    assert main(["train", corpus, "--phrases", "1", "--min-count", "1", "--dim", "8",
                 "--epochs", "1", "--threads", "1", "-o", str(out), "--text",
                 "--save-model", str(model), "-q"]) == 0
    words = [line.split()[0] for line in out.read_text().splitlines()[1:]]
    assert "new_york" in words and "new" not in words and "york" not in words
    record = load_model(str(model)).corpus["phrases"]
    assert record["tables"] == [["new_york"]]
    assert record["thresholds"] == [100.0] and record["passes"] == 1
    assert load_model(str(model)).config.phrases == 1


def _no_thread_pools(monkeypatch):
    """Make 8 cores usable and any phrase thread pool an error: only a run held to one
    thread by --threads passes."""
    import concurrent.futures

    import w2v.runtime.threads

    def refuse(*args, **kwargs):
        raise AssertionError("a thread pool was started")

    monkeypatch.setattr(w2v.runtime.threads, "usable_cores", lambda: 8)
    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", refuse)


def test_phrases_threads_one_runs_in_the_calling_thread(tmp_path, monkeypatch):
    text = "new york is big\n" * 30 + "a b c d\n" * 30
    expected, _ = phrases_of(text, tmp_path, min_count=1, thresholds=[1.0])
    _no_thread_pools(monkeypatch)
    with pytest.raises(AssertionError, match="thread pool"):
        phrases_of(text, tmp_path, min_count=1, thresholds=[1.0])
    assert phrases_of(text, tmp_path, min_count=1, thresholds=[1.0], threads=1)[0] == expected
    assert "new_york" in expected


def test_train_phrases_keeps_to_threads(tmp_path, monkeypatch):
    """`train --phrases N --threads 1` joins phrases in one thread, as it trains."""
    corpus = planted_corpus(tmp_path / "c.txt")
    _no_thread_pools(monkeypatch)
    assert main(["train", corpus, "--phrases", "1", "--min-count", "1", "--dim", "8",
                 "--epochs", "1", "--threads", "1", "-o", str(tmp_path / "v.txt"), "--text",
                 "-q"]) == 0
    assert "new_york" in (tmp_path / "v.txt").read_text()


def test_phrases_bad_threads_is_an_error(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TOY)
    assert_one_line_error(run(["phrases", str(path), "--threads", "0"]), 2, "--threads")


def test_train_phrases_equals_phrases_piped_into_train(tmp_path):
    """Joined in memory on token ids, the corpus is the one `w2v phrases` writes: same
    words in the same order, same vectors bit for bit (threads 1)."""
    import numpy as np

    from w2v.word2vec.model import train_word2vec

    text = ("new york city is big\n" * 6 + "i saw new york\nto york and new jersey\n"
            "in new york city\n") * 3
    path = tmp_path / "c.txt"
    path.write_text(text)
    joined = tmp_path / "joined.txt"
    run_phrases([str(path)], str(joined), thresholds=[1, 2], passes=2)
    options = dict(min_count=1, dim=8, epochs=2, threads=1, seed=3)
    piped = train_word2vec(str(joined), **options)
    direct = train_word2vec(str(path), phrases=2, phrase_threshold=[1, 2], **options)
    assert {"new_york", "new_york_city_is"} <= set(direct.words)
    assert direct.words == piped.words
    assert np.array_equal(direct.vectors, piped.vectors)


def test_svd_and_glove_take_phrases(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt")
    for command in (["svd", "--dim", "4"], ["glove", "--dim", "4", "--epochs", "1"]):
        out = tmp_path / "v.txt"
        assert main([*command, corpus, "--phrases", "1", "--min-count", "1", "--threads", "1",
                     "-o", str(out), "--text", "-q"]) == 0
        assert "new_york" in {line.split()[0] for line in out.read_text().splitlines()[1:]}


def test_phrase_threshold_needs_phrases(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(TOY)
    assert_one_line_error(run(["train", str(path), "--phrase-threshold", "50"]), 2,
                          "--phrase-threshold needs --phrases")
    assert_one_line_error(run(["train", str(path), "--phrases", "2", "--phrase-threshold",
                               "1,2,3"]), 2, "3 values for 2 passes")


def test_write_text_through_a_buffer_shorter_than_a_line(tmp_path):
    import io

    from w2v.corpus.phrases import write_text

    path = tmp_path / "in.txt"
    path.write_text("a bb ccc\n\ndddd e\nf\n")
    text = read_text(str(path))
    for size in (1, 4, 9, 1 << 10):
        stream = io.BytesIO()
        write_text(text, stream, buffer_bytes=size)
        assert stream.getvalue() == b"a bb ccc\n\ndddd e\nf\n"


def test_a_tiny_memory_bound_spills_the_pair_counts_and_changes_nothing(tmp_path, caplog):
    from w2v.corpus.phrase_keys import CandidateKeys as _Keys
    from w2v.corpus.phrases import count_candidates

    text = read_text(planted_corpus(tmp_path / "c.txt"))
    keys = _Keys(text, ())
    whole = count_candidates(text, keys, 1)
    with caplog.at_level("INFO", logger="w2v"):
        spilled = count_candidates(text, keys, 1, memory_gb=2e-5)  # 20,000 bytes
    assert "spilled to a temporary file" in caplog.text
    for a, b in zip(whole, spilled):
        assert np.array_equal(a, b)
    out = tmp_path / "out.txt"
    source = tmp_path / "in.txt"
    source.write_text("new york city\n" * 4 + "bank of america\n" * 3 + "in new york\n")
    for memory in (None, 1e-6):
        run_phrases([str(source)], str(out), min_count=1, thresholds=[0, 0], passes=2,
                    connectors=ENGLISH_CONNECTORS, memory_gb=memory)
        if memory is None:
            expected = out.read_bytes()
    assert out.read_bytes() == expected and b"bank_of_america" in expected


# --------------------------------------------------------------------------- embed and search


@pytest.fixture(scope="module")
def phrase_model(tmp_path_factory):
    """A model trained with one phrase pass on the planted corpus (it has `new_york`, and
    neither `new` nor `york`), and the same training without phrases."""
    directory = tmp_path_factory.mktemp("phrase_model")
    corpus = planted_corpus(directory / "c.txt")
    models = {}
    for name, extra in (("phrases", ["--phrases", "1", "--phrase-threshold", "50"]),
                        ("plain", [])):
        model = directory / f"{name}.w2v"
        assert main(["train", corpus, *extra, "--min-count", "1", "--dim", "8", "--epochs", "1",
                     "--threads", "1", "-o", str(directory / f"{name}.txt"), "--text",
                     "--save-model", str(model), "-q"]) == 0
        models[name] = str(model)
    models["corpus"] = corpus
    models["vectors"] = str(directory / "phrases.txt")  # the phrase model's vectors, no record
    return models


def test_embed_joins_the_phrases_a_model_recorded(phrase_model, tmp_path):
    from w2v.files.formats import load_vectors

    text = tmp_path / "q.txt"
    text.write_text("new york\nnew_york\nw1 new york w2\n")
    out = tmp_path / "q.npy"
    assert main(["embed", "-v", phrase_model["phrases"], str(text), "-o", str(out),
                 "--pooling", "mean", "-q"]) == 0
    rows = np.load(out)
    wv = load_vectors(phrase_model["phrases"])
    assert np.array_equal(rows[0], wv["new_york"]) and np.array_equal(rows[1], rows[0])
    mean = (wv["w1"].astype(np.float64) + wv["new_york"] + wv["w2"]) / 3
    assert np.allclose(rows[2], mean, atol=1e-6)


def test_search_finds_the_phrase_document_from_the_two_words(phrase_model, tmp_path, capsys):
    docs = tmp_path / "docs.txt"
    docs.write_text("w1 w2 w3\nnew york\nw4 w5 w6\n")
    assert main(["search", "-v", phrase_model["phrases"], "--docs", str(docs), "new york",
                 "-n", "1", "--pooling", "mean", "-q"]) == 0
    rank, score, line, text = capsys.readouterr().out.strip().split("\t")
    assert (rank, line, text) == ("1", "2", "new york") and float(score) == pytest.approx(1.0)
    index = tmp_path / "docs.idx"  # an index keeps the pooling, phrases included
    assert main(["index", "-v", phrase_model["phrases"], str(docs), "-o", str(index),
                 "--pooling", "mean", "-q"]) == 0
    assert main(["search", "--index", str(index), "new york", "-n", "1", "-q"]) == 0
    assert capsys.readouterr().out.split("\t")[2] == "2"


def test_a_saved_pooling_keeps_the_phrases(phrase_model, tmp_path):
    from w2v.documents.pooling import load_pooling

    text = tmp_path / "q.txt"
    text.write_text("new york\nw1 w2\n")
    pooling = tmp_path / "p.npz"
    first, again = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["embed", "-v", phrase_model["phrases"], str(text), "-o", str(first),
                 "--save-pooling", str(pooling), "-q"]) == 0
    assert load_pooling(pooling).phrases["tables"] == [["new_york"]]
    assert main(["embed", "-v", phrase_model["vectors"], str(text), "-o", str(again),
                 "--read-pooling", str(pooling), "-q"]) == 0
    assert np.array_equal(np.load(first), np.load(again))


def test_a_pooling_with_phrases_is_format_2_which_older_readers_refuse(phrase_model,
                                                                       tmp_path):
    """Format 1 readers accept only format 1: a pooling that joins phrases must not pass for
    one, or they would embed the text unjoined. Without phrases a pooling stays format 1."""
    from w2v.documents.pooling import load_pooling
    from w2v.errors import InputError

    text = tmp_path / "q.txt"
    text.write_text("new york\nw1 w2\n")
    for source, form in (("phrases", "w2v-pooling-2"), ("plain", "w2v-pooling-1")):
        pooling = tmp_path / f"{source}.npz"
        assert main(["embed", "-v", phrase_model[source], str(text), "-o",
                     str(tmp_path / "e.npy"), "--save-pooling", str(pooling), "-q"]) == 0
        with np.load(pooling) as data:
            assert str(data["format"]) == form
            arrays = dict(data)
    arrays["format"] = np.array("w2v-pooling-5")
    np.savez(tmp_path / "newer.npz", **arrays)
    with pytest.raises(InputError, match="pooling format 5 is newer .* upgrade w2v"):
        load_pooling(tmp_path / "newer.npz")


def test_a_model_without_phrases_embeds_as_before(phrase_model, tmp_path):
    from w2v.documents.embed import embed
    from w2v.files.formats import load_vectors

    wv = load_vectors(phrase_model["plain"])
    text = tmp_path / "q.txt"
    text.write_text("new york\n")
    out, pooling = tmp_path / "q.npy", tmp_path / "p.npz"
    assert main(["embed", "-v", phrase_model["plain"], str(text), "-o", str(out),
                 "--pooling", "mean", "--save-pooling", str(pooling), "-q"]) == 0
    expected = (wv["new"].astype(np.float64) + wv["york"]) / 2
    assert np.allclose(np.load(out)[0], expected, atol=1e-6)
    with np.load(pooling) as saved:
        assert "phrases" not in saved.files  # the pooling file is as it was
    assert np.array_equal(embed(wv, ["new york"], "mean").vectors, np.load(out))


def test_phrases_file_gives_plain_vectors_the_table(phrase_model, tmp_path, capsys):
    table = tmp_path / "t.tsv"
    run_phrases([phrase_model["corpus"]], str(tmp_path / "joined.txt"), thresholds=[50],
                save_phrases=str(table))
    text = tmp_path / "q.txt"
    text.write_text("new york\n")
    out = tmp_path / "q.npy"
    args = ["embed", "-v", phrase_model["vectors"], str(text), "-o", str(out), "--pooling",
            "mean", "-q"]
    assert main(args) == 0
    assert not np.load(out).any()  # a vector file records no phrases: new, york unknown
    assert main([*args, "--phrases-file", str(table)]) == 0
    from w2v.files.formats import load_vectors

    assert np.array_equal(np.load(out)[0], load_vectors(phrase_model["vectors"])["new_york"])
    capsys.readouterr()
    code = main([*args, "--phrases-file", str(tmp_path / "missing.tsv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and err[0].startswith("w2v: error: cannot read"), err
    code = main([*args, "--read-pooling", str(tmp_path / "p.npz"), "--phrases-file", str(table)])
    assert code == 2 and "--phrases-file" in capsys.readouterr().err


def test_python_joiner_equals_phrases_apply(tmp_path):
    """PhraseJoiner (plain Python, for embed and search) joins exactly what the kernels join:
    two passes with connector words over the start of the bundled sample."""
    from w2v.corpus.phrase_tables import PhraseJoiner, phrase_spec, read_phrases

    with lzma.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = [next(f) for _ in range(3000)]
    lines += ["bank of america\n"] * 4 + ["of the bank of the america\n", "bank of the of a b\n"]
    source = tmp_path / "in.txt"
    source.write_text("".join(lines), encoding="utf-8")
    table, out = tmp_path / "t.tsv", tmp_path / "out.txt"
    run_phrases([str(source)], str(out), thresholds=[5, 5], passes=2, min_count=2,
                connectors=ENGLISH_CONNECTORS, save_phrases=str(table))
    joiner = PhraseJoiner(phrase_spec(read_phrases(table), connectors=ENGLISH_CONNECTORS))
    expected = out.read_text(encoding="utf-8").splitlines()
    assert sum(len(t) for t in joiner.tables) > 100
    assert [" ".join(joiner.join(line.split())) for line in lines] == expected


def test_embed_and_search_with_phrases_do_not_import_numba(phrase_model, tmp_path):
    docs = tmp_path / "docs.txt"
    docs.write_text("w1 w2\nnew york\n")
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['embed', '-v', {phrase_model['phrases']!r}, {str(docs)!r}, '-o', "
        f"{str(tmp_path / 'd.npy')!r}, '-q']) == 0\n"
        f"assert main(['search', '-v', {phrase_model['phrases']!r}, '--docs', {str(docs)!r}, "
        "'new york', '-q']) == 0\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- threads, start


def test_threads_and_small_pieces_change_nothing(tmp_path, monkeypatch):
    """Splitting in groups with stores of their own, counting, joining and writing in chunks
    of lines, in threads: the same ids, words, text and tables as in one piece."""
    import w2v.corpus.phrases as phrases
    from w2v.text.tokenize import WordStore

    corpus = planted_corpus(tmp_path / "c.txt")
    with open(corpus, "ab") as f:
        f.write("\n\n  \nnew york w1\nbank of america w2\n".encode() * 3 + b"new york")
    raw = open(corpus, "rb").read()
    store = WordStore()
    whole_ids, _ = store.tokenize(raw + b"\n")
    outputs = []
    for n_workers, small in ((1, False), (3, True), (2, True), (1, True)):
        monkeypatch.setattr(phrases, "workers", lambda threads=None, n=n_workers: n)
        if small:
            monkeypatch.setattr(phrases, "GROUP_BYTES", 100)
            monkeypatch.setattr(phrases, "WORK_TOKENS", 7)
        text = read_text(corpus)
        assert text.store.words() == store.words() and np.array_equal(text.ids, whole_ids)
        out = tmp_path / f"out{n_workers}{small}.txt"
        tables = run_phrases([corpus], str(out), min_count=2, thresholds=[1, 1], passes=2,
                             connectors=ENGLISH_CONNECTORS, memory_gb=1e-5 if small else None)
        outputs.append((out.read_bytes(), [[p.text for p in t] for t in tables]))
    assert all(o == outputs[0] for o in outputs) and b"new_york" in outputs[0][0]


def test_phrases_never_import_scipy_and_numba_blas_still_works(tmp_path):
    """numba's first kernel imports scipy.linalg to test for BLAS; `w2v phrases` answers
    that with a stand-in, and a later np.dot in a kernel still gets SciPy's BLAS."""
    path = tmp_path / "in.txt"
    path.write_text(TOY)
    script = (
        "import sys\n"
        "from w2v.cli import main\n"
        f"assert main(['phrases', {str(path)!r}, '-o', {str(tmp_path / 'out.txt')!r}]) == 0\n"
        "assert not [m for m in sys.modules if m.startswith('scipy.linalg')], 'scipy.linalg'\n"
        "import numpy as np\n"
        "from numba import njit\n"
        "dot = njit(lambda a, b: np.dot(a, b))\n"
        "a = np.arange(6.0).reshape(2, 3)\n"
        "assert np.allclose(dot(a, a.T), a @ a.T)\n"
        "assert 'scipy.linalg.cython_blas' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_words_too_frequent_for_any_phrase_are_not_counted_and_change_nothing(
        tmp_path, monkeypatch):
    """word2phrase's score is at most N / max(count(a), count(b)): pairs with a word seen
    more than N / threshold times are skipped, and the phrases are those found without."""
    import w2v.corpus.phrases as phrases

    with lzma.open(SAMPLE, "rt", encoding="utf-8") as f:
        lines = [next(f) for _ in range(2000)]
    path = tmp_path / "in.txt"
    path.write_text("".join(lines) + "a b\n" * 30, encoding="utf-8")
    text = read_text(str(path))
    assert phrases._most_for("word2phrase", 100, 5, text.n_tokens) < text.n_tokens
    cases = [(t, m) for t in (0.5, 20, 100, 1000) for m in (0, 1, 5)]
    bounded = [find_phrases(text, threshold=t, min_count=m) for t, m in cases]
    monkeypatch.setattr(phrases, "_most_for", lambda *args: None)
    unbounded = [find_phrases(text, threshold=t, min_count=m) for t, m in cases]
    assert bounded == unbounded and all(bounded)
