"""asd_utils.readme_tables: the README's results tables are rendered from the committed results files."""
from __future__ import annotations

import pandas as pd
import pytest

from asd_utils import readme_tables
from asd_utils.metrics import write_metrics_json
from asd_utils.utils import repo_root


def test_readme_tables_match_the_committed_results():
    text = (repo_root() / "README.md").read_text(encoding="utf-8")
    assert readme_tables.render_readme(text, readme_tables.readme_tables()) == text, (
        f"README.md's results tables differ from {readme_tables.COURSE_RESULTS_CSV} or "
        f"{readme_tables.SEED_RESULTS_CSV}: run 'python -m asd_utils readme-tables'")


def _summary_row(notebook, model, dataset, auc, seconds, ids, score="mahalanobis", dev_result=None):
    return {"notebook": notebook, "model": model, "score": score, "dataset": dataset, "dev_result": dev_result,
            "mean_auc": auc, "mean_pauc": auc - 0.2,
            "pooled_auc": auc - 0.01, **{f"auc_{i}": auc for i in ids}, "n_params": 5, "train_seconds": seconds}


def test_course_tables_leave_out_neg_log_prob_and_pair_eval_with_dev():
    dev, ev = ("id_00", "id_02"), ("id_01", "id_03")
    summary = pd.DataFrame([_summary_row("01_data", "no training · RMS level", "dev", 0.7, 0.0, dev),
                            _summary_row("05_stgramnet", "Net · 1-softmax", "dev", 0.8, 45.6, dev),
                            _summary_row("05_stgramnet", "Net · neg log prob", "dev", 0.8, 45.6, dev, "neg_log_prob"),
                            _summary_row("05_stgramnet", "Net · Mahalanobis", "dev", 0.9, 45.6, dev),
                            _summary_row("07_results", "Net · Mahalanobis · eval", "eval", 0.85, 1.0, ev,
                                         dev_result="Net · Mahalanobis")])
    tables = readme_tables.course_tables(summary)
    assert tables["course-dev"].splitlines() == [
        "| notebook · model · score (dev ids 00 / 02) | id_00 | id_02 | mean AUC | mean pAUC | pooled AUC | training |",
        "|--------------------------------------------|------:|------:|---------:|----------:|-----------:|----------|",
        "| 01 · no training · RMS level               | 0.700 | 0.700 |    0.700 |     0.500 |      0.690 | -        |",
        "| 05 · Net · 1-softmax                       | 0.800 | 0.800 |    0.800 |     0.600 |      0.790 | 46 s     |",
        "| 05 · Net · Mahalanobis                     | 0.900 | 0.900 |    0.900 |     0.700 |      0.890 | 46 s     |"]
    assert tables["course-eval"].splitlines()[2] == (
        "| Net · Mahalanobis · eval | 0.850 | 0.850 |        0.900 |         0.850 |          0.650 |           0.840 |")


def test_seed_table_takes_the_best_statistic_per_seed_and_the_mean_and_std_over_seeds():
    rows = [(seed, dataset, "training-free", stat, auc) for seed, dataset, stat, auc in [
        (0, "dev", "rms", 0.70), (0, "dev", "peak", 0.72), (0, "eval", "rms", 0.66), (0, "eval", "peak", 0.60),
        (1, "dev", "rms", 0.74), (1, "dev", "peak", 0.71), (1, "eval", "rms", 0.62), (1, "eval", "peak", 0.64)]]
    rows += [(seed, dataset, "STgramNet (CE)", "mahalanobis", auc) for seed, dataset, auc in [
        (0, "dev", 0.90), (0, "eval", 0.80), (1, "dev", 0.96), (1, "eval", 0.86)]]
    table = readme_tables.seed_table(pd.DataFrame(rows, columns=readme_tables.SEED_COLUMNS))
    assert table.splitlines()[2:] == [
        "| best training-free level statistic (notebook 01) | 0.720 / 0.660 | 0.740 / 0.640 | 0.730 ± 0.014 / 0.650 ± 0.014 |",
        "| STgramNet (CE) · Mahalanobis                     | 0.900 / 0.800 | 0.960 / 0.860 | 0.930 ± 0.042 / 0.830 ± 0.042 |"]


def test_render_readme_replaces_only_the_marked_tables():
    text = ("intro\n<!-- begin generated table: a (from x.csv) -->\nold\n<!-- end generated table: a -->\n"
            "| hand | table |\n")
    assert readme_tables.render_readme(text, {"a": "| new |\n"}) == (
        "intro\n<!-- begin generated table: a (from x.csv) -->\n\n| new |\n\n<!-- end generated table: a -->\n"
        "| hand | table |\n")
    with pytest.raises(ValueError, match=r"marked \['a'\], expected each of \['a', 'b'\]"):
        readme_tables.render_readme(text, {"a": "", "b": ""})


def test_write_course_results_replaces_the_rows_of_the_notebooks_run(tmp_path):
    path = tmp_path / "results_summary.csv"
    old = pd.DataFrame([_summary_row("03_ae", "ae", "dev", 0.6, 1.0, ["id_00"]),
                        _summary_row("05_net", "net", "dev", 0.7, 1.0, ["id_00"])])
    old.to_csv(path, index=False)
    model = {"network": "new", "score": "mahalanobis", "model": None, "options": {}, "recipe": None, "per_id": {"id_00": {"auc": 0.9, "pauc": 0.7}}, "mean_auc": 0.9, "mean_pauc": 0.7, "pooled_auc": 0.9,
             "n_params": 3, "train_seconds": 2.0, "hyperparameters": {}}
    for stem in ("05_net", "06_other"):  # 06 was not run this time: its stale metrics.json is not read
        write_metrics_json(tmp_path / "out" / stem, stem, "data/synthetic_course", {"new": model}, profile="course")
    new = readme_tables.write_course_results(tmp_path / "out", ["05_net"], path)
    assert list(new["notebook"]) == ["05_net"]
    written = pd.read_csv(path)
    assert list(zip(written["notebook"], written["model"], written["mean_auc"])) == [("03_ae", "ae", 0.6),
                                                                                      ("05_net", "new", 0.9)]
    assert "notebook_seconds" not in written.columns
    assert readme_tables.write_course_results(tmp_path / "out", ["04_missing"], path).empty
