"""Where models and batches live: the one place that moves them between the CPU and an accelerator.

The rule every helper of the package follows: **a function that takes a model leaves it on the device it found it
on.** Training and scoring move the model to ``device`` for the work and back afterwards (:func:`model_on`), so a
notebook cell can always call a model with CPU tensors and compare its weights with a CPU snapshot, whether the
run used a GPU or not. Batches go to the device with :func:`to_device` (pinned memory and a non-blocking copy on
CUDA, so the copy overlaps the previous step's work).

Introduced in: notebooks/04_resnet_baseline.ipynb
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from .utils import resolve_device


def as_device(device: str | torch.device) -> torch.device:
    """``device`` as a ``torch.device``: a name (``"auto"``, ``"cpu"``, ``"cuda:1"``, ...) goes through
    :func:`asd_utils.utils.resolve_device`, a ``torch.device`` is returned as it is."""
    return device if isinstance(device, torch.device) else resolve_device(device)


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of ``module``'s first parameter (or buffer); CPU for a module that holds no tensors."""
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def model_on(model: torch.nn.Module, device: str | torch.device) -> Iterator[torch.device]:
    """Move ``model`` to ``device`` for the block and back to where it was afterwards (also after an error).

    Yields the resolved device, for the batches: ``with model_on(net, "auto") as dev: net(to_device(x, dev))``.
    """
    target, home = as_device(device), module_device(model)
    model.to(target)
    try:
        yield target
    finally:
        model.to(home)


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` on ``device``; from CPU to CUDA through pinned memory with a non-blocking copy."""
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def state_snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of ``module``'s weights and buffers (its ``state_dict``), to compare with later (:func:`same_state`)."""
    return {name: value.detach().cpu().clone() for name, value in module.state_dict().items()}


def same_state(snapshot: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    """Whether ``module``'s weights and buffers equal ``snapshot`` exactly, wherever the module lives now."""
    state = module.state_dict()
    return state.keys() == snapshot.keys() and all(
        torch.equal(value, state[name].detach().cpu()) for name, value in snapshot.items())
