"""Tests of asd_utils.utils: paths for commands and notebooks, argument types, output checks, determinism."""
from __future__ import annotations

import argparse

import pytest
import torch

from asd_utils import utils


def test_cli_paths_follow_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert utils.cli_path("out/x") == tmp_path / "out/x"


def test_repo_root_outside_any_repository_is_the_current_directory(tmp_path, monkeypatch):
    """An installed (non-editable) package must not resolve paths next to its own code."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(utils, "__file__", str(tmp_path / "site-packages/asd_utils/utils.py"))
    assert utils.repo_root() == tmp_path
    assert utils.resolve_path("data/cache") == tmp_path / "data/cache"


@pytest.mark.parametrize("text", ["-1", "x", "1.5"])
def test_non_negative_int_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError, match=f"expected a non-negative integer, got '{text}'"):
        utils.non_negative_int(text)
    assert utils.non_negative_int("0") == 0 and utils.positive_int("3") == 3


def test_writable_dir_names_the_flag_and_creates_nothing(tmp_path):
    target = tmp_path / "new/deeper"
    assert utils.writable_dir(target, "--out") == target and not (tmp_path / "new").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=r"--out .*file/sub: .*file is a file, expected a folder; choose another --out"):
        utils.writable_dir(tmp_path / "file" / "sub", "--out")


def test_set_seed_fixes_the_thread_count(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv(utils.THREADS_ENV, raising=False)
        utils.set_seed(0)
        assert torch.get_num_threads() == utils.DEFAULT_CPU_THREADS == 2
        assert torch.are_deterministic_algorithms_enabled()
        monkeypatch.setenv(utils.THREADS_ENV, "1")
        utils.set_seed(0)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv(utils.THREADS_ENV, "two")
        with pytest.raises(ValueError, match="ASD_NUM_THREADS='two': expected a non-negative integer"):
            utils.set_seed(0)
    finally:
        torch.set_num_threads(before)


def _documented(x):
    """A docstring the notebooks do not print."""
    return x + 1


def test_show_code_prints_the_source_without_its_docstring(capsys):
    utils.show_code(_documented)
    shown = capsys.readouterr().out
    assert shown.startswith("def _documented(x):\n") and "return x + 1" in shown and "docstring" not in shown


@pytest.mark.parametrize("value, wanted", [(None, True), ("1", False), ("true", False), ("YES", False), ("0", True)])
def test_progress_bars_follow_tqdm_disable(monkeypatch, value, wanted):
    if value is None:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    else:
        monkeypatch.setenv("TQDM_DISABLE", value)
    assert utils.progress_bars_wanted() is wanted


def test_answered_says_which_exercise_is_left_open(capsys):
    assert utils.answered(2, 0.5, "a") is True and capsys.readouterr().out == ""
    assert utils.answered(3, 0.5, None) is False
    assert capsys.readouterr().out == "Exercise 3: not answered yet\n"
