"""The machines and clips of the synthetic slider data: which machine an id is, and what varies from clip to clip.

Every machine id is a machine of the same model. :func:`machine_params` derives its fixed parameters (stroke
period, tonal frequencies, harmonic pattern, resonances, rail joints, loudness) from ``(machine_type, machine_id)``
alone, never from the dataset seed; :func:`draw_clip_params` draws what varies between two clips of one machine
(SNR, level, speed, start of the stroke, load) and the fault of an anomalous clip. Both are cheap: no audio. The
sound itself is rendered by :func:`asd_utils.slider_sound.render_clip`, whose docstring describes the model.

The difficulty knobs (``ID_DIFFICULTY``: the SNR mix and severity range of each id; ``id_02`` and ``id_03`` are the
hard ids, like the real id 02), the clip levels and the spread of the ids are the named constants below.
"""
from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

DURATION_S = 10.0
FAULT_TYPES = ("rail_damage", "loose_belt", "no_grease")

# ---- Difficulty knobs: retune the benchmark here -------------------------------------------------------------------
SNR_CHOICES_DB = (6.0, 0.0, -6.0)  # the MIMII mixing levels
SNR_JITTER_DB = 1.0  # std of the per-clip jitter around the drawn level


@dataclass(frozen=True)
class IdDifficulty:
    """Recording conditions and fault subtlety of one machine id."""

    snr_weights: tuple[float, float, float]  # probabilities of SNR_CHOICES_DB
    severity_range: tuple[float, float]  # fault severity is uniform in [low, high]


# Lower severities or more weight on -6 dB make an id harder by design; which id comes out hardest depends on the
# other id cues and the training-set size too (notebook 07 reads it from the run, benchmarks/bench_seeds.py per seed).
EASY, MEDIUM, HARD = (IdDifficulty((0.5, 0.3, 0.2), (0.3, 1.0)), IdDifficulty((0.4, 0.4, 0.2), (0.25, 1.0)),
                      IdDifficulty((0.05, 0.25, 0.7), (0.2, 0.7)))
ID_DIFFICULTY = {"id_00": EASY, "id_02": HARD, "id_04": MEDIUM,  # real id 02 is the hard one
                 "id_01": EASY, "id_03": HARD, "id_05": MEDIUM}
DEFAULT_DIFFICULTY = MEDIUM

# ---- Clip levels ---------------------------------------------------------------------------------------------------
NORMAL_RMS_MEDIAN = 0.010  # of full scale, like the real slider clips
NORMAL_RMS_LOG_STD = 0.2  # lognormal spread of the clip level
NORMAL_RMS_RANGE = (0.006, 0.016)
NORMAL_PEAK_LIMIT = 0.095  # a normal clip's peak stays below 0.1
ID_LEVEL_SPREAD_DB = 0.3  # machines differ a little in loudness

# ---- The slide-rail model: nominal values shared by every machine of the type --------------------------------------
BASE_STROKE_PERIOD_S = 2.2
BASE_MOTOR_HZ = 250.0
BASE_MESH_HZ = 2500.0
BASE_DRIVE_HZ = 1100.0
BASE_RESONANCES_HZ = (650.0, 1900.0, 4700.0)
ID_TONE_SPREAD = 0.035  # relative spread of the ids' tonal lines (Weyl spacing below; notebook 02 measures it)
ID_STROKE_SPREAD = 0.12
ID_RESONANCE_SPREAD = 0.06
CLIP_SPEED_STD = 0.008  # clip-to-clip speed variation, well below the id spacing
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0  # Weyl step: ids 0,2,4 (or 1,3,5) land >= 0.236 apart on the circle
MACHINE_SALT = 0x5EED_51DE
_STREAMS = {"params": 0, "timeline": 1, "tones": 2, "friction": 3, "events": 4, "background": 5, "fault": 6,
            "wear": 7, "colour": 8}


def machine_id_number(machine_id: str) -> int:
    """The number of a machine id string: ``"id_04"`` -> 4. Raises ``ValueError`` for anything else."""
    match = re.fullmatch(r"id_(\d{2})", str(machine_id))
    if match is None:
        raise ValueError(f"machine id {machine_id!r} is not of the form 'id_XX' (two digits), e.g. 'id_00'")
    return int(match.group(1))


def make_rng(key: tuple[int, ...], stream: str) -> np.random.Generator:
    """A PCG64 generator for one named random stream of one clip; the same key always gives the same numbers."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([*key, _STREAMS[stream]])))


def stable_hash(text: str) -> int:
    """A text's CRC-32, a seed component that is the same in every Python process (``hash()`` is salted)."""
    return zlib.crc32(text.encode("utf-8"))


@dataclass(frozen=True)
class MachineParams:
    """Fixed physical parameters of one machine (one id); frequencies in Hz, amplitudes relative to friction RMS."""

    machine_type: str
    machine_id: str
    stroke_period_s: float
    motor_hz: float
    motor_harmonics: tuple[float, float, float]
    mesh_hz: float
    mesh_amp: float
    drive_hz: float
    drive_amp: float
    resonance_hz: tuple[float, float, float]
    resonance_q: tuple[float, float, float]
    resonance_gain: tuple[float, float, float]
    friction_tilt: float
    accel_fraction: float
    dwell_fraction: float
    clunk_hz: float
    level_db: float
    joints: tuple[float, ...]  # rail joints (0-1 along the rail): the carriage ticks over each one, every stroke


@lru_cache(maxsize=64)
def machine_params(machine_type: str, machine_id: str) -> MachineParams:
    """The fixed parameters of machine ``machine_id``, derived from ``(machine_type, machine_id)`` only.

    Main frequencies sit on a Weyl sequence ``frac(r + id * 0.618)`` so any three ids of equal parity are spread
    out (notebook 02 measures how far apart their tonal lines are); details (harmonics, Q, gains, tilt) come from a
    generator seeded by the id.
    """
    num = machine_id_number(machine_id)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([MACHINE_SALT, stable_hash(machine_type), num])))

    def spread(name: str, rel: float) -> float:
        rotation = stable_hash(f"{machine_type}:{name}") / 2.0**32
        return 1.0 + rel * (2.0 * ((rotation + num * GOLDEN) % 1.0) - 1.0)

    u = rng.uniform(size=16)
    joint_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [MACHINE_SALT, stable_hash(machine_type), num, 1])))
    return MachineParams(
        machine_type=machine_type, machine_id=machine_id,
        stroke_period_s=BASE_STROKE_PERIOD_S * spread("stroke", ID_STROKE_SPREAD),
        motor_hz=BASE_MOTOR_HZ * spread("motor", ID_TONE_SPREAD),
        motor_harmonics=(1.0, 0.35 + 0.3 * u[0], 0.15 + 0.2 * u[1]),
        mesh_hz=BASE_MESH_HZ * spread("mesh", ID_TONE_SPREAD), mesh_amp=0.3 + 0.15 * u[2],
        drive_hz=BASE_DRIVE_HZ, drive_amp=0.15 + 0.1 * u[3],  # the same drive electronics in every machine
        resonance_hz=tuple(f * spread(f"res{i}", ID_RESONANCE_SPREAD) for i, f in enumerate(BASE_RESONANCES_HZ)),
        resonance_q=tuple(3.0 + 5.0 * u[4:7]), resonance_gain=tuple(2.0 + 1.0 * u[7:10]),
        friction_tilt=1.25 + 0.1 * u[10], accel_fraction=0.06 + 0.04 * u[11], dwell_fraction=0.015 + 0.015 * u[12],
        clunk_hz=140.0 + 40.0 * u[13], level_db=ID_LEVEL_SPREAD_DB * (2.0 * u[14] - 1.0),
        joints=tuple(np.round(np.sort(0.15 + 0.7 * joint_rng.uniform(size=1 + int(u[15] < 0.5))), 4)),
    )


def default_anomaly_type(seed: int, machine_type: str, machine_id: str, index: int) -> str:
    """Fault type of anomalous clip ``index``: every block of 3 indices holds each fault once, in a seeded order."""
    block_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        [seed, stable_hash(machine_type), machine_id_number(machine_id), 0xFA17, index // 3])))
    return FAULT_TYPES[int(block_rng.permutation(3)[index % 3])]


@dataclass(frozen=True)
class ClipParams:
    """Random parameters of one clip (drawn by :func:`draw_clip_params`); ``key`` seeds its random streams."""

    key: tuple[int, ...]
    label: str
    anomaly_type: str
    severity: float
    snr_db: float
    target_rms: float
    speed_factor: float
    stroke_period_s: float
    stroke_phase: float  # position in the back-and-forth cycle at t = 0, in strokes (0-2)
    speed_drift: float  # relative speed change from the start to the end of the clip
    load_db: float
    fault: dict = field(default_factory=dict)


def draw_clip_params(machine: MachineParams, key: tuple[int, ...], label: str, anomaly_type: str = "none",
                     severity: float | None = None) -> ClipParams:
    """Draw the clip-level randomness (cheap: no audio). ``severity=None`` draws it from the id's difficulty."""
    if label not in ("normal", "anomaly"):
        raise ValueError(f"label must be 'normal' or 'anomaly', got {label!r}")
    if label == "anomaly" and anomaly_type not in FAULT_TYPES:
        raise ValueError(f"anomaly_type must be one of {FAULT_TYPES} for an anomaly, got {anomaly_type!r}")
    difficulty = ID_DIFFICULTY.get(machine.machine_id, DEFAULT_DIFFICULTY)
    rng = make_rng(key, "params")
    snr = float(rng.choice(SNR_CHOICES_DB, p=np.asarray(difficulty.snr_weights) / sum(difficulty.snr_weights)))
    snr += SNR_JITTER_DB * rng.standard_normal()
    log_rms = (math.log(NORMAL_RMS_MEDIAN) + machine.level_db / 20.0 * math.log(10.0)
               + NORMAL_RMS_LOG_STD * rng.standard_normal())
    speed = 1.0 + float(np.clip(CLIP_SPEED_STD * rng.standard_normal(), -3 * CLIP_SPEED_STD, 3 * CLIP_SPEED_STD))
    period = machine.stroke_period_s / speed * (1.0 + 0.01 * rng.standard_normal())  # programmed travel varies
    phase, drift, load_db = 2.0 * rng.uniform(), 0.003 * rng.standard_normal(), 1.0 * rng.standard_normal()
    low, high = difficulty.severity_range
    drawn_severity, f = low + (high - low) * rng.uniform(), rng.uniform(size=6)  # always drawn: stable streams
    fault: dict = {}
    if label == "normal":
        anomaly_type, sev = "none", 0.0
    else:
        sev = float(drawn_severity if severity is None else severity)
        if not 0.0 < sev <= 1.0:
            raise ValueError(f"severity must be in (0, 1], got {sev}")
        if anomaly_type == "rail_damage":
            fault["dents"] = [round(0.15 + 0.7 * f[0], 4)] + ([round(0.15 + 0.7 * f[1], 4)] if f[2] < 0.3 else [])
        elif anomaly_type == "loose_belt":
            fault["flutter_hz"] = round(3.0 + 5.0 * f[0], 3)
        else:
            fault["squeal_hz"] = round(1800.0 + 2000.0 * f[0], 1)
            fault["dry_zone"] = [round(0.1 + 0.5 * f[1], 4), round(0.15 + 0.2 * f[2], 4)]  # start, width
    return ClipParams(key=tuple(key), label=label, anomaly_type=anomaly_type, severity=sev, snr_db=float(snr),
                      target_rms=float(np.clip(math.exp(log_rms), *NORMAL_RMS_RANGE)), speed_factor=speed,
                      stroke_period_s=float(period), stroke_phase=float(phase), speed_drift=float(drift),
                      load_db=float(load_db), fault=fault)
