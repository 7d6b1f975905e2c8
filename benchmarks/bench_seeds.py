"""The course's headline comparison on several generator seeds: training-free statistics, the DCASE AE and the
machine-id classifiers, trained and scored with the `course` recipe as notebooks 01 and 03-06 train them.

For each seed it generates the synthetic dataset of ``--profile`` (``course``: 100/100/50 training clips per dev id;
``dcase``: the real data's clip counts, dev test clips only; in :func:`asd_utils.profiles.default_data_root`, reused
when complete), then measures dev (ids 00/02/04) and, where the data has them, eval (ids 01/03/05) mean AUC/pAUC of

* the training-free clip statistics of notebook 01 (RMS, peak, crest factor, 4-8 kHz envelope std and peak) and its
  mean-spectrum Gaussian (time-averaged log-mel, one Gaussian per id, Mahalanobis distance; ``gaussian``);
* the DCASE baseline AE (one per machine id, course settings), mean and 95th-percentile reconstruction error;
* ResNet50 (frozen), STgramNet (CE) and SepSTgramNet (CE) trained once on the normal training clips of all six ids
  (the course setting, :data:`asd_utils.profiles.CLASSIFIER_TRAINING`), scored with 1-softmax, Mahalanobis and kNN;

and the share of anomalous clips whose p(id) exceeds 0.999 (a saturated softmax). It prints one table per seed
and the mean +- std over seeds, and writes ``results.csv`` and ``summary.txt`` to ``--out``. The mean AUCs also go
to the committed results file of the profile (``benchmarks/results/seeds.csv`` or ``seeds_dcase.csv``, replacing
the rows of the seeds and models run, keeping the others; ``--results-csv ''`` skips it), from which the README's
seed tables and scorecard are rewritten.

Usage: ``.venv/bin/python benchmarks/bench_seeds.py --seeds 0 1 2 [--models ae stgramnet ...]``
(about 6-8 minutes per seed on 2 CPU cores); at the real data's size
``--profile dcase --seeds 0 1 --models stats gaussian ae stgramnet`` (about 30 minutes per seed on 2 CPU cores,
most of it STgramNet's training).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asd_utils import model_registry, profiles  # noqa: E402
from asd_utils.ae_pipeline import clip_scores, train_autoencoders  # noqa: E402
from asd_utils.classifiers import build_classifier, run_classifier  # noqa: E402
from asd_utils.classifier_inputs import class_mapping, load_clip_inputs, split_training_clips  # noqa: E402
from asd_utils.data import dataset_table  # noqa: E402
from asd_utils.metrics import evaluate_scores, fault_type_auc  # noqa: E402
from asd_utils.scoring import mean_spectrum_scores  # noqa: E402
from asd_utils.readme_tables import SEED_COLUMNS, SEED_RESULTS_CSVS, merge_rows, readme_tables_main  # noqa: E402
from asd_utils.synth import generate_dataset, training_free_scores  # noqa: E402
from asd_utils.utils import set_seed, write_text_atomic  # noqa: E402

HELDOUT_PER_ID = 8  # normal training clips per id that notebooks 05/06 keep out of training (training curves)
CLASSIFIERS = ("resnet50", "stgramnet", "sepstgramnet")  # the networks trained here (asd_utils.model_registry keys)


def _rows(model: str, score: str, table: pd.DataFrame, scores, extra: dict | None = None) -> list[dict]:
    rows = []
    for dataset in ("dev", "eval"):
        mask = (table["dataset"] == dataset).to_numpy()
        if mask.any():
            part = table[mask].reset_index(drop=True)
            m = evaluate_scores(part, np.asarray(scores)[mask])
            faults = fault_type_auc(part, np.asarray(scores)[mask])
            rows.append({"model": model, "score": score, "dataset": dataset, "mean_auc": m["mean_auc"],
                         "mean_pauc": m["mean_pauc"], **{k: v["auc"] for k, v in m["per_id"].items()},
                         **({} if faults is None else faults["all ids"].to_dict()), **(extra or {})})
    return rows


def statistics_rows(test: pd.DataFrame) -> list[dict]:
    scores = training_free_scores(test["path"])
    return [row for name in scores.columns for row in _rows("training-free", name, test, scores[name].to_numpy())]


def gaussian_rows(train: pd.DataFrame, test: pd.DataFrame, train_lm, test_lm) -> list[dict]:
    scores = mean_spectrum_scores(train_lm, train["machine_id"], test_lm, test["machine_id"])
    return _rows("mean-spectrum Gaussian", "mahalanobis", test, scores)


def autoencoder_rows(train: pd.DataFrame, test: pd.DataFrame, train_lm, test_lm) -> list[dict]:
    settings = profiles.ae_training("course")["dcase_ae"]
    groups = {m: [m] for m in sorted(train["machine_id"].unique())}
    run = train_autoencoders("dcase_ae", train_lm, train["machine_id"], groups, settings, test_logmels=test_lm,
                             test_ids=test["machine_id"])
    p95 = np.full(len(test), np.nan)
    for group, entry in run.groups.items():
        mask = (test["machine_id"] == group).to_numpy()
        p95[mask] = clip_scores(entry.model, test_lm[mask], entry.mean, entry.std,
                                lambda e: float(np.percentile(e, 95)))
    extra = {"train_s": run.seconds}
    return _rows("DCASE AE", "mean error", test, run.scores, extra) + _rows("DCASE AE", "p95 error", test, p95, extra)


def train_course_classifier(name: str, train: pd.DataFrame, test: pd.DataFrame, seed: int,
                            train_seed: int | None = None, build=build_classifier, **changes):
    """One classifier trained with the course recipe, as notebooks 04-06 train it: the :class:`ClassifierRun`.
    ``train_seed`` (default ``seed``) sets the initial weights and batch order only; ``build``
    (``build_classifier``'s signature) makes the network, so a benchmark can train a variant of it; ``changes``
    replace recipe options (``epochs=3``, ``n_train_per_id=100``, ``label_smoothing=0.0``)."""
    train_seed = seed if train_seed is None else train_seed
    spec = model_registry.CLASSIFIERS[name]
    kind, label = spec.kind, spec.name
    recipe = profiles.CLASSIFIER_TRAINING["course"][spec.recipe].replace(**changes)
    options = {**spec.options, "pretrained": recipe.pretrained}
    needs_waves = kind != "resnet50_baseline"
    reference = load_clip_inputs(train, waves=needs_waves)
    heldout_per_id = HELDOUT_PER_ID if kind != "resnet50_baseline" else 0  # as notebooks 04-06
    sample, heldout_table = split_training_clips(train, recipe.n_train_per_id, heldout_per_id, seed=seed)
    train_inputs = reference.subset(reference.table["path"].isin(sample["path"]))
    heldout = reference.subset(reference.table["path"].isin(heldout_table["path"])) if heldout_per_id else None
    test_inputs = load_clip_inputs(test, waves=needs_waves)
    set_seed(train_seed)  # the initial weights too
    model = build(kind, len(class_mapping(train["machine_id"])), **options)
    return run_classifier(label, model, train_inputs, test_inputs, recipe, seed=train_seed, reference=reference,
                          progress=False, heldout=heldout, model_key=name)


def classifier_rows(name: str, train: pd.DataFrame, test: pd.DataFrame, seed: int, train_seed: int | None = None,
                    **kwargs) -> list[dict]:
    """Rows for one classifier trained with the course recipe (:func:`train_course_classifier` takes ``kwargs``)."""
    run = train_course_classifier(name, train, test, seed, train_seed, **kwargs)
    p_id = run.p_id
    rows = []
    for key, scores in run.scores.items():
        if key == "neg_log_prob":  # ranks exactly as 1-softmax
            continue
        for row in _rows(run.name, key, test, scores, {"train_s": run.history.seconds}):
            anomalous = (test["dataset"] == row["dataset"]).to_numpy() & (test["y"] == 1).to_numpy()
            row["saturated_anomalies"] = float(np.mean(p_id[anomalous] > 0.999))
            row["test_id_accuracy"] = float(np.mean(np.argmax(run.test_logits, 1) == run.test_classes))
            rows.append(row)
    return rows


def one_seed(seed: int, models: list[str], workers: int, datasets=("dev", "eval"),
             train_seed: int | None = None, profile: str = "course") -> pd.DataFrame:
    root = ROOT / profiles.default_data_root(profile, seed)
    generate_dataset(root, profile, seed=seed, workers=workers, progress=False)
    table = dataset_table(root)
    train, test = (table[table["split"] == s].reset_index(drop=True) for s in ("train", "test"))
    test = test[test["dataset"].isin(datasets)].reset_index(drop=True)
    rows: list[dict] = []
    if "stats" in models:
        rows += statistics_rows(test)
    if {"ae", "gaussian"} & set(models):
        from asd_utils.features import log_mel_dataset
        ae_train = train[train["dataset"].isin(datasets)].reset_index(drop=True)
        train_lm, test_lm = log_mel_dataset(ae_train["path"]), log_mel_dataset(test["path"])
        if "gaussian" in models:
            rows += gaussian_rows(ae_train, test, train_lm, test_lm)
        if "ae" in models:
            rows += autoencoder_rows(ae_train, test, train_lm, test_lm)
    for name in models:
        if name in CLASSIFIERS:
            started = time.perf_counter()
            rows += classifier_rows(name, train, test, seed, train_seed)
            print(f"  seed {seed}: {name} in {time.perf_counter() - started:.0f} s", flush=True)
    return pd.DataFrame(rows).assign(seed=seed)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", choices=sorted(SEED_RESULTS_CSVS), default="course",
                        help="size of the synthetic data (the training recipe is the course's either way)")
    parser.add_argument("--models", nargs="+", default=["stats", "gaussian", "ae", *CLASSIFIERS])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=["dev", "eval"], help="test clips to score (dev, eval)")
    parser.add_argument("--train-seed", type=int, default=None,
                        help="initial weights and batch order of the classifiers (default: the generator seed); "
                             "another value measures the training noise on the same data")
    parser.add_argument("--out", default=str(ROOT / "outputs" / "bench_seeds"))
    parser.add_argument("--results-csv", default=None,
                        help="committed mean AUCs behind the README's seed table (default: the profile's file; "
                             "'' : do not write)")
    args = parser.parse_args(argv)
    if args.results_csv is None:
        args.results_csv = str(ROOT / SEED_RESULTS_CSVS[args.profile])
    torch.set_num_threads(2)
    frames = []
    for seed in args.seeds:
        frame = one_seed(seed, args.models, args.workers, args.datasets, args.train_seed, args.profile)
        frames.append(frame)
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(f"seed {seed}\n" + frame.drop(columns="seed").round(3).to_string(index=False), flush=True)
    results = pd.concat(frames, ignore_index=True)
    summary = (results.groupby(["dataset", "model", "score"], sort=False)["mean_auc"]
               .agg(["mean", "std", "count"]).round(3).reset_index())
    print(summary.to_string(index=False))
    out = Path(args.out) / args.profile
    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "results.csv", index=False, float_format="%.4f")
    (out / "summary.txt").write_text(summary.to_string(index=False) + "\n")
    if args.results_csv:
        path = Path(args.results_csv)
        old = pd.read_csv(path) if path.is_file() else None
        merged = merge_rows(old, results[SEED_COLUMNS], ["seed", "dataset", "model"])
        write_text_atomic(path, merged.to_csv(index=False))
        print(f"mean AUCs written to {path}")
        readme_tables_main([])


if __name__ == "__main__":
    main()
