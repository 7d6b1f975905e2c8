import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from asd_utils.plots import plot_block_diagram  # noqa: E402


def test_block_diagram_draws_one_box_per_block_and_arrows_between_box_edges():
    boxes = {"a": (0, 0, "a"), "b": (3, 0, "b"), "c": (3, 2, "c")}
    ax = plot_block_diagram(boxes, [("a", "b"), ("b", "c")], box_width=1.0, box_height=0.5)
    assert len(ax.patches) == 3 and [t.get_text() for t in ax.texts if t.get_text()] == ["a", "b", "c"]
    arrows = [a for a in ax.texts if a.get_text() == ""]
    assert [a.xy for a in arrows] == [(2.5, 0.0), (3.0, 1.75)]  # a's right edge -> b's left edge; b's top -> c's bottom
    assert [a.xyann for a in arrows] == [(0.5, 0.0), (3.0, 0.25)]
    plt.close(ax.figure)
