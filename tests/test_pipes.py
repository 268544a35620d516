"""A reader that closes the pipe early (`| head -1`) ends w2v quietly with exit status 0."""

import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest

from w2v.files.formats import save_vectors
from w2v.vectors.word_vectors import WordVectors

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("head") is None,
                                reason="needs bash and head")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Outputs far larger than a pipe's buffer, so the writer outlives `head`."""
    directory = tmp_path_factory.mktemp("pipes")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(20000)]
    save_vectors(WordVectors(words, rng.standard_normal((20000, 10)).astype(np.float32)),
                 directory / "big.bin")
    lines = [" ".join(rng.choice(words[:3000], 50)) for _ in range(2000)]
    (directory / "corpus.txt").write_text("\n".join(lines) + "\n")
    return directory


@pytest.mark.parametrize("args, reader", [
    ("convert big.bin -o -", "head -1"),
    ("convert big.bin -o /dev/fd/1", "head -1"),  # written in place, EPIPE on stdout all the same
    ("evaluate big.bin", "true"),  # a short report: the reader must be gone before it
    ("similar -n 13000 w1 -v big.bin", "head -1"),
    ("analogy -n 13000 w1 w2 w3 -v big.bin --json", "head -1"),
    ("train corpus.txt --min-count 1 --epochs 1 --dim 50 -q -o -", "head -1"),
])
def test_reader_closing_early_is_not_an_error(args, reader, files):
    w2v = f"{shlex.quote(sys.executable)} -m w2v.cli {args}"
    result = subprocess.run(["bash", "-o", "pipefail", "-c",
                             f'{w2v} | {reader} > /dev/null; echo "${{PIPESTATUS[0]}}"'],
                            cwd=files, capture_output=True, text=True)
    assert result.stdout == "0\n" and result.stderr == ""
