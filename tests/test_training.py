"""The recipes of lesson 05: which one `recommended_for` picks, and that each one trains."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lenet_helpers import training
from lenet_helpers.models import seed_lenet5


@pytest.mark.parametrize("train_size, batch_size", [(900, 32), (3_600, 32), (19_999, 32), (20_000, 512),
                                                     (54_000, 512)])
def test_recommended_batch_size_follows_the_number_of_training_digits(train_size, batch_size):
    recipe = training.recommended_for(train_size)
    assert recipe.batch_size == batch_size
    assert recipe.optimizer == "Adam" and recipe.steps_per_execution == 16


def test_large_batches_get_a_learning_rate_matched_by_the_square_root_rule():
    small, large = training.RECOMMENDED, training.RECOMMENDED_LARGE
    assert math.isclose(large.learning_rate / small.learning_rate, math.sqrt(large.batch_size / small.batch_size))


@pytest.mark.parametrize("recipe", [training.ARTICLE, training.RECOMMENDED, training.RECOMMENDED_LARGE],
                         ids=lambda recipe: recipe.name)
def test_every_recipe_compiles_and_trains(recipe):
    rng = np.random.default_rng(0)
    x = rng.random((600, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 600)]
    split = training.Split(x[:500], y[:500], x[500:], y[500:], x[500:], y[500:])
    model = training.compile_model(seed_lenet5(), recipe)
    before = [w.copy() for w in model.get_weights()]
    history = training.fit(model, split, epochs=1, recipe=recipe)
    assert math.isclose(float(model.optimizer.learning_rate), recipe.learning_rate, rel_tol=1e-6)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
