"""The paper's LeNet-5 building blocks as real Keras 3 layers (lesson 07).

LeCun et al. 1998, section II.B: C3's connection table (Table I), trainable subsampling,
the scaled tanh squashing function, and the Euclidean RBF output with fixed codes.
"""

from __future__ import annotations

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

# The paper's squashing function f(a) = A tanh(S a).
TANH_AMPLITUDE, TANH_SLOPE = 1.7159, 2.0 / 3.0


@register
def scaled_tanh(x):
    """The paper's squashing function 1.7159 tanh(2x/3) (lesson 07)."""
    return TANH_AMPLITUDE * ops.tanh(TANH_SLOPE * x)


@register
class ScaledTanh(keras.layers.Layer):
    """The paper's squashing function 1.7159 tanh(2x/3) as a layer (lesson 07)."""

    def call(self, inputs):
        return scaled_tanh(inputs)


@register
class PartialConv2D(keras.layers.Layer):
    """A convolution where output map j only sees the input maps `table[:, j]` selects (lesson 07).

    Only connected kernels are stored, so C3 with Table I has 60 x 25 weights + 16 biases
    = 1,516 trainable parameters, exactly as in the paper.
    """

    def __init__(self, table=TABLE_I, kernel_size: int = 5, activation=None, **kwargs):
        super().__init__(**kwargs)
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
        full_init = keras.initializers.GlorotUniform()
        connected = np.flatnonzero(self.table.reshape(-1))

        def init_connected(shape, dtype=None):
            full = full_init((k, k, n_in * self.filters), dtype=dtype)
            return ops.take(full, connected, axis=2)

        self.kernel = self.add_weight(name="kernel", shape=(k, k, len(connected)), initializer=init_connected)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

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
        }


@register
class Subsampling2D(keras.layers.Layer):
    """The paper's S2/S4: sum each 2x2 block, times a trainable coefficient, plus a bias, per map (lesson 07)."""

    def __init__(self, pool_size: int = 2, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        maps = input_shape[-1]
        # Start as a plain average (coefficient 1/4 on a sum of 4), then let training move it.
        start = keras.initializers.Constant(1.0 / self.pool_size**2)
        self.coefficient = self.add_weight(name="coefficient", shape=(maps,), initializer=start)
        self.bias = self.add_weight(name="bias", shape=(maps,), initializer="zeros")

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
    """The RBF output's fixed codes: a (10, 84) array of +1/-1 from DIGIT_BITMAPS (lesson 07)."""
    return np.array(
        [[1.0 if pixel == "#" else -1.0 for row in DIGIT_BITMAPS[d] for pixel in row] for d in range(10)],
        dtype="float32",
    )


@register
class RBFOutput(keras.layers.Layer):
    """Euclidean RBF units: y_i = sum_j (x_j - w_ij)^2 with fixed codes w; the smallest y_i wins (lesson 07)."""

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
    """Softmax cross-entropy over minus the RBF distances: the right digit should be nearest (lesson 07)."""
    return keras.losses.categorical_crossentropy(y_true, -distances, from_logits=True)


@register
def rbf_accuracy(y_true, distances):
    """Accuracy for an RBF output: the prediction is the digit with the smallest distance (lesson 07)."""
    return keras.metrics.categorical_accuracy(y_true, -distances)
