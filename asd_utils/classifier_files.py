"""What a classifier run leaves on disk and how it comes back: per-clip scores (``scores.csv``), the checkpoint, and
a saved classifier scoring new clips without training (notebook 07, ``python -m asd_utils score``).

A checkpoint holds the model as data (its :data:`asd_utils.model_registry.CLASSIFIERS` key, ``kind``,
``num_classes`` and constructor ``options``), the training ``recipe``, the weights, the class order, the log-mel
standardisation and the reference embeddings of the distance scores; it is read with ``weights_only=True``
(:mod:`asd_utils.checkpoints`).

Introduced in: notebooks/04_resnet_baseline.ipynb
"""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .checkpoints import CLASSIFIER_FORMAT, feature_params, read_checkpoint, write_checkpoint
from .classifier_inputs import load_clip_inputs
from .classifiers import CLASSIFIER_KINDS, ClassifierRun, predict
from .devices import as_device
from .features import LogMelParams
from .model_registry import SCORE_LABELS
from .recipes import ClassifierRecipe
from .scoring import classifier_scores
from .training import TrainingHistory
from .utils import atomic_path


def scores_frame(run: ClassifierRun) -> pd.DataFrame:
    """Per-clip scores in long format: one row per (test clip, score) with ``file_name, dataset, machine_id, y,
    anomaly_type`` (when known), ``model`` (``"<name> · <score>"``), ``score``, ``p_id`` and ``predicted_id``."""
    ids = np.array(sorted(run.mapping, key=run.mapping.get))
    base = run.test_table[[c for c in ("file_name", "dataset", "machine_id", "y", "anomaly_type", "severity")
                           if c in run.test_table.columns]].copy()
    base["p_id"] = run.p_id
    base["predicted_id"] = ids[np.argmax(run.test_logits, axis=1)]
    frames = [base.assign(model=f"{run.name} · {SCORE_LABELS.get(k, k)}", score=v) for k, v in run.scores.items()]
    return pd.concat(frames, ignore_index=True)


def write_scores_csv(path, runs: list[ClassifierRun]) -> Path:
    """Write the :func:`scores_frame` of several runs to one CSV, atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        pd.concat([scores_frame(r) for r in runs], ignore_index=True).to_csv(tmp, index=False, float_format="%.6g")
    return path


def save_classifier(path, run: ClassifierRun, params: LogMelParams = LogMelParams()) -> Path:
    """Save a trained classifier atomically as a dict: the model (``model`` key, ``kind``, ``num_classes``,
    ``options``), the ``recipe``, ``state_dict``, ``classes`` (machine ids in class order), ``norm`` (log-mel mean,
    std), ``feature_params``, ``hyperparameters`` and the training embeddings + classes (so embedding scores need no
    training data)."""
    spec = getattr(run.model, "spec", None)
    if spec is None:
        raise ValueError("the model was not made by build_classifier (no model.spec); cannot describe it")
    payload = {"format": CLASSIFIER_FORMAT, "name": run.name, "model": run.model_key, **spec,
               "recipe": run.recipe.as_dict(),
               "state_dict": {k: v.detach().cpu() for k, v in run.model.state_dict().items()},
               "classes": sorted(run.mapping, key=run.mapping.get), "norm": tuple(run.norm),
               "feature_params": asdict(params), "hyperparameters": dict(run.hyperparameters),
               "train_seconds": float(run.history.seconds),
               "train_embeddings": torch.as_tensor(run.train_embeddings),
               "train_classes": torch.as_tensor(run.train_classes)}
    return write_checkpoint(path, payload)


def load_classifier(path, device="cpu") -> tuple[torch.nn.Module, dict]:
    """Rebuild a classifier saved by :func:`save_classifier`: returns ``(model in eval mode, checkpoint dict)``.
    ``path`` may also be the checkpoint dict itself, already read (by :func:`asd_utils.checkpoints.read_checkpoint`).
    Use ``checkpoint["norm"]`` with :func:`asd_utils.classifiers.predict` and
    ``LogMelParams(**checkpoint["feature_params"])``."""
    checkpoint = read_checkpoint(path, CLASSIFIER_FORMAT)
    # the weights come from the checkpoint: no ImageNet download
    options = {k: (False if k in ("pretrained", "pretrained_backbone") else v)
               for k, v in checkpoint["options"].items()}
    model = CLASSIFIER_KINDS[checkpoint["kind"]](checkpoint["num_classes"], **options)
    model.load_state_dict(checkpoint["state_dict"])
    model.spec = {k: checkpoint[k] for k in ("kind", "num_classes", "options")}
    return model.to(as_device(device)).eval(), checkpoint


def rescore(checkpoint_path, test_table: pd.DataFrame, cache_dir="data/cache", device="auto") -> ClassifierRun:
    """A saved classifier (:func:`save_classifier`; its path or the checkpoint dict already read) scoring new clips,
    as a :class:`asd_utils.classifiers.ClassifierRun`: no training.

    Every score of ``test_table``'s clips (their ids must be among the checkpoint's classes); the distance scores use
    the reference embeddings stored in the checkpoint; ``train_logits`` are not stored (NaN); ``history.seconds`` is
    the training time the checkpoint recorded.
    """
    device = as_device(device)
    model, checkpoint = load_classifier(checkpoint_path, device=device)
    classes = list(checkpoint["classes"])
    mapping = {machine_id: index for index, machine_id in enumerate(classes)}
    needs_waves = "wave" in getattr(model, "required_inputs", ("wave",))
    test = load_clip_inputs(test_table, feature_params(checkpoint), cache_dir=cache_dir, device=device,
                            waves=needs_waves)
    norm = tuple(checkpoint["norm"])
    test_logits, test_emb = predict(model, test, norm, device)
    ref_classes, ref_emb = checkpoint["train_classes"].numpy(), checkpoint["train_embeddings"].numpy()
    run = ClassifierRun(checkpoint.get("name", checkpoint["kind"]), model, mapping, norm,
                        TrainingHistory(seconds=float(checkpoint.get("train_seconds", 0.0))),
                        dict(checkpoint["hyperparameters"]),
                        pd.DataFrame({"machine_id": np.asarray(classes)[ref_classes]}), test.table,
                        np.full((len(ref_classes), len(classes)), np.nan, dtype=np.float32), ref_emb, test_logits,
                        test_emb, model_key=checkpoint["model"], options=dict(checkpoint["options"]),
                        recipe=ClassifierRecipe(**checkpoint["recipe"]))
    run.scores = classifier_scores(test_logits, test_emb, run.test_classes, ref_emb, ref_classes)
    return run
