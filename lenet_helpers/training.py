"""Compile, fit and evaluate: the seed article's recipe, the course's recommended one, the paper's (lessons 06, 08)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from lenet_helpers._tf import keras, tf
from lenet_helpers.data import Mnist, one_hot, prepare, validation_split
from lenet_helpers.layers import RandomDistortion, RBFOutput
from lenet_helpers.models import loss_and_metric

SCHEDULES = ("constant", "cosine", "paper")


@dataclass(frozen=True)
class Recipe:
    """How to train: optimizer, learning rate, batch size, distortions, schedule, early stopping (lesson 06)."""

    name: str
    optimizer: str  # a Keras optimizer's name, or "SDLM" (the paper's, lenet_helpers.sdlm)
    learning_rate: float  # the peak for "cosine"; ignored by "paper", which sets eta per pass
    batch_size: int
    steps_per_execution: int = 1
    pipeline: bool = False  # tf.data with cache + prefetch instead of NumPy arrays
    augment: bool = False  # with pipeline: shift training digits by up to 2 pixels in tf.data
    momentum: float = 0.0  # SGD only
    distort: bool = False  # the paper's distortions (RandomDistortion) inside the training graph
    schedule: str = "constant"  # "cosine": per epoch down to ~0 at the last; "paper": SDLM's eta per pass
    patience: int | None = None  # early stopping on validation loss, restoring the best epoch's weights
    epochs: int = 20  # what fit() trains when not told

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Recipe {self.name!r}: schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if (self.schedule == "paper") != (self.optimizer == "SDLM"):
            raise ValueError(f"Recipe {self.name!r}: the 'paper' schedule and the SDLM optimizer go together")

    def make_optimizer(self) -> keras.optimizers.Optimizer:
        """A fresh optimizer for this recipe."""
        if self.optimizer == "SDLM":
            from lenet_helpers.sdlm import SDLM

            return SDLM()
        config = {"learning_rate": self.learning_rate}
        if self.momentum:
            config["momentum"] = self.momentum
        return keras.optimizers.get({"class_name": self.optimizer, "config": config})


# The article: compile(optimizer='SGD') with Keras's default learning rate, batch 128.
ARTICLE = Recipe("article", optimizer="SGD", learning_rate=0.01, batch_size=128)
# The course's recipe (lesson 06): Adam, and 16 batches per call into TensorFlow (fewer Python round
# trips); the paper's distortions of the training digits (translation, scaling, squeezing, shear),
# which matter most when there are few digits; a learning rate that decays along a half cosine to
# ~0 at the last epoch; early stopping on validation loss, keeping the best epoch's weights.
# Batch size by data size: 32 for the shipped sample's few thousand (more updates per epoch), 512 for
# full MNIST (fewer, larger matrix products: cheaper epochs), with the learning rate scaled by the
# square root of the batch ratio (16x the batch, 4x the rate).
# Chosen on validation accuracy of the shipped sample (never its test digits): peak 0.002 beat 0.001
# for the seed and the paper network; 30 epochs fit a minute on 2 cores. bench/accuracy.py measures
# what it reaches. The large-batch branch could not be measured offline (no full MNIST here).
# bench/train_speed.py measured a tf.data pipeline with cache + shuffle + prefetch slower than NumPy
# arrays on a 2-core CPU, so the recipe keeps arrays.
RECOMMENDED = Recipe("recommended", optimizer="Adam", learning_rate=2e-3, batch_size=32, steps_per_execution=16,
                     distort=True, schedule="cosine", patience=10, epochs=30)
RECOMMENDED_LARGE = Recipe("recommended, large batches", optimizer="Adam", learning_rate=8e-3, batch_size=512,
                           steps_per_execution=16, distort=True, schedule="cosine", patience=5, epochs=20)
LARGE_TRAINING_SET = 20_000  # digits; full MNIST's 54,000 training digits (after validation) are above it
# The paper's protocol (lesson 08, lenet_helpers.sdlm): its loss (eq. 9), SDLM with eta per pass from
# Appendix C, an update after every digit (batch 1), 20 passes, no distortions (the paper's 0.95% was
# without them). 256 single-digit steps per call into TensorFlow keep Python's per-step cost down.
PAPER = Recipe("paper", optimizer="SDLM", learning_rate=0.0005, batch_size=1, steps_per_execution=256,
               schedule="paper", epochs=20)


def recommended_for(train_size: int) -> Recipe:
    """The recommended recipe for this many training digits: large batches only when there are many (lesson 06)."""
    return RECOMMENDED_LARGE if train_size >= LARGE_TRAINING_SET else RECOMMENDED


def describe_recipe(recipe: Recipe) -> str:
    """One line: optimizer, step size, batch size, and what else the recipe does (lesson 06)."""
    if recipe.optimizer == "SDLM":
        from lenet_helpers.sdlm import ETA_AFTER, MU, paper_eta

        parts = [f"SDLM, eta {paper_eta(1):g} down to {ETA_AFTER:g} by pass, mu {MU:g}, batch {recipe.batch_size}"]
    else:
        parts = [f"{recipe.optimizer}, learning rate {recipe.learning_rate:g}, batch {recipe.batch_size}"]
    if recipe.distort:
        parts.append("distortions")
    if recipe.schedule == "cosine":
        parts.append("cosine decay")
    if recipe.patience:
        parts.append(f"early stopping (patience {recipe.patience})")
    return ", ".join(parts)


@dataclass
class Split:
    """Model-ready arrays: train, validation (taken from train) and test (lesson 06)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def split_for_training(data: Mnist, validation_fraction: float = 0.1, seed: int = 0) -> Split:
    """Scale, add the channel axis, one-hot encode, and hold out a validation set from train (lesson 06)."""
    x_train, y_train, x_val, y_val = validation_split(
        prepare(data.x_train), one_hot(data.y_train), fraction=validation_fraction, seed=seed
    )
    return Split(x_train, y_train, x_val, y_val, prepare(data.x_test), one_hot(data.y_test))


def compile_model(model: keras.Model, recipe: Recipe = RECOMMENDED) -> keras.Model:
    """Compile with the recipe's optimizer and the loss and metric the model's output needs (lesson 06)."""
    if recipe.optimizer == "SDLM" and not isinstance(model.layers[-1], RBFOutput):
        raise ValueError(f"the {recipe.name!r} recipe trains the paper's network: its curvature estimate and loss "
                         f"(eq. 9) need the RBF output, and {model.name} ends in {type(model.layers[-1]).__name__}")
    loss, metric = loss_and_metric(model)
    model.compile(optimizer=recipe.make_optimizer(), loss=loss, metrics=[metric],
                  steps_per_execution=recipe.steps_per_execution)
    return model


def with_distortions(model: keras.Model, seed: int = 0) -> keras.Model:
    """`model` behind a RandomDistortion layer, sharing its weights and compiled the same way, to train on (lesson 06).

    The distortions run inside the training graph; `model` itself is unchanged, so evaluate,
    predict and save see the network without them.
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"{model.name} is not compiled: call training.compile_model(model, recipe) first")
    trainer = keras.Sequential([keras.Input(shape=model.input_shape[1:]), RandomDistortion(seed=seed, name="distort"),
                                model], name=f"{model.name}_distorted")
    trainer.compile(optimizer=model.optimizer, loss=model.loss, metrics=[loss_and_metric(model)[1]],
                    steps_per_execution=model.steps_per_execution)
    return trainer


def recipe_callbacks(model: keras.Model, split: Split, recipe: Recipe, epochs: int, seed: int = 0) -> list:
    """The callbacks a recipe trains with: learning-rate schedule, curvature estimates, early stopping (lesson 06)."""
    callbacks = []
    if recipe.schedule == "cosine":
        peak = recipe.learning_rate
        callbacks.append(keras.callbacks.LearningRateScheduler(
            lambda epoch: peak * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))))
    elif recipe.schedule == "paper":
        from lenet_helpers.sdlm import PaperSchedule

        callbacks.append(PaperSchedule(model, split.x_train, patterns_per_step=recipe.batch_size, seed=seed))
    if recipe.patience:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=recipe.patience,
                                                       restore_best_weights=True))
    return callbacks


def as_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0,
               augment: bool = False) -> tf.data.Dataset:
    """A tf.data pipeline: cached in memory, reshuffled every epoch, batched, prefetched (lesson 06)."""
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


def fit(model: keras.Model, split: Split, epochs: int | None = None, recipe: Recipe = RECOMMENDED,
        callbacks=None, verbose: int = 0, seed: int = 0) -> keras.callbacks.History:
    """Train a compiled model on split.train the recipe's way, validating on split.val after every epoch (lesson 06).

    `epochs` defaults to the recipe's; with early stopping it is a maximum, and the model ends
    with the weights of its best epoch on validation.
    """
    epochs = recipe.epochs if epochs is None else int(epochs)
    callbacks = recipe_callbacks(model, split, recipe, epochs, seed) + list(callbacks or [])
    trainer = with_distortions(model, seed=seed) if recipe.distort else model
    if recipe.pipeline:
        train = as_dataset(split.x_train, split.y_train, recipe.batch_size, shuffle=True, seed=seed,
                           augment=recipe.augment)
        val = as_dataset(split.x_val, split.y_val, 256, shuffle=False)
        return trainer.fit(train, validation_data=val, epochs=epochs, callbacks=callbacks, verbose=verbose,
                           shuffle=False)  # the pipeline shuffles
    return trainer.fit(split.x_train, split.y_train, batch_size=recipe.batch_size, epochs=epochs,
                       validation_data=(split.x_val, split.y_val), callbacks=callbacks, verbose=verbose)


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Loss and accuracy on held-out data, as plain floats (lesson 06)."""
    results = model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)
    return {name: float(value) for name, value in results.items()}


class EpochPrinter(keras.callbacks.Callback):
    """Prints one short line per epoch: losses, accuracies and seconds (lesson 06)."""

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
    """Predicted digits and class probabilities for model-ready images, for any of the three models (lesson 07)."""
    outputs = model.predict(x, batch_size=256, verbose=0)
    if loss_and_metric(model)[0] != "categorical_crossentropy":  # RBF distances: smaller is better
        outputs = keras.ops.convert_to_numpy(keras.ops.softmax(-outputs, axis=-1))
    return outputs.argmax(axis=1), outputs
