"""The reproduction scorecard: each claim of the two course reports, the course's value with the report's own score,
the course's best score for the same models, and a verdict in words.

Read from the committed results only: ``benchmarks/results/seeds.csv`` (mean AUC per generator seed 0-2, set, model
and score; ``benchmarks/bench_seeds.py``) and, for the claims about Group 7's four autoencoders, which only the
notebooks train, ``notebooks/results_summary.csv`` (the stored run, generator seed 0). Orders are judged on the mean
over seeds with the course's noise margin (:data:`asd_utils.claims.NOISE_AUC`): a difference below it is a tie. The
verdicts are the course size's; a column gives the same orders at the real data's size (``seeds_dcase.csv``, the
`dcase` profile's clip counts, development ids only, the course's recipe) where they were measured.

The reports' scores are the mean reconstruction error (Group 7) and Eq. 1, ``1 - softmax(z)[id]`` (Team 42).
Mahalanobis and kNN-cosine distances on a classifier's embedding are the course's additions (they come from later
DCASE systems, not from the reports).

Introduced in: notebooks/07_results_and_submission.ipynb (section "Reproduction scorecard") and README.md (Results)
"""
from __future__ import annotations

import pandas as pd

from .claims import NOISE_AUC, beats

REPORT_SCORE = {"DCASE AE": "mean error", "ResNet50": "1-softmax", "STgramNet (CE)": "1-softmax",
                "SepSTgramNet (CE)": "1-softmax"}
SCORE_NAMES = {"mean error": "mean error", "p95 error": "95th-percentile error", "1-softmax": "Eq. 1",
               "mahalanobis": "Mahalanobis", "knn_cosine": "kNN cosine"}
REAL_SIZE = "course at the real data's size, report's score"
COLUMNS = ["claim (report)", "report's value", "course, report's score (seeds 0-2)", "course, best score", REAL_SIZE,
           "verdict"]
VERDICT = COLUMNS[-1]
NOT_RUN = "not run at this size"
SETS = ("dev", "eval")


def _per_seed(seeds: pd.DataFrame, model: str, score: str | None) -> pd.DataFrame:
    """Mean AUC ``[seed x set]`` of ``model`` with ``score`` (None: its best score per seed and set)."""
    part = seeds[seeds["model"] == model]
    if score is not None:
        part = part[part["score"] == score]
    return part.groupby(["seed", "dataset"])["mean_auc"].max().unstack("dataset")


def best_score(seeds: pd.DataFrame, model: str) -> str:
    """The score of ``model`` with the highest mean AUC over seeds and sets (the course's best for that model)."""
    means = seeds[seeds["model"] == model].groupby("score")["mean_auc"].mean()
    return str(means.idxmax())


def _mean_std(values: pd.Series) -> str:
    return f"{values.mean():.3f} ± {values.std():.3f}" if len(values) > 1 else f"{values.mean():.3f}"


def _order(pairs: list[tuple[float, float]]) -> str:
    """``holds`` when every first value beats its second by more than the noise margin, ``reversed`` when any second
    value beats its first by more, else ``tie``."""
    if all(beats(a, b) for a, b in pairs):
        return "holds"
    if any(beats(b, a) for a, b in pairs):
        return "reversed"
    return "tie"


def verdict(report_order: str, best_order: str | None, best_name: str | None) -> str:
    """The verdict in words from the order with the report's score and with the course's best score."""
    other = f"{best_name}, the course's score" if best_name else None
    if report_order == "holds":
        return "reproduced"
    if report_order == "tie":
        return "within noise" + (f"; reproduced with {other}" if best_order == "holds" and other else "")
    if best_order == "holds" and other:
        return f"not reproduced with the report's score; reproduced only with {other}"
    return "not reproduced"


def _cells(seeds: pd.DataFrame, higher: str, lower: str, score_of) -> tuple[list[tuple[float, float]], str]:
    """Mean AUCs (higher-claimed, lower-claimed) per set, and their text with the number of seed x set cells where
    the order holds by more than the noise margin."""
    hi, lo = _per_seed(seeds, higher, score_of(higher)), _per_seed(seeds, lower, score_of(lower))
    pairs, text = [], []
    for dataset in SETS:
        if dataset in hi and dataset in lo:
            pairs.append((hi[dataset].mean(), lo[dataset].mean()))
            text.append(f"{dataset} {_mean_std(hi[dataset])} vs {_mean_std(lo[dataset])}")
    joined = hi.add_suffix("_hi").join(lo.add_suffix("_lo"), how="inner")
    cells = sum(int(joined[f"{d}_hi"].sub(joined[f"{d}_lo"]).gt(NOISE_AUC).sum()) for d in SETS if f"{d}_hi" in joined)
    total = sum(int(joined[f"{d}_hi"].notna().sum()) for d in SETS if f"{d}_hi" in joined)
    return pairs, "; ".join(text) + f" (ahead by > {NOISE_AUC} in {cells} of {total} seed x set cells)"


def _order_at_size(real_size: pd.DataFrame | None, higher: str, lower: str) -> str:
    """The claimed order with the reports' scores at the real data's size: the means and, after a colon, holds /
    tie / reversed; or :data:`NOT_RUN` when either model was not trained there."""
    if real_size is None or not {higher, lower} <= set(real_size["model"]):
        return NOT_RUN
    pairs, text = _cells(real_size, higher, lower, REPORT_SCORE.get)
    return f"{text}: {_order(pairs)}"


def _order_row(seeds, claim, report_value, higher, lower, real_size=None) -> dict:
    report_pairs, report_text = _cells(seeds, higher, lower, REPORT_SCORE.get)
    best = {m: best_score(seeds, m) for m in (higher, lower)}
    best_pairs, best_text = _cells(seeds, higher, lower, best.get)
    changed = any(best[m] != REPORT_SCORE[m] for m in best)
    names = ", ".join(f"{m} {SCORE_NAMES.get(best[m], best[m])}" for m in (higher, lower))
    best_name = " / ".join(sorted({SCORE_NAMES.get(best[m], best[m]) for m in best if best[m] != REPORT_SCORE[m]}))
    return {COLUMNS[0]: claim, COLUMNS[1]: report_value, COLUMNS[2]: report_text,
            COLUMNS[3]: f"{names}: {best_text}" if changed else "(the report's score is the best)",
            REAL_SIZE: _order_at_size(real_size, higher, lower),
            VERDICT: verdict(_order(report_pairs), _order(best_pairs) if changed else None,
                             best_name if changed else None)}


def _ae_level(seeds: pd.DataFrame, low: float, high: float) -> tuple[str, str]:
    """The DCASE AE's dev mean AUC in words, and ``inside`` / ``above`` / ``below`` the report's range (with the
    noise margin)."""
    auc = _per_seed(seeds, "DCASE AE", "mean error")["dev"]
    where = ("below" if auc.mean() < low - NOISE_AUC else "above" if auc.mean() > high + NOISE_AUC else "inside")
    return f"DCASE AE dev {_mean_std(auc)}", where


def _ae_level_row(seeds: pd.DataFrame, low: float, high: float, real_size=None) -> dict:
    text, where = _ae_level(seeds, low, high)
    at_size = NOT_RUN
    if real_size is not None and "DCASE AE" in set(real_size["model"]):
        size_text, size_where = _ae_level(real_size, low, high)
        at_size = f"{size_text}: {size_where} the report's range"
    return {COLUMNS[0]: "the autoencoders reach 0.877-0.894 dev mean AUC (Group 7, mean error)",
            COLUMNS[1]: f"{low:.3f}-{high:.3f}", COLUMNS[2]: text, COLUMNS[3]: "(the report's score is the best)",
            REAL_SIZE: at_size, VERDICT: "reproduced" if where == "inside" else "not reproduced"}


def _batchnorm_row(course: pd.DataFrame, report: dict[str, float]) -> dict:
    dev = course[course["dataset"] == "dev"].set_index("model")["mean_auc"]
    bn, base = dev.get("+BatchNorm"), dev.get("Baseline (VAE)")
    found = bn is not None and base is not None
    order = _order([(bn, base)]) if found else "missing"
    return {COLUMNS[0]: "+BatchNorm above Baseline (Group 7, dev mean AUC)",
            COLUMNS[1]: f"{report['+BatchNorm']:.3f} vs {report['Baseline (VAE)']:.3f}",
            COLUMNS[2]: f"{bn:.3f} vs {base:.3f} (stored run, generator seed 0 only)" if found else "not run",
            COLUMNS[3]: "(the report's score is the best)", REAL_SIZE: NOT_RUN + " (only notebook 03 trains it)",
            VERDICT: (verdict(order, None, None) + " (one seed)") if found else "not measured"}


def _dev_eval_means(seeds: pd.DataFrame, models: list[str], score_of,
                    named: bool = False) -> tuple[list[tuple[float, float]], list[str]]:
    """(dev, eval) mean AUC over seeds of each model with ``score_of(model)``, and their text (with the score's name
    when ``named``)."""
    pairs, texts = [], []
    for model in models:
        score = score_of(model)
        auc = _per_seed(seeds, model, score)
        pairs.append((auc["dev"].mean(), auc["eval"].mean()))
        name = f"{model} {SCORE_NAMES.get(score, score)}" if named else model
        texts.append(f"{name} {pairs[-1][0]:.3f} / {pairs[-1][1]:.3f}")
    return pairs, texts


def _eval_below_dev_row(seeds: pd.DataFrame, real_size=None) -> dict:
    models = [m for m in ("ResNet50", "STgramNet (CE)", "SepSTgramNet (CE)") if m in set(seeds["model"])]
    report_pairs, texts = _dev_eval_means(seeds, models, REPORT_SCORE.get)
    best_pairs, best_texts = _dev_eval_means(seeds, models, lambda m: best_score(seeds, m), named=True)
    at_size = "no evaluation test clips at this size"
    if real_size is not None and set(SETS) <= set(real_size["dataset"]):
        size_pairs, size_texts = _dev_eval_means(real_size, [m for m in models if m in set(real_size["model"])],
                                                 REPORT_SCORE.get)
        at_size = f"dev / eval means: {'; '.join(size_texts)}: {_order(size_pairs)}" if size_pairs else NOT_RUN
    return {COLUMNS[0]: "the evaluation ids score below the development ids (Team 42, every model)",
            COLUMNS[1]: "dev / eval 0.867 / 0.753, 0.943 / 0.876, 0.991 / 0.918",
            COLUMNS[2]: "dev / eval means: " + "; ".join(texts), COLUMNS[3]: "; ".join(best_texts),
            REAL_SIZE: at_size, VERDICT: verdict(_order(report_pairs), _order(best_pairs), "the best scores")}


def reproduction_scorecard(seeds: pd.DataFrame, course: pd.DataFrame, literature: pd.DataFrame,
                           real_size: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim of the two reports (:data:`COLUMNS`), from the seed results (``seeds.csv``), the stored
    course run (``results_summary.csv``), the literature table (:data:`asd_utils.literature.LITERATURE_RESULTS`) and,
    for the :data:`REAL_SIZE` column, the seed results at the real data's size (``seeds_dcase.csv``; ``None``: not
    run)."""
    group7 = literature[literature["source"] == "Group 7 report"].set_index("model")["dev_auc"]
    team42 = literature[literature["source"].str.startswith("Team 42")].set_index("model")
    t42 = {m: f"{team42.loc[m, 'dev_auc']:.3f} / {team42.loc[m, 'eval_auc']:.3f}"
           for m in ("ResNet50 (baseline)", "STgramNet", "SepSTgramNet")}
    rows = [
        _ae_level_row(seeds, group7.min(), group7.max(), real_size),
        _batchnorm_row(course, group7.to_dict()),
        _order_row(seeds, "STgramNet above ResNet50 with Eq. 1 (Team 42)",
                   f"{t42['STgramNet']} vs {t42['ResNet50 (baseline)']} (dev / eval)", "STgramNet (CE)", "ResNet50",
                   real_size),
        _order_row(seeds, "SepSTgramNet above STgramNet with Eq. 1 (Team 42)",
                   f"{t42['SepSTgramNet']} vs {t42['STgramNet']} (dev / eval)", "SepSTgramNet (CE)", "STgramNet (CE)",
                   real_size),
        _order_row(seeds, "the classifiers above the autoencoders (Team 42 with Eq. 1 vs Group 7)",
                   f"STgramNet {t42['STgramNet']} vs the AEs' {group7.min():.3f}-{group7.max():.3f} (dev)",
                   "STgramNet (CE)", "DCASE AE", real_size),
        _eval_below_dev_row(seeds, real_size),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def scorecard_summary(scorecard: pd.DataFrame) -> str:
    """The scorecard's reading in a few sentences (the README's and notebook 07's summary), from its verdicts."""
    groups: dict[str, list[str]] = {}
    for claim, text in zip(scorecard[COLUMNS[0]], scorecard[VERDICT]):
        key = ("reproduced only with a score the course added (a distance on the classifier's embedding)"
               if "reproduced only with" in text else "within noise" if text.startswith("within")
               else "reproduced" if text.startswith("reproduced") else "not reproduced")
        groups.setdefault(key, []).append(claim)
    order = ["reproduced", "within noise",
             "reproduced only with a score the course added (a distance on the classifier's embedding)",
             "not reproduced"]
    parts = [f"{key[0].upper() + key[1:]} ({len(groups[key])} of {len(scorecard)}): {'; '.join(groups[key])}."
             for key in order if key in groups]
    return ("Judged on the synthetic course data (mean over generator seeds 0-2; the +BatchNorm row on seed 0 only), "
            "with the reports' own scores unless said otherwise. " + " ".join(parts) + real_size_summary(scorecard))


#: the endings of a :data:`REAL_SIZE` cell that judge the claim (a tie is told as "within noise")
_AT_SIZE_ENDINGS = {"holds", "tie", "reversed",
                    *(f"{where} the report's range" for where in ("inside", "above", "below"))}


def real_size_summary(scorecard: pd.DataFrame) -> str:
    """One sentence on the claims measured at the real data's size (the :data:`REAL_SIZE` column), or ``""``."""
    told = []
    for claim, cell in zip(scorecard[COLUMNS[0]], scorecard.get(REAL_SIZE, [])):
        head, _, word = str(cell).rpartition(": ")
        if head and word in _AT_SIZE_ENDINGS:
            told.append(f"{claim}: {'within noise' if word == 'tie' else word}")
    return (" At the real data's size (the `dcase` profile's clip counts, the course's recipe, development ids), with "
            f"the reports' scores: {'; '.join(told)}." if told else "")


def bar_summary(seeds: pd.DataFrame, where: str = "") -> str:
    """How the course's training-free bar (the mean-spectrum Gaussian) compares with the DCASE AE and the best learned
    model-and-score, over the seeds: one sentence (after ``where``, e.g. "At the real data's size"), or ``""`` when
    the seed results have no Gaussian rows."""
    bar = _per_seed(seeds, "mean-spectrum Gaussian", "mahalanobis")
    if bar.empty:
        return ""
    ae = _per_seed(seeds, "DCASE AE", "mean error")
    learned = seeds[~seeds["model"].isin(["training-free", "mean-spectrum Gaussian"])]
    means = learned.groupby(["model", "score"])["mean_auc"].mean()
    model, score = means.idxmax()
    best = _per_seed(seeds, model, score)
    sets = [d for d in SETS if d in bar and d in ae and d in best]
    above_ae = sum(int((bar[d] - ae[d]).gt(NOISE_AUC).sum()) for d in sets)
    cells = sum(int(bar[d].notna().sum()) for d in sets)
    gaps = {d: bar[d].mean() - best[d].mean() for d in sets}
    relation = ("ties with" if all(abs(g) <= NOISE_AUC for g in gaps.values())
                else "beats" if all(g > NOISE_AUC for g in gaps.values())
                else "trails" if all(g < -NOISE_AUC for g in gaps.values()) else "is mixed against")
    return (f"{where + ', t' if where else 'T'}he course's training-free bar, the mean-spectrum Gaussian, reaches "
            f"{' / '.join(f'{bar[d].mean():.3f}' for d in sets)} ({' / '.join(sets)}, mean over seeds): above the "
            f"DCASE AE by more than {NOISE_AUC} in {above_ae} of {cells} seed x set cells, and it {relation} the best "
            f"learned model-and-score ({model} · {SCORE_NAMES.get(score, score)}, "
            f"{' / '.join(f'{best[d].mean():.3f}' for d in sets)}).")
