"""asd_utils.scorecard: verdicts from seed results, and the README's hand-written reading agreeing with them."""
from __future__ import annotations

import pandas as pd
import pytest

from asd_utils import scorecard
from asd_utils.readme_tables import COURSE_RESULTS_CSV, SEED_RESULTS_CSV
from asd_utils.literature import LITERATURE_RESULTS
from asd_utils.utils import repo_root


def _seeds(values: dict[tuple[str, str], tuple[float, float]]) -> pd.DataFrame:
    """Seed rows: ``{(model, score): (dev, eval)}`` for seeds 0-2, each seed +-0.005 around the value."""
    rows = []
    for (model, score), pair in values.items():
        for seed, jitter in enumerate((-0.005, 0.0, 0.005)):
            for dataset, auc in zip(("dev", "eval"), pair):
                rows.append({"seed": seed, "dataset": dataset, "model": model, "score": score,
                             "mean_auc": auc + jitter})
    return pd.DataFrame(rows)


COURSE = pd.DataFrame({"model": ["Baseline (VAE)", "+BatchNorm"], "dataset": ["dev", "dev"], "mean_auc": [0.80, 0.85]})


def _card(values):
    card = scorecard.reproduction_scorecard(_seeds(values), COURSE, LITERATURE_RESULTS)
    return dict(zip(card["claim (report)"], card["verdict"]))


BASE = {("DCASE AE", "mean error"): (0.89, 0.88), ("ResNet50", "1-softmax"): (0.70, 0.60),
        ("STgramNet (CE)", "1-softmax"): (0.95, 0.90), ("STgramNet (CE)", "mahalanobis"): (0.90, 0.85),
        ("SepSTgramNet (CE)", "1-softmax"): (0.99, 0.95)}


def test_every_claim_reproduced_when_the_reports_order_holds():
    verdicts = _card(BASE)
    assert set(verdicts.values()) == {"reproduced", "reproduced (one seed)"}, verdicts


def test_a_tie_and_a_win_only_with_another_score_are_told_apart():
    verdicts = _card({**BASE, ("STgramNet (CE)", "1-softmax"): (0.90, 0.89), ("STgramNet (CE)", "mahalanobis"): (0.96, 0.95)})
    claim = "the classifiers above the autoencoders (Team 42 with Eq. 1 vs Group 7)"
    assert verdicts[claim] == "within noise; reproduced with Mahalanobis, the course's score"
    verdicts = _card({**BASE, ("STgramNet (CE)", "1-softmax"): (0.80, 0.78), ("STgramNet (CE)", "mahalanobis"): (0.96, 0.95)})
    assert verdicts[claim].startswith("not reproduced with the report's score; reproduced only with Mahalanobis")
    verdicts = _card({**BASE, ("SepSTgramNet (CE)", "1-softmax"): (0.80, 0.70)})
    assert verdicts["SepSTgramNet above STgramNet with Eq. 1 (Team 42)"] == "not reproduced"


def test_bar_summary_counts_cells_and_names_the_relation():
    text = scorecard.bar_summary(_seeds({**BASE, ("mean-spectrum Gaussian", "mahalanobis"): (0.98, 0.94)}))
    assert "in 6 of 6 seed x set cells" in text and "ties with" in text and "SepSTgramNet (CE) · Eq. 1" in text
    text = scorecard.bar_summary(_seeds({**BASE, ("mean-spectrum Gaussian", "mahalanobis"): (0.92, 0.89)}))
    assert "in 3 of 6 seed x set cells" in text and "trails" in text
    assert scorecard.bar_summary(_seeds(BASE)) == ""


def test_readme_reading_agrees_with_the_committed_scorecard():
    root = repo_root()
    card = scorecard.reproduction_scorecard(pd.read_csv(root / SEED_RESULTS_CSV), pd.read_csv(root / COURSE_RESULTS_CSV),
                                            LITERATURE_RESULTS)
    verdicts = dict(zip(card["claim (report)"], card["verdict"]))
    readme = (root / "README.md").read_text(encoding="utf-8")
    headline = verdicts["the classifiers above the autoencoders (Team 42 with Eq. 1 vs Group 7)"]
    if "the classifiers do **not** beat the autoencoders here" in readme:
        assert not headline.startswith("reproduced") and not headline.startswith("within"), headline
    else:
        pytest.fail("README.md no longer states the headline's verdict in its introduction: update this test")
    if "A training-free statistic that matches the learned models" in readme:
        assert "ties with" in scorecard.bar_summary(pd.read_csv(root / SEED_RESULTS_CSV))


def test_real_size_column_judges_only_what_was_measured_there():
    real = _seeds({("DCASE AE", "mean error"): (0.95, 0.0), ("STgramNet (CE)", "1-softmax"): (0.63, 0.0)})
    real = real[real["dataset"] == "dev"]  # the real data's size: development test clips only
    card = scorecard.reproduction_scorecard(_seeds(BASE), COURSE, LITERATURE_RESULTS, real).set_index("claim (report)")
    at_size = card[scorecard.REAL_SIZE]
    assert at_size["the classifiers above the autoencoders (Team 42 with Eq. 1 vs Group 7)"].endswith(": reversed")
    assert at_size["the autoencoders reach 0.877-0.894 dev mean AUC (Group 7, mean error)"].endswith(
        "above the report's range")
    assert at_size["STgramNet above ResNet50 with Eq. 1 (Team 42)"] == scorecard.NOT_RUN
    assert "no evaluation test clips" in at_size["the evaluation ids score below the development ids (Team 42, every model)"]
    assert set(card["verdict"]) == {"reproduced", "reproduced (one seed)"}  # the verdicts stay the course size's
    summary = scorecard.scorecard_summary(card.reset_index())
    assert "At the real data's size" in summary and "Group 7): reversed" in summary
    alone = scorecard.reproduction_scorecard(_seeds(BASE), COURSE, LITERATURE_RESULTS)
    assert "At the real data's size" not in scorecard.scorecard_summary(alone)
    assert set(alone[scorecard.REAL_SIZE]) <= {scorecard.NOT_RUN, scorecard.NOT_RUN + " (only notebook 03 trains it)",
                                               "no evaluation test clips at this size"}


def test_seed_table_shows_only_the_sets_measured():
    from asd_utils.readme_tables import seed_table

    dev_only = _seeds(BASE)
    table = seed_table(dev_only[dev_only["dataset"] == "dev"])
    assert "0.885" in table and " / " not in table
    assert "0.885 / 0.875" in seed_table(dev_only)
