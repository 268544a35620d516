"""numba's cache lives outside the package: an uninstall strands nothing that breaks imports."""

import logging
import os
import shutil
import site
import subprocess
import sys

import pytest

from w2v.runtime import numba_cache as kernel_cache

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_user_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert kernel_cache.user_cache_dir() == str(tmp_path / "w2v" / "numba")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # ignored, as the spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert kernel_cache.user_cache_dir() == str(tmp_path / "home" / ".cache" / "w2v" / "numba")


def test_a_users_numba_cache_dir_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kernel_cache.use_user_cache() == str(tmp_path / "mine")
    assert not (tmp_path / "xdg").exists()


def test_an_unwritable_cache_falls_back_to_a_temporary_dir(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    path = kernel_cache.use_user_cache()
    assert path.startswith(str(tmp_path / "tmp")) and os.path.isdir(path)
    assert os.environ["NUMBA_CACHE_DIR"] == path


def _pip_install(python, *args, env):
    """pip install --no-deps, offline with the outer setuptools if it can build w2v."""
    base = [python, "-m", "pip", "install", "-q", "--no-deps", *args]
    result = subprocess.run([*base[:5], "--no-build-isolation", *base[5:]], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:  # e.g. a setuptools too old for this pyproject: isolate the build
        result = subprocess.run(base, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("pip cannot build w2v here: " + result.stderr.strip().splitlines()[-1])


def test_reinstalling_editable_after_a_run_still_imports(tmp_path):
    """The quick start: `pip install .`, a command that compiles a kernel, `pip install -e .`.

    numba used to cache into site-packages/w2v/__pycache__; the uninstall left it, and the
    folder shadowed the editable install as an empty namespace package.
    """
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(REPO, name), source)
    shutil.copytree(os.path.join(REPO, "w2v"), source / "w2v",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    inner = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    # numpy, numba, pip... from this interpreter's environment (its .pth files are not run)
    with open(os.path.join(inner, "outer.pth"), "w") as f:
        f.write("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "c.txt").write_text("a b c a b a\nc a\n")

    _pip_install(python, str(source), env=env)
    run = subprocess.run([str(venv / "bin" / "w2v"), "vocab", "c.txt", "--min-count", "1", "-q"],
                         cwd=elsewhere, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("a 4"), run.stderr
    cached = [name for _, _, names in os.walk(tmp_path) for name in names]  # wherever it went
    assert any(name.endswith(".nbi") for name in cached), "no kernel was compiled and cached"

    _pip_install(python, "-e", str(source), env=env)
    check = subprocess.run([python, "-c", "import w2v; w2v.load_corpus; print(w2v.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == str(source / "w2v" / "__init__.py")
    assert any(name.endswith(".nbi") for _, _, names in os.walk(tmp_path / "cache")
               for name in names)


def test_training_says_compiling_only_while_the_kernels_are_not_cached(tmp_path):
    from w2v.word2vec.model import train_word2vec

    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b a\nc a b\n" * 50)
    train_word2vec([str(corpus)], min_count=1, dim=4, epochs=1, threads=1)  # now cached
    log = logging.getLogger("w2v")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.INFO)
    try:
        train_word2vec([str(corpus)], min_count=1, dim=4, epochs=1, threads=1)
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    messages = [record.getMessage() for record in records]
    assert any(m.startswith("training sg") for m in messages), messages
    assert not any("compiling" in m for m in messages), messages


def test_numba_imported_before_w2v_is_pointed_at_the_cache_too(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    code = "import numba, w2v; print(numba.config.CACHE_DIR)"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "w2v" / "numba")
