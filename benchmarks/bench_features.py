"""Front-end benchmark: clips/s of the whole path (read WAV + log-mel) for the course's batched torch front end
against a per-file ``librosa.load`` + ``librosa.feature.melspectrogram`` loop, on the same clips in the same run.

    .venv/bin/python benchmarks/bench_features.py [--clips 200] [--batch-size 32] [--device auto]

Also prints the largest difference between the two results (dB) and the float32 feature memory of the ``dcase``
profile's 2370 training clips. The clips come from the synthetic course data (generated if missing).
"""
from __future__ import annotations

import argparse
import sys
import time

import librosa
import numpy as np
import torch

from asd_utils.data import dataset_table, select
from asd_utils.features import LogMelFrontEnd, LogMelParams, log_mel_dataset
from asd_utils.profiles import default_data_root
from asd_utils.synth import generate_dataset
from asd_utils.utils import resolve_device, resolve_path


def librosa_loop(paths, params: LogMelParams) -> np.ndarray:
    out = []
    for path in paths:
        wave, _ = librosa.load(path, sr=params.sr, mono=False)
        mel = librosa.feature.melspectrogram(y=wave, sr=params.sr, n_fft=params.n_fft, hop_length=params.hop_length,
                                             n_mels=params.n_mels, power=params.power)
        out.append(20.0 / params.power * np.log10(mel + sys.float_info.epsilon))
    return np.stack(out).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    root = resolve_path(default_data_root("course"))
    generate_dataset(root, profile="course", seed=0, progress=False)
    paths = select(dataset_table(root), dataset="dev")["path"].tolist()[: args.clips]
    params = LogMelParams()
    device = resolve_device(args.device)
    print(f"{len(paths)} clips of 10 s, device {device}, torch threads {torch.get_num_threads()}")

    librosa_loop(paths[:2], params)  # warm-up: numba compiles librosa's kernels on first use
    LogMelFrontEnd(params).to(device)(torch.zeros(2, 160000, device=device))

    start = time.perf_counter()
    ours = log_mel_dataset(paths, params, cache_dir=None, device=args.device, batch_size=args.batch_size)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    reference = librosa_loop(paths, params)
    ref_s = time.perf_counter() - start

    print(f"course front end (soundfile + torch.stft, batch {args.batch_size}): {len(paths) / ours_s:8.1f} clips/s")
    print(f"librosa.load + melspectrogram, per file:                {len(paths) / ref_s:8.1f} clips/s")
    print(f"speed-up: {ref_s / ours_s:.1f}x; largest difference: {np.max(np.abs(ours - reference)):.5f} dB")
    n_train, n_mels, n_frames = 2370, params.n_mels, params.n_frames(160000)
    print(f"dcase profile training features ({n_train} x {n_mels} x {n_frames} float32): "
          f"{n_train * n_mels * n_frames * 4 / 2**20:.0f} MiB "
          f"(stacked 640-d float64 vectors as in the official baseline: "
          f"{n_train * (n_frames - 4) * 640 * 8 / 2**30:.1f} GiB)")


if __name__ == "__main__":
    main()
