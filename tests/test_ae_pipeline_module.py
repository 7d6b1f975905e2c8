"""asd_utils.ae_pipeline: the autoencoder steps of notebook 03 as functions (random log-mels, a few seconds)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from asd_utils import ae_pipeline, checkpoints, model_registry
from asd_utils.features import LogMelParams
from asd_utils.models import VAE, Autoencoder, DcaseBaselineAE, as_autoencoder, count_parameters
from asd_utils.profiles import AE_MODELS
from asd_utils.scoring import reconstruction_scores
from asd_utils.training import StackedFrames, fit
from asd_utils.utils import set_seed
from asd_utils.recipes import TrainingRecipe

PARAMS = LogMelParams(n_mels=16)


def _logmels(n_clips, seed, n_frames=20, shift=0.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n_clips, 16, n_frames)) * 3 - 40 + shift).astype(np.float32)


def test_model_specs_cover_the_profile_keys_and_build_the_report_models():
    assert tuple(ae_pipeline.MODEL_SPECS) == AE_MODELS
    assert count_parameters(ae_pipeline.build_autoencoder("dcase_ae")) == 267_928
    assert count_parameters(ae_pipeline.build_autoencoder("baseline")) == 858_280
    dropout = ae_pipeline.build_autoencoder("dropout", input_dim=80)
    assert isinstance(dropout, VAE) and count_parameters(dropout) > count_parameters(
        ae_pipeline.build_autoencoder("baseline", input_dim=80))
    assert model_registry.autoencoder_key("DCASE AE (Sequential)") == "dcase_ae" and model_registry.autoencoder_key("baseline") == "baseline"
    with pytest.raises(ValueError, match="unknown autoencoder key"):
        ae_pipeline.build_autoencoder("transformer")
    with pytest.raises(ValueError, match="unknown autoencoder"):
        model_registry.autoencoder_key("GPT")


def test_standardisation_stats_per_band():
    logmels = _logmels(4, 0)
    mean, std = ae_pipeline.standardisation_stats(logmels)
    assert mean.shape == std.shape == (16,) and mean.dtype == np.float32
    assert np.allclose(mean, logmels.mean(axis=(0, 2)), atol=1e-4)
    assert np.allclose(std, logmels.std(axis=(0, 2)), atol=1e-4)
    flat = np.zeros((2, 16, 10), dtype=np.float32)
    assert ae_pipeline.standardisation_stats(flat)[1].min() == pytest.approx(1e-3)


def test_train_autoencoder_is_the_notebook_recipe():
    """Same seed, same data: the module's training equals fit() on StackedFrames with the model's own loss."""
    logmels = _logmels(3, 1)
    model, history, mean, std = ae_pipeline.train_autoencoder("dcase_ae", logmels,
                                                              TrainingRecipe(epochs=2, batch_size=16, learning_rate=1e-3),
                                                              seed=3, device="cpu")
    set_seed(3)
    by_hand = DcaseBaselineAE(input_dim=80, hidden=128, bottleneck=8)
    reference = fit(by_hand, StackedFrames(logmels, 5, mean, std), lambda m, b: m.loss(b),
                    TrainingRecipe(epochs=2, batch_size=16, learning_rate=1e-3), val_fraction=0.1, device="cpu", seed=3,
                    progress=False)
    assert history.train_loss == pytest.approx(reference.train_loss) and len(history.val_loss) == 2
    for a, b in zip(model.state_dict().values(), by_hand.state_dict().values()):
        assert torch.equal(a, b)
    _, _, none_mean, none_std = ae_pipeline.train_autoencoder("baseline", logmels,
                                                              TrainingRecipe(epochs=0, batch_size=16, learning_rate=1e-3),
                                                              standardize=False, device="cpu")
    assert none_mean is None and none_std is None


def test_a_plain_module_trains_and_scores_in_one_line():
    """Notebook 03's promise: any nn.Module [B, D] -> [B, D] goes through the same training and scoring code."""
    logmels = _logmels(3, 2)
    plain = torch.nn.Sequential(torch.nn.Linear(80, 4), torch.nn.ReLU(), torch.nn.Linear(4, 80))
    model, history, mean, std = ae_pipeline.train_autoencoder(None, logmels,
                                                              TrainingRecipe(epochs=2, batch_size=16, learning_rate=1e-3),
                                                              model=plain, seed=0, device="cpu")
    assert model.module is plain and len(history.train_loss) == 2 and history.train_loss[-1] < history.train_loss[0]
    scores = reconstruction_scores(model, logmels, frames=5, mean=mean, std=std)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert np.allclose(ae_pipeline.clip_scores(model, logmels, mean, std, np.mean), scores, rtol=1e-5)

    class Tiny(Autoencoder):  # a subclass needs only forward(): loss and scoring come from the base class
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(80, 80)

        def forward(self, x):
            return self.net(x)

    tiny = Tiny()
    assert as_autoencoder(tiny) is tiny
    trained, *_ = ae_pipeline.train_autoencoder(None, logmels,
                                                TrainingRecipe(epochs=1, batch_size=16, learning_rate=1e-3), model=tiny,
                                                device="cpu")
    assert trained is tiny and tiny.reconstruction_error(torch.zeros(7, 80)).shape == (7,)
    with pytest.raises(TypeError, match="nn.Module"):
        as_autoencoder(lambda x: x)


def test_train_autoencoders_per_id_save_load_and_score(tmp_path):
    train = np.concatenate([_logmels(3, 2), _logmels(3, 3, shift=5)])
    train_ids = ["id_01"] * 3 + ["id_03"] * 3
    test = np.concatenate([_logmels(2, 4), _logmels(2, 5, shift=5), _logmels(2, 6, shift=15)])
    test_ids = np.array(["id_01", "id_01", "id_03", "id_03", "id_03", "id_03"])
    groups = ae_pipeline.machine_groups(train_ids)
    assert groups == {"id_01": ["id_01"], "id_03": ["id_03"]}
    assert ae_pipeline.machine_groups(train_ids, per_id=False) == {"all_ids": ["id_01", "id_03"]}
    run = ae_pipeline.train_autoencoders("batchnorm", train, train_ids, groups,
                                         TrainingRecipe(epochs=1, batch_size=32, learning_rate=1e-3), test_logmels=test,
                                         test_ids=test_ids, device="cpu")
    assert sorted(run.groups) == ["id_01", "id_03"] and run.seconds > 0
    assert (run.name, run.key, run.recipe.batch_size) == ("+BatchNorm", "batchnorm", 32)  # as a ClassifierRun names them
    assert np.isfinite(run.scores).all() and run.scores[4:].min() > run.scores[2:4].max()  # 10 dB louder
    g = run.groups["id_03"]
    assert g.machine_ids == ["id_03"] and not g.model.training
    assert np.allclose(ae_pipeline.clip_scores(g.model, test[2:], g.mean, g.std, np.mean),
                       run.scores[2:], rtol=1e-5)

    params = LogMelParams(n_mels=16)
    hyper = ae_pipeline.autoencoder_hyperparameters(feature_params=params, n_models=2)
    assert hyper["n_models"] == 2 and hyper["n_mels"] == 16 and "epochs" not in hyper  # the recipe travels apart
    path = ae_pipeline.save_autoencoders(tmp_path / "models" / "batchnorm.pt", run, params, hyper)
    checkpoint = torch.load(path, weights_only=True)  # plain data: no code runs when it is read
    assert checkpoint["format"] == checkpoints.AUTOENCODER_FORMAT
    assert (checkpoint["model"], checkpoint["input_dim"]) == (run.key, 80)
    assert checkpoint["options"] == {"batch_norm": True, "dropout": 0.0, "kl_weight": 1e-3}
    assert checkpoint["recipe"] == run.recipe.as_dict()
    assert checkpoints.feature_params(checkpoint) == params
    loaded = ae_pipeline.load_autoencoders(path)
    assert sorted(loaded) == ["id_01", "id_03"]
    again = ae_pipeline.autoencoder_scores(loaded, test, test_ids, frames=5)
    assert np.allclose(again, run.scores, rtol=1e-5)
    with pytest.raises(ValueError, match="trained on id_01, id_03 and cannot score clips of id_05"):
        ae_pipeline.autoencoder_scores(loaded, test[:1], ["id_05"])


def test_read_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        checkpoints.read_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        checkpoints.read_checkpoint(tmp_path / "text.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="not a course checkpoint"):
        checkpoints.read_checkpoint(tmp_path / "list.pt")
    torch.save({"format": "asd_utils.classifier/1"}, tmp_path / "old.pt")
    with pytest.raises(ValueError, match="old.pt: unknown checkpoint format 'asd_utils.classifier/1'.*older course"):
        ae_pipeline.load_autoencoders(tmp_path / "old.pt")
    classifier = {"format": checkpoints.CLASSIFIER_FORMAT, **dict.fromkeys(checkpoints.REQUIRED_KEYS[
        checkpoints.CLASSIFIER_FORMAT])}
    torch.save(classifier, tmp_path / "cls.pt")
    with pytest.raises(ValueError, match=r"cls.pt: format .* holds a classifier \(notebooks 04-06\), not autoencoders"):
        ae_pipeline.load_autoencoders(tmp_path / "cls.pt")


@pytest.mark.parametrize("key, per_id, standardize", [("baseline", True, True), ("dropout", False, True),
                                                       ("dcase_ae", True, False)])
def test_notebook_03_checkpoints_round_trip_for_every_recipe(tmp_path, key, per_id, standardize):
    """Saved as notebook 03 saves them (per-id models or one model for all ids, with or without standardisation),
    the autoencoders load back as the same class with the same weights and give the same scores."""
    train, test = np.concatenate([_logmels(2, 7), _logmels(2, 8, shift=5)]), _logmels(3, 9)
    train_ids, test_ids = ["id_00"] * 2 + ["id_02"] * 2, ["id_00", "id_02", "id_02"]
    groups = ae_pipeline.machine_groups(train_ids, per_id=per_id)
    run = ae_pipeline.train_autoencoders(key, train, train_ids, groups,
                                         TrainingRecipe(epochs=1, batch_size=16, learning_rate=1e-3), test_logmels=test,
                                         test_ids=test_ids, standardize=standardize, device="cpu")
    hyper = ae_pipeline.autoencoder_hyperparameters(feature_params=PARAMS, per_id_models=per_id, n_models=len(groups),
                                                    standardize=standardize)
    loaded = ae_pipeline.load_autoencoders(ae_pipeline.save_autoencoders(tmp_path / f"{key}.pt", run, PARAMS, hyper))
    assert sorted(loaded) == ["id_00", "id_02"]
    for mid, (model, mean, std) in loaded.items():
        trained = run.groups[mid if per_id else "all_ids"]
        assert type(model) is ae_pipeline.MODEL_SPECS[key][1] and not model.training
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                     trained.model.state_dict().values()))
        assert (mean is None) == (not standardize) and (std is None) == (not standardize)
        if standardize:
            np.testing.assert_array_equal(mean, trained.mean)
    np.testing.assert_allclose(ae_pipeline.autoencoder_scores(loaded, test, test_ids), run.scores, rtol=1e-6)
