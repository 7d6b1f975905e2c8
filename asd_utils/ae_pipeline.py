"""The autoencoder pipeline of notebook 03 as reusable functions: build, train per machine id, score, save, load.

Notebook 03 teaches these steps and trains the four autoencoders of the course report on the development ids;
notebook 07 retrains the chosen one on the evaluation ids, and ``python -m asd_utils score`` loads the saved models.
One way of doing each thing::

    log-mels [clips, n_mels, T] -> standardisation_stats (per mel band, training clips only)
                                -> StackedFrames (5-frame vectors, built per batch)
                                -> train_autoencoder (asd_utils.training.fit, the model's own loss)
    per machine id              -> train_autoencoders -> AutoencoderRun (one AutoencoderGroup per group, scores)
    clip scores                 -> asd_utils.scoring.reconstruction_scores (mean vector MSE), clip_scores (any rule)
    metrics.json entries        -> AutoencoderRun.metrics
    checkpoints                 -> save_autoencoders / load_autoencoders (asd_utils.checkpoints.AUTOENCODER_FORMAT)

The checkpoint is a plain dictionary that ``torch.load(path, weights_only=True)`` reads without executing code::

    {"format", "model" (the AUTOENCODERS key), "name", "class", "options", "input_dim", "recipe", "feature_params",
     "frames", "hyperparameters", "groups": {group: {"machine_ids", "state_dict", "mean", "std"}}}

(``mean``/``std``: float32 tensors ``[n_mels]``, or ``None`` without standardisation). A *group* is the set of machine
ids one model was trained on: ``{"id_00": ["id_00"], ...}`` with per-id models (the DCASE rule), ``{"all_ids": [...]}``
with one shared model.

Introduced in: notebooks/03_autoencoder_baselines.ipynb (reused by 07_results_and_submission)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .features import LogMelParams, stack_frames
from .metrics import evaluate_scores
from .model_registry import AUTOENCODERS
from .models import VAE, DcaseBaselineAE, as_autoencoder, count_parameters
from .scoring import reconstruction_scores
from .recipes import TrainingRecipe
from .training import StackedFrames, TrainingHistory, fit
from .devices import as_device, model_on, to_device
from .checkpoints import AUTOENCODER_FORMAT, read_checkpoint, write_checkpoint
from .utils import set_seed

AE_CLASSES = {"VAE": VAE, "DcaseBaselineAE": DcaseBaselineAE}
#: model key -> (name in tables and files, class, constructor arguments): asd_utils.model_registry.AUTOENCODERS
#: with the classes
MODEL_SPECS: dict[str, tuple[str, type, dict]] = {key: (spec.name, AE_CLASSES[spec.class_name], spec.options)
                                                 for key, spec in AUTOENCODERS.items()}
ALL_IDS_GROUP = "all_ids"


# ----------------------------------------------------------------------------------------------- models
def check_model_keys(keys) -> list[str]:
    """The keys as a list; an unknown key is a ``ValueError`` listing the known ones (:data:`MODEL_SPECS`)."""
    keys = list(keys)
    unknown = [key for key in keys if key not in MODEL_SPECS]
    if unknown:
        raise ValueError(f"unknown autoencoder key(s) {unknown}; expected some of {list(MODEL_SPECS)}")
    return keys


def build_autoencoder(key: str, input_dim: int = 640) -> torch.nn.Module:
    """A fresh, untrained model of ``MODEL_SPECS[key]`` for input vectors of ``input_dim`` values (n_mels x frames)."""
    _, cls, kwargs = MODEL_SPECS[check_model_keys([key])[0]]
    return cls(input_dim=input_dim, **kwargs)


# ----------------------------------------------------------------------------------------------- training
def standardisation_stats(logmels) -> tuple[np.ndarray, np.ndarray]:
    """Per-mel-band mean and std over all clips and frames of ``[clips, n_mels, T]`` log-mels (float32 ``[n_mels]``)."""
    mean = logmels.mean(axis=(0, 2), dtype=np.float64)
    std = np.maximum(logmels.std(axis=(0, 2), dtype=np.float64), 1e-3)
    return mean.astype(np.float32), std.astype(np.float32)


def train_autoencoder(key: str | None, logmels, recipe: TrainingRecipe, *, frames: int = 5, standardize: bool = True,
                      input_dim: int | None = None, model=None, seed: int = 0, val_fraction: float = 0.1,
                      device="auto", progress: bool = False,
                      desc: str = "training") -> tuple[torch.nn.Module, TrainingHistory, np.ndarray | None,
                                                       np.ndarray | None]:
    """Train ``MODEL_SPECS[key]`` (or ``model``) on ``[clips, n_mels, T]`` log-mels as ``recipe`` says (a
    :class:`asd_utils.recipes.TrainingRecipe`, e.g. ``asd_utils.profiles.ae_training(profile)[key]``); return
    ``(model, history, mean, std)``.

    ``model`` may be any ``nn.Module`` that maps ``[B, n_mels * frames]`` to a reconstruction of the same shape: one
    without the autoencoder interface is wrapped by :func:`asd_utils.models.as_autoencoder` (MSE loss), and the
    returned model is the wrapped one, ready for :func:`asd_utils.scoring.reconstruction_scores` and :func:`clip_scores`.

    The log-mels are standardised per band with their own statistics (``standardize``; ``mean``/``std`` are ``None``
    otherwise), cut into ``frames``-frame vectors by :class:`asd_utils.training.StackedFrames` and fed to
    :func:`asd_utils.training.fit` with the model's own loss (``model.loss``); ``val_fraction`` of the vectors is held
    out for a validation loss. The weights are seeded with ``seed`` just before the model is built.
    """
    mean, std = standardisation_stats(logmels) if standardize else (None, None)
    source = StackedFrames(logmels, frames=frames, mean=mean, std=std)
    set_seed(seed)
    model = as_autoencoder(model) if model is not None else build_autoencoder(key, input_dim or logmels.shape[1] * frames)
    history = fit(model, source, lambda m, batch: m.loss(batch), recipe, val_fraction=val_fraction, device=device,
                  seed=seed, progress=progress, desc=desc)
    return model, history, mean, std


@dataclass
class AutoencoderGroup:
    """One trained model of a run: the model (on CPU, eval mode), its :class:`asd_utils.training.TrainingHistory`, the
    per-band standardisation (``mean``/``std`` ``[n_mels]``, ``None`` without) and the machine ids it was trained on.
    """

    model: torch.nn.Module
    history: TrainingHistory
    mean: np.ndarray | None
    std: np.ndarray | None
    machine_ids: list[str]


@dataclass
class AutoencoderRun:
    """Everything :func:`train_autoencoders` produced: the model's ``name`` and ``key``, the ``recipe`` it trained
    with, one :class:`AutoencoderGroup` per group, the test clips' mean reconstruction errors (``scores``, NaN
    without test clips) and the training time in ``seconds`` (the fields a :class:`asd_utils.classifiers.ClassifierRun`
    has under the same names)."""

    name: str
    key: str
    recipe: TrainingRecipe
    groups: dict[str, AutoencoderGroup]
    scores: np.ndarray
    seconds: float = 0.0

    def metrics(self, test_table, hyperparameters: dict, max_fpr: float = 0.1) -> dict[str, dict]:
        """The metrics.json entry ``{name: {network, score ("mean_error"), model (the key), options, recipe, per_id,
        means, pooled, n_params (of one group's model), train_seconds, hyperparameters}}`` of the test clips'
        ``scores`` (rows of ``test_table``), as :meth:`asd_utils.classifiers.ClassifierRun.metrics`."""
        return {self.name: {"network": self.name, "score": "mean_error", "model": self.key,
                            "options": dict(AUTOENCODERS[self.key].options), "recipe": self.recipe.as_dict(),
                            **evaluate_scores(test_table, self.scores, max_fpr=max_fpr),
                            "n_params": count_parameters(next(iter(self.groups.values())).model),
                            "train_seconds": round(self.seconds, 2), "hyperparameters": dict(hyperparameters)}}


def machine_groups(machine_ids, per_id: bool = True) -> dict[str, list[str]]:
    """``{group: [machine ids]}``: one group per id (``per_id``, the DCASE rule) or one group ``"all_ids"``."""
    ids = sorted({str(m) for m in machine_ids})
    if not ids:
        raise ValueError("no machine ids: the training table is empty")
    return {mid: [mid] for mid in ids} if per_id else {ALL_IDS_GROUP: ids}


def train_autoencoders(key: str, train_logmels, train_ids, groups: dict[str, list[str]], recipe: TrainingRecipe, *,
                       test_logmels=None, test_ids=None, frames: int = 5, standardize: bool = True, seed: int = 0,
                       val_fraction: float = 0.1, device="auto", progress: bool = False,
                       name: str | None = None) -> AutoencoderRun:
    """Train one ``key`` model per group (see :func:`machine_groups`) with ``recipe`` and score the test clips of its
    ids.

    ``train_ids``/``test_ids`` give the machine id of each clip of ``train_logmels``/``test_logmels``
    (``[clips, n_mels, T]``). Returns the :class:`AutoencoderRun`.
    """
    name = name or MODEL_SPECS[check_model_keys([key])[0]][0]
    device = as_device(device)
    train_ids = np.asarray(train_ids).astype(str)
    test_ids = None if test_ids is None else np.asarray(test_ids).astype(str)
    n_test = 0 if test_logmels is None else len(test_logmels)
    run = AutoencoderRun(name, key, recipe, {}, np.full(n_test, np.nan))
    for group, ids in groups.items():
        train_mask = np.isin(train_ids, list(ids))
        if not train_mask.any():
            raise ValueError(f"group {group!r} (ids {list(ids)}) has no training clips")
        model, history, mean, std = train_autoencoder(key, train_logmels[train_mask], recipe, frames=frames,
                                                      standardize=standardize, seed=seed, val_fraction=val_fraction,
                                                      device=device, progress=progress, desc=f"{name} {group}")
        if n_test:
            test_mask = np.isin(test_ids, list(ids))
            if test_mask.any():
                run.scores[test_mask] = reconstruction_scores(model, test_logmels[test_mask], frames=frames,
                                                                 mean=mean, std=std, device=device)
        run.groups[group] = AutoencoderGroup(model.cpu(), history, mean, std, list(ids))
        run.seconds += history.seconds
    return run


def autoencoder_hyperparameters(*, feature_params: LogMelParams, val_fraction: float = 0.1, per_id_models: bool = True,
                                n_models: int = 1, standardize: bool = True) -> dict:
    """The ``hyperparameters`` entry of metrics.json and of the checkpoint, as plain data: how the run trained
    besides its recipe and the model's options (which the run carries) and the feature parameters."""
    return {"val_fraction": val_fraction, "optimizer": "Adam", "per_id_models": per_id_models, "n_models": n_models,
            "standardize": standardize, **asdict(feature_params)}


# ----------------------------------------------------------------------------------------------- scoring
def clip_scores(model, logmels, mean, std, aggregate: Callable[[np.ndarray], float], frames: int = 5,
                device="cpu") -> np.ndarray:
    """Score clips with any aggregation of their per-vector errors (``aggregate([n_vectors]) -> float``).

    ``logmels`` is ``[clips, n_mels, T]``; ``mean``/``std`` are the model's standardisation statistics (or ``None``).
    With ``aggregate=np.mean`` this equals :func:`asd_utils.scoring.reconstruction_scores`.
    """
    out = []
    with model_on(model, device) as device, torch.no_grad():
        for logmel in logmels:
            x = logmel if mean is None else (logmel - mean[:, None]) / std[:, None]
            vectors = to_device(torch.from_numpy(np.ascontiguousarray(stack_frames(x, frames))), device)
            out.append(aggregate(model.reconstruction_error(vectors).cpu().numpy()))
    return np.array(out)


def autoencoder_scores(loaded: dict, logmels, machine_ids, frames: int = 5, device="cpu") -> np.ndarray:
    """Mean reconstruction error of each clip with the model of its machine id.

    ``loaded`` is :func:`load_autoencoders`' ``{machine id: (model, mean, std)}``; ``machine_ids`` gives each clip's
    id. A clip whose id has no model is a ``ValueError`` that names the ids (a model trained on ids 00/02/04 cannot
    score id_01: retrain on that id's training clips, as notebook 07 does).
    """
    machine_ids = np.asarray(machine_ids).astype(str)
    missing = sorted(set(machine_ids) - set(loaded))
    if missing:
        raise ValueError(f"the autoencoders were trained on {', '.join(sorted(loaded))} and cannot score clips of "
                         f"{', '.join(missing)}: each machine id needs a model trained on its own normal clips "
                         "(retrain on those ids' training clips, see notebook 07)")
    scores = np.full(len(machine_ids), np.nan)
    for mid in sorted(set(machine_ids)):
        mask = machine_ids == mid
        model, mean, std = loaded[mid]
        scores[mask] = reconstruction_scores(model, logmels[mask], frames=frames, mean=mean, std=std, device=device)
    return scores


# ----------------------------------------------------------------------------------------------- checkpoints
def save_autoencoders(path, run: AutoencoderRun, feature_params: LogMelParams, hyperparameters: dict) -> Path:
    """Save every group's model of one run (:func:`train_autoencoders`), its recipe and its standardisation
    statistics.

    ``feature_params`` are the log-mel parameters the models were trained with (``frames`` included);
    ``hyperparameters`` e.g. from :func:`autoencoder_hyperparameters`. Atomic ``torch.save``; returns the path.
    """
    name, cls, kwargs = MODEL_SPECS[check_model_keys([run.key])[0]]
    checkpoint = {
        "format": AUTOENCODER_FORMAT, "model": run.key, "name": name, "class": cls.__name__, "options": dict(kwargs),
        "input_dim": feature_params.n_mels * feature_params.frames, "recipe": run.recipe.as_dict(),
        "feature_params": asdict(feature_params), "frames": feature_params.frames,
        "hyperparameters": dict(hyperparameters),
        "groups": {group: {"machine_ids": list(g.machine_ids),
                           "state_dict": {k: v.detach().cpu() for k, v in g.model.state_dict().items()},
                           "mean": None if g.mean is None else torch.from_numpy(np.asarray(g.mean)),
                           "std": None if g.std is None else torch.from_numpy(np.asarray(g.std))}
                   for group, g in run.groups.items()},
    }
    return write_checkpoint(path, checkpoint)


def load_autoencoders(checkpoint) -> dict[str, tuple[torch.nn.Module, np.ndarray | None, np.ndarray | None]]:
    """``{machine id: (model in eval mode, mean, std)}`` from a checkpoint written by :func:`save_autoencoders`.

    ``checkpoint`` is a path or a dictionary from :func:`asd_utils.checkpoints.read_checkpoint`; a checkpoint of
    another format is a ``ValueError``.
    """
    checkpoint = read_checkpoint(checkpoint, AUTOENCODER_FORMAT)
    cls = AE_CLASSES[checkpoint["class"]]
    loaded = {}
    for group in checkpoint["groups"].values():
        model = cls(input_dim=checkpoint["input_dim"], **checkpoint["options"])
        model.load_state_dict(group["state_dict"])
        mean = None if group["mean"] is None else group["mean"].numpy()
        std = None if group["std"] is None else group["std"].numpy()
        loaded.update({mid: (model.eval(), mean, std) for mid in group["machine_ids"]})
    return loaded
