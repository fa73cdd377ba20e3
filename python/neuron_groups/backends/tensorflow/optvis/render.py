"""The optimization loop: one feature visualization per direction, all as one batch.

Lucid's ``render_vis(model, objective, param.image(size, batch=n))`` with its defaults,
in TensorFlow 2: Adam (TF1's formulation) on a Fourier-parameterized image, through the
standard transforms and the network up to the layer, with the ReLU gradient redirected for
the first steps. Lucid, by the Lucid Authors, is Apache-2.0 licensed:
https://github.com/tensorflow/lucid; this is written anew.

Speed: the whole step (parameterization, transforms, network, loss, gradient, Adam update) is
one ``tf.function``. The random scale changes the network's input size, so one step function
is traced per scale (11 at most); the other random choices and the step counter are tensors
or variables and never cause a retrace.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from neuron_groups.backends.base import IconSettings, ProgressCallback, SnapshotCallback
from neuron_groups.backends.tensorflow.optvis import objectives
from neuron_groups.backends.tensorflow.optvis.param import FourierImage
from neuron_groups.backends.tensorflow.optvis.relu import redirected_relu
from neuron_groups.backends.tensorflow.optvis.transforms import Compose, standard_transforms
from neuron_groups.errors import Cancelled

Forward = Callable[[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]], tf.Tensor]
"""``forward(images, relu)``: images (B, H, W, 3) in [0, 1] -> activations (B, h, w, C)."""

DEFAULT_SETTINGS = IconSettings()

TRANSFORMS = {"standard": standard_transforms, "none": list}
"""The transform sets :attr:`IconSettings.transforms` can name."""


class Adam:
    """Adam for one variable, as TF1's ``tf.train.AdamOptimizer`` computes it.

    Epsilon is added outside the bias correction ("epsilon hat" in the Adam paper).

    Parameters
    ----------
    var : tf.Variable
    learning_rate, beta1, beta2, epsilon : float
        Lucid's defaults: 0.05, 0.9, 0.999, 1e-8.
    """

    def __init__(self, var, learning_rate=0.05, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.var = var
        self.lr, self.beta1, self.beta2, self.epsilon = learning_rate, beta1, beta2, epsilon
        self.m = tf.Variable(tf.zeros_like(var), trainable=False, name="adam_m")
        self.v = tf.Variable(tf.zeros_like(var), trainable=False, name="adam_v")

    def reset(self) -> None:
        """Forget the moments."""
        self.m.assign(tf.zeros_like(self.m))
        self.v.assign(tf.zeros_like(self.v))

    def apply(self, grad: tf.Tensor, step: tf.Tensor) -> None:
        """Update the variable with ``grad``; ``step`` is the 0-based update count."""
        t = tf.cast(step, tf.float32) + 1.0
        lr_t = self.lr * tf.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        m = self.m.assign(self.beta1 * self.m + (1.0 - self.beta1) * grad)
        v = self.v.assign(self.beta2 * self.v + (1.0 - self.beta2) * tf.square(grad))
        self.var.assign_sub(lr_t * m / (tf.sqrt(v) + self.epsilon))


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for the initial spectrum and the transforms' draws."""
    init, draws = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(draws)


def _check(directions: np.ndarray, settings: IconSettings) -> np.ndarray:
    directions = np.asarray(directions, dtype=np.float32)
    if directions.ndim != 2 or directions.shape[0] < 1 or directions.shape[1] < 1:
        raise ValueError(f"directions must have shape (n, C); got {directions.shape}.")
    if not np.all(np.isfinite(directions)):
        raise ValueError("directions contain NaN or infinite values.")
    if settings.transforms not in TRANSFORMS:
        raise ValueError(
            f"Unknown transforms {settings.transforms!r}; choose one of {sorted(TRANSFORMS)}."
        )
    if settings.size < 8:
        raise ValueError(f"Icon size must be at least 8 pixels; got {settings.size}.")
    if settings.steps < 0:
        raise ValueError(f"steps must be >= 0; got {settings.steps}.")
    return directions


class Renderer:
    """The state and compiled steps of one batch of feature visualizations.

    Parameters
    ----------
    forward : callable
        ``forward(images, relu)`` -> activations at the layer (see :data:`Forward`).
    directions : array, shape (n, C)
    settings : IconSettings
    jit_compile : bool
        Compile the step with XLA.
    """

    def __init__(
        self,
        forward: Forward,
        directions: np.ndarray,
        settings: IconSettings,
        jit_compile: bool = False,
        static_shapes: bool = False,
    ):
        directions = _check(directions, settings)
        self.forward, self.settings = forward, settings
        self.jit_compile, self.static_shapes = jit_compile, static_shapes
        init_rng, self.draw_rng = _rngs(settings.seed)
        self.param = FourierImage(len(directions), settings.size, init_rng)
        self.transforms = Compose(TRANSFORMS[settings.transforms]())
        self.objective = objectives.direction(directions)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.relu = redirected_relu(self.step, settings.redirect_relu_steps)
        self.adam = Adam(self.param.spectrum, settings.learning_rate)
        self._steps: dict[tuple[int, ...], Callable] = {}
        self.images = tf.function(self.param.__call__, autograph=False)

    def _train_step(self, draws) -> tf.Tensor:
        with tf.GradientTape() as tape:
            images = self.param()  # (n, S, S, 3)
            seen = self.transforms(images, draws)  # (n, S', S', 3)
            scores = self.objective(self.forward(seen, self.relu))  # (n,)
            loss = -objectives.total(scores)
        grad = tape.gradient(loss, self.param.spectrum)  # (2, n, 3, S, S // 2 + 1)
        self.adam.apply(grad, self.step)
        self.step.assign_add(1)
        return scores

    def compiled_step(self, draws: np.ndarray) -> Callable[[tf.Tensor], tf.Tensor]:
        """Return the compiled step for these draws; it takes the draws as a tensor.

        With ``static_shapes`` there is one per value of the shape-changing draws, else one
        for all.
        """
        key = self.transforms.static_key(draws) if self.static_shapes else ()
        fn = self._steps.get(key)
        if fn is None:
            static = dict(zip(self.transforms.static_positions, key, strict=False))

            def step(draws_t):
                return self._train_step(
                    [static.get(i, draws_t[i]) for i in range(self.transforms.n_draws)]
                )

            spec = [tf.TensorSpec([self.transforms.n_draws], tf.int32)]
            fn = tf.function(
                step, input_signature=spec, jit_compile=self.jit_compile, autograph=False
            )
            self._steps[key] = fn
        return fn

    def run(
        self,
        progress: ProgressCallback | None = None,
        snapshot: SnapshotCallback | None = None,
        snapshot_every: int = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        """Run ``settings.steps`` updates; return the images (n, S, S, 3) in [0, 1].

        Raises
        ------
        Cancelled
            When ``should_stop()`` returns true (it is asked before each step).
        """
        steps = self.settings.steps
        for i in range(steps):
            if should_stop is not None and should_stop():
                raise Cancelled(f"Icon rendering was cancelled at step {i} of {steps}.")
            draws = self.transforms.draw(self.draw_rng)
            scores = self.compiled_step(draws)(tf.constant(draws))
            if progress is not None:
                progress(i, scores.numpy())
            if (
                snapshot is not None
                and snapshot_every > 0
                and ((i + 1) % snapshot_every == 0 or i == steps - 1)
            ):
                snapshot(i, self.images().numpy())
        return self.images().numpy()


def render_directions(
    forward: Forward,
    directions: np.ndarray,
    settings: IconSettings = DEFAULT_SETTINGS,
    *,
    progress: ProgressCallback | None = None,
    snapshot: SnapshotCallback | None = None,
    snapshot_every: int = 0,
    should_stop: Callable[[], bool] | None = None,
    jit_compile: bool = False,
) -> np.ndarray:
    """Optimize one image per direction, all as one batch; Lucid's ``render_vis`` defaults.

    Parameters
    ----------
    forward : callable
        ``forward(images, relu)``: images (B, H, W, 3), RGB in [0, 1] -> activations
        (B, h, w, C) at the layer, every ReLU on the way computed by ``relu``. Traced by
        ``tf.function``.
    directions : array, shape (n, C)
        Batch item i maximizes the mean over positions of ``acts[i] . directions[i]``.
    settings : IconSettings
        Size, steps, learning rate, seed, transforms, ReLU redirection.
    progress : callable, optional
        ``progress(step, scores)`` after each step; ``scores`` (n,) are the batch items'
        objectives at that step (on its transformed images, before its update).
    snapshot : callable, optional
        ``snapshot(step, images)`` with the current images (n, S, S, 3) after every
        ``snapshot_every``-th step and after the last.
    snapshot_every : int
        0 disables snapshots.
    should_stop : callable, optional
        Asked before each step; when it returns true, :class:`~neuron_groups.errors.Cancelled`
        is raised.
    jit_compile : bool
        Compile each step with XLA.

    Returns
    -------
    ndarray, float32, shape (n, S, S, 3), values in [0, 1]
    """
    renderer = Renderer(forward, directions, settings, jit_compile=jit_compile)
    return renderer.run(progress, snapshot, snapshot_every, should_stop)
