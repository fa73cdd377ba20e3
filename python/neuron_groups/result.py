"""The result of a neuron-groups analysis (one layer or several), and its ``.npz`` format.

One type for every mode: a :class:`NeuronGroupsResult` holds the groups of each layer read
(:class:`LayerGroups`, input to output), the class table of the last layer, and the flows
between neighbouring layers (none for one layer). The last layer's fields are also reachable
directly (``result.spatial``, ``result.icons``), since most uses look at one layer.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from neuron_groups.errors import NeuronGroupsError
from neuron_groups.files import read_npz, save_npz

Pair = tuple[str, str]
"""Two neighbouring layers (earlier, later)."""


@dataclasses.dataclass(repr=False)
class LayerGroups:
    """The groups found at one layer.

    Attributes
    ----------
    layer : str
        Canonical name of the layer.
    spatial : ndarray, shape (n, h, w)
        Where each group is present, ordered left to right.
    channel : ndarray, shape (n, C)
        Each group's direction over the layer's channels.
    method : str
        The factorization's name (``"NMF"``, ``"SignSplitNMF"``, shared groups...).
    reconstruction_error : float
        Relative error ``|a - R| / |a|`` of the factorization.
    icons : ndarray, shape (n, S, S, 3), or None
        Feature visualization of each group, floats in [0, 1], once rendered.
    explained_variance : float
        ``1 - |a - R|^2 / |a|^2`` of the image's activations (see :mod:`neuron_groups.quality`).
    explained_variance_by_k : ndarray, shape (K,), or None
        The same for 1..K groups (entry k-1), once measured.
    stability : ndarray, shape (n,), or None
        Each group's mean matched cosine over refits, in [0, 1], once measured.
    """

    layer: str
    spatial: np.ndarray
    channel: np.ndarray
    method: str = "NMF"
    reconstruction_error: float = float("nan")
    icons: np.ndarray | None = None
    explained_variance: float = float("nan")
    explained_variance_by_k: np.ndarray | None = None
    stability: np.ndarray | None = None

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.spatial.shape[0])

    def __repr__(self) -> str:
        h, w = self.spatial.shape[1:]
        return f"LayerGroups({self.layer!r}, {self.n_groups} groups on {h}x{w})"


@dataclasses.dataclass(repr=False)
class NeuronGroupsResult:
    """Everything the analysis of one image at one or more layers found.

    Attributes
    ----------
    image : ndarray, shape (H, W, 3)
        The input image, RGB floats in [0, 1].
    groups : dict of str to LayerGroups
        Each layer's groups, input to output (a list is accepted and keyed by layer).
    attributions : ndarray, shape (k, n)
        Effect of each group of the last layer on each class's logit, by the chosen method
        (``tables[attribution_method]``).
    classes : list of str
        Names of the k attributed classes (rows of ``attributions``).
    class_indices : ndarray, shape (k,)
        Their logit indices.
    logits : ndarray, shape (K,)
        The model's pre-softmax scores for the image.
    top5 : list of str
        Names of the five highest-scoring classes, best first.
    flows : dict of (str, str) to ndarray, shape (n_A, n_B)
        ``flows[(A, B)][a, b]``: the flow from group a at A to group b at the next layer
        B, by the chosen method; empty for one layer.
    model_name : str
    attribution_method : str
        The method of ``attributions`` and ``flows`` (see :mod:`neuron_groups.attribution`).
    tables : dict of str to ndarray, shape (k, n)
        Every method's class table, by method (``"integrated"``, ``"linear"``,
        ``"ablation"``).
    rest : ndarray, shape (k,), or None
        Integrated gradients' rest: each class's evidence the groups do not explain.
    flow_tables : dict of str to dict of (str, str) to ndarray
        Every method's flows.
    flow_rest : dict of (str, str) to ndarray, shape (n_B,)
        Integrated gradients' rest of each later group's score.
    """

    image: np.ndarray
    groups: dict[str, LayerGroups]
    attributions: np.ndarray
    classes: list[str]
    class_indices: np.ndarray
    logits: np.ndarray
    top5: list[str]
    flows: dict[Pair, np.ndarray] = dataclasses.field(default_factory=dict)
    model_name: str = "inceptionv1"
    attribution_method: str = "linear"
    tables: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    rest: np.ndarray | None = None
    flow_tables: dict[str, dict[Pair, np.ndarray]] = dataclasses.field(default_factory=dict)
    flow_rest: dict[Pair, np.ndarray] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.groups, Mapping):
            self.groups = {groups.layer: groups for groups in self.groups}
        if not self.groups:
            raise ValueError("A result has the groups of at least one layer.")
        self.tables.setdefault(self.attribution_method, self.attributions)
        if self.flows:
            self.flow_tables.setdefault(self.attribution_method, self.flows)

    def use(self, method: str) -> NeuronGroupsResult:
        """Show ``method``'s table and flows as ``attributions`` and ``flows``; returns self.

        Every method is computed with the result, so switching costs nothing.
        """
        if method not in self.tables:
            raise NeuronGroupsError(
                f"This result has no {method!r} table; it has {', '.join(self.tables)}."
            )
        self.attribution_method = method
        self.attributions = self.tables[method]
        self.flows = self.flow_tables.get(method, {})
        return self

    # -- the layers ----------------------------------------------------------------------
    @property
    def layers(self) -> list[str]:
        """Canonical layer names, input to output."""
        return list(self.groups)

    @property
    def last(self) -> LayerGroups:
        """The last layer's groups (the one the classes attach to)."""
        return self.groups[self.layers[-1]]

    @property
    def pairs(self) -> list[Pair]:
        """The neighbouring pairs of layers, input to output."""
        return list(itertools.pairwise(self.layers))

    @property
    def counts(self) -> list[int]:
        """The number of groups at each layer, input to output."""
        return [groups.n_groups for groups in self.groups.values()]

    # -- the last layer, directly ----------------------------------------------------------
    @property
    def layer(self) -> str:
        """The last layer's name."""
        return self.last.layer

    @property
    def spatial(self) -> np.ndarray:
        """The last layer's spatial factors, (n, h, w)."""
        return self.last.spatial

    @property
    def channel(self) -> np.ndarray:
        """The last layer's channel factors, (n, C)."""
        return self.last.channel

    @property
    def icons(self) -> np.ndarray | None:
        """The last layer's icons, (n, S, S, 3), or None."""
        return self.last.icons

    @icons.setter
    def icons(self, value: np.ndarray | None) -> None:
        self.last.icons = value

    @property
    def method(self) -> str:
        """The last layer's factorization."""
        return self.last.method

    @property
    def reconstruction_error(self) -> float:
        """The last layer's relative reconstruction error."""
        return self.last.reconstruction_error

    @property
    def n_groups(self) -> int:
        """The number of groups at the last layer."""
        return self.last.n_groups

    # -- the classes -----------------------------------------------------------------------
    @property
    def probabilities(self) -> np.ndarray:
        """Softmax of the logits, shape (K,)."""
        shifted = np.exp(self.logits - self.logits.max())
        return shifted / shifted.sum()

    @property
    def top5_indices(self) -> np.ndarray:
        """Logit indices of the top five classes, best first."""
        return np.argsort(-self.logits, kind="stable")[:5]

    def __repr__(self) -> str:
        chain = " -> ".join(
            "{} ({} groups on {}x{})".format(g.layer, g.n_groups, *g.spatial.shape[1:])
            for g in self.groups.values()
        )
        done = sum(g.icons is not None for g in self.groups.values())
        icons = (
            f"{done} of {len(self.groups)} layers"
            if len(self.groups) > 1
            else ("none" if self.icons is None else "{} of {}x{}".format(*self.icons.shape[:3]))
        )
        return (
            f"NeuronGroupsResult(model={self.model_name!r}, {chain}, "
            f"classes={list(self.classes)!r}, top1={self.top5[0] if self.top5 else None!r}, "
            f"icons: {icons})"
        )

    # -- text ------------------------------------------------------------------------------
    def attribution_table(self, digits: int = 3) -> str:
        """The class x group table of the chosen method as aligned text (with its rest)."""
        width = max([len(c) for c in self.classes] + [5])
        rest = self.rest if self.attribution_method == "integrated" else None
        header = " " * width + "".join(f"{'group ' + str(g):>10}" for g in range(self.n_groups))
        header += f"{'rest':>10}" if rest is not None else ""
        rows = []
        for row, (name, values) in enumerate(zip(self.classes, self.attributions, strict=True)):
            cells = "".join(f"{v:>10.{digits}f}" for v in values)
            cells += f"{rest[row]:>10.{digits}f}" if rest is not None else ""
            rows.append(f"{name:<{width}}{cells}")
        return "\n".join([header, *rows])

    def top5_table(self) -> str:
        """The five best classes with their probabilities and logits, as text."""
        probs = self.probabilities
        return "\n".join(
            f"{rank}. {name:<28} p={probs[i]:.3f}  logit={self.logits[i]:.2f}"
            for rank, (name, i) in enumerate(zip(self.top5, self.top5_indices, strict=True), 1)
        )

    def flow_table(self, pair: Pair | None = None, top: int = 10, digits: int = 3) -> str:
        """The largest flows of one pair of layers (default the first), by size, as text."""
        if not self.flows:
            raise NeuronGroupsError("A result of one layer has no flows; read two or more.")
        a, b = self.pairs[0] if pair is None else pair
        values = self.flows[(a, b)]  # (n_A, n_B)
        order = np.argsort(-np.abs(values), axis=None, kind="stable")[:top]
        width = max(len(a), len(b)) + 4
        rows = [f"{'from':<{width}}{'to':<{width}}{'flow':>10}"]
        for flat in order:
            i, j = np.unravel_index(flat, values.shape)
            rows.append(f"{f'{a} {i}':<{width}}{f'{b} {j}':<{width}}{values[i, j]:>10.{digits}f}")
        return "\n".join(rows)

    # -- files -----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the result to a compressed ``.npz`` that loads with ``allow_pickle=False``."""
        return save_npz(path, self.to_arrays())

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays :meth:`save` writes, by key.

        The last layer under the keys of a one-layer file (``spatial``, ``channel``,
        ``icons``...), ``layers`` (input to output), and for several layers each layer's
        ``spatial_<layer>``, ``channel_<layer>``, ``method_<layer>``,
        ``reconstruction_error_<layer>`` and ``icons_<layer>``, and ``flow_<A>_<B>``.
        """
        last = self.last
        arrays = {
            "image": self.image.astype(np.float32),
            "attributions": self.attributions.astype(np.float32),
            "attribution_method": np.array(self.attribution_method),
            **{f"{TABLE_KEYS[m]}": t.astype(np.float32) for m, t in self.tables.items()},
            "classes": np.array(self.classes, dtype=str),
            "class_indices": np.asarray(self.class_indices, dtype=np.int64),
            "logits": self.logits.astype(np.float32),
            "top5": np.array(self.top5, dtype=str),
            "layer": np.array(last.layer),
            "model_name": np.array(self.model_name),
            "layers": np.array(self.layers, dtype=str),
            **_layer_arrays(last, suffix=""),
        }
        if self.rest is not None:
            arrays["attributions_rest"] = self.rest.astype(np.float32)
        if len(self.groups) > 1:
            for groups in self.groups.values():
                arrays.update(_layer_arrays(groups, suffix=f"_{groups.layer}"))
            for (a, b), values in self.flows.items():
                arrays[f"flow_{a}_{b}"] = values.astype(np.float32)
            for method, flows in self.flow_tables.items():
                for (a, b), values in flows.items():
                    arrays[f"flow_{method}_{a}_{b}"] = values.astype(np.float32)
            for (a, b), values in self.flow_rest.items():
                arrays[f"flow_rest_{a}_{b}"] = values.astype(np.float32)
        return arrays


TABLE_KEYS = {
    "linear": "attributions_linear",
    "integrated": "attributions_integrated",
    "ablation": "effects_ablation",
}
"""The saved key of each method's class table."""

OPTIONAL_LAYER_KEYS = ("icons", "explained_variance_by_k", "stability")


def _layer_arrays(groups: LayerGroups, suffix: str) -> dict[str, np.ndarray]:
    arrays = {
        f"spatial{suffix}": groups.spatial.astype(np.float32),
        f"channel{suffix}": groups.channel.astype(np.float32),
        f"method{suffix}": np.array(groups.method),
        f"reconstruction_error{suffix}": np.array(groups.reconstruction_error, np.float64),
        f"explained_variance{suffix}": np.array(groups.explained_variance, np.float64),
    }
    for key in OPTIONAL_LAYER_KEYS:
        value = getattr(groups, key)
        if value is not None:
            arrays[f"{key}{suffix}"] = value.astype(np.float32)
    return arrays


def load(path: str | os.PathLike) -> NeuronGroupsResult:
    """Read a result written by :meth:`NeuronGroupsResult.save`, every layer of it.

    Files of one layer written before results had ``layers`` load too.
    """
    return from_arrays(read_npz(path, "a neuron-groups result"), path)


REQUIRED = ("image", "spatial", "channel", "attributions", "classes", "logits")
"""The keys every saved result has."""


def from_arrays(fields: Mapping[str, np.ndarray], path: str | os.PathLike) -> NeuronGroupsResult:
    """The result that :meth:`NeuronGroupsResult.to_arrays` wrote (``path``: for messages)."""
    missing = [key for key in REQUIRED if key not in fields]
    if missing:
        raise NeuronGroupsError(f"{path} is not a neuron-groups result: no {missing}.")
    last = str(fields.get("layer", ""))
    layers = [str(layer) for layer in fields.get("layers", [last])]
    if len(layers) > 1:
        _require_layer_keys(fields, layers, path)
    groups = [
        _layer_groups(fields, layer, "" if layer == layers[-1] else f"_{layer}") for layer in layers
    ]
    pairs = list(itertools.pairwise(layers))
    return NeuronGroupsResult(
        image=fields["image"],
        groups=groups,
        attributions=fields["attributions"],
        classes=[str(c) for c in fields["classes"]],
        class_indices=fields.get("class_indices", np.zeros(0, np.int64)),
        logits=fields["logits"],
        top5=[str(c) for c in fields.get("top5", [])],
        flows={(a, b): fields[f"flow_{a}_{b}"] for a, b in pairs},
        model_name=str(fields.get("model_name", "")),
        # Files from before the other methods hold the article's linear attribution.
        attribution_method=str(fields.get("attribution_method", "linear")),
        tables={m: fields[key] for m, key in TABLE_KEYS.items() if key in fields},
        rest=fields.get("attributions_rest"),
        flow_tables=_saved_flow_tables(fields, pairs),
        flow_rest={
            (a, b): fields[f"flow_rest_{a}_{b}"] for a, b in pairs if f"flow_rest_{a}_{b}" in fields
        },
    )


def _saved_flow_tables(
    fields: Mapping[str, np.ndarray], pairs: list[Pair]
) -> dict[str, dict[Pair, np.ndarray]]:
    return {
        method: {(a, b): fields[f"flow_{method}_{a}_{b}"] for a, b in pairs}
        for method in TABLE_KEYS
        if pairs and all(f"flow_{method}_{a}_{b}" in fields for a, b in pairs)
    }


def _require_layer_keys(fields: Mapping[str, np.ndarray], layers: list[str], path) -> None:
    needed = [f"{kind}_{layer}" for layer in layers[:-1] for kind in ("spatial", "channel")]
    needed += [f"flow_{a}_{b}" for a, b in itertools.pairwise(layers)]
    missing = [key for key in needed if key not in fields]
    if missing:
        raise NeuronGroupsError(f"{path} is not a whole multi-layer result: no {missing}.")


def _layer_groups(fields: Mapping[str, np.ndarray], layer: str, suffix: str) -> LayerGroups:
    # Files of several layers written before the per-layer method and error were saved give
    # the earlier layers the last layer's method and an unknown error.
    method = fields.get(f"method{suffix}", fields.get("method", ""))
    return LayerGroups(
        layer=layer,
        spatial=fields[f"spatial{suffix}"],
        channel=fields[f"channel{suffix}"],
        method=str(method),
        reconstruction_error=float(fields.get(f"reconstruction_error{suffix}", np.nan)),
        icons=fields.get(f"icons{suffix}"),
        explained_variance=float(fields.get(f"explained_variance{suffix}", np.nan)),
        explained_variance_by_k=fields.get(f"explained_variance_by_k{suffix}"),
        stability=fields.get(f"stability{suffix}"),
    )
