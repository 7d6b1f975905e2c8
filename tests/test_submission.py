import numpy as np
import pandas as pd
import pytest

from asd_utils.submission import (read_dcase_submission, score_submission, write_dcase_submission,
                                  write_kaggle_submission)


@pytest.fixture
def eval_table():
    names = [f"id_{i}_{k:08d}.wav" for i in ("01", "03") for k in range(4)]
    return pd.DataFrame({"file_name": names, "machine_id": [n[:5] for n in names]})


def ground_truth(path, labels):
    lines = ["fan", "id_01_00000000.wav,normal_id_01_00000000.wav,1", "slider"]
    lines += [f"{name},x,{y}" for name, y in labels.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_dcase_files_one_per_id_sorted_without_header(tmp_path, eval_table):
    scores = np.arange(8)[::-1] * 0.5
    paths = write_dcase_submission(tmp_path, eval_table.iloc[::-1], scores[::-1])
    assert [p.name for p in paths] == ["anomaly_score_slider_id_01.csv", "anomaly_score_slider_id_03.csv"]
    lines = paths[0].read_text().splitlines()
    assert lines == ["id_01_00000000.wav,3.5", "id_01_00000001.wav,3.0", "id_01_00000002.wav,2.5",
                     "id_01_00000003.wav,2.0"]
    back = read_dcase_submission(tmp_path)
    assert len(back) == 8 and back["score"].max() == 3.5


def test_kaggle_file(tmp_path, eval_table):
    path = write_kaggle_submission(tmp_path / "submission.csv", eval_table, np.linspace(0, 1, 8))
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["file_name", "anomaly_score"] and len(frame) == 8
    with pytest.raises(ValueError, match="id_01_00000001.wav is NaN"):
        write_kaggle_submission(tmp_path / "bad.csv", eval_table, [0, np.nan, 0, 0, 0, 0, 0, 0])


def test_scoring_against_ground_truth(tmp_path, eval_table, capsys):
    labels = {name: int(k % 2) for k, name in enumerate(eval_table["file_name"])}
    truth = ground_truth(tmp_path / "eval_data_list.csv", labels)
    perfect = np.array([labels[n] for n in eval_table["file_name"]], dtype=float)
    write_dcase_submission(tmp_path / "sub", eval_table, perfect)
    result = score_submission(tmp_path / "sub", truth)
    assert result["per_id"] == {"id_01": {"auc": 1.0, "pauc": 1.0}, "id_03": {"auc": 1.0, "pauc": 1.0}}
    assert result["pooled_auc"] == 1.0
    assert score_submission(tmp_path / "sub", tmp_path / "missing.csv") is None
    assert "cannot be scored" in capsys.readouterr().out


def test_scoring_rejects_missing_or_extra_clips(tmp_path, eval_table):
    labels = {name: int(k % 2) for k, name in enumerate(eval_table["file_name"])}
    truth = ground_truth(tmp_path / "gt.csv", {**labels, "id_01_00000009.wav": 1})
    write_dcase_submission(tmp_path / "sub", eval_table, np.zeros(8))
    with pytest.raises(ValueError, match=r"1 clip\(s\) of the ground truth .*gt.csv have no score, e.g. id_01_000"):
        score_submission(tmp_path / "sub", truth)
    truth = ground_truth(tmp_path / "gt2.csv", dict(list(labels.items())[1:]))
    with pytest.raises(ValueError, match=r"not in the ground truth .*gt2.csv, e.g. id_01_00000000.wav"):
        score_submission(tmp_path / "sub", truth)
    with pytest.raises(FileNotFoundError, match="no anomaly_score_slider_id_XX.csv"):
        read_dcase_submission(tmp_path)
