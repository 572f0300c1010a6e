"""Lessons 06-08: new judges against Keras's own behaviour, solutions pass, wrong answers fail, facts in the text."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest

from lenet_helpers import lessons, plain, probes
from lenet_helpers.grading.build import hidden_cases
from lenet_helpers.judges import EXERCISES, CheckFailed, inputs_for, verdict
from lenet_helpers.judges.lesson_06 import keras_validation_indices
from lenet_helpers.judges.lesson_07 import _draw_losses, early_stopping_reference
from lenet_helpers.judges.lesson_08 import paper_loss_reference

NOTEBOOKS = {"06": "06_build_and_train.ipynb", "07": "07_evaluate_and_visualize.ipynb",
             "08": "08_faithful_lenet5.ipynb"}


def solution(lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(lessons.SOLUTIONS / NOTEBOOKS[lesson], as_version=4)


def solution_namespace(exercise_id: str) -> dict:
    """The instructor's answer to an exercise, run from the solution notebook's exercise cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = solution(exercise_id[:2]).cells
    cell = next(c for c in cells if c.metadata.get("lenet", {}).get("exercise") == exercise_id)
    namespace = {"np": np, "plt": plt}
    exec(cell.source, namespace)  # noqa: S102  (our own solution code)
    return namespace


def graded(exercise_id: str, namespace: dict, seed: int) -> str:
    """Judge an answer as the grader would: visible inputs plus inputs drawn with `seed`, through plain data."""
    given = inputs_for(exercise_id, [], np.random.default_rng(seed))
    exercise = EXERCISES[exercise_id]
    answer = probes.answer(exercise.names, exercise.probe, namespace, given)
    plain.dump(answer, _tmp_folder(exercise_id, seed))  # what travels to the grader must be plain data
    return verdict(exercise_id, given, plain.load(_tmp_folder(exercise_id, seed)))


def _tmp_folder(exercise_id, seed):
    import tempfile
    from pathlib import Path

    return Path(tempfile.gettempdir()) / f"lenet-test-{exercise_id}-{seed}"


# --- references against Keras ----------------------------------------------------------------


@pytest.mark.parametrize("n, fraction", [(1000, 0.1), (37, 0.25), (10, 0.3), (4999, 0.2), (7, 0.5), (123, 0.05)])
def test_validation_indices_are_what_keras_fit_validates_on(n, fraction):
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    (train,), (validation,) = train_validation_split((np.arange(n),), validation_split=fraction)
    assert np.array_equal(keras_validation_indices(n, fraction), np.asarray(validation))
    assert np.array_equal(np.arange(n - len(validation)), np.asarray(train))


def _keras_early_stopping(val_losses, patience) -> tuple[int, int]:
    """Feed the losses to Keras's own EarlyStopping, epoch by epoch, as fit would."""
    from lenet_helpers._tf import keras

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()
    epochs = 0
    for epoch, loss in enumerate(val_losses):
        stopper.on_epoch_end(epoch, {"val_loss": float(loss)})
        epochs = epoch + 1
        if model.stop_training:
            break
    return epochs, stopper.best_epoch + 1


@pytest.mark.parametrize("seed", range(12))
def test_early_stopping_reference_is_keras_early_stopping(seed):
    losses, patience = _draw_losses(np.random.default_rng(seed))
    assert tuple(early_stopping_reference(losses, patience)) == _keras_early_stopping(losses, patience)


def test_early_stopping_reference_on_ties_and_plateaus():
    for losses, patience in [([1.0, 0.8, 0.8, 0.8, 0.9], 2), ([0.5, 0.4, 0.3], 1), ([1.0, 1.0, 1.0], 1)]:
        assert tuple(early_stopping_reference(losses, patience)) == _keras_early_stopping(losses, patience)


def test_paper_loss_reference_is_the_librarys_keras_loss():
    from lenet_helpers.data import one_hot
    from lenet_helpers.layers import PaperRBFLoss

    rng = np.random.default_rng(3)
    for scale, j in ((5.0, 1.0), (60.0, 0.5), (800.0, 2.0)):
        distances = rng.uniform(0, scale, size=(7, 10)).astype("float32")
        labels = rng.integers(0, 10, 7)
        expected = float(PaperRBFLoss(j=j)(one_hot(labels), distances))
        assert paper_loss_reference(distances, labels, j) == pytest.approx(expected, rel=1e-5)


# --- the solutions pass, on fresh inputs and their hidden cases; wrong answers fail ------------

NEW_EXERCISES = ("06-split", "06-history", "07-early", "08-paper-loss")


@pytest.mark.parametrize("exercise_id", NEW_EXERCISES)
def test_solution_passes_on_inputs_drawn_at_grading_time(exercise_id):
    namespace = solution_namespace(exercise_id)
    for seed in range(3):
        assert graded(exercise_id, namespace, seed)


@pytest.mark.parametrize("exercise_id", NEW_EXERCISES)
def test_hidden_cases_are_literals_and_the_solution_passes_them(exercise_id):
    cell = next(c for c in solution(exercise_id[:2]).cells if c.metadata.get("lenet", {}).get("check") == exercise_id)
    cases = hidden_cases(cell.source, exercise_id)
    assert cases
    namespace = solution_namespace(exercise_id)
    given = inputs_for(exercise_id, cases)
    exercise = EXERCISES[exercise_id]
    answer = probes.answer(exercise.names, exercise.probe, namespace, given)
    assert verdict(exercise_id, given, plain.round_trip(answer))


def _fails(exercise_id: str, namespace: dict, match: str) -> None:
    with pytest.raises(CheckFailed, match=match):
        graded(exercise_id, namespace, seed=5)


def test_validation_split_wrong_answers_fail():
    _fails("06-split", {"validation_indices": lambda n, f: np.arange(int(n * f))}, "validation_indices")
    def shuffled(n, fraction):
        return np.random.default_rng(0).permutation(n)[:n - int(n * (1 - fraction))]

    _fails("06-split", {"validation_indices": shuffled}, "values differ|shape")


def _history_plot(one_axes=False, skip=(), labels=True, give_axes=False):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def plot_history(history):
        fig, axes = plt.subplots(1, 1 if one_axes else 2)
        axes = [axes, axes] if one_axes else axes
        for ax, metric in zip(axes, ("accuracy", "loss")):
            for key in (metric, "val_" + metric):
                if key not in skip:
                    ax.plot(history[key])
            if labels:
                ax.set_xlabel("epoch")
                ax.set_ylabel(metric)
        return axes[0] if give_axes else fig

    return plot_history


def test_history_plot_wrong_answers_fail_with_a_hint():
    import matplotlib.pyplot as plt

    open_before = plt.get_fignums()
    assert graded("06-history", {"plot_history": _history_plot()}, seed=1)
    _fails("06-history", {"plot_history": _history_plot(skip=("val_loss",))}, "val_loss")
    _fails("06-history", {"plot_history": _history_plot(one_axes=True)}, "share one axes")
    _fails("06-history", {"plot_history": _history_plot(labels=False)}, "labelled")
    _fails("06-history", {"plot_history": _history_plot(give_axes=True)}, "should return a matplotlib Figure")
    _fails("06-history", {"plot_history": "not a function"}, "should be a function")
    assert plt.get_fignums() == open_before, "the probe must close the figures it made"


def test_early_stopping_wrong_answers_fail():
    def ties_improve(val_losses, patience):  # <= instead of <
        best, kept, waited = float("inf"), 1, 0
        for epoch, loss in enumerate(val_losses, start=1):
            if loss <= best:
                best, kept, waited = loss, epoch, 0
            else:
                waited += 1
                if waited >= patience:
                    return epoch, kept
        return len(val_losses), kept

    def argmin_only(val_losses, patience):  # ignores that training stops
        return len(val_losses), int(np.argmin(val_losses)) + 1

    _fails("07-early", {"early_stopping_epochs": argmin_only}, "early_stopping_epochs")
    namespace = {"early_stopping_epochs": ties_improve}
    with pytest.raises(CheckFailed):
        for seed in range(20):  # a tie with the best is drawn in about a third of the curves
            graded("07-early", namespace, seed)


def test_paper_loss_wrong_answers_fail():
    def without_j(distances, labels, j):
        distances = np.asarray(distances)
        return float(np.mean(distances[np.arange(len(labels)), labels] + np.log(np.exp(-distances).sum(axis=1))))

    def summed(distances, labels, j):
        distances = np.asarray(distances)
        return float(np.sum(distances[np.arange(len(labels)), labels]
                            + np.log(np.exp(-j) + np.exp(-distances).sum(axis=1))))

    _fails("08-paper-loss", {"paper_loss": without_j}, "paper_loss")
    _fails("08-paper-loss", {"paper_loss": summed}, "paper_loss")


# --- facts in the text ------------------------------------------------------------------------


def _text(lesson: str) -> str:
    return "\n".join(cell.source for cell in solution(lesson).cells if cell.cell_type == "markdown")


def test_the_new_exercises_are_in_the_solutions_with_points():
    ids = {c.metadata["lenet"]["check"]: c.metadata["lenet"]["points"]
           for lesson in NOTEBOOKS for c in solution(lesson).cells if "check" in c.metadata.get("lenet", {})}
    assert set(NEW_EXERCISES) <= set(ids)
    assert all(ids[exercise_id] >= 2 for exercise_id in NEW_EXERCISES)


def test_lesson_06_text():
    text = _text("06")
    assert "2.8x" not in text and "7 updates" not in text
    assert "validation_data=(x_test, y_test)" not in text  # the article's code is an image: no such quote
    assert "last" in text and "validation_split" in text


def test_lesson_08_text():
    text = _text("08")
    assert "four ways" not in text
    assert "not learning rates for plain SGD" in text
    assert "LearningRateScheduler" not in text  # the SDLM eta schedule is not a plain-SGD schedule
    assert "840" in text and "non-trainable" in text
    assert "test accuracy" not in "\n".join(c.source for c in solution("08").cells if c.cell_type == "code")
