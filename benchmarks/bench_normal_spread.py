"""How the normal clips of each machine vary in their average spectrum: on real recordings and on the synthetic rail.

For every machine id of a DCASE-layout folder's development training set, the first ``--clips`` normal clips (the
same number for every dataset, so that the figures compare) are reduced to their time-averaged log-mel spectrum
(the course's front end, the input of the mean-spectrum Gaussian) and measured with
:func:`asd_utils.scoring.spread_of_spectra`: the RMS spread around the id's mean, the number of directions the clips
vary in (participation ratio) and the share of the first one. Ids with fewer clips are left out.

The course's data can be measured anywhere; real recordings are the user's (for the committed run, the 40 real
slider id_00 clips of the course's calibration set: they never enter the repository, only these figures do).

Usage: ``.venv/bin/python benchmarks/bench_normal_spread.py --data-root ROOT --label "real slider"
--results-csv benchmarks/results/normal_spread.csv`` (seconds per dataset). Rows are merged by label and id.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from asd_utils.data import dataset_table  # noqa: E402
from asd_utils.features import log_mel_dataset  # noqa: E402
from asd_utils.readme_tables import merge_rows  # noqa: E402
from asd_utils.scoring import spread_of_spectra, time_average  # noqa: E402
from asd_utils.utils import resolve_path, write_text_atomic  # noqa: E402


def spread_rows(root: Path, label: str, clips: int, machine_type: str = "slider") -> list[dict]:
    table = dataset_table(root, machine_type)
    normal = table[(table["split"] == "train") & (table["dataset"] == "dev") & (table["y"] == 0)]
    rows = []
    for machine_id, part in normal.groupby("machine_id"):
        if len(part) < clips:
            print(f"{label} {machine_id}: {len(part)} normal training clips, fewer than {clips}: left out")
            continue
        paths = part.sort_values("path")["path"].iloc[:clips]
        spectra = time_average(log_mel_dataset(paths, cache_dir=None))  # no cache of the user's recordings
        rows.append({"data": label, "machine_id": machine_id, "clips": clips, **spread_of_spectra(spectra)})
    if not rows:
        raise SystemExit(f"{root}: no machine id with {clips} normal development training clips")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--label", required=True, help="the dataset's name in the results")
    parser.add_argument("--clips", type=int, default=40, help="normal training clips per id")
    parser.add_argument("--machine-type", default="slider")
    parser.add_argument("--results-csv", default="", help="merge the rows into this CSV (by label and id)")
    args = parser.parse_args(argv)
    rows = pd.DataFrame(spread_rows(resolve_path(args.data_root), args.label, args.clips, args.machine_type))
    print(rows.round(3).to_string(index=False))
    if args.results_csv:
        path = resolve_path(args.results_csv)
        old = pd.read_csv(path) if path.is_file() else None
        merged = merge_rows(old, rows, ["data", "machine_id"])
        write_text_atomic(path, merged.to_csv(index=False, float_format="%.4f"))


if __name__ == "__main__":
    main()
