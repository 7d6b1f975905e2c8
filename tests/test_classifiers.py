"""The machine-id classifier pipeline (asd_utils.classifiers): shapes, classes, Eq. 1, a tiny training run, the
frozen ResNet-50 baseline, checkpoints, and the training settings of notebooks 04-06."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from asd_utils import classifier_files
from asd_utils import classifier_inputs as ci
from asd_utils import classifiers as cl
from asd_utils import profiles
from asd_utils.data import dataset_table, select
from asd_utils.features import LogMelParams, log_mel
from asd_utils.metrics import evaluate_scores, write_metrics_json
from asd_utils.models import MachineIdClassifier
from asd_utils.runner import list_notebooks
from asd_utils.utils import set_seed
from asd_utils.data import DatasetError
from asd_utils.recipes import ClassifierRecipe
from helpers import machine_like, make_layout


def _inputs(machine_ids, labels=None, seconds=10.0, waves=True):
    """ClipInputs of synthetic machine-like clips (no files): one row per id in ``machine_ids``."""
    wave = np.stack([machine_like(seed=i, seconds=seconds) for i in range(len(machine_ids))])
    labels = labels if labels is not None else [0.0] * len(machine_ids)
    table = pd.DataFrame({"path": [f"clip{i}.wav" for i in range(len(machine_ids))],
                          "file_name": [f"clip{i}.wav" for i in range(len(machine_ids))],
                          "machine_id": list(machine_ids), "y": labels})
    return ci.ClipInputs(table, wave if waves else None, log_mel(wave))


@pytest.mark.parametrize("kind, options, dim", [("stgramnet", {}, 512), ("sepstgramnet", {"hidden": 64}, 64),
                                                ("resnet50_baseline", {"pretrained": False}, 2048)])
def test_predict_shapes_for_a_10_second_clip(kind, options, dim):
    inputs = _inputs(["id_00", "id_02"])
    assert inputs.logmels.shape == (2, 128, 313)
    model = cl.build_classifier(kind, num_classes=3, **options)
    logits, embeddings = cl.predict(model, inputs, ci.logmel_stats(inputs.logmels), device="cpu")
    assert logits.shape == (2, 3) and embeddings.shape == (2, dim)
    assert np.isfinite(logits).all() and np.isfinite(embeddings).all()


def test_classes_are_the_ids_present_in_the_training_data(tmp_path):
    assert ci.class_mapping(["id_04", "id_00", "id_02", "id_00"]) == {"id_00": 0, "id_02": 1, "id_04": 2}
    assert ci.class_mapping(["id_05", "id_01", "id_03"]) == {"id_01": 0, "id_03": 1, "id_05": 2}
    four = ci.class_mapping(["id_06", "id_00", "id_04", "id_02"])  # the real dev data has four slider ids
    assert list(four.items()) == [("id_00", 0), ("id_02", 1), ("id_04", 2), ("id_06", 3)]
    np.testing.assert_array_equal(ci.class_indices(["id_04", "id_00"], four), [2, 0])
    with pytest.raises(ValueError, match="id_01"):
        ci.class_indices(["id_01"], four)
    table = dataset_table(make_layout(tmp_path, n_train=2, n_test=1))
    assert ci.class_mapping(select(table, "dev", "train")["machine_id"]) == {"id_00": 0, "id_02": 1}
    # one id: p(id) = 1 for every clip and every softmax AUC 0.5, so it is refused before any training
    with pytest.raises(DatasetError, match=r"at least 2 machine ids, got 1 \(id_01\)"):
        ci.class_mapping(select(table, "eval", "train")["machine_id"])
    with pytest.raises(DatasetError, match="num_classes=1"):
        cl.build_classifier("stgramnet", num_classes=1)


def test_subsample_per_id_is_seeded_and_capped():
    table = pd.DataFrame({"path": [f"{m}_{i}" for m in ("id_00", "id_02") for i in range(10)],
                          "machine_id": ["id_00"] * 10 + ["id_02"] * 10})
    a, b = ci.subsample_per_id(table, 3, seed=1), ci.subsample_per_id(table, 3, seed=1)
    assert a.groupby("machine_id").size().tolist() == [3, 3]
    pd.testing.assert_frame_equal(a, b)
    assert len(ci.subsample_per_id(table, 0)) == 20 and len(ci.subsample_per_id(table, 50)) == 20


class _FixedLogits(MachineIdClassifier):
    """A fake classifier whose logits are a known table row: the clip's log-mel frame 0 has its maximum at the row
    number (an argmax survives the pipeline's standardisation)."""

    required_inputs = ("logmel",)

    def __init__(self, table):
        super().__init__()
        self.num_classes = table.shape[1]
        self.register_buffer("table", torch.as_tensor(table, dtype=torch.float32))
        self.unused = nn.Parameter(torch.zeros(1))  # the optimiser needs one parameter
        self.head = nn.Identity()

    def embed_inputs(self, wave, logmel):
        return self.table[logmel[:, :, 0].argmax(dim=1)]


def test_eq1_and_neg_log_prob_on_known_logits_through_the_pipeline():
    known = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0], [0.0, 40.0]])
    logmels = np.zeros((4, 8, 5), dtype=np.float32)
    logmels[np.arange(4), np.arange(4), 0] = 10.0
    test = ci.ClipInputs(pd.DataFrame({"file_name": list("abcd"), "machine_id": ["id_00", "id_00", "id_02", "id_02"],
                                       "y": [0.0, 1.0, 0.0, 1.0]}), None, logmels)
    train = ci.ClipInputs(test.table.copy(), None, logmels.copy())
    run = cl.run_classifier("fixed", _FixedLogits(known), train, test,
                            ClassifierRecipe(epochs=0, batch_size=2, learning_rate=1e-3), device="cpu", progress=False)
    np.testing.assert_allclose(run.test_logits, known, atol=1e-6)
    own = [0, 0, 1, 1]
    expected = [1 - math.exp(z[c]) / sum(math.exp(v) for v in z) for z, c in zip(known, own)]
    np.testing.assert_allclose(run.scores["1-softmax"], expected, atol=1e-7)  # 0.119, 0.953, 0.5, ~0
    np.testing.assert_allclose(run.scores["neg_log_prob"], [-math.log(1 - e) for e in expected[:3]] + [math.exp(-40)],
                               rtol=1e-6)
    assert run.scores["1-softmax"][3] == 0.0 < run.scores["neg_log_prob"][3]  # saturated, yet still ranked
    np.testing.assert_allclose(run.p_id, 1 - np.array(expected), atol=1e-7)
    assert run.id_accuracy() == 0.5  # b has id_00 but a larger id_02 logit; c's tie goes to the first class
    assert run.confusion().to_numpy().tolist() == [[1, 1], [1, 1]]


@pytest.fixture(scope="module")
def tiny_inputs(tmp_path_factory):
    """Training and test ClipInputs of a miniature DCASE layout: dev ids 00 and 02, 3 training and 2 + 2 test clips
    per id, 0.5 s long (log-mels of 128 x 16, the smallest a ResNet takes)."""
    table = dataset_table(make_layout(tmp_path_factory.mktemp("tiny_layout"), n_train=3, n_test=2, seconds=0.5))
    return tuple(ci.load_clip_inputs(select(table, "dev", split), LogMelParams(), cache_dir=None, device="cpu")
                 for split in ("train", "test"))


@pytest.mark.parametrize("model_key, kind, options", [("stgramnet", "stgramnet", {}),
                                                ("stgramnet_arcface", "stgramnet", {"head": "arcface"}),
                                                ("sepstgramnet", "sepstgramnet", {"hidden": 32})])
def test_tiny_training_run_gives_finite_scores_metrics_and_reloadable_checkpoints(tmp_path, tiny_inputs, model_key, kind,
                                                                                   options):
    set_seed(0)
    train, test = tiny_inputs
    params = LogMelParams()
    assert train.waves.shape == (6, 8000) and train.logmels.shape == (6, 128, 16)
    model = cl.build_classifier(kind, num_classes=2, params=params, **options)
    run = cl.run_classifier(kind, model, train, test, ClassifierRecipe(epochs=1, batch_size=2, learning_rate=1e-3),
                            device="cpu", progress=False, model_key=model_key, hyperparameters={"note": "tiny"})
    assert len(run.history.train_loss) == 1 and math.isfinite(run.history.train_loss[0])
    assert set(run.scores) == set(cl.SCORE_LABELS)
    for values in run.scores.values():
        assert values.shape == (len(test),) and np.isfinite(values).all()
    models = run.metrics()
    assert sorted(models) == sorted(f"{kind} · {label}" for label in cl.SCORE_LABELS.values())
    for key, label in cl.SCORE_LABELS.items():  # each name holds the metrics of its own score
        metrics = models[f"{kind} · {label}"]
        assert (metrics["network"], metrics["score"]) == (kind, key)
        assert {k: metrics[k] for k in ("per_id", "mean_auc", "mean_pauc", "pooled_auc")} == evaluate_scores(
            test.table, run.scores[key])
    for metrics in models.values():  # the model and its recipe as data, the notebook's hyper-parameters apart
        assert (metrics["model"], metrics["recipe"]["epochs"], metrics["recipe"]["batch_size"]) == (model_key, 1, 2)
        assert metrics["options"] == model.spec["options"] and "epochs" not in metrics["hyperparameters"]
        assert metrics["hyperparameters"]["note"] == "tiny" and metrics["n_params"] > 0
    payload = json.loads(write_metrics_json(tmp_path / "out", "05_x", "data", models, profile="tiny").read_text())
    assert payload["models"][f"{kind} · Mahalanobis"]["mean_auc"] == pytest.approx(models[f"{kind} · Mahalanobis"]["mean_auc"])
    scores = pd.read_csv(classifier_files.write_scores_csv(tmp_path / "out" / "scores.csv", [run]))
    assert len(scores) == 4 * len(test) and {"file_name", "machine_id", "y", "model", "score"} <= set(scores.columns)
    path = classifier_files.save_classifier(tmp_path / "out" / "models" / "m.pt", run, params)
    reloaded, checkpoint = classifier_files.load_classifier(path)
    assert checkpoint["classes"] == ["id_00", "id_02"] and checkpoint["train_embeddings"].shape[0] == len(train)
    assert (checkpoint["model"], checkpoint["recipe"]) == (model_key, run.recipe.as_dict())
    assert classifier_files.rescore(path, test.table, cache_dir=None, device="cpu").recipe == run.recipe
    logits, _ = cl.predict(reloaded, test, checkpoint["norm"], device="cpu")
    np.testing.assert_allclose(logits, run.test_logits, rtol=1e-4, atol=1e-4)


SEPARABLE_TONES_HZ = {"id_00": 300.0, "id_02": 3000.0}


def _tone_inputs(rows, seed, n_samples=8000, sr=16000):
    """ClipInputs of 0.5 s clips ``rows = [(machine_id, anomalous), ...]``: each id a pure tone (random phase, +-0.5 %
    pitch), an anomaly the same tone with a 5 kHz whistle and broadband noise on top: separable by design."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_samples) / sr
    waves = []
    for machine_id, anomalous in rows:
        hz = SEPARABLE_TONES_HZ[machine_id] * rng.uniform(0.995, 1.005)
        wave = 0.05 * np.sin(2 * np.pi * hz * t + rng.uniform(0, 2 * np.pi)) + 0.002 * rng.standard_normal(n_samples)
        if anomalous:
            wave += 0.05 * np.sin(2 * np.pi * 5000 * t) + 0.03 * rng.standard_normal(n_samples)
        waves.append(wave.astype(np.float32))
    waves = np.stack(waves)
    names = [f"clip{i}.wav" for i in range(len(rows))]
    table = pd.DataFrame({"path": names, "file_name": names, "machine_id": [m for m, _ in rows],
                          "y": [float(a) for _, a in rows]})
    return ci.ClipInputs(table, waves, log_mel(waves))


@pytest.fixture(scope="module")
def separable():
    """12 normal training clips per id; 4 normal and 4 anomalous test clips per id."""
    return (_tone_inputs([(m, False) for m in SEPARABLE_TONES_HZ for _ in range(12)], seed=0),
            _tone_inputs([(m, a) for m in SEPARABLE_TONES_HZ for a in (False, True) for _ in range(4)], seed=1))


@pytest.mark.parametrize("kind, options, epochs, learning_rate", [
    ("resnet50_baseline", {"pretrained": False}, 20, 1e-2), ("stgramnet", {}, 5, 1e-3),
    ("stgramnet", {"head": "arcface"}, 5, 1e-3), ("sepstgramnet", {"hidden": 32}, 5, 1e-3)])
def test_every_classifier_learns_a_separable_case(separable, kind, options, epochs, learning_rate):
    """Minimum quality: every normal test clip recognised as its own id, and the embedding distances rank every
    anomaly above its id's normal clips (mean AUC >= 0.9; 1.0 when this was written). The networks trained end to
    end must also do it with the softmax scores; the frozen random-feature ResNet-50 need not (its softmax saturates
    on anomalies too, the course's point about Eq. 1). Training skipped gives an id accuracy near chance."""
    set_seed(0)
    train, test = separable
    model = cl.build_classifier(kind, num_classes=2, **options)
    run = cl.run_classifier(kind, model, train, test,
                            ClassifierRecipe(epochs=epochs, batch_size=4, learning_rate=learning_rate), device="cpu",
                            progress=False)
    normal = test.table["y"].to_numpy() == 0
    assert cl.id_accuracy(run.test_logits[normal], run.test_classes[normal]) == 1.0
    floors = ("mahalanobis", "knn_cosine") + (("1-softmax", "neg_log_prob") if kind != "resnet50_baseline" else ())
    for key in floors:
        assert evaluate_scores(test.table, run.scores[key])["mean_auc"] >= 0.9, key


def test_resnet50_baseline_trains_only_its_head(tiny_inputs):
    set_seed(0)
    train, test = tiny_inputs
    model = cl.build_classifier("resnet50_baseline", num_classes=2, pretrained=False)
    assert not model.weights_loaded
    backbone = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    head = {k: v.clone() for k, v in model.head.state_dict().items()}
    run = cl.run_classifier("r50", model, train, test, ClassifierRecipe(epochs=20, batch_size=4, learning_rate=1e-2),
                            device="cpu",
                            progress=False)
    assert all(torch.equal(v, model.backbone.state_dict()[k]) for k, v in backbone.items())
    assert not torch.equal(head["weight"], model.head.weight)
    assert run.n_params == 2048 * 2 + 2
    # the head learnt on standardised embeddings; folded back into its weights it must still fit its 6 clips
    # (unfolded, raw features around 30 +- 0.5 would give every clip the same class)
    assert run.id_accuracy("train") == 1.0
    # the full forward pass must give the logits computed from the cached embeddings
    logits, embeddings = cl.predict(model, train, run.norm, device="cpu")
    np.testing.assert_allclose(logits, run.train_logits, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(embeddings, run.train_embeddings, rtol=1e-5, atol=1e-5)


def test_precise_batchnorm_uses_exact_averages_and_leaves_weights_alone():
    set_seed(0)
    inputs = _inputs(["id_00", "id_02"] * 3, seconds=1.0)
    norm = ci.logmel_stats(inputs.logmels)
    model = cl.build_classifier("stgramnet", num_classes=2)
    weights = {k: v.clone() for k, v in model.named_parameters()}
    seen = []
    hook = model.backbone.bn1.register_forward_hook(lambda module, args, out: seen.append(args[0].mean(dim=(0, 2, 3))))
    assert cl.recalibrate_batchnorm(model, inputs, norm, device="cpu", batch_size=3) == 20  # 20 BatchNorms in a ResNet-18
    hook.remove()
    assert len(seen) == 2 and not model.training
    torch.testing.assert_close(model.backbone.bn1.running_mean, torch.stack(seen).mean(dim=0))
    assert model.backbone.bn1.momentum == 0.1
    assert all(torch.equal(v, dict(model.named_parameters())[k]) for k, v in weights.items())


def test_classifier_recipes_match_the_report_and_the_notebooks_take_them_whole():
    report = profiles.CLASSIFIER_TRAINING["dcase"]
    team42 = {"resnet50": (10, 32, 1e-3), "stgramnet": (10, 4, 1e-4), "sepstgramnet": (9, 4, 1e-3)}  # Table I
    for name, (epochs, batch_size, learning_rate) in team42.items():
        recipe = report[name]
        assert (recipe.epochs, recipe.batch_size, recipe.learning_rate) == (epochs, batch_size, learning_rate)
        assert recipe.pretrained and not recipe.cosine_decay and recipe.crop_frames == 0 and recipe.label_smoothing == 0
    recipe = profiles.classifier_recipe("dcase", "05", EPOCHS=None, batch_size=8, LEARNING_RATE=1)
    assert recipe.epochs == 10 and recipe.batch_size == 8 and recipe.learning_rate == 1.0
    assert isinstance(recipe.learning_rate, float) and recipe.pretrained is True
    assert report["stgramnet"].batch_size == 4  # replace() made a copy
    assert profiles.classifier_recipe("course", "04").crop_frames == 0  # whole clips unless the profile says so
    with pytest.raises(ValueError, match="EPOCH.*not a training option.*epochs"):
        profiles.classifier_recipe("course", "05", EPOCH=3)
    line = profiles.describe_recipe("course", "05", profiles.classifier_recipe("course", "05", epochs=3))
    assert "epochs 3 (set by hand)" in line and "batch_size 16," in line and "label_smoothing 0.1" in line
    notebooks = {path.name[:2]: path for path in list_notebooks() if path.name[:2] in profiles.CLASSIFIER_NOTEBOOKS}
    if not notebooks:
        pytest.skip("notebooks 04-06 do not exist yet")
    import papermill

    for number, path in notebooks.items():
        declared = papermill.inspect_notebook(str(path))
        for name in profiles.classifier_recipe("course", number).options():
            if name.upper() in declared:  # a recipe option a notebook exposes defaults to its PROFILE's value
                assert declared[name.upper()]["default"] == "None", f"{path.name}: {name.upper()} must default to None"
        assert "classifier_recipe(PROFILE" in path.read_text(), f"{path.name} does not read its PROFILE's recipe"


def test_level_free_inputs_make_every_classifier_blind_to_the_clip_gain():
    """The recipe's level-free input: a clip recorded 6 dB louder gets the same logits and embedding (the log-mel
    loses its mean level; the Tgram's per-channel normalisation over time removes a gain of the waveform)."""
    inputs = _inputs(["id_00", "id_02"])
    louder = ci.ClipInputs(inputs.table, inputs.waves * 2.0, inputs.logmels + 20 * math.log10(2.0))
    np.testing.assert_allclose(ci.level_free(louder.logmels), ci.level_free(inputs.logmels), atol=1e-4)
    assert ci.logmel_stats(louder.logmels) == pytest.approx(ci.logmel_stats(inputs.logmels), abs=1e-4)
    for kind, options in (("stgramnet", {}), ("sepstgramnet", {"hidden": 32}), ("resnet50_baseline", {"pretrained": False})):
        set_seed(0)
        model = cl.build_classifier(kind, num_classes=2, **options)
        norm = ci.logmel_stats(inputs.logmels)
        (logits, emb), (logits2, emb2) = (cl.predict(model, x, norm, device="cpu") for x in (inputs, louder))
        # (up to the epsilon of the Tgram's normalisation, which matters for very quiet clips)
        np.testing.assert_allclose(logits2, logits, rtol=0.02, atol=0.01, err_msg=kind)
        np.testing.assert_allclose(emb2, emb, rtol=0.02, atol=0.01, err_msg=kind)


def test_split_training_clips_holds_out_per_id_and_keeps_the_rest():
    reference = pd.DataFrame({"path": [f"{m}_{i}.wav" for m in ("id_00", "id_01") for i in range(10)],
                              "machine_id": ["id_00"] * 10 + ["id_01"] * 10})
    train, heldout = ci.split_training_clips(reference, n_train_per_id=0, heldout_per_id=3, seed=1)
    assert heldout.groupby("machine_id").size().to_dict() == {"id_00": 3, "id_01": 3}
    assert train.groupby("machine_id").size().to_dict() == {"id_00": 7, "id_01": 7}
    assert not set(train["path"]) & set(heldout["path"])
    again = ci.split_training_clips(reference, 0, 3, seed=1)
    assert again[1]["path"].tolist() == heldout["path"].tolist()  # seeded
    train4, none = ci.split_training_clips(reference, n_train_per_id=4, heldout_per_id=0)
    assert len(none) == 0 and train4.groupby("machine_id").size().to_dict() == {"id_00": 4, "id_01": 4}


def test_crop_training_label_smoothing_curves_and_rescore_from_the_checkpoint(tmp_path, separable):
    """The course recipe end to end on a tiny case: random crops, cosine decay, label smoothing (p(id) stays away
    from 1), a held-out accuracy per epoch, and a saved network that scores new clips exactly as the run did."""
    train, test = separable
    set_seed(0)
    model = cl.build_classifier("stgramnet", num_classes=2)
    run = cl.run_classifier("STgramNet (CE)", model, train, test,
                            ClassifierRecipe(epochs=4, batch_size=4, learning_rate=1e-3, crop_frames=8, cosine_decay=True, label_smoothing=0.2),
                            device="cpu", progress=False,
                            heldout=train)
    assert [m["epoch"] for m in run.history.epoch_metrics] == [1, 2, 3, 4]
    assert all(0.0 <= m["heldout_id_accuracy"] <= 1.0 for m in run.history.epoch_metrics)
    assert run.recipe.crop_frames == 8 and run.recipe.label_smoothing == 0.2
    assert run.p_id.max() < 1 - 1e-6  # label smoothing: the softmax never reaches certainty


def test_rescore_scores_new_clips_like_the_run(tmp_path, separable):
    import soundfile as sf

    train, test = separable
    paths = []
    for i, wave in enumerate(test.waves):
        paths.append(str(tmp_path / f"clip{i}.wav"))
        sf.write(paths[-1], wave, 16000, subtype="FLOAT")
    table = test.table.assign(path=paths)
    test_from_files = ci.load_clip_inputs(table, cache_dir=None, device="cpu")
    set_seed(0)
    model = cl.build_classifier("stgramnet", num_classes=2)
    run = cl.run_classifier("STgramNet (CE)", model, train, test_from_files,
                            ClassifierRecipe(epochs=2, batch_size=4, learning_rate=1e-3, crop_frames=8), device="cpu",
                            progress=False)
    again = classifier_files.rescore(classifier_files.save_classifier(tmp_path / "net.pt", run), table, cache_dir=None, device="cpu")
    assert again.history.seconds == pytest.approx(run.history.seconds)
    assert sorted(again.scores) == sorted(run.scores)
    for key, values in run.scores.items():
        np.testing.assert_allclose(again.scores[key], values, rtol=1e-5, atol=1e-6, err_msg=key)
    with pytest.raises(ValueError, match="id_09"):
        classifier_files.rescore(tmp_path / "net.pt", table.assign(machine_id="id_09"), cache_dir=None, device="cpu")


def test_random_crops_align_waveform_and_log_mel():
    from asd_utils.features import LogMelFrontEnd
    from asd_utils.training import RandomCrops

    wave = np.stack([machine_like(seed=i, seconds=4.0) for i in range(3)]).astype(np.float32)
    front = LogMelFrontEnd()
    logmels = front(torch.as_tensor(wave)).numpy()
    crops = RandomCrops(wave, logmels, np.arange(3), frames=16, hop=512, seed=3)
    w, lm, y = crops.batch(torch.arange(3))
    assert w.shape == (3, 15 * 512) and lm.shape == (3, 128, 16) and y.tolist() == [0, 1, 2]
    # the log-mel of the waveform crop equals the log-mel crop, away from the crop's zero-padded edges
    inner = front(w).numpy()[:, :, 2:-2]
    np.testing.assert_allclose(inner, lm.numpy()[:, :, 2:-2], atol=1e-3)
    again = RandomCrops(wave, logmels, np.arange(3), frames=16, hop=512, seed=3).batch(torch.arange(3))[1]
    assert torch.equal(again, lm)  # seeded
    with pytest.raises(ValueError, match="does not fit"):
        RandomCrops(wave, logmels, np.arange(3), frames=1000, hop=512)


def test_a_plain_module_trains_and_scores_through_run_classifier(separable):
    """A student's own nn.Module (log-mel -> embedding) goes through the same pipeline in one line: run_classifier
    wraps it with as_classifier (a softmax head sized by a dry run), trains it on random crops and scores it."""
    from asd_utils.models import PlainClassifier, as_classifier

    train, test = separable
    set_seed(0)
    tiny_cnn = nn.Sequential(nn.Conv1d(128, 8, 3, padding=1), nn.BatchNorm1d(8), nn.ReLU(),
                             nn.AdaptiveAvgPool1d(1), nn.Flatten())
    running_mean = tiny_cnn[1].running_mean.clone()
    wrapped = as_classifier(tiny_cnn, num_classes=2)
    assert isinstance(wrapped, PlainClassifier) and wrapped.embedding_dim == 8 and wrapped.module is tiny_cnn
    assert torch.equal(tiny_cnn[1].running_mean, running_mean) and tiny_cnn.training  # the dry run left no trace
    logits, embedding = wrapped(logmel=torch.zeros(3, 128, 20))
    assert logits.shape == (3, 2) and embedding.shape == (3, 8)
    assert wrapped.loss({"logmel": torch.zeros(3, 128, 20), "label": torch.tensor([0, 1, 0])}).shape == ()
    assert as_classifier(wrapped, 2) is wrapped  # already a classifier: unchanged
    run = cl.run_classifier("tiny CNN", tiny_cnn, train, test,
                            ClassifierRecipe(epochs=3, batch_size=4, learning_rate=1e-2, crop_frames=8), device="cpu",
                            progress=False)
    assert isinstance(run.model, PlainClassifier) and run.model.module is tiny_cnn
    assert set(run.scores) == {"1-softmax", "neg_log_prob", "mahalanobis", "knn_cosine"}
    assert run.test_embeddings.shape == (len(test), 8) and np.isfinite(run.test_logits).all()
    with pytest.raises(ValueError, match=r"embedding \[B, D\]"):
        as_classifier(nn.Conv1d(128, 8, 3), num_classes=2)  # [B, 8, T]: not an embedding
    with pytest.raises(TypeError, match="nn.Module"):
        as_classifier(lambda x: x, num_classes=2)
    # a module on the waveform: random crops cut matching waveforms with the adapter's hop_length
    wave_net = nn.Sequential(nn.Conv1d(1, 4, 64, stride=32), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten())
    on_waves = as_classifier(nn.Sequential(nn.Unflatten(1, (1, -1)), wave_net), num_classes=2, inputs="wave")
    run = cl.run_classifier("wave CNN", on_waves, train, test,
                            ClassifierRecipe(epochs=1, batch_size=4, learning_rate=1e-3, crop_frames=8), device="cpu",
                            progress=False)
    assert run.test_embeddings.shape == (len(test), 4)
