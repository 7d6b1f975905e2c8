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
from pathlib import Path

import numpy as np
import pandas as pd

from .data import DatasetError, parse_file_name, read_ground_truth
from .devices import as_device
from .labels import read_score_file, score_file_id
from .metrics import evaluate_scores
from .model_registry import SCORE_LABELS
from .paths import folder_lock, path_component, refuse_sources
from .utils import cli_path, display_path, resolve_path, writable_dir, write_text_atomic

KAGGLE_COLUMNS = ("file_name", "anomaly_score")


def _scores_frame(table: pd.DataFrame, scores) -> pd.DataFrame:
    scores = np.asarray(scores, dtype=float)
    if len(scores) != len(table):
        raise ValueError(f"{len(scores)} scores for {len(table)} clips")
    repeated = table["file_name"][table["file_name"].duplicated()]
    if len(repeated):  # one line per clip: a second one would be scored as an extra clip
        raise ValueError(f"{len(repeated)} clip(s) appear twice in the table, e.g. {repeated.iloc[0]}; a submission "
                         "holds each test clip once (pass the test clips of one dataset)")
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
    path_component(machine_type, "machine type")
    files = {machine_id: Path(out_dir) / f"anomaly_score_{machine_type}_{path_component(machine_id, 'machine id')}.csv"
             for machine_id in sorted(frame["machine_id"].unique())}
    refuse_sources(files.values(), "submission folder")
    paths = []
    for machine_id, rows in frame.groupby("machine_id", sort=True):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(zip(rows["file_name"], rows["score"].map(repr)))
        paths.append(write_text_atomic(files[machine_id], buffer.getvalue()))
    return paths


def write_kaggle_submission(path: str | Path, table: pd.DataFrame, scores) -> Path:
    """Write one ``file_name,anomaly_score`` CSV (with header) for all clips of ``table``, sorted by file name."""
    frame = _scores_frame(table, scores)
    refuse_sources([path], "submission file")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(KAGGLE_COLUMNS)
    writer.writerows(zip(frame["file_name"], frame["score"].map(repr)))
    return write_text_atomic(path, buffer.getvalue())


def read_dcase_submission(folder: str | Path, machine_type: str = "slider", machine_ids=None) -> pd.DataFrame:
    """Read the ``anomaly_score_<machine_type>_id_XX.csv`` files in ``folder``: columns ``file_name, machine_id, score``.

    ``machine_ids`` restricts them to those ids (files of other ids, e.g. from an earlier run, are not read).
    Each file is parsed and validated by :func:`asd_utils.labels.read_score_file` (one line per clip of its own id,
    finite scores, no duplicates; the error names the file and the lines).
    """
    folder = Path(folder)
    path_component(machine_type, "machine type")
    frames = []
    for path in sorted(folder.glob(f"anomaly_score_{machine_type}_id_*.csv")):
        machine_id = score_file_id(path)
        if machine_id is None or (machine_ids is not None and machine_id not in set(machine_ids)):
            continue
        frames.append(read_score_file(path))
    if not frames:
        raise FileNotFoundError(f"no anomaly_score_{machine_type}_id_XX.csv files in {folder}")
    return pd.concat(frames, ignore_index=True)[["file_name", "machine_id", "score"]]


def score_submission(folder: str | Path, ground_truth: str | Path | None, machine_type: str = "slider",
                     machine_ids=None) -> dict | None:
    """Per-id AUC/pAUC of a DCASE-style submission folder against ``eval_data_list.csv``-format ground truth.

    Returns the course's metrics dictionary (see :func:`asd_utils.metrics.evaluate_scores`), or ``None`` when no
    ground-truth file exists (a message says so). Every listed clip must have a score, and no score may be extra.
    ``machine_ids`` scores only those ids' files (see :func:`read_dcase_submission`).
    """
    submission = read_dcase_submission(folder, machine_type, machine_ids)
    if ground_truth is None or not Path(ground_truth).is_file():
        print(f"No ground truth found ({display_path(ground_truth) if ground_truth else 'none given'}); the submission "
              "cannot be scored here. "
              "For the real data, DCASE's eval_data_list.csv is on Zenodo (record 3951620).")
        return None
    truth = read_ground_truth(ground_truth, machine_type)
    _check_coverage(submission, truth, f"the ground truth {display_path(ground_truth)}", folder)
    submission["y"] = [float(truth[name]) for name in submission["file_name"]]
    return evaluate_scores(submission, submission["score"])


def _check_coverage(submission: pd.DataFrame, labels: dict, what: str, folder) -> None:
    """Every labelled clip of the submitted ids has a score, and every score belongs to a labelled clip."""
    ids = set(submission["machine_id"])
    submitted = set(submission["file_name"])
    expected = {name for name in labels if parse_file_name(name)["machine_id"] in ids}
    missing, extra = sorted(expected - submitted), sorted(submitted - set(labels))
    if missing:
        raise DatasetError(f"{folder}: {len(missing)} clip(s) of {what} have no score, e.g. {missing[0]}; score "
                           "every test clip of each submitted id")
    if extra:
        raise DatasetError(f"{folder}: {len(extra)} scored clip(s) are not in {what}, e.g. {extra[0]}; a "
                           "submission scores exactly the test clips")


# ------------------------------------------------------------------------------------------ python -m asd_utils score
KAGGLE_FILE_NAME = "kaggle_submission.csv"
SCORE_CHOICES = tuple(SCORE_LABELS)  # a classifier's scores (asd_utils.scoring.classifier_scores)
DEFAULT_CLASSIFIER_SCORE = "mahalanobis"


def ground_truth_path(data_root: str | Path, machine_type: str = "slider") -> Path:
    """Where DCASE's evaluation ground truth lives in the course layout: ``ROOT/eval_data/<type>/eval_data_list.csv``."""
    from .data import GROUND_TRUTH_NAME

    return resolve_path(data_root) / "eval_data" / path_component(machine_type, "machine type") / GROUND_TRUTH_NAME


def _check_ids(model_ids, clip_ids, what: str) -> None:
    missing = sorted(set(clip_ids) - set(model_ids))
    if missing:
        raise ValueError(f"the {what} was trained on machine ids {', '.join(sorted(model_ids))} and cannot score "
                         f"clips of {', '.join(missing)}: an anomaly score compares a clip with the normal clips of "
                         "its own machine, so train on those ids' training clips first (notebook 07 retrains the "
                         "chosen models on the evaluation ids 01/03/05)")


def score_clips(checkpoint_path: str | Path, table: pd.DataFrame, score: str | None = None, cache_dir="data/cache",
                device="auto") -> tuple[np.ndarray, dict]:
    """Anomaly scores of ``table``'s clips (columns ``path``, ``machine_id``) with a saved course model.

    ``checkpoint_path``: an autoencoder checkpoint (:func:`asd_utils.ae_pipeline.save_autoencoders`, notebooks 03 and
    07) or a classifier checkpoint (:func:`asd_utils.classifier_files.save_classifier`, notebooks 04-07). ``score`` applies
    to classifiers only (one of :data:`SCORE_CHOICES`; default: the checkpoint's ``hyperparameters["score"]``, else
    Mahalanobis). Returns ``(scores [n], info)`` with ``info`` = ``{"kind", "model", "score", "machine_ids"}``.
    Errors name the file: no such file, not a course checkpoint, ids the model was not trained on.
    """
    from . import ae_pipeline, classifier_files, classifier_inputs
    from .checkpoints import AUTOENCODER_FORMAT, feature_params, read_checkpoint
    from .data import require_machine_ids
    from .features import log_mel_dataset

    device = as_device(device)
    checkpoint = read_checkpoint(checkpoint_path)  # the format known and every entry present, or a clear error
    clip_ids = table["machine_id"].astype(str).to_numpy()
    if checkpoint["format"] == AUTOENCODER_FORMAT:
        if score not in (None, "reconstruction"):
            raise ValueError(f"--score {score} applies to classifiers; an autoencoder scores by reconstruction error")
        loaded = ae_pipeline.load_autoencoders(checkpoint)
        _check_ids(loaded, clip_ids, f"autoencoder in {display_path(checkpoint_path)}")
        logmels = log_mel_dataset(table["path"], feature_params(checkpoint), cache_dir=cache_dir, device=device)
        scores = ae_pipeline.autoencoder_scores(loaded, logmels, clip_ids, frames=checkpoint["frames"], device=device)
        return scores, {"kind": "autoencoder", "model": checkpoint["name"], "score": "reconstruction",
                        "machine_ids": sorted(loaded)}
    classes = list(checkpoint["classes"])
    require_machine_ids(classes, classifier_inputs.MIN_CLASSES, f"the classifier in {display_path(checkpoint_path)}")
    _check_ids(classes, clip_ids, f"classifier in {display_path(checkpoint_path)}")
    score = score or checkpoint.get("hyperparameters", {}).get("score") or DEFAULT_CLASSIFIER_SCORE
    if score not in SCORE_CHOICES:
        raise ValueError(f"unknown score {score!r}; expected one of {', '.join(SCORE_CHOICES)}")
    run = classifier_files.rescore(checkpoint, table, cache_dir=cache_dir, device=device)  # (read once, above)
    return run.scores[score], {"kind": "classifier", "model": run.name, "score": score, "machine_ids": classes}


def write_submission(out_dir: str | Path, table: pd.DataFrame, scores, machine_type: str = "slider") -> list[Path]:
    """Both submission formats into ``out_dir``: the DCASE per-id files and :data:`KAGGLE_FILE_NAME`; returns paths."""
    paths = write_dcase_submission(out_dir, table, scores, machine_type)
    return paths + [write_kaggle_submission(Path(out_dir) / KAGGLE_FILE_NAME, table, scores)]


def score_dev_submission(folder: str | Path, table: pd.DataFrame, machine_type: str = "slider") -> dict:
    """Per-id AUC/pAUC of a DCASE-style submission of *development* test clips, labels read from the file names.

    Only the files of ``table``'s machine ids are read."""
    submission = read_dcase_submission(folder, machine_type, sorted(set(table["machine_id"])))
    labels = dict(zip(table["file_name"], table["y"]))
    _check_coverage(submission, labels, "the development test clips", folder)
    submission["y"] = [labels[name] for name in submission["file_name"]]
    return evaluate_scores(submission, submission["score"])


def _print_metrics(metrics: dict) -> None:
    print(f"{'machine id':12s} {'AUC':>7s} {'pAUC':>7s}")
    for machine_id, values in metrics["per_id"].items():
        print(f"{machine_id:12s} {values['auc']:7.3f} {values['pauc']:7.3f}")
    print(f"{'mean':12s} {metrics['mean_auc']:7.3f} {metrics['mean_pauc']:7.3f}")
    print(f"{'pooled AUC':12s} {metrics['pooled_auc']:7.3f}")


def score_main(argv: list[str] | None = None) -> int:
    """``python -m asd_utils score``: score DCASE-layout test clips with a saved model, write both submission formats
    and judge them against the ground truth when there is one.

    Returns 0 on success, 1 for a problem with the data or the model (the message says which), 2 for bad arguments.

    Introduced in: notebooks/07_results_and_submission.ipynb
    """
    import argparse
    import sys

    from .data import dataset_table, select

    parser = argparse.ArgumentParser(
        prog="python -m asd_utils score",
        description="Score the test clips of a DCASE-layout dataset with a saved model (an autoencoder checkpoint "
                    "from notebook 03/07 or a classifier checkpoint from notebooks 04-07), write the DCASE per-id "
                    "CSVs and a Kaggle-style CSV, and score them against the ground truth when it is there.")
    parser.add_argument("--model", required=True, help="checkpoint file (.pt), e.g. outputs/course/"
                        "07_results_and_submission/models/dcase_ae_eval.pt")
    parser.add_argument("--data-root", default="data/synthetic_course", help="folder holding dev_data/ and "
                        "eval_data/ (default: data/synthetic_course; relative paths: from the current folder)")
    parser.add_argument("--dataset", choices=("eval", "dev"), default="eval",
                        help="which test clips: eval (ids 01/03/05, no labels in the names) or dev (default: eval)")
    parser.add_argument("--machine-type", default="slider", help="machine type folder (default: slider)")
    parser.add_argument("--out", default="outputs/submission", help="output folder (default: outputs/submission)")
    parser.add_argument("--score", choices=SCORE_CHOICES, default=None,
                        help="classifier score (default: the one recorded in the checkpoint, else mahalanobis)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    parser.add_argument("--cache-dir", default=None, help="log-mel cache (default: OUT/cache; '' disables it)")
    args = parser.parse_args(argv)
    data_root = cli_path(args.data_root)
    try:
        out_dir = writable_dir(cli_path(args.out), "--out")
        cache_dir = (None if args.cache_dir == "" else
                     writable_dir(cli_path(args.cache_dir) if args.cache_dir else out_dir / "cache", "--cache-dir"))
        table = select(dataset_table(data_root, args.machine_type, datasets=(args.dataset,)), split="test")
        created = not out_dir.exists()
        try:
            with folder_lock(out_dir, "--out"):  # two commands writing one folder: the second is refused
                _score_and_write(args, data_root, out_dir, cache_dir, table)
        finally:
            if created and out_dir.is_dir() and not any(out_dir.iterdir()):
                out_dir.rmdir()  # a refused run leaves no empty folder behind
    except (ValueError, OSError) as err:  # DatasetError is a ValueError; OSError: unreadable model, full disk
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _score_and_write(args, data_root: Path, out_dir: Path, cache_dir, table: pd.DataFrame) -> None:
    """The body of ``score``: scores, both submission formats, their own scoring (with the output folder locked)."""
    scores, info = score_clips(cli_path(args.model), table, score=args.score, cache_dir=cache_dir,
                               device=args.device)
    print(f"{info['model']} ({info['kind']}, score: {info['score']}), trained on {', '.join(info['machine_ids'])}: "
          f"scored {len(table)} {args.dataset} test clips of {', '.join(sorted(table['machine_id'].unique()))}")
    paths = write_submission(out_dir, table, scores, args.machine_type)
    print(f"wrote {len(paths)} files to {display_path(out_dir)}: {', '.join(p.name for p in paths)}")
    ids = sorted(set(table["machine_id"]))
    older = sorted(p.name for p in out_dir.glob(f"anomaly_score_{args.machine_type}_id_*.csv") if p not in paths)
    if older:
        print(f"not scored: {', '.join(older)} in {display_path(out_dir)} (not written by this run)")
    if args.dataset == "dev":
        print("scored against the labels in the development file names:")
        _print_metrics(score_dev_submission(out_dir, table, args.machine_type))
    else:
        truth = ground_truth_path(data_root, args.machine_type)
        metrics = score_submission(out_dir, truth, args.machine_type, machine_ids=ids)
        if metrics is not None:
            print(f"scored against {display_path(truth)}:")
            _print_metrics(metrics)
