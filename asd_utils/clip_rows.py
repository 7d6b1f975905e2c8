"""Clip arrays that share memory: a subset of clips is a list of row numbers into one stored array, not a copy.

The classifiers keep every training and test clip in memory (waveforms and log-mels). On the real data's size
(about 5,800 clips) copies add up quickly: the training clips are a subset of the reference clips, the held-out
clips another one, and a float32 copy of 10 s of 16 kHz audio is 0.64 MB. :class:`ClipRows` stores the clips once
(waveforms as the 16-bit integers the WAV files hold, half the size of float32, and exactly the same values once
divided by 32768) and hands out float32 rows on demand: ``rows[i]``, ``rows[a:b]``, ``rows[[3, 5]]``. Anything that
needs the whole array at once (``np.asarray(rows)``, ``rows.mean()``) gets a temporary float32 copy.
"""
from __future__ import annotations

import numpy as np

#: scale of 16-bit PCM: a sample s is s / 32768 in [-1, 1), as soundfile reads it
PCM16_SCALE = 32768.0


class ClipRows(np.lib.mixins.NDArrayOperatorsMixin):
    """Rows ``index`` of a stored array ``data [N, ...]`` (int16 PCM or float32), read as float32.

    ``len(rows)``, ``rows.shape``, ``rows.ndim`` and ``rows.dtype`` (always float32) describe the selected rows;
    ``rows.select(positions)`` is a subset that shares ``data``. Arithmetic (``rows * 2``, ``rows - mean``) and
    numpy functions work on a float32 copy and return plain arrays.
    """

    def __init__(self, data: np.ndarray, index: np.ndarray | None = None):
        if data.dtype not in (np.int16, np.float32):
            raise TypeError(f"ClipRows stores int16 PCM or float32, got {data.dtype}")
        self.data = data
        self.index = np.arange(len(data)) if index is None else np.asarray(index, dtype=np.int64)

    @classmethod
    def of(cls, values) -> "ClipRows":
        """``values`` itself if it already is a :class:`ClipRows`, else a float32 array wrapped without a copy."""
        return values if isinstance(values, ClipRows) else cls(np.asarray(values, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index),) + self.data.shape[1:]

    @property
    def ndim(self) -> int:
        return self.data.ndim

    dtype = np.dtype(np.float32)

    def _read(self, stored: np.ndarray) -> np.ndarray:
        if self.data.dtype == np.int16:
            return stored.astype(np.float32) / np.float32(PCM16_SCALE)
        return stored

    def __getitem__(self, key) -> np.ndarray:
        """Float32 rows: an int gives one clip, a slice, a list, an integer or boolean array several."""
        if isinstance(key, tuple):  # the rows first, then the rest of the key on the float32 rows
            rows, rest = self[key[0]], key[1:]
            return rows[rest] if isinstance(key[0], (int, np.integer)) else rows[(slice(None),) + rest]
        if hasattr(key, "numpy"):  # a torch tensor of positions
            key = key.numpy()
        return self._read(self.data[self.index[key]])

    def select(self, positions) -> "ClipRows":
        """The clips at ``positions`` (integers or a boolean mask over these rows), sharing the stored array."""
        positions = np.asarray(positions)
        positions = np.flatnonzero(positions) if positions.dtype == bool else positions.astype(np.int64)
        return self.rows_at(self.index[positions])

    def rows_at(self, index: np.ndarray) -> "ClipRows":
        """The same kind of rows over the stored rows ``index`` (a subclass that reads rows differently keeps its
        reading)."""
        return ClipRows(self.data, index)

    def __array__(self, dtype=None, copy=None):
        values = self[:]
        return values if dtype is None else values.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(np.asarray(x) if isinstance(x, ClipRows) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getattr__(self, name):
        # numpy's reductions and methods (mean, std, min, ...) on a temporary float32 copy of the rows
        if name.startswith("_") or name in ("data", "index"):
            raise AttributeError(name)
        return getattr(np.asarray(self), name)

    def __repr__(self) -> str:
        return f"ClipRows({self.shape}, stored as {self.data.dtype})"


def load_clip_rows(paths, sr: int) -> ClipRows:
    """The waveforms of ``paths`` (equal length) as :class:`ClipRows`, read one file at a time: stored as int16
    when every sample is a 16-bit PCM value (the DCASE and the synthetic clips), else as float32 (24-bit or float
    WAVs lose nothing)."""
    from .data import clip_length, load_wav

    paths = list(paths)
    n_samples = clip_length(paths, sr) if paths else 0
    stored = np.empty((len(paths), n_samples), dtype=np.int16)
    for row, path in enumerate(paths):
        wave = load_wav(path, sr=sr, n_samples=n_samples)
        scaled = wave * np.float32(PCM16_SCALE)
        if stored.dtype == np.int16 and (np.any(scaled != np.round(scaled)) or scaled.min(initial=0) < -32768
                                         or scaled.max(initial=0) > 32767):
            stored = stored.astype(np.float32) / np.float32(PCM16_SCALE)  # switch to float32 for every clip
        stored[row] = scaled if stored.dtype == np.int16 else wave
    return ClipRows(stored)
