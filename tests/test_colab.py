"""The repository is named in one place (asd_utils.colab.COURSE_REPO): every Colab badge and set-up cell must agree
with it, `set-repo` must move them all to a fork, and a failed clone must end in a message, not a traceback."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import types

import nbformat
import pytest

from asd_utils import colab
from asd_utils.cli import main as cli_main
from asd_utils.utils import repo_root

BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"]+")
NOTEBOOKS = sorted((repo_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _setup_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# Colab only")]


def check_repo_named_consistently(root, repo):
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        badges = [url for c in nb.cells if c.cell_type == "markdown" for url in BADGE.findall(c.source)]
        assert badges == [colab.colab_badge_url(path.name, repo)], f"{path.name}: Colab badge(s) {badges}"
        cells = _setup_cells(nb)
        assert len(cells) == 1, f"{path.name}: expected one Colab set-up cell"
        assert cells[0].source == colab.setup_cell_source(repo), \
            f"{path.name}: set-up cell differs from asd_utils.colab.setup_cell_source()"
    readme_badges = BADGE.findall((root / "README.md").read_text(encoding="utf-8"))
    assert readme_badges and all(url.startswith(f"https://colab.research.google.com/github/{repo}/blob/main/")
                                 for url in readme_badges), readme_badges


def test_every_badge_and_setup_cell_names_course_repo():
    check_repo_named_consistently(repo_root(), colab.COURSE_REPO)


def test_set_repo_moves_every_copy_to_a_fork(tmp_path, capsys):
    for name in ("asd_utils", "notebooks"):
        (tmp_path / name).mkdir()
    shutil.copy(repo_root() / "asd_utils" / "colab.py", tmp_path / "asd_utils" / "colab.py")
    shutil.copy(repo_root() / "README.md", tmp_path / "README.md")
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    changed = colab.set_repo("someone/my-fork", root=tmp_path)
    assert len(changed) == 2 + len(NOTEBOOKS)
    check_repo_named_consistently(tmp_path, "someone/my-fork")
    assert 'COURSE_REPO = "someone/my-fork"' in (tmp_path / "asd_utils" / "colab.py").read_text()
    with pytest.raises(ValueError, match="OWNER/NAME"):
        colab.set_repo("not a repo", root=tmp_path)


def test_set_repo_command_rejects_a_bad_name(capsys):
    assert cli_main(["set-repo", "no-slash"]) == 1
    assert "OWNER/NAME" in capsys.readouterr().err


def test_setup_cell_is_silent_locally(capsys):
    exec(compile(colab.setup_cell_source(), "setup", "exec"), {})
    assert capsys.readouterr().out == ""


def test_setup_cell_failed_clone_prints_a_message_and_stops(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "asd_utils" else real_find_spec(name, *a))
    monkeypatch.setattr("os.path.isdir", lambda path: False)
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 128, "", "fatal: repository 'https://github.com/x/y/' not found")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(SystemExit, match="see the message above"):
        exec(compile(colab.setup_cell_source("x/y"), "setup", "exec"), {})
    out = capsys.readouterr().out
    assert "Set-up failed: git clone -q https://github.com/x/y" in out and "not found" in out
    assert "Check that https://github.com/x/y exists" in out
    assert len(calls) == 1  # nothing is installed after a failed clone


def test_setup_cell_after_a_runtime_restart_changes_into_the_course(monkeypatch):
    """After a restart the package is installed, so nothing is cloned, but the kernel starts in /content again: the
    cell still moves into the course folder, so `!python -m asd_utils synth` writes where the notebooks read."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr("os.path.isdir", lambda path: path == "/content/y")
    moved, ran = [], []
    monkeypatch.setattr("os.chdir", moved.append)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kwargs: ran.append(cmd))
    exec(compile(colab.setup_cell_source("x/y"), "setup", "exec"), {})  # asd_utils is importable here
    assert moved == ["/content/y"] and ran == []
