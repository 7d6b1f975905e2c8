"""What a trained model listens to, and what a change of the faults would do to every model (issue 23).

Training a classifier at the real data's size takes about half an hour on 2 CPU cores; rendering and scoring the
1,101 dev test clips takes a minute or two. So this benchmark trains once per dataset (STgramNet (CE) with the
course recipe, as ``bench_seeds.py``; the DCASE AE per dev id; the mean-spectrum Gaussian), keeps the models under
``--models-dir`` and then, without retraining:

* ``--cues``: re-renders the dev test **normal** clips with one id cue of their machine moved (the stroke period,
  the motor and mesh lines, the resonances, the rail joints, ...) and measures how much that lowers each model's
  confidence that the clip is normal: the AUC of "cue moved" against "as generated", per model and score. A cue the
  classifier hardly notices cannot lower its p(own id) when a fault moves it.
* ``--variants``: re-renders the dev test **anomalous** clips with generator constants changed
  (:data:`VARIANTS`; the normal clips, and so every trained model, stay as they are) and scores them with every
  model: the dev mean AUC of Eq. 1, Mahalanobis, the DCASE AE, the Gaussian and the level statistics
  (``as generated`` scores the dataset's own files).
* ``--generate NAME=VALUE ...``: first writes a dataset of ``--profile`` and ``--seed`` to ``--data-root`` with
  constants of the generator changed for every clip, normal ones included (a candidate revision of the generator;
  the constants are kept in ``generator_constants.json`` there and applied to every re-rendering).

Usage: ``.venv/bin/python benchmarks/bench_fault_variants.py --data-root data/synthetic_dcase_seed1 --cues
--variants "as generated" "no wear gain" --results-dir benchmarks/results``. Results go to ``--out``/cues.csv and
variants.csv (and are printed); ``benchmarks/results/id_cues.csv`` and ``fault_variants.csv`` hold the committed
runs (notebook 07 reads them).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_seeds  # noqa: E402
from bench_data_size import generator_constants  # noqa: E402
from asd_utils import profiles, slider_sound  # noqa: E402
from asd_utils.ae_pipeline import (autoencoder_scores, load_autoencoders, save_autoencoders,  # noqa: E402
                                   train_autoencoders)
from asd_utils.classifier_files import rescore, save_classifier  # noqa: E402
from asd_utils.data import dataset_table  # noqa: E402
from asd_utils.features import LogMelParams, log_mel_dataset  # noqa: E402
from asd_utils.levels import training_free_scores  # noqa: E402
from asd_utils.metrics import evaluate_scores  # noqa: E402
from asd_utils.provenance import synthetic_dataset_info  # noqa: E402
from asd_utils.scoring import mean_spectrum_scores  # noqa: E402
from asd_utils.synth import clip_parameters, generate_dataset, quantize_pcm16  # noqa: E402
from asd_utils.readme_tables import merge_rows  # noqa: E402
from asd_utils.utils import resolve_path, write_text_atomic  # noqa: E402

#: id cues of a machine and how to move one for a test: (machine fields scaled, clip fields scaled, factor)
CUES = {
    "stroke period +4 %": ({"stroke_period_s": 1.04}, {"stroke_period_s": 1.04}),
    "stroke period -4 %": ({"stroke_period_s": 0.96}, {"stroke_period_s": 0.96}),
    "motor line +3 %": ({"motor_hz": 1.03}, {}),
    "mesh line -3 %": ({"mesh_hz": 0.97}, {}),
    "all tonal lines -3 %": ({"motor_hz": 0.97, "mesh_hz": 0.97}, {}),
    "resonances -4 %": ({"resonance_hz": 0.96}, {}),
    "joints moved": ({"joints": "shift"}, {}),
    "friction 3 dB louder": ({}, {"load_db": "+3"}),
    "SNR 6 dB lower": ({}, {"snr_db": "-6"}),
}

#: fault variants: generator constants of asd_utils.slider_sound (the anomalies are re-rendered with them)
_NO_LOUDER_FRICTION = {"WEAR_GAIN_DB": 0.0, "GREASE_BASE_GAIN": 0.0, "GREASE_FRICTION_GAIN": 0.0,
                       "RAIL_RATTLE_GAIN": 0.0}
_SHIFTS = ("RAIL_DETUNE", "RAIL_SPEED_DIP", "LOOSE_MESH_SHIFT", "LOOSE_MOTOR_SHIFT", "GREASE_SPEED_DROP")
_NO_SHIFTS = {name: 0.0 for name in (*_SHIFTS, "LOOSE_FLUTTER", "LOOSE_SLIP_RACE")}
_SHIFTS_TWICE = {name: 2 * getattr(slider_sound, name) for name in _SHIFTS}
VARIANTS = {
    "as generated": {},
    "no wear gain": {"WEAR_GAIN_DB": 0.0},
    "no louder friction": _NO_LOUDER_FRICTION,
    "no frequency shifts": _NO_SHIFTS,
    "frequency shifts x2": _SHIFTS_TWICE,
    "no wear gain, shifts x2": {"WEAR_GAIN_DB": 0.0, **_SHIFTS_TWICE},
    "no louder friction, shifts x2": {**_NO_LOUDER_FRICTION, **_SHIFTS_TWICE},
    # candidate wear symptoms that blur the machine's own cues (asd_utils.slider_sound, off as generated)
    "resonances scattered 10 %": {"WEAR_RESONANCE_SCATTER": 0.10},
    "tonal lines jittered 1 %": {"WEAR_TONE_JITTER": 0.01},
    "no louder friction, resonances scattered 5 %, lines jittered 1 %": {
        **_NO_LOUDER_FRICTION, "WEAR_RESONANCE_SCATTER": 0.05, "WEAR_TONE_JITTER": 0.01},
}


def _moved(value, factor):
    if factor == "shift":  # every joint a fifth of the rail further on, wrapped into the rail's middle
        return tuple(round(0.15 + (x - 0.15 + 0.2) % 0.7, 4) for x in value)
    if isinstance(factor, str):
        return value + float(factor)
    if isinstance(value, tuple):
        return tuple(v * factor for v in value)
    return value * factor


def _render(rows: pd.DataFrame, seed: int, folder: Path, cue: tuple[dict, dict] | None = None,
            constants: dict | None = None) -> pd.DataFrame:
    """``rows``' clips rendered again (a cue moved, or generator constants changed) as 16-bit WAVs in ``folder``."""
    out = []
    with generator_constants(**(constants or {})):
        for _, row in rows.iterrows():
            name = Path(row["path"]).name
            label = "anomaly" if row["y"] == 1 else "normal"
            machine, params = clip_parameters(seed, "slider", row["machine_id"], "test", label,
                                    int(name.rsplit("_", 1)[1].split(".")[0]))
            if cue is not None:
                machine = dataclasses.replace(machine, **{k: _moved(getattr(machine, k), f) for k, f in cue[0].items()})
                params = dataclasses.replace(params, **{k: _moved(getattr(params, k), f) for k, f in cue[1].items()})
            target = folder / name
            sf.write(target, quantize_pcm16(slider_sound.render_clip(machine, params)), 16000, subtype="PCM_16")
            out.append({**row.to_dict(), "path": str(target)})
    return pd.DataFrame(out)


def generated_dataset(root: Path, profile: str, seed: int, assignments: list[str]) -> None:
    """Write the dataset of ``profile`` and ``seed`` to ``root`` with the generator constants ``NAME=VALUE`` set
    (one process: worker processes would not see them); a complete one with the same constants is reused."""
    constants = {name: json.loads(value) for name, _, value in (a.partition("=") for a in assignments)}
    record = root / "generator_constants.json"
    if record.is_file() and json.loads(record.read_text()) != constants:
        raise SystemExit(f"{root} was generated with other constants ({record.read_text().strip()}): "
                         "choose another --data-root")
    with generator_constants(**constants):
        generate_dataset(root, profile, seed=seed, workers=1, progress=False)
    write_text_atomic(record, json.dumps(constants))


def trained_models(train: pd.DataFrame, test: pd.DataFrame, seed: int, models_dir: Path) -> tuple[Path, Path]:
    """The checkpoints of STgramNet (CE) and the per-id DCASE AE trained on ``train``, trained if not there yet."""
    models_dir.mkdir(parents=True, exist_ok=True)
    classifier, autoencoder = models_dir / "stgramnet_ce.pt", models_dir / "dcase_ae.pt"
    if not classifier.is_file():
        started = time.perf_counter()
        run = bench_seeds.train_course_classifier("stgramnet", train, test, seed)
        save_classifier(classifier, run)
        print(f"STgramNet trained in {time.perf_counter() - started:.0f} s", flush=True)
    if not autoencoder.is_file():
        dev_train = train[train["machine_id"].isin(test["machine_id"].unique())].reset_index(drop=True)
        recipe = profiles.ae_training("course")["dcase_ae"]
        groups = {m: [m] for m in sorted(dev_train["machine_id"].unique())}
        run = train_autoencoders("dcase_ae", log_mel_dataset(dev_train["path"]), dev_train["machine_id"], groups,
                                 recipe)
        save_autoencoders(autoencoder, run, LogMelParams(), {})
        print(f"DCASE AE trained in {run.seconds:.0f} s", flush=True)
    return classifier, autoencoder


def all_scores(table: pd.DataFrame, classifier: Path, autoencoders: dict, dev_train: pd.DataFrame,
               cache_dir: Path) -> dict[str, np.ndarray]:
    """Every model's anomaly score of the clips of ``table`` (higher = more anomalous)."""
    run = rescore(classifier, table, cache_dir=cache_dir, device="cpu")
    logmels = log_mel_dataset(table["path"], cache_dir=cache_dir)
    stats = training_free_scores(table["path"])
    normal_logmels = log_mel_dataset(dev_train["path"])
    scores = {"STgramNet (CE) · Eq. 1": run.scores["1-softmax"],
              "STgramNet (CE) · Mahalanobis": run.scores["mahalanobis"],
              "DCASE AE · mean error": autoencoder_scores(autoencoders, logmels, table["machine_id"]),
              "mean-spectrum Gaussian": mean_spectrum_scores(normal_logmels, dev_train["machine_id"], logmels,
                                                             table["machine_id"])}
    return {**scores, **{f"level · {name}": stats[name].to_numpy() for name in stats.columns}}


def auc_rows(label: str, table: pd.DataFrame, scores: dict) -> list[dict]:
    rows = []
    for name, values in scores.items():
        result = evaluate_scores(table, values)
        rows.append({"case": label, "score": name, "mean_auc": result["mean_auc"],
                     **{mid: r["auc"] for mid, r in result["per_id"].items()}})
    return rows


def merge_results(folder: str, name: str, rows: list[dict], root: Path, seed: int, dev_train: pd.DataFrame,
                  constants: dict) -> None:
    """Merge ``rows`` into ``folder/name`` keyed by the dataset (its folder name) and case, with its seed, the normal
    training clips of its dev ids and the generator constants it was written with."""
    if not folder:
        return
    path = resolve_path(folder) / name
    new = pd.DataFrame(rows).assign(data=root.name, seed=seed, n_train_dev=len(dev_train),
                                    generator_constants=json.dumps(constants) if constants else "")
    merged = merge_rows(pd.read_csv(path, keep_default_na=False) if path.is_file() else None, new, ["data", "case"])
    write_text_atomic(path, merged.to_csv(index=False, float_format="%.4f"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default="data/synthetic_dcase")
    parser.add_argument("--models-dir", default="", help="default: outputs/bench_fault_variants/<data folder>/models")
    parser.add_argument("--out", default="", help="default: outputs/bench_fault_variants/<data folder>")
    parser.add_argument("--cues", action="store_true", help="move each id cue of the normal test clips")
    parser.add_argument("--variants", nargs="*", default=[], choices=list(VARIANTS))
    parser.add_argument("--generate", nargs="*", default=None, metavar="NAME=VALUE",
                        help="write the dataset first, with these generator constants (JSON values)")
    parser.add_argument("--profile", default="course", help="with --generate: the dataset's clip counts")
    parser.add_argument("--seed", type=int, default=0, help="with --generate: the generator seed")
    parser.add_argument("--results-dir", default="", help="also merge the results into id_cues.csv and "
                        "fault_variants.csv there, with the dataset's seed, size and constants (replacing its rows)")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    root = resolve_path(args.data_root)
    if args.generate is not None:
        generated_dataset(root, args.profile, args.seed, args.generate)
    record = root / "generator_constants.json"
    dataset_constants = json.loads(record.read_text()) if record.is_file() else {}
    info = synthetic_dataset_info(root)
    if info is None:
        raise SystemExit(f"{root} is not a dataset written by `python -m asd_utils synth`: its clips are re-rendered")
    seed = int(info["seed"])
    out = Path(args.out or bench_seeds.ROOT / "outputs" / "bench_fault_variants" / root.name)
    table = dataset_table(root)
    train = table[table["split"] == "train"].reset_index(drop=True)
    test = table[(table["split"] == "test") & (table["dataset"] == "dev")].reset_index(drop=True)
    dev_train = train[train["machine_id"].isin(test["machine_id"].unique())].reset_index(drop=True)
    classifier, autoencoder = trained_models(train, test, seed, Path(args.models_dir or out / "models"))
    autoencoders = load_autoencoders(autoencoder)
    normal = test[test["y"] == 0].reset_index(drop=True)
    if args.cues:
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            base = all_scores(normal, classifier, autoencoders, dev_train, Path(tmp) / "cache")
            for name, cue in CUES.items():
                started = time.perf_counter()
                folder = Path(tmp) / name.replace(" ", "_").replace("%", "pc")
                folder.mkdir()
                moved = _render(normal, seed, folder, cue=cue, constants=dataset_constants)
                scores = all_scores(moved, classifier, autoencoders, dev_train, Path(tmp) / "cache")
                pair = pd.concat([normal, moved.assign(y=1)], ignore_index=True)  # "anomalous" = cue moved
                rows += auc_rows(name, pair, {k: np.concatenate([base[k], scores[k]]) for k in base})
                print(f"{name} ({time.perf_counter() - started:.0f} s): " + ", ".join(
                    f"{r['score']} {r['mean_auc']:.3f}" for r in rows[-len(base):][:4]), flush=True)
        write_text_atomic(out / "cues.csv", pd.DataFrame(rows).to_csv(index=False, float_format="%.4f"))
        merge_results(args.results_dir, "id_cues.csv", rows, root, seed, dev_train, dataset_constants)
    if args.variants:
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            base = all_scores(normal, classifier, autoencoders, dev_train, Path(tmp) / "cache")
            for name in args.variants:
                folder = Path(tmp) / name.replace(" ", "_")
                folder.mkdir()
                anomalies = test[test["y"] == 1] if not VARIANTS[name] else _render(
                    test[test["y"] == 1], seed, folder, constants={**dataset_constants, **VARIANTS[name]})
                scores = all_scores(anomalies, classifier, autoencoders, dev_train, Path(tmp) / "cache")
                both = pd.concat([normal, anomalies], ignore_index=True)
                rows += auc_rows(name, both, {k: np.concatenate([base[k], scores[k]]) for k in base})
                print(f"{name}: " + ", ".join(f"{r['score']} {r['mean_auc']:.3f}" for r in rows[-len(base):][:4]),
                      flush=True)
        write_text_atomic(out / "variants.csv", pd.DataFrame(rows).to_csv(index=False, float_format="%.4f"))
        merge_results(args.results_dir, "fault_variants.csv", rows, root, seed, dev_train, dataset_constants)
    for name in ("cues.csv", "variants.csv"):
        if (out / name).is_file() and (name != "cues.csv" or args.cues) and (name != "variants.csv" or args.variants):
            with pd.option_context("display.width", 250, "display.max_columns", 30):
                print(pd.read_csv(out / name).round(3).to_string(index=False))


if __name__ == "__main__":
    main()
