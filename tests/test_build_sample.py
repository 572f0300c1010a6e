"""scripts/build_mnist_sample.py: the official t10k files, read and checked, give the shipped test digits."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util

import numpy as np
import pytest
from conftest import ROOT

from lenet_helpers.data import SAMPLE_PATH

spec = importlib.util.spec_from_file_location("build_mnist_sample", ROOT / "scripts" / "build_mnist_sample.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def idx_bytes(array: np.ndarray) -> bytes:
    """MNIST's IDX format: magic 0 0 8 ndim, big-endian dimensions, then the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def t10k_like(tmp_path, monkeypatch):
    """A 10,000-digit 'test set' with the shipped digits at the even indices, checksums made to match."""
    with np.load(SAMPLE_PATH) as sample:
        x_even, y_even = sample["x_test"], sample["y_test"]
    images = np.zeros((10_000, 28, 28), np.uint8)
    labels = np.zeros(10_000, np.uint8)
    images[::2], labels[::2] = x_even, y_even
    paths = {}
    for name, array, packed in (("images", images, gzip.compress), ("labels", labels, lambda raw: raw)):
        raw = idx_bytes(array)
        monkeypatch.setattr(build, f"T10K_{name.upper()}_SHA256", hashlib.sha256(raw).hexdigest())
        paths[name] = tmp_path / f"t10k-{name}"
        paths[name].write_bytes(packed(raw))  # images gzipped, labels not: both must work
    return paths


def test_even_half_of_t10k_files_is_the_shipped_test_half(t10k_like):
    x, y, index = build.even_half_from_t10k(t10k_like["images"], t10k_like["labels"])
    build.check_even_half(x, y, index)  # would exit on any difference
    with np.load(SAMPLE_PATH) as sample:
        assert np.array_equal(x, sample["x_test"]) and np.array_equal(index, sample["test_index"])


def test_a_file_with_the_wrong_checksum_is_refused(t10k_like, monkeypatch):
    monkeypatch.setattr(build, "T10K_IMAGES_SHA256", "0" * 64)
    with pytest.raises(SystemExit, match="is not the official file"):
        build.even_half_from_t10k(t10k_like["images"], t10k_like["labels"])


def test_other_digits_are_refused():
    with np.load(SAMPLE_PATH) as sample:
        x, y, index = sample["x_test"], sample["y_test"], sample["test_index"]
    changed = x.copy()
    changed[0, 0, 0] ^= 1
    with pytest.raises(SystemExit, match="pixels differ"):
        build.check_even_half(changed, y, index)
    with pytest.raises(SystemExit, match="index"):
        build.check_even_half(x, y, index[::-1])


def test_training_order_puts_every_class_in_every_block_of_1000():
    labels = np.repeat(np.arange(10), 500)
    order = build.training_order(labels, seed=0)
    assert sorted(order.tolist()) == list(range(5000))
    for block in order.reshape(5, 1000):
        assert np.bincount(labels[block]).tolist() == [100] * 10
