"""The optimization loop: one feature visualization per direction, all as one batch.

Lucid's ``render_vis(model, objective, param.image(size, batch=n))`` with its defaults,
in TensorFlow 2: Adam (TF1's formulation) on a Fourier-parameterized image, through the
standard transforms and the network up to the layer, with the ReLU gradient redirected for
the first steps. Lucid, by the Lucid Authors, is Apache-2.0 licensed:
https://github.com/tensorflow/lucid; this is written anew.

Speed: the whole step (parameterization, transforms, network, loss, gradient, Adam update) is
one ``tf.function``, traced once: the random choices come in as an int32 tensor and the step
counter is a variable, and the random scale's 11 input sizes all run through one graph with
unknown spatial size. Measured on the demo (6 icons, 80x80, mixed4d, 2 CPU cores): tracing
one graph per scale instead costs about 2 s per scale and runs no faster per step; XLA
(``jit_compile=True``) had not finished compiling a single input size after 5 minutes, so
it is not used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings
from neuron_groups.backends.optvis import TRANSFORMS, check_directions, rngs
from neuron_groups.backends.tensorflow.optvis import objectives
from neuron_groups.backends.tensorflow.optvis.param import FourierImage
from neuron_groups.backends.tensorflow.optvis.relu import redirected_relu
from neuron_groups.backends.tensorflow.optvis.transforms import Compose

Forward = Callable[[tf.Tensor, Callable[[tf.Tensor], tf.Tensor]], tf.Tensor]
"""``forward(images, relu)``: images (B, H, W, 3) in [0, 1] -> activations (B, h, w, C)."""

DEFAULT_SETTINGS = IconSettings()


class Adam:
    """Adam for one variable, with TF1's ``tf.train.AdamOptimizer`` kernel.

    ``ResourceApplyAdam`` is the op TF1's optimizer ran: epsilon is added outside the bias
    correction ("epsilon hat" in the Adam paper).

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

    def apply(self, grad: tf.Tensor, step: tf.Tensor) -> None:
        """Update the variable with ``grad``; ``step`` is the 0-based update count."""
        t = tf.cast(step, tf.float32) + 1.0
        tf.raw_ops.ResourceApplyAdam(
            var=self.var.handle,
            m=self.m.handle,
            v=self.v.handle,
            beta1_power=self.beta1**t,
            beta2_power=self.beta2**t,
            lr=tf.constant(self.lr, tf.float32),
            beta1=tf.constant(self.beta1, tf.float32),
            beta2=tf.constant(self.beta2, tf.float32),
            epsilon=tf.constant(self.epsilon, tf.float32),
            grad=grad,
        )


class Renderer:
    """The state and the compiled step of one batch of feature visualizations.

    Parameters
    ----------
    forward : callable
        ``forward(images, relu)`` -> activations at the layer (see :data:`Forward`).
    directions : array, shape (n, C)
    settings : IconSettings
    """

    def __init__(self, forward: Forward, directions: np.ndarray, settings: IconSettings):
        directions = check_directions(directions, settings)
        self.forward, self.settings = forward, settings
        init_rng, self.draw_rng = rngs(settings.seed)
        self.param = FourierImage(len(directions), settings.size, init_rng)
        self.transforms = Compose(TRANSFORMS[settings.transforms]())
        self.objective = objectives.direction(directions)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.relu = redirected_relu(self.step, settings.redirect_relu_steps)
        self.adam = Adam(self.param.spectrum, settings.learning_rate)
        spec = [tf.TensorSpec([self.transforms.n_draws], tf.int32)]
        self.train_step = tf.function(self.train_step, input_signature=spec, autograph=False)
        self.images = tf.function(self.param.__call__, autograph=False)

    def train_step(self, draws: tf.Tensor) -> tf.Tensor:
        """One update; ``draws`` (from ``transforms.draw``) are this step's random choices.

        Returns each batch item's objective (n,) on this step's transformed images.
        """
        with tf.GradientTape() as tape:
            images = self.param()  # (n, S, S, 3)
            seen = self.transforms(images, draws)  # (n, S', S', 3)
            scores = self.objective(self.forward(seen, self.relu))  # (n,)
            loss = -objectives.total(scores)
        grad = tape.gradient(loss, self.param.spectrum)  # (2, n, 3, S, S // 2 + 1)
        self.adam.apply(grad, self.step)
        self.step.assign_add(1)
        return scores

    def run(self, hooks: IconHooks = NO_HOOKS) -> np.ndarray:
        """Run ``settings.steps`` updates; return the images (n, S, S, 3) in [0, 1].

        ``hooks`` hears of every step (``progress``, ``snapshot``) and is asked before
        each whether to stop.

        Raises
        ------
        Cancelled
            When ``hooks.should_stop()`` returns true (it is asked before each step).
        """
        steps = self.settings.steps
        for i in range(steps):
            hooks.before_step(i, steps)
            scores = self.train_step(tf.constant(self.transforms.draw(self.draw_rng)))
            hooks.after_step(i, steps, scores.numpy(), lambda: self.images().numpy())
        return self.images().numpy()


def render_directions(
    forward: Forward,
    directions: np.ndarray,
    settings: IconSettings = DEFAULT_SETTINGS,
    hooks: IconHooks = NO_HOOKS,
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
    hooks : IconHooks
        ``progress(step, scores)`` after each step, ``scores`` (n,) being the batch items'
        objectives at that step (on its transformed images, before its update);
        ``snapshot(step, images)`` with the current images (n, S, S, 3) after every
        ``snapshot_every``-th step and after the last; ``should_stop()`` before each step,
        which raises :class:`~neuron_groups.errors.Cancelled` when it returns true.

    Returns
    -------
    ndarray, float32, shape (n, S, S, 3), values in [0, 1]
    """
    return Renderer(forward, directions, settings).run(hooks)
