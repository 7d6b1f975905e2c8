import shutil

import numpy as np
import pytest
import soundfile as sf

from asd_utils.data import (DatasetError, dataset_table, load_batch, load_wav, parse_file_name,
                            read_ground_truth, select)
from helpers import machine_like, make_layout, write_wav


@pytest.mark.parametrize("name, expected", [
    ("normal_id_00_00000000.wav", {"label": "normal", "machine_id": "id_00", "index": 0}),
    ("anomaly_id_02_00000123.wav", {"label": "anomaly", "machine_id": "id_02", "index": 123}),
    ("id_05_00000007.wav", {"label": None, "machine_id": "id_05", "index": 7}),
])
def test_parse_file_name(name, expected):
    assert parse_file_name(name) == expected


@pytest.mark.parametrize("name", ["normal_id_0_00000000.wav", "broken_id_00_00000000.wav", "normal_id_00_00000000.flac",
                                  "id_01_0001.wav", "notes.txt"])
def test_parse_file_name_rejects_other_names(name):
    with pytest.raises(DatasetError, match="not a DCASE 2020 clip name"):
        parse_file_name(name)


def test_dataset_table_layout_and_ground_truth(tmp_path):
    root = make_layout(tmp_path)
    table = dataset_table(root)
    assert list(table.columns[:9]) == ["path", "file_name", "machine_type", "dataset", "split", "machine_id",
                                       "label", "y", "index"]
    counts = table.groupby(["dataset", "split"]).size().to_dict()
    assert counts == {("dev", "test"): 8, ("dev", "train"): 4, ("eval", "test"): 4, ("eval", "train"): 2}
    eval_test = select(table, dataset="eval", split="test")
    assert eval_test["label"].tolist() == ["normal", "anomaly", "normal", "anomaly"]
    assert eval_test["y"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert set(select(table, machine_id="id_02")["split"]) == {"train", "test"}
    assert table["path"].is_monotonic_increasing


def test_dataset_table_without_ground_truth_leaves_labels_unknown(tmp_path):
    root = make_layout(tmp_path)
    (root / "eval_data/slider/eval_data_list.csv").unlink()
    eval_test = select(dataset_table(root), dataset="eval", split="test")
    assert eval_test["label"].isna().all() and eval_test["y"].isna().all()


def test_dataset_table_joins_metadata(tmp_path):
    root = make_layout(tmp_path)
    (root / "metadata.csv").write_text("path,anomaly_type,severity\n"
                                       "dev_data/slider/test/anomaly_id_00_00000000.wav,rail_damage,0.5\n")
    table = dataset_table(root)
    row = table[table["file_name"] == "anomaly_id_00_00000000.wav"].iloc[0]
    assert row["anomaly_type"] == "rail_damage" and row["severity"] == 0.5


def test_ground_truth_reads_only_its_machine_type(tmp_path):
    path = tmp_path / "eval_data_list.csv"
    path.write_text("fan\nid_01_00000000.wav,x,1\nslider\nid_01_00000000.wav,normal_id_01_00000000.wav,0\n"
                    "id_01_00000001.wav,anomaly_id_01_00000000.wav,1\n")
    assert read_ground_truth(path, "slider") == {"id_01_00000000.wav": 0, "id_01_00000001.wav": 1}
    assert read_ground_truth(path, "fan") == {"id_01_00000000.wav": 1}


def test_missing_root_and_folders_are_named(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        dataset_table(tmp_path / "nowhere")
    (tmp_path / "dev_data/slider/train").mkdir(parents=True)
    with pytest.raises(DatasetError, match="no .wav files in .*dev_data/slider/train"):
        dataset_table(tmp_path, datasets=("dev",))
    root = make_layout(tmp_path / "layout")
    shutil.rmtree(root / "eval_data")
    # a dev-only download (download --parts dev): fine unless the evaluation data are asked for by name
    assert set(dataset_table(root)["dataset"]) == {"dev"}
    with pytest.raises(DatasetError, match="missing folder .*eval_data/slider.*download --parts eval_train"):
        dataset_table(root, datasets=("dev", "eval"))
    assert set(dataset_table(root, datasets=("dev", "eval"), require=False)["dataset"]) == {"dev"}


def test_wrong_names_and_labels_in_the_tree_are_named(tmp_path):
    root = make_layout(tmp_path)
    bad = write_wav(root / "dev_data/slider/test/clip_07.wav", machine_like(0, 0.1))
    with pytest.raises(DatasetError, match="clip_07.wav"):
        dataset_table(root)
    bad.unlink()
    write_wav(root / "dev_data/slider/train/anomaly_id_00_00000000.wav", machine_like(0, 0.1))
    with pytest.raises(DatasetError, match="training clips must be normal"):
        dataset_table(root)


def test_load_wav_reads_float32(tmp_path):
    wave = machine_like(1, 0.5)
    path = write_wav(tmp_path / "normal_id_00_00000000.wav", wave)
    loaded = load_wav(path)
    assert loaded.dtype == np.float32 and loaded.shape == wave.shape
    assert np.max(np.abs(loaded - wave)) < 1e-4  # 16-bit quantisation


def test_load_wav_rejects_wrong_sample_rate(tmp_path):
    path = write_wav(tmp_path / "a.wav", machine_like(1, 0.5, sr=22050), sr=22050)
    with pytest.raises(DatasetError, match=r"a.wav: sample rate 22050 Hz, expected 16000 Hz"):
        load_wav(path)


def test_load_wav_multichannel_needs_explicit_channel(tmp_path):
    eight = np.stack([machine_like(c, 0.2) for c in range(8)], axis=1)
    path = tmp_path / "mimii.wav"
    sf.write(str(path), eight, 16000, subtype="PCM_16")
    with pytest.raises(DatasetError, match="8 channels, expected mono; write a mono copy once with .python -m asd_utils convert"):
        load_wav(path)
    assert np.allclose(load_wav(path, channel=3), eight[:, 3], atol=1e-4)
    with pytest.raises(DatasetError, match="channel 9 requested"):
        load_wav(path, channel=9)


def test_load_wav_rejects_empty_corrupt_truncated_and_missing(tmp_path):
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, dtype=np.float32), 16000, subtype="PCM_16")
    with pytest.raises(DatasetError, match="empty.wav: empty audio"):
        load_wav(empty)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00not a wave file at all")
    with pytest.raises(DatasetError, match="corrupt.wav: not a readable audio file"):
        load_wav(corrupt)
    good = write_wav(tmp_path / "good.wav", machine_like(0, 1.0))
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[: 44 + 1000])
    with pytest.raises(DatasetError, match="truncated.wav: 500 samples, expected 16000"):
        load_wav(truncated, n_samples=16000)
    with pytest.raises(DatasetError, match="missing.wav: file not found"):
        load_wav(tmp_path / "missing.wav")


def test_load_batch_requires_equal_lengths(tmp_path):
    a = write_wav(tmp_path / "a.wav", machine_like(0, 1.0))
    b = write_wav(tmp_path / "b.wav", machine_like(1, 0.5))
    assert load_batch([a, a]).shape == (2, 16000)
    with pytest.raises(DatasetError, match="b.wav: 8000 samples, expected 16000"):
        load_batch([a, b])


def test_short_clip_is_named_whatever_sorts_first(tmp_path):
    """A 1 s clip sorting first used to set the expected length and blame the next, healthy file."""
    short = write_wav(tmp_path / "a_short.wav", machine_like(0, 1.0))
    healthy = [write_wav(tmp_path / f"b_{i}.wav", machine_like(i, 2.0)) for i in range(3)]
    for paths in ([short, *healthy], [*healthy, short]):
        with pytest.raises(DatasetError, match=r"a_short.wav: 16000 samples, expected 32000 .*3 of the 4 clips"):
            load_batch(paths)
    from asd_utils.features import log_mel_dataset

    with pytest.raises(DatasetError, match="a_short.wav: 16000 samples"):
        log_mel_dataset([short, *healthy], cache_dir=None, device="cpu", batch_size=1)


def test_nan_sample_names_the_file(tmp_path):
    wave = machine_like(0, 0.5)
    wave[1234] = np.nan
    path = tmp_path / "normal_id_00_00000000.wav"
    sf.write(str(path), wave, 16000, subtype="FLOAT")
    with pytest.raises(DatasetError, match=r"normal_id_00_00000000.wav: sample 1234 \(0.077 s\) is NaN or infinite"):
        load_wav(path)


@pytest.mark.parametrize("name", ["metadata.csv", "eval_data/slider/eval_data_list.csv"])
def test_corrupt_optional_csv_names_the_file(tmp_path, name):
    root = make_layout(tmp_path, n_train=1, n_test=1, seconds=0.1)
    (root / name).write_bytes(b"\xff\xfe\x00garbage\x89PNG")
    with pytest.raises(DatasetError, match=rf"{name}: not a UTF-8 text file.*restore it, or delete it"):
        dataset_table(root)


def test_single_machine_id_is_refused_before_training():
    from asd_utils.data import require_machine_ids

    assert require_machine_ids(["id_02", "id_00", "id_02"], 2, "x") == ["id_00", "id_02"]
    with pytest.raises(DatasetError, match=r"x needs training clips of at least 2 machine ids, got 1 \(id_00\)"):
        require_machine_ids(["id_00"] * 5, 2, "x")
