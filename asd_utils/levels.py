"""Level statistics of one clip, and the anomaly scores that need no training (notebook 01's bar to beat).

(Re-exported by :mod:`asd_utils.synth`, where notebooks import them from.)

Introduced in: notebooks/01_data_exploration.ipynb
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .data import load_wav


def clip_statistics(x: np.ndarray, sr: int = 16000) -> dict[str, float]:
    """Level and shape statistics of one clip, the numbers used to compare synthetic and real slider data.

    Returns ``rms`` and ``peak`` (full scale), ``rms_dbfs``, ``spectral_tilt_db`` (long-term spectrum at 150-250 Hz
    minus at 6.5-7.5 kHz, dB; 1024-point Hann frames) and ``highband_env_std_db`` (std over 32 ms frames of the
    4-8 kHz band energy in dB: ~1-2 dB for quasi-stationary sound, more for impacts, gaps and squeal) and
    ``highband_peak_db`` (the loudest 32 ms of that band above its median, dB).
    """
    x = np.asarray(x, dtype=np.float64)
    rms = math.sqrt(float(np.mean(np.square(x))))
    frames = np.lib.stride_tricks.sliding_window_view(x, 1024)[::512] * np.hanning(1024)
    psd = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
    f = np.fft.rfftfreq(1024, 1.0 / sr)
    low, high = psd[(f >= 150) & (f <= 250)].mean(), psd[(f >= 6500) & (f <= 7500)].mean()
    short = x[: x.size // 512 * 512].reshape(-1, 512) * np.hanning(512)
    fs = np.fft.rfftfreq(512, 1.0 / sr)
    band = (np.abs(np.fft.rfft(short, axis=1)) ** 2)[:, (fs >= 4000) & (fs <= 8000)].sum(axis=1)
    env_db = 10.0 * np.log10(band + 1e-20)
    return {"rms": rms, "peak": float(np.max(np.abs(x))), "rms_dbfs": 20.0 * math.log10(rms + 1e-20),
            "spectral_tilt_db": float(10.0 * np.log10(low / high)), "highband_env_std_db": float(np.std(env_db)),
            "highband_peak_db": float(np.max(env_db) - np.median(env_db))}


TRAINING_FREE_SCORES = {"RMS level": "rms_dbfs", "peak level": "peak_dbfs", "crest factor": "crest_db",
                        "4-8 kHz envelope std": "highband_env_std_db", "4-8 kHz loudest 32 ms": "highband_peak_db"}


def training_free_scores(paths) -> pd.DataFrame:
    """Anomaly scores that need no training, one column per :data:`TRAINING_FREE_SCORES` name and one row per clip:
    level statistics of :func:`clip_statistics` (crest factor = peak over RMS, dB). Every learned model has to beat
    them: faults make a machine louder, and a level meter notices that too.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    rows = []
    for path in paths:
        stats = clip_statistics(load_wav(path))
        stats["peak_dbfs"] = 20.0 * math.log10(stats["peak"] + 1e-20)
        stats["crest_db"] = stats["peak_dbfs"] - stats["rms_dbfs"]
        rows.append({name: stats[key] for name, key in TRAINING_FREE_SCORES.items()})
    return pd.DataFrame(rows, columns=list(TRAINING_FREE_SCORES))
