"""Resumable, checksum-verified download of the real DCASE 2020 Task 2 data (opt-in; the course runs without it).

The course works on synthetic data by default. When you want the real recordings, this module fetches them
from Zenodo, the way the ``d2l`` package does it: one registry of ``(url, md5, size)`` entries, a file is only
(re-)downloaded when the copy on disk does not verify. Each file goes through the same steps:

1. stream ``<name>.part`` into the downloads folder (default ``DATA_ROOT/downloads``) with a progress bar;
   an interrupted download resumes where it stopped (HTTP ``Range``), also on the next run;
2. verify it (MD5 where published; otherwise size where known and the CRC of every zip member) and rename it
   to ``<name>`` only then; a download that fails is deleted, never left under its final name. A file already at
   ``<name>`` that fails (e.g. one you put there by hand) is never deleted: it is renamed ``<name>.rejected``
   (``.rejected1``, ... if taken) and the message says so;
3. extract into a hidden temporary folder beside the target, then move the files into the DCASE layout
   (``dev_data/<type>/train|test``, ``eval_data/<type>/train|test``) and write a ``.complete_<part>.json`` marker.
   A second run finds the marker and the files and touches neither the network nor the disk.

Zips are kept by default (``keep_zips=True``) so a later ``course_subset=False`` run, or a deleted data folder,
does not cost another download; pass ``keep_zips=False`` to save ~2 GB per machine type.

From the shell: ``python -m asd_utils download --machine-type slider``.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path

from tqdm.auto import tqdm

from asd_utils.paths import DISK_MARGIN_BYTES, existing_ancestor, folder_lock, size_text as _size  # noqa: F401 (re-exported)
from asd_utils.paths import check_disk_space as _check_disk_space
from asd_utils.unpack import marker_files, marker_ok, extract_zip
from asd_utils.utils import atomic_path, cli_path, positive_seconds, resolve_path, writable_dir, write_text_atomic

ZENODO_BASE_URL = "https://zenodo.org"
MACHINE_TYPES = ("fan", "pump", "slider", "ToyCar", "ToyConveyor", "valve")
PARTS = ("dev", "eval_train", "eval_test", "ground_truth")
PART_RECORDS = {"dev": 3678171, "eval_train": 3727685, "eval_test": 3841772, "ground_truth": 3951620}
PART_FOLDERS = {"dev": "dev_data", "eval_train": "eval_data", "eval_test": "eval_data", "ground_truth": "eval_data"}
COURSE_SUBSET_IDS = {("slider", "dev"): ("id_00", "id_02", "id_04")}  # the real dev set also has slider id_06
CHUNK_BYTES = 1 << 20
RETRY_WAIT_S = 2.0  # seconds before the first retry, doubled each time


class DownloadError(RuntimeError):
    """A download, verification or extraction failed; the message names the file and the manual alternative."""


@dataclass(frozen=True)
class RemoteFile:
    """One registry entry: a file of a Zenodo record, its MD5 and size in bytes (``None`` where not published)."""

    record: int
    name: str
    md5: str | None = None
    size: int | None = None

    def url(self, base_url: str | None = None) -> str:
        """Download URL, ``<base>/record/<record>/files/<name>?download=1`` (base defaults to Zenodo)."""
        return f"{(base_url or ZENODO_BASE_URL).rstrip('/')}/record/{self.record}/files/{self.name}?download=1"

    @property
    def record_page(self) -> str:
        """The Zenodo page where a person can download the file by hand."""
        return f"{ZENODO_BASE_URL}/record/{self.record}"


def remote_name(part: str, machine_type: str) -> str:
    """File name of ``part`` ("dev", "eval_train", "eval_test", "ground_truth") for ``machine_type`` on Zenodo."""
    names = {"dev": f"dev_data_{machine_type}.zip", "eval_train": f"eval_data_train_{machine_type}.zip",
             "eval_test": f"eval_data_test_{machine_type}.zip", "ground_truth": "eval_data_list.csv"}
    if part not in names:
        raise ValueError(f"unknown part {part!r}; expected one of {', '.join(PARTS)}")
    return names[part]


_DEV_MD5 = {"fan": "649bdfc06263ae7a838963f43b6641e6", "pump": "90e7091ef722b7238a7f1009365779cd",
            "slider": "da24a757719f0d94d5aa2d646bbfdc86", "ToyCar": "4dec75ca8d9f666aa9e4c1894a740501",
            "ToyConveyor": "03b6aa1bfd09a39d53af0ba39f71fa91", "valve": "34d2672f55bb041589ef79c10dc89934"}
_EVAL_TRAIN_MD5 = {"fan": "567798854130c8019df8b664c095ed1e", "pump": "4e33ae9c0db5cc88437675f5e317caee",
                   "slider": "f84f186f4295fc23754abcdd1b0580a7", "ToyCar": "a5d4ccd498af70b04dd74b644b820006",
                   "ToyConveyor": "0e808ac0b761e9fb13d5e0c65caff00d", "valve": "057cdd560caffb8305449541afd28c6d"}
# Zenodo record 3841772 (the same sums the soundata loader of DCASE 2020 Task 2 lists)
_EVAL_TEST_MD5 = {"fan": "1eb9356a768cadfd0f2e59a5c57e578b", "pump": "23a8f8f924be218c69df67fe07360348",
                  "slider": "0193c769073840332ce3aad84b1ccaa2", "ToyCar": "bea2bdd612f616be8f2b8eb087b32c7c",
                  "ToyConveyor": "ccfcc9847c7d3404d7ee9d6d9e0b2ba2", "valve": "f69c551d2088691050d20cccca9d631c"}
_SIZES = {"dev_data_slider.zip": 1_002_998_966, "eval_data_train_slider.zip": 577_515_541}


def _build_registry() -> dict[str, RemoteFile]:
    registry = {}
    for mtype in MACHINE_TYPES:
        for part, md5s in (("dev", _DEV_MD5), ("eval_train", _EVAL_TRAIN_MD5), ("eval_test", _EVAL_TEST_MD5)):
            name = remote_name(part, mtype)
            registry[name] = RemoteFile(PART_RECORDS[part], name, md5s.get(mtype), _SIZES.get(name))
    registry["eval_data_list.csv"] = RemoteFile(PART_RECORDS["ground_truth"], "eval_data_list.csv")
    return registry


#: Every DCASE 2020 Task 2 file the course knows, by file name. Eval test zips and the ground truth CSV have no
#: published checksum: they are checked by size where known and zip CRCs (or, for the CSV, its content).
DCASE2020_REGISTRY: dict[str, RemoteFile] = _build_registry()


def _manual_hint(entry: RemoteFile, downloads_dir: Path, target: Path) -> str:
    return (f"Manual alternative: download {entry.name} by hand from {entry.record_page} and put it at "
            f"{downloads_dir / entry.name}; the next run verifies it and extracts it into {target} "
            f"(or unpack it there yourself).")


def file_md5(path: str | os.PathLike) -> str:
    """Hex MD5 of a file, read in 1 MiB chunks (a zip of several GB never sits in memory)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, entry: RemoteFile, machine_type: str = "slider") -> str:
    """Check a downloaded file against its registry entry; return how it was checked, raise ``ValueError`` if bad.

    Size first (cheap), then the MD5 when published; without a checksum, zips get ``zipfile.testzip`` (the CRC of
    every member) and the ground-truth CSV must be text naming ``machine_type`` on a line of its own.
    """
    path = Path(path)
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        raise ValueError(f"size {size:,} bytes, expected {entry.size:,}")
    if entry.md5:
        md5 = file_md5(path)
        if md5 != entry.md5.lower():
            raise ValueError(f"MD5 {md5} does not match the published {entry.md5}")
        return "MD5 verified"
    how = f"no published checksum: size {size:,} bytes" + (" matches" if entry.size is not None else "")
    if entry.name.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise ValueError(f"not a valid zip file ({err})") from err
        if bad is not None:
            raise ValueError(f"zip member {bad} fails its CRC check")
        return how + ", CRC of every zip member checked"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError("not a UTF-8 text file") from err
    if machine_type not in (line.strip().strip(",") for line in lines):
        raise ValueError(f"no line naming the machine type {machine_type!r}")
    return how + f", text lists {machine_type!r}"


def fetch(entry: RemoteFile, downloads_dir: str | os.PathLike, base_url: str | None = None, *,
          machine_type: str = "slider", target: Path | None = None, progress: bool = True,
          timeout: float = 30.0, retries: int = 3) -> tuple[Path, dict]:
    """Return ``downloads_dir/<name>``, verified; download (resuming ``<name>.part``) only when needed.

    Network failures and dropped connections are retried ``retries`` times, each retry resuming with
    ``Range: bytes=<have>-``; a server that ignores the range (answers 200) restarts the file from byte 0.
    Returns ``(path, info)`` with ``info = {"downloaded": bool, "bytes": int, "verified": str}``.
    """
    downloads_dir = Path(downloads_dir)
    downloads_dir.mkdir(parents=True, exist_ok=True)
    final, part = downloads_dir / entry.name, downloads_dir / f"{entry.name}.part"
    url = entry.url(base_url)
    hint = _manual_hint(entry, downloads_dir, target or downloads_dir)
    if final.exists():
        try:
            return final, {"downloaded": False, "bytes": 0, "verified": verify_file(final, entry, machine_type)}
        except ValueError as err:
            kept = set_aside(final)  # perhaps a copy the user placed by hand: never delete it
            hint = (f"The file that was at {final} failed verification ({err}); it was kept as {kept}. " + hint)
            print(f"{entry.name}: {hint.split(' Manual alternative')[0]} Downloading it again.", file=sys.stderr)
    received, attempt = 0, 0
    while True:
        try:
            received += _stream(url, part, entry, progress, timeout)
            break
        except _Retryable as err:
            if attempt >= retries:
                have = part.stat().st_size if part.exists() else 0
                kept = (f"The partial file {part} ({_size(have)}) is kept; run again to resume." if have
                        else "Nothing was downloaded.")
                raise DownloadError(f"Could not download {entry.name} from {url} after {attempt + 1} attempts "
                                    f"(timeout {timeout:g} s each): {err}. {kept} {hint}") from err
            wait = RETRY_WAIT_S * 2**attempt
            print(f"{entry.name}: {err} (timeout {timeout:g} s); retry {attempt + 1} of {retries} in {wait:g} s",
                  file=sys.stderr, flush=True)
            time.sleep(wait)
            attempt += 1
        except DownloadError as err:
            raise DownloadError(f"{err} {hint}") from None
    try:
        verified = verify_file(part, entry, machine_type)
    except ValueError as err:
        part.unlink(missing_ok=True)
        raise DownloadError(f"Downloaded {entry.name} from {url} but it fails verification: {err}. "
                            f"The bad file was deleted. {hint}") from None
    os.replace(part, final)
    return final, {"downloaded": True, "bytes": received, "verified": verified}


def set_aside(path: Path, label: str = "rejected") -> Path:
    """Rename ``path`` to ``<name>.<label>`` (or ``.<label>1``, ``.<label>2``, ... if taken) and return the new path."""
    for n in range(1000):
        target = path.with_name(f"{path.name}.{label}{n or ''}")
        if not target.exists():
            os.replace(path, target)
            return target
    raise DownloadError(f"{path} fails verification and 1000 rejected copies exist beside it; clean up {path.parent}")


class _Retryable(Exception):
    """A failure worth another attempt: connection refused/dropped, timeout, server error 5xx."""


def _stream(url: str, part: Path, entry: RemoteFile, progress: bool, timeout: float) -> int:
    """One HTTP attempt: append to (or restart) ``part`` until the body ends; return the bytes received."""
    have = part.stat().st_size if part.exists() else 0
    if entry.size is not None and have >= entry.size:
        if have == entry.size:
            return 0  # complete already; the caller verifies it
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"User-Agent": "asd-course-downloader/1.0"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        err.close()  # the error carries the open response
        if err.code == 416 and have:
            return 0  # the server has nothing after byte `have`: the part is complete; verification decides
        if err.code >= 500 or err.code == 429:
            raise _Retryable(f"HTTP {err.code} {err.reason}") from err
        raise DownloadError(f"Could not download {entry.name}: {url} answered HTTP {err.code} {err.reason}.") from None
    except (urllib.error.URLError, HTTPException, OSError) as err:
        raise _Retryable(f"no connection ({getattr(err, 'reason', err)})") from err
    with response:
        if response.status == 206:
            match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != have:
                raise _Retryable(f"unexpected Content-Range {response.headers.get('Content-Range')!r}")
            total = None if match.group(2) == "*" else int(match.group(2))
        else:  # 200: the whole file, whether or not we asked for a range
            have, length = 0, response.headers.get("Content-Length")
            total = int(length) if length else None
        if total is not None and entry.size is not None and total != entry.size:
            raise DownloadError(f"The server offers {entry.name} with {total:,} bytes, the registry expects "
                                f"{entry.size:,} (from {url}); nothing was downloaded.")
        if total is not None:
            check_disk_space(part.parent, total - have, f"downloading {entry.name}")
        received = 0
        bar = tqdm(total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=entry.name, disable=not progress, leave=False)
        with bar, open(part, "ab" if have else "wb") as out:
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except (HTTPException, OSError, socket.timeout) as err:
                    raise _Retryable(f"connection lost after {have + received:,} bytes ({err})") from err
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as err:  # ENOSPC and friends: retrying will not help
                    raise DownloadError(f"Could not write {part} ({err}); is the disk full? The partial file is "
                                        "kept: free some space and run again to resume.") from None
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and have + received < total:
        raise _Retryable(f"connection closed after {have + received:,} of {total:,} bytes")
    return received


def check_disk_space(folder: str | os.PathLike, needed_bytes: int, what: str) -> int:
    """Raise ``DownloadError`` unless ``folder``'s disk has ``needed_bytes`` (+50 MiB) free; return free bytes."""
    return _check_disk_space(folder, needed_bytes, what, error=DownloadError)


def download_dcase(data_root: str | os.PathLike, machine_type: str = "slider",
                   parts: tuple[str, ...] | list[str] = PARTS, course_subset: bool = True,
                   base_url: str | None = None, registry: dict[str, RemoteFile] | None = None,
                   progress: bool = True, keep_zips: bool = True, downloads_dir: str | os.PathLike | None = None,
                   timeout: float = 30.0, retries: int = 3) -> dict:
    """Download, verify and unpack DCASE 2020 Task 2 ``parts`` of ``machine_type`` into ``data_root``.

    ``parts``: any of "dev" (-> ``dev_data/<type>``), "eval_train" and "eval_test" (-> ``eval_data/<type>``),
    "ground_truth" (the DCASE ``eval_data_list.csv``, all machine types, copied as-is to
    ``eval_data/<type>/eval_data_list.csv``). ``course_subset`` keeps only the course's dev ids 00/02/04 of slider
    (other machine types are kept whole). Relative ``data_root`` is resolved from the repository root. Parts whose
    marker and files are present are skipped without any network access. Prints progress when ``progress``.
    Returns ``{"data_root", "machine_type", "course_subset", "disk_free_bytes", "parts": {part: {...}}}``;
    raises :class:`DownloadError` (with the manual alternative) when something fails.
    """
    if machine_type not in MACHINE_TYPES:
        raise ValueError(f"unknown machine type {machine_type!r}; expected one of {', '.join(MACHINE_TYPES)}")
    parts = tuple(dict.fromkeys(parts))
    for p in parts:
        remote_name(p, machine_type)  # validates the part name
    registry = DCASE2020_REGISTRY if registry is None else registry
    root = resolve_path(data_root)
    downloads = resolve_path(downloads_dir) if downloads_dir is not None else root / "downloads"
    if not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
        raise ValueError(f"timeout must be a positive, finite number of seconds, got {timeout!r}")
    say = print if progress else (lambda *a, **k: None)
    summary = {"data_root": str(root), "machine_type": machine_type, "course_subset": course_subset, "parts": {}}
    todo = []
    for p in parts:
        name, dest = remote_name(p, machine_type), root / PART_FOLDERS[p]
        if name not in registry:
            raise ValueError(f"no registry entry for {name!r}")
        subset = course_subset and (machine_type, p) in COURSE_SUBSET_IDS
        marker = dest / machine_type / f".complete_{p}.json"
        if marker_ok(marker, root, name, subset):
            summary["parts"][p] = {"file": name, "status": "already present", "target": str(dest / machine_type)}
        else:
            todo.append((p, name, registry[name], dest, subset, marker))
    unknown = [e.name for _, _, e, *_ in todo if e.size is None]
    needed = sum(2 * e.size for _, _, e, *_ in todo if e.size is not None and not (downloads / e.name).exists())
    summary["disk_free_bytes"] = free = shutil.disk_usage(existing_ancestor(root)).free
    if todo:
        check_disk_space(root, needed, f"{len(todo)} DCASE file(s)")
        say(f"Disk: {_size(free)} free at {root}; about {_size(needed)} needed for the known sizes (zip + extracted)"
            + (f", plus {', '.join(unknown)} (size known once the server answers)." if unknown else "."))
    with folder_lock(root, "--data-root") if todo else contextlib.nullcontext():  # one download per folder
        for p, name, entry, dest, subset, marker in todo:
            target = dest / machine_type
            path, info = fetch(entry, downloads, base_url, machine_type=machine_type, target=target,
                               progress=progress, timeout=timeout, retries=retries)
            if p == "ground_truth":
                placed = target / "eval_data_list.csv"
                if placed.is_file() and placed.read_bytes() != path.read_bytes():  # e.g. one put there by hand
                    say(f"ground_truth: the {placed.name} that was in {target} differs from the download; it was "
                        f"kept as {set_aside(placed, 'before-download').name}")
                with atomic_path(placed) as tmp:
                    shutil.copyfile(path, tmp)
                files = [f"{PART_FOLDERS[p]}/{machine_type}/eval_data_list.csv"]
            else:
                keep_ids = COURSE_SUBSET_IDS[(machine_type, p)] if subset else None
                try:
                    members = extract_zip(path, dest, machine_type, keep_ids)
                except (ValueError, OSError) as err:
                    raise DownloadError(f"Could not extract {path}: {err}. Nothing was moved into {target}. "
                                        + _manual_hint(entry, downloads, target)) from None
                files = [f"{PART_FOLDERS[p]}/{m}" for m in members]
                # files an earlier, larger extraction put there but this one does not want (e.g. id_06): only clips
                # in this part's own folder, as listed by a marker entry that passes inside()
                old = set(marker_files(marker, root, target) or []) - set(files)
                for rel in sorted(old):
                    if rel.endswith(".wav"):
                        (root / rel).unlink(missing_ok=True)
            record = {"file": name, "course_subset": subset, "verified": info["verified"], "files": sorted(files)}
            write_text_atomic(marker, json.dumps(record, indent=1))
            if not keep_zips:
                path.unlink()
            summary["parts"][p] = {"file": name, "status": "downloaded" if info["downloaded"] else "reused download",
                                   "url": entry.url(base_url), "verified": info["verified"], "bytes": info["bytes"],
                                   "n_files": len(files), "target": str(target), "zip_kept": keep_zips}
            say(f"{p}: {name} {summary['parts'][p]['status']} ({info['verified']}), {len(files)} file(s) -> {target}")
    return summary


def download_main(argv: list[str] | None = None) -> int:
    """Command line ``python -m asd_utils download``: parse ``argv``, download, print a summary; 1 on failure."""
    parser = argparse.ArgumentParser(prog="python -m asd_utils download",
                                     description="Download, verify and unpack the real DCASE 2020 Task 2 data.")
    parser.add_argument("--data-root", default="data/dcase2020", help="target folder (relative: from the current folder)")
    parser.add_argument("--machine-type", default="slider", choices=MACHINE_TYPES)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--all-ids", action="store_true", help="keep slider dev id_06 too (not used by the course)")
    parser.add_argument("--delete-zips", action="store_true", help="delete each zip once it is extracted")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars or status lines")
    parser.add_argument("--timeout", type=positive_seconds, default=30.0,
                        help="seconds without an answer from the server before a retry (default: 30; 3 retries)")
    parser.add_argument("--base-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if not parts or any(p not in PARTS for p in parts):
        parser.error(f"--parts must be a comma-separated subset of {','.join(PARTS)}, got {args.parts!r}")
    try:
        writable_dir(cli_path(args.data_root), "--data-root")
        summary = download_dcase(cli_path(args.data_root), args.machine_type, parts, course_subset=not args.all_ids,
                                 base_url=args.base_url, progress=not args.no_progress,
                                 keep_zips=not args.delete_zips, timeout=args.timeout)
    except (DownloadError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for part, info in summary["parts"].items():
        print(f"{part:12s} {info['status']:15s} {info['file']} -> {info['target']}")
    return 0
