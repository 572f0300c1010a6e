"""Shape arithmetic against the paper's published figures and against Keras's own counts."""

from __future__ import annotations

import pytest

from lenet_helpers import shapes
from lenet_helpers.layers import TABLE_I
from lenet_helpers.models import BUILDERS, build_model, paper_lenet5, seed_lenet5

# PAPER.md, LeCun et al. 1998, section II.B: (name, output, params, connections)
PAPER_ROWS = [
    ("C1", (28, 28, 6), 156, 122_304),
    ("S2", (14, 14, 6), 12, 5_880),
    ("C3", (10, 10, 16), 1_516, 151_600),
    ("S4", (5, 5, 16), 32, 2_000),
    ("C5", (1, 1, 120), 48_120, 48_120),
    ("F6", (84,), 10_164, 10_164),
    ("output", (10,), 0, 840),
]


def test_paper_table_row_by_row():
    rows = shapes.layer_table(paper_lenet5())
    assert [(r.name, r.output_shape, r.params, r.connections) for r in rows] == PAPER_ROWS
    assert sum(r.params for r in rows) == 60_000
    assert sum(r.connections for r in rows) == 340_908


def test_seed_article_total():
    rows = shapes.layer_table(seed_lenet5())
    assert [r.params for r in rows] == [156, 0, 2_416, 0, 48_120, 10_164, 850]
    assert sum(r.params for r in rows) == 61_706


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_table_agrees_with_keras(name):
    """Our formulas (no Keras counting) against Keras's shapes and parameter counts."""
    model = build_model(name)
    rows = {row.name: row for row in shapes.layer_table(model)}
    for layer in model.layers:
        if layer.name in rows:
            assert rows[layer.name].output_shape == tuple(layer.output.shape[1:]), layer.name
            trainable = sum(int(w.numpy().size) for w in layer.trainable_weights)
            assert rows[layer.name].params == trainable, layer.name
    assert sum(r.params for r in rows.values()) == shapes.trainable_params(model)


def keras_output_size(width: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """What Keras itself gives: ZeroPadding2D(padding) then a 'valid' Conv2D(kernel, strides=stride)."""
    from lenet_helpers._tf import keras

    inputs = keras.Input(shape=(width, width, 1))
    padded = keras.layers.ZeroPadding2D(padding)(inputs) if padding else inputs
    return int(keras.layers.Conv2D(1, kernel, strides=stride)(padded).shape[1])


@pytest.mark.parametrize(
    "args",
    [(32, 5), (28, 5, 2), (14, 5), (5, 5), (227, 11, 0, 4), (7, 3, 0, 2),
     (32, 5, 0, 2), (32, 4, 0, 3), (28, 3, 0, 2), (9, 4, 1, 3), (4, 5, 1), (33, 5, 0, 4)],
)
def test_conv_output_size_is_what_keras_gives(args):
    """Rounded down when S does not divide W - F + 2P: Conv2D(6, 5, strides=2) on 32x32 gives 14x14."""
    assert shapes.conv_output_size(*args) == keras_output_size(*args)


def test_pooling_rounds_down_like_keras():
    from lenet_helpers._tf import keras

    pooled = keras.layers.AveragePooling2D(3, strides=2)(keras.Input(shape=(28, 28, 6)))
    assert shapes.pool_output_size(28, 3, 2) == pooled.shape[1] == 13


@pytest.mark.parametrize("args, unused", [((32, 5), 0), ((32, 5, 0, 2), 1), ((32, 4, 0, 3), 1), ((33, 5, 0, 4), 0),
                                          ((9, 4, 1, 3), 1), ((227, 11, 0, 4), 0)])
def test_unused_pixels(args, unused):
    assert shapes.unused_pixels(*args) == unused


@pytest.mark.parametrize(
    "args, message",
    [((4, 5), "does not fit"), ((2, 5, 1), "does not fit"), ((32, 0), "positive"), ((32, 3, -1), "positive"),
     ((32, 3, 0, 0), "positive")],
)
def test_impossible_sizes_say_why(args, message):
    with pytest.raises(ValueError, match=message):
        shapes.conv_output_size(*args)


def test_keras_refuses_what_conv_output_size_calls_impossible():
    from lenet_helpers._tf import keras

    with pytest.raises(ValueError):
        keras.layers.Conv2D(1, 5)(keras.Input(shape=(4, 4, 1)))


def test_counting_functions_match_the_paper_checks():
    assert shapes.conv_params(5, 1, 6) == 156
    assert shapes.conv_connections(156, 28, 28) == 122_304
    assert shapes.pooling_connections(14, 6, bias=True) == 5_880
    assert shapes.partial_conv_params(5, TABLE_I) == 6 * (3 * 25 + 1) + 9 * (4 * 25 + 1) + (6 * 25 + 1) == 1_516
    assert shapes.conv_params(5, 6, 16) == 2_416
    assert shapes.conv_params(5, 16, 120) == 48_120 and shapes.dense_params(120, 84) == 10_164
    assert shapes.subsampling_params(16) == 32 and shapes.same_padding(5) == 2


def test_format_table_has_totals():
    text = shapes.format_table(shapes.layer_table(paper_lenet5()))
    assert text.splitlines()[-1].split()[-2:] == ["60,000", "340,908"]
