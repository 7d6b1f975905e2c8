"""asd_utils.floors: floors asserted only on the course's own synthetic data with the course recipe; anywhere else a
weaker model is reported as not checked, never as broken."""
from __future__ import annotations

import pytest

from asd_utils import floors, synth

COURSE_INFO = {"seed": 0, "profile": "course", "machine_type": "slider", "generator_version": 2}


@pytest.fixture
def dataset_info(monkeypatch):
    """Pretend the data root holds the synthetic dataset described by ``info`` (None: not synthetic)."""
    def use(info):
        monkeypatch.setattr(synth, "synthetic_dataset_info", lambda root: info, raising=False)
    return use


def test_floors_are_asserted_on_the_course_data_with_the_course_recipe(dataset_info, capsys):
    dataset_info(COURSE_INFO)
    what, floor = floors.RESULT_FLOORS["dcase_ae"]
    floors.check_floors({"dcase_ae": floor, "resnet50_id_accuracy": None}, "course", "data/synthetic_course")
    assert capsys.readouterr().out.strip() == "result floors (asd_utils.floors): 1 of 2 checked, all reached"
    for bad in (floor - 0.001, 0.5, float("nan")):
        with pytest.raises(AssertionError, match=rf"DCASE AE \(Sequential\) mean AUC is .* below its floor {floor:.2f}"):
            floors.check_floors({"dcase_ae": bad}, "course", "data/synthetic_course")
    with pytest.raises(KeyError):
        floors.check_floors({"no such model": 0.9}, "course", "data/synthetic_course")


@pytest.mark.parametrize("profile, info, machine_type, reason", [
    ("tiny", COURSE_INFO, "slider", "calibrated on the 'course' recipe"),
    ("dcase", COURSE_INFO, "slider", "calibrated on the 'course' recipe"),
    ("course", None, "slider", "not the course's synthetic data"),
    ("course", {**COURSE_INFO, "machine_type": "fan"}, "fan", "synthetic 'slider' data, not 'fan'"),
    ("course", COURSE_INFO, "fan", "synthetic 'slider' data, not 'fan'"),
    ("course", {**COURSE_INFO, "profile": "dcase"}, "slider", "another size"),
])
def test_anywhere_else_a_weak_result_is_reported_not_asserted(dataset_info, capsys, profile, info, machine_type,
                                                               reason):
    dataset_info(info)
    floors.check_floors({"dcase_ae": 0.51}, profile, "data/x", machine_type)
    out = capsys.readouterr().out
    assert out.startswith("result floors not checked: ") and reason in out


def test_result_floors_lie_between_chance_and_the_measured_results():
    # chance: AUC 0.5, id accuracy 1/6; every floor at least 0.1 below the lowest value of seeds 0-2 (README)
    lowest = {"dcase_ae": 0.884, "resnet50_softmax": 0.660, "resnet50_id_accuracy": 0.961,
              "stgramnet_mahalanobis": 0.937, "stgramnet_id_accuracy": 0.983, "sepstgramnet_mahalanobis": 0.855,
              "sepstgramnet_id_accuracy": 0.994, "submitted_ae_eval": 0.865, "submitted_classifier_eval": 0.927}
    assert set(lowest) == set(floors.RESULT_FLOORS)
    for name, (_, floor) in floors.RESULT_FLOORS.items():
        assert 0.55 <= floor <= lowest[name] - 0.1 + 1e-9, name
