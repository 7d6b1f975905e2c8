"""Which models the course has, as plain data: names, constructor options, scores and checkpoint files.

This module imports neither torch nor the model classes, so the parts of the package that only read results
(``results``, ``readme_tables``, the ``run`` command) can name the models without loading PyTorch. The training
modules turn these entries into classes: :data:`asd_utils.ae_pipeline.MODEL_SPECS` and
:data:`asd_utils.classifiers.CLASSIFIER_KINDS`.
"""
from __future__ import annotations

from dataclasses import dataclass


#: how an autoencoder scores a clip -> its name in tables
AUTOENCODER_SCORES = {"mean_error": "mean error", "p95_error": "95th-percentile error"}


@dataclass(frozen=True)
class AutoencoderSpec:
    """One autoencoder of the course: its name in tables and files, its class in :mod:`asd_utils.models` and the
    constructor options; ``notebook`` trains it (with the recipe of its key in
    :data:`asd_utils.profiles.AE_TRAINING`) and saves it as ``models/<checkpoint>`` there; ``scores``: the keys of
    :data:`AUTOENCODER_SCORES` it is read with."""

    name: str
    class_name: str
    options: dict
    checkpoint: str
    notebook: str = "03_autoencoder_baselines"
    scores: tuple = tuple(AUTOENCODER_SCORES)


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

#: the notebook that trains and compares the autoencoders on the development ids (the one all entries name)
(AE_NOTEBOOK,) = {spec.notebook for spec in AUTOENCODERS.values()}


#: score key of asd_utils.scoring.classifier_scores -> the name used in tables and metrics.json
SCORE_LABELS = {"1-softmax": "1-softmax", "neg_log_prob": "neg log prob", "mahalanobis": "Mahalanobis",
                "knn_cosine": "kNN cosine"}


@dataclass(frozen=True)
class ClassifierSpec:
    """One machine-id classifier of the course, as the notebooks, notebook 07's choice and the checkpoints name it.

    ``kind``: the :func:`asd_utils.classifiers.build_classifier` kind, ``class_name`` its class in
    :mod:`asd_utils.models`; ``options``: the constructor options that make it this model (``head``, the ArcFace
    margin and scale, ...; a notebook's parameters may set other values, and its metrics.json entry records the ones
    it used); ``recipe``: its key in :data:`asd_utils.profiles.CLASSIFIER_TRAINING` (one training recipe per model
    and profile); ``notebook``: the notebook that trains it on the development ids and saves it as
    ``models/<checkpoint>`` there; ``scores``: the keys of :data:`SCORE_LABELS` it is read with.
    """

    name: str
    kind: str
    class_name: str
    options: dict
    recipe: str
    notebook: str
    checkpoint: str
    scores: tuple = tuple(SCORE_LABELS)

    @property
    def head(self) -> str:
        """``"softmax"`` or ``"arcface"``."""
        return self.options.get("head", "softmax")


#: notebook 07's CLASSIFIER values -> the classifier
CLASSIFIERS = {
    "resnet50": ClassifierSpec("ResNet50", "resnet50_baseline", "ResNet50Baseline", {}, "resnet50",
                               "04_resnet_baseline", "resnet50_baseline.pt"),
    "stgramnet": ClassifierSpec("STgramNet (CE)", "stgramnet", "STgramNet", {"head": "softmax"}, "stgramnet",
                                "05_stgramnet", "stgramnet_ce.pt"),
    "stgramnet_arcface": ClassifierSpec("STgramNet (ArcFace)", "stgramnet", "STgramNet",
                                        {"head": "arcface", "arcface_margin": 0.7, "arcface_scale": 30.0},
                                        "stgramnet", "05_stgramnet", "stgramnet_arcface.pt"),
    "sepstgramnet": ClassifierSpec("SepSTgramNet (CE)", "sepstgramnet", "SepSTgramNet",
                                   {"head": "softmax", "hidden": 256}, "sepstgramnet", "06_sepstgramnet",
                                   "sepstgramnet.pt"),
}

#: every model of the course by its key (the keys of the two families never coincide)
MODELS = {**AUTOENCODERS, **CLASSIFIERS}

#: build_classifier kind -> class name in asd_utils.models
CLASSIFIER_CLASS_NAMES = {spec.kind: spec.class_name for spec in CLASSIFIERS.values()}


def autoencoder_key(name: str) -> str:
    """The key of an autoencoder's name (``"DCASE AE (Sequential)"`` -> ``"dcase_ae"``); keys map to themselves."""
    for key, spec in AUTOENCODERS.items():
        if name in (key, spec.name):
            return key
    raise ValueError(f"unknown autoencoder {name!r}; expected one of {[spec.name for spec in AUTOENCODERS.values()]}")
