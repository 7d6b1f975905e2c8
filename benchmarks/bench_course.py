"""Wall time of the whole course: run every notebook headlessly and print the time per notebook and in total.

The goal of the ``course`` profile is the full course (notebooks 00-07, data generation excluded) in at most
15 minutes on 2 CPU cores. This script runs ``python -m asd_utils run --profile PROFILE --out OUT`` in a subprocess
(exactly what a user types), then reads ``OUT/timings.csv`` and prints one line per notebook, the total and the
share of the budget. Run from the repository root::

    .venv/bin/python benchmarks/bench_course.py                        # course profile, outputs in a temporary folder
    .venv/bin/python benchmarks/bench_course.py --profile tiny --out outputs/bench_tiny
    .venv/bin/python benchmarks/bench_course.py --timings-only outputs/course   # just print an earlier run's timings

The synthetic dataset is generated first if it is missing (not counted in the notebooks' times, but in the wall
time printed at the end). Timings on a shared machine are inflated by other jobs: the script prints the load average
before and after and the CPU time the run used, so a run that had the cores to itself can be told from one that
did not.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from anywhere without installing

BUDGET_SECONDS = {"course": 15 * 60}  # the course's target on 2 CPU cores


def load_average() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # not available on every platform
        return "n/a"


def print_timings(out_dir: Path, profile: str | None = None) -> float:
    """Print ``out_dir/timings.csv`` as a table (seconds and minutes per notebook, total); return the total."""
    import pandas as pd

    path = out_dir / "timings.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the run wrote no timings (did the first notebook fail?)")
    timings = pd.read_csv(path)
    total = float(timings["seconds"].sum())
    width = max(len("notebook"), *(len(str(n)) for n in timings["notebook"]))
    print(f"\n{'notebook':{width}s} {'seconds':>9s} {'minutes':>8s} {'share':>6s}")
    for notebook, seconds in zip(timings["notebook"], timings["seconds"]):
        print(f"{notebook:{width}s} {seconds:9.1f} {seconds / 60:8.2f} {seconds / total:6.0%}")
    print(f"{'total':{width}s} {total:9.1f} {total / 60:8.2f}")
    budget = BUDGET_SECONDS.get(profile or "")
    if budget:
        verdict = "within" if total <= budget else "OVER"
        print(f"budget {budget / 60:.0f} min on 2 CPU cores: {verdict} ({total / budget:.0%} of it)")
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="course", help="tiny, course or dcase (default: course)")
    parser.add_argument("--out", default=None, help="output folder of the run (default: a temporary folder)")
    parser.add_argument("--notebooks", default=None, help="two-digit prefixes, e.g. 03,07 (default: all)")
    parser.add_argument("--device", default="auto", help="device passed to the notebooks (default: auto)")
    parser.add_argument("--timings-only", metavar="DIR", default=None,
                        help="do not run anything: print the timings.csv of an earlier run in DIR")
    args = parser.parse_args(argv)
    if args.timings_only:
        print_timings(Path(args.timings_only), args.profile)
        return 0

    with tempfile.TemporaryDirectory(prefix="asd_bench_course_") as tmp:
        out_dir = Path(args.out).resolve() if args.out else Path(tmp) / args.profile
        command = [sys.executable, "-m", "asd_utils", "run", "--profile", args.profile, "--out", str(out_dir),
                   "--device", args.device] + (["--notebooks", args.notebooks] if args.notebooks else [])
        print(f"$ python {' '.join(command[1:])}")
        print(f"cpu cores: {os.cpu_count()}, load average before: {load_average()}", flush=True)
        started = time.perf_counter()
        result = subprocess.run(command, cwd=REPO, env={**os.environ, "TQDM_DISABLE": "1"})
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the run and its notebook kernels, all reaped
        cpu = usage.ru_utime + usage.ru_stime
        print(f"\nload average after: {load_average()}; wall time of the command (data generation included): "
              f"{wall:.1f} s; CPU time of the run and its kernels: {cpu:.0f} s ({cpu / wall:.2f} cores busy on "
              "average; well below the core count means other jobs took the rest)")
        if result.returncode != 0:
            print(f"the run failed with exit code {result.returncode}", file=sys.stderr)
        try:
            print_timings(out_dir, args.profile)
        except FileNotFoundError as err:
            print(err, file=sys.stderr)
            return 1
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
