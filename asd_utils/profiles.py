"""Named profiles: how big the synthetic dataset is and how long models train.

* ``tiny``   - unit tests and the papermill smoke runs (seconds).
* ``course`` - the default for the notebooks and the main command: every notebook trains in minutes on 2 CPU cores.
* ``dcase``  - the real DCASE 2020 Task 2 slider sizes and the reports' training settings.

Introduced in: notebooks/00_getting_started.ipynb
"""
from __future__ import annotations

from dataclasses import dataclass

from .data import SAMPLE_RATE
from .model_registry import CLASSIFIERS
from .recipes import ClassifierRecipe, TrainingRecipe

PROFILE_NAMES = ("tiny", "course", "dcase")
DEV_IDS = ("id_00", "id_02", "id_04")
EVAL_IDS = ("id_01", "id_03", "id_05")


@dataclass(frozen=True)
class SynthSizes:
    """Clip counts of one synthetic dataset, per machine id.

    ``dev_train[i]`` / ``dev_test_anomaly[i]`` belong to ``dev_ids[i]``; likewise for the eval ids.
    """

    dev_ids: tuple[str, ...] = DEV_IDS
    eval_ids: tuple[str, ...] = EVAL_IDS
    dev_train: tuple[int, ...] = (968, 968, 434)
    dev_test_normal: tuple[int, ...] = (100, 100, 100)
    dev_test_anomaly: tuple[int, ...] = (356, 267, 178)
    eval_train: tuple[int, ...] = (968, 968, 434)
    eval_test_normal: tuple[int, ...] = (100, 100, 100)
    eval_test_anomaly: tuple[int, ...] = (178, 178, 178)
    duration_s: float = 10.0
    sample_rate: int = SAMPLE_RATE

    def total_clips(self) -> int:
        return sum(self.dev_train + self.dev_test_normal + self.dev_test_anomaly
                   + self.eval_train + self.eval_test_normal + self.eval_test_anomaly)


SYNTH_PROFILES: dict[str, SynthSizes] = {
    "tiny": SynthSizes(dev_train=(12, 12, 12), dev_test_normal=(4, 4, 4), dev_test_anomaly=(4, 4, 4),
                       eval_train=(12, 12, 12), eval_test_normal=(4, 4, 4), eval_test_anomaly=(4, 4, 4)),
    "course": SynthSizes(dev_train=(100, 100, 50), dev_test_normal=(30, 30, 30), dev_test_anomaly=(36, 30, 24),
                         eval_train=(100, 100, 50), eval_test_normal=(30, 30, 30), eval_test_anomaly=(30, 30, 30)),
    "dcase": SynthSizes(),
}


def synth_sizes(profile: str) -> SynthSizes:
    """The :class:`SynthSizes` of a named profile, with a clear error for an unknown name."""
    try:
        return SYNTH_PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILE_NAMES)}") from None


def default_data_root(profile: str, seed: int = 0) -> str:
    """Where the synthetic dataset of ``profile`` (and ``seed``) lives, relative to the repository root.

    Seed 0 uses ``data/synthetic_<profile>``, any other seed its own folder, so that datasets never overwrite each
    other. These default roots are the only folders the course generates data in without being asked.
    """
    synth_sizes(profile)
    return f"data/synthetic_{profile}" + (f"_seed{seed}" if seed else "")


def default_root_of(data_root) -> tuple[str, int] | None:
    """``(profile, seed)`` when ``data_root`` is one of the default synthetic roots (:func:`default_data_root`),
    else ``None``: how a notebook opened on a fresh runtime knows which dataset to generate."""
    import re

    from .utils import resolve_path

    root = resolve_path(data_root)
    for profile in PROFILE_NAMES:
        base = resolve_path(default_data_root(profile))
        if root == base:
            return profile, 0
        match = re.fullmatch(rf"{re.escape(base.name)}_seed([1-9][0-9]*)", root.name)
        if match and root.parent == base.parent:
            return profile, int(match.group(1))
    return None


# Papermill parameters per profile: {profile: {"all": {...}, "03": {...}, ...}}. "all" applies to every notebook,
# a two-digit key to the notebook with that prefix (it wins over "all"). Training settings are not here: each
# notebook takes them from its PROFILE's recipe (CLASSIFIER_TRAINING, AE_TRAINING). The runner adds DATA_ROOT, OUTPUT_DIR, DEVICE and SEED itself and passes
# only the names a notebook declares in its `parameters` cell. Values must be literals (str, int, float, bool).
NOTEBOOK_PARAMETERS: dict[str, dict[str, dict]] = {
    "tiny": {
        "all": {"PROFILE": "tiny"},
        "00": {},
        "01": {},
        "02": {"N_TIMING_CLIPS": 8},
        "03": {},
        "07": {"N_BOOTSTRAP": 20},
    },
    "course": {"all": {"PROFILE": "course"}},
    # the reports' settings take hours on the real data's size: no optional retraining on top
    "dcase": {"all": {"PROFILE": "dcase"}, "05": {"RUN_EXPERIMENT": False}, "06": {"RUN_EXPERIMENT": False}},
}


def notebook_parameters(profile: str, notebook_stem: str) -> dict:
    """Papermill parameters of ``profile`` for one notebook: the profile's ``"all"`` entry updated by the entry of
    the notebook's two-digit prefix (``"03_autoencoder_baselines"`` -> ``"03"``). Returns a new dict.
    """
    synth_sizes(profile)  # clear error for an unknown profile
    table = NOTEBOOK_PARAMETERS.get(profile, {})
    prefix = str(notebook_stem)[:2]
    return {**table.get("all", {}), **table.get(prefix, {})}


# Training recipes of the machine-id classifiers (notebooks 04-06), per profile and model: every notebook reads its
# recipe from here through classifier_recipe(PROFILE, ...), and its parameters only override single options.
# `dcase` is the course report's Table I (Team 42: ResNet50 10 epochs / batch 32 / lr 1e-3, STgramNet 10 / 4 / 1e-4,
# SepSTgramNet 9 / 4 / 1e-3, ImageNet-initialised backbones, whole clips, constant learning rate, plain
# cross-entropy). `course` trains from random weights on a laptop CPU: random 2 s crops (crop_frames 64), batch 16,
# Adam at 1e-3 with a cosine decay to 0, label smoothing 0.1, 10 epochs for every network (notebook 05 explains each
# choice, notebook 06 section 7 why not more epochs). `tiny` only checks that the code runs.
# n_train_per_id = 0 uses every training clip; crop_frames = 0 whole clips (asd_utils.recipes.ClassifierRecipe).
#: classifier notebook ("04") -> the recipe key of the networks it trains (asd_utils.model_registry.CLASSIFIERS)
CLASSIFIER_NOTEBOOKS = {spec.notebook[:2]: spec.recipe for spec in CLASSIFIERS.values()}
_TINY = ClassifierRecipe(n_train_per_id=4, epochs=1, batch_size=4, learning_rate=1e-3)
_COURSE_STGRAM = ClassifierRecipe(epochs=10, batch_size=16, learning_rate=1e-3, crop_frames=64, cosine_decay=True,
                                  label_smoothing=0.1)
CLASSIFIER_TRAINING: dict[str, dict[str, ClassifierRecipe]] = {
    "tiny": {"resnet50": _TINY, "stgramnet": _TINY, "sepstgramnet": _TINY},
    "course": {
        "resnet50": ClassifierRecipe(epochs=10, batch_size=32, learning_rate=1e-3),
        "stgramnet": _COURSE_STGRAM,
        "sepstgramnet": _COURSE_STGRAM,
    },
    "dcase": {
        "resnet50": ClassifierRecipe(epochs=10, batch_size=32, learning_rate=1e-3, pretrained=True),
        "stgramnet": ClassifierRecipe(epochs=10, batch_size=4, learning_rate=1e-4, pretrained=True),
        "sepstgramnet": ClassifierRecipe(epochs=9, batch_size=4, learning_rate=1e-3, pretrained=True),
    },
}


def classifier_recipe(profile: str, notebook: str, **overrides) -> ClassifierRecipe:
    """The training recipe of classifier notebook ``"04"``, ``"05"`` or ``"06"`` under ``profile``
    (:data:`CLASSIFIER_TRAINING`), with ``overrides`` applied (:meth:`asd_utils.recipes.TrainingRecipe.replace`:
    ``EPOCHS=3`` or ``epochs=3``; ``None`` keeps the profile's value; an unknown option is a ``ValueError``). This is
    how ``PROFILE`` selects the training settings in every notebook, and why ``run --profile dcase`` and
    ``PROFILE = "dcase"`` train the same way.

    Introduced in: notebooks/04_resnet_baseline.ipynb
    """
    synth_sizes(profile)  # clear error for an unknown profile
    return CLASSIFIER_TRAINING[profile][CLASSIFIER_NOTEBOOKS[str(notebook)[:2]]].replace(**overrides)


def describe_recipe(profile: str, notebook: str, recipe: ClassifierRecipe) -> str:
    """One line naming the profile and every option of ``recipe``, marking those that differ from the profile's
    recipe for ``notebook`` (set by hand through a notebook parameter)."""
    return f"training recipe of the {profile!r} profile: " + recipe.describe(classifier_recipe(profile, notebook))


# Training settings of the autoencoders (notebook 03), per profile and model. `dcase` is the course report's table
# (Group 7, "AML Challenge II": Adam with lr 1e-3; Baseline 100 epochs / batch 1000, +BatchNorm and +Dropout 100 / 512,
# the Sequential model = the DCASE 2020 baseline AE 200 / 256). `course` keeps the batch sizes and the learning rate
# but trains only a few epochs (a few hundred Adam steps per machine id), so that notebook 03 runs in minutes on a
# laptop CPU (its header has the measured time); the Baseline gets one epoch more because its batches of 1000 give it
# the fewest steps. `tiny` only checks that the code runs. Keys: the notebook's model keys (MODEL_SPECS).
AE_MODELS = ("baseline", "batchnorm", "dropout", "dcase_ae")
AE_TRAINING: dict[str, dict[str, TrainingRecipe]] = {
    "tiny": {
        "baseline": TrainingRecipe(epochs=1, batch_size=1000, learning_rate=1e-3),
        "batchnorm": TrainingRecipe(epochs=1, batch_size=512, learning_rate=1e-3),
        "dropout": TrainingRecipe(epochs=1, batch_size=512, learning_rate=1e-3),
        "dcase_ae": TrainingRecipe(epochs=1, batch_size=256, learning_rate=1e-3),
    },
    "course": {
        "baseline": TrainingRecipe(epochs=3, batch_size=1000, learning_rate=1e-3),
        "batchnorm": TrainingRecipe(epochs=2, batch_size=512, learning_rate=1e-3),
        "dropout": TrainingRecipe(epochs=2, batch_size=512, learning_rate=1e-3),
        "dcase_ae": TrainingRecipe(epochs=4, batch_size=256, learning_rate=1e-3),
    },
    "dcase": {
        "baseline": TrainingRecipe(epochs=100, batch_size=1000, learning_rate=1e-3),
        "batchnorm": TrainingRecipe(epochs=100, batch_size=512, learning_rate=1e-3),
        "dropout": TrainingRecipe(epochs=100, batch_size=512, learning_rate=1e-3),
        "dcase_ae": TrainingRecipe(epochs=200, batch_size=256, learning_rate=1e-3),
    },
}


def ae_training(profile: str, **overrides) -> dict[str, TrainingRecipe]:
    """The autoencoders' training recipes ``{model key: TrainingRecipe}`` under ``profile`` (:data:`AE_TRAINING`),
    each with ``overrides`` applied as :func:`classifier_recipe` applies them (``None`` keeps the profile's value), and
    a clear error for an unknown profile.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """
    synth_sizes(profile)
    return {key: recipe.replace(**overrides) for key, recipe in AE_TRAINING[profile].items()}
