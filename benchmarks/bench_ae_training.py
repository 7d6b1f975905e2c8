"""Training throughput and peak memory of the four autoencoders of notebook 03 on the `dcase`-sized feature set.

The real DCASE 2020 slider development set has 2370 training clips; each gives a [128, 313] log-mel and 309 context
vectors of 640 values, 732,330 vectors per epoch. This script builds a log-mel array of that shape from random
numbers (the speed of a dense network does not depend on the values), standardises it as the notebook does, and
trains each model for a fixed number of Adam steps with the course's training loop (``asd_utils.training.fit`` over
``StackedFrames``, so the 5-frame windows are cut per batch exactly as in the notebook). It prints, per model:

* vectors per second (training only, after a few warm-up steps),
* the implied time of one epoch over 2370 clips and of the report's full training (AE_TRAINING["dcase"]),
* the peak resident memory of the process that trained it (each model runs in a fresh process, so the figure is
  that model's), also as the increase over the memory taken by the imports (Python, torch, asd_utils), the resident
  memory after training (the standardised features, the model and Adam's state), and on CUDA the peak GPU memory.
  The peak comes from ``StackedFrames`` standardising the array (the original, ``x - mean`` and the result exist at
  the same moment: three times the log-mel size); training itself adds only a few MiB for these small networks.

Run from the repository root::

    .venv/bin/python benchmarks/bench_ae_training.py                 # all four models, 2370 clips, CPU or CUDA
    .venv/bin/python benchmarks/bench_ae_training.py --clips 500 --steps 30 --models dcase_ae --threads 1

Timings on a shared machine are inflated by other jobs; with several jobs on 2 cores, ``--threads 1`` is often much
faster than PyTorch's default of one thread per core.
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere without installing

N_MELS, N_FRAMES, FRAMES = 128, 313, 5
MODEL_NAMES = {"baseline": "Baseline (VAE)", "batchnorm": "+BatchNorm", "dropout": "+Dropout",
               "dcase_ae": "DCASE AE (Sequential)"}


def build_model(key: str):
    """The notebook's MODEL_SPECS, repeated here so the benchmark does not need the notebook."""
    from asd_utils.models import VAE, DcaseBaselineAE

    if key == "dcase_ae":
        return DcaseBaselineAE(input_dim=N_MELS * FRAMES)
    return VAE(input_dim=N_MELS * FRAMES, batch_norm=key != "baseline", dropout=0.2 if key == "dropout" else 0.0)


class _Prefix:
    """The first ``n`` items of a random permutation of ``source``: a fixed number of steps over the full array."""

    def __init__(self, source, n: int, seed: int = 0):
        import torch

        self.source, self.n = source, n
        self.items = torch.randperm(len(source), generator=torch.Generator().manual_seed(seed))[:n]

    def __len__(self) -> int:
        return self.n

    def batch(self, indices):
        return self.source.batch(self.items[indices])


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """Resident set size of this process now, in MiB (Linux only; None elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(key: str, clips: int, steps: int, warmup: int, batch_size: int, device: str, threads: int) -> dict:
    """Train one model for ``warmup + steps`` steps on random dcase-sized log-mels; return its figures."""
    import numpy as np
    import torch

    from asd_utils.recipes import TrainingRecipe
    from asd_utils.training import StackedFrames, fit
    from asd_utils.utils import resolve_device, set_seed

    if threads > 0:
        torch.set_num_threads(threads)
    set_seed(0)
    dev = resolve_device(device)
    rss_after_imports = peak_rss_mb()
    rng = np.random.default_rng(0)
    log_mels = rng.standard_normal(size=(clips, N_MELS, N_FRAMES), dtype=np.float32)
    log_mels *= 15.0
    log_mels -= 60.0  # dB-like values, made in place so that no float64 copy inflates the peak
    mean, std = log_mels.mean(axis=(0, 2)), log_mels.std(axis=(0, 2))
    source = StackedFrames(log_mels, frames=FRAMES, mean=mean, std=std)
    del log_mels  # StackedFrames keeps its own standardised copy
    model = build_model(key)
    loss = lambda m, batch: m.loss(batch)  # noqa: E731
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    one_epoch = TrainingRecipe(epochs=1, batch_size=batch_size)
    fit(model, _Prefix(source, warmup * batch_size, seed=1), loss, one_epoch, device=dev, progress=False)
    history = fit(model, _Prefix(source, steps * batch_size, seed=2), loss, one_epoch, device=dev, progress=False)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    result = {"model": MODEL_NAMES[key], "key": key, "batch_size": batch_size, "steps": steps,
              "vectors_per_s": steps * batch_size / history.seconds, "vectors_per_epoch": len(source),
              "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": rss_after_imports,
              "rss_after_training_mb": current_rss_mb(),
              "threads": torch.get_num_threads(), "device": str(dev)}
    if dev.type == "cuda":
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
    return result


def _child(queue, *args):
    try:
        queue.put(measure(*args))
    except BaseException as err:  # noqa: BLE001 - report it in the parent
        queue.put({"error": f"{type(err).__name__}: {err}"})


def main(argv=None) -> int:
    from asd_utils.profiles import AE_TRAINING

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2370, help="training clips (default: 2370, the real dev set)")
    parser.add_argument("--models", default=",".join(MODEL_NAMES), help="comma-separated model keys")
    parser.add_argument("--steps", type=int, default=40, help="timed Adam steps per model (default: 40)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps (default: 5)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda (default: auto)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default 0: PyTorch's choice)")
    parser.add_argument("--same-process", action="store_true",
                        help="run every model in this process (peak memory is then cumulative)")
    args = parser.parse_args(argv)
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODEL_NAMES]
    if unknown:
        parser.error(f"unknown model key(s) {unknown}; expected some of {list(MODEL_NAMES)}")
    settings = AE_TRAINING["dcase"]
    vectors = args.clips * (N_FRAMES - FRAMES + 1)
    features_mb = args.clips * N_MELS * N_FRAMES * 4 / 2**20
    print(f"feature set: {args.clips} clips x {N_FRAMES - FRAMES + 1} vectors = {vectors:,} vectors of "
          f"{N_MELS * FRAMES} values per epoch; log-mels {features_mb:.0f} MiB (float32)")
    rows = []
    for key in keys:
        batch_size = settings[key].batch_size
        call = (key, args.clips, args.steps, args.warmup, batch_size, args.device, args.threads)
        if args.same_process:
            result = measure(*call)
        else:
            context = multiprocessing.get_context("spawn")
            queue = context.Queue()
            process = context.Process(target=_child, args=(queue, *call))
            process.start()
            result = queue.get()
            process.join()
        if "error" in result:
            print(f"{MODEL_NAMES[key]}: failed: {result['error']}", file=sys.stderr)
            return 1
        epoch_s = vectors / result["vectors_per_s"]
        result["epoch_s"] = epoch_s
        result["report_training_h"] = epoch_s * settings[key].epochs / 3600
        rows.append(result)
        gpu = f", peak GPU {result['peak_gpu_mb']:.0f} MiB" if "peak_gpu_mb" in result else ""
        steady = (f"; {result['rss_after_training_mb']:.0f} MiB after training"
                  if result.get("rss_after_training_mb") is not None else "")
        print(f"{result['model']:22s} batch {batch_size:4d}: {result['vectors_per_s']:9,.0f} vectors/s, "
              f"{epoch_s:7.1f} s/epoch, {settings[key].epochs} epochs (report) = "
              f"{result['report_training_h']:.2f} h; peak RSS {result['peak_rss_mb']:.0f} MiB "
              f"(+{result['peak_rss_mb'] - result['rss_after_imports_mb']:.0f} over the imports{steady}){gpu} "
              f"[{result['device']}, {result['threads']} thread(s)]", flush=True)
    if rows:
        total = sum(r["report_training_h"] for r in rows)
        print(f"all {len(rows)} model(s) with the report's epochs: {total:.1f} h on this machine "
              f"(the notebook trains one model per id; the total work is the same)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
