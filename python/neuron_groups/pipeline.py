"""The neuron-groups pipeline: activations -> factorization -> attribution -> icons."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuron_groups.attribution import group_attributions
from neuron_groups.backends.base import IconSettings, VisionModel
from neuron_groups.errors import ClassNameError, LayerError
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image
from neuron_groups.labels import resolve_classes
from neuron_groups.result import NeuronGroupsResult

DEFAULT_LAYER = "mixed4d"
DEFAULT_GROUPS = 6


def _model(model: Any) -> VisionModel:
    from neuron_groups.models import load_model

    return load_model("inceptionv1" if model is None else model)


class LayerReading:
    """One image read at one layer: activations and logits, and class gradients on demand.

    Recomputing groups (another ``n_groups``) or attributions (other classes) reuses what
    was already read, which is what makes the widget's controls quick.
    """

    def __init__(self, model: VisionModel, image: np.ndarray, layer: str):
        self.model = model
        self.image = image
        info = model.resolve_layer(layer)
        if not info.spatial:
            raise LayerError(
                f"Layer {info.name!r} has no spatial extent (shape {info.shape}) to split into "
                "groups; choose a convolutional layer such as mixed4d (mixed3a .. mixed5b)."
            )
        self.layer = info.name
        self.acts = model.activations(image, self.layer)  # (h, w, C)
        self.logits = model.logits(image)  # (K,)
        self._grads: dict[int, np.ndarray] = {}

    def class_name(self, index: int) -> str:
        """Display name of a logit."""
        names = self.model.class_names
        return str(names[index]) if names is not None else f"class {index}"

    def top_classes(self, k: int = 5) -> list[int]:
        """Indices of the k best classes, best first."""
        return [int(i) for i in np.argsort(-self.logits, kind="stable")[:k]]

    def resolve(self, classes: Sequence[str | int] | None) -> list[int]:
        """Class names or indices (None or empty: the top 5) to logit indices."""
        if classes is None or len(classes) == 0:
            return self.top_classes()
        if isinstance(classes, (str, int)):
            raise ClassNameError(
                f"classes is a list of names or indices; got {classes!r}. Write [{classes!r}]."
            )
        return resolve_classes(list(classes), self.model.class_synonyms, len(self.logits))

    def gradients(self, class_indices: Sequence[int]) -> np.ndarray:
        """D logit / d activations for each class, shape (k, h, w, C); cached per class."""
        missing = [i for i in dict.fromkeys(class_indices) if i not in self._grads]
        if missing:
            _, _, grads = self.model.activations_and_gradients(self.image, self.layer, missing)
            self._grads.update(zip(missing, grads, strict=True))
        return np.stack([self._grads[i] for i in class_indices])

    def attribute(self, result: NeuronGroupsResult, classes: Sequence[str | int] | None) -> None:
        """Replace the classes of ``result`` (its attribution table) in place."""
        class_indices = self.resolve(classes)
        grads = self.gradients(class_indices)  # (k, h, w, C)
        result.attributions = group_attributions(grads, result.spatial, result.channel)
        result.classes = [self.class_name(i) for i in class_indices]
        result.class_indices = np.asarray(class_indices, dtype=np.int64)

    def analyze(
        self,
        n_groups: int = DEFAULT_GROUPS,
        classes: Sequence[str | int] | None = None,
        method: Any = "nmf",
        seed: int | None = 0,
    ) -> NeuronGroupsResult:
        """Factorize into groups and attribute the classes to them (no icons)."""
        class_indices = self.resolve(classes)  # fail on a bad class before factorizing
        groups = factorize(self.acts, n_groups, method=method, seed=seed, layer=self.layer)
        result = NeuronGroupsResult(
            image=self.image,
            layer=self.layer,
            spatial=groups.spatial,
            channel=groups.channel,
            attributions=np.zeros((0, n_groups), np.float32),
            classes=[],
            class_indices=np.zeros(0, np.int64),
            logits=self.logits.astype(np.float32),
            top5=[self.class_name(i) for i in self.top_classes()],
            model_name=self.model.name,
            method=groups.method,
            reconstruction_error=groups.error,
        )
        self.attribute(result, class_indices)
        return result


def add_icons(
    result: NeuronGroupsResult,
    model: VisionModel,
    settings: IconSettings | None = None,
    *,
    cache: Any = True,
    progress: Callable[[int, np.ndarray], None] | None = None,
    snapshot: Callable[[int, np.ndarray], None] | None = None,
    snapshot_every: int = 0,
    should_stop: Callable[[], bool] | None = None,
) -> NeuronGroupsResult:
    """Render each group's icon (see :mod:`neuron_groups.icons`) and store it in ``result``."""
    from neuron_groups.icons import render_icons

    result.icons = render_icons(
        model,
        result.layer,
        result.channel,
        settings or IconSettings(),
        cache=cache,
        progress=progress,
        snapshot=snapshot,
        snapshot_every=snapshot_every,
        should_stop=should_stop,
    )
    return result


def neuron_groups(
    image: Any,
    layer: str = DEFAULT_LAYER,
    n_groups: int = DEFAULT_GROUPS,
    classes: Sequence[str | int] | None = None,
    *,
    model: Any = None,
    method: Any = "nmf",
    seed: int | None = 0,
    icons: bool = True,
    steps: int | None = None,
    icon_settings: IconSettings | None = None,
    icon_cache: Any = True,
    progress: Callable[[int, np.ndarray], None] | None = None,
) -> NeuronGroupsResult:
    """Find the neuron groups of an image at a layer, and what each does.

    Parameters
    ----------
    image : path, URL, example name, PIL image or array
        See :func:`neuron_groups.images.load_image`.
    layer : str
        Layer to factorize (Lucid's or Caffe's name for InceptionV1).
    n_groups : int
        Number of groups.
    classes : list of str or int, optional
        Classes to attribute (names, any synonym, or indices); default: the top 5.
    model : str, VisionModel or tf.keras.Model, optional
        Default: InceptionV1 (see :func:`neuron_groups.load_model`).
    method : str or sklearn estimator
        Factorization (default NMF).
    seed : int or None
        Seed of the factorization (results are repeatable by default).
    icons : bool
        Render each group's feature-visualization icon (slow on a CPU; cached on disk).
    steps : int, optional
        Optimization steps for the icons (default 513, Lucid's).
    icon_settings : IconSettings, optional
        All icon settings; ``steps`` overrides its ``steps``.
    icon_cache : bool or path
        Where icons are cached (True: the user cache; False: no cache).
    progress : callable, optional
        ``progress(step, objectives)`` during icon optimization.

    Returns
    -------
    NeuronGroupsResult
    """
    vision_model = _model(model)
    reading = LayerReading(vision_model, load_image(image), layer)
    result = reading.analyze(n_groups, classes, method=method, seed=seed)
    if icons:
        settings = icon_settings or IconSettings()
        if steps is not None:
            settings = dataclasses.replace(settings, steps=int(steps))
        add_icons(result, vision_model, settings, cache=icon_cache, progress=progress)
    return result
