"""Determinism check: train the DCASE AE on the tiny synthetic data under different CPU thread counts.

    .venv/bin/python benchmarks/bench_determinism.py [--threads 2,2,1] [--epochs 5]

Each thread count runs in a fresh process (``ASD_NUM_THREADS``, read by ``asd_utils.utils.set_seed``) and prints the
dev mean AUC and the first clip's score with all digits: equal thread counts should give identical numbers, other
thread counts may not. Data and features go to a temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile


def one_run(folder: str, epochs: int) -> dict:
    import torch

    from asd_utils import ae_pipeline
    from asd_utils.data import dataset_table, select
    from asd_utils.features import LogMelParams, log_mel_dataset
    from asd_utils.metrics import evaluate_scores
    from asd_utils.synth import generate_dataset
    from asd_utils.utils import set_seed
    from asd_utils.recipes import TrainingRecipe

    root = os.path.join(folder, "data")
    if not os.path.isdir(root):
        generate_dataset(root, profile="tiny", progress=False)
    set_seed(0)
    table = dataset_table(root, "slider", datasets=("dev",))
    train, test = select(table, split="train"), select(table, split="test")
    cache = os.path.join(folder, "cache")
    train_logmels = log_mel_dataset(train["path"], LogMelParams(), cache_dir=cache, device="cpu")
    test_logmels = log_mel_dataset(test["path"], LogMelParams(), cache_dir=cache, device="cpu")
    run = ae_pipeline.train_autoencoders("dcase_ae", train_logmels, train["machine_id"],
                                         ae_pipeline.machine_groups(train["machine_id"]),
                                         TrainingRecipe(epochs=epochs, batch_size=256, learning_rate=1e-3),
                                         test_logmels=test_logmels,
                                         test_ids=test["machine_id"], device="cpu")
    return {"threads": torch.get_num_threads(), "mean_auc": evaluate_scores(test, run.scores)["mean_auc"],
            "first_score": repr(float(run.scores[0]))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="2,2,1")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)  # one run, in a child process
    args = parser.parse_args()
    if args.folder:
        print(json.dumps(one_run(args.folder, args.epochs)))
        return 0
    with tempfile.TemporaryDirectory(prefix="asd_determinism_") as folder:
        for threads in args.threads.split(","):
            env = {**os.environ, "ASD_NUM_THREADS": threads.strip()}
            out = subprocess.run([sys.executable, __file__, "--folder", folder, "--epochs", str(args.epochs)],
                                 env=env, check=True, capture_output=True, text=True).stdout
            print(out.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
