"""Binary input is refused wherever its first NUL byte is, not only in the first block."""

import gzip
import subprocess
import sys

import pytest

from w2v.corpus.corpus import load_corpus
from w2v.text.sources import BLOCK_BYTES
from w2v.errors import InputError

LINE = b"the quick brown fox jumps over the lazy dog\n"


def text_with_nul(at_least):
    """Plain text past `at_least` bytes, then a line with a word holding a NUL."""
    head = LINE * (at_least // len(LINE) + 1)
    return head + b"the\x00word is here\n" + LINE * 10, len(head) + 3


@pytest.mark.parametrize("suffix, opener", [("", open), (".gz", gzip.open)])
def test_a_nul_after_two_megabytes_is_refused_with_its_offset(tmp_path, suffix, opener):
    data, offset = text_with_nul(2 * BLOCK_BYTES)
    path = tmp_path / f"late{suffix}"
    with opener(path, "wb") as f:
        f.write(data)
    with pytest.raises(InputError, match="binary") as error:
        load_corpus([str(path)], min_count=1)
    assert str(path) in str(error.value) and f"byte offset {offset}" in str(error.value)


def test_the_cli_says_so_in_one_line_and_writes_nothing(tmp_path):
    data, offset = text_with_nul(2 * BLOCK_BYTES + 12345)
    (tmp_path / "c.txt").write_bytes(data)
    out = tmp_path / "v.txt"
    result = subprocess.run([sys.executable, "-m", "w2v.cli", "vocab", str(tmp_path / "c.txt"),
                             "--min-count", "1", "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 1 and not out.exists()
    assert result.stderr.startswith("w2v: error: ") and result.stderr.count("\n") == 1
    assert f"NUL byte at byte offset {offset}" in result.stderr


def test_lowercase_reports_the_offset_in_the_input(tmp_path):
    data, offset = text_with_nul(3 * BLOCK_BYTES)
    prefix = "É ".encode("utf-8") + b"\xff\n"  # lowercasing and U+FFFD change byte counts
    (tmp_path / "c.txt").write_bytes(prefix + data)
    with pytest.raises(InputError, match=f"byte offset {offset + len(prefix)}"):
        load_corpus([str(tmp_path / "c.txt")], min_count=1, lowercase=True)
