"""The judges: each exercise's inputs, and the verdict on its answer given as plain data (every lesson).

A judge never sees a student's objects, only plain data (`lenet_helpers.plain`) that a probe
(`lenet_helpers.probes`) pulled out of the notebook: numbers, arrays, and what a student's
function returned on the inputs listed here. The self-check cells (`checks.check`) and the
grader call the very same judges: the student sees while working what the grader will
decide. The grader adds inputs drawn afresh at grading time and the hidden cases, which
live only in the instructor's solution notebooks, never in this package.

`core` holds what every judge shares; `lesson_NN` registers the exercises of lesson NN.
"""

from lenet_helpers.judges import (  # noqa: F401  (importing a lesson's module registers its exercises)
    lesson_00,
    lesson_01,
    lesson_02,
    lesson_03,
    lesson_04,
    lesson_05,
    lesson_06,
    lesson_07,
    lesson_08,
)
from lenet_helpers.judges.core import EXERCISES, CheckFailed, Exercise, ExerciseNotDone, inputs_for, verdict

__all__ = ["EXERCISES", "CheckFailed", "Exercise", "ExerciseNotDone", "inputs_for", "verdict"]
