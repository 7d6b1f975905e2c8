"""Which models the course has, as plain data: names, constructor options, scores and checkpoint files.

This module imports neither torch nor the model classes, so the parts of the package that only read results
(``results``, ``readme_tables``, the ``run`` command) can name the models without loading PyTorch. The training
modules turn these entries into classes: :data:`asd_utils.ae_pipeline.MODEL_SPECS` and
:data:`asd_utils.classifiers.CLASSIFIER_KINDS`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AutoencoderSpec:
    """One autoencoder of the course: its name in tables and files, its class in :mod:`asd_utils.models` and the
    constructor options; notebook :data:`AE_NOTEBOOK` trains it and saves it as ``models/<checkpoint>`` there."""

    name: str
    class_name: str
    options: dict
    checkpoint: str


#: autoencoder key (the keys of profiles.AE_TRAINING) -> the autoencoder
AUTOENCODERS = {
    "baseline": AutoencoderSpec("Baseline (VAE)", "VAE", {"batch_norm": False, "dropout": 0.0, "kl_weight": 1e-3},
                                "baseline.pt"),
    "batchnorm": AutoencoderSpec("+BatchNorm", "VAE", {"batch_norm": True, "dropout": 0.0, "kl_weight": 1e-3},
                                 "batchnorm.pt"),
    "dropout": AutoencoderSpec("+Dropout", "VAE", {"batch_norm": True, "dropout": 0.2, "kl_weight": 1e-3},
                               "dropout.pt"),
    "dcase_ae": AutoencoderSpec("DCASE AE (Sequential)", "DcaseBaselineAE", {"hidden": 128, "bottleneck": 8},
                                "dcase_ae.pt"),
}

#: the notebook that trains and compares the autoencoders on the development ids
AE_NOTEBOOK = "03_autoencoder_baselines"


@dataclass(frozen=True)
class ClassifierSpec:
    """One machine-id classifier of the course, as the notebooks, notebook 07's choice and the checkpoints name it.

    ``kind``: the :func:`asd_utils.classifiers.build_classifier` kind, ``class_name`` its class in
    :mod:`asd_utils.models`, ``head`` ``"softmax"`` or ``"arcface"``; ``recipe``: its key in
    :data:`asd_utils.profiles.CLASSIFIER_TRAINING` (one training recipe per model and profile); ``notebook``: the
    notebook that trains it on the development ids and saves it as ``models/<checkpoint>`` there.
    """

    name: str
    kind: str
    class_name: str
    head: str
    recipe: str
    notebook: str
    checkpoint: str


#: notebook 07's CLASSIFIER values -> the classifier
CLASSIFIERS = {
    "resnet50": ClassifierSpec("ResNet50", "resnet50_baseline", "ResNet50Baseline", "softmax", "resnet50",
                               "04_resnet_baseline", "resnet50_baseline.pt"),
    "stgramnet": ClassifierSpec("STgramNet (CE)", "stgramnet", "STgramNet", "softmax", "stgramnet", "05_stgramnet",
                                "stgramnet_ce.pt"),
    "stgramnet_arcface": ClassifierSpec("STgramNet (ArcFace)", "stgramnet", "STgramNet", "arcface", "stgramnet",
                                        "05_stgramnet", "stgramnet_arcface.pt"),
    "sepstgramnet": ClassifierSpec("SepSTgramNet (CE)", "sepstgramnet", "SepSTgramNet", "softmax", "sepstgramnet",
                                   "06_sepstgramnet", "sepstgramnet.pt"),
}

#: build_classifier kind -> class name in asd_utils.models
CLASSIFIER_CLASS_NAMES = {spec.kind: spec.class_name for spec in CLASSIFIERS.values()}

#: score key of asd_utils.scoring.classifier_scores -> the name used in tables and metrics.json
SCORE_LABELS = {"1-softmax": "1-softmax", "neg_log_prob": "neg log prob", "mahalanobis": "Mahalanobis",
                "knn_cosine": "kNN cosine"}


def autoencoder_key(name: str) -> str:
    """The key of an autoencoder's name (``"DCASE AE (Sequential)"`` -> ``"dcase_ae"``); keys map to themselves."""
    for key, spec in AUTOENCODERS.items():
        if name in (key, spec.name):
            return key
    raise ValueError(f"unknown autoencoder {name!r}; expected one of {[spec.name for spec in AUTOENCODERS.values()]}")
