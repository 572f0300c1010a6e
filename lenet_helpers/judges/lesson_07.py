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


def early_stopping_reference(val_losses, patience) -> np.ndarray:
    """(epochs trained, epoch whose weights are kept) for EarlyStopping(monitor="val_loss", patience,
    restore_best_weights=True), epochs counted from 1, as keras/src/callbacks/early_stopping.py decides.

    An epoch improves only on a strictly lower loss; after `patience` epochs in a row without one,
    training stops; the best epoch's weights are restored (Keras 3 restores them even when
    training ran to the end).
    """
    best, kept, waited = np.inf, 1, 0
    for epoch, loss in enumerate(np.asarray(val_losses, dtype=float), start=1):
        waited += 1
        if loss < best:
            best, kept, waited = loss, epoch, 0
        elif waited >= patience:
            return np.array([epoch, kept])
    return np.array([len(val_losses), kept])


def _draw_losses(rng: np.random.Generator) -> tuple:
    """A validation-loss curve that falls, then wanders up; sometimes a plateau (ties are not improvements)."""
    epochs = int(rng.integers(6, 30))
    bottom = int(rng.integers(1, epochs))
    falling = np.linspace(2.0, 0.3, bottom) + rng.normal(0, 0.05, bottom)
    rising = 0.3 + np.cumsum(rng.normal(0.01, 0.04, epochs - bottom))
    losses = np.round(np.concatenate([falling, rising]), 3)
    if rng.random() < 0.3:
        losses[rng.integers(1, epochs)] = losses.min()  # a tie with the best
    return losses.tolist(), int(rng.integers(1, 6))


function_exercise(
    "07-early", "early_stopping_epochs", ("val_losses", "patience"),
    reference=early_stopping_reference,
    visible=lambda: [([0.9, 0.6, 0.5, 0.52, 0.49, 0.55, 0.56, 0.58, 0.6, 0.61], 3),
                     ([0.9, 0.6, 0.5, 0.52, 0.49, 0.55, 0.56, 0.58, 0.6, 0.61], 1)],
    draw=lambda rng: [_draw_losses(rng) for _ in range(4)],
    compare=arrays_close(hint="count epochs from 1; an epoch improves only with a loss strictly below the best so "
                              "far; stop after `patience` epochs in a row without improvement; return "
                              "(epochs trained, best epoch)."),
    done="you stop where Keras's EarlyStopping stops, and keep the epoch it restores.")
