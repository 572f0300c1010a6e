"""`python -m lenet_helpers.train`: the headless end-to-end check of the whole pipeline."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


def run(*args, **env):
    return subprocess.run([sys.executable, "-m", "lenet_helpers.train", *args], capture_output=True, text=True,
                          env={**os.environ, "LENET_FAST": "1", **env}, timeout=600)


def test_trains_reports_and_saves(tmp_path):
    out = tmp_path / "seed.keras"
    result = run("--model", "seed", "--epochs", "2", "--source", "sample", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "epoch 1/2" in result.stdout and "epoch 2/2" in result.stdout
    assert "recommended recipe (Adam, learning rate 0.002, batch 32, distortions, cosine decay, early stopping " \
           "(patience 10)) on 900 digits" in result.stdout
    assert "weights (lowest validation loss) after 2 of at most 2 epochs" in result.stdout
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", result.stdout).group(1))
    assert 0.5 < accuracy <= 1.0, result.stdout  # 2 epochs on 900 digits already beat chance by far
    assert out.exists()
    from lenet_helpers._tf import keras

    assert keras.models.load_model(out).count_params() == 61_706


def test_the_papers_protocol_runs_and_is_compared_with_the_papers_figure():
    result = run("--model", "paper", "--recipe", "paper", "--epochs", "2", "--source", "sample")
    assert result.returncode == 0, result.stderr
    assert "with the paper recipe (SDLM, eta 0.0005 down to 1e-05 by pass, mu 0.02, batch 1)" in result.stdout
    assert "60,000 trainable parameters" in result.stdout and "epoch 2/2" in result.stdout
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", result.stdout).group(1))
    assert 0.3 < accuracy <= 1.0, result.stdout  # two passes over 900 digits, one digit per step
    assert "the paper: 0.95% on full MNIST's 10,000 test digits" in result.stdout and "not comparable" in result.stdout


@pytest.mark.parametrize("args, message", [(["--out", "model.h5"], "--out must end with .keras"),
                                           (["--model", "alexnet"], "invalid choice"),
                                           (["--epochs", "0"], "at least 1"),
                                           (["--recipe", "paper"], "add --model paper"),
                                           (["--init", "keras"], "--model paper only")])
def test_rejects_bad_arguments(args, message, capsys):
    from lenet_helpers import train

    with pytest.raises(SystemExit) as exit_code:
        train.main(args)
    assert exit_code.value.code == 2 and message in capsys.readouterr().err


def test_full_mnist_missing_offline_is_a_clear_error(offline_keras_home, capsys):
    from lenet_helpers import train

    assert train.main(["--source", "full", "--epochs", "1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: Full MNIST is not available") and "Traceback" not in error
