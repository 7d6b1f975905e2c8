"""Machine-id classifiers: the ResNet-50 baseline, STgramNet (Liu et al. 2022) and the report's SepSTgramNet.

Spectral and temporal views of a sound
--------------------------------------
A log-mel spectrogram throws away the phase and smooths the signal over 64 ms windows, so short or
phase-related events (a click of a damaged rail, a belt slip) can be blurred. Liu et al. ("Anomalous Sound
Detection Using Spectral-Temporal Information Fusion", 2022) add a *learned* front end on the raw waveform,
the **Tgram**: a 1-D convolution whose 128 filters are as long as an STFT window (1024 samples) and move by
the same hop (512 samples), followed by three small convolution blocks. It returns a ``[128, 313]`` map for a
10 s clip, the very shape of the log-mel, so both can be stacked like the colour channels of an image.

* :class:`TgramNet` - the waveform front end, ``[B, 160000] -> [B, 128, 313]``.
* :class:`STgramNet` - ``[log-mel, Tgram, zeros]`` as a 3-channel image into one ResNet-18 (as in the course
  report; Liu et al. used a MobileFaceNet).
* :class:`SepSTgramNet` - the report's variant: the log-mel and the Tgram each get their own ResNet-18 (the
  two maps are not spatially aligned, so mixing them in the first convolution may not make sense); the two
  512-d embeddings are concatenated and classified by two fully connected layers.
* :class:`ResNet50Baseline` - the report's baseline: the log-mel replicated to 3 channels through a frozen
  ImageNet ResNet-50; only the last layer is trained.

All four share the call convention of :mod:`asd_utils.models.heads`::

    logits, embedding = model(wave=wave, logmel=logmel, labels=None)   # labels only matter for ArcFace
    loss = model.loss({"wave": wave, "logmel": logmel, "label": labels})

Introduced in: notebooks/05_stgramnet.ipynb
"""
from __future__ import annotations

import torch
from torch import nn

from .heads import MachineIdClassifier, make_head
from .resnet import ResNet, resnet18, resnet50

__all__ = ["TgramNet", "STgramNet", "SepSTgramNet", "ResNet50Baseline", "n_frames_for"]


def n_frames_for(n_samples: int, win_length: int = 1024, hop_length: int = 512) -> int:
    """Frames of a centred STFT / the Tgram for a clip of ``n_samples`` (160000 -> 313).

    With padding ``win_length // 2`` on both sides: ``(n_samples + 2 * (win_length // 2) - win_length) //
    hop_length + 1``, which equals ``n_samples // hop_length + 1`` when ``win_length = 2 * hop_length``.

    Introduced in: notebooks/05_stgramnet.ipynb
    """
    return (n_samples + 2 * (win_length // 2) - win_length) // hop_length + 1


def single_channel_map(x: torch.Tensor, name: str) -> torch.Tensor:
    """``[B, F, T]`` or ``[B, 1, F, T]`` -> ``[B, F, T]`` (clear error otherwise)."""
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(f"`{name}` must have shape [B, n_mels, n_frames], got {tuple(x.shape)}")
    return x


def three_channels(x: torch.Tensor) -> torch.Tensor:
    """Replicate a one-channel map ``[B, F, T]`` into the 3 channels of an ImageNet ResNet: ``[B, 3, F, T]``."""
    return x.unsqueeze(1).expand(-1, 3, -1, -1)


def _backbone18(pretrained: bool) -> ResNet:
    """ResNet-18 with 3 input channels whose ``fc`` is removed (``forward`` returns the 512-d embedding)."""
    net = resnet18(num_classes=1000, in_channels=3, pretrained=pretrained)
    net.fc = nn.Identity()
    return net


class TgramNet(nn.Module):
    """Learned temporal front end (Tgram) of Liu et al. 2022: ``wave [B, N] -> [B, n_mels, n_frames]``.

    Layers::

        Conv1d(1 -> n_mels, kernel=win_length, stride=hop_length, padding=win_length//2, bias=False)
        3 x [GroupNorm(n_mels groups): each channel over time, LeakyReLU(0.2),
             Conv1d(n_mels -> n_mels, kernel 3, padding 1, bias=False)]

    The first convolution acts like a learnable filterbank with the framing of the log-mel (1024 / 512), so
    with the defaults a 10 s, 16 kHz clip gives ``[B, 128, 313]`` (:func:`n_frames_for`). Liu et al. normalise with
    ``LayerNorm(313)``: the same statistics (each channel over time), but one learned weight per *frame*, which ties
    the network to one clip length. The course learns one weight per *channel* instead, so the same network trains on
    short random crops and then scores whole clips (and clips of any length).

    Args:
        n_mels: output channels (match the log-mel's 128 bands).
        win_length, hop_length: kernel size and stride of the first convolution.
        n_blocks: number of norm-LeakyReLU-Conv blocks (3).

    Shapes: ``forward(wave [B, N] or [B, 1, N]) -> [B, n_mels, N // hop_length + 1]`` (for ``win_length = 2 * hop``).

    Introduced in: notebooks/05_stgramnet.ipynb
    """

    def __init__(
        self,
        n_mels: int = 128,
        win_length: int = 1024,
        hop_length: int = 512,
        n_blocks: int = 3,
    ):
        super().__init__()
        self.conv_extractor = nn.Conv1d(1, n_mels, win_length, stride=hop_length, padding=win_length // 2,
                                        bias=False)
        self.conv_encoder = nn.Sequential(*[
            nn.Sequential(
                nn.GroupNorm(n_mels, n_mels),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv1d(n_mels, n_mels, kernel_size=3, padding=1, bias=False),
            )
            for _ in range(n_blocks)
        ])

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """``[B, N]`` or ``[B, 1, N]`` -> ``[B, n_mels, n_frames]``."""
        if wave.dim() == 2:
            wave = wave.unsqueeze(1)
        if wave.dim() != 3 or wave.shape[1] != 1:
            raise ValueError(f"TgramNet expects a waveform [B, N] or [B, 1, N], got {tuple(wave.shape)}")
        return self.conv_encoder(self.conv_extractor(wave))


class STgramNet(MachineIdClassifier):
    """STgramNet as in the course report: ``[log-mel, Tgram, 0]`` stacked as an image -> ResNet-18 -> head.

    Args:
        num_classes: number of machine ids.
        n_mels, win_length, hop_length: passed to :class:`TgramNet` (log-mel and Tgram must have the same
            ``[n_mels, n_frames]`` shape).
        pretrained_backbone: initialise the ResNet-18 with ImageNet weights (as the report did; warns and
            falls back to random weights when they cannot be had). The Tgram is always trained from scratch.
        head: ``"softmax"`` (``nn.Linear(512, num_classes)``) or ``"arcface"`` (Liu et al.: m=0.7, s=30).
        arcface_margin, arcface_scale: ArcFace's m and s.

    Shapes: ``forward(wave=[B, N], logmel=[B, 128, 313], labels=None) -> (logits [B, C], embedding [B, 512])``;
    ``stgram(wave, logmel) -> [B, 3, 128, 313]`` is the image the ResNet sees.

    Introduced in: notebooks/05_stgramnet.ipynb
    """

    required_inputs = ("wave", "logmel")

    def __init__(
        self,
        num_classes: int,
        n_mels: int = 128,
        win_length: int = 1024,
        hop_length: int = 512,
        pretrained_backbone: bool = False,
        head: str = "softmax",
        arcface_margin: float = 0.7,
        arcface_scale: float = 30.0,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.tgram = TgramNet(n_mels, win_length, hop_length)
        self.hop_length = hop_length  # waveform samples per frame: random crops cut waves and log-mels alike
        self.backbone = _backbone18(pretrained_backbone)
        self.embedding_dim = 512
        self.head = make_head(head, self.embedding_dim, num_classes, arcface_margin, arcface_scale)

    def stgram(self, wave: torch.Tensor, logmel: torch.Tensor) -> torch.Tensor:
        """Stack ``[log-mel, Tgram, zeros]`` channel-wise: ``-> [B, 3, n_mels, n_frames]``."""
        logmel = single_channel_map(logmel, "logmel")
        tgram = self.tgram(wave)
        if logmel.shape != tgram.shape:
            raise ValueError(f"log-mel {tuple(logmel.shape)} and Tgram {tuple(tgram.shape)} shapes differ; "
                             "use the same n_mels / hop_length / clip length for both")
        return torch.stack([logmel, tgram, torch.zeros_like(logmel)], dim=1)

    def embed_inputs(self, wave: torch.Tensor, logmel: torch.Tensor) -> torch.Tensor:
        """ResNet-18 embedding of the STgram image: ``[B, 512]``."""
        return self.backbone(self.stgram(wave, logmel))


class SepSTgramNet(MachineIdClassifier):
    """SepSTgramNet (course report): separate ResNet-18s for the log-mel and the Tgram, then two FC layers.

    ::

        log-mel [B,128,313] -> x3 channels -> ResNet-18 -> 512 --\\
                                                                 concat 1024 -> Linear(1024, hidden) -> ReLU -> head
        wave -> TgramNet -> [B,128,313] -> x3 -> ResNet-18 -> 512 --/

    Each one-channel map is replicated to 3 channels so that ImageNet weights fit unchanged.

    Args:
        num_classes: number of machine ids.
        hidden: width of the first fully connected layer (256).
        n_mels, win_length, hop_length: passed to :class:`TgramNet`.
        pretrained_backbone: ImageNet initialisation for both ResNet-18s (the report's choice; warns and
            falls back to random weights when unavailable).
        head, arcface_margin, arcface_scale: as :class:`STgramNet`; the head is the last FC layer.

    Shapes: ``forward(wave=[B, N], logmel=[B, 128, 313], labels=None) -> (logits [B, C], embedding [B, hidden])``,
    where the embedding is the input of the last layer (after the ReLU).

    Introduced in: notebooks/06_sepstgramnet.ipynb
    """

    required_inputs = ("wave", "logmel")

    def __init__(
        self,
        num_classes: int,
        hidden: int = 256,
        n_mels: int = 128,
        win_length: int = 1024,
        hop_length: int = 512,
        pretrained_backbone: bool = False,
        head: str = "softmax",
        arcface_margin: float = 0.7,
        arcface_scale: float = 30.0,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.tgram = TgramNet(n_mels, win_length, hop_length)
        self.hop_length = hop_length  # waveform samples per frame: random crops cut waves and log-mels alike
        self.spectral_backbone = _backbone18(pretrained_backbone)
        self.temporal_backbone = _backbone18(pretrained_backbone)
        self.fc1 = nn.Linear(2 * 512, hidden)
        self.relu = nn.ReLU(inplace=True)
        self.embedding_dim = hidden
        self.head = make_head(head, hidden, num_classes, arcface_margin, arcface_scale)

    def embed_inputs(self, wave: torch.Tensor, logmel: torch.Tensor) -> torch.Tensor:
        """``relu(fc1([spectral 512 | temporal 512]))``: ``[B, hidden]``."""
        logmel = single_channel_map(logmel, "logmel")
        spectral = self.spectral_backbone(three_channels(logmel))
        temporal = self.temporal_backbone(three_channels(self.tgram(wave)))
        return self.relu(self.fc1(torch.cat([spectral, temporal], dim=1)))


class ResNet50Baseline(MachineIdClassifier):
    """The report's baseline: log-mel x 3 channels -> frozen ImageNet ResNet-50 -> trainable head.

    Because the backbone is frozen (``freeze_backbone=True``: no gradients, BatchNorm kept in eval mode even
    when ``model.train()`` is called), its embeddings never change: compute them once with :meth:`embed`
    and train only :attr:`head` on them (``model.loss({"embedding": e, "label": y})``), which is far faster
    than running the ResNet-50 at every epoch.

    Args:
        num_classes: number of machine ids.
        pretrained: load ImageNet weights into the backbone (default True; warns and falls back to random
            weights when unavailable - a frozen random ResNet is still a usable, weaker, feature extractor).
        freeze_backbone: train only the head (the report's setting).
        head, arcface_margin, arcface_scale: ``"softmax"`` -> ``head = nn.Linear(2048, num_classes)``, or ArcFace.

    Shapes: ``embed(logmel [B, 128, T]) -> [B, 2048]``;
    ``forward(logmel=[B, 128, T], labels=None) -> (logits [B, C], embedding [B, 2048])`` (``wave`` is ignored).

    Introduced in: notebooks/04_resnet_baseline.ipynb
    """

    required_inputs = ("logmel",)

    def __init__(
        self,
        num_classes: int,
        pretrained: bool = True,
        freeze_backbone: bool = True,
        head: str = "softmax",
        arcface_margin: float = 0.7,
        arcface_scale: float = 30.0,
    ):
        super().__init__()
        self.num_classes = num_classes
        self.freeze_backbone = freeze_backbone
        self.backbone = resnet50(num_classes=1000, in_channels=3, pretrained=pretrained)
        self.backbone.fc = nn.Identity()
        self.embedding_dim = 2048
        if freeze_backbone:
            self.backbone.requires_grad_(False)
            self.backbone.eval()
        self.head = make_head(head, self.embedding_dim, num_classes, arcface_margin, arcface_scale)

    def train(self, mode: bool = True) -> "ResNet50Baseline":
        """Like ``nn.Module.train``, but a frozen backbone always stays in eval mode (fixed BatchNorm stats)."""
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        return self

    def embed(self, logmel: torch.Tensor) -> torch.Tensor:
        """Backbone features of a log-mel batch: ``[B, n_mels, T] -> [B, 2048]`` (no grad if frozen)."""
        x = three_channels(single_channel_map(logmel, "logmel"))
        if self.freeze_backbone:
            with torch.no_grad():
                return self.backbone(x)
        return self.backbone(x)

    def embed_inputs(self, wave: torch.Tensor | None, logmel: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`embed` (the waveform is not used)."""
        return self.embed(logmel)
