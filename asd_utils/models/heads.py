"""Classification heads (softmax / ArcFace) and the call convention shared by every machine-id classifier.

Classifiers for anomaly detection
---------------------------------
The classifier approach trains a network to tell the machine ids apart using normal sounds only. At test
time a clip that the network cannot confidently assign to its own id is suspicious: the anomaly score is
``1 - softmax(logits)[id]`` (or a distance in embedding space). The network ends in a *head* that maps an
embedding ``e`` to one logit per id:

* ``"softmax"``: a plain ``nn.Linear`` trained with cross-entropy.
* ``"arcface"``: :class:`ArcFace` (Deng et al.), used by Liu et al. for STgram-MFN. Both the embedding
  and each class weight are L2-normalised, so the logit of class j is ``s * cos(theta_j)``, where theta_j
  is the angle between the embedding and the class centre. During training an *additive angular margin*
  ``m`` is added to the angle of the true class: ``s * cos(theta_y + m)``. To win anyway, the network must
  pull each embedding within ``theta_y < theta_j - m`` of its class centre, which gives tight, well
  separated clusters, handy for both softmax and distance-based anomaly scores.

Call convention (all classifiers: ``STgramNet``, ``SepSTgramNet``, ``ResNet50Baseline``)
--------------------------------------------------------------------------------------
Always call with keywords::

    logits, embedding = model(wave=wave, logmel=logmel, labels=None)

* ``wave``: ``[B, n_samples]`` float waveform (ignored by ``ResNet50Baseline``, may be None there);
* ``logmel``: ``[B, n_mels, n_frames]`` log-mel spectrogram (``[B, 128, 313]`` for a 10 s clip);
* ``labels``: ``[B]`` int64 class indices, or None. Only the ArcFace head uses them (margin on the true
  class while training); pass None for scoring.
* returns ``logits [B, num_classes]`` and the ``embedding [B, D]`` that the head classifies.

Training: ``model.loss(batch)`` with ``batch = {"wave": ..., "logmel": ..., "label": ...}`` returns the
cross-entropy (a scalar). Each class lists the inputs it needs in ``required_inputs``; a batch may instead
hold a precomputed ``"embedding"`` (then only the head runs, see ``ResNet50Baseline.embed``).

Introduced in: notebooks/05_stgramnet.ipynb
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ArcFace", "make_head", "MachineIdClassifier", "PlainClassifier", "as_classifier", "HEAD_TYPES"]

HEAD_TYPES = ("softmax", "arcface")


class ArcFace(nn.Module):
    """Additive angular margin head (ArcFace): ``embedding [B, in_features] -> logits [B, num_classes]``.

    * ``labels=None`` (scoring): ``logits = s * cos(theta)``, all in ``[-s, s]``.
    * with ``labels`` (training): the true class's logit becomes ``s * cos(theta_y + m)``, smaller than
      ``s * cos(theta_y)``: the margin makes the task harder during training only.

    Numerical care:

    * ``cos`` is clamped to ``[-1 + eps, 1 - eps]`` so that ``sin = sqrt(1 - cos**2)`` never takes the square
      root of 0 (whose gradient is infinite) or of a tiny negative rounding error (NaN).
    * ``cos(theta + m)`` is not monotonic once ``theta + m > pi`` (the logit would *rise* again as the
      embedding moves away from its class). The standard fix is used: if ``theta > pi - m`` the target logit
      is ``s * (cos(theta) - m * sin(m))`` instead, a linear continuation that keeps decreasing with theta
      (so in that rare case the target logit may lie slightly below ``-s``). With ``easy_margin=True`` the
      margin is applied only where ``cos(theta) > 0`` (theta < 90 degrees) and the plain cosine is kept
      elsewhere.

    Args:
        in_features: embedding size.
        num_classes: number of classes (machine ids).
        margin: additive angular margin m in radians (Liu et al. 2022: 0.7).
        scale: logit scale s (Liu et al. 2022: 30).
        easy_margin: see above.
        eps: clamp margin for the cosine.

    Introduced in: notebooks/05_stgramnet.ipynb
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        margin: float = 0.7,
        scale: float = 30.0,
        easy_margin: bool = False,
        eps: float = 1e-6,
    ):
        super().__init__()
        self.in_features, self.num_classes = in_features, num_classes
        self.margin, self.scale, self.easy_margin, self.eps = margin, scale, easy_margin, eps
        self.weight = nn.Parameter(torch.empty(num_classes, in_features))
        nn.init.xavier_uniform_(self.weight)
        self._cos_m, self._sin_m = math.cos(margin), math.sin(margin)
        self._threshold = math.cos(math.pi - margin)  # cos(theta) below this <=> theta + m > pi
        self._linear_penalty = math.sin(math.pi - margin) * margin  # = m * sin(m)

    def cosine(self, embedding: torch.Tensor) -> torch.Tensor:
        """Clamped cosine similarity of each embedding to each class centre: ``[B, num_classes]``."""
        cos = F.linear(F.normalize(embedding, dim=-1), F.normalize(self.weight, dim=-1))
        return cos.clamp(-1 + self.eps, 1 - self.eps)

    def forward(self, embedding: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``embedding [B, in_features]``, optional ``labels [B]`` -> ``logits [B, num_classes]``."""
        cos = self.cosine(embedding)
        if labels is None:
            return self.scale * cos
        sin = torch.sqrt((1.0 - cos * cos).clamp_min(0.0))
        cos_margin = cos * self._cos_m - sin * self._sin_m  # cos(theta + m)
        if self.easy_margin:
            cos_margin = torch.where(cos > 0, cos_margin, cos)
        else:
            cos_margin = torch.where(cos > self._threshold, cos_margin, cos - self._linear_penalty)
        target = F.one_hot(labels.long(), self.num_classes).to(dtype=torch.bool)
        return self.scale * torch.where(target, cos_margin, cos)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, num_classes={self.num_classes}, margin={self.margin}, "
                f"scale={self.scale}, easy_margin={self.easy_margin}")


def make_head(
    head: str,
    in_features: int,
    num_classes: int,
    arcface_margin: float = 0.7,
    arcface_scale: float = 30.0,
) -> nn.Module:
    """Build a classification head: ``"softmax"`` -> ``nn.Linear``, ``"arcface"`` -> :class:`ArcFace`.

    Introduced in: notebooks/06_sepstgramnet.ipynb
    """
    if head == "softmax":
        return nn.Linear(in_features, num_classes)
    if head == "arcface":
        return ArcFace(in_features, num_classes, margin=arcface_margin, scale=arcface_scale)
    raise ValueError(f"head must be one of {HEAD_TYPES}, got {head!r}")


class MachineIdClassifier(nn.Module):
    """Base class of the machine-id classifiers: head handling, ``classify`` and ``loss``.

    Subclasses set ``self.head`` (via :func:`make_head`), define ``embed_inputs(wave, logmel) -> [B, D]`` and
    list the batch keys they need in ``required_inputs``. ``forward`` then follows the call convention of the
    module docstring: ``model(wave=..., logmel=..., labels=None) -> (logits, embedding)``.

    Introduced in: notebooks/05_stgramnet.ipynb
    """

    required_inputs: tuple[str, ...] = ("wave", "logmel")
    head: nn.Module

    def embed_inputs(self, wave: torch.Tensor | None, logmel: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError  # pragma: no cover - abstract

    def classify(self, embedding: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the head: ``embedding [B, D] -> logits [B, num_classes]`` (labels used by ArcFace only)."""
        if isinstance(self.head, ArcFace):
            return self.head(embedding, labels)
        return self.head(embedding)

    def forward(
        self,
        wave: torch.Tensor | None = None,
        logmel: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(wave [B, N], logmel [B, n_mels, T], labels [B] | None) -> (logits [B, C], embedding [B, D])``."""
        for name, value in (("wave", wave), ("logmel", logmel)):
            if name in self.required_inputs and value is None:
                raise ValueError(f"{type(self).__name__} needs `{name}`; call model(wave=..., logmel=..., labels=...)")
        embedding = self.embed_inputs(wave, logmel)
        return self.classify(embedding, labels), embedding

    def loss(self, batch: dict, label_smoothing: float = 0.0) -> torch.Tensor:
        """Cross-entropy on ``batch = {"wave", "logmel", "label"}`` (or ``{"embedding", "label"}``): a scalar.

        ``label_smoothing`` = eps trains towards ``1 - eps`` on the true id (and ``eps`` spread over all ids): the logit
        margins stop growing once reached, so confidences stay below 1 and keep ranking clips.
        """
        labels = batch["label"]
        if "embedding" in batch:
            logits = self.classify(batch["embedding"], labels)
        else:
            logits, _ = self(wave=batch.get("wave"), logmel=batch.get("logmel"), labels=labels)
        return F.cross_entropy(logits, labels.long(), label_smoothing=label_smoothing)


class PlainClassifier(MachineIdClassifier):
    """A student's own ``nn.Module`` that maps the inputs to an embedding ``[B, D]``, plus a head: a classifier.

    ``module`` is called with the inputs named in ``inputs`` (in that order): ``module(logmel)`` for the default
    ``("logmel",)`` with ``logmel [B, n_mels, T]`` (standardised, level-free), ``module(wave)`` for ``("wave",)`` with
    ``wave [B, N]``, ``module(wave, logmel)`` for both. Its output is the embedding; :func:`make_head` adds the head
    (``nn.Linear(D, num_classes)`` or ArcFace). :func:`as_classifier` builds it. ``module`` stays reachable as
    ``.module``; ``hop_length`` tells random-crop training how to cut waveforms that match the log-mel crops.
    """

    def __init__(self, module: nn.Module, num_classes: int, embedding_dim: int, inputs: tuple[str, ...] = ("logmel",),
                 head: str = "softmax", arcface_margin: float = 0.7, arcface_scale: float = 30.0,
                 hop_length: int = 512):
        super().__init__()
        unknown = [name for name in inputs if name not in ("wave", "logmel")]
        if unknown or not inputs:
            raise ValueError(f"inputs must name 'wave' and/or 'logmel', got {inputs!r}")
        self.module = module
        self.required_inputs = tuple(inputs)
        self.num_classes, self.embedding_dim, self.hop_length = num_classes, embedding_dim, hop_length
        self.head = make_head(head, embedding_dim, num_classes, arcface_margin, arcface_scale)

    def embed_inputs(self, wave: torch.Tensor | None, logmel: torch.Tensor | None) -> torch.Tensor:
        values = {"wave": wave, "logmel": logmel}
        embedding = self.module(*[values[name] for name in self.required_inputs])
        if embedding.dim() != 2:
            raise ValueError(f"the module must return an embedding [B, D], got shape {tuple(embedding.shape)}")
        return embedding


def as_classifier(module: nn.Module, num_classes: int, inputs=("logmel",), head: str = "softmax",
                  embedding_dim: int | None = None, n_mels: int = 128, hop_length: int = 512,
                  arcface_margin: float = 0.7, arcface_scale: float = 30.0) -> nn.Module:
    """``module`` itself if it already is a course classifier (it has ``loss`` and ``classify``), else wrapped in
    :class:`PlainClassifier` so that ``run_classifier`` trains and scores it like STgramNet.

    ``module`` maps the inputs named in ``inputs`` (``"logmel"``: ``[B, n_mels, T]``; ``"wave"``: ``[B, N]``; a
    string or a tuple) to an embedding ``[B, D]``. ``embedding_dim`` (D) is measured with one forward pass of a
    zero batch of 64 frames (eval mode, no gradients, so BatchNorm statistics are untouched) when not given.

    Introduced in: notebooks/05_stgramnet.ipynb
    """
    if hasattr(module, "loss") and hasattr(module, "classify"):
        return module
    if not isinstance(module, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(module).__name__}")
    inputs = (inputs,) if isinstance(inputs, str) else tuple(inputs)
    if embedding_dim is None:
        frames = 64
        dummy = {"logmel": torch.zeros(2, n_mels, frames), "wave": torch.zeros(2, (frames - 1) * hop_length)}
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                parameter = next(module.parameters(), None)
                device = parameter.device if parameter is not None else torch.device("cpu")
                out = module(*[dummy[name].to(device) for name in inputs if name in dummy])
        finally:
            module.train(was_training)
        if out.dim() != 2:
            raise ValueError(f"the module must return an embedding [B, D]; for inputs {inputs} it returned "
                             f"shape {tuple(out.shape)} (end it with e.g. nn.AdaptiveAvgPool1d(1), nn.Flatten())")
        embedding_dim = int(out.shape[1])
    return PlainClassifier(module, num_classes, embedding_dim, inputs, head, arcface_margin, arcface_scale,
                           hop_length)
