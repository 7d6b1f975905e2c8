"""Level statistics of one clip (its band envelope and stroke period too), and the anomaly scores that need no training
(notebook 01's bar to beat).

(Re-exported by :mod:`asd_utils.synth`, where notebooks import them from.)

Introduced in: notebooks/01_data_exploration.ipynb
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .data import SAMPLE_RATE, load_wav


def band_envelope_db(wave: np.ndarray, sr: int = SAMPLE_RATE, low_hz: float = 0.0, high_hz: float | None = None,
                     frame_length: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Energy envelope of one frequency band: ``(times_s [n_frames], level_db [n_frames])``.

    The clip is cut into non-overlapping Hann-windowed frames of ``frame_length`` samples (32 ms at 16 kHz); the
    level of a frame is ``10 * log10`` of the mean spectral power between ``low_hz`` and ``high_hz`` (default: up to
    Nyquist), in dB relative to full scale (a full-scale sine over the whole band would be near 0 dB).
    The high band (4-8 kHz) shows the strokes of a slide rail even when low-frequency factory noise hides them in
    the full-band level. Times are frame centres.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    wave = np.asarray(wave, dtype=np.float64)
    n_frames = wave.size // frame_length
    if n_frames == 0:
        raise ValueError(f"clip of {wave.size} samples is shorter than one frame ({frame_length} samples)")
    window = np.hanning(frame_length)
    frames = wave[: n_frames * frame_length].reshape(n_frames, frame_length) * window
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 / (np.sum(window ** 2) * frame_length / 2)
    freqs = np.fft.rfftfreq(frame_length, 1.0 / sr)
    band = (freqs >= low_hz) & (freqs <= (sr / 2 if high_hz is None else high_hz))
    if not band.any():
        raise ValueError(f"no FFT bin between {low_hz} and {high_hz} Hz at frame_length={frame_length}")
    level_db = 10.0 * np.log10(power[:, band].sum(axis=1) + 1e-20)
    times = (np.arange(n_frames) + 0.5) * frame_length / sr
    return times, level_db


def clip_statistics(x: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
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
    env_db = band_envelope_db(x, sr, low_hz=4000.0, high_hz=8000.0)[1]
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


def dominant_period(envelope: np.ndarray, frame_s: float, min_s: float = 1.0, max_s: float = 4.0) -> float:
    """The lag (seconds) of the highest autocorrelation peak of ``envelope`` between ``min_s`` and ``max_s``.

    Used on a band envelope to measure the stroke period of a slide rail (each reversal makes a dip).
    Introduced in: notebooks/01_data_exploration.ipynb
    """
    x = np.asarray(envelope, dtype=np.float64)
    x = x - x.mean()
    acf = np.correlate(x, x, mode="full")[x.size - 1:]
    lo, hi = int(round(min_s / frame_s)), min(int(round(max_s / frame_s)), x.size - 1)
    if hi <= lo:
        raise ValueError(f"envelope of {x.size} frames is too short for lags {min_s}-{max_s} s")
    return float((lo + int(np.argmax(acf[lo:hi + 1]))) * frame_s)
