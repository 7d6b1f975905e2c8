"""Notebook 07's choice of the models to retrain on the evaluation ids, from the development results of 03-06.

Introduced in: notebooks/07_results_and_submission.ipynb
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .model_registry import AUTOENCODERS, CLASSIFIERS, SCORE_LABELS, autoencoder_key


@dataclass
class ModelChoice:
    """What notebook 07 retrains on the evaluation ids, and why: an autoencoder (``ae_key`` of
    :data:`asd_utils.model_registry.AUTOENCODERS`) and a classifier (``classifier`` of
    :data:`asd_utils.model_registry.CLASSIFIERS`) with one score (``score`` of
    :data:`asd_utils.model_registry.SCORE_LABELS`). ``*_dev_name``: the development result each was chosen by (None
    when there is none); ``network``: the classifier's name, its dev result's (e.g. ``"ResNet50 (random
    features)"``), else the registry's; ``left_out``: networks with dev results that ``candidates`` excluded;
    ``within_one_se``: for
    ``"autoencoder"`` and ``"classifier"``, the dev results the one-standard-error rule chose among (empty without
    standard errors)."""

    ae_key: str
    ae_reason: str
    classifier: str
    score: str
    classifier_reason: str
    ae_dev_name: str | None = None
    classifier_dev_name: str | None = None
    network: str = ""
    left_out: list[str] = field(default_factory=list)
    within_one_se: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ae_name(self) -> str:
        return AUTOENCODERS[self.ae_key].name


def _best(results: dict) -> str:
    return max(results, key=lambda name: results[name]["mean_auc"])


def _within_one_se(results: dict, standard_errors: dict[str, float]) -> list[str]:
    """The results whose mean AUC is within one standard error (of the best result) of the best."""
    best = _best(results)
    floor = results[best]["mean_auc"] - standard_errors.get(best, 0.0)
    return [name for name in results if results[name]["mean_auc"] >= floor]


def _one_se_choice(results: dict, standard_errors: dict[str, float]) -> str:
    """The one-standard-error rule: among :func:`_within_one_se`, the simplest (fewest ``n_params``, to two significant
    digits; ties, e.g. two scores of one network: the higher mean AUC). Parameters, not training seconds: they do not
    change from one run or machine to the next."""
    close = _within_one_se(results, standard_errors)
    # sizes to two significant digits: a head of a few parameters more is the same size of model
    return min(close, key=lambda name: (float(f"{results[name].get('n_params', 0):.2g}"), -results[name]["mean_auc"]))


def choose_models(dev_metrics: dict[str, dict], ae_model: str = "auto", classifier: str = "auto",
                  score: str = "auto", candidates: str = "all",
                  standard_errors: dict[str, float] | None = None) -> ModelChoice:
    """Notebook 07's choice, by development mean AUC, of the models to retrain on the evaluation ids.

    ``dev_metrics``: ``{model name: metrics.json entry + "notebook": its stem}`` of notebooks 03-06 (an entry's
    ``model`` key says which registry model it is; entries of other models are left out). ``"auto"`` picks the best
    autoencoder and the best (classifier, score) among ``candidates`` (``"all"`` or
    comma-separated :data:`asd_utils.model_registry.CLASSIFIERS` keys; ``score`` other than ``"auto"`` restricts the
    scores). With ``standard_errors`` (``{model name: standard error of its dev mean AUC}``, e.g. from
    :func:`asd_utils.metrics.bootstrap_mean_auc`), "best" follows the one-standard-error rule: the smallest model
    among those within one standard error of the best (a difference smaller than the noise is no reason to pay for a
    bigger model). A named ``ae_model``/``classifier`` is taken as is (the classifier's score: ``score``, else
    its best on dev, else Mahalanobis). Without development results: the DCASE AE and STgramNet with the Mahalanobis
    score.
    """
    within: dict[str, list[str]] = {}
    pick = _best if standard_errors is None else (lambda results: _one_se_choice(results, standard_errors))
    best_reason = "best dev mean AUC" if standard_errors is None else \
        "smallest model within one standard error of the best dev mean AUC"
    ae_results = {n: m for n, m in dev_metrics.items()  # (not notebook 03's other readings of one AE, e.g. its p95 error)
                  if m.get("model") in AUTOENCODERS and m["score"] == "mean_error"}
    cls_results = {n: m for n, m in dev_metrics.items() if m.get("model") in CLASSIFIERS}
    if ae_model != "auto":
        ae_key, ae_reason = autoencoder_key(ae_model), "set by AE_MODEL"
    elif ae_results:
        ae_key = ae_results[pick(ae_results)]["model"]
        ae_reason = f"{best_reason} of notebook {AUTOENCODERS[ae_key].notebook[:2]}"
        if standard_errors is not None:
            within["autoencoder"] = _within_one_se(ae_results, standard_errors)
    else:
        ae_key, ae_reason = "dcase_ae", "default: notebook 03's results are missing"

    allowed = list(CLASSIFIERS) if candidates == "all" else [k.strip() for k in candidates.split(",") if k.strip()]
    unknown = [key for key in allowed + ([classifier] if classifier != "auto" else []) if key not in CLASSIFIERS]
    if unknown:
        raise ValueError(f"unknown classifier(s) {unknown}; expected some of {list(CLASSIFIERS)}")
    if score != "auto" and score not in SCORE_LABELS:
        raise ValueError(f"unknown score {score!r}; expected 'auto' or one of {list(SCORE_LABELS)}")
    recipe_of = {n: (m["model"], m["score"]) for n, m in cls_results.items()}
    left_out = []
    if classifier != "auto":
        matching = {n: m for n, m in cls_results.items() if recipe_of[n][0] == classifier}
        score = score if score != "auto" else recipe_of[_best(matching)][1] if matching else "mahalanobis"
        reason = "set by CLASSIFIER"
    else:
        pool = {n: m for n, m in cls_results.items()
                if recipe_of[n][0] in allowed and score in ("auto", recipe_of[n][1])}
        if pool:
            (classifier, score) = recipe_of[pick(pool)]
            taught_in = sorted({CLASSIFIERS[k].notebook[:2] for k in allowed})
            span = f"notebook {taught_in[0]}" if len(taught_in) == 1 else f"notebooks {taught_in[0]}-{taught_in[-1]}"
            reason = f"{best_reason} of {span}"
            if standard_errors is not None:
                within["classifier"] = _within_one_se(pool, standard_errors)
        else:
            classifier, score = "stgramnet", "mahalanobis" if score == "auto" else score
            reason = "default: no development results of notebooks 04-06 among the candidates"
        left_out = sorted({m["network"] for n, m in cls_results.items() if recipe_of[n][0] not in allowed})
    dev_name = next((n for n in cls_results if recipe_of[n] == (classifier, score)), None)
    return ModelChoice(ae_key, ae_reason, classifier, score, reason,
                       ae_dev_name=AUTOENCODERS[ae_key].name if AUTOENCODERS[ae_key].name in ae_results else None,
                       classifier_dev_name=dev_name,
                       network=cls_results[dev_name]["network"] if dev_name else CLASSIFIERS[classifier].name,
                       left_out=left_out, within_one_se=within)
