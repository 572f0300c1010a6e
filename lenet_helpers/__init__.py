"""Helpers for the course "LeNet-5 in Keras, taught in JupyterLab".

One module per topic. What the lessons use: data, shapes, layers, models, training, sdlm, plots,
widgets, runtime, and the self-checks (checks, with probes, plain and the judges package). What
only instructors use: lessons (the solutions -> lessons build, nbgrader export, release),
grading (the sandboxed grader; `python -m lenet_helpers.grade`). Importing the package loads
TensorFlow once, quietly (see `lenet_helpers._tf`): import it before `keras`.
"""

import os

# Before TensorFlow is first imported: hide its C++ INFO/WARNING/ERROR log lines (Python
# errors still raise), and use oneDNN's CPU kernels, which TensorFlow leaves off on some
# CPUs (AMD ones, here): LeNet-5 then trains about twice as fast (bench/train_speed.py).
# `_tf` drops the notice oneDNN prints.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from lenet_helpers import _tf  # noqa: E402,F401  (TensorFlow without its start-up noise)

__version__ = "0.1.0"
