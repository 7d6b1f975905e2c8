"""asd_utils.clip_rows: clips stored once (16-bit PCM as int16), read as exactly the float32 values the WAV reader
gives, and subsets that share the stored array."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from asd_utils.clip_rows import ClipRows, load_clip_rows
from asd_utils.data import load_batch
from helpers import machine_like, write_wav


def test_pcm16_clips_are_stored_as_int16_and_read_back_exactly(tmp_path):
    paths = [write_wav(tmp_path / f"c{i}.wav", machine_like(seed=i, seconds=0.5)) for i in range(3)]
    rows = load_clip_rows(paths, sr=16000)
    assert rows.data.dtype == np.int16 and rows.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(rows), load_batch(paths))  # bit for bit what the reader gives


def test_other_wavs_fall_back_to_float32_without_losing_precision(tmp_path):
    first = write_wav(tmp_path / "a.wav", machine_like(seed=0, seconds=0.5))
    second = tmp_path / "b.wav"
    sf.write(second, machine_like(seed=1, seconds=0.5) * 0.5, 16000, subtype="PCM_24")
    rows = load_clip_rows([first, second], sr=16000)
    assert rows.data.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(rows), load_batch([first, second]))


def test_a_subset_shares_the_stored_clips_and_reads_like_an_array():
    data = (np.arange(40).reshape(4, 10) * 100).astype(np.int16)
    rows = ClipRows(data)
    subset = rows.select([3, 1])
    assert subset.data is data and subset.shape == (2, 10) and len(subset) == 2
    expected = data[[3, 1]].astype(np.float32) / 32768
    np.testing.assert_array_equal(subset[:], expected)
    np.testing.assert_array_equal(subset[1], expected[1])
    np.testing.assert_array_equal(subset[:, 2:4], expected[:, 2:4])
    np.testing.assert_array_equal(subset.select(np.array([False, True]))[:], expected[1:])
    np.testing.assert_allclose(subset * 2, expected * 2)  # arithmetic gives a plain array
    assert subset.mean() == np.float32(expected.mean())
