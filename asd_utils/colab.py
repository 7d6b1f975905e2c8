"""The course's GitHub repository, named in one place, and the Colab set-up cell every notebook starts with.

:data:`COURSE_REPO` is the one line a fork changes. Everything else that names the repository is *generated* from it
or *checked* against it (``tests/test_colab.py``):

* the Colab badge of every notebook and of the README (markdown links cannot read a variable, so they are checked);
* the set-up cell of every notebook, whose text is :func:`setup_cell_source` (Colab starts with an empty disk, so that
  cell cannot import this module before it has cloned the repository: it carries its own copy of the name).

A fork runs ``python -m asd_utils set-repo OWNER/NAME`` once: it rewrites :data:`COURSE_REPO` here and every copy in
the notebooks and the README - only where the name is held (the ``COURSE_REPO = "..."`` lines and the Colab badge
links), never the same text elsewhere (a ``DATA_ROOT`` default, prose), so set-repo and back restores every file
byte for byte. Names that are not a GitHub OWNER/NAME are refused.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from .paths import path_component
from .utils import atomic_path, repo_root

#: GitHub ``owner/name`` of the course repository: the one line a fork changes (``python -m asd_utils set-repo``).
COURSE_REPO = "asd-course/slider-asd-course"

# GitHub's rules: an owner is letters, digits and single inner hyphens (at most 39); a name letters, digits, . _ -
_REPO_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")
#: The Colab set-up cell; ``{repo}`` is replaced by the repository name. It prints nothing when it succeeds and
#: nothing locally; a failed clone or install prints what went wrong and stops "Run all" without a traceback.
SETUP_CELL_TEMPLATE = '''\
# Colab only: fetch the course and install what Colab lacks (never re-pins torch/numpy/matplotlib). Locally: nothing.
COURSE_REPO = "{repo}"  # GitHub owner/name (a fork: python -m asd_utils set-repo OWNER/NAME)
import importlib.util, os, subprocess, sys
if "google.colab" in sys.modules:
    course_dir = "/content/" + COURSE_REPO.split("/")[-1]
    if importlib.util.find_spec("asd_utils") is None:
        steps = [] if os.path.isdir(course_dir) else [
            ["git", "clone", "-q", f"https://github.com/{{COURSE_REPO}}", course_dir]]
        steps += [[sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", course_dir],
                  [sys.executable, "-m", "pip", "install", "-q", "papermill>=2.5", "nbval>=0.11"]]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"Set-up failed: {{' '.join(step[:4])}} ... exited with {{done.returncode}}:\\n"
                      f"{{done.stderr.strip()[-800:]}}\\n"
                      f"Check that https://github.com/{{COURSE_REPO}} exists and is public (a fork: set COURSE_REPO "
                      "above) and that this runtime has internet access, then run this cell again.")
                raise SystemExit("course set-up failed: see the message above")
        sys.path.insert(0, course_dir)
    if os.path.isdir(course_dir):  # also after a restart: `!python -m asd_utils ...` writes where notebooks read
        os.chdir(course_dir)'''


def check_repo(repo: str) -> str:
    """``repo`` if it looks like a GitHub ``owner/name``, else a ``ValueError`` that says what is expected."""
    if not isinstance(repo, str) or not _REPO_PATTERN.match(repo):
        raise ValueError(f"{repo!r} is not a GitHub repository name: expected OWNER/NAME, e.g. {COURSE_REPO}")
    owner, name = repo.split("/")
    path_component(name, "repository name", example="slider-asd-course")  # the Colab cell clones into /content/<name>: no '.' or '..'
    if name.endswith(".git"):
        raise ValueError(f"{repo!r}: leave out the '.git' ending, e.g. {owner}/{name[:-4]}")
    if (repo_root() / owner).is_dir():  # `data/synthetic_course` names a folder here whether or not it exists yet
        raise ValueError(f"{repo!r} starts with {owner!r}, a folder of this repository, so it looks like a path, not "
                         f"a GitHub repository name: expected OWNER/NAME of your fork, e.g. {COURSE_REPO}")
    return repo


def setup_cell_source(repo: str = COURSE_REPO) -> str:
    """The exact source of every notebook's Colab set-up cell for ``repo`` (``owner/name``)."""
    return SETUP_CELL_TEMPLATE.format(repo=check_repo(repo))


def colab_badge_url(notebook: str, repo: str = COURSE_REPO) -> str:
    """The "Open in Colab" link of ``notebook`` (a file name such as ``"03_autoencoder_baselines.ipynb"``)."""
    return f"https://colab.research.google.com/github/{check_repo(repo)}/blob/main/notebooks/{notebook}"


def repo_files(root: Path | None = None) -> list[Path]:
    """The files that name the repository: this module, the README and every course notebook."""
    root = Path(root) if root is not None else repo_root()
    return [root / "asd_utils" / "colab.py", root / "README.md", *sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))]


def _holders(repo: str) -> list[re.Pattern]:
    """The places that hold the repository name: the ``COURSE_REPO = "..."`` lines (Python, and JSON-escaped in a
    notebook) and the Colab badge links."""
    name = re.escape(repo)
    return [re.compile(rf'(^COURSE_REPO = "){name}(")', re.M), re.compile(rf'(COURSE_REPO = \\"){name}(\\")'),
            re.compile(rf"(https://colab\.research\.google\.com/github/){name}(/blob/)")]


def current_repo(root: Path | None = None) -> str:
    """The repository name that ``root``'s ``asd_utils/colab.py`` holds now (after an earlier set-repo, the imported
    module's constant may be stale)."""
    path = (Path(root) if root is not None else repo_root()) / "asd_utils" / "colab.py"
    found = re.search(r'^COURSE_REPO = "([^"]+)"', path.read_text(encoding="utf-8"), re.M) if path.is_file() else None
    return found.group(1) if found else COURSE_REPO


def set_repo(new_repo: str, root: Path | None = None, old_repo: str | None = None) -> list[Path]:
    """Replace the repository name by ``new_repo`` where :func:`repo_files` hold it (``COURSE_REPO`` lines and
    badge links only; outputs are kept) and return the files that changed. Each file is written through a temporary
    name."""
    check_repo(new_repo)
    old_repo = old_repo or current_repo(root)
    changed = []
    for path in repo_files(root):
        if not path.is_file() or new_repo == old_repo:
            continue
        text = original = path.read_text(encoding="utf-8")
        for pattern in _holders(old_repo):
            text = pattern.sub(lambda m: m.group(1) + new_repo + m.group(2), text)
        if text != original:
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
                shutil.copymode(path, tmp)
            changed.append(path)
    return changed


def set_repo_main(argv: list[str] | None = None) -> int:
    """``python -m asd_utils set-repo OWNER/NAME``: point every badge and set-up cell at a fork."""
    parser = argparse.ArgumentParser(prog="python -m asd_utils set-repo",
                                     description="Point the Colab badges and set-up cells of the course (and "
                                                 "asd_utils.colab.COURSE_REPO) at another GitHub repository.")
    parser.add_argument("repo", help="GitHub OWNER/NAME of your fork")
    args = parser.parse_args(argv)
    old = current_repo()
    changed = set_repo(args.repo, old_repo=old)
    print(f"{len(changed)} file(s) now name {args.repo}" + (": " + ", ".join(p.name for p in changed) if changed else
                                                             f" (nothing named {old})"))
    return 0
