"""The log-mel front end: waveform -> STFT -> power -> mel filterbank -> 10*log10, batched, on CPU or GPU.

The parameters are the DCASE 2020 baseline's (``n_fft=1024, hop_length=512, n_mels=128, power=2.0``); a 10 s clip
at 16 kHz gives a ``[128, 313]`` log-mel image. The autoencoders see 5 consecutive frames stacked into one
640-d vector (309 vectors per clip). The STFT runs in ``torch.stft`` and the mel filterbank comes from
``librosa.filters.mel``, so the result equals ``librosa.feature.melspectrogram`` (to within 0.01 dB) while a whole
batch of clips is processed at once. ``log_mel_dataset`` caches the features of a file list on disk as float32, so
no notebook computes them twice (stacked frames are built on the fly).

Introduced in: notebooks/02_log_mel_features.ipynb
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .clip_rows import ClipRows
from .data import SAMPLE_RATE, clip_length, load_batch
from .utils import atomic_path, resolve_device, resolve_path

# The DCASE baseline adds this before the log so that silent bins stay finite.
LOG_EPSILON = sys.float_info.epsilon


@dataclass(frozen=True)
class LogMelParams:
    """Feature parameters, named as in the DCASE 2020 baseline's YAML.

    ``frames`` is how many consecutive log-mel frames the autoencoders stack into one input vector.
    """

    sr: int = SAMPLE_RATE
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    power: float = 2.0
    frames: int = 5

    def n_frames(self, n_samples: int) -> int:
        """Number of STFT frames for a clip of ``n_samples`` (centred frames): 313 for 10 s at 16 kHz."""
        return 1 + n_samples // self.hop_length


class LogMelFrontEnd(torch.nn.Module):
    """Batched log-mel spectrogram: ``[batch, n_samples]`` float waveforms -> ``[batch, n_mels, n_frames]`` in dB.

    Hann window, centred frames with zero padding, ``|STFT|**power``, librosa's Slaney mel filterbank,
    then ``20/power * log10(mel + eps)`` (``10*log10`` of the power for ``power=2``), as the DCASE baseline.
    Move it to a GPU with ``.to(device)``.
    """

    def __init__(self, params: LogMelParams = LogMelParams()):
        super().__init__()
        import librosa  # imported here: numba's first call is slow and not every user of the module needs it

        self.params = params
        mel = librosa.filters.mel(sr=params.sr, n_fft=params.n_fft, n_mels=params.n_mels)
        self.register_buffer("mel_basis", torch.from_numpy(mel.astype(np.float32)), persistent=False)
        self.register_buffer("window", torch.hann_window(params.n_fft, periodic=True), persistent=False)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        squeeze = waveforms.dim() == 1
        if squeeze:
            waveforms = waveforms.unsqueeze(0)
        p = self.params
        spec = torch.stft(waveforms.float(), n_fft=p.n_fft, hop_length=p.hop_length, window=self.window,
                          center=True, pad_mode="constant", return_complex=True)
        power = spec.real.square() + spec.imag.square()  # |X|^2 without the sqrt that abs() takes
        if p.power != 2.0:
            power = power.pow(p.power / 2.0)
        mel = torch.matmul(self.mel_basis, power)
        log_mel = (20.0 / p.power) * torch.log10(mel + LOG_EPSILON)
        return log_mel[0] if squeeze else log_mel


class LogMelRows(ClipRows):
    """The log-mels ``[N, n_mels, n_frames]`` of held waveform rows, computed when rows are read.

    The front end gives the same bits whatever the batch, so these are the values :func:`log_mel_dataset` caches,
    without a second copy of every clip in memory (at the real data's size the log-mels are half as big as the int16
    waveforms). Subsets share the waveforms, as :class:`asd_utils.clip_rows.ClipRows` do.
    """

    def __init__(self, waves: ClipRows, params: LogMelParams = LogMelParams(), front_end=None):
        super().__init__(waves.data, waves.index)
        self.params = params
        self.front_end = front_end if front_end is not None else LogMelFrontEnd(params)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), self.params.n_mels, self.params.n_frames(self.data.shape[1]))

    @property
    def ndim(self) -> int:
        return 3

    #: clips per front-end call: the STFT of one clip takes several times the memory of its log-mel
    CLIPS_PER_CALL = 16

    def _read(self, stored: np.ndarray) -> np.ndarray:
        if stored.ndim == 1:  # one clip
            return self._read(stored[None])[0]
        out = np.empty((len(stored),) + self.shape[1:], dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(stored), self.CLIPS_PER_CALL):
                waves = super()._read(stored[start:start + self.CLIPS_PER_CALL])
                out[start:start + len(waves)] = self.front_end(torch.from_numpy(np.ascontiguousarray(waves))).numpy()
        return out

    def rows_at(self, index: np.ndarray) -> "LogMelRows":
        return LogMelRows(ClipRows(self.data, index), self.params, self.front_end)

    def __repr__(self) -> str:
        return f"LogMelRows({self.shape}, from waveforms stored as {self.data.dtype})"


def mel_band_frequencies(n_mels: int = 128, sr: int = SAMPLE_RATE, fmin: float = 0.0,
                         fmax: float | None = None) -> np.ndarray:
    """Centre frequency in Hz of each band of librosa's (Slaney) mel filterbank, as used by the course front end.

    Introduced in: notebooks/02_log_mel_features.ipynb
    """
    import librosa

    return librosa.mel_frequencies(n_mels + 2, fmin=fmin, fmax=sr / 2 if fmax is None else fmax)[1:-1]


def log_mel(waveform: np.ndarray, params: LogMelParams = LogMelParams()) -> np.ndarray:
    """Log-mel of one clip or a batch, NumPy in and out: ``[n_samples]`` -> ``[n_mels, n_frames]`` (float32)."""
    with torch.no_grad():
        return LogMelFrontEnd(params)(torch.as_tensor(np.asarray(waveform, dtype=np.float32))).numpy()


def stack_frames(log_mels, frames: int = 5):
    """Stack ``frames`` consecutive frames into one vector, in the DCASE baseline's order.

    ``[..., n_mels, T]`` -> ``[..., T - frames + 1, n_mels * frames]``; vector ``t`` is
    ``concat(log_mel[:, t], log_mel[:, t + 1], ..., log_mel[:, t + frames - 1])``. A 10 s clip gives 309 vectors of 640.
    Works on NumPy arrays and torch tensors. The result is a copy (the frames axis is not the last one), so stack a
    batch at a time (:class:`asd_utils.training.StackedFrames`), never a whole dataset.
    """
    if isinstance(log_mels, torch.Tensor):
        windows = log_mels.unfold(-1, frames, 1)              # [..., n_mels, T', frames]
        return windows.transpose(-3, -2).transpose(-2, -1).reshape(*log_mels.shape[:-2], -1, log_mels.shape[-2] * frames)
    windows = np.lib.stride_tricks.sliding_window_view(log_mels, frames, axis=-1)  # [..., n_mels, T', frames]
    windows = np.swapaxes(np.swapaxes(windows, -3, -2), -2, -1)                       # [..., T', frames, n_mels]
    return windows.reshape(*log_mels.shape[:-2], -1, log_mels.shape[-2] * frames)


def _cache_key(paths: list[str], params: LogMelParams, channel: int | None) -> str:
    files = []
    for path in paths:
        stat = os.stat(path)
        files.append([str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns])
    blob = json.dumps({"params": asdict(params), "channel": channel, "files": files}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def log_mel_dataset(paths, params: LogMelParams = LogMelParams(), cache_dir: str | Path | None = "data/cache",
                    device: str = "auto", batch_size: int = 32, channel: int | None = None,
                    progress: bool = False) -> np.ndarray:
    """Log-mels of many clips as one float32 array ``[n_clips, n_mels, n_frames]``, cached on disk.

    The cache file's name is a hash of the file list (path, size, modification time), the parameters and the
    channel, so changing any of them recomputes and nothing stale is ever returned. ``cache_dir=None`` disables
    caching. Clips are read and transformed in batches of ``batch_size`` on ``device``.
    """
    paths = [str(p) for p in paths]
    cache_file = None
    if cache_dir is not None and paths:
        cache_file = resolve_path(cache_dir) / f"logmel_{_cache_key(paths, params, channel)}.npy"
        if cache_file.is_file():
            return np.load(cache_file)
    n_samples = clip_length(paths, params.sr)  # all clips checked first: the odd one is named, whatever sorts first
    front_end = LogMelFrontEnd(params).to(resolve_device(device))
    batches = range(0, len(paths), batch_size)
    if progress:
        from tqdm.auto import tqdm
        batches = tqdm(batches, desc="log-mel", unit="batch")
    out = None
    with torch.no_grad():
        for start in batches:
            waves = load_batch(paths[start:start + batch_size], sr=params.sr, channel=channel, n_samples=n_samples)
            feats = front_end(torch.from_numpy(waves).to(front_end.mel_basis.device)).cpu().numpy()
            if out is None:
                out = np.empty((len(paths), *feats.shape[1:]), dtype=np.float32)
            out[start:start + len(feats)] = feats
    if out is None:
        out = np.zeros((0, params.n_mels, 0), dtype=np.float32)
    if cache_file is not None:
        with atomic_path(cache_file) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, out)
    return out
