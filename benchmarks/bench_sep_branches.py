"""Which view helps the 1-softmax score (Eq. 1)? STgramNet and SepSTgramNet with one view switched off.

Trains, exactly as ``bench_seeds.py`` (the course recipe of notebooks 05/06), on generator seed ``--seed``:

* ``st_full`` / ``sep_full``: STgramNet / SepSTgramNet as in the notebooks;
* ``st_logmel_only``: STgramNet with its Tgram channel set to zero (the image is ``[log-mel, 0, 0]``);
* ``sep_logmel_only`` / ``sep_tgram_only``: SepSTgramNet with the Tgram (log-mel) half of its joined 1024-d feature
  set to zero, so only one backbone is trained and used;
* ``sep_linear_head``: SepSTgramNet without its hidden layer (the head reads the joined 1024-d feature, as
  STgramNet's head reads its 512-d one);

``--epochs N`` trains every variant for N epochs instead of the course's number (with the same cosine decay to 0);
``--train-seed S`` changes only the initial weights and batch order.
and prints the dev mean AUC of Eq. 1, Mahalanobis and kNN per variant, per id, with the test id accuracy and the
share of saturated anomalous clips (p(id) > 0.999). The rows also go to the committed
``benchmarks/results/sep_controls.csv`` (replacing rows of the same seed, training seed, variant and epochs;
``--results-csv ''`` skips it), which notebook 06 section 7 reads.
Usage: ``.venv/bin/python benchmarks/bench_sep_branches.py --seed 0 --variants sep_full sep_logmel_only``
(1-3 minutes per variant on 2 idle CPU cores).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

import bench_seeds
from asd_utils.classifiers import build_classifier
from asd_utils.data import dataset_table
from asd_utils import profiles
from asd_utils.models.heads import make_head
from asd_utils.models.stgram import SepSTgramNet, STgramNet, single_channel_map, three_channels
from asd_utils.readme_tables import merge_rows
from asd_utils.utils import write_text_atomic

RESULTS_CSV = bench_seeds.ROOT / "benchmarks" / "results" / "sep_controls.csv"
COLUMNS = ["seed", "train_seed", "variant", "epochs", "score", "mean_auc", "id_00", "id_02", "id_04",
           "test_id_accuracy", "saturated_anomalies", "loose_belt", "no_grease", "rail_damage"]

VARIANTS = ("st_full", "st_logmel_only", "sep_full", "sep_logmel_only", "sep_tgram_only", "sep_linear_head")


class SepWithoutOneView(SepSTgramNet):
    """SepSTgramNet whose ``off`` branch ("tgram" or "logmel") contributes zeros to the joined feature."""

    def __init__(self, num_classes: int, off: str):
        super().__init__(num_classes)
        self.off = off

    def embed_inputs(self, wave, logmel):
        logmel = single_channel_map(logmel, "logmel")
        spectral = self.spectral_backbone(three_channels(logmel)) if self.off != "logmel" else None
        temporal = self.temporal_backbone(three_channels(self.tgram(wave))) if self.off != "tgram" else None
        spectral = torch.zeros_like(temporal) if spectral is None else spectral
        temporal = torch.zeros_like(spectral) if temporal is None else temporal
        return self.relu(self.fc1(torch.cat([spectral, temporal], dim=1)))


class SepLinearHead(SepSTgramNet):
    """SepSTgramNet whose head reads the joined 1024-d feature directly (no ``fc1`` + ReLU)."""

    def __init__(self, num_classes: int):
        super().__init__(num_classes)
        self.fc1 = None
        self.embedding_dim = 1024
        self.head = make_head("softmax", 1024, num_classes)

    def embed_inputs(self, wave, logmel):
        logmel = single_channel_map(logmel, "logmel")
        return torch.cat([self.spectral_backbone(three_channels(logmel)),
                          self.temporal_backbone(three_channels(self.tgram(wave)))], dim=1)


class STgramWithoutTgram(STgramNet):
    """STgramNet whose Tgram channel is zero: the image is ``[log-mel, 0, 0]``."""

    def stgram(self, wave, logmel):
        logmel = single_channel_map(logmel, "logmel")
        return torch.stack([logmel, torch.zeros_like(logmel), torch.zeros_like(logmel)], dim=1)


def builder(variant: str, original):
    def build(kind, num_classes, **options):
        if variant == "st_logmel_only":
            return STgramWithoutTgram(num_classes)
        if variant == "sep_linear_head":
            return SepLinearHead(num_classes)
        if variant in ("sep_logmel_only", "sep_tgram_only"):
            return SepWithoutOneView(num_classes, off="tgram" if variant == "sep_logmel_only" else "logmel")
        return original(kind, num_classes, **options)
    return build


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-seed", type=int, default=None,
                        help="seed of the initial weights and batch order (default: --seed, as the course)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs instead of the course recipe's")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--results-csv", default=str(RESULTS_CSV), help="committed rows ('': do not write)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    root = bench_seeds.ROOT / "data" / f"synthetic_course_seed{args.seed}"  # made by bench_seeds.py
    table = dataset_table(root)
    train, test = (table[table["split"] == s].reset_index(drop=True) for s in ("train", "test"))
    test = test[test["dataset"] == "dev"].reset_index(drop=True)
    for variant in args.variants:
        started = time.perf_counter()
        name = "stgramnet" if variant.startswith("st_") else "sepstgramnet"
        trained_epochs = args.epochs or profiles.CLASSIFIER_TRAINING["course"][name].epochs
        rows = bench_seeds.classifier_rows(name, train, test, args.seed, args.train_seed, epochs=trained_epochs,
                                           build=builder(variant, build_classifier))
        frame = pd.DataFrame(rows).assign(seed=args.seed, variant=variant, epochs=trained_epochs,
                                          train_seed=args.seed if args.train_seed is None else args.train_seed)
        frame = frame[COLUMNS].round(4)
        if args.results_csv:
            save_rows(Path(args.results_csv), frame)
        print(f"seed {args.seed} · train seed {args.train_seed} · {variant} · {trained_epochs} epochs "
              f"({time.perf_counter() - started:.0f} s)\n"
              + frame[COLUMNS[4:]].round(3).to_string(index=False), flush=True)


def save_rows(path: Path, frame: pd.DataFrame) -> None:
    """Merge ``frame`` into the CSV at ``path`` (written to a temporary name, then renamed)."""
    old = pd.read_csv(path) if path.is_file() else None
    merged = merge_rows(old, frame, ["seed", "train_seed", "variant", "epochs", "score"])
    merged = merged.sort_values(["variant", "epochs", "seed", "train_seed", "score"])
    write_text_atomic(path, merged.to_csv(index=False))


if __name__ == "__main__":
    main()
