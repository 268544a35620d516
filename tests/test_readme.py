"""README's quick start: a whole set-up on a fresh machine, and the test line CI runs."""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def quick_start():
    readme = ROOT / "README.md"
    if not readme.is_file():
        pytest.skip("not run from a checkout")
    block = readme.read_text().split("## Quick start", 1)[1].split("```sh\n", 1)[1]
    return block.split("```", 1)[0].splitlines()


def test_quick_start_makes_and_activates_a_virtual_environment_first():
    setup, _ = quick_start()
    assert setup.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install . ")


def test_ci_runs_the_readme_test_command_verbatim():
    _, test_line = quick_start()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_line in ci
