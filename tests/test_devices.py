"""asd_utils.devices: every package function that takes a model leaves it on the device it found it on, checked on a
CPU-only machine by pretending to move the model (a GPU run then cannot mix devices in a notebook cell)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from asd_utils import ae_pipeline, classifier_inputs, classifiers, devices, scoring, training
from asd_utils.devices import model_on, same_state, state_snapshot
from asd_utils.recipes import ClassifierRecipe, TrainingRecipe

FAKE_GPU = torch.device("cuda", 0)  # a device object can exist without a GPU; nothing is ever sent to it here


class Tracked(nn.Module):
    """Wraps a real module; ``.to()`` only records where the model was asked to go (the tensors stay on the CPU)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.location, self.moves = torch.device("cpu"), []

    def to(self, device, *args, **kwargs):  # noqa: D401 - torch's signature
        self.location = torch.device(device)
        self.moves.append(self.location)
        return self

    def forward(self, *args, **kwargs):
        assert self.location == FAKE_GPU, "the model ran without being moved to the requested device"
        return self.inner(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("inner"), name)


@pytest.fixture
def fake_gpu(monkeypatch):
    """``device="cuda"`` resolves to FAKE_GPU, batches stay on the CPU and a Tracked model reports its location."""
    monkeypatch.setattr(devices, "as_device", lambda device: FAKE_GPU if str(device).startswith("cuda")
                        else torch.device(device))
    monkeypatch.setattr(devices, "module_device",
                        lambda module: getattr(module, "location", torch.device("cpu")))
    for module in (training, classifiers, scoring, ae_pipeline):
        if hasattr(module, "to_device"):
            monkeypatch.setattr(module, "to_device", lambda tensor, device: tensor)
        if hasattr(module, "as_device"):
            monkeypatch.setattr(module, "as_device", devices.as_device)


class TinyAE(nn.Module):
    def __init__(self, dim=40):
        super().__init__()
        self.net = nn.Linear(dim, dim)

    def forward(self, x):
        return self.net(x)

    def reconstruction_error(self, x):
        return ((self.forward(x) - x) ** 2).mean(dim=1)


class MeanBandEmbedder(nn.Module):
    """log-mel ``[B, n_mels, T]`` -> its time average through one linear layer ``[B, 8]``."""

    def __init__(self, n_mels):
        super().__init__()
        self.linear = nn.Linear(n_mels, 8)

    def forward(self, logmel):
        return self.linear(logmel.mean(dim=-1))


def test_model_on_moves_for_the_block_and_back_also_after_an_error(fake_gpu):
    model = Tracked(TinyAE())
    with model_on(model, "cuda") as device:
        assert device == FAKE_GPU and model.location == FAKE_GPU
    assert model.location == torch.device("cpu")
    with pytest.raises(RuntimeError), model_on(model, "cuda"):
        raise RuntimeError("boom")
    assert model.location == torch.device("cpu")


def test_fit_and_reconstruction_scores_return_the_model_where_it_was(fake_gpu):
    model = Tracked(TinyAE(dim=8 * 5))
    log_mels = np.random.default_rng(0).normal(size=(3, 8, 12)).astype(np.float32)
    source = training.StackedFrames(log_mels, frames=5)
    training.fit(model, source, lambda net, batch: net.reconstruction_error(batch[0]).mean(),
                 TrainingRecipe(epochs=1, batch_size=8), device="cuda", progress=False)
    assert model.location == torch.device("cpu") and FAKE_GPU in model.moves
    scores = scoring.reconstruction_scores(model, log_mels, frames=5, device="cuda")
    assert scores.shape == (3,) and model.location == torch.device("cpu")
    scores = ae_pipeline.clip_scores(model, log_mels, None, None, np.mean, 5, device="cuda")
    assert scores.shape == (3,) and model.location == torch.device("cpu")


def test_a_classifier_run_ends_with_the_model_on_the_cpu(fake_gpu):
    rng = np.random.default_rng(0)
    logmels = rng.normal(size=(4, 16, 20)).astype(np.float32)
    table = pd.DataFrame({"path": [f"c{i}.wav" for i in range(4)], "file_name": [f"c{i}.wav" for i in range(4)],
                          "machine_id": ["id_00", "id_00", "id_02", "id_02"], "y": [0.0] * 4})
    inputs = classifier_inputs.ClipInputs(table, None, logmels)
    embedder = MeanBandEmbedder(n_mels=16)
    model = Tracked(classifiers.as_classifier(embedder, 2, n_mels=16))
    run = classifiers.run_classifier("tiny", model, inputs, inputs,
                                     ClassifierRecipe(epochs=1, batch_size=2, learning_rate=1e-3), device="cuda",
                                     progress=False)
    assert run.model.location == torch.device("cpu") and FAKE_GPU in run.model.moves


def test_state_snapshot_is_a_cpu_copy_that_same_state_compares():
    model = TinyAE()
    before = state_snapshot(model)
    assert all(t.device.type == "cpu" for t in before.values()) and same_state(before, model)
    with torch.no_grad():
        model.net.bias += 1
    assert not same_state(before, model)


NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_cells_leave_device_moves_to_the_package(path):
    """A notebook cell that moves a tensor or a model itself (``.to(device)``, ``.cuda()``) mixes devices on a GPU
    runtime as soon as a package function returns a model on the CPU: device moves live in asd_utils.devices. A cell
    that builds its own module on the device on purpose (a front end's GPU speed) says so with ``# own device``."""
    offending = []
    for index, cell in enumerate(json.loads(path.read_text())["cells"]):
        source = "".join(cell["source"])
        if (cell["cell_type"] == "code" and "# own device" not in source
                and any(p in source for p in (".to(device)", ".cuda(", '.to("cuda'))):
            offending.append(index)
    assert not offending, f"{path.name}: cells {offending} move tensors themselves; call the model on CPU tensors"
