"""Speed and realism figures of the synthetic slide-rail generator (not a test).

Generates N clips (course-profile proportions) into a temporary folder with 1 and with 2 worker processes, prints
clips/s, checks that both runs wrote identical bytes, and prints the statistics that the generator is tuned to
match on the real DCASE 2020 slider clips: normal RMS ~0.010 and peaks < 0.1, anomalies 2-3 dB louder, a long-term
spectrum falling 20-30 dB from 200 Hz to 7 kHz, a 4-8 kHz envelope std of 1-2 dB for normal clips and more for faults.

    .venv/bin/python benchmarks/bench_synth.py            # 200 clips
    .venv/bin/python benchmarks/bench_synth.py --clips 600 --workers 1,2
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from asd_utils.profiles import SynthSizes, synth_sizes  # noqa: E402
from asd_utils.synth import clip_statistics, generate_dataset  # noqa: E402


def scaled_sizes(clips: int) -> SynthSizes:
    """The course profile's proportions, scaled to about ``clips`` files (at least one of each kind per id)."""
    course = synth_sizes("course")
    factor = clips / course.total_clips()

    def scale(counts):
        return tuple(max(1, round(c * factor)) for c in counts)

    return SynthSizes(dev_train=scale(course.dev_train), dev_test_normal=scale(course.dev_test_normal),
                      dev_test_anomaly=scale(course.dev_test_anomaly), eval_train=scale(course.eval_train),
                      eval_test_normal=scale(course.eval_test_normal),
                      eval_test_anomaly=scale(course.eval_test_anomaly))


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.wav")):
        h.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200, help="about how many clips to generate (default 200)")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to time (default 1,2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = scaled_sizes(args.clips)
    print(f"generating {sizes.total_clips()} clips (course proportions), seed {args.seed}")
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as tmp:
        digests, table, root = {}, None, None
        for workers in (int(w) for w in args.workers.split(",")):
            root = Path(tmp) / f"workers_{workers}"
            start = time.perf_counter()
            table = generate_dataset(root, sizes=sizes, seed=args.seed, workers=workers, progress=False)
            seconds = time.perf_counter() - start
            digests[workers] = digest(root)
            print(f"workers={workers}: {len(table)} clips in {seconds:.1f} s = {len(table) / seconds:.1f} clips/s "
                  f"({len(table) / seconds / workers:.1f} clips/s per worker)")
        print("identical bytes across worker counts:", len(set(digests.values())) == 1)

        stats = table.assign(**{k: np.nan for k in ("rms", "rms_dbfs", "peak", "tilt", "env")})
        for i, path in enumerate(table.path):
            s = clip_statistics(sf.read(str(root / path))[0])
            stats.loc[i, ["rms", "rms_dbfs", "peak", "tilt", "env"]] = (
                s["rms"], s["rms_dbfs"], s["peak"], s["spectral_tilt_db"], s["highband_env_std_db"])
    normal, anomaly = stats[stats.label == "normal"], stats[stats.label == "anomaly"]
    print(f"\nnormal clips ({len(normal)}): RMS mean {normal.rms.mean():.4f} (range {normal.rms.min():.4f}-"
          f"{normal.rms.max():.4f}), peak max {normal.peak.max():.3f}")
    print(f"anomalous clips ({len(anomaly)}): {anomaly.rms_dbfs.mean() - normal.rms_dbfs.mean():+.2f} dB vs normal "
          f"(mean of dBFS), peak max {anomaly.peak.max():.3f}")
    print(f"spectral slope 200 Hz -> 7 kHz (normal): {normal.tilt.mean():.1f} dB "
          f"(range {normal.tilt.min():.1f}-{normal.tilt.max():.1f})")
    print("4-8 kHz envelope std (dB), mean / max:")
    print(f"  {'normal':12s} {normal.env.mean():5.2f} / {normal.env.max():5.2f}   (n={len(normal)})")
    for fault, group in anomaly.groupby("anomaly_type"):
        strong = group[group.severity >= 0.6]
        print(f"  {fault:12s} {group.env.mean():5.2f} / {group.env.max():5.2f}   (n={len(group)}; severity >= 0.6: "
              f"{strong.env.mean():.2f}, n={len(strong)})")
    print("per id: anomaly - normal level (dB), mean severity, mean SNR (dB)")
    for machine_id, group in stats.groupby("machine_id"):
        n, a = group[group.label == "normal"], group[group.label == "anomaly"]
        print(f"  {machine_id}: {a.rms_dbfs.mean() - n.rms_dbfs.mean():+.2f} dB, severity {a.severity.mean():.2f}, "
              f"SNR {group.snr_db.mean():+.1f}")
    return 0


if __name__ == "__main__":  # required: workers are spawned processes that re-import this file
    sys.exit(main())
