"""Repository-wide pytest hooks (loaded for `pytest tests` and for `pytest --nbval notebooks/...` run from here).

* registers the ``notebooks`` marker (papermill runs of the course notebooks on the ``tiny`` profile);
* nbval: stderr is not compared (warnings from libraries differ between versions and machines), as in the nbval docs;
* nbval: the stored outputs were made by `python -m asd_utils regenerate` on the course dataset (seed 0), so an nbval
  session first generates data/synthetic_course when it is missing (as `run` and `regenerate` do), and makes the
  notebooks' claim checks strict (as `regenerate` does);
* prints the notebooks' run times recorded by tests/test_notebooks.py at the end of the session.
"""
import os

os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in kernels started by papermill or nbval


def pytest_configure(config):
    config.addinivalue_line("markers", "notebooks: papermill run of a course notebook on the tiny profile (slow)")


def pytest_sessionstart(session):
    option = session.config.option
    if getattr(option, "nbval", False) or getattr(option, "nbval_lax", False):
        from asd_utils import claims, profiles, synth, utils

        os.environ[claims.STRICT_ENV] = "1"  # the kernels nbval starts inherit it: a false claim of the prose fails

        synth.ensure_dataset(utils.resolve_path(profiles.default_data_root("course")), "course", seed=0)


def pytest_collectstart(collector):
    # nbval's IPyNbFile keeps the output keys it ignores in `skip_compare` (a tuple); stream outputs are keyed by
    # their name ('stdout' / 'stderr') when compared, so adding 'stderr' skips stderr streams only.
    path = getattr(collector, "path", None)
    if path is not None and path.suffix == ".ipynb" and hasattr(collector, "skip_compare"):
        collector.skip_compare += ("stderr",)


def pytest_terminal_summary(terminalreporter):
    timings = []
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "notebook_seconds" and report.when == "call":
                timings.append((report.nodeid, value))
    if timings:
        terminalreporter.section("notebook run times (tiny profile)")
        for nodeid, seconds in timings:
            terminalreporter.write_line(f"{seconds:7.1f} s  {nodeid}")
