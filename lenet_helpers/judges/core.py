"""What every judge shares: the registry, the kinds of exercise, the small comparisons (every lesson).

The judges see plain data only (`lenet_helpers.plain`); see the package's docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lenet_helpers.plain import to_plain

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
    """The digits a lesson's `data = load_mnist()` holds, found again without a second download attempt.

    When grading: the shipped sample in fast mode, which is what the sandbox (no network, no
    Keras cache) loads.
    """
    from lenet_helpers.data import keras_cache_path, load_mnist

    if grading:
        return load_mnist("sample", fast=True)
    return load_mnist("full", quiet=True) if keras_cache_path().exists() else load_mnist("sample")


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


def arrays_close(atol: float = 1e-5, dtype: str | None = None, hint: str = "") -> Callable:
    def compare(what, got, expected):
        expect_array(what, got, np.asarray(expected), hint, atol=atol)
        if dtype is not None and got.dtype != np.dtype(dtype):
            raise CheckFailed(f"{what}: values are right but the dtype is {got.dtype}; Keras expects {dtype}. "
                              f"Hint: .astype('{dtype}').")

    return compare


def whole(hint: str) -> Callable:
    return lambda what, got, expected: expect_whole(what, got, expected, hint)
