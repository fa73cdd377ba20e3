"""The TensorFlow implementation of :class:`~neuron_groups.backends.base.VisionModel`.

A concrete model (:class:`~neuron_groups.backends.tensorflow.inceptionv1.InceptionV1`,
:class:`~neuron_groups.backends.tensorflow.keras_model.KerasVisionModel`) supplies traceable
tensor functions: :meth:`TFVisionModel.forward_to` (images in [0, 1] to a layer's
activations) and, where it can, :meth:`TFVisionModel.continue_to` (a layer's activations to
a later layer's). The checks and the order of a reading are the framework-neutral skeleton's
(:class:`~neuron_groups.backends.framework.FrameworkModel`); this module holds the
TensorFlow passes: one compiled ``tf.function`` per kind of reading, kept for every later
call, which runs one forward and one backward pass. The one TensorFlow setting,
:attr:`TFVisionModel.compile_readings`, is turned off by :meth:`TFVisionModel.few_readings`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

import numpy as np

from neuron_groups.backends.base import Readout, Targets
from neuron_groups.backends.framework import FrameworkModel
from neuron_groups.backends.tensorflow._import import import_tensorflow
from neuron_groups.errors import ImageError, LayerError

tf = import_tensorflow()

Relu = Callable[[tf.Tensor], tf.Tensor]

IMAGE_SPEC = tf.TensorSpec([1, None, None, 3], tf.float32)
"""One image, (1, H, W, 3), RGB floats in [0, 1]."""


K_SPEC = tf.TensorSpec([], tf.int32)
"""How many best classes to pick in the graph (0: the class indices given)."""


def graph_kind(targets: Targets) -> str:
    """The compiled reading that serves ``targets``: ``"logits"`` or ``"directions"``.

    Given classes and the best classes share one graph, so that a widget's first explicit
    classes after a top-5 reading trace nothing new.
    """
    return "directions" if targets.kind == "directions" else "logits"


def target_spec(targets: Targets) -> tf.TensorSpec:
    """The signature of the tensor that carries ``targets`` into a compiled reading.

    Class indices (T,) int32 (none when the best are picked in the graph); direction
    vectors (T, C) float32.
    """
    if graph_kind(targets) == "logits":
        return tf.TensorSpec([None], tf.int32)
    assert targets.vectors is not None
    return tf.TensorSpec([None, targets.vectors.shape[1]], tf.float32)


def target_arguments(targets: Targets) -> tuple[np.ndarray, np.int32]:
    """The values of :func:`target_spec`'s tensor and of :data:`K_SPEC`."""
    if targets.kind == "classes":
        return np.asarray(targets.indices, dtype=np.int32), np.int32(0)
    if targets.kind == "top":
        return np.zeros(0, np.int32), np.int32(targets.k)
    assert targets.vectors is not None
    return np.asarray(targets.vectors, dtype=np.float32), np.int32(0)


def target_values(out: tf.Tensor, kind: str, arg: tf.Tensor) -> tf.Tensor:
    """Each row's targets (B, T) from its outputs ``out`` at the targets' layer.

    ``kind`` ``"logits"``: ``out`` is the logits (B, K) and ``arg`` the class indices
    (T,); ``"directions"``: ``out`` is (B, ..., C) and ``arg`` the vectors (T, C), each
    summed over positions.
    """
    if kind == "directions":
        flat = tf.reshape(out, [tf.shape(out)[0], -1, tf.shape(out)[-1]])  # (B, P, C)
        return tf.einsum("bpc,tc->bt", flat, arg)
    return tf.gather(out, arg, axis=1)  # (B, T)


def pick_classes(logits_row: tf.Tensor, classes: tf.Tensor, k: tf.Tensor) -> tf.Tensor:
    """The class indices (T,) int32 to differentiate: ``classes``, or the ``k`` best when k > 0.

    ``logits_row`` (K,) is the image's logits; the best are chosen without a gradient, best
    first, lower index first among ties (as a stable argsort of ``-logits``).
    """
    return tf.cond(
        k > 0,
        lambda: tf.math.top_k(tf.stop_gradient(logits_row), k=k).indices,  # (k,)
        lambda: classes,
    )


def picked_logits(logits: tf.Tensor, classes: tf.Tensor) -> tf.Tensor:
    """Sum over rows t of ``logits[t, classes[t]]``: logits (T, K), classes (T,) -> scalar.

    Rows do not interact, so row t of its gradient is that of class t alone.
    """
    return tf.reduce_sum(logits * tf.one_hot(classes, tf.shape(logits)[1]))


def direction_scores(acts: tf.Tensor, vectors: tf.Tensor) -> tf.Tensor:
    """Sum over rows t and positions of ``<acts[t, y, x], vectors[t]>``.

    acts (T, H, W, C) or (T, C), vectors (T, C) -> scalar.
    """
    flat = tf.reshape(acts, [tf.shape(acts)[0], -1, tf.shape(acts)[-1]])  # (T, P, C)
    return tf.einsum("tpc,tc->", flat, vectors)


class TFVisionModel(FrameworkModel):
    """A :class:`VisionModel` computed with TensorFlow ops.

    Subclasses implement :meth:`layers`, :meth:`forward_to` and, to get gradients,
    :meth:`continue_to`, or override the graph builders :meth:`_forward_graph` and
    :meth:`_read_graph`. They set :attr:`logits_layer` to the canonical name of the layer
    holding the pre-softmax logits. Tensors are channels-last, (B, H, W, C).
    """

    compile_readings: bool = True
    """Whether :meth:`read` compiles its pass, once per layer and kind of targets, for fast
    repeated readings (a widget's). Off within :meth:`few_readings` (the command line's one
    reading per layer): there tracing costs more than it saves."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, ...], Callable] = {}

    @contextlib.contextmanager
    def few_readings(self) -> Iterator[None]:
        """Read without compiling within this block (the same ops, run once, no trace)."""
        compiled = self.compile_readings
        self.compile_readings = False
        try:
            yield
        finally:
            self.compile_readings = compiled

    # -- what subclasses provide ---------------------------------------------------------
    def forward_to(self, images: tf.Tensor, layer: str, relu: Relu = tf.nn.relu) -> tf.Tensor:
        """Activations of a batch of images at ``layer`` (traceable).

        Parameters
        ----------
        images : tf.Tensor, shape (B, H, W, 3)
            RGB floats in [0, 1].
        layer : str
            Canonical name or alias.
        relu : callable
            Computes every ReLU on the way (feature visualization passes one that
            redirects gradients).

        Returns
        -------
        tf.Tensor, shape (B, H', W', C), or (B, C) for vector layers.
        """
        raise NotImplementedError

    def to_batch(self, rgb: np.ndarray) -> np.ndarray:
        """A checked image (H, W, 3) as a batch of one, (1, H, W, 3) (fed to the graphs)."""
        return rgb[np.newaxis]

    # -- graphs (traced once per key) ----------------------------------------------------
    def _forward_graph(self, layer: str) -> Callable:
        """``graph(image (1, H, W, 3)) -> (acts (1, ...), logits (1, K))``, one forward pass."""
        return lambda image: self.acts_and_logits(image, layer)

    def _read_graph(self, layer: str, kind: str, later: str) -> Callable:
        """``graph(image, arg, k) -> (acts, logits, grads (T, ...), targets (T,))``.

        Forward to ``layer`` once; then the head (to the logits, or for direction targets
        to ``later``) on the activations tiled once per target, and one backward pass.
        """

        def graph(image, arg, k):
            acts = self.forward_to(image, layer)  # (1, H', W', C)
            count = tf.maximum(k, tf.shape(arg)[0])  # k > 0 only for the best classes
            tiled = tf.repeat(acts, count, axis=0)  # (T, H', W', C)
            with tf.GradientTape() as tape:
                tape.watch(tiled)
                if kind == "directions":
                    at_later = self.continue_to(tiled, layer, later)  # (T, ...) at later
                    total = direction_scores(at_later, arg)
                    targets = tf.range(count)
                else:
                    logits = self.head_from(tiled, layer)  # (T, K), rows alike
                    targets = pick_classes(logits[0], arg, k)  # (T,)
                    total = picked_logits(logits, targets)
            grads = tape.gradient(total, tiled)  # (T, H', W', C)
            if kind == "directions":  # the logits from one row, on from the later layer
                logits = self.logits_after(at_later[:1], later, acts, layer)  # (1, K)
            return acts[0], logits[0], grads, targets

        return graph

    def _evaluate_graph(self, layer: str, kind: str, later: str, count: int, gradients: bool):
        """``graph(image, acts, arg) -> values (B, T)``, and grads (B, T, ...) with ``gradients``.

        One forward pass from the layer for the whole batch, then one backward pass per
        target (``count`` of them: a Python loop, so the graph is traced per count; a
        vectorized Jacobian, ``batch_jacobian``, ran 1.5 to 2 times slower here).
        """
        end = later or self.logits_layer

        def graph(image, acts, arg):
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(acts)
                out = self.run_from(image, acts, layer, end)  # (B, ...) at the targets' layer
                values = target_values(tf.cast(out, tf.float32), kind, arg)  # (B, T)
                columns = [values[:, t] for t in range(count)] if gradients else []
            if not gradients:
                return (values,)
            grads = [tape.gradient(column, acts) for column in columns]  # T x (B, ...)
            if grads[0] is None:
                what = "logits" if kind != "directions" else f"activations at {later!r}"
                raise LayerError(f"The {what} of {self.name!r} do not depend on layer {layer!r}.")
            return values, tf.stack(grads, axis=1)  # (B, T, ...)

        return graph

    def _compiled_fn(self, key: tuple[str, ...], build: Callable, signature: list) -> Callable:
        if not self.compile_readings:  # eager: the same ops, run once without a trace
            return lambda *args: build(
                *(tf.convert_to_tensor(a, s.dtype) for a, s in zip(args, signature, strict=True))
            )
        if key not in self._compiled:
            # No autograph: the graphs have no data-dependent Python control flow.
            self._compiled[key] = tf.function(build, input_signature=signature, autograph=False)
        return self._compiled[key]

    def tracing_count(self) -> int:
        """How many times the compiled readings and icon steps were traced (tests: once per key)."""
        readings = sum(fn.experimental_get_tracing_count() for fn in self._compiled.values())
        pool = self.__dict__.get("_icon_renderers")
        return readings + (pool.tracing_count() if pool is not None else 0)

    # -- passes ----------------------------------------------------------------------------
    def _read_forward(self, batch: np.ndarray, layer: str) -> Readout:
        fn = self._compiled_fn(("read", layer), self._forward_graph(layer), [IMAGE_SPEC])
        acts, logits = self._run(fn, batch)
        return Readout.without_targets(acts[0].numpy(), logits[0].numpy())

    def _read_targets(self, batch: np.ndarray, layer: str, targets: Targets, later: str):
        kind = graph_kind(targets)
        fn = self._compiled_fn(
            ("read", layer, kind, later),
            self._read_graph(layer, kind, later),
            [IMAGE_SPEC, target_spec(targets), K_SPEC],
        )
        acts, logits, grads, picked = self._run(fn, batch, *target_arguments(targets))
        return Readout(acts.numpy(), logits.numpy(), grads.numpy(), picked.numpy().astype(np.int64))

    def _activations(self, batch: np.ndarray, layer: str) -> np.ndarray:
        fn = self._compiled_fn(
            ("acts", layer), lambda images: self.forward_to(images, layer), [IMAGE_SPEC]
        )
        return self._run(fn, batch)[0].numpy()

    def _evaluate(self, batch, layer, acts, targets, later, gradients):
        kind, count = graph_kind(targets), len(targets)
        key = ("evaluate", layer, kind, later, str(count), str(gradients), str(acts.shape[1:]))
        signature = [IMAGE_SPEC, tf.TensorSpec([None, *acts.shape[1:]], tf.float32)]
        fn = self._compiled_fn(
            key,
            self._evaluate_graph(layer, kind, later, count, gradients),
            [*signature, target_spec(targets)],
        )
        outputs = self._run(fn, batch, acts, target_arguments(targets)[0], checked=False)
        return outputs[0].numpy(), (outputs[1].numpy() if gradients else None)

    def _run(self, fn: Callable, *args: np.ndarray, checked: bool = True):
        """Run a pass; refuse an image the network cannot take, as an ImageError.

        With ``checked``, the first output (the activations or logits) must be non-empty
        and finite.
        """
        try:
            outputs = fn(*args)
        except tf.errors.InvalidArgumentError as exc:
            detail = re.sub(r"\{\{.*?\}\}\s*", "", exc.message).splitlines()[0]
            raise self._refused(args[0], detail) from None
        if not checked:
            return outputs
        first = outputs[0]  # the activations (B, h, w, C), or (B, K) logits
        if first.shape.num_elements() == 0 or not bool(tf.reduce_all(tf.math.is_finite(first))):
            # Keras 3.15 no longer raises for a layer shrunk to nothing: it averages an empty
            # map into NaN (the image itself is checked finite before the pass).
            raise self._refused(args[0], "a layer's output is empty or not finite")
        return outputs

    def _refused(self, batch: np.ndarray, detail: str) -> ImageError:
        return ImageError(
            f"The model {self.name!r} could not run on an image of shape "
            f"{batch.shape[1:]} (too small for its layers?): {detail}"
        )

    # -- feature visualization -----------------------------------------------------------
    def _new_icon_pool(self):
        """A :class:`neuron_groups.backends.tensorflow.optvis.RendererPool`.

        Its optimization step is traced once per layer, icon count, channels, size,
        transforms and ReLU redirection.
        """
        from neuron_groups.backends.tensorflow.optvis import RendererPool

        return RendererPool()


__all__ = ["IMAGE_SPEC", "Relu", "TFVisionModel"]
