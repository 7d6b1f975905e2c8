"""Headless course runner: execute the notebooks with papermill, collect their results, refresh stored outputs.

* ``python -m asd_utils run [--profile tiny|course|dcase] [--notebooks 03,05] [--out DIR] [--device auto] [--seed 0]``
  generates the default synthetic data if they are missing (never in a folder named with ``--data-root``),
  executes the selected notebooks in order into ``OUT/``, prints a progress line every
  :data:`PROGRESS_EVERY_S` seconds inside a long notebook, and writes ``OUT/timings.csv`` (one row per notebook ever
  run there) and ``OUT/summary.csv``, ``OUT/summary.md`` (one row per notebook and model whose metrics.json holds
  results of this run's data; results of other data in ``OUT`` are left out, with a note).
  Relative paths are taken from the current directory; the log-mel cache goes to ``OUT/cache`` unless
  ``--cache-dir`` says otherwise.
* ``python -m asd_utils regenerate [--notebooks 00,01]`` re-executes notebooks in place with their own defaults (the
  ``course`` profile) and strips only volatile metadata, so the committed outputs change only when results change;
  then it writes their results to ``notebooks/results_summary.csv`` and rewrites the README's results tables
  (:mod:`asd_utils.readme_tables`).

Every notebook is run with the kernel ``python3`` from the repository root, with ``TQDM_DISABLE=1``. The runner passes
``DATA_ROOT``, ``OUTPUT_DIR``, ``CACHE_DIR``, ``DEVICE``, ``SEED`` and the profile's values from
:data:`asd_utils.profiles.NOTEBOOK_PARAMETERS`, but only the names a notebook declares in its ``parameters`` cell.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from . import profiles
from .claims import STRICT_ENV
from .paths import folder_lock, refuse_sources
from .results import collect_dev_eval, collect_summary, read_timings, summary_markdown
from .synth import ensure_dataset
from .utils import (atomic_path, cli_path, display_path, non_negative_int, repo_root, resolve_path, writable_dir,
                    write_text_atomic)

KERNEL_NAME = "python3"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
# ipykernel >= 7 logs a warning about unencrypted TCP on every start; it is not about the notebook, so hide it
KERNEL_EXTRA_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
DROPPED_CELL_TAGS = ("injected-parameters", "papermill-error-cell-tag")  # cells papermill adds to a notebook
PROGRESS_EVERY_S = 20.0  # a long notebook prints "cell N/M" at most this often (plain lines: fine in logs and CI)


def list_notebooks(selection: str | None = None, notebooks_dir: str | os.PathLike | None = None) -> list[Path]:
    """The course notebooks ``NN_*.ipynb`` of ``notebooks_dir`` (default ``<repo>/notebooks``), sorted by name.

    ``selection`` is a comma-separated list of two-digit prefixes (``"03,05"``; ``"3"`` works too) or notebook stems;
    ``None`` or ``""`` selects all. An unknown prefix is a ``ValueError`` listing the notebooks that exist.
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else repo_root() / "notebooks"
    available = sorted(folder.glob(NOTEBOOK_GLOB))
    if selection is None or selection == "":
        return available
    items = [part.strip() for part in selection.split(",") if part.strip()]
    if not items:  # e.g. "--notebooks ," or "--notebooks ' '": a typo, not a request for every notebook
        raise ValueError(f"--notebooks {selection!r} names no notebook; expected two-digit prefixes such as 03,05 "
                         "(leave the option out to run all)")
    chosen: set[Path] = set()
    for item in items:
        prefix = item.zfill(2) if item.isdigit() else item[:2]
        matches = [p for p in available if p.name[:2] == prefix and (item.isdigit() or p.stem.startswith(item))]
        if not matches:
            names = ", ".join(p.stem for p in available) or "none"
            raise ValueError(f"no notebook {item!r} in {folder}; expected a two-digit prefix of one of: {names}")
        chosen.update(matches)
    return sorted(chosen)


def declared_parameters(notebook: str | os.PathLike) -> set[str]:
    """Names assigned in the notebook's cell tagged ``parameters`` (empty when it has none)."""
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def filter_parameters(notebook: str | os.PathLike, candidates: dict) -> dict:
    """The entries of ``candidates`` whose names ``notebook`` declares in its ``parameters`` cell.

    Papermill warns about (and injects) unknown names, so the runner passes only declared ones.
    """
    names = declared_parameters(notebook)
    return {name: value for name, value in candidates.items() if name in names}


@contextlib.contextmanager
def _environment(**values: str):
    """Set environment variables for the kernels papermill starts (they inherit ours), then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _CellProgress(logging.Handler):
    """Turns papermill's "Executing Cell N" log records into a plain progress line every ``every_s`` seconds."""

    def __init__(self, name: str, n_cells: int, every_s: float):
        super().__init__(logging.INFO)
        self.name, self.n_cells, self.every_s = name, n_cells, every_s
        self.start = self.last = time.perf_counter()
        self.printed = False

    def emit(self, record: logging.LogRecord) -> None:
        match = re.match(r"Executing Cell (\d+)", str(record.msg))
        now = time.perf_counter()
        if match and now - self.last >= self.every_s:
            print(("" if self.printed else "\n") + f"    {self.name}: cell {match.group(1)}/{self.n_cells}, "
                  f"{now - self.start:.0f} s", flush=True)
            self.last, self.printed = now, True


@contextlib.contextmanager
def _cell_progress(name: str, n_cells: int, every_s: float | None):
    """Route papermill's per-cell log (and only that: cell outputs stay in the executed notebook) to our handler."""
    if every_s is None:
        yield None
        return
    logger = logging.getLogger("papermill")
    handler = _CellProgress(name, n_cells, every_s)
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def execute_notebook(input_path: str | os.PathLike, output_path: str | os.PathLike, parameters: dict | None = None,
                     cwd: str | os.PathLike | None = None, kernel_name: str = KERNEL_NAME,
                     progress_every_s: float | None = None) -> float:
    """Execute ``input_path`` with papermill into ``output_path`` and return the wall time in seconds.

    ``parameters`` are injected after the ``parameters`` cell (pass only declared names, see
    :func:`filter_parameters`; ``None``/empty injects nothing). The kernel starts in ``cwd`` (default: the repository
    root) with ``TQDM_DISABLE=1``. A failing cell raises ``papermill.PapermillExecutionError`` after the executed
    notebook, traceback included, has been written to ``output_path``. With ``progress_every_s`` a line
    ``<name>: cell N/M, T s`` is printed at most that often (headless runs show a sign of life).
    """
    import papermill

    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    n_cells = len(json.loads(Path(input_path).read_text(encoding="utf-8")).get("cells", [])) + bool(parameters)
    with _environment(TQDM_DISABLE="1"), _cell_progress(Path(input_path).stem, n_cells, progress_every_s) as progress:
        papermill.execute_notebook(str(input_path), str(output_path), parameters=dict(parameters or {}) or None,
                                   kernel_name=kernel_name, cwd=str(cwd or repo_root()), progress_bar=False,
                                   log_output=progress is not None, start_timeout=180,
                                   extra_arguments=list(KERNEL_EXTRA_ARGUMENTS))
    return time.perf_counter() - start


def describe_failure(notebook: str | os.PathLike, output_path: str | os.PathLike, error: BaseException) -> str:
    """A few lines saying which notebook and cell failed, with which error, and where the executed copy is."""
    stem = Path(notebook).stem
    if hasattr(error, "ename"):  # papermill.PapermillExecutionError
        source_lines = [line for line in (error.source or "").splitlines() if line.strip()]
        first = source_lines[0] if source_lines else ""
        where = f"cell In [{error.exec_count}] (cell index {error.cell_index} of the executed notebook)"
        code_cell = _code_cell_number(notebook, error.source)
        if code_cell is not None:
            where = f"code cell {code_cell} of {Path(notebook).name}, In [{error.exec_count}] of the executed notebook"
        lines = [f"notebook {stem} failed in {where}: {error.ename}: {error.evalue}",
                 f"  the cell starts with: {first[:100]}"]
    else:  # the kernel died, a cell timed out, the notebook could not be read ...
        lines = [f"notebook {stem} failed: {type(error).__name__}: {error}"]
    lines.append(f"  executed notebook with the full traceback: {display_path(output_path)}")
    return "\n".join(lines)


def _code_cell_number(notebook: str | os.PathLike, source: str) -> int | None:
    """1-based number of the code cell of ``notebook`` whose source is ``source`` (None if not found)."""
    try:
        import nbformat

        cells = [c for c in nbformat.read(str(notebook), as_version=4).cells if c.cell_type == "code"]
    except Exception:  # noqa: BLE001 - only used to make an error message more precise
        return None
    return next((number for number, cell in enumerate(cells, start=1) if cell.source == source), None)


def strip_volatile_metadata(nb):
    """Remove what changes on every execution from an executed notebook (in place) and return it.

    Drops notebook-level and cell-level ``metadata.papermill``, cell ``metadata.execution`` timestamps, the cells
    papermill inserts (``injected-parameters``, error banners), empty ``tags`` lists and ``language_info.version``;
    sets ``metadata.kernelspec`` to the plain ``python3`` kernel. Outputs, execution counts and the ``parameters``
    tag stay.
    """
    nb.metadata.pop("papermill", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    language_info = nb.metadata.get("language_info")
    if isinstance(language_info, dict):
        language_info.pop("version", None)
    kept = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if any(tag in DROPPED_CELL_TAGS for tag in tags):
            continue
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "tags" in cell.metadata and not cell.metadata["tags"]:
            del cell.metadata["tags"]
        kept.append(cell)
    nb.cells = kept
    return nb


def _write_timings(out_dir: Path, timings: dict[str, float]) -> None:
    """Add or update this run's notebooks in ``out_dir/timings.csv``, keeping the rows of notebooks not re-run."""
    merged = {**read_timings(out_dir), **timings}
    table = pd.DataFrame({"notebook": list(merged), "seconds": [round(s, 2) for s in merged.values()]})
    write_text_atomic(out_dir / "timings.csv", table.sort_values("notebook").to_csv(index=False))


def _selected_notebooks(args: argparse.Namespace) -> list[Path]:
    """The notebooks chosen by ``--notebooks``/``--notebooks-dir``; an empty list after printing why on stderr."""
    try:
        notebooks = list_notebooks(args.notebooks, args.notebooks_dir)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return []
    if not notebooks:
        folder = args.notebooks_dir or display_path(repo_root() / "notebooks")
        print(f"error: no notebooks NN_*.ipynb found in {folder}", file=sys.stderr)
    return notebooks


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m asd_utils run",
        description="Run the course notebooks headlessly with papermill and print a results summary. "
                    "Relative paths are taken from the current directory.")
    parser.add_argument("--profile", choices=profiles.PROFILE_NAMES, default="course",
                        help="dataset size and training settings (default: course)")
    parser.add_argument("--data-root", default=None,
                        help="folder holding dev_data/ (default: data/synthetic_<profile>, generated if missing; a "
                             "folder you name is never generated: use 'python -m asd_utils synth' or 'download')")
    parser.add_argument("--notebooks", default=None, help="two-digit prefixes, e.g. 03,05 (default: all)")
    parser.add_argument("--out", default=None, help="output folder (default: outputs/<profile>)")
    parser.add_argument("--cache-dir", default=None, help="log-mel feature cache (default: OUT/cache)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed for data generation and training (default: 0; the default data folder of seed N "
                             "is data/synthetic_<profile>_seedN)")
    parser.add_argument("--notebooks-dir", default=None, help=argparse.SUPPRESS)  # tests run throwaway notebooks
    return parser


def run_main(argv: list[str] | None = None) -> int:
    """``python -m asd_utils run``: execute the selected notebooks on one profile and summarise their metrics.

    Returns 0 on success, 1 when a notebook fails (the message names the notebook, the cell and the error),
    2 for bad arguments.
    """
    args = _run_parser().parse_args(argv)
    notebooks = _selected_notebooks(args)
    if not notebooks:
        return 2
    default_root = cli_path(profiles.default_data_root(args.profile, args.seed))
    data_root = cli_path(args.data_root) if args.data_root else default_root
    total_start = time.perf_counter()
    try:
        out_dir = writable_dir(cli_path(args.out or f"outputs/{args.profile}"), "--out")
        cache_dir = writable_dir(cli_path(args.cache_dir) if args.cache_dir else out_dir / "cache", "--cache-dir")
        _check_outputs(out_dir, notebooks)
        ensure_dataset(data_root, args.profile, args.seed, default_root=default_root, progress=False)
        with folder_lock(out_dir, "--out"):  # a second run into the same folder is refused, not interleaved
            return _run_notebooks(args, notebooks, data_root, out_dir, cache_dir, total_start)
    except ValueError as err:  # DatasetError included
        print(f"error: {err}", file=sys.stderr)
        return 1


def _check_outputs(out_dir: Path, notebooks: list[Path]) -> None:
    """Refuse an output folder where an executed copy or a summary would replace a source notebook or a tracked file."""
    outputs = [out_dir / notebook.name for notebook in notebooks]
    for notebook, output in zip(notebooks, outputs):
        if output.resolve() == notebook.resolve():
            raise ValueError(f"--out {out_dir}: the executed copy of {notebook.name} would replace the notebook "
                             "itself; choose an output folder of its own (default: outputs/<profile>)")
    refuse_sources(outputs + [out_dir / name for name in ("timings.csv", "summary.csv", "summary.md")], "--out")


def _run_notebooks(args, notebooks: list[Path], data_root: Path, out_dir: Path, cache_dir: Path,
                   total_start: float) -> int:
    """Execute ``notebooks`` into ``out_dir`` (locked by the caller) and write the timings and the summary."""
    print(f"profile {args.profile}: data {display_path(data_root)}, outputs {display_path(out_dir)}, "
          f"device {args.device}, seed {args.seed}", flush=True)
    timings: dict[str, float] = {}
    for number, notebook in enumerate(notebooks, start=1):
        stem = notebook.stem
        candidates = {**profiles.notebook_parameters(args.profile, stem), "DATA_ROOT": display_path(data_root),
                      "OUTPUT_DIR": display_path(out_dir / stem), "CACHE_DIR": display_path(cache_dir),
                      "DEVICE": args.device, "SEED": args.seed}
        output_path = out_dir / notebook.name
        print(f"[{number}/{len(notebooks)}] {stem} ...", end=" ", flush=True)
        try:
            seconds = execute_notebook(notebook, output_path, filter_parameters(notebook, candidates),
                                       progress_every_s=PROGRESS_EVERY_S)
        except Exception as err:  # noqa: BLE001 - report any failure with the notebook's name, then stop
            print("FAILED", flush=True)
            print(describe_failure(notebook, output_path, err), file=sys.stderr, flush=True)
            if timings:
                _write_timings(out_dir, timings)
            return 1
        timings[stem] = seconds
        print(f"done in {seconds:.1f} s", flush=True)
    _write_timings(out_dir, timings)
    # every notebook run into OUT on this data, not only this run's: re-running one keeps the others' rows
    summary = collect_summary(out_dir, data_root=display_path(data_root), profile=args.profile)
    if summary.empty:
        print("no metrics.json of this data in the output folder: no results table")
    else:
        dev_eval = collect_dev_eval(out_dir, data_root=display_path(data_root), profile=args.profile)
        markdown = summary_markdown(summary, dev_eval, args.profile)
        with atomic_path(out_dir / "summary.csv") as part:
            summary.to_csv(part, index=False, float_format="%.6g")
        write_text_atomic(out_dir / "summary.md", markdown)
        print(f"\nresults ({display_path(out_dir / 'summary.csv')}):\n")
        print(markdown)
    print(f"total time {time.perf_counter() - total_start:.1f} s for {len(notebooks)} notebook(s)")
    return 0


def regenerate_main(argv: list[str] | None = None) -> int:
    """``python -m asd_utils regenerate``: re-execute notebooks in place with their own default parameters.

    The notebooks' claim checks are strict (:func:`asd_utils.claims.strict_claims`). Each notebook runs into a temporary copy; only after success is it written back (atomic rename) with volatile
    metadata stripped (:func:`strip_volatile_metadata`). A failure leaves the notebook untouched, keeps the executed
    copy under ``outputs/regenerate_failed/`` and returns 1.
    """
    import nbformat

    parser = argparse.ArgumentParser(prog="python -m asd_utils regenerate",
                                     description="Re-execute notebooks in place to refresh their stored outputs "
                                                 "(course profile = the notebooks' own defaults).")
    parser.add_argument("--notebooks", default=None, help="comma-separated two-digit prefixes (default: all)")
    parser.add_argument("--notebooks-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    notebooks = _selected_notebooks(args)
    if not notebooks:
        return 2
    ensure_dataset(resolve_path(profiles.default_data_root("course")), "course", seed=0, progress=False)
    os.environ[STRICT_ENV] = "1"  # the stored outputs must support the prose: a false claim fails the notebook
    total_start = time.perf_counter()
    with folder_lock(notebooks[0].parent, "regenerate: the notebooks folder"):  # one regenerate at a time
        for number, notebook in enumerate(notebooks, start=1):
            print(f"[{number}/{len(notebooks)}] {notebook.stem} ...", end=" ", flush=True)
            with tempfile.TemporaryDirectory(prefix="asd_regenerate_") as tmp:
                executed = Path(tmp) / notebook.name
                try:
                    seconds = execute_notebook(notebook, executed, parameters=None, cwd=repo_root())
                except Exception as err:  # noqa: BLE001
                    print("FAILED", flush=True)
                    kept = resolve_path("outputs/regenerate_failed") / notebook.name
                    if executed.is_file():
                        kept.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(executed, kept)
                    print(describe_failure(notebook, kept, err), file=sys.stderr)
                    print(f"  {display_path(notebook)} was left unchanged", file=sys.stderr)
                    return 1
                result = strip_volatile_metadata(nbformat.read(str(executed), as_version=4))
            with atomic_path(notebook) as part:
                nbformat.write(result, str(part))
                shutil.copymode(notebook, part)
            print(f"done in {seconds:.1f} s", flush=True)
    if args.notebooks_dir is None:  # the course's notebooks: their results and the README's tables are committed too
        from .readme_tables import COURSE_RESULTS_CSV, readme_tables_main, write_course_results
        if not write_course_results(resolve_path("outputs/course"), [notebook.stem for notebook in notebooks]).empty:
            print(f"results written to {COURSE_RESULTS_CSV}")
            readme_tables_main([])
    print(f"total time {time.perf_counter() - total_start:.1f} s for {len(notebooks)} notebook(s)")
    return 0
