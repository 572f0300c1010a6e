"""Judges of lesson 06: build and train."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    VISIBLE_SEED,
    CheckFailed,
    exercise,
    expect_array,
    expect_number,
    expect_whole,
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
