"""Three LeNet-5s: the seed article's, the paper's, and a modern one (lessons 06 and 08).

All three take the same input, MNIST digits as float32 N x 28 x 28 x 1 in [0, 1]
(`lenet_helpers.data.prepare`), so they can be trained and compared on the same arrays.
"""

from __future__ import annotations

from lenet_helpers._tf import keras
from lenet_helpers.data import PAPER_BACKGROUND, PAPER_FOREGROUND
from lenet_helpers.layers import (
    TABLE_I,
    PaperRBFLoss,
    PaperUniform,
    PartialConv2D,
    RBFOutput,
    Subsampling2D,
    rbf_accuracy,
    scaled_tanh,
)

layers = keras.layers
INPUT_SHAPE = (28, 28, 1)


def seed_lenet5() -> keras.Sequential:
    """The seed article's network: 28x28 input, tanh, average pooling, full C3, softmax; 61,706 params (lesson 06)."""
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="digits"),
            layers.Conv2D(6, kernel_size=5, padding="same", activation="tanh", name="C1"),
            layers.AveragePooling2D(pool_size=2, strides=2, name="S2"),
            layers.Conv2D(16, kernel_size=5, activation="tanh", name="C3"),
            layers.AveragePooling2D(pool_size=2, strides=2, name="S4"),
            layers.Conv2D(120, kernel_size=5, activation="tanh", name="C5"),
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation="tanh", name="F6"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="seed_lenet5",
    )


INITIALIZATIONS = ("paper", "keras")


def paper_lenet5(initialization: str = "paper") -> keras.Sequential:
    """The 1998 paper's network: 32x32 input scaled to [-0.1, 1.175], Table I, RBF output; 60,000 params (lesson 08).

    initialization="paper": every weight and bias uniform in +-2.4/F_in (PaperUniform), the
    subsampling coefficients included (fan-in 4); "keras": Keras's defaults (Glorot, zero
    biases, subsampling starting as a plain average), for comparison.
    """
    if initialization not in INITIALIZATIONS:
        raise ValueError(f"paper_lenet5(initialization={initialization!r}): choose one of {INITIALIZATIONS}")
    paper = initialization == "paper"

    def init(fan_in=None):  # a fresh initializer per weight: a seeded one repeats its values
        return PaperUniform(fan_in=fan_in) if paper else None

    def conv_init(kernel: int, in_maps: int) -> dict:
        if not paper:
            return {}
        return {"kernel_initializer": init(), "bias_initializer": init(kernel * kernel * in_maps)}

    def pool_init() -> dict:
        return {"coefficient_initializer": init(4), "bias_initializer": init(4)} if paper else {}

    span = PAPER_FOREGROUND - PAPER_BACKGROUND
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="digits"),
            # The paper centres 28x28 digits in a 32x32 field; background becomes -0.1, ink 1.175.
            layers.ZeroPadding2D(padding=2, name="pad_to_32"),
            layers.Rescaling(scale=span, offset=PAPER_BACKGROUND, name="paper_scaling"),
            layers.Conv2D(6, kernel_size=5, activation=scaled_tanh, name="C1", **conv_init(5, 1)),
            Subsampling2D(pool_size=2, activation=scaled_tanh, name="S2", **pool_init()),
            # PartialConv2D works out each C3 map's own fan-in from Table I
            PartialConv2D(table=TABLE_I, kernel_size=5, activation=scaled_tanh, name="C3",
                          **({"kernel_initializer": init(), "bias_initializer": init()} if paper else {})),
            Subsampling2D(pool_size=2, activation=scaled_tanh, name="S4", **pool_init()),
            layers.Conv2D(120, kernel_size=5, activation=scaled_tanh, name="C5", **conv_init(5, 16)),
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation=scaled_tanh, name="F6", **conv_init(1, 120)),
            RBFOutput(name="output"),
        ],
        name="paper_lenet5",
    )


def modern_lenet5() -> keras.Sequential:
    """LeNet-5's shapes with today's habits: ReLU and max pooling (trained with Adam) (lesson 08)."""
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="digits"),
            layers.Conv2D(6, kernel_size=5, padding="same", activation="relu", name="C1"),
            layers.MaxPooling2D(pool_size=2, name="S2"),
            layers.Conv2D(16, kernel_size=5, activation="relu", name="C3"),
            layers.MaxPooling2D(pool_size=2, name="S4"),
            layers.Conv2D(120, kernel_size=5, activation="relu", name="C5"),
            layers.Flatten(name="flatten"),
            layers.Dense(84, activation="relu", name="F6"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="modern_lenet5",
    )


BUILDERS = {"seed": seed_lenet5, "paper": paper_lenet5, "modern": modern_lenet5}


def build_model(name: str) -> keras.Sequential:
    """One of "seed", "paper", "modern", freshly initialised (lesson 08)."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(BUILDERS)}")
    return BUILDERS[name]()


def loss_and_metric(model: keras.Model) -> tuple:
    """The loss and accuracy metric that fit the model's output: softmax, or RBF distances with eq. 9 (lesson 08).

    For RBF distances the paper's own loss (eq. 9, PaperRBFLoss): on the shipped sample it
    trained the paper's network better than softmax cross-entropy over -distances (rbf_loss,
    still available); bench/accuracy.py --rbf-loss compares them on validation data.
    """
    if isinstance(model.layers[-1], RBFOutput):
        return PaperRBFLoss(), keras.metrics.MeanMetricWrapper(rbf_accuracy, name="accuracy")
    return "categorical_crossentropy", "accuracy"
