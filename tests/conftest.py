"""Shared fixtures. The suite runs in fast mode (`make test` sets LENET_FAST=1)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture
def offline_keras_home(tmp_path, monkeypatch):
    """An empty Keras cache and a download address that refuses at once (port 9 on loopback)."""
    from lenet_helpers import data

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(data, "MNIST_URL", "http://127.0.0.1:9/mnist.npz")
    return tmp_path / "keras_home" / "datasets" / "mnist.npz"


def write_mnist(path: Path, n_train: int = 50, n_test: int = 20, **overrides) -> Path:
    """A small MNIST-shaped .npz (real digits from the shipped sample), with arrays overridable."""
    import numpy as np

    from lenet_helpers.data import SAMPLE_PATH

    with np.load(SAMPLE_PATH) as sample:
        arrays = {
            "x_train": sample["x_train"][:n_train], "y_train": sample["y_train"][:n_train],
            "x_test": sample["x_test"][:n_test], "y_test": sample["y_test"][:n_test],
        }
    arrays.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path
