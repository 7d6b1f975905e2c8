"""Dense autoencoders: the DCASE 2020 baseline and the variational "Baseline" family of the course report.

The idea
--------
An autoencoder is trained to copy its input to its output through a narrow *bottleneck*. Trained on
normal sounds only, it learns to reconstruct what normal sounds look like; an anomalous clip is
reconstructed worse, so the **reconstruction error is the anomaly score**.

The input is not a whole spectrogram but one *context vector*: 5 consecutive log-mel frames of 128 bands
stacked into 5 x 128 = 640 numbers (``asd_utils.features.stack_frames``). A 10 s clip gives 313 - 5 + 1 = 309
such vectors; the clip score is the mean of their errors.

Models in this file
-------------------
* :class:`DcaseBaselineAE` - the official DCASE 2020 Task 2 baseline (called the "Sequential model" in the
  course report): nine Dense-BatchNorm-ReLU blocks 640-128-128-128-128-8-128-128-128-128 and a linear
  output layer back to 640. 267,928 trainable parameters.
* :class:`VAE` - the report's "Baseline": 640-400-400, a 20-d Gaussian latent (mean and log-variance
  heads), 400-400-640. Flags give the report's variants: ``batch_norm=True`` ("+BatchNorm") and
  ``dropout=0.2`` ("+Dropout", which keeps the BatchNorm).

One interface for the training loop
-----------------------------------
Every autoencoder here derives from :class:`Autoencoder` and offers

* ``model.loss(batch) -> scalar tensor`` - the training objective on a batch of context vectors, and
* ``model.reconstruction_error(x) -> [B]`` - the mean squared error of each vector, computed in eval mode
  without gradients and deterministically (the VAE decodes its mean ``z = mu``, no sampling).

so ``asd_utils.training`` and ``asd_utils.scoring`` never need to know which autoencoder they hold.

Introduced in: notebooks/03_autoencoder_baselines.ipynb
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Autoencoder", "PlainAutoencoder", "as_autoencoder", "DcaseBaselineAE", "VAE", "DEFAULT_KL_WEIGHT", "vae_loss", "kl_divergence", "layer_sizes",
]

#: Default weight of the KL term in :func:`vae_loss`; see that function for the derivation.
DEFAULT_KL_WEIGHT = 1e-3


def _as_input(batch) -> torch.Tensor:
    """The feature tensor inside a batch: a tensor, the first item of a (x, ...) tuple/list, or ``batch["x"]``."""
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, dict):
        return batch["x"]
    if isinstance(batch, (tuple, list)):
        return batch[0]
    raise TypeError(f"expected a tensor, a (x, ...) tuple or a dict with key 'x', got {type(batch).__name__}")


class Autoencoder(nn.Module):
    """Base class: the shared ``loss`` / ``reconstruction_error`` interface of the dense autoencoders.

    A subclass needs only ``forward(x [B, D]) -> reconstruction [B, D]``: by default ``reconstruct`` is ``forward``
    and ``loss`` is the MSE between the two. Models whose forward returns more (the VAE) override ``reconstruct``
    (the deterministic reconstruction used for scoring) and ``loss``.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction used for scoring: ``forward(x)`` unless a subclass says otherwise."""
        return self(x)

    def loss(self, batch) -> torch.Tensor:
        """Mean squared reconstruction error over all elements of the batch (a scalar)."""
        x = _as_input(batch)
        return F.mse_loss(self.reconstruct(x), x)

    @torch.no_grad()
    def reconstruction_error(self, x: torch.Tensor) -> torch.Tensor:
        """Mean squared error of each input vector: ``[..., D] -> [...]`` (``[B, 640] -> [B]``).

        Runs in eval mode (BatchNorm uses its running statistics, dropout is off, the VAE decodes
        ``z = mu``) without gradients, so the same input always gives the same score. The module's
        train/eval mode is restored afterwards. Leading dimensions are kept, so a clip's stacked frames
        ``[n_vectors, 640]`` or a batch of clips ``[B, n_vectors, 640]`` can be passed directly.

        Introduced in: notebooks/03_autoencoder_baselines.ipynb
        """
        was_training = self.training
        self.eval()
        try:
            flat = x.reshape(-1, x.shape[-1])
            err = ((self.reconstruct(flat) - flat) ** 2).mean(dim=-1)
        finally:
            self.train(was_training)
        return err.reshape(x.shape[:-1])


class DcaseBaselineAE(Autoencoder):
    """The DCASE 2020 Task 2 baseline autoencoder (the report's "Sequential model").

    Architecture (``input_dim=640, hidden=128, bottleneck=8``)::

        640 -> 128 -> 128 -> 128 -> 128 -> 8 -> 128 -> 128 -> 128 -> 128 -> 640
              \\________ 9 x (Linear - BatchNorm1d - ReLU) _________/   Linear (no BN, no ReLU)

    With the default sizes it has exactly 267,928 trainable parameters. Change ``bottleneck`` to see how
    a wider or narrower code changes what the model can reconstruct.

    Args:
        input_dim: length of a context vector (``frames * n_mels`` = 5 * 128 = 640).
        hidden: width of the eight hidden layers.
        bottleneck: width of the code layer.
        n_hidden: number of hidden layers on each side of the bottleneck (4 in the baseline).

    Shapes:
        ``forward(x [B, input_dim]) -> reconstruction [B, input_dim]``. The training loss is the MSE.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """

    def __init__(self, input_dim: int = 640, hidden: int = 128, bottleneck: int = 8, n_hidden: int = 4):
        super().__init__()
        self.input_dim = input_dim
        widths = [input_dim] + [hidden] * n_hidden + [bottleneck] + [hidden] * n_hidden
        blocks = []
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            blocks += [nn.Linear(w_in, w_out), nn.BatchNorm1d(w_out), nn.ReLU()]
        self.encoder = nn.Sequential(*blocks[: 3 * (n_hidden + 1)])
        self.decoder = nn.Sequential(*blocks[3 * (n_hidden + 1):], nn.Linear(hidden, input_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct ``x [B, input_dim]`` -> ``[B, input_dim]``."""
        return self.decoder(self.encoder(x))


class PlainAutoencoder(Autoencoder):
    """Any ``nn.Module`` that maps ``[B, D]`` to ``[B, D]``, given the autoencoder interface (MSE loss, scoring).

    :func:`as_autoencoder` wraps a student's own module with it, so that the course's training loop and scoring
    functions take it unchanged. ``module`` stays reachable as ``.module``.
    """

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def as_autoencoder(model: nn.Module) -> nn.Module:
    """``model`` itself if it has the autoencoder interface (``loss`` and ``reconstruction_error``), else wrapped in
    :class:`PlainAutoencoder` (its forward must map ``[B, D]`` to a reconstruction ``[B, D]``).
    """
    if hasattr(model, "loss") and hasattr(model, "reconstruction_error"):
        return model
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(model).__name__}")
    return PlainAutoencoder(model)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(logvar)) || N(0, I) ), summed over latent dims and averaged over the batch (a scalar).

    Per example: ``-0.5 * sum_j (1 + logvar_j - mu_j**2 - exp(logvar_j))``; ``mu, logvar`` are ``[B, latent]``.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=-1)).mean()


def vae_loss(
    recon: torch.Tensor,
    x: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    kl_weight: float = DEFAULT_KL_WEIGHT,
) -> torch.Tensor:
    """VAE training objective: ``MSE(recon, x) + kl_weight * KL``.

    * ``MSE`` is the mean over ALL elements (batch x 640), like the autoencoder loss, so the two families'
      reconstruction terms are on the same scale.
    * ``KL`` is :func:`kl_divergence`: summed over the 20 latent dimensions, averaged over the batch.

    Why ``kl_weight = 1e-3`` by default: the proper evidence lower bound with a Gaussian decoder of variance
    ``sigma**2`` is, per example, ``sum_d (x_d - recon_d)**2 / (2 sigma**2) + KL``. Dividing by
    ``D / (2 sigma**2)`` (D = 640) gives ``MSE + (2 sigma**2 / D) * KL``, so a weight ``w`` corresponds to
    ``sigma**2 = w * D / 2``; ``w = 1e-3`` means ``sigma**2 = 0.32``, i.e. a decoder that promises to explain
    about two thirds of the variance of standardised log-mel features. Reconstruction dominates (we score with
    the reconstruction error), while the KL term still keeps the latent codes near N(0, I). ``kl_weight=0``
    turns the model into a plain (deterministic at eval time) autoencoder with a noisy code during training.

    Args:
        recon, x: ``[B, D]``; mu, logvar: ``[B, latent]``.

    Returns:
        A scalar tensor.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """
    return F.mse_loss(recon, x) + kl_weight * kl_divergence(mu, logvar)


def _maybe(layer: nn.Module | None, h: torch.Tensor) -> torch.Tensor:
    """Apply ``layer`` to ``h`` unless it is switched off (None)."""
    return h if layer is None else layer(h)


class VAE(Autoencoder):
    """The course report's "Baseline" variational autoencoder and its "+BatchNorm" / "+Dropout" variants.

    Architecture (defaults)::

        encoder: Linear 640->400 (256,400) -> Linear 400->400 (160,400)
        latent:  Linear 400->20 = mu (8,020),  Linear 400->20 = logvar (8,020)
        decoder: Linear 20->400 (8,400) -> Linear 400->400 (160,400) -> Linear 400->640 (256,640)

    ReLU after every hidden layer (applied functionally, so parameter tables list the same layers as the
    report). With ``batch_norm=True`` a ``BatchNorm1d`` (800 parameters) follows each of the four hidden
    Linear layers, before the ReLU. With ``dropout=p > 0`` (BatchNorm is switched on as well, as in the
    report) a ``Dropout(p)`` follows the first hidden layer of the encoder and of the decoder, after its
    ReLU. Report names: ``VAE()`` = "Baseline", ``VAE(batch_norm=True)`` = "Baseline + BatchNorm",
    ``VAE(dropout=0.2)`` = "Baseline + Dropout".

    During training ``z = mu + exp(logvar / 2) * eps`` (the reparameterisation trick); in eval mode
    ``z = mu``, so scoring is deterministic.

    Args:
        input_dim: context-vector length (640).
        hidden: width of the hidden layers (400).
        latent_dim: size of the Gaussian code (20).
        batch_norm: add BatchNorm1d after the hidden Linear layers.
        dropout: dropout probability after the first hidden layer of encoder and decoder (0 = none).
            A positive value implies ``batch_norm=True``.
        kl_weight: weight of the KL term in :meth:`loss` (see :func:`vae_loss`).

    Shapes:
        ``forward(x [B, 640]) -> (recon [B, 640], mu [B, 20], logvar [B, 20])``.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """

    def __init__(
        self,
        input_dim: int = 640,
        hidden: int = 400,
        latent_dim: int = 20,
        batch_norm: bool = False,
        dropout: float = 0.0,
        kl_weight: float = DEFAULT_KL_WEIGHT,
    ):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        batch_norm = batch_norm or dropout > 0
        self.input_dim, self.latent_dim, self.kl_weight = input_dim, latent_dim, kl_weight
        # Optional layers are None when switched off (not nn.Identity), so parameter tables list only real
        # layers. Attributes are created in forward order so that print(model) reads top to bottom.
        self.enc1 = nn.Linear(input_dim, hidden)
        self.enc1_bn = nn.BatchNorm1d(hidden) if batch_norm else None
        self.enc1_drop = nn.Dropout(dropout) if dropout > 0 else None
        self.enc2 = nn.Linear(hidden, hidden)
        self.enc2_bn = nn.BatchNorm1d(hidden) if batch_norm else None
        self.fc_mu = nn.Linear(hidden, latent_dim)
        self.fc_logvar = nn.Linear(hidden, latent_dim)
        self.dec1 = nn.Linear(latent_dim, hidden)
        self.dec1_bn = nn.BatchNorm1d(hidden) if batch_norm else None
        self.dec1_drop = nn.Dropout(dropout) if dropout > 0 else None
        self.dec2 = nn.Linear(hidden, hidden)
        self.dec2_bn = nn.BatchNorm1d(hidden) if batch_norm else None
        self.out = nn.Linear(hidden, input_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, 640] -> (mu [B, 20], logvar [B, 20])``."""
        h = _maybe(self.enc1_drop, F.relu(_maybe(self.enc1_bn, self.enc1(x))))
        h = F.relu(_maybe(self.enc2_bn, self.enc2(h)))
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z [B, 20] -> recon [B, 640]`` (linear output layer)."""
        h = _maybe(self.dec1_drop, F.relu(_maybe(self.dec1_bn, self.dec1(z))))
        h = F.relu(_maybe(self.dec2_bn, self.dec2(h)))
        return self.out(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x [B, 640] -> (recon [B, 640], mu [B, 20], logvar [B, 20])``; samples z only in training mode."""
        mu, logvar = self.encode(x)
        if self.training:
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        else:
            z = mu
        return self.decode(z), mu, logvar

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic reconstruction ``decode(mu)`` (whatever the train/eval mode of BatchNorm/Dropout)."""
        mu, _ = self.encode(x)
        return self.decode(mu)

    def loss(self, batch) -> torch.Tensor:
        """:func:`vae_loss` with ``self.kl_weight`` on a batch of context vectors (a scalar)."""
        x = _as_input(batch)
        recon, mu, logvar = self(x)
        return vae_loss(recon, x, mu, logvar, self.kl_weight)


def layer_sizes(model: nn.Module) -> Sequence[tuple[str, int]]:
    """``[(name, n_params), ...]`` for every Linear / BatchNorm layer, in definition order (for quick checks)."""
    return [
        (name, sum(p.numel() for p in m.parameters()))
        for name, m in model.named_modules()
        if isinstance(m, (nn.Linear, nn.BatchNorm1d))
    ]
