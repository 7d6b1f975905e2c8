"""Unpacking the DCASE zips into the course layout, and the ``.complete_<part>.json`` markers that record it.

Both read paths from files someone else wrote (zip member names, a marker's file list), so every such path goes
through :func:`asd_utils.paths.inside`: nothing is written, read or deleted outside the folder it belongs to
(a zip-slip member or a tampered marker entry such as ``"../victim.txt"`` is refused or ignored with a warning).

Introduced in: notebooks/00_getting_started.ipynb (through :mod:`asd_utils.download`)
"""
from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from .paths import check_disk_space, inside

CHUNK_BYTES = 1 << 20


def _wanted(member: str, machine_type: str, keep_ids: tuple[str, ...] | None) -> bool:
    """Is zip member ``<type>/<split>/<file>.wav`` one to extract (and, with a subset, one of ``keep_ids``)?"""
    if member.endswith("/") or member.startswith("__MACOSX/"):
        return False
    parts = member.split("/")
    if parts[0] != machine_type or len(parts) < 3:
        raise ValueError(f"unexpected member {member!r}; expected {machine_type}/train|test/<file>")
    inside(Path("zip"), member, "zip member")  # no '..', no absolute or empty parts (zip-slip)
    found = re.search(r"id_\d\d", parts[-1])
    return keep_ids is None or (found is not None and found.group(0) in keep_ids)


def extract_zip(zip_path: Path, dest: Path, machine_type: str, keep_ids: tuple[str, ...] | None) -> list[str]:
    """Extract the wanted members of ``zip_path`` under ``dest`` through a hidden sibling folder; return them.

    Files are written into ``dest/.extract-<zip>-XXXX`` first (CRC-checked while reading) and moved into place
    only when all of them are there, so the course never reads a half-written WAV. A file already at a target
    path that differs from the zip's is never replaced (``ValueError``, nothing moved). On failure the temporary
    folder is removed and a ``ValueError``/``OSError`` propagates.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for stale in dest.glob(f".extract-{zip_path.name}-*"):  # left over by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".extract-{zip_path.name}-", dir=dest))
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = [m for m in zf.infolist() if _wanted(m.filename, machine_type, keep_ids)]
            check_disk_space(dest, sum(m.file_size for m in members), f"extracting {zip_path.name}", error=OSError)
            for member in members:
                out_path = inside(tmp, member.filename, f"zip member of {zip_path.name}")
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(out_path, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK_BYTES)
        differ = [m.filename for m in members if (dest / m.filename).exists()
                  and not filecmp.cmp(tmp / m.filename, dest / m.filename, shallow=False)]
        if differ:  # a file someone put there (synthetic data, own recordings): never replaced by the zip's
            raise ValueError(f"{len(differ)} file(s) already in {dest} differ from the zip's, e.g. {differ[0]}; "
                             "nothing was replaced: download into a folder of its own (--data-root), or move them")
        for member in members:
            (dest / member.filename).parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / member.filename, dest / member.filename)
        return [m.filename for m in members]
    except zipfile.BadZipFile as err:
        raise ValueError(f"corrupt zip ({err})") from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def marker_files(marker: Path, root: Path, folder: Path) -> list[str] | None:
    """The files a ``.complete_<part>.json`` marker lists, each checked to lie in ``folder`` (the part's
    ``<dataset>/<type>`` folder); entries that do not are dropped with a warning (never read, never deleted).
    ``None`` when the marker is missing or not JSON."""
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
        files = info.get("files", []) if isinstance(info, dict) else None
    except (OSError, ValueError):
        return None
    if not isinstance(files, list):
        return None
    kept = []
    for rel in files:
        try:
            target = inside(root, rel, f"{marker.name} entry")
            if not target.is_relative_to(folder):
                raise ValueError(f"{marker.name} entry {rel!r} is outside {folder}")
        except (ValueError, TypeError) as err:
            print(f"warning: {marker}: {err}; ignored (nothing outside the part's folder is read or deleted)",
                  file=sys.stderr)
            continue
        kept.append(rel)
    return kept


def marker_ok(marker: Path, root: Path, name: str, subset: bool) -> bool:
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    files = marker_files(marker, root, marker.parent)
    return (isinstance(info, dict) and info.get("file") == name and info.get("course_subset") == subset
            and files is not None and len(files) == len(info.get("files", []))
            and all((root / rel).is_file() for rel in files))
