"""Stochastic diagonal Levenberg-Marquardt, the paper's optimizer, as a Keras 3 optimizer (lesson 08).

LeCun et al. 1998, Appendix C; the figures below are as the course's PAPER.md lists them from
Appendix C and Section II (the paper itself could not be consulted when this was written).
Every parameter w_k gets its own step size:

    w_k <- w_k - eta / (mu + h_kk) * dE/dw_k

eta is global and follows a fixed schedule over the passes through the training set, mu = 0.02
keeps steps bounded where the curvature is small, and h_kk estimates the k-th diagonal term of
the Gauss-Newton approximation of the Hessian of the loss, re-estimated on 500 training patterns
before every pass. The paper trains 20 passes.

What `gauss_newton_diagonal` computes, and how it differs from the paper:
- PAPER.md says only "a Gauss-Newton estimate of the Hessian's diagonal". As we understand
  Appendix C, the paper back-propagates second derivatives through the network, dropping the
  squashing functions' second derivatives (Gauss-Newton) and keeping only the diagonal at every
  layer, so the cross terms between the units of a layer are dropped as well.
- We compute the diagonal of the Gauss-Newton matrix itself, of the loss's first term seen from
  F6's 84 outputs x: y_D = sum_j (x_j - w_Dj)^2, so d2 y_D / dx_j^2 = 2 and G = 2 J^T J, with J
  = dx/dw the Jacobian of F6's outputs. G_kk = 2 sum_j (dx_j/dw_k)^2 is estimated per pattern with
  one random vector v of +-1 (E[v v^T] = I): 2 (d(v.x)/dw_k)^2, one backward pass instead of 84,
  an unbiased estimate. The log term of eq. (9) is left out: its curvature in x is not positive
  semi-definite, which a Gauss-Newton matrix must be.
- h_kk is the mean over the 500 patterns (one pattern's curvature), as the paper's per-pattern
  steps need, not their sum.

Initialisation, measured: from the paper's own (PaperUniform, every weight within +-2.4/F_in, so
C5's within +-0.006) the network's Jacobians are tiny, every h_kk we estimate is far below mu, and
the first steps are eta / mu = 0.025 times the gradient: in our runs the network saturated within
five patterns and stayed at chance. From Keras's initialisation the same protocol trains, so the
course's `--recipe paper` starts from Keras's (`paper_lenet5("keras")`). Whether the paper's own
curvature estimate avoids this could not be checked without the paper.

Mini-batches: the paper updates after every pattern, and so does the course's recipe (batch 1).
`SDLM` takes whatever gradient Keras gives it (a batch's mean); `PaperSchedule` sets its learning
rate to eta x batch size, so that one step over B patterns moves as far as B per-pattern steps
would, to first order only: with batches of 8 scaled this way, training diverged in our runs.
"""

from __future__ import annotations

import numpy as np

from lenet_helpers._tf import keras, tf

ops = keras.ops
register = keras.saving.register_keras_serializable(package="lenet_helpers")

MU = 0.02  # Appendix C
CURVATURE_PATTERNS = 500  # Appendix C: h_kk re-estimated on 500 patterns before each pass
PASSES = 20  # Section II / Appendix C: 20 passes through the training set
# Appendix C: eta for passes 1-2, 3-5, 6-8, 9-12; 0.00001 after. (last pass of each stretch, eta)
ETA_SCHEDULE = ((2, 0.0005), (5, 0.0002), (8, 0.0001), (12, 0.00005))
ETA_AFTER = 0.00001


def paper_eta(pass_number: int) -> float:
    """The paper's global step eta for pass 1, 2, ... (Appendix C, as PAPER.md lists it) (lesson 08)."""
    if pass_number < 1:
        raise ValueError(f"paper_eta: passes are numbered from 1, got {pass_number}")
    for last_pass, eta in ETA_SCHEDULE:
        if pass_number <= last_pass:
            return eta
    return ETA_AFTER


@register
class SDLM(keras.optimizers.Optimizer):
    """Stochastic diagonal Levenberg-Marquardt: step learning_rate / (mu + h_kk) for every parameter (lesson 08).

    The curvatures h_kk start at 0 and are set with `set_curvature` (PaperSchedule does it
    before every pass); until then every step is learning_rate / mu times the gradient.
    """

    def __init__(self, learning_rate: float = ETA_SCHEDULE[0][1], mu: float = MU, name: str = "sdlm", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not mu > 0:
            raise ValueError(f"SDLM: mu must be positive (it bounds the step where curvature is 0), got {mu}")
        self.mu = float(mu)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.curvatures = [self.add_variable_from_reference(v, name="curvature", initializer="zeros")
                           for v in variables]

    def set_curvature(self, variables, values) -> None:
        """Set h_kk for each of `variables` (arrays of the same shapes), e.g. from gauss_newton_diagonal."""
        if not self.built:
            self.build(variables)
        for variable, value in zip(variables, values):
            value = np.asarray(value, dtype="float32")
            if value.shape != tuple(variable.shape) or (value < 0).any():
                raise ValueError(f"SDLM.set_curvature: {variable.path} needs a non-negative array of shape "
                                 f"{tuple(variable.shape)}, got shape {value.shape}")
            self.curvatures[self._get_variable_index(variable)].assign(value)

    def curvature(self, variable) -> np.ndarray:
        """The h_kk currently used for `variable`."""
        return keras.ops.convert_to_numpy(self.curvatures[self._get_variable_index(variable)])

    def update_step(self, gradient, variable, learning_rate):
        h = self.curvatures[self._get_variable_index(variable)]
        step = ops.cast(learning_rate, variable.dtype) / (self.mu + h)
        self.assign_sub(variable, ops.multiply(step, gradient))

    def get_config(self):
        return {**super().get_config(), "mu": self.mu}


def gauss_newton_diagonal(model: keras.Model, x: np.ndarray, layer: str = "F6", seed: int = 0) -> list[np.ndarray]:
    """Estimated diagonal of the Gauss-Newton matrix of y_D at `layer`, one array per trainable variable (lesson 08).

    The mean over the patterns `x` of 2 sum_j (dx_j/dw)^2, x the outputs of `layer`, estimated
    per pattern as 2 (d(v . x)/dw)^2 with v a fresh random +-1 vector (unbiased; exact when the
    layer has one unit). See the module's docstring for how this differs from the paper's
    estimate. Variables that `layer` does not depend on get zeros.
    """
    features = keras.Model(model.inputs, model.get_layer(layer).output)
    x = np.asarray(x, dtype="float32")
    if len(x) == 0:
        raise ValueError("gauss_newton_diagonal: no patterns")
    signs = np.random.default_rng(seed).choice(np.array([-1.0, 1.0], dtype="float32"),
                                               size=(len(x), features.output.shape[-1]))
    totals = _squared_gradient_sums(features, model.trainable_variables)(x, signs)
    return [(2.0 * np.asarray(total) / len(x)).astype("float32") for total in totals]


def _squared_gradient_sums(features: keras.Model, variables: list):
    """A compiled loop over patterns: sum of (d/dw of signs . features(pattern))^2, one backward pass each."""

    @tf.function(reduce_retracing=True)
    def run(patterns, signs):
        totals = [tf.zeros(v.shape, dtype=v.dtype) for v in variables]
        for i in tf.range(tf.shape(patterns)[0]):
            with tf.GradientTape() as tape:
                score = tf.reduce_sum(features(patterns[i:i + 1], training=False) * signs[i])
            gradients = tape.gradient(score, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
            totals = [total + tf.square(gradient) for total, gradient in zip(totals, gradients)]
        return totals

    return run


class PaperSchedule(keras.callbacks.Callback):
    """Before every pass: the paper's eta, and h_kk re-estimated on 500 training patterns (lesson 08)."""

    def __init__(self, network: keras.Model, x_train: np.ndarray, patterns_per_step: int = 1,
                 patterns: int = CURVATURE_PATTERNS, seed: int = 0, print_fn=None):
        super().__init__()
        self.network, self.x_train = network, x_train
        self.patterns_per_step, self.patterns = int(patterns_per_step), int(patterns)
        self.rng = np.random.default_rng(seed)
        self.print_fn = print_fn

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.network.optimizer
        if not isinstance(optimizer, SDLM):
            raise TypeError(f"PaperSchedule needs a model compiled with SDLM, not {type(optimizer).__name__}")
        chosen = self.rng.choice(len(self.x_train), min(self.patterns, len(self.x_train)), replace=False)
        curvature = gauss_newton_diagonal(self.network, self.x_train[chosen], seed=int(self.rng.integers(1 << 30)))
        optimizer.set_curvature(self.network.trainable_variables, curvature)
        eta = paper_eta(epoch + 1)
        optimizer.learning_rate = eta * self.patterns_per_step
        if self.print_fn:
            mean_h = np.mean(np.concatenate([h.ravel() for h in curvature]))
            self.print_fn(f"pass {epoch + 1}: eta {eta:g}, mean h_kk {mean_h:.3g} on {len(chosen)} patterns")
