"""Self-checks give a pass line or a friendly CheckFailed/ExerciseNotDone, whatever the student wrote."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_helpers.checks import EXERCISES, CheckFailed, ExerciseNotDone, check


def raises_not_implemented(*args, **kwargs):
    raise NotImplementedError()


def crashes(*args, **kwargs):
    return [][1]


GARBAGE = [None, "28", 3.5, -1, np.zeros((2, 2)), crashes, lambda *a, **k: None, lambda *a, **k: "text"]


def test_there_are_enough_exercises():
    assert len(EXERCISES) >= 20


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: getattr(g, "__name__", type(g).__name__))
def test_wrong_answers_fail_friendly(exercise_id, garbage, capsys):
    ex = EXERCISES[exercise_id]
    namespace = {name: garbage for name in ex.names}
    if "data" in ex.names:
        from lenet_helpers.data import load_mnist

        namespace["data"] = load_mnist("sample", fast=True)
    with pytest.raises((CheckFailed, ExerciseNotDone)) as failure:
        check(exercise_id, namespace)
    assert f"[{exercise_id}]" in str(failure.value)
    assert capsys.readouterr().out == "", "a failed check must not print a pass line"


def test_missing_name_means_not_done():
    with pytest.raises(ExerciseNotDone, match="c1_params, c1_connections are not defined yet"):
        check("01-c1-counts", {})


def test_stub_function_means_not_done():
    with pytest.raises(ExerciseNotDone, match="NotImplementedError"):
        check("01-conv-output-size", {"conv_output_size": raises_not_implemented})


def test_failure_says_expected_got_and_hint():
    with pytest.raises(CheckFailed) as failure:
        check("01-c1-counts", {"c1_params": 150, "c1_connections": 122_304})
    message = str(failure.value)
    assert "expected 156" in message and "got 150" in message and "Hint:" in message
    assert failure.value._render_traceback_() == [f"\u274c {message}"]


def test_right_answers_pass(capsys):
    check("01-conv-output-size", {"conv_output_size": lambda w, k, p=0, s=1: (w - k + 2 * p) // s + 1})
    check("03-c3-counts", {"c3_params": 1516, "c3_connections": 151_600})
    out = capsys.readouterr().out
    assert out.count("\u2705") == 2


def test_unknown_exercise():
    with pytest.raises(CheckFailed, match="no exercise called"):
        check("99-nothing", {})


# --- lessons 00-03: the exercises that are not counts ---------------------------------------------


def _keras_subsampling(coefficient_first=True, squash=False, average=False):
    from lenet_helpers._tf import keras

    class Subsampling2D(keras.layers.Layer):
        def build(self, input_shape):
            maps = input_shape[-1]
            names = ("coefficient", "bias") if coefficient_first else ("bias", "coefficient")
            for name in names:
                start = keras.initializers.Constant(0.25) if name == "coefficient" else "zeros"
                setattr(self, name, self.add_weight(name=name, shape=(maps,), initializer=start))

        def call(self, inputs):
            pooled = keras.ops.average_pool(inputs, 2, strides=2, padding="valid") * (1 if average else 4)
            outputs = pooled * self.coefficient + self.bias
            return keras.ops.tanh(outputs) if squash else outputs

    return Subsampling2D


def test_own_subsampling_layer_passes_and_its_mistakes_get_hints(capsys):
    check("02-subsampling-layer", {"Subsampling2D": _keras_subsampling()})
    assert "\u2705" in capsys.readouterr().out
    mistakes = {"first weight as the bias": _keras_subsampling(coefficient_first=False),
                "do not squash": _keras_subsampling(squash=True),
                "sum (not average)": _keras_subsampling(average=True)}
    for hint, layer_class in mistakes.items():
        with pytest.raises(CheckFailed, match=hint.replace("(", r"\(").replace(")", r"\)")):
            check("02-subsampling-layer", {"Subsampling2D": layer_class})


def test_own_subsampling_layer_with_one_shared_coefficient_is_refused():
    from lenet_helpers._tf import keras

    class OneCoefficient(keras.layers.Layer):
        def build(self, input_shape):
            self.coefficient = self.add_weight(shape=(1,), initializer="ones")

        def call(self, inputs):
            return keras.ops.average_pool(inputs, 2, strides=2, padding="valid") * 4 * self.coefficient

    with pytest.raises(CheckFailed, match=r"two weights of shape \(6,\)"):
        check("02-subsampling-layer", {"Subsampling2D": OneCoefficient})


def test_stubbed_layer_means_not_done():
    from lenet_helpers._tf import keras

    class Stub(keras.layers.Layer):
        def build(self, input_shape):
            raise NotImplementedError()

    with pytest.raises(ExerciseNotDone, match="build still raises NotImplementedError"):
        check("02-subsampling-layer", {"Subsampling2D": Stub})


def test_masked_c3_kernel_passes_and_says_which_slice_is_wrong(capsys):
    check("03-masked-c3", {"masked_c3_kernel": lambda kernel, table: kernel * table})
    assert "1,516" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=r"kernel\[:, :, 0, 1\] .* should be all zeros"):
        check("03-masked-c3", {"masked_c3_kernel": lambda kernel, table: kernel})
    with pytest.raises(CheckFailed, match=r"kernel\[:, :, 0, 0\] .* should stay as it is"):
        check("03-masked-c3", {"masked_c3_kernel": lambda kernel, table: kernel * ~table})
    with pytest.raises(CheckFailed, match="kernel's shape"):
        check("03-masked-c3", {"masked_c3_kernel": lambda kernel, table: kernel[:, :, table]})


def test_convolve_maps_and_paper_scale_pass(capsys):
    def convolve_maps(maps, kernel, bias):
        size = kernel.shape[0]
        rows, columns = maps.shape[0] - size + 1, maps.shape[1] - size + 1
        return np.array([[np.tensordot(maps[i:i + size, j:j + size], kernel, axes=3) + bias
                          for j in range(columns)] for i in range(rows)])

    check("03-convolve-maps", {"convolve_maps": convolve_maps})
    check("00-paper-scale", {"scale_like_the_paper": lambda x: (-0.1 + np.asarray(x) / 255 * 1.275).astype("float32")})
    assert capsys.readouterr().out.count("\u2705") == 2
    with pytest.raises(CheckFailed, match="Hint: a straight line"):
        check("00-paper-scale", {"scale_like_the_paper": lambda x: (np.asarray(x) / 255 * 1.175).astype("float32")})


def test_conv_output_size_must_round_down():
    rounded = {"conv_output_size": lambda w, k, p=0, s=1: round((w - k + 2 * p) / s) + 1}
    with pytest.raises(CheckFailed, match="fails a hidden test"):
        check("01-conv-output-size", rounded, cases=[(32, 5, 0, 2)])
