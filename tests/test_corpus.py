"""The corpus pass: one read of plain or compressed files (or stdin) gives ids, counts, sentences."""

import bz2
import gzip
import lzma
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import w2v.text.token_ids as corpus_module
from w2v.corpus.corpus import count_corpus, load_corpus, scan_corpus
from w2v.errors import InputError, VocabularyError
from w2v.text.tokenize import WordStore

TEXT = (
    "the cat sat on the mat\n"
    "\n"
    "the dog sat on the log\n"
    "a cat and a dog\n"
    "zebra\n"
)


def write(path, text, opener=open):
    with opener(path, "wb") as f:
        f.write(text.encode("utf-8"))
    return str(path)


def as_tuple(corpus):
    return (corpus.vocab.words, corpus.vocab.counts.tolist(), corpus.ids.tolist(),
            corpus.offsets.tolist())


def test_counts_ids_and_sentences(tmp_path):
    corpus = load_corpus(write(tmp_path / "c.txt", TEXT), min_count=1)
    words = corpus.vocab.words
    # descending count, ties by first occurrence
    assert words == ["the", "cat", "sat", "on", "dog", "a", "mat", "log", "and", "zebra"]
    assert corpus.vocab.counts.tolist() == [4, 2, 2, 2, 2, 2, 1, 1, 1, 1]
    decoded = [[words[i] for i in corpus.ids[a:b]]
               for a, b in zip(corpus.offsets[:-1], corpus.offsets[1:])]
    assert decoded == [line.split() for line in TEXT.splitlines() if line.strip()]
    assert corpus.n_raw_tokens == 18 and corpus.ids.dtype == np.uint32


def test_min_count_drops_words_and_empty_sentences(tmp_path):
    corpus = load_corpus(write(tmp_path / "c.txt", TEXT), min_count=2)
    words = corpus.vocab.words
    assert "zebra" not in corpus.vocab and "mat" not in corpus.vocab
    decoded = [[words[i] for i in corpus.ids[a:b]]
               for a, b in zip(corpus.offsets[:-1], corpus.offsets[1:])]
    # pruned words are removed inside sentences; the 'zebra' line disappears
    assert decoded == [["the", "cat", "sat", "on", "the"], ["the", "dog", "sat", "on", "the"],
                       ["a", "cat", "a", "dog"]]
    assert corpus.n_raw_tokens == 18 and corpus.n_tokens == 14


def test_max_vocab_keeps_most_frequent(tmp_path):
    corpus = load_corpus(write(tmp_path / "c.txt", TEXT), min_count=1, max_vocab=3)
    assert corpus.vocab.words == ["the", "cat", "sat"]


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".bz2", bz2.open),
                                           (".xz", lzma.open)])
def test_compressed_files_match_plain(tmp_path, suffix, opener):
    plain = load_corpus(write(tmp_path / "c.txt", TEXT * 50), min_count=1)
    packed = load_corpus(write(tmp_path / f"c.txt{suffix}", TEXT * 50, opener), min_count=1)
    assert as_tuple(packed) == as_tuple(plain)


@pytest.mark.parametrize("opener", [open, gzip.open, bz2.open, lzma.open])
def test_stdin_matches_file(tmp_path, opener):
    """'-' reads stdin, compressed streams recognised by their magic bytes."""
    path = write(tmp_path / "c.bin", TEXT * 20, opener)
    plain = load_corpus(write(tmp_path / "c.txt", TEXT * 20), min_count=1)
    with open(path, "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "w2v.cli", "vocab", "-", "--min-count", "1"],
                                stdin=stdin, capture_output=True, check=True)
    lines = result.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == plain.vocab.words
    assert [int(line.split()[1]) for line in lines] == plain.vocab.counts.tolist()


def test_globs_and_several_files_in_order(tmp_path):
    write(tmp_path / "b.txt", "two two\n")
    write(tmp_path / "a.txt", "one\n")
    corpus = load_corpus([str(tmp_path / "*.txt")], min_count=1)
    assert [corpus.vocab.words[i] for i in corpus.ids] == ["one", "two", "two"]


def test_long_lines_are_cut(tmp_path):
    corpus = load_corpus(write(tmp_path / "c.txt", " ".join(["w"] * 25) + "\nw w\n"),
                         min_count=1, max_sentence_length=10)
    assert np.diff(corpus.offsets).tolist() == [10, 10, 5, 2]


def test_lowercase(tmp_path):
    corpus = load_corpus(write(tmp_path / "c.txt", "The the THE\n"), min_count=1, lowercase=True)
    assert corpus.vocab.words == ["the"] and corpus.vocab.counts.tolist() == [3]


def test_spilled_ids_equal_in_memory(tmp_path):
    path = write(tmp_path / "c.txt", TEXT * 3000)
    in_memory = load_corpus(path, min_count=2)
    spilled = load_corpus(path, min_count=2, spill_bytes=1024)
    assert isinstance(spilled.ids.base, np.memmap) or isinstance(spilled.ids, np.memmap)
    assert as_tuple(spilled) == as_tuple(in_memory)


@pytest.mark.parametrize("spill_bytes", [1 << 30, 200])
def test_small_pieces_equal_one_piece(tmp_path, monkeypatch, spill_bytes):
    """Ids kept in many pieces (sentences across piece and step boundaries, pruned words,
    spilling midway) give the same corpus as one piece."""
    rng = np.random.default_rng(3)
    lines = [" ".join(f"w{min(int(rng.zipf(1.5)), 60)}" for _ in range(int(rng.integers(1, 30))))
             for _ in range(300)]
    path = write(tmp_path / "c.txt", "\n".join(lines) + "\n")
    whole = load_corpus(path, min_count=3)
    monkeypatch.setattr(corpus_module, "PIECE_TOKENS", 37)
    pieces = load_corpus(path, min_count=3, spill_bytes=spill_bytes)
    assert as_tuple(pieces) == as_tuple(whole)
    assert pieces.n_raw_tokens == whole.n_raw_tokens == sum(len(line.split()) for line in lines)


def test_count_corpus_keeps_no_ids_and_counts_like_load_corpus(tmp_path, monkeypatch):
    path = write(tmp_path / "c.txt", TEXT * 40)
    loaded = load_corpus(path, min_count=2, max_vocab=6)
    monkeypatch.setattr(corpus_module, "PIECE_TOKENS", 7)  # would fill many pieces
    passes = []
    original = corpus_module.TokenIds.finish

    def spy(self, n_words):
        passes.append(self)
        return original(self, n_words)

    monkeypatch.setattr(corpus_module.TokenIds, "finish", spy)
    counts = count_corpus(path)
    assert len(passes) == 1 and passes[0].pieces == [] and passes[0].file is None
    assert counts.n_raw_tokens == loaded.n_raw_tokens
    assert counts.words[:3] == ["the", "cat", "sat"]  # first-occurrence order
    vocab = counts.vocab(min_count=2, max_vocab=6)
    assert vocab.words == loaded.vocab.words
    assert vocab.counts.tolist() == loaded.vocab.counts.tolist()
    with pytest.raises(VocabularyError, match="min-count"):
        counts.vocab(min_count=1000)


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"caf\xe9 ok\nok ok " + "é".encode() + b"\n")
    corpus = load_corpus(str(path), min_count=1)
    assert corpus.invalid_bytes == 1
    assert set(corpus.vocab.words) == {"caf\ufffd", "ok", "é"}


def test_scan_keeps_first_occurrence_order(tmp_path):
    words, ids, lengths, invalid = scan_corpus(write(tmp_path / "c.txt", "b a b\nc\n"))
    assert words == ["b", "a", "c"] and ids.tolist() == [0, 1, 0, 2]
    assert lengths.tolist() == [3, 1] and invalid == 0


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_corpus(str(tmp_path / "nope.txt"))


def test_directory(tmp_path):
    with pytest.raises(InputError, match="directory"):
        load_corpus(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path / "c.txt", TEXT)
    os.chmod(path, 0)
    with pytest.raises(InputError, match="cannot read"):
        load_corpus(path)


def test_empty_corpus(tmp_path):
    with pytest.raises(InputError, match="empty"):
        load_corpus(write(tmp_path / "c.txt", "\n  \n"))


def test_min_count_empties_vocabulary(tmp_path):
    with pytest.raises(VocabularyError, match="min-count"):
        load_corpus(write(tmp_path / "c.txt", TEXT), min_count=100)


def test_binary_garbage(tmp_path):
    path = tmp_path / "c.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="binary|UTF-8"):
        load_corpus(str(path))


def test_corrupt_compressed_file(tmp_path):
    path = tmp_path / "c.txt.gz"
    path.write_bytes(gzip.compress(TEXT.encode() * 100)[:60])
    with pytest.raises(InputError, match="cannot read"):
        load_corpus(str(path), min_count=1)


def test_unreadable_file_even_as_root(tmp_path, monkeypatch):
    path = write(tmp_path / "c.txt", TEXT)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr("w2v.text.sources.open", refuse, raising=False)
    with pytest.raises(InputError, match="cannot read .*Permission denied"):
        load_corpus(path)


# Every character str.split() splits on, near misses (U+200B, U+2030, U+2080 share lead
# bytes with spaces but are not spaces), and letters of every UTF-8 length.
ALPHABET = (" \t\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
            "\u200b\u2030\u2080\u00e9\u5b57\U0001f600abcxyz\n")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=120), max_size=4))
def test_tokenizer_splits_exactly_like_str_split(blocks):
    store = WordStore(n_slots=2)  # tiny, so the table is rehashed many times
    tokens, lengths = [], []
    for text in blocks:
        ids, line_lengths = store.tokenize((text + "\n").encode("utf-8"))
        words = store.words()
        tokens += [words[i] for i in ids]
        lengths += line_lengths.tolist()
    lines = [line.split() for text in blocks for line in (text + "\n").split("\n")]
    assert tokens == [token for line in lines for token in line]
    assert lengths == [len(line) for line in lines if line]
    words = store.words()
    assert len(set(words)) == len(words) and words == list(dict.fromkeys(tokens))


def test_reader_thread_stops_when_the_pass_fails(tmp_path):
    import threading

    path = tmp_path / "binary.bin.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"\x00\x01binary\n" * 2_000_000)  # many blocks, refused at the first
    with pytest.raises(InputError, match="binary"):
        load_corpus([str(path)])
    assert not [t for t in threading.enumerate() if t.name == "w2v-reader"]


def test_read_errors_in_the_reader_thread_reach_the_caller(tmp_path):
    path = tmp_path / "cut.txt.gz"
    data = gzip.compress(b"the cat sat on the mat\n" * 200_000)
    path.write_bytes(data[: len(data) // 2])  # truncated: fails midway through
    with pytest.raises(InputError, match="cannot read"):
        load_corpus([str(path)], min_count=1)
