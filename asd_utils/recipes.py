"""Training recipes: how a model trains, as one value that travels whole from a profile to the training functions,
metrics.json and the checkpoint.

The names are the DCASE 2020 baseline's YAML vocabulary (``epochs``, ``batch_size``) plus the course's options::

    TrainingRecipe(epochs, batch_size, learning_rate, cosine_decay)            every model (asd_utils.training.fit)
    ClassifierRecipe(... + n_train_per_id, pretrained, crop_frames, label_smoothing)   the machine-id classifiers

The values per profile and model live in :mod:`asd_utils.profiles`; a notebook gets its recipe there and changes one
option with :meth:`TrainingRecipe.replace`. This module imports no torch, so the command line reads recipes cheaply.

Introduced in: notebooks/03_autoencoder_baselines.ipynb (the classifiers' in 04_resnet_baseline)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class TrainingRecipe:
    """How long and how fast a model trains: Adam with ``learning_rate`` for ``epochs`` passes over the training
    items in batches of ``batch_size``; ``cosine_decay`` lowers the learning rate to 0 along a half cosine.

    Introduced in: notebooks/03_autoencoder_baselines.ipynb
    """

    epochs: int = 10
    batch_size: int = 16
    learning_rate: float = 1e-3
    cosine_decay: bool = False

    def __post_init__(self):
        if self.epochs < 0 or self.batch_size < 1 or not self.learning_rate > 0:
            raise ValueError(f"a training recipe needs epochs >= 0, batch_size >= 1 and learning_rate > 0, got "
                             f"epochs={self.epochs}, batch_size={self.batch_size}, learning_rate={self.learning_rate}")

    @classmethod
    def options(cls) -> tuple[str, ...]:
        """The option names, in the order :meth:`as_dict` and :meth:`describe` give them."""
        return tuple(f.name for f in fields(cls))

    def replace(self, **overrides):
        """A copy with ``overrides`` applied. Names may be upper case (a notebook's ``EPOCHS=3``); ``None`` keeps
        the recipe's value, so a notebook passes its parameters as they are and only those a student set win. An
        unknown name is a ``ValueError`` naming the known options."""
        changes = {}
        for name, value in overrides.items():
            key = name.lower()
            if key not in self.options():
                raise ValueError(f"{name!r} is not a training option of {type(self).__name__}; expected one of "
                                 f"{', '.join(self.options())}")
            if value is not None:
                current = getattr(self, key)
                changes[key] = float(value) if isinstance(current, float) else value
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """Plain data (metrics.json, checkpoints): ``{option: value}``."""
        return asdict(self)

    def describe(self, default: "TrainingRecipe | None" = None) -> str:
        """``"epochs 10, batch_size 16, ..."``, marking the options that differ from ``default`` ("set by hand")."""
        return ", ".join(f"{key} {value}" + (" (set by hand)" if default is not None and value != getattr(default, key)
                                             else "") for key, value in self.as_dict().items())


@dataclass(frozen=True)
class ClassifierRecipe(TrainingRecipe):
    """A machine-id classifier's recipe: a :class:`TrainingRecipe` plus the training clips per id
    (``n_train_per_id``, 0: all), ImageNet-initialised backbones (``pretrained``), random crops of ``crop_frames``
    log-mel frames (0: whole clips) and ``label_smoothing`` of the cross-entropy targets.

    Introduced in: notebooks/04_resnet_baseline.ipynb
    """

    n_train_per_id: int = 0
    pretrained: bool = False
    crop_frames: int = 0
    label_smoothing: float = 0.0
