"""The course's checkpoints, both families: one way to write them, one way to read them.

A checkpoint is a plain dictionary of strings, numbers, lists, dicts and CPU tensors, written atomically with
``torch.save`` and read with ``torch.load(..., weights_only=True)`` (no code runs while loading). Its ``"format"``
says which family wrote it and which entries it must hold:

* :data:`AUTOENCODER_FORMAT` - every per-id autoencoder of one run (``ae_pipeline.save_autoencoders``);
* :data:`CLASSIFIER_FORMAT` - one machine-id classifier (``classifier_files.save_classifier``).

Both store :data:`SHARED_KEYS`: ``model`` (the :mod:`asd_utils.model_registry` key; None for a network of one's
own), ``name``, ``options`` (constructor options), ``recipe`` (the training recipe as plain data),
``feature_params`` (the log-mel settings, :func:`feature_params`) and ``hyperparameters``.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .features import LogMelParams
from .utils import atomic_path

AUTOENCODER_FORMAT = "asd_utils.autoencoders/3"
CLASSIFIER_FORMAT = "asd_utils.classifier/3"  # 2: level-free inputs; 3: the model's key and recipe as data
#: what both families store: the model as data (its asd_utils.model_registry key, constructor options), the recipe
SHARED_KEYS = ("model", "name", "options", "recipe", "feature_params", "hyperparameters")
#: format -> the entries its loader reads
REQUIRED_KEYS = {
    AUTOENCODER_FORMAT: (*SHARED_KEYS, "class", "input_dim", "frames", "groups"),
    CLASSIFIER_FORMAT: (*SHARED_KEYS, "kind", "num_classes", "state_dict", "classes", "norm", "train_embeddings",
                        "train_classes"),
}
FAMILIES = {AUTOENCODER_FORMAT: "autoencoders (notebook 03)", CLASSIFIER_FORMAT: "a classifier (notebooks 04-06)"}


def write_checkpoint(path, payload: dict) -> Path:
    """``torch.save`` of ``payload`` to a temporary name, then renamed to ``path``; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_checkpoint(source, expected_format: str | None = None) -> dict:
    """A course checkpoint as a dict, read safely (``weights_only=True``) from a path, or ``source`` itself when it
    is a dict already read. Errors name the file: no such file, not a PyTorch file, not a course checkpoint (no or an
    unknown ``format``), another family than ``expected_format``, missing entries (:data:`REQUIRED_KEYS`).
    """
    name = "checkpoint" if isinstance(source, dict) else Path(source)
    if isinstance(source, dict):
        checkpoint = source
    else:
        if not name.is_file():
            raise FileNotFoundError(f"{name}: checkpoint not found (notebook 03 writes models/<key>.pt, notebooks "
                                    "04-06 and 07 models/*.pt under their output folders)")
        try:
            checkpoint = torch.load(name, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - torch raises many types for files it cannot read
            raise ValueError(f"{name}: not a PyTorch checkpoint written by the course ({type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''})") from None
    fmt = checkpoint.get("format") if isinstance(checkpoint, dict) else None
    expected = f"expected a model saved by notebook 03 ({AUTOENCODER_FORMAT!r}) or by notebooks 04-06 ({CLASSIFIER_FORMAT!r})"
    if fmt is None:
        raise ValueError(f"{name}: a PyTorch file, but not a course checkpoint (no 'format' entry); {expected}")
    if fmt not in REQUIRED_KEYS:
        raise ValueError(f"{name}: unknown checkpoint format {fmt!r}; {expected} (a checkpoint of an older course "
                         "version: save the model again from its notebook)")
    if expected_format is not None and fmt != expected_format:
        raise ValueError(f"{name}: format {fmt!r} holds {FAMILIES[fmt]}, not {FAMILIES[expected_format]}")
    lacking = [key for key in REQUIRED_KEYS[fmt] if key not in checkpoint]
    if lacking:
        raise ValueError(f"{name}: a {fmt!r} checkpoint without {', '.join(map(repr, lacking))}; it was not written "
                         "by the course (ae_pipeline.save_autoencoders / classifier_files.save_classifier): save the model "
                         "again from its notebook")
    return checkpoint


def feature_params(checkpoint: dict) -> LogMelParams:
    """The :class:`asd_utils.features.LogMelParams` a checkpoint's models were trained with."""
    return LogMelParams(**checkpoint["feature_params"])
