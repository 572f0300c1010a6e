"""Judges of lesson 07: evaluate and visualise."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    arrays_close,
    function_exercise,
)


def confusion_reference(y_true, y_pred, classes: int = 10) -> np.ndarray:
    """matrix[t, p] counts digits t predicted as p."""
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return matrix


function_exercise(
    "07-confusion", "confusion_matrix", ("y_true", "y_pred"),
    reference=confusion_reference,
    visible=lambda: [tuple(np.random.default_rng(6).integers(0, 10, (2, 200)))],
    draw=lambda rng: [tuple(rng.integers(0, 10, (2, 150)))],
    compare=arrays_close(hint="matrix[t, p] counts images of digit t predicted as p: rows are the truth."),
    done="rows are true digits, columns predictions, the diagonal is what the network got right.")


def _worst_reference(probabilities, labels, n) -> np.ndarray:
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    return wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:n]


def _draw_worst(rng: np.random.Generator, size: int = 300) -> tuple:
    return rng.dirichlet(np.ones(10), size=size), rng.integers(0, 10, size), 5


function_exercise(
    "07-worst", "worst_mistakes", ("probabilities", "labels", "n"),
    reference=_worst_reference,
    visible=lambda: [_draw_worst(np.random.default_rng(7))],
    draw=lambda rng: [_draw_worst(rng, 200)],
    compare=arrays_close(hint="keep the wrong predictions, sort them by the probability given to the (wrong) "
                               "predicted digit, most confident first."),
    done="found the mistakes the network was most sure of.")
