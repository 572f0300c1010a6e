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


@pytest.mark.parametrize(
    "args, expected",
    [((32, 5), 28), ((28, 5, 2), 28), ((14, 5), 10), ((5, 5), 1), ((227, 11, 0, 4), 55), ((7, 3, 0, 2), 3)],
)
def test_conv_output_size(args, expected):
    assert shapes.conv_output_size(*args) == expected


@pytest.mark.parametrize(
    "args, message",
    [((32, 4, 0, 3), "not a whole number"), ((4, 5), "does not fit"), ((32, 0), "positive"), ((32, 3, -1), "positive")],
)
def test_impossible_sizes_say_why(args, message):
    with pytest.raises(ValueError, match=message):
        shapes.conv_output_size(*args)


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
