"""Widgets without a browser: their numbers, their reactions, and their static twins."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_helpers import widgets
from lenet_helpers.data import load_mnist, prepare, to_mnist_format


def test_describe_layer_matches_the_paper():
    assert widgets.describe_layer("convolution", 32, 5, in_maps=1, out_maps=6) == (
        "output 28x28x6, 156 trainable parameters, 122,304 connections")
    assert widgets.describe_layer("paper subsampling", 28, 2, stride=2, in_maps=6) == (
        "output 14x14x6, 12 trainable parameters, 5,880 connections")
    assert widgets.describe_layer("average pooling", 28, 2, stride=2, in_maps=6).startswith("output 14x14x6, 0 ")


@pytest.mark.parametrize("args", [(4, 5, 0, 1), (2, 7, 2, 1)])
def test_only_a_kernel_larger_than_the_padded_input_is_impossible(args):
    text = widgets.describe_layer("convolution", *args)
    assert text.startswith("impossible:") and "does not fit" in text


def test_rounding_down_is_explained_not_refused():
    """Keras floors (W - F + 2P) / S: Conv2D(6, 5, strides=2) on 32x32 gives 14x14, and the widget says why."""
    text = widgets.describe_layer("convolution", 32, 5, stride=2)
    assert text.startswith("output 14x14x6, 156 trainable parameters")
    assert "13.5 is rounded down (13 + 1 = 14)" in text and "last row and column of the input are never used" in text
    assert "rounded down" not in widgets.describe_layer("convolution", 32, 5)
    pooled = widgets.describe_layer("average pooling", 28, 3, stride=2, in_maps=6)
    assert pooled.startswith("output 13x13x6") and "rounded down" in pooled


def test_shape_explorer_reacts_to_its_sliders():
    box = widgets.shape_explorer()
    controls, result = box.children[:-1], box.children[-1]
    assert "output 28x28x6" in result.value
    size = next(c for c in controls if c.description == "input size W")
    size.value = 33
    assert "output 29x29x6" in result.value
    stride = next(c for c in controls if c.description == "stride S")
    stride.value = 3
    assert "output 10x10x6" in result.value and "rounded down" in result.value
    kernel = next(c for c in controls if c.description == "kernel F")
    size.value, kernel.value = 4, 5
    assert "impossible" in result.value and "b00020" in result.value


def test_live_plot_prints_progress_without_a_notebook(capsys):
    plot = widgets.LivePlot(total_epochs=2)
    plot.set_params({"epochs": 2})
    plot.on_train_begin()
    plot.on_epoch_end(0, {"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4})
    plot.on_epoch_end(1, {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch 1/2") and "left" in lines[0] and "val_accuracy 0.4000" in lines[0]
    assert lines[1].startswith("epoch 2/2")
    assert plot.logs["accuracy"] == [0.5, 0.8]


def test_to_mnist_format_centres_and_fits_20x20():
    ink = np.zeros((280, 280))
    ink[20:120, 200:240] = 255  # a tall bar in the top right corner
    digit = to_mnist_format(ink)
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows, cols = np.flatnonzero(digit.max(axis=1)), np.flatnonzero(digit.max(axis=0))
    assert rows[-1] - rows[0] + 1 <= 21 and cols[-1] - cols[0] + 1 <= 21
    mass = digit.astype(float)
    centre = [(mass.sum(axis=a) * np.arange(28)).sum() / mass.sum() for a in (1, 0)]
    assert all(abs(c - 13.5) <= 1.0 for c in centre)
    assert to_mnist_format(np.zeros((50, 50))).max() == 0


@pytest.fixture(scope="module")
def small_model():
    from lenet_helpers import runtime, training
    from lenet_helpers.models import seed_lenet5

    runtime.seed_everything(0)
    data = load_mnist("sample", fast=True, quiet=True)
    model = training.compile_model(seed_lenet5())
    training.fit(model, training.split_for_training(data), epochs=2)
    return model, data


def test_reading_a_blown_up_digit(small_model):
    model, data = small_model
    drawing = np.kron(data.x_test[:1][0], np.ones((10, 10)))
    digit, predicted, probabilities = widgets.read_drawing(model, drawing)
    assert digit.shape == (28, 28) and 0 <= predicted <= 9 and abs(probabilities.sum() - 1) < 1e-4


def test_network_explorer_jumps_to_mistakes(small_model):
    model, data = small_model
    images = prepare(data.x_test[:60])
    box = widgets.network_explorer(model, images, data.y_test[:60])
    slider, button, status = box.children[0].children
    button.click()
    predicted = model.predict(images, verbose=0).argmax(axis=1)
    assert predicted[slider.value] != data.y_test[slider.value]
    assert "mistakes among 60 digits" in status.value
    figure = widgets.explore_digit(model, images, data.y_test[:60], 0)
    assert len(figure.axes) == 2 + 6 + 6 + 16


def test_draw_digit_builds_a_canvas(small_model):
    box = widgets.draw_digit(small_model[0])
    assert type(box.children[0]).__name__ == "Canvas" and box.children[0].sync_image_data
