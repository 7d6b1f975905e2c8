import json

import numpy as np
import pandas as pd
import pytest

from asd_utils.metrics import (anomaly_ranks, auc_pauc, bootstrap_mean_auc, evaluate_scores, fault_type_auc, read_metrics_json,
                               results_table, write_metrics_json)


def test_auc_by_hand():
    # 2 normals, 2 anomalies; pairs (anomaly > normal): (0.8>0.1) (0.8>0.5) (0.4>0.1) (0.4<0.5) -> 3/4
    auc, _ = auc_pauc([0, 0, 1, 1], [0.1, 0.5, 0.4, 0.8])
    assert auc == pytest.approx(0.75)


def test_pauc_is_mcclish_standardised():
    y = np.array([0] * 10 + [1] * 10)
    perfect = np.r_[np.zeros(10), np.ones(10)]
    assert auc_pauc(y, perfect) == (1.0, 1.0)
    assert auc_pauc(y, -perfect)[1] == pytest.approx(0.5 * (1 + (0 - 0.005) / (0.1 - 0.005)))
    # one normal scored above every anomaly: the ROC starts at FPR 0.1 with TPR 0 -> raw partial area 0,
    # McClish: 0.5 * (1 + (0 - min_area) / (max_area - min_area)) with min_area = 0.1**2/2, max_area = 0.1
    scores = np.r_[np.zeros(9), 2.0, np.ones(10)]
    _, pauc = auc_pauc(y, scores)
    assert pauc == pytest.approx(0.5 * (1 + (0 - 0.005) / (0.1 - 0.005)))


def test_auc_errors():
    with pytest.raises(ValueError, match="no anomalous clips"):
        auc_pauc([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        auc_pauc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="2 labels but 3 scores"):
        auc_pauc([0, 1], [0.1, 0.2, 0.3])


def test_evaluate_scores_per_id_mean_and_pooled():
    table = pd.DataFrame({"machine_id": ["id_00"] * 4 + ["id_02"] * 4 + ["id_01"] * 2,
                          "y": [0, 0, 1, 1, 0, 0, 1, 1, np.nan, np.nan]}, index=np.arange(10) * 3)
    # id_00 perfect, id_02 inverted; the unlabeled rows are ignored
    scores = [0.1, 0.2, 0.8, 0.9, 1.8, 1.9, 1.1, 1.2, 99, 99]
    result = evaluate_scores(table, scores)
    assert result["per_id"]["id_00"]["auc"] == 1.0
    assert result["per_id"]["id_02"]["auc"] == 0.0
    assert result["mean_auc"] == 0.5
    # pooled: anomalies {0.8,0.9,1.1,1.2} vs normals {0.1,0.2,1.8,1.9}: 8 of 16 pairs ranked right
    assert result["pooled_auc"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="3 scores for 10 clips"):
        evaluate_scores(table, [1, 2, 3])


def test_results_table_and_metrics_json_roundtrip(tmp_path):
    metrics = {"network": "AE", "score": "mean_error", "model": None, "options": {}, "recipe": None, "per_id": {"id_00": {"auc": 0.91234, "pauc": 0.8}},
               "mean_auc": 0.91234, "mean_pauc": 0.8,
               "pooled_auc": 0.9, "n_params": np.int64(10), "train_seconds": 1.5, "hyperparameters": {"epochs": 2}}
    table = results_table({"AE": metrics})
    assert table.loc["AE", ("id_00", "AUC")] == 0.912
    path = write_metrics_json(tmp_path / "out", "03_autoencoder_baselines", "data/x", {"AE": metrics}, profile="tiny")
    loaded = read_metrics_json(path.parent)
    assert loaded["notebook"] == "03_autoencoder_baselines" and loaded["profile"] == "tiny"
    assert loaded["models"]["AE"]["n_params"] == 10
    assert json.loads(path.read_text()) == loaded
    with pytest.raises(ValueError, match="lacks"):
        write_metrics_json(tmp_path, "x", "y", {"AE": {"per_id": {}}})
    with pytest.raises(ValueError, match="'AE': score = '', expected a non-empty string"):
        write_metrics_json(tmp_path, "x", "y", {"AE": {**metrics, "score": ""}})
    with pytest.raises(ValueError, match="'AE': recipe = 'epochs 2', expected a recipe's as_dict"):
        write_metrics_json(tmp_path, "x", "y", {"AE": {**metrics, "recipe": "epochs 2"}})
    with pytest.raises(ValueError, match="'AE': model = 3, expected a model_registry key or None"):
        write_metrics_json(tmp_path, "x", "y", {"AE": {**metrics, "model": 3}})
    with pytest.raises(ValueError, match="'AE': model = 'dcase' is no model_registry key"):
        write_metrics_json(tmp_path, "x", "y", {"AE": {**metrics, "model": "dcase"}})
    with pytest.raises(ValueError, match=r"'AE': score 'mahalanobis' is not one of 'dcase_ae''s scores \['mean_error', "):
        write_metrics_json(tmp_path, "x", "y", {"AE": {**metrics, "model": "dcase_ae", "score": "mahalanobis"}})
    write_metrics_json(tmp_path, "x", "y", {"AE": {**metrics, "model": "dcase_ae", "recipe": {"epochs": 2}}})
    with pytest.raises(FileNotFoundError, match="run the notebook"):
        read_metrics_json(tmp_path / "nothing")


def test_fault_type_auc_per_id_and_pooled():
    table = pd.DataFrame({"machine_id": ["id_00"] * 4 + ["id_02"] * 4, "y": [0, 0, 1, 1, 0, 0, 1, 1.0],
                          "anomaly_type": ["none", "none", "a", "b", "none", "none", "a", "b"]})
    scores = [0, 1, 2, 0.5, 0, 1, 0.5, 3]
    frame = fault_type_auc(table, scores)
    assert frame.loc["a", "id_00"] == 1.0 and frame.loc["a", "id_02"] == 0.5
    assert frame.loc["b", "id_00"] == 0.5 and frame.loc["b", "id_02"] == 1.0
    assert frame.loc["a", "n clips"] == 2
    assert fault_type_auc(table.drop(columns="anomaly_type"), scores) is None


def _dcase_pauc(y, scores, max_fpr=0.1):
    """The DCASE 2020 pAUC written out: area under the ROC curve for FPR in [0, max_fpr] (ties as one step, the
    curve cut by linear interpolation at max_fpr), McClish-standardised: 0.5 * (1 + (A - A_min) / (A_max - A_min)),
    A_min = max_fpr**2 / 2 (random), A_max = max_fpr (perfect)."""
    y, scores = np.asarray(y), np.asarray(scores, dtype=float)
    thresholds = np.unique(scores)[::-1]
    fpr = np.r_[0.0, [np.mean(scores[y == 0] >= t) for t in thresholds]]
    tpr = np.r_[0.0, [np.mean(scores[y == 1] >= t) for t in thresholds]]
    cut = np.searchsorted(fpr, max_fpr, side="right")
    x = np.r_[fpr[:cut], max_fpr]
    tpr_cut = np.interp(max_fpr, fpr, tpr) if cut < len(fpr) else tpr[-1]
    curve = np.r_[tpr[:cut], tpr_cut]
    area = np.sum(np.diff(x) * (curve[1:] + curve[:-1]) / 2)  # trapezoids
    low, high = max_fpr ** 2 / 2, max_fpr
    return 0.5 * (1 + (area - low) / (high - low))


def test_dcase_pauc_reference_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    for _ in range(5):
        y = np.r_[np.zeros(40), np.ones(25)]
        scores = np.round(rng.normal(0, 1, 65) + 0.8 * y, 1)  # rounding makes ties
        assert _dcase_pauc(y, scores) == pytest.approx(roc_auc_score(y, scores, max_fpr=0.1), abs=1e-12)


def test_evaluate_scores_pauc_per_id_mean_and_pooled_exactly():
    """Three ids interleaved in a shuffled table: per-id AUC and pAUC, their means and the pooled AUC against the
    definitions written out here (pAUC != AUC for every id, so a pAUC computed as an AUC fails)."""
    rng = np.random.default_rng(7)
    ids = np.repeat(["id_04", "id_00", "id_02"], 30)
    y = np.tile(np.r_[np.zeros(20), np.ones(10)], 3)
    shift = {"id_00": 1.5, "id_02": 0.3, "id_04": 0.8}
    scores = rng.normal(0, 1, 90) + y * np.array([shift[m] for m in ids]) + np.array(
        [{"id_00": 0.0, "id_02": 3.0, "id_04": -2.0}[m] for m in ids])  # scales differ: pooled != mean
    order = rng.permutation(90)
    table = pd.DataFrame({"machine_id": ids[order], "y": y[order]}, index=rng.permutation(90) + 100)
    result = evaluate_scores(table, scores[order])
    assert list(result["per_id"]) == ["id_00", "id_02", "id_04"]
    for machine_id, values in result["per_id"].items():
        rows = ids == machine_id
        normal, anomalous = scores[rows & (y == 0)], scores[rows & (y == 1)]
        auc = np.mean(anomalous[:, None] > normal[None, :])  # share of (anomalous, normal) pairs ranked right
        assert values["auc"] == pytest.approx(auc, abs=1e-12)
        assert values["pauc"] == pytest.approx(_dcase_pauc(y[rows], scores[rows]), abs=1e-12)
        assert abs(values["pauc"] - values["auc"]) > 0.01
    assert result["mean_auc"] == pytest.approx(np.mean([v["auc"] for v in result["per_id"].values()]), abs=1e-12)
    expected_mean_pauc = np.mean([_dcase_pauc(y[ids == m], scores[ids == m]) for m in ("id_00", "id_02", "id_04")])
    assert result["mean_pauc"] == pytest.approx(expected_mean_pauc, abs=1e-12)
    assert abs(result["mean_pauc"] - result["mean_auc"]) > 0.01
    pooled = np.mean(scores[y == 1][:, None] > scores[y == 0][None, :])
    assert result["pooled_auc"] == pytest.approx(pooled, abs=1e-12)
    assert abs(result["pooled_auc"] - result["mean_auc"]) > 0.05


def test_bootstrap_mean_auc_centres_on_the_mean_auc_and_shrinks_with_more_clips():
    rng = np.random.default_rng(3)

    def case(n):
        ids = np.repeat(["id_00", "id_02"], 2 * n)
        y = np.tile(np.repeat([0, 1], n), 2)
        return pd.DataFrame({"machine_id": ids, "y": y}), rng.normal(0, 1, 4 * n) + y

    table, scores = case(30)
    replicates = bootstrap_mean_auc(table, scores, n=300, seed=1)
    assert replicates.shape == (300,)
    assert np.mean(replicates) == pytest.approx(evaluate_scores(table, scores)["mean_auc"], abs=0.02)
    big_table, big_scores = case(600)
    assert np.std(bootstrap_mean_auc(big_table, big_scores, n=300, seed=1)) < 0.4 * np.std(replicates)
    np.testing.assert_array_equal(replicates, bootstrap_mean_auc(table, scores, n=300, seed=1))  # seeded
    with pytest.raises(ValueError, match="id_02"):
        bootstrap_mean_auc(table[~((table["machine_id"] == "id_02") & (table["y"] == 1))],
                           scores[~((table["machine_id"] == "id_02") & (table["y"] == 1)).to_numpy()])


def test_anomaly_ranks_average_to_the_per_id_auc():
    rng = np.random.default_rng(1)
    ids = np.repeat(["id_04", "id_00", "id_02"], [9, 12, 7])
    y = np.r_[[0] * 5 + [1] * 4, [0] * 6 + [1] * 6, [0] * 4 + [1] * 3].astype(float)
    y[[2, 14]] = np.nan  # unknown labels are left out
    table = pd.DataFrame({"machine_id": ids, "y": y}, index=np.arange(len(ids)) * 7 + 3)  # not a RangeIndex
    scores = np.round(rng.normal(size=len(ids)) + y * 0.5, 1)  # rounded: ties between normal and anomalous clips
    ranks = anomaly_ranks(table, scores)
    assert ranks.index.equals(table.index)
    assert ranks[table["y"] != 1].isna().all() and ranks[table["y"] == 1].notna().all()
    per_id = evaluate_scores(table, scores)["per_id"]
    for machine_id, rows in table.groupby("machine_id"):
        assert ranks[rows.index].mean() == pytest.approx(per_id[machine_id]["auc"])


def test_anomaly_ranks_ties_count_half_and_ids_stay_apart():
    table = pd.DataFrame({"machine_id": ["id_00"] * 4 + ["id_02"] * 3, "y": [0, 0, 1, 1, 0, 0, 1.0]})
    ranks = anomaly_ranks(table, [1.0, 2.0, 2.0, 5.0, 10.0, 10.0, 10.0])
    # id_00: 2.0 is above one normal and tied with the other -> (1 + 0.5) / 2; 5.0 above both -> 1
    # id_02: tied with both of its own normals -> 0.5 (id_00's normals do not count)
    assert ranks.tolist()[2:4] == [0.75, 1.0] and ranks.iloc[6] == 0.5


def test_anomaly_ranks_errors_name_the_problem():
    table = pd.DataFrame({"machine_id": ["id_00"] * 4, "y": [0, 0, 1, 1.0]})
    with pytest.raises(ValueError, match="3 scores for 4 clips"):
        anomaly_ranks(table, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        anomaly_ranks(table, [0.1, np.nan, 0.3, 0.4])
    with pytest.raises(ValueError, match="id_02: anomalous clips but no normal clips"):
        anomaly_ranks(table.assign(machine_id=["id_00", "id_00", "id_00", "id_02"]), [0.1, 0.2, 0.3, 0.4])


def test_with_id_06_the_mean_of_the_reports_ids_is_added():
    """The literature averages ids 00/02/04; a run that also scores id_06 gets both means, the course's three-id
    data only the one."""
    from asd_utils.metrics import evaluate_scores, results_table

    rows = [(mid, y) for mid in ("id_00", "id_02", "id_04", "id_06") for y in (0, 0, 1, 1)]
    table = pd.DataFrame(rows, columns=["machine_id", "y"]).astype({"y": float})
    scores = np.array([0.1, 0.2, 0.8, 0.9] * 3 + [0.9, 0.8, 0.2, 0.1])  # id_06 ranked backwards
    metrics = evaluate_scores(table, scores)
    assert metrics["mean_auc"] == pytest.approx(0.75) and metrics["mean_auc_reports_ids"] == pytest.approx(1.0)
    assert ("mean 00/02/04", "AUC") in results_table({"m": metrics}).columns
    three = evaluate_scores(table[table["machine_id"] != "id_06"].reset_index(drop=True), scores[:12])
    assert "mean_auc_reports_ids" not in three
