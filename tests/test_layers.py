"""The paper's layers against independent references: masked Conv2D, AveragePooling2D, NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_helpers._tf import keras
from lenet_helpers.data import prepare
from lenet_helpers.layers import (
    TABLE_I,
    PartialConv2D,
    RBFOutput,
    ScaledTanh,
    Subsampling2D,
    digit_codes,
    rbf_accuracy,
    rbf_loss,
)
from lenet_helpers.models import paper_lenet5

RNG = np.random.default_rng(0)


def test_table_i():
    assert TABLE_I.shape == (6, 16)
    assert TABLE_I.sum(axis=0).tolist() == [3] * 6 + [4] * 9 + [6]
    assert np.flatnonzero(TABLE_I[:, 14]).tolist() == [0, 2, 3, 5]


def test_partial_conv_equals_masked_full_conv():
    layer = PartialConv2D(table=TABLE_I, kernel_size=5)
    x = RNG.normal(size=(2, 14, 14, 6)).astype("float32")
    got = np.asarray(layer(x))
    assert layer.count_params() == 1_516
    kernel = np.asarray(layer.full_kernel())
    assert np.all(kernel[:, :, ~TABLE_I] == 0), "unconnected kernels must be exactly zero"
    reference = keras.layers.Conv2D(16, 5)
    reference.build((None, 14, 14, 6))
    reference.set_weights([kernel * TABLE_I[None, None], np.asarray(layer.bias)])
    assert np.allclose(got, np.asarray(reference(x)), atol=1e-5)


def _train_briefly(model, x, y, steps=3):
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.fit(x, y, epochs=steps, verbose=0)


def test_unconnected_input_has_no_effect_before_and_after_training():
    inputs = keras.Input((14, 14, 6))
    model = keras.Model(inputs, PartialConv2D(name="C3")(inputs))
    x = RNG.normal(size=(4, 14, 14, 6)).astype("float32")
    changed = x.copy()
    changed[..., 3] += 5.0  # S2 map 3 feeds C3 maps 1, 2, 3, ... but not 0
    unaffected = ~TABLE_I[3]
    for _ in range(2):
        before, after = np.asarray(model(x)), np.asarray(model(changed))
        assert np.array_equal(before[..., unaffected], after[..., unaffected])
        assert not np.allclose(before[..., ~unaffected], after[..., ~unaffected])
        _train_briefly(model, x, RNG.normal(size=(4, 10, 10, 16)).astype("float32"))
    assert np.all(np.asarray(model.get_layer("C3").full_kernel())[:, :, ~TABLE_I] == 0)


def test_subsampling_equals_average_pooling_times_four():
    layer = Subsampling2D(pool_size=2)
    x = RNG.normal(size=(2, 28, 28, 6)).astype("float32")
    layer.build(x.shape)
    coefficient, bias = RNG.normal(size=6).astype("float32"), RNG.normal(size=6).astype("float32")
    layer.set_weights([coefficient, bias])
    reference = np.asarray(keras.layers.AveragePooling2D(2)(x)) * 4 * coefficient + bias
    assert np.allclose(np.asarray(layer(x)), reference, atol=1e-5)
    assert layer.count_params() == 12


def test_scaled_tanh():
    a = np.linspace(-3, 3, 13).astype("float32")
    assert np.allclose(np.asarray(ScaledTanh()(a)), 1.7159 * np.tanh(2 * a / 3), atol=1e-6)
    assert abs(float(np.asarray(ScaledTanh()(np.float32(1.0)))) - 1.0) < 1e-3


def test_rbf_output_and_codes():
    codes = digit_codes()
    assert codes.shape == (10, 84) and set(np.unique(codes)) == {-1.0, 1.0}
    assert len({code.tobytes() for code in codes}) == 10, "every digit needs its own code"
    layer = RBFOutput()
    x = RNG.normal(size=(3, 84)).astype("float32")
    expected = ((x[:, None] - codes[None]) ** 2).sum(-1)
    assert np.allclose(np.asarray(layer(x)), expected, rtol=1e-5)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1
    # a perfect code is at distance 0 and is predicted
    distances = np.asarray(layer(codes))
    assert np.allclose(np.diag(distances), 0) and distances.argmin(axis=1).tolist() == list(range(10))
    y = np.eye(10, dtype="float32")
    assert np.allclose(np.asarray(rbf_accuracy(y, distances)), 1.0)
    assert float(np.mean(np.asarray(rbf_loss(y, distances)))) < 1e-3


@pytest.fixture(scope="module")
def trained_paper_model():
    from lenet_helpers.data import load_mnist, one_hot
    from lenet_helpers.training import compile_model

    keras.utils.set_random_seed(0)
    data = load_mnist("sample", fast=True)
    model = compile_model(paper_lenet5())
    model.fit(prepare(data.x_train[:256]), one_hot(data.y_train[:256]), batch_size=32, epochs=1, verbose=0)
    return model


def test_rbf_codes_stay_fixed_through_training(trained_paper_model):
    assert np.array_equal(np.asarray(trained_paper_model.get_layer("output").codes), digit_codes())


def test_paper_model_save_load_round_trip(trained_paper_model, tmp_path):
    path = tmp_path / "paper.keras"
    trained_paper_model.save(path)
    restored = keras.models.load_model(path)
    x = RNG.random(size=(4, 28, 28, 1)).astype("float32")
    assert np.allclose(trained_paper_model.predict(x, verbose=0), restored.predict(x, verbose=0), atol=1e-5)
    assert np.array_equal(restored.get_layer("C3").table, TABLE_I)
    assert [type(layer).__name__ for layer in restored.layers] == [
        type(layer).__name__ for layer in trained_paper_model.layers
    ]


def test_partial_conv_rejects_a_mismatched_table():
    with pytest.raises(ValueError, match="expects 6 input maps"):
        PartialConv2D()(np.zeros((1, 14, 14, 4), "float32"))
