"""A synthetic slide-rail dataset in the exact DCASE 2020 Task 2 layout, generated offline in seconds.

The course runs without downloading the real MIMII/DCASE slider data: :func:`generate_dataset` writes 10 s, 16 kHz,
16-bit mono WAV files with the real names and folders, so every later notebook works unchanged on the real data::

    ROOT/dev_data/slider/train/normal_id_00_00000000.wav          dev ids 00, 02, 04: normal training clips
    ROOT/dev_data/slider/test/normal_id_00_00000000.wav           ... and labelled test clips
    ROOT/dev_data/slider/test/anomaly_id_00_00000000.wav
    ROOT/eval_data/slider/train/normal_id_01_00000000.wav         eval ids 01, 03, 05
    ROOT/eval_data/slider/test/id_01_00000000.wav                 unlabelled test names (a seeded shuffle)
    ROOT/eval_data/slider/eval_data_list.csv                      their ground truth, DCASE format
    ROOT/metadata.csv                                             how every file was made (synthetic data only)

What a clip sounds like (motor, belt, friction, factory noise, and the three faults rail damage, loose belt and
no grease) is explained in :mod:`asd_utils.slider_sound`.

Reproducible by construction: a file depends only on ``(seed, machine type, machine id, split, label, index)``,
so the same seed gives byte-identical files on any machine, a smaller profile gives a subset of the same clips,
and any single clip can be re-created with :func:`synthesize_clip`. Files are written through a temporary name
and renamed (an interrupted run never leaves a truncated WAV), and a re-run skips every file whose header
already says it is the requested clip (the WAV comment records generator version, seed and clip).
The smaller-profile subset holds for the development clips and the evaluation training clips; the evaluation test
names (``id_01_00000000.wav``...) are a shuffle of each profile's own clips, so they differ between profiles.

Nothing is ever overwritten that belongs to another dataset: before writing, every WAV already in the folder is
checked, and a folder holding another profile's, another seed's or real recordings is an error naming the files
(nothing is written). Missing or damaged files of the requested dataset are (re)written, and so are files of the
same clips made by an older generator version.

Command line: ``python -m asd_utils synth --profile course --data-root data/synthetic_course --seed 0 --workers 2``.

Introduced in: notebooks/01_data_exploration.ipynb
"""
from __future__ import annotations

import argparse
import ctypes
import functools
import math
import multiprocessing
import re
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import soundfile as sf

from .profiles import PROFILE_NAMES, SynthSizes, default_data_root, synth_sizes
from .slider_sound import (FAULT_TYPES, ID_DIFFICULTY, default_anomaly_type, draw_clip_params,
                           machine_id_number, machine_params, render_clip)
from .data import DatasetError, dataset_table, load_wav
from .utils import (atomic_path, cli_path, display_path, non_negative_int, positive_int, resolve_path, writable_dir,
                    write_text_atomic)

__all__ = ["FAULT_TYPES", "ID_DIFFICULTY", "GENERATOR_VERSION", "TRAINING_FREE_SCORES", "add_synth_arguments", "clip_key",
           "clip_statistics", "training_free_scores",
           "ensure_dataset", "eval_test_order", "generate_dataset", "quantize_pcm16", "synth_main", "synthesize_clip"]

GENERATOR_VERSION = 2  # bump when the sound model changes: files of another version are regenerated
SPLIT_CODES = {"train": 0, "test": 1}
LABEL_CODES = {"normal": 0, "anomaly": 1}
EVAL_SHUFFLE_SALT = 0xE7A1
METADATA_COLUMNS = ["path", "machine_type", "dataset", "split", "machine_id", "label", "index", "anomaly_type",
                    "severity", "snr_db", "stroke_period_s", "speed_factor", "target_rms", "load_db", "stroke_phase",
                    "fault_params", "source_file", "seed", "generator_version"]


class _Job(NamedTuple):
    """One file to write: where it goes and which labelled clip it holds."""

    path: str  # relative to the root, posix
    dataset: str
    split: str
    machine_id: str
    label: str
    source_index: int  # index in the labelled name (normal_id_01_<index>.wav)
    file_index: int  # index in the file name actually written


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def quantize_pcm16(x: np.ndarray) -> np.ndarray:
    """Float full-scale samples -> int16 with explicit rounding (half to even) and clipping.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    return np.clip(np.rint(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def clip_statistics(x: np.ndarray, sr: int = 16000) -> dict[str, float]:
    """Level and shape statistics of one clip, the numbers used to compare synthetic and real slider data.

    Returns ``rms`` and ``peak`` (full scale), ``rms_dbfs``, ``spectral_tilt_db`` (long-term spectrum at 150-250 Hz
    minus at 6.5-7.5 kHz, dB; 1024-point Hann frames) and ``highband_env_std_db`` (std over 32 ms frames of the
    4-8 kHz band energy in dB: ~1-2 dB for quasi-stationary sound, more for impacts, gaps and squeal) and
    ``highband_peak_db`` (the loudest 32 ms of that band above its median, dB).
    Introduced in: notebooks/01_data_exploration.ipynb
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


def clip_key(seed: int, machine_type: str, machine_id: str, split: str, label: str, index: int) -> tuple[int, ...]:
    """The integers that seed every random stream of one clip; nothing else influences its samples.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    if split not in SPLIT_CODES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if int(index) < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    return (int(seed), _crc(machine_type), machine_id_number(machine_id), SPLIT_CODES[split], LABEL_CODES[label],
            int(index))


def _clip(seed, machine_type, machine_id, split, label, index, anomaly_type=None, severity=None):
    """The machine and the drawn parameters of one clip (cheap: no audio)."""
    if label not in LABEL_CODES:
        raise ValueError(f"label must be 'normal' or 'anomaly', got {label!r}")
    if label == "anomaly" and split == "train":
        raise ValueError("training clips are all normal (DCASE 2020 Task 2): use split='test' for an anomaly")
    if label == "anomaly" and anomaly_type is None:
        anomaly_type = default_anomaly_type(seed, machine_type, machine_id, index)
    machine = machine_params(machine_type, machine_id)
    params = draw_clip_params(machine, clip_key(seed, machine_type, machine_id, split, label, index), label,
                              anomaly_type or "none", severity)
    return machine, params


def _describe(machine, params) -> dict:
    return {"machine_type": machine.machine_type, "machine_id": machine.machine_id, "label": params.label,
            "anomaly_type": params.anomaly_type, "severity": round(params.severity, 6),
            "snr_db": round(params.snr_db, 4), "stroke_period_s": round(params.stroke_period_s, 6),
            "speed_factor": round(params.speed_factor, 6), "target_rms": round(params.target_rms, 6),
            "load_db": round(params.load_db, 4), "stroke_phase": round(params.stroke_phase, 6),
            "fault_params": ";".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, list) else v}"
                                     for k, v in sorted(params.fault.items())) or "none"}


def synthesize_clip(machine_id: str, label: str = "normal", anomaly_type: str | None = None,
                    severity: float | None = None, *, seed: int = 0, index: int = 0, split: str = "test",
                    machine_type: str = "slider", sr: int = 16000,
                    duration_s: float = 10.0) -> tuple[np.ndarray, dict]:
    """Synthesize one slide-rail clip: float32 waveform in [-1, 1) and a dict of its generation parameters.

    With the defaults for ``anomaly_type``/``severity`` (None) the clip is exactly the file
    ``{split}/{label}_{machine_id}_{index:08d}.wav`` that :func:`generate_dataset` writes for ``seed`` (the waveform
    is already quantised to 16 bit, so it equals what ``soundfile.read`` returns). Pass ``anomaly_type`` (one of
    ``FAULT_TYPES``) and ``severity`` in (0, 1] to hear a chosen fault of the same clip.
    Introduced in: notebooks/01_data_exploration.ipynb
    """
    machine, params = _clip(seed, machine_type, machine_id, split, label, index, anomaly_type, severity)
    samples = quantize_pcm16(render_clip(machine, params, sr, duration_s))
    return samples.astype(np.float32) / np.float32(32768.0), _describe(machine, params)


def _provenance(seed: int, machine_type: str, job: _Job) -> str:
    source = f"{job.label}_{job.machine_id}_{job.source_index:08d}.wav"
    return f"asd_utils.synth v{GENERATOR_VERSION}; seed={seed}; clip={machine_type}/{job.split}/{source}"


_PROVENANCE = re.compile(r"^asd_utils\.synth v\d+; (?P<clip>seed=.*)$")


def _wav_header(path: Path) -> tuple[int, int, int, str, str | None] | None:
    """``(frames, samplerate, channels, subtype, comment)`` of a WAV, or ``None`` when it cannot be read."""
    try:
        with sf.SoundFile(path) as f:
            return f.frames, f.samplerate, f.channels, f.subtype, f.comment
    except (sf.LibsndfileError, RuntimeError, OSError):
        return None


def _conflicts(root: Path, jobs: list[_Job], seed: int, machine_type: str, sr: int, duration_s: float) -> list[str]:
    """Why existing WAVs under ``root`` belong to another dataset (empty: safe to write).

    A file at a path of this dataset may be replaced only when it is damaged (unreadable or not a full clip) or is
    the same clip from another generator version; any other file there is someone else's data.
    """
    wanted = {job.path: _provenance(seed, machine_type, job) for job in jobs}
    n = int(round(duration_s * sr))
    problems = []
    for path in sorted(root.glob(f"*_data/{machine_type}/*/*.wav")):
        rel = path.relative_to(root).as_posix()
        if rel not in wanted:
            problems.append(f"{rel} is not part of the requested dataset")
            continue
        header = _wav_header(path)
        if header is None or header[:4] != (n, sr, 1, "PCM_16"):
            continue  # damaged: repaired below
        mine, theirs = _PROVENANCE.match(wanted[rel]), _PROVENANCE.match(header[4] or "")
        if theirs is None:
            problems.append(f"{rel} was not made by asd_utils.synth (a real recording?)")
        elif theirs.group("clip") != mine.group("clip"):
            problems.append(f"{rel} holds {theirs.group('clip')}, not {mine.group('clip')}")
    return problems


def _make_file(job: _Job, root: str, seed: int, machine_type: str, sr: int, duration_s: float) -> tuple[dict, bool]:
    """Write one WAV unless an identical one is there; return its metadata row and whether it was written."""
    machine, params = _clip(seed, machine_type, job.machine_id, job.split, job.label, job.source_index)
    row = {"path": job.path, "dataset": job.dataset, "split": job.split, "index": job.file_index,
           **_describe(machine, params), "source_file": f"{job.label}_{job.machine_id}_{job.source_index:08d}.wav",
           "seed": seed, "generator_version": GENERATOR_VERSION}
    final, comment = Path(root) / job.path, _provenance(seed, machine_type, job)
    n = int(round(duration_s * sr))
    if _wav_header(final) == (n, sr, 1, "PCM_16", comment):
        return row, False
    samples = quantize_pcm16(render_clip(machine, params, sr, duration_s))
    with atomic_path(final) as tmp:
        with sf.SoundFile(tmp, "w", sr, 1, subtype="PCM_16", format="WAV") as f:
            f.comment = comment
            f.write(samples)
    return row, True


def _validate(sizes: SynthSizes) -> None:
    for ids, counts in ((sizes.dev_ids, (sizes.dev_train, sizes.dev_test_normal, sizes.dev_test_anomaly)),
                        (sizes.eval_ids, (sizes.eval_train, sizes.eval_test_normal, sizes.eval_test_anomaly))):
        for machine_id in ids:
            machine_id_number(machine_id)
        if any(len(c) != len(ids) for c in counts) or any(int(x) < 0 for c in counts for x in c):
            raise ValueError(f"clip counts {counts} must give one non-negative count per id of {ids}")
    if set(sizes.dev_ids) & set(sizes.eval_ids) or len(set(sizes.dev_ids + sizes.eval_ids)) != len(
            sizes.dev_ids + sizes.eval_ids):
        raise ValueError(f"machine ids must be unique across dev {sizes.dev_ids} and eval {sizes.eval_ids}")


def eval_test_order(seed: int, machine_type: str, machine_id: str, n_normal: int,
                    n_anomaly: int) -> list[tuple[str, int]]:
    """``(label, index)`` of the labelled clip behind each unlabelled eval test name ``id_XX_<k>.wav``, k = 0, 1, ...

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    items = [("normal", i) for i in range(n_normal)] + [("anomaly", i) for i in range(n_anomaly)]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [seed, _crc(machine_type), machine_id_number(machine_id), EVAL_SHUFFLE_SALT])))
    return [items[int(i)] for i in rng.permutation(len(items))]


def _jobs(sizes: SynthSizes, machine_type: str, seed: int) -> list[_Job]:
    jobs = []
    for dataset, ids, train, normal, anomaly in (
            ("dev", sizes.dev_ids, sizes.dev_train, sizes.dev_test_normal, sizes.dev_test_anomaly),
            ("eval", sizes.eval_ids, sizes.eval_train, sizes.eval_test_normal, sizes.eval_test_anomaly)):
        base = f"{dataset}_data/{machine_type}"
        for i, mid in enumerate(ids):
            jobs += [_Job(f"{base}/train/normal_{mid}_{k:08d}.wav", dataset, "train", mid, "normal", k, k)
                     for k in range(train[i])]
            if dataset == "dev":
                jobs += [_Job(f"{base}/test/{label}_{mid}_{k:08d}.wav", dataset, "test", mid, label, k, k)
                         for label, count in (("normal", normal[i]), ("anomaly", anomaly[i])) for k in range(count)]
            else:
                order = eval_test_order(seed, machine_type, mid, normal[i], anomaly[i])
                jobs += [_Job(f"{base}/test/{mid}_{k:08d}.wav", dataset, "test", mid, label, src, k)
                         for k, (label, src) in enumerate(order)]
    return jobs


def _reuse_freed_memory() -> None:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the OS after every clip.

    A clip allocates a few dozen 1.3 MB temporary arrays; without this each one is mapped afresh and page-faulted,
    which doubles the generation time (more in virtual machines). Harmless elsewhere; a no-op off glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 16 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _write_metadata(root: Path, rows: list[dict], sizes: SynthSizes, machine_type: str) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=METADATA_COLUMNS).sort_values("path", kind="stable").reset_index(drop=True)
    with atomic_path(root / "metadata.csv") as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    eval_rows = table[(table["dataset"] == "eval") & (table["split"] == "test")]
    if len(sizes.eval_ids):
        lines = [machine_type] + [f"{Path(path).name},{source},{int(label == 'anomaly')}" for path, source, label
                                  in zip(eval_rows["path"], eval_rows["source_file"], eval_rows["label"])]
        write_text_atomic(root / "eval_data" / machine_type / "eval_data_list.csv", "\n".join(lines) + "\n")
    return table


def generate_dataset(root, profile: str = "course", machine_type: str = "slider", seed: int = 0,
                     sizes: SynthSizes | None = None, workers: int = 1, progress: bool = True) -> pd.DataFrame:
    """Write (or complete) a synthetic dataset under ``root`` and return its metadata table.

    ``sizes`` overrides the clip counts of ``profile`` (``tiny``, ``course``, ``dcase``); a relative ``root`` is
    resolved from the repository root. Existing complete files of the same clip are skipped; a folder that holds
    another dataset (other profile, seed or real data) raises :class:`DatasetError` before anything is written.
    ``workers > 1`` uses that many processes. The table (also written to ``root/metadata.csv``, sorted by path) has one row per file;
    ``table.attrs`` holds ``written``, ``skipped`` and ``seconds``.
    Introduced in: notebooks/01_data_exploration.ipynb
    """
    described = f"profile {profile}" if sizes is None else "custom sizes"
    sizes = synth_sizes(profile) if sizes is None else sizes
    _validate(sizes)
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    root = resolve_path(root)
    jobs = _jobs(sizes, machine_type, int(seed))
    problems = _conflicts(root, jobs, int(seed), machine_type, int(sizes.sample_rate), float(sizes.duration_s))
    if problems:
        raise DatasetError(
            f"{root} already holds another dataset, so nothing was written: {len(problems)} WAV file(s) there are not "
            f"the requested clips ({described}, seed {seed}), "
            f"e.g. {'; '.join(problems[:2])}. Generate into another folder (--data-root), or delete this one first")
    root.mkdir(parents=True, exist_ok=True)
    make = functools.partial(_make_file, root=str(root), seed=int(seed), machine_type=machine_type,
                             sr=int(sizes.sample_rate), duration_s=float(sizes.duration_s))
    start = time.perf_counter()
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(jobs), desc=f"synth {root.name}", unit="clip")
        except ImportError:
            pass
    results = []
    try:
        if int(workers) == 1:
            _reuse_freed_memory()
            for job in jobs:
                results.append(make(job))
                bar is not None and bar.update(1)
        else:
            context = multiprocessing.get_context("spawn")  # fork is unsafe once torch threads are running
            with ProcessPoolExecutor(int(workers), mp_context=context, initializer=_reuse_freed_memory) as pool:
                for result in pool.map(make, jobs, chunksize=8):
                    results.append(result)
                    bar is not None and bar.update(1)
    except BrokenProcessPool as err:
        raise RuntimeError("synth worker processes died. In a script, call generate_dataset() under "
                           "`if __name__ == '__main__':` (spawned workers re-import it), or use workers=1") from err
    finally:
        if bar is not None:
            bar.close()
    table = _write_metadata(root, [row for row, _ in results], sizes, machine_type)
    written = sum(w for _, w in results)
    table.attrs.update(written=written, skipped=len(results) - written, seconds=time.perf_counter() - start)
    return table


def ensure_dataset(data_root, profile: str = "course", seed: int = 0, machine_type: str = "slider",
                   progress: bool = True, default_root=None) -> pd.DataFrame:
    """The dataset table of ``data_root``, generating the synthetic data only where that is the agreed default.

    The default synthetic root of ``profile`` and ``seed`` (:func:`asd_utils.profiles.default_data_root`) is
    generated when missing and completed when files are missing, and it says what it did (``default_root`` moves
    that folder, e.g. to the current directory for the ``run`` command). Any other folder is used
    as it is: data on disk change only through ``python -m asd_utils synth``; a folder without development clips is a
    :class:`DatasetError` that says how to get data. Used by notebook 00, ``run`` and ``regenerate``.

    Introduced in: notebooks/00_getting_started.ipynb
    """
    root = resolve_path(data_root)
    if root == resolve_path(default_root or default_data_root(profile, seed)):
        table = generate_dataset(root, profile=profile, machine_type=machine_type, seed=seed, progress=progress)
        done = (f"wrote {table.attrs['written']} missing clip(s)" if table.attrs["written"] else "complete, nothing written")
        print(f"synthetic '{profile}' dataset (seed {seed}) in {display_path(root)}: {len(table)} clips, {done}",
              flush=True)
    elif not any((root / "dev_data" / machine_type).glob("*/*.wav")):
        raise DatasetError(
            f"{root} holds no data (no dev_data/{machine_type}/train/*.wav); only the default folder "
            f"{display_path(default_root or resolve_path(default_data_root(profile, seed)))} is generated without being asked. Generate synthetic data there with "
            f"'python -m asd_utils synth --profile {profile} --seed {seed} --data-root {root}', or download the real "
            f"data with 'python -m asd_utils download --data-root {root}'")
    else:
        print(f"using the data in {display_path(root)} as they are (nothing generated)", flush=True)
    return dataset_table(root, machine_type)


def add_synth_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``synth`` command's options to ``parser`` (used by ``python -m asd_utils synth``).

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    parser.add_argument("--profile", default="course", choices=PROFILE_NAMES, help="dataset size (default: course)")
    parser.add_argument("--data-root", "--root", dest="data_root", default=None,
                        help="output folder, relative to the current folder (default: data/synthetic_<profile>, "
                             "data/synthetic_<profile>_seed<N> for another seed; --root is a deprecated alias)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="dataset seed (default: 0)")
    parser.add_argument("--workers", type=positive_int, default=1, help="worker processes (default: 1)")
    parser.add_argument("--machine-type", default="slider", help="machine type folder name (default: slider)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def synth_main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m asd_utils synth``: generate a dataset and print a one-line summary.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    parser = add_synth_arguments(argparse.ArgumentParser(
        prog="python -m asd_utils synth", description="Generate the synthetic slide-rail dataset (DCASE 2020 layout)."))
    args = parser.parse_args(argv)
    if any(a == "--root" or a.startswith("--root=") for a in (argv if argv is not None else sys.argv[1:])):
        print("synth: warning: --root is deprecated, use --data-root", file=sys.stderr)
    root = cli_path(args.data_root or default_data_root(args.profile, args.seed))
    try:
        writable_dir(root, "--data-root")
        table = generate_dataset(root, profile=args.profile, machine_type=args.machine_type, seed=args.seed,
                                 workers=args.workers, progress=not args.no_progress)
    except DatasetError as err:
        print(f"synth: error: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"synth: error: {err}", file=sys.stderr)
        return 2
    seconds = table.attrs["seconds"]
    print(f"synth: {len(table)} clips in {root} (written {table.attrs['written']}, skipped "
          f"{table.attrs['skipped']}) in {seconds:.1f} s, {len(table) / max(seconds, 1e-9):.1f} clips/s")
    return 0
