"""Where the course may read and write: names used as path components, paths read from files, output folders.

Every name a user or a file supplies that ends up in a path goes through here, so the rules live in one place:

* :func:`path_component` - a machine type, a machine id, one half of a repository name: one plain folder or file
  name, never empty, ``.``/``..``, a path separator or a control character;
* :func:`inside` - a relative path read from a file (a download marker's file list, a zip member) that must stay
  inside the folder it belongs to;
* :func:`refuse_sources` - no command writes over a course notebook or any file git tracks;
* :func:`folder_lock` - one command at a time writes into a folder (a second one is refused, not interleaved);
* :func:`check_disk_space` - enough free space before a long write starts, with the margin said out loud.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path, PurePosixPath
from typing import Iterator

from .utils import repo_root

DISK_MARGIN_BYTES = 50 * 2**20  # never fill a disk to the last byte: the system and other programs need room too
LOCK_NAME = ".asd_utils.lock"
_BAD_CHARS = re.compile(r"[/\\\x00-\x1f\x7f]")


def path_component(name, what: str, example: str = "slider") -> str:
    """``name`` if it is one plain file or folder name, else a ``ValueError`` naming ``what``, the value and the fix."""
    text = name if isinstance(name, str) else None
    if not text or text.strip() != text or text in (".", "..") or _BAD_CHARS.search(text):
        raise ValueError(f"{what} {name!r} cannot be used as a folder or file name: expected one plain name (no "
                         f"'/', '\\', '..', control characters or surrounding spaces, not empty), e.g. {example!r}")
    return text


def inside(folder: str | os.PathLike, relative: str, what: str) -> Path:
    """``folder / relative`` when ``relative`` (a posix path read from a file) stays inside ``folder``.

    Absolute paths, ``..`` components, empty components and a path that resolves (through links) outside ``folder``
    raise ``ValueError`` naming ``what`` and the value.
    """
    folder = Path(folder)
    parts = PurePosixPath(relative).parts if isinstance(relative, str) else ()
    if (not parts or relative.startswith("/") or "//" in relative or "\\" in relative
            or any(p in (".", "..") or _BAD_CHARS.search(p) for p in parts)):
        raise ValueError(f"{what} {relative!r} is not a relative path inside {folder} (absolute paths, '..' and "
                         "empty components are refused)")
    target = folder.joinpath(*parts)
    if not target.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{what} {relative!r} leads outside {folder} (through a symbolic link)")
    return target


@functools.lru_cache(maxsize=4)
def _tracked_files(root: Path) -> frozenset[Path]:
    """Files git tracks in the repository at ``root`` (empty when git or the repository is not there)."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if listed.returncode != 0:
        return frozenset()
    return frozenset((root / name).resolve() for name in listed.stdout.decode("utf-8", "replace").split("\0") if name)


def refuse_sources(paths, flag: str) -> None:
    """``ValueError`` when any of ``paths`` (files a command is about to write) is a course notebook or a file git
    tracks: outputs go to their own folder, the course's sources change only through ``regenerate`` or an editor."""
    root = repo_root()
    notebooks = {p.resolve() for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    protected = notebooks | _tracked_files(root)
    for path in paths:
        if Path(path).resolve() in protected:
            raise ValueError(f"{flag}: writing {path} would replace a file of the course itself (a source notebook "
                             "or a file under version control); choose an output folder of its own, e.g. outputs/mine")


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, flag: str) -> Iterator[Path]:
    """Hold ``folder/.asd_utils.lock`` while a command writes into ``folder`` (created if needed).

    A second command on the same folder is refused with a ``ValueError`` naming the folder, the other process and
    the fix, instead of both writing and one silently replacing the other's files. The operating system drops the
    lock when a process dies, so a killed run never blocks the next one. Without ``fcntl`` (Windows) no lock is taken.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield Path(folder)
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise ValueError(f"{flag} {folder}: {holder} is writing into this folder right now; wait until it has "
                             f"finished, or choose another {flag}") from None
        try:  # the file may have been removed by the holder we waited for: then lock the new one
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        holder = f"process {os.getpid()} on {socket.gethostname()} (since {time.strftime('%H:%M:%S')})"
        os.pwrite(fd, holder.encode(), 0)
        yield folder
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)


def existing_ancestor(folder: Path) -> Path:
    """``folder`` or its nearest existing parent (disk usage of a folder not created yet)."""
    return next(p for p in (folder, *folder.parents) if p.exists())


def size_text(n: int) -> str:
    """Bytes for people: GB for the real zips, MB or kB for small files (tests, the ground-truth list)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if n >= scale / 10:
            return f"{n / scale:.2f} {unit}"
    return f"{n / 1e3:.1f} kB"


def check_disk_space(folder: str | os.PathLike, needed_bytes: int, what: str, error=ValueError,
                     fix: str = "Free some space or choose another --data-root.") -> int:
    """Raise ``error`` unless ``folder``'s disk has ``needed_bytes`` plus :data:`DISK_MARGIN_BYTES` free; return the
    free bytes. The message says both numbers, so a small write refused on a nearly full disk is not a riddle."""
    probe = existing_ancestor(Path(folder))
    free = shutil.disk_usage(probe).free
    if free < needed_bytes + DISK_MARGIN_BYTES:
        need = (f"about {size_text(needed_bytes)} plus a {DISK_MARGIN_BYTES // 2**20} MiB safety margin "
                f"({size_text(needed_bytes + DISK_MARGIN_BYTES)} in all)" if needed_bytes > 0 else
                f"at least the {DISK_MARGIN_BYTES // 2**20} MiB safety margin (the size of what is written is known "
                "only once it arrives)")
        raise error(f"Not enough disk space for {what}: need {need}, only {size_text(free)} free at {probe}. {fix}")
    return free
