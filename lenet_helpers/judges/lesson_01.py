"""Judges of lesson 01: convolution and C1."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    arrays_close,
    counts_exercise,
    function_exercise,
    sample_images,
    whole,
)


def _conv_size(width, kernel, padding=0, stride=1) -> int:
    """Keras's output size: the division rounded down (every case drawn here fits: F <= W + 2P)."""
    return (width - kernel + 2 * padding) // stride + 1


def _draw_conv_cases(rng: np.random.Generator) -> list:
    cases = []
    for _ in range(6):
        kernel, padding, stride = int(rng.integers(1, 8)), int(rng.integers(0, 4)), int(rng.integers(1, 5))
        cases.append((int(rng.integers(max(1, kernel - 2 * padding), 100)), kernel, padding, stride))
    return cases


function_exercise(
    "01-conv-output-size", "conv_output_size", ("width", "kernel", "padding", "stride"),
    reference=_conv_size,
    visible=lambda: [(32, 5, 0, 1), (28, 5, 2, 1), (14, 5, 0, 1), (5, 5, 0, 1), (28, 2, 0, 2)],
    draw=_draw_conv_cases,
    compare=whole("(W - F + 2P) / S + 1, with the division rounded down as Keras does: use //, "
                  "so the answer is a whole number (Conv2D(6, 5, strides=2) on 32x32 gives 14x14)."),
    done="(W - F + 2P) // S + 1 is right for C1, S2-style windows and 'same' padding.")

counts_exercise("01-c1-size", {
    "c1_size": (28, "a 32x32 input, a 5x5 kernel, no padding, stride 1: (32 - 5 + 0) / 1 + 1."),
}, "C1's maps are 28x28.")

counts_exercise("01-c1-counts", {
    "c1_params": (156, "6 kernels of 5x5 weights, each with one bias: 6 x (25 + 1)."),
    "c1_connections": (122_304, "each of the 156 parameters is used at every one of the 28 x 28 positions."),
}, "C1 has 156 trainable parameters and 122,304 connections, as in the paper.")


def convolve_reference(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A 'valid' convolution as Keras's Conv2D computes it (no kernel flip); tests compare it with Keras."""
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(image, float), np.asarray(kernel).shape)
    return np.einsum("ijkl,kl->ij", windows, np.asarray(kernel, float))


function_exercise(
    "01-numpy-conv", "convolve2d", ("image", "kernel"),
    reference=convolve_reference,
    visible=lambda: [(sample_images(1)[0] / 255.0, np.random.default_rng(1).normal(size=(5, 5)))],
    draw=lambda rng: [(sample_images(1, int(rng.integers(1 << 30)))[0] / 255.0, rng.normal(size=(5, 5)))],
    compare=arrays_close(atol=1e-3, hint="output[i, j] = sum(image[i:i+5, j:j+5] * kernel); "
                                          "Keras does not flip the kernel."),
    done="your NumPy convolution computes what Keras's Conv2D computes, on a real digit.")
