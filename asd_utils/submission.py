"""Submission files and their scoring: what a challenge entry looks like, and how it is judged.

Two formats people use:

* **DCASE style** - one file per machine id, ``anomaly_score_<machine_type>_id_XX.csv``, no header, one line per
  evaluation test clip: ``id_01_00000000.wav,0.8123``. The official DCASE 2020 evaluator reads these.
* **Kaggle style** - one CSV for everything, with a header: ``file_name,anomaly_score``.

:func:`score_submission` judges a DCASE-style folder against a ground-truth list in the format of DCASE's
``eval_data_list.csv`` (per id AUC and pAUC, as the official evaluator), and says clearly when there is none.

Introduced in: notebooks/07_results_and_submission.ipynb
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .data import read_ground_truth
from .metrics import evaluate_scores
from .utils import write_text_atomic

KAGGLE_COLUMNS = ("file_name", "anomaly_score")
_DCASE_FILE = re.compile(r"^anomaly_score_(?P<type>.+)_(?P<id>id_\d{2})\.csv$")


def _scores_frame(table: pd.DataFrame, scores) -> pd.DataFrame:
    scores = np.asarray(scores, dtype=float)
    if len(scores) != len(table):
        raise ValueError(f"{len(scores)} scores for {len(table)} clips")
    if not np.all(np.isfinite(scores)):
        bad = table["file_name"].to_numpy()[~np.isfinite(scores)][0]
        raise ValueError(f"the anomaly score of {bad} is NaN or infinite")
    return pd.DataFrame({"file_name": table["file_name"].to_numpy(), "machine_id": table["machine_id"].to_numpy(),
                         "score": scores}).sort_values("file_name", ignore_index=True)


def write_dcase_submission(out_dir: str | Path, table: pd.DataFrame, scores, machine_type: str = "slider") -> list[Path]:
    """Write ``anomaly_score_<machine_type>_id_XX.csv`` files (one per id in ``table``) into ``out_dir``.

    ``table`` has ``file_name`` and ``machine_id`` columns (e.g. the eval test rows of the dataset table); ``scores``
    holds one anomaly score per row. Lines are sorted by file name, as the DCASE evaluator expects. Atomic writes.
    """
    frame = _scores_frame(table, scores)
    paths = []
    for machine_id, rows in frame.groupby("machine_id", sort=True):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(zip(rows["file_name"], rows["score"].map(repr)))
        path = Path(out_dir) / f"anomaly_score_{machine_type}_{machine_id}.csv"
        paths.append(write_text_atomic(path, buffer.getvalue()))
    return paths


def write_kaggle_submission(path: str | Path, table: pd.DataFrame, scores) -> Path:
    """Write one ``file_name,anomaly_score`` CSV (with header) for all clips of ``table``, sorted by file name."""
    frame = _scores_frame(table, scores)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(KAGGLE_COLUMNS)
    writer.writerows(zip(frame["file_name"], frame["score"].map(repr)))
    return write_text_atomic(path, buffer.getvalue())


def read_dcase_submission(folder: str | Path, machine_type: str = "slider") -> pd.DataFrame:
    """Read every ``anomaly_score_<machine_type>_id_XX.csv`` in ``folder``: columns ``file_name, machine_id, score``."""
    folder = Path(folder)
    frames = []
    for path in sorted(folder.glob(f"anomaly_score_{machine_type}_id_*.csv")):
        match = _DCASE_FILE.match(path.name)
        if match is None:
            continue
        rows = list(csv.reader(path.read_text().splitlines()))
        try:
            frame = pd.DataFrame({"file_name": [r[0] for r in rows], "score": [float(r[1]) for r in rows]})
        except (IndexError, ValueError):
            raise ValueError(f"{path}: expected lines 'file_name,score'") from None
        frame["machine_id"] = match.group("id")
        frames.append(frame)
    if not frames:
        raise FileNotFoundError(f"no anomaly_score_{machine_type}_id_XX.csv files in {folder}")
    return pd.concat(frames, ignore_index=True)[["file_name", "machine_id", "score"]]


def score_submission(folder: str | Path, ground_truth: str | Path | None, machine_type: str = "slider") -> dict | None:
    """Per-id AUC/pAUC of a DCASE-style submission folder against ``eval_data_list.csv``-format ground truth.

    Returns the course's metrics dictionary (see :func:`asd_utils.metrics.evaluate_scores`), or ``None`` when no
    ground-truth file exists (a message says so). Every listed clip must have a score, and no score may be extra.
    """
    submission = read_dcase_submission(folder, machine_type)
    if ground_truth is None or not Path(ground_truth).is_file():
        print(f"No ground truth found ({ground_truth}); the submission cannot be scored here. "
              "For the real data, DCASE's eval_data_list.csv is on Zenodo (record 3951620).")
        return None
    truth = read_ground_truth(ground_truth, machine_type)
    listed = set(truth)
    submitted = set(submission["file_name"])
    ids = set(submission["machine_id"])
    expected = {name for name in listed if name[:5] in ids}
    if expected - submitted:
        missing = sorted(expected - submitted)
        raise ValueError(f"{len(missing)} clips of the ground truth have no score, e.g. {missing[0]}")
    if submitted - listed:
        extra = sorted(submitted - listed)
        raise ValueError(f"{len(extra)} scored clips are not in the ground truth, e.g. {extra[0]}")
    submission["y"] = [float(truth[name]) for name in submission["file_name"]]
    return evaluate_scores(submission, submission["score"])
