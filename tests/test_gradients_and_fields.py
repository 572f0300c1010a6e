"""Lessons 04 and 05: receptive fields and FLOPs against the paper and TensorFlow; gradients against the tape."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_helpers import shapes
from lenet_helpers._tf import keras, tf
from lenet_helpers.judges import CheckFailed, inputs_for, lesson_04, lesson_05, verdict
from lenet_helpers.layers import PartialConv2D, RBFOutput, Subsampling2D
from lenet_helpers.models import paper_lenet5, seed_lenet5

# LeCun et al. 1998, section II.B: C5 sees the whole 32x32 input, and the network has 340,908 connections
LENET_FIELDS = {"C1": 5, "S2": 6, "C3": 14, "S4": 16, "C5": 32, "F6": None, "output": None}
PAPER_CONNECTIONS = 340_908


# --- lesson 04: receptive fields and multiply-adds ----------------------------------------------


@pytest.mark.parametrize("build", [paper_lenet5, seed_lenet5], ids=["paper", "seed"])
def test_receptive_fields_of_lenet5(build):
    assert shapes.receptive_fields(build()) == LENET_FIELDS


def test_forward_flops_are_two_per_paper_connection():
    rows = shapes.layer_table(paper_lenet5())
    assert shapes.forward_flops(rows) == 2 * PAPER_CONNECTIONS == 681_816
    table = shapes.format_cost_table(rows, shapes.receptive_fields(paper_lenet5()))
    assert table.splitlines()[-1].split() == ["total", "340,908", "681,816"]
    assert table.splitlines()[5].split() == ["C5", "1x1x120", "48,120", "96,240", "32x32"]


def _field_by_tensorflow(stack: list[tuple[int, int]]) -> int:
    """The input rows the top-left unit of a stack of all-ones convolutions depends on, found by the tape."""
    size = lesson_04.receptive_field_reference(stack) + 7  # room to spare: the field must not touch the edge
    image = tf.Variable(tf.ones((1, size, size, 1)))
    with tf.GradientTape() as tape:
        maps = image
        for kernel, stride in stack:
            maps = tf.nn.conv2d(maps, tf.ones((kernel, kernel, 1, 1)), strides=stride, padding="VALID")
        unit = maps[0, 0, 0, 0]
    seen = np.asarray(tape.gradient(unit, image))[0, :, :, 0] != 0
    rows, columns = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
    assert rows.tolist() == list(range(len(rows))) and len(rows) == len(columns)
    return len(rows)


def test_receptive_field_reference_agrees_with_tensorflow():
    stacks = [[(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)], [(3, 1)] * 3, [(11, 4), (3, 2), (5, 1)]]
    stacks += [args[0] for args in inputs_for("04-receptive-field", [], np.random.default_rng(4))["calls"]]
    for stack in stacks:
        stack = [(int(kernel), int(stride)) for kernel, stride in stack]
        assert lesson_04.receptive_field_reference(stack) == _field_by_tensorflow(stack), stack


def _keras_model(input_size: int, layers: list[dict], rng: np.random.Generator):
    """A Keras model of a multiply_adds description, counted by shapes.layer_table (from Keras's layers)."""
    stack, flat = [keras.Input((input_size, input_size, 1))], False
    for number, layer in enumerate(layers):
        name = f"L{number}"
        if layer["kind"] == "conv" and "table" in layer:
            stack.append(PartialConv2D(table=layer["table"], kernel_size=layer["kernel"], name=name))
        elif layer["kind"] == "conv":
            stack.append(keras.layers.Conv2D(layer["maps"], layer["kernel"], name=name))
        elif layer["kind"] == "subsampling":
            stack.append(Subsampling2D(pool_size=layer["pool"], name=name))
        elif layer["kind"] == "average":
            stack.append(keras.layers.AveragePooling2D(layer["pool"], name=name))
        else:
            if not flat:
                stack.append(keras.layers.Flatten())
                flat = True
            inputs = keras.Sequential(stack).output_shape[-1]
            stack.append(keras.layers.Dense(layer["units"], name=name) if layer["kind"] == "dense" else
                         RBFOutput(codes=rng.choice([-1.0, 1.0], size=(layer["units"], inputs)), name=name))
    return keras.Sequential(stack)


def test_multiply_adds_reference_agrees_with_the_paper_and_the_layer_table():
    assert lesson_04.multiply_adds_reference(32, lesson_04.paper_layers()) == PAPER_CONNECTIONS
    seed = [{"kind": "conv", "kernel": 5, "maps": 6}, {"kind": "average", "pool": 2},
            {"kind": "conv", "kernel": 5, "maps": 16}, {"kind": "average", "pool": 2},
            {"kind": "conv", "kernel": 5, "maps": 120}, {"kind": "dense", "units": 84}, {"kind": "dense", "units": 10}]
    seed_total = sum(row.connections for row in shapes.layer_table(seed_lenet5()))
    assert lesson_04.multiply_adds_reference(32, seed) == seed_total == 429_342
    rng = np.random.default_rng(5)
    for size, layers in inputs_for("04-multiply-adds", [], rng)["calls"][1:]:
        model = _keras_model(size, layers, rng)
        assert lesson_04.multiply_adds_reference(size, layers) == sum(r.connections for r in shapes.layer_table(model))


# --- lesson 05: the references against TensorFlow's tape ----------------------------------------


def _tape_gradients(forward, *arrays):
    variables = [tf.Variable(np.asarray(array, "float64")) for array in arrays]
    with tf.GradientTape() as tape:
        loss = forward(*variables)
    return [np.asarray(gradient) for gradient in tape.gradient(loss, variables)]


def _tf_conv(image, kernel):
    return tf.nn.conv2d(image[None, :, :, None], kernel[:, :, None, None], strides=1, padding="VALID")[0, :, :, 0]


def test_pool_backward_reference_agrees_with_the_tape():
    rng = np.random.default_rng(0)
    for shape in [(8, 8), (7, 6), (5, 9), (1, 3)]:
        maps = rng.normal(size=shape)
        pooled = keras.layers.AveragePooling2D(2)
        g = rng.normal(size=(shape[0] // 2, shape[1] // 2))
        (expected,) = _tape_gradients(
            lambda x, g=g, pooled=pooled: tf.reduce_sum(g * pooled(x[None, :, :, None])[0, :, :, 0]), maps)
        assert np.allclose(lesson_05.pool_backward_reference(g, shape), expected, atol=1e-12), shape


def test_conv_gradient_references_agree_with_the_tape():
    for image, kernel, g in lesson_05._draw_conv(np.random.default_rng(1)) + [lesson_05._visible_conv()]:
        grad_image, grad_kernel = _tape_gradients(lambda x, k, g=g: tf.reduce_sum(g * _tf_conv(x, k)), image, kernel)
        assert np.allclose(lesson_05.conv_kernel_gradient_reference(image, g), grad_kernel, atol=1e-9)
        assert np.allclose(lesson_05.conv_image_gradient_reference(kernel, g), grad_image, atol=1e-9)


def test_squared_error_reference_agrees_with_the_tape():
    for kernel, images, targets in lesson_05._draw_tape(np.random.default_rng(2)) + lesson_05._visible_tape():
        def loss(k, images=images, targets=targets):
            outputs = tf.stack([_tf_conv(tf.constant(image), k) for image in images])
            return tf.reduce_mean((outputs - targets) ** 2)

        (expected,) = _tape_gradients(loss, kernel)
        assert np.allclose(lesson_05.squared_error_gradient_reference(kernel, images, targets), expected, atol=1e-9)


FUNCTIONS = {
    "04-receptive-field": lesson_04.receptive_field_reference,
    "04-multiply-adds": lesson_04.multiply_adds_reference,
    "05-pool-backward": lesson_05.pool_backward_reference,
    "05-conv-kernel-grad": lesson_05.conv_kernel_gradient_reference,
    "05-conv-image-grad": lesson_05.conv_image_gradient_reference,
    "05-tape-gradient": lesson_05.squared_error_gradient_reference,
}


@pytest.mark.parametrize("exercise_id", sorted(FUNCTIONS))
def test_references_pass_and_visible_only_answers_fail_drawn_inputs(exercise_id):
    reference = FUNCTIONS[exercise_id]
    for seed in range(3):
        given = inputs_for(exercise_id, [], np.random.default_rng(seed))
        answer = {"results": [{"returned": reference(*args)} for args in given["calls"]]}
        assert verdict(exercise_id, given, answer)
        visible = given["kinds"].count("visible")
        cheat = {"results": answer["results"][:visible] + [answer["results"][0]] * (len(given["calls"]) - visible)}
        with pytest.raises(CheckFailed, match="drawn at random"):
            verdict(exercise_id, given, cheat)


# --- lesson 05: the hand-written judges ---------------------------------------------------------


def _differences(centred: bool, eps: float = 1e-5) -> np.ndarray:
    x = lesson_05.CUBE_POINT.astype(float)
    gradient = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[k] = eps
        below = np.sum((x - step) ** 3) if centred else np.sum(x ** 3)
        gradient[k] = (np.sum((x + step) ** 3) - below) / (eps * (2 if centred else 1))
    return gradient


def test_numerical_gradient_judge():
    point = lesson_05.CUBE_POINT.copy()
    assert "3 x**2" in verdict("05-numerical-gradient", {},
                               {"values": {"cube_point": point, "cube_gradient": _differences(True)}})
    with pytest.raises(CheckFailed, match="forward difference"):
        verdict("05-numerical-gradient", {}, {"values": {"cube_point": point, "cube_gradient": _differences(False)}})
    with pytest.raises(CheckFailed, match="whole numbers"):
        verdict("05-numerical-gradient", {}, {"values": {"cube_point": point, "cube_gradient": np.zeros((2, 3))}})
    with pytest.raises(CheckFailed, match="should still be"):
        verdict("05-numerical-gradient", {},
                {"values": {"cube_point": point + 1e-5, "cube_gradient": _differences(True)}})


def test_learned_kernel_judge():
    true = lesson_05.EDGE_KERNEL
    assert "recovered" in verdict("05-learned-kernel", {}, {"values": {"learned_kernel": true + 0.005}})
    for wrong in (np.zeros((5, 5)), true.T, true[:, ::-1], true + 0.02):
        with pytest.raises(CheckFailed):
            verdict("05-learned-kernel", {}, {"values": {"learned_kernel": wrong}})
