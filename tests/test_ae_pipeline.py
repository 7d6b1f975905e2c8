"""End to end on a miniature dataset: files -> table -> log-mels -> autoencoder training -> scores -> metrics.

The clips are short (1 s) machine-like signals from ``tests/helpers.py``; the anomalous test clips carry an extra
tonal line that no training clip has, so any working pipeline ranks them above the normal ones. The notebook
03_autoencoder_baselines runs the same steps on the synthetic data (its tiny papermill run is in test_notebooks.py).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from asd_utils.data import dataset_table, select
from asd_utils.features import LogMelParams, log_mel_dataset
from asd_utils.metrics import evaluate_scores
from asd_utils.models import VAE, DcaseBaselineAE
from asd_utils.profiles import AE_MODELS, AE_TRAINING, PROFILE_NAMES, ae_training
from asd_utils.scoring import reconstruction_scores
from asd_utils.training import StackedFrames, fit
from asd_utils.utils import set_seed
from asd_utils.recipes import TrainingRecipe
from helpers import machine_like, write_wav

SR = 16000


def _layout(root, ids=("id_00", "id_02"), n_train=6, n_test=4, seconds=1.0):
    """dev_data/slider with ``n_train`` normal training clips per id and ``n_test`` normal + anomalous test clips."""
    seed = 100
    t = np.arange(int(seconds * SR)) / SR
    for machine_id in ids:
        tone = 250.0 if machine_id == "id_00" else 310.0
        for i in range(n_train):
            write_wav(root / f"dev_data/slider/train/normal_{machine_id}_{i:08d}.wav",
                      machine_like(seed, seconds, tone_hz=tone))
            seed += 1
        for i in range(n_test):
            write_wav(root / f"dev_data/slider/test/normal_{machine_id}_{i:08d}.wav",
                      machine_like(seed, seconds, tone_hz=tone))
            seed += 1
            faulty = machine_like(seed, seconds, tone_hz=tone) + 0.02 * np.sin(2 * np.pi * 3100.0 * t)  # a squeal
            write_wav(root / f"dev_data/slider/test/anomaly_{machine_id}_{i:08d}.wav", faulty.astype(np.float32))
            seed += 1
    return root


def test_ae_training_settings_cover_every_profile_and_model():
    assert set(AE_TRAINING) == set(PROFILE_NAMES)
    for profile in PROFILE_NAMES:
        settings = ae_training(profile)
        assert tuple(settings) == AE_MODELS
        for recipe in settings.values():
            assert recipe.epochs >= 1 and recipe.batch_size >= 1 and recipe.learning_rate == 1e-3
            assert not recipe.cosine_decay  # the report's constant learning rate
    # the report's table (Group 7): Baseline 100 / 1000, +BatchNorm and +Dropout 100 / 512, Sequential 200 / 256
    dcase = ae_training("dcase")
    assert [(dcase[k].epochs, dcase[k].batch_size) for k in AE_MODELS] == [(100, 1000), (100, 512), (100, 512),
                                                                                 (200, 256)]
    assert all(ae_training("course")[k].batch_size == dcase[k].batch_size for k in AE_MODELS)
    settings = ae_training("course")
    settings["dcase_ae"] = settings["dcase_ae"].replace(epochs=999)  # a copy: the table itself is unchanged
    assert AE_TRAINING["course"]["dcase_ae"].epochs != 999
    with pytest.raises(dataclasses.FrozenInstanceError):
        AE_TRAINING["course"]["dcase_ae"].epochs = 999
    with pytest.raises(ValueError, match="unknown profile"):
        ae_training("huge")


@pytest.mark.parametrize("model_factory", [lambda: DcaseBaselineAE(), lambda: VAE(batch_norm=True)],
                         ids=["dcase_ae", "vae_batchnorm"])
def test_per_id_autoencoders_rank_anomalies_above_normal_clips(tmp_path, model_factory):
    table = dataset_table(_layout(tmp_path / "data"), "slider", datasets=("dev",))
    params = LogMelParams()
    train, test = select(table, split="train"), select(table, split="test")
    train_logmels = log_mel_dataset(train["path"], params, cache_dir=tmp_path / "cache", device="cpu")
    test_logmels = log_mel_dataset(test["path"], params, cache_dir=tmp_path / "cache", device="cpu")
    assert train_logmels.shape == (12, 128, 32) and test_logmels.shape == (16, 128, 32)

    scores = np.full(len(test), np.nan)
    for machine_id in sorted(train["machine_id"].unique()):
        x = train_logmels[(train["machine_id"] == machine_id).to_numpy()]
        mean, std = x.mean(axis=(0, 2)), x.std(axis=(0, 2)) + 1e-3
        set_seed(0)
        model = model_factory()
        history = fit(model, StackedFrames(x, frames=5, mean=mean, std=std), lambda m, b: m.loss(b),
                      TrainingRecipe(epochs=15, batch_size=64), val_fraction=0.1, device="cpu", seed=0, progress=False)
        assert history.train_loss[-1] < history.train_loss[0] and len(history.val_loss) == 15
        mask = (test["machine_id"] == machine_id).to_numpy()
        scores[mask] = reconstruction_scores(model, test_logmels[mask], frames=5, mean=mean, std=std)

    assert np.all(np.isfinite(scores))
    metrics = evaluate_scores(test, scores)
    assert set(metrics["per_id"]) == {"id_00", "id_02"}
    assert metrics["mean_auc"] >= 0.9, metrics
