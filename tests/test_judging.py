"""Plain data, hidden cases and the judges' references: the parts of grading that need no kernel."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

from lenet_helpers import lessons, plain
from lenet_helpers.grading.build import SolutionError, exercises_of, hidden_cases, run_notebook
from lenet_helpers.judges import EXERCISES, CheckFailed, inputs_for, verdict
from lenet_helpers.judges.lesson_01 import convolve_reference
from lenet_helpers.judges.lesson_02 import pool_reference

PACKAGE = lessons.ROOT / "lenet_helpers"


# --- plain data ---------------------------------------------------------------------------


def test_plain_round_trip(tmp_path):
    data = {"n": 3, "x": 2.5, "ok": True, "none": None, "text": "hi",
            "array": np.arange(6, dtype=np.int16).reshape(2, 3),
            "nested": [np.ones(2, dtype=np.float32), {"inf": float("inf")}], "odd": plain.to_plain(object())}
    plain.dump(data, tmp_path / "answer")
    back = plain.load(tmp_path / "answer")
    assert back["n"] == 3 and back["x"] == 2.5 and back["ok"] is True and back["none"] is None
    assert back["array"].dtype == np.int16 and np.array_equal(back["array"], data["array"])
    assert back["nested"][0].dtype == np.float32 and back["nested"][1]["inf"] == float("inf")
    assert isinstance(back["odd"], plain.Foreign) and "object" in repr(back["odd"])


def test_to_plain_keeps_numbers_and_refuses_objects():
    assert plain.to_plain(np.int64(7)) == 7 and type(plain.to_plain(np.int64(7))) is int
    assert plain.to_plain([[1, 0], [0, 1]]).shape == (2, 2)
    assert isinstance(plain.to_plain(lambda: 1), plain.Foreign)
    assert isinstance(plain.to_plain(np.array([object()])), plain.Foreign)


def test_pickled_arrays_are_never_loaded(tmp_path):
    folder = tmp_path / "answer"
    folder.mkdir()
    np.save(folder / "a0.npy", np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    (folder / "values.json").write_text(json.dumps({"__array__": "a0"}))
    with pytest.raises(plain.PlainDataError, match="not readable"):
        plain.load(folder)


@pytest.mark.parametrize("values, arrays", [
    ({"__array__": "../../etc/passwd"}, {}),
    ({"__array__": "a0"}, {}),
    ("[" * 100_000, {}),
    ({"__array__": "a0"}, {"a0.npy": b"not an npy file"}),
])
def test_bad_recorded_data_is_refused_with_a_reason(tmp_path, values, arrays):
    folder = tmp_path / "answer"
    folder.mkdir()
    (folder / "values.json").write_text(values if isinstance(values, str) else json.dumps(values))
    for name, content in arrays.items():
        (folder / name).write_bytes(content)
    with pytest.raises(plain.PlainDataError):
        plain.load(folder)


def test_oversized_values_are_refused_before_reading(tmp_path):
    folder = tmp_path / "answer"
    folder.mkdir()
    (folder / "values.json").write_text(" " * (plain.MAX_JSON_BYTES + 1))
    with pytest.raises(plain.PlainDataError, match="too large"):
        plain.load(folder)


def test_missing_answer(tmp_path):
    with pytest.raises(plain.PlainDataError, match="no values"):
        plain.load(tmp_path)


# --- hidden cases -------------------------------------------------------------------------------


def test_hidden_cases_are_read_from_the_solution():
    solution = nbformat.read(lessons.SOLUTIONS / "01_convolution_c1.ipynb", as_version=4)
    conv = next(ex for ex in exercises_of(solution) if ex.id == "01-conv-output-size")
    assert (227, 11, 0, 4) in conv.hidden and conv.points == 2


def test_every_lesson_has_hidden_cases_somewhere_and_they_are_literal():
    found = {}
    for path in lessons.notebook_paths():
        for ex in exercises_of(nbformat.read(path, as_version=4)):
            if ex.hidden:
                found[ex.id] = ex.hidden
    assert {"00-one-hot", "01-conv-output-size", "07-confusion"} <= set(found)


def test_hidden_cases_never_ship_in_the_package():
    sources = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py"))
    for path in lessons.notebook_paths():
        for ex in exercises_of(nbformat.read(path, as_version=4)):
            for case in ex.hidden:
                assert repr(case).strip("(),") not in sources, (ex.id, case)


def test_hidden_block_must_be_a_check_with_literal_cases():
    source = 'check("01-c1-size", globals())\n### BEGIN HIDDEN TESTS\nassert c1_size == 28\n### END HIDDEN TESTS'
    with pytest.raises(SolutionError, match="must be calls"):
        hidden_cases(source, "01-c1-size")
    source = ('check("01-conv-output-size", globals())\n### BEGIN HIDDEN TESTS\n'
              'check("01-conv-output-size", globals(), cases=[(n, 3) for n in range(4)])\n### END HIDDEN TESTS')
    with pytest.raises(SolutionError, match="literals"):
        hidden_cases(source, "01-conv-output-size")


def test_run_notebook_probes_instead_of_checking_and_drops_hidden_tests():
    solution = nbformat.read(lessons.SOLUTIONS / "01_convolution_c1.ipynb", as_version=4)
    lesson = nbformat.read(lessons.LESSONS / "01_convolution_c1.ipynb", as_version=4)
    run, problems = run_notebook(lesson, solution)
    text = "\n".join(cell.source for cell in run.cells)
    assert problems == {} and "227" not in text and "check(" not in text
    assert text.count("_lenet_probes.record(") == 4


# --- judges -------------------------------------------------------------------------------------


def test_references_agree_with_keras():
    from lenet_helpers._tf import keras

    rng = np.random.default_rng(0)
    image, kernel = rng.normal(size=(12, 12)), rng.normal(size=(5, 5))
    conv = keras.layers.Conv2D(1, 5, use_bias=False)
    conv.build((None, 12, 12, 1))
    conv.set_weights([kernel.reshape(5, 5, 1, 1)])
    expected = np.asarray(conv(image.reshape(1, 12, 12, 1).astype("float32")))[0, :, :, 0]
    assert np.allclose(convolve_reference(image, kernel), expected, atol=1e-4)
    maps = rng.normal(size=(10, 10)).astype("float32")
    pooled = np.asarray(keras.layers.AveragePooling2D(2)(maps.reshape(1, 10, 10, 1)))[0, :, :, 0]
    assert np.allclose(pool_reference(maps), pooled, atol=1e-6)


def test_grading_draws_fresh_inputs_on_top_of_the_visible_ones():
    visible = inputs_for("01-conv-output-size")
    first = inputs_for("01-conv-output-size", [(7, 3, 0, 2)], np.random.default_rng(1))
    second = inputs_for("01-conv-output-size", [], np.random.default_rng(2))
    assert first["calls"][: len(visible["calls"])] == visible["calls"]
    assert first["kinds"].count("hidden") == 1 and first["kinds"].count("drawn") > 0
    assert first["calls"][-1] != second["calls"][-1]


def test_a_function_that_only_knows_the_visible_cases_fails_drawn_inputs():
    given = inputs_for("01-conv-output-size", [], np.random.default_rng(3))
    lookup = {tuple(args): (args[0] - args[1] + 2 * args[2]) // args[3] + 1
              for args, kind in zip(given["calls"], given["kinds"]) if kind == "visible"}
    answer = {"results": [{"returned": lookup.get(tuple(args), 1)} for args in given["calls"]]}
    with pytest.raises(CheckFailed, match="drawn at random"):
        verdict("01-conv-output-size", given, answer)


def test_counts_must_be_whole_numbers():
    with pytest.raises(CheckFailed, match="whole number"):
        verdict("01-c1-size", {}, {"values": {"c1_size": 28.0}})
    assert "28x28" in verdict("01-c1-size", {}, {"values": {"c1_size": 28}})


def test_compile_needs_the_accuracy_metric():
    answer = {"compiled": True, "optimizer": "SGD", "loss": "categorical_crossentropy", "metrics": []}
    with pytest.raises(CheckFailed, match="metrics=\\['accuracy'\\]"):
        verdict("06-compile", {}, answer)


def test_build_rejects_max_pooling_and_wrong_activations():
    from lenet_helpers import probes
    from lenet_helpers._tf import keras
    from lenet_helpers.models import seed_lenet5

    given = inputs_for("06-build")
    assert "LeNet-5" in verdict("06-build", given, probes.model(("model",), {"model": seed_lenet5()}, given))
    layers = keras.layers
    relu = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(6, 5, padding="same", activation="relu"),
                             layers.AveragePooling2D(2), layers.Conv2D(16, 5, activation="tanh"),
                             layers.AveragePooling2D(2), layers.Conv2D(120, 5, activation="tanh"), layers.Flatten(),
                             layers.Dense(84, activation="tanh"), layers.Dense(10, activation="softmax")])
    with pytest.raises(CheckFailed, match="tanh after C1"):
        verdict("06-build", given, probes.model(("model",), {"model": relu}, given))
    pooled = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(6, 5, padding="same", activation="tanh"),
                               layers.MaxPooling2D(2), *relu.layers[2:]])
    with pytest.raises(CheckFailed, match="averaging"):
        verdict("06-build", given, probes.model(("model",), {"model": pooled}, given))


def test_every_exercise_has_inputs_a_probe_and_a_judge():
    from lenet_helpers.probes import PROBES

    for exercise in EXERCISES.values():
        assert exercise.probe in PROBES, exercise.id
        assert isinstance(inputs_for(exercise.id), dict)
