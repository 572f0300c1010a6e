"""Judges of lesson 08: the paper's network."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    arrays_close,
    counts_exercise,
    function_exercise,
)

function_exercise(
    "08-squash", "squash", ("a",),
    reference=lambda a: 1.7159 * np.tanh(2 * np.asarray(a, float) / 3),
    visible=lambda: [(np.linspace(-4, 4, 41),)],
    draw=lambda rng: [(rng.normal(scale=3, size=17),)],
    compare=arrays_close(atol=1e-5, hint="A tanh(S a) with A = 1.7159 and S = 2/3."),
    done="f(a) = 1.7159 tanh(2a/3); note f(1) is almost exactly 1.")


def _codes() -> np.ndarray:
    from lenet_helpers.layers import digit_codes

    return np.asarray(digit_codes())


function_exercise(
    "08-rbf", "rbf_distances", ("x", "codes"),
    reference=lambda x, codes: ((np.asarray(x)[:, None, :] - np.asarray(codes)[None]) ** 2).sum(axis=-1),
    visible=lambda: [(np.random.default_rng(8).normal(size=(5, 84)).astype("float32"), _codes())],
    draw=lambda rng: [(rng.normal(size=(4, 84)).astype("float32"), _codes())],
    compare=arrays_close(atol=1e-3, hint="y[n, i] = sum over j of (x[n, j] - codes[i, j])**2; "
                                          "broadcast x[:, None, :] - codes[None]."),
    done="each output unit measures how far F6 is from its digit's code.")

counts_exercise("08-paper-totals", {
    "paper_params": (60_000, "sum the params column of the paper's table."),
    "paper_connections": (340_908, "sum the connections column."),
}, "60,000 trainable parameters and 340,908 connections, exactly the paper's figures.")
