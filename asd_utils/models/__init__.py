"""The course's model zoo, in plain PyTorch (no torchvision needed).

============================  ===========================================  =====================================
model                         what it is                                   introduced in
============================  ===========================================  =====================================
``DcaseBaselineAE``           DCASE 2020 baseline dense autoencoder        notebooks/03_autoencoder_baselines
``VAE``                       report's "Baseline" VAE (+BatchNorm/Dropout) notebooks/03_autoencoder_baselines
``ResNet50Baseline``          frozen ImageNet ResNet-50 + trained head     notebooks/04_resnet_baseline
``STgramNet``                 [log-mel, Tgram, 0] -> ResNet-18             notebooks/05_stgramnet
``SepSTgramNet``              one ResNet-18 per view, then 2 FC layers     notebooks/06_sepstgramnet
============================  ===========================================  =====================================

Two interfaces, one per family, so that one training loop and one scoring module serve every model:

* autoencoders: ``model.loss(batch) -> scalar`` and ``model.reconstruction_error(x [B, 640]) -> [B]``;
* classifiers: ``logits, embedding = model(wave=..., logmel=..., labels=None)`` and
  ``model.loss({"wave", "logmel", "label"}) -> scalar`` (see :mod:`asd_utils.models.heads`).

A student's own module gets the interface of its family from an adapter: ``as_autoencoder`` (``[B, 640] -> [B, 640]``)
and ``as_classifier`` (log-mel ``[B, n_mels, T]`` -> embedding ``[B, D]``, plus a head).

Introduced in: notebooks/03_autoencoder_baselines.ipynb
"""
from .autoencoders import (
    DEFAULT_KL_WEIGHT,
    Autoencoder,
    DcaseBaselineAE,
    PlainAutoencoder,
    VAE,
    as_autoencoder,
    kl_divergence,
    layer_sizes,
    vae_loss,
)
from .heads import HEAD_TYPES, ArcFace, MachineIdClassifier, PlainClassifier, as_classifier, make_head
from .resnet import IMAGENET_URLS, BasicBlock, Bottleneck, ResNet, load_imagenet_weights, resnet18, resnet50
from .stgram import ResNet50Baseline, SepSTgramNet, STgramNet, TgramNet, n_frames_for
from .summary import count_parameters, parameter_summary

__all__ = [
    "Autoencoder", "PlainAutoencoder", "as_autoencoder", "DcaseBaselineAE", "VAE", "DEFAULT_KL_WEIGHT", "vae_loss", "kl_divergence", "layer_sizes",
    "ArcFace", "make_head", "MachineIdClassifier", "PlainClassifier", "as_classifier", "HEAD_TYPES",
    "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet50", "load_imagenet_weights", "IMAGENET_URLS",
    "TgramNet", "STgramNet", "SepSTgramNet", "ResNet50Baseline", "n_frames_for",
    "count_parameters", "parameter_summary",
]
