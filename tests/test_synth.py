"""Tests of the synthetic slide-rail generator (asd_utils.synth, slider_machines, slider_sound); ~30 s on 2 CPU cores."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from asd_utils import slider_machines, synth
from asd_utils.profiles import SynthSizes, synth_sizes
from asd_utils.data import DatasetError
from asd_utils.synth import clip_statistics, generate_dataset, synth_main, synthesize_clip

TINY = synth_sizes("tiny")
SMALL = SynthSizes(dev_ids=("id_00", "id_02"), eval_ids=("id_03",), dev_train=(2, 1), dev_test_normal=(1, 1),
                   dev_test_anomaly=(3, 1), eval_train=(1,), eval_test_normal=(2,), eval_test_anomaly=(2,))
REQUIRED_COLUMNS = ["path", "machine_type", "dataset", "split", "machine_id", "label", "index", "anomaly_type",
                    "severity", "snr_db", "stroke_period_s", "speed_factor"]


def _wavs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.wav"))}


def _digest(root: Path) -> dict[str, str]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic_tiny")
    table = generate_dataset(root, profile="tiny", seed=0, progress=False)
    return root, table


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic_small")
    return root, generate_dataset(root, sizes=SMALL, seed=0, progress=False)


def expected_paths(sizes: SynthSizes, seed: int = 0) -> set[str]:
    paths = set()
    for i, mid in enumerate(sizes.dev_ids):
        paths |= {f"dev_data/slider/train/normal_{mid}_{k:08d}.wav" for k in range(sizes.dev_train[i])}
        paths |= {f"dev_data/slider/test/normal_{mid}_{k:08d}.wav" for k in range(sizes.dev_test_normal[i])}
        paths |= {f"dev_data/slider/test/anomaly_{mid}_{k:08d}.wav" for k in range(sizes.dev_test_anomaly[i])}
    for i, mid in enumerate(sizes.eval_ids):
        paths |= {f"eval_data/slider/train/normal_{mid}_{k:08d}.wav" for k in range(sizes.eval_train[i])}
        n_test = sizes.eval_test_normal[i] + sizes.eval_test_anomaly[i]
        paths |= {f"eval_data/slider/test/{mid}_{k:08d}.wav" for k in range(n_test)}
    return paths


def test_layout_exact_names_and_no_temp_files(tiny):
    root, table = tiny
    assert set(_wavs(root)) == expected_paths(TINY)
    assert (root / "metadata.csv").is_file() and (root / "eval_data/slider/eval_data_list.csv").is_file()
    assert not list(root.rglob("*.part")) and not list(root.rglob(".*"))
    info = sf.info(str(root / "dev_data/slider/train/normal_id_00_00000000.wav"))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, 160000)
    assert (info.subtype, info.format) == ("PCM_16", "WAV")


def test_metadata_columns_order_and_label_balance(tiny):
    root, table = tiny
    on_disk = pd.read_csv(root / "metadata.csv")
    assert list(on_disk.columns[:len(REQUIRED_COLUMNS)]) == REQUIRED_COLUMNS
    assert list(on_disk["path"]) == sorted(_wavs(root)) == list(table["path"])
    normal, anomaly = on_disk[on_disk.label == "normal"], on_disk[on_disk.label == "anomaly"]
    assert (normal.anomaly_type == "none").all() and (normal.severity == 0).all()
    assert anomaly.anomaly_type.isin(slider_machines.FAULT_TYPES).all()
    assert ((anomaly.severity > 0) & (anomaly.severity <= 1)).all()
    assert on_disk.snr_db.between(-10, 10).all() and on_disk.stroke_period_s.between(1.5, 3.0).all()
    counts = on_disk.groupby(["machine_id", "split", "label"]).size().to_dict()
    for i, mid in enumerate(TINY.dev_ids):
        assert counts[(mid, "train", "normal")] == TINY.dev_train[i]
        assert counts[(mid, "test", "normal")] == TINY.dev_test_normal[i]
        assert counts[(mid, "test", "anomaly")] == TINY.dev_test_anomaly[i]
    for i, mid in enumerate(TINY.eval_ids):
        assert counts[(mid, "test", "anomaly")] == TINY.eval_test_anomaly[i]
    assert (on_disk[on_disk.split == "train"].label == "normal").all()


def test_fault_types_are_balanced_thirds():
    types = [slider_machines.default_anomaly_type(0, "slider", "id_04", i) for i in range(30)]
    assert all(sorted(types[k:k + 3]) == sorted(slider_machines.FAULT_TYPES) for k in range(0, 30, 3))
    assert len({tuple(types[k:k + 3]) for k in range(0, 30, 3)}) > 1  # the order inside blocks is shuffled


def test_eval_ground_truth_matches_files_and_metadata(tiny):
    root, table = tiny
    lines = (root / "eval_data/slider/eval_data_list.csv").read_text().splitlines()
    assert lines[0] == "slider"
    rows = list(csv.reader(lines[1:]))
    names = [r[0] for r in rows]
    assert names == sorted(names) == sorted(p.name for p in (root / "eval_data/slider/test").glob("*.wav"))
    meta = table.set_index("path")
    for name, original, label in rows:
        row = meta.loc[f"eval_data/slider/test/{name}"]
        assert original == row.source_file and int(label) == int(row.label == "anomaly")
        assert original.startswith(f"{row.label}_{row.machine_id}_")
    shuffled = []
    for i, mid in enumerate(TINY.eval_ids):
        originals = [r[1] for r in rows if r[0].startswith(mid)]
        expected = {f"normal_{mid}_{k:08d}.wav" for k in range(TINY.eval_test_normal[i])}
        expected |= {f"anomaly_{mid}_{k:08d}.wav" for k in range(TINY.eval_test_anomaly[i])}
        assert sorted(originals) == sorted(expected)
        labels = [int(r[2]) for r in rows if r[0].startswith(mid)]
        shuffled.append(labels != sorted(labels) and labels != sorted(labels, reverse=True))
    assert all(shuffled)  # the label cannot be read off the eval index


def test_same_seed_gives_byte_identical_dataset_and_other_seed_differs(small, tmp_path):
    root, _ = small
    again = tmp_path / "again"
    generate_dataset(again, sizes=SMALL, seed=0, progress=False)
    assert _digest(again) == _digest(root)
    other = tmp_path / "other"
    generate_dataset(other, sizes=SMALL, seed=1, progress=False)
    first = "dev_data/slider/train/normal_id_00_00000000.wav"
    assert (other / first).read_bytes() != (root / first).read_bytes()


def test_smaller_profile_is_a_byte_identical_subset(tiny, small):
    (tiny_root, _), (small_root, _) = tiny, small
    shared = [p for p in _wavs(small_root) if p.startswith("dev_data") or "/train/" in p]
    assert len(shared) >= 8
    for rel in shared:
        if (tiny_root / rel).exists():
            assert (tiny_root / rel).read_bytes() == (small_root / rel).read_bytes(), rel


def test_workers_give_the_same_bytes(small, tmp_path):
    root, _ = small
    parallel = tmp_path / "parallel"
    generate_dataset(parallel, sizes=SMALL, seed=0, workers=2, progress=False)
    assert _digest(parallel) == _digest(root)


def test_one_clip_regenerated_alone_equals_the_file(tiny):
    root, table = tiny
    for path in ("dev_data/slider/train/normal_id_02_00000005.wav", "dev_data/slider/test/anomaly_id_04_00000002.wav",
                 "eval_data/slider/test/id_03_00000001.wav"):
        row = table.set_index("path").loc[path]
        label, machine_id, index = row.source_file[:-4].rsplit("_", 3)[0], row.machine_id, int(row.source_file[-12:-4])
        wave, params = synthesize_clip(machine_id, label, seed=0, index=index, split=row.split)
        stored, sr = sf.read(str(root / path), dtype="float32")
        assert sr == 16000 and wave.dtype == np.float32
        np.testing.assert_array_equal(wave, stored)
        assert params["anomaly_type"] == row.anomaly_type and params["severity"] == pytest.approx(row.severity)


def test_levels_of_normal_and_anomalous_clips(tiny):
    root, table = tiny
    normal = table[table.label == "normal"].iloc[::3]
    stats = [clip_statistics(sf.read(str(root / p))[0]) for p in normal.path]
    assert all(0.005 <= s["rms"] <= 0.02 for s in stats)
    assert max(s["peak"] for s in stats) < 0.1
    gaps = []
    for mid in ("id_00", "id_02", "id_04", "id_01", "id_03", "id_05"):
        for index in range(6):
            anomaly = synthesize_clip(mid, "anomaly", index=index)[0]
            twin = synthesize_clip(mid, "normal", index=index)[0]
            gaps.append(clip_statistics(anomaly)["rms_dbfs"] - clip_statistics(twin)["rms_dbfs"])
    assert 0.4 <= np.mean(gaps) <= 3.5  # a fault adds a little level (real slider: about 1.3x the normal RMS)


def test_long_term_spectrum_falls_15_to_35_db(tiny):
    root, table = tiny
    for path in table[table.label == "normal"].path.iloc[::4]:
        assert 15.0 <= clip_statistics(sf.read(str(root / path))[0])["spectral_tilt_db"] <= 35.0, path


def test_highband_envelope_quasi_stationary_for_normal_not_for_strong_faults(tiny):
    root, table = tiny
    normal = [clip_statistics(sf.read(str(root / p))[0])["highband_env_std_db"]
              for p in table[table.label == "normal"].path.iloc[::4]]
    assert max(normal) < 4.5  # strokes and rail-joint ticks modulate the band (real normal clips: 2-5 dB)
    for fault in slider_machines.FAULT_TYPES:
        strong = [clip_statistics(synthesize_clip(mid, "anomaly", fault, 1.0, index=i)[0])["highband_env_std_db"]
                  for mid in ("id_00", "id_02") for i in range(2)]
        assert np.mean(strong) > np.mean(normal), fault  # more, but (rail joints tick too) not a giveaway


def test_loose_belt_moves_the_mesh_line():
    machine = slider_machines.machine_params("slider", "id_00")

    def peak_hz(wave):
        frames = np.lib.stride_tricks.sliding_window_view(wave, 8192)[::4096] * np.hanning(8192)
        psd = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
        f = np.fft.rfftfreq(8192, 1 / 16000)
        band = (f > machine.mesh_hz * 0.85) & (f < machine.mesh_hz * 1.1)
        return f[band][np.argmax(psd[band])]

    normal = peak_hz(synthesize_clip("id_00", "normal", index=3)[0])
    faulty = peak_hz(synthesize_clip("id_00", "anomaly", "loose_belt", 1.0, index=3)[0])
    assert abs(normal / machine.mesh_hz - 1) < 0.03
    assert faulty < normal * 0.97


def test_machine_ids_differ_by_a_few_percent_and_ignore_the_seed():
    for ids in (("id_00", "id_02", "id_04"), ("id_01", "id_03", "id_05")):
        params = [slider_machines.machine_params("slider", mid) for mid in ids]
        for attr in ("motor_hz", "mesh_hz"):  # close machines of one model: 1.5-7 % apart
            values = sorted(getattr(p, attr) for p in params)
            ratios = [b / a - 1 for a, b in zip(values, values[1:])]
            assert min(ratios) >= 0.015 and max(values) / min(values) - 1 <= 0.07, (attr, values)
        assert len({p.drive_hz for p in params}) == 1  # the same drive electronics in every machine
        assert all(1 <= len(p.joints) <= 2 and all(0.15 <= x <= 0.85 for x in p.joints) for p in params)
    wave_a = synthesize_clip("id_00", seed=0)[0]
    wave_b = synthesize_clip("id_00", seed=1)[0]
    assert not np.array_equal(wave_a, wave_b)
    # the machine a clip is drawn from depends on the id only: recomputed (not the lru_cached object), under any
    # global random state, and the same for clips of two dataset seeds
    uncached = slider_machines.machine_params.__wrapped__
    np.random.seed(123)
    fresh = uncached("slider", "id_00")
    np.random.seed(456)
    assert uncached("slider", "id_00") == fresh != uncached("slider", "id_02")
    assert synth.clip_parameters(0, "slider", "id_00", "test", "normal", 0)[0] == fresh
    assert synth.clip_parameters(1, "slider", "id_00", "test", "normal", 0)[0] == fresh


def test_rerun_skips_complete_files_and_repairs_damaged_ones(small):
    root, _ = small
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.wav")}
    table = generate_dataset(root, sizes=SMALL, seed=0, progress=False)
    assert table.attrs["written"] == 0 and table.attrs["skipped"] == len(before)
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.wav")} == before
    victim = root / "dev_data/slider/test/anomaly_id_00_00000001.wav"
    original = victim.read_bytes()
    victim.write_bytes(original[:1000])  # a truncated file, e.g. from a copy that was interrupted
    table = generate_dataset(root, sizes=SMALL, seed=0, progress=False)
    assert table.attrs["written"] == 1 and victim.read_bytes() == original


def test_other_seed_in_same_root_is_refused_and_nothing_changes(tmp_path):
    sizes = SynthSizes(dev_ids=("id_00",), eval_ids=(), dev_train=(1,), dev_test_normal=(0,), dev_test_anomaly=(0,),
                       eval_train=(), eval_test_normal=(), eval_test_anomaly=())
    generate_dataset(tmp_path, sizes=sizes, seed=0, progress=False)
    before = _digest(tmp_path)
    with pytest.raises(DatasetError, match=r"already holds another dataset, so nothing was written.*seed=0; clip="
                                           r".*not seed=5"):
        generate_dataset(tmp_path, sizes=sizes, seed=5, progress=False)
    assert _digest(tmp_path) == before


def test_smaller_profile_over_larger_dataset_is_refused(small, tmp_path):
    """The issue's case: `synth --profile tiny` over a larger dataset rewrote eval test WAVs and cut the CSVs."""
    root, _ = small
    before = _digest(root)
    fewer = SynthSizes(dev_ids=("id_00", "id_02"), eval_ids=("id_03",), dev_train=(1, 1), dev_test_normal=(1, 1),
                       dev_test_anomaly=(1, 1), eval_train=(1,), eval_test_normal=(1,), eval_test_anomaly=(1,))
    with pytest.raises(DatasetError, match="is not part of the requested dataset"):
        generate_dataset(root, sizes=fewer, seed=0, progress=False)
    assert _digest(root) == before
    # the same through the command line: exit status 1, the folder named, nothing written
    assert synth_main(["--data-root", str(root), "--profile", "tiny", "--no-progress"]) == 1
    assert _digest(root) == before


def test_real_recordings_are_never_overwritten(tmp_path):
    sizes = SynthSizes(dev_ids=("id_00",), eval_ids=(), dev_train=(1,), dev_test_normal=(0,), dev_test_anomaly=(0,),
                       eval_train=(), eval_test_normal=(), eval_test_anomaly=())
    real = tmp_path / "dev_data/slider/train/normal_id_00_00000000.wav"
    real.parent.mkdir(parents=True)
    sf.write(str(real), np.zeros(160000, dtype=np.float32), 16000, subtype="PCM_16")
    before = real.read_bytes()
    with pytest.raises(DatasetError, match="not made by asd_utils.synth"):
        generate_dataset(tmp_path, sizes=sizes, seed=0, progress=False)
    assert real.read_bytes() == before


def test_ensure_dataset_generates_only_the_default_root(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(synth, "default_data_root", lambda profile, seed=0: str(tmp_path / f"default_{seed}"))
    table = synth.ensure_dataset(tmp_path / "default_0", "tiny", progress=False)
    assert len(table) == 120 and "wrote 120 missing clip(s)" in capsys.readouterr().out
    victim = tmp_path / "default_0/dev_data/slider/train/normal_id_00_00000003.wav"
    victim.unlink()  # the default root is completed, and it says so
    synth.ensure_dataset(tmp_path / "default_0", "tiny", progress=False)
    assert victim.is_file() and "wrote 1 missing clip(s)" in capsys.readouterr().out
    # a folder the user named is used as it is: ids deleted there stay deleted, another seed changes nothing
    named = tmp_path / "mine"
    (tmp_path / "default_0").rename(named)
    for path in named.glob("dev_data/slider/*/*id_04*.wav"):
        path.unlink()
    before = _digest(named)
    table = synth.ensure_dataset(named, "tiny", seed=3, progress=False)
    assert "id_04" not in set(table["machine_id"]) and _digest(named) == before
    assert "as they are (nothing generated)" in capsys.readouterr().out
    with pytest.raises(DatasetError, match=r"holds no data.*synth --profile tiny --seed 0 --data-root .*empty"):
        synth.ensure_dataset(tmp_path / "empty", "tiny")
    assert not (tmp_path / "empty").exists()


def test_seed_and_workers_flags_name_themselves(capsys):
    with pytest.raises(SystemExit):
        synth_main(["--seed", "-1"])
    assert "argument --seed: expected a non-negative integer, got '-1'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        synth_main(["--workers", "0"])
    assert "argument --workers: expected an integer >= 1, got '0'" in capsys.readouterr().err


def test_failed_run_leaves_no_partial_files(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_quantize = synth.quantize_pcm16

    def flaky_quantize(x):
        calls["n"] += 1
        return None if calls["n"] == 3 else real_quantize(x)  # None makes the WAV write fail half-way

    monkeypatch.setattr(synth, "quantize_pcm16", flaky_quantize)
    with pytest.raises(Exception):
        generate_dataset(tmp_path, sizes=SMALL, seed=0, progress=False)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 2 and not any(p.suffix == ".part" or p.name.startswith(".") for p in files)
    assert all(sf.info(str(p)).frames == 160000 for p in files)


def test_clear_errors_for_bad_profile_ids_and_arguments(tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        generate_dataset(tmp_path, profile="huge")
    with pytest.raises(ValueError, match="id_XX"):
        generate_dataset(tmp_path, sizes=SynthSizes(dev_ids=("00", "id_02", "id_04")))
    with pytest.raises(ValueError, match="one non-negative count per id"):
        generate_dataset(tmp_path, sizes=SynthSizes(dev_train=(1, 2)))
    with pytest.raises(ValueError, match="unique"):
        generate_dataset(tmp_path, sizes=SynthSizes(eval_ids=("id_00", "id_03", "id_05")))
    with pytest.raises(ValueError, match="workers"):
        generate_dataset(tmp_path, profile="tiny", workers=0)
    with pytest.raises(ValueError, match="anomaly_type"):
        synthesize_clip("id_00", "anomaly", "broken_gear")
    with pytest.raises(ValueError, match="training clips are all normal"):
        synthesize_clip("id_00", "anomaly", split="train")
    with pytest.raises(SystemExit):
        synth_main(["--profile", "huge"])
    assert "invalid choice" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_synth_main_prints_a_summary(tiny, capsys):
    root, table = tiny
    assert synth_main(["--profile", "tiny", "--data-root", str(root), "--no-progress"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(f"synth: {len(table)} clips in ") and "skipped 120" in out[0]
    assert synth_main(["--profile", "tiny", "--root", str(root), "--no-progress"]) == 0  # the deprecated alias
    assert "--root is deprecated, use --data-root" in capsys.readouterr().err


def test_relative_data_root_follows_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sizes = SynthSizes(dev_ids=("id_00",), eval_ids=(), dev_train=(1,), dev_test_normal=(0,), dev_test_anomaly=(0,),
                       eval_train=(), eval_test_normal=(), eval_test_anomaly=())
    monkeypatch.setattr(synth, "synth_sizes", lambda profile: sizes)
    assert synth_main(["--data-root", "here", "--no-progress"]) == 0
    assert (tmp_path / "here/dev_data/slider/train/normal_id_00_00000000.wav").is_file()
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith(f"synth: 1 clips in {tmp_path / 'here'} (written 1")


def test_data_root_that_is_a_file_is_named(tmp_path, capsys):
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    assert synth_main(["--data-root", str(blocker / "x"), "--no-progress"]) == 2
    assert f"--data-root {blocker / 'x'}: {blocker} is a file, expected a folder" in capsys.readouterr().err


def test_training_free_scores_are_the_level_statistics_of_each_clip(tiny):
    root, table = tiny
    paths = [str(root / p) for p in table.path.iloc[:3]]
    scores = synth.training_free_scores(paths)
    assert list(scores.columns) == list(synth.TRAINING_FREE_SCORES) and len(scores) == 3
    for row, path in zip(scores.itertuples(index=False), paths):
        stats = clip_statistics(sf.read(path)[0])
        assert row[0] == pytest.approx(stats["rms_dbfs"])
        assert row[1] == pytest.approx(20 * np.log10(stats["peak"]))
        assert row[2] == pytest.approx(row[1] - row[0])  # crest factor: peak over RMS, dB
        assert row[3] == pytest.approx(stats["highband_env_std_db"])
        assert row[4] == pytest.approx(stats["highband_peak_db"])


def test_candidate_wear_symptoms_change_only_faulty_clips(monkeypatch):
    """The wear symptoms benchmarks/bench_fault_variants.py tries are off as generated; on, they move a faulty
    clip's resonances and tonal lines and leave the normal clips as they were."""
    from asd_utils import slider_sound

    normal, faulty = synthesize_clip("id_00", "normal", index=3)[0], synthesize_clip("id_00", "anomaly", "no_grease",
                                                                                     1.0, index=3)[0]
    monkeypatch.setattr(slider_sound, "WEAR_RESONANCE_SCATTER", 0.1)
    monkeypatch.setattr(slider_sound, "WEAR_TONE_JITTER", 0.01)
    assert np.array_equal(synthesize_clip("id_00", "normal", index=3)[0], normal)
    worn = synthesize_clip("id_00", "anomaly", "no_grease", 1.0, index=3)[0]
    assert not np.array_equal(worn, faulty) and abs(np.std(worn) / np.std(faulty) - 1) < 0.2


def test_candidate_clip_colour_changes_every_clip_and_its_fault_free_twin_alike(monkeypatch):
    """CLIP_COLOUR_DB (tried by benchmarks/bench_fault_variants.py --generate) is off as generated; on, it recolours
    each clip in its own way, and a faulty clip's fault-free twin (which sets its gain) gets the same colour."""
    from asd_utils import slider_sound
    from asd_utils.features import log_mel

    def spectrum(clip):
        return log_mel(clip.astype(np.float32)).mean(axis=1)

    plain = [synthesize_clip("id_00", "normal", index=i)[0] for i in (3, 4)]
    monkeypatch.setattr(slider_sound, "CLIP_COLOUR_DB", 4.0)
    coloured = [synthesize_clip("id_00", "normal", index=i)[0] for i in (3, 4)]
    assert np.array_equal(synthesize_clip("id_00", "normal", index=3)[0], coloured[0])  # the colour is the clip's own
    changes = [spectrum(c) - spectrum(p) for c, p in zip(coloured, plain)]
    assert np.abs(changes[0]).max() > 1.0  # dB: the colour moves the spectrum ...
    assert np.abs(changes[0] - changes[1]).max() > 1.0  # ... and differently for each clip
    colours = []
    colour = slider_sound._clip_colour
    monkeypatch.setattr(slider_sound, "_clip_colour", lambda *args: colours.append(colour(*args)) or colours[-1])
    synthesize_clip("id_00", "anomaly", "rail_damage", 1.0, index=3)
    assert len(colours) == 2 and np.array_equal(colours[0], colours[1])  # the fault-free twin, then the faulty clip
