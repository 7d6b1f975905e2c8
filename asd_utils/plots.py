"""Shared figures of the course: clip counts, waveforms, log-mel images, per-id score histograms,
ROC curves and score distributions, and the classifiers' saturation and confusion plots.

Every ``plot_*`` helper draws into a matplotlib ``Axes`` (pass ``ax``, or a new figure is made) and returns that
``Axes`` (or the figure for multi-panel helpers), so notebooks can compose them into grids and still add their own
titles. The helpers only draw; they never call ``plt.show()`` and never print, so notebook outputs stay deterministic.
Colours are fixed per label (:data:`LABEL_COLORS`) so that "normal" and "anomaly" look the same in every notebook.

Introduced in: notebooks/01_data_exploration.ipynb (log-mel helpers: notebooks/02_log_mel_features.ipynb; ROC curves,
score distributions, the classifier figures and the embedding map: notebooks/04_resnet_baseline.ipynb)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .data import SAMPLE_RATE
from .metrics import auc_pauc

if TYPE_CHECKING:  # for the annotations only; classifiers imports torch
    from .classifiers import ClassifierRun

LABEL_COLORS = {"normal": "tab:blue", "anomaly": "tab:red", "unknown": "tab:gray"}
# clip categories of a dataset table, in display order, and their colours (train is always normal)
CATEGORY_ORDER = ("train normal", "test normal", "test anomaly", "test unlabelled")
CATEGORY_COLORS = {"train normal": "tab:green", "test normal": "tab:blue", "test anomaly": "tab:red",
                   "test unlabelled": "tab:gray"}
FAULT_COLORS = {"none": "tab:blue", "rail_damage": "tab:orange", "loose_belt": "tab:purple",
                "no_grease": "tab:brown"}


def _axes(ax, figsize=(10, 3)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _legend_below(fig, ax, bottom: float) -> None:
    """One figure legend (the entries of ``ax``) under the panels, which keep the figure above ``bottom`` (a fraction
    of its height): inside a panel a legend covers data."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, bottom, 1, 1))


def clip_category(table: pd.DataFrame) -> pd.Series:
    """One label per clip of a dataset table: ``"train normal"``, ``"test normal"``, ``"test anomaly"`` or
    ``"test unlabelled"`` (evaluation test clips without ground truth).

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    label = table["label"].fillna("unlabelled").astype(str)
    return (table["split"].astype(str) + " " + label).rename("category")


def plot_clip_counts(table: pd.DataFrame, dataset: str = "dev", ax=None, title: str | None = None):
    """Bar chart of the number of clips per machine id of one ``dataset`` ("dev"/"eval"), one bar per clip category
    (train normal / test normal / test anomaly / test unlabelled), with the counts written on the bars.

    This is the "data distribution" figure of both course reports. Returns the ``Axes``.
    Introduced in: notebooks/01_data_exploration.ipynb
    """
    import seaborn as sns

    ax = _axes(ax, figsize=(6, 3.5))
    part = table[table["dataset"] == dataset].assign(category=lambda t: clip_category(t))
    if part.empty:  # e.g. a real download without the evaluation set
        ax.text(0.5, 0.5, f"no {dataset} clips in this data root", ha="center", va="center", transform=ax.transAxes)
        ax.set(title=title or f"{dataset} dataset: 0 clips", xticks=[], yticks=[])
        return ax
    order = sorted(part["machine_id"].unique())
    hue_order = [c for c in CATEGORY_ORDER if c in set(part["category"])]
    sns.countplot(data=part, x="machine_id", hue="category", order=order, hue_order=hue_order,
                  palette=CATEGORY_COLORS, ax=ax)
    for container in ax.containers:
        ax.bar_label(container, fontsize=8, padding=1)
    ax.set(xlabel="machine id", ylabel="clips", title=title or f"{dataset} dataset: {len(part)} clips")
    ax.margins(y=0.25)
    ax.legend(title=None, fontsize=8, loc="upper center", ncol=len(hue_order), frameon=False)
    return ax


def plot_waveform(wave: np.ndarray, sr: int = SAMPLE_RATE, ax=None, title: str | None = None, color: str | None = None,
                  start_s: float = 0.0, stop_s: float | None = None, ylim: float | None = None):
    """Waveform of one clip against time in seconds (optionally only ``start_s``..``stop_s``), amplitude in full
    scale (1.0 = 0 dBFS). ``ylim`` fixes a symmetric y-range so that several panels can be compared by eye.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    ax = _axes(ax)
    wave = np.asarray(wave)
    first = int(round(start_s * sr))
    last = wave.size if stop_s is None else min(wave.size, int(round(stop_s * sr)))
    times = np.arange(first, last) / sr
    ax.plot(times, wave[first:last], lw=0.4, color=color or "tab:blue")
    ax.set(xlabel="time [s]", ylabel="amplitude [FS]", xlim=(times[0], times[-1]) if times.size else None)
    if ylim is not None:
        ax.set_ylim(-ylim, ylim)
    if title:
        ax.set_title(title)
    return ax


def set_mel_axis(ax, n_mels: int = 128, sr: int = SAMPLE_RATE, axis: str = "y",
                 ticks_hz=(0, 250, 500, 1000, 2000, 4000, 8000)):
    """Label a mel-band axis (band index 0..n_mels-1) with frequencies in Hz at the bands where they fall.

    Introduced in: notebooks/02_log_mel_features.ipynb
    """
    from .features import mel_band_frequencies  # (features imports torch: only when an axis is labelled)

    centres = mel_band_frequencies(n_mels, sr)
    ticks = [t for t in ticks_hz if t <= sr / 2]
    positions = np.interp(ticks, centres, np.arange(n_mels), left=-0.5, right=n_mels - 0.5)
    labels = [f"{t / 1000:g}k" if t >= 1000 else f"{t:g}" for t in ticks]
    if axis == "y":
        ax.set_yticks(positions, labels)
        ax.set_ylabel("frequency [Hz] (mel scale)")
    else:
        ax.set_xticks(positions, labels)
        ax.set_xlabel("frequency [Hz] (mel scale)")
    return ax


def plot_log_mel(log_mel: np.ndarray, sr: int = SAMPLE_RATE, hop_length: int = 512, ax=None, title: str | None = None,
                 vmin: float | None = None, vmax: float | None = None, colorbar: bool = True, cmap: str = "magma",
                 ticks_hz=(0, 250, 500, 1000, 2000, 4000, 8000)):
    """Log-mel image ``[n_mels, n_frames]`` (dB) against time in seconds, frequency axis labelled in Hz.

    ``vmin``/``vmax`` fix the colour range in dB (use the same for panels you compare); by default the range is the
    image's maximum minus 80 dB to its maximum. ``ticks_hz``: frequencies labelled on the mel axis (fewer for small
    panels). Returns the ``Axes``.
    Introduced in: notebooks/02_log_mel_features.ipynb
    """
    ax = _axes(ax, figsize=(10, 3.5))
    log_mel = np.asarray(log_mel)
    n_mels, n_frames = log_mel.shape
    vmax = float(log_mel.max()) if vmax is None else vmax
    vmin = vmax - 80.0 if vmin is None else vmin
    duration = n_frames * hop_length / sr
    image = ax.imshow(log_mel, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax,
                      extent=(0.0, duration, -0.5, n_mels - 0.5), interpolation="nearest")
    set_mel_axis(ax, n_mels, sr, ticks_hz=ticks_hz)
    ax.set_xlabel("time [s]")
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="dB", pad=0.01)
    return ax


def plot_scores_by_id(table: pd.DataFrame, scores, score_name: str = "anomaly score", bins: int = 20,
                      aucs: dict | None = None):
    """One panel per machine id: histograms of ``scores`` for the normal and the anomalous test clips of ``table``
    (columns ``machine_id`` and ``y``; clips without a label are left out). ``aucs`` (``{machine_id: auc}``), when
    given, is written in the panel titles. Returns the figure.

    Introduced in: notebooks/01_data_exploration.ipynb
    """
    import matplotlib.pyplot as plt

    scores = np.asarray(scores, dtype=float)
    if len(scores) != len(table):
        raise ValueError(f"{len(scores)} scores for {len(table)} clips")
    ids = sorted(table["machine_id"].unique())
    height = 3.4  # + room for the legend under the panels
    fig, axes = plt.subplots(1, len(ids), figsize=(3.6 * len(ids), height), squeeze=False, sharey=False)
    y = table["y"].to_numpy()
    machine = table["machine_id"].to_numpy()
    for ax, machine_id in zip(axes[0], ids):
        own = (machine == machine_id) & np.isfinite(y)
        edges = np.histogram_bin_edges(scores[own], bins=bins)
        for value, name in ((0.0, "normal"), (1.0, "anomaly")):
            ax.hist(scores[own & (y == value)], bins=edges, alpha=0.55, color=LABEL_COLORS[name], label=name)
        title = machine_id if not aucs or machine_id not in aucs else f"{machine_id}: AUC {aucs[machine_id]:.3f}"
        ax.set(title=title, xlabel=score_name, ylabel="test clips")
    _legend_below(fig, axes[0][0], 0.4 / height)
    return fig


# ------------------------------------------------------------------------------------- scores and classifiers
def merge_identical_rankings(scores: dict) -> dict:
    """``{label: scores}`` with the scores that rank the clips identically (same order, same ties: the same ROC curve
    and AUC on any subset of clips) kept once, under the joined label ``"1-softmax = neg log prob"``.

    Eq. 1 (``1 - p``) and the neg log prob (``-log p``) are both decreasing functions of ``p(id)``: they rank alike
    unless Eq. 1 rounds some clips to exactly 0 (then they are kept apart).
    """
    from scipy.stats import rankdata

    merged, ranks = {}, {}
    for label, values in scores.items():
        rank = rankdata(np.asarray(values, dtype=float), method="min")
        same = next((kept for kept, kept_rank in ranks.items() if np.array_equal(rank, kept_rank)), None)
        if same is None:
            merged[label], ranks[label] = values, rank
        else:
            new_label = f"{same} = {label}"
            merged = {(new_label if k == same else k): v for k, v in merged.items()}
            ranks = {(new_label if k == same else k): v for k, v in ranks.items()}
    return merged


def plot_roc_curves(table: pd.DataFrame, scores: dict, title: str = "", max_fpr: float = 0.1,
                    merge_identical: bool = True):
    """ROC curve of each score (``{label: [n] array}``), one panel per machine id; the pAUC region is shaded.

    ``merge_identical``: scores that rank the clips identically have the same curve; it is drawn once, labelled
    ``"A = B"`` (:func:`merge_identical_rankings`). Each panel's legend (score and that id's AUC) sits under it, so
    that no curve is hidden, not even one below the diagonal. Returns the figure.

    Introduced in: notebooks/04_resnet_baseline.ipynb (reused by 05_stgramnet and 06_sepstgramnet)
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    if merge_identical:
        scores = merge_identical_rankings(scores)
    ids = sorted(table.loc[table["y"].notna(), "machine_id"].unique())
    fig, axes = plt.subplots(1, len(ids), figsize=(3.6 * len(ids), 3.6 + 0.16 * len(scores)), sharey=True,
                             squeeze=False)
    for ax, machine_id in zip(axes[0], ids):
        mask = ((table["machine_id"] == machine_id) & table["y"].notna()).to_numpy()
        for label, values in scores.items():
            fpr, tpr, _ = roc_curve(table["y"][mask], np.asarray(values)[mask])
            auc = auc_pauc(table["y"][mask], np.asarray(values)[mask], max_fpr)[0]
            ax.plot(fpr, tpr, label=f"{label} ({auc:.2f})")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.axvspan(0, max_fpr, color="grey", alpha=0.12)
        ax.set(title=machine_id, xlabel="false-positive rate")
        # under the panel: inside it (lower right) it covered the curves of scores that rank below chance
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25), title="score (AUC)", title_fontsize=7,
                  frameon=False)
    axes[0, 0].set_ylabel("true-positive rate")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_score_distributions(table: pd.DataFrame, scores: dict, title: str = "",
                             log_scale=("1-softmax", "neg log prob"), merge_identical: bool = True, bins: int = 15):
    """Histograms of each score for the normal vs anomalous test clips, **per machine id**: a grid with one row per
    score (``{label: [n] array}``, one value per row of ``table``) and one column per machine id that has labelled
    clips (``table["machine_id"]``, ``table["y"]``: 0, 1 or NaN; unlabelled clips are left out). Each panel's title
    gives that id's AUC (:func:`asd_utils.metrics.auc_pauc`), the number the DCASE evaluator averages: the ids'
    scores live on their own scales, which a histogram of all ids together would hide.

    Scores named in ``log_scale`` are shown as ``log10(score)`` (floored at 1e-17), where saturated clips pile up;
    the AUC is computed on the scores themselves. ``merge_identical``: of several scores that rank the clips
    identically only the first is drawn, titled ``"A = B"`` (:func:`merge_identical_rankings`). One legend, under
    the panels. Panels are about 2.6 x 2.0 inches so that the figure stays small in a stored notebook. A score
    whose length differs from the table's is a ``ValueError``. Returns the figure.

    Introduced in: notebooks/04_resnet_baseline.ipynb (reused by 05_stgramnet and 06_sepstgramnet)
    """
    import matplotlib.pyplot as plt

    for label, values in scores.items():
        if len(values) != len(table):
            raise ValueError(f"score {label!r} has {len(values)} values but the table has {len(table)} clips")
    if merge_identical:
        merged = merge_identical_rankings(scores)
        log_scale = tuple(log_scale) + tuple(k for k in merged if k.split(" = ")[0] in log_scale)
        scores = merged
    y = table["y"].to_numpy(dtype=float)
    machine = table["machine_id"].astype(str).to_numpy()
    ids = sorted(set(machine[np.isfinite(y)]))
    if not ids or not scores:
        raise ValueError(f"nothing to draw: {len(scores)} scores, {len(ids)} machine ids with labelled clips")
    width, height = 2.6 * len(ids), 2.0 * len(scores) + 0.6  # + room for the title and the legend
    fig, axes = plt.subplots(len(scores), len(ids), figsize=(width, height), squeeze=False)
    for row, (label, raw) in enumerate(scores.items()):
        raw = np.asarray(raw, dtype=float)
        shown = np.log10(np.maximum(raw, 1e-17)) if label in log_scale else raw
        for ax, machine_id in zip(axes[row], ids):
            own = (machine == machine_id) & np.isfinite(y)
            edges = np.histogram_bin_edges(shown[own & np.isfinite(shown)], bins=bins)
            for value, name in ((0.0, "normal"), (1.0, "anomaly")):
                ax.hist(shown[own & (y == value)], bins=edges, alpha=0.55, color=LABEL_COLORS[name], label=name)
            both = (y[own] == 0).any() and (y[own] == 1).any() and np.isfinite(raw[own]).all()
            auc = f": AUC {auc_pauc(y[own], raw[own])[0]:.3f}" if both else ""
            ax.set_title(f"{machine_id}{auc}", fontsize=9)
            ax.set_xlabel("log10(score)" if label in log_scale else "score", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.locator_params(axis="x", nbins=4)  # narrow panels: fewer x ticks, so their labels do not collide
        axes[row, 0].set_ylabel(f"{label}\ntest clips", fontsize=8)  # the row's score, once
    if title:
        fig.suptitle(title, fontsize=10)
    _legend_below(fig, axes[0, 0], 0.3 / height)
    return fig


def plot_block_diagram(boxes: dict[str, tuple[float, float, str]], arrows: list[tuple[str, str]], ax=None,
                       title: str | None = None, box_width: float = 1.6, box_height: float = 0.7):
    """A network's block diagram: ``boxes`` maps a name to ``(x, y, label)`` (the box centre, in box units; labels
    may have line breaks) and ``arrows`` lists ``(from name, to name)`` pairs, drawn from box edge to box edge.

    Introduced in: notebooks/06_sepstgramnet.ipynb
    """
    from matplotlib.patches import FancyBboxPatch

    ax = _axes(ax, figsize=(10, 3))
    for x, y, label in boxes.values():
        ax.add_patch(FancyBboxPatch(
            (x - box_width / 2, y - box_height / 2), box_width, box_height, boxstyle="round,pad=0.02",
            facecolor="whitesmoke", edgecolor="black", lw=1))
        ax.text(x, y, label, ha="center", va="center", fontsize=8)
    for start, end in arrows:
        (x0, y0, _), (x1, y1, _) = boxes[start], boxes[end]
        dx, dy = x1 - x0, y1 - y0
        # leave each box through the side facing the other box (the longer of the two offsets decides)
        sx, sy = (box_width / 2 * np.sign(dx), 0.0) if abs(dx) >= abs(dy) else (0.0, box_height / 2 * np.sign(dy))
        ax.annotate("", xy=(x1 - sx, y1 - sy), xytext=(x0 + sx, y0 + sy),
                    arrowprops={"arrowstyle": "->", "lw": 1, "color": "black"})
    xs, ys = [b[0] for b in boxes.values()], [b[1] for b in boxes.values()]
    ax.set(xlim=(min(xs) - box_width, max(xs) + box_width), ylim=(min(ys) - box_height * 1.2, max(ys) + box_height * 1.2))
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_p_id(runs: list["ClassifierRun"], threshold: float = 0.999):
    """Saturation check, one panel per run: histogram of ``log10(1 - softmax(z)[id])`` for normal vs anomalous test
    clips. Right: the classifier doubts the clip's id; left of the dashed line: ``p(id) > threshold``; at -17: ``1 - p``
    is exactly 0 in floating point, so Eq. 1 cannot rank those clips at all."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(4.6 * len(runs), 3.8), squeeze=False)
    for ax, run in zip(axes[0], runs):
        p, y = run.p_id, run.test_table["y"].to_numpy()
        values = np.log10(np.maximum(1.0 - p, 1e-17))
        bins = np.linspace(-17.5, 0.5, 37)
        for value, name, color in ((0, "normal", LABEL_COLORS["normal"]), (1, "anomaly", LABEL_COLORS["anomaly"])):
            ax.hist(values[y == value], bins=bins, alpha=0.55, color=color, label=name)
        ax.axvline(np.log10(1 - threshold), color="black", ls="--", lw=0.8, label=f"p(id) = {threshold}")
        ax.set(title=f"{run.name}\n{np.mean(p > threshold):.0%} of test clips have p(id) > {threshold}",
               xlabel="log10(1 - p(id))   (-17: exactly 1 - p = 0)", ylabel="test clips")
    _legend_below(fig, axes[0, 0], 0.08)  # inside the panels it covered the bars of saturated clips
    return fig


def plot_confusion(run: "ClassifierRun", ax=None):
    """Heat map of the test clips' id confusion matrix (counts), normal and anomalous clips together."""
    import matplotlib.pyplot as plt

    confusion = run.confusion()
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(confusion.to_numpy(), cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion.to_numpy()):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > confusion.to_numpy().max() / 2 else "black")
    ax.set(xticks=range(len(confusion)), yticks=range(len(confusion)), xticklabels=confusion.columns,
           yticklabels=confusion.index, xlabel="predicted id", ylabel="true id",
           title=f"{run.name}: id accuracy {run.id_accuracy():.1%}")
    return ax


def plot_training_curves(runs: list["ClassifierRun"]):
    """Training curves of classifier runs: the mean training loss per epoch (left) and, when the run watched
    held-out normal clips (``run_classifier(..., heldout=...)``), their id accuracy after each epoch (right)."""
    import matplotlib.pyplot as plt

    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.2))
    for run in runs:
        epochs = np.arange(1, len(run.history.train_loss) + 1)
        line, = loss_ax.plot(epochs, run.history.train_loss, marker="o", ms=3, label=run.name)
        watched = [m["heldout_id_accuracy"] for m in run.history.epoch_metrics]
        if watched:
            acc_ax.plot(epochs[:len(watched)], watched, marker="o", ms=3, color=line.get_color(), label=run.name)
    loss_ax.set(xlabel="epoch", ylabel="training loss (mean over the epoch)", title="loss")
    acc_ax.set(xlabel="epoch", ylabel="id accuracy", ylim=(0, 1.02), title="held-out normal clips (not trained on)")
    for ax in (loss_ax, acc_ax):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def pca_2d(embeddings, fit_on=None) -> tuple[np.ndarray, np.ndarray]:
    """The first two principal components of ``embeddings [N, D]``: ``(coordinates [N, 2], explained variance
    ratio [2])``. The axes are fitted on ``fit_on [M, D]`` (default: ``embeddings`` themselves), centred but not
    scaled; each axis's sign is fixed (its largest loading is positive), so the same data give the same picture.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """
    x = np.asarray(embeddings, dtype=np.float64)
    basis = x if fit_on is None else np.asarray(fit_on, dtype=np.float64)
    if basis.ndim != 2 or basis.shape[0] < 2 or x.ndim != 2 or x.shape[1] != basis.shape[1]:
        raise ValueError(f"need embeddings [N, D] and at least 2 rows to fit on, got {x.shape} and {basis.shape}")
    mean = basis.mean(axis=0)
    _, singular, vt = np.linalg.svd(basis - mean, full_matrices=False)
    axes = vt[:2] * np.sign(vt[:2][np.arange(min(2, len(vt))), np.argmax(np.abs(vt[:2]), axis=1)])[:, None]
    total = float((singular ** 2).sum())
    explained = singular[:2] ** 2 / total if total > 0 else np.zeros(len(axes))
    coords = (x - mean) @ axes.T
    if coords.shape[1] < 2:  # one-dimensional data: a zero second axis
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
        explained = np.pad(explained, (0, 2 - len(explained)))
    return coords, explained


def plot_embedding_map(embeddings, table: pd.DataFrame, ax=None, title: str | None = None, fit_on=None,
                       legend: bool = True):
    """Embedding map: the clips' embeddings ``[N, D]`` projected on their first two principal components
    (:func:`pca_2d`), one colour per machine id (``table["machine_id"]``), a circle for a normal clip, a cross for
    an anomalous one and a dot for an unlabelled one (``table["y"]``: 0, 1, NaN).

    Read it as a picture of what the distance scores see: clips of one id should form a cluster, and anomalies
    should sit at its edge or outside. Two dimensions keep only part of the variance (printed on the axes), so a
    cross inside a cluster here may still be far from it in the full space. The legend goes under the axes.
    Returns the ``Axes``.

    Introduced in: notebooks/04_resnet_baseline.ipynb (reused by 05_stgramnet and 06_sepstgramnet)
    """
    from matplotlib.lines import Line2D

    ax = _axes(ax, figsize=(5, 4.2))
    if len(embeddings) != len(table):
        raise ValueError(f"{len(embeddings)} embeddings for {len(table)} clips")
    coords, explained = pca_2d(embeddings, fit_on)
    ids = sorted(table["machine_id"].astype(str).unique())
    machine = table["machine_id"].astype(str).to_numpy()
    y = table["y"].to_numpy(dtype=float) if "y" in table.columns else np.full(len(table), np.nan)
    kinds = (("normal", y == 0, dict(marker="o", facecolors="none", s=22, linewidths=0.9)),
             ("anomalous", y == 1, dict(marker="x", s=22, linewidths=0.9)),
             ("unlabelled", ~np.isfinite(y), dict(marker=".", s=14)))
    for i, machine_id in enumerate(ids):
        for _, mask, style in kinds:
            rows = mask & (machine == machine_id)
            if rows.any():
                colour = {"edgecolors" if style.get("facecolors") == "none" else "color": f"C{i % 10}"}
                ax.scatter(coords[rows, 0], coords[rows, 1], alpha=0.75, **style, **colour)
    ax.set(xlabel=f"PC 1 ({explained[0]:.0%} of the variance)", ylabel=f"PC 2 ({explained[1]:.0%})")
    if title:
        ax.set_title(title)
    if legend:
        handles = [Line2D([], [], color=f"C{i % 10}", marker="s", ls="", label=m) for i, m in enumerate(ids)]
        handles += [Line2D([], [], color="grey", marker=style["marker"], ls="", label=name,
                           markerfacecolor="none" if style.get("facecolors") == "none" else "grey")
                    for name, mask, style in kinds if mask.any()]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(len(handles), 6),
                  fontsize=8, frameon=False)
    return ax
