"""Smoke runs of every course notebook (notebooks/NN_*.ipynb) on the ``tiny`` profile with papermill.

Each notebook gets the tiny synthetic dataset (generated once per session in a temporary folder), its ``tiny``
parameters from :data:`asd_utils.profiles.NOTEBOOK_PARAMETERS`, ``DEVICE="cpu"``, ``SEED=0``, a temporary
``OUTPUT_DIR`` and ``CACHE_DIR`` (only the names the notebook declares). A notebook that writes
``OUTPUT_DIR/metrics.json`` must follow the course schema. Run times are printed at the end of the session.

Select or skip them with ``-m notebooks`` / ``-m "not notebooks"``. ``make test`` leaves out the runs on the tiny
synthetic layout (``test_notebook_runs_on_tiny_profile``): its nbval step executes every notebook on the synthetic
course data anyway.
"""
from __future__ import annotations

import json
import math
from numbers import Real

import pytest
import soundfile as sf

from asd_utils import model_registry, profiles, runner

NOTEBOOKS = runner.list_notebooks()
NOTEBOOK_PARAMS = [pytest.param(path, id=path.stem) for path in NOTEBOOKS] or [
    pytest.param(None, id="no-notebooks", marks=pytest.mark.skip(reason="notebooks/ holds no NN_*.ipynb yet"))]


@pytest.fixture(scope="session")
def tiny_data_root(tmp_path_factory):
    """The tiny synthetic dataset (DCASE layout), generated once per test session."""
    try:
        from asd_utils.synth import generate_dataset
    except ModuleNotFoundError as err:
        if err.name == "asd_utils.synth":
            pytest.skip("asd_utils.synth (the synthetic data generator) does not exist yet")
        raise
    root = tmp_path_factory.mktemp("synthetic_tiny")
    generate_dataset(root, profile="tiny", seed=0)
    return root


@pytest.fixture(scope="session")
def real_layout_root(tiny_data_root, tmp_path_factory):
    """The tiny dataset reshaped like a fresh download of the real DCASE slider data: four development ids
    (id_06 added as a copy of id_04's clips under the new id), no ``metadata.csv`` (the real data has no fault
    labels) and no ``eval_data_list.csv`` (the evaluation ground truth is a separate, optional download).
    The clips are re-written as plain 16-bit WAVs without the generator's comment tag, as real recordings are.
    """
    root = tmp_path_factory.mktemp("real_layout")
    for source in sorted(tiny_data_root.glob("*_data/slider/*/*.wav")):
        relative = source.relative_to(tiny_data_root)
        names = [relative] + ([relative.with_name(relative.name.replace("_id_04_", "_id_06_"))]
                              if relative.parts[0] == "dev_data" and "_id_04_" in relative.name else [])
        audio, sr = sf.read(source, dtype="int16")
        for name in names:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            sf.write(root / name, audio, sr, subtype="PCM_16")
    return root


@pytest.fixture(scope="session")
def tiny_cache_dir(tmp_path_factory):
    """A feature cache shared by the notebooks of one session (as data/cache is shared in a real run)."""
    return tmp_path_factory.mktemp("feature_cache")


def _is_score(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and 0.0 <= value <= 1.0


def metrics_schema_problems(payload: dict, stem: str, profile: str = "tiny") -> list[str]:
    """What is wrong with a metrics.json payload (empty list when it follows the course schema)."""
    problems = []
    if payload.get("notebook") != stem:
        problems.append(f"notebook is {payload.get('notebook')!r}, expected {stem!r}")
    if not isinstance(payload.get("data_root"), str):
        problems.append("data_root missing or not a string")
    if "profile" in payload and payload["profile"] != profile:
        problems.append(f"profile is {payload['profile']!r}, expected {profile!r}")
    models = payload.get("models")
    if not isinstance(models, dict) or not models:
        return problems + ["models missing or empty"]
    for name, metrics in models.items():
        per_id = metrics.get("per_id")
        if not isinstance(per_id, dict) or not per_id:
            problems.append(f"{name}: per_id missing or empty")
            per_id = {}
        for machine_id, values in per_id.items():
            if not machine_id.startswith("id_"):
                problems.append(f"{name}: machine id {machine_id!r} does not look like 'id_00'")
            for key in ("auc", "pauc"):
                if not _is_score(values.get(key)):
                    problems.append(f"{name}: per_id[{machine_id}][{key}] = {values.get(key)!r} is not in [0, 1]")
        for key in ("mean_auc", "mean_pauc", "pooled_auc"):
            if not _is_score(metrics.get(key)):
                problems.append(f"{name}: {key} = {metrics.get(key)!r} is not in [0, 1]")
        if per_id and _is_score(metrics.get("mean_auc")):
            aucs = [v.get("auc") for v in per_id.values()]
            if all(_is_score(a) for a in aucs) and abs(sum(aucs) / len(aucs) - metrics["mean_auc"]) > 1e-6:
                problems.append(f"{name}: mean_auc is not the mean of the per-id AUCs")
        n_params = metrics.get("n_params")
        if not isinstance(n_params, int) or isinstance(n_params, bool) or n_params < 0:
            problems.append(f"{name}: n_params = {n_params!r} is not a non-negative integer")
        seconds = metrics.get("train_seconds")
        if not isinstance(seconds, Real) or isinstance(seconds, bool) or not seconds >= 0:
            problems.append(f"{name}: train_seconds = {seconds!r} is not a non-negative number")
        if not isinstance(metrics.get("hyperparameters"), dict):
            problems.append(f"{name}: hyperparameters missing or not a dict")
        key = metrics.get("model", "missing")
        if key is not None and key not in model_registry.MODELS:
            problems.append(f"{name}: model = {key!r} is neither None nor a model_registry key")
        if not isinstance(metrics.get("options"), dict):
            problems.append(f"{name}: options missing or not a dict")
        if key is not None and not isinstance(metrics.get("recipe"), dict):
            problems.append(f"{name}: a registry model without its recipe ({metrics.get('recipe')!r})")
    return problems


def test_metrics_schema_checker_catches_problems():
    good = {"network": "AE", "score": "mean_error", "model": None, "options": {}, "recipe": None, "per_id": {"id_00": {"auc": 0.8, "pauc": 0.6}, "id_02": {"auc": 0.6, "pauc": 0.5}}, "mean_auc": 0.7,
            "mean_pauc": 0.55, "pooled_auc": 0.68, "n_params": 10, "train_seconds": 1.0, "hyperparameters": {}}
    payload = {"notebook": "03_x", "data_root": "data", "profile": "tiny", "models": {"ae": good}}
    assert metrics_schema_problems(payload, "03_x") == []
    bad = dict(good, per_id={"id_00": {"auc": 1.2, "pauc": None}}, n_params=1.5, hyperparameters=None, model="ae")
    problems = metrics_schema_problems({**payload, "models": {"ae": bad}}, "03_x")
    assert len(problems) == 6, problems  # per-id auc and pauc, n_params, hyperparameters, model key, its recipe
    assert any("per_id[id_00][auc]" in p for p in problems)
    assert metrics_schema_problems({**payload, "notebook": "04_y"}, "03_x") == ["notebook is '04_y', expected '03_x'"]


def run_tiny(notebook, data_root, cache_dir, tmp_path) -> tuple[float, dict | None]:
    """Execute ``notebook`` with its tiny parameters on ``data_root``; its run time and metrics.json (checked
    against the course schema), or None when it writes none. A failing cell fails the test with its number."""
    stem = notebook.stem
    output_dir = tmp_path / stem
    executed = tmp_path / notebook.name
    candidates = {**profiles.notebook_parameters("tiny", stem), "DATA_ROOT": str(data_root),
                  "OUTPUT_DIR": str(output_dir), "SEED": 0, "DEVICE": "cpu", "CACHE_DIR": str(cache_dir)}
    parameters = runner.filter_parameters(notebook, candidates)
    try:
        seconds = runner.execute_notebook(notebook, executed, parameters)
    except Exception as err:  # noqa: BLE001 - report which cell failed, not papermill's internals
        pytest.fail(runner.describe_failure(notebook, executed, err), pytrace=False)
    metrics_path = output_dir / "metrics.json"
    if not metrics_path.is_file():
        return seconds, None
    payload = json.loads(metrics_path.read_text())
    problems = metrics_schema_problems(payload, stem)
    assert not problems, f"{metrics_path} does not follow the metrics.json schema:\n" + "\n".join(problems)
    return seconds, payload


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOK_PARAMS)
def test_notebook_runs_on_tiny_profile(notebook, tiny_data_root, tiny_cache_dir, tmp_path, record_property):
    seconds, _ = run_tiny(notebook, tiny_data_root, tiny_cache_dir, tmp_path)
    record_property("notebook_seconds", round(seconds, 1))
    print(f"{notebook.stem}: {seconds:.1f} s on the tiny profile")


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOK_PARAMS)
def test_notebook_runs_on_real_data_layout(notebook, real_layout_root, tmp_path_factory, tmp_path):
    """Unchanged notebooks on data shaped like the real download (4 dev ids, no fault metadata, no eval labels)."""
    cache_dir = tmp_path_factory.getbasetemp() / "feature_cache_real_layout"
    cache_dir.mkdir(exist_ok=True)
    seconds, payload = run_tiny(notebook, real_layout_root, cache_dir, tmp_path)
    print(f"{notebook.stem}: {seconds:.1f} s on the real-data layout")
    assert not (real_layout_root / "metadata.csv").exists(), "a notebook wrote synthetic data into a real data root"
    for name, metrics in (payload or {}).get("models", {}).items():
        if set(metrics["per_id"]) & {"id_00", "id_02", "id_04"}:  # a development-set result
            assert sorted(metrics["per_id"]) == ["id_00", "id_02", "id_04", "id_06"], name


TOYCAR_IDS = {"dev_data": {"00": "01", "02": "02", "04": "03"}, "eval_data": {"01": "05", "03": "06", "05": "07"}}


@pytest.fixture(scope="session")
def toycar_layout_root(tiny_data_root, tmp_path_factory):
    """The tiny dataset under another machine type with that type's ids, as ToyCar has them in DCASE 2020:
    development ids 01-03 and evaluation ids 05-07 (none of the slider's ids), plain WAVs, its own ground truth."""
    import re

    root = tmp_path_factory.mktemp("toycar_layout")

    def renamed(text, part):
        return re.sub(r"id_(\d\d)", lambda m: f"id_{TOYCAR_IDS[part][m.group(1)]}", text)

    for source in sorted(tiny_data_root.glob("*_data/slider/*/*.wav")):
        part, _, split, name = source.relative_to(tiny_data_root).parts
        target = root / part / "ToyCar" / split / renamed(name, part)
        target.parent.mkdir(parents=True, exist_ok=True)
        audio, sr = sf.read(source, dtype="int16")
        sf.write(target, audio, sr, subtype="PCM_16")
    truth = (tiny_data_root / "eval_data/slider/eval_data_list.csv").read_text().replace("slider", "ToyCar")
    (root / "eval_data/ToyCar/eval_data_list.csv").write_text(renamed(truth, "eval_data"))
    return root


@pytest.mark.notebooks
def test_submission_notebook_runs_for_another_machine_type(toycar_layout_root, tmp_path):
    """Notebook 07 takes the evaluation ids and submission files from the data: ToyCar's ids 05-07 work."""
    notebook = next(path for path in NOTEBOOKS if path.name.startswith("07_"))
    stem, executed = notebook.stem, tmp_path / notebook.name
    candidates = {**profiles.notebook_parameters("tiny", stem), "DATA_ROOT": str(toycar_layout_root),
                  "MACHINE_TYPE": "ToyCar", "OUTPUT_DIR": str(tmp_path / stem), "SEED": 0, "DEVICE": "cpu",
                  "CACHE_DIR": str(tmp_path / "cache")}
    try:
        runner.execute_notebook(notebook, executed, runner.filter_parameters(notebook, candidates))
    except Exception as err:  # noqa: BLE001 - report which cell failed
        pytest.fail(runner.describe_failure(notebook, executed, err), pytrace=False)
    import re

    written = sorted(p.name for p in (tmp_path / stem).rglob("anomaly_score_ToyCar_id_*.csv"))
    assert {re.search(r"(id_\d\d)\.csv$", name).group(1) for name in written} == {"id_05", "id_06", "id_07"}, written
