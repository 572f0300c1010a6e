"""The recipes of lessons 06 and 08: which one `recommended_for` picks, and that each one trains as it says."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lenet_helpers import training
from lenet_helpers._tf import keras
from lenet_helpers.layers import PaperRBFLoss, RandomDistortion
from lenet_helpers.models import paper_lenet5, seed_lenet5


@pytest.mark.parametrize("train_size, batch_size", [(900, 32), (3_600, 32), (19_999, 32), (20_000, 512),
                                                     (54_000, 512)])
def test_recommended_batch_size_follows_the_number_of_training_digits(train_size, batch_size):
    recipe = training.recommended_for(train_size)
    assert recipe.batch_size == batch_size
    assert recipe.optimizer == "Adam" and recipe.steps_per_execution == 16
    assert recipe.distort and recipe.schedule == "cosine" and recipe.patience


def test_large_batches_get_a_learning_rate_matched_by_the_square_root_rule():
    small, large = training.RECOMMENDED, training.RECOMMENDED_LARGE
    assert math.isclose(large.learning_rate / small.learning_rate, math.sqrt(large.batch_size / small.batch_size))


def test_the_paper_recipe_is_the_papers_protocol():
    recipe = training.PAPER
    assert recipe.optimizer == "SDLM" and recipe.schedule == "paper" and recipe.epochs == 20
    assert recipe.batch_size == 1 and not recipe.distort and not recipe.patience  # one digit per update, 20 passes
    with pytest.raises(ValueError, match="go together"):
        training.Recipe("mixed", "Adam", 1e-3, 32, schedule="paper")
    with pytest.raises(ValueError, match="schedule must be"):
        training.Recipe("typo", "Adam", 1e-3, 32, schedule="cosin")


def _random_split(n_train=500, n_val=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n_train + n_val, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n_train + n_val)]
    return training.Split(x[:n_train], y[:n_train], x[n_train:], y[n_train:], x[n_train:], y[n_train:])


@pytest.mark.parametrize("recipe", [training.ARTICLE, training.RECOMMENDED, training.RECOMMENDED_LARGE],
                         ids=lambda recipe: recipe.name)
def test_every_recipe_compiles_and_trains(recipe):
    split = _random_split()
    model = training.compile_model(seed_lenet5(), recipe)
    before = [w.copy() for w in model.get_weights()]
    history = training.fit(model, split, epochs=1, recipe=recipe)
    assert math.isclose(float(model.optimizer.learning_rate), recipe.learning_rate, rel_tol=1e-6)
    assert np.isfinite(history.history["loss"][0]) and "val_accuracy" in history.history
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_distortions_train_the_model_without_becoming_part_of_it():
    model = training.compile_model(seed_lenet5(), training.RECOMMENDED)
    layers_before = [layer.name for layer in model.layers]
    trainer = training.with_distortions(model, seed=1)
    assert isinstance(trainer.layers[0], RandomDistortion) and trainer.layers[1] is model
    assert trainer.optimizer is model.optimizer and len(trainer.trainable_weights) == len(model.trainable_weights)
    training.fit(model, _random_split(), epochs=1, recipe=training.RECOMMENDED)
    assert [layer.name for layer in model.layers] == layers_before
    x = _random_split().x_test[:4]
    assert np.allclose(model.predict(x, verbose=0), model.predict(x, verbose=0))  # no distortion at inference
    with pytest.raises(ValueError, match="not compiled"):
        training.with_distortions(seed_lenet5())


def test_cosine_schedule_decays_to_near_zero_over_the_epochs():
    recipe = dataclasses.replace(training.RECOMMENDED, distort=False, patience=None)
    model = training.compile_model(seed_lenet5(), recipe)
    rates = []
    record = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: rates.append(
        float(model.optimizer.learning_rate)))
    training.fit(model, _random_split(200, 50), epochs=4, recipe=recipe, callbacks=[record])
    expected = [recipe.learning_rate * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(4)]
    assert np.allclose(rates, expected, rtol=1e-5)


def test_early_stopping_keeps_the_best_epochs_weights():
    # A learning rate far too high: validation loss gets worse after the first epoch, so training
    # stops and the weights of the best epoch come back.
    recipe = training.Recipe("too fast", "SGD", learning_rate=5.0, batch_size=50, patience=1, epochs=6)
    model = training.compile_model(seed_lenet5(), recipe)
    split = _random_split(300, 100)
    history = training.fit(model, split, recipe=recipe)
    val_losses = history.history["val_loss"]
    assert len(val_losses) < 6
    best = float(np.nanmin(val_losses))
    assert math.isclose(training.evaluate(model, split.x_val, split.y_val)["loss"], best, rel_tol=1e-4)


def test_the_paper_network_gets_the_papers_loss():
    model = training.compile_model(paper_lenet5(), training.RECOMMENDED)
    assert isinstance(model.loss, PaperRBFLoss)
    with pytest.raises(ValueError, match="needs? the RBF output"):
        training.compile_model(seed_lenet5(), training.PAPER)


def test_the_paper_recipe_trains_with_sdlm():
    from lenet_helpers.sdlm import SDLM

    keras.utils.set_random_seed(0)
    recipe = dataclasses.replace(training.PAPER, epochs=1)
    model = training.compile_model(paper_lenet5("keras"), recipe)
    split = _random_split(64, 16)
    before = [w.copy() for w in model.get_weights()]
    history = training.fit(model, split, recipe=recipe)
    assert isinstance(model.optimizer, SDLM) and np.isfinite(history.history["loss"][0])
    assert math.isclose(float(model.optimizer.learning_rate), 0.0005 * recipe.batch_size, rel_tol=1e-6)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_describe_recipe():
    assert training.describe_recipe(training.ARTICLE) == "SGD, learning rate 0.01, batch 128"
    assert training.describe_recipe(training.RECOMMENDED).startswith("Adam, learning rate 0.002, batch 32, distortions")
    assert training.describe_recipe(training.PAPER).startswith("SDLM, eta 0.0005 down to 1e-05 by pass, mu 0.02")
