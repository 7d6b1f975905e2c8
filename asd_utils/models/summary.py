"""Parameter tables for any PyTorch model, in the style of ``torchsummary``.

Both course reports describe their networks with a table of layers, output shapes and parameter counts
(``Linear-1  [-1, 400]  256,400``). :func:`parameter_summary` rebuilds such a table for our own models so the
numbers can be checked against the reports: it registers a forward hook on every *leaf* module (a module
without children: ``Linear``, ``BatchNorm1d``, ``Conv2d``, ...), runs one forward pass on a dummy batch of
two examples and records, in call order, each leaf's output shape and the number of parameters it owns.

Two details worth knowing when you read the table:

* a leaf that is called twice (the shared ``ReLU`` inside a ResNet block) gets two rows, exactly like
  ``torchsummary``; the totals are therefore computed from ``model.parameters()``, never from the rows;
* the batch dimension is printed as ``-1`` (any batch size).

Introduced in: notebooks/03_autoencoder_baselines.ipynb
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd
import torch
from torch import nn

__all__ = ["count_parameters", "parameter_summary"]


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters in ``model`` (only those with ``requires_grad`` when ``trainable_only``).

    BatchNorm running statistics are buffers, not parameters, so they are never counted (Keras reports them
    as "non-trainable params"; PyTorch does not count them at all).

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _shape_of(output) -> list:
    """Output shape with the batch dimension replaced by -1 (nested lists for tuple outputs)."""
    if isinstance(output, torch.Tensor):
        return [-1, *output.shape[1:]]
    if isinstance(output, (tuple, list)):
        return [_shape_of(o) for o in output]
    return []


def parameter_summary(
    model: nn.Module,
    input_shape: Sequence[int] | Mapping[str, Sequence[int]],
    batch_size: int = 2,
) -> pd.DataFrame:
    """Layer-by-layer table of a model: one row per call of a leaf module.

    Args:
        model: any ``nn.Module``. It is run once in eval mode (its train/eval mode is restored afterwards),
            on the device of its first parameter, without gradients.
        input_shape: shape of ONE example, without the batch dimension, e.g. ``(640,)`` for the dense
            autoencoders or ``(3, 128, 313)`` for a ResNet. For models with several keyword inputs give a
            mapping, e.g. ``{"wave": (160000,), "logmel": (128, 313)}``: the model is then called as
            ``model(wave=..., logmel=...)``.
        batch_size: size of the dummy batch (2, so that BatchNorm layers behave).

    Returns:
        ``pandas.DataFrame`` with columns ``layer`` (``"<Type>-<call index>"``, e.g. ``"Linear-1"``),
        ``output_shape`` (list, batch as -1) and ``n_params`` (parameters owned by that leaf).
        ``df.attrs["total_params"]`` and ``df.attrs["trainable_params"]`` hold the model totals
        (from ``model.parameters()``, so shared layers are counted once).

    Example:
        >>> df = parameter_summary(DcaseBaselineAE(), (640,))
        >>> df.attrs["trainable_params"]
        267928

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """
    rows: list[dict] = []
    hooks = []

    def make_hook(module: nn.Module):
        def hook(_module, _inputs, output):
            rows.append(
                {
                    "layer": f"{type(module).__name__}-{len(rows) + 1}",
                    "output_shape": _shape_of(output),
                    "n_params": sum(p.numel() for p in module.parameters(recurse=False)),
                }
            )

        return hook

    for module in model.modules():
        if module is not model and len(list(module.children())) == 0:
            hooks.append(module.register_forward_hook(make_hook(module)))
    if not hooks:  # the model itself is a single layer
        hooks.append(model.register_forward_hook(make_hook(model)))

    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if isinstance(input_shape, Mapping):
                kwargs = {k: torch.randn(batch_size, *shape, device=device) for k, shape in input_shape.items()}
                model(**kwargs)
            else:
                model(torch.randn(batch_size, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)

    df = pd.DataFrame(rows, columns=["layer", "output_shape", "n_params"])
    df.attrs["total_params"] = count_parameters(model, trainable_only=False)
    df.attrs["trainable_params"] = count_parameters(model, trainable_only=True)
    return df
