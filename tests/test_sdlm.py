"""lenet_helpers.sdlm: the paper's schedule, SDLM's step, and the Gauss-Newton diagonal against exact references."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_helpers import sdlm
from lenet_helpers._tf import keras, tf


@pytest.mark.parametrize("passes, eta", [((1, 2), 0.0005), ((3, 4, 5), 0.0002), ((6, 7, 8), 0.0001),
                                         ((9, 10, 11, 12), 0.00005), ((13, 14, 20, 40), 0.00001)])
def test_eta_schedule_is_appendix_cs(passes, eta):
    assert all(sdlm.paper_eta(p) == eta for p in passes)


def test_paper_constants():
    assert sdlm.MU == 0.02 and sdlm.CURVATURE_PATTERNS == 500 and sdlm.PASSES == 20
    with pytest.raises(ValueError, match="from 1"):
        sdlm.paper_eta(0)


def test_sdlm_step_is_eta_over_mu_plus_h_times_the_gradient():
    w = keras.Variable(np.array([1.0, -2.0, 0.5], dtype="float32"))
    gradient = np.array([0.3, -1.0, 2.0], dtype="float32")
    h = np.array([0.0, 0.5, 10.0], dtype="float32")
    optimizer = sdlm.SDLM(learning_rate=0.001, mu=0.02)
    optimizer.set_curvature([w], [h])
    optimizer.apply_gradients([(tf.constant(gradient), w)])
    expected = np.array([1.0, -2.0, 0.5]) - 0.001 / (0.02 + h) * gradient
    assert np.allclose(np.asarray(w), expected, rtol=1e-6)
    assert np.allclose(optimizer.curvature(w), h)


def test_sdlm_minimises_a_quadratic_like_newton_when_h_is_the_curvature():
    # E(w) = 0.5 * c * (w - 3)^2: gradient c (w - 3), exact second derivative c
    c = np.array([4.0, 0.1], dtype="float32")
    w = keras.Variable(np.zeros(2, dtype="float32"))
    optimizer = sdlm.SDLM(learning_rate=1.0, mu=1e-6)
    optimizer.set_curvature([w], [c])
    optimizer.apply_gradients([(tf.constant(c * (np.asarray(w) - 3.0)), w)])
    assert np.allclose(np.asarray(w), 3.0, atol=1e-4)  # one Newton step lands on the minimum


def test_set_curvature_rejects_bad_shapes():
    w = keras.Variable(np.zeros((2, 2), dtype="float32"))
    with pytest.raises(ValueError, match="shape"):
        sdlm.SDLM().set_curvature([w], [np.zeros(3)])
    with pytest.raises(ValueError, match="non-negative"):
        sdlm.SDLM().set_curvature([w], [-np.ones((2, 2))])


def _tiny_model(units: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh", name="hidden"),
                             keras.layers.Dense(units, activation="tanh", name="F6")])


def _exact_gauss_newton_diagonal(model, x):
    """2 * mean over patterns of sum over F6 units of (dx_j/dw)^2, from full per-pattern Jacobians."""
    totals = [np.zeros(v.shape) for v in model.trainable_variables]
    for pattern in x:
        with tf.GradientTape() as tape:
            outputs = model(pattern[None])[0]
        for jacobian, total in zip(tape.jacobian(outputs, model.trainable_variables), totals):
            total += (np.asarray(jacobian) ** 2).sum(axis=0)
    return [2 * total / len(x) for total in totals]


def test_gauss_newton_diagonal_is_exact_with_one_output_unit():
    model = _tiny_model(units=1)  # v . x = +-x: no estimation noise
    x = np.random.default_rng(0).normal(size=(12, 5)).astype("float32")
    for got, exact in zip(sdlm.gauss_newton_diagonal(model, x), _exact_gauss_newton_diagonal(model, x)):
        assert np.allclose(got, exact, rtol=1e-4, atol=1e-7)


def test_gauss_newton_diagonal_is_unbiased_with_several_units():
    model = _tiny_model(units=6)
    x = np.random.default_rng(1).normal(size=(8, 5)).astype("float32")
    exact = _exact_gauss_newton_diagonal(model, x)
    # 400 random sign vectors for each of the 8 patterns: the estimate averages to the exact diagonal
    estimate = sdlm.gauss_newton_diagonal(model, np.repeat(x, 400, axis=0), seed=2)
    for got, want in zip(estimate, exact):
        assert np.allclose(got, want, rtol=0.15, atol=1e-6)


def test_paper_schedule_sets_eta_and_curvature_before_every_pass():
    from lenet_helpers.layers import PaperRBFLoss, RBFOutput

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(84, activation="tanh", name="F6"), RBFOutput()])
    model.compile(optimizer=sdlm.SDLM(), loss=PaperRBFLoss())
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6)).astype("float32"), np.eye(10, dtype="float32")[rng.integers(0, 10, 40)]
    lines = []
    schedule = sdlm.PaperSchedule(model, x, patterns_per_step=4, patterns=20, print_fn=lines.append)
    etas = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: etas.append(float(model.optimizer.learning_rate)))
    model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[schedule, record])
    assert np.allclose(etas, [4 * 0.0005, 4 * 0.0005, 4 * 0.0002])
    assert lines[0].startswith("pass 1: eta 0.0005") and "on 20 patterns" in lines[0]
    assert all(model.optimizer.curvature(v).max() > 0 for v in model.trainable_variables)
