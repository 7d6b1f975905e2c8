"""What a machine-id classifier reads: the clips (waveforms and log-mels), the classes, the training subsample.

Every classifier notebook (04-06) starts the same way::

    table -> training / held-out clips          subsample_per_id, split_training_clips
          -> ClipInputs (waveforms + log-mels)   load_clip_inputs, ClipInputs.subset
          -> class indices (ids with clips)      class_mapping, class_indices
          -> the classifiers' input transforms    level_free (no mean level), logmel_stats (one mean and std)

:mod:`asd_utils.classifiers` trains and scores on these.

Introduced in: notebooks/04_resnet_baseline.ipynb (reused by 05_stgramnet and 06_sepstgramnet)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .clip_rows import ClipRows, load_clip_rows
from .data import require_machine_ids
from .features import LogMelParams, LogMelRows, log_mel_dataset

MIN_CLASSES = 2  # an id classifier with one id scores every clip p(id) = 1


def class_mapping(machine_ids) -> dict[str, int]:
    """``{machine_id: class index}`` for the ids present (sorted): ``["id_04", "id_00", "id_04"] -> {id_00: 0, id_04: 1}``.

    An id classifier needs at least two ids (one class gives p(id) = 1 for every clip): fewer is an error.
    """
    ids = require_machine_ids(machine_ids, MIN_CLASSES, "an id classifier")
    return {machine_id: index for index, machine_id in enumerate(ids)}


def class_indices(machine_ids, mapping: dict[str, int]) -> np.ndarray:
    """Class index (int64) of each machine id; an id without training clips is an error naming it."""
    unknown = sorted({str(m) for m in machine_ids} - set(mapping))
    if unknown:
        raise ValueError(f"machine id(s) {unknown} have no training clips; the classes are {sorted(mapping)}")
    return np.array([mapping[str(m)] for m in machine_ids], dtype=np.int64)


def subsample_per_id(table: pd.DataFrame, n_per_id: int, seed: int = 0) -> pd.DataFrame:
    """At most ``n_per_id`` rows per machine id, drawn with ``seed`` (``n_per_id <= 0`` keeps all), sorted by path."""
    if n_per_id <= 0:
        return table.reset_index(drop=True)
    parts = [rows.sample(n=min(n_per_id, len(rows)), random_state=seed) for _, rows in table.groupby("machine_id")]
    return pd.concat(parts).sort_values("path").reset_index(drop=True)


def split_training_clips(reference: pd.DataFrame, n_train_per_id: int = 0, heldout_per_id: int = 0,
                         seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(training clips, held-out clips)`` of the normal reference clips.

    ``heldout_per_id`` clips of each id are put aside to watch the id accuracy while the network trains (they stay
    reference clips of the distance scores); the network learns from ``n_train_per_id`` of the others (0: all).
    """
    heldout = subsample_per_id(reference, heldout_per_id, seed) if heldout_per_id > 0 else reference.iloc[:0]
    rest = reference[~reference["path"].isin(heldout["path"])]
    return subsample_per_id(rest, n_train_per_id, seed), heldout.reset_index(drop=True)


@dataclass
class ClipInputs:
    """What a classifier sees of some clips: ``table`` (one row per clip), ``waves [N, n_samples]`` (None when no
    model needs them) and ``logmels [N, n_mels, n_frames]`` in dB (not standardised), both read as float32.

    Both are :class:`asd_utils.clip_rows.ClipRows` (arrays given here are wrapped without a copy): a subset shares
    the stored clips, so the training, held-out and reference clips of notebooks 05-06 are in memory once.
    """

    table: pd.DataFrame
    waves: ClipRows | None
    logmels: ClipRows

    def __post_init__(self):
        self.waves = None if self.waves is None else ClipRows.of(self.waves)
        self.logmels = ClipRows.of(self.logmels)

    def __len__(self) -> int:
        return len(self.table)

    def subset(self, rows) -> "ClipInputs":
        """The clips selected by ``rows`` (a boolean mask or integer positions), e.g. a training subsample of the
        reference clips: ``inputs.subset(inputs.table["path"].isin(sample["path"]))``."""
        rows = np.asarray(rows)
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(int)
        return ClipInputs(self.table.iloc[rows].reset_index(drop=True),
                          None if self.waves is None else self.waves.select(rows), self.logmels.select(rows))


def load_clip_inputs(table: pd.DataFrame, params: LogMelParams = LogMelParams(), cache_dir="data/cache",
                     device="auto", waves: bool = True) -> ClipInputs:
    """``table``'s clips for a classifier: with ``waves=True`` their waveforms, and their log-mels computed from them
    when read (:class:`asd_utils.features.LogMelRows`, no second copy in memory); else their cached log-mels
    (:func:`asd_utils.features.log_mel_dataset`) only."""
    table = table.reset_index(drop=True)
    paths = table["path"].tolist()
    if not waves:
        return ClipInputs(table, None, log_mel_dataset(paths, params, cache_dir=cache_dir, device=device))
    clips = load_clip_rows(paths, sr=params.sr)
    return ClipInputs(table, clips, LogMelRows(clips, params))  # log-mels computed from the clips a batch at a time


def level_free(logmels):
    """Each clip's log-mel minus its own mean level (dB): the classifiers see the shape of the sound, not its loudness.

    Loudness says little about which machine is playing (a microphone moved by 10 cm changes it), but a network
    that sees it grows *more* confident on louder clips, and faults make a machine louder: without this step the
    score 1 - softmax(z)[id] ranks many anomalous clips as the most normal ones. The level stays available to the
    autoencoders and to the level statistics of notebook 01.
    """
    logmels = np.asarray(logmels) if isinstance(logmels, ClipRows) else logmels
    return logmels - logmels.mean(axis=(-2, -1), keepdims=True)


def logmel_stats(logmels) -> tuple[float, float]:
    """One mean and one standard deviation (dB) of level-free training log-mels (:func:`level_free`), used to
    standardise every input."""
    logmels = ClipRows.of(logmels)
    chunks = [slice(start, start + 256) for start in range(0, len(logmels), 256)]  # bounded memory, float64 sums
    count = float(np.prod(logmels.shape))
    mean = sum(level_free(logmels[c].astype(np.float64)).sum() for c in chunks) / count
    variance = sum(((level_free(logmels[c].astype(np.float64)) - mean) ** 2).sum() for c in chunks) / count
    return float(mean), float(np.sqrt(variance) + 1e-8)
