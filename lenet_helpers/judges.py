"""The judges: each exercise's inputs, and the verdict on its answer given as plain data (every lesson).

A judge never sees a student's objects, only plain data (`lenet_helpers.plain`) that a probe
(`lenet_helpers.probes`) pulled out of the notebook: numbers, arrays, and what a student's
function returned on the inputs listed here. The self-check cells (`checks.check`) and the
grader call the very same judges: the student sees while working what the grader will
decide. The grader adds inputs drawn afresh at grading time and the hidden cases, which
live only in the instructor's solution notebooks, never in this package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lenet_helpers.plain import Foreign, to_plain

VISIBLE_SEED = 1998  # the inputs of a self-check are the same on every run


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
    """One exercise: the notebook names it reads, how a probe reads them, its inputs and its judge."""

    id: str
    names: tuple[str, ...]
    probe: str  # the name of the probe in lenet_helpers.probes that pulls the answer out
    inputs: Callable[[list, np.random.Generator | None], dict]  # (hidden cases, fresh rng when grading)
    judge: Callable[[dict, dict], str]  # (inputs, answer) -> a pass message, or raises CheckFailed


EXERCISES: dict[str, Exercise] = {}


def verdict(exercise_id: str, inputs: dict, answer: dict) -> str:
    """Judge one exercise's answer (plain data); returns the pass message or raises CheckFailed/ExerciseNotDone."""
    exercise = EXERCISES[exercise_id]
    missing = answer.get("missing") or []
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise ExerciseNotDone(
            f"[{exercise_id}] {', '.join(map(str, missing))} {verb} not defined yet: write your answer in the cell "
            f"above (replacing `raise NotImplementedError()`), run it, then run this check again.")
    try:
        if answer.get("unreadable"):
            raise CheckFailed(f"your answer could not be read ({answer['unreadable']}).")
        return exercise.judge(inputs, answer)
    except (CheckFailed, ExerciseNotDone) as failure:
        raise type(failure)(f"[{exercise_id}] {failure}") from None


def inputs_for(exercise_id: str, cases: list | None = None, rng: np.random.Generator | None = None) -> dict:
    """The inputs a probe needs: the visible ones, then any hidden `cases`, then fresh ones when `rng` is given."""
    return EXERCISES[exercise_id].inputs(list(cases or []), rng)


# --- small judges shared by many exercises ----------------------------------------------


def expect_whole(what: str, got, expected: int, hint: str) -> None:
    """Raise CheckFailed unless `got` is the whole number `expected` (an int, not 28.0)."""
    if isinstance(got, float) and got == expected:
        raise CheckFailed(f"{what}: expected the whole number {expected!r}, got the float {got!r}. "
                          "Hint: use // (whole-number division) or int(...); a count has no decimals.")
    if isinstance(got, bool) or not isinstance(got, int) or got != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {got!r}. Hint: {hint}")


def expect_number(what: str, got, expected: float, hint: str, tolerance: float) -> None:
    """Raise CheckFailed unless `got` is a number within `tolerance` of `expected`."""
    if isinstance(got, bool) or not isinstance(got, (int, float)) or not abs(got - expected) <= tolerance:
        raise CheckFailed(f"{what}: expected {expected:.4f}, got {got!r}. Hint: {hint}")


def expect_array(what: str, got, expected: np.ndarray, hint: str, atol: float = 1e-5) -> None:
    """Raise CheckFailed unless `got` is an array of the expected shape and values."""
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{what}: expected an array of shape {expected.shape}, got {got!r}. Hint: {hint}")
    if got.shape != expected.shape:
        raise CheckFailed(f"{what}: expected an array of shape {expected.shape}, got shape {got.shape}. Hint: {hint}")
    difference = np.abs(got.astype(float) - expected.astype(float))
    if not np.all(difference <= atol + 1e-8 * np.abs(expected)):  # NaN counts as wrong
        worst = np.nanmax(difference) if np.isfinite(difference).any() else float("nan")
        raise CheckFailed(f"{what}: right shape, but values differ (largest difference {worst:.3g}). Hint: {hint}")


def sample_images(n: int = 6, seed: int = 0) -> np.ndarray:
    """A few real training digits from the shipped sample, as uint8 N x 28 x 28 (inputs for checks)."""
    from lenet_helpers.data import SAMPLE_PATH, read_mnist_npz

    data = read_mnist_npz(SAMPLE_PATH, source="sample")
    return data.x_train[np.random.default_rng(seed).choice(len(data.x_train), n, replace=False)]


def reference_digits(grading: bool):
    """The digits a lesson's `data = load_mnist()` holds: the shipped sample in fast mode when grading."""
    from lenet_helpers.data import load_mnist

    return load_mnist("sample", fast=True) if grading else load_mnist(quiet=True)


# --- exercise kinds ----------------------------------------------------------------------


def _describe(args: list, arg_names: tuple[str, ...]) -> str:
    shown = [repr(arg) if isinstance(arg, (int, float)) and not isinstance(arg, bool) else name
             for arg, name in zip(args, arg_names)]
    return ", ".join(shown)


def function_exercise(exercise_id: str, name: str, arg_names: tuple[str, ...], *, reference: Callable,
                      visible: Callable[[], list], draw: Callable[[np.random.Generator], list],
                      compare: Callable[[str, object, object], None], done: str) -> None:
    """Register an exercise whose answer is a function: it is called on visible, hidden and fresh inputs."""

    def inputs(cases: list, rng: np.random.Generator | None) -> dict:
        groups = [("visible", visible()), ("hidden", cases), ("drawn", draw(rng) if rng is not None else [])]
        calls = [[to_plain(arg) for arg in args] for _, group in groups for args in group]
        kinds = [kind for kind, group in groups for _ in group]
        return {"calls": calls, "kinds": kinds}

    def judge(given: dict, answer: dict) -> str:
        results = answer.get("results")
        if not isinstance(results, list) or len(results) != len(given["calls"]):
            if answer.get("not_callable"):
                raise CheckFailed(f"{name} should be a function (def {name}(...): ...), got {answer['not_callable']}.")
            raise CheckFailed(f"{name} did not return a result for every input.")
        order = sorted(range(len(results)), key=lambda i: ("visible", "drawn", "hidden").index(given["kinds"][i]))
        for index in order:
            args, result, kind = given["calls"][index], results[index], given["kinds"][index]
            what = f"{name}({_describe(args, arg_names)})"
            try:
                if not isinstance(result, dict) or "returned" not in result:
                    raised = result.get("raised", "an error") if isinstance(result, dict) else "an error"
                    if raised == "NotImplementedError":
                        raise ExerciseNotDone(f"{name} still raises NotImplementedError: replace the stub.")
                    message = result.get("message", "") if isinstance(result, dict) else ""
                    raise CheckFailed(f"your code raised {raised}: {message}".rstrip(": "))
                compare(what, result["returned"], reference(*args))
            except CheckFailed as failure:
                if kind == "hidden":
                    raise CheckFailed(f"{name} passes the visible check but fails a hidden test: try it on other "
                                      "inputs than the check's.") from None
                if kind == "drawn":
                    raise CheckFailed(f"on inputs drawn at random: {failure}") from None
                raise
        return done

    EXERCISES[exercise_id] = Exercise(exercise_id, (name,), "calls", inputs, judge)


def counts_exercise(exercise_id: str, expected: dict[str, tuple[int, str]], done: str) -> None:
    """Register an exercise whose answer is one or more whole numbers."""

    def judge(given: dict, answer: dict) -> str:
        for name, (value, hint) in expected.items():
            expect_whole(name, answer["values"].get(name), value, hint)
        return done

    EXERCISES[exercise_id] = Exercise(exercise_id, tuple(expected), "values", lambda cases, rng: {}, judge)


def exercise(exercise_id: str, names: tuple[str, ...], probe: str = "values",
             inputs: Callable[[list, np.random.Generator | None], dict] = lambda cases, rng: {}):
    """Register a judge written out by hand (`@exercise(...)` above `def judge(given, answer)`)."""

    def register(judge):
        EXERCISES[exercise_id] = Exercise(exercise_id, names, probe, inputs, judge)
        return judge

    return register


def _arrays_close(atol: float = 1e-5, dtype: str | None = None, hint: str = "") -> Callable:
    def compare(what, got, expected):
        expect_array(what, got, np.asarray(expected), hint, atol=atol)
        if dtype is not None and got.dtype != np.dtype(dtype):
            raise CheckFailed(f"{what}: values are right but the dtype is {got.dtype}; Keras expects {dtype}. "
                              f"Hint: .astype('{dtype}').")

    return compare


def _whole(hint: str) -> Callable:
    return lambda what, got, expected: expect_whole(what, got, expected, hint)


# --- lesson 00: setup and MNIST ----------------------------------------------------------

function_exercise(
    "00-scale", "scale_pixels", ("images",),
    reference=lambda images: np.asarray(images) / 255.0,
    visible=lambda: [(sample_images(),)],
    draw=lambda rng: [(sample_images(6, int(rng.integers(1 << 30))),)],
    compare=_arrays_close(dtype="float32", hint="divide by 255 so 0 stays 0 and 255 becomes 1.0"),
    done="pixels scaled to float32 in [0, 1].")

function_exercise(
    "00-pad", "pad_to_32", ("images",),
    reference=lambda images: np.pad(np.asarray(images), [(0, 0), (2, 2), (2, 2)]),
    visible=lambda: [(sample_images() / 255.0,)],
    draw=lambda rng: [(sample_images(4, int(rng.integers(1 << 30))) / 255.0,)],
    compare=_arrays_close(hint="add 2 rows of zeros above and below and 2 columns left and right: "
                               "np.pad(images, ...)."),
    done="28x28 digits padded to 32x32, centred, with a zero border.")

function_exercise(
    "00-one-hot", "one_hot", ("labels",),
    reference=lambda labels: np.eye(10)[np.asarray(labels, dtype=int)],
    visible=lambda: [(np.array([3, 0, 9, 3, 7], dtype=np.uint8),)],
    draw=lambda rng: [(rng.integers(0, 10, 12).astype(np.uint8),)],
    compare=_arrays_close(hint="row i is all zeros except a 1 in column labels[i]; np.eye(10)[labels] does it."),
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


# --- lesson 01: convolution and C1 ---------------------------------------------------------


def _conv_size(width, kernel, padding=0, stride=1) -> int:
    return (width - kernel + 2 * padding) // stride + 1


def _draw_conv_cases(rng: np.random.Generator) -> list:
    cases = []
    for _ in range(6):
        kernel, padding, stride = int(rng.integers(1, 8)), int(rng.integers(0, 4)), int(rng.integers(1, 5))
        cases.append((int(rng.integers(kernel, 100)), kernel, padding, stride))
    return cases


function_exercise(
    "01-conv-output-size", "conv_output_size", ("width", "kernel", "padding", "stride"),
    reference=_conv_size,
    visible=lambda: [(32, 5, 0, 1), (28, 5, 2, 1), (14, 5, 0, 1), (5, 5, 0, 1), (28, 2, 0, 2)],
    draw=_draw_conv_cases,
    compare=_whole("(W - F + 2P) / S + 1; use // so the answer is a whole number."),
    done="(W - F + 2P) / S + 1 is right for C1, S2-style windows and 'same' padding.")

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
    compare=_arrays_close(atol=1e-3, hint="output[i, j] = sum(image[i:i+5, j:j+5] * kernel); "
                                          "Keras does not flip the kernel."),
    done="your NumPy convolution computes what Keras's Conv2D computes, on a real digit.")


# --- lesson 02: subsampling and S2 ---------------------------------------------------------


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
    compare=_arrays_close(atol=1e-5, hint="average each non-overlapping 2x2 block; reshape to (14, 2, 14, 2) "
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
    compare=_arrays_close(hint="sum (not average) each 2x2 block of every map, multiply by that map's coefficient, "
                               "add its bias."),
    done="the paper's trainable subsampling, before the squashing function.")


def _draw_subsample_visible() -> tuple:
    rng = np.random.default_rng(3)
    return rng.normal(size=(8, 8, 3)), rng.normal(size=3), rng.normal(size=3)


# --- lesson 03: C3 and Table I ---------------------------------------------------------------


@exercise("03-table", ("table",))
def _table(given: dict, answer: dict) -> str:
    from lenet_helpers.layers import TABLE_I

    got = answer["values"]["table"]
    if not isinstance(got, np.ndarray) or got.shape != TABLE_I.shape:
        shape = got.shape if isinstance(got, np.ndarray) else repr(got)
        raise CheckFailed(f"table should have shape (6, 16): rows are S2 maps, columns C3 maps; got {shape}.")
    wrong = [j for j in range(16) if not np.array_equal(got[:, j].astype(bool), TABLE_I[:, j])]
    if wrong:
        j = wrong[0]
        raise CheckFailed(f"column {j} (C3 map {j}) should connect S2 maps {np.flatnonzero(TABLE_I[:, j]).tolist()}, "
                          f"got {np.flatnonzero(got[:, j]).tolist()}. Hint: read Table I column by column.")
    return "Table I: 6 maps see 3 inputs, 9 see 4, 1 sees all 6."


counts_exercise("03-c3-counts", {
    "c3_params": (1_516, "6 maps x (3 x 25 + 1) + 9 maps x (4 x 25 + 1) + 1 map x (6 x 25 + 1)."),
    "c3_connections": (151_600, "every parameter is used at each of the 10 x 10 positions."),
}, "C3 with Table I: 1,516 parameters, 151,600 connections.")

counts_exercise("03-full-c3", {
    "full_c3_params": (2_416, "16 maps, each seeing all 6 inputs: 16 x (6 x 25 + 1)."),
    "full_c3_connections": (241_600, "2,416 parameters x 10 x 10 positions."),
}, "a full C3 would need 2,416 parameters and 241,600 connections.")


# --- lesson 04: S4, C5, F6 and the output --------------------------------------------------

counts_exercise("04-s4-counts", {
    "s4_size": (5, "2x2 windows with stride 2 on 10x10 maps."),
    "s4_params": (32, "like S2: a coefficient and a bias per map, now 16 maps."),
    "s4_connections": (2_000, "5 x 5 x 16 units, each with 4 inputs and a bias."),
}, "S4: 5x5x16, 32 parameters, 2,000 connections.")

counts_exercise("04-c5-counts", {
    "c5_size": (1, "a 5x5 kernel on a 5x5 map leaves one position."),
    "c5_params": (48_120, "120 maps x (16 inputs x 25 weights + 1 bias)."),
}, "C5: 120 maps of 1x1, 48,120 parameters (and as many connections).")

counts_exercise("04-f6-counts", {
    "f6_params": (10_164, "84 units, each with 120 weights and 1 bias."),
}, "F6: 10,164 parameters.")

counts_exercise("04-seed-total", {
    "seed_total": (61_706, "add C1, C3 (full), C5, F6 and a softmax output of 10 x (84 + 1); "
                           "pooling has no parameters here."),
}, "the seed article's network has 61,706 trainable parameters.")


# --- lesson 05: build and train ---------------------------------------------------------------

SEED_LAYERS = [("C1", (28, 28, 6)), ("S2", (14, 14, 6)), ("C3", (10, 10, 16)), ("S4", (5, 5, 16)),
               ("C5", (1, 1, 120)), ("F6", (84,)), ("output", (10,))]


def _model_inputs(cases: list, rng: np.random.Generator | None) -> dict:
    rng = rng if rng is not None else np.random.default_rng(VISIBLE_SEED)
    return {"images": rng.uniform(0, 1, size=(3, 28, 28, 1)).astype("float32")}


@exercise("05-build", ("model",), probe="model", inputs=_model_inputs)
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


@exercise("05-compile", ("model",), probe="compile")
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


@exercise("05-evaluate", ("model", "test_loss", "test_accuracy"), probe="evaluate", inputs=_test_inputs)
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


# --- lesson 06: evaluate and visualise ------------------------------------------------------


def confusion_reference(y_true, y_pred, classes: int = 10) -> np.ndarray:
    """matrix[t, p] counts digits t predicted as p."""
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return matrix


function_exercise(
    "06-confusion", "confusion_matrix", ("y_true", "y_pred"),
    reference=confusion_reference,
    visible=lambda: [tuple(np.random.default_rng(6).integers(0, 10, (2, 200)))],
    draw=lambda rng: [tuple(rng.integers(0, 10, (2, 150)))],
    compare=_arrays_close(hint="matrix[t, p] counts images of digit t predicted as p: rows are the truth."),
    done="rows are true digits, columns predictions, the diagonal is what the network got right.")


def _worst_reference(probabilities, labels, n) -> np.ndarray:
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    return wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:n]


def _draw_worst(rng: np.random.Generator, size: int = 300) -> tuple:
    return rng.dirichlet(np.ones(10), size=size), rng.integers(0, 10, size), 5


function_exercise(
    "06-worst", "worst_mistakes", ("probabilities", "labels", "n"),
    reference=_worst_reference,
    visible=lambda: [_draw_worst(np.random.default_rng(7))],
    draw=lambda rng: [_draw_worst(rng, 200)],
    compare=_arrays_close(hint="keep the wrong predictions, sort them by the probability given to the (wrong) "
                               "predicted digit, most confident first."),
    done="found the mistakes the network was most sure of.")


# --- lesson 07: the paper's network ------------------------------------------------------------

function_exercise(
    "07-squash", "squash", ("a",),
    reference=lambda a: 1.7159 * np.tanh(2 * np.asarray(a, float) / 3),
    visible=lambda: [(np.linspace(-4, 4, 41),)],
    draw=lambda rng: [(rng.normal(scale=3, size=17),)],
    compare=_arrays_close(atol=1e-5, hint="A tanh(S a) with A = 1.7159 and S = 2/3."),
    done="f(a) = 1.7159 tanh(2a/3); note f(1) is almost exactly 1.")


def _codes() -> np.ndarray:
    from lenet_helpers.layers import digit_codes

    return np.asarray(digit_codes())


function_exercise(
    "07-rbf", "rbf_distances", ("x", "codes"),
    reference=lambda x, codes: ((np.asarray(x)[:, None, :] - np.asarray(codes)[None]) ** 2).sum(axis=-1),
    visible=lambda: [(np.random.default_rng(8).normal(size=(5, 84)).astype("float32"), _codes())],
    draw=lambda rng: [(rng.normal(size=(4, 84)).astype("float32"), _codes())],
    compare=_arrays_close(atol=1e-3, hint="y[n, i] = sum over j of (x[n, j] - codes[i, j])**2; "
                                          "broadcast x[:, None, :] - codes[None]."),
    done="each output unit measures how far F6 is from its digit's code.")

counts_exercise("07-paper-totals", {
    "paper_params": (60_000, "sum the params column of the paper's table."),
    "paper_connections": (340_908, "sum the connections column."),
}, "60,000 trainable parameters and 340,908 connections, exactly the paper's figures.")


__all__ = ["CheckFailed", "EXERCISES", "Exercise", "ExerciseNotDone", "Foreign", "inputs_for", "verdict"]
