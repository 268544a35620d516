"""Hostile or mistaken input to the commands: each gets one line on stderr and a non-zero
exit (2 for usage, 1 for input), never a traceback; and a few conveniences for newcomers."""

import io
import json
import zipfile

import numpy as np
import pytest

from cli_helpers import assert_one_line_error, run_main
from w2v.config import GloveConfig, SvdConfig, Word2VecConfig
from w2v.errors import OptionError

HUGE = "99999999999999999999"


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    rng = np.random.default_rng(7)
    lines = [" ".join(f"w{i}" for i in rng.integers(0, 30, 10)) for _ in range(300)]
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# --------------------------------------------------------------------------- size options


@pytest.mark.parametrize("args", [
    ["train", "--dim", HUGE], ["train", "--window", HUGE], ["train", "--negative", HUGE],
    ["train", "--epochs", HUGE], ["train", "--subwords", "--bucket", HUGE],
    ["train", "--maxn", HUGE], ["train", "--phrases", HUGE],
    ["glove", "--dim", HUGE], ["glove", "--window", HUGE], ["glove", "--epochs", HUGE],
    ["cooccur", "--window", HUGE], ["svd", "--dim", HUGE], ["svd", "--window", HUGE],
    ["svd", "--power-iterations", HUGE],
])
def test_size_options_have_upper_bounds(args, text, tmp_path, capsys):
    option = next(a for a in args[1:] if a.startswith("--") and a != "--subwords")
    out = str(tmp_path / ("c.npz" if args[0] == "cooccur" else "v.bin"))
    code, _, err = run_main([*args, text, "-o", out], capsys)
    assert code == 2
    assert_one_line_error(err, f"{option} must be at most")


@pytest.mark.parametrize("args", [
    ["cooccur", "--memory", "1e300"], ["phrases", "--memory", "inf"],
    ["phrases", "--passes", HUGE], ["vocab", "--dask", "--workers", HUGE],
])
def test_size_options_of_the_command_line_have_upper_bounds(args, text, tmp_path, capsys):
    code, _, err = run_main([*args, text, "-o", str(tmp_path / "out.npz")], capsys)
    assert code == 2
    assert_one_line_error(err, f"Invalid value for '{args[-2]}'")


def test_remove_pc_has_an_upper_bound(text, tmp_path, capsys):
    vectors = tmp_path / "v.txt"
    vectors.write_text("2 2\nw1 1 0\nw2 0 1\n")
    code, _, err = run_main(["index", text, "-v", str(vectors), "-o", str(tmp_path / "i.idx"),
                             "--remove-pc", HUGE], capsys)
    assert code == 2
    assert_one_line_error(err, "Invalid value for '--remove-pc'")


def test_size_bounds_hold_in_a_config_file_and_for_python_callers(text, tmp_path, capsys):
    config = tmp_path / "big.toml"
    config.write_text(f"dim = {HUGE}\n")
    code, _, err = run_main(["train", "--config", str(config), text, "-o",
                             str(tmp_path / "v.bin")], capsys)
    assert code == 2
    assert_one_line_error(err, "--dim must be at most")
    for record, name in [(Word2VecConfig, "bucket"), (GloveConfig, "window"),
                         (SvdConfig, "oversample")]:
        with pytest.raises(OptionError, match=f"--{name} must be at most"):
            record(**{name: 10 ** 20})


def test_a_binary_config_file_is_a_usage_error(text, tmp_path, capsys):
    binary = tmp_path / "ls"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\0" + bytes(range(256)))
    code, _, err = run_main(["train", "--config", str(binary), text], capsys)
    assert code == 2
    assert_one_line_error(err, "not a TOML file")
