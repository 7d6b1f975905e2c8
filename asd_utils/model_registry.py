"""Which models the course has, as plain data: names, constructor options, scores and checkpoint files.

This module imports neither torch nor the model classes, so the parts of the package that only read results
(``results``, ``readme_tables``, the ``run`` command) can name the models without loading PyTorch. The training
modules turn these entries into classes: :data:`asd_utils.ae_pipeline.MODEL_SPECS` and
:data:`asd_utils.classifiers.CLASSIFIER_KINDS`.
"""
from __future__ import annotations

#: autoencoder key -> (name in tables and files, class name in asd_utils.models, constructor options);
#: the keys of profiles.AE_TRAINING
AUTOENCODERS: dict[str, tuple[str, str, dict]] = {
    "baseline": ("Baseline (VAE)", "VAE", {"batch_norm": False, "dropout": 0.0, "kl_weight": 1e-3}),
    "batchnorm": ("+BatchNorm", "VAE", {"batch_norm": True, "dropout": 0.0, "kl_weight": 1e-3}),
    "dropout": ("+Dropout", "VAE", {"batch_norm": True, "dropout": 0.2, "kl_weight": 1e-3}),
    "dcase_ae": ("DCASE AE (Sequential)", "DcaseBaselineAE", {"hidden": 128, "bottleneck": 8}),
}

#: build_classifier kind -> class name in asd_utils.models
CLASSIFIER_CLASS_NAMES = {"resnet50_baseline": "ResNet50Baseline", "stgramnet": "STgramNet",
                          "sepstgramnet": "SepSTgramNet"}

#: score key of asd_utils.scoring.classifier_scores -> the name used in tables and metrics.json
SCORE_LABELS = {"1-softmax": "1-softmax", "neg_log_prob": "neg log prob", "mahalanobis": "Mahalanobis",
                "knn_cosine": "kNN cosine"}

#: notebook 07's CLASSIFIER values -> (build_classifier kind, head, CLASSIFIER_TRAINING key, default network name)
CLASSIFIER_RECIPES = {
    "resnet50": ("resnet50_baseline", "softmax", "resnet50", "ResNet50"),
    "stgramnet": ("stgramnet", "softmax", "stgramnet", "STgramNet (CE)"),
    "stgramnet_arcface": ("stgramnet", "arcface", "stgramnet", "STgramNet (ArcFace)"),
    "sepstgramnet": ("sepstgramnet", "softmax", "sepstgramnet", "SepSTgramNet (CE)"),
}

#: the checkpoint file each development notebook saves under models/ (notebook 07 reuses it)
CLASSIFIER_CHECKPOINTS = {"resnet50": "resnet50_baseline.pt", "stgramnet": "stgramnet_ce.pt",
                          "stgramnet_arcface": "stgramnet_arcface.pt", "sepstgramnet": "sepstgramnet.pt"}


def autoencoder_key(name: str) -> str:
    """The key of an autoencoder's name (``"DCASE AE (Sequential)"`` -> ``"dcase_ae"``); keys map to themselves."""
    for key, (model_name, _, _) in AUTOENCODERS.items():
        if name in (key, model_name):
            return key
    raise ValueError(f"unknown autoencoder {name!r}; expected one of {[spec[0] for spec in AUTOENCODERS.values()]}")


_SCORE_KEYS = {label: key for key, label in SCORE_LABELS.items()}  # "Mahalanobis" -> "mahalanobis"


def split_model_name(name: str) -> tuple[str, str | None]:
    """``"<network> · <score label>"`` (a classifier result, see ``ClassifierRun.metrics``) -> ``(network, score
    key)``; a name without a known score label (an autoencoder) -> ``(name, None)``."""
    network, _, label = name.rpartition(" · ")
    return (network, _SCORE_KEYS[label]) if network and label in _SCORE_KEYS else (name, None)
