"""Judges of lesson 06: build and train."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    EXERCISES,
    VISIBLE_SEED,
    CheckFailed,
    Exercise,
    ExerciseNotDone,
    arrays_close,
    exercise,
    expect_array,
    expect_number,
    expect_whole,
    function_exercise,
    reference_digits,
)

SEED_LAYERS = [("C1", (28, 28, 6)), ("S2", (14, 14, 6)), ("C3", (10, 10, 16)), ("S4", (5, 5, 16)),
               ("C5", (1, 1, 120)), ("F6", (84,)), ("output", (10,))]


def _model_inputs(cases: list, rng: np.random.Generator | None) -> dict:
    rng = rng if rng is not None else np.random.default_rng(VISIBLE_SEED)
    return {"images": rng.uniform(0, 1, size=(3, 28, 28, 1)).astype("float32")}


@exercise("06-build", ("model",), probe="model", inputs=_model_inputs)
def _build(given: dict, answer: dict) -> str:
    if answer.get("not_a_model"):
        raise CheckFailed(f"model should be a keras.Sequential, got {answer['not_a_model']}.")
    if answer.get("input_shape") != [28, 28, 1]:
        raise CheckFailed(f"the article's network takes 28x28x1 digits, this one takes {answer.get('input_shape')}. "
                          "Hint: keras.Input(shape=(28, 28, 1)), and padding='same' in C1.")
    layers = [layer for layer in answer["layers"] if layer["params"] or "Pool" in layer["class"]]
    for (name, shape), got in zip(SEED_LAYERS, layers + [None] * len(SEED_LAYERS)):
        if got is None or got["output_shape"] != list(shape):
            found = "nothing" if got is None else f"{got['name']} with output {tuple(got['output_shape'])}"
            raise CheckFailed(f"layer {name} should output {shape}; found {found}. "
                              "Hint: compare with the table in lesson 04; C1 uses padding='same'.")
        if name in ("S2", "S4") and got["class"] != "AveragePooling2D":
            raise CheckFailed(f"layer {name} is a {got['class']}; the article subsamples by averaging: "
                              "layers.AveragePooling2D(pool_size=2, strides=2).")
    expect_whole("trainable parameters", answer["trainable"], 61_706,
                 "the seed article's network has 61,706; check the kernel sizes and units.")
    _expect_seed_behaviour(given["images"], answer)
    return ("the seed article's LeNet-5: every output shape right, 61,706 parameters, "
            "tanh and softmax where they belong.")


def _expect_seed_behaviour(images: np.ndarray, answer: dict) -> None:
    """The student's weights in the reference seed network must give the student's outputs."""
    from lenet_helpers.models import seed_lenet5

    reference = seed_lenet5()
    weights = answer.get("weights")
    shapes = [w.shape for w in reference.get_weights()]
    if not isinstance(weights, list) or [getattr(w, "shape", None) for w in weights] != shapes:
        raise CheckFailed("the layers hold other weights than the article's network: one Conv2D or Dense per layer "
                          "of the table, with a bias, and nothing else that learns.")
    result = answer.get("outputs") or {}
    if "returned" not in result:
        raise CheckFailed(f"the model could not be run on a batch of digits: {result.get('raised', 'error')}: "
                          f"{result.get('message', '')}")
    reference.set_weights(weights)
    expected = np.asarray(reference(images, training=False))
    expect_array("the model's output on a batch of digits", result["returned"], expected,
                 "with the same weights, the article's network gives other outputs: tanh after C1, C3, C5 and F6, "
                 "softmax at the output, average pooling, padding='same' only in C1.", atol=1e-4)


ACCURACY_METRICS = ("accuracy", "acc", "categorical_accuracy")


@exercise("06-compile", ("model",), probe="compile")
def _compile(given: dict, answer: dict) -> str:
    if not answer.get("compiled"):
        raise CheckFailed("model is not compiled yet: call model.compile(optimizer=..., loss=..., metrics=[...]).")
    if answer.get("optimizer") != "SGD":
        raise CheckFailed(f"the article compiles with optimizer='SGD', got {answer.get('optimizer')}.")
    if answer.get("loss") != "categorical_crossentropy":
        raise CheckFailed("the loss should be categorical cross-entropy (labels are one-hot), "
                          f"got {answer.get('loss')}.")
    if not set(answer.get("metrics") or []) & set(ACCURACY_METRICS):
        raise CheckFailed("add metrics=['accuracy']: the cells below read history.history['val_accuracy'].")
    return "compiled like the article: SGD, categorical cross-entropy, accuracy."


def _test_inputs(cases: list, rng: np.random.Generator | None) -> dict:
    from lenet_helpers.data import prepare

    digits = reference_digits(grading=rng is not None)
    return {"x_test": prepare(digits.x_test), "y_test": digits.y_test.astype(np.int64)}


@exercise("06-evaluate", ("model", "test_loss", "test_accuracy"), probe="evaluate", inputs=_test_inputs)
def _evaluate(given: dict, answer: dict) -> str:
    result = answer.get("predictions") or {}
    labels = given["y_test"]
    predictions = result.get("returned")
    if not isinstance(predictions, np.ndarray) or predictions.shape != (len(labels), 10):
        raise CheckFailed("model could not predict the test digits; run the cells above again, in order.")
    accuracy = float(np.mean(predictions.argmax(axis=1) == labels))
    chosen = np.clip(predictions[np.arange(len(labels)), labels].astype(float), 1e-7, 1 - 1e-7)
    loss = float(-np.mean(np.log(chosen)))
    hint = "model.evaluate(x_test, y_test) returns [loss, accuracy] on the test digits, which training never saw."
    expect_number("test_accuracy", answer["values"]["test_accuracy"], accuracy, hint, tolerance=1.5 / len(labels))
    expect_number("test_loss", answer["values"]["test_loss"], loss, hint, tolerance=2e-3 + 1e-3 * loss)
    return "evaluated on the test digits, which training never saw."


# --- 06-split: which samples fit(validation_split=...) keeps for validation ---------------


def keras_validation_indices(n: int, fraction: float) -> np.ndarray:
    """Indices Keras's fit(validation_split=fraction) validates on: the last ones, cut at floor(n (1 - fraction))."""
    split_at = int(np.floor(n * (1.0 - fraction)))  # keras/src/trainers/data_adapters/array_slicing.py
    return np.arange(split_at, n)


def _split_case(rng: np.random.Generator) -> tuple:
    while True:  # keep away from products a hair off a whole number, where float rounding decides
        n, fraction = int(rng.integers(10, 5000)), round(float(rng.uniform(0.05, 0.5)), 3)
        cut = n * (1.0 - fraction)
        if abs(cut - round(cut)) > 1e-6:
            return n, fraction


function_exercise(
    "06-split", "validation_indices", ("n", "fraction"),
    reference=keras_validation_indices,
    visible=lambda: [(1000, 0.1), (37, 0.25)],
    draw=lambda rng: [_split_case(rng) for _ in range(3)],
    compare=arrays_close(hint="Keras cuts the arrays at split_at = floor(n * (1 - fraction)) and validates on "
                              "indices split_at, ..., n - 1, in order: np.arange(split_at, n)."),
    done="fit(validation_split=...) validates on the LAST samples, before any shuffling.")


# --- 06-history: the seed article's accuracy and loss plot, written by the student --------

HISTORY_KEYS = ("accuracy", "val_accuracy", "loss", "val_loss")


def _history(rng: np.random.Generator, epochs: int) -> dict:
    accuracy = np.sort(rng.uniform(0.1, 0.99, size=(2, epochs)), axis=1)
    loss = -np.sort(-rng.uniform(0.05, 2.3, size=(2, epochs)), axis=1)
    return {"accuracy": accuracy[0].round(4).tolist(), "loss": loss[0].round(4).tolist(),
            "val_accuracy": accuracy[1].round(4).tolist(), "val_loss": loss[1].round(4).tolist()}


def _history_inputs(cases: list, rng: np.random.Generator | None) -> dict:
    histories = [_history(np.random.default_rng(VISIBLE_SEED), 6)] + [args[0] for args in cases]
    if rng is not None:
        histories.append(_history(rng, int(rng.integers(3, 15))))
    return {"calls": [[history] for history in histories]}


def _find_line(axes: list, series: list) -> int | None:
    """The index of the axes holding a line whose y-data is `series`, or None."""
    for index, ax in enumerate(axes):
        for line in ax["lines"]:
            y = line["y"]
            if isinstance(y, np.ndarray) and y.shape == (len(series),) and np.allclose(y, series, atol=1e-6):
                return index
    return None


def _judge_figure(history: dict, drawn, which: str) -> None:
    if not isinstance(drawn, dict) or "returned" not in drawn:
        raised = drawn.get("raised", "an error") if isinstance(drawn, dict) else "an error"
        if raised == "NotImplementedError":
            raise ExerciseNotDone("plot_history still raises NotImplementedError: replace the stub.")
        raise CheckFailed(f"plot_history({which}) raised {raised}: {drawn.get('message', '')}".rstrip(": "))
    figure = drawn["returned"]
    if not isinstance(figure, dict) or "axes" not in figure:
        got = figure.get("not_a_figure") if isinstance(figure, dict) else type(figure).__name__
        raise CheckFailed(f"plot_history({which}) should return a matplotlib Figure, got {got}. "
                          "Hint: fig, (ax_accuracy, ax_loss) = plt.subplots(1, 2), draw, then return fig.")
    axes = figure["axes"]
    where = {}
    for key in HISTORY_KEYS:
        where[key] = _find_line(axes, history[key])
        if where[key] is None:
            raise CheckFailed(f"plot_history({which}): no line shows history[{key!r}] "
                              f"({len(history[key])} values, one per epoch). Hint: ax.plot(epochs, history[{key!r}]) "
                              "for each of accuracy, val_accuracy, loss and val_loss.")
    if where["accuracy"] != where["val_accuracy"] or where["loss"] != where["val_loss"]:
        raise CheckFailed(f"plot_history({which}): training and validation curves of the same quantity belong on the "
                          "same axes, so they can be compared. Hint: accuracy and val_accuracy on one, loss and "
                          "val_loss on the other.")
    if where["accuracy"] == where["loss"]:
        raise CheckFailed(f"plot_history({which}): accuracy (0 to 1) and loss (up to 2.3 and more) share one axes; "
                          "the accuracy curves get squashed. Hint: plt.subplots(1, 2), one axes each.")
    for key in ("accuracy", "loss"):
        ax = axes[where[key]]
        if "epoch" not in ax["xlabel"].lower() or not ax["ylabel"].strip():
            raise CheckFailed(f"plot_history({which}): the {key} axes is labelled x={ax['xlabel']!r}, "
                              f"y={ax['ylabel']!r}. Hint: ax.set_xlabel('epoch') and ax.set_ylabel({key!r}).")


def _judge_history(given: dict, answer: dict) -> str:
    if answer.get("not_callable"):
        raise CheckFailed(f"plot_history should be a function (def plot_history(history): ...), "
                          f"got {answer['not_callable']}.")
    results = answer.get("results")
    if not isinstance(results, list) or len(results) != len(given["calls"]):
        raise CheckFailed("plot_history did not return a figure for every history.")
    for index, (args, drawn) in enumerate(zip(given["calls"], results)):
        _judge_figure(args[0], drawn, "the check's history" if index == 0 else "another history")
    return ("accuracy and loss per epoch, training and validation side by side, on labelled axes: "
            "the seed article's plot.")


EXERCISES["06-history"] = Exercise("06-history", ("plot_history",), "figures", _history_inputs, _judge_history)
