"""Benchmark: seconds per 60,000-image epoch of LeNet-5 on this CPU, the seed article's way and the course's.

    python bench/train_speed.py [--repeats 3]

One run on one machine, the same LeNet-5 for every path:
  (a) the seed article's code exactly, in a plain Python process with TensorFlow's defaults
      (it does not import lenet_helpers): Sequential, compile(optimizer='SGD'), fit(batch_size=128)
  (a') the same code after `import lenet_helpers` (the course's TensorFlow settings: oneDNN on)
  (b) the course's recommended recipe (lenet_helpers.training.RECOMMENDED)
  (c) the recommended recipe with batches of 512 (learning rate x sqrt(16)), for full MNIST
Each is timed for one warm-up epoch and then the median of `--repeats` epochs, on 60,000
images shaped like MNIST (the shipped sample's real digits, repeated). Then time-to-accuracy:
seconds until 95% (and 97%) on the sample's 1,000 held-out digits, training on its 4,000.
This is a benchmark that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

from lenet_helpers import runtime, training
from lenet_helpers._tf import keras, tf
from lenet_helpers.data import load_mnist, one_hot, prepare
from lenet_helpers.models import seed_lenet5

# Forward + backward of one image through seed_lenet5, counted from the layer shapes:
# 2 FLOPs per multiply-add, backward ~2x forward (input and weight gradients).
FORWARD_MACS = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 150 + 120 * 400 + 84 * 120 + 10 * 84
TRAIN_FLOP_PER_IMAGE = 3 * 2 * FORWARD_MACS


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


def epoch_seconds(fit_one_epoch, repeats: int) -> float:
    fit_one_epoch()  # warm-up: tracing and first allocations
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fit_one_epoch()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# The seed article's code, run in a fresh interpreter without lenet_helpers, so TensorFlow
# keeps its own defaults; it prints the median seconds per epoch.
ARTICLE_SCRIPT = """
import statistics, sys, time
import numpy as np
import keras
from keras.layers import AveragePooling2D, Conv2D, Dense, Flatten
sample = np.load(sys.argv[1])
x = np.concatenate([sample["x_train"]] * 15).reshape(-1, 28, 28, 1).astype("float32") / 255
y = keras.utils.to_categorical(np.concatenate([sample["y_train"]] * 15), 10)
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
times = []
for epoch in range(1 + int(sys.argv[2])):
    started = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    times.append(time.perf_counter() - started)
print(statistics.median(times[1:]))
"""


def plain_article_epoch(repeats: int) -> float:
    from lenet_helpers.data import SAMPLE_PATH

    env = {key: value for key, value in os.environ.items() if not key.startswith("TF_ENABLE_ONEDNN")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    result = subprocess.run([sys.executable, "-c", ARTICLE_SCRIPT, str(SAMPLE_PATH), str(repeats)],
                            capture_output=True, text=True, env=env, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def article_epoch(x, y, repeats):
    model = seed_lenet5()
    model.compile(loss=keras.losses.categorical_crossentropy, optimizer="SGD", metrics=["accuracy"])
    return epoch_seconds(lambda: model.fit(x, y, batch_size=128, epochs=1, verbose=0), repeats)


def recipe_epoch(x, y, recipe, repeats):
    model = training.compile_model(seed_lenet5(), recipe)
    if not recipe.pipeline:
        return epoch_seconds(lambda: model.fit(x, y, batch_size=recipe.batch_size, epochs=1, verbose=0), repeats)
    dataset = training.as_dataset(x, y, recipe.batch_size, shuffle=True, augment=recipe.augment)
    return epoch_seconds(lambda: model.fit(dataset, epochs=1, verbose=0, shuffle=False), repeats)


def time_to_accuracy(recipe_name: str, split, targets=(0.95, 0.97), max_seconds: float = 120.0):
    """Train on the sample epoch by epoch; seconds (training only) until each target test accuracy."""
    runtime.seed_everything(1998)
    if recipe_name == "article":
        model = seed_lenet5()
        model.compile(loss="categorical_crossentropy", optimizer="SGD", metrics=["accuracy"])
        step = lambda: model.fit(split.x_train, split.y_train, batch_size=128, epochs=1, verbose=0)  # noqa: E731
    else:
        recipe = training.RECOMMENDED
        model = training.compile_model(seed_lenet5(), recipe)
        step = lambda: model.fit(split.x_train, split.y_train, batch_size=recipe.batch_size,  # noqa: E731
                                 epochs=1, verbose=0)
    reached, spent, epochs, accuracy = {}, 0.0, 0, 0.0
    while spent < max_seconds and len(reached) < len(targets):
        started = time.perf_counter()
        step()
        spent += time.perf_counter() - started
        epochs += 1
        accuracy = training.evaluate(model, split.x_test, split.y_test)["accuracy"]
        for target in targets:
            if accuracy >= target and target not in reached:
                reached[target] = (spent, epochs)
    return reached, accuracy, epochs, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sample = load_mnist("sample", fast=False, quiet=True)
    x = np.concatenate([prepare(sample.x_train)] * 15)
    y = np.concatenate([one_hot(sample.y_train)] * 15)
    print(f"# LeNet-5 training speed, {time.strftime('%Y-%m-%d')}")
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores; "
          + ", ".join(f"{k} {v}" for k, v in runtime.versions().items() if k in ("python", "tensorflow", "keras")))
    limit = matmul_gflops()
    print(f"compute limit (float32 1024x1024 matmul): {limit:.0f} GFLOP/s; LeNet-5 training step: "
          f"{TRAIN_FLOP_PER_IMAGE / 1e6:.2f} MFLOP/image, so {TRAIN_FLOP_PER_IMAGE * len(x) / limit / 1e9:.2f} s "
          f"per epoch at that limit")
    big = dataclasses.replace(training.RECOMMENDED, name="recommended, batch 512", batch_size=512,
                              learning_rate=training.RECOMMENDED.learning_rate * 4)
    results = [("(a) seed article's code, TensorFlow defaults", plain_article_epoch(args.repeats)),
               ("(a') seed article's code, course TF settings", article_epoch(x, y, args.repeats))]
    recommended = training.RECOMMENDED
    results.append((f"(b) recommended: Adam, batch {recommended.batch_size}, steps_per_execution "
                    f"{recommended.steps_per_execution}", recipe_epoch(x, y, recommended, args.repeats)))
    results.append((f"(c) {big.name}", recipe_epoch(x, y, big, args.repeats)))
    print(f"\n{'path':<60}{'s/epoch':>9}{'images/s':>10}{'vs (a)':>8}{'of limit':>10}")
    base = results[0][1]
    for name, seconds in results:
        flops = TRAIN_FLOP_PER_IMAGE * len(x) / seconds / 1e9
        print(f"{name[:59]:<60}{seconds:>9.2f}{len(x) / seconds:>10,.0f}{base / seconds:>7.2f}x{flops / limit:>9.0%}")
    split = training.split_for_training(sample, validation_fraction=0.1)
    split.x_train, split.y_train = prepare(sample.x_train), one_hot(sample.y_train)  # all 4,000 digits
    print("\ntime to accuracy on the shipped sample (4,000 train / 1,000 held-out digits; training time only):")
    for name in ("article", "recommended"):
        reached, accuracy, epochs, spent = time_to_accuracy(name, split)
        parts = [f"{t:.0%} after {s:.1f} s ({e} epochs)" if t in reached else f"{t:.0%} not reached"
                 for t in (0.95, 0.97) for s, e in [reached.get(t, (0, 0))]]
        print(f"  {name:<12} " + "; ".join(parts) + f"; stopped at {accuracy:.4f} after {epochs} epochs, {spent:.0f} s")


if __name__ == "__main__":
    main()
