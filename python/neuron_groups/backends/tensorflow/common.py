"""The TensorFlow implementation of :class:`~neuron_groups.backends.base.VisionModel`.

A concrete model (:class:`~neuron_groups.backends.tensorflow.inceptionv1.InceptionV1`,
:class:`~neuron_groups.backends.tensorflow.keras_model.KerasVisionModel`) supplies traceable
tensor functions: :meth:`TFVisionModel.forward_to` (images in [0, 1] to a layer's
activations) and, where it can, :meth:`TFVisionModel.head_from` (a layer's activations to the
logits). This module turns them into the numpy API of the seam, with input checks, compiled
functions cached per layer, and the gradients of several class logits in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from neuron_groups.backends.base import (
    IconSettings,
    LayerInfo,
    ProgressCallback,
    SnapshotCallback,
    VisionModel,
)
from neuron_groups.errors import ClassNameError, ImageError, LayerError

Relu = Callable[[tf.Tensor], tf.Tensor]

CLIP_SLACK = 0.5
"""Values up to this far outside [0, 1] are clipped; further out, the image is refused."""

DEFAULT_ICON_SETTINGS = IconSettings()

_IMAGE_SPEC = tf.TensorSpec([1, None, None, 3], tf.float32)
_CLASSES_SPEC = tf.TensorSpec([None], tf.int32)


class TFVisionModel(VisionModel):
    """A :class:`VisionModel` computed with TensorFlow ops.

    Subclasses implement :meth:`layers`, :meth:`forward_to` and, to get gradients,
    either :meth:`head_from` or :meth:`_gradient_graph`. They set :attr:`logits_layer` to
    the canonical name of the layer holding the pre-softmax logits.
    """

    logits_layer: str = ""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, str], Callable] = {}

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

    def head_from(self, acts: tf.Tensor, layer: str) -> tf.Tensor:
        """Run the network from the activations at ``layer`` to the logits (traceable).

        Parameters
        ----------
        acts : tf.Tensor, shape (B, H', W', C) or (B, C)
            Activations at ``layer``.
        layer : str
            Canonical name or alias.

        Returns
        -------
        tf.Tensor, shape (B, K)
        """
        raise NotImplementedError(f"{type(self).__name__} cannot run from {layer!r} on.")

    def min_input_size(self, layer: str) -> int | None:
        """Smallest square input side that reaches ``layer``, or None when unknown."""
        return None

    def fixed_input_size(self) -> tuple[int, int] | None:
        """Return the (H, W) the network requires, or None when it takes any size."""
        return None

    # -- compiled graphs -----------------------------------------------------------------
    def _function(self, kind: str, layer: str, build: Callable, signature: list) -> Callable:
        key = (kind, layer)
        if key not in self._compiled:
            # No autograph: the graphs have no data-dependent Python control flow.
            self._compiled[key] = tf.function(
                build, input_signature=signature, reduce_retracing=True, autograph=False
            )
        return self._compiled[key]

    def _activations_fn(self, layer: str) -> Callable:
        return self._function(
            "acts", layer, lambda images: self.forward_to(images, layer), [_IMAGE_SPEC]
        )

    def _gradients_fn(self, layer: str) -> Callable:
        return self._function(
            "grads",
            layer,
            lambda image, classes: self._gradient_graph(image, layer, classes),
            [_IMAGE_SPEC, _CLASSES_SPEC],
        )

    def _gradient_graph(
        self, image: tf.Tensor, layer: str, classes: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Activations, logits and the gradient of each class's logit, in one pass.

        The activations are tiled once per class and run through the head as one batch;
        the sum over rows of ``logits[k, classes[k]]`` then has, in row k of its gradient,
        the gradient of class k alone, since rows do not interact.
        """
        acts = self.forward_to(image, layer)  # (1, H, W, C)
        tiled = tf.repeat(acts, tf.shape(classes)[0], axis=0)  # (K, H, W, C)
        with tf.GradientTape() as tape:
            tape.watch(tiled)
            logits = self.head_from(tiled, layer)  # (K, N)
            picked = tf.reduce_sum(logits * tf.one_hot(classes, tf.shape(logits)[1]))
        grads = tape.gradient(picked, tiled)  # (K, H, W, C)
        return acts[0], logits[0], grads

    # -- numpy API -----------------------------------------------------------------------
    def activations(self, image: np.ndarray, layer: str) -> np.ndarray:
        """Activations of one image at ``layer``: (H', W', C), or (C,) for vector layers."""
        info = self.resolve_layer(layer)
        batch = self._prepare(image, info)
        return self._run(self._activations_fn(info.name), batch)[0].numpy()

    def logits(self, image: np.ndarray) -> np.ndarray:
        """Pre-softmax class scores of one image, shape (K,)."""
        return self.activations(image, self.logits_layer)

    def activations_and_gradients(
        self, image: np.ndarray, layer: str, class_indices: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Activations, logits and the gradient of each class's logit, in one pass.

        Returns
        -------
        acts : ndarray, shape (H', W', C)
        logits : ndarray, shape (K,)
        grads : ndarray, shape (len(class_indices), H', W', C)
        """
        info = self.resolve_layer(layer)
        self._check_gradient_layer(info)
        batch = self._prepare(image, info)
        classes = self._check_classes(class_indices)
        if len(classes) == 0:
            acts = self._run(self._activations_fn(info.name), batch)[0].numpy()
            logits = self.logits(image)
            return acts, logits, np.zeros((0, *acts.shape), np.float32)
        acts, logits, grads = self._run(self._gradients_fn(info.name), batch, classes)
        return acts.numpy(), logits.numpy(), grads.numpy()

    def _check_gradient_layer(self, info: LayerInfo) -> None:
        order = [i.name for i in self.layers()]
        if order.index(info.name) > order.index(self.logits_layer):
            raise LayerError(
                f"Layer {info.name!r} comes after the logits ({self.logits_layer!r}); "
                "gradients of the logits are taken at a layer before them."
            )

    def _check_classes(self, class_indices: Sequence[int]) -> np.ndarray:
        classes = np.asarray(list(class_indices)).reshape(-1)
        if classes.size and (classes.dtype == bool or not np.issubdtype(classes.dtype, np.integer)):
            raise ClassNameError(
                f"Class indices are integers; got {list(class_indices)!r}. Resolve names with "
                "neuron_groups.labels.resolve_classes first."
            )
        n_classes = self.layers_by_name()[self.logits_layer].shape[-1]
        bad = classes[(classes < 0) | (classes >= n_classes)]
        if bad.size:
            raise ClassNameError(
                f"Class index {int(bad[0])} is out of range: the model has {n_classes} "
                f"classes (0..{n_classes - 1})."
            )
        return classes.astype(np.int32)

    def _run(self, fn: Callable, *args: np.ndarray):
        try:
            return fn(*args)
        except tf.errors.InvalidArgumentError as exc:
            detail = re.sub(r"\{\{.*?\}\}\s*", "", exc.message).splitlines()[0]
            raise ImageError(
                f"The model {self.name!r} could not run on an image of shape "
                f"{args[0].shape[1:]} (too small for its layers?): {detail}"
            ) from None

    def layers_by_name(self) -> dict[str, LayerInfo]:
        """Map each canonical layer name to its :class:`LayerInfo`."""
        return {info.name: info for info in self.layers()}

    def _prepare(self, image: np.ndarray, info: LayerInfo) -> np.ndarray:
        """Check one image and return it as a float32 batch of one, (1, H, W, 3)."""
        rgb = check_image(image)
        height, width = rgb.shape[:2]
        fixed = self.fixed_input_size()
        if fixed is not None and (height, width) != tuple(fixed):
            raise ImageError(
                f"The model {self.name!r} takes {fixed[0]}x{fixed[1]} images; got "
                f"{height}x{width}. Resize the image first."
            )
        minimum = self.min_input_size(info.name)
        if minimum is not None and min(height, width) < minimum:
            raise ImageError(
                f"The image is {height}x{width}, too small to reach layer {info.name!r}: "
                f"the smallest input that reaches {info.name} is {minimum}x{minimum} "
                f"({self.default_size}x{self.default_size} is the default). Upscale the image."
            )
        return rgb[np.newaxis]

    # -- feature visualization -----------------------------------------------------------
    def render_icons(
        self,
        layer: str,
        directions: np.ndarray,
        settings: IconSettings = DEFAULT_ICON_SETTINGS,
        *,
        progress: ProgressCallback | None = None,
        snapshot: SnapshotCallback | None = None,
        snapshot_every: int = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C) at ``layer``; return (n, S, S, 3) in [0, 1].

        Delegates to :func:`neuron_groups.backends.tensorflow.optvis.render_directions`.
        """
        from neuron_groups.backends.tensorflow.optvis import render_directions

        name = self.resolve_layer(layer).name

        def forward(images: tf.Tensor, relu: Relu) -> tf.Tensor:
            return self.forward_to(images, name, relu)

        return render_directions(
            forward,
            directions,
            settings,
            progress=progress,
            snapshot=snapshot,
            snapshot_every=snapshot_every,
            should_stop=should_stop,
        )


def check_image(image: np.ndarray) -> np.ndarray:
    """Check that ``image`` is one RGB image of floats in [0, 1]; return it as float32.

    A batch of one, (1, H, W, 3), is accepted too. Values slightly outside [0, 1] (by less
    than :data:`CLIP_SLACK`) are clipped.

    Raises
    ------
    ImageError
        For a non-numeric, integer, empty, wrongly shaped or non-finite image, or one whose
        values are far outside [0, 1].
    """
    array = np.asarray(image)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ImageError(f"An image is an array of numbers; got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.integer):
        raise ImageError(
            f"The image has integer dtype {array.dtype}; the model takes RGB floats in [0, 1]. "
            "Divide by 255 (or load it with neuron_groups.images.load_image)."
        )
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    _check_shape(array)
    if not np.all(np.isfinite(array)):
        raise ImageError("The image has NaN or infinite values.")
    low, high = float(array.min()), float(array.max())
    if high > 1 + CLIP_SLACK:
        raise ImageError(
            f"The image's values reach {high:g}; the model takes RGB floats in [0, 1]. "
            "It looks like 0..255 data: divide by 255."
        )
    if low < -CLIP_SLACK:
        raise ImageError(
            f"The image's values go down to {low:g}; the model takes RGB floats in [0, 1], "
            "not normalized or mean-subtracted values."
        )
    return np.clip(array, 0.0, 1.0).astype(np.float32)


def _check_shape(array: np.ndarray) -> None:
    if array.size == 0:
        raise ImageError(f"The image is empty (shape {array.shape}).")
    if array.ndim == 2:
        raise ImageError(
            f"The image has shape {array.shape}, a grayscale image; the model takes RGB "
            "(H, W, 3). Repeat it over 3 channels, or load it with "
            "neuron_groups.images.load_image, which converts."
        )
    if array.ndim != 3:
        raise ImageError(
            f"The image has shape {array.shape}; the model takes one RGB image, (H, W, 3)."
        )
    if array.shape[-1] != 3:
        hint = " (RGBA? drop the alpha channel: image[..., :3])" if array.shape[-1] == 4 else ""
        raise ImageError(
            f"The image has {array.shape[-1]} channels{hint}; the model takes RGB, "
            f"shape (H, W, 3), got {array.shape}."
        )


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for integers, also for negative ``a``."""
    return -(-a // b)


def short_hash(digest_hex: str) -> str:
    """Return the first 12 hex digits of a digest: enough to tell weights apart in cache keys."""
    return digest_hex[:12]


__all__ = ["CLIP_SLACK", "Relu", "TFVisionModel", "ceil_div", "check_image", "short_hash"]
