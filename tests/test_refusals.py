"""What the course refuses, and that it says so (issue 21): nothing lost, nothing silently wrong, every message
names the file, the value and the fix. Tiny data in tmp_path only; a few seconds."""
from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from asd_utils import colab, data, paths, runner, synth
from asd_utils.data import DatasetError, dataset_table
from asd_utils.labels import read_ground_truth, read_score_file
from asd_utils.metrics import evaluate_scores
from asd_utils.profiles import SynthSizes
from asd_utils.submission import score_dev_submission, score_submission, write_dcase_submission
from helpers import machine_like, make_layout, write_wav

ONE = SynthSizes(dev_ids=("id_00",), eval_ids=("id_01",), dev_train=(1,), dev_test_normal=(1,), dev_test_anomaly=(1,),
                 eval_train=(1,), eval_test_normal=(1,), eval_test_anomaly=(1,), duration_s=0.5)


def _digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------- synth: data loss
@pytest.mark.parametrize("channels, sr, subtype", [(1, 16000, "PCM_24"), (2, 16000, "PCM_16"), (8, 16000, "PCM_16"),
                                                   (1, 48000, "PCM_16"), (1, 16000, "PCM_16")])
def test_synth_never_replaces_a_user_recording_of_any_format(tmp_path, channels, sr, subtype, capsys):
    user = tmp_path / "dev_data/slider/train/normal_id_00_00000000.wav"
    user.parent.mkdir(parents=True)
    sf.write(str(user), np.zeros((int(0.5 * sr), channels), dtype=np.float32), sr, subtype=subtype)
    before = _digest(tmp_path)
    with pytest.raises(DatasetError, match=r"nothing was written.*normal_id_00_00000000.wav was not made by "
                                           rf"asd_utils.synth \(a real recording\? {channels} channel"):
        synth.generate_dataset(tmp_path, sizes=ONE, progress=False)
    assert _digest(tmp_path) == before


def test_synth_refuses_a_ground_truth_and_metadata_it_did_not_write(tmp_path):
    truth = tmp_path / "eval_data/slider/eval_data_list.csv"
    truth.parent.mkdir(parents=True)
    truth.write_text("slider\nid_01_00000000.wav,anomaly_id_01_00000003.wav,1\n")
    with pytest.raises(DatasetError, match="eval_data_list.csv is not the ground truth the generator wrote"):
        synth.generate_dataset(tmp_path, sizes=ONE, progress=False)
    truth.unlink()
    (tmp_path / "metadata.csv").write_text("path,my_notes\nx.wav,keep me\n")
    with pytest.raises(DatasetError, match="metadata.csv is not a metadata.csv of asd_utils.synth"):
        synth.generate_dataset(tmp_path, sizes=ONE, progress=False)
    assert (tmp_path / "metadata.csv").read_text() == "path,my_notes\nx.wav,keep me\n"


def test_synth_repairs_only_its_own_damaged_files_and_keeps_other_machine_types(tmp_path):
    synth.generate_dataset(tmp_path, sizes=ONE, progress=False)
    victim = tmp_path / "dev_data/slider/train/normal_id_00_00000000.wav"
    good = victim.read_bytes()
    victim.write_bytes(good[:60])  # header broken, the marker still in the first bytes (or listed in metadata.csv)
    assert synth.generate_dataset(tmp_path, sizes=ONE, progress=False).attrs["written"] == 1
    assert victim.read_bytes() == good
    synth.generate_dataset(tmp_path, sizes=ONE, machine_type="fan", progress=False)
    meta = pd.read_csv(tmp_path / "metadata.csv")
    assert set(meta["machine_type"]) == {"slider", "fan"}  # the slider rows were kept, not replaced
    assert len(dataset_table(tmp_path, "slider")) == 6 and "anomaly_type" in dataset_table(tmp_path, "slider")


@pytest.mark.parametrize("machine_type", ["../outside", "", "a/b", ".."])
def test_machine_type_is_one_plain_name(tmp_path, machine_type):
    with pytest.raises(ValueError, match="cannot be used as a folder or file name"):
        synth.generate_dataset(tmp_path / "root", sizes=ONE, machine_type=machine_type, progress=False)
    with pytest.raises(ValueError, match="cannot be used as a folder or file name"):
        dataset_table(tmp_path, machine_type)
    assert not (tmp_path / "outside").exists() and not (tmp_path / "root").exists()


def test_synth_on_a_full_disk_says_so(tmp_path, monkeypatch):
    real_usage = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real_usage(p)._replace(free=2_000_000))
    with pytest.raises(DatasetError, match=r"need about .* plus a 50 MiB safety margin .* only 2.00 MB free"):
        synth.generate_dataset(tmp_path / "root", sizes=ONE, progress=False)
    assert not (tmp_path / "root").exists()
    monkeypatch.setattr(shutil, "disk_usage", real_usage)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(synth, "atomic_path", full)
    with pytest.raises(DatasetError, match=r"could not write .*normal_id_00_00000000.wav \(.*No space left.*free "
                                           r"some space"):
        synth.generate_dataset(tmp_path / "root", sizes=ONE, progress=False)


def test_a_second_writer_of_the_same_folder_is_refused(tmp_path):
    with paths.folder_lock(tmp_path, "--out"):
        with pytest.raises(ValueError, match=r"process \d+ on .* is writing into this folder right now"):
            synth.generate_dataset(tmp_path, sizes=ONE, progress=False)
    assert not any(tmp_path.iterdir())  # the lock file goes with its holder
    synth.generate_dataset(tmp_path, sizes=ONE, progress=False)


def test_synthetic_dataset_info(tmp_path):
    synth.generate_dataset(tmp_path / "s", sizes=ONE, seed=3, progress=False)
    info = synth.synthetic_dataset_info(tmp_path / "s")
    assert info == {"seed": 3, "profile": None, "machine_type": "slider", "generator_version": synth.GENERATOR_VERSION}
    assert synth.synthetic_dataset_info(make_layout(tmp_path / "real", 1, 1, 0.1)) is None
    assert synth.synthetic_dataset_info(tmp_path / "nowhere") is None


# ----------------------------------------------------------------------------------------- data: the scan
def test_data_root_that_is_a_file_or_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match=r"data root .*file is a file .*expected a folder"):
        dataset_table(tmp_path / "file")
    with pytest.raises(DatasetError, match=r"cannot exist: .*file is a file, expected a folder"):
        dataset_table(tmp_path / "file" / "synthetic_tiny")
    with pytest.raises(DatasetError, match=r"cannot exist: .*file is a file"):
        synth.ensure_dataset(tmp_path / "file" / "x", "tiny", progress=False)
    with pytest.raises(DatasetError, match=r"data root .*file/x: .*file is a file, expected a folder"):
        synth.generate_dataset(tmp_path / "file" / "x", sizes=ONE, progress=False)


@pytest.mark.parametrize("name, message", [
    ("normal_id_00_00000009.WAV", "looks like a clip but is not used"),
    ("normal_id_00_00000009.flac", "looks like a clip but is not used"),
    ("more/normal_id_00_00000009.wav", "sub-folder with audio files"),
])
def test_files_the_scan_would_pass_over_are_reported(tmp_path, name, message):
    root = make_layout(tmp_path, 1, 1, 0.1)
    write_wav(root / "dev_data/slider/train" / name, machine_like(0, 0.1))
    with pytest.raises(DatasetError, match=rf"dev_data/slider/train: 1 entry that cannot be used: .*{message}"):
        dataset_table(root)


def test_dangling_link_and_unreadable_clip_say_what_is_wrong(tmp_path, monkeypatch):
    root = make_layout(tmp_path, 1, 1, 0.1)
    link = root / "dev_data/slider/train/normal_id_00_00000005.wav"
    link.symlink_to(tmp_path / "gone.wav")
    with pytest.raises(DatasetError, match=r"normal_id_00_00000005.wav: a symbolic link to .*gone.wav, which does "
                                           r"not exist \(missing target\)"):
        dataset_table(root)
    with pytest.raises(DatasetError, match="missing target"):
        data.load_wav(link)
    link.unlink()
    clip = root / "dev_data/slider/train/normal_id_00_00000000.wav"
    monkeypatch.setattr(data.os, "access", lambda p, mode: Path(p) != clip)  # (tests run as root: simulate chmod 0)
    with pytest.raises(DatasetError, match="normal_id_00_00000000.wav: permission denied: make it readable"):
        dataset_table(root)
    with pytest.raises(DatasetError, match="permission denied"):
        data.load_batch([clip])


def test_unlabelled_or_unlisted_test_clips_are_refused(tmp_path):
    root = make_layout(tmp_path, 1, 1, 0.1)
    stray = write_wav(root / "dev_data/slider/test/id_00_00000099.wav", machine_like(0, 0.1))
    with pytest.raises(DatasetError, match="id_00_00000099.wav: a development test clip without a label"):
        dataset_table(root)
    stray.unlink()
    write_wav(root / "eval_data/slider/test/id_01_00000077.wav", machine_like(0, 0.1))
    with pytest.raises(DatasetError, match=r"id_01_00000077.wav: not listed in .*eval_data_list.csv"):
        dataset_table(root)


def test_test_id_without_training_clips_is_refused_before_training(tmp_path):
    root = make_layout(tmp_path, 1, 1, 0.1)
    for path in root.glob("dev_data/slider/train/*id_02*"):
        path.unlink()
    with pytest.raises(DatasetError, match=r"test clips of id_02 but no training clips of that id"):
        dataset_table(root)


# -------------------------------------------------------------------------------------------- label files
@pytest.mark.parametrize("rows, message", [
    (["id_01_00000000.wav,x,0", "id_01_00000000.wav,x,1"], r"line 3: id_01_00000000.wav is listed again \(first on "
                                                           r"line 2 with label 0, here 1\)"),
    (["id_01_00000000.wav,x,0.9"], r"line 2: label '0.9' of id_01_00000000.wav, expected exactly 0"),
    (["id_01_00000000.wav,x,2"], r"label '2'"),
    (["id_01_00000000.wav,x,-1"], r"label '-1'"),
    (["../../etc/passwd,x,1"], r"'../../etc/passwd' is not a DCASE clip name"),
])
def test_ground_truth_rows_are_validated(tmp_path, rows, message):
    path = tmp_path / "eval_data_list.csv"
    path.write_text("\n".join(["slider", *rows]) + "\n")
    with pytest.raises(DatasetError, match=rf"eval_data_list.csv: \d bad row\(s\): .*{message}"):
        read_ground_truth(path, "slider")


def test_ground_truth_without_the_machine_type_or_with_stray_rows(tmp_path):
    path = tmp_path / "eval_data_list.csv"
    path.write_text("fan\nid_01_00000000.wav,x,1\n")
    with pytest.raises(DatasetError, match=r"no ground truth for machine type 'slider' \(machine-type lines found: "
                                           "fan\\)"):
        read_ground_truth(path, "slider")
    path.write_text("id_01_00000000.wav,x,1\nslider\nid_01_00000001.wav,x,0\n")
    with pytest.raises(DatasetError, match="line 1 .* comes before any machine-type line"):
        read_ground_truth(path, "slider")
    path.write_text("slider\nfile_name,original_name,label\nid_01_00000001.wav,x,1.0\n")
    assert read_ground_truth(path, "slider") == {"id_01_00000001.wav": 1}


@pytest.mark.parametrize("lines, message", [
    (["id_01_00000000.wav,0.5", "id_01_00000000.wav,0.7"], r"line 2: id_01_00000000.wav is scored again"),
    (["id_01_00000000.wav,0.5", "id_03_00000000.wav,0.7"], r"line 2: id_03_00000000.wav is a clip of id_03, but this "
                                                           r"is the file of id_01"),
    (["id_01_00000000.wav,nan"], r"line 1: the score of id_01_00000000.wav is 'nan', expected a finite number"),
    (["id_01_00000000.wav"], r"line 1 has 1 cell\(s\), expected 'file_name,score'"),
    ([], r"empty; expected one line 'file_name,score' per test clip of id_01"),
])
def test_submission_files_are_validated(tmp_path, lines, message):
    path = tmp_path / "anomaly_score_slider_id_01.csv"
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    with pytest.raises(DatasetError, match=rf"anomaly_score_slider_id_01.csv: .*{message}"):
        read_score_file(path)
    truth = tmp_path / "gt.csv"
    truth.write_text("slider\nid_01_00000000.wav,x,0\nid_01_00000001.wav,x,1\n")
    with pytest.raises(DatasetError, match="anomaly_score_slider_id_01.csv"):
        score_submission(tmp_path, truth)


def test_dev_submission_must_score_every_clip(tmp_path):
    table = pd.DataFrame({"file_name": ["normal_id_00_00000000.wav", "anomaly_id_00_00000000.wav"],
                          "machine_id": "id_00", "y": [0.0, 1.0]})
    write_dcase_submission(tmp_path, table.iloc[:1], [0.1])
    with pytest.raises(DatasetError, match=r"1 clip\(s\) of the development test clips have no score, e.g. "
                                           "anomaly_id_00_00000000.wav"):
        score_dev_submission(tmp_path, table)
    twice = pd.concat([table, table.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="1 clip\\(s\\) appear twice in the table, e.g. normal_id_00_00000000.wav"):
        write_dcase_submission(tmp_path / "b", twice, [0.1, 0.2, 0.3])


def test_auc_errors_name_the_id_and_the_labels():
    table = pd.DataFrame({"file_name": [f"c{i}" for i in range(6)], "machine_id": ["id_00"] * 3 + ["id_02"] * 3,
                          "y": [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]})
    with pytest.raises(ValueError, match=r"id_02: no anomalous clips among the labels.*\(3 normal, 0 anomalous"):
        evaluate_scores(table, np.arange(6.0))
    table["y"] = [0.0, 1.0, 2.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match=r"labels must be 0 \(normal\) or 1 \(anomalous\); 1 are not, the first is 2"):
        evaluate_scores(table, np.arange(6.0))


def test_hand_made_checkpoint_names_what_it_lacks(tmp_path):
    import torch

    from asd_utils import ae_pipeline, checkpoints
    from asd_utils.submission import score_clips

    path = tmp_path / "model.pt"
    torch.save({"format": checkpoints.AUTOENCODER_FORMAT}, path)
    table = pd.DataFrame({"path": ["x.wav"], "machine_id": ["id_01"]})
    with pytest.raises(ValueError, match=r"model.pt: a .* checkpoint without 'model', .*'feature_params'.*'class'.*save "
                                         "the model again"):
        score_clips(path, table, device="cpu")
    # the loaders themselves (notebooks call them directly), for both families
    from asd_utils import classifier_files

    with pytest.raises(ValueError, match=r"model.pt: a .* checkpoint without 'model'.*'class'"):
        ae_pipeline.load_autoencoders(path)
    torch.save({"format": checkpoints.CLASSIFIER_FORMAT, "kind": "stgramnet"}, path)
    with pytest.raises(ValueError, match=r"model.pt: a .* checkpoint without 'model', 'name', 'options'.*'num_classes'"):
        classifier_files.load_classifier(path)


# ------------------------------------------------------------------------------------------- run, set-repo
def test_run_never_writes_over_a_source_notebook(capsys):
    from asd_utils.utils import repo_root

    before = _digest(repo_root() / "notebooks")
    assert runner.run_main(["--out", str(repo_root() / "notebooks"), "--notebooks", "01", "--profile", "tiny"]) == 1
    assert "executed copy of 01_data_exploration.ipynb would replace the notebook itself" in capsys.readouterr().err
    assert _digest(repo_root() / "notebooks") == before
    with pytest.raises(ValueError, match="would replace a file of the course itself"):
        paths.refuse_sources([colab.repo_files()[2]], "--out")


def test_run_selection_and_lock(tmp_path, capsys):
    assert runner.run_main(["--notebooks", ","]) == 2
    assert "--notebooks ',' names no notebook; expected two-digit prefixes" in capsys.readouterr().err
    notebooks = tmp_path / "nb"
    notebooks.mkdir()
    (notebooks / "01_x.ipynb").write_text("{}")
    out = tmp_path / "out"
    root = make_layout(tmp_path / "data", 1, 1, 0.1)
    with paths.folder_lock(out, "--out"):
        assert runner.run_main(["--notebooks-dir", str(notebooks), "--out", str(out), "--data-root", str(root)]) == 1
    assert "is writing into this folder right now; wait until it has finished, or choose another --out" in \
        capsys.readouterr().err


def test_set_repo_changes_only_the_name_and_round_trips(tmp_path):
    (tmp_path / "asd_utils").mkdir()
    (tmp_path / "notebooks").mkdir()
    shutil.copy(Path(colab.__file__), tmp_path / "asd_utils" / "colab.py")
    badge = f"https://colab.research.google.com/github/{colab.COURSE_REPO}/blob/main/notebooks/00_x.ipynb"
    cell = colab.setup_cell_source()
    nb = {"cells": [{"cell_type": "markdown", "source": [f"[badge]({badge})"]},
                    {"cell_type": "code", "source": [cell]},
                    {"cell_type": "code", "source": [f'DATA_ROOT = "{colab.COURSE_REPO}"  # not the repository']}]}
    (tmp_path / "notebooks" / "00_x.ipynb").write_text(json.dumps(nb, indent=1))
    (tmp_path / "README.md").write_text(f"[![Open In Colab](x)]({badge}); the folder {colab.COURSE_REPO} stays\n")
    before = _digest(tmp_path)
    assert len(colab.set_repo("me/fork", root=tmp_path)) == 3
    text = (tmp_path / "notebooks" / "00_x.ipynb").read_text()
    assert f'DATA_ROOT = \\"{colab.COURSE_REPO}\\"' in text and "github/me/fork/blob" in text
    assert colab.current_repo(tmp_path) == "me/fork"
    colab.set_repo(colab.COURSE_REPO, root=tmp_path)
    assert _digest(tmp_path) == before
    for bad in ("data/synthetic_course", "me/..", "-me/fork", "me/fork.git", "me/fork/x", "me"):
        with pytest.raises(ValueError):
            colab.set_repo(bad, root=tmp_path)


# --------------------------------------------------------------------------------------------- download
def test_tampered_marker_never_reaches_outside_the_data_root(tmp_path, capsys):
    from asd_utils.unpack import marker_files

    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    root = tmp_path / "data"
    marker = root / "dev_data/slider/.complete_dev.json"
    marker.parent.mkdir(parents=True)
    marker.write_text(json.dumps({"file": "dev_data_slider.zip", "files": [
        "../victim.txt", "/etc/passwd", "eval_data/slider/x.wav", "dev_data/slider/train/normal_id_00_00000000.wav"]}))
    assert marker_files(marker, root, marker.parent) == ["dev_data/slider/train/normal_id_00_00000000.wav"]
    err = capsys.readouterr().err
    assert "'../victim.txt' is not a relative path inside" in err and "outside" in err
    assert victim.read_text() == "mine"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "soon"])
def test_download_timeout_names_the_flag(value, capsys):
    from asd_utils.download import download_main

    with pytest.raises(SystemExit):
        download_main(["--timeout", value])
    assert f"argument --timeout: expected a positive, finite number of seconds, got '{value}'" in \
        capsys.readouterr().err


def test_disk_message_counts_the_margin(tmp_path, monkeypatch):
    real_usage = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real_usage(p)._replace(free=2_100_000))
    with pytest.raises(ValueError, match=r"need at least the 50 MiB safety margin .* only 2.10 MB free"):
        paths.check_disk_space(tmp_path, 0, "x")
    with pytest.raises(ValueError, match=r"need about 1.0 kB plus a 50 MiB safety margin \(52.43 MB in all\)"):
        paths.check_disk_space(tmp_path, 1000, "x")


def test_inside_and_path_component():
    assert paths.inside(Path("/r"), "a/b.wav", "entry") == Path("/r/a/b.wav")
    for bad in ("../x", "/abs", "a//b", "a/../../b", "", "a\\b"):
        with pytest.raises(ValueError):
            paths.inside(Path("/r"), bad, "entry")
    assert math.isnan(float("nan")) and paths.path_component("slider", "x") == "slider"


def test_synthetic_profile_is_recognised_from_the_clip_counts():
    from asd_utils.profiles import synth_sizes
    from asd_utils.provenance import _profile_of

    jobs = synth._jobs(synth_sizes("tiny"), "slider", 0)
    rows = [{"machine_type": "slider", "dataset": j.dataset, "split": j.split, "label": j.label,
             "machine_id": j.machine_id} for j in jobs]
    assert _profile_of(rows, "slider") == "tiny" and _profile_of(rows[1:], "slider") is None


def test_metadata_listing_a_clip_twice_is_refused(tmp_path):
    root = make_layout(tmp_path, 1, 1, 0.1)
    row = "dev_data/slider/test/anomaly_id_00_00000000.wav,rail_damage"
    (root / "metadata.csv").write_text(f"path,anomaly_type\n{row}\n{row}\n")
    with pytest.raises(DatasetError, match=r"metadata.csv: 1 path\(s\) listed twice, e.g. .*anomaly_id_00_00000000"):
        dataset_table(root)


@pytest.mark.parametrize("content, message", [("", "not a readable CSV"),
                                              ("notebook,model\n03,x\n", "no column.*dataset"),
                                              ('a,"b\n', "not a readable CSV")])
def test_readme_tables_name_a_damaged_results_file(tmp_path, content, message):
    from asd_utils import readme_tables

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / readme_tables.COURSE_RESULTS_CSV).write_text(content)
    (tmp_path / readme_tables.SEED_RESULTS_CSV).write_text("seed,dataset,model,score,mean_auc\n")
    with pytest.raises(ValueError, match=rf"results_summary.csv: {message}.*restore it"):
        readme_tables.readme_tables(tmp_path)
