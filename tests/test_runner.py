"""Tests of the headless course runner on throwaway notebooks (three kernel starts in all, about 10 s)."""
from __future__ import annotations

import stat

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from asd_utils import profiles, runner
from helpers import make_layout

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _notebook(parameters_source: str | None, *sources: str):
    nb = new_notebook(metadata={"kernelspec": dict(KERNELSPEC)})
    nb.cells.append(new_markdown_cell("# A throwaway notebook"))
    if parameters_source is not None:
        cell = new_code_cell(parameters_source)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.extend(new_code_cell(source) for source in sources)
    return nb


METRICS_NOTEBOOK = _notebook(
    'DATA_ROOT: str = "data/synthetic_course"  # dataset folder\n'
    'OUTPUT_DIR: str = "outputs/course/01_metrics"  # where metrics.json goes\n'
    'SEED: int = 0  # random seed\n'
    'PROFILE: str = "course"  # profile name\n'
    'EPOCHS: int = 10  # training epochs',
    "from asd_utils.metrics import write_metrics_json\nfrom asd_utils.utils import resolve_path",
    "def fake(auc):\n"
    "    per_id = {'id_00': {'auc': auc, 'pauc': 0.5}, 'id_02': {'auc': auc / 2, 'pauc': 0.5}}\n"
    "    return {'network': 'net', 'score': 'mean_error', 'model': None, 'options': {}, 'recipe': {'epochs': EPOCHS},\n"
    "            'per_id': per_id, 'mean_auc': 0.75 * auc, 'mean_pauc': 0.5, 'pooled_auc': 0.7,\n"
    "            'n_params': 1234, 'train_seconds': 1.5, 'hyperparameters': {}}\n"
    "write_metrics_json(resolve_path(OUTPUT_DIR), '01_metrics', DATA_ROOT, {'ae': fake(0.8), 'knn': fake(0.9)},\n"
    "                   profile=PROFILE)\n"
    "print(f'EPOCHS={EPOCHS} SEED={SEED}')",
)

FAILING_NOTEBOOK = _notebook(
    'OUTPUT_DIR: str = "outputs/course/02_broken"  # unused',
    "x = 1",
    "raise ValueError('boom in cell three')",
    "print('never reached')",
)


@pytest.fixture()
def course_dirs(tmp_path):
    """A notebooks folder with the two throwaway notebooks, an existing (empty) dataset and an output folder."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(METRICS_NOTEBOOK, str(notebooks / "01_metrics.ipynb"))
    nbformat.write(FAILING_NOTEBOOK, str(notebooks / "02_broken.ipynb"))
    make_layout(tmp_path / "data", n_train=1, n_test=1, seconds=0.1)
    return {"notebooks": notebooks, "data": tmp_path / "data", "out": tmp_path / "out"}


def _run_args(dirs, selection):
    return ["--profile", "tiny", "--data-root", str(dirs["data"]), "--notebooks", selection, "--out", str(dirs["out"]),
            "--device", "cpu", "--seed", "7", "--notebooks-dir", str(dirs["notebooks"])]


# ----------------------------------------------------------------------------------------- with a kernel (3 runs)

def test_run_passes_declared_parameters_and_writes_summary(course_dirs, monkeypatch, capsys):
    monkeypatch.setitem(profiles.NOTEBOOK_PARAMETERS["tiny"], "01", {"EPOCHS": 2, "NOT_DECLARED": 5})
    assert runner.run_main(_run_args(course_dirs, "01")) == 0
    stdout = capsys.readouterr().out
    assert "[1/1] 01_metrics ... done in " in stdout
    assert "total time" in stdout

    out = course_dirs["out"]
    executed = nbformat.read(str(out / "01_metrics.ipynb"), as_version=4)
    passed = executed.metadata.papermill.parameters
    assert passed == {"DATA_ROOT": str(course_dirs["data"]), "OUTPUT_DIR": str(out / "01_metrics"), "SEED": 7,
                      "PROFILE": "tiny", "EPOCHS": 2}  # no DEVICE (not declared), no NOT_DECLARED
    assert "EPOCHS=2 SEED=7" in executed.cells[-1].outputs[0].text

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["model"]) == ["ae", "knn"]
    assert list(summary.columns) == ["notebook", "model", "score", "dataset", "dev_result", "mean_auc", "mean_pauc", "pooled_auc",
                                     "auc_id_00", "auc_id_02", "n_params", "train_seconds", "notebook_seconds"]
    assert list(summary["dataset"]) == ["dev", "dev"]
    assert summary.loc[0, "auc_id_02"] == pytest.approx(0.4) and summary.loc[1, "n_params"] == 1234
    assert summary["notebook_seconds"].gt(0).all()
    markdown = (out / "summary.md").read_text()
    assert markdown.startswith("## Results of this run (profile tiny)")
    assert "| notebook" in markdown and "| 01_metrics" in markdown and "0.900" in markdown
    # the literature's real-data numbers are shown apart and labelled as such; no notebook 07 here: no dev vs eval
    assert "REAL DCASE 2020 slider data, from the literature" in markdown and "| SepSTgramNet" in markdown
    assert "Development vs evaluation" not in markdown
    assert markdown in stdout
    timings = pd.read_csv(out / "timings.csv")
    assert list(timings["notebook"]) == ["01_metrics"] and timings["seconds"].iloc[0] > 0


def test_run_failure_names_notebook_cell_and_error(course_dirs, capsys):
    assert runner.run_main(_run_args(course_dirs, "02")) == 1
    captured = capsys.readouterr()
    assert "[1/1] 02_broken ... FAILED" in captured.out
    message = captured.err
    # the third code cell of the notebook; In [4] in the executed copy, after papermill's injected-parameters cell
    assert "notebook 02_broken failed in code cell 3 of 02_broken.ipynb, In [4] of the executed notebook" in message
    assert "ValueError: boom in cell three" in message
    assert "raise ValueError('boom in cell three')" in message
    executed = course_dirs["out"] / "02_broken.ipynb"
    assert str(executed) in message and executed.is_file()
    assert not (course_dirs["out"] / "summary.csv").exists()


def test_regenerate_executes_in_place_and_strips_volatile_metadata(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "ensure_dataset", lambda *args, **kwargs: False)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    path = notebooks / "00_plain.ipynb"
    nb = _notebook('SEED: int = 3  # seed', "print('seed', SEED)", "import sys\nprint('note', file=sys.stderr)")
    nb.metadata["language_info"] = {"name": "python", "version": "3.0.0"}
    nbformat.write(nb, str(path))
    path.chmod(0o644)

    assert runner.regenerate_main(["--notebooks", "00", "--notebooks-dir", str(notebooks)]) == 0
    assert "[1/1] 00_plain ... done in" in capsys.readouterr().out
    result = nbformat.read(str(path), as_version=4)
    nbformat.validate(result)
    assert "papermill" not in result.metadata
    assert result.metadata.kernelspec == runner.KERNELSPEC
    assert "version" not in result.metadata.language_info
    code = [cell for cell in result.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == [1, 2, 3]  # counts kept (nbval needs them)
    assert code[0].metadata == {"tags": ["parameters"]}
    assert code[1].outputs[0].text == "seed 3\n" and code[2].outputs[0].name == "stderr"
    for cell in result.cells:
        assert not {"papermill", "execution"} & set(cell.metadata)
        assert cell.metadata.get("tags", ["parameters"]) == ["parameters"]  # empty tag lists removed
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in notebooks.iterdir()] == ["00_plain.ipynb"]  # no temporary files left behind


# ----------------------------------------------------------------------------------------- no kernel

def test_strip_volatile_metadata_keeps_outputs_and_counts():
    nb = _notebook("SEED: int = 0", "print(1)")
    nb.metadata["papermill"] = {"duration": 1.0, "parameters": {"SEED": 1}}
    nb.metadata["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
    injected = new_code_cell("# Parameters\nSEED = 1\n", execution_count=2)
    injected.metadata.update(tags=["injected-parameters"], papermill={"duration": 0.1})
    nb.cells.insert(2, injected)
    for count, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
        cell.metadata["papermill"] = {"start_time": "2024-01-01T00:00:00"}
        cell.metadata["execution"] = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
        cell.metadata.setdefault("tags", [])
    nb.cells[-1].outputs = [new_output("stream", name="stdout", text="1\n")]

    result = runner.strip_volatile_metadata(nb)
    assert "papermill" not in result.metadata and result.metadata.kernelspec["display_name"] == "Python 3"
    assert [c.source for c in result.cells if c.cell_type == "code"] == ["SEED: int = 0", "print(1)"]
    assert result.cells[1].metadata == {"tags": ["parameters"]}
    assert result.cells[2].metadata == {} and result.cells[2].execution_count == 3
    assert result.cells[2].outputs[0].text == "1\n"


def test_list_notebooks_selection(tmp_path):
    for name in ("00_start", "03_ae", "05_stgram", "notes"):
        nbformat.write(_notebook(None, "1"), str(tmp_path / f"{name}.ipynb"))
    assert [p.stem for p in runner.list_notebooks(None, tmp_path)] == ["00_start", "03_ae", "05_stgram"]
    assert [p.stem for p in runner.list_notebooks("05, 3", tmp_path)] == ["03_ae", "05_stgram"]
    assert [p.stem for p in runner.list_notebooks("00_start", tmp_path)] == ["00_start"]
    with pytest.raises(ValueError, match="no notebook '04'.*00_start, 03_ae, 05_stgram"):
        runner.list_notebooks("04", tmp_path)


def test_filter_parameters_keeps_declared_names(tmp_path):
    path = tmp_path / "01_metrics.ipynb"
    nbformat.write(METRICS_NOTEBOOK, str(path))
    assert runner.declared_parameters(path) == {"DATA_ROOT", "OUTPUT_DIR", "SEED", "PROFILE", "EPOCHS"}
    assert runner.filter_parameters(path, {"SEED": 1, "DEVICE": "cpu", "EPOCHS": 2}) == {"SEED": 1, "EPOCHS": 2}
    no_parameters = tmp_path / "02_none.ipynb"
    nbformat.write(_notebook(None, "x = 1"), str(no_parameters))
    assert runner.filter_parameters(no_parameters, {"SEED": 1}) == {}


def test_notebook_parameters_merge(monkeypatch):
    assert profiles.notebook_parameters("course", "03_autoencoder_baselines") == {"PROFILE": "course"}
    monkeypatch.setitem(profiles.NOTEBOOK_PARAMETERS["tiny"], "03", {"EPOCHS": 1, "PROFILE": "tiny-ae"})
    assert profiles.notebook_parameters("tiny", "03_autoencoder_baselines") == {"PROFILE": "tiny-ae", "EPOCHS": 1}
    assert profiles.notebook_parameters("tiny", "99_not_a_notebook") == {"PROFILE": "tiny"}
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.notebook_parameters("huge", "03_x")


def test_run_never_generates_into_a_named_folder(tmp_path, capsys):
    """`run --data-root <missing or empty folder>` used to generate synthetic data there and run the course on it."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "notebooks").mkdir()
    nbformat.write(FAILING_NOTEBOOK, str(tmp_path / "notebooks" / "02_broken.ipynb"))
    capsys.readouterr()
    for named in (tmp_path / "missing", tmp_path / "empty"):
        assert runner.run_main(["--profile", "dcase", "--data-root", str(named), "--out", str(tmp_path / "out"),
                                "--notebooks-dir", str(tmp_path / "notebooks")]) == 1
        err = capsys.readouterr().err
        assert f"{named} holds no data" in err and "python -m asd_utils synth --profile dcase" in err
        assert not list(named.rglob("*.wav")) and not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag", ["--out", "--cache-dir"])
def test_output_paths_that_are_files_are_named(tmp_path, capsys, flag):
    (tmp_path / "notebooks").mkdir()
    nbformat.write(FAILING_NOTEBOOK, str(tmp_path / "notebooks" / "02_broken.ipynb"))
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    args = ["--data-root", str(tmp_path), "--out", str(tmp_path / "out"), "--notebooks-dir", str(tmp_path / "notebooks")]
    assert runner.run_main(args + [flag, str(blocker / "sub")]) == 1
    assert f"{flag} {blocker / 'sub'}: {blocker} is a file, expected a folder" in capsys.readouterr().err


def test_negative_seed_names_the_flag(capsys):
    with pytest.raises(SystemExit):
        runner.run_main(["--seed", "-3"])
    assert "argument --seed: expected a non-negative integer, got '-3'" in capsys.readouterr().err


def test_cell_progress_prints_plain_lines(capsys):
    import logging

    with runner._cell_progress("05_stgramnet", 40, every_s=0.0):
        logging.getLogger("papermill").info("Executing Cell 3-------")
        logging.getLogger("papermill").info("a cell's output, not shown")
        logging.getLogger("papermill").warning("a cell's stderr, not shown")
    out = capsys.readouterr()
    assert out.out == "\n    05_stgramnet: cell 3/40, 0 s\n" and "not shown" not in out.err


def test_timings_keep_other_notebooks(tmp_path):
    """Re-running one notebook used to cut timings.csv to one row (summaries: tests/test_results.py)."""
    out = tmp_path / "out"
    runner._write_timings(out, {"03_ae": 10.0, "04_resnet": 20.0})
    runner._write_timings(out, {"04_resnet": 25.0})
    assert runner.read_timings(out) == {"03_ae": 10.0, "04_resnet": 25.0}


def test_describe_failure_without_papermill_error(tmp_path):
    text = runner.describe_failure(tmp_path / "03_ae.ipynb", tmp_path / "out.ipynb", RuntimeError("kernel died"))
    assert "notebook 03_ae failed: RuntimeError: kernel died" in text and str(tmp_path / "out.ipynb") in text


def test_unknown_selection_is_a_usage_error(tmp_path, capsys):
    assert runner.run_main(["--notebooks", "42", "--notebooks-dir", str(tmp_path)]) == 2
    assert "no notebook '42'" in capsys.readouterr().err


def test_driving_and_reading_results_import_no_torch():
    """`python -m asd_utils run`, the results tables and the README tables name the models from
    asd_utils.model_registry, so driving papermill does not load PyTorch."""
    import subprocess
    import sys
    code = ("import sys, asd_utils.cli, asd_utils.runner, asd_utils.results, asd_utils.readme_tables; "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))[:3])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_registry_matches_the_model_classes():
    from asd_utils import ae_pipeline, classifiers, model_registry, models
    from asd_utils.utils import repo_root
    assert {key: (name, cls.__name__, options) for key, (name, cls, options) in ae_pipeline.MODEL_SPECS.items()} \
        == {key: (spec.name, spec.class_name, spec.options) for key, spec in model_registry.AUTOENCODERS.items()}
    assert set(model_registry.AUTOENCODERS) == set(profiles.AE_TRAINING["course"])  # a recipe for every autoencoder
    assert {kind: cls.__name__ for kind, cls in classifiers.CLASSIFIER_KINDS.items()} \
        == model_registry.CLASSIFIER_CLASS_NAMES
    assert all(isinstance(getattr(models, name), type) for name in model_registry.CLASSIFIER_CLASS_NAMES.values())
    specs = model_registry.CLASSIFIERS.values()
    assert all(classifiers.CLASSIFIER_KINDS[spec.kind].__name__ == spec.class_name for spec in specs)
    assert len({spec.checkpoint for spec in specs}) == len(specs)  # one checkpoint file per model
    for spec in specs:  # each is trained by its notebook, with a recipe of every profile
        assert (repo_root() / "notebooks" / f"{spec.notebook}.ipynb").is_file(), spec
        assert all(spec.recipe in recipes for recipes in profiles.CLASSIFIER_TRAINING.values()), spec
    assert (repo_root() / "notebooks" / f"{model_registry.AE_NOTEBOOK}.ipynb").is_file()
