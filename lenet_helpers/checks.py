"""Self-checks: the cells after each exercise call `check("<id>", globals())` (every lesson).

A check prints a pass line, or stops the notebook with what was expected, what was given
and a hint, never a traceback from deep inside a library. The grader runs the very same
checks, so a student sees exactly what will be graded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class CheckFailed(AssertionError):
    """The answer is there but not right yet; the message says why and how to fix it."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"\u274c {self}"]


class ExerciseNotDone(NotImplementedError):
    """The exercise still has its `raise NotImplementedError()` stub, or its name is missing."""

    def _render_traceback_(self) -> list[str]:
        return [f"\u23f3 {self}"]


@dataclass(frozen=True)
class Exercise:
    """One self-check: which names it reads from the notebook and the function that judges them."""

    id: str
    names: tuple[str, ...]
    judge: Callable[..., str]


EXERCISES: dict[str, Exercise] = {}


def exercise(exercise_id: str, *names: str):
    """Register a judge: it receives the named notebook values and returns a pass message or raises CheckFailed."""

    def register(judge):
        EXERCISES[exercise_id] = Exercise(exercise_id, names, judge)
        return judge

    return register


def check(exercise_id: str, namespace: dict) -> None:
    """Run one self-check against the notebook's variables (`globals()`); print a pass line or stop with a hint."""
    if exercise_id not in EXERCISES:
        raise CheckFailed(f"there is no exercise called {exercise_id!r}; do not edit the check cells.")
    ex = EXERCISES[exercise_id]
    missing = [name for name in ex.names if name not in namespace]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ExerciseNotDone(
            f"[{exercise_id}] {', '.join(missing)} {verb} not defined yet: write your answer in the cell above "
            f"(replacing `raise NotImplementedError()`), run it, then run this check again."
        )
    try:
        message = ex.judge(*(namespace[name] for name in ex.names))
    except (CheckFailed, ExerciseNotDone) as failure:
        raise type(failure)(f"[{exercise_id}] {failure}") from None
    except NotImplementedError:
        raise ExerciseNotDone(
            f"[{exercise_id}] your code still raises NotImplementedError: replace the stub with your answer."
        ) from None
    except Exception as error:  # the student's code crashed inside the check: say where and what
        raise CheckFailed(f"[{exercise_id}] your code raised {type(error).__name__}: {error}") from None
    print(f"\u2705 [{exercise_id}] {message}")


# --- small judges shared by many exercises ----------------------------------------------


def expect_equal(what: str, got, expected, hint: str) -> None:
    """Raise CheckFailed unless got == expected (numbers compared as numbers)."""
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)) or got != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r}. Hint: {hint}")


def expect_array(what: str, got, expected: np.ndarray, hint: str, atol: float = 1e-5) -> None:
    """Raise CheckFailed unless `got` is an array of the expected shape and values."""
    got_array = np.asarray(got) if got is not None else None
    if got_array is None or got_array.shape != expected.shape:
        shape = None if got_array is None else got_array.shape
        raise CheckFailed(f"{what}: expected an array of shape {expected.shape}, got shape {shape}. Hint: {hint}")
    if not np.allclose(got_array.astype(float), expected.astype(float), atol=atol):
        worst = np.abs(got_array.astype(float) - expected.astype(float)).max()
        raise CheckFailed(f"{what}: right shape, but values differ (largest difference {worst:.3g}). Hint: {hint}")


def expect_callable(what: str, value) -> None:
    if not callable(value):
        raise CheckFailed(f"{what} should be a function (def {what}(...): ...), got {type(value).__name__}.")


def sample_images(n: int = 6, seed: int = 0) -> np.ndarray:
    """A few real digits from the shipped sample, as uint8 N x 28 x 28 (for checks)."""
    from lenet_helpers.data import SAMPLE_PATH, read_mnist_npz

    data = read_mnist_npz(SAMPLE_PATH, source="sample")
    return data.x_train[np.random.default_rng(seed).choice(len(data.x_train), n, replace=False)]



def _digits_by_bytes(images: np.ndarray, labels: np.ndarray) -> dict[bytes, int]:
    return {image.tobytes(): int(label) for image, label in zip(images, labels)}


# --- lesson 00: setup and MNIST ----------------------------------------------------------


@exercise("00-scale", "scale_pixels")
def _scale(scale_pixels) -> str:
    expect_callable("scale_pixels", scale_pixels)
    images = sample_images()
    got = np.asarray(scale_pixels(images))
    expect_array("scale_pixels(images)", got, images / 255.0, "divide by 255 so 0 stays 0 and 255 becomes 1.0")
    if got.dtype != np.float32:
        raise CheckFailed(f"values are right but the dtype is {got.dtype}; Keras expects float32. "
                          "Hint: .astype('float32').")
    return "pixels scaled to float32 in [0, 1]."


@exercise("00-pad", "pad_to_32")
def _pad(pad_to_32) -> str:
    expect_callable("pad_to_32", pad_to_32)
    images = sample_images() / 255.0
    expected = np.pad(images, [(0, 0), (2, 2), (2, 2)])
    expect_array("pad_to_32(images)", pad_to_32(images), expected,
                 "add 2 rows of zeros above and below and 2 columns left and right: np.pad(images, ...).")
    return "28x28 digits padded to 32x32, centred, with a zero border."


@exercise("00-one-hot", "one_hot")
def _one_hot(one_hot) -> str:
    expect_callable("one_hot", one_hot)
    labels = np.array([3, 0, 9, 3, 7], dtype=np.uint8)
    expect_array("one_hot([3, 0, 9, 3, 7])", one_hot(labels), np.eye(10)[labels],
                 "row i is all zeros except a 1 in column labels[i]; np.eye(10)[labels] does it.")
    return "labels turned into one-hot rows of 10."


@exercise("00-one-hot-all-digits", "one_hot")
def _one_hot_hidden(one_hot) -> str:
    labels = np.arange(10).repeat(3)
    expect_array("one_hot(all ten digits)", one_hot(labels), np.eye(10)[labels], "every digit 0-9 needs its column.")
    return "one_hot works for every digit."


@exercise("00-validation", "data", "x_tr", "y_tr", "x_val", "y_val")
def _validation(data, x_tr, y_tr, x_val, y_val) -> str:
    n = len(data.x_train)
    expect_equal("len(x_val)", len(x_val), n // 10, "take 10% of the training images: n // 10 of them.")
    expect_equal("len(x_tr) + len(x_val)", len(x_tr) + len(x_val), n,
                 "every training image goes either to x_tr or to x_val, never both.")
    if len(y_tr) != len(x_tr) or len(y_val) != len(x_val):
        raise CheckFailed("images and labels must be split at the same place: len(y_val) == len(x_val).")
    train_labels = _digits_by_bytes(data.x_train, data.y_train)
    test_images = {image.tobytes() for image in data.x_test}
    for name, images, labels in (("x_val", x_val, y_val), ("x_tr", x_tr, y_tr)):
        keys = [np.asarray(image).tobytes() for image in images]
        if any(key in test_images for key in keys):
            raise CheckFailed(f"{name} contains test images. The test set stays untouched until the very end; "
                              "split data.x_train instead.")
        if any(key not in train_labels for key in keys):
            raise CheckFailed(f"{name} holds images that are not data.x_train's raw digits; split before scaling.")
        if any(train_labels[key] != int(label) for key, label in zip(keys, labels)):
            raise CheckFailed(f"{name} and its labels no longer line up; slice images and labels the same way.")
    if len({np.asarray(image).tobytes() for image in x_val} & {np.asarray(image).tobytes() for image in x_tr}):
        raise CheckFailed("some images are in both x_tr and x_val; the two parts must not overlap.")
    return "90% to train on, 10% to validate with, all from the training set, none from the test set."


# --- lesson 01: convolution and C1 ---------------------------------------------------------

CONV_CASES = [((32, 5, 0, 1), 28), ((28, 5, 2, 1), 28), ((14, 5, 0, 1), 10), ((5, 5, 0, 1), 1), ((28, 2, 0, 2), 14)]
CONV_HIDDEN_CASES = [((7, 3, 0, 2), 3), ((227, 11, 0, 4), 55), ((10, 3, 1, 1), 10), ((1, 1, 0, 1), 1)]


def _judge_conv_output_size(conv_output_size, cases) -> None:
    expect_callable("conv_output_size", conv_output_size)
    for (width, kernel, padding, stride), expected in cases:
        got = conv_output_size(width, kernel, padding, stride)
        expect_equal(f"conv_output_size({width}, {kernel}, {padding}, {stride})", got, expected,
                     "(W - F + 2P) / S + 1; use // so the answer is a whole number.")


@exercise("01-conv-output-size", "conv_output_size")
def _conv_output_size(conv_output_size) -> str:
    _judge_conv_output_size(conv_output_size, CONV_CASES)
    return "(W - F + 2P) / S + 1 is right for C1, S2-style windows and 'same' padding."


@exercise("01-conv-output-size-more", "conv_output_size")
def _conv_output_size_hidden(conv_output_size) -> str:
    _judge_conv_output_size(conv_output_size, CONV_HIDDEN_CASES)
    return "conv_output_size works for strides and paddings beyond LeNet-5 too."


@exercise("01-c1-size", "c1_size")
def _c1_size(c1_size) -> str:
    expect_equal("c1_size", c1_size, 28, "a 32x32 input, a 5x5 kernel, no padding, stride 1: (32 - 5 + 0) / 1 + 1.")
    return "C1's maps are 28x28."


@exercise("01-c1-counts", "c1_params", "c1_connections")
def _c1_counts(c1_params, c1_connections) -> str:
    expect_equal("c1_params", c1_params, 156, "6 kernels of 5x5 weights, each with one bias: 6 x (25 + 1).")
    expect_equal("c1_connections", c1_connections, 122_304,
                 "each of the 156 parameters is used at every one of the 28 x 28 positions.")
    return "C1 has 156 trainable parameters and 122,304 connections, as in the paper."


@exercise("01-numpy-conv", "convolve2d")
def _numpy_conv(convolve2d) -> str:
    from lenet_helpers._tf import keras

    expect_callable("convolve2d", convolve2d)
    image = sample_images(1)[0] / 255.0
    kernel = np.random.default_rng(1).normal(size=(5, 5))
    conv = keras.layers.Conv2D(1, 5, use_bias=False)
    conv.build((None, 28, 28, 1))
    conv.set_weights([kernel.reshape(5, 5, 1, 1)])
    expected = np.asarray(conv(image.reshape(1, 28, 28, 1).astype("float32")))[0, :, :, 0]
    expect_array("convolve2d(image, kernel)", convolve2d(image, kernel), expected,
                 "output[i, j] = sum(image[i:i+5, j:j+5] * kernel); Keras does not flip the kernel.", atol=1e-3)
    return "your NumPy convolution matches Keras's Conv2D on a real digit."


# --- lesson 02: subsampling and S2 ---------------------------------------------------------


@exercise("02-average-pool", "average_pool_2x2")
def _average_pool(average_pool_2x2) -> str:
    from lenet_helpers._tf import keras

    expect_callable("average_pool_2x2", average_pool_2x2)
    maps = np.random.default_rng(2).normal(size=(28, 28)).astype("float32")
    expected = np.asarray(keras.layers.AveragePooling2D(2)(maps.reshape(1, 28, 28, 1)))[0, :, :, 0]
    expect_array("average_pool_2x2(maps)", average_pool_2x2(maps), expected,
                 "average each non-overlapping 2x2 block; reshape to (14, 2, 14, 2) and take the mean.")
    return "your pooling matches Keras's AveragePooling2D."


@exercise("02-s2-counts", "s2_size", "s2_params", "s2_connections")
def _s2_counts(s2_size, s2_params, s2_connections) -> str:
    expect_equal("s2_size", s2_size, 14, "a 2x2 window with stride 2 halves 28.")
    expect_equal("s2_params", s2_params, 12, "one trainable coefficient and one bias for each of the 6 maps.")
    expect_equal("s2_connections", s2_connections, 5_880,
                 "each of 14 x 14 x 6 units has 4 inputs and a bias: 14 x 14 x 6 x (4 + 1).")
    return "S2: 14x14x6, 12 trainable parameters, 5,880 connections."


@exercise("02-subsample", "subsample")
def _subsample(subsample) -> str:
    expect_callable("subsample", subsample)
    rng = np.random.default_rng(3)
    maps, coefficient, bias = rng.normal(size=(8, 8, 3)), rng.normal(size=3), rng.normal(size=3)
    expected = maps.reshape(4, 2, 4, 2, 3).sum(axis=(1, 3)) * coefficient + bias
    expect_array("subsample(maps, coefficient, bias)", subsample(maps, coefficient, bias), expected,
                 "sum (not average) each 2x2 block of every map, multiply by that map's coefficient, add its bias.")
    return "the paper's trainable subsampling, before the squashing function."


# --- lesson 03: C3 and Table I ---------------------------------------------------------------


@exercise("03-table", "table")
def _table(table) -> str:
    from lenet_helpers.layers import TABLE_I

    got = np.asarray(table)
    if got.shape != TABLE_I.shape:
        raise CheckFailed(f"table should have shape (6, 16): rows are S2 maps, columns C3 maps; got {got.shape}.")
    wrong = [j for j in range(16) if not np.array_equal(got[:, j].astype(bool), TABLE_I[:, j])]
    if wrong:
        j = wrong[0]
        raise CheckFailed(f"column {j} (C3 map {j}) should connect S2 maps {np.flatnonzero(TABLE_I[:, j]).tolist()}, "
                          f"got {np.flatnonzero(got[:, j]).tolist()}. Hint: read Table I column by column.")
    return "Table I: 6 maps see 3 inputs, 9 see 4, 1 sees all 6."


@exercise("03-c3-counts", "c3_params", "c3_connections")
def _c3_counts(c3_params, c3_connections) -> str:
    expect_equal("c3_params", c3_params, 1_516,
                 "6 maps x (3 x 25 + 1) + 9 maps x (4 x 25 + 1) + 1 map x (6 x 25 + 1).")
    expect_equal("c3_connections", c3_connections, 151_600, "every parameter is used at each of the 10 x 10 positions.")
    return "C3 with Table I: 1,516 parameters, 151,600 connections."


@exercise("03-full-c3", "full_c3_params", "full_c3_connections")
def _full_c3(full_c3_params, full_c3_connections) -> str:
    expect_equal("full_c3_params", full_c3_params, 2_416, "16 maps, each seeing all 6 inputs: 16 x (6 x 25 + 1).")
    expect_equal("full_c3_connections", full_c3_connections, 241_600, "2,416 parameters x 10 x 10 positions.")
    return "a full C3 would need 2,416 parameters and 241,600 connections."


# --- lesson 04: S4, C5, F6 and the output --------------------------------------------------


@exercise("04-s4-counts", "s4_size", "s4_params", "s4_connections")
def _s4_counts(s4_size, s4_params, s4_connections) -> str:
    expect_equal("s4_size", s4_size, 5, "2x2 windows with stride 2 on 10x10 maps.")
    expect_equal("s4_params", s4_params, 32, "like S2: a coefficient and a bias per map, now 16 maps.")
    expect_equal("s4_connections", s4_connections, 2_000, "5 x 5 x 16 units, each with 4 inputs and a bias.")
    return "S4: 5x5x16, 32 parameters, 2,000 connections."


@exercise("04-c5-counts", "c5_size", "c5_params")
def _c5_counts(c5_size, c5_params) -> str:
    expect_equal("c5_size", c5_size, 1, "a 5x5 kernel on a 5x5 map leaves one position.")
    expect_equal("c5_params", c5_params, 48_120, "120 maps x (16 inputs x 25 weights + 1 bias).")
    return "C5: 120 maps of 1x1, 48,120 parameters (and as many connections)."


@exercise("04-f6-counts", "f6_params")
def _f6_counts(f6_params) -> str:
    expect_equal("f6_params", f6_params, 10_164, "84 units, each with 120 weights and 1 bias.")
    return "F6: 10,164 parameters."


@exercise("04-seed-total", "seed_total")
def _seed_total(seed_total) -> str:
    expect_equal("seed_total", seed_total, 61_706,
                 "add C1, C3 (full), C5, F6 and a softmax output of 10 x (84 + 1); pooling has no parameters here.")
    return "the seed article's network has 61,706 trainable parameters."


# --- lesson 05: build and train ---------------------------------------------------------------


@exercise("05-build", "model")
def _build(model) -> str:
    from lenet_helpers.models import seed_lenet5
    from lenet_helpers.shapes import layer_table, trainable_params

    if not hasattr(model, "layers") or not hasattr(model, "count_params"):
        raise CheckFailed(f"model should be a keras.Sequential, got {type(model).__name__}.")
    expected = [(row.name, row.output_shape) for row in layer_table(seed_lenet5())]
    got = [(layer.name, tuple(layer.output.shape[1:])) for layer in model.layers
           if layer.count_params() or "Pool" in type(layer).__name__]
    for (name, shape), got_layer in zip(expected, got + [None] * len(expected)):
        if got_layer is None or got_layer[1] != shape:
            found = "nothing" if got_layer is None else f"{got_layer[0]} with output {got_layer[1]}"
            raise CheckFailed(f"layer {name} should output {shape}; found {found}. "
                              "Hint: compare with the table in lesson 04; C1 uses padding='same'.")
    expect_equal("trainable parameters", trainable_params(model), 61_706,
                 "the seed article's network has 61,706; check the kernel sizes and units.")
    return "the seed article's LeNet-5: every output shape right, 61,706 parameters."


@exercise("05-compile", "model")
def _compile(model) -> str:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(model, "compiled", False):
        raise CheckFailed("model is not compiled yet: call model.compile(optimizer=..., loss=..., metrics=[...]).")
    if type(optimizer).__name__ != "SGD":
        raise CheckFailed(f"the article compiles with optimizer='SGD', got {type(optimizer).__name__}.")
    loss = getattr(model, "loss", None)
    name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(loss, "__name__", repr(loss))
    if name != "categorical_crossentropy":
        raise CheckFailed(f"the loss should be categorical cross-entropy (labels are one-hot), got {name}.")
    return "compiled like the article: SGD, categorical cross-entropy, accuracy."


@exercise("05-evaluate", "model", "split", "test_loss", "test_accuracy")
def _evaluate(model, split, test_loss, test_accuracy) -> str:
    results = model.evaluate(split.x_test, split.y_test, batch_size=256, verbose=0, return_dict=True)
    for name, got, key in (("test_loss", test_loss, "loss"), ("test_accuracy", test_accuracy, "accuracy")):
        if not isinstance(got, (float, np.floating)) or abs(float(got) - results[key]) > 1e-3:
            raise CheckFailed(f"{name} should be {results[key]:.4f} (the model on split.x_test / split.y_test), "
                              f"got {got!r}. Hint: model.evaluate(split.x_test, split.y_test) on the test set.")
    return "evaluated on the test digits, which training never saw."


# --- lesson 06: evaluate and visualise ------------------------------------------------------


def _reference_confusion(y_true, y_pred, classes=10) -> np.ndarray:
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


@exercise("06-confusion", "confusion_matrix")
def _confusion(confusion_matrix) -> str:
    expect_callable("confusion_matrix", confusion_matrix)
    rng = np.random.default_rng(6)
    y_true, y_pred = rng.integers(0, 10, 200), rng.integers(0, 10, 200)
    expect_array("confusion_matrix(y_true, y_pred)", confusion_matrix(y_true, y_pred),
                 _reference_confusion(y_true, y_pred),
                 "matrix[t, p] counts images of digit t predicted as p: rows are the truth.")
    return "rows are true digits, columns predictions, the diagonal is what the network got right."


@exercise("06-confusion-perfect", "confusion_matrix")
def _confusion_hidden(confusion_matrix) -> str:
    labels = np.arange(10).repeat(2)
    expect_array("confusion_matrix(perfect predictions)", confusion_matrix(labels, labels),
                 _reference_confusion(labels, labels), "perfect predictions put everything on the diagonal.")
    return "confusion_matrix handles perfect predictions."


@exercise("06-worst", "worst_mistakes")
def _worst(worst_mistakes) -> str:
    expect_callable("worst_mistakes", worst_mistakes)
    rng = np.random.default_rng(7)
    probabilities = rng.dirichlet(np.ones(10), size=300)
    labels = rng.integers(0, 10, 300)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    expected = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:5]
    got = np.asarray(worst_mistakes(probabilities, labels, 5))
    expect_array("worst_mistakes(probabilities, labels, 5)", got, expected,
                 "keep the wrong predictions, sort them by the probability given to the (wrong) predicted digit, "
                 "most confident first.")
    return "found the mistakes the network was most sure of."


# --- lesson 07: the paper's network ------------------------------------------------------------


@exercise("07-squash", "squash")
def _squash(squash) -> str:
    expect_callable("squash", squash)
    a = np.linspace(-4, 4, 41)
    expect_array("squash(a)", squash(a), 1.7159 * np.tanh(2 * a / 3), "A tanh(S a) with A = 1.7159 and S = 2/3.")
    return "f(a) = 1.7159 tanh(2a/3); note f(1) is almost exactly 1."


@exercise("07-rbf", "rbf_distances")
def _rbf(rbf_distances) -> str:
    from lenet_helpers.layers import digit_codes

    expect_callable("rbf_distances", rbf_distances)
    codes = digit_codes()
    x = np.random.default_rng(8).normal(size=(5, 84)).astype("float32")
    expected = ((x[:, None, :] - codes[None, :, :]) ** 2).sum(axis=-1)
    expect_array("rbf_distances(x, codes)", rbf_distances(x, codes), expected,
                 "y[n, i] = sum over j of (x[n, j] - codes[i, j])**2; broadcast x[:, None, :] - codes[None].",
                 atol=1e-3)
    return "each output unit measures how far F6 is from its digit's code."


@exercise("07-paper-totals", "paper_params", "paper_connections")
def _paper_totals(paper_params, paper_connections) -> str:
    expect_equal("paper_params", paper_params, 60_000, "sum the params column of the paper's table.")
    expect_equal("paper_connections", paper_connections, 340_908, "sum the connections column.")
    return "60,000 trainable parameters and 340,908 connections, exactly the paper's figures."
