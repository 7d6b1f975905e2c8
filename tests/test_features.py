import sys

import librosa
import numpy as np
import pytest
import torch

from asd_utils.features import LogMelFrontEnd, LogMelParams, log_mel, log_mel_dataset, stack_frames
from helpers import machine_like, write_wav


def librosa_log_mel(wave, params=LogMelParams()):
    mel = librosa.feature.melspectrogram(y=wave, sr=params.sr, n_fft=params.n_fft, hop_length=params.hop_length,
                                         n_mels=params.n_mels, power=params.power)
    return 20.0 / params.power * np.log10(mel + sys.float_info.epsilon)


def test_matches_librosa_within_a_hundredth_of_a_db():
    for seed, tone in ((0, 250.0), (1, 263.0)):
        wave = machine_like(seed, tone_hz=tone)
        ours = log_mel(wave)
        assert ours.shape == (128, 313)
        assert np.max(np.abs(ours - librosa_log_mel(wave))) < 0.01


def test_batched_equals_one_by_one_and_other_parameters():
    params = LogMelParams(n_fft=512, hop_length=256, n_mels=64, power=1.0)
    waves = np.stack([machine_like(s, seconds=2.0) for s in range(3)])
    with torch.no_grad():
        batch = LogMelFrontEnd(params)(torch.from_numpy(waves)).numpy()
    assert batch.shape == (3, 64, params.n_frames(32000)) == (3, 64, 126)
    for row, wave in zip(batch, waves):
        assert np.max(np.abs(row - librosa_log_mel(wave, params))) < 0.01


def test_stack_frames_follows_the_dcase_baseline_order():
    log_mels = np.random.default_rng(0).standard_normal((2, 128, 313)).astype(np.float32)
    vectors = stack_frames(log_mels, 5)
    assert vectors.shape == (2, 309, 640)
    # the DCASE baseline: vector_array[:, n_mels*t : n_mels*(t+1)] = log_mel[:, t : t + 309].T
    for t in range(5):
        assert np.array_equal(vectors[1, :, 128 * t:128 * (t + 1)], log_mels[1, :, t:t + 309].T)
    as_torch = stack_frames(torch.from_numpy(log_mels), 5)
    assert torch.equal(as_torch, torch.from_numpy(np.ascontiguousarray(vectors)))


def test_log_mel_dataset_caches_and_notices_changes(tmp_path):
    paths = [write_wav(tmp_path / f"normal_id_00_{i:08d}.wav", machine_like(i, seconds=1.0)) for i in range(3)]
    cache = tmp_path / "cache"
    first = log_mel_dataset(paths, cache_dir=cache, batch_size=2, device="cpu")
    assert first.dtype == np.float32 and first.shape == (3, 128, 32)
    cached = list(cache.glob("logmel_*.npy"))
    assert len(cached) == 1
    # a cache hit returns the stored array (poison the file to prove it is read, not recomputed)
    np.save(cached[0], np.full_like(first, 7.0))
    assert np.all(log_mel_dataset(paths, cache_dir=cache, device="cpu") == 7.0)
    # other parameters or another file list get another cache entry
    log_mel_dataset(paths[:2], cache_dir=cache, device="cpu")
    log_mel_dataset(paths, LogMelParams(n_mels=64), cache_dir=cache, device="cpu")
    assert len(list(cache.glob("logmel_*.npy"))) == 3
    assert not list(cache.glob("*.part"))
    uncached = log_mel_dataset(paths, cache_dir=None, device="cpu")
    assert np.allclose(uncached, first)


def test_log_mel_dataset_rejects_unequal_clips(tmp_path):
    a = write_wav(tmp_path / "a.wav", machine_like(0, seconds=1.0))
    b = write_wav(tmp_path / "b.wav", machine_like(0, seconds=0.5))
    with pytest.raises(ValueError, match="b.wav"):
        log_mel_dataset([a, b], cache_dir=None, device="cpu")


def test_front_end_gives_the_same_bits_whatever_the_batch():
    """Log-mels computed a few clips at a time equal the cached whole-batch ones bit for bit, so a loader may compute
    them from the held waveforms on the fly without moving any result."""
    waves = np.random.default_rng(0).normal(scale=0.1, size=(6, 16000)).astype(np.float32)
    front_end = LogMelFrontEnd(LogMelParams())
    with torch.no_grad():
        whole = front_end(torch.from_numpy(waves)).numpy()
        pieces = np.concatenate([front_end(torch.from_numpy(waves[i:i + size])).numpy()
                                 for i, size in ((0, 1), (1, 2), (3, 3))])
    assert np.array_equal(whole, pieces)


def test_log_mel_rows_are_the_cached_log_mels_of_held_clips(tmp_path, monkeypatch):
    from asd_utils.clip_rows import load_clip_rows
    from asd_utils.features import LogMelRows
    monkeypatch.setattr(LogMelRows, "CLIPS_PER_CALL", 2)  # a read of several rows takes several front-end calls
    paths = [write_wav(tmp_path / f"clip_{i}.wav", machine_like(seed=i, seconds=1.0)) for i in range(5)]
    cached = log_mel_dataset(paths, cache_dir=None, batch_size=3, device="cpu")
    rows = LogMelRows(load_clip_rows(paths, sr=16000))
    assert rows.shape == cached.shape and len(rows) == 5 and rows.ndim == 3 and rows.dtype == np.float32
    assert np.array_equal(rows[:], cached) and np.array_equal(rows[3], cached[3])
    assert np.array_equal(rows[[4, 1]], cached[[4, 1]]) and np.array_equal(rows[2, :, 7], cached[2, :, 7])
    subset = rows.select([4, 0, 2])
    assert isinstance(subset, LogMelRows) and np.array_equal(subset[1:], cached[[0, 2]])
    assert subset.select(np.array([False, True, False]))[:].shape == (1,) + cached.shape[1:]
    assert rows.select([])[:].shape == (0,) + cached.shape[1:]
