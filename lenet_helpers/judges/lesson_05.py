"""Judges of lesson 05: gradients by hand (finite differences, backward passes, GradientTape)."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    CheckFailed,
    arrays_close,
    exercise,
    expect_array,
    function_exercise,
    sample_images,
)
from lenet_helpers.judges.lesson_01 import convolve_reference

# --- a gradient checker: centred differences ----------------------------------------------------

CUBE_POINT = np.array([[1, -2, 3], [0, 2, -1]])  # whole numbers on purpose: x + eps must not be rounded back to x


@exercise("05-numerical-gradient", ("cube_point", "cube_gradient"))
def _numerical_gradient(given: dict, answer: dict) -> str:
    point, gradient = answer["values"]["cube_point"], answer["values"]["cube_gradient"]
    if not isinstance(point, np.ndarray) or not np.array_equal(point, CUBE_POINT):
        raise CheckFailed(f"cube_point should still be {CUBE_POINT.tolist()} after numerical_gradient ran, "
                          f"got {point!r}. Hint: nudge a float copy of x (x = np.array(x, dtype=float)), "
                          "never the array you were given.")
    expected = 3.0 * CUBE_POINT ** 2
    hint = ("for each entry k: (f(x with x[k] + eps) - f(x with x[k] - eps)) / (2 eps), on a float copy of x, "
            "putting x[k] back before the next entry.")
    if isinstance(gradient, np.ndarray) and gradient.shape == expected.shape and np.allclose(gradient, 0):
        raise CheckFailed("numerical_gradient(cube, cube_point) is all zeros; it should be 3 x**2 = "
                          f"{expected.astype(int).tolist()}. Hint: cube_point holds whole numbers, and an integer "
                          "array stores x[k] + eps rounded back to x[k]: nudge a float copy, "
                          "x = np.array(x, dtype=float).")
    expect_array("numerical_gradient(cube, cube_point)", gradient, expected, hint, atol=1e-3)
    if not np.all(np.abs(gradient - expected) <= 1e-6):
        worst = float(np.max(np.abs(gradient - expected)))
        raise CheckFailed(f"numerical_gradient(cube, cube_point) is close to 3 x**2 but off by up to {worst:.1e}; "
                          "centred differences with eps = 1e-5 are within 1e-6 here. Hint: a forward difference "
                          "(f(x + eps) - f(x)) / eps, or a large eps, makes an error proportional to eps; divide "
                          "f(x + eps) - f(x - eps) by 2 eps.")
    return "centred differences: the gradient of sum(x**3) is 3 x**2, within 1e-6."


# --- backward pass of 2x2 average pooling ------------------------------------------------------


def pool_backward_reference(grad_output, input_shape) -> np.ndarray:
    """dL/d(input) of 2x2 average pooling with stride 2 (Keras rounds down: a last odd row/column gets 0)."""
    grad_output = np.asarray(grad_output, float)
    height, width = (int(size) for size in input_shape)
    rows, columns = grad_output.shape
    grad_input = np.zeros((height, width))
    grad_input[: 2 * rows, : 2 * columns] = np.repeat(np.repeat(grad_output, 2, axis=0), 2, axis=1) / 4
    return grad_input


def _draw_pool(rng: np.random.Generator) -> list:
    cases = []
    for _ in range(3):
        rows, columns = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        shape = (2 * rows + int(rng.integers(0, 2)), 2 * columns + int(rng.integers(0, 2)))
        cases.append((rng.normal(size=(rows, columns)), shape))
    return cases


function_exercise(
    "05-pool-backward", "average_pool_2x2_backward", ("grad_output", "input_shape"),
    reference=pool_backward_reference,
    visible=lambda: [(np.random.default_rng(5).normal(size=(14, 14)), (28, 28)),
                     (np.random.default_rng(6).normal(size=(2, 3)), (5, 7))],
    draw=_draw_pool,
    compare=arrays_close(atol=1e-6, hint="each input of a 2x2 window gets a quarter of that window's gradient: "
                                         "grad_input[i, j] = grad_output[i // 2, j // 2] / 4; a last odd row or "
                                         "column is in no window and gets 0; the result has shape input_shape."),
    done="each input receives a quarter of its window's gradient, and unused pixels receive nothing.")


# --- backward pass of the 'valid' convolution of lesson 01 ------------------------------------


def _draw_conv(rng: np.random.Generator) -> list:
    """(image, kernel, grad_output) triples of random, often rectangular, shapes."""
    cases = []
    for _ in range(3):
        height, width = int(rng.integers(5, 13)), int(rng.integers(5, 13))
        kernel = rng.normal(size=(int(rng.integers(1, 6)), int(rng.integers(1, 6))))
        grad_output = rng.normal(size=(height - kernel.shape[0] + 1, width - kernel.shape[1] + 1))
        cases.append((rng.normal(size=(height, width)), kernel, grad_output))
    return cases


def _visible_conv() -> tuple:
    rng = np.random.default_rng(7)
    return sample_images(1, seed=7)[0] / 255.0, rng.normal(size=(5, 5)), rng.normal(size=(24, 24))


def conv_kernel_gradient_reference(image, grad_output) -> np.ndarray:
    """dL/d(kernel) of output = convolve2d(image, kernel): the image's windows weighted by grad_output."""
    return convolve_reference(image, grad_output)


def conv_image_gradient_reference(kernel, grad_output) -> np.ndarray:
    """dL/d(image) of output = convolve2d(image, kernel): each output gives grad_output[i, j] x kernel to its window."""
    kernel, grad_output = np.asarray(kernel, float), np.asarray(grad_output, float)
    (kernel_height, kernel_width), (rows, columns) = kernel.shape, grad_output.shape
    grad_image = np.zeros((rows + kernel_height - 1, columns + kernel_width - 1))
    for i in range(rows):
        for j in range(columns):
            grad_image[i:i + kernel_height, j:j + kernel_width] += grad_output[i, j] * kernel
    return grad_image


function_exercise(
    "05-conv-kernel-grad", "convolve2d_kernel_gradient", ("image", "grad_output"),
    reference=conv_kernel_gradient_reference,
    visible=lambda: [(image, grad_output) for image, _, grad_output in [_visible_conv()]],
    draw=lambda rng: [(image, grad_output) for image, _, grad_output in _draw_conv(rng)],
    compare=arrays_close(atol=1e-4, hint="grad_kernel[a, b] = sum over i, j of grad_output[i, j] * "
                                         "image[i + a, j + b]: the kernel's shape is image.shape - "
                                         "grad_output.shape + 1, and kernels need not be square."),
    done="the kernel's gradient adds up one contribution from every position the kernel was used at.")

function_exercise(
    "05-conv-image-grad", "convolve2d_image_gradient", ("kernel", "grad_output"),
    reference=conv_image_gradient_reference,
    visible=lambda: [(kernel, grad_output) for _, kernel, grad_output in [_visible_conv()]],
    draw=lambda rng: [(kernel, grad_output) for _, kernel, grad_output in _draw_conv(rng)],
    compare=arrays_close(atol=1e-4, hint="output[i, j] used image[i:i+F, j:j+F], so it sends grad_output[i, j] * "
                                         "kernel back onto that window (+=, windows overlap); the image's shape "
                                         "is grad_output.shape + kernel.shape - 1."),
    done="every output sends its gradient, weighted by the kernel, back onto the window it came from.")


# --- the same gradient with tf.GradientTape ---------------------------------------------------------

EDGE_KERNEL = np.array([[1, 1, 0, -1, -1]] * 5, dtype=float) / 10  # lesson 01's vertical-edge kernel


def squared_error_gradient_reference(kernel, images, targets) -> np.ndarray:
    """d/d(kernel) of mean((convolve2d(image, kernel) - target)**2) over all images and pixels."""
    residuals = np.stack([convolve_reference(image, kernel) for image in images]) - np.asarray(targets, float)
    return 2 * sum(convolve_reference(image, residual) for image, residual in zip(images, residuals)) / residuals.size


def _visible_tape() -> list:
    digits = sample_images(4, seed=5) / 255.0
    targets = np.stack([convolve_reference(digit, EDGE_KERNEL) for digit in digits])
    return [(np.zeros((5, 5)), digits, targets)]


def _draw_tape(rng: np.random.Generator) -> list:
    cases = []
    for _ in range(2):
        count, size, width = int(rng.integers(1, 5)), int(rng.integers(6, 15)), int(rng.integers(2, 6))
        cases.append((rng.normal(size=(width, width)), rng.normal(size=(count, size, size)),
                      rng.normal(size=(count, size - width + 1, size - width + 1))))
    return cases


function_exercise(
    "05-tape-gradient", "squared_error_gradient", ("kernel", "images", "targets"),
    reference=squared_error_gradient_reference,
    visible=_visible_tape,
    draw=_draw_tape,
    compare=arrays_close(atol=1e-4, hint="inside `with tf.GradientTape() as tape:` compute "
                                         "loss = tf.reduce_mean((tf_convolve(images, kernel) - targets) ** 2) "
                                         "with float32 tensors (watch the kernel: make it a tf.Variable or call "
                                         "tape.watch), then return tape.gradient(loss, kernel) as a NumPy array."),
    done="the gradient of the mean squared error with respect to the kernel, as the tape computes it.")


@exercise("05-learned-kernel", ("learned_kernel",))
def _learned_kernel(given: dict, answer: dict) -> str:
    got = answer["values"]["learned_kernel"]
    hint = ("run a few hundred steps of kernel.assign_sub(learning_rate * gradient), with the gradient of the "
            "mean squared error from the tape, then learned_kernel = kernel.numpy().")
    expect_array("learned_kernel", got, EDGE_KERNEL, hint, atol=0.01)
    return "gradient descent recovered lesson 01's vertical-edge kernel from examples, within 0.01 everywhere."
