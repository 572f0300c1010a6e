"""Self-checks: the cells after each exercise call `check("<id>", globals())` (every lesson).

A check prints a pass line, or stops the notebook with what was expected, what was given
and a hint, never a traceback from deep inside a library. It runs the same probe and the
same judge as the grader (`lenet_helpers.probes`, `lenet_helpers.judges`), so a student sees
exactly what will be graded; the grader adds fresh inputs and the instructor's hidden cases.
"""

from __future__ import annotations

from lenet_helpers import plain, probes
from lenet_helpers.judges import EXERCISES, CheckFailed, ExerciseNotDone, inputs_for, verdict

__all__ = ["EXERCISES", "CheckFailed", "ExerciseNotDone", "check"]


def check(exercise_id: str, namespace: dict, cases: list | None = None) -> None:
    """Run one self-check against the notebook's variables (`globals()`); print a pass line or stop with a hint.

    `cases` adds inputs for an answer that is a function (the solutions' hidden tests use it).
    """
    if exercise_id not in EXERCISES:
        raise CheckFailed(f"there is no exercise called {exercise_id!r}; do not edit the check cells.")
    exercise = EXERCISES[exercise_id]
    inputs = inputs_for(exercise_id, cases)
    answer = plain.round_trip(probes.answer(exercise.names, exercise.probe, namespace, inputs))
    message = verdict(exercise_id, inputs, answer)
    print(f"\u2705 [{exercise_id}] {message}")
