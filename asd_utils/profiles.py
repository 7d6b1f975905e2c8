"""Named profiles: how big the synthetic dataset is and how long models train.

* ``tiny``   - unit tests and the papermill smoke runs (seconds).
* ``course`` - the default for the notebooks and the main command: every notebook trains in minutes on 2 CPU cores.
* ``dcase``  - the real DCASE 2020 Task 2 slider sizes and the reports' training settings.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

from dataclasses import dataclass, field

PROFILE_NAMES = ("tiny", "course", "dcase")
DEV_IDS = ("id_00", "id_02", "id_04")
EVAL_IDS = ("id_01", "id_03", "id_05")


@dataclass(frozen=True)
class SynthSizes:
    """Clip counts of one synthetic dataset, per machine id.

    ``dev_train[i]`` / ``dev_test_anomaly[i]`` belong to ``dev_ids[i]``; likewise for the eval ids.
    """

    dev_ids: tuple[str, ...] = DEV_IDS
    eval_ids: tuple[str, ...] = EVAL_IDS
    dev_train: tuple[int, ...] = (968, 968, 434)
    dev_test_normal: tuple[int, ...] = (100, 100, 100)
    dev_test_anomaly: tuple[int, ...] = (356, 267, 178)
    eval_train: tuple[int, ...] = (968, 968, 434)
    eval_test_normal: tuple[int, ...] = (100, 100, 100)
    eval_test_anomaly: tuple[int, ...] = (178, 178, 178)
    duration_s: float = 10.0
    sample_rate: int = 16000

    def total_clips(self) -> int:
        return sum(self.dev_train + self.dev_test_normal + self.dev_test_anomaly
                   + self.eval_train + self.eval_test_normal + self.eval_test_anomaly)


SYNTH_PROFILES: dict[str, SynthSizes] = {
    "tiny": SynthSizes(dev_train=(12, 12, 12), dev_test_normal=(4, 4, 4), dev_test_anomaly=(4, 4, 4),
                       eval_train=(12, 12, 12), eval_test_normal=(4, 4, 4), eval_test_anomaly=(4, 4, 4)),
    "course": SynthSizes(dev_train=(100, 100, 50), dev_test_normal=(30, 30, 30), dev_test_anomaly=(36, 30, 24),
                         eval_train=(100, 100, 50), eval_test_normal=(30, 30, 30), eval_test_anomaly=(30, 30, 30)),
    "dcase": SynthSizes(),
}


def synth_sizes(profile: str) -> SynthSizes:
    """The :class:`SynthSizes` of a named profile, with a clear error for an unknown name."""
    try:
        return SYNTH_PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILE_NAMES)}") from None


def default_data_root(profile: str) -> str:
    """Where the synthetic dataset of ``profile`` lives, relative to the repository root."""
    synth_sizes(profile)
    return f"data/synthetic_{profile}"


# Papermill parameters per profile: {profile: {"all": {...}, "03": {...}, ...}}. "all" applies to every notebook,
# a two-digit key to the notebook with that prefix (it wins over "all"). The notebooks' own defaults ARE the course
# values, so `course` only names itself. The runner adds DATA_ROOT, OUTPUT_DIR, DEVICE and SEED itself and passes
# only the names a notebook declares in its `parameters` cell. Values must be literals (str, int, float, bool).
NOTEBOOK_PARAMETERS: dict[str, dict[str, dict]] = {
    "tiny": {
        "all": {"PROFILE": "tiny"},
        "00": {},
        "01": {},
        "02": {},
        "03": {},
        "04": {},
        "05": {},
        "06": {},
        "07": {},
    },
    "course": {"all": {"PROFILE": "course"}},
    "dcase": {"all": {"PROFILE": "dcase"}},
}


def notebook_parameters(profile: str, notebook_stem: str) -> dict:
    """Papermill parameters of ``profile`` for one notebook: the profile's ``"all"`` entry updated by the entry of
    the notebook's two-digit prefix (``"03_autoencoder_baselines"`` -> ``"03"``). Returns a new dict.

    Introduced in: notebooks/00_getting_started.ipynb
    """
    synth_sizes(profile)  # clear error for an unknown profile
    table = NOTEBOOK_PARAMETERS.get(profile, {})
    prefix = str(notebook_stem)[:2]
    return {**table.get("all", {}), **table.get(prefix, {})}
