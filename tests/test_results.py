"""asd_utils.results: the run's summary tables, notebook 07's choice of models, the literature's numbers."""
from __future__ import annotations

import pandas as pd
import pytest

from asd_utils import literature, model_choice, model_registry, profiles, results
from asd_utils.metrics import write_metrics_json
from helpers import machine_like, make_layout, write_wav


def test_format_markdown_table():
    frame = pd.DataFrame({"model": ["ae", "a|b"], "mean_auc": [0.81234, float("nan")],
                          "n_params": pd.array([1200, None], dtype="Int64"), "train_seconds": [95.27, 3.0]})
    assert results.format_markdown_table(frame).splitlines() == [
        "| model | mean_auc | n_params | train_seconds |",
        "|-------|---------:|---------:|--------------:|",
        "| ae    |    0.812 |     1200 |          95.3 |",
        "| a\\|b  |          |          |           3.0 |",
    ]


def test_collect_summary_reads_metrics_and_timings(tmp_path):
    def model(auc, ids):
        return {"network": "net", "score": "mean_error", "model": None, "options": {}, "recipe": None, "per_id": {i: {"auc": auc, "pauc": 0.5} for i in ids},
                "mean_auc": auc, "mean_pauc": 0.5,
                "pooled_auc": auc, "n_params": 10, "train_seconds": 2.0, "hyperparameters": {}}

    write_metrics_json(tmp_path / "03_ae", "03_ae", "data", {"ae": model(0.6, ["id_00", "id_02"])})
    write_metrics_json(tmp_path / "04_cls", "04_cls", "data", {"cls": model(0.9, ["id_00", "id_04"])})
    (tmp_path / "05_broken").mkdir()
    (tmp_path / "05_broken" / "metrics.json").write_text("{not json")
    pd.DataFrame({"notebook": ["03_ae", "04_cls"], "seconds": [12.5, 30.0]}).to_csv(tmp_path / "timings.csv",
                                                                                     index=False)
    retrained = {**model(0.7, ["id_01", "id_03"]), "dev": {"notebook": "03_ae", "model": "ae", "mean_auc": 0.6,
                                                           "mean_pauc": 0.5, "pooled_auc": 0.6}}
    write_metrics_json(tmp_path / "07_results", "07_results", "data", {"ae · eval": retrained})
    summary = results.collect_summary(tmp_path)
    assert list(summary["notebook"]) == ["03_ae", "04_cls", "07_results"]
    assert list(summary["dataset"]) == ["dev", "dev", "eval"]
    assert [c for c in summary.columns if c.startswith("auc_")] == ["auc_id_00", "auc_id_02", "auc_id_04",
                                                                    "auc_id_01", "auc_id_03"]  # dev ids first
    assert pd.isna(summary.loc[0, "auc_id_04"]) and summary.loc[1, "auc_id_04"] == 0.9
    assert list(summary["notebook_seconds"].iloc[:2]) == [12.5, 30.0] and pd.isna(summary["notebook_seconds"][2])
    assert list(results.collect_summary(tmp_path, stems=["04_cls"])["model"]) == ["cls"]
    assert results.collect_summary(tmp_path / "nothing").empty

    dev_eval = results.collect_dev_eval(tmp_path)
    assert list(dev_eval.columns) == results.DEV_EVAL_COLUMNS
    assert dev_eval.iloc[0][["model", "chosen_from", "dev_mean_auc", "eval_mean_auc"]].tolist() == ["ae", "03_ae",
                                                                                                  0.6, 0.7]
    assert results.collect_dev_eval(tmp_path, stems=["03_ae"]).empty
    markdown = results.summary_markdown(summary, dev_eval, "course")
    ours, rest = markdown.split("## Development vs evaluation")
    assert "profile course" in ours and "| 07_results" in ours and "| eval" in ours
    comparison, literature = rest.split("## For comparison only: results on the REAL DCASE 2020 slider data")
    assert "| ae    | 03_ae" in comparison and "0.700" in comparison
    assert "| Team 42 report, Table I" in literature and "0.918" in literature and "0.991" in literature
    assert "| DCASE 2020 official baseline" in literature and "0.963" in literature


def test_summaries_leave_out_results_of_other_data(tmp_path, capsys):
    """`run` on one data root used to mix in the results another data root (or profile) had left in OUT."""
    data, other = make_layout(tmp_path / "data"), make_layout(tmp_path / "other")
    out = tmp_path / "out"
    out.mkdir()
    pd.DataFrame({"notebook": ["03_ae", "04_resnet"], "seconds": [10.0, 25.0]}).to_csv(out / "timings.csv", index=False)
    fake = {"network": "net", "score": "mean_error", "model": None, "options": {}, "recipe": None, "per_id": {"id_00": {"auc": 0.8, "pauc": 0.6}}, "mean_auc": 0.8, "mean_pauc": 0.6, "pooled_auc": 0.8,
            "n_params": 1, "train_seconds": 1.0, "hyperparameters": {}}
    retrained = {**fake, "dev": {"notebook": "03_ae", "model": "ae", "mean_auc": 0.8, "mean_pauc": 0.6,
                                 "pooled_auc": 0.8}}
    write_metrics_json(out / "03_ae", "03_ae", str(data), {"ae": fake}, profile="tiny")
    write_metrics_json(out / "04_resnet", "04_resnet", str(other), {"resnet": fake}, profile="tiny")
    write_metrics_json(out / "05_st", "05_st", str(data), {"st": fake}, profile="course")
    write_metrics_json(out / "07_results", "07_results", str(other), {"ae · eval": retrained}, profile="tiny")
    summary = results.collect_summary(out, data_root=str(data), profile="tiny")
    assert list(summary["model"]) == ["ae"] and summary["notebook_seconds"].tolist() == [10.0]
    err = capsys.readouterr().err
    assert "04_resnet/metrics.json: it holds results for data root" in err and "profile 'course', not 'tiny'" in err
    assert results.collect_dev_eval(out, data_root=str(data), profile="tiny").empty
    assert len(results.collect_dev_eval(out, data_root=str(other), profile="tiny")) == 1
    assert len(results.collect_summary(out)) == 4  # without data_root: everything, as before
    # the same folder regenerated (another seed): its earlier results are stale
    victim = next((data / "dev_data/slider/train").glob("*.wav"))
    write_wav(victim, machine_like(99, 1.0))
    assert results.collect_summary(out, data_root=str(data), profile="tiny").empty
    assert "changed since it was written" in capsys.readouterr().err
    # the notebooks' comparison tables (earlier_results) leave out other data the same way
    table, missing = results.earlier_results(out / "07_results", ["04_resnet", "07_results"], str(other), "tiny")
    assert missing == [] and table["model"].tolist() == ["resnet", "ae · eval"]
    assert results.earlier_results(out / "07_results", ["04_resnet"], str(data), "tiny")[0].empty


def test_damaged_timings_csv_is_named(tmp_path):
    (tmp_path / "timings.csv").write_text("something,else\n1,2\n")
    with pytest.raises(ValueError, match="timings.csv: not a course timings.csv"):
        results.collect_summary(tmp_path)


def test_earlier_results_reads_siblings_and_reports_missing(tmp_path):
    metrics = {"network": "AE", "score": "mean_error", "model": None, "options": {}, "recipe": None, "per_id": {"id_00": {"auc": 0.8, "pauc": 0.6}}, "mean_auc": 0.8, "mean_pauc": 0.6, "pooled_auc": 0.8,
               "n_params": 1, "train_seconds": 1.0, "hyperparameters": {}}
    write_metrics_json(tmp_path / "03_autoencoder_baselines", "03_autoencoder_baselines", "d", {"AE": metrics})
    table, missing = results.earlier_results(tmp_path / "05_stgramnet", ["03_autoencoder_baselines", "04_resnet_baseline"])
    assert missing == ["04_resnet_baseline"]
    assert table["model"].tolist() == ["AE"] and table["mean_auc"].tolist() == [0.8]


def _dev(notebook, mean_auc, network, model, score="mean_error"):
    return {"network": network, "score": score, "model": model, "notebook": notebook, "mean_auc": mean_auc,
            "train_seconds": 10.0, "hyperparameters": {}}


RESNET, STGRAM, ARC, SEP = "ResNet50 (random features)", "STgramNet (CE)", "STgramNet (ArcFace)", "SepSTgramNet (CE)"
DEV = {  # names and entries as notebooks 03-06 write them
    "Baseline (VAE)": _dev("03_autoencoder_baselines", 0.80, "Baseline (VAE)", "baseline"),
    "+BatchNorm": _dev("03_autoencoder_baselines", 0.85, "+BatchNorm", "batchnorm"),
    "DCASE AE (Sequential)": _dev("03_autoencoder_baselines", 0.84, "DCASE AE (Sequential)", "dcase_ae"),
    "DCASE AE (Sequential), 95th-percentile error": _dev("03_autoencoder_baselines", 0.86, "DCASE AE (Sequential)",
                                                         "dcase_ae", "p95_error"),
    f"{RESNET} · Mahalanobis": _dev("04_resnet_baseline", 0.95, RESNET, "resnet50", "mahalanobis"),
    f"{RESNET} · 1-softmax": _dev("04_resnet_baseline", 0.60, RESNET, "resnet50", "1-softmax"),
    f"{STGRAM} · kNN cosine": _dev("05_stgramnet", 0.90, STGRAM, "stgramnet", "knn_cosine"),
    f"{STGRAM} · neg log prob": _dev("05_stgramnet", 0.70, STGRAM, "stgramnet", "neg_log_prob"),
    f"{ARC} · Mahalanobis": _dev("05_stgramnet", 0.91, ARC, "stgramnet_arcface", "mahalanobis"),
    f"{SEP} · Mahalanobis": _dev("06_sepstgramnet", 0.93, SEP, "sepstgramnet", "mahalanobis"),
    f"{SEP} · 1-softmax": _dev("06_sepstgramnet", 0.97, SEP, "sepstgramnet", "1-softmax"),
}


def test_choose_models_reads_the_model_key_and_leaves_out_other_models():
    """The choice reads each entry's registry key (no name parsing): a network of one's own (key None), e.g.
    notebook 05's exercise classifier, or a better-named entry of an unknown key is never chosen."""
    own = {**DEV, "my 1-D CNN · Mahalanobis": _dev("05_stgramnet", 0.99, "my 1-D CNN", None, "mahalanobis"),
           "STgramNet (CE) renamed · 1-softmax": _dev("05_stgramnet", 0.99, "STgramNet (CE)", "unknown", "1-softmax"),
           "an AE of one's own": _dev("03_autoencoder_baselines", 0.99, "my AE", None)}
    choice = model_choice.choose_models(own)
    assert (choice.ae_key, choice.classifier, choice.score) == ("batchnorm", "sepstgramnet", "1-softmax")


def test_choose_models_automatic_is_the_best_dev_mean_auc():
    choice = model_choice.choose_models(DEV)
    assert (choice.ae_key, choice.ae_name, choice.ae_dev_name) == ("batchnorm", "+BatchNorm", "+BatchNorm")
    assert (choice.classifier, choice.score, choice.network) == ("sepstgramnet", "1-softmax", "SepSTgramNet (CE)")
    assert choice.classifier_dev_name == "SepSTgramNet (CE) · 1-softmax" and choice.left_out == []
    assert choice.ae_reason == "best dev mean AUC of notebook 03"
    assert choice.classifier_reason == "best dev mean AUC of notebooks 04-06"


def test_choose_models_candidates_score_and_named_models():
    fast = model_choice.choose_models(DEV, candidates="resnet50, stgramnet")
    assert (fast.classifier, fast.score, fast.network) == ("resnet50", "mahalanobis", "ResNet50 (random features)")
    assert fast.left_out == ["STgramNet (ArcFace)", "SepSTgramNet (CE)"]
    by_score = model_choice.choose_models(DEV, score="mahalanobis")
    assert (by_score.classifier, by_score.classifier_dev_name) == ("resnet50", "ResNet50 (random features) · Mahalanobis")
    named = model_choice.choose_models(DEV, ae_model="DCASE AE (Sequential)", classifier="stgramnet")
    assert (named.ae_key, named.ae_reason) == ("dcase_ae", "set by AE_MODEL")
    assert (named.classifier, named.score, named.classifier_reason) == ("stgramnet", "knn_cosine", "set by CLASSIFIER")
    assert named.classifier_dev_name == "STgramNet (CE) · kNN cosine" and named.left_out == []
    no_dev = model_choice.choose_models(DEV, classifier="stgramnet", score="1-softmax")
    assert no_dev.classifier_dev_name is None and no_dev.network == "STgramNet (CE)"
    with pytest.raises(ValueError, match=r"unknown classifier\(s\) \['resnet18'\]"):
        model_choice.choose_models(DEV, candidates="resnet18")
    with pytest.raises(ValueError, match="unknown score 'cosine'"):
        model_choice.choose_models(DEV, score="cosine")


def test_choose_models_one_standard_error_rule_prefers_the_smaller_of_close_models():
    sizes = {"+BatchNorm": 300, "DCASE AE (Sequential)": 200, "Baseline (VAE)": 100,
             "SepSTgramNet (CE) · 1-softmax": 22, "SepSTgramNet (CE) · Mahalanobis": 22,
             "ResNet50 (random features) · Mahalanobis": 12}
    dev = {name: {**m, "n_params": sizes.get(name, 11)} for name, m in DEV.items()}
    se = {name: 0.03 for name in dev}  # +BatchNorm 0.85: DCASE AE (0.84) is within one SE, Baseline (0.80) is not
    choice = model_choice.choose_models(dev, standard_errors=se)
    assert choice.ae_key == "dcase_ae"
    assert choice.within_one_se["autoencoder"] == ["+BatchNorm", "DCASE AE (Sequential)"]
    assert (choice.classifier, choice.score) == ("resnet50", "mahalanobis")  # 0.95 >= 0.97 - 0.03; STgramNet kNN (0.90, 11) is out
    assert choice.classifier_reason == "smallest model within one standard error of the best dev mean AUC of notebooks 04-06"
    tight = model_choice.choose_models(dev, standard_errors={name: 0.001 for name in dev})
    assert (tight.ae_key, tight.classifier, tight.score) == ("batchnorm", "sepstgramnet", "1-softmax")
    assert model_choice.choose_models(dev, standard_errors={}).classifier == "sepstgramnet"  # no SE: the best
    arcface = {**dev, "STgramNet (ArcFace) · Mahalanobis": {**dev["STgramNet (ArcFace) · Mahalanobis"], "mean_auc": 0.965,
                                                            "n_params": 11_458_880},
               "SepSTgramNet (CE) · 1-softmax": {**dev["SepSTgramNet (CE) · 1-softmax"], "n_params": 11_458_886}}
    # six parameters fewer (an ArcFace head has no biases) do not make a smaller model: the higher mean AUC decides
    assert model_choice.choose_models(arcface, standard_errors=se,
                                 candidates="stgramnet_arcface,sepstgramnet").classifier == "sepstgramnet"


def test_choose_models_without_development_results():
    choice = model_choice.choose_models({})
    assert (choice.ae_key, choice.classifier, choice.score) == ("dcase_ae", "stgramnet", "mahalanobis")
    assert choice.ae_dev_name is None and choice.classifier_dev_name is None
    assert choice.ae_reason.startswith("default") and choice.classifier_reason.startswith("default")
    only_ae = {n: m for n, m in DEV.items() if "·" not in n}
    assert model_choice.choose_models(only_ae, score="knn_cosine").score == "knn_cosine"


def test_literature_tables_come_from_the_one_table():
    table_i = literature.report_table_i()
    assert table_i.index.tolist() == ["ResNet50 (baseline)", "STgramNet", "SepSTgramNet"]
    assert table_i[["dev AUC", "eval AUC"]].to_numpy().tolist() == [[0.867, 0.753], [0.943, 0.876], [0.991, 0.918]]
    report = profiles.CLASSIFIER_TRAINING["dcase"]  # the dcase profile trains as Team 42 did
    for key, model in zip(("resnet50", "stgramnet", "sepstgramnet"), table_i.index):
        settings = report[key]
        assert table_i.loc[model, "training"] == (f"epochs {settings.epochs}, batch {settings.batch_size}, "
                                                  f"lr {settings.learning_rate:.0e}".replace("e-0", "e-"))
    per_id = literature.literature_per_id()
    assert per_id.index.tolist() == ["Baseline (VAE)", "+BatchNorm", "+Dropout", "DCASE AE (Sequential)",
                                     "official DCASE 2020 baseline"]
    assert per_id.loc["+BatchNorm", ("id_04", "pAUC")] == 0.7356
    assert per_id.loc["official DCASE 2020 baseline", ("id_02", "AUC")] == 0.788
    # the official baseline's pAUC is published (0.818 / 0.629 / 0.740 on ids 00 / 02 / 04)
    assert per_id.loc["official DCASE 2020 baseline", [(f"id_{i}", "pAUC") for i in ("00", "02", "04")]].tolist() == [
        0.818, 0.629, 0.740]
    assert not per_id.isna().any().any()
    # the reported means are the means of the reported per-id values (to the reports' 3 decimals)
    for column, rows in (("AUC", per_id.index), ("pAUC", per_id.index)):
        by_hand = per_id.loc[rows, [(f"id_{i}", column) for i in ("00", "02", "04")]].mean(axis=1)
        assert (per_id.loc[rows, ("mean", column)] - by_hand).abs().max() < 5e-4
    from asd_utils.ae_pipeline import MODEL_SPECS

    assert set(per_id.index[:4]) <= {name for name, _, _ in MODEL_SPECS.values()}  # 03 matches its models by name


