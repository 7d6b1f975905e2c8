"""``python -m asd_utils score`` end to end on a miniature synthetic dataset (2 s clips, 6 training clips per id).

An autoencoder and a small classifier are trained for one epoch on the evaluation ids with the course's own code
(asd_utils.ae_pipeline, asd_utils.classifiers), saved, and loaded back by the command, which must write the DCASE
per-id CSVs and the Kaggle CSV, score them against the ground truth (or say that there is none) and reject models
that cannot score the clips. About 20 s on 2 CPU cores.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from asd_utils import ae_pipeline, classifier_files, classifier_inputs, classifiers
from asd_utils.cli import main as cli_main
from asd_utils.data import dataset_table, select
from asd_utils.features import LogMelParams, log_mel_dataset
from asd_utils.metrics import evaluate_scores
from asd_utils.profiles import SynthSizes
from asd_utils.submission import KAGGLE_FILE_NAME, score_main
from asd_utils.recipes import ClassifierRecipe, TrainingRecipe

SIZES = SynthSizes(dev_train=(6, 6, 6), dev_test_normal=(3, 3, 3), dev_test_anomaly=(3, 3, 3),
                   eval_train=(6, 6, 6), eval_test_normal=(3, 3, 3), eval_test_anomaly=(3, 3, 3), duration_s=2.0)
PARAMS = LogMelParams()


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """Dataset, dataset table, cache folder and two saved autoencoders (trained on the eval and on the dev ids)."""
    from asd_utils.synth import generate_dataset

    base = tmp_path_factory.mktemp("score_cli")
    root, cache = base / "data", base / "cache"
    generate_dataset(root, sizes=SIZES, seed=0, progress=False)
    table = dataset_table(root, "slider")
    models = {}
    for dataset in ("eval", "dev"):
        train = select(table, dataset=dataset, split="train")
        test = select(table, dataset=dataset, split="test")
        logmels = log_mel_dataset(train["path"], PARAMS, cache_dir=cache, device="cpu")
        test_logmels = log_mel_dataset(test["path"], PARAMS, cache_dir=cache, device="cpu")
        groups = ae_pipeline.machine_groups(train["machine_id"])
        run = ae_pipeline.train_autoencoders("dcase_ae", logmels, train["machine_id"], groups,
                                             TrainingRecipe(epochs=1, batch_size=64, learning_rate=1e-3),
                                             test_logmels=test_logmels,
                                             test_ids=test["machine_id"], device="cpu")
        hyper = ae_pipeline.autoencoder_hyperparameters(feature_params=PARAMS, n_models=len(groups))
        path = ae_pipeline.save_autoencoders(base / f"ae_{dataset}.pt", run, PARAMS, hyper)
        models[dataset] = {"path": path, "run": run, "test": test}
    return {"root": root, "cache": cache, "base": base, "table": table, "models": models}


def _args(mini, model, out, *extra):
    return ["--model", str(model), "--data-root", str(mini["root"]), "--out", str(out), "--device", "cpu",
            "--cache-dir", str(mini["cache"]), *extra]


def test_autoencoder_checkpoint_scores_eval_clips_and_submission(mini, tmp_path, capsys):
    out = tmp_path / "sub"
    assert score_main(_args(mini, mini["models"]["eval"]["path"], out)) == 0
    stdout = capsys.readouterr().out
    assert "DCASE AE (Sequential) (autoencoder, score: reconstruction)" in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "anomaly_score_slider_id_01.csv", "anomaly_score_slider_id_03.csv", "anomaly_score_slider_id_05.csv",
        KAGGLE_FILE_NAME]
    lines = (out / "anomaly_score_slider_id_03.csv").read_text().splitlines()
    assert len(lines) == 6 and lines[0].startswith("id_03_00000000.wav,")
    kaggle = pd.read_csv(out / KAGGLE_FILE_NAME)
    assert list(kaggle.columns) == ["file_name", "anomaly_score"] and len(kaggle) == 18
    # the command's scores are those of the trained models, and its metrics those of the ground truth
    test = mini["models"]["eval"]["test"]
    expected = dict(zip(test["file_name"], mini["models"]["eval"]["run"].scores))
    assert np.allclose(kaggle["anomaly_score"], [expected[name] for name in kaggle["file_name"]], rtol=1e-5)
    metrics = evaluate_scores(test, mini["models"]["eval"]["run"].scores)
    assert "scored against" in stdout and "eval_data_list.csv" in stdout
    assert f"{'mean':12s} {metrics['mean_auc']:7.3f} {metrics['mean_pauc']:7.3f}" in stdout
    assert f"{metrics['per_id']['id_05']['auc']:7.3f}" in stdout


def test_dev_dataset_is_scored_with_labels_from_file_names(mini, tmp_path, capsys):
    out = tmp_path / "dev"
    args = _args(mini, mini["models"]["dev"]["path"], out, "--dataset", "dev")
    del args[args.index("--device"):args.index("--device") + 2]  # the default device, "auto"
    assert cli_main(["score", *args]) == 0
    stdout = capsys.readouterr().out
    assert "labels in the development file names" in stdout
    metrics = evaluate_scores(mini["models"]["dev"]["test"], mini["models"]["dev"]["run"].scores)
    assert f"{'pooled AUC':12s} {metrics['pooled_auc']:7.3f}" in stdout
    assert len(list(out.glob("anomaly_score_slider_id_0*.csv"))) == 3


def test_missing_ground_truth_is_said_clearly(mini, tmp_path, capsys):
    root = tmp_path / "no_truth"
    shutil.copytree(mini["root"] / "eval_data", root / "eval_data")
    (root / "eval_data" / "slider" / "eval_data_list.csv").unlink()
    args = _args(mini, mini["models"]["eval"]["path"], tmp_path / "sub")
    args[args.index("--data-root") + 1] = str(root)
    assert score_main(args) == 0
    stdout = capsys.readouterr().out
    assert "No ground truth found" in stdout and "cannot be scored" in stdout
    assert (tmp_path / "sub" / KAGGLE_FILE_NAME).is_file()


def test_model_trained_on_other_ids_is_rejected(mini, tmp_path, capsys):
    assert score_main(_args(mini, mini["models"]["dev"]["path"], tmp_path / "sub")) == 1
    err = capsys.readouterr().err
    assert "trained on machine ids id_00, id_02, id_04 and cannot score clips of id_01, id_03, id_05" in err
    assert not (tmp_path / "sub").exists()


def test_bad_checkpoint_files_are_rejected(mini, tmp_path, capsys):
    text = tmp_path / "notes.pt"
    text.write_text("not a model")
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    wrong_format = tmp_path / "wrong.pt"
    torch.save({"format": "something.else/9"}, wrong_format)
    cases = {tmp_path / "missing.pt": "checkpoint not found", text: "not a PyTorch checkpoint",
             other: "not a course checkpoint", wrong_format: "unknown checkpoint format 'something.else/9'"}
    for path, message in cases.items():
        assert score_main(_args(mini, path, tmp_path / "sub")) == 1
        assert message in capsys.readouterr().err
    assert score_main(_args(mini, mini["models"]["eval"]["path"], tmp_path / "sub", "--score", "knn_cosine")) == 1
    assert "applies to classifiers" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        score_main(_args(mini, mini["models"]["eval"]["path"], tmp_path / "sub", "--score", "magic"))


def test_notebook_03_checkpoint_format_loads(mini):
    checkpoint = torch.load(mini["models"]["eval"]["path"], map_location="cpu", weights_only=True)
    assert checkpoint["format"] == "asd_utils.autoencoders/3" and checkpoint["class"] == "DcaseBaselineAE"
    assert set(checkpoint) == {"format", "model", "name", "class", "options", "input_dim", "recipe", "feature_params",
                               "frames", "hyperparameters", "groups"}
    assert checkpoint["model"] == "dcase_ae" and checkpoint["recipe"]["epochs"] == 1
    assert sorted(checkpoint["groups"]) == ["id_01", "id_03", "id_05"]
    assert set(checkpoint["groups"]["id_01"]) == {"machine_ids", "state_dict", "mean", "std"}
    assert sorted(ae_pipeline.load_autoencoders(mini["models"]["eval"]["path"])) == ["id_01", "id_03", "id_05"]


def test_classifier_checkpoint_scores_with_recorded_or_chosen_score(mini, tmp_path, capsys):
    table = mini["table"]
    train = classifier_inputs.load_clip_inputs(select(table, dataset="eval", split="train"), PARAMS, cache_dir=mini["cache"],
                                         device="cpu")
    test = classifier_inputs.load_clip_inputs(select(table, dataset="eval", split="test"), PARAMS, cache_dir=mini["cache"],
                                        device="cpu")
    torch.manual_seed(0)
    model = classifiers.build_classifier("stgramnet", num_classes=3, params=PARAMS)
    run = classifiers.run_classifier("STgramNet (CE)", model, train, test,
                                     ClassifierRecipe(epochs=1, batch_size=6, learning_rate=1e-3), device="cpu",
                                     progress=False,
                                     hyperparameters={"score": "knn_cosine"})
    path = classifier_files.save_classifier(tmp_path / "stgramnet.pt", run, PARAMS)
    scored = {}
    for score, extra in (("knn_cosine", []), ("mahalanobis", ["--score", "mahalanobis"]),
                         ("neg_log_prob", ["--score", "neg_log_prob"])):
        out = tmp_path / score
        assert score_main(_args(mini, path, out, *extra)) == 0
        assert f"(classifier, score: {score})" in capsys.readouterr().out
        frame = pd.read_csv(out / KAGGLE_FILE_NAME).set_index("file_name")["anomaly_score"]
        scored[score] = frame[run.test_table["file_name"]].to_numpy()
        assert np.allclose(scored[score], run.scores[score], rtol=1e-4, atol=1e-6), score
    # a classifier of the eval ids cannot score the dev ids
    assert score_main(_args(mini, path, tmp_path / "dev", "--dataset", "dev")) == 1
    assert "cannot score clips of id_00, id_02, id_04" in capsys.readouterr().err


def test_stale_submission_files_in_out_are_not_scored(mini, tmp_path, capsys):
    """`score` used to read every anomaly_score_*.csv in --out and report AUCs for ids it had not scored."""
    out = tmp_path / "sub"
    assert score_main(_args(mini, mini["models"]["eval"]["path"], out)) == 0  # an earlier run: ids 01, 03, 05
    root = tmp_path / "data"
    shutil.copytree(mini["root"], root)
    for path in (root / "eval_data/slider/test").glob("id_03_*.wav"):
        path.unlink()
    capsys.readouterr()
    args = _args(mini, mini["models"]["eval"]["path"], out)
    args[args.index("--data-root") + 1] = str(root)
    assert score_main(args) == 0
    stdout = capsys.readouterr().out
    assert "not scored: anomaly_score_slider_id_03.csv" in stdout
    assert "id_01" in stdout and "id_05" in stdout
    assert not any(line.startswith("id_03 ") for line in stdout.splitlines())


def test_out_that_is_a_file_is_named(mini, tmp_path, capsys):
    blocker = tmp_path / "results.csv"
    blocker.write_text("mine")
    assert score_main(_args(mini, mini["models"]["eval"]["path"], blocker)) == 1
    assert f"--out {blocker}: {blocker} is a file, expected a folder" in capsys.readouterr().err
    assert blocker.read_text() == "mine"


def test_cli_turns_os_errors_into_one_line(monkeypatch, capsys):
    from asd_utils import cli

    def broken(argv):
        raise PermissionError(13, "Permission denied", "/data/read_only/metadata.csv")

    monkeypatch.setitem(cli.COMMANDS, "broken", ("asd_utils.cli", "broken_main"))
    monkeypatch.setattr(cli, "broken_main", broken, raising=False)
    assert cli.main(["broken"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("python -m asd_utils broken: error:") and "/data/read_only/metadata.csv" in err
