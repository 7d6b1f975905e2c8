"""Result floors: the least each trained model reaches on the course's own synthetic data, so that a broken model
fails ``make notebooks`` and ``make test`` instead of writing a plausible-looking table.

The floors were measured on one kind of data only (the ``course`` profile's synthetic slider rail, generator seeds
0-2, the ``course`` recipe), so they are asserted there only. On anything else (real recordings, another machine
type, the ``dcase``-size synthetic set, another recipe, the ``tiny`` smoke profile) a weaker result can be right,
and :func:`check_floors` only says that it did not check and why. Notebooks call it after saving their results.

Introduced in: notebooks/03_autoencoder_baselines.ipynb
"""
from __future__ import annotations

import math

#: ``{name: (what is measured, floor)}``. Each floor is about 0.1 below the lowest value measured on the course data
#: (generator seeds 0-2, ``benchmarks/bench_seeds.py`` and the stored notebooks; README "Results") and well above
#: what a model that learnt nothing gets (AUC 0.5, id accuracy 1/6). Notebook 07's classifier floor is the eval floor
#: of the classifier 07 chooses on dev.
RESULT_FLOORS: dict[str, tuple[str, float]] = {
    "dcase_ae": ("DCASE AE (Sequential) mean AUC", 0.78),
    "resnet50_softmax": ("ResNet50 · 1-softmax mean AUC", 0.56),
    "resnet50_id_accuracy": ("ResNet50 id accuracy (test clips)", 0.70),
    "stgramnet_mahalanobis": ("STgramNet (CE) · Mahalanobis mean AUC", 0.83),
    "stgramnet_id_accuracy": ("STgramNet (CE) id accuracy (test clips)", 0.80),
    "sepstgramnet_mahalanobis": ("SepSTgramNet (CE) · Mahalanobis mean AUC", 0.75),
    "sepstgramnet_id_accuracy": ("SepSTgramNet (CE) id accuracy (test clips)", 0.80),
    "submitted_ae_eval": ("submitted autoencoder: eval mean AUC", 0.76),
    "submitted_classifier_eval": ("submitted classifier: eval mean AUC", 0.82),
}
#: the one configuration the floors were calibrated on
FLOOR_PROFILE, FLOOR_MACHINE_TYPE = "course", "slider"


def why_floors_do_not_apply(profile: str, data_root, machine_type: str = "slider") -> str | None:
    """``None`` when the floors apply (the ``course`` recipe on the course's synthetic slider data, recognised from
    what ``asd_utils.synth`` wrote there), else the reason in a few words."""
    from .synth import synthetic_dataset_info

    if profile != FLOOR_PROFILE:
        return f"they were calibrated on the {FLOOR_PROFILE!r} recipe, this run uses {profile!r}"
    info = synthetic_dataset_info(data_root) if data_root is not None else None
    if info is None:
        return "these are not the course's synthetic data (real or own recordings can rightly score lower)"
    if info.get("machine_type") != machine_type or machine_type != FLOOR_MACHINE_TYPE:
        return f"they were calibrated on the synthetic {FLOOR_MACHINE_TYPE!r} data, not {machine_type!r}"
    if info.get("profile") != FLOOR_PROFILE:
        return f"they were calibrated on the {FLOOR_PROFILE!r}-size synthetic set, these data are another size"
    return None


def check_floors(values: dict[str, float | None], profile: str, data_root, machine_type: str = "slider") -> None:
    """Assert every ``{floor name: value}`` reaches its :data:`RESULT_FLOORS` entry where the floors apply, and print
    one line that does not depend on the values (nbval compares it). A ``None`` value (a model that did not run) is
    skipped. Raises AssertionError naming the model, the value and the floor; KeyError for an unknown name."""
    floors = {name: RESULT_FLOORS[name] for name in values}
    reason = why_floors_do_not_apply(profile, data_root, machine_type)
    if reason is not None:
        print(f"result floors not checked: {reason}")
        return
    missed = [f"{what} is {float(values[name]):.3f}, below its floor {floor:.2f}"
              for name, (what, floor) in floors.items()
              if values[name] is not None and not (math.isfinite(float(values[name])) and float(values[name]) >= floor)]
    if missed:
        raise AssertionError("; ".join(missed) + " (asd_utils.floors.RESULT_FLOORS, course data): the model is "
                         "broken, or its parameters were changed")
    checked = sum(value is not None for value in values.values())
    print(f"result floors (asd_utils.floors): {checked} of {len(values)} checked, all reached")
