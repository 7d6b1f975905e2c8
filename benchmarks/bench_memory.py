"""Peak resident memory of the classifier notebooks (05 STgramNet, 06 SepSTgramNet) on a dataset of the real data's
size: the whole notebook, executed headlessly with papermill, each in its own kernel process.

Training length does not change the memory (every clip is loaded before the first step), so the notebooks run with
one epoch and without their optional retrainings (``TRAIN_ARCFACE=False``, ``RUN_EXPERIMENT=False``); everything
else (loading every training and test clip, splitting, training, scoring, the figures, the exercises' solutions)
runs as it does for a student. The peak is the kernel's maximum resident set size (``getrusage(RUSAGE_CHILDREN)``
after it exits, Linux: kB), so it includes Python, PyTorch and the notebook's own arrays.

Usage (first ``python -m asd_utils synth --profile dcase --data-root data/synthetic_dcase``, 6,675 clips)::

    .venv/bin/python benchmarks/bench_memory.py --data-root data/synthetic_dcase [--notebooks 05 06]

It prints one line per notebook: clips loaded, peak resident memory (GiB) and wall time. ``--per-cell`` runs an
instrumented copy of each notebook (one line appended to every code cell prints the kernel's peak so far) and also
lists the cells that raised the peak, with the resident memory after them: where the memory goes.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asd_utils.data import dataset_table  # noqa: E402
from asd_utils.runner import list_notebooks  # noqa: E402
from asd_utils.utils import resolve_path  # noqa: E402

SHORT_RUN = {"05": {"EPOCHS": 1, "TRAIN_ARCFACE": False, "RUN_EXPERIMENT": False},
             "06": {"EPOCHS": 1, "RUN_EXPERIMENT": False}}


PEAK_PROBE = ("\nimport resource as _resource; print('PEAK_SO_FAR', {index}, "
              "_resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss, "
              "int(open('/proc/self/statm').read().split()[1]) * _resource.getpagesize() // 1024)\n")


def instrumented_copy(notebook: Path, out_dir: Path) -> Path:
    """A copy of ``notebook`` whose code cells (not the parameters cell) end by printing ``PEAK_SO_FAR <cell index>
    <peak kB> <resident kB>``."""
    content = json.loads(notebook.read_text())
    for index, cell in enumerate(content["cells"]):
        if cell["cell_type"] == "code" and "parameters" not in cell.get("metadata", {}).get("tags", []):
            cell["source"] = "".join(cell["source"]) + PEAK_PROBE.format(index=index)
    copy = out_dir / f"instrumented_{notebook.name}"
    copy.write_text(json.dumps(content))
    return copy


def peak_rises(executed: Path) -> list[tuple[int, float, float]]:
    """``(cell index, peak GiB so far, resident GiB after the cell)`` for each cell of an executed instrumented copy
    that raised the peak."""
    rises, last = [], 0
    for cell in json.loads(executed.read_text())["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", ""))
            for line in text.splitlines():
                if line.startswith("PEAK_SO_FAR"):
                    _, index, peak_kb, now_kb = line.split()
                    if int(peak_kb) > last:
                        rises.append((int(index), int(peak_kb) / 1024 ** 2, int(now_kb) / 1024 ** 2))
                        last = int(peak_kb)
    return rises


def peak_of_one_run(notebook: Path, parameters: dict, out_dir: Path) -> tuple[float, float]:
    """``(peak resident GiB of the kernel, seconds)`` of one papermill run of ``notebook`` in a fresh process."""
    script = ("import json, resource, sys, papermill\n"
              "papermill.execute_notebook(sys.argv[1], sys.argv[2], parameters=json.loads(sys.argv[3]),"
              " progress_bar=False)\n"
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script, str(notebook), str(out_dir / f"executed_{notebook.name}"),
                           json.dumps(parameters)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{notebook.name} failed:\n{done.stderr[-3000:]}")
    kernel_kb = int(done.stdout.strip().splitlines()[-1])
    return kernel_kb / 1024 ** 2, seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default="data/synthetic_dcase")
    parser.add_argument("--notebooks", nargs="+", default=["05", "06"], choices=sorted(SHORT_RUN))
    parser.add_argument("--cache-dir", default="data/cache")
    parser.add_argument("--per-cell", action="store_true", help="also list the cells that raised the peak")
    args = parser.parse_args(argv)
    table = dataset_table(resolve_path(args.data_root), "slider")
    n_train = int((table["split"] == "train").sum())
    n_dev_test = int(((table["split"] == "test") & (table["dataset"] == "dev")).sum())
    print(f"{args.data_root}: {n_train} training clips (every id), {n_dev_test} development test clips")
    notebooks = {path.name[:2]: path for path in list_notebooks()}
    with tempfile.TemporaryDirectory() as tmp:
        for number in args.notebooks:
            parameters = {**SHORT_RUN[number], "DATA_ROOT": str(resolve_path(args.data_root)),
                          "OUTPUT_DIR": str(Path(tmp) / notebooks[number].stem), "CACHE_DIR": args.cache_dir,
                          "DEVICE": "cpu"}
            notebook = instrumented_copy(notebooks[number], Path(tmp)) if args.per_cell else notebooks[number]
            peak_gb, seconds = peak_of_one_run(notebook, parameters, Path(tmp))
            print(f"notebook {notebooks[number].stem}: peak resident {peak_gb:.2f} GiB, {seconds:.0f} s "
                  f"({', '.join(f'{k}={v}' for k, v in SHORT_RUN[number].items())})", flush=True)
            if args.per_cell:
                for index, peak, now in peak_rises(Path(tmp) / f"executed_{notebook.name}"):
                    print(f"  cell {index:3d}: peak {peak:.2f} GiB, resident after it {now:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
