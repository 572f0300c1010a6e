"""Judges of lesson 02: subsampling and S2."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    VISIBLE_SEED,
    CheckFailed,
    ExerciseNotDone,
    arrays_close,
    counts_exercise,
    exercise,
    expect_array,
    expect_whole,
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


# --- your own Keras layer: the paper's subsampling --------------------------------------------


def _layer_inputs(cases: list, rng: np.random.Generator | None) -> dict:
    """A batch of maps and the weights (coefficient, then bias) the probe sets into the student's layer."""
    if rng is None:
        rng, height, width, maps = np.random.default_rng(VISIBLE_SEED), 28, 28, 6
    else:
        height, width, maps = 2 * int(rng.integers(1, 9)), 2 * int(rng.integers(1, 9)), int(rng.integers(1, 9))
    return {"input": rng.normal(size=(2, height, width, maps)).astype("float32"),
            "weights": [rng.normal(size=maps).astype("float32"), rng.normal(size=maps).astype("float32")]}


def library_subsampling(maps: np.ndarray, coefficient: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The course's Subsampling2D (no squashing) with the given weights, run on `maps` (N x H x W x C)."""
    from lenet_helpers.layers import Subsampling2D

    layer = Subsampling2D(pool_size=2)
    layer.build(maps.shape)
    layer.set_weights([np.asarray(coefficient, "float32"), np.asarray(bias, "float32")])
    return np.asarray(layer(np.asarray(maps, "float32")))


LAYER_HINT = ("sum (not average) each non-overlapping 2x2 block of every map, multiply by that map's coefficient, "
              "add its bias, and do not squash (no tanh) inside the layer.")


@exercise("02-subsampling-layer", ("Subsampling2D",), probe="layer", inputs=_layer_inputs)
def _subsampling_layer(given: dict, answer: dict) -> str:
    if answer.get("not_a_layer_class"):
        raise CheckFailed(f"Subsampling2D should be a class, `class Subsampling2D(keras.layers.Layer):`, "
                          f"got {answer['not_a_layer_class']}.")
    maps = given["input"]
    if not answer.get("built"):
        if answer.get("raised") == "NotImplementedError":
            raise ExerciseNotDone("Subsampling2D.build still raises NotImplementedError: replace the stub.")
        raise CheckFailed(f"building your layer for maps of shape {maps.shape[1:]} raised {answer.get('raised')}: "
                          f"{answer.get('message', '')}. Hint: in build, input_shape[-1] is the number of maps.")
    channels = maps.shape[-1]
    weights = answer.get("weights") or []
    shapes = [getattr(weight, "shape", None) for weight in weights]
    if shapes != [(channels,), (channels,)]:
        raise CheckFailed(f"on {channels} maps your layer should hold two weights of shape ({channels},), the "
                          f"coefficient first and then the bias; it holds {len(weights)}, of shapes {shapes}. "
                          "Hint: call self.add_weight(shape=(maps,), ...) twice in build, coefficient first.")
    expect_whole("trainable parameters", answer.get("trainable"), 2 * channels,
                 "both weights must be trainable (the default of add_weight): one coefficient and one bias per map.")
    result = answer.get("output") or {}
    if "returned" not in result:
        if result.get("raised") == "NotImplementedError":
            raise ExerciseNotDone("Subsampling2D.call still raises NotImplementedError: replace the stub.")
        raised = result.get("raised", "an error")
        raise CheckFailed(f"calling your layer on maps of shape {maps.shape} raised {raised}: "
                          f"{result.get('message', '')}")
    got = result["returned"]
    expected = library_subsampling(maps, weights[0], weights[1])
    try:
        expect_array(f"your layer's output on maps of shape {maps.shape}", got, expected,
                     f"with your weights, the course's Subsampling2D gives other outputs: {LAYER_HINT}", atol=1e-4)
    except CheckFailed:
        swapped = library_subsampling(maps, weights[1], weights[0])
        if isinstance(got, np.ndarray) and got.shape == swapped.shape and np.allclose(got, swapped, atol=1e-4):
            raise CheckFailed("your layer uses its first weight as the bias and its second as the coefficient. "
                              "Hint: create the coefficient first, then the bias.") from None
        raise
    return (f"your layer computes what lenet_helpers.layers.Subsampling2D computes with the same weights, "
            f"and has its {2 * channels} trainable parameters.")
