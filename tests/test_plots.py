"""Shared figure helpers (asd_utils.plots): identical rankings drawn once, score histograms per id, legends off the
data, the embedding map."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from asd_utils import plots  # noqa: E402


def _table(n_per_id=6):
    ids = ["id_00", "id_02"]
    return pd.DataFrame({"machine_id": np.repeat(ids, n_per_id), "y": np.tile([0.0, 1.0], n_per_id)})


def test_scores_that_rank_alike_are_merged_and_others_kept():
    p = np.array([0.5, 0.9, 0.99, 0.7])
    scores = {"1-softmax": 1 - p, "neg log prob": -np.log(p), "Mahalanobis": np.array([3.0, 1.0, 2.0, 0.5])}
    merged = plots.merge_identical_rankings(scores)
    assert list(merged) == ["1-softmax = neg log prob", "Mahalanobis"]
    np.testing.assert_array_equal(merged["1-softmax = neg log prob"], 1 - p)
    tied = {"1-softmax": np.array([0.0, 0.0, 0.1]), "neg log prob": np.array([1e-20, 2e-20, 0.1])}
    assert list(plots.merge_identical_rankings(tied)) == ["1-softmax", "neg log prob"]  # Eq. 1 ties: kept apart


def test_roc_and_distribution_figures_draw_an_identical_ranking_once():
    table = _table()
    rng = np.random.default_rng(0)
    p = rng.uniform(0.5, 1.0, len(table))
    scores = {"1-softmax": 1 - p, "neg log prob": -np.log(p), "kNN cosine": rng.uniform(size=len(table))}
    fig = plots.plot_roc_curves(table, scores)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 2 and labels[0].startswith("1-softmax = neg log prob")
    fig = plots.plot_score_distributions(table, scores)
    assert [ax.get_ylabel().split("\n")[0] for ax in fig.axes[::2]] == ["1-softmax = neg log prob", "kNN cosine"]
    assert fig.axes[0].get_xlabel() == "log10(score)"
    assert len(plots.plot_roc_curves(table, scores, merge_identical=False).axes[0].get_legend().get_texts()) == 3
    plt.close("all")


def test_roc_legends_sit_under_their_panels():
    table = _table()
    scores = {"a": np.random.default_rng(0).uniform(size=len(table)), "b": np.arange(len(table), dtype=float)}
    fig = plots.plot_roc_curves(table, scores)
    fig.canvas.draw()
    for ax in fig.axes:
        assert ax.get_legend().get_window_extent().y1 < ax.get_window_extent().y0  # under the axes, not over curves
    plt.close("all")


def test_score_distributions_are_a_grid_of_scores_by_machine_id_with_per_id_aucs():
    table = pd.concat([_table(), pd.DataFrame({"machine_id": ["id_04"] * 4, "y": [np.nan] * 4})], ignore_index=True)
    rng = np.random.default_rng(1)
    scores = {"Mahalanobis": rng.uniform(size=len(table)), "kNN cosine": rng.uniform(size=len(table)),
              "1-softmax": rng.uniform(1e-20, 1e-3, len(table))}
    fig = plots.plot_score_distributions(table, scores, title="run")
    axes = np.array(fig.axes).reshape(3, 2)  # one row per score, one column per id with labels (id_04 has none)
    for row, label in enumerate(scores):
        assert axes[row, 0].get_ylabel().startswith(label)
        for ax, machine_id in zip(axes[row], ["id_00", "id_02"]):
            own = (table["machine_id"] == machine_id).to_numpy()
            auc = plots.auc_pauc(table["y"][own], scores[label][own])[0]
            assert ax.get_title() == f"{machine_id}: AUC {auc:.3f}"
    assert [ax.get_xlabel() for ax in axes[:, 0]] == ["score", "score", "log10(score)"]
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1  # one legend, not over data
    assert tuple(fig.get_size_inches()) == pytest.approx((2 * 2.6, 3 * 2.0 + 0.6))
    with pytest.raises(ValueError, match=r"'kNN cosine' has 5 values but the table has 16 clips"):
        plots.plot_score_distributions(table, {"Mahalanobis": scores["Mahalanobis"], "kNN cosine": np.ones(5)})
    plt.close("all")


def test_embedding_map_projects_on_two_axes_with_a_legend_under_the_axes():
    table = _table()
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((len(table), 16)) + 5 * (table["machine_id"] == "id_02").to_numpy()[:, None]
    coords, explained = plots.pca_2d(embeddings)
    assert coords.shape == (len(table), 2) and explained[0] >= explained[1] > 0 and explained.sum() <= 1
    np.testing.assert_allclose(plots.pca_2d(embeddings)[0], coords)  # signs fixed: the same picture every time
    ax = plots.plot_embedding_map(embeddings, table, title="map")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["id_00", "id_02", "normal", "anomalous"]
    assert legend.get_bbox_to_anchor().y0 < ax.get_window_extent().y0  # below the axes, not over the data
    with pytest.raises(ValueError, match="embeddings for"):
        plots.plot_embedding_map(embeddings[:3], table)
    plt.close("all")


def test_p_id_histogram_legend_sits_under_the_panels():
    class Run:  # the two attributes plot_p_id reads
        name = "run"
        p_id = np.array([0.5, 0.9999, 0.99, 1.0])
        test_table = pd.DataFrame({"y": [0.0, 1.0, 0.0, 1.0]})

    fig = plots.plot_p_id([Run(), Run()])
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    plt.close("all")


def test_block_diagram_draws_one_box_per_block_and_arrows_between_box_edges():
    boxes = {"a": (0, 0, "a"), "b": (3, 0, "b"), "c": (3, 2, "c")}
    ax = plots.plot_block_diagram(boxes, [("a", "b"), ("b", "c")], box_width=1.0, box_height=0.5)
    assert len(ax.patches) == 3 and [t.get_text() for t in ax.texts if t.get_text()] == ["a", "b", "c"]
    arrows = [a for a in ax.texts if a.get_text() == ""]
    assert [a.xy for a in arrows] == [(2.5, 0.0), (3.0, 1.75)]  # a's right edge -> b's left edge; b's top -> c's bottom
    assert [a.xyann for a in arrows] == [(0.5, 0.0), (3.0, 0.25)]
    plt.close(ax.figure)


def test_scores_by_id_draws_one_panel_per_id_and_one_legend_under_them():
    table = _table()
    scores = np.arange(len(table), dtype=float)
    fig = plots.plot_scores_by_id(table, scores, aucs={"id_00": 0.75})
    assert [ax.get_title() for ax in fig.axes] == ["id_00: AUC 0.750", "id_02"]
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    legend_top = fig.legends[0].get_window_extent().y1
    assert all(legend_top <= ax.get_window_extent().y0 for ax in fig.axes)  # under the panels, not over data
    plt.close(fig)
    with pytest.raises(ValueError, match="3 scores for 12 clips"):
        plots.plot_scores_by_id(table, scores[:3])
