"""Judges of lesson 04: S4, C5, F6 and the output."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    counts_exercise,
    function_exercise,
    whole,
)

counts_exercise("04-s4-counts", {
    "s4_size": (5, "2x2 windows with stride 2 on 10x10 maps."),
    "s4_params": (32, "like S2: a coefficient and a bias per map, now 16 maps."),
    "s4_connections": (2_000, "5 x 5 x 16 units, each with 4 inputs and a bias."),
}, "S4: 5x5x16, 32 parameters, 2,000 connections.")

counts_exercise("04-c5-counts", {
    "c5_size": (1, "a 5x5 kernel on a 5x5 map leaves one position."),
    "c5_params": (48_120, "120 maps x (16 inputs x 25 weights + 1 bias)."),
}, "C5: 120 maps of 1x1, 48,120 parameters (and as many connections).")

counts_exercise("04-f6-counts", {
    "f6_params": (10_164, "84 units, each with 120 weights and 1 bias."),
}, "F6: 10,164 parameters.")

counts_exercise("04-seed-total", {
    "seed_total": (61_706, "add C1, C3 (full), C5, F6 and a softmax output of 10 x (84 + 1); "
                           "pooling has no parameters here."),
}, "the seed article's network has 61,706 trainable parameters.")


# --- receptive fields ------------------------------------------------------------------------


def receptive_field_reference(layers) -> int:
    """Input pixels (per side) one unit of the last layer sees, through a stack of (kernel, stride) layers."""
    field, step = 1, 1  # a pixel sees itself; neighbouring units are `step` input pixels apart
    for kernel, stride in layers:
        field += (int(kernel) - 1) * step
        step *= int(stride)
    return field


def _draw_stacks(rng: np.random.Generator) -> list:
    return [([(int(rng.integers(1, 8)), int(rng.integers(1, 4))) for _ in range(int(rng.integers(1, 7)))],)
            for _ in range(5)]


function_exercise(
    "04-receptive-field", "receptive_field", ("layers",),
    reference=receptive_field_reference,
    visible=lambda: [([(5, 1)],), ([(5, 1), (2, 2)],), ([(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)],),
                     ([(3, 1), (3, 1), (3, 1)],), ([(2, 2), (2, 2), (2, 2)],)],
    draw=_draw_stacks,
    compare=whole("start from 1 pixel and a step of 1; a layer with a kernel of k units widens the field by "
                  "(k - 1) x step, then multiplies the step by its stride (C1, S2: 5, then 5 + 1 x 1 = 6)."),
    done="receptive fields through any stack of windows: LeNet-5's C5 sees 32x32 pixels.")


# --- connections as multiply-adds --------------------------------------------------------------


def multiply_adds_reference(input_size, layers) -> int:
    """Connections (one multiply-add each, a bias counting as one) of a stack on a square one-map input."""
    size, maps, total = int(input_size), 1, 0
    for layer in layers:
        kind = layer["kind"]
        if kind == "conv":
            kernel, table = int(layer["kernel"]), layer.get("table")
            size = size - kernel + 1
            inputs = np.asarray(table, bool).sum(axis=0) if table is not None else [maps] * int(layer["maps"])
            total += size * size * sum(kernel * kernel * int(n) + 1 for n in inputs)
            maps = int(layer["maps"])
        elif kind in ("subsampling", "average"):
            pool = int(layer["pool"])
            size //= pool
            total += size * size * maps * (pool * pool + int(kind == "subsampling"))
        else:  # "dense" (weights and a bias) or "rbf" (one connection per input, no bias)
            units = int(layer["units"])
            total += units * (size * size * maps + int(kind == "dense"))
            size, maps = 1, units
    return total


def paper_layers() -> list[dict]:
    """The paper's LeNet-5 as the list of layers the exercise reads (input 32x32)."""
    from lenet_helpers.layers import TABLE_I

    return [{"kind": "conv", "kernel": 5, "maps": 6}, {"kind": "subsampling", "pool": 2},
            {"kind": "conv", "kernel": 5, "maps": 16, "table": TABLE_I.astype(int)},
            {"kind": "subsampling", "pool": 2}, {"kind": "conv", "kernel": 5, "maps": 120},
            {"kind": "dense", "units": 84}, {"kind": "rbf", "units": 10}]


def _draw_networks(rng: np.random.Generator) -> list:
    cases = []
    for _ in range(4):
        size = int(rng.integers(8, 41))
        layers, current, maps = [], size, 1
        for _ in range(int(rng.integers(1, 5))):
            if current >= 4 and rng.random() < 0.4:
                pool = int(rng.integers(2, 4))
                layers.append({"kind": str(rng.choice(["subsampling", "average"])), "pool": pool})
                current //= pool
            else:
                kernel, out_maps = int(rng.integers(1, min(current, 6) + 1)), int(rng.integers(1, 9))
                layer = {"kind": "conv", "kernel": kernel, "maps": out_maps}
                if maps > 1 and rng.random() < 0.5:
                    table = rng.random((maps, out_maps)) < 0.5
                    table[rng.integers(0, maps, out_maps), np.arange(out_maps)] = True  # every map sees one input
                    layer["table"] = table.astype(int)
                layers.append(layer)
                current, maps = current - kernel + 1, out_maps
        layers += [{"kind": str(kind), "units": int(rng.integers(1, 20))}
                   for kind in rng.choice(["dense", "rbf"], size=int(rng.integers(0, 3)))]
        cases.append((size, layers))
    return cases


function_exercise(
    "04-multiply-adds", "multiply_adds", ("input_size", "layers"),
    reference=multiply_adds_reference,
    visible=lambda: [(32, paper_layers()), (8, [{"kind": "conv", "kernel": 3, "maps": 2}]),
                     (12, [{"kind": "conv", "kernel": 5, "maps": 3}, {"kind": "average", "pool": 2},
                           {"kind": "dense", "units": 4}])],
    draw=_draw_networks,
    compare=whole("follow the size and the number of maps from layer to layer. A conv unit has kernel x kernel "
                  "weights per input map it sees (all maps, or the ones its column of 'table' marks) plus a bias; "
                  "a 'subsampling' unit pool x pool inputs plus a bias, an 'average' unit pool x pool; a 'dense' "
                  "unit one weight per input plus a bias, an 'rbf' unit one per input. Multiply by the units."),
    done="your count gives the paper's 340,908 connections (multiply-adds) for LeNet-5, and any other stack's.")
