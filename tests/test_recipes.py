"""Training recipes: one value per model and profile, changed one option at a time, stored as plain data."""
from __future__ import annotations

import dataclasses
import json

import pytest

from asd_utils import profiles
from asd_utils.recipes import ClassifierRecipe, TrainingRecipe


def test_replace_takes_notebook_parameters_as_they_are():
    recipe = ClassifierRecipe(epochs=10, batch_size=16, label_smoothing=0.1)
    changed = recipe.replace(EPOCHS=3, batch_size=None, LEARNING_RATE=1, label_smoothing=0)
    assert (changed.epochs, changed.batch_size, changed.learning_rate, changed.label_smoothing) == (3, 16, 1.0, 0.0)
    assert isinstance(changed.learning_rate, float) and isinstance(changed.label_smoothing, float)
    assert recipe.epochs == 10 and changed is not recipe  # a copy
    assert recipe.replace() == recipe
    with pytest.raises(ValueError, match="'EPOCH' is not a training option of ClassifierRecipe.*epochs"):
        recipe.replace(EPOCH=3)
    with pytest.raises(ValueError, match="crop_frames"):  # an autoencoder recipe has no crops
        TrainingRecipe().replace(crop_frames=64)
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipe.epochs = 1


@pytest.mark.parametrize("option, value", [("epochs", -1), ("batch_size", 0), ("learning_rate", 0.0)])
def test_a_recipe_that_cannot_train_is_refused_with_its_values(option, value):
    with pytest.raises(ValueError, match=f"training recipe needs .*{option}={value}"):
        TrainingRecipe(**{option: value})


def test_as_dict_is_plain_data_and_describe_marks_what_was_set_by_hand():
    recipe = profiles.classifier_recipe("course", "05")
    data = recipe.as_dict()
    assert list(data) == list(ClassifierRecipe.options()) and json.loads(json.dumps(data)) == data
    assert ClassifierRecipe(**data) == recipe  # back from metrics.json / a checkpoint
    assert TrainingRecipe.options() == ("epochs", "batch_size", "learning_rate", "cosine_decay")
    line = recipe.replace(epochs=2).describe(recipe)
    assert line.startswith("epochs 2 (set by hand), batch_size 16, learning_rate 0.001, cosine_decay True")
    assert "(set by hand)" not in recipe.describe(recipe) and "(set by hand)" not in recipe.describe()


def test_every_profile_has_a_recipe_for_every_model():
    for profile in profiles.PROFILE_NAMES:
        for notebook in profiles.CLASSIFIER_NOTEBOOKS:
            assert isinstance(profiles.classifier_recipe(profile, notebook), ClassifierRecipe)
        assert all(isinstance(r, TrainingRecipe) and not isinstance(r, ClassifierRecipe)
                   for r in profiles.ae_training(profile).values())


def test_registry_keys_name_one_model_each():
    """metrics.json and checkpoints name a model by its key alone, so the two families share no key."""
    from asd_utils.model_registry import AUTOENCODERS, CLASSIFIERS, MODELS

    assert not set(AUTOENCODERS) & set(CLASSIFIERS) and len(MODELS) == len(AUTOENCODERS) + len(CLASSIFIERS)
