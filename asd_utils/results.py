"""The course's results: what a run's notebooks wrote, the models notebook 07 submits, and the literature's numbers.

* :func:`collect_summary`, :func:`collect_dev_eval`, :func:`summary_markdown`: one table of every notebook's
  ``metrics.json`` (the runner's ``summary.csv``/``summary.md``); :func:`earlier_results`: the same for the notebooks
  that ran before the current one (04-06 compare with them).
* :func:`choose_models`: notebook 07's choice of the autoencoder and the classifier (and its score) to retrain on the
  evaluation ids, from the development results.
* :data:`LITERATURE_RESULTS`: the one table of results on the REAL DCASE 2020 slider data from the literature, with
  the layouts the notebooks show (:func:`report_table_i`, :func:`literature_per_id`).

Introduced in: notebooks/00_getting_started.ipynb (summary) and notebooks/07_results_and_submission.ipynb (choice)
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import profiles
from .model_registry import (AUTOENCODERS, CLASSIFIER_CHECKPOINTS, CLASSIFIER_CLASS_NAMES, CLASSIFIER_RECIPES,
                             SCORE_LABELS, autoencoder_key)
from .metrics import dataset_mismatch
from .utils import display_path

SUMMARY_FIXED_COLUMNS = ["notebook", "model", "dataset", "mean_auc", "mean_pauc", "pooled_auc"]
SUMMARY_TAIL_COLUMNS = ["n_params", "train_seconds", "notebook_seconds"]
DEV_EVAL_COLUMNS = ["model", "chosen_from", "dev_mean_auc", "eval_mean_auc", "dev_mean_pauc", "eval_mean_pauc",
                    "dev_pooled_auc", "eval_pooled_auc", "eval_train_seconds"]
#: Results on the REAL DCASE 2020 Task 2 slider data from the literature, for comparison only (never from a run):
#: the course reports (Team 42, Table I: one ROC-AUC per set and the training settings; Group 7: per-id AUC / pAUC
#: of ids 00/02/04 and their average, dev only) and the official DCASE 2020 baseline's AUC / pAUC on ids 00/02/04
#: (its published results; the mean is ours, over those three ids). Group 7's models carry the course's names
#: (asd_utils.model_registry.AUTOENCODERS). Empty cells: not reported.
LITERATURE_RESULTS = pd.DataFrame(
    [("Team 42 report, Table I", "ResNet50 (baseline)", 0.867, 0.753) + (None,) * 7 + ("epochs 10, batch 32, lr 1e-3",),
     ("Team 42 report, Table I", "STgramNet", 0.943, 0.876) + (None,) * 7 + ("epochs 10, batch 4, lr 1e-4",),
     ("Team 42 report, Table I", "SepSTgramNet", 0.991, 0.918) + (None,) * 7 + ("epochs 9, batch 4, lr 1e-3",),
     ("Group 7 report", "Baseline (VAE)", 0.877, None, 0.695, 0.957, 0.795, 0.763, 0.617, 0.910, 0.673, None),
     ("Group 7 report", "+BatchNorm", 0.894, None, 0.728, 0.961, 0.810, 0.776, 0.639, 0.944, 0.7356, None),
     ("Group 7 report", "+Dropout", 0.891, None, 0.720, 0.966, 0.835, 0.779, 0.640, 0.929, 0.685, None),
     ("Group 7 report", "DCASE AE (Sequential)", 0.893, None, 0.723, 0.967, 0.837, 0.790, 0.631, 0.923, 0.700, None),
     ("DCASE 2020 official baseline", "DCASE AE", round((0.963 + 0.788 + 0.946) / 3, 3), None,
      round((0.818 + 0.629 + 0.740) / 3, 3), 0.963, 0.818, 0.788, 0.629, 0.946, 0.740, None)],
    columns=["source", "model", "dev_auc", "eval_auc", "dev_pauc", "auc_id_00", "pauc_id_00", "auc_id_02",
             "pauc_id_02", "auc_id_04", "pauc_id_04", "training"])
TEAM_42, OFFICIAL_BASELINE = "Team 42 report, Table I", "DCASE 2020 official baseline"

def report_table_i() -> pd.DataFrame:
    """Team 42's Table I (real data): index model, columns ``training``, ``dev AUC``, ``eval AUC`` (notebooks 04-06)."""
    rows = LITERATURE_RESULTS[LITERATURE_RESULTS["source"] == TEAM_42]
    return (rows.set_index("model")[["training", "dev_auc", "eval_auc"]]
            .rename(columns={"dev_auc": "dev AUC", "eval_auc": "eval AUC"})
            .rename_axis("model (real data, Team 42 report)"))


def literature_per_id() -> pd.DataFrame:
    """Per-id AUC / pAUC on the real dev ids 00/02/04 and their means (Group 7's models and the official baseline,
    named ``"official DCASE 2020 baseline"``): columns ``(id, "AUC"|"pAUC")`` then ``("mean", ...)``, as
    :func:`asd_utils.metrics.results_table` lays out a run's results (notebooks 03 and 07)."""
    rows = LITERATURE_RESULTS[LITERATURE_RESULTS["dev_pauc"].notna()]
    ids = ("00", "02", "04")
    table = pd.DataFrame(
        [[row[f"{m}_id_{i}"] for i in ids for m in ("auc", "pauc")] + [row["dev_auc"], row["dev_pauc"]]
         for _, row in rows.iterrows()],
        index=["official DCASE 2020 baseline" if s == OFFICIAL_BASELINE else m for s, m in zip(rows["source"], rows["model"])],
        columns=pd.MultiIndex.from_tuples([(f"id_{i}", m) for i in ids for m in ("AUC", "pAUC")]
                                          + [("mean", "AUC"), ("mean", "pAUC")]))
    return table.astype(float)


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


def _read_timings(out_dir: Path) -> dict[str, float]:
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

    Columns: notebook, model, dataset (``"eval"`` for models scored on the evaluation ids 01/03/05, as notebook 07's
    retrained models, else ``"dev"``), mean_auc, mean_pauc, pooled_auc, ``auc_<id>`` per machine id (development ids
    first), n_params, train_seconds, notebook_seconds (the notebook's wall time from ``timings``, default
    ``out_dir/timings.csv`` when present). ``stems`` restricts the notebooks read (default: every
    ``*/metrics.json``); ``data_root`` (and ``profile``) leave out results of other data
    (:func:`asd_utils.metrics.dataset_mismatch`). Unreadable files and left-out results are reported on stderr.
    """
    out_dir = Path(out_dir)
    timings = _read_timings(out_dir) if timings is None else timings
    rows = []
    for path in _metrics_paths(out_dir, stems, data_root, profile):
        models = _read_models(path)
        for model, metrics in (models or {}).items():
            row = {"notebook": path.parent.name, "model": model, "dataset": _dataset_of(metrics)}
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
    for column in frame.columns[3:]:
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


# ------------------------------------------------------------------------------------------------- notebook 07's choice
AE_NOTEBOOK = "03_autoencoder_baselines"
_KIND_OF_CLASS = {class_name: kind for kind, class_name in CLASSIFIER_CLASS_NAMES.items()}
_SCORE_KEYS = {label: key for key, label in SCORE_LABELS.items()}  # "Mahalanobis" -> "mahalanobis"


def split_model_name(name: str) -> tuple[str, str | None]:
    """``"<network> · <score label>"`` (a classifier result, see ``ClassifierRun.metrics``) -> ``(network, score
    key)``; a name without a known score label (an autoencoder) -> ``(name, None)``."""
    network, _, label = name.rpartition(" · ")
    return (network, _SCORE_KEYS[label]) if network and label in _SCORE_KEYS else (name, None)


def classifier_key(metrics: dict) -> str:
    """The :data:`CLASSIFIER_RECIPES` key of a classifier's dev result, from the hyper-parameters its notebook
    recorded (``model``: the class name, ``head``: ``"softmax"`` or ``"arcface"``)."""
    hyper = metrics["hyperparameters"]
    recipe = (_KIND_OF_CLASS[hyper["model"]], hyper.get("head", "softmax"))
    return next(key for key, (kind, head, _, _) in CLASSIFIER_RECIPES.items() if (kind, head) == recipe)


@dataclass
class ModelChoice:
    """What notebook 07 retrains on the evaluation ids, and why: an autoencoder (``ae_key`` of
    :data:`asd_utils.model_registry.AUTOENCODERS`) and a classifier (``classifier`` of :data:`CLASSIFIER_RECIPES`) with
    one score (``score`` of :data:`asd_utils.model_registry.SCORE_LABELS`). ``*_dev_name``: the development result each
    was chosen by (None when there is none); ``left_out``: networks with dev results that ``candidates`` excluded;
    ``within_one_se``: for ``"autoencoder"`` and ``"classifier"``, the dev results the one-standard-error rule chose
    among (empty without standard errors)."""

    ae_key: str
    ae_reason: str
    classifier: str
    score: str
    classifier_reason: str
    ae_dev_name: str | None = None
    classifier_dev_name: str | None = None
    left_out: list[str] = field(default_factory=list)
    within_one_se: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ae_name(self) -> str:
        return AUTOENCODERS[self.ae_key][0]

    @property
    def network(self) -> str:
        """The classifier's name: its dev notebook's (e.g. ``"ResNet50 (random features)"``), else the recipe's."""
        if self.classifier_dev_name is not None:
            return split_model_name(self.classifier_dev_name)[0]
        return CLASSIFIER_RECIPES[self.classifier][3]


def _best(results: dict) -> str:
    return max(results, key=lambda name: results[name]["mean_auc"])


def _within_one_se(results: dict, standard_errors: dict[str, float]) -> list[str]:
    """The results whose mean AUC is within one standard error (of the best result) of the best."""
    best = _best(results)
    floor = results[best]["mean_auc"] - standard_errors.get(best, 0.0)
    return [name for name in results if results[name]["mean_auc"] >= floor]


def _one_se_choice(results: dict, standard_errors: dict[str, float]) -> str:
    """The one-standard-error rule: among :func:`_within_one_se`, the simplest (fewest ``n_params``, to two significant
    digits; ties, e.g. two scores of one network: the higher mean AUC). Parameters, not training seconds: they do not
    change from one run or machine to the next."""
    close = _within_one_se(results, standard_errors)
    # sizes to two significant digits: a head of a few parameters more is the same size of model
    return min(close, key=lambda name: (float(f"{results[name].get('n_params', 0):.2g}"), -results[name]["mean_auc"]))


def choose_models(dev_metrics: dict[str, dict], ae_model: str = "auto", classifier: str = "auto",
                  score: str = "auto", candidates: str = "all",
                  standard_errors: dict[str, float] | None = None) -> ModelChoice:
    """Notebook 07's choice, by development mean AUC, of the models to retrain on the evaluation ids.

    ``dev_metrics``: ``{model name: metrics.json entry + "notebook": its stem}`` of notebooks 03-06. ``"auto"`` picks
    the best of notebook 03 (autoencoder) and the best (network, score) of 04-06 among ``candidates`` (``"all"`` or
    comma-separated :data:`CLASSIFIER_RECIPES` keys; ``score`` other than ``"auto"`` restricts the scores). With
    ``standard_errors`` (``{model name: standard error of its dev mean AUC}``, e.g. from
    :func:`asd_utils.metrics.bootstrap_mean_auc`), "best" follows the one-standard-error rule: the smallest model
    among those within one standard error of the best (a difference smaller than the noise is no reason to pay for a
    bigger model). A named ``ae_model``/``classifier`` is taken as is (the classifier's score: ``score``, else
    its best on dev, else Mahalanobis). Without development results: the DCASE AE and STgramNet with the Mahalanobis
    score.
    """
    within: dict[str, list[str]] = {}
    pick = _best if standard_errors is None else (lambda results: _one_se_choice(results, standard_errors))
    best_reason = "best dev mean AUC" if standard_errors is None else \
        "smallest model within one standard error of the best dev mean AUC"
    ae_results = {n: m for n, m in dev_metrics.items()  # (not notebook 03's other readings of one AE, e.g. its p95 error)
                  if m["notebook"] == AE_NOTEBOOK and "aggregate" not in m.get("hyperparameters", {})}
    cls_results = {n: m for n, m in dev_metrics.items() if m["notebook"] != AE_NOTEBOOK}
    if ae_model != "auto":
        ae_key, ae_reason = autoencoder_key(ae_model), "set by AE_MODEL"
    elif ae_results:
        ae_key, ae_reason = autoencoder_key(pick(ae_results)), f"{best_reason} of notebook 03"
        if standard_errors is not None:
            within["autoencoder"] = _within_one_se(ae_results, standard_errors)
    else:
        ae_key, ae_reason = "dcase_ae", "default: notebook 03's results are missing"

    allowed = list(CLASSIFIER_RECIPES) if candidates == "all" else [k.strip() for k in candidates.split(",") if k.strip()]
    unknown = [key for key in allowed + ([classifier] if classifier != "auto" else []) if key not in CLASSIFIER_RECIPES]
    if unknown:
        raise ValueError(f"unknown classifier(s) {unknown}; expected some of {list(CLASSIFIER_RECIPES)}")
    if score != "auto" and score not in SCORE_LABELS:
        raise ValueError(f"unknown score {score!r}; expected 'auto' or one of {list(SCORE_LABELS)}")
    recipe_of = {n: (classifier_key(m), split_model_name(n)[1]) for n, m in cls_results.items()}
    left_out = []
    if classifier != "auto":
        matching = {n: m for n, m in cls_results.items() if recipe_of[n][0] == classifier}
        score = score if score != "auto" else recipe_of[_best(matching)][1] if matching else "mahalanobis"
        reason = "set by CLASSIFIER"
    else:
        pool = {n: m for n, m in cls_results.items()
                if recipe_of[n][0] in allowed and score in ("auto", recipe_of[n][1])}
        if pool:
            (classifier, score), reason = recipe_of[pick(pool)], f"{best_reason} of notebooks 04-06"
            if standard_errors is not None:
                within["classifier"] = _within_one_se(pool, standard_errors)
        else:
            classifier, score = "stgramnet", "mahalanobis" if score == "auto" else score
            reason = "default: no development results of notebooks 04-06 among the candidates"
        left_out = sorted({split_model_name(n)[0] for n in cls_results if recipe_of[n][0] not in allowed})
    return ModelChoice(ae_key, ae_reason, classifier, score, reason,
                       ae_dev_name=AUTOENCODERS[ae_key][0] if AUTOENCODERS[ae_key][0] in ae_results else None,
                       classifier_dev_name=next((n for n in cls_results if recipe_of[n] == (classifier, score)), None),
                       left_out=left_out, within_one_se=within)
