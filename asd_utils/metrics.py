"""DCASE 2020 Task 2 metrics: per-id AUC and pAUC, their mean, the pooled AUC, and the course's results files.

The official evaluator computes, for each machine id separately,

* ``AUC  = sklearn.metrics.roc_auc_score(y_true, score)``
* ``pAUC = sklearn.metrics.roc_auc_score(y_true, score, max_fpr=0.1)``

Note that scikit-learn's partial AUC is the *McClish-standardised* one: the raw area under the ROC curve for
false-positive rates in [0, 0.1] is rescaled so that a random detector gets 0.5 and a perfect one 1.0 (the DCASE
evaluator reports exactly this number). The course also quotes the *pooled* AUC over all test clips of all ids
(the single number the course reports give), which penalises scores whose scale differs between machines.

Introduced in: notebooks/03_autoencoder_baselines.ipynb
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from .model_registry import MODELS
from .profiles import DEV_IDS as REPORTS_DEV_IDS
from .utils import resolve_path, write_text_atomic

MAX_FPR = 0.1


def auc_pauc(y_true, scores, max_fpr: float = MAX_FPR) -> tuple[float, float]:
    """AUC and McClish-standardised pAUC (``max_fpr``) of anomaly ``scores`` against labels (1 = anomalous).

    Both classes must be present; otherwise a ``ValueError`` says which one is missing.
    """
    y_true = np.asarray(y_true, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if y_true.shape != scores.shape:
        raise ValueError(f"{len(y_true)} labels but {len(scores)} scores")
    if not np.all(np.isfinite(scores)):
        raise ValueError("anomaly scores contain NaN or infinite values")
    bad = ~np.isin(y_true, (0.0, 1.0))
    if bad.any():  # sklearn would guess a multi-class problem and say something about 'multi_class'
        raise ValueError(f"labels must be 0 (normal) or 1 (anomalous); {int(bad.sum())} are not, the first is "
                         f"{y_true[bad][0]:g} (position {int(np.flatnonzero(bad)[0])})")
    for value, name in ((0, "normal"), (1, "anomalous")):
        if not np.any(y_true == value):
            raise ValueError(f"no {name} clips among the labels: AUC needs both classes")
    return float(roc_auc_score(y_true, scores)), float(roc_auc_score(y_true, scores, max_fpr=max_fpr))


def evaluate_scores(table: pd.DataFrame, scores, max_fpr: float = MAX_FPR) -> dict:
    """Per-id AUC/pAUC, their means and the pooled AUC of ``scores`` (one per row of ``table``).

    ``table`` needs the columns ``machine_id`` and ``y`` (0/1; rows with unknown labels are left out).
    Returns the course's per-model metrics dictionary::

        {"per_id": {"id_00": {"auc": .., "pauc": ..}, ...}, "mean_auc": .., "mean_pauc": .., "pooled_auc": ..}

    When ids beyond the reports' development ids 00/02/04 are scored (the real slider data with id_06), the means
    over those three alone are added as ``mean_auc_reports_ids`` / ``mean_pauc_reports_ids``: the literature's rows
    average three ids, so only that mean compares with them.
    """
    scores = np.asarray(scores, dtype=float)
    if len(scores) != len(table):
        raise ValueError(f"{len(scores)} scores for {len(table)} clips")
    known = table["y"].notna().to_numpy()
    if not known.any():
        raise ValueError("no labelled clips to evaluate (eval test labels come from eval_data_list.csv)")
    labelled = table[known]
    per_id = {}
    for machine_id, rows in labelled.groupby("machine_id", sort=True):
        values = scores[known][labelled.index.get_indexer(rows.index)]
        try:
            auc, pauc = auc_pauc(rows["y"], values, max_fpr)
        except ValueError as err:  # name the id and its counts: "no anomalous clips" alone does not say where
            counts = rows["y"].value_counts()
            bad = rows["file_name"].to_numpy()[~np.isfinite(values)] if "file_name" in rows else []
            raise ValueError(f"{machine_id}: {err} ({int(counts.get(0.0, 0))} normal, {int(counts.get(1.0, 0))} "
                             f"anomalous test clips" + (f"; e.g. {bad[0]} has no finite score" if len(bad) else "")
                             + "); every id needs normal and anomalous test clips with finite scores") from None
        per_id[machine_id] = {"auc": auc, "pauc": pauc}
    pooled_auc, _ = auc_pauc(labelled["y"], scores[known], max_fpr)
    result = {"per_id": per_id,
              "mean_auc": float(np.mean([m["auc"] for m in per_id.values()])),
              "mean_pauc": float(np.mean([m["pauc"] for m in per_id.values()])),
              "pooled_auc": pooled_auc}
    if set(REPORTS_DEV_IDS) < set(per_id):  # e.g. slider id_06 kept: also the mean the literature's rows average
        result["mean_auc_reports_ids"] = float(np.mean([per_id[i]["auc"] for i in REPORTS_DEV_IDS]))
        result["mean_pauc_reports_ids"] = float(np.mean([per_id[i]["pauc"] for i in REPORTS_DEV_IDS]))
    return result


def _ranks_against(normal: np.ndarray, anomalous: np.ndarray) -> np.ndarray:
    """For each anomalous score: the share of ``normal`` scores below it, ties counting half."""
    normal = np.sort(normal)
    below = np.searchsorted(normal, anomalous, side="left")
    ties = np.searchsorted(normal, anomalous, side="right") - below
    return (below + 0.5 * ties) / len(normal)


def _rank_auc(normal: np.ndarray, anomalous: np.ndarray) -> float:
    """AUC as the share of (anomalous, normal) pairs ranked right, ties counting half (= ``roc_auc_score``)."""
    return float(np.mean(_ranks_against(normal, anomalous)))


def anomaly_ranks(table: pd.DataFrame, scores) -> pd.Series:
    """For each anomalous clip of ``table``: the share of the normal clips *of its own machine id* that score lower
    than it (ties count half); NaN for normal clips and clips with unknown labels. Index: ``table``'s.

    The mean over any group of one id's anomalous clips is their AUC against that id's normal clips (over all of the
    id's anomalies it is the id's AUC), so grouping the ranks by fault type or severity breaks the AUC down without
    mixing score scales of different ids. ``table`` needs ``machine_id`` and ``y``; ``scores`` has one value per row.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb (AUC vs fault severity); used in notebook 07.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or len(scores) != len(table):
        raise ValueError(f"{len(scores)} scores for {len(table)} clips: anomaly_ranks needs one score per table row")
    y, ids = table["y"].to_numpy(dtype=float), table["machine_id"].to_numpy()
    known = ~np.isnan(y)
    if not np.all(np.isfinite(scores[known])):
        raise ValueError("anomaly scores of labelled clips contain NaN or infinite values")
    ranks = np.full(len(table), np.nan)
    for machine_id in np.unique(ids[y == 1]):
        normal = scores[(ids == machine_id) & (y == 0)]
        if not len(normal):
            raise ValueError(f"{machine_id}: anomalous clips but no normal clips to rank them against")
        anomalous = np.flatnonzero((ids == machine_id) & (y == 1))
        ranks[anomalous] = _ranks_against(normal, scores[anomalous])
    return pd.Series(ranks, index=table.index, name="rank")


def bootstrap_mean_auc(table: pd.DataFrame, scores, n: int = 200, seed: int = 0) -> np.ndarray:
    """``n`` bootstrap replicates of the mean-over-ids AUC: each id's normal and anomalous clips resampled with
    replacement (separately, so every replicate keeps the class sizes). Their std is the standard error of the mean
    AUC, their 2.5 and 97.5 percentiles a 95 % interval. Rows with unknown labels are left out.

    Introduced in: notebooks/07_results_and_submission.ipynb
    """
    scores = np.asarray(scores, dtype=float)
    if len(scores) != len(table):
        raise ValueError(f"{len(scores)} scores for {len(table)} clips")
    y, ids = table["y"].to_numpy(dtype=float), table["machine_id"].to_numpy()
    groups = []
    for mid in np.unique(ids[~np.isnan(y)]):
        normal, anomalous = scores[(ids == mid) & (y == 0)], scores[(ids == mid) & (y == 1)]
        if not len(normal) or not len(anomalous):
            raise ValueError(f"{mid}: the bootstrap needs normal and anomalous clips of every id")
        groups.append((normal, anomalous))
    rng = np.random.default_rng(seed)
    return np.array([np.mean([_rank_auc(rng.choice(normal, len(normal)), rng.choice(anomalous, len(anomalous)))
                              for normal, anomalous in groups]) for _ in range(n)])


def results_table(models: dict[str, dict], digits: int = 3) -> pd.DataFrame:
    """A tidy per-id table (the report's layout): one row per model, columns ``(id, AUC|pAUC)`` then the means.

    ``models`` maps a model name to its metrics dictionary (from :func:`evaluate_scores`).
    """
    rows = {}
    for name, metrics in models.items():
        row = {}
        for machine_id, values in metrics["per_id"].items():
            row[(machine_id, "AUC")] = values["auc"]
            row[(machine_id, "pAUC")] = values["pauc"]
        row[("mean", "AUC")] = metrics["mean_auc"]
        row[("mean", "pAUC")] = metrics["mean_pauc"]
        row[("pooled", "AUC")] = metrics["pooled_auc"]
        if "mean_auc_reports_ids" in metrics:
            row[("mean 00/02/04", "AUC")] = metrics["mean_auc_reports_ids"]
            row[("mean 00/02/04", "pAUC")] = metrics["mean_pauc_reports_ids"]
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    table.index.name = "model"
    return table.round(digits)


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, Path):
        return str(value)
    return value


def write_metrics_json(output_dir: str | Path, notebook: str, data_root: str | Path, models: dict[str, dict],
                       **extra) -> Path:
    """Write ``output_dir/metrics.json`` atomically in the course's one schema and return its path.

    Each entry of ``models`` holds at least ``network`` (the trained network's name, ``"no training"`` for a
    statistic), ``score`` (how it scores a clip: a key of :data:`asd_utils.model_registry.SCORE_LABELS` for a
    classifier, a key of :data:`asd_utils.model_registry.AUTOENCODER_SCORES` for an autoencoder, the statistic's
    name), ``model`` (the :mod:`asd_utils.model_registry` key, None for a statistic or a network of one's own),
    ``options`` (the model's constructor options), ``recipe`` (the training recipe as plain data, None without
    training), ``per_id``, ``mean_auc``, ``mean_pauc``, ``pooled_auc``, ``n_params``, ``train_seconds`` and
    ``hyperparameters``, so that readers need not parse the entry's name; ``extra`` adds top-level keys (e.g.
    ``profile``). The file also records ``dataset_fingerprint`` (:func:`asd_utils.data.dataset_fingerprint`), so that results of another
    dataset are never mixed in later (:func:`dataset_mismatch`).
    """
    from .data import dataset_fingerprint

    required = {"network", "score", "model", "options", "recipe", "per_id", "mean_auc", "mean_pauc", "pooled_auc",
                "n_params", "train_seconds", "hyperparameters"}
    for name, metrics in models.items():
        missing = required - set(metrics)
        if missing:
            raise ValueError(f"model {name!r} lacks {sorted(missing)} for metrics.json")
        for key in ("network", "score"):
            if not isinstance(metrics[key], str) or not metrics[key]:
                raise ValueError(f"model {name!r}: {key} = {metrics[key]!r}, expected a non-empty string")
        for key, kinds, expected in (("model", (str, type(None)), "a model_registry key or None"),
                                     ("options", (dict,), "a dict of constructor options"),
                                     ("recipe", (dict, type(None)), "a recipe's as_dict() or None")):
            if not isinstance(metrics[key], kinds):
                raise ValueError(f"model {name!r}: {key} = {metrics[key]!r}, expected {expected}")
        spec = MODELS.get(metrics["model"])
        if metrics["model"] is not None and spec is None:
            raise ValueError(f"model {name!r}: model = {metrics['model']!r} is no model_registry key; expected None or "
                             f"one of {sorted(MODELS)}")
        if spec is not None and metrics["score"] not in spec.scores:
            raise ValueError(f"model {name!r}: score {metrics['score']!r} is not one of {metrics['model']!r}'s scores "
                             f"{list(spec.scores)}")
    payload = {"notebook": notebook, "data_root": str(data_root), "dataset_fingerprint": dataset_fingerprint(data_root),
               **extra, "models": models}
    path = Path(output_dir) / "metrics.json"
    write_text_atomic(path, json.dumps(_json_safe(payload), indent=2) + "\n")
    return path


def read_metrics_json(path: str | Path) -> dict:
    """Read a ``metrics.json`` written by :func:`write_metrics_json`, with a clear error if it is missing."""
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the notebook that writes it first")
    return json.loads(path.read_text())


def dataset_mismatch(payload: dict, data_root: str | Path, profile: str | None = None) -> str | None:
    """Why a metrics.json ``payload`` is not a result of ``data_root`` (and ``profile``), or ``None`` when it is.

    Compares the data root, the profile and the dataset fingerprint (the same folder regenerated with another seed
    or profile has other files). Notebook 07 and ``run``'s summary use it to leave out results of other data.
    """
    from .data import dataset_fingerprint

    theirs = payload.get("data_root")
    if theirs is None or resolve_path(theirs) != resolve_path(data_root):
        return f"it holds results for data root {theirs!r}, not {str(data_root)!r}"
    if profile is not None and payload.get("profile") not in (None, profile):
        return f"it holds results of profile {payload.get('profile')!r}, not {profile!r}"
    recorded = payload.get("dataset_fingerprint")
    if recorded is not None and recorded != dataset_fingerprint(data_root):
        return f"the development clips in {data_root} changed since it was written (regenerated?): run it again"
    return None


def fault_type_auc(table: pd.DataFrame, scores, column: str = "anomaly_type") -> pd.DataFrame | None:
    """AUC of each fault type against the normal clips, per machine id and over all ids (``None`` without ``column``,
    i.e. on real data). Rows: fault types; columns: ids, ``"all ids"`` (pooled) and ``"n clips"``."""
    if column not in table.columns:
        return None
    labelled = table.assign(score=np.asarray(scores, dtype=float))[table["y"].notna().to_numpy()]
    normal = labelled[labelled["y"] == 0]
    rows = {}
    for fault, faulty in labelled[labelled["y"] == 1].groupby(column):
        row = {}
        for machine_id in sorted(labelled["machine_id"].unique()):
            a, n = faulty[faulty["machine_id"] == machine_id], normal[normal["machine_id"] == machine_id]
            row[machine_id] = (auc_pauc(np.r_[np.zeros(len(n)), np.ones(len(a))], np.r_[n["score"], a["score"]])[0]
                               if len(a) and len(n) else np.nan)
        both = pd.concat([normal, faulty])
        row["all ids"] = auc_pauc(both["y"], both["score"])[0] if len(normal) else np.nan
        row["n clips"] = len(faulty)
        rows[fault] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(column)
