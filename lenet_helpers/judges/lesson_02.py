"""Judges of lesson 02: subsampling and S2."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    arrays_close,
    counts_exercise,
    function_exercise,
)


def pool_reference(maps: np.ndarray) -> np.ndarray:
    """2x2 average pooling with stride 2 of one H x W map; tests compare it with Keras's AveragePooling2D."""
    maps = np.asarray(maps, float)
    height, width = maps.shape[0] // 2, maps.shape[1] // 2
    return maps[: 2 * height, : 2 * width].reshape(height, 2, width, 2).mean(axis=(1, 3))


function_exercise(
    "02-average-pool", "average_pool_2x2", ("maps",),
    reference=pool_reference,
    visible=lambda: [(np.random.default_rng(2).normal(size=(28, 28)).astype("float32"),)],
    draw=lambda rng: [(rng.normal(size=(10, 10)).astype("float32"),)],
    compare=arrays_close(atol=1e-5, hint="average each non-overlapping 2x2 block; reshape to (14, 2, 14, 2) "
                                          "and take the mean."),
    done="your pooling computes what Keras's AveragePooling2D computes.")

counts_exercise("02-s2-counts", {
    "s2_size": (14, "a 2x2 window with stride 2 halves 28."),
    "s2_params": (12, "one trainable coefficient and one bias for each of the 6 maps."),
    "s2_connections": (5_880, "each of 14 x 14 x 6 units has 4 inputs and a bias: 14 x 14 x 6 x (4 + 1)."),
}, "S2: 14x14x6, 12 trainable parameters, 5,880 connections.")


def _subsample_reference(maps, coefficient, bias) -> np.ndarray:
    maps = np.asarray(maps, float)
    height, width, channels = maps.shape[0] // 2, maps.shape[1] // 2, maps.shape[2]
    return maps.reshape(height, 2, width, 2, channels).sum(axis=(1, 3)) * coefficient + bias


def _draw_subsample(rng: np.random.Generator) -> list:
    return [(rng.normal(size=(6, 6, 2)), rng.normal(size=2), rng.normal(size=2))]


function_exercise(
    "02-subsample", "subsample", ("maps", "coefficient", "bias"),
    reference=_subsample_reference,
    visible=lambda: [_draw_subsample_visible()],
    draw=_draw_subsample,
    compare=arrays_close(hint="sum (not average) each 2x2 block of every map, multiply by that map's coefficient, "
                               "add its bias."),
    done="the paper's trainable subsampling, before the squashing function.")


def _draw_subsample_visible() -> tuple:
    rng = np.random.default_rng(3)
    return rng.normal(size=(8, 8, 3)), rng.normal(size=3), rng.normal(size=3)
