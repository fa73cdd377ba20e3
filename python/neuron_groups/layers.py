"""Neuron groups at several layers of one image, linked by attribution ("flows").

For layers L1 < ... < Ln (input to output) of one image, each layer is factorized into groups
on its own, as at one layer. Group b's **score** at layer L is the image's activations at L
projected onto b's unit channel direction and summed over positions::

    s_b = sum_xy <acts_L[x, y], v_b> / |v_b|

and the **flow** from group a at L_i to group b at L_{i+1} is the linear attribution used
for classes, with ``s_b`` in place of a class logit::

    flow[a, b] = sum_xy sum_c (d s_b / d acts_{L_i})[x, y, c] * spatial_a[x, y] * channel_a[c]

The gradients of every score of one pair of layers come from ONE call of
:meth:`~neuron_groups.backends.base.VisionModel.read` (direction targets, one batched backward
pass), which also returns the earlier layer's activations. The classes attach to the last
layer, as in a one-layer analysis.

This module sits above :mod:`neuron_groups.pipeline`; its :func:`neuron_groups` is the
package's entry point (one layer by name, or several as a list).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuron_groups.attribution import group_attributions
from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings, Targets, VisionModel
from neuron_groups.errors import GroupCountError, LayerError, NeuronGroupsError
from neuron_groups.factorization import factorize
from neuron_groups.files import read_npz, save_npz
from neuron_groups.images import load_image
from neuron_groups.pipeline import (
    DEFAULT_GROUPS,
    DEFAULT_LAYER,
    LayerReading,
    add_icons,
    icon_settings_with,
)
from neuron_groups.pipeline import (
    neuron_groups as one_layer_groups,
)
from neuron_groups.result import NeuronGroupsResult, from_arrays

MAX_LAYERS = 4
"""The most layers one analysis takes."""

WHY_MAX_LAYERS = (
    "one column of group tiles per layer must fit a notebook's width, and each layer's "
    "icons cost about a minute on a CPU"
)

Pair = tuple[str, str]
"""Two neighbouring layers (earlier, later)."""


# -- checks before any work ----------------------------------------------------------------------


def check_layers(model: VisionModel, layers: Any) -> list[str]:
    """Return the canonical names of ``layers`` after checking them; nothing is read.

    Raises
    ------
    LayerError
        Not a list of 2..MAX_LAYERS names; an unknown name; a layer without a spatial
        extent; a layer given twice; layers not in input-to-output order. Each message names
        the fix.
    """
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise LayerError(
            f"Several layers are a list of names, input to output; got {layers!r}. "
            "Write e.g. layer=['mixed4a', 'mixed4d']."
        )
    names = list(layers)
    if len(names) < 2:
        one = repr(names[0]) if names else "'mixed4d'"
        raise LayerError(
            f"A list of layers has two or more names; got {names!r}. For one layer, give its "
            f"name as a string: layer={one}."
        )
    if len(names) > MAX_LAYERS:
        raise LayerError(
            f"At most {MAX_LAYERS} layers at once; got {len(names)}: {WHY_MAX_LAYERS}. "
            f"Choose {MAX_LAYERS} or fewer of {names}."
        )
    infos = [model.resolve_layer(name) for name in names]  # unknown: LayerError with hints
    for given, info in zip(names, infos, strict=True):
        if not info.spatial:
            spatial = [i.name for i in model.layers() if i.spatial]
            raise LayerError(
                f"Layer {given!r} has no spatial extent (shape {info.shape}) to split into "
                f"groups; every layer of a flow must be convolutional, such as "
                f"{', '.join(spatial[-3:])}."
            )
    canonical = [info.name for info in infos]
    for name in canonical:
        spelled = [given for given, c in zip(names, canonical, strict=True) if c == name]
        if len(spelled) > 1:
            once = list(dict.fromkeys(canonical))
            raise LayerError(
                f"Layer {name!r} is given {len(spelled)} times ({', '.join(map(repr, spelled))}); "
                f"give each layer once: {once}."
            )
    order = [model.layer_index(name) for name in canonical]
    for (a, b), (i, j) in zip(
        itertools.pairwise(canonical), itertools.pairwise(order), strict=True
    ):
        if j < i:
            ordered = sorted(canonical, key=model.layer_index)
            raise LayerError(
                f"Layers go from input to output, but {b!r} comes before {a!r} in "
                f"{model.name!r}. Write {ordered}."
            )
    return canonical


def check_counts(n_groups: Any, layers: Sequence[str]) -> list[int]:
    """One group count per layer: a number for all, or a list as long as ``layers``.

    Raises
    ------
    GroupCountError
        A list of another length, or a count that is not a whole number of at least 1.
    """
    if isinstance(n_groups, (int, np.integer)) and not isinstance(n_groups, bool):
        counts = [int(n_groups)] * len(layers)
    elif isinstance(n_groups, Sequence) and not isinstance(n_groups, str):
        counts = list(n_groups)
        if len(counts) != len(layers):
            example = ", ".join(str(DEFAULT_GROUPS) for _ in layers)
            raise GroupCountError(
                f"n_groups has {len(counts)} count{'s' * (len(counts) != 1)} for "
                f"{len(layers)} layers ({', '.join(layers)}); give one count per layer, "
                f"e.g. n_groups=[{example}], or one number for all."
            )
    else:
        raise GroupCountError(f"n_groups is a number, or one number per layer; got {n_groups!r}.")
    for layer, count in zip(layers, counts, strict=True):
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise GroupCountError(
                f"The number of groups at {layer!r} is a whole number of at least 1; got {count!r}."
            )
    return [int(c) for c in counts]


def unit_directions(channel: np.ndarray) -> np.ndarray:
    """Channel factors (n, C) divided by their norms: the directions of the group scores."""
    norms = np.linalg.norm(channel, axis=1, keepdims=True)  # (n, 1)
    return (channel / np.maximum(norms, 1e-12)).astype(np.float32)  # (n, C)


# -- the result ------------------------------------------------------------------------------------


@dataclasses.dataclass(repr=False)
class MultiLayerResult:
    """The groups of one image at several layers, and the flows between neighbouring layers.

    Attributes
    ----------
    layers : list of str
        Canonical layer names, input to output.
    results : dict of str to NeuronGroupsResult
        Each layer's groups (the last layer's carries the classes; the others have none).
    flows : dict of (str, str) to ndarray, shape (n_A, n_B), float32
        ``flows[(A, B)][a, b]``: the flow from group a at A to group b at the next layer B.
    """

    layers: list[str]
    results: dict[str, NeuronGroupsResult]
    flows: dict[Pair, np.ndarray]

    @property
    def last(self) -> NeuronGroupsResult:
        """The last layer's result (classes, predictions, today's one-layer view)."""
        return self.results[self.layers[-1]]

    @property
    def pairs(self) -> list[Pair]:
        """The neighbouring pairs of layers, input to output."""
        return list(itertools.pairwise(self.layers))

    @property
    def n_groups(self) -> list[int]:
        """The number of groups at each layer, input to output."""
        return [self.results[layer].n_groups for layer in self.layers]

    @property
    def image(self) -> np.ndarray:
        """The input image, (H, W, 3) floats in [0, 1]."""
        return self.last.image

    def __repr__(self) -> str:
        chain = " -> ".join(
            f"{layer} ({n} groups)" for layer, n in zip(self.layers, self.n_groups, strict=True)
        )
        done = sum(self.results[layer].icons is not None for layer in self.layers)
        last = self.last
        return (
            f"MultiLayerResult(model={last.model_name!r}, {chain}, "
            f"classes={list(last.classes)!r}, top1={last.top5[0] if last.top5 else None!r}, "
            f"icons: {done} of {len(self.layers)} layers)"
        )

    def flow_table(self, pair: Pair | None = None, top: int = 10, digits: int = 3) -> str:
        """The largest flows of one pair of layers (default the first), by size, as text."""
        a, b = self.pairs[0] if pair is None else pair
        values = self.flows[(a, b)]  # (n_A, n_B)
        order = np.argsort(-np.abs(values), axis=None, kind="stable")[:top]
        width = max(len(a), len(b)) + 4
        rows = [f"{'from':<{width}}{'to':<{width}}{'flow':>10}"]
        for flat in order:
            i, j = np.unravel_index(flat, values.shape)
            rows.append(f"{f'{a} {i}':<{width}}{f'{b} {j}':<{width}}{values[i, j]:>10.{digits}f}")
        return "\n".join(rows)

    def save(self, path: str | os.PathLike) -> Path:
        """Write a compressed ``.npz`` that loads with ``allow_pickle=False``.

        It holds the last layer's result under today's keys (so that
        :func:`neuron_groups.load` reads it as one layer), and ``layers`` (string array,
        input to output), ``spatial_<layer>`` (n, h, w) and ``channel_<layer>`` (n, C) for
        each layer, ``icons_<layer>`` (n, S, S, 3) where rendered, and ``flow_<A>_<B>``
        (n_A, n_B) for each neighbouring pair.
        """
        arrays = self.last.to_arrays()
        arrays["layers"] = np.array(self.layers, dtype=str)
        for layer, result in self.results.items():
            arrays[f"spatial_{layer}"] = result.spatial.astype(np.float32)
            arrays[f"channel_{layer}"] = result.channel.astype(np.float32)
            if result.icons is not None:
                arrays[f"icons_{layer}"] = result.icons.astype(np.float32)
        for (a, b), values in self.flows.items():
            arrays[f"flow_{a}_{b}"] = values.astype(np.float32)
        return save_npz(path, arrays)


def load(path: str | os.PathLike) -> MultiLayerResult:
    """Read a result written by :meth:`MultiLayerResult.save`."""
    fields = read_npz(path, "a neuron-groups result")
    last = from_arrays(fields, path)  # today's keys: checks the file is a result at all
    if "layers" not in fields:
        raise NeuronGroupsError(
            f"{path} holds one layer's result (no 'layers'); read it with neuron_groups.load."
        )
    layers = [str(layer) for layer in fields["layers"]]
    needed = [f"{kind}_{layer}" for layer in layers for kind in ("spatial", "channel")]
    needed += [f"flow_{a}_{b}" for a, b in itertools.pairwise(layers)]
    missing = [key for key in needed if key not in fields]
    if missing:
        raise NeuronGroupsError(f"{path} is not a whole multi-layer result: no {missing}.")
    results = {
        layer: _earlier_result(
            last, layer, fields[f"spatial_{layer}"], fields[f"channel_{layer}"], last.method
        )
        for layer in layers[:-1]
    }
    for layer in layers[:-1]:
        results[layer].icons = fields.get(f"icons_{layer}")
    results[layers[-1]] = last
    flows = {(a, b): fields[f"flow_{a}_{b}"] for a, b in itertools.pairwise(layers)}
    return MultiLayerResult(layers, {layer: results[layer] for layer in layers}, flows)


def _earlier_result(
    last: NeuronGroupsResult,
    layer: str,
    spatial: np.ndarray,
    channel: np.ndarray,
    method: str,
    error: float = float("nan"),
) -> NeuronGroupsResult:
    """A layer's groups before the last: no classes (they attach to the last layer).

    The image, logits, top 5 and model name are those of ``last``, the last layer's result.
    """
    n = spatial.shape[0]
    return NeuronGroupsResult(
        image=last.image,
        layer=layer,
        spatial=spatial,
        channel=channel,
        attributions=np.zeros((0, n), np.float32),
        classes=[],
        class_indices=np.zeros(0, np.int64),
        logits=last.logits,
        top5=list(last.top5),
        model_name=last.model_name,
        method=method,
        reconstruction_error=error,
    )


# -- the engine ------------------------------------------------------------------------------------


class MultiLayerReading:
    """One image read at several layers; groups per layer and the flows between them.

    Construction checks the layers (before any work) and reads the last layer with the
    classes (one pass, as :class:`~neuron_groups.pipeline.LayerReading`). The earlier
    layers are read by the pair reads of :meth:`analyze`: one pass per neighbouring pair
    returns the earlier layer's activations and the gradients of every group score at the
    later layer. Everything is cached, so a new group count at one layer recomputes that
    layer's groups and the flows touching it (one pass, or none for the first layer), and new
    classes only the last layer's attribution.

    Parameters
    ----------
    model : VisionModel
    image : ndarray, shape (H, W, 3)
        RGB floats in [0, 1].
    layers : list of str
        2..MAX_LAYERS spatial layers, input to output.
    classes : list of str or int, optional
        Classes for the last layer's table (default: the top 5).
    """

    def __init__(
        self,
        model: VisionModel,
        image: np.ndarray,
        layers: Sequence[str],
        classes: Sequence[str | int] | None = None,
    ):
        self.model = model
        self.image = image
        self.layers = check_layers(model, layers)
        self.last = LayerReading(model, image, self.layers[-1], classes)  # the class pass
        self.acts: dict[str, np.ndarray] = {self.layers[-1]: self.last.acts}  # (h, w, C) each
        self._groups: dict[tuple[str, int], NeuronGroupsResult] = {}
        self._grads: dict[tuple[str, str, int], np.ndarray] = {}  # (A, B, n_B): (n_B, h, w, C_A)
        self._flows: dict[tuple[str, int, str, int], np.ndarray] = {}  # (n_A, n_B)
        self._method_key: Any = None

    def analyze(
        self,
        n_groups: int | Sequence[int] = DEFAULT_GROUPS,
        classes: Sequence[str | int] | None = None,
        method: Any = "nmf",
        seed: int | None = 0,
    ) -> MultiLayerResult:
        """Groups at every layer, the classes at the last, and the flows (no icons).

        Parameters
        ----------
        n_groups : int or list of int
            One count for every layer, or one per layer (input to output).
        classes : list of str or int, optional
            Classes for the last layer's table (default: the top 5).
        method : str or sklearn estimator
            Factorization (default NMF).
        seed : int or None
            Seed of the factorization.
        """
        counts = check_counts(n_groups, self.layers)
        class_indices = self.last.resolve(classes)  # fail on a bad class before any work
        self._forget_if_changed(method, seed)
        last = self.layers[-1]
        results = {last: self._last_groups(counts[-1], class_indices, method, seed)}
        flows: dict[Pair, np.ndarray] = {}
        for i in reversed(range(len(self.layers) - 1)):  # output to input: B before A
            a, b = self.layers[i], self.layers[i + 1]
            grads = self.score_gradients(a, results[b])  # (n_B, h, w, C_A)
            results[a] = self._earlier_groups(a, counts[i], results[last], method, seed)
            flows[(a, b)] = self._flow(results[a], results[b], grads)
        ordered = {layer: results[layer] for layer in self.layers}
        return MultiLayerResult(list(self.layers), ordered, dict(reversed(flows.items())))

    def score_gradients(self, layer: str, later: NeuronGroupsResult) -> np.ndarray:
        """D s_b / d acts at ``layer`` for every group b of ``later``: (n_B, h, w, C).

        One :meth:`~neuron_groups.backends.base.VisionModel.read` per (layer, later groups),
        which also stores the activations at ``layer``; cached.
        """
        key = (layer, later.layer, later.n_groups)
        if key not in self._grads:
            targets = Targets.directions(later.layer, unit_directions(later.channel))
            readout = self.model.read(self.image, layer, targets)
            self.acts[layer] = readout.acts  # (h, w, C)
            self._grads[key] = readout.grads  # (n_B, h, w, C)
        return self._grads[key]

    def _forget_if_changed(self, method: Any, seed: int | None) -> None:
        key = (method if isinstance(method, str) else id(method), seed)
        if key != self._method_key:
            self._groups.clear()
            self._grads.clear()
            self._flows.clear()
            self._method_key = key

    def _last_groups(
        self, n: int, class_indices: list[int], method: Any, seed: int | None
    ) -> NeuronGroupsResult:
        key = (self.layers[-1], n)
        result = self._groups.get(key)
        if result is None:
            result = self._groups[key] = self.last.analyze(n, class_indices, method, seed)
        elif list(result.class_indices) != class_indices:
            self.last.attribute(result, class_indices)
        return result

    def _earlier_groups(
        self, layer: str, n: int, last: NeuronGroupsResult, method: Any, seed: int | None
    ) -> NeuronGroupsResult:
        key = (layer, n)
        if key not in self._groups:
            groups = factorize(self.acts[layer], n, method=method, seed=seed, layer=layer)
            self._groups[key] = _earlier_result(
                last, layer, groups.spatial, groups.channel, groups.method, groups.error
            )
        return self._groups[key]

    def _flow(self, a: NeuronGroupsResult, b: NeuronGroupsResult, grads: np.ndarray) -> np.ndarray:
        key = (a.layer, a.n_groups, b.layer, b.n_groups)
        if key not in self._flows:
            # (n_B, h, w, C_A) with A's (n_A, h, w) x (n_A, C_A) factors: (n_B, n_A), then .T
            self._flows[key] = group_attributions(grads, a.spatial, a.channel).T.copy()
        return self._flows[key]


# -- the entry point -------------------------------------------------------------------------------


def _model(model: Any) -> VisionModel:
    from neuron_groups.models import load_model

    return load_model("inceptionv1" if model is None else model)


def add_layer_icons(
    result: MultiLayerResult,
    model: VisionModel,
    settings: IconSettings | None = None,
    *,
    cache: Any = True,
    hooks: IconHooks = NO_HOOKS,
) -> MultiLayerResult:
    """Render every layer's icons, the last layer first (see :func:`~neuron_groups.add_icons`)."""
    for layer in reversed(result.layers):
        if result.results[layer].icons is None:
            add_icons(result.results[layer], model, settings, cache=cache, hooks=hooks)
    return result


def neuron_groups(
    image: Any,
    layer: str | Sequence[str] = DEFAULT_LAYER,
    n_groups: int | Sequence[int] = DEFAULT_GROUPS,
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
) -> NeuronGroupsResult | MultiLayerResult:
    """Find the neuron groups of an image at one layer, or at several linked by flows.

    Parameters
    ----------
    image : path, URL, example name, PIL image or array
        See :func:`neuron_groups.images.load_image`.
    layer : str or list of str
        One layer (a :class:`~neuron_groups.NeuronGroupsResult`), or 2..4 layers input to
        output (a :class:`MultiLayerResult` with the flows between neighbouring layers).
    n_groups : int or list of int
        Number of groups; with several layers, one number for all or one per layer.
    classes, model, method, seed, icons, steps, icon_settings, icon_cache, hooks
        As in :func:`neuron_groups.pipeline.neuron_groups`. Icons render the last layer
        first.

    Returns
    -------
    NeuronGroupsResult or MultiLayerResult
    """
    options = dict(method=method, seed=seed, icons=icons, steps=steps)
    if isinstance(layer, str):
        if not isinstance(n_groups, (int, np.integer)):
            raise GroupCountError(
                f"One layer has one number of groups; got n_groups={n_groups!r}. For several "
                "layers give a list: layer=['mixed4a', 'mixed4d']."
            )
        return one_layer_groups(
            image,
            layer,
            int(n_groups),
            classes,
            model=model,
            icon_settings=icon_settings,
            icon_cache=icon_cache,
            hooks=hooks,
            **options,
        )
    vision_model = _model(model)
    names = check_layers(vision_model, layer)
    counts = check_counts(n_groups, names)
    reading = MultiLayerReading(vision_model, load_image(image), names, classes)
    result = reading.analyze(counts, classes, method=method, seed=seed)
    if icons:
        settings = icon_settings_with(icon_settings, steps)
        add_layer_icons(result, vision_model, settings, cache=icon_cache, hooks=hooks)
    return result
