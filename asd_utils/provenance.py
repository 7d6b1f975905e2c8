"""How files written by :mod:`asd_utils.synth` are recognised, so that nothing else is ever replaced.

Every synthetic WAV carries a marker in its header comment (``asd_utils.synth v2; seed=0; clip=slider/test/...``),
and ``metadata.csv`` lists every file a run wrote with its seed and generator version. A file in a dataset folder
may be rewritten only when it carries the marker of the same clip (an older generator version, or damaged after
its header: a truncated copy), or when the generator's own ``metadata.csv`` lists it and it is damaged beyond its
header. Anything else there - a recording of any format, a file without the marker, another clip's marker - is
someone else's data, and ``synth`` refuses to write into the folder.

:func:`synthetic_dataset_info` tells other modules (result floors, claims) whether a folder is synthetic data and
which seed, profile and generator version made it, from ``metadata.csv`` and two WAV headers (cheap).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import soundfile as sf

GENERATOR_VERSION = 2  # bump when the sound model changes: files of another version are regenerated
MARKER_PREFIX = "asd_utils.synth v"
METADATA_COLUMNS = ["path", "machine_type", "dataset", "split", "machine_id", "label", "index", "anomaly_type",
                    "severity", "snr_db", "stroke_period_s", "speed_factor", "target_rms", "load_db", "stroke_phase",
                    "fault_params", "source_file", "seed", "generator_version"]
PROVENANCE = re.compile(r"^asd_utils\.synth v(?P<version>\d+); (?P<clip>seed=(?P<seed>\d+); "
                        r"clip=(?P<type>[^/]+)/(?P<split>[^/]+)/(?P<source>[^/]+))$")
_RAW_MARKER = re.compile(rb"asd_utils\.synth v\d+; seed=\d+; clip=[^\x00]{1,200}")
HEAD_BYTES = 4096  # the marker sits in the LIST chunk before the samples


def provenance(seed: int, machine_type: str, split: str, source_file: str) -> str:
    """The marker a synthetic WAV carries in its header comment."""
    return f"{MARKER_PREFIX}{GENERATOR_VERSION}; seed={seed}; clip={machine_type}/{split}/{source_file}"


def wav_header(path: Path) -> tuple[int, int, int, str, str | None] | None:
    """``(frames, samplerate, channels, subtype, comment)`` of a WAV, or ``None`` when it cannot be read."""
    try:
        with sf.SoundFile(path) as f:
            return f.frames, f.samplerate, f.channels, f.subtype, f.comment
    except (sf.LibsndfileError, RuntimeError, OSError):
        return None


def marker_of(path: Path) -> str | None:
    """The generator's marker in ``path``: from the header comment, else from the raw first bytes (a file damaged
    so that its header no longer parses still carries it); ``None`` for a file the generator did not write."""
    header = wav_header(path)
    if header is not None and header[4] and PROVENANCE.match(header[4]):
        return header[4]
    try:
        with open(path, "rb") as f:
            found = _RAW_MARKER.search(f.read(HEAD_BYTES))
    except OSError:
        return None
    text = found.group(0).decode("utf-8", "replace") if found else None
    return text if text and PROVENANCE.match(text) else None


def read_own_metadata(root: Path) -> list[dict] | None:
    """The rows of ``root/metadata.csv`` when the generator wrote it (its columns), ``None`` when there is none, and
    a ``ValueError`` when a file of that name is someone else's."""
    path = root / "metadata.csv"
    if not path.is_file():
        return None
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != METADATA_COLUMNS:
                raise ValueError(f"{path} is not a metadata.csv of asd_utils.synth (columns {reader.fieldnames})")
            return list(reader)
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a metadata.csv of asd_utils.synth (not UTF-8 text)") from None


def conflicts(root: Path, wanted: dict[str, str], machine_type: str, frames: int, sr: int,
              own_rows: list[dict] | None) -> list[str]:
    """Why existing WAVs under ``root`` belong to someone else (empty: safe to write).

    ``wanted`` maps each relative path of the requested dataset to its marker; ``own_rows`` is the generator's
    earlier metadata.csv (paths it wrote, and with which seed). A file passes when it is complete with exactly the
    wanted marker (skipped later), or carries the marker of the same clip (older version or damaged: rewritten), or
    is damaged and listed by the generator's own metadata with the same seed.
    """
    listed = {(r["path"], r["seed"]) for r in own_rows or []}
    problems = []
    for path in sorted(root.glob(f"*_data/{machine_type}/*/*.wav")):
        rel = path.relative_to(root).as_posix()
        if rel not in wanted:
            problems.append(f"{rel} is not part of the requested dataset")
            continue
        if path.is_symlink():
            problems.append(f"{rel} is a symbolic link (to {path.resolve()}), not a file the generator wrote")
            continue
        marker = marker_of(path)
        mine = PROVENANCE.match(wanted[rel])
        if marker is None:
            header = wav_header(path)
            if header is None and (rel, mine.group("seed")) in listed:
                continue  # the generator's own file, damaged beyond its header: rewritten
            what = (f"{header[2]} channel(s), {header[1]} Hz, {header[3]}" if header else "unreadable")
            problems.append(f"{rel} was not made by asd_utils.synth (a real recording? {what}, no generator marker)")
        elif PROVENANCE.match(marker).group("clip") != mine.group("clip"):
            problems.append(f"{rel} holds {PROVENANCE.match(marker).group('clip')}, not {mine.group('clip')}")
    return problems


def ground_truth_conflict(path: Path, new_text: str, old_text_from_metadata: str | None) -> str | None:
    """Why ``eval_data_list.csv`` at ``path`` must not be replaced (None: absent, identical, or the generator's)."""
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text in (new_text, old_text_from_metadata):
        return None
    return (f"{path.relative_to(path.parents[2]).as_posix()} is not the ground truth the generator wrote for these "
            "clips (a real eval_data_list.csv?)")


def ground_truth_text(machine_type: str, rows) -> str:
    """The ``eval_data_list.csv`` the generator writes for ``rows`` (dicts with path, source_file, label)."""
    lines = [machine_type] + [f"{Path(r['path']).name},{r['source_file']},{int(r['label'] == 'anomaly')}"
                              for r in sorted(rows, key=lambda r: r["path"])]
    return "\n".join(lines) + "\n"


def _profile_of(rows: list[dict], machine_type: str) -> str | None:
    """The profile whose clip counts these metadata rows have exactly (None when none or several match)."""
    from .profiles import PROFILE_NAMES, synth_sizes

    counts: dict[tuple, int] = {}
    for r in rows:
        if r["machine_type"] == machine_type:
            key = (r["dataset"], r["split"], r["label"], r["machine_id"])
            counts[key] = counts.get(key, 0) + 1
    matches = []
    for name in PROFILE_NAMES:
        s = synth_sizes(name)
        expected = {}
        for dataset, ids, train, normal, anomaly in (
                ("dev", s.dev_ids, s.dev_train, s.dev_test_normal, s.dev_test_anomaly),
                ("eval", s.eval_ids, s.eval_train, s.eval_test_normal, s.eval_test_anomaly)):
            for i, mid in enumerate(ids):
                for split, label, n in (("train", "normal", train[i]), ("test", "normal", normal[i]),
                                        ("test", "anomaly", anomaly[i])):
                    if n:
                        expected[(dataset, split, label, mid)] = n
        if expected == counts:
            matches.append(name)
    return matches[0] if len(matches) == 1 else None


def synthetic_dataset_info(root) -> dict | None:
    """``{"seed", "profile", "machine_type", "generator_version"}`` when ``root`` holds data written by
    :mod:`asd_utils.synth`, else ``None``. ``profile`` is the profile whose clip counts match exactly (``None`` for
    custom sizes or an incomplete folder). Reads ``metadata.csv`` and the markers of two WAVs only."""
    from .utils import resolve_path

    root = resolve_path(root)
    try:
        rows = read_own_metadata(root)
    except (ValueError, OSError):
        rows = None
    if rows:
        samples = [root / r["path"] for r in rows[:1] + rows[-1:]]
    else:
        samples = sorted(root.glob("dev_data/*/train/*.wav"))[:1] + sorted(root.glob("dev_data/*/test/*.wav"))[:1]
    markers = [PROVENANCE.match(m) for m in map(marker_of, samples) if m]
    if not markers or len(markers) != len(samples):
        return None
    first = markers[0]
    if any((m.group("seed"), m.group("type")) != (first.group("seed"), first.group("type")) for m in markers):
        return None
    machine_type = first.group("type")
    if rows and any(r["seed"] != first.group("seed") for r in rows):
        return None
    return {"seed": int(first.group("seed")), "machine_type": machine_type,
            "generator_version": int(first.group("version")),
            "profile": _profile_of(rows, machine_type) if rows else None}
