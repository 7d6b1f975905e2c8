"""Training and scoring speed, and peak memory, of the machine-id classifiers of notebooks 04-06.

Each model runs in its own Python process (so that its peak memory is its own) on random 10 s clips:

* ``ResNet50 head-only``: one frozen ResNet-50 embedding pass over the clips, then the head's epochs
  (what notebook 04 does; the embedding pass is counted as training time);
* ``STgramNet (CE)``, ``STgramNet (ArcFace)``, ``SepSTgramNet (CE)``: full training steps.

Reported per model: training clips per second (clips x epochs / wall time, after one warm-up step), scoring clips per
second (eval-mode forward pass as in :func:`asd_utils.classifiers.predict`), peak resident memory of the process
(MiB) and, on a GPU, peak allocated GPU memory. Numbers on a shared machine are inflated by other jobs.

Usage::

    python benchmarks/bench_classifiers.py [--clips 16] [--batch-size 8] [--epochs 1] [--device auto]
                                           [--models resnet50,stgramnet,stgramnet_arcface,sepstgramnet]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

MODELS = {
    "resnet50": ("ResNet50 head-only (frozen, incl. embedding pass)", "resnet50_baseline", {"pretrained": False}),
    "stgramnet": ("STgramNet (CE)", "stgramnet", {}),
    "stgramnet_arcface": ("STgramNet (ArcFace)", "stgramnet", {"head": "arcface"}),
    "sepstgramnet": ("SepSTgramNet (CE)", "sepstgramnet", {}),
}


def worker(key: str, clips: int, batch_size: int, epochs: int, device_name: str) -> dict:
    """Benchmark one model in this process; returns the measurements as a dict."""
    import numpy as np
    import pandas as pd
    import torch

    from asd_utils import classifier_inputs as ci
    from asd_utils import classifiers as cl
    from asd_utils.features import log_mel
    from asd_utils.utils import resolve_device, set_seed
    from asd_utils.recipes import ClassifierRecipe

    set_seed(0)
    device = resolve_device(device_name)
    _, kind, options = MODELS[key]
    rng = np.random.default_rng(0)
    waves = (0.01 * rng.standard_normal((clips, 160000))).astype(np.float32)
    table = pd.DataFrame({"machine_id": [f"id_0{2 * (i % 3)}" for i in range(clips)], "y": 0.0,
                          "file_name": [f"{i}.wav" for i in range(clips)], "path": [f"{i}.wav" for i in range(clips)]})
    inputs = ci.ClipInputs(table, waves, log_mel(waves))
    mapping = ci.class_mapping(table["machine_id"])
    classes = ci.class_indices(table["machine_id"], mapping)
    norm = ci.logmel_stats(inputs.logmels)
    model = cl.build_classifier(kind, num_classes=len(mapping), **options)
    warm = ci.ClipInputs(table[:batch_size], waves[:batch_size], inputs.logmels[:batch_size])
    recipe = ClassifierRecipe(epochs=1, batch_size=batch_size, learning_rate=1e-4)
    cl.train_classifier(model, warm, classes[:batch_size], norm, recipe, device=device, progress=False)  # warm-up step
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    history = cl.train_classifier(model, inputs, classes, norm, recipe.replace(epochs=epochs), device=device,
                                  progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    cl.predict(model, inputs, norm, device=device, batch_size=max(batch_size, 16))
    if device.type == "cuda":
        torch.cuda.synchronize()
    scoring_seconds = time.perf_counter() - started
    return {"model": MODELS[key][0], "device": str(device), "threads": torch.get_num_threads(),
            "train_clips_per_s": clips * epochs / history.seconds, "score_clips_per_s": clips / scoring_seconds,
            "train_s_per_clip_epoch": history.seconds / (clips * epochs),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=16, help="random 10 s clips per model (default 16)")
    parser.add_argument("--batch-size", type=int, default=8, help="training batch size (default 8)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs timed (default 1)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda (default auto)")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated subset of {','.join(MODELS)}")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.clips, args.batch_size, args.epochs, args.device)))
        return 0
    rows = []
    for key in [m.strip() for m in args.models.split(",") if m.strip()]:
        if key not in MODELS:
            parser.error(f"unknown model {key!r}; expected one of {', '.join(MODELS)}")
        command = [sys.executable, __file__, "--worker", key, "--clips", str(args.clips), "--batch-size",
                   str(args.batch_size), "--epochs", str(args.epochs), "--device", args.device]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{key}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"done: {rows[-1]['model']}", file=sys.stderr, flush=True)
    print(f"\n{args.clips} random 10 s clips, batch size {args.batch_size}, {args.epochs} epoch(s), "
          f"device {rows[0]['device']}, {rows[0]['threads']} threads\n")
    header = f"{'model':52s} {'train clips/s':>13s} {'s/clip/epoch':>12s} {'score clips/s':>13s} {'peak RSS MiB':>12s} {'peak GPU MiB':>12s}"
    print(header)
    print("-" * len(header))
    for row in rows:
        gpu = f"{row['peak_gpu_mib']:12.0f}" if row["peak_gpu_mib"] is not None else f"{'-':>12s}"
        print(f"{row['model']:52s} {row['train_clips_per_s']:13.2f} {row['train_s_per_clip_epoch']:12.3f} "
              f"{row['score_clips_per_s']:13.2f} {row['peak_rss_mib']:12.0f} {gpu}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
