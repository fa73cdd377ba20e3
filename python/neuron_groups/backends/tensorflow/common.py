"""The TensorFlow implementation of :class:`~neuron_groups.backends.base.VisionModel`.

A concrete model (:class:`~neuron_groups.backends.tensorflow.inceptionv1.InceptionV1`,
:class:`~neuron_groups.backends.tensorflow.keras_model.KerasVisionModel`) supplies traceable
tensor functions: :meth:`TFVisionModel.forward_to` (images in [0, 1] to a layer's
activations) and, where it can, :meth:`TFVisionModel.continue_to` (a layer's activations to
a later layer's) and :meth:`TFVisionModel.head_from` (to the logits). This module turns them
into the numpy API of the seam: the framework-neutral input checks of
:mod:`neuron_groups.backends.inputs`, then one compiled ``tf.function`` per kind of reading,
kept for every later call, which runs one forward and one backward pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from neuron_groups.backends.base import (
    NO_HOOKS,
    NO_TARGETS,
    IconHooks,
    IconSettings,
    LayerInfo,
    Readout,
    Targets,
    VisionModel,
)
from neuron_groups.backends.inputs import (
    check_fixed_size,
    check_image,
    check_min_size,
    check_targets,
)
from neuron_groups.errors import ImageError

Relu = Callable[[tf.Tensor], tf.Tensor]

DEFAULT_ICON_SETTINGS = IconSettings()

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


class TFVisionModel(VisionModel):
    """A :class:`VisionModel` computed with TensorFlow ops.

    Subclasses implement :meth:`layers`, :meth:`forward_to` and, to get gradients,
    :meth:`continue_to` (or :meth:`head_from` alone for class targets), or override the
    graph builders :meth:`_forward_graph` and :meth:`_read_graph`. They set
    :attr:`logits_layer` to the canonical name of the layer holding the pre-softmax logits.
    """

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, ...], Callable] = {}

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

    def continue_to(self, acts: tf.Tensor, layer: str, later: str) -> tf.Tensor:
        """Run the network from the activations at ``layer`` to those at ``later`` (traceable).

        Parameters
        ----------
        acts : tf.Tensor, shape (B, H', W', C) or (B, C)
            Activations at ``layer``.
        layer, later : str
            Canonical names or aliases; ``later`` at or after ``layer``.

        Returns
        -------
        tf.Tensor, the activations at ``later``, (B, H'', W'', C'') or (B, C'').
        """
        raise NotImplementedError(f"{type(self).__name__} cannot run from {layer!r} on.")

    def head_from(self, acts: tf.Tensor, layer: str) -> tf.Tensor:
        """Run the network from the activations at ``layer`` to the logits (traceable).

        Returns
        -------
        tf.Tensor, shape (B, K)

        Raises
        ------
        LayerError
            If ``layer`` comes after the logits.
        """
        return self.continue_to(acts, self.before_logits(layer), self.logits_layer)

    # -- graphs (traced once per key) ----------------------------------------------------
    def _forward_graph(self, layer: str) -> Callable:
        """``graph(image (1, H, W, 3)) -> (acts (1, ...), logits (1, K))``, one forward pass."""

        def graph(image):
            if self.layer_index(layer) <= self.layer_index(self.logits_layer):
                acts = self.forward_to(image, layer)  # (1, H', W', C)
                return acts, self.head_from(acts, layer)  # (1, K)
            logits = self.forward_to(image, self.logits_layer)  # (1, K)
            return self.continue_to(logits, self.logits_layer, layer), logits

        return graph

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
                logits = self._logits_after(at_later[:1], later, acts, layer)  # (1, K)
            return acts[0], logits[0], grads, targets

        return graph

    def _logits_after(self, out: tf.Tensor, later: str, acts: tf.Tensor, layer: str) -> tf.Tensor:
        """The logits (1, K), continuing from ``later`` when it is not after them."""
        if self.layer_index(later) <= self.layer_index(self.logits_layer):
            return self.head_from(out, later)
        return self.head_from(acts, layer)

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

    # -- numpy API -----------------------------------------------------------------------
    def read(self, image: np.ndarray, layer: str, targets: Targets = NO_TARGETS) -> Readout:
        """One forward and one backward pass: activations, logits and target gradients.

        See :meth:`VisionModel.read`. Input is checked first (image, sizes, layers,
        classes), so bad input raises the errors of :mod:`neuron_groups.errors`, never one
        from TensorFlow.
        """
        info = self.resolve_layer(layer)
        later = check_targets(self, info, targets)
        deepest = max(
            (info.name, self.logits_layer, *([later.name] if later else [])),
            key=self.layer_index,
        )
        batch = self._prepare(image, deepest)
        if len(targets) == 0:
            graph = self._forward_graph(info.name)
            fn = self._compiled_fn(("read", info.name), graph, [IMAGE_SPEC])
            acts, logits = self._run(fn, batch)
            acts = acts[0].numpy()
            empty = np.zeros((0, *acts.shape), np.float32)
            return Readout(acts, logits[0].numpy(), empty, np.zeros(0, np.int64))
        later_name = later.name if later else ""
        kind = graph_kind(targets)
        fn = self._compiled_fn(
            ("read", info.name, kind, later_name),
            self._read_graph(info.name, kind, later_name),
            [IMAGE_SPEC, target_spec(targets), K_SPEC],
        )
        acts, logits, grads, picked = self._run(fn, batch, *target_arguments(targets))
        return Readout(acts.numpy(), logits.numpy(), grads.numpy(), picked.numpy().astype(np.int64))

    def activations(self, image: np.ndarray, layer: str) -> np.ndarray:
        """Activations of one image at ``layer``: (H', W', C), or (C,) for vector layers.

        A forward pass to ``layer`` only (images too small to reach the logits are read).
        """
        info = self.resolve_layer(layer)
        batch = self._prepare(image, info.name)
        fn = self._compiled_fn(
            ("acts", info.name), lambda images: self.forward_to(images, info.name), [IMAGE_SPEC]
        )
        return self._run(fn, batch)[0].numpy()

    def _run(self, fn: Callable, *args: np.ndarray):
        try:
            outputs = fn(*args)
        except tf.errors.InvalidArgumentError as exc:
            detail = re.sub(r"\{\{.*?\}\}\s*", "", exc.message).splitlines()[0]
            raise self._refused(args[0], detail) from None
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

    def layers_by_name(self) -> dict[str, LayerInfo]:
        """Map each canonical layer name to its :class:`LayerInfo`."""
        return {info.name: info for info in self.layers()}

    def _prepare(self, image: np.ndarray, deepest: str) -> np.ndarray:
        """Check one image for a pass that reaches ``deepest``; return it as (1, H, W, 3)."""
        rgb = check_image(image)  # (H, W, 3)
        hw = rgb.shape[:2]
        check_fixed_size(self.name, hw, self.fixed_input_size())
        check_min_size(hw, deepest, self.min_input_size(deepest), self.default_size)
        return rgb[np.newaxis]

    # -- feature visualization -----------------------------------------------------------
    def render_icons(
        self,
        layer: str,
        directions: np.ndarray,
        settings: IconSettings = DEFAULT_ICON_SETTINGS,
        hooks: IconHooks = NO_HOOKS,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C) at ``layer``; return (n, S, S, 3) in [0, 1].

        Delegates to :class:`neuron_groups.backends.tensorflow.optvis.RendererPool`, kept
        on the model: the optimization step is traced once per layer, icon count, channels,
        size, transforms and ReLU redirection, and a call with the directions and settings
        of the previous one at that key continues its run (after a stop, or to more steps)
        with the same result as a fresh run.
        """
        from neuron_groups.backends.tensorflow.optvis import RendererPool

        name = self.resolve_layer(layer).name
        pool = self.__dict__.get("_icon_renderers")
        if pool is None:
            pool = self.__dict__["_icon_renderers"] = RendererPool()

        def forward(images: tf.Tensor, relu: Relu) -> tf.Tensor:
            return self.forward_to(images, name, relu)

        return pool.render(name, forward, directions, settings, hooks)


__all__ = ["IMAGE_SPEC", "Relu", "TFVisionModel"]
