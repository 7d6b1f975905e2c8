"""``python -m asd_utils convert SRC DST``: own recordings in the DCASE layout, made readable for the course.

The course reads 16 kHz mono clips and refuses anything else with a message that names the file (it never resamples
or mixes channels silently: a model trained on silently converted data is a different experiment). This command
is the explicit, one-time opt-in: it writes a converted copy of every WAV of ``SRC`` (a folder in the DCASE layout,
``dev_data/<type>/{train,test}/*.wav`` and ``eval_data/...``) into ``DST`` under the same relative path, as 16-bit
mono at ``--sample-rate`` (default 16 kHz): other sample rates are resampled (polyphase filter, scipy), several
channels are averaged or one is kept (``--channel N``, e.g. one microphone of MIMII's eight). Other files
(``eval_data_list.csv``, ``metadata.csv``) are copied. ``SRC`` is only read; ``DST`` must be a new or empty folder
outside ``SRC``; the copy is written into a hidden staging folder and renamed to ``DST`` only when complete.

Introduced in: data/README.md
"""
from __future__ import annotations

import argparse
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile as sf

from .data import SAMPLE_RATE
from .utils import cli_path, display_path

COPIED_FILES = ("eval_data_list.csv", "metadata.csv")


def convert_wave(audio: np.ndarray, file_sr: int, sr: int, channel: int | None) -> np.ndarray:
    """``audio [n, channels]`` at ``file_sr`` -> mono float32 at ``sr``: channel ``channel`` (None: the mean of all)."""
    from scipy.signal import resample_poly

    if channel is not None and not 0 <= channel < audio.shape[1]:
        raise ValueError(f"--channel {channel}, but the file has {audio.shape[1]} channel(s)")
    mono = audio.mean(axis=1) if channel is None else audio[:, channel]
    if file_sr != sr:
        ratio = Fraction(sr, file_sr).limit_denominator(1000)
        mono = resample_poly(mono, ratio.numerator, ratio.denominator)
    return np.clip(mono, -1.0, 32767 / 32768).astype(np.float32)


def convert_dataset(source, target, sr: int = SAMPLE_RATE, channel: int | None = None) -> int:
    """Write the converted copy of ``source`` into ``target``; return the number of WAVs written."""
    source, target = Path(source).resolve(), Path(target).resolve()
    if not source.is_dir():
        raise ValueError(f"{source}: not a folder (expected a dataset in the DCASE layout, dev_data/<type>/...)")
    if target == source or source in target.parents:
        raise ValueError(f"{target}: inside the source folder {source}; choose a folder of its own")
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target}: not empty; the converted copy goes into a new or empty folder (nothing there is "
                         "ever replaced)")
    wavs = sorted(p for part in ("dev_data", "eval_data") for p in (source / part).glob("*/*/*.wav"))
    if not wavs:
        raise ValueError(f"{source}: no clips found under dev_data/<type>/<split>/*.wav or eval_data/...")
    staging = target.parent / f".{target.name}.converting"  # renamed to target only when every file is written
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _write_copy(source, staging, wavs, sr, channel)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        target.rmdir()  # empty (checked above)
    staging.rename(target)
    return len(wavs)


def _write_copy(source: Path, target: Path, wavs: list[Path], sr: int, channel: int | None) -> None:
    for path in wavs:
        try:
            audio, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
        except (RuntimeError, sf.LibsndfileError) as err:
            raise ValueError(f"{path}: not a readable audio file ({err}); nothing was written") from None
        try:
            wave = convert_wave(audio, file_sr, sr, channel)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        final = target / path.relative_to(source)
        final.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(final), wave, sr, subtype="PCM_16", format="WAV")
    for extra in (p for part in ("dev_data", "eval_data") for p in (source / part).glob("*/*")
                  if p.name in COPIED_FILES):
        final = target / extra.relative_to(source)
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(extra, final)


def convert_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asd_utils convert",
                                     description="Write a 16 kHz mono copy of a DCASE-layout folder of own recordings.")
    parser.add_argument("source", help="dataset folder in the DCASE layout (only read)")
    parser.add_argument("target", help="new or empty folder for the converted copy")
    parser.add_argument("--sample-rate", type=int, default=SAMPLE_RATE,
                        help=f"target sample rate in Hz (default: {SAMPLE_RATE})")
    parser.add_argument("--channel", type=int, default=None,
                        help="keep this channel of multi-channel files (default: the mean of all channels)")
    args = parser.parse_args(argv)
    if args.sample_rate < 1000:
        parser.error(f"argument --sample-rate: expected a rate in Hz of at least 1000, got {args.sample_rate}")
    n = convert_dataset(cli_path(args.source), cli_path(args.target), sr=args.sample_rate, channel=args.channel)
    print(f"wrote {n} converted clip(s) to {display_path(cli_path(args.target))}")
    return 0
