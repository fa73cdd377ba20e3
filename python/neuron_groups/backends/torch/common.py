"""The PyTorch implementation of :class:`~neuron_groups.backends.base.VisionModel`.

A concrete model (:class:`~neuron_groups.backends.torch.inceptionv1.InceptionV1`) supplies
tensor functions on channels-first tensors: :meth:`TorchVisionModel.forward_to` (images in
[0, 1], (B, 3, H, W), to a layer's activations) and :meth:`TorchVisionModel.continue_to`
(a layer's activations to a later layer's). The checks and the order of a reading are the
framework-neutral skeleton's (:class:`~neuron_groups.backends.framework.FrameworkModel`);
this module holds the PyTorch passes, one forward and one backward pass with autograd, in
eval mode, on the model's device, with no gradient for any weight, and the layouts: above
the seam everything is channels-last (H, W, C).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from neuron_groups.backends.base import Readout, Targets
from neuron_groups.backends.framework import FrameworkModel
from neuron_groups.errors import ImageError, LayerError

Relu = Callable[[torch.Tensor], torch.Tensor]


# -- layout: channels-first inside, channels-last above the seam ------------------------------
def to_channels_first(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A (B, H, W, C) numpy batch as a float32 (B, C, H, W) tensor on ``device``.

    A batch of vectors (B, C) stays as it is.
    """
    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(device)
    return tensor.permute(0, 3, 1, 2) if tensor.ndim == 4 else tensor


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
        return Readout.without_targets(acts_np, logits_np)
    return Readout(
        acts_np, logits_np, to_channels_last(grads), picked.cpu().numpy().astype(np.int64)
    )


def gradients_channels_last(grads: torch.Tensor) -> np.ndarray:
    """Gradients (B, T, C, H, W) as (B, T, H, W, C) float32 numpy; (B, T, C) stays."""
    grads = grads.detach()
    if grads.ndim == 5:
        grads = grads.permute(0, 1, 3, 4, 2)
    return np.ascontiguousarray(grads.to("cpu", torch.float32).numpy())


# -- targets ---------------------------------------------------------------------------------
def target_values(out: torch.Tensor, targets: Targets) -> torch.Tensor:
    """Each row's targets (B, T) from its outputs ``out`` at the targets' layer.

    Classes: ``out`` is the logits (B, K). Directions: ``out`` is (B, C, ...) and each
    vector's score is summed over positions.
    """
    if targets.kind == "directions":
        assert targets.vectors is not None
        vectors = torch.from_numpy(targets.vectors).to(out.device)  # (T, C)
        flat = out.reshape(out.shape[0], out.shape[1], -1)  # (B, C, P)
        return torch.einsum("bcp,tc->bt", flat, vectors)
    classes = torch.as_tensor(targets.indices, dtype=torch.int64, device=out.device)
    return out[:, classes]  # (B, T)


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


class TorchVisionModel(FrameworkModel):
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

    def to_batch(self, rgb: np.ndarray) -> torch.Tensor:
        """A checked image (H, W, 3) as a batch of one, (1, 3, H, W), on :attr:`device`."""
        return to_channels_first(rgb[np.newaxis], self.device)

    # -- passes (tensors, channels-first) ---------------------------------------------------
    def _read_forward(self, batch: torch.Tensor, layer: str) -> Readout:
        def forward():
            with torch.no_grad():
                return self.acts_and_logits(batch, layer)  # (1, C, H', W'), (1, K)

        return to_readout(*self._run(forward, batch))

    def _read_targets(self, batch: torch.Tensor, layer: str, targets: Targets, later: str):
        return to_readout(*self._run(lambda: self._read_pass(batch, layer, targets, later), batch))

    def _read_pass(self, batch: torch.Tensor, layer: str, targets: Targets, later: str):
        """Forward to ``layer`` once; then the head on the activations tiled once per target.

        The head goes to the logits, or for direction targets to ``later``; one backward
        pass. Returns (acts (1, ...), logits (1, K), grads (T, ...), targets (T,)).
        """
        with torch.no_grad():
            acts = self.forward_to(batch, layer)  # (1, C, H', W')
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
                logits = self.logits_after(at_later[:1].detach(), later, acts, layer)
            else:
                logits = logits[:1].detach()
        return acts, logits, grads, picked

    def _evaluate(self, batch, layer, acts, targets, later, gradients):
        """One forward pass from the layer for the whole batch, one backward pass per target."""

        def run():
            # Contiguous: convolutions on a permuted (channels-last) view ran 15x slower.
            given = to_channels_first(acts, self.device).contiguous().requires_grad_(gradients)
            with torch.set_grad_enabled(gradients):
                out = self.run_from(batch, given, layer, later or self.logits_layer)
                values = target_values(out.float(), targets)  # (B, T)
            if not gradients:
                return values.detach().cpu().numpy(), None
            grads = []
            for t in range(len(targets)):
                last = t == len(targets) - 1
                (grad,) = torch.autograd.grad(
                    values[:, t].sum(), given, retain_graph=not last, allow_unused=True
                )
                if grad is None:
                    raise LayerError(f"The targets of {self.name!r} do not depend on {layer!r}.")
                grads.append(grad)
            stacked = gradients_channels_last(torch.stack(grads, dim=1))  # (B, T, ...)
            return values.detach().cpu().numpy(), stacked

        return self._run(run, batch)

    def _activations(self, batch: torch.Tensor, layer: str) -> np.ndarray:
        def forward() -> torch.Tensor:
            with torch.no_grad():
                return self.forward_to(batch, layer)

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

    # -- feature visualization -----------------------------------------------------------
    def _new_icon_pool(self):
        """A :class:`neuron_groups.backends.torch.optvis.RendererPool` on this model's device."""
        from neuron_groups.backends.torch.optvis import RendererPool

        return RendererPool(lambda: self.device)


__all__ = ["Relu", "TorchVisionModel", "to_channels_first", "to_channels_last"]
