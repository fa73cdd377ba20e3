"""The entry point: image -> reading -> groups, class table and flows -> icons.

:func:`neuron_groups` is the one path for every mode: one layer or several (a list), groups
found on this image or given (shared groups, as ``method``). The steps are
:class:`~neuron_groups.reading.ImageReading` (the passes, cached) and :func:`add_icons`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from neuron_groups.attribution import DEFAULT_METHOD, check_method
from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings
from neuron_groups.directions import aim
from neuron_groups.images import load_image
from neuron_groups.models import load_model
from neuron_groups.reading import (
    DEFAULT_LAYER,
    ImageReading,
    check_counts,
    check_layers,
    given_counts,
)
from neuron_groups.result import NeuronGroupsResult


def add_icons(
    result: NeuronGroupsResult,
    model: Any,
    settings: IconSettings | None = None,
    *,
    cache: Any = True,
    hooks: IconHooks = NO_HOOKS,
) -> NeuronGroupsResult:
    """Render the icons of every layer that has none, the last layer first.

    See :mod:`neuron_groups.icons` (the disk cache) and
    :meth:`~neuron_groups.backends.base.VisionModel.render_icons`.
    """
    from neuron_groups.icons import render_icons

    vision_model = load_model(model)
    for groups in reversed(list(result.groups.values())):
        if groups.icons is None:
            groups.icons = render_icons(
                vision_model,
                groups.layer,
                groups.channel,
                settings or IconSettings(),
                cache=cache,
                hooks=hooks,
            )
    return result


def icon_settings_with(settings: IconSettings | None, steps: int | None) -> IconSettings:
    """``settings`` (default: Lucid's) with ``steps`` in place of theirs when it is given."""
    settings = settings or IconSettings()
    return settings if steps is None else dataclasses.replace(settings, steps=int(steps))


def neuron_groups(
    image: Any,
    layer: str | Sequence[str] = DEFAULT_LAYER,
    n_groups: int | Sequence[int] | None = None,
    classes: Sequence[str | int] | None = None,
    *,
    model: Any = None,
    method: Any = "nmf",
    seed: int | None = 0,
    attribution: str = DEFAULT_METHOD,
    icons: bool = True,
    steps: int | None = None,
    icon_settings: IconSettings | None = None,
    icon_cache: Any = True,
    hooks: IconHooks = NO_HOOKS,
    processor: Any = None,
    target_image: Any = None,
) -> NeuronGroupsResult:
    """Find the neuron groups of an image at one layer, or at several linked by flows.

    Parameters
    ----------
    image : path, URL, example name, PIL image or array
        See :func:`neuron_groups.images.load_image`.
    layer : str or list of str
        One layer, or 2..4 layers input to output (then the flows between neighbouring
        layers are found too). Lucid's or Caffe's names for InceptionV1, module paths for a
        PyTorch module.
    n_groups : int or list of int, optional
        Number of groups (default 6, at most 16); with several layers one number for all or
        one per layer.
    classes : list of str or int, or dict, optional
        Classes to attribute at the last layer (names, any synonym, or indices); default:
        the top 5. For a model without a classifier (DINOv2, CLIP), directions in its
        embedding: ``{name: vector}``, or texts for CLIP or SigLIP (embedded by its text
        tower); see :mod:`neuron_groups.directions`.
    model : str, VisionModel, keras.Model or torch.nn.Module, optional
        Default: InceptionV1 (see :func:`neuron_groups.load_model`); a Hugging Face
        ``transformers`` model goes in as it is.
    method : str, sklearn estimator or SharedGroups
        Factorization (default NMF; sign-split NMF for signed activations such as a ViT's,
        see :mod:`neuron_groups.factorization`), or groups fitted on many images
        (:func:`neuron_groups.fit_groups`), used at their layer.
    seed : int or None
        Seed of the factorization (results are repeatable by default).
    attribution : str
        The table shown as ``attributions`` (and ``flows``): ``"integrated"`` (default,
        integrated gradients from zero, with the rest the groups do not explain),
        ``"linear"`` (the article's first-order estimate) or ``"ablation"`` (the measured
        drop when a group is removed). All three are computed and kept in ``tables``;
        ``result.use(method)`` switches. See :mod:`neuron_groups.attribution`.
    icons : bool
        Render each group's feature-visualization icon (slow on a CPU; cached on disk),
        the last layer first.
    steps : int, optional
        Optimization steps for the icons (default 513, Lucid's).
    icon_settings : IconSettings, optional
        All icon settings; ``steps`` overrides its ``steps``.
    icon_cache : bool or path
        Where icons are cached (True: the user cache; False: no cache).
    hooks : IconHooks, optional
        Progress, snapshots and stop for the icon optimization.
    processor : image processor or processor, optional
        A Hugging Face model's processor (see :func:`neuron_groups.load_model`).
    target_image : image, optional
        For a model without a classifier: another image, whose embedding is one more
        direction, ``"target image"`` (which groups make the two images look alike).

    Returns
    -------
    NeuronGroupsResult
        With each layer's explained variance, its curve over group counts and each group's
        stability (:mod:`neuron_groups.quality`).
    """
    check_method(attribution)
    vision_model = load_model(model, **({"processor": processor} if processor is not None else {}))
    vision_model, classes = aim(vision_model, classes, target_image)  # directions as classes
    layers = check_layers(vision_model, layer)  # bad layers and counts cost no pass
    check_counts(n_groups, layers, given_counts(vision_model, method, layers))
    reading = ImageReading(vision_model, load_image(image), layers, classes)  # the one pass
    result = reading.analyze(n_groups, classes, method=method, seed=seed, attribution=attribution)
    reading.measure(result)
    if icons:
        settings = icon_settings_with(icon_settings, steps)
        add_icons(result, vision_model, settings, cache=icon_cache, hooks=hooks)
    return result
