"""Helpers for the course "LeNet-5 in Keras, taught in JupyterLab".

One module per topic: data, shapes, layers, models, training, plots, widgets, checks,
lessons (the solutions -> lessons build) and grade (the grader). Importing the package
only sets TensorFlow's log level; TensorFlow itself is imported by the modules that
need it, through `lenet_helpers._tf`, which hides its start-up noise.
"""

import os

# Before TensorFlow is first imported: hide its INFO/WARNING C++ logs and the oneDNN
# notice (both are needed, see shared/NOTEBOOKS.md). Real errors still raise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
