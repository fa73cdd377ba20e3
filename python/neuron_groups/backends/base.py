"""The framework-independent interface of a vision model (the backend seam).

A backend (TensorFlow today, perhaps PyTorch later) subclasses :class:`VisionModel`.
Every method takes and returns numpy arrays; images are RGB floats in [0, 1] of shape
(H, W, 3), whatever range or channel order the network wants inside.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from neuron_groups.errors import LayerError, did_you_mean

ProgressCallback = Callable[[int, np.ndarray], None]
"""Called as ``progress(step, objectives)`` after each step; objectives has shape (n,)."""

SnapshotCallback = Callable[[int, np.ndarray], None]
"""Called as ``snapshot(step, images)`` every few steps; images has shape (n, S, S, 3)."""


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """A layer the model can be read at.

    Attributes
    ----------
    name : str
        Canonical name (Lucid's for InceptionV1, e.g. ``"mixed4d"``).
    shape : tuple of int
        Output shape (H, W, C) for the model's default input size; (C,) for vector layers.
    aliases : tuple of str
        Other accepted names (Caffe's for InceptionV1, e.g. ``"inception_4d/output"``).
    """

    name: str
    shape: tuple[int, ...]
    aliases: tuple[str, ...] = ()

    @property
    def spatial(self) -> bool:
        """Whether the layer has a spatial extent (H, W, C) that can be factorized."""
        return len(self.shape) == 3


@dataclasses.dataclass(frozen=True)
class IconSettings:
    """Feature-visualization settings; the defaults are Lucid's ``render_vis`` defaults.

    Attributes
    ----------
    size : int
        Icon side in pixels (80).
    steps : int
        Number of optimizer updates (513: Lucid runs steps 0..512).
    learning_rate : float
        Adam's learning rate (0.05).
    seed : int
        Seeds the initial spectrum and the random transforms (0).
    transforms : str
        ``"standard"`` (Lucid's five transforms) or ``"none"``.
    redirect_relu_steps : int
        Steps at the start (17: steps 0..16) during which ReLU gradients are redirected.
    """

    size: int = 80
    steps: int = 513
    learning_rate: float = 0.05
    seed: int = 0
    transforms: str = "standard"
    redirect_relu_steps: int = 17

    def key(self) -> dict:
        """Everything that determines the result, for cache keys."""
        return dataclasses.asdict(self)


class VisionModel(ABC):
    """A differentiable image classifier readable at named layers.

    Subclasses set :attr:`name`, :attr:`class_names` and :attr:`default_size` and implement
    the abstract methods. Layer-name resolution and its errors are shared here.
    """

    name: str = "model"
    class_names: Sequence[str] | None = None
    """Display name of each logit (first synonym), or None when the model has no labels."""
    class_synonyms: Sequence[Sequence[str]] | None = None
    """All names of each logit (e.g. every synonym of synset_words.txt), or None."""
    default_size: int = 224

    # -- layers ------------------------------------------------------------------------
    @abstractmethod
    def layers(self) -> list[LayerInfo]:
        """List the readable layers, input to output, with their shapes."""

    def resolve_layer(self, layer: str) -> LayerInfo:
        """Return the :class:`LayerInfo` named ``layer`` (canonical name or alias).

        Raises
        ------
        LayerError
            If no layer has that name; the message lists the closest names.
        """
        if not isinstance(layer, str):
            raise LayerError(f"A layer is named by a string; got {type(layer).__name__}.")
        infos = self.layers()
        for info in infos:
            if layer == info.name or layer in info.aliases:
                return info
        for info in infos:  # forgive case
            if layer.lower() in (n.lower() for n in (info.name, *info.aliases)):
                return info
        names = [i.name for i in infos]
        hint = did_you_mean(layer, names + [a for i in infos for a in i.aliases])
        raise LayerError(
            f"Unknown layer {layer!r} for model {self.name!r}.{hint} Layers: {', '.join(names)}."
        )

    @property
    def identity(self) -> str:
        """A string that changes when the weights change (used in cache keys)."""
        return self.name

    # -- forward and backward ----------------------------------------------------------
    @abstractmethod
    def activations(self, image: np.ndarray, layer: str) -> np.ndarray:
        """Activations of one image at ``layer``: (H', W', C) for spatial layers."""

    @abstractmethod
    def logits(self, image: np.ndarray) -> np.ndarray:
        """Pre-softmax class scores of one image, shape (K,)."""

    @abstractmethod
    def activations_and_gradients(
        self, image: np.ndarray, layer: str, class_indices: Sequence[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Activations, logits and per-class gradients in one pass.

        Returns
        -------
        acts : ndarray, shape (H', W', C)
        logits : ndarray, shape (K,)
        grads : ndarray, shape (len(class_indices), H', W', C)
            ``grads[i]`` is d logits[class_indices[i]] / d acts at this image.
        """

    # -- feature visualization ---------------------------------------------------------
    @abstractmethod
    def render_icons(
        self,
        layer: str,
        directions: np.ndarray,
        settings: IconSettings = IconSettings(),
        *,
        progress: ProgressCallback | None = None,
        snapshot: SnapshotCallback | None = None,
        snapshot_every: int = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C) at ``layer``; return (n, S, S, 3) in [0, 1].

        Raises :class:`neuron_groups.errors.Cancelled` when ``should_stop()`` turns true.
        """
