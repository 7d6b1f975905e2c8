"""python -m asd_utils convert: own recordings at another rate or with several channels become 16 kHz mono copies the
course reads, the source untouched, nothing replaced."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from asd_utils.cli import main as cli_main
from asd_utils.data import DatasetError, dataset_table, load_wav


def _recording(path, sr=44100, channels=2, seconds=0.5):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(sr * seconds)) / sr
    tone = 0.3 * np.sin(2 * np.pi * 440 * t)
    sf.write(str(path), np.stack([tone * (c + 1) / channels for c in range(channels)], axis=1), sr, subtype="PCM_24")
    return path


def test_convert_resamples_and_downmixes_into_a_new_folder(tmp_path, capsys):
    src, dst = tmp_path / "mine", tmp_path / "mine_16k"
    for split, name in (("train", "normal_id_00_00000000.wav"), ("test", "anomaly_id_00_00000000.wav"),
                        ("test", "normal_id_00_00000001.wav")):
        _recording(src / "dev_data" / "fan" / split / name)
    with pytest.raises(DatasetError, match="44100 Hz, expected 16000 Hz.*asd_utils convert"):
        load_wav(src / "dev_data" / "fan" / "train" / "normal_id_00_00000000.wav")
    before = {p: p.read_bytes() for p in src.rglob("*.wav")}
    assert cli_main(["convert", str(src), str(dst)]) == 0
    assert "wrote 3 converted clip(s)" in capsys.readouterr().out
    wave = load_wav(dst / "dev_data" / "fan" / "train" / "normal_id_00_00000000.wav")
    assert wave.shape == (8000,) and abs(np.abs(wave).max() - 0.3 * 1.5 / 2) < 0.01  # mean of the two channels
    assert len(dataset_table(dst, "fan")) == 3
    assert {p: p.read_bytes() for p in src.rglob("*.wav")} == before  # the source is only read
    # a second conversion into the same (now full) folder replaces nothing; --channel keeps one channel
    assert cli_main(["convert", str(src), str(dst)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert cli_main(["convert", str(src), str(tmp_path / "left"), "--channel", "0"]) == 0
    left = load_wav(tmp_path / "left" / "dev_data" / "fan" / "train" / "normal_id_00_00000000.wav")
    assert abs(np.abs(left).max() - 0.15) < 0.01


def test_convert_refuses_bad_options_naming_them(tmp_path, capsys):
    src = tmp_path / "mine"
    _recording(src / "dev_data" / "fan" / "train" / "normal_id_00_00000000.wav")
    assert cli_main(["convert", str(src), str(tmp_path / "out"), "--channel", "5"]) == 1
    assert "--channel 5, but the file has 2 channel(s)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # a failed conversion leaves nothing behind
    with pytest.raises(SystemExit):
        cli_main(["convert", str(src), str(tmp_path / "out2"), "--sample-rate", "10"])
    assert "at least 1000" in capsys.readouterr().err


def test_convert_refuses_a_target_inside_the_source(tmp_path, capsys):
    src = tmp_path / "mine"
    _recording(src / "dev_data" / "fan" / "train" / "normal_id_00_00000000.wav")
    assert cli_main(["convert", str(src), str(src / "copy")]) == 1
    assert "inside the source folder" in capsys.readouterr().err
