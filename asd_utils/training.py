"""One training loop for every model family of the course, and the batch sources it draws from.

The loop is deliberately plain: Adam, mini-batches drawn in a seeded random order, a loss function supplied by the
caller (MSE for the autoencoders, MSE + KL for the VAEs, cross-entropy or ArcFace for the id classifiers), an optional
validation split, a tqdm bar showing the running loss, and a history of per-epoch losses. It runs on CPU or GPU.

Batch sources only need ``len(source)`` and ``source.batch(indices) -> tuple of tensors``:

* :class:`StackedFrames` serves 640-d autoencoder vectors straight from the cached ``[clips, 128, 313]`` log-mels,
  building the 5-frame windows per batch, so the 309x larger stacked array never exists in memory.
* :class:`TensorBatches` serves rows of any tensors (waveforms, log-mels, labels, embeddings).
* :class:`RandomCrops` serves a random stretch of each clip (log-mel frames and the waveform under them), a new one
  each time the clip is drawn: many more distinct training items from the same clips, at a fraction of the cost.

Introduced in: notebooks/03_autoencoder_baselines.ipynb
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .devices import model_on, to_device
from .recipes import TrainingRecipe
from .utils import progress_bars_wanted


class StackedFrames:
    """Autoencoder training vectors: item ``k`` is the ``k``-th 5-frame window of the log-mels, flattened.

    ``log_mels`` is ``[n_clips, n_mels, n_frames]``; items number ``n_clips * (n_frames - frames + 1)``; a batch is
    ``([batch, n_mels * frames],)`` in the DCASE baseline's order (see :func:`asd_utils.features.stack_frames`).
    ``mean``/``std`` (per mel bin, e.g. from the training clips) standardise the features as one of the reports does.
    """

    def __init__(self, log_mels, frames: int = 5, mean=None, std=None):
        self.log_mels = torch.as_tensor(np.asarray(log_mels, dtype=np.float32))
        if mean is not None:
            mean = torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1)
            std = torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1)
            self.log_mels = (self.log_mels - mean) / std
        self.frames = frames
        self.vectors_per_clip = self.log_mels.shape[-1] - frames + 1
        if self.vectors_per_clip < 1:
            raise ValueError(f"clips have {self.log_mels.shape[-1]} frames, fewer than frames={frames}")
        self._offsets = torch.arange(frames)

    def __len__(self) -> int:
        return self.log_mels.shape[0] * self.vectors_per_clip

    def batch(self, indices: torch.Tensor) -> tuple[torch.Tensor]:
        clip = indices // self.vectors_per_clip
        start = indices % self.vectors_per_clip
        windows = self.log_mels[clip[:, None], :, start[:, None] + self._offsets]  # [batch, frames, n_mels]
        return (windows.reshape(len(indices), -1),)


def _as_rows(values):
    """Arrays become tensors (no copy); anything else that hands out rows by index (``ClipRows``,
    ``StandardisedRows``: the clips are read a batch at a time) is kept as it is."""
    return torch.as_tensor(values) if isinstance(values, (np.ndarray, torch.Tensor, list)) else values


def _rows(values, indices: torch.Tensor) -> torch.Tensor:
    return values[indices] if isinstance(values, torch.Tensor) else torch.as_tensor(values[indices.numpy()])


class TensorBatches:
    """Rows of several equally long tensors (or arrays, or row readers such as ``ClipRows``):
    ``batch(idx) -> (t1[idx], t2[idx], ...)``."""

    def __init__(self, *tensors):
        self.tensors = [_as_rows(t) for t in tensors]
        lengths = {len(t) for t in self.tensors}
        if len(lengths) != 1:
            raise ValueError(f"tensors of different lengths {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.tensors[0])

    def batch(self, indices: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(_rows(t, indices) for t in self.tensors)


class RandomCrops:
    """Random crops of ``frames`` log-mel frames: ``batch(idx) -> ([wave crops,] log-mel crops, labels)``.

    ``logmels [N, n_mels, T]``; ``waves [N, n_samples]`` (or None) are cut to the ``(frames - 1) * hop`` samples whose
    centred STFT frames are the log-mel crop (frame ``t`` is centred on sample ``t * hop``). The crop positions
    come from a generator seeded with ``seed``, so a run is repeatable.
    """

    def __init__(self, waves, logmels, labels, frames: int, hop: int, seed: int = 0):
        self.logmels = _as_rows(logmels)
        self.waves = None if waves is None else _as_rows(waves)
        self.labels = torch.as_tensor(labels)
        self.frames, self.hop = int(frames), int(hop)
        if not 1 <= self.frames <= self.logmels.shape[-1]:
            raise ValueError(f"crop of {frames} frames does not fit clips of {self.logmels.shape[-1]} frames")
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, indices: torch.Tensor) -> tuple[torch.Tensor, ...]:
        starts = torch.randint(0, self.logmels.shape[-1] - self.frames + 1, (len(indices),), generator=self.generator)
        clips = _rows(self.logmels, indices)  # the whole clips of the batch, then one crop of each
        logmel = torch.stack([clips[j, :, s:s + self.frames] for j, s in enumerate(starts.tolist())])
        if self.waves is None:
            return logmel, self.labels[indices]
        n = (self.frames - 1) * self.hop
        waves = _rows(self.waves, indices)
        wave = torch.stack([waves[j, s * self.hop:s * self.hop + n] for j, s in enumerate(starts.tolist())])
        return wave, logmel, self.labels[indices]


@dataclass
class TrainingHistory:
    """Per-epoch mean losses (``val_loss`` empty without a validation split), what ``on_epoch`` returned after each
    epoch (``epoch_metrics``), and the wall time in seconds."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    epoch_metrics: list[dict] = field(default_factory=list)
    seconds: float = 0.0


def _mean_loss(model, source, indices, loss_fn, batch_size, device) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            idx = indices[start:start + batch_size]
            batch = tuple(to_device(t, device) for t in source.batch(idx))
            total += float(loss_fn(model, batch)) * len(idx)
            count += len(idx)
    return total / max(count, 1)


def fit(model: torch.nn.Module, source, loss_fn: Callable[[torch.nn.Module, tuple], torch.Tensor],
        recipe: TrainingRecipe, *, val_fraction: float = 0.0, device: str | torch.device = "auto", seed: int = 0,
        progress: bool = True, parameters=None, desc: str = "training",
        on_epoch: Callable[[torch.nn.Module, int], dict] | None = None) -> TrainingHistory:
    """Train ``model`` with Adam on batches of ``source`` as ``recipe`` says (:class:`asd_utils.recipes.TrainingRecipe`:
    epochs, batch size, learning rate, cosine decay); return the :class:`TrainingHistory`.

    ``loss_fn(model, batch)`` returns a scalar loss for one batch (a tuple of tensors already on ``device``).
    ``val_fraction`` holds out that share of the items (chosen with ``seed``) and reports their loss each epoch.
    ``parameters`` restricts the optimiser to some parameters (e.g. only a classifier's head).
    ``recipe.cosine_decay`` lowers the learning rate along a half cosine from ``recipe.learning_rate`` to 0 over all
    steps: large steps while far from a solution, small ones at the end, so a short run settles instead of stopping
    mid-swing. ``on_epoch(model, epoch)`` runs after each epoch (e.g. a held-out accuracy); its dicts are kept in
    ``history.epoch_metrics``.
    The batch order depends only on ``seed``, so a run is repeatable on the same hardware.
    """
    epochs, batch_size = recipe.epochs, recipe.batch_size
    with model_on(model, device) as device:  # back where it was afterwards (asd_utils.devices)
        generator = torch.Generator().manual_seed(seed)
        order = torch.randperm(len(source), generator=generator)
        n_val = int(round(val_fraction * len(source)))
        val_idx, train_idx = order[:n_val], order[n_val:]
        if len(train_idx) == 0:
            raise ValueError("no training items left after the validation split")
        params = [p for p in (parameters if parameters is not None else model.parameters()) if p.requires_grad]
        optimiser = torch.optim.Adam(params, lr=recipe.learning_rate)
        history = TrainingHistory()
        n_batches = (len(train_idx) + batch_size - 1) // batch_size
        scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(epochs * n_batches, 1))
                     if recipe.cosine_decay else None)
        bar = None
        if progress and progress_bars_wanted():
            from tqdm.auto import tqdm
            bar = tqdm(total=epochs * n_batches, desc=desc, unit="batch")
        started = time.perf_counter()
        for epoch in range(epochs):
            model.train()
            shuffled = train_idx[torch.randperm(len(train_idx), generator=generator)]
            # the running loss stays on the device: reading it every step would wait for the GPU each time
            running, seen = 0.0, 0
            total_dtype = torch.float32 if device.type == "mps" else torch.float64  # (MPS has no float64)
            for start in range(0, len(shuffled), batch_size):
                idx = shuffled[start:start + batch_size]
                batch = tuple(to_device(t, device) for t in source.batch(idx))
                loss = loss_fn(model, batch)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                if scheduler is not None:
                    scheduler.step()
                running = running + loss.detach().to(total_dtype) * len(idx)
                seen += len(idx)
                if bar is not None:
                    bar.update(1)
            history.train_loss.append(float(running) / seen)
            if bar is not None:
                bar.set_postfix(epoch=epoch + 1, loss=f"{history.train_loss[-1]:.4f}")
            if n_val:
                history.val_loss.append(_mean_loss(model, source, val_idx, loss_fn, batch_size, device))
            if on_epoch is not None:
                history.epoch_metrics.append(on_epoch(model, epoch))
                model.train()
        if bar is not None:
            bar.close()
        model.eval()
        history.seconds = time.perf_counter() - started
    return history

