"""The skeleton every framework backend shares, written once and framework-neutral.

A framework backend (:mod:`neuron_groups.backends.tensorflow.common`,
:mod:`neuron_groups.backends.torch.common`) subclasses :class:`FrameworkModel` and supplies
its framework's ops only: the tensor functions (:meth:`FrameworkModel.forward_to`,
:meth:`FrameworkModel.continue_to`), how a checked image becomes a batch
(:meth:`FrameworkModel.to_batch`) and how one pass runs (``_read_forward``,
``_read_targets``, ``_activations``, ``_new_icon_pool``). What is the same whatever the
framework lives here: the checks and their order before any pass (layer, targets, image,
sizes), which layer a pass must reach, "forward to the layer, or to the logits and on",
and the per-model icon pool. numpy only: the tensors are the framework's, passed through.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from neuron_groups.backends.base import (
    NO_HOOKS,
    NO_TARGETS,
    Evaluation,
    IconHooks,
    IconSettings,
    Readout,
    Targets,
    VisionModel,
)
from neuron_groups.backends.inputs import (
    check_acts,
    check_evaluation_targets,
    check_fixed_size,
    check_image,
    check_min_size,
    check_targets,
)
from neuron_groups.errors import LayerError

DEFAULT_ICON_SETTINGS = IconSettings()

Tensor = Any
"""A tensor of the backend's framework (``tf.Tensor``, ``torch.Tensor``), passed through."""


class FrameworkModel(VisionModel):
    """A :class:`VisionModel` computed by a framework; the numpy API in terms of its ops.

    Subclasses implement the tensor functions (:meth:`forward_to`, and :meth:`continue_to`
    for gradients) in their framework's layout, and the passes named in the module
    docstring. Tensors keep the framework's layout (channels-last in TensorFlow,
    channels-first in PyTorch); arrays above the seam are channels-last.
    """

    # -- tensor functions (the framework's ops) ------------------------------------------
    def forward_to(self, images: Tensor, layer: str, relu: Any = None) -> Tensor:
        """Activations of a batch of RGB images in [0, 1] at ``layer``.

        ``relu`` computes every ReLU on the way where the network lets it be swapped
        (feature visualization redirects its gradient); the framework's backend gives the
        plain ReLU as the default.
        """
        raise NotImplementedError

    def continue_to(self, acts: Tensor, layer: str, later: str) -> Tensor:
        """Run the network from the activations at ``layer`` to those at ``later``.

        ``later`` is at or after ``layer``. Models that cannot restart inside the network
        (Keras, a general ``nn.Module``) override the passes that would call it instead.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot run from {layer!r} on.")

    def head_from(self, acts: Tensor, layer: str) -> Tensor:
        """Run the network from the activations at ``layer`` to the logits, (B, K).

        Raises
        ------
        LayerError
            If ``layer`` comes after the logits.
        """
        return self.continue_to(acts, self.before_logits(layer), self.logits_layer)

    def run_from(self, images: Tensor, acts: Tensor, layer: str, later: str) -> Tensor:
        """The activations at ``later`` when those at ``layer`` are ``acts``, (B, ...).

        ``images`` (a batch of one) are the images the rest of the network runs on, for
        networks that use other tensors after ``layer`` (residual branches, a ViT's prefix
        tokens); a network that restarts from ``layer`` (:meth:`continue_to`) ignores them.
        """
        return self.continue_to(acts, layer, later)

    def acts_and_logits(self, images: Tensor, layer: str) -> tuple[Tensor, Tensor]:
        """One forward pass: the activations at ``layer`` and the logits (B, K).

        Forward to ``layer`` then on to the logits; for a layer after the logits (the
        softmax), forward to the logits then on to the layer.
        """
        if self.layer_index(layer) <= self.layer_index(self.logits_layer):
            acts = self.forward_to(images, layer)
            return acts, self.head_from(acts, layer)
        logits = self.forward_to(images, self.logits_layer)
        return self.continue_to(logits, self.logits_layer, layer), logits

    def logits_after(self, out: Tensor, later: str, acts: Tensor, layer: str) -> Tensor:
        """The logits, from ``out`` at ``later`` when it is not after them, else from ``acts``."""
        if self.layer_index(later) <= self.layer_index(self.logits_layer):
            return self.head_from(out, later)
        return self.head_from(acts, layer)

    # -- what a framework does with them -------------------------------------------------
    def to_batch(self, rgb: np.ndarray) -> Tensor:
        """A checked image (H, W, 3) as the framework's batch of one (on its device)."""
        raise NotImplementedError

    def running(self) -> contextlib.AbstractContextManager:
        """The state every pass runs in (a PyTorch module's eval mode); by default none."""
        return contextlib.nullcontext()

    def _read_forward(self, batch: Tensor, layer: str) -> Readout:
        """A forward pass of a batch of one: the activations at ``layer`` and the logits."""
        raise NotImplementedError

    def _read_targets(self, batch: Tensor, layer: str, targets: Targets, later: str) -> Readout:
        """One forward and one backward pass; ``later`` is the direction targets' layer."""
        raise NotImplementedError

    def _activations(self, batch: Tensor, layer: str) -> np.ndarray:
        """The activations at ``layer`` of a batch of one, from a pass that stops there."""
        raise NotImplementedError

    def _evaluate(
        self,
        batch: Tensor,
        layer: str,
        acts: np.ndarray,
        targets: Targets,
        later: str,
        gradients: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Values (B, T) and, with ``gradients``, grads (B, T, ...) at checked ``acts``."""
        raise NotImplementedError

    def _new_icon_pool(self) -> Any:
        """The framework's renderer pool (``render(tag, forward, directions, settings, hooks)``)."""
        raise NotImplementedError

    # -- the numpy API -------------------------------------------------------------------
    def read(self, image: np.ndarray, layer: str, targets: Targets = NO_TARGETS) -> Readout:
        """One forward and one backward pass: activations, logits and target gradients.

        See :meth:`VisionModel.read`. Input is checked first (layer, targets, image,
        sizes), so bad input raises the errors of :mod:`neuron_groups.errors`, never one
        from the framework. Arrays come back channels-last: acts (H', W', C), grads
        (T, H', W', C).
        """
        info = self.resolve_layer(layer)
        later = check_targets(self, info, targets)
        later_name = later.name if later else ""
        batch = self.image_batch(image, self.deepest(info.name, later_name))
        with self.running():
            if len(targets) == 0:
                return self._read_forward(batch, info.name)
            return self._read_targets(batch, info.name, targets, later_name)

    def activations(self, image: np.ndarray, layer: str) -> np.ndarray:
        """Activations of one image at ``layer``: (H', W', C), or (C,) for vector layers.

        A forward pass to ``layer`` only (images too small to reach the logits are read).
        """
        name = self.resolve_layer(layer).name
        batch = self.image_batch(image, name)
        with self.running():
            return self._activations(batch, name)

    def evaluate(self, image, layer, acts, targets, gradients=False) -> Evaluation:
        """Targets, and their gradients, as if ``layer`` had produced each of ``acts``.

        See :meth:`VisionModel.evaluate` (the types and shapes). The layer, the targets,
        the image and the shape of ``acts`` are checked before the framework runs.
        """
        info = self.resolve_layer(layer)
        later = check_evaluation_targets(self, info, targets)
        later_name = later.name if later else ""
        rgb = self.checked_image(image, self.deepest(info.name, later_name))
        acts = check_acts(acts, self.layer_shape(rgb.shape[:2], info.name), info.name)
        count = (len(acts), len(targets))
        if 0 in count:  # nothing to run
            grads = np.zeros((*count, *acts.shape[1:]), np.float32) if gradients else None
            return Evaluation(np.zeros(count, np.float32), grads)
        with self.running():
            values, grads = self._evaluate(
                self.to_batch(rgb), info.name, acts, targets, later_name, gradients
            )
        return Evaluation(values, grads)

    def layer_shape(self, hw: tuple[int, int], layer: str) -> tuple[int, ...]:
        """The shape (h, w, C) or (C,) of ``layer``'s output for an image of (H, W) ``hw``.

        By default from one forward pass to the layer, kept per size and layer.
        """
        shapes = self.__dict__.setdefault("_layer_shapes", {})
        key = (tuple(hw), layer)
        if key not in shapes:
            blank = np.full((*hw, 3), 0.5, np.float32)
            shapes[key] = tuple(self.activations(blank, layer).shape)
        return shapes[key]

    def deepest(self, *layers: str) -> str:
        """The layer a pass that reads ``layers`` (and the logits) must reach; "" is none."""
        return max((self.logits_layer, *(name for name in layers if name)), key=self.layer_index)

    def checked_image(self, image: np.ndarray, deepest: str) -> np.ndarray:
        """Check one image for a pass that reaches ``deepest``; return it as (H, W, 3) float32.

        Raises
        ------
        ImageError
            For anything :func:`~neuron_groups.backends.inputs.check_image` refuses, a size
            the network does not take, or an image too small to reach ``deepest``.
        """
        rgb = check_image(image)  # (H, W, 3)
        hw = rgb.shape[:2]
        check_fixed_size(self.name, hw, self.fixed_input_size())
        check_min_size(hw, deepest, self.min_input_size(deepest), self.default_size)
        return rgb

    def image_batch(self, image: np.ndarray, deepest: str) -> Tensor:
        """:meth:`checked_image` as the framework's batch of one."""
        return self.to_batch(self.checked_image(image, deepest))

    # -- feature visualization -----------------------------------------------------------
    def render_icons(
        self,
        layer: str,
        directions: np.ndarray,
        settings: IconSettings = DEFAULT_ICON_SETTINGS,
        hooks: IconHooks = NO_HOOKS,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C) at ``layer``; return (n, S, S, 3) in [0, 1].

        Lucid's ``render_vis`` defaults, in the framework's optvis package, through the
        model's :meth:`icon_pool`: a call with the directions and settings of the previous
        one at this layer continues its run (after a stop, or to more steps) with the same
        result as a fresh run.

        Raises
        ------
        LayerError
            If ``layer`` has no spatial extent (a vector).
        """
        info = self.resolve_layer(layer)
        if not info.spatial:
            raise LayerError(
                f"Icons are rendered at a spatial layer; {info.name!r} is {info.shape}."
            )

        def forward(images: Tensor, relu: Any) -> Tensor:  # (n, ...) at the layer
            return self.forward_to(images, info.name, relu)

        with self.running():
            return self.icon_pool().render(info.name, forward, directions, settings, hooks)

    def icon_pool(self) -> Any:
        """The model's renderer pool, made on first use and kept (one per model)."""
        pool = self.__dict__.get("_icon_renderers")
        if pool is None:
            pool = self.__dict__["_icon_renderers"] = self._new_icon_pool()
        return pool


__all__ = ["DEFAULT_ICON_SETTINGS", "FrameworkModel", "Tensor"]
