"""One image read at one or more layers, and the groups, class table and flows found there.

One layer is the case of several with one. For layers L1 < ... < Ln (input to output) each
layer is factorized into groups on its own; the classes attach to the last layer. Group b's
**score** at layer L is the image's activations at L projected on b's unit channel direction
and summed over positions::

    s_b = sum_xy <acts_L[x, y], v_b> / |v_b|

and the **flow** from group a at L_i to group b at L_{i+1} is the linear attribution used for
classes, with ``s_b`` in place of a class logit::

    flow[a, b] = sum_xy sum_c (d s_b / d acts_{L_i})[x, y, c] * spatial_a[x, y] * channel_a[c]

Construction reads the last layer once (:meth:`VisionModel.read`: one forward and one
backward pass) for the classes asked for, or the image's top 5. Each earlier layer is read by
one pass per neighbouring pair, which returns its activations and the gradients of every
group score at the later layer. Everything is cached, so another group count at one layer
recomputes that layer's groups and the flows that touch it, and new classes cost only the
new classes' gradients.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuron_groups.attribution import (
    DEFAULT_METHOD,
    METHODS,
    Attribution,
    PathGradient,
    Probe,
    attribute_all,
    check_method,
)
from neuron_groups.backends.base import Targets, VisionModel
from neuron_groups.directions import aim
from neuron_groups.errors import ClassNameError, GroupCountError, LayerError, NeuronGroupsError
from neuron_groups.factorization import GroupSource, factorize, one_blas_thread
from neuron_groups.labels import resolve_classes
from neuron_groups.quality import REFITS, explained_variance, explained_variance_by_count, stability
from neuron_groups.result import LayerGroups, NeuronGroupsResult, Pair

DEFAULT_LAYER = "mixed4d"
DEFAULT_GROUPS = 6
TOP_K = 5
"""How many best classes the attribution table shows when no classes are asked for."""

MAX_LAYERS = 4
"""The most layers one analysis takes."""

WHY_MAX_LAYERS = (
    "one column of group tiles per layer must fit a notebook's width, and each layer's "
    "icons cost about a minute on a CPU"
)


# -- checks before any work ----------------------------------------------------------------------


def check_layers(model: VisionModel, layers: str | Sequence[str]) -> list[str]:
    """Return the canonical names of ``layers`` (one name, or a list) after checking them.

    Nothing is read.

    Raises
    ------
    LayerError
        Not a name or a list of 1..MAX_LAYERS names; an unknown name; a layer without a
        spatial extent; a layer given twice; layers not in input-to-output order. Each
        message names the fix.
    """
    names = _layer_list(layers)
    infos = [model.resolve_layer(name) for name in names]  # unknown: LayerError with hints
    for given, info in zip(names, infos, strict=True):
        if not info.spatial:
            raise LayerError(
                f"Layer {given!r} has no spatial extent (shape {info.shape}) to split into "
                f"groups; choose a convolutional layer such as {_suggest(model, info.name)}."
            )
    canonical = [info.name for info in infos]
    _check_once_each(names, canonical)
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


def _layer_list(layers: Any) -> list[str]:
    if isinstance(layers, str):
        return [layers]
    if not isinstance(layers, Sequence) or not all(isinstance(n, str) for n in layers):
        raise LayerError(
            f"layer is a name, or a list of names input to output; got {layers!r}. "
            "Write e.g. layer='mixed4d' or layer=['mixed4a', 'mixed4d']."
        )
    names = list(layers)
    if not names:
        raise LayerError("layer is an empty list; give one name or more, e.g. 'mixed4d'.")
    if len(names) > MAX_LAYERS:
        raise LayerError(
            f"At most {MAX_LAYERS} layers at once; got {len(names)}: {WHY_MAX_LAYERS}. "
            f"Choose {MAX_LAYERS} or fewer of {names}."
        )
    return names


def _check_once_each(names: list[str], canonical: list[str]) -> None:
    for name in canonical:
        spelled = [given for given, c in zip(names, canonical, strict=True) if c == name]
        if len(spelled) > 1:
            once = list(dict.fromkeys(canonical))
            raise LayerError(
                f"Layer {name!r} is given {len(spelled)} times ({', '.join(map(repr, spelled))}); "
                f"give each layer once: {once}."
            )


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


def check_counts(
    n_groups: Any, layers: Sequence[str], fixed: dict[str, int] | None = None
) -> list[int]:
    """One group count per layer: None (the defaults), a number for all, or one per layer.

    ``fixed`` maps the layers whose groups are given (shared groups) to their counts: None
    takes them, and a number for all layers applies only to the others.

    Raises
    ------
    GroupCountError
        A list of another length, or a count that is not a whole number of at least 1.
    """
    fixed = fixed or {}
    if n_groups is None:
        counts = [fixed.get(layer, DEFAULT_GROUPS) for layer in layers]
    elif _is_whole(n_groups):
        counts = [fixed.get(layer, int(n_groups)) for layer in layers]
        if len(layers) == 1:
            counts = [int(n_groups)]  # one layer: a count other than the fixed one is refused
    elif isinstance(n_groups, Sequence) and not isinstance(n_groups, str):
        counts = list(n_groups)
        if len(counts) != len(layers):
            example = ", ".join(str(fixed.get(layer, DEFAULT_GROUPS)) for layer in layers)
            raise GroupCountError(
                f"n_groups has {len(counts)} count{'s' * (len(counts) != 1)} for "
                f"{len(layers)} layer{'s' * (len(layers) != 1)} ({', '.join(layers)}); give "
                f"one count per layer, e.g. n_groups=[{example}], or one number for all."
            )
    else:
        raise GroupCountError(f"n_groups is a number, or one number per layer; got {n_groups!r}.")
    for layer, count in zip(layers, counts, strict=True):
        if not _is_whole(count) or count < 1:
            raise GroupCountError(
                f"The number of groups at {layer!r} is a whole number of at least 1; got {count!r}."
            )
    return [int(c) for c in counts]


def given_counts(model: VisionModel, method: Any, layers: Sequence[str]) -> dict[str, int]:
    """The layer and count of given groups (checked against the model and layers), if any."""
    if not isinstance(method, GroupSource):
        return {}
    if method.layer not in layers:
        raise LayerError(
            f"The groups given were fitted at {method.layer!r}, which is not read here "
            f"({', '.join(layers)}): a group is a direction in its layer's channels. "
            f"Read layer={method.layer!r}."
        )
    method.check_model(model, method.layer)
    return {method.layer: method.n_groups}


def _is_whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _warn_if_unreached(grads: np.ndarray, layer: str, model_name: str) -> None:
    """Warn when no target depends on the layer's positions: every table would be zero."""
    if grads.size and not np.any(grads):
        warnings.warn(
            f"No target of {model_name!r} depends on the positions of {layer!r} (every "
            "gradient there is zero), so every attribution is 0. At a Vision Transformer's "
            "last block, the output is read from the class token and the patch tokens no "
            "longer reach it: read an earlier block.",
            stacklevel=3,
        )


def unit_directions(channel: np.ndarray) -> np.ndarray:
    """Channel factors (n, C) divided by their norms: the directions of the group scores."""
    norms = np.linalg.norm(channel, axis=1, keepdims=True)  # (n, 1)
    return (channel / np.maximum(norms, 1e-12)).astype(np.float32)  # (n, C)


# -- the reading -----------------------------------------------------------------------------------


class ImageReading:
    """One image read at one or more layers; the groups, class table and flows found there.

    Parameters
    ----------
    model : VisionModel
    image : ndarray, shape (H, W, 3)
        RGB floats in [0, 1].
    layers : str or list of str
        One spatial layer, or 1..MAX_LAYERS of them input to output.
    classes : list of str or int, or dict, optional
        Classes for the last layer's table (default: the top 5), read in the first pass.
        For a model without a classifier, directions in its embedding (a dict of vectors,
        or texts for CLIP): see :func:`~neuron_groups.directions.aim`.
    target_image : image, optional
        For a model without a classifier: another image, whose embedding is a direction.
    """

    def __init__(
        self,
        model: VisionModel,
        image: np.ndarray,
        layers: str | Sequence[str],
        classes: Sequence[str | int] | None = None,
        target_image: Any = None,
    ):
        model, classes = aim(model, classes, target_image)  # directions become classes
        self.model = model
        self.image = image
        self.layers = check_layers(model, layers)
        asked = self._resolve_names(classes)
        top = Targets.top_classes(min(TOP_K, model.n_classes))
        targets = top if asked is None else Targets.classes(asked)
        readout = model.read(image, self.layer, targets)  # the class pass
        _warn_if_unreached(readout.grads, self.layer, model.name)
        self.acts: dict[str, np.ndarray] = {self.layer: readout.acts}  # (h, w, C) each
        self.logits = readout.logits  # (K,)
        self._class_grads: dict[int, np.ndarray] = dict(
            zip((int(t) for t in readout.targets), readout.grads, strict=True)
        )  # class: (h, w, C)
        self._paths: dict[int, PathGradient] = {}  # class: its path-averaged gradient (1, ...)
        self._flow_probes: dict[tuple[str, str, int], Probe] = {}  # scores of B's groups at A
        self._groups: dict[tuple[str, int], LayerGroups] = {}
        self._flows: dict[tuple[str, int, str, int], dict[str, Attribution]] = {}
        self._method_key: Any = None
        self._method: Any = None
        self._lock = threading.RLock()  # a widget measures in the background

    @property
    def layer(self) -> str:
        """The last layer: the one the classes attach to."""
        return self.layers[-1]

    # -- classes ---------------------------------------------------------------------------
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
        """D logit / d activations at the last layer, (k, h, w, C); cached per class."""
        missing = [i for i in dict.fromkeys(class_indices) if i not in self._class_grads]
        if missing:
            readout = self.model.read(self.image, self.layer, Targets.classes(missing))
            self._class_grads.update(zip(missing, readout.grads, strict=True))
        if not class_indices:
            return np.zeros((0, *self.acts[self.layer].shape), np.float32)
        return np.stack([self._class_grads[i] for i in class_indices])

    def class_probe(self, class_indices: Sequence[int], paths: bool = True) -> Probe:
        """The passes for these classes' tables at the last layer, cached per class.

        ``paths``: integrate the path gradients now (else only when a table needs them).
        """
        if not paths:
            return self._probe(
                self.layer, Targets.classes(class_indices), self.gradients(class_indices)
            )
        missing = [i for i in dict.fromkeys(class_indices) if i not in self._paths]
        if missing:
            found = self._probe(self.layer, Targets.classes(missing)).path_gradient()
            for row, index in enumerate(missing):
                self._paths[index] = PathGradient(
                    found.mean[row : row + 1], found.change[row : row + 1], found.steps
                )
        paths = [self._paths[i] for i in class_indices]
        acts = self.acts[self.layer]
        path = PathGradient(
            np.concatenate([p.mean for p in paths]) if paths else np.zeros((0, *acts.shape)),
            np.concatenate([p.change for p in paths]) if paths else np.zeros(0),
            max((p.steps for p in paths), default=0),
        )
        return self._probe(
            self.layer, Targets.classes(class_indices), self.gradients(class_indices), path
        )

    def _probe(self, layer: str, targets: Targets, gradients=None, path=None) -> Probe:
        return Probe(self.model, self.image, layer, self.acts[layer], targets, gradients, path)

    # -- flows -----------------------------------------------------------------------------
    def flow_probe(self, layer: str, later: LayerGroups) -> Probe:
        """The passes for the scores of ``later``'s groups at ``layer``; cached.

        One :meth:`~neuron_groups.backends.base.VisionModel.read` per (layer, later groups)
        gives the gradients of every score (n_B, h, w, C) and keeps the activations at
        ``layer``.
        """
        key = (layer, later.layer, later.n_groups)
        if key not in self._flow_probes:
            targets = Targets.directions(later.layer, unit_directions(later.channel))
            readout = self.model.read(self.image, layer, targets)
            self.acts[layer] = readout.acts  # (h, w, C)
            self._flow_probes[key] = self._probe(layer, targets, readout.grads)  # (n_B, ...)
        return self._flow_probes[key]

    def _flow(
        self, a: LayerGroups, b: LayerGroups, methods: Sequence[str]
    ) -> dict[str, Attribution]:
        """The methods' flows from a's groups to b's, tables (n_B, n_A); cached."""
        found = self._flows.setdefault((a.layer, a.n_groups, b.layer, b.n_groups), {})
        missing = [m for m in methods if m not in found]
        if missing:
            probe = self.flow_probe(a.layer, b)
            found.update(attribute_all(probe, a.spatial, a.channel, missing))
        return found

    # -- the analysis ----------------------------------------------------------------------
    def analyze(
        self,
        n_groups: int | Sequence[int] | None = None,
        classes: Sequence[str | int] | None = None,
        method: Any = "nmf",
        seed: int | None = 0,
        attribution: str = DEFAULT_METHOD,
        methods: Sequence[str] = tuple(METHODS),
    ) -> NeuronGroupsResult:
        """Groups at every layer, the classes at the last, the flows and every table.

        Parameters
        ----------
        n_groups : int, list of int or None
            One count for every layer, or one per layer (input to output); None: 6, or the
            count of given groups.
        classes : list of str or int, optional
            Classes for the last layer's table (default: the top 5).
        method : str, sklearn estimator or GroupSource
            Factorization (default NMF). Given groups (a
            :class:`~neuron_groups.factorization.GroupSource` such as
            :class:`~neuron_groups.datasets.SharedGroups`) are used at their layer, which must
            be one of the layers read; the other layers get NMF.
        seed : int or None
            Seed of the factorization.
        attribution : str
            The method ``attributions`` and ``flows`` show (every method is computed and
            kept in ``tables`` and ``flow_tables``): ``"integrated"`` (default),
            ``"linear"`` (the article's) or ``"ablation"``.
        methods : sequence of str
            The methods computed (default: all); ``attribution`` must be one of them. Fewer
            cost less where many images are read for one number (the gallery's classes).

        The explained variance of each layer is measured too; the curve over counts and the
        stability take longer and come from :meth:`measure`.
        """
        with one_blas_thread():  # numpy beside the framework's threads: see one_blas_thread
            return self._analyze(n_groups, classes, method, seed, attribution, methods)

    def _analyze(self, n_groups, classes, method, seed, attribution, methods) -> NeuronGroupsResult:
        methods = [check_method(m) for m in methods]
        if check_method(attribution) not in methods:
            raise NeuronGroupsError(
                f"attribution={attribution!r} is not among the methods computed {methods}."
            )
        counts = check_counts(n_groups, self.layers, given_counts(self.model, method, self.layers))
        class_indices = self.resolve(classes)  # fail on a bad class before any work
        self._forget_if_changed(method, seed)
        groups = {self.layer: self._layer_groups(self.layer, counts[-1], method, seed)}
        flows: dict[Pair, dict[str, Attribution]] = {}
        for i in reversed(range(len(self.layers) - 1)):  # output to input: B before A
            a, b = self.layers[i], self.layers[i + 1]
            self.flow_probe(a, groups[b])  # reads the activations at a
            groups[a] = self._layer_groups(a, counts[i], method, seed)
            flows[(a, b)] = self._flow(groups[a], groups[b], methods)
        last = groups[self.layer]
        tables = self._class_tables(class_indices, last, methods)
        pairs = list(reversed(flows))
        result = NeuronGroupsResult(
            image=self.image,
            groups=[groups[layer] for layer in self.layers],
            attributions=tables[attribution].table,
            classes=[self.class_name(i) for i in class_indices],
            class_indices=np.asarray(class_indices, dtype=np.int64),
            logits=self.logits.astype(np.float32),
            top5=[self.class_name(i) for i in self.top_classes()],
            model_name=self.model.name,
            attribution_method=attribution,
            tables={name: found.table for name, found in tables.items()},
            rest=tables["integrated"].rest if "integrated" in tables else None,
            flow_tables=_flow_tables(flows, pairs, methods),
            flow_rest={p: flows[p]["integrated"].rest for p in pairs if "integrated" in methods},
        )
        return result.use(attribution)

    def _class_tables(
        self, class_indices: list[int], last: LayerGroups, methods: Sequence[str]
    ) -> dict[str, Attribution]:
        if not class_indices:
            empty = np.zeros((0, last.n_groups), np.float32)
            return {name: Attribution(empty, np.zeros(0, np.float32)) for name in methods}
        probe = self.class_probe(class_indices, paths="integrated" in methods)
        return attribute_all(probe, last.spatial, last.channel, methods)

    def measure(self, result: NeuronGroupsResult, refits: int = REFITS) -> NeuronGroupsResult:
        """Add each layer's explained variance over counts and its groups' stability.

        The curve factorizes each count from 1 to the most allowed (cached, so the widget's
        count control is instant afterwards); the stability refits ``refits`` times. Given
        groups keep the stability they came with (shared groups: split-half over their
        images) and have no curve.
        """
        with one_blas_thread():  # the framework's threads may still hold the cores
            for groups in result.groups.values():
                self._measure_layer(groups, refits)
        return result

    def _measure_layer(self, groups: LayerGroups, refits: int) -> None:
        if groups.explained_variance_by_k is None and not self._is_given(groups.layer):
            acts = self.acts[groups.layer]
            groups.explained_variance_by_k = explained_variance_by_count(
                acts, known=lambda k, layer=groups.layer: self._cached(layer, k)
            )
        if groups.stability is None:
            groups.stability = self._stability(groups, refits)

    def _stability(self, groups: LayerGroups, refits: int) -> np.ndarray | None:
        if self._is_given(groups.layer):
            return getattr(self._method, "stability", None)
        seed = self._method_key[1] or 0
        return stability(self.acts[groups.layer], groups.channel, refits, seed=seed)

    def _is_given(self, layer: str) -> bool:
        return isinstance(self._method, GroupSource) and self._method.layer == layer

    def _cached(self, layer: str, n: int) -> LayerGroups:
        return self._layer_groups(layer, n, self._method, self._method_key[1])

    def _forget_if_changed(self, method: Any, seed: int | None) -> None:
        key = (method if isinstance(method, str) else id(method), seed)
        if key != self._method_key:
            self._groups.clear()
            self._flow_probes.clear()
            self._flows.clear()
            self._method_key = key
            self._method = method

    def _layer_groups(self, layer: str, n: int, method: Any, seed: int | None) -> LayerGroups:
        key = (layer, n)
        with self._lock:
            return self._groups.get(key) or self._new_groups(key, method, seed)

    def _new_groups(self, key: tuple[str, int], method: Any, seed: int | None) -> LayerGroups:
        layer, n = key
        here = method if not isinstance(method, GroupSource) or method.layer == layer else "nmf"
        acts = self.acts[layer]
        found = factorize(acts, n, method=here, seed=seed, layer=layer)
        self._groups[key] = LayerGroups(
            layer=layer,
            spatial=found.spatial,
            channel=found.channel,
            method=found.method,
            reconstruction_error=found.error,
            explained_variance=explained_variance(acts, found.spatial, found.channel),
        )
        return self._groups[key]


def _flow_tables(
    flows: dict[Pair, dict[str, Attribution]], pairs: list[Pair], methods: Sequence[str]
) -> dict[str, dict[Pair, np.ndarray]]:
    """Each method's flows by pair, (n_A, n_B) each; {} for one layer."""
    if not pairs:
        return {}
    return {name: {pair: flows[pair][name].table.T.copy() for pair in pairs} for name in methods}
