"""Files from strangers, fuzzed: every kind of file w2v reads, mutated, gives a correct answer
or one `w2v: error:` line with exit code 1 or 2, never a traceback, within bounded memory.

A short, deterministic slice of `benchmarks/fuzz_readers.py` (which runs it long); the seed
files are built once per session. Then the cases the fuzzer's readers were fixed for.
"""

import importlib.util
import os
import random

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings, strategies as st  # noqa: E402

from cli_helpers import assert_one_line_error, run_main  # noqa: E402
from w2v.corpus.phrase_tables import PhraseJoiner, phrase_spec, read_phrases  # noqa: E402
from w2v.corpus.vocab import read_vocab  # noqa: E402
from w2v.errors import InputError  # noqa: E402
from w2v.files.formats import MAX_LINE_BYTES, load_vectors  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "fuzz_readers", os.path.join(os.path.dirname(__file__), "..", "benchmarks",
                                 "fuzz_readers.py"))
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

CASES_PER_KIND = 20


@pytest.fixture(scope="module")  # it traces allocations: not past this module
def fuzzer(tmp_path_factory):
    f = fuzz.Fuzzer(str(tmp_path_factory.mktemp("fuzz-seeds")))
    yield f
    f.close()


# A mutated training config trains, and on a cold kernel cache each kernel it picks is
# compiled first (tens of seconds): that kind runs in the long run only
# (`benchmarks/fuzz_readers.py`); `config` fuzzes the same reader here.
SHORT_RUN_KINDS = [kind for kind in fuzz.KINDS if kind != "train-config"]


@pytest.mark.parametrize("kind", SHORT_RUN_KINDS)
def test_a_mutated_file_gives_an_answer_or_one_error_line(fuzzer, kind, monkeypatch):
    # Time is not what is checked here (a first run may compile); the long run checks it.
    monkeypatch.setattr(fuzz, "SLOW_SECONDS", 900.0)
    @settings(max_examples=CASES_PER_KIND, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(rng=st.randoms(use_true_random=False))
    def case(rng):
        failure = fuzzer.case(kind, rng)
        assert failure is None, (f"{failure.signature}\n{failure.detail}\nmutation: "
                                 f"{failure.mutation}\nw2v {' '.join(failure.args)}")

    case()


def test_the_seeds_read_cleanly(fuzzer):
    for kind in fuzz.KINDS:
        assert fuzz.run_case(kind, fuzzer.seeds[kind], "none", fuzzer.folder,
                             random.Random(0), fuzzer.baseline[kind]) is None, kind


# --------------------------------------------------------------------------- vector files


def test_an_endless_first_line_is_refused_after_a_bounded_read(tmp_path, capsys):
    path = tmp_path / "zeros.txt"
    path.write_bytes(b"\x00" * (MAX_LINE_BYTES + 10))
    with pytest.raises(InputError, match="longer than"):
        load_vectors(path)
    code, out, err = run_main(["similar", "a", "-v", str(path)], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, "line 1 is longer than")


def test_an_endless_vector_line_is_refused_in_bounded_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "v.txt"
    path.write_bytes(b"2 3\na 1 2 3\nb " + b"1" * (8 << 20))
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]  # what earlier code still holds
    try:
        with pytest.raises(InputError, match="line 3 is longer than"):
            load_vectors(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not tracing:
            tracemalloc.stop()
    assert peak - before < 48 << 20


@pytest.mark.filterwarnings("error")
def test_text_vectors_read_across_blocks(tmp_path, monkeypatch):
    import w2v.files.formats as formats

    monkeypatch.setattr(formats, "TEXT_BLOCK_BYTES", 7)
    path = tmp_path / "v.txt"
    path.write_text("3 2\nalpha 1 2\n\nbeta 3 4\ngamma 5 6")
    wv = load_vectors(path)
    assert wv.words == ["alpha", "beta", "gamma"] and wv.vectors.tolist()[2] == [5, 6]
    path.write_text("alpha 1 2\nbeta 3 4\n \t ")  # GloVe, a blank last line
    assert load_vectors(path).words == ["alpha", "beta"]
    path.write_text("2 2\nalpha 1 2\nbeta 3 4\ngamma 5 6\n")
    with pytest.raises(InputError, match="more vectors than the 2"):
        load_vectors(path)
    assert load_vectors(path, limit=2).words == ["alpha", "beta"]


# --------------------------------------------------------------------------- phrase files


def test_a_phrase_file_with_a_byte_order_mark_still_joins(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_bytes(b"\xef\xbb\xbfnew_york\t60\t12.5\n")
    tables = read_phrases(path)
    assert [p.text for p in tables[0]] == ["new_york"]
    joiner = PhraseJoiner(phrase_spec(tables))
    assert joiner.join(["in", "new", "york"]) == ["in", "new_york"]


@pytest.mark.parametrize("phrase", ["new york", "new\x00york", "new\x0byork", "_york",
                                    "new_", "new__york", "newyork"])
def test_a_phrase_no_text_could_hold_is_refused_in_one_line(tmp_path, capsys, phrase):
    path = tmp_path / "p.tsv"
    path.write_text(f"{phrase}\t3\t1.5\n", encoding="utf-8")
    with pytest.raises(InputError, match="phrase"):
        phrase_spec(read_phrases(path, delimiter="_"))
    with pytest.raises(InputError, match="phrase"):
        phrase_spec(read_phrases(path))
    docs = tmp_path / "docs.txt"
    docs.write_text("new york\n")
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 2\nnew 1 0\nyork 0 1\n")
    code, out, err = run_main(["embed", str(docs), "-v", str(vectors), "--phrases-file",
                               str(path), "-o", str(tmp_path / "e.npy"), "-q"], capsys)
    assert code == 1
    assert_one_line_error(err, "phrase")


@pytest.mark.parametrize("line", ["new_york\t-3\t1.5", "new_york\t3\tnan", "new_york\t3\tinf",
                                  "new_york\t\u0663\t1.5", "new_york\t3"])
def test_a_phrase_line_with_a_bad_count_or_score_is_refused(tmp_path, line):
    path = tmp_path / "p.tsv"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1"):
        read_phrases(path)


@pytest.mark.parametrize("record", [{"tables": 7}, {"tables": [[1, 2]]}, {"tables": [3]},
                                    {"tables": [["a_b"]], "connectors": 5},
                                    {"tables": [["a_b"]], "delimiter": None},
                                    {"tables": [[[[]]]]}])
def test_a_damaged_phrase_record_is_an_input_error(record):
    with pytest.raises(InputError):
        phrase_spec(record)


# --------------------------------------------------------------------------- vocabulary files


def test_a_vocabulary_with_a_byte_order_mark_reads_its_first_word(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"\xef\xbb\xbfcat 5\r\ndog 3\n")
    assert read_vocab(path).words == ["cat", "dog"]


def test_an_endless_vocabulary_line_is_refused(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"cat 5\n" + b"\x00" * (1 << 20))
    with pytest.raises(InputError, match="line 2: longer than"):
        read_vocab(path)


# --------------------------------------------------------------------------- WEAT tests files


@pytest.mark.parametrize("content", [b"\x7fELF\x02\x01\x01" + bytes(range(256)),
                                     b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n"])
def test_a_tests_file_that_is_no_toml_is_one_line(tmp_path, capsys, content):
    path = tmp_path / "t.toml"
    path.write_bytes(content)
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 2\nnew 1 0\nyork 0 1\n")
    code, out, err = run_main(["bias", "-v", str(vectors), "--tests-file", str(path)], capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, "not valid TOML")
