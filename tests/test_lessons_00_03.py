"""Lessons 00-03: judges' references against Keras and the course's layers, fresh inputs, facts in the text."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest

from lenet_helpers import lessons, plain, probes, runtime
from lenet_helpers.judges import EXERCISES, CheckFailed, inputs_for, verdict
from lenet_helpers.judges.lesson_02 import library_subsampling
from lenet_helpers.judges.lesson_03 import convolve_maps_reference, library_partial_conv
from lenet_helpers.layers import TABLE_I


def graded(exercise_id: str, namespace: dict, seed: int) -> str:
    """Judge an answer as the grader would: visible inputs plus inputs drawn with `seed`, through plain data."""
    given = inputs_for(exercise_id, [], np.random.default_rng(seed))
    exercise = EXERCISES[exercise_id]
    answer = probes.answer(exercise.names, exercise.probe, namespace, given)
    return verdict(exercise_id, given, plain.round_trip(answer))


def test_convolve_maps_reference_is_keras_conv2d():
    from lenet_helpers._tf import keras

    rng = np.random.default_rng(0)
    maps = rng.normal(size=(1, 9, 11, 4)).astype("float32")
    conv = keras.layers.Conv2D(7, 3)
    expected = np.asarray(conv(maps))[0]
    kernel, bias = conv.get_weights()
    assert np.allclose(convolve_maps_reference(maps[0], kernel, bias), expected, atol=1e-4)


def test_partial_conv_is_a_conv2d_with_a_masked_kernel():
    from lenet_helpers._tf import keras

    rng = np.random.default_rng(1)
    maps = rng.normal(size=(14, 14, 6)).astype("float32")
    kernel, bias = rng.normal(size=(5, 5, 6, 16)).astype("float32"), rng.normal(size=16).astype("float32")
    conv = keras.layers.Conv2D(16, 5)
    conv.build((None, 14, 14, 6))
    conv.set_weights([kernel * TABLE_I, bias])
    expected = np.asarray(conv(maps[None]))[0]
    assert np.allclose(library_partial_conv(maps, kernel, bias, TABLE_I), expected, atol=1e-4)


def test_library_subsampling_is_average_pooling_at_a_quarter():
    from lenet_helpers._tf import keras

    maps = np.random.default_rng(2).normal(size=(2, 8, 6, 3)).astype("float32")
    pooled = np.asarray(keras.layers.AveragePooling2D(2)(maps))
    assert np.allclose(library_subsampling(maps, np.full(3, 0.25), np.zeros(3)), pooled, atol=1e-6)
    assert np.allclose(library_subsampling(maps, np.ones(3), np.ones(3)), 4 * pooled + 1, atol=1e-5)


def test_own_layer_and_masked_kernel_pass_on_inputs_drawn_at_grading_time():
    from lenet_helpers._tf import keras

    class Subsampling2D(keras.layers.Layer):
        def build(self, input_shape):
            self.coefficient = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.bias = self.add_weight(shape=(input_shape[-1],), initializer="zeros")

        def call(self, inputs):
            return keras.ops.average_pool(inputs, 2, strides=2, padding="valid") * 4 * self.coefficient + self.bias

    for seed in range(3):
        assert "Subsampling2D" in graded("02-subsampling-layer", {"Subsampling2D": Subsampling2D}, seed)
        assert "PartialConv2D" in graded("03-masked-c3", {"masked_c3_kernel": lambda k, t: k * t}, seed)


def test_a_masked_kernel_that_only_knows_table_i_fails_drawn_tables():
    def table_i_only(kernel, table):
        return kernel * TABLE_I

    with pytest.raises(CheckFailed, match="drawn at random"):
        graded("03-masked-c3", {"masked_c3_kernel": table_i_only}, 5)


def test_layer_probe_sets_the_judges_weights_and_reports_plain_data():
    from lenet_helpers._tf import keras

    given = inputs_for("02-subsampling-layer", [], np.random.default_rng(4))
    answer = probes.layer(("Layer",), {"Layer": keras.layers.Dense}, {**given, "init": {"units": 3}})
    assert answer["built"] and not answer["weights_set"]  # a Dense layer's weights have other shapes
    assert all(isinstance(w, np.ndarray) for w in answer["weights"]) and answer["trainable"] > 0
    assert probes.layer(("x",), {"x": 3}, given) == {"not_a_layer_class": "int"}


def test_settings_line_never_looks_like_a_data_source(monkeypatch, capsys):
    for fast, expected in (("", "settings: real ("), ("1", "settings: FAST (LENET_FAST=1")):
        monkeypatch.setenv("LENET_FAST", fast)
        runtime.setup_lesson()
        line = capsys.readouterr().out.splitlines()[1]
        assert line.startswith(expected) and "full" not in line and "sample" not in line and "MNIST" not in line


OPENINGS = {"00": ("Haffner", "Proceedings of the IEEE", "86(11)", "1998", "Cortes", "Burges",
                   "Attribution-Share Alike 3.0"),
            "01": ("Haffner", "section II.B"), "02": ("Haffner", "section II.B"), "03": ("Haffner", "Table I")}


@pytest.mark.parametrize("number", sorted(OPENINGS))
def test_each_opening_says_where_its_facts_come_from(number):
    (path,) = lessons.SOLUTIONS.glob(f"{number}_*.ipynb")
    opening = nbformat.read(path, as_version=4).cells[0].source
    assert all(fact in " ".join(opening.split()) for fact in OPENINGS[number])


def test_lesson_00_numbers_about_the_paper_scaling_come_from_its_output():
    nb = nbformat.read(lessons.SOLUTIONS / "00_setup_and_mnist.ipynb", as_version=4)
    output = "".join(o.get("text", "") for c in nb.cells if c.get("id") == "cell-17b" for o in c.outputs)
    measured = [float(x) for x in re.findall(r"(?:mean|variance) (\d\.\d+)", output)]  # [0, 1] then paper
    prose = " ".join(c.source for c in nb.cells if c.get("id") == "cell-17d")
    said = [float(x) for x in re.findall(r"(?:about|from) (\d\.\d+)", prose)]
    assert len(measured) == 4 and "far from 1" in prose
    for value in measured:
        assert any(abs(value - number) <= 0.006 for number in said), (value, said)
