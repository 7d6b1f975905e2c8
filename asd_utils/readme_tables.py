"""The README's results tables, rendered from the committed results files (never typed by hand).

* ``notebooks/results_summary.csv`` (:data:`COURSE_RESULTS_CSV`): one row per notebook and model of the stored
  ``course`` run, written by ``python -m asd_utils regenerate`` (:func:`write_course_results`) from the same run as
  the notebooks' stored outputs; the README's development and evaluation tables (:func:`course_tables`).
* ``benchmarks/results/seeds.csv`` (:data:`SEED_RESULTS_CSV`): mean AUC per generator seed, set, model and score,
  written by ``benchmarks/bench_seeds.py`` (:func:`merge_rows`); the README's seed table (:func:`seed_table`).
  ``seeds_dcase.csv`` (:data:`REAL_SIZE_RESULTS_CSV`): the same at the real data's size (``--profile dcase``); the
  README's ``seeds-real-size`` table.
* both: the README's reproduction scorecard and its reading (:func:`scorecard_block`).

``python -m asd_utils readme-tables`` rewrites the tables between the README's ``<!-- begin generated table: NAME``
and ``<!-- end generated table: NAME -->`` lines; ``--check`` only says whether they are up to date (a unit test
does the same).

Introduced in: README.md (Results); the course run of notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

from . import profiles
from .model_registry import SCORE_LABELS
from .results import collect_summary, format_markdown_table
from .utils import display_path, repo_root, write_text_atomic

COURSE_RESULTS_CSV = "notebooks/results_summary.csv"
SEED_RESULTS_CSV = "benchmarks/results/seeds.csv"
REAL_SIZE_RESULTS_CSV = "benchmarks/results/seeds_dcase.csv"
#: the file ``bench_seeds.py --profile P`` writes: the course's data size, or the real data's (the `dcase` profile)
SEED_RESULTS_CSVS = {"course": SEED_RESULTS_CSV, "dcase": REAL_SIZE_RESULTS_CSV}
#: the columns the README tables read from each results file
RESULTS_COLUMNS = {COURSE_RESULTS_CSV: ("notebook", "model", "dataset", "mean_auc", "mean_pauc"),
                   **{path: ("seed", "dataset", "model", "score", "mean_auc") for path in SEED_RESULTS_CSVS.values()}}


def read_results_csv(path, required) -> pd.DataFrame:
    """A committed results file, or a ``ValueError`` naming it, what is wrong and how to get it back (an empty or
    damaged file, missing columns) instead of pandas' ``EmptyDataError`` or a ``KeyError`` later."""
    path = Path(path)
    fix = "restore it with 'git checkout -- <file>' or write it again ('make notebooks', benchmarks/bench_seeds.py)"
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise ValueError(f"{display_path(path)}: results file not found; {fix}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{display_path(path)}: not a readable CSV ({type(err).__name__}: "
                         f"{str(err).strip().splitlines()[0] if str(err).strip() else 'empty'}); {fix}") from None
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ValueError(f"{display_path(path)}: no column(s) {', '.join(missing)} (it has {', '.join(map(str, table.columns))}); "
                         f"{fix}")
    return table
SEED_COLUMNS = ["seed", "dataset", "model", "score", "mean_auc"]
#: rows of the seed table: (bench_seeds model, score or None for the best of the model's scores, label)
SEED_TABLE_ROWS = [("training-free", None, "best training-free level statistic (notebook 01)"),
                   ("mean-spectrum Gaussian", "mahalanobis", "mean-spectrum Gaussian, no training (notebook 01)"),
                   ("DCASE AE", "mean error", "DCASE AE · mean error"),
                   ("DCASE AE", "p95 error", "DCASE AE · 95th-percentile error"),
                   ("ResNet50", "1-softmax", None), ("STgramNet (CE)", "1-softmax", None),
                   ("STgramNet (CE)", "mahalanobis", None), ("SepSTgramNet (CE)", "1-softmax", None),
                   ("SepSTgramNet (CE)", "mahalanobis", None)]
_MARKED = re.compile(r"(<!-- begin generated table: (?P<name>[\w-]+)[^\n]*-->\n)(?P<body>.*?)"
                     r"(<!-- end generated table: (?P=name) -->)", re.DOTALL)


def merge_rows(old: pd.DataFrame | None, new: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """``new`` plus the rows of ``old`` whose ``key`` values ``new`` does not have (a partial re-run keeps the rest)."""
    if old is None or old.empty:
        return new.reset_index(drop=True)
    stale = old.set_index(key).index.isin(new.set_index(key).index)
    return pd.concat([old[~stale], new], ignore_index=True)


def write_course_results(out_dir, stems: list[str], path=COURSE_RESULTS_CSV) -> pd.DataFrame:
    """Write the results of notebooks ``stems`` in ``out_dir`` (:func:`asd_utils.results.collect_summary` of the
    ``course`` profile on its default data, without the notebooks' wall times) to ``path`` (relative: from the
    repository root), keeping the rows of the other notebooks. Returns the new rows (empty: nothing written)."""
    path = repo_root() / path
    summary = collect_summary(out_dir, stems=stems, timings={}, data_root=profiles.default_data_root("course"),
                              profile="course").drop(columns="notebook_seconds")
    if summary.empty:
        return summary
    old = read_results_csv(path, ["notebook"]) if path.is_file() else None
    table = merge_rows(old, summary, ["notebook"]).sort_values("notebook", kind="stable")
    write_text_atomic(path, table.to_csv(index=False))
    return summary


def course_tables(summary: pd.DataFrame) -> dict[str, str]:
    """The README's ``course-dev`` table (every development result but the neg log prob score, which ranks as
    1-softmax) and ``course-eval`` table (notebook 07's retrained models next to their development mean AUC) from a
    results summary, as markdown."""
    summary = summary.reset_index(drop=True)
    dev = summary[(summary["dataset"] == "dev") & (summary["score"] != "neg_log_prob")]
    dev_ids = [c for c in summary.columns if c.startswith("auc_id_") and c[4:] not in profiles.EVAL_IDS
               and dev[c].notna().any()]
    seconds = dev["train_seconds"].map(lambda s: "-" if pd.isna(s) or s == 0 else f"{s:.0f} s")
    title = f"notebook · model · score (dev ids {' / '.join(c[-2:] for c in dev_ids)})"
    dev_table = pd.DataFrame({title: dev["notebook"].str[:2] + " · " + dev["model"],
                              **{c[4:]: dev[c] for c in dev_ids}, "mean AUC": dev["mean_auc"],
                              "mean pAUC": dev["mean_pauc"], "pooled AUC": dev["pooled_auc"], "training": seconds})
    ev = summary[summary["dataset"] == "eval"]
    dev_auc = dict(zip(dev["model"], dev["mean_auc"]))
    eval_ids = [c for c in summary.columns if c[4:] in profiles.EVAL_IDS and ev[c].notna().any()]
    eval_table = pd.DataFrame({"model (chosen on dev)": ev["model"], **{c[4:]: ev[c] for c in eval_ids},
                               "dev mean AUC": ev["dev_result"].map(dev_auc),
                               "eval mean AUC": ev["mean_auc"], "eval mean pAUC": ev["mean_pauc"],
                               "eval pooled AUC": ev["pooled_auc"]})
    return {"course-dev": format_markdown_table(dev_table), "course-eval": format_markdown_table(eval_table)}


def seed_table(seeds: pd.DataFrame) -> str:
    """The README's ``seeds`` table: mean AUC ``dev / eval`` per generator seed and the mean ± std (pandas' std,
    ddof 1) over the seeds, one row per :data:`SEED_TABLE_ROWS` entry (a ``None`` score: the best score of each seed
    and set), from the rows ``benchmarks/bench_seeds.py`` writes (:data:`SEED_COLUMNS`)."""
    seed_ids = sorted(seeds["seed"].unique())
    sets = [d for d in ("dev", "eval") if d in set(seeds["dataset"])]  # the real data's size has no eval clips
    rows = []
    for model, score, label in SEED_TABLE_ROWS:
        part = seeds[(seeds["model"] == model) & ((seeds["score"] == score) if score else True)]
        auc = part.groupby(["dataset", "seed"])["mean_auc"].max()
        if auc.empty:
            continue
        row = {"model · score": label or f"{model} · {SCORE_LABELS[score]}"}
        for seed in seed_ids:
            row[f"seed {seed}"] = " / ".join(f"{auc.get((d, seed), float('nan')):.3f}" for d in sets)
        row["mean ± std over seeds"] = " / ".join(f"{auc[d].mean():.3f} ± {auc[d].std():.3f}" for d in sets)
        rows.append(row)
    return format_markdown_table(pd.DataFrame(rows))


def render_readme(text: str, tables: dict[str, str]) -> str:
    """``text`` with the lines between each ``<!-- begin generated table: NAME ...-->`` line and its end line
    replaced by ``tables[NAME]`` between blank lines; a marked table without an entry in ``tables`` (or the reverse)
    is an error."""
    found = [match["name"] for match in _MARKED.finditer(text)]
    if sorted(found) != sorted(tables):
        raise ValueError(f"README tables marked {found}, expected each of {sorted(tables)} once")
    return _MARKED.sub(lambda m: m.group(1) + "\n" + tables[m["name"]] + "\n" + m.group(4), text)


def scorecard_block(seeds: pd.DataFrame, course: pd.DataFrame, real_size: pd.DataFrame | None = None) -> str:
    """The README's ``scorecard``: the reproduction scorecard (:mod:`asd_utils.scorecard`) and its reading."""
    from .literature import LITERATURE_RESULTS
    from .scorecard import bar_summary, reproduction_scorecard, scorecard_summary

    card = reproduction_scorecard(seeds, course, LITERATURE_RESULTS, real_size)
    bars = [bar_summary(seeds)] + ([bar_summary(real_size, "At the real data's size")] if real_size is not None else [])
    return "\n\n".join(filter(None, [format_markdown_table(card), scorecard_summary(card), *bars]))


def readme_tables(root=None) -> dict[str, str]:
    """Every generated README block, from the committed :data:`COURSE_RESULTS_CSV` and :data:`SEED_RESULTS_CSVS`."""
    root = Path(root) if root is not None else repo_root()
    course, seeds, real_size = (read_results_csv(root / name, RESULTS_COLUMNS[name]) for name in
                                (COURSE_RESULTS_CSV, SEED_RESULTS_CSV, REAL_SIZE_RESULTS_CSV))
    return {**course_tables(course), "seeds": seed_table(seeds), "seeds-real-size": seed_table(real_size),
            "scorecard": scorecard_block(seeds, course, real_size)}


def readme_tables_main(argv: list[str] | None = None) -> int:
    """``python -m asd_utils readme-tables [--check]``: rewrite (or check) the README's generated results tables."""
    parser = argparse.ArgumentParser(prog="python -m asd_utils readme-tables",
                                     description=f"Rewrite the README's results tables from {COURSE_RESULTS_CSV} "
                                                 f"and {', '.join(SEED_RESULTS_CSVS.values())}.")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a table is out of date")
    args = parser.parse_args(argv)
    readme = repo_root() / "README.md"
    text = readme.read_text(encoding="utf-8")
    rendered = render_readme(text, readme_tables())
    if rendered == text:
        print(f"{display_path(readme)}: results tables up to date")
        return 0
    if args.check:
        sources = " / ".join([COURSE_RESULTS_CSV, *SEED_RESULTS_CSVS.values()])
        print(f"{display_path(readme)}: results tables differ from {sources}; "
              "run 'python -m asd_utils readme-tables'", file=sys.stderr)
        return 1
    write_text_atomic(readme, rendered)
    print(f"{display_path(readme)}: results tables rewritten")
    return 0
