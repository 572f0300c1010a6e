"""Judges of lesson 03: C3 and Table I."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    VISIBLE_SEED,
    CheckFailed,
    ExerciseNotDone,
    arrays_close,
    counts_exercise,
    exercise,
    expect_array,
    expect_whole,
    function_exercise,
)
from lenet_helpers.shapes import partial_conv_params


@exercise("03-table", ("table",))
def _table(given: dict, answer: dict) -> str:
    from lenet_helpers.layers import TABLE_I

    got = answer["values"]["table"]
    if not isinstance(got, np.ndarray) or got.shape != TABLE_I.shape:
        shape = got.shape if isinstance(got, np.ndarray) else repr(got)
        raise CheckFailed(f"table should have shape (6, 16): rows are S2 maps, columns C3 maps; got {shape}.")
    wrong = [j for j in range(16) if not np.array_equal(got[:, j].astype(bool), TABLE_I[:, j])]
    if wrong:
        j = wrong[0]
        raise CheckFailed(f"column {j} (C3 map {j}) should connect S2 maps {np.flatnonzero(TABLE_I[:, j]).tolist()}, "
                          f"got {np.flatnonzero(got[:, j]).tolist()}. Hint: read Table I column by column.")
    return "Table I: 6 maps see 3 inputs, 9 see 4, 1 sees all 6."


counts_exercise("03-c3-counts", {
    "c3_params": (1_516, "6 maps x (3 x 25 + 1) + 9 maps x (4 x 25 + 1) + 1 map x (6 x 25 + 1)."),
    "c3_connections": (151_600, "every parameter is used at each of the 10 x 10 positions."),
}, "C3 with Table I: 1,516 parameters, 151,600 connections.")

counts_exercise("03-full-c3", {
    "full_c3_params": (2_416, "16 maps, each seeing all 6 inputs: 16 x (6 x 25 + 1)."),
    "full_c3_connections": (241_600, "2,416 parameters x 10 x 10 positions."),
}, "a full C3 would need 2,416 parameters and 241,600 connections.")


# --- a convolution over several maps, in NumPy ---------------------------------------------------


def convolve_maps_reference(maps, kernel, bias) -> np.ndarray:
    """A 'valid' multi-map convolution as Keras's Conv2D computes it; tests compare it with Keras."""
    maps, kernel = np.asarray(maps, float), np.asarray(kernel, float)
    windows = np.lib.stride_tricks.sliding_window_view(maps, kernel.shape[:2], axis=(0, 1))  # (H', W', C, F, F)
    return np.einsum("ijcab,abcm->ijm", windows, kernel) + np.asarray(bias, float)


def _draw_convolve_maps(rng: np.random.Generator) -> list:
    size, in_maps, out_maps = int(rng.choice([3, 5])), int(rng.integers(1, 7)), int(rng.integers(1, 9))
    height, width = size + int(rng.integers(0, 9)), size + int(rng.integers(0, 9))
    return [(rng.normal(size=(height, width, in_maps)), rng.normal(size=(size, size, in_maps, out_maps)),
             rng.normal(size=out_maps))]


def _visible_convolve_maps() -> list:
    rng = np.random.default_rng(VISIBLE_SEED)
    return [(rng.normal(size=(14, 14, 6)), rng.normal(size=(5, 5, 6, 16)), rng.normal(size=16))]


function_exercise(
    "03-convolve-maps", "convolve_maps", ("maps", "kernel", "bias"),
    reference=convolve_maps_reference,
    visible=_visible_convolve_maps,
    draw=_draw_convolve_maps,
    compare=arrays_close(atol=1e-4, hint="output[i, j, m] = sum(maps[i:i+F, j:j+F, :] * kernel[:, :, :, m]) + bias[m]: "
                                          "output map m adds up one F x F kernel per input map, plus its own bias."),
    done="your NumPy convolution over several maps computes what Keras's Conv2D computes.")


# --- C3 as a masked convolution --------------------------------------------------------------------


def _random_table(rng: np.random.Generator) -> np.ndarray:
    in_maps, out_maps = int(rng.integers(2, 7)), int(rng.integers(2, 11))
    table = rng.random((in_maps, out_maps)) < 0.5
    table[rng.integers(0, in_maps, size=out_maps), np.arange(out_maps)] = True  # every output map sees something
    return table


def _masked_inputs(cases: list, rng: np.random.Generator | None) -> dict:
    """Calls of masked_c3_kernel(kernel, table): a random kernel (whose outputs are compared) and all ones (counted)."""
    from lenet_helpers.layers import TABLE_I

    groups = [("visible", np.random.default_rng(VISIBLE_SEED), TABLE_I, 5)]
    if rng is not None:
        groups.append(("drawn", rng, _random_table(rng), int(rng.choice([3, 5]))))
    given: dict = {"calls": [], "kinds": [], "maps": [], "biases": [], "counted": []}
    for kind, source, table, size in groups:
        shape = (size, size, *table.shape)
        kernels = ((False, source.normal(size=shape).astype("float32")), (True, np.ones(shape, "float32")))
        for counted, kernel in kernels:
            given["calls"].append([kernel, table.copy()])
            given["kinds"].append(kind)
            given["maps"].append(source.normal(size=(size + 5, size + 5, table.shape[0])).astype("float32"))
            given["biases"].append(source.normal(size=table.shape[1]).astype("float32"))
            given["counted"].append(counted)
    return given


def library_partial_conv(maps: np.ndarray, kernel: np.ndarray, bias: np.ndarray, table: np.ndarray) -> np.ndarray:
    """lenet_helpers.layers.PartialConv2D with the connected slices of `kernel` and `bias`, run on one stack of maps."""
    from lenet_helpers.layers import PartialConv2D

    size = kernel.shape[0]
    layer = PartialConv2D(table=table, kernel_size=size)
    layer.build((1, *maps.shape))
    connected = np.flatnonzero(np.asarray(table, bool).reshape(-1))
    layer.set_weights([kernel.reshape(size, size, -1)[:, :, connected], bias])
    return np.asarray(layer(maps[None].astype("float32")))[0]


def _judge_masked_call(kernel, table, got, maps, bias, counted) -> None:
    if not isinstance(got, np.ndarray) or got.shape != kernel.shape:
        shape = got.shape if isinstance(got, np.ndarray) else repr(got)
        raise CheckFailed(f"masked_c3_kernel should return an array of the kernel's shape {kernel.shape}, got {shape}. "
                          "Hint: multiply the kernel by the table; NumPy lines the table up with the kernel's last "
                          "two axes (input map, output map).")
    if counted:
        expect_whole("connected parameters (non-zero kernel weights, plus one bias per output map)",
                     int(np.count_nonzero(got)) + table.shape[1], partial_conv_params(kernel.shape[0], table),
                     "keep every weight of a connected (input map, output map) pair and zero all the others.")
        return
    for i, j in np.ndindex(*table.shape):
        if not np.allclose(got[:, :, i, j], kernel[:, :, i, j] * table[i, j], atol=1e-6):
            wanted = ("stay as it is: the table connects them" if table[i, j]
                      else "be all zeros: the table does not connect them")
            raise CheckFailed(f"kernel[:, :, {i}, {j}] (input map {i} -> output map {j}) should {wanted}. "
                              "Hint: table[i, j] says whether output map j sees input map i.")
    expect_array("a plain convolution with your masked kernel", convolve_maps_reference(maps, got, bias),
                 library_partial_conv(maps, kernel, bias, table),
                 "it should give what PartialConv2D gives with the connected weights.", atol=1e-3)


@exercise("03-masked-c3", ("masked_c3_kernel",), probe="calls", inputs=_masked_inputs)
def _masked_c3(given: dict, answer: dict) -> str:
    results = answer.get("results")
    if answer.get("not_callable"):
        raise CheckFailed(f"masked_c3_kernel should be a function (def masked_c3_kernel(kernel, table): ...), "
                          f"got {answer['not_callable']}.")
    if not isinstance(results, list) or len(results) != len(given["calls"]):
        raise CheckFailed("masked_c3_kernel did not return a result for every input.")
    for index, ((kernel, table), result) in enumerate(zip(given["calls"], results)):
        try:
            if not isinstance(result, dict) or "returned" not in result:
                raised = result.get("raised", "an error") if isinstance(result, dict) else "an error"
                if raised == "NotImplementedError":
                    raise ExerciseNotDone("masked_c3_kernel still raises NotImplementedError: replace the stub.")
                message = result.get("message", "") if isinstance(result, dict) else ""
                raise CheckFailed(f"your code raised {raised}: {message}".rstrip(": "))
            _judge_masked_call(np.asarray(kernel), np.asarray(table, bool), result["returned"], given["maps"][index],
                               given["biases"][index], given["counted"][index])
        except CheckFailed as failure:
            if given["kinds"][index] == "drawn":
                rows, columns = np.shape(table)
                raise CheckFailed(f"on a {rows} x {columns} table drawn at random: {failure}") from None
            raise
    return ("with your masked kernel, a plain convolution computes what PartialConv2D computes; Table I leaves "
            "1,516 connected parameters.")
