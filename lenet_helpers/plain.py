"""Plain data: what answers travel as between a student's kernel and the judges (instructor guide).

Plain data is None, bool, int, float, str, lists and string-keyed dicts of those, and NumPy
arrays of numbers. On disk it is a folder with `values.json` (arrays replaced by a reference)
and one `aN.npy` per array, read back with `allow_pickle=False`: nothing a submission wrote
is ever unpickled, and every size is capped before it is read.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAX_JSON_BYTES = 2_000_000
MAX_ARRAY_BYTES = 64_000_000
MAX_ARRAYS = 64
MAX_DEPTH = 8
ARRAY_NAME = re.compile(r"^a\d{1,3}$")
NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats


class PlainDataError(ValueError):
    """Data that is not plain, too large, or not readable as plain data."""


@dataclass(frozen=True)
class Foreign:
    """A value that is not plain data (a string where a number was asked, a function...), kept as its repr."""

    type: str
    text: str

    def __repr__(self) -> str:
        return self.text


def to_plain(value, depth: int = 0):
    """Turn a notebook value into plain data; anything else becomes a `Foreign` placeholder."""
    if depth > MAX_DEPTH:
        return Foreign("nested", "a value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else value[:10_000]
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(key): to_plain(item, depth + 1) for key, item in list(value.items())[:1000]}
    try:
        arrayish = isinstance(value, (list, tuple, np.ndarray)) or hasattr(value, "__array__")
        array = np.asarray(value) if arrayish else None
    except Exception:  # a list of ragged or exotic things
        array = None
    if array is not None and array.dtype.kind in NUMERIC_KINDS and array.nbytes <= MAX_ARRAY_BYTES:
        return np.array(array)  # a copy the answer's owner cannot change afterwards
    if isinstance(value, (list, tuple)) and len(value) <= 1000:
        return [to_plain(item, depth + 1) for item in value]
    return Foreign(type(value).__name__, _short_repr(value))


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def dump(data, folder: Path) -> None:
    """Write plain data into `folder` (values.json plus one .npy per array)."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays: list[np.ndarray] = []

    def encode(item):
        if isinstance(item, np.ndarray):
            arrays.append(item)
            return {"__array__": f"a{len(arrays) - 1}"}
        if isinstance(item, Foreign):
            return {"__foreign__": item.type, "text": item.text}
        if isinstance(item, float) and not math.isfinite(item):
            return {"__float__": repr(item)}
        if isinstance(item, dict):
            return {key: encode(value) for key, value in item.items()}
        if isinstance(item, (list, tuple)):
            return [encode(value) for value in item]
        return item

    text = json.dumps(encode(data))
    for index, array in enumerate(arrays):
        np.save(folder / f"a{index}.npy", array, allow_pickle=False)
    (folder / "values.json").write_text(text, encoding="utf-8")  # last: its presence means "complete"


def load(folder: Path):
    """Read plain data written by `dump`, trusting nothing: sizes, types and names are checked."""
    path = folder / "values.json"
    if not path.is_file() or path.is_symlink():
        raise PlainDataError("no values were recorded")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise PlainDataError("the recorded values are too large")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise PlainDataError(f"the recorded values are not readable ({type(error).__name__})") from None
    loaded: dict[str, np.ndarray] = {}

    def decode(item, depth=0):
        if depth > MAX_DEPTH + 4:
            raise PlainDataError("the recorded values are nested too deeply")
        if isinstance(item, dict):
            if set(item) == {"__array__"}:
                return _load_array(folder, item["__array__"], loaded)
            if set(item) == {"__foreign__", "text"}:
                return Foreign(str(item["__foreign__"])[:80], str(item["text"])[:200])
            if set(item) == {"__float__"}:
                return float(item["__float__"]) if item["__float__"] in ("nan", "inf", "-inf") else math.nan
            return {str(key): decode(value, depth + 1) for key, value in item.items()}
        if isinstance(item, list):
            return [decode(value, depth + 1) for value in item]
        if item is None or isinstance(item, (bool, int, float, str)):
            return item
        raise PlainDataError("the recorded values hold something that is not plain data")

    return decode(raw)


def _load_array(folder: Path, name, loaded: dict[str, np.ndarray]) -> np.ndarray:
    if not isinstance(name, str) or not ARRAY_NAME.match(name):
        raise PlainDataError("a recorded array has a bad name")
    if name not in loaded:
        if len(loaded) >= MAX_ARRAYS:
            raise PlainDataError("too many recorded arrays")
        path = folder / f"{name}.npy"
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_ARRAY_BYTES:
            raise PlainDataError(f"recorded array {name} is missing or too large")
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise PlainDataError(f"recorded array {name} is not readable ({type(error).__name__})") from None
        if not isinstance(array, np.ndarray) or array.dtype.kind not in NUMERIC_KINDS:
            raise PlainDataError(f"recorded array {name} does not hold numbers")
        loaded[name] = array
    return loaded[name]


def round_trip(data):
    """The same data as `load(dump(data))` would give, without a folder (what self-checks judge)."""
    if isinstance(data, dict):
        return {key: round_trip(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [round_trip(value) for value in data]
    return data
