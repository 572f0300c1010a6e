"""Judges of lesson 00: setup and MNIST."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    CheckFailed,
    arrays_close,
    exercise,
    expect_whole,
    function_exercise,
    reference_digits,
    sample_images,
)

function_exercise(
    "00-scale", "scale_pixels", ("images",),
    reference=lambda images: np.asarray(images) / 255.0,
    visible=lambda: [(sample_images(),)],
    draw=lambda rng: [(sample_images(6, int(rng.integers(1 << 30))),)],
    compare=arrays_close(dtype="float32", hint="divide by 255 so 0 stays 0 and 255 becomes 1.0"),
    done="pixels scaled to float32 in [0, 1].")

function_exercise(
    "00-pad", "pad_to_32", ("images",),
    reference=lambda images: np.pad(np.asarray(images), [(0, 0), (2, 2), (2, 2)]),
    visible=lambda: [(sample_images() / 255.0,)],
    draw=lambda rng: [(sample_images(4, int(rng.integers(1 << 30))) / 255.0,)],
    compare=arrays_close(hint="add 2 rows of zeros above and below and 2 columns left and right: "
                               "np.pad(images, ...)."),
    done="28x28 digits padded to 32x32, centred, with a zero border.")

function_exercise(
    "00-paper-scale", "scale_like_the_paper", ("images",),
    reference=lambda images: -0.1 + np.asarray(images) / 255.0 * (1.175 - -0.1),
    visible=lambda: [(sample_images(),)],
    draw=lambda rng: [(sample_images(4, int(rng.integers(1 << 30))),),
                      (rng.integers(0, 256, size=(2, 28, 28)).astype(np.uint8),)],
    compare=arrays_close(dtype="float32", hint="a straight line through (0, -0.1) and (255, 1.175): "
                                                "-0.1 + pixels / 255 * (1.175 - (-0.1))."),
    done="the paper's input scaling: white paper -0.1, full ink 1.175, a straight line in between.")

function_exercise(
    "00-one-hot", "one_hot", ("labels",),
    reference=lambda labels: np.eye(10)[np.asarray(labels, dtype=int)],
    visible=lambda: [(np.array([3, 0, 9, 3, 7], dtype=np.uint8),)],
    draw=lambda rng: [(rng.integers(0, 10, 12).astype(np.uint8),)],
    compare=arrays_close(hint="row i is all zeros except a 1 in column labels[i]; np.eye(10)[labels] does it."),
    done="labels turned into one-hot rows of 10.")


def _validation_inputs(cases: list, rng: np.random.Generator | None) -> dict:
    digits = reference_digits(grading=rng is not None)
    return {"x_train": digits.x_train, "y_train": digits.y_train, "x_test": digits.x_test}


@exercise("00-validation", ("x_tr", "y_tr", "x_val", "y_val"), inputs=_validation_inputs)
def _validation(given: dict, answer: dict) -> str:
    values = answer["values"]
    parts = {}
    for name in ("x_tr", "y_tr", "x_val", "y_val"):
        if not isinstance(values[name], np.ndarray):
            raise CheckFailed(f"{name} should be an array sliced from data, got {values[name]!r}.")
        parts[name] = values[name]
    n = len(given["x_train"])
    expect_whole("len(x_val)", len(parts["x_val"]), n // 10, "take 10% of the training images: n // 10 of them.")
    expect_whole("len(x_tr) + len(x_val)", len(parts["x_tr"]) + len(parts["x_val"]), n,
                 "every training image goes either to x_tr or to x_val, never both.")
    if len(parts["y_tr"]) != len(parts["x_tr"]) or len(parts["y_val"]) != len(parts["x_val"]):
        raise CheckFailed("images and labels must be split at the same place: len(y_val) == len(x_val).")
    train_labels = {image.tobytes(): int(label) for image, label in zip(given["x_train"], given["y_train"])}
    test_images = {image.tobytes() for image in given["x_test"]}
    for name, images, labels in (("x_val", parts["x_val"], parts["y_val"]), ("x_tr", parts["x_tr"], parts["y_tr"])):
        if images.shape[1:] != (28, 28) or images.dtype != given["x_train"].dtype:
            raise CheckFailed(f"{name} should hold data.x_train's raw 28x28 digits; split before scaling.")
        keys = [image.tobytes() for image in images]
        if any(key in test_images for key in keys):
            raise CheckFailed(f"{name} contains test images. The test set stays untouched until the very end; "
                              "split data.x_train instead.")
        if any(key not in train_labels for key in keys):
            raise CheckFailed(f"{name} holds images that are not data.x_train's raw digits; split before scaling.")
        if any(train_labels[key] != int(label) for key, label in zip(keys, labels)):
            raise CheckFailed(f"{name} and its labels no longer line up; slice images and labels the same way.")
    if {image.tobytes() for image in parts["x_val"]} & {image.tobytes() for image in parts["x_tr"]}:
        raise CheckFailed("some images are in both x_tr and x_val; the two parts must not overlap.")
    return "90% to train on, 10% to validate with, all from the training set, none from the test set."
