"""The optimization loop: one feature visualization per direction, all as one batch.

Lucid's ``render_vis(model, objective, param.image(size, batch=n))`` with its defaults but
Adam's betas (see :class:`~neuron_groups.backends.base.IconSettings`), in TensorFlow 2: Adam
(TF1's formulation) on a Fourier-parameterized image, through the standard transforms and the
network up to the layer, with the ReLU gradient redirected for the first steps. Lucid, by the
Lucid Authors, is Apache-2.0 licensed:
https://github.com/tensorflow/lucid; this is written anew.

Speed: the whole step (parameterization, transforms, network, loss, gradient, Adam update) is
one ``tf.function``, traced once per :class:`Renderer`: the random choices and Adam's
learning rate, ``beta2`` and ``beta1`` come in as tensors, the directions, the step counter and the
optimizer's state are variables, and the random scale's 11 input sizes all run through one
graph with unknown spatial size. A :class:`RendererPool` keeps one renderer per (layer, icon
count, channels, size, transforms, ReLU redirection), so a process traces each of these
once, and a run asked for again with the same directions and settings continues the one it
left (after a stop, or to more steps) instead of starting over; the result is a fresh run's.

Measured on the demo (6 icons, 80x80, mixed4d, 2 CPU cores; ``benchmarks/bench_icons.py``
prints the breakdown): the network's forward and backward pass is most of a step; the
Fourier parameterization and the transforms, forward and backward, most of the rest. Tracing
one graph per scale instead costs about 2 s per scale and runs no faster per step; a plain
ReLU after the redirection steps (which lets TensorFlow fuse convolution, bias and ReLU) ran
no faster than the redirected one; XLA (``jit_compile=True``) refuses the step:
``ImageProjectiveTransformV3`` (the rotation) has no XLA kernel, and without the transforms
the compiled step (7 s to compile) was no faster.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import numpy as np

from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings
from neuron_groups.backends.optvis import (
    TRANSFORMS,
    check_directions,
    directions_digest,
    draw_transforms,
    init_spectrum,
    rngs,
)
from neuron_groups.backends.tensorflow._import import import_tensorflow
from neuron_groups.backends.tensorflow.optvis import objectives
from neuron_groups.backends.tensorflow.optvis.param import FourierImage
from neuron_groups.backends.tensorflow.optvis.relu import redirected_relu
from neuron_groups.backends.tensorflow.optvis.transforms import Compose

tf = import_tensorflow()

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
        Lucid's defaults: 0.05, 0.9, 0.999, 1e-8. ``learning_rate``, ``beta2`` and
        ``beta1`` are used when :meth:`apply` is given none.
    """

    def __init__(self, var, learning_rate=0.05, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.var = var
        self.lr, self.beta1, self.beta2, self.epsilon = learning_rate, beta1, beta2, epsilon
        self.m = tf.Variable(tf.zeros_like(var), trainable=False, name="adam_m")
        self.v = tf.Variable(tf.zeros_like(var), trainable=False, name="adam_v")

    def reset(self) -> None:
        """Forget the moments (as a new optimizer)."""
        self.m.assign(tf.zeros_like(self.m))
        self.v.assign(tf.zeros_like(self.v))

    def apply(
        self, grad: tf.Tensor, step: tf.Tensor, learning_rate=None, beta2=None, beta1=None
    ) -> None:
        """Update the variable with ``grad``; ``step`` is the 0-based update count.

        ``learning_rate``, ``beta2`` and ``beta1`` (float32 scalar tensors or floats)
        default to the constructor's.
        """
        t = tf.cast(step, tf.float32) + 1.0
        lr = tf.convert_to_tensor(self.lr if learning_rate is None else learning_rate, tf.float32)
        beta2 = tf.convert_to_tensor(self.beta2 if beta2 is None else beta2, tf.float32)
        beta1 = tf.convert_to_tensor(self.beta1 if beta1 is None else beta1, tf.float32)
        tf.raw_ops.ResourceApplyAdam(
            var=self.var.handle,
            m=self.m.handle,
            v=self.v.handle,
            beta1_power=beta1**t,
            beta2_power=beta2**t,
            lr=lr,
            beta1=beta1,
            beta2=beta2,
            epsilon=tf.constant(self.epsilon, tf.float32),
            grad=grad,
        )


def graph_key(directions: np.ndarray, settings: IconSettings) -> tuple:
    """What fixes a renderer's compiled step: icon count, channels, size, transforms, ReLU."""
    n, channels = np.shape(directions)
    return (n, channels, settings.size, settings.transforms, settings.redirect_relu_steps)


def trajectory_key(directions: np.ndarray, settings: IconSettings) -> tuple:
    """What fixes the sequence of images an optimization goes through, step by step.

    The directions, the seed, the learning rate, ``beta2`` and ``beta1``: not the step
    count, so two runs with the same key agree on every step both make.
    """
    return (
        directions_digest(directions),
        settings.seed,
        settings.learning_rate,
        settings.beta2,
        settings.beta1,
    )


def draw_sequence(transforms: Compose, seed: int, steps: int) -> np.ndarray:
    """Every step's random choices, drawn in order from the seed: int32 (steps, n_draws).

    The first k rows do not depend on ``steps``.
    """
    rng = rngs(seed)[1]
    draws = [draw_transforms(transforms.transforms, rng) for _ in range(steps)]
    return np.asarray(draws, np.int32).reshape(steps, transforms.n_draws)


class Renderer:
    """The state and the compiled step of one batch of feature visualizations.

    Parameters
    ----------
    forward : callable
        ``forward(images, relu)`` -> activations at the layer (see :data:`Forward`).
    directions : array, shape (n, C)
    settings : IconSettings

    Notes
    -----
    :meth:`reset` starts the same compiled step on other directions and settings of the
    same :func:`graph_key`, without tracing again.
    """

    def __init__(self, forward: Forward, directions: np.ndarray, settings: IconSettings):
        directions = check_directions(directions, settings)
        self.forward = forward
        self.key = graph_key(directions, settings)
        n, _ = directions.shape
        self.param = FourierImage(n, settings.size, rngs(settings.seed)[0])
        self.transforms = Compose(TRANSFORMS[settings.transforms]())
        self.directions = tf.Variable(directions, trainable=False, name="directions")
        self.objective = objectives.direction(self.directions)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.relu = redirected_relu(self.step, settings.redirect_relu_steps)
        self.adam = Adam(self.param.spectrum, settings.learning_rate)
        spec = [tf.TensorSpec([self.transforms.n_draws], tf.int32)]
        spec += [tf.TensorSpec([], tf.float32)] * 3  # learning rate, beta2, beta1
        self.train_step = tf.function(self.train_step, input_signature=spec, autograph=False)
        self.images = tf.function(self.param.__call__, autograph=False)
        self.reset(directions, settings)

    def reset(self, directions: np.ndarray, settings: IconSettings) -> None:
        """Start anew (step 0) on ``directions`` with ``settings`` of the same graph key.

        Raises
        ------
        ValueError
            If the directions' shape or the settings need another compiled step.
        """
        directions = check_directions(directions, settings)
        if graph_key(directions, settings) != self.key:
            raise ValueError(
                f"This renderer runs {self.key}; {graph_key(directions, settings)} needs another."
            )
        self.settings = settings
        self.trajectory = trajectory_key(directions, settings)
        n = len(directions)
        self.param.spectrum.assign(
            init_spectrum(n, settings.size, settings.size, rngs(settings.seed)[0])
        )
        self.adam.reset()
        self.directions.assign(directions)
        self.step.assign(0)

    def continues(self, directions: np.ndarray, settings: IconSettings) -> bool:
        """Whether running to ``settings.steps`` from the current state gives a fresh run's result.

        True when the directions, seed, learning rate, ``beta2`` and ``beta1`` are those
        of the current run and it has not gone past ``settings.steps``.
        """
        return (
            graph_key(directions, settings) == self.key
            and trajectory_key(directions, settings) == self.trajectory
            and int(self.step.numpy()) <= settings.steps
        )

    def prepare(self, directions: np.ndarray, settings: IconSettings) -> None:
        """Continue the current run if :meth:`continues`, else :meth:`reset`."""
        if self.continues(directions, settings):
            self.settings = settings
        else:
            self.reset(directions, settings)

    def train_step(
        self, draws: tf.Tensor, learning_rate: tf.Tensor, beta2: tf.Tensor, beta1: tf.Tensor
    ) -> tf.Tensor:
        """One update; ``draws`` (from ``transforms.draw``) are this step's random choices.

        Returns each batch item's objective (n,) on this step's transformed images.
        """
        with tf.GradientTape() as tape:
            images = self.param()  # (n, S, S, 3)
            seen = self.transforms(images, draws)  # (n, S', S', 3)
            scores = self.objective(self.forward(seen, self.relu))  # (n,)
            loss = -objectives.total(scores)
        grad = tape.gradient(loss, self.param.spectrum)  # (2, n, 3, S, S // 2 + 1)
        self.adam.apply(grad, self.step, learning_rate, beta2, beta1)
        self.step.assign_add(1)
        return scores

    def run(self, hooks: IconHooks = NO_HOOKS) -> np.ndarray:
        """Run from the current step to ``settings.steps``; return the images (n, S, S, 3).

        ``hooks`` hears of every step (``progress``, ``snapshot``) and is asked before
        each whether to stop. A stopped run keeps its state, so that :meth:`prepare` with
        the same directions and settings continues it.

        Raises
        ------
        Cancelled
            When ``hooks.should_stop()`` returns true (it is asked before each step).
        """
        steps = self.settings.steps
        start = int(self.step.numpy())
        draws = draw_sequence(self.transforms, self.settings.seed, steps)  # (steps, n_draws)
        rate, beta2 = np.float32(self.settings.learning_rate), np.float32(self.settings.beta2)
        beta1 = np.float32(self.settings.beta1)
        for i in range(start, steps):
            hooks.before_step(i, steps)
            scores = self.train_step(draws[i], rate, beta2, beta1)
            hooks.after_step(i, steps, scores.numpy(), lambda: self.images().numpy())
        return self.images().numpy()

    def tracing_count(self) -> int:
        """How many times the step and the image readout were traced."""
        return sum(fn.experimental_get_tracing_count() for fn in (self.train_step, self.images))


class RendererPool:
    """One :class:`Renderer` per graph key and tag (e.g. the layer), kept for the process.

    :meth:`render` reuses the compiled step of an earlier call with the same tag and
    :func:`graph_key`, and continues that call's run when its directions and settings
    allow it (:meth:`Renderer.continues`). A renderer busy in another thread is not shared:
    that call gets a renderer of its own, traced anew and not kept.
    """

    def __init__(self) -> None:
        self._renderers: dict[tuple, Renderer] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()
        self._spare_traces = 0
        self.built = 0
        """How many renderers were built (each traces its step once)."""

    def render(
        self,
        tag: str,
        forward: Forward,
        directions: np.ndarray,
        settings: IconSettings = DEFAULT_SETTINGS,
        hooks: IconHooks = NO_HOOKS,
    ) -> np.ndarray:
        """Optimize one image per direction, as :func:`render_directions`; see the class."""
        directions = check_directions(directions, settings)
        with self._renderer(tag, forward, directions, settings) as renderer:
            renderer.prepare(directions, settings)
            return renderer.run(hooks)

    @contextlib.contextmanager
    def _renderer(self, tag, forward, directions, settings) -> Iterator[Renderer]:
        key = (tag, *graph_key(directions, settings))
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(blocking=False):  # in use by another thread
            self.built += 1
            spare = Renderer(forward, directions, settings)
            try:
                yield spare
            finally:
                self._spare_traces += spare.tracing_count()
            return
        try:
            renderer = self._renderers.get(key)
            if renderer is None:
                self.built += 1
                renderer = self._renderers[key] = Renderer(forward, directions, settings)
            yield renderer
        finally:
            lock.release()

    def tracing_count(self) -> int:
        """How many times the renderers' functions were traced, kept ones and spares."""
        return self._spare_traces + sum(r.tracing_count() for r in self._renderers.values())


def render_directions(
    forward: Forward,
    directions: np.ndarray,
    settings: IconSettings = DEFAULT_SETTINGS,
    hooks: IconHooks = NO_HOOKS,
) -> np.ndarray:
    """Optimize one image per direction, all as one batch, as Lucid's ``render_vis``.

    Parameters
    ----------
    forward : callable
        ``forward(images, relu)``: images (B, H, W, 3), RGB in [0, 1] -> activations
        (B, h, w, C) at the layer, every ReLU on the way computed by ``relu``. Traced by
        ``tf.function``.
    directions : array, shape (n, C)
        Batch item i maximizes the mean over positions of ``acts[i] . directions[i]``.
    settings : IconSettings
        Size, steps, learning rate, seed, transforms, ReLU redirection, Adam's ``beta2``
        and ``beta1``.
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
