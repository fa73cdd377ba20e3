"""The neuron-groups pipeline: activations -> factorization -> attribution -> icons."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuron_groups.attribution import group_attributions
from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings, Targets, VisionModel
from neuron_groups.errors import ClassNameError, LayerError
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image
from neuron_groups.labels import resolve_classes
from neuron_groups.result import NeuronGroupsResult

DEFAULT_LAYER = "mixed4d"
DEFAULT_GROUPS = 6
TOP_K = 5
"""How many best classes the attribution table shows when no classes are asked for."""


def _model(model: Any) -> VisionModel:
    from neuron_groups.models import load_model

    return load_model("inceptionv1" if model is None else model)


class LayerReading:
    """One image read at one layer: activations, logits and class gradients.

    Construction runs the model once (:meth:`VisionModel.read`: one forward and one
    backward pass) for the classes asked for, or for the image's top 5. Recomputing groups
    (another ``n_groups``) or attributions (classes already seen) reuses what was read,
    which is what makes the widget's controls quick; only new classes cost another pass.
    """

    def __init__(
        self,
        model: VisionModel,
        image: np.ndarray,
        layer: str,
        classes: Sequence[str | int] | None = None,
    ):
        self.model = model
        self.image = image
        info = model.resolve_layer(layer)
        if not info.spatial:
            raise LayerError(
                f"Layer {info.name!r} has no spatial extent (shape {info.shape}) to split into "
                f"groups; choose a convolutional layer such as {_suggest(model, info.name)}."
            )
        self.layer = info.name
        asked = self._resolve_names(classes)
        targets = Targets.top_classes(TOP_K) if asked is None else Targets.classes(asked)
        readout = model.read(image, self.layer, targets)
        self.acts = readout.acts  # (h, w, C)
        self.logits = readout.logits  # (K,)
        self._grads: dict[int, np.ndarray] = dict(
            zip((int(t) for t in readout.targets), readout.grads, strict=True)
        )

    def class_name(self, index: int) -> str:
        """Display name of a logit."""
        names = self.model.class_names
        return str(names[index]) if names is not None else f"class {index}"

    def top_classes(self, k: int = TOP_K) -> list[int]:
        """Indices of the k best classes, best first."""
        return [int(i) for i in np.argsort(-self.logits, kind="stable")[:k]]

    def _resolve_names(self, classes: Sequence[str | int] | None) -> list[int] | None:
        if classes is None or (not isinstance(classes, (str, int)) and len(classes) == 0):
            return None
        if isinstance(classes, (str, int)):
            raise ClassNameError(
                f"classes is a list of names or indices; got {classes!r}. Write [{classes!r}]."
            )
        indices = resolve_classes(list(classes), self.model.class_synonyms, self.model.n_classes)
        return list(dict.fromkeys(indices))  # a class named twice is one row

    def resolve(self, classes: Sequence[str | int] | None) -> list[int]:
        """Class names or indices (None or empty: the top 5) to logit indices, without repeats."""
        asked = self._resolve_names(classes)
        return self.top_classes() if asked is None else asked

    def unique_classes(self, classes: Sequence[str | int]) -> list[str | int]:
        """The classes as given (names stay names, indices stay ints), less repeats.

        A class given twice, by the same or another name or by its index, is kept where it
        first appears, so that entry i is row i of the attribution table.
        """
        indices = resolve_classes(list(classes), self.model.class_synonyms, self.model.n_classes)
        first = {index: position for position, index in reversed(list(enumerate(indices)))}
        return [cls for position, cls in enumerate(classes) if first[indices[position]] == position]

    def gradients(self, class_indices: Sequence[int]) -> np.ndarray:
        """D logit / d activations for each class, shape (k, h, w, C); cached per class."""
        missing = [i for i in dict.fromkeys(class_indices) if i not in self._grads]
        if missing:
            readout = self.model.read(self.image, self.layer, Targets.classes(missing))
            self._grads.update(zip(missing, readout.grads, strict=True))
        if not class_indices:
            return np.zeros((0, *self.acts.shape), np.float32)
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


def _suggest(model: VisionModel, layer: str) -> str:
    """Spatial layers to read instead of ``layer``: the default, or the ones nearest it."""
    infos = model.layers()
    spatial = [i.name for i in infos if i.spatial]
    if DEFAULT_LAYER in spatial:
        return f"{DEFAULT_LAYER} ({spatial[0]} .. {spatial[-1]})"
    names = [i.name for i in infos]
    position = names.index(layer) if layer in names else len(names)
    nearest = sorted(spatial, key=lambda name: abs(names.index(name) - position))[:3]
    return ", ".join(sorted(nearest, key=names.index)) or "one with an (H, W, C) output"


def add_icons(
    result: NeuronGroupsResult,
    model: VisionModel,
    settings: IconSettings | None = None,
    *,
    cache: Any = True,
    hooks: IconHooks = NO_HOOKS,
) -> NeuronGroupsResult:
    """Render each group's icon (see :mod:`neuron_groups.icons`) and store it in ``result``."""
    from neuron_groups.icons import render_icons

    result.icons = render_icons(
        model, result.layer, result.channel, settings or IconSettings(), cache=cache, hooks=hooks
    )
    return result


def icon_settings_with(settings: IconSettings | None, steps: int | None) -> IconSettings:
    """``settings`` (default: Lucid's) with ``steps`` in place of theirs when it is given."""
    settings = settings or IconSettings()
    return settings if steps is None else dataclasses.replace(settings, steps=int(steps))


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
    hooks: IconHooks = NO_HOOKS,
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
    model : str, VisionModel, keras.Model or torch.nn.Module, optional
        Default: InceptionV1 (see :func:`neuron_groups.load_model`).
    method : str or sklearn estimator
        Factorization (default NMF; sign-split NMF for signed activations such as a ViT's,
        see :mod:`neuron_groups.factorization`).
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
    hooks : IconHooks, optional
        Progress, snapshots and stop for the icon optimization.

    Returns
    -------
    NeuronGroupsResult
    """
    if not isinstance(layer, str):  # several layers: the package's entry point, one level up
        raise LayerError(
            f"neuron_groups.pipeline.neuron_groups reads one layer; got layer={layer!r}. For "
            "several layers call neuron_groups.neuron_groups (see neuron_groups.layers)."
        )
    vision_model = _model(model)
    reading = LayerReading(vision_model, load_image(image), layer, classes)  # the one pass
    result = reading.analyze(n_groups, classes, method=method, seed=seed)
    if icons:
        settings = icon_settings_with(icon_settings, steps)
        add_icons(result, vision_model, settings, cache=icon_cache, hooks=hooks)
    return result
