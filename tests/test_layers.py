"""The paper's layers against independent references: masked Conv2D, AveragePooling2D, NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_helpers._tf import keras
from lenet_helpers.data import prepare
from lenet_helpers.layers import (
    TABLE_I,
    PaperRBFLoss,
    PaperUniform,
    PartialConv2D,
    RandomDistortion,
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


# --- the paper's initialisation, loss and distortions --------------------------------------

# Fan-in of one unit of each paper layer (section II.B): what its weighted sum adds up.
PAPER_FAN_IN = {"C1": 5 * 5 * 1, "S2": 4, "S4": 4, "C5": 5 * 5 * 16, "F6": 120}


def _bounds_filled(values, limit):
    """Inside +-limit, and spread over it (not a constant or a narrower law)."""
    values = np.abs(np.asarray(values))
    return values.max() <= limit * (1 + 1e-6) and (values.size < 20 or values.max() > 0.8 * limit)


def test_paper_initialisation_is_uniform_in_2_4_over_each_units_fan_in():
    keras.utils.set_random_seed(0)
    model = paper_lenet5()
    for name, fan_in in PAPER_FAN_IN.items():
        for weight in model.get_layer(name).weights:
            assert _bounds_filled(weight, 2.4 / fan_in), f"{name}/{weight.name}: expected +-2.4/{fan_in}"
    c3 = model.get_layer("C3")
    kernel, bias = np.asarray(c3.full_kernel()), np.asarray(c3.bias)
    for out_map in range(16):
        fan_in = 25 * TABLE_I[:, out_map].sum()  # 75, 100 or 150: only the S2 maps of Table I
        assert _bounds_filled(kernel[..., out_map][:, :, TABLE_I[:, out_map]], 2.4 / fan_in), out_map
        assert abs(bias[out_map]) <= 2.4 / fan_in
    values = np.asarray(model.get_layer("C5").kernel)
    assert abs(values.mean()) < 0.05 * 2.4 / 400 and abs(values.std() - 2.4 / 400 / np.sqrt(3)) < 0.05 * 2.4 / 400


def test_paper_uniform_as_a_keras_initializer():
    layer = keras.layers.Dense(7, kernel_initializer=PaperUniform(seed=3), bias_initializer=PaperUniform(fan_in=30))
    layer.build((None, 30))
    assert _bounds_filled(layer.kernel, 2.4 / 30) and np.abs(np.asarray(layer.bias)).max() <= 2.4 / 30
    again = keras.initializers.deserialize(keras.initializers.serialize(PaperUniform(fan_in=[1, 2], seed=3)))
    assert isinstance(again, PaperUniform) and again.fan_in.tolist() == [1, 2]
    assert np.array_equal(again((2, 2)), PaperUniform(fan_in=[1, 2], seed=3)((2, 2)))
    with pytest.raises(ValueError, match="give fan_in"):
        PaperUniform()((5,))


def test_keras_initialisation_is_still_available():
    model = paper_lenet5("keras")
    assert np.allclose(np.asarray(model.get_layer("S2").coefficient), 0.25)
    assert not np.asarray(model.get_layer("C5").bias).any()
    with pytest.raises(ValueError, match="choose one of"):
        paper_lenet5("he")


def eq9_numpy(one_hot_labels, distances, j):
    """The paper's eq. (9) for each digit, straight from the formula, in float64."""
    distances = np.asarray(distances, dtype=np.float64)
    correct = (one_hot_labels * distances).sum(axis=1)
    return correct + np.log(np.exp(-j) + np.exp(-distances).sum(axis=1))


@pytest.mark.parametrize("j", [0.5, 1.0, 3.0])
def test_paper_loss_equals_eq_9(j):
    y = np.eye(10, dtype="float32")[RNG.integers(0, 10, 6)]
    distances = RNG.uniform(0, 8, size=(6, 10)).astype("float32")
    loss = PaperRBFLoss(j=j)
    assert np.allclose(np.asarray(loss(y, distances)), eq9_numpy(y, distances, j).mean(), rtol=1e-5)
    per_digit = np.asarray(PaperRBFLoss(j=j, reduction=None)(y, distances))
    assert np.allclose(per_digit, eq9_numpy(y, distances, j), rtol=1e-5)


def test_paper_loss_is_stable_for_large_distances_and_never_negative():
    y = np.eye(10, dtype="float32")[[3, 7]]
    far = np.full((2, 10), 300.0, dtype="float32")
    far[0, 3] = 2.0  # the right code nearest
    values = np.asarray(PaperRBFLoss(j=1.0, reduction=None)(y, far))
    assert np.isfinite(values).all() and (values >= 0).all()
    assert np.isclose(values[1], 300.0 - 1.0, rtol=1e-6)  # all far: y_D + log(e^-j) = 300 - j
    with pytest.raises(ValueError, match="positive"):
        PaperRBFLoss(j=0)


def test_paper_loss_trains_the_paper_model_and_round_trips(tmp_path):
    keras.utils.set_random_seed(1)
    model = paper_lenet5()
    model.compile(optimizer="adam", loss=PaperRBFLoss(j=2.0))
    x = RNG.random((8, 28, 28, 1)).astype("float32")
    model.fit(x, np.eye(10, dtype="float32")[RNG.integers(0, 10, 8)], epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    assert keras.models.load_model(tmp_path / "m.keras").loss.j == 2.0


def _dot(row, col, size=28):
    image = np.zeros((1, size, size, 1), dtype="float32")
    image[0, row, col, 0] = 1.0
    return image


def _centre_of_mass(image):
    image = np.asarray(image)[0, :, :, 0]
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_distortion_only_while_training():
    layer = RandomDistortion(seed=0)
    digits = prepare(RNG.integers(0, 256, (4, 28, 28), dtype=np.uint8))
    assert np.array_equal(np.asarray(layer(digits)), digits)  # inference: untouched
    assert np.array_equal(np.asarray(layer(digits, training=False)), digits)
    distorted = np.asarray(layer(digits, training=True))
    assert distorted.shape == digits.shape and not np.allclose(distorted, digits)
    assert not np.allclose(distorted, np.asarray(layer(digits, training=True)))  # a new draw each time
    identity = RandomDistortion(shift=0, scale=0, squeeze=0, shear=0)
    assert np.allclose(np.asarray(identity(digits, training=True)), digits, atol=1e-5)


def test_distortion_moves_a_dot_within_its_ranges():
    dot = _dot(13, 13)  # near the centre: scale, squeeze and shear move it by little
    shift_only = RandomDistortion(shift=2.0, scale=0, squeeze=0, shear=0, seed=1)
    moves = np.array([np.subtract(_centre_of_mass(shift_only(dot, training=True)), (13, 13)) for _ in range(30)])
    assert np.abs(moves).max() <= 2.0 + 1e-4 and np.abs(moves).max() > 1.0
    shear_only = RandomDistortion(shift=0, scale=0, squeeze=0, shear=0.2, seed=2)
    low = _dot(24, 13)  # 10.5 rows below the centre: a horizontal shear moves it sideways only
    for _ in range(10):
        row, col = _centre_of_mass(shear_only(low, training=True))
        assert abs(row - 24) < 1e-3 and abs(col - 13) <= 0.2 * 10.5 + 1e-3


def test_distortion_in_a_saved_model(tmp_path):
    model = keras.Sequential([keras.Input((28, 28, 1)), RandomDistortion(shift=1.5, seed=4), keras.layers.Flatten()])
    model.save(tmp_path / "d.keras")
    restored = keras.models.load_model(tmp_path / "d.keras").layers[0]
    assert isinstance(restored, RandomDistortion) and restored.shift == 1.5
    with pytest.raises(ValueError, match="below 1"):
        RandomDistortion(scale=1.0)
