"""Benchmark: seconds per 60,000-image epoch of LeNet-5 on this CPU, the seed article's way and the course's.

    python bench/train_speed.py [--repeats 3] [--no-suite] [--no-ablation]

One run on one machine, the same LeNet-5 (the seed article's) for every path:
  (a) the seed article's code exactly, in a plain Python process with TensorFlow's defaults
      (it never imports lenet_helpers; a fixed seed is its one addition): Sequential,
      compile(optimizer="SGD"), fit(batch_size=128)
  (a') the same code after `import lenet_helpers` (the course's TensorFlow settings: oneDNN on)
  (b) the course's recommended recipe for 60,000 digits (lenet_helpers.training.recommended_for)
  (b1)-(b3), unless --no-ablation: (b) with one change taken back (steps_per_execution, the batch
      size, both), to show what each buys
The paths take turns, one epoch each per round, so a slow spell on a shared machine hits all of
them alike: one warm-up round, then the median of `--repeats` rounds, on 60,000 images shaped like
MNIST (the shipped sample's 5,000 real training digits, repeated 12 times). After the last round
every path has trained the same number of epochs; its accuracy on the sample's 5,000 real test
digits is printed beside its speed. Then time-to-accuracy on the sample (train on its 5,000,
seconds until 95% / 97% on its 5,000 test digits), and, unless --no-suite, the notebook suite and a cold
JupyterLab start (bench/suite_speed.py). A benchmark that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lenet_helpers import runtime, training
from lenet_helpers._tf import keras, tf
from lenet_helpers.data import SAMPLE_PATH, load_mnist, one_hot, prepare
from lenet_helpers.models import seed_lenet5

REPEAT = 12  # 12 x 5,000 sample digits = 60,000, one MNIST epoch
# Forward + backward of one image through seed_lenet5, counted from the layer shapes:
# 2 FLOPs per multiply-add, backward ~2x forward (input and weight gradients).
FORWARD_MACS = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 84 * 120 + 10 * 84
TRAIN_FLOP_PER_IMAGE = 3 * 2 * FORWARD_MACS


def cpu_model() -> str:
    """The processor's name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def matmul_gflops(size: int = 1024, repeats: int = 20) -> float:
    """What a float32 matrix product reaches on this machine: the practical compute limit."""
    a = tf.random.normal((size, size))
    product = tf.function(lambda m: tf.linalg.matmul(m, m))
    product(a).numpy()
    started = time.perf_counter()
    for _ in range(repeats):
        result = product(a)
    result.numpy()
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


# The seed article's code in a fresh interpreter without lenet_helpers, so TensorFlow keeps its
# own defaults. It trains one epoch per "epoch" line on stdin and answers with the seconds taken;
# "accuracy" answers with the accuracy on the held-out digits.
ARTICLE_WORKER = """
import sys, time
import numpy as np
import keras
from keras.layers import AveragePooling2D, Conv2D, Dense, Flatten
sample = np.load(sys.argv[1])
x = np.concatenate([sample["x_train"]] * int(sys.argv[2])).reshape(-1, 28, 28, 1).astype("float32") / 255
y = keras.utils.to_categorical(np.concatenate([sample["y_train"]] * int(sys.argv[2])), 10)
x_test = sample["x_test"].reshape(-1, 28, 28, 1).astype("float32") / 255
y_test = keras.utils.to_categorical(sample["y_test"], 10)
keras.utils.set_random_seed(1998)
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    Conv2D(6, kernel_size=(5, 5), strides=(1, 1), activation="tanh", padding="same"),
    AveragePooling2D(pool_size=(2, 2), strides=(2, 2), padding="valid"),
    Conv2D(16, kernel_size=(5, 5), strides=(1, 1), activation="tanh", padding="valid"),
    AveragePooling2D(pool_size=(2, 2), strides=(2, 2), padding="valid"),
    Conv2D(120, kernel_size=(5, 5), strides=(1, 1), activation="tanh", padding="valid"),
    Flatten(),
    Dense(84, activation="tanh"),
    Dense(10, activation="softmax"),
])
model.compile(loss=keras.losses.categorical_crossentropy, optimizer="SGD", metrics=["accuracy"])
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "epoch":
        started = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        print(time.perf_counter() - started, flush=True)
    elif line.strip() == "accuracy":
        print(model.evaluate(x_test, y_test, verbose=0)[1], flush=True)
"""


class PlainArticle:
    """Path (a): the article's code in its own process, driven one epoch at a time."""

    def __init__(self):
        env = {key: value for key, value in os.environ.items() if not key.startswith("TF_ENABLE_ONEDNN")}
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        self.log = tempfile.TemporaryFile("w+")  # TensorFlow's start-up chatter, shown only if the worker dies
        self.process = subprocess.Popen([sys.executable, "-c", ARTICLE_WORKER, str(SAMPLE_PATH), str(REPEAT)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                        env=env)
        self._read()  # "ready"

    def _read(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            self.log.seek(0)
            raise RuntimeError("the plain article process died:\n" + self.log.read()[-3000:])
        return line.strip()

    def epoch(self) -> float:
        self.process.stdin.write("epoch\n")
        self.process.stdin.flush()
        return float(self._read())

    def accuracy(self) -> float:
        self.process.stdin.write("accuracy\n")
        self.process.stdin.flush()
        accuracy = float(self._read())
        self.process.stdin.close()
        self.process.wait(timeout=60)
        return accuracy


class InProcess:
    """Paths (a') and (b)-(b3): a model trained here, with this process's (the course's) TensorFlow settings."""

    def __init__(self, recipe: training.Recipe | None, x, y, x_test, y_test):
        runtime.seed_everything(1998)
        self.model = seed_lenet5()
        if recipe is None:  # the article's own compile call
            self.model.compile(loss=keras.losses.categorical_crossentropy, optimizer="SGD", metrics=["accuracy"])
            self.batch_size = 128
        else:
            training.compile_model(self.model, recipe)
            self.batch_size = recipe.batch_size
        self.x, self.y, self.x_test, self.y_test = x, y, x_test, y_test

    def epoch(self) -> float:
        started = time.perf_counter()
        self.model.fit(self.x, self.y, batch_size=self.batch_size, epochs=1, verbose=0)
        return time.perf_counter() - started

    def accuracy(self) -> float:
        return training.evaluate(self.model, self.x_test, self.y_test)["accuracy"]


def time_to_accuracy(recipe: training.Recipe, x, y, x_test, y_test, targets=(0.95, 0.97),
                     max_seconds: float = 120.0):
    """Train epoch by epoch; training seconds, epochs and wall seconds (with the checks) to each target accuracy."""
    runtime.seed_everything(1998)
    model = training.compile_model(seed_lenet5(), recipe)
    reached, spent, epochs, accuracy, wall_start = {}, 0.0, 0, 0.0, time.perf_counter()
    while spent < max_seconds and len(reached) < len(targets):
        started = time.perf_counter()
        model.fit(x, y, batch_size=recipe.batch_size, epochs=1, verbose=0)
        spent += time.perf_counter() - started
        epochs += 1
        accuracy = training.evaluate(model, x_test, y_test)["accuracy"]
        for target in targets:
            if accuracy >= target and target not in reached:
                reached[target] = (spent, epochs, time.perf_counter() - wall_start)
    return reached, accuracy, epochs, spent


def describe(recipe: training.Recipe) -> str:
    steps = recipe.steps_per_execution
    return (f"{recipe.optimizer} lr {recipe.learning_rate:g}, batch {recipe.batch_size}, "
            f"{steps} step{'s' if steps > 1 else ''}/execution")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds after the warm-up (default 5)")
    parser.add_argument("--no-suite", action="store_true", help="skip the notebook suite and JupyterLab timings")
    parser.add_argument("--no-ablation", action="store_true", help="skip (b1)-(b3), the recipe minus a change")
    args = parser.parse_args()
    sample = load_mnist("sample", fast=False, quiet=True)
    x_sample, y_sample = prepare(sample.x_train), one_hot(sample.y_train)
    x_test, y_test = prepare(sample.x_test), one_hot(sample.y_test)
    x, y = np.concatenate([x_sample] * REPEAT), np.concatenate([y_sample] * REPEAT)
    print(f"# LeNet-5 training speed, {time.strftime('%Y-%m-%d')}")
    print(f"machine: {platform.machine()} {cpu_model()}, {os.cpu_count()} cores; "
          + ", ".join(f"{k} {v}" for k, v in runtime.versions().items() if k in ("python", "tensorflow", "keras")))
    limit = matmul_gflops()
    print(f"compute limit (float32 1024x1024 matmul): {limit:.0f} GFLOP/s; LeNet-5 training step: "
          f"{TRAIN_FLOP_PER_IMAGE / 1e6:.2f} MFLOP/image, so {TRAIN_FLOP_PER_IMAGE * len(x) / limit / 1e9:.2f} s "
          f"per epoch at that limit")

    recommended = training.recommended_for(len(x))
    small = training.recommended_for(len(x_sample))  # what the sample's 5,000 digits get
    small_one_step = dataclasses.replace(small, steps_per_execution=1)
    paths = {
        "(a) seed article's code, TensorFlow defaults": PlainArticle(),
        "(a') seed article's code, course TF settings": InProcess(None, x, y, x_test, y_test),
        f"(b) recommended: {describe(recommended)}": InProcess(recommended, x, y, x_test, y_test),
    }
    if not args.no_ablation:  # (b) with one of its changes taken back, to show what each buys
        one_step = dataclasses.replace(recommended, steps_per_execution=1)
        paths["(b1) (b), but 1 step per execution"] = InProcess(one_step, x, y, x_test, y_test)
        paths[f"(b2) (b), but batch {small.batch_size}, lr {small.learning_rate:g} (the sample's)"] = InProcess(
            small, x, y, x_test, y_test)
        paths["(b3) (b2), but 1 step per execution"] = InProcess(small_one_step, x, y, x_test, y_test)
    seconds = {name: [] for name in paths}
    for round_ in range(1 + args.repeats):  # round 0 is the warm-up: tracing, first allocations
        for name, path in paths.items():
            took = path.epoch()
            if round_:
                seconds[name].append(took)
    epochs = 1 + args.repeats
    print(f"\n{len(x):,} images per epoch; median of {args.repeats} epochs after a warm-up, paths taking turns; "
          f"held-out accuracy after {epochs} epochs ({epochs * len(x):,} images)")
    print(f"{'path':<66}{'s/epoch':>9}{'fastest':>9}{'images/s':>10}{'vs (a)':>8}{'of limit':>10}{'accuracy':>10}")
    base = statistics.median(seconds[next(iter(paths))])
    for name, path in paths.items():
        median = statistics.median(seconds[name])
        flops = TRAIN_FLOP_PER_IMAGE * len(x) / median / 1e9
        print(f"{name[:65]:<66}{median:>9.2f}{min(seconds[name]):>9.2f}{len(x) / median:>10,.0f}"
              f"{base / median:>7.2f}x{flops / limit:>9.0%}{path.accuracy():>10.4f}")
    print("every timed epoch, in seconds:")
    for name in paths:
        print(f"  {name[:4].strip():<5} " + ", ".join(f"{s:.2f}" for s in seconds[name]))

    print(f"\ntime to accuracy on the shipped sample ({len(x_sample):,} train / {len(x_test):,} held-out digits; "
          "training seconds, and wall seconds with an accuracy check after every epoch):")
    for name, recipe in (("article", training.ARTICLE), ("recommended", small), ("1 step/exec.", small_one_step)):
        reached, accuracy, epochs, spent = time_to_accuracy(recipe, x_sample, y_sample, x_test, y_test)
        parts = [f"{t:.0%} after {reached[t][0]:.1f} s ({reached[t][1]} epochs, {reached[t][2]:.1f} s wall)"
                 if t in reached else f"{t:.0%} not reached" for t in (0.95, 0.97)]
        print(f"  {name:<12}({describe(recipe)}) " + "; ".join(parts)
              + f"; stopped at {accuracy:.4f} after {epochs} epochs, {spent:.0f} s")

    if not args.no_suite:
        import suite_speed

        suite_speed.report()


if __name__ == "__main__":
    main()
