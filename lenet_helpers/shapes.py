"""Shape arithmetic: output sizes, trainable parameters and connections of each layer (lessons 01-04).

Pure functions of integers; `layer_table` applies them to a Keras model layer by layer,
without asking Keras for its counts, so tests can compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def conv_output_size(width: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """(W - F + 2P) / S + 1 rounded down, as in Keras; ValueError if the kernel exceeds the padded input (lesson 01).

    When S does not divide W - F + 2P, the window stops at the last place where it still
    fits and the few pixels after it are never used (see `unused_pixels`): Conv2D(6, 5,
    strides=2) on 32x32 gives 14x14. Keras refuses only a kernel larger than the padded input.
    """
    if min(width, kernel, stride) < 1 or padding < 0:
        raise ValueError(f"sizes must be positive (width {width}, kernel {kernel}, stride {stride}, padding {padding})")
    if kernel > width + 2 * padding:
        raise ValueError(
            f"a {kernel}x{kernel} kernel does not fit in a {width}x{width} input with padding {padding} "
            f"({width} + 2*{padding} = {width + 2 * padding} < {kernel}); Keras refuses it too"
        )
    return (width - kernel + 2 * padding) // stride + 1


def unused_pixels(width: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Pixels at the end of each padded row (and column) that no window reaches: (W - F + 2P) mod S (lesson 01)."""
    conv_output_size(width, kernel, padding, stride)  # the same checks
    return (width - kernel + 2 * padding) % stride


def same_padding(kernel: int) -> int:
    """The padding that keeps the size at stride 1 ('same' in Keras): (F - 1) / 2 (lesson 01)."""
    return (kernel - 1) // 2


def pool_output_size(width: int, pool: int = 2, stride: int | None = None) -> int:
    """Output size of a pooling or subsampling window (stride defaults to the window) (lesson 02)."""
    return conv_output_size(width, pool, 0, stride or pool)


def conv_params(kernel: int, in_maps: int, out_maps: int) -> int:
    """Each output map has one kernel per input map plus one bias: out x (F x F x in + 1) (lesson 01)."""
    return out_maps * (kernel * kernel * in_maps + 1)


def partial_conv_params(kernel: int, table) -> int:
    """Like conv_params, but output map j only has kernels for the inputs table[:, j] marks (lesson 03)."""
    inputs_per_map = np.asarray(table, dtype=bool).sum(axis=0)
    return int(sum(kernel * kernel * int(n) + 1 for n in inputs_per_map))


def subsampling_params(maps: int) -> int:
    """The paper's S2/S4: one coefficient and one bias per map (lesson 02)."""
    return 2 * maps


def dense_params(inputs: int, units: int) -> int:
    """A fully connected layer: units x (inputs + 1) (lesson 04)."""
    return units * (inputs + 1)


def conv_connections(params: int, out_height: int, out_width: int) -> int:
    """Every weight of a convolution is used once per output position: params x output area (lesson 01)."""
    return params * out_height * out_width


def pooling_connections(out_size: int, maps: int, pool: int = 2, bias: bool = False) -> int:
    """Each output unit has pool x pool input connections, plus one for a bias if trained (lesson 02)."""
    return out_size * out_size * maps * (pool * pool + int(bias))


@dataclass(frozen=True)
class LayerRow:
    """One row of a layer table: name, kind, output shape, trainable parameters, connections (lesson 04)."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    connections: int


def layer_table(model) -> list[LayerRow]:
    """C1, S2, ... of a LeNet-5: output shape, params and connections from the formulas above (lesson 04)."""
    from lenet_helpers.layers import PartialConv2D, RBFOutput, Subsampling2D

    h, w, c = model.input_shape[1:]
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        config = layer.get_config()
        if kind == "ZeroPadding2D":
            (top, bottom), (left, right) = config["padding"]
            h, w = h + top + bottom, w + left + right
            continue
        if kind == "Flatten":
            h, w, c = 1, 1, h * w * c
            continue
        if isinstance(layer, PartialConv2D) or kind == "Conv2D":
            k = layer.kernel_size if isinstance(layer, PartialConv2D) else config["kernel_size"][0]
            pad = same_padding(k) if config.get("padding") == "same" else 0
            stride = config.get("strides", (1, 1))[0]
            if isinstance(layer, PartialConv2D):
                params, c_out = partial_conv_params(k, layer.table), layer.filters
            else:
                params, c_out = conv_params(k, c, config["filters"]), config["filters"]
            h, w, c = conv_output_size(h, k, pad, stride), conv_output_size(w, k, pad, stride), c_out
            rows.append(LayerRow(layer.name, kind, (h, w, c), params, conv_connections(params, h, w)))
        elif isinstance(layer, Subsampling2D) or kind in ("AveragePooling2D", "MaxPooling2D"):
            pool = layer.pool_size if isinstance(layer, Subsampling2D) else config["pool_size"][0]
            trained = isinstance(layer, Subsampling2D)
            h, w = pool_output_size(h, pool), pool_output_size(w, pool)
            params = subsampling_params(c) if trained else 0
            rows.append(LayerRow(layer.name, kind, (h, w, c), params, pooling_connections(h, c, pool, bias=trained)))
        elif kind == "Dense":
            units = config["units"]
            params = dense_params(h * w * c, units)
            rows.append(LayerRow(layer.name, kind, (units,), params, params))
            h, w, c = 1, 1, units
        elif isinstance(layer, RBFOutput):
            units, inputs = layer.initial_codes.shape
            rows.append(LayerRow(layer.name, kind, (units,), 0, units * inputs))
            h, w, c = 1, 1, units
    return rows


def format_table(rows: list[LayerRow]) -> str:
    """The layer table as aligned text with a total line, for printing in a notebook (lesson 04)."""
    lines = [f"{'layer':<8}{'kind':<18}{'output':>14}{'params':>10}{'connections':>14}"]
    for row in rows:
        shape = "x".join(map(str, row.output_shape))
        lines.append(f"{row.name:<8}{row.kind:<18}{shape:>14}{row.params:>10,}{row.connections:>14,}")
    total_params = sum(row.params for row in rows)
    total_connections = sum(row.connections for row in rows)
    lines.append(f"{'total':<8}{'':<18}{'':>14}{total_params:>10,}{total_connections:>14,}")
    return "\n".join(lines)


def trainable_params(model) -> int:
    """Keras's own count of trainable parameters (non-trainable RBF codes excluded) (lesson 04)."""
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))


def receptive_fields(model) -> dict[str, int | None]:
    """Input pixels (per side) one unit of each C/S layer sees; None for layers that see everything (lesson 04).

    Each window of k units, `step` input pixels apart, widens the field by (k - 1) x step,
    and a stride multiplies the step. Padding moves the field but does not change its size.
    """
    from lenet_helpers.layers import PartialConv2D, RBFOutput, Subsampling2D

    field, step, fields = 1, 1, {}
    for layer in model.layers:
        kind, config = type(layer).__name__, layer.get_config()
        if isinstance(layer, PartialConv2D) or kind == "Conv2D":
            kernel = layer.kernel_size if isinstance(layer, PartialConv2D) else config["kernel_size"][0]
            stride = 1 if isinstance(layer, PartialConv2D) else config["strides"][0]
        elif isinstance(layer, Subsampling2D) or kind in ("AveragePooling2D", "MaxPooling2D"):
            kernel = layer.pool_size if isinstance(layer, Subsampling2D) else config["pool_size"][0]
            stride = kernel if isinstance(layer, Subsampling2D) else config["strides"][0]
        elif kind == "Dense" or isinstance(layer, RBFOutput):
            fields[layer.name] = None
            continue
        else:
            continue
        field += (kernel - 1) * step
        step *= stride
        fields[layer.name] = field
    return fields


def forward_flops(rows: list[LayerRow]) -> int:
    """Floating-point operations of one forward pass: 2 per connection, one multiply and one add (lesson 04)."""
    return 2 * sum(row.connections for row in rows)


def format_cost_table(rows: list[LayerRow], fields: dict[str, int | None]) -> str:
    """The layer table with each layer's connections, FLOPs (2 per connection) and receptive field (lesson 04)."""
    lines = [f"{'layer':<8}{'output':>10}{'connections':>14}{'FLOPs':>12}{'receptive field':>18}"]
    for row in rows:
        field = fields.get(row.name)
        seen = "all" if field is None else f"{field}x{field}"
        shape = "x".join(map(str, row.output_shape))
        lines.append(f"{row.name:<8}{shape:>10}{row.connections:>14,}{2 * row.connections:>12,}{seen:>18}")
    total = sum(row.connections for row in rows)
    lines.append(f"{'total':<8}{'':>10}{total:>14,}{forward_flops(rows):>12,}")
    return "\n".join(lines)
