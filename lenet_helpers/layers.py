"""The paper's LeNet-5 building blocks as real Keras 3 components (lessons 06 and 08).

LeCun et al. 1998, section II.B: C3's connection table (Table I), trainable subsampling,
the scaled tanh squashing function, and the Euclidean RBF output with fixed codes; and how
the paper trains it: its initialisation, its loss (eq. 9) and its distortions of the training
digits (translation, scaling, squeezing, horizontal shear). The figures are as the course's
PAPER.md lists them from the paper; the paper itself could not be consulted when this was written.
"""

from __future__ import annotations

import random

import numpy as np

from lenet_helpers._tf import keras

ops = keras.ops
register = keras.saving.register_keras_serializable(package="lenet_helpers")

# Table I of the paper: column j lists the S2 maps (rows) that feed C3 map j.
TABLE_I_INPUTS = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def connection_table(inputs_per_map=TABLE_I_INPUTS, n_inputs: int = 6) -> np.ndarray:
    """A boolean (input maps x output maps) table; Table I by default (lesson 03)."""
    table = np.zeros((n_inputs, len(inputs_per_map)), dtype=bool)
    for out_map, in_maps in enumerate(inputs_per_map):
        table[list(in_maps), out_map] = True
    return table


TABLE_I = connection_table()


@register
class PaperUniform(keras.initializers.Initializer):
    """The paper's initialisation: uniform in (-2.4/F_in, 2.4/F_in), F_in the unit's fan-in (lesson 08).

    As PAPER.md lists it from the paper: small enough that each unit's weighted sum falls in the
    squashing function's operating range. Without `fan_in`, a kernel's fan-in is
    its shape without the last axis (kernel height x width x input maps; Dense: inputs);
    `fan_in` may also give one value per unit of the last axis (C3's maps see 3, 4 or 6 S2
    maps) and must be given for biases. Like Keras's own, an initializer with a fixed seed
    draws the same values at every call: give each layer its own instance.
    """

    def __init__(self, scale: float = 2.4, fan_in=None, seed: int | None = None):
        self.scale = float(scale)
        self.fan_in = None if fan_in is None else np.asarray(fan_in, dtype="float32")
        if self.fan_in is not None and not (self.fan_in > 0).all():
            raise ValueError(f"PaperUniform: fan_in must be positive, got {fan_in}")
        self._init_seed = seed
        self.seed = seed if seed is not None else random.randint(1, 2**31 - 1)  # seed_everything() fixes it

    def limits(self, shape) -> np.ndarray:
        """The bound 2.4 / F_in for each unit of the last axis of `shape`."""
        if self.fan_in is None:
            if len(shape) < 2:
                raise ValueError(f"PaperUniform: give fan_in= for a {len(shape)}-D weight of shape {tuple(shape)}")
            fan_in = np.full((shape[-1],), float(np.prod(shape[:-1])), dtype="float32")
        else:
            fan_in = np.broadcast_to(self.fan_in, (shape[-1],))
        return (self.scale / fan_in).astype("float32")

    def __call__(self, shape, dtype=None):
        unit = keras.random.uniform(shape, minval=-1.0, maxval=1.0, seed=self.seed, dtype=dtype)
        return unit * ops.cast(self.limits(shape), unit.dtype)

    def get_config(self):
        fan_in = None if self.fan_in is None else self.fan_in.tolist()
        return {"scale": self.scale, "fan_in": fan_in, "seed": self._init_seed}


# The paper's squashing function f(a) = A tanh(S a).
TANH_AMPLITUDE, TANH_SLOPE = 1.7159, 2.0 / 3.0


@register
def scaled_tanh(x):
    """The paper's squashing function 1.7159 tanh(2x/3) (lesson 08)."""
    return TANH_AMPLITUDE * ops.tanh(TANH_SLOPE * x)


@register
class ScaledTanh(keras.layers.Layer):
    """The paper's squashing function 1.7159 tanh(2x/3) as a layer (lesson 08)."""

    def call(self, inputs):
        return scaled_tanh(inputs)


@register
class PartialConv2D(keras.layers.Layer):
    """A convolution where output map j only sees the input maps `table[:, j]` selects (lessons 03 and 08).

    Only connected kernels are stored, so C3 with Table I has 60 x 25 weights + 16 biases
    = 1,516 trainable parameters, exactly as in the paper.
    """

    def __init__(self, table=TABLE_I, kernel_size: int = 5, activation=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.table = np.asarray(table, dtype=bool)
        if self.table.ndim != 2 or not self.table.any(axis=0).all():
            raise ValueError("table must be (input maps x output maps) with every output map connected")
        self.kernel_size = int(kernel_size)
        self.activation = keras.activations.get(activation)
        self.filters = self.table.shape[1]
        # Position of each connected (input, output) pair in the stored kernel; 0 means "not
        # connected" and picks a slice of zeros, so the full kernel is one gather away.
        pairs = np.zeros(self.table.shape, dtype="int32")
        pairs[self.table] = np.arange(1, self.table.sum() + 1)
        self._pair_index = pairs.reshape(-1)

    def build(self, input_shape):
        n_in, k = input_shape[-1], self.kernel_size
        if n_in != self.table.shape[0]:
            raise ValueError(f"{self.name}: the table expects {self.table.shape[0]} input maps, got {n_in}")
        connected = np.flatnonzero(self.table.reshape(-1))
        kernel_init, bias_init = self.kernel_initializer, self.bias_initializer
        if isinstance(kernel_init, PaperUniform) and kernel_init.fan_in is None:
            # A C3 map's fan-in is k x k x the S2 maps Table I gives it (75, 100 or 150), not k x k x 6.
            per_map = k * k * self.table.sum(axis=0)
            kernel_init = PaperUniform(kernel_init.scale, fan_in=per_map, seed=kernel_init.seed)
        if isinstance(bias_init, PaperUniform) and bias_init.fan_in is None:
            bias_init = PaperUniform(bias_init.scale, fan_in=k * k * self.table.sum(axis=0), seed=bias_init.seed)

        def init_connected(shape, dtype=None):
            full = kernel_init((k, k, n_in, self.filters), dtype=dtype)
            return ops.take(ops.reshape(full, (k, k, n_in * self.filters)), connected, axis=2)

        self.kernel = self.add_weight(name="kernel", shape=(k, k, len(connected)), initializer=init_connected)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=bias_init)

    def full_kernel(self):
        """The (k, k, in, out) kernel with zeros where Table I has no connection."""
        k = self.kernel_size
        zeros = ops.zeros((k, k, 1), dtype=self.kernel.dtype)
        stacked = ops.concatenate([zeros, self.kernel], axis=2)
        return ops.reshape(ops.take(stacked, self._pair_index, axis=2), (k, k, *self.table.shape))

    def call(self, inputs):
        outputs = ops.conv(inputs, self.full_kernel(), strides=1, padding="valid") + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        k = self.kernel_size
        size = [None if d is None else d - k + 1 for d in input_shape[1:3]]
        return (input_shape[0], *size, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "table": self.table.astype(int).tolist(),
            "kernel_size": self.kernel_size,
            "activation": keras.activations.serialize(self.activation) if self.activation else None,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


@register
class Subsampling2D(keras.layers.Layer):
    """The paper's S2/S4: sum each 2x2 block, times a trainable coefficient, plus a bias, per map (lesson 08)."""

    def __init__(self, pool_size: int = 2, activation=None, coefficient_initializer=None, bias_initializer="zeros",
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.activation = keras.activations.get(activation)
        # By default start as a plain average (coefficient 1/4 on a sum of 4); training moves it.
        average = keras.initializers.Constant(1.0 / self.pool_size**2)
        self.coefficient_initializer = keras.initializers.get(coefficient_initializer or average)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        maps = input_shape[-1]
        self.coefficient = self.add_weight(name="coefficient", shape=(maps,), initializer=self.coefficient_initializer)
        self.bias = self.add_weight(name="bias", shape=(maps,), initializer=self.bias_initializer)

    def call(self, inputs):
        p = self.pool_size
        sums = ops.average_pool(inputs, p, strides=p, padding="valid") * float(p * p)
        outputs = sums * self.coefficient + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        size = [None if d is None else d // self.pool_size for d in input_shape[1:3]]
        return (input_shape[0], *size, input_shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "activation": keras.activations.serialize(self.activation) if self.activation else None,
            "coefficient_initializer": keras.initializers.serialize(self.coefficient_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


# 7 x 12 bitmaps of the digits, in the spirit of the paper's stylized characters (Fig. 3).
# '#' is +1, '.' is -1; each row is 7 pixels wide, 12 rows tall: 84 values, one per F6 unit.
DIGIT_BITMAPS = {
    0: ["..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."],
    1: ["...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...",
        "...#...", "...#...", "...#...", "...#...", "...#...", ".#####."],
    2: ["..###..", ".#...#.", "#.....#", "......#", ".....#.", "....#..",
        "...#...", "..#....", ".#.....", "#......", "#......", "#######"],
    3: [".#####.", "#.....#", "......#", "......#", ".....#.", "..###..",
        ".....#.", "......#", "......#", "......#", "#.....#", ".#####."],
    4: ["....#..", "...##..", "..#.#..", ".#..#..", "#...#..", "#...#..",
        "#######", "....#..", "....#..", "....#..", "....#..", "...###."],
    5: ["#######", "#......", "#......", "#......", "#####..", ".....#.",
        "......#", "......#", "......#", "......#", "#....#.", ".####.."],
    6: ["..####.", ".#.....", "#......", "#......", "#.###..", "##...#.",
        "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."],
    7: ["#######", "......#", ".....#.", ".....#.", "....#..", "....#..",
        "...#...", "...#...", "..#....", "..#....", "..#....", "..#...."],
    8: ["..###..", ".#...#.", "#.....#", "#.....#", ".#...#.", "..###..",
        ".#...#.", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."],
    9: ["..###..", ".#...#.", "#.....#", "#.....#", "#.....#", ".#...##",
        "..###.#", "......#", "......#", ".....#.", "....#..", ".###..."],
}


def digit_codes() -> np.ndarray:
    """The RBF output's fixed codes: a (10, 84) array of +1/-1 from DIGIT_BITMAPS (lesson 08)."""
    return np.array(
        [[1.0 if pixel == "#" else -1.0 for row in DIGIT_BITMAPS[d] for pixel in row] for d in range(10)],
        dtype="float32",
    )


@register
class RBFOutput(keras.layers.Layer):
    """Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2 with fixed codes w; the smallest y_i wins (lesson 08)."""

    def __init__(self, codes=None, **kwargs):
        super().__init__(**kwargs)
        self.initial_codes = digit_codes() if codes is None else np.asarray(codes, dtype="float32")

    def build(self, input_shape):
        if input_shape[-1] != self.initial_codes.shape[1]:
            raise ValueError(f"{self.name}: codes have {self.initial_codes.shape[1]} values, input {input_shape[-1]}")
        self.codes = self.add_weight(
            name="codes", shape=self.initial_codes.shape,
            initializer=keras.initializers.Constant(self.initial_codes), trainable=False,
        )

    def call(self, inputs):
        differences = ops.expand_dims(inputs, 1) - ops.expand_dims(self.codes, 0)
        return ops.sum(ops.square(differences), axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.initial_codes.shape[0])

    def get_config(self):
        return {**super().get_config(), "codes": self.initial_codes.tolist()}


@register
def rbf_loss(y_true, distances):
    """Softmax cross-entropy over minus the RBF distances: the right digit should be nearest (lesson 08)."""
    return keras.losses.categorical_crossentropy(y_true, -distances, from_logits=True)


@register
def rbf_accuracy(y_true, distances):
    """Accuracy for an RBF output: the prediction is the digit with the smallest distance (lesson 08)."""
    return keras.metrics.categorical_accuracy(y_true, -distances)


# Eq. (9) names j only "a positive constant" (PAPER.md gives no value); 1.0 is our choice.
PAPER_LOSS_J = 1.0


@register
class PaperRBFLoss(keras.losses.Loss):
    """The paper's loss, eq. (9): E = y_D + log(e^-j + sum_i e^-y_i), y the RBF outputs (lesson 08).

    y_D, the correct class's squared distance, is pulled down; the log term pushes the other
    classes' distances up, and e^-j keeps it from rewarding a collapse of all RBF centres.
    Computed as a log-sum-exp, so distances of hundreds do not underflow. Keras averages the
    per-digit values over the batch, the (1/P) sum_p of eq. (9). E >= 0, and E = 0 never quite.
    """

    def __init__(self, j: float = PAPER_LOSS_J, name: str = "paper_rbf_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if not j > 0:
            raise ValueError(f"PaperRBFLoss: j must be a positive constant, got {j}")
        self.j = float(j)

    def call(self, y_true, distances):
        distances = ops.convert_to_tensor(distances)
        y_true = ops.cast(y_true, distances.dtype)
        correct = ops.sum(y_true * distances, axis=-1)
        j = ops.full_like(distances[..., :1], -self.j)
        return correct + ops.logsumexp(ops.concatenate([j, -distances], axis=-1), axis=-1)

    def get_config(self):
        return {**super().get_config(), "j": self.j}


@register
class RandomDistortion(keras.layers.Layer):
    """The paper's distortions of training digits: shift, scale, squeeze, horizontal shear, while training (lesson 07).

    The paper's 0.8% error came from adding distorted digits to training: "random combinations of
    translation, scaling, squeezing and horizontal shearing" (as PAPER.md lists its results). The
    kinds are the paper's, the ranges ours: shifts of up to `shift` pixels, scale 1 +- `scale`,
    squeeze (width x (1+q), height / (1+q)) with |q| <= `squeeze`, horizontal shear x += h y with
    |h| <= `shear`. Each image gets one affine map about its centre, resampled once (bilinear,
    background 0), a new one at every epoch. At inference (evaluate, predict) images pass unchanged.
    """

    def __init__(self, shift: float = 2.0, scale: float = 0.1, squeeze: float = 0.1, shear: float = 0.2,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.shift, self.scale, self.squeeze, self.shear = float(shift), float(scale), float(squeeze), float(shear)
        if min(self.shift, self.scale, self.squeeze, self.shear) < 0 or self.scale >= 1 or self.squeeze >= 1:
            raise ValueError("RandomDistortion: ranges must be >= 0, and scale and squeeze below 1")
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def transforms(self, batch_size):
        """One random map per image, as rows [a0, a1, a2, b0, b1, b2, 0, 0] for ops.image.affine_transform."""
        def draw(bound):
            return keras.random.uniform((batch_size,), -bound, bound, seed=self.generator)

        # Drawn directly as the map from output to input pixels, which affine_transform wants;
        # every range is symmetric, so that is as random as drawing the forward map.
        zoom, squeeze = 1.0 + draw(self.scale), 1.0 + draw(self.squeeze)
        shear, dx, dy = draw(self.shear), draw(self.shift), draw(self.shift)
        a0, a1, b1 = zoom * squeeze, shear, zoom / squeeze
        cy, cx = (self.height - 1) / 2.0, (self.width - 1) / 2.0  # about the centre, not the corner
        a2 = cx - a0 * cx - a1 * cy + dx
        b2 = cy - b1 * cy + dy
        zeros = ops.zeros_like(a0)
        return ops.stack([a0, a1, a2, zeros, b1, b2, zeros, zeros], axis=1)

    def build(self, input_shape):
        self.height, self.width = input_shape[1], input_shape[2]

    def call(self, inputs, training=None):
        if not training:
            return inputs
        return ops.image.affine_transform(inputs, self.transforms(ops.shape(inputs)[0]), interpolation="bilinear",
                                          fill_mode="constant", fill_value=0.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "shift": self.shift, "scale": self.scale, "squeeze": self.squeeze,
                "shear": self.shear, "seed": self.seed}
