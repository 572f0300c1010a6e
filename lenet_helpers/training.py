"""Compile, fit and evaluate: the seed article's recipe and the course's faster one (lesson 05)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lenet_helpers._tf import keras, tf
from lenet_helpers.data import Mnist, one_hot, prepare, validation_split
from lenet_helpers.models import loss_and_metric


@dataclass(frozen=True)
class Recipe:
    """How to train: optimizer, learning rate, batch size and input pipeline (lesson 05)."""

    name: str
    optimizer: str
    learning_rate: float
    batch_size: int
    steps_per_execution: int = 1
    pipeline: bool = False  # tf.data with cache + prefetch instead of NumPy arrays
    augment: bool = False  # shift training digits by up to 2 pixels, a new shift every epoch
    momentum: float = 0.0  # SGD only

    def make_optimizer(self) -> keras.optimizers.Optimizer:
        """A fresh optimizer for this recipe."""
        config = {"learning_rate": self.learning_rate}
        if self.momentum:
            config["momentum"] = self.momentum
        return keras.optimizers.get({"class_name": self.optimizer, "config": config})


# The article: compile(optimizer='SGD') with Keras's default learning rate, batch 128.
ARTICLE = Recipe("article", optimizer="SGD", learning_rate=0.01, batch_size=128)
# The course's recipe: Adam, and 16 batches per call into TensorFlow (fewer Python round trips).
# The batch size depends on how many digits there are: 32 for the shipped sample's few thousand
# (more updates per epoch), 512 for full MNIST (fewer, larger matrix products: cheaper epochs),
# with the learning rate scaled by the square root of the batch ratio (16x the batch, 4x the rate).
# bench/train_speed.py measured the alternatives on a 2-core CPU: a tf.data pipeline with
# cache + shuffle + prefetch and random-shift augmentation both made epochs slower here, so the
# recipe keeps NumPy arrays (`pipeline` and `augment` stay available).
RECOMMENDED = Recipe("recommended", optimizer="Adam", learning_rate=1e-3, batch_size=32, steps_per_execution=16)
RECOMMENDED_LARGE = Recipe("recommended, large batches", optimizer="Adam", learning_rate=4e-3, batch_size=512,
                           steps_per_execution=16)
LARGE_TRAINING_SET = 20_000  # digits; full MNIST's 54,000 training digits (after validation) are above it


def recommended_for(train_size: int) -> Recipe:
    """The recommended recipe for this many training digits: large batches only when there are many (lesson 05)."""
    return RECOMMENDED_LARGE if train_size >= LARGE_TRAINING_SET else RECOMMENDED


@dataclass
class Split:
    """Model-ready arrays: train, validation (taken from train) and test (lesson 05)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def split_for_training(data: Mnist, validation_fraction: float = 0.1, seed: int = 0) -> Split:
    """Scale, add the channel axis, one-hot encode, and hold out a validation set from train (lesson 05)."""
    x_train, y_train, x_val, y_val = validation_split(
        prepare(data.x_train), one_hot(data.y_train), fraction=validation_fraction, seed=seed
    )
    return Split(x_train, y_train, x_val, y_val, prepare(data.x_test), one_hot(data.y_test))


def compile_model(model: keras.Model, recipe: Recipe = RECOMMENDED) -> keras.Model:
    """Compile with the recipe's optimizer and the loss and metric the model's output needs (lesson 05)."""
    loss, metric = loss_and_metric(model)
    model.compile(optimizer=recipe.make_optimizer(), loss=loss, metrics=[metric],
                  steps_per_execution=recipe.steps_per_execution)
    return model


def as_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0,
               augment: bool = False) -> tf.data.Dataset:
    """A tf.data pipeline: cached in memory, reshuffled every epoch, batched, prefetched (lesson 05)."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment:
        # 0.08 of 28 pixels: shifts of up to 2 pixels, like the paper's distortions but milder
        shift = keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed)
        dataset = dataset.map(lambda images, labels: (shift(images, training=True), labels),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


def fit(model: keras.Model, split: Split, epochs: int, recipe: Recipe = RECOMMENDED,
        callbacks=None, verbose: int = 0, seed: int = 0) -> keras.callbacks.History:
    """Train a compiled model on split.train, validating on split.val after every epoch (lesson 05)."""
    if recipe.pipeline:
        train = as_dataset(split.x_train, split.y_train, recipe.batch_size, shuffle=True, seed=seed,
                           augment=recipe.augment)
        val = as_dataset(split.x_val, split.y_val, 256, shuffle=False)
        return model.fit(train, validation_data=val, epochs=epochs, callbacks=callbacks, verbose=verbose,
                         shuffle=False)  # the pipeline shuffles
    return model.fit(split.x_train, split.y_train, batch_size=recipe.batch_size, epochs=epochs,
                     validation_data=(split.x_val, split.y_val), callbacks=callbacks, verbose=verbose)


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy on held-out data, as plain floats (lesson 05)."""
    results = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)
    return {name: float(value) for name, value in results.items()}


class EpochPrinter(keras.callbacks.Callback):
    """Prints one short line per epoch: losses, accuracies and seconds (lesson 05)."""

    def __init__(self, total_epochs: int, print_fn=print):
        super().__init__()
        self.total_epochs, self.print_fn = total_epochs, print_fn

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        parts = [f"{key} {logs[key]:.4f}" for key in ("loss", "accuracy", "val_loss", "val_accuracy") if key in logs]
        seconds = time.perf_counter() - self.started
        self.print_fn(f"epoch {epoch + 1}/{self.total_epochs}  " + "  ".join(parts) + f"  ({seconds:.1f} s)")


def predict_digits(model: keras.Model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted digits and class probabilities for model-ready images, for any of the three models (lesson 06)."""
    outputs = model.predict(x, batch_size=256, verbose=0)
    if loss_and_metric(model)[0] != "categorical_crossentropy":  # RBF distances: smaller is better
        outputs = keras.ops.convert_to_numpy(keras.ops.softmax(-outputs, axis=-1))
    return outputs.argmax(axis=1), outputs
