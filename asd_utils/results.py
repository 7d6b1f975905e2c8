"""The course's results: what a run's notebooks wrote, as tables.

:func:`collect_summary`, :func:`collect_dev_eval`, :func:`summary_markdown`: one table of every notebook's
``metrics.json`` (the runner's ``summary.csv``/``summary.md``); :func:`earlier_results`: the same for the notebooks
that ran before the current one (04-06 compare with them). Notebook 07's choice of models is
:mod:`asd_utils.model_choice`, the literature's numbers :mod:`asd_utils.literature`.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

from . import profiles
from .literature import LITERATURE_RESULTS
from .metrics import dataset_mismatch
from .utils import display_path

SUMMARY_FIXED_COLUMNS = ["notebook", "model", "score", "dataset", "dev_result", "mean_auc", "mean_pauc", "pooled_auc"]
SUMMARY_TAIL_COLUMNS = ["n_params", "train_seconds", "notebook_seconds"]
DEV_EVAL_COLUMNS = ["model", "chosen_from", "dev_mean_auc", "eval_mean_auc", "dev_mean_pauc", "eval_mean_pauc",
                    "dev_pooled_auc", "eval_pooled_auc", "eval_train_seconds"]
def _dataset_of(metrics: dict) -> str:
    """``"eval"`` when every machine id of a model's ``per_id`` is an evaluation id (01/03/05), else ``"dev"``."""
    ids = set(metrics.get("per_id", {}))
    return "eval" if ids and ids <= set(profiles.EVAL_IDS) else "dev"


def _read_models(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text())
        models = payload["models"]
        if not isinstance(models, dict):
            raise TypeError("'models' is not a dictionary")
        return models
    except (ValueError, KeyError, TypeError) as err:
        print(f"skipping {path}: not a course metrics.json ({type(err).__name__}: {err})", file=sys.stderr)
        return None


def _metrics_paths(out_dir: Path, stems: list[str] | None, data_root=None, profile: str | None = None) -> list[Path]:
    """The metrics.json files of ``stems`` (default: all) in ``out_dir``; with ``data_root``, only that data's."""
    paths = [out_dir / stem / "metrics.json" for stem in stems] if stems is not None \
        else sorted(out_dir.glob("*/metrics.json"))
    paths = [path for path in paths if path.is_file()]
    if data_root is None:
        return paths
    kept = []
    for path in paths:
        try:
            why = dataset_mismatch(json.loads(path.read_text(encoding="utf-8")), data_root, profile)
        except (ValueError, AttributeError):
            why = None  # unreadable: _read_models reports it
        if why:
            print(f"left out of the summary: {display_path(path)}: {why}", file=sys.stderr)
        else:
            kept.append(path)
    return kept


def read_timings(out_dir: Path) -> dict[str, float]:
    """``{notebook: seconds}`` from ``out_dir/timings.csv`` (empty when absent; a damaged file is named)."""
    path = out_dir / "timings.csv"
    if not path.is_file():
        return {}
    try:
        table = pd.read_csv(path)
        return dict(zip(table["notebook"].astype(str), table["seconds"].astype(float)))
    except (ValueError, KeyError) as err:
        raise ValueError(f"{path}: not a course timings.csv ({type(err).__name__}: {err}); delete it and run again") \
            from None


def collect_summary(out_dir: str | os.PathLike, stems: list[str] | None = None,
                    timings: dict[str, float] | None = None, data_root=None, profile: str | None = None) -> pd.DataFrame:
    """One row per (notebook, model) from ``out_dir/<stem>/metrics.json``.

    Columns: notebook, model, score (the entry's score key), dataset (``"eval"`` for models scored on the evaluation
    ids 01/03/05, as notebook 07's retrained models, else ``"dev"``), dev_result (the development result a
    retrained model was chosen by: its entry's ``dev`` model; empty otherwise), mean_auc, mean_pauc, pooled_auc,
    ``auc_<id>`` per machine id (development ids first), n_params, train_seconds, notebook_seconds (the notebook's wall time from ``timings``, default
    ``out_dir/timings.csv`` when present). ``stems`` restricts the notebooks read (default: every
    ``*/metrics.json``); ``data_root`` (and ``profile``) leave out results of other data
    (:func:`asd_utils.metrics.dataset_mismatch`). Unreadable files and left-out results are reported on stderr.
    """
    out_dir = Path(out_dir)
    timings = read_timings(out_dir) if timings is None else timings
    rows = []
    for path in _metrics_paths(out_dir, stems, data_root, profile):
        models = _read_models(path)
        for model, metrics in (models or {}).items():
            row = {"notebook": path.parent.name, "model": model, "score": metrics.get("score"),
                   "dataset": _dataset_of(metrics), "dev_result": (metrics.get("dev") or {}).get("model")}
            for key in ("mean_auc", "mean_pauc", "pooled_auc"):
                row[key] = metrics.get(key)
            for machine_id, values in sorted(metrics.get("per_id", {}).items()):
                row[f"auc_{machine_id}"] = values.get("auc")
            row["n_params"] = metrics.get("n_params")
            row["train_seconds"] = metrics.get("train_seconds")
            row["notebook_seconds"] = timings.get(path.parent.name)
            rows.append(row)
    eval_ids = {f"auc_{machine_id}" for machine_id in profiles.EVAL_IDS}
    id_columns = sorted({key for row in rows for key in row if key.startswith("auc_")},
                        key=lambda column: (column in eval_ids, column))
    frame = pd.DataFrame(rows, columns=SUMMARY_FIXED_COLUMNS + id_columns + SUMMARY_TAIL_COLUMNS)
    for column in frame.columns[SUMMARY_FIXED_COLUMNS.index("mean_auc"):]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["n_params"] = frame["n_params"].round().astype("Int64")
    return frame


def collect_dev_eval(out_dir: str | os.PathLike, stems: list[str] | None = None, data_root=None,
                     profile: str | None = None) -> pd.DataFrame:
    """Development and evaluation scores side by side, one row per model that notebook 07 retrained on the eval ids.

    Reads the models of ``out_dir/<stem>/metrics.json`` that carry a ``"dev"`` entry (``{"notebook", "model",
    "mean_auc", "mean_pauc", "pooled_auc"}``: the development result the model was chosen by). Columns:
    :data:`DEV_EVAL_COLUMNS` (``chosen_from`` is the development notebook). Empty when no model has one.
    """
    rows = []
    for path in _metrics_paths(Path(out_dir), stems, data_root, profile):
        for metrics in (_read_models(path) or {}).values():
            dev = metrics.get("dev")
            if not isinstance(dev, dict):
                continue
            rows.append({"model": dev.get("model"), "chosen_from": dev.get("notebook"),
                         "dev_mean_auc": dev.get("mean_auc"), "eval_mean_auc": metrics.get("mean_auc"),
                         "dev_mean_pauc": dev.get("mean_pauc"), "eval_mean_pauc": metrics.get("mean_pauc"),
                         "dev_pooled_auc": dev.get("pooled_auc"), "eval_pooled_auc": metrics.get("pooled_auc"),
                         "eval_train_seconds": metrics.get("train_seconds")})
    frame = pd.DataFrame(rows, columns=DEV_EVAL_COLUMNS)
    for column in DEV_EVAL_COLUMNS[2:]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def summary_markdown(summary: pd.DataFrame, dev_eval: pd.DataFrame | None = None, profile: str = "") -> str:
    """The course summary as markdown: this run's results (``summary`` from :func:`collect_summary`), the dev vs eval
    comparison of notebook 07 (when ``dev_eval`` has rows) and, clearly apart, :data:`LITERATURE_RESULTS`.
    """
    where = f" (profile {profile})" if profile else ""
    parts = [f"## Results of this run{where}\n",
             "One row per notebook and model; dataset `dev`: trained and tested on the development ids, `eval`: "
             "retrained on the evaluation ids and scored on their test clips (notebook 07). Times in seconds.\n",
             format_markdown_table(summary)]
    if dev_eval is not None and len(dev_eval):
        parts += ["\n## Development vs evaluation score of the models chosen on the development set\n",
                  format_markdown_table(dev_eval)]
    parts += ["\n## For comparison only: results on the REAL DCASE 2020 slider data, from the literature\n",
              "Not produced by this run. Team 42 report (Table I: one ROC-AUC on the dev and one on the eval set), "
              "Group 7 report (mean and per-id AUC/pAUC on the dev ids 00/02/04), official DCASE 2020 baseline "
              "(AUC of ids 00/02/04; dev_auc is their mean).\n",
              format_markdown_table(LITERATURE_RESULTS)]
    return "\n".join(parts)


def _format_cell(column: str, value, digits: int, seconds_digits: int) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return str(int(value))
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f"):
        places = seconds_digits if str(column).endswith("seconds") else digits
        return f"{float(value):.{places}f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def format_markdown_table(df: pd.DataFrame, digits: int = 3, seconds_digits: int = 1) -> str:
    """A GitHub markdown table of ``df`` (index left out): floats with ``digits`` decimals (columns whose name ends
    in ``seconds`` with ``seconds_digits``), missing values empty, numeric columns right-aligned.
    """
    columns = [str(c) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    body = [[_format_cell(name, value, digits, seconds_digits) for name, value in zip(columns, row)]
            for row in df.itertuples(index=False, name=None)]
    widths = [max([len(name), 3] + [len(row[i]) for row in body]) for i, name in enumerate(columns)]

    def line(cells: list[str]) -> str:
        padded = [cell.rjust(w) if num else cell.ljust(w) for cell, w, num in zip(cells, widths, numeric)]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line(columns), rule] + [line(row) for row in body]) + "\n"


def earlier_results(output_dir, stems, data_root=None, profile: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Results of earlier notebooks from the sibling folders of ``output_dir`` (``<parent>/<stem>/metrics.json``).

    Returns ``(table, missing)``: one row per (notebook, model) as :func:`collect_summary`, and the stems whose
    metrics.json does not exist (yet). With ``data_root`` (and ``profile``) results of other data are left out (and
    named on stderr), so a notebook never compares itself with another dataset's models.

    Introduced in: notebooks/04_resnet_baseline.ipynb
    """
    parent = Path(output_dir).parent
    missing = [stem for stem in stems if not (parent / stem / "metrics.json").is_file()]
    found = [stem for stem in stems if stem not in missing]
    table = (collect_summary(parent, stems=found, timings={}, data_root=data_root, profile=profile) if found
             else pd.DataFrame())
    return table.drop(columns=["notebook_seconds"], errors="ignore"), missing
