"""The data layer: DCASE 2020 Task 2 file names -> a pandas table, and checked WAV loading.

Data flows one way through the course: files -> dataset table -> features -> model -> scores -> metrics.
This module is the first step. It knows the DCASE layout::

    ROOT/dev_data/<machine_type>/train/normal_id_00_00000000.wav
    ROOT/dev_data/<machine_type>/test/{normal,anomaly}_id_00_00000000.wav
    ROOT/eval_data/<machine_type>/train/normal_id_01_00000000.wav
    ROOT/eval_data/<machine_type>/test/id_01_00000000.wav        (no label in the name)

and turns it into one row per clip. Loading is strict on purpose: a wrong sample rate, a multi-channel file or a
truncated file is an error that names the file, never a silent resample or a crash deep inside a model.

Introduced in: notebooks/01_data_exploration.ipynb
"""
from __future__ import annotations

import collections
import hashlib
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from .paths import path_component
from .utils import resolve_path

SAMPLE_RATE = 16000  # DCASE 2020 Task 2 clips (and the course's synthetic ones)
DATASETS = {"dev": "dev_data", "eval": "eval_data"}
GROUND_TRUTH_NAME = "eval_data_list.csv"
TABLE_COLUMNS = ["path", "file_name", "machine_type", "dataset", "split", "machine_id", "label", "y", "index"]

_LABELLED_NAME = re.compile(r"^(normal|anomaly)_(id_\d{2})_(\d{8})\.wav$")
_UNLABELLED_NAME = re.compile(r"^(id_\d{2})_(\d{8})\.wav$")
#: Suffixes of audio files: one of these in a split folder that the course does not read is reported, not skipped
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff", ".m4a", ".opus")


class DatasetError(ValueError):
    """A file or folder does not look like the DCASE layout the course expects (the message names it)."""


def parse_file_name(name: str) -> dict:
    """Split a DCASE clip name into ``label``, ``machine_id`` and ``index``.

    ``"anomaly_id_02_00000012.wav"`` -> ``{"label": "anomaly", "machine_id": "id_02", "index": 12}``;
    the evaluation test names (``"id_01_00000003.wav"``) carry no label, so ``label`` is ``None``.
    Anything else raises :class:`DatasetError` naming the file.
    """
    match = _LABELLED_NAME.match(name)
    if match:
        return {"label": match.group(1), "machine_id": match.group(2), "index": int(match.group(3))}
    match = _UNLABELLED_NAME.match(name)
    if match:
        return {"label": None, "machine_id": match.group(1), "index": int(match.group(2))}
    raise DatasetError(
        f"{name!r} is not a DCASE 2020 clip name; expected 'normal_id_00_00000000.wav', "
        "'anomaly_id_00_00000000.wav' or, in the evaluation test set, 'id_01_00000000.wav'"
    )


def read_text_file(path: str | Path) -> str:
    """The UTF-8 text of a CSV the course reads, or a :class:`DatasetError` naming the file and the fix."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path}: not a UTF-8 text file (byte {err.start}: {err.reason}); the file is damaged: "
                           "restore it, or delete it if it is optional (metadata.csv, eval_data_list.csv)") from None
    except OSError as err:
        raise DatasetError(f"{path}: cannot be read ({err.strerror or err})") from None


def read_ground_truth(csv_path: str | Path, machine_type: str) -> dict[str, int]:
    """Read DCASE's ``eval_data_list.csv``: ``{eval test file name: 0 (normal) or 1 (anomaly)}`` for one machine type.

    The file has a line with just a machine type, then ``file_name,original_name,label`` lines for that type.
    Parsed and validated by :func:`asd_utils.labels.read_ground_truth` (duplicates, labels other than 0/1 and a
    missing section are refused, naming the rows).
    """
    from .labels import read_ground_truth as parse

    return parse(csv_path, machine_type)


def blocking_file(root: str | Path) -> Path | None:
    """The file (or broken link) that stands where ``root`` or one of its parent folders should be, else None."""
    root = resolve_path(root)
    existing = next((p for p in (root, *root.parents) if p.exists() or p.is_symlink()), None)
    return existing if existing is not None and not existing.is_dir() else None


def check_root(root: str | Path) -> Path:
    """``root`` (absolute) when it is an existing folder; a :class:`DatasetError` saying what it is instead."""
    root = resolve_path(root)
    if root.is_dir():
        return root
    existing = blocking_file(root) or next((p for p in root.parents if p.exists()), None)
    how = ("generate the synthetic data with 'python -m asd_utils synth' or download the real data with "
           "'python -m asd_utils download'")
    if existing == root:
        raise DatasetError(f"data root {root} is a file (or a broken link), expected a folder in the DCASE layout; "
                           f"point DATA_ROOT/--data-root at the folder that holds dev_data/")
    if existing is not None and not existing.is_dir():
        raise DatasetError(f"data root {root} cannot exist: {existing} is a file, expected a folder; move that file "
                           f"away or choose another data root, then {how}")
    raise DatasetError(f"data root {root} does not exist; {how}")


def _unreadable(path: Path) -> str | None:
    """Why ``path`` cannot be read as a clip (missing link target, folder, permission), or None when it can be."""
    if path.is_symlink() and not path.exists():
        return (f"a symbolic link to {os.readlink(path)}, which does not exist (missing target): restore the target "
                "or delete the link")
    if path.is_dir():
        return "a folder, not an audio file: rename or move it"
    if not path.exists():
        return "file not found"
    if not os.access(path, os.R_OK):
        return "permission denied: make it readable (chmod u+r) or move it out of the data folder"
    return None


def _scan_split(split_dir: Path) -> tuple[list[Path], list[str]]:
    """The clips of one train/test folder, and what else there looks like a clip but is not used (to report).

    This is the one place that decides what a clip is: a readable file named ``*.wav`` directly in the folder.
    Other audio files (``.WAV``, ``.flac`` ...), sub-folders holding audio and unreadable ``.wav`` files are reported.
    """
    clips, problems = [], []
    if not split_dir.is_dir():
        return clips, problems
    for path in sorted(split_dir.iterdir()):
        if path.suffix == ".wav":
            why = _unreadable(path)
            if why is None:
                clips.append(path)
            else:
                problems.append(f"{path.name}: {why}")
        elif path.suffix.lower() in AUDIO_SUFFIXES and not path.name.startswith("."):
            problems.append(f"{path.name} looks like a clip but is not used (the course reads only '*.wav' names): "
                            "convert it to a 16 kHz mono .wav, or move it out of the data folder")
        elif path.is_dir() and any(p.suffix.lower() in AUDIO_SUFFIXES for p in path.rglob("*")):
            problems.append(f"{path.name}/ is a sub-folder with audio files, which are not used (clips lie directly "
                            f"in {split_dir.name}/): move them up, or out of the data folder")
    return clips, problems


def _check_ids(rows: list[dict], dataset: str, type_dir: Path) -> None:
    """Every test id must have training clips of its own (a per-id model of its normal sound), checked before any
    training starts instead of as NaN scores after it."""
    train = {r["machine_id"] for r in rows if r["dataset"] == dataset and r["split"] == "train"}
    test = sorted({r["machine_id"] for r in rows if r["dataset"] == dataset and r["split"] == "test"} - train)
    if test:
        raise DatasetError(f"{type_dir / 'test'}: test clips of {', '.join(test)} but no training clips of "
                           f"{'that id' if len(test) == 1 else 'those ids'} in {type_dir / 'train'}; an anomaly "
                           "score compares a clip with the normal clips of its own machine: add their training "
                           "clips, or move their test clips out")


def dataset_table(root: str | Path, machine_type: str = "slider", datasets: tuple[str, ...] | None = None,
                  require: bool = True) -> pd.DataFrame:
    """One row per clip under ``root`` in the DCASE layout, sorted by path.

    Columns: ``path`` (absolute), ``file_name``, ``machine_type``, ``dataset`` (dev/eval), ``split`` (train/test),
    ``machine_id`` ("id_00"), ``label`` ("normal"/"anomaly"/None), ``y`` (0.0/1.0/NaN), ``index``.
    The evaluation ground truth (``eval_data/<type>/eval_data_list.csv``) fills in the eval test labels when present,
    and the synthetic data's ``metadata.csv`` adds its generation parameters (anomaly type, severity, SNR...).
    With ``require=True`` a missing dataset folder or an empty split is an error naming the folder.
    ``datasets=None`` (the default) reads the development data (required) and the evaluation data when its folder
    exists, so a dev-only download (``download --parts dev``) works wherever no evaluation data are needed.
    Refused, naming the files: anything in a split folder that looks like a clip but cannot be used, an unlabelled
    name among the development test clips, an evaluation test clip the ground truth does not list, and (with
    ``require``) test clips of an id without training clips.
    """
    machine_type = path_component(machine_type, "machine type")
    root = check_root(root)
    if datasets is None:
        datasets = ("dev", "eval") if (root / DATASETS["eval"] / machine_type).is_dir() else ("dev",)
    rows = []
    for dataset in datasets:
        type_dir = root / DATASETS[dataset] / machine_type
        if not type_dir.is_dir():
            if require:
                get = ("python -m asd_utils download --parts eval_train,eval_test,ground_truth" if dataset == "eval"
                       else "python -m asd_utils download --parts dev")
                raise DatasetError(f"missing folder {type_dir} (expected the DCASE layout "
                                   f"ROOT/{DATASETS[dataset]}/{machine_type}/train and .../test); for the real "
                                   f"data: {get} --data-root {root}")
            continue
        truth_path = type_dir / GROUND_TRUTH_NAME
        truth = read_ground_truth(truth_path, machine_type) if truth_path.is_file() else None
        for split in ("train", "test"):
            split_dir = type_dir / split
            files, problems = _scan_split(split_dir)
            if problems:
                raise DatasetError(f"{split_dir}: {len(problems)} entr{'y' if len(problems) == 1 else 'ies'} that "
                                   f"cannot be used: {'; '.join(problems[:3])}")
            if not files and require:
                raise DatasetError(f"no .wav files in {split_dir}")
            for path in files:
                try:
                    parsed = parse_file_name(path.name)
                except DatasetError as err:
                    raise DatasetError(f"{path}: {err}") from None
                label = parsed["label"]
                if split == "train" and label != "normal":
                    raise DatasetError(f"{path}: training clips must be normal ('normal_id_XX_...wav')")
                if label is None and dataset == "dev":
                    raise DatasetError(f"{path}: a development test clip without a label in its name (its AUC "
                                       "could not count it); rename it normal_<name> or anomaly_<name>, or move it out")
                if label is None and truth is not None:
                    if path.name not in truth:
                        raise DatasetError(f"{path}: not listed in {truth_path} (its label is unknown, so an AUC "
                                           "would silently leave it out); add its row there or move the clip out")
                    label = "anomaly" if truth[path.name] else "normal"
                rows.append({"path": str(path), "file_name": path.name, "machine_type": machine_type,
                             "dataset": dataset, "split": split, "machine_id": parsed["machine_id"],
                             "label": label, "y": {"normal": 0.0, "anomaly": 1.0}.get(label, np.nan),
                             "index": parsed["index"]})
        if require:
            _check_ids(rows, dataset, type_dir)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    metadata_path = root / "metadata.csv"
    if metadata_path.is_file() and len(table):
        try:
            metadata = pd.read_csv(io.StringIO(read_text_file(metadata_path)))
            metadata["path"] = [str(root / p) for p in metadata["path"]]
        except (ValueError, KeyError) as err:  # pandas parser errors are ValueErrors
            raise DatasetError(f"{metadata_path}: not a course metadata.csv ({type(err).__name__}: {err}); restore "
                               "it, or delete it (it is optional: synthetic data only)") from None
        repeated = metadata["path"][metadata["path"].duplicated()]
        if len(repeated):  # a merge would turn each such clip into two rows of the table
            raise DatasetError(f"{metadata_path}: {len(repeated)} path(s) listed twice, e.g. {repeated.iloc[0]}; "
                               "restore it, or delete it (it is optional: synthetic data only)")
        extra = [c for c in metadata.columns if c == "path" or c not in table.columns]
        table = table.merge(metadata[extra], on="path", how="left")
    return table.sort_values("path", ignore_index=True)


def select(table: pd.DataFrame, dataset: str | None = None, split: str | None = None,
           machine_id: str | None = None) -> pd.DataFrame:
    """Rows of ``table`` matching the given dataset / split / machine id (``None`` = any), with a fresh index."""
    mask = pd.Series(True, index=table.index)
    for column, value in (("dataset", dataset), ("split", split), ("machine_id", machine_id)):
        if value is not None:
            mask &= table[column] == value
    return table[mask].reset_index(drop=True)


def load_wav(path: str | Path, sr: int = SAMPLE_RATE, channel: int | None = None,
             n_samples: int | None = None) -> np.ndarray:
    """Read one WAV as float32 in [-1, 1], checking it: the sample rate must be ``sr`` (no silent resampling).

    Multi-channel files (the original MIMII recordings have 8 microphones) need an explicit ``channel``.
    With ``n_samples`` the clip must have exactly that length (all clips of a batch share one shape).
    Every problem raises :class:`DatasetError` naming the file and what was expected.
    """
    path = Path(path)
    why = _unreadable(path)
    if why is not None:
        raise DatasetError(f"{path}: {why}")
    try:
        audio, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise DatasetError(f"{path}: not a readable audio file ({err}); replace it or move it out") from None
    if file_sr != sr:
        raise DatasetError(f"{path}: sample rate {file_sr} Hz, expected {sr} Hz; the course never resamples "
                           "silently: write a converted copy once with 'python -m asd_utils convert SRC DST'")
    n_channels = audio.shape[1]
    if channel is None:
        if n_channels != 1:
            raise DatasetError(f"{path}: {n_channels} channels, expected mono; write a mono copy once with "
                               "'python -m asd_utils convert SRC DST' (the mean of the channels, or --channel N to "
                               "keep one of MIMII's 8 microphones)")
        channel = 0
    elif not 0 <= channel < n_channels:
        raise DatasetError(f"{path}: channel {channel} requested but the file has {n_channels} channel(s)")
    wave = np.ascontiguousarray(audio[:, channel])
    if wave.size == 0:
        raise DatasetError(f"{path}: empty audio (0 samples)")
    if not np.isfinite(wave).all():
        bad = int(np.flatnonzero(~np.isfinite(wave))[0])
        raise DatasetError(f"{path}: sample {bad} ({bad / file_sr:.3f} s) is NaN or infinite; the file is damaged "
                           "(replace it or leave it out)")
    if n_samples is not None and wave.size != n_samples:
        raise DatasetError(f"{path}: {wave.size} samples, expected {n_samples} "
                           f"({n_samples / sr:.2f} s at {sr} Hz); the file may be truncated")
    return wave


def clip_length(paths, sr: int = SAMPLE_RATE) -> int:
    """The number of samples every clip in ``paths`` has (read from the headers only).

    When lengths differ, the most common length is the expected one and the error names the clips that differ,
    so a short clip is blamed however the files sort.
    """
    lengths = {}
    for path in paths:
        why = _unreadable(Path(path))
        if why is not None:
            raise DatasetError(f"{path}: {why}")
        try:
            lengths[str(path)] = sf.info(str(path)).frames
        except (RuntimeError, sf.LibsndfileError) as err:
            raise DatasetError(f"{path}: not a readable audio file ({err}); replace it or move it out") from None
    counts = collections.Counter(lengths.values())
    if len(counts) > 1:
        expected = counts.most_common(1)[0][0]
        odd = [path for path, n in lengths.items() if n != expected]
        raise DatasetError(f"{odd[0]}: {lengths[odd[0]]} samples, expected {expected} ({expected / sr:.2f} s at {sr} "
                           f"Hz, the length of {counts[expected]} of the {len(lengths)} clips); "
                           f"{len(odd)} clip(s) differ, all clips must be equally long (truncated file?)")
    return next(iter(counts), 0)


def load_batch(paths, sr: int = SAMPLE_RATE, channel: int | None = None, n_samples: int | None = None) -> np.ndarray:
    """Load several clips of equal length into one float32 array ``[n_clips, n_samples]``.

    ``n_samples`` is the expected length (default: checked with :func:`clip_length` over ``paths``).
    """
    paths = list(paths)
    if not paths:
        return np.zeros((0, 0), dtype=np.float32)
    n_samples = clip_length(paths, sr) if n_samples is None else n_samples
    batch = np.empty((len(paths), n_samples), dtype=np.float32)
    for row, path in enumerate(paths):
        batch[row] = load_wav(path, sr=sr, channel=channel, n_samples=n_samples)
    return batch


def dataset_fingerprint(root: str | Path, machine_type: str = "*") -> str:
    """A short hash of the development clips under ``root`` (names, sizes, modification times).

    Stored in every metrics.json, so results of another dataset - or of the same folder regenerated with another
    seed or profile - are never mixed with this one's.
    """
    root = resolve_path(root)
    digest = hashlib.sha1()
    for path in sorted((root / DATASETS["dev"]).glob(f"{machine_type}/*/*.wav")):
        stat = path.stat()
        digest.update(f"{path.relative_to(root).as_posix()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def require_machine_ids(machine_ids, minimum: int, what: str) -> list[str]:
    """The distinct ids of ``machine_ids`` (sorted); a :class:`DatasetError` saying why when there are too few."""
    ids = sorted({str(m) for m in machine_ids})
    if len(ids) < minimum:
        raise DatasetError(f"{what} needs training clips of at least {minimum} machine ids, got {len(ids)} "
                           f"({', '.join(ids) or 'none'}): a machine-id classifier with one class gives every clip "
                           "p(id) = 1 and meaningless scores; add clips of another id, or use the autoencoders "
                           "(notebook 03), which work per id")
    return ids
