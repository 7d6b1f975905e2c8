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
import csv
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from .utils import resolve_path

SAMPLE_RATE = 16000
DATASETS = {"dev": "dev_data", "eval": "eval_data"}
GROUND_TRUTH_NAME = "eval_data_list.csv"
TABLE_COLUMNS = ["path", "file_name", "machine_type", "dataset", "split", "machine_id", "label", "y", "index"]

_LABELLED_NAME = re.compile(r"^(normal|anomaly)_(id_\d{2})_(\d{8})\.wav$")
_UNLABELLED_NAME = re.compile(r"^(id_\d{2})_(\d{8})\.wav$")


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
    """
    csv_path = Path(csv_path)
    labels: dict[str, int] = {}
    current = None
    for line_no, row in enumerate(csv.reader(read_text_file(csv_path).splitlines()), start=1):
        row = [cell.strip() for cell in row if cell.strip()]
        if not row:
            continue
        if len(row) == 1:
            current = row[0]
        elif current == machine_type:
            try:
                labels[row[0]] = int(float(row[-1]))
            except ValueError:
                raise DatasetError(f"{csv_path}, line {line_no}: expected a 0/1 label last, got {row!r}") from None
    return labels


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
    """
    root = resolve_path(root)
    if datasets is None:
        datasets = ("dev", "eval") if (root / DATASETS["eval"] / machine_type).is_dir() else ("dev",)
    if not root.is_dir():
        raise DatasetError(f"data root {root} does not exist; generate the synthetic data with "
                           "'python -m asd_utils synth' or download the real data with 'python -m asd_utils download'")
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
        truth = read_ground_truth(truth_path, machine_type) if truth_path.is_file() else {}
        for split in ("train", "test"):
            split_dir = type_dir / split
            files = sorted(split_dir.glob("*.wav")) if split_dir.is_dir() else []
            if not files and require:
                raise DatasetError(f"no .wav files in {split_dir}")
            for path in files:
                try:
                    parsed = parse_file_name(path.name)
                except DatasetError as err:
                    raise DatasetError(f"{path}: {err}") from None
                label = parsed["label"]
                if label is None and path.name in truth:
                    label = "anomaly" if truth[path.name] else "normal"
                if split == "train" and label != "normal":
                    raise DatasetError(f"{path}: training clips must be normal ('normal_id_XX_...wav')")
                rows.append({"path": str(path), "file_name": path.name, "machine_type": machine_type,
                             "dataset": dataset, "split": split, "machine_id": parsed["machine_id"],
                             "label": label, "y": {"normal": 0.0, "anomaly": 1.0}.get(label, np.nan),
                             "index": parsed["index"]})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    metadata_path = root / "metadata.csv"
    if metadata_path.is_file() and len(table):
        try:
            metadata = pd.read_csv(io.StringIO(read_text_file(metadata_path)))
            metadata["path"] = [str(root / p) for p in metadata["path"]]
        except (ValueError, KeyError) as err:  # pandas parser errors are ValueErrors
            raise DatasetError(f"{metadata_path}: not a course metadata.csv ({type(err).__name__}: {err}); restore "
                               "it, or delete it (it is optional: synthetic data only)") from None
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
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        audio, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise DatasetError(f"{path}: not a readable audio file ({err})") from None
    if file_sr != sr:
        raise DatasetError(f"{path}: sample rate {file_sr} Hz, expected {sr} Hz (resample the data first; "
                           "the course never resamples silently)")
    n_channels = audio.shape[1]
    if channel is None:
        if n_channels != 1:
            raise DatasetError(f"{path}: {n_channels} channels, expected mono; convert the clips to mono first "
                               "(the MIMII recordings have 8 microphones: keep one, e.g. `sox in.wav out.wav remix 1`)")
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
        try:
            lengths[str(path)] = sf.info(str(path)).frames
        except (RuntimeError, sf.LibsndfileError) as err:
            raise DatasetError(f"{path}: not a readable audio file ({err})") from None
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
