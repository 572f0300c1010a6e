"""Self-checks give a pass line or a friendly CheckFailed/ExerciseNotDone, whatever the student wrote."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_helpers.checks import EXERCISES, CheckFailed, ExerciseNotDone, check


def raises_not_implemented(*args, **kwargs):
    raise NotImplementedError()


def crashes(*args, **kwargs):
    return [][1]


GARBAGE = [None, "28", 3.5, -1, np.zeros((2, 2)), crashes, lambda *a, **k: None, lambda *a, **k: "text"]


def test_there_are_enough_exercises():
    assert len(EXERCISES) >= 20


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: getattr(g, "__name__", type(g).__name__))
def test_wrong_answers_fail_friendly(exercise_id, garbage, capsys):
    ex = EXERCISES[exercise_id]
    namespace = {name: garbage for name in ex.names}
    if "data" in ex.names:
        from lenet_helpers.data import load_mnist

        namespace["data"] = load_mnist("sample", fast=True)
    with pytest.raises((CheckFailed, ExerciseNotDone)) as failure:
        check(exercise_id, namespace)
    assert f"[{exercise_id}]" in str(failure.value)
    assert capsys.readouterr().out == "", "a failed check must not print a pass line"


def test_missing_name_means_not_done():
    with pytest.raises(ExerciseNotDone, match="c1_params, c1_connections are not defined yet"):
        check("01-c1-counts", {})


def test_stub_function_means_not_done():
    with pytest.raises(ExerciseNotDone, match="NotImplementedError"):
        check("01-conv-output-size", {"conv_output_size": raises_not_implemented})


def test_failure_says_expected_got_and_hint():
    with pytest.raises(CheckFailed) as failure:
        check("01-c1-counts", {"c1_params": 150, "c1_connections": 122_304})
    message = str(failure.value)
    assert "expected 156" in message and "got 150" in message and "Hint:" in message
    assert failure.value._render_traceback_() == [f"\u274c {message}"]


def test_right_answers_pass(capsys):
    check("01-conv-output-size", {"conv_output_size": lambda w, k, p=0, s=1: (w - k + 2 * p) // s + 1})
    check("03-c3-counts", {"c3_params": 1516, "c3_connections": 151_600})
    out = capsys.readouterr().out
    assert out.count("\u2705") == 2


def test_unknown_exercise():
    with pytest.raises(CheckFailed, match="no exercise called"):
        check("99-nothing", {})
