"""Judges of lesson 03: C3 and Table I."""

from __future__ import annotations

import numpy as np

from lenet_helpers.judges.core import (
    CheckFailed,
    counts_exercise,
    exercise,
)


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
