"""The sound of one slide rail: the physical model behind the synthetic DCASE 2020 slider data.

A slide rail moves a carriage back and forth along a rail. A motor turns a toothed belt (or a ball screw); the
carriage accelerates, cruises, slows down, stops for a moment and comes back. Each one-way trip is a *stroke*
(1.5-3 s). A microphone next to the machine hears, in this model:

* **Motor tone** - the motor's rotation frequency (~250 Hz at cruise) and its 2nd and 3rd harmonics. It follows
  the carriage speed, so it glides down and back up at every reversal.
* **Belt/screw mesh line** - teeth meeting the pulley (~2.5 kHz), also proportional to speed, plus a weak harmonic.
* **Drive line** - a steady electrical line of the motor drive (1.1 kHz, the same electronics in every machine).
* **Friction noise** - broadband sliding noise whose colour is set by the structure: a spectral tilt plus three
  resonances of carriage and rail. It is loudest while the carriage moves and dips at the reversals.
* **Reversal clunks** - a soft low thud each time the carriage stops to turn round.
* **Rail joints** - one or two joints per rail: the carriage ticks over each of them at a fixed place of every
  stroke. Normal clips click too, so a click alone does not mean a fault.
* **Factory background** - coloured noise, mains hum and distant machinery, mixed at a signal-to-noise ratio drawn
  from the MIMII levels {+6, 0, -6} dB with jitter, relative to the machine sound of the clip itself (as MIMII
  mixed its recordings): a fault does not make the machine stand out more clearly from the background.

Every machine id is a machine of the same model: :func:`asd_utils.slider_machines.machine_params` derives its stroke period, tonal
frequencies (motor and mesh lines 1.6-5.5 % apart between two ids of the course's dev or eval set), harmonic
pattern, resonances (a few % apart), joint positions and, barely, its loudness from ``(machine_type, machine_id)``
alone, never from the dataset seed. The ids are close, as on the real slider data: the RMS difference between two
ids' mean log-mel spectra is 2-3 dB, about the spread of clips around their own id's mean (real clips: 1.6-3.3 dB).
A machine is recognised by several fine cues at once. From clip to clip it varies a little (start position in the
stroke, speed +-1 %, load, noise, SNR, level), so "normal" is a distribution, not a template.

Faults disturb the cues that identify a machine, as real faults do (``severity`` in (0, 1]; near 0 is close to
normal): a classifier that learnt a rail becomes unsure of it. Every fault makes the worn machine rattle more (its
friction noise up to ``WEAR_GAIN_DB`` louder, the tones unchanged, so they sink a little into the noise), and:

* ``rail_damage`` - dents on the rail: an impact (click + thud + ringing) each time the carriage crosses a dent, at
  a fixed position of every stroke, a short loss of contact (a gap in the high band), then rattling that masks the
  tonal lines; the carriage labours over each dent (the tonal lines dip), and the damaged rail's resonances are
  detuned.
* ``loose_belt`` - the belt slips: irregular stroke rhythm, speed flutter that makes the tonal lines wobble, a mesh
  line shifted down (slip) and a motor line shifted up (less load); during a slip the carriage stalls (no friction
  noise), the motor races and teeth jump over the pulley (a rattle of bright clicks), then the belt snaps back;
  and the slack belt flaps at low frequency.
* ``no_grease`` - dry zones on the rail: louder, brighter friction noise, stick-slip squeal (a high tone with
  harmonics) switching on and off as the carriage passes the dry zones, and a strained motor that turns slower
  (every speed-proportional line moves down) with a stronger 2nd harmonic.

Levels: normal clips have an RMS around 0.010 of full scale and peaks below 0.1. An anomalous clip is scaled by
the gain of its fault-free twin (the same clip rendered without the fault), so the fault adds level on top, but only
a little (notebook 01 measures how much), and its clicks are no louder than a rail joint's: level statistics alone stay
well below a trained model (``benchmarks/bench_seeds.py`` measures it).

How it is computed: slow quantities (speed, tone frequencies, envelopes) live on a 1 ms control grid and are
interpolated to audio rate; tones are read from one-period wavetables at a phase that follows the motor speed;
noises are shaped in the frequency domain (one inverse FFT each), so a clip renders much faster than real time.

Generator version 2 (``asd_utils.synth.GENERATOR_VERSION``) was calibrated on seed 0 with
``benchmarks/bench_seeds.py`` and checked on seeds 1 and 2 (the README has the figures). Retuning: the fault
strengths are the named constants at the top of this module; the per-id difficulty (``ID_DIFFICULTY``: SNR mix and
severity range; ``id_02`` and ``id_03`` are the hard ids, like the real id 02) and the spread of the ids are those
of :mod:`asd_utils.slider_machines`.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .data import SAMPLE_RATE  # the generator writes clips at the DCASE data's rate
from .slider_machines import DURATION_S, NORMAL_PEAK_LIMIT, ClipParams, MachineParams, make_rng

# ---- Fault strengths at severity 1 (amplitudes relative to the friction-noise RMS) ---------------------------------
WEAR_GAIN_DB = 3.0  # a worn machine rattles more: its friction noise is this much louder (the tones are not)
RAIL_IMPACT_PEAK = 6.0
RAIL_GAP_DEPTH = 0.9  # contact loss right after an impact: friction noise drops by this fraction
RAIL_RATTLE_S = 0.6  # rattling after an impact lasts about this long
RAIL_RATTLE_GAIN = 1.0  # friction noise amplitude added while rattling over the dent
RAIL_TONE_MASK = 0.8  # tonal lines lose this fraction while rattling
RAIL_DETUNE = 0.05  # resonances move down by this fraction
RAIL_SPEED_DIP = 0.10  # the carriage slows down this much while crossing a dent
LOOSE_MESH_SHIFT = 0.06  # mesh line moves down by 6 %: the belt slips
LOOSE_MOTOR_SHIFT = 0.03  # motor runs 3 % faster: less load
LOOSE_FLUTTER = 0.04  # relative speed flutter
LOOSE_RHYTHM_JITTER = 0.15  # stroke durations vary by up to +-15 %
LOOSE_SLIP_PROB = 0.9  # chance that a stroke slips (times 0.3 + 0.7 * severity)
LOOSE_SLIP_DEPTH = 0.9  # friction noise drops by this fraction during a slip
LOOSE_SLIP_RACE = 0.1  # the unloaded motor races during a slip
LOOSE_SNAP_PEAK = 3.0
LOOSE_SKIP_PEAK = 2.0  # teeth jumping over the pulley during a slip: a rattle of bright clicks
LOOSE_SKIP_RATE_HZ = 30.0
LOOSE_FLAP_RMS = 0.6  # low-frequency belt flapping noise
GREASE_FRICTION_GAIN = 1.0  # friction amplitude multiplier - 1 inside a dry zone
GREASE_BASE_GAIN = 0.15  # friction amplitude multiplier - 1 everywhere
GREASE_BRIGHTEN = 0.1  # spectral tilt of the friction noise flattens by this exponent
GREASE_SQUEAL_AMP = 0.4
GREASE_MOTOR_GAIN = 0.2  # the motor works harder: louder, with a stronger 2nd harmonic
GREASE_SPEED_DROP = 0.06  # ... and slower (speed-proportional lines move down)
# Candidate wear symptoms of every fault, off in the generated datasets (benchmarks/bench_fault_variants.py tries them)
WEAR_RESONANCE_SCATTER = 0.0  # a loosened structure: each resonance moves up or down at random, by up to this fraction
WEAR_TONE_JITTER = 0.0  # irregular running: the speed-proportional lines jitter by this relative std (smeared lines)
WEAR_JITTER_S = 0.03  # ... changing over about this long
# Candidate clip-to-clip variation of every clip, off in the generated datasets (bench_fault_variants.py --generate)
CLIP_COLOUR_DB = 0.0  # the friction noise's colour drifts from run to run: random tilt, mid and high-band gains (std)

# ---- The sound of every machine of the type ------------------------------------------------------------------------
STROKE_JITTER = 0.004
FRICTION_FLOOR = 0.2  # friction/motor noise left while the carriage stands still
MOTOR_IDLE = 0.25
CLUNK_AMP = 1.5
JOINT_PEAK = 4.0  # ticks over the rail joints: as loud as a medium dent, so a click alone does not mean a fault


# ---- Building blocks -----------------------------------------------------------------------------------------------
# Slow quantities (speed, frequencies, envelopes) live on a 1 ms control grid and are interpolated to audio rate:
# they change over tens of milliseconds, and this keeps a clip at a few dozen full-length array operations.
CONTROL_STEP = 16  # audio samples per control point
WAVETABLE_SIZE = 16384  # one period of a tone; lookup error < 4e-4 of the tone amplitude
_BASE_SINE = np.sin(2.0 * np.pi * np.arange(WAVETABLE_SIZE) / WAVETABLE_SIZE)


@lru_cache(maxsize=4)
def _freqs(n: int, sr: int) -> np.ndarray:
    return np.fft.rfftfreq(n, 1.0 / sr)


@lru_cache(maxsize=4)
def _spectral_bases(n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """log(f / 1 kHz) (f >= 20 Hz) and a 4th-order low-pass at 60 Hz, on the rfft grid (cached: used every clip)."""
    f = _freqs(n, sr)
    return np.log(np.maximum(f, 20.0) / 1000.0), 1.0 / (1.0 + np.square(np.square(f / 60.0)))


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(x)))  # not np.dot: BLAS may sum in a CPU-dependent order


def _shaped_noise(amplitude: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with the given amplitude spectrum (one inverse FFT), scaled to unit RMS.

    Uniform random real/imaginary parts are 4x cheaper to draw than Gaussian ones; every output sample sums
    ~80 000 of them, so it is Gaussian all the same.
    """
    re_im = rng.random((2, amplitude.size)) - 0.5
    spectrum = np.empty(amplitude.size, dtype=np.complex128)
    spectrum.real, spectrum.imag = re_im[0] * amplitude, re_im[1] * amplitude
    x = np.fft.irfft(spectrum, n)
    return x / math.sqrt(_power(x))


def _wavetable(partials: dict[int, float]) -> np.ndarray:
    """One period of a tone made of harmonics ``{k: amplitude}``."""
    idx = np.arange(WAVETABLE_SIZE)
    return sum(a * _BASE_SINE[(k * idx) % WAVETABLE_SIZE] for k, a in partials.items())


def _play(table: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Read ``table`` at phase ``cycles`` (periods, >= 0, audio rate): a tone whose frequency may glide."""
    return table[(cycles * WAVETABLE_SIZE).astype(np.int64) & (WAVETABLE_SIZE - 1)]


@lru_cache(maxsize=4)
def _ramps(blocks: int) -> np.ndarray:
    return np.tile(np.arange(CONTROL_STEP) / CONTROL_STEP, blocks)


def _upsample(ctrl: np.ndarray, n: int) -> np.ndarray:
    """Control-rate signal -> ``n`` audio samples by linear interpolation (np.repeat: long, fast inner loops)."""
    start = np.repeat(ctrl[:-1], CONTROL_STEP)
    return (start + np.repeat(np.diff(ctrl), CONTROL_STEP) * _ramps(ctrl.size - 1))[:n]


def _cycles(freq_hz: np.ndarray, ctrl_rate: float, offset: float) -> np.ndarray:
    """Phase in periods at each control point of a tone with control-rate frequency ``freq_hz``."""
    return offset + np.concatenate([[0.0], np.cumsum(freq_hz[:-1])]) / ctrl_rate


def _resonances(f: np.ndarray, centres, qs, gains) -> np.ndarray:
    out = np.ones_like(f)
    for fc, q, g in zip(centres, qs, gains):
        out += g / (1.0 + ((f - fc) * (2.0 * q / fc)) ** 2)
    return out


def _friction_spectrum(m: MachineParams, n: int, sr: int, detune=0.0, brighten: float = 0.0) -> np.ndarray:
    """Amplitude spectrum of the sliding noise: tilt, low cut at 80 Hz, the machine's three resonances (each moved
    down by ``detune``, one fraction for all or one per resonance)."""
    f = _freqs(n, sr)
    fl = np.maximum(f, 40.0)
    low_cut = 1.0 / np.sqrt(1.0 + np.square(np.square(80.0 / fl)))
    base = np.exp(np.log(fl / 1000.0) * (-(m.friction_tilt - brighten) / 2.0)) * low_cut
    centres = [c * (1.0 - d) for c, d in zip(m.resonance_hz, np.broadcast_to(detune, len(m.resonance_hz)))]
    return base * _resonances(f, centres, m.resonance_q, m.resonance_gain)


_cached_friction_spectrum = lru_cache(maxsize=16)(_friction_spectrum)


def _impact_kernel(sr: int, rng: np.random.Generator, thud_hz: float, ring_hz: float, click: float) -> np.ndarray:
    """An impact, peak 1: a damped low thud, a damped structural ring and a short broadband click."""
    t = np.arange(int(0.12 * sr)) / sr
    k = np.sin(2 * np.pi * thud_hz * t) * np.exp(-t / 0.025)
    k += 0.4 * np.sin(2 * np.pi * ring_hz * t) * np.exp(-t / 0.012)
    k += click * np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t / 0.002)  # differenced noise: bright click
    return k / np.max(np.abs(k))


def _add_events(out: np.ndarray, times_s, kernel: np.ndarray, amps, rate: float) -> None:
    """Add ``amp * kernel`` starting at each time (events may run over either end of ``out``)."""
    for t0, amp in zip(times_s, amps):
        start = int(round(t0 * rate))
        lo, hi = max(start, 0), min(start + kernel.size, out.size)
        if lo < hi:
            out[lo:hi] += amp * kernel[lo - start:hi - start]


def _speed_profile(u: np.ndarray, accel: float, dwell: float) -> np.ndarray:
    """Carriage speed (0-1 of cruise) at stroke fraction ``u``: dwell, S-curve ramp, cruise, ramp, dwell."""
    ramp = np.minimum(np.clip((u - dwell) / accel, 0.0, 1.0), np.clip((1.0 - dwell - u) / accel, 0.0, 1.0))
    return ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: jerk-limited motion


@dataclass
class _Strokes:
    """The carriage motion on the control grid."""

    rate: float  # control points per second
    t: np.ndarray
    starts: np.ndarray  # stroke start times (s), one per stroke
    durations: np.ndarray
    direction: np.ndarray  # +1 / -1 per stroke
    stroke: np.ndarray  # stroke index at each control point
    u: np.ndarray  # fraction of the current stroke
    speed: np.ndarray  # 0-1 of cruise speed
    accel: float
    dwell: float

    def travelled(self):
        grid = np.linspace(0.0, 1.0, 2001)
        distance = np.cumsum(_speed_profile(grid, self.accel, self.dwell))
        return grid, distance / distance[-1]

    def crossing_times(self, position: float) -> np.ndarray:
        """When the carriage passes ``position`` (0-1 along the rail): one time per stroke."""
        grid, travelled = self.travelled()
        target = np.where(self.direction > 0, position, 1.0 - position)
        return self.starts + np.interp(target, travelled, grid) * self.durations

    def position(self) -> np.ndarray:
        """Carriage position (0-1 along the rail) at each control point."""
        grid, travelled = self.travelled()
        x = np.interp(self.u, grid, travelled)
        return np.where(self.direction[self.stroke] > 0, x, 1.0 - x)

    def window(self, times_s, length_s: float, shape: str = "hann") -> np.ndarray:
        """Windows (0-1) starting at the given times: 'hann' bumps or 'decay' (instant rise, exponential fall)."""
        length = max(int(length_s * self.rate), 2)
        kernel = np.hanning(length) if shape == "hann" else np.exp(-np.arange(length) / (0.35 * length))
        out = np.zeros(self.t.size)
        _add_events(out, times_s, kernel, np.ones(len(times_s)), self.rate)
        return np.minimum(out, 1.0)


def _strokes(m: MachineParams, clip: ClipParams, n: int, sr: int, rhythm_jitter: float) -> _Strokes:
    rng = make_rng(clip.key, "timeline")
    count = int(n / sr / (clip.stroke_period_s * (1 - LOOSE_RHYTHM_JITTER))) + 3
    durations = clip.stroke_period_s * (1.0 + STROKE_JITTER * rng.standard_normal(count))
    durations *= 1.0 + rhythm_jitter * rng.uniform(-1.0, 1.0, count)
    starts = -(clip.stroke_phase % 1.0) * durations[0] + np.concatenate([[0.0], np.cumsum(durations[:-1])])
    direction = np.where((np.arange(count) + int(clip.stroke_phase)) % 2 == 0, 1.0, -1.0)
    rate = sr / CONTROL_STEP
    t = np.arange(-(-n // CONTROL_STEP) + 1) / rate
    stroke = np.searchsorted(starts, t, side="right") - 1
    u = (t - starts[stroke]) / durations[stroke]
    speed = _speed_profile(u, m.accel_fraction, m.dwell_fraction)
    return _Strokes(rate, t, starts, durations, direction, stroke, u, speed, m.accel_fraction, m.dwell_fraction)


@dataclass
class _Voice:
    """What the machine is doing, on the control grid; a fault edits it before it is rendered."""

    motor_rate: np.ndarray  # motor speed relative to nominal
    mesh_rate: np.ndarray
    motor_amp: np.ndarray
    mesh_amp: np.ndarray
    friction_env: np.ndarray
    harmonics: dict
    detune: float | np.ndarray = 0.0  # resonances move down by this fraction (one for all, or one per resonance)
    brighten: float = 0.0  # the friction tilt flattens by this exponent


# ---- Faults: each edits the voice and adds its own sounds to ``extra`` (audio rate) --------------------------------
def _rail_damage(m, clip, st: _Strokes, v: _Voice, extra, s: float, rng, sr: int) -> None:
    hits = np.concatenate([st.crossing_times(x) for x in clip.fault["dents"]])
    soft = np.tile(st.direction, len(clip.fault["dents"])) < 0  # one side of a dent is a softer step
    amps = RAIL_IMPACT_PEAK * s * np.where(soft, 0.6, 1.0) * (0.75 + 0.5 * rng.uniform(size=hits.size))
    _add_events(extra, hits, _impact_kernel(sr, rng, 90.0 + 60.0 * rng.uniform(), m.resonance_hz[1], 1.5), amps, sr)
    gap = st.window(hits, 0.06, "decay")  # the carriage jumps: no sliding contact for a moment
    rattle = st.window(hits + 0.03, RAIL_RATTLE_S * (0.4 + s), "decay")
    v.friction_env *= (1.0 - RAIL_GAP_DEPTH * s * gap) * (1.0 + RAIL_RATTLE_GAIN * s * rattle)
    v.motor_amp *= 1.0 - 0.5 * RAIL_TONE_MASK * s * rattle
    v.mesh_amp *= 1.0 - RAIL_TONE_MASK * s * np.maximum(rattle, gap)
    v.detune = RAIL_DETUNE * s
    dip = 1.0 - RAIL_SPEED_DIP * s * st.window(hits, 0.25)  # the carriage labours over the dent
    v.motor_rate *= dip
    v.mesh_rate *= dip


def _loose_belt(m, clip, st: _Strokes, v: _Voice, extra, s: float, rng, sr: int) -> None:
    flutter = LOOSE_FLUTTER * s * _play(_BASE_SINE, clip.fault["flutter_hz"] * st.t + rng.uniform())
    slipping = rng.uniform(size=st.starts.size) < LOOSE_SLIP_PROB * (0.3 + 0.7 * s)
    slip_at = (st.starts + (0.2 + 0.5 * rng.uniform(size=st.starts.size)) * st.durations)[slipping]
    slip_len = (0.15 + 0.25 * rng.uniform(size=st.starts.size))[slipping] * (0.5 + s)
    slip = np.zeros(st.t.size)
    for t0, length in zip(slip_at, slip_len):
        slip = np.maximum(slip, st.window([t0], length))
    v.motor_rate *= (1.0 + LOOSE_MOTOR_SHIFT * s + LOOSE_SLIP_RACE * s * slip) * (1.0 + flutter)
    v.mesh_rate *= (1.0 - LOOSE_MESH_SHIFT * s) * (1.0 + 1.5 * flutter)
    v.friction_env *= 1.0 - LOOSE_SLIP_DEPTH * s * slip  # the carriage stalls
    v.mesh_amp *= 1.0 - s * slip
    skips = np.concatenate([np.zeros(0)] + [t0 + np.arange(0.0, length, 1.0 / LOOSE_SKIP_RATE_HZ)
                                            for t0, length in zip(slip_at, slip_len)])
    skip_amps = LOOSE_SKIP_PEAK * s * (0.5 + rng.uniform(size=skips.size))
    _add_events(extra, skips, _impact_kernel(sr, rng, 400.0, m.resonance_hz[2], 3.0), skip_amps, sr)
    snap = _impact_kernel(sr, rng, 60.0 + 40.0 * rng.uniform(), m.resonance_hz[0], 1.5)
    snap_amps = LOOSE_SNAP_PEAK * s * (0.6 + 0.4 * rng.uniform(size=slip_at.size))
    _add_events(extra, slip_at + slip_len, snap, snap_amps, sr)  # the belt grabs again
    band = _freqs(extra.size, sr)
    flap = _shaped_noise(np.exp(-0.5 * ((band - 70.0) / 30.0) ** 2), extra.size, rng)
    flap_env = st.speed * (0.3 + 0.7 * _play(_BASE_SINE, (4.0 + 4.0 * rng.uniform()) * st.t) ** 2)
    extra += LOOSE_FLAP_RMS * s * flap * _upsample(flap_env, extra.size)


def _no_grease(m, clip, st: _Strokes, v: _Voice, extra, s: float, rng, sr: int) -> None:
    start, width = clip.fault["dry_zone"]
    x = st.position()
    dry = np.clip((x - start) / 0.03, 0, 1) * np.clip((start + width - x) / 0.03, 0, 1) * st.speed
    stick_slip = 1.0 + 0.8 * _play(_BASE_SINE, (8.0 + 12.0 * rng.uniform()) * st.t)
    v.friction_env *= 1.0 + GREASE_BASE_GAIN * s + GREASE_FRICTION_GAIN * s * dry * stick_slip
    v.brighten = GREASE_BRIGHTEN * s
    v.motor_amp *= 1.0 + GREASE_MOTOR_GAIN * s * (1.0 + dry)
    drag = 1.0 - GREASE_SPEED_DROP * s * (0.5 + dry)  # friction loads the motor: it turns slower, more so when dry
    v.motor_rate *= drag
    v.mesh_rate *= drag
    v.harmonics = {k: a * (1.0 + 2.0 * s if k == 2 else 1.0) for k, a in v.harmonics.items()}
    squealing = (rng.uniform(size=st.starts.size) < 0.5 + 0.5 * s)[st.stroke]  # not on every pass
    vibrato = 1.0 + 0.004 * _play(_BASE_SINE, (5.0 + 2.0 * rng.uniform()) * st.t)
    cycles = _upsample(_cycles(clip.fault["squeal_hz"] * vibrato, st.rate, rng.uniform()), extra.size)
    partials = {1: 1.0, 2: 0.5} if 2 * clip.fault["squeal_hz"] < 0.47 * sr else {1: 1.0}
    squeal_env = GREASE_SQUEAL_AMP * s ** 1.3 * dry * squealing
    extra += _upsample(squeal_env, extra.size) * _play(_wavetable(partials), cycles)


_FAULTS = {"rail_damage": _rail_damage, "loose_belt": _loose_belt, "no_grease": _no_grease}


def _wear(st: _Strokes, v: _Voice, s: float, rng) -> None:
    """The candidate wear symptoms shared by every fault (``WEAR_RESONANCE_SCATTER``, ``WEAR_TONE_JITTER``)."""
    scatter = WEAR_RESONANCE_SCATTER * s * rng.uniform(-1.0, 1.0, size=3)
    v.detune = np.broadcast_to(v.detune, 3) + scatter
    width = max(int(WEAR_JITTER_S * st.rate), 1)
    jitter = np.convolve(rng.standard_normal(st.t.size + width), np.ones(width), "valid")[:st.t.size]
    jitter *= WEAR_TONE_JITTER * s / max(float(np.std(jitter)), 1e-12)
    v.motor_rate *= 1.0 + jitter
    v.mesh_rate *= 1.0 + jitter


def _clip_colour(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A random amplitude gain of the friction noise (``CLIP_COLOUR_DB``): a tilt over the band, a bump around
    1 kHz and a shelf above 5 kHz, each with its own normal gain in dB."""
    f = _freqs(n, sr)
    octaves = np.clip(np.log2(np.maximum(f, 80.0) / 1000.0), -3.6, 3.0)
    bases = np.stack([octaves / 3.0, np.exp(-0.5 * np.square(octaves / 0.7)),
                      1.0 / (1.0 + np.exp((5000.0 - f) / 500.0))])
    gains_db = CLIP_COLOUR_DB * rng.standard_normal(3)
    return 10.0 ** ((gains_db[:, None] * bases).sum(axis=0) / 20.0)  # not @: BLAS may sum in a CPU-dependent order


# ---- One clip ------------------------------------------------------------------------------------------------------
def _machine_sound(m: MachineParams, clip: ClipParams, n: int, sr: int, faulty: bool) -> np.ndarray:
    """The machine alone (no background), before level scaling. ``faulty=False`` renders the fault-free twin."""
    kind = clip.anomaly_type if faulty else "none"
    s = clip.severity if faulty else 0.0
    st = _strokes(m, clip, n, sr, LOOSE_RHYTHM_JITTER * s if kind == "loose_belt" else 0.0)
    load = 10.0 ** (clip.load_db / 20.0)
    rate = clip.speed_factor * (1.0 + clip.speed_drift * (st.t / st.t[-1] - 0.5)) * st.speed
    v = _Voice(motor_rate=rate.copy(), mesh_rate=rate.copy(),
               motor_amp=(MOTOR_IDLE + (1 - MOTOR_IDLE) * st.speed) * load, mesh_amp=m.mesh_amp * st.speed,
               friction_env=(FRICTION_FLOOR + (1 - FRICTION_FLOOR) * np.sqrt(st.speed)) * load,
               harmonics=dict(enumerate(m.motor_harmonics, start=1)))
    extra = np.zeros(n)
    if kind != "none":
        v.friction_env *= 10.0 ** (WEAR_GAIN_DB * s / 20.0)  # worn: more sliding noise, the tones stay as they were
        _FAULTS[kind](m, clip, st, v, extra, s, make_rng(clip.key, "fault"), sr)
        if WEAR_RESONANCE_SCATTER or WEAR_TONE_JITTER:
            _wear(st, v, s, make_rng(clip.key, "wear"))

    phase = make_rng(clip.key, "tones").uniform(size=3)
    motor = _play(_wavetable(v.harmonics), _upsample(_cycles(m.motor_hz * v.motor_rate, st.rate, phase[0]), n))
    mesh = _play(_wavetable({1: 1.0, 2: 0.3}), _upsample(_cycles(m.mesh_hz * v.mesh_rate, st.rate, phase[1]), n))
    drive = m.drive_amp * _play(_BASE_SINE, _upsample(m.drive_hz * st.t + phase[2], n))
    if np.any(v.detune) or v.brighten:
        shape = _friction_spectrum(m, n, sr, v.detune, v.brighten)
    else:
        shape = _cached_friction_spectrum(m, n, sr)
    if CLIP_COLOUR_DB:  # drawn from the clip's key alone: the fault-free twin has the same colour
        shape = shape * _clip_colour(n, sr, make_rng(clip.key, "colour"))
    friction = _shaped_noise(shape, n, make_rng(clip.key, "friction"))

    rng = make_rng(clip.key, "events")
    stops = st.starts + (1.0 - m.dwell_fraction) * st.durations  # the carriage stops to reverse: a soft clunk
    clunk = _impact_kernel(sr, rng, m.clunk_hz, m.resonance_hz[0], 0.05)
    _add_events(extra, stops, clunk, CLUNK_AMP * (0.8 + 0.4 * rng.uniform(size=stops.size)), sr)
    ticks = np.concatenate([st.crossing_times(x) for x in m.joints])  # the carriage rolls over the rail joints
    tick = _impact_kernel(sr, rng, 2.0 * m.clunk_hz, m.resonance_hz[2], 2.0)
    _add_events(extra, ticks, tick, JOINT_PEAK * (0.5 + rng.uniform(size=ticks.size)), sr)
    return (friction * _upsample(v.friction_env, n) + motor * _upsample(v.motor_amp, n)
            + mesh * _upsample(v.mesh_amp, n) + drive + extra)


def _background(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Factory background, unit RMS: coloured noise, HVAC rumble, mains hum and distant machinery bands."""
    f = _freqs(n, sr)
    log_f, rumble = _spectral_bases(n, sr)
    beta = rng.uniform(1.1, 1.6)
    amp = np.exp(log_f * (-beta / 2.0)) + rng.uniform(1.0, 4.0) * rumble
    hum = 50.0 if rng.uniform() < 0.5 else 60.0
    bands = [(k * hum, 0.7, rng.uniform(5.0, 40.0) / k) for k in (1, 2, 3)]
    for _ in range(2):  # distant machines: narrow noise bands
        bands.append((math.exp(rng.uniform(math.log(150.0), math.log(3000.0))), rng.uniform(20.0, 150.0),
                      rng.uniform(0.5, 2.0)))
    for centre, width, gain in bands:
        lo, hi = np.searchsorted(f, [centre - 5 * width, centre + 5 * width])
        amp[lo:hi] += gain * (centre / 1000.0) ** (-beta / 2.0) * np.exp(-0.5 * ((f[lo:hi] - centre) / width) ** 2)
    return _shaped_noise(amp, n, rng)


def render_clip(machine: MachineParams, clip: ClipParams, sr: int = SAMPLE_RATE,
                duration_s: float = DURATION_S) -> np.ndarray:
    """Render one clip as float64 in full-scale units (not yet quantised); see the module docstring for the model."""
    n = int(round(duration_s * sr))
    normal = _machine_sound(machine, clip, n, sr, faulty=False)
    noise = _background(n, sr, make_rng(clip.key, "background"))  # unit RMS

    def mixed(machine_sound):  # background at the clip's SNR relative to this very machine sound, as MIMII mixed
        return machine_sound + noise * math.sqrt(_power(machine_sound) / 10.0 ** (clip.snr_db / 10.0))

    reference = mixed(normal)  # the fault-free twin sets the gain, so a fault adds level on top
    gain = min(clip.target_rms / math.sqrt(_power(reference)), NORMAL_PEAK_LIMIT / float(np.max(np.abs(reference))))
    if clip.label == "normal":
        return gain * reference
    return gain * mixed(_machine_sound(machine, clip, n, sr, faulty=True))
