"""Small builders shared by the unit tests (no dependency on the synthetic generator)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def machine_like(seed: int = 0, seconds: float = 10.0, sr: int = 16000, tone_hz: float = 250.0) -> np.ndarray:
    """A machine-like test signal: two tonal lines, a stroke envelope and coloured noise, RMS about 0.01."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    noise = np.cumsum(rng.standard_normal(t.size)) * 0.02 + rng.standard_normal(t.size)
    noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
    envelope = 1.0 + 0.3 * np.sin(2 * np.pi * t / 2.0)
    wave = envelope * (np.sin(2 * np.pi * tone_hz * t) + 0.3 * np.sin(2 * np.pi * 10 * tone_hz * t)) + 0.5 * noise
    return (0.01 * wave / np.sqrt(np.mean(wave ** 2))).astype(np.float32)


def write_wav(path: Path, wave: np.ndarray, sr: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), wave, sr, subtype="PCM_16")
    return path


def make_layout(root: Path, n_train: int = 2, n_test: int = 2, seconds: float = 1.0) -> Path:
    """A miniature DCASE layout: dev ids 00/02 and eval id 01, with an eval ground-truth list."""
    seed = 0
    for machine_id in ("00", "02"):
        for i in range(n_train):
            write_wav(root / f"dev_data/slider/train/normal_id_{machine_id}_{i:08d}.wav", machine_like(seed, seconds))
            seed += 1
        for label in ("normal", "anomaly"):
            for i in range(n_test):
                write_wav(root / f"dev_data/slider/test/{label}_id_{machine_id}_{i:08d}.wav", machine_like(seed, seconds))
                seed += 1
    for i in range(n_train):
        write_wav(root / f"eval_data/slider/train/normal_id_01_{i:08d}.wav", machine_like(seed, seconds))
        seed += 1
    lines = ["slider"]
    for i in range(2 * n_test):
        write_wav(root / f"eval_data/slider/test/id_01_{i:08d}.wav", machine_like(seed, seconds))
        seed += 1
        label = i % 2
        lines.append(f"id_01_{i:08d}.wav,{'anomaly' if label else 'normal'}_id_01_{i // 2:08d}.wav,{label}")
    (root / "eval_data/slider/eval_data_list.csv").write_text("\n".join(lines) + "\n")
    return root
