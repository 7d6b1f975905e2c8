"""ResNet-18 and ResNet-50 in plain PyTorch, with torchvision's layer names.

Why write our own ResNet? The course must run where ``torchvision`` is missing or broken, yet we want to use
the ImageNet weights that torchvision publishes. Those weights are just a ``state_dict``: a mapping from
parameter *names* (``layer2.0.downsample.1.running_mean``) to tensors. If our modules carry exactly the same
names and shapes, the weights load unchanged. So this file mirrors torchvision's structure::

    conv1 (7x7, stride 2) - bn1 - relu - maxpool (3x3, stride 2)
    layer1 .. layer4        stages of residual blocks; the first block of layer2..4 halves the resolution
    avgpool                 global average pooling -> one vector per image (the *embedding*)
    fc                      linear classifier (1000 ImageNet classes by default)

A residual block computes ``relu(x + F(x))``: the convolutions only learn a *correction* to the identity,
which is what lets very deep networks train. Two block types:

* :class:`BasicBlock` (ResNet-18/34): two 3x3 convolutions (``conv1, bn1, conv2, bn2``).
* :class:`Bottleneck` (ResNet-50+): 1x1 (reduce width) - 3x3 - 1x1 (expand x4) (``conv1..conv3, bn1..bn3``).

When a block changes resolution or width, the shortcut ``x`` is projected by ``downsample`` (a 1x1
convolution ``downsample.0`` and a BatchNorm ``downsample.1``).

Spectrograms are images with one channel, not three: ``in_channels`` adapts ``conv1``. When ImageNet
weights are loaded into a network with ``in_channels != 3``, each new input channel gets the RGB filters'
sum divided by ``in_channels``, so that an input whose channels are all the same grey image gives exactly
the response the RGB network gives to that grey image.

Pretrained weights (``pretrained=True``) are taken, in this order, from torchvision (if it imports) or from
the torch hub cache / download URL of the same file; if both fail (offline, no torchvision) a warning says
so and the network keeps its random initialisation.

Introduced in: notebooks/04_resnet_baseline.ipynb
"""
from __future__ import annotations

import socket
import warnings
from typing import Type

import torch
from torch import nn

__all__ = [
    "BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet50", "load_imagenet_weights", "IMAGENET_URLS",
]

#: torchvision's IMAGENET1K_V1 weight files (the hash prefix in the name is checked after download).
IMAGENET_URLS = {
    "resnet18": "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet50": "https://download.pytorch.org/models/resnet50-0676ba61.pth",
}
_TORCHVISION_WEIGHTS = {"resnet18": "ResNet18_Weights", "resnet50": "ResNet50_Weights"}


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34): ``[B, in, H, W] -> [B, planes, H/s, W/s]``."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 - 3x3 - 1x1 residual block (ResNet-50+): ``[B, in, H, W] -> [B, 4*planes, H/s, W/s]``.

    The stride sits on the 3x3 convolution (torchvision's "ResNet v1.5").

    Introduced in: notebooks/04_resnet_baseline.ipynb
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = _conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A ResNet with torchvision-compatible parameter names.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: number of blocks per stage, ``[2, 2, 2, 2]`` for ResNet-18, ``[3, 4, 6, 3]`` for ResNet-50.
        num_classes: outputs of ``fc``.
        in_channels: input channels of ``conv1`` (3 for RGB, 1 for a bare spectrogram).

    Shapes:
        ``forward(x [B, in_channels, H, W]) -> logits [B, num_classes]``;
        ``forward_features(x) -> embedding [B, embedding_dim]`` (512 for ResNet-18, 2048 for ResNet-50),
        the globally pooled features that ``fc`` classifies. Any H, W >= 32 work
        (a 128 x 313 log-mel gives a 4 x 10 map before pooling).

    Introduced in: notebooks/04_resnet_baseline.ipynb
    """

    def __init__(
        self,
        block: Type[BasicBlock] | Type[Bottleneck],
        layers: list[int],
        num_classes: int = 1000,
        in_channels: int = 3,
    ):
        super().__init__()
        self.in_channels = in_channels
        self.imagenet_weights_loaded = False  # set by load_imagenet_weights
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.embedding_dim = 512 * block.expansion
        self.fc = nn.Linear(self.embedding_dim, num_classes)

        # He initialisation for convolutions, BatchNorm starts as the identity (torchvision's defaults).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(self, block, planes: int, n_blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                _conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion),
            )
        blocks = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        blocks += [block(self.inplanes, planes) for _ in range(1, n_blocks)]
        return nn.Sequential(*blocks)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding before ``fc``: ``[B, in_channels, H, W] -> [B, embedding_dim]``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: ``[B, in_channels, H, W] -> [B, num_classes]``."""
        return self.fc(self.forward_features(x))


def _download_imagenet_state_dict(arch: str) -> tuple[dict | None, list[str]]:
    """ImageNet state dict for ``arch`` via torchvision, else via torch.hub; returns (state_dict or None, errors)."""
    errors = []
    try:
        import torchvision  # noqa: F401  (optional dependency)

        weights = getattr(torchvision.models, _TORCHVISION_WEIGHTS[arch]).IMAGENET1K_V1
        return weights.get_state_dict(progress=False), errors
    except Exception as exc:  # ImportError, broken install, offline, ...
        errors.append(f"torchvision: {type(exc).__name__}: {exc}")
    old_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)  # an unreachable server must not hang a notebook forever
    try:
        sd = torch.hub.load_state_dict_from_url(IMAGENET_URLS[arch], progress=False, check_hash=True,
                                                map_location="cpu")
        return sd, errors
    except Exception as exc:
        errors.append(f"torch.hub ({IMAGENET_URLS[arch]}): {type(exc).__name__}: {exc}")
    finally:
        socket.setdefaulttimeout(old_timeout)
    return None, errors


def load_imagenet_weights(model: ResNet, arch: str) -> bool:
    """Load torchvision's ImageNet (IMAGENET1K_V1) weights into ``model``; return True on success (and set
    ``model.imagenet_weights_loaded``).

    * ``conv1`` is adapted when ``model.in_channels != 3``: every input channel gets
      ``rgb_filters.sum(dim=1) / in_channels`` (grey-image equivalent, see the module docstring).
    * ``fc`` is loaded only if the model has 1000 classes; otherwise it keeps its random initialisation.
    * If no weights can be obtained, a ``UserWarning`` explains why and the model is left untouched
      (random initialisation): training still works, results are just worse than with ImageNet weights.

    Args:
        model: a :class:`ResNet` built by :func:`resnet18` / :func:`resnet50`.
        arch: ``"resnet18"`` or ``"resnet50"``.
    """
    if arch not in IMAGENET_URLS:
        raise ValueError(f"no ImageNet weights known for arch={arch!r}; expected one of {sorted(IMAGENET_URLS)}")
    state_dict, errors = _download_imagenet_state_dict(arch)
    if state_dict is None:
        warnings.warn(
            f"{arch}: ImageNet weights are not available (" + "; ".join(errors) + "). "
            "Falling back to RANDOM initialisation. To use pretrained weights, install torchvision or put "
            f"{IMAGENET_URLS[arch].rsplit('/', 1)[-1]} in {torch.hub.get_dir()}/checkpoints/.",
            UserWarning,
            stacklevel=3,
        )
        return False
    state_dict = dict(state_dict)
    w = state_dict["conv1.weight"]  # [64, 3, 7, 7]
    if model.in_channels != 3:
        state_dict["conv1.weight"] = (w.sum(dim=1, keepdim=True) / model.in_channels).repeat(
            1, model.in_channels, 1, 1
        )
    if model.fc.out_features != state_dict["fc.weight"].shape[0]:
        del state_dict["fc.weight"], state_dict["fc.bias"]
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    if unexpected or any(not k.startswith("fc.") for k in missing):
        raise RuntimeError(f"{arch}: ImageNet state dict does not match: missing={missing}, unexpected={unexpected}")
    model.imagenet_weights_loaded = True
    return True


def resnet18(num_classes: int = 1000, in_channels: int = 3, pretrained: bool = False) -> ResNet:
    """ResNet-18 (11,689,512 parameters with 1000 classes and 3 input channels; 512-d embedding).

    Args:
        num_classes: outputs of ``fc``.
        in_channels: input channels (``conv1`` adapted; ImageNet filters averaged, see :func:`load_imagenet_weights`).
        pretrained: try to load ImageNet weights; warns and keeps random weights when impossible.
    """
    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes, in_channels=in_channels)
    if pretrained:
        load_imagenet_weights(model, "resnet18")
    return model


def resnet50(num_classes: int = 1000, in_channels: int = 3, pretrained: bool = False) -> ResNet:
    """ResNet-50 (25,557,032 parameters with 1000 classes and 3 input channels; 2048-d embedding).

    Args: as :func:`resnet18`.

    Introduced in: notebooks/07_results_and_submission.ipynb
    """
    model = ResNet(Bottleneck, [3, 4, 6, 3], num_classes=num_classes, in_channels=in_channels)
    if pretrained:
        load_imagenet_weights(model, "resnet50")
    return model
