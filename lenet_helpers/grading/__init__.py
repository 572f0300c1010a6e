"""The grader (instructor guide): every submission runs in its own sandbox; verdicts are reached outside it.

What runs where:
- inside the sandbox, next to the submission (untrusted): `_runner.py` and the probes
  (`lenet_helpers.probes`), which only write answers as plain data;
- in the grader's process (trusted): `submissions` (finding and matching), `build` (the run's
  notebook and the hidden cases), `sandbox` (bubblewrap), `grader` (drawing inputs, reading
  plain data back, judging with `lenet_helpers.judges`) and `report` (gradebook, feedback).
"""

from lenet_helpers.grading.grader import Settings, grade_folder
from lenet_helpers.grading.report import Row, summary_table, write_feedback, write_gradebook
from lenet_helpers.grading.sandbox import Limits, SandboxUnavailable

__all__ = ["Limits", "Row", "SandboxUnavailable", "Settings", "grade_folder", "summary_table", "write_feedback",
           "write_gradebook"]
