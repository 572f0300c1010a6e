"""Helpers for the course "LeNet-5 in Keras, taught in JupyterLab".

One module per topic: data, shapes, layers, models, training, plots, widgets, checks,
lessons (the solutions -> lessons build) and grade (the grader). Importing the package
loads TensorFlow once, quietly (see `lenet_helpers._tf`): import it before `keras`.
"""

import os

# Before TensorFlow is first imported: hide its C++ INFO/WARNING/ERROR log lines and the
# oneDNN notice (both settings are needed, see shared/NOTEBOOKS.md). Python errors still raise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from lenet_helpers import _tf  # noqa: E402,F401  (TensorFlow without its start-up noise)

__version__ = "0.1.0"
