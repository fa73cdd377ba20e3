"""The PyTorch implementation of :class:`~neuron_groups.backends.base.VisionModel`.

A concrete model (:class:`~neuron_groups.backends.torch.inceptionv1.InceptionV1`) supplies
tensor functions on channels-first tensors: :meth:`TorchVisionModel.forward_to` (images in
[0, 1], (B, 3, H, W), to a layer's activations) and :meth:`TorchVisionModel.continue_to`
(a layer's activations to a later layer's). This module turns them into the numpy API of
the seam, where everything is channels-last (H, W, C): the framework-neutral input checks
of :mod:`neuron_groups.backends.inputs`, then one forward and one backward pass with
autograd, in eval mode, on the model's device, with no gradient for any weight.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from neuron_groups.backends.base import (
    NO_HOOKS,
    NO_TARGETS,
    IconHooks,
    IconSettings,
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

Relu = Callable[[torch.Tensor], torch.Tensor]

DEFAULT_ICON_SETTINGS = IconSettings()


# -- layout: channels-first inside, channels-last above the seam ------------------------------
def to_channels_first(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A (B, H, W, C) numpy batch as a float32 (B, C, H, W) tensor on ``device``."""
    return (
        torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
        .to(device)
        .permute(0, 3, 1, 2)
    )


def to_channels_last(tensor: torch.Tensor) -> np.ndarray:
    """A (B, C, H, W) tensor as a (B, H, W, C) float32 numpy array; (B, C) stays as it is."""
    tensor = tensor.detach()
    if tensor.ndim == 4:
        tensor = tensor.permute(0, 2, 3, 1)
    return np.ascontiguousarray(tensor.to("cpu", torch.float32).numpy())


def to_readout(
    acts: torch.Tensor,
    logits: torch.Tensor,
    grads: torch.Tensor | None = None,
    picked: torch.Tensor | None = None,
) -> Readout:
    """One image's pass, (1, ...) tensors, as a channels-last Readout.

    acts (1, C, H, W) or (1, ...); logits (1, K); grads (T, C, H, W) and picked (T,), or None
    when there were no targets (then the gradients are empty, (0, H, W, C)).
    """
    acts_np = to_channels_last(acts)[0]
    logits_np = to_channels_last(logits)[0]
    if grads is None or picked is None:
        no_grads = np.zeros((0, *acts_np.shape), np.float32)
        return Readout(acts_np, logits_np, no_grads, np.zeros(0, np.int64))
    return Readout(
        acts_np, logits_np, to_channels_last(grads), picked.cpu().numpy().astype(np.int64)
    )


# -- targets ---------------------------------------------------------------------------------
def pick_classes(targets: Targets, logits_row: torch.Tensor) -> torch.Tensor:
    """The class indices (T,) int64 to differentiate: the asked ones, or the ``k`` best.

    ``logits_row`` (K,) is the image's logits; the best are chosen without a gradient, best
    first, lower index first among ties (a stable argsort of ``-logits``, as TF's top_k).
    """
    if targets.kind == "classes":
        return torch.as_tensor(targets.indices, dtype=torch.int64, device=logits_row.device)
    order = torch.argsort(-logits_row.detach(), stable=True)  # (K,)
    return order[: targets.k]


def picked_logits(logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """Sum over rows t of ``logits[t, classes[t]]``: logits (T, K), classes (T,) -> scalar.

    Rows do not interact, so row t of its gradient is that of class t alone.
    """
    return logits.gather(1, classes[:, None]).sum()


def direction_scores(acts: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Sum over rows t and positions of ``<acts[t, :, y, x], vectors[t]>``.

    acts (T, C, H, W) or (T, C), vectors (T, C) -> scalar.
    """
    flat = acts.reshape(acts.shape[0], acts.shape[1], -1)  # (T, C, P)
    return torch.einsum("tcp,tc->", flat, vectors)


class TorchVisionModel(VisionModel):
    """A :class:`VisionModel` computed with PyTorch.

    Subclasses set :attr:`module` (the ``torch.nn.Module`` holding the weights), implement
    :meth:`layers`, :meth:`forward_to` and :meth:`continue_to`, and set
    :attr:`logits_layer` to the canonical name of the layer holding the pre-softmax logits.
    Tensors inside are channels-first, (B, C, H, W); the numpy API is channels-last.
    """

    module: torch.nn.Module

    # -- what subclasses provide ---------------------------------------------------------
    def forward_to(self, images: torch.Tensor, layer: str, relu: Relu = torch.relu):
        """Activations of a batch of images at ``layer``.

        Parameters
        ----------
        images : torch.Tensor, shape (B, 3, H, W)
            RGB floats in [0, 1], on :attr:`device`.
        layer : str
            Canonical name or alias.
        relu : callable
            Computes every ReLU on the way (feature visualization may redirect gradients).

        Returns
        -------
        torch.Tensor, shape (B, C, H', W'), or (B, C) for vector layers.
        """
        raise NotImplementedError

    def continue_to(self, acts: torch.Tensor, layer: str, later: str) -> torch.Tensor:
        """Run the network from the activations at ``layer`` to those at ``later``.

        Parameters
        ----------
        acts : torch.Tensor, shape (B, C, H', W') or (B, C)
            Activations at ``layer``.
        layer, later : str
            Canonical names or aliases; ``later`` at or after ``layer``.

        Returns
        -------
        torch.Tensor, the activations at ``later``, (B, C'', H'', W'') or (B, C'').
        """
        raise NotImplementedError(f"{type(self).__name__} cannot run from {layer!r} on.")

    def head_from(self, acts: torch.Tensor, layer: str) -> torch.Tensor:
        """Run the network from the activations at ``layer`` to the logits, (B, K).

        Raises
        ------
        LayerError
            If ``layer`` comes after the logits.
        """
        return self.continue_to(acts, self.before_logits(layer), self.logits_layer)

    @property
    def device(self) -> torch.device:
        """The device of the model's weights (CPU for a model without any)."""
        first = next(iter(self.module.parameters()), None)
        return first.device if first is not None else torch.device("cpu")

    def freeze(self) -> None:
        """Put :attr:`module` in eval mode and turn off every weight's gradient."""
        self.module.eval()
        for parameter in self.module.parameters():
            parameter.requires_grad_(False)

    # -- passes (tensors, channels-first) ---------------------------------------------------
    def _forward_pass(self, image: torch.Tensor, layer: str):
        """One forward pass: (acts (1, ...), logits (1, K)) with no gradient."""
        with torch.no_grad():
            if self.layer_index(layer) <= self.layer_index(self.logits_layer):
                acts = self.forward_to(image, layer)  # (1, C, H', W')
                return acts, self.head_from(acts, layer)  # (1, K)
            logits = self.forward_to(image, self.logits_layer)  # (1, K)
            return self.continue_to(logits, self.logits_layer, layer), logits

    def _read_pass(self, image: torch.Tensor, layer: str, targets: Targets, later: str):
        """Forward to ``layer`` once; then the head on the activations tiled once per target.

        The head goes to the logits, or for direction targets to ``later``; one backward
        pass. Returns (acts (1, ...), logits (1, K), grads (T, ...), targets (T,)).
        """
        with torch.no_grad():
            acts = self.forward_to(image, layer)  # (1, C, H', W')
        count = len(targets)
        tiled = acts.repeat_interleave(count, dim=0).requires_grad_(True)  # (T, C, H', W')
        with torch.enable_grad():
            if targets.kind == "directions":
                assert targets.vectors is not None
                vectors = torch.from_numpy(targets.vectors).to(acts.device)  # (T, C_later)
                at_later = self.continue_to(tiled, layer, later)  # (T, C_later, ...)
                total = direction_scores(at_later, vectors)
                picked = torch.arange(count)
            else:
                logits = self.head_from(tiled, layer)  # (T, K), rows alike
                picked = pick_classes(targets, logits[0])  # (T,)
                total = picked_logits(logits, picked)
            (grads,) = torch.autograd.grad(total, tiled)  # (T, C, H', W')
        with torch.no_grad():
            if targets.kind == "directions":
                logits = self._logits_after(at_later[:1].detach(), later, acts, layer)
            else:
                logits = logits[:1].detach()
        return acts, logits, grads, picked

    def _logits_after(self, out: torch.Tensor, later: str, acts: torch.Tensor, layer: str):
        """The logits (1, K), continuing from ``later`` when it is not after them."""
        if self.layer_index(later) <= self.layer_index(self.logits_layer):
            return self.head_from(out, later)
        return self.head_from(acts, layer)

    # -- numpy API -----------------------------------------------------------------------
    def read(self, image: np.ndarray, layer: str, targets: Targets = NO_TARGETS) -> Readout:
        """One forward and one backward pass: activations, logits and target gradients.

        See :meth:`VisionModel.read`. Input is checked first (image, sizes, layers,
        classes), so bad input raises the errors of :mod:`neuron_groups.errors`, never one
        from PyTorch. Arrays come back channels-last: acts (H', W', C), grads (T, H', W', C).
        """
        info = self.resolve_layer(layer)
        later = check_targets(self, info, targets)
        deepest = max(
            (info.name, self.logits_layer, *([later.name] if later else [])),
            key=self.layer_index,
        )
        batch = self._prepare(image, deepest)  # (1, 3, H, W)
        if len(targets) == 0:
            acts, logits = self._run(lambda: self._forward_pass(batch, info.name), batch)
            return to_readout(acts, logits)
        later_name = later.name if later else ""
        return to_readout(
            *self._run(lambda: self._read_pass(batch, info.name, targets, later_name), batch)
        )

    def activations(self, image: np.ndarray, layer: str) -> np.ndarray:
        """Activations of one image at ``layer``: (H', W', C), or (C,) for vector layers.

        A forward pass to ``layer`` only (images too small to reach the logits are read).
        """
        info = self.resolve_layer(layer)
        batch = self._prepare(image, info.name)

        def forward() -> torch.Tensor:
            with torch.no_grad():
                return self.forward_to(batch, info.name)

        return to_channels_last(self._run(forward, batch))[0]

    def _run(self, fn: Callable, batch: torch.Tensor):
        try:
            return fn()
        except RuntimeError as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ImageError(
                f"The model {self.name!r} could not run on an image of shape "
                f"{tuple(batch.shape[2:])} (too small for its layers?): {detail}"
            ) from None

    def _prepare(self, image: np.ndarray, deepest: str) -> torch.Tensor:
        """Check one image for a pass that reaches ``deepest``; return it as (1, 3, H, W)."""
        rgb = check_image(image)  # (H, W, 3)
        hw = rgb.shape[:2]
        check_fixed_size(self.name, hw, self.fixed_input_size())
        check_min_size(hw, deepest, self.min_input_size(deepest), self.default_size)
        return to_channels_first(rgb[np.newaxis], self.device)  # (1, 3, H, W)

    # -- feature visualization -----------------------------------------------------------
    def render_icons(
        self,
        layer: str,
        directions: np.ndarray,
        settings: IconSettings = DEFAULT_ICON_SETTINGS,
        hooks: IconHooks = NO_HOOKS,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C) at ``layer``; return (n, S, S, 3) in [0, 1].

        Lucid's ``render_vis`` defaults, as the TensorFlow backend
        (:mod:`neuron_groups.backends.torch.optvis`), on the model's device. A call with
        the directions and settings of the previous one at this layer continues its run
        (after a stop, or to more steps) with the same result as a fresh run.
        """
        from neuron_groups.backends.torch.optvis import RendererPool

        name = self.resolve_layer(layer).name
        pool = self.__dict__.get("_icon_renderers")
        if pool is None:
            pool = self.__dict__["_icon_renderers"] = RendererPool()

        def forward(images: torch.Tensor, relu: Relu) -> torch.Tensor:
            return self.forward_to(images, name, relu)

        return pool.render(name, forward, directions, settings, hooks, self.device)


__all__ = ["Relu", "TorchVisionModel", "to_channels_first", "to_channels_last"]
