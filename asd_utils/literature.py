"""The literature's results on the REAL DCASE 2020 slider data, in one table, and the layouts the notebooks show.

Numbers from the two course reports and the official DCASE 2020 baseline, for comparison only: never a course run.

Introduced in: notebooks/03_autoencoder_baselines.ipynb
"""
from __future__ import annotations

import pandas as pd

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
