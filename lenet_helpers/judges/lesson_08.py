"""Judges of lesson 08: the paper's network."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    arrays_close,
    counts_exercise,
    expect_number,
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


def paper_loss_reference(distances, labels, j) -> float:
    """Eq. (9): mean over patterns of y_D + log(e^-j + sum_i e^-y_i), as a stable log-sum-exp."""
    distances = np.asarray(distances, dtype=float)
    labels = np.asarray(labels, dtype=int)
    correct = distances[np.arange(len(labels)), labels]
    terms = np.concatenate([np.full((len(labels), 1), -float(j)), -distances], axis=1)
    top = terms.max(axis=1, keepdims=True)
    return float(np.mean(correct + top[:, 0] + np.log(np.exp(terms - top).sum(axis=1))))


def _draw_loss_case(rng: np.random.Generator, large: bool = False) -> tuple:
    n = int(rng.integers(3, 12))
    scale = 400.0 if large else 30.0  # far from every code, exp(-y_i) all but vanishes: e^-j keeps the log finite
    return (rng.uniform(0, scale, size=(n, 10)).round(3), rng.integers(0, 10, n), float(rng.uniform(0.5, 3.0)))


def _compare_loss(what, got, expected):
    if isinstance(got, np.ndarray) and got.shape == ():
        got = float(got)
    expect_number(what, got, expected, "mean over the digits of (the right digit's distance) + "
                  "log(exp(-j) + sum over the 10 units of exp(-distance)); distances[p, labels[p]] is pattern "
                  "p's right-digit distance.",
                  tolerance=1e-4 * max(1.0, abs(expected)))


function_exercise(
    "08-paper-loss", "paper_loss", ("distances", "labels", "j"),
    reference=paper_loss_reference,
    visible=lambda: [_draw_loss_case(np.random.default_rng(9)), _draw_loss_case(np.random.default_rng(10), True)],
    draw=lambda rng: [_draw_loss_case(rng), _draw_loss_case(rng, True)],
    compare=_compare_loss,
    done="eq. (9): the right digit's distance pulled down, the others' pushed up until e^-j caps the push.")
