"""Why the classifiers' Eq. 1 score (1 - softmax) falls as the training set grows: controlled experiments at the
real data's size (issue 23).

On one synthetic dataset of the ``dcase`` profile's clip counts (``synth --profile dcase``: 968/968/434 normal
training clips per dev id), it trains STgramNet (CE) with the course recipe (``bench_seeds.py``'s
:func:`train_course_classifier`) on ``--train-per-id`` clips per id (0: all), and for each run

* scores the dev test clips with Eq. 1 and the Mahalanobis distance: AUC per id and per fault type, the median
  p(own id) of normal and anomalous test clips, the share of anomalous clips *more* sure of their id than the median
  normal clip (a score below chance means the fault makes the classifier surer);
* ``--label-smoothing`` retrains the largest size with other label smoothing (the course recipe uses 0.1, the
  reports' recipe none) to test whether the smoothed target is what normal clips converge to;
* ``--ablate``: re-renders the dev test anomalous clips with one ingredient of every fault switched off (the
  worn machine's louder friction, the frequency shifts, the fault's own sounds) and scores them with the same trained
  model, the normal clips unchanged: the ingredient whose removal restores Eq. 1 is the one that made the
  classifier surer.

Eq. 1 is also scored with the softmax over the development ids only ("1-softmax over dev ids"): the classifier
is trained on the evaluation ids too, and this takes their classes out of the normaliser.

Per-clip scores go to ``--out``/clips.csv, the summary to ``--out``/summary.csv (and is printed), each run's
logits and embeddings to ``--out``/<run>.npz (each ablation's to ablation_<name>.npz), for analyses without
retraining.

Usage: ``.venv/bin/python benchmarks/bench_data_size.py --data-root data/synthetic_dcase --train-per-id 100 0
--ablate``. Eq. 1 varies a lot from one training run to the next; compare sizes over several runs
(``bench_seeds.py --train-seed``) before reading a difference as an effect of size.
``benchmarks/results/data_size_real_seed0.csv`` is the summary of ``--train-per-id 0 --label-smoothing 0 --ablate``
on the seed-0 real-size data (notebook 07 and the README read it); ``data_size_real_seed1.csv`` of ``--train-per-id
--label-smoothing 0`` (plain cross-entropy only) on seed 1's; ``data_size_seed0.csv`` of ``--train-per-id 100``;
``label_smoothing_course.csv`` of ``--data-root data/synthetic_course[_seedN] --train-per-id 0 --label-smoothing 0
--results-csv benchmarks/results/label_smoothing_course.csv`` for seeds 0-2 (the course's size, where "all per id" is
the course recipe itself).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_seeds  # noqa: E402
from asd_utils import slider_machines, slider_sound  # noqa: E402
from asd_utils.classifiers import predict  # noqa: E402
from asd_utils.classifier_inputs import class_indices, load_clip_inputs  # noqa: E402
from asd_utils.scoring import p_own_id  # noqa: E402
from asd_utils.data import dataset_table  # noqa: E402
from asd_utils.metrics import evaluate_scores  # noqa: E402
from asd_utils.scoring import classifier_scores  # noqa: E402
from asd_utils.provenance import synthetic_dataset_info  # noqa: E402
from asd_utils.synth import clip_parameters, quantize_pcm16  # noqa: E402
from asd_utils.utils import resolve_path, write_text_atomic  # noqa: E402
from asd_utils.readme_tables import merge_rows  # noqa: E402

#: fault ingredients and the module constants of :mod:`asd_utils.slider_sound` that switch each one off
ABLATIONS = {
    "no louder friction": {"WEAR_GAIN_DB": 0.0, "GREASE_BASE_GAIN": 0.0, "GREASE_FRICTION_GAIN": 0.0,
                           "RAIL_RATTLE_GAIN": 0.0},
    "no frequency shifts": {"RAIL_DETUNE": 0.0, "RAIL_SPEED_DIP": 0.0, "LOOSE_MESH_SHIFT": 0.0,
                            "LOOSE_MOTOR_SHIFT": 0.0, "LOOSE_FLUTTER": 0.0, "LOOSE_SLIP_RACE": 0.0,
                            "GREASE_SPEED_DROP": 0.0},
    "no fault sounds": {"RAIL_IMPACT_PEAK": 0.0, "LOOSE_SNAP_PEAK": 0.0, "LOOSE_SKIP_PEAK": 0.0,
                        "LOOSE_FLAP_RMS": 0.0, "GREASE_SQUEAL_AMP": 0.0},
}


@contextmanager
def generator_constants(**values):
    """Set constants of the generator for the duration of the block: in :mod:`asd_utils.slider_machines` and
    :mod:`asd_utils.slider_sound`, wherever the name is (a constant one imports from the other is set in both)."""
    targets = [(module, name) for name in values for module in (slider_machines, slider_sound) if name in vars(module)]
    unknown = set(values) - {name for _, name in targets}
    if unknown:
        raise ValueError(f"not constants of asd_utils.slider_machines or asd_utils.slider_sound: {sorted(unknown)}")
    old = [(module, name, getattr(module, name)) for module, name in targets]
    for module, name in targets:
        setattr(module, name, values[name])
    try:
        yield
    finally:
        for module, name, value in old:
            setattr(module, name, value)


def summary_rows(label: str, test: pd.DataFrame, scores: dict, p_own: np.ndarray, extra: dict) -> list[dict]:
    rows = []
    normal = (test["y"] == 0).to_numpy()
    for score in [s for s in ("1-softmax", "1-softmax over dev ids", "mahalanobis") if s in scores]:
        per_id = evaluate_scores(test, scores[score])["per_id"]
        for mid, part in test.groupby("machine_id"):
            rows_of_id = (test["machine_id"] == mid).to_numpy()
            median_normal = float(np.median(p_own[rows_of_id & normal]))
            row = {"run": label, "score": score, "machine_id": mid, "auc": per_id[mid]["auc"],
                   "median_p_normal": median_normal,
                   "median_p_anomalous": float(np.median(p_own[rows_of_id & ~normal])),
                   "anomalous_surer_than_median_normal": float(np.mean(p_own[rows_of_id & ~normal] > median_normal)),
                   **extra}
            for fault in sorted(set(part["anomaly_type"]) - {"none"}):
                chosen = rows_of_id & ((test["anomaly_type"] == fault).to_numpy() | normal)
                row[f"auc {fault}"] = evaluate_scores(test[chosen].reset_index(drop=True),
                                                      scores[score][chosen])["per_id"][mid]["auc"]
            rows.append(row)
    return rows


def with_dev_softmax(scores: dict, logits: np.ndarray, test: pd.DataFrame, mapping: dict) -> dict:
    """``scores`` plus Eq. 1 with the softmax taken over the development ids' classes only: the evaluation ids'
    logits, trained on their own clips, leave the normaliser (does their presence make anomalous clips surer?)."""
    dev_ids = sorted(set(test["machine_id"]))
    columns = [mapping[mid] for mid in dev_ids]
    own = [dev_ids.index(mid) for mid in test["machine_id"]]
    return {**scores, "1-softmax over dev ids": 1.0 - p_own_id(logits[:, columns], own)}


def save_outputs(path: Path, run, test: pd.DataFrame, logits=None, embeddings=None) -> None:
    """Logits and embeddings of one run as ``.npz`` (written to a temporary name, then renamed), so a later
    analysis needs no retraining."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, test_logits=run.test_logits if logits is None else logits,
                        test_embeddings=run.test_embeddings if embeddings is None else embeddings,
                        train_embeddings=run.train_embeddings, train_classes=run.train_classes,
                        test_path=test["path"].to_numpy(str), classes=np.array(sorted(run.mapping, key=run.mapping.get)))
    tmp.replace(path)


def rerendered_anomalies(test: pd.DataFrame, seed: int, folder: Path, constants: dict) -> pd.DataFrame:
    """The anomalous clips of ``test`` rendered again with ``constants`` changed, as 16-bit WAVs under ``folder``."""
    rows = []
    with generator_constants(**constants):
        for _, row in test[test["y"] == 1].iterrows():
            name = Path(row["path"]).name
            index = int(name.rsplit("_", 1)[1].split(".")[0])
            machine, params = clip_parameters(seed, "slider", row["machine_id"], "test", "anomaly", index)
            target = folder / name
            sf.write(target, quantize_pcm16(slider_sound.render_clip(machine, params)), 16000, subtype="PCM_16")
            rows.append({**row.to_dict(), "path": str(target)})
    return pd.DataFrame(rows)


def ablation_rows(run, test: pd.DataFrame, seed: int, label: str, out: Path) -> list[dict]:
    normal_rows = (test["y"] == 0).to_numpy()
    normal_logits, normal_emb = run.test_logits[normal_rows], run.test_embeddings[normal_rows]
    rows = []
    for ablation, constants in {"as generated": {}, **ABLATIONS}.items():
        with tempfile.TemporaryDirectory() as tmp:
            anomalies = rerendered_anomalies(test, seed, Path(tmp), constants)
            inputs = load_clip_inputs(anomalies, cache_dir=Path(tmp) / "cache")
            logits, emb = predict(run.model, inputs, run.norm)
        table = pd.concat([test[normal_rows], anomalies], ignore_index=True)
        classes = class_indices(table["machine_id"], run.mapping)
        all_logits, all_emb = np.concatenate([normal_logits, logits]), np.concatenate([normal_emb, emb])
        scores = with_dev_softmax(classifier_scores(all_logits, all_emb, classes, run.train_embeddings,
                                                    run.train_classes), all_logits, table, run.mapping)
        save_outputs(out / f"ablation_{ablation.replace(' ', '_')}.npz", run, table, all_logits, all_emb)
        rows += summary_rows(f"{label} · {ablation}", table, scores, p_own_id(all_logits, classes),
                             {"ablation": ablation})
        print(f"  {ablation}: Eq. 1 AUC " + ", ".join(
            f"{r['machine_id']} {r['auc']:.3f}" for r in rows[-9:] if r["score"] == "1-softmax"), flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="data/synthetic_dcase")
    parser.add_argument("--train-per-id", type=int, nargs="*", default=[100, 300, 0],
                        help="normal training clips per id (0: all); none: only the --label-smoothing runs, on all")
    parser.add_argument("--label-smoothing", type=float, nargs="*", default=[],
                        help="also train the largest size with these label smoothings")
    parser.add_argument("--ablate", action="store_true", help="re-render the anomalies without each fault ingredient")
    parser.add_argument("--out", default=str(bench_seeds.ROOT / "outputs" / "bench_data_size"))
    parser.add_argument("--results-csv", default="",
                        help="also merge the summary, with a seed column, into this CSV (replacing that seed's rows)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    root = resolve_path(args.data_root)
    info = synthetic_dataset_info(root)
    if info is None:
        raise SystemExit(f"{root} is not a dataset written by `python -m asd_utils synth`: the ablations re-render "
                         "its clips, so it must be one")
    seed = int(info["seed"])
    table = dataset_table(root)
    train = table[table["split"] == "train"].reset_index(drop=True)
    test = table[(table["split"] == "test") & (table["dataset"] == "dev")].reset_index(drop=True)
    largest = 0 if 0 in args.train_per_id or not args.train_per_id else max(args.train_per_id)  # 0: every clip
    runs = [({"n_train_per_id": n}, f"{n or 'all'} per id") for n in args.train_per_id]
    runs += [({"n_train_per_id": largest, "label_smoothing": ls},
              f"{largest or 'all'} per id, label smoothing {ls:g}") for ls in args.label_smoothing]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary, clips = [], []
    for changes, label in runs:
        started = time.perf_counter()
        run = bench_seeds.train_course_classifier("stgramnet", train, test, seed, **changes)
        seconds = time.perf_counter() - started
        accuracy = float(np.mean(np.argmax(run.test_logits, 1) == run.test_classes))
        save_outputs(out / f"{label.replace(' ', '_').replace(',', '')}.npz", run, test)
        summary += summary_rows(label, test, with_dev_softmax(run.scores, run.test_logits, test, run.mapping), run.p_id,
                                {"ablation": "", "train_s": round(run.history.seconds), "test_id_accuracy": accuracy,
                                 "n_train_clips": run.hyperparameters["n_train_clips"]})
        clips.append(test[["path", "machine_id", "y", "anomaly_type", "severity", "snr_db"]].assign(
            run=label, p_own=run.p_id, eq1=run.scores["1-softmax"], mahalanobis=run.scores["mahalanobis"]))
        print(f"{label}: trained {run.history.seconds:.0f} s ({seconds:.0f} s in all), test id accuracy "
              f"{accuracy:.3f}", flush=True)
        if args.ablate and changes == {"n_train_per_id": largest}:
            summary += ablation_rows(run, test, seed, label, out)
        frame = pd.DataFrame(summary)
        write_text_atomic(out / "summary.csv", frame.to_csv(index=False, float_format="%.4f"))
        write_text_atomic(out / "clips.csv", pd.concat(clips).to_csv(index=False, float_format="%.5f"))
    if args.results_csv:
        results = resolve_path(args.results_csv)
        new = pd.DataFrame(summary).assign(seed=seed)
        merged = merge_rows(pd.read_csv(results) if results.is_file() else None, new, ["seed"])
        write_text_atomic(results, merged.sort_values(["seed"], kind="stable").to_csv(index=False, float_format="%.4f"))
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(pd.DataFrame(summary).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
