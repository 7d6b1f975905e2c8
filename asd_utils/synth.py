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

Nothing is ever overwritten that the generator did not write (:mod:`asd_utils.provenance`): before writing,
every WAV already in the folder is checked, and a folder holding another profile's, another seed's or real recordings
(of any format), or a ``metadata.csv``/``eval_data_list.csv`` the generator did not write, is an error naming the
files (nothing is written). Missing files are written; a file is rewritten only when it carries the generator's
marker of the same clip (damaged, or made by an older generator version). One ``synth`` at a time writes into a
folder (a second is refused), and the free disk space is checked before the first clip.

Command line: ``python -m asd_utils synth --profile course --data-root data/synthetic_course --seed 0 --workers 2``.

Introduced in: notebooks/01_data_exploration.ipynb
"""
from __future__ import annotations

import argparse
import ctypes
import functools
import multiprocessing
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import soundfile as sf

from .profiles import PROFILE_NAMES, SynthSizes, default_data_root, default_root_of, synth_sizes
from .slider_machines import (FAULT_TYPES, ID_DIFFICULTY, default_anomaly_type, draw_clip_params, machine_id_number,
                              machine_params, stable_hash)
from .slider_sound import render_clip
from .data import SAMPLE_RATE, DatasetError, blocking_file, check_root, dataset_table
from .levels import TRAINING_FREE_SCORES, clip_statistics, training_free_scores
from .paths import check_disk_space, folder_lock, path_component, size_text
from .provenance import (GENERATOR_VERSION, METADATA_COLUMNS, conflicts, ground_truth_conflict, ground_truth_text,
                         provenance, read_own_metadata, synthetic_dataset_info, wav_header)
from .utils import (atomic_path, cli_path, display_path, non_negative_int, positive_int, resolve_path, writable_dir,
                    write_text_atomic)

__all__ = ["FAULT_TYPES", "ID_DIFFICULTY", "GENERATOR_VERSION", "TRAINING_FREE_SCORES", "add_synth_arguments", "clip_key",
           "clip_statistics", "training_free_scores",
           "ensure_dataset", "eval_test_order", "generate_dataset", "quantize_pcm16", "synth_main", "synthesize_clip",
           "synthetic_dataset_info"]

SPLIT_CODES = {"train": 0, "test": 1}
LABEL_CODES = {"normal": 0, "anomaly": 1}
EVAL_SHUFFLE_SALT = 0xE7A1
BYTES_PER_SAMPLE = 2  # 16-bit PCM: the disk space a clip needs, header aside


class _Job(NamedTuple):
    """One file to write: where it goes and which labelled clip it holds."""

    path: str  # relative to the root, posix
    dataset: str
    split: str
    machine_id: str
    label: str
    source_index: int  # index in the labelled name (normal_id_01_<index>.wav)
    file_index: int  # index in the file name actually written


def quantize_pcm16(x: np.ndarray) -> np.ndarray:
    """Float full-scale samples -> int16 with explicit rounding (half to even) and clipping."""
    return np.clip(np.rint(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def clip_key(seed: int, machine_type: str, machine_id: str, split: str, label: str, index: int) -> tuple[int, ...]:
    """The integers that seed every random stream of one clip; nothing else influences its samples."""
    if split not in SPLIT_CODES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if int(index) < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    return (int(seed), stable_hash(machine_type), machine_id_number(machine_id), SPLIT_CODES[split], LABEL_CODES[label],
            int(index))


def clip_parameters(seed, machine_type, machine_id, split, label, index, anomaly_type=None, severity=None):
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
                    machine_type: str = "slider", sr: int = SAMPLE_RATE,
                    duration_s: float = 10.0) -> tuple[np.ndarray, dict]:
    """Synthesize one slide-rail clip: float32 waveform in [-1, 1) and a dict of its generation parameters.

    With the defaults for ``anomaly_type``/``severity`` (None) the clip is exactly the file
    ``{split}/{label}_{machine_id}_{index:08d}.wav`` that :func:`generate_dataset` writes for ``seed`` (the waveform
    is already quantised to 16 bit, so it equals what ``soundfile.read`` returns). Pass ``anomaly_type`` (one of
    ``FAULT_TYPES``) and ``severity`` in (0, 1] to hear a chosen fault of the same clip.
    Introduced in: notebooks/00_getting_started.ipynb
    """
    machine, params = clip_parameters(seed, machine_type, machine_id, split, label, index, anomaly_type, severity)
    samples = quantize_pcm16(render_clip(machine, params, sr, duration_s))
    return samples.astype(np.float32) / np.float32(32768.0), _describe(machine, params)


def _provenance(seed: int, machine_type: str, job: _Job) -> str:
    return provenance(seed, machine_type, job.split, f"{job.label}_{job.machine_id}_{job.source_index:08d}.wav")


def _make_file(job: _Job, root: str, seed: int, machine_type: str, sr: int, duration_s: float) -> tuple[dict, bool]:
    """Write one WAV unless an identical one is there; return its metadata row and whether it was written."""
    machine, params = clip_parameters(seed, machine_type, job.machine_id, job.split, job.label, job.source_index)
    row = {"path": job.path, "dataset": job.dataset, "split": job.split, "index": job.file_index,
           **_describe(machine, params), "source_file": f"{job.label}_{job.machine_id}_{job.source_index:08d}.wav",
           "seed": seed, "generator_version": GENERATOR_VERSION}
    final, comment = Path(root) / job.path, _provenance(seed, machine_type, job)
    n = int(round(duration_s * sr))
    if wav_header(final) == (n, sr, 1, "PCM_16", comment):
        return row, False
    samples = quantize_pcm16(render_clip(machine, params, sr, duration_s))
    try:
        with atomic_path(final) as tmp:
            with sf.SoundFile(tmp, "w", sr, 1, subtype="PCM_16", format="WAV") as f:
                f.comment = comment
                f.write(samples)
    except (sf.LibsndfileError, OSError) as err:  # a full disk, a folder made read-only meanwhile ...
        reason = str(err).splitlines()[-1] if str(err) else type(err).__name__
        free = _free_bytes(final.parent)
        raise DatasetError(f"could not write {final} ({reason}); {free} free on that disk. The clips written so far "
                           "are complete; free some space (or fix the folder's permissions) and run synth again to "
                           "write the rest") from None
    return row, True


def _free_bytes(folder: Path) -> str:
    try:
        return size_text(shutil.disk_usage(folder).free)
    except OSError:
        return "unknown space"


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
    """``(label, index)`` of the labelled clip behind each unlabelled eval test name ``id_XX_<k>.wav``, k = 0, 1, ..."""
    items = [("normal", i) for i in range(n_normal)] + [("anomaly", i) for i in range(n_anomaly)]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [seed, stable_hash(machine_type), machine_id_number(machine_id), EVAL_SHUFFLE_SALT])))
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
    which slows the generation down markedly (more in virtual machines). Harmless elsewhere; a no-op off glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 16 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def _eval_truth_rows(jobs: list[_Job]) -> list[dict]:
    return [{"path": j.path, "source_file": f"{j.label}_{j.machine_id}_{j.source_index:08d}.wav", "label": j.label}
            for j in jobs if j.dataset == "eval" and j.split == "test"]


def _write_metadata(root: Path, rows: list[dict], sizes: SynthSizes, machine_type: str,
                    kept_rows: list[dict]) -> pd.DataFrame:
    """Write metadata.csv (this machine type's rows, plus ``kept_rows`` of other machine types) and the ground truth."""
    table = pd.DataFrame(rows, columns=METADATA_COLUMNS).sort_values("path", kind="stable").reset_index(drop=True)
    everything = pd.concat([table, pd.DataFrame(kept_rows, columns=METADATA_COLUMNS)], ignore_index=True)
    with atomic_path(root / "metadata.csv") as tmp:
        everything.sort_values("path", kind="stable").to_csv(tmp, index=False, lineterminator="\n")
    eval_rows = table[(table["dataset"] == "eval") & (table["split"] == "test")]
    if len(sizes.eval_ids):
        write_text_atomic(root / "eval_data" / machine_type / "eval_data_list.csv",
                          ground_truth_text(machine_type, eval_rows.to_dict("records")))
    return table


def _refusals(root: Path, jobs: list[_Job], seed: int, machine_type: str, sizes: SynthSizes) -> tuple[list, list]:
    """What in ``root`` the generator did not write (each would be replaced: refuse), and the metadata rows of other
    machine types to keep."""
    try:
        own = read_own_metadata(root)
    except ValueError as err:
        return [f"{err} (delete or move it)"], []
    wanted = {job.path: _provenance(seed, machine_type, job) for job in jobs}
    problems = conflicts(root, wanted, machine_type, int(round(sizes.duration_s * sizes.sample_rate)),
                         int(sizes.sample_rate), [r for r in own or [] if r["machine_type"] == machine_type])
    if len(sizes.eval_ids):
        earlier = [r for r in own or [] if r["machine_type"] == machine_type and r["dataset"] == "eval"
                   and r["split"] == "test"]
        problem = ground_truth_conflict(root / "eval_data" / machine_type / "eval_data_list.csv",
                                        ground_truth_text(machine_type, _eval_truth_rows(jobs)),
                                        ground_truth_text(machine_type, earlier) if own is not None else None)
        problems += [problem] if problem else []
    return problems, [r for r in own or [] if r["machine_type"] != machine_type]


def generate_dataset(root, profile: str = "course", machine_type: str = "slider", seed: int = 0,
                     sizes: SynthSizes | None = None, workers: int = 1, progress: bool = True) -> pd.DataFrame:
    """Write (or complete) a synthetic dataset under ``root`` and return its metadata table.

    ``sizes`` overrides the clip counts of ``profile`` (``tiny``, ``course``, ``dcase``); a relative ``root`` is
    resolved from the repository root. Existing complete files of the same clip are skipped; a folder that holds
    anything the generator did not write at the paths it needs (other profile, seed or real data, of any format)
    raises :class:`DatasetError` before anything is written, and so does too little disk space.
    ``workers > 1`` uses that many processes. The table (also written to ``root/metadata.csv``, sorted by path) has one row per file;
    ``table.attrs`` holds ``written``, ``skipped`` and ``seconds``.
    """
    described = f"profile {profile}" if sizes is None else "custom sizes"
    sizes = synth_sizes(profile) if sizes is None else sizes
    _validate(sizes)
    machine_type = path_component(machine_type, "machine type")
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    root = resolve_path(root)
    try:
        writable_dir(root, "data root")
    except ValueError as err:
        raise DatasetError(str(err)) from None
    jobs = _jobs(sizes, machine_type, int(seed))
    missing = sum(not (root / job.path).exists() for job in jobs)
    check_disk_space(root, missing * int(round(sizes.duration_s * sizes.sample_rate)) * BYTES_PER_SAMPLE,
                     f"{missing} synthetic clip(s)", error=DatasetError,
                     fix="Free some space, choose another --data-root, or a smaller --profile.")
    with folder_lock(root, "data root"):
        problems, kept_rows = _refusals(root, jobs, int(seed), machine_type, sizes)
        if problems:
            raise DatasetError(
                f"{root} already holds another dataset, so nothing was written: {len(problems)} file(s) there are not "
                f"the requested clips ({described}, seed {seed}) and only files the generator wrote may be replaced, "
                f"e.g. {'; '.join(problems[:2])}. Generate into another folder (--data-root), or move "
                "those files away first")
        return _generate(root, jobs, sizes, machine_type, int(seed), int(workers), progress, kept_rows)


def _generate(root: Path, jobs: list[_Job], sizes: SynthSizes, machine_type: str, seed: int, workers: int,
              progress: bool, kept_rows: list[dict]) -> pd.DataFrame:
    make = functools.partial(_make_file, root=str(root), seed=seed, machine_type=machine_type,
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
        if workers == 1:
            _reuse_freed_memory()
            for job in jobs:
                results.append(make(job))
                bar is not None and bar.update(1)
        else:
            context = multiprocessing.get_context("spawn")  # fork is unsafe once torch threads are running
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_reuse_freed_memory) as pool:
                for result in pool.map(make, jobs, chunksize=8):
                    results.append(result)
                    bar is not None and bar.update(1)
    except BrokenProcessPool as err:
        raise RuntimeError("synth worker processes died. In a script, call generate_dataset() under "
                           "`if __name__ == '__main__':` (spawned workers re-import it), or use workers=1") from err
    finally:
        if bar is not None:
            bar.close()
    table = _write_metadata(root, [row for row, _ in results], sizes, machine_type, kept_rows)
    written = sum(w for _, w in results)
    table.attrs.update(written=written, skipped=len(results) - written, seconds=time.perf_counter() - start)
    return table


def ensure_dataset(data_root, profile: str | None = "course", seed: int = 0, machine_type: str = "slider",
                   progress: bool = True, default_root=None) -> pd.DataFrame:
    """The dataset table of ``data_root``, generating the synthetic data only where that is the agreed default.

    The default synthetic root of ``profile`` and ``seed`` (:func:`asd_utils.profiles.default_data_root`) is
    generated when missing and completed when files are missing, and it says what it did (``default_root`` moves
    that folder, e.g. to the current directory for the ``run`` command). Any other folder is used
    as it is: data on disk change only through ``python -m asd_utils synth``; a folder without development clips is a
    :class:`DatasetError` that says how to get data. Used by notebook 00, ``run`` and ``regenerate``.

    ``profile=None`` (notebooks 01-07 on a fresh runtime): the profile and seed of the default root ``data_root`` is
    (:func:`asd_utils.profiles.default_root_of`), if it is one; ``seed`` is then ignored.

    Introduced in: notebooks/00_getting_started.ipynb
    """
    root = resolve_path(data_root)
    if profile is None:
        profile, seed = default_root_of(root) or ("course", seed)
    if root == resolve_path(default_root or default_data_root(profile, seed)):
        table = generate_dataset(root, profile=profile, machine_type=machine_type, seed=seed, progress=progress)
        done = (f"wrote {table.attrs['written']} missing clip(s)" if table.attrs["written"] else "complete, nothing written")
        print(f"synthetic '{profile}' dataset (seed {seed}) in {display_path(root)}: {len(table)} clips, {done}",
              flush=True)
    elif blocking_file(root) is not None:
        check_root(root)  # says which file stands where the folder should be
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
    """Add the ``synth`` command's options to ``parser`` (used by ``python -m asd_utils synth``)."""
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
    """Entry point of ``python -m asd_utils synth``: generate a dataset and print a one-line summary."""
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
