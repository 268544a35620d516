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


# --------------------------------------------------------------------------- model headers


@pytest.fixture(scope="module")
def model(text, tmp_path_factory):
    """A small word2vec model file trained on `text` with its corpus recorded."""
    from w2v.cli import main

    where = tmp_path_factory.mktemp("model")
    path = where / "m.w2v"
    assert main(["train", text, "--dim", "4", "--epochs", "1", "--min-count", "1",
                 "--threads", "1", "-q", "-o", str(where / "m.bin"),
                 "--save-model", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def glove_model(text, tmp_path_factory):
    from w2v.cli import main

    where = tmp_path_factory.mktemp("glove")
    path = where / "g.w2v"
    assert main(["glove", text, "--dim", "4", "--epochs", "1", "--min-count", "1",
                 "--threads", "1", "-q", "-o", str(where / "g.bin"),
                 "--save-model", str(path)]) == 0
    return path


def rewrite_model(source, target, header_changes=None, counts=None):
    """Copy the model file `source` to `target` with its JSON header updated by
    `header_changes` and, if given, other word counts."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(bytes(np.load(io.BytesIO(members["header.npy"]))).decode())
    header.update(header_changes or {})
    arrays = {"header.npy": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}
    if counts is not None:
        arrays["counts.npy"] = np.asarray(counts, dtype=np.int64)
    for name, array in arrays.items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, array)
        members[name] = buffer.getvalue()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(target)


def header_of(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(bytes(np.load(io.BytesIO(archive.read("header.npy")))).decode())


DAMAGED_HEADERS = [
    ({"train_seconds": "abc"}, "train_seconds"),
    ({"position": {"epoch": "x"}}, "position epoch"),
    ({"position": [1, 2]}, "position"),
    ({"corpus": "abc"}, "corpus"),
    ({"corpus": {"tokens": "many", "sentences": 1}}, "corpus tokens"),
    ({"losses": "abc"}, "losses"),
    ({"losses": [{"x": 1}, 5]}, "losses"),
    ({"config": [1, 2]}, "config"),
]


@pytest.mark.parametrize("changes, fragment", DAMAGED_HEADERS)
@pytest.mark.parametrize("how", ["--resume", "--init-model"])
def test_training_on_from_a_damaged_header_is_one_line(changes, fragment, how, model, text,
                                                        tmp_path, capsys, monkeypatch):
    damaged = rewrite_model(model, tmp_path / "bad.w2v", changes)

    def no_reading(*args, **kwargs):
        raise AssertionError("the corpus was read before the model's header was checked")

    monkeypatch.setattr("w2v.word2vec.model.load_corpus", no_reading)
    code, _, err = run_main(["train", text, how, damaged, "-o", str(tmp_path / "v.bin")],
                            capsys)
    assert code == 1
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("changes, fragment", DAMAGED_HEADERS[:4])
def test_glove_resume_from_a_damaged_header_is_one_line(changes, fragment, glove_model,
                                                         tmp_path, capsys):
    damaged = rewrite_model(glove_model, tmp_path / "bad.w2v", changes)
    code, _, err = run_main(["glove", "--resume", damaged, "-o", str(tmp_path / "v.bin")],
                            capsys)
    assert code == 1
    assert_one_line_error(err, fragment)


@pytest.mark.parametrize("counts", ["negative", "zero"])
def test_training_on_from_damaged_counts_is_refused(counts, model, text, tmp_path, capsys):
    n = len(np.load(model)["counts"])
    bad = -np.arange(1, n + 1) if counts == "negative" else np.zeros(n)
    damaged = rewrite_model(model, tmp_path / "bad.w2v", counts=bad)
    code, _, err = run_main(["train", text, "--init-model", damaged, "-o",
                             str(tmp_path / "v.bin")], capsys)
    assert code == 1
    assert_one_line_error(err, "word counts are damaged")


def test_a_sound_header_still_resumes(model, text, tmp_path, capsys):
    copy = rewrite_model(model, tmp_path / "same.w2v")
    code, _, err = run_main(["train", "--resume", copy, "-o", str(tmp_path / "v.bin")], capsys)
    assert code == 0, err


@pytest.mark.parametrize("changes, fragment", DAMAGED_HEADERS)
@pytest.mark.parametrize("as_json", [False, True])
def test_info_on_a_damaged_header_is_one_line(changes, fragment, as_json, model, tmp_path,
                                               capsys):
    damaged = rewrite_model(model, tmp_path / "bad.w2v", changes)
    code, out, err = run_main(["info", damaged] + (["--json"] if as_json else []), capsys)
    assert code == 1 and out == ""
    assert_one_line_error(err, fragment)


def test_info_still_describes_a_model(model, glove_model, capsys):
    for path in (model, glove_model):
        code, out, err = run_main(["info", str(path)], capsys)
        assert code == 0, err
        assert "loss per epoch:" in out and "training time:" in out


# --------------------------------------------------------------------------- messages


def test_the_resume_command_is_quoted_for_the_shell():
    import logging
    import shlex

    from w2v.cli.options import warn_resume_command

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    log = logging.getLogger("w2v")
    log.addHandler(handler)
    try:
        warn_resume_command("train", "my model's file.w2v",
                            [("-o", "out put.bin"), ("--loss-log", None)])
    finally:
        log.removeHandler(handler)
    command = records[0].getMessage().split("resume with: ", 1)[1]
    assert shlex.split(command) == ["w2v", "train", "--resume", "my model's file.w2v",
                                    "-o", "out put.bin"]


def test_search_names_the_vectors_an_index_was_made_with(text, tmp_path, capsys,
                                                         monkeypatch):
    vectors = tmp_path / "my vectors.txt"
    vectors.write_text("3 2\nw1 1 0\nw2 0 1\nw3 1 1\n")
    index = str(tmp_path / "m.idx")
    assert run_main(["index", text, "-v", str(vectors), "-o", index, "-q"], capsys)[0] == 0
    vectors.unlink()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("W2V_VECTORS", raising=False)
    code, _, err = run_main(["search", "--index", index, "w1"], capsys)
    assert code == 1
    assert_one_line_error(err, f"no vectors file {vectors} (the one {index} was made with)")


# --------------------------------------------------------------------------- newcomers


@pytest.mark.parametrize("value", ["[200, 100]", "150", '"200,100"'])
def test_phrase_threshold_takes_a_toml_array(value, text, tmp_path, capsys, monkeypatch):
    seen = {}

    def fake_prepare(corpus, config, **kwargs):
        seen["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr("w2v.word2vec.model.prepare", fake_prepare)
    config = tmp_path / "c.toml"
    config.write_text(f"phrases = 2\nphrase-threshold = {value}\n")
    with pytest.raises(SystemExit):
        run_main(["train", text, "--config", str(config), "-o", str(tmp_path / "v.bin")],
                 capsys)
    expected = {"[200, 100]": (200.0, 100.0), "150": (150.0,), '"200,100"': (200.0, 100.0)}
    assert seen["config"].phrase_threshold == expected[value]


@pytest.mark.parametrize("value", ["[true]", "[]", '"abc"'])
def test_a_bad_phrase_threshold_in_a_config_file_is_a_usage_error(value, text, tmp_path,
                                                                   capsys):
    config = tmp_path / "c.toml"
    config.write_text(f"phrases = 2\nphrase-threshold = {value}\n")
    code, _, err = run_main(["train", text, "--config", str(config)], capsys)
    assert code == 2
    assert_one_line_error(err, "phrase-threshold")


def test_config_keys_are_the_option_names(tmp_path, capsys):
    """A multi-valued option (evaluate --similarity) by its own name, as an array."""
    vectors = tmp_path / "v.txt"
    vectors.write_text("3 2\nw1 1 0\nw2 0 1\nw3 1 1\n")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("w1 w2 1\nw1 w3 5\nw2 w3 6\n")
    config = tmp_path / "c.toml"
    config.write_text(f'similarity = ["{pairs}", "{pairs}"]\n')
    code, out, err = run_main(["evaluate", str(vectors), "--config", str(config)], capsys)
    assert code == 0, err
    assert out.count(f"similarity: {pairs}") == 2


WORDS = ["the", "cat", "dog", "sat", "ran", "mat", "far", "red"]


@pytest.fixture
def plain(tmp_path):
    """A vector file without counts, a text of its words, and an STS file of them."""
    rng = np.random.default_rng(3)
    vectors = tmp_path / "plain.txt"
    vectors.write_text(f"{len(WORDS)} 4\n" + "".join(
        f"{w} {' '.join(f'{x:.3f}' for x in rng.normal(size=4))}\n" for w in WORDS))
    text = tmp_path / "docs.txt"
    text.write_text("".join(" ".join(rng.choice(WORDS, 5)) + "\n" for _ in range(12)))
    sts = tmp_path / "sts.txt"
    sts.write_text("".join(f"{i % 5}\t{' '.join(rng.choice(WORDS, 4))}\t"
                           f"{' '.join(rng.choice(WORDS, 4))}\n" for i in range(12)))
    return str(vectors), str(text), str(sts)


@pytest.mark.parametrize("kind", ["sif", "usif"])
@pytest.mark.parametrize("command", ["embed", "index", "search", "evaluate"])
def test_sif_and_usif_by_name_estimate_counts_on_plain_vectors(kind, command, plain, tmp_path,
                                                               capsys):
    vectors, text, sts = plain
    args = {"embed": ["embed", text, "-v", vectors, "-o", str(tmp_path / "d.npy")],
            "index": ["index", text, "-v", vectors, "-o", str(tmp_path / "d.idx")],
            "search": ["search", "-v", vectors, "--docs", text, "cat sat"],
            "evaluate": ["evaluate", vectors, "--sts", sts]}[command]
    code, out, err = run_main([*args, "--pooling", kind], capsys)
    assert code == 0, err
    assert "estimated from each word's rank by Zipf's law" in err
    if command == "evaluate":
        assert f"  {kind} " in out


def test_auto_pooling_on_plain_vectors_stays_mean(plain, tmp_path, capsys):
    vectors, text, _ = plain
    code, _, err = run_main(["embed", text, "-v", vectors, "-o", str(tmp_path / "d.npy")],
                            capsys)
    assert code == 0 and "Zipf" not in err and "pooling: mean" in err


def test_info_describes_an_index_a_pooling_and_a_count_file(plain, text, tmp_path, capsys):
    vectors, docs, _ = plain
    index, pooling, counts = (str(tmp_path / name) for name in ("d.idx", "p.npz", "c.npz"))
    assert run_main(["index", docs, "-v", vectors, "-o", index, "-q"], capsys)[0] == 0
    assert run_main(["embed", docs, "-v", vectors, "-o", str(tmp_path / "d.npy"),
                     "--save-pooling", pooling, "-q"], capsys)[0] == 0
    assert run_main(["cooccur", text, "--min-count", "1", "-o", counts, "-q"], capsys)[0] == 0
    expected = {index: ("document index", "w2v-docindex 2", {"documents": 12, "dim": 4}),
                pooling: ("pooling", "w2v-pooling-1", {"pooling": "mean", "words": 8}),
                counts: ("co-occurrence counts", "w2v-cooccur 1", {"words": 30, "window": 10})}
    for path, (kind, version, sizes) in expected.items():
        code, out, err = run_main(["info", path], capsys)
        assert code == 0, err
        assert out.startswith(f"{path}: w2v {kind} ({version})\n")
        code, out, err = run_main(["info", path, "--json"], capsys)
        facts = json.loads(out)
        assert code == 0 and facts["kind"] == kind and facts["format"] == version
        assert sizes.items() <= facts.items()


def test_info_on_a_foreign_zip_is_still_one_line(tmp_path, capsys):
    path = tmp_path / "x.npz"
    np.savez(path, a=np.zeros(3))
    code, _, err = run_main(["info", str(path)], capsys)
    assert code == 1
    assert_one_line_error(err, "not a w2v model")
