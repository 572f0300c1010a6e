"""Probes: pull a student's answer out of their notebook as plain data (runs inside the student's kernel).

A probe reads the names an exercise asks for and calls a student's function on the inputs
the judges chose; it never judges. Whatever happens here is under the student's control,
so the grader treats what comes out as data only (`lenet_helpers.plain`) and judges it in
its own process (`lenet_helpers.judges`). While grading, `record` writes the answer where
the grader collects it; in a self-check, `checks.check` judges it on the spot.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lenet_helpers import plain

GRADING_DIR = "LENET_GRADING_DIR"  # set by the grader inside its sandbox: inputs in in/, answers go to out/


def _call(function, args: list) -> dict:
    try:
        return {"returned": plain.to_plain(function(*args))}
    except BaseException as error:  # a student's function may raise anything, even SystemExit
        return {"raised": type(error).__name__, "message": str(error)[:300]}


def values(names, namespace: dict, inputs: dict) -> dict:
    """The named values themselves (counts, arrays, tables)."""
    return {"values": {name: plain.to_plain(namespace[name]) for name in names}}


def calls(names, namespace: dict, inputs: dict) -> dict:
    """What the student's function returns on each input the judges chose."""
    function = namespace[names[0]]
    if not callable(function):
        return {"not_callable": type(function).__name__}
    return {"results": [_call(function, args) for args in inputs["calls"]]}


def model(names, namespace: dict, inputs: dict) -> dict:
    """A Keras model as plain data: its layers, input shape, weights and outputs on the given images."""
    network = namespace[names[0]]
    if not hasattr(network, "layers") or not hasattr(network, "count_params"):
        return {"not_a_model": type(network).__name__}
    try:
        input_shape = [int(size) if size is not None else None for size in network.inputs[0].shape[1:]]
    except Exception:  # not built, or not a functional/Sequential model
        input_shape = None
    layers = []
    for layer in network.layers:
        try:
            shape = [int(size) for size in layer.output.shape[1:]]
        except Exception:
            shape = None
        layers.append({"class": type(layer).__name__, "name": str(layer.name), "output_shape": shape,
                       "params": int(layer.count_params())})
    trainable = sum(int(w.numpy().size) for w in network.trainable_weights)
    return {"input_shape": input_shape, "layers": layers, "trainable": trainable,
            "weights": [plain.to_plain(w) for w in network.get_weights()],
            "outputs": _call(lambda images: network(images, training=False), [inputs["images"]])}


def _name(entry) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict):
        return entry.get("config", {}).get("name") or entry.get("class_name")
    return None


def compile(names, namespace: dict, inputs: dict) -> dict:
    """How a Keras model was compiled: optimizer class, loss and metric names."""
    network = namespace[names[0]]
    if not getattr(network, "compiled", False) or not hasattr(network, "get_compile_config"):
        return {"compiled": False}
    config = network.get_compile_config() or {}
    optimizer = config.get("optimizer")
    metrics = config.get("metrics") or []
    return {"compiled": True,
            "optimizer": optimizer if isinstance(optimizer, str) else (optimizer or {}).get("class_name"),
            "loss": _name(config.get("loss")),
            "metrics": [_name(metric) for metric in (metrics if isinstance(metrics, list) else [metrics])]}


def evaluate(names, namespace: dict, inputs: dict) -> dict:
    """The reported test loss and accuracy, and the model's predictions on the test digits."""
    network = namespace[names[0]]
    predict = getattr(network, "predict", None)
    return {"values": {name: plain.to_plain(namespace[name]) for name in names[1:]},
            "predictions": _call(lambda x: predict(x, batch_size=256, verbose=0), [inputs["x_test"]])}


def layer(names, namespace: dict, inputs: dict) -> dict:
    """A Keras layer class as plain data: built on inputs["input"], its weights, output and trainable count.

    `inputs` may give "init" (keyword arguments for the class) and "weights" (arrays set into
    the built layer when their shapes match its own weights, in order), so that the output
    depends on weights the judges chose.
    """
    from lenet_helpers._tf import keras

    layer_class = namespace[names[0]]
    if not isinstance(layer_class, type) or not issubclass(layer_class, keras.layers.Layer):
        return {"not_a_layer_class": type(layer_class).__name__ if not isinstance(layer_class, type)
                else f"class {layer_class.__name__} (not a keras.layers.Layer)"}
    try:
        instance = layer_class(**inputs.get("init", {}))
        instance.build(tuple(inputs["input"].shape))
        instance.built = True
    except BaseException as error:  # a student's build may raise anything, even NotImplementedError
        return {"built": False, "raised": type(error).__name__, "message": str(error)[:300]}
    own = [plain.to_plain(w) for w in instance.get_weights()]
    wanted = inputs.get("weights")
    weights_set = wanted is not None and [getattr(w, "shape", None) for w in own] == [w.shape for w in wanted]
    if weights_set:
        instance.set_weights(wanted)
    return {"built": True, "weights_set": weights_set,
            "weight_names": [str(getattr(w, "name", "?"))[:80] for w in instance.weights],
            "weights": [plain.to_plain(w) for w in instance.get_weights()],
            "trainable": sum(int(np.prod(w.shape)) for w in instance.trainable_weights),
            "output": _call(lambda x: instance(x), [inputs["input"]])}


def figures(names, namespace: dict, inputs: dict) -> dict:
    """What a student's plotting function draws on each input: per axes its labels and lines' data (lesson 06).

    The function must return a matplotlib Figure; every figure it opens is closed here, so a
    check does not add plots to the notebook.
    """
    import matplotlib.pyplot as plt

    function = namespace[names[0]]
    if not callable(function):
        return {"not_callable": type(function).__name__}
    results = []
    for args in inputs["calls"]:
        opened = set(plt.get_fignums())
        drawn = _call(lambda *a: _figure_as_plain(function(*a)), args)
        for number in set(plt.get_fignums()) - opened:
            plt.close(number)
        results.append(drawn)
    return {"results": results}


def _figure_as_plain(figure) -> dict:
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        return {"not_a_figure": type(figure).__name__}
    return {"axes": [{"xlabel": str(ax.get_xlabel()), "ylabel": str(ax.get_ylabel()), "title": str(ax.get_title()),
                      "lines": [{"label": str(line.get_label()),
                                 "x": plain.to_plain(np.asarray(line.get_xdata(), dtype=float)),
                                 "y": plain.to_plain(np.asarray(line.get_ydata(), dtype=float))}
                                for line in ax.get_lines()[:20]]}
                     for ax in figure.axes[:8]]}


PROBES = {"values": values, "calls": calls, "model": model, "compile": compile, "evaluate": evaluate,
          "layer": layer}
PROBES["figures"] = figures


def answer(names, probe: str, namespace: dict, inputs: dict) -> dict:
    """An answer as plain data: which of `names` are missing, or what the named probe found."""
    missing = [name for name in names if name not in namespace]
    if missing:
        return {"missing": missing}
    try:
        return PROBES[probe](tuple(names), namespace, inputs)
    except Exception as error:  # an answer so odd that reading it failed: say so, judge it as wrong
        return {"unreadable": f"{type(error).__name__}: {str(error)[:200]}"}


def record(exercise_id: str, namespace: dict) -> None:
    """While grading: read the grader's request (names, probe, inputs), write the answer back; no verdict here."""
    folder = Path(os.environ[GRADING_DIR])
    request = plain.load(folder / "in" / exercise_id)
    plain.dump(answer(request["names"], request["probe"], namespace, request["inputs"]), folder / "out" / exercise_id)
