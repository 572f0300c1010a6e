"""Fast mode, seeds and the environment report every lesson's Setup prints."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random

import numpy as np

DEFAULT_SEED = 1998
SETTINGS_REAL = "real (the epochs and digits each lesson asks for)"
SETTINGS_FAST = "FAST (LENET_FAST=1: fewer epochs and digits, for quick tests)"
PACKAGES = ("tensorflow", "keras", "numpy", "matplotlib", "ipywidgets", "jupyterlab")


def fast_mode() -> bool:
    """True when LENET_FAST=1: fewer digits and epochs so every notebook runs in seconds (lesson 00)."""
    return os.environ.get("LENET_FAST", "").strip().lower() in ("1", "true", "yes")


def by_mode(real, fast):
    """`fast` in fast mode, otherwise `real`: e.g. epochs = by_mode(real=20, fast=2) (lesson 00)."""
    return fast if fast_mode() else real


def seed_everything(seed: int = DEFAULT_SEED) -> int:
    """Seed Python, NumPy and Keras and make TensorFlow's ops deterministic (lesson 00)."""
    from lenet_helpers._tf import keras, tf

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return seed


def versions() -> dict[str, str]:
    """Installed versions of Python and the course's packages (lesson 00)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def setup_lesson(seed: int = DEFAULT_SEED) -> int:
    """The Setup cell of every lesson: quiet TensorFlow, seed everything, print versions and settings.

    The settings line names the run's settings ("real" or "FAST"), never the data: which
    digits were loaded is the next line's business (`lenet_helpers.data.load_mnist`).
    """
    seed_everything(seed)
    report = ", ".join(f"{name} {version}" for name, version in versions().items())
    print(report)
    print(f"settings: {SETTINGS_FAST if fast_mode() else SETTINGS_REAL}, seed: {seed}")
    return seed
