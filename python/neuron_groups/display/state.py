"""The one description of what the front end reads, and how it is built from a result.

:class:`ViewState` declares every synced trait of the front-end contract (name, type,
default, and in its help the shape and dtype); :class:`~neuron_groups.display.widget.
GroupWidget` inherits them, the standalone page sends the same names as JSON, and
``js/widget.js`` exports the same list as ``FIELDS`` (a test compares the two). The traits
the gallery shares with it (title, status, icons, colours...) are declared once, in
:class:`WidgetState`, the base of both.

The functions below build those values straight from a
:class:`~neuron_groups.result.NeuronGroupsResult`. Colours travel once, as numbers
(``[r, g, b]``, 0..255). :func:`format_value`, :func:`attribution_color`,
:func:`text_color` and :func:`group_map` compute what ``formatValue``,
``attributionColor``, ``textColor`` and ``groupMapPixels`` compute in ``js/widget.js``;
a test runs both on the same inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import traitlets
from scipy.optimize import linear_sum_assignment

from neuron_groups.attribution import METHODS, sign_disagreements
from neuron_groups.images import png_bytes
from neuron_groups.peak_crops import peak_crops
from neuron_groups.reading import DEFAULT_GROUPS, DEFAULT_LAYER
from neuron_groups.result import LayerGroups, NeuronGroupsResult

STATUSES = ("loading", "computing", "optimizing", "ready", "stopped", "error")
"""What the kernel may be doing (the ``status`` trait)."""

DEFAULT_ICON_SIZE = 80
"""Icon side in pixels when the result has no icons yet."""

RGB = list[int]
"""A colour as ``[r, g, b]``, each an int in 0..255."""


class WidgetState(traitlets.HasTraits):
    """The traits every view syncs: the group view (:class:`ViewState`) and the gallery.

    Both widgets inherit them from here (kernel to front end unless marked "both ways").
    """

    title = traitlets.Unicode("", help="Caption above the figure. Default: ''.").tag(sync=True)
    model_name = traitlets.Unicode("", help="Name of the model. Default: ''.").tag(sync=True)
    layer = traitlets.Unicode(
        DEFAULT_LAYER,
        help="The layer of the groups shown (with several layers, the last). Default: 'mixed4d'.",
    ).tag(sync=True)
    icons = traitlets.List(
        traitlets.Bytes(), [], help="n PNGs, one per group; b'' while pending. Default: []."
    ).tag(sync=True, group=True)
    icon_size = traitlets.Int(DEFAULT_ICON_SIZE, help="Icon side in pixels. Default: 80.").tag(
        sync=True, group=True
    )
    group_colors = traitlets.List(
        traitlets.List(traitlets.Int(), minlen=3, maxlen=3),
        [],
        help="n colours [r, g, b], ints 0..255, one per group. Default: [].",
    ).tag(sync=True, group=True)
    explained_variance = traitlets.Float(
        None,
        allow_none=True,
        help="Share of the activations the groups explain, 1 - |a - R|^2 / |a|^2 (the image's "
        "at the layer; a gallery's: over its dataset, as the fit went); None when unknown. "
        "Default: None.",
    ).tag(sync=True, group=True)
    stability = traitlets.List(
        traitlets.Float(),
        [],
        help="Each group's stability in [0, 1]: its mean matched cosine over refits on "
        "resampled positions (a gallery's: with the fits on the even and the odd batches); "
        "[] until measured. Default: [].",
    ).tag(sync=True, group=True)
    status = traitlets.Enum(
        STATUSES, "computing", help="What the kernel is doing. Default: 'computing'."
    ).tag(sync=True)
    progress = traitlets.Float(
        0.0, help="Progress of the background work (icons...), 0..1. Default: 0."
    ).tag(sync=True)
    progress_text = traitlets.Unicode("", help="Progress in words. Default: ''.").tag(sync=True)
    error = traitlets.Unicode(
        "", help="What failed or was refused; '' when nothing did. Default: ''."
    ).tag(sync=True)
    selected_group = traitlets.Int(
        -1,
        help="Both ways: index of the pinned group (in the layer `selected_layer`, where a "
        "view has it), -1 for none. Default: -1.",
    ).tag(sync=True)


class ViewState(WidgetState):
    """Every value the group view's front end reads (kernel to front end unless marked).

    Synced traits are tagged ``sync=True``; those that change with the number of groups
    also ``group=True``. Bytes travel as binary buffers in the widget and as
    ``{"$base64": ...}`` in a page. The traits shared with the gallery are
    :class:`WidgetState`'s.
    """

    # -- data shown (kernel -> front end) ------------------------------------------------
    image = traitlets.Bytes(b"", help="PNG of the input image. Default: b''.").tag(sync=True)
    spatial = traitlets.Bytes(
        b"",
        help="float32 little-endian, shape (n, h, w): the group maps scaled to [0, 1]. "
        "Default: b''.",
    ).tag(sync=True, group=True)
    spatial_shape = traitlets.List(
        traitlets.Int(), [], help="[n, h, w], the shape of `spatial`. Default: []."
    ).tag(sync=True, group=True)
    attributions = traitlets.Bytes(
        b"",
        help="float32 little-endian, shape (k, n): effect of each group on each class row. "
        "Default: b''.",
    ).tag(sync=True, group=True)
    class_names = traitlets.List(
        traitlets.Unicode(), [], help="The k rows of the table. Default: []."
    ).tag(sync=True, group=True)
    tables = traitlets.Dict(
        value_trait=traitlets.Bytes(),
        default_value={},
        help="Every attribution method's table, by method ('integrated', 'linear', "
        "'ablation'): float32 little-endian (k, n). `attributions` is the one of "
        "`attribution_method`. Default: {}.",
    ).tag(sync=True, group=True)
    rest = traitlets.Bytes(
        b"",
        help="float32 little-endian, shape (k,): integrated gradients' rest, each class's "
        "evidence the groups do not explain; b'' when absent. Default: b''.",
    ).tag(sync=True, group=True)
    disagreements = traitlets.Bytes(
        b"",
        help="uint8, shape (k, n): 1 where the linear attribution's sign is not the measured "
        "effect's on a strong cell (see neuron_groups.attribution.sign_disagreements); b'' "
        "when unknown. Default: b''.",
    ).tag(sync=True, group=True)
    explained_variance_by_k = traitlets.List(
        traitlets.Float(),
        [],
        help="The explained variance for 1, 2, ... groups (entry k-1 for k); [] until "
        "measured (it comes a moment after the table). Default: [].",
    ).tag(sync=True)
    regions = traitlets.List(
        traitlets.Bytes(),
        [],
        help="n PNGs: the image around each group's strongest cell, the cell outlined, shown "
        "while the group's icon is pending. Default: [].",
    ).tag(sync=True, group=True)
    class_options = traitlets.List(
        traitlets.Unicode(),
        [],
        help="Every class name, for the class picker; [] where there is none. Default: [].",
    ).tag(sync=True)
    predictions = traitlets.List(
        traitlets.Dict(),
        [],
        help='Top 5 as {"name": str, "probability": float}, best first. Default: [].',
    ).tag(sync=True)
    n_groups_options = traitlets.List(
        traitlets.Int(),
        [],
        help="The group counts the groups control offers (may be non-contiguous). Default: [].",
    ).tag(sync=True)

    # -- several layers (kernel -> front end); [] in the one-layer view ------------------
    earlier_layers = traitlets.List(
        traitlets.Dict(),
        [],
        help='One dict per layer before the last, input to output: {"layer": str, '
        '"n_groups": int, "n_groups_options": [int], "spatial": bytes float32 little-endian '
        '(n, h, w) in [0, 1], "spatial_shape": [n, h, w], "icons": [PNG bytes or b""], '
        '"group_colors": [[r, g, b], ...], "explained_variance": float or None, '
        '"explained_variance_by_k": [float], "stability": [float], "regions": [PNG bytes]}. '
        "The other fields describe the last layer. Default: [].",
    ).tag(sync=True)
    flows = traitlets.List(
        traitlets.Dict(),
        [],
        help='One dict per neighbouring pair of layers, input to output: {"from": str, '
        '"to": str, "values": bytes float32 little-endian (n_from, n_to) of the method '
        'shown, "shape": [n_from, n_to], "tables": {method: bytes (n_from, n_to)}, "rest": '
        'bytes float32 (n_to,), "disagreements": bytes uint8 (n_from, n_to)}; the last '
        'pair\'s "to" is `layer`. Default: [].',
    ).tag(sync=True)
    image_options = traitlets.List(
        traitlets.Unicode(),
        [],
        help="Names of the example images the image picker offers; [] where there is none. "
        "Default: [].",
    ).tag(sync=True)
    attribution_methods = traitlets.List(
        traitlets.Unicode(),
        [],
        help="The attribution methods the result has, in the order the switch offers them. "
        "Default: [].",
    ).tag(sync=True)

    # -- what the user chooses (both ways) -----------------------------------------------
    n_groups = traitlets.Int(DEFAULT_GROUPS, help="Number of groups. Default: 6.").tag(
        sync=True, group=True
    )
    classes = traitlets.List(
        traitlets.Union([traitlets.Int(), traitlets.Unicode()]),
        [],
        help="Classes asked for, names or indices; [] means the top 5. After a computation, "
        "without repeats, so that classes[i] is the row class_names[i]. Default: [].",
    ).tag(sync=True)
    attribution_method = traitlets.Enum(
        ("integrated", "linear", "ablation"),
        "integrated",
        help="The method the table and the flows show. Default: 'integrated'.",
    ).tag(sync=True)
    layer_groups = traitlets.List(
        traitlets.Int(),
        [],
        help="Number of groups at every layer, input to output (its last entry is n_groups); "
        "[] in the one-layer view. Default: [].",
    ).tag(sync=True)
    selected_layer = traitlets.Unicode(
        "",
        help="Layer of the pinned group; '' means the last layer (`layer`). The pinned group is "
        "(selected_layer, selected_group). Default: ''.",
    ).tag(sync=True)


def _synced(cls: type[traitlets.HasTraits], **metadata: Any) -> tuple[str, ...]:
    # In declaration order, base classes first (each class namespace keeps its order;
    # class_trait_names sorts).
    names: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if (
                isinstance(value, traitlets.TraitType)
                and value.metadata.get("sync")
                and all(value.metadata.get(k) == v for k, v in metadata.items())
            ):
                names[name] = None
    return tuple(names)


FIELDS: tuple[str, ...] = _synced(ViewState)
"""Names of every synced trait, base class first (the names of ``FIELDS`` in ``js/widget.js``)."""

GROUP_FIELDS: tuple[str, ...] = _synced(ViewState, group=True)
"""The fields that change with the number of groups (tagged ``group=True``); a page's
variants carry these (== ``GROUP_FIELDS`` of ``js/widget.js``)."""


# -- colours -----------------------------------------------------------------------------------


def even_hues(n: int) -> list[float]:
    """The original widget's hues: n spaced evenly round the circle, in degrees."""
    return [i * 360.0 / n for i in range(n)]


def _hue_distance(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def _free_hue(used: list[float]) -> float:
    if not used:
        return 0.0
    candidates = np.arange(0.0, 360.0, 5.0)  # (72,)
    gaps = [min(_hue_distance(c, u) for u in used) for c in candidates]
    return float(candidates[int(np.argmax(gaps))])


def stable_hues(
    channel: np.ndarray, previous_channel: np.ndarray | None, previous_hues: list[float] | None
) -> list[float]:
    """Hues for new groups that keep each old group's colour on its closest new group.

    Groups are matched one-to-one by the cosine similarity of their channel factors
    (``channel`` (n, C), ``previous_channel`` (m, C); Hungarian assignment); a match counts
    only if the similarity exceeds 0.5. Unmatched groups get the hue farthest from those
    in use. Without a previous grouping: :func:`even_hues`.
    """
    n = channel.shape[0]
    if previous_channel is None or previous_hues is None:
        return even_hues(n)

    def unit(m: np.ndarray) -> np.ndarray:
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

    similarity = unit(channel) @ unit(previous_channel).T  # (n, m)
    rows, cols = linear_sum_assignment(-similarity)
    hues: list[float | None] = [None] * n
    for new, old in zip(rows, cols, strict=True):
        if similarity[new, old] > 0.5:
            hues[new] = previous_hues[old]
    for i in range(n):
        if hues[i] is None:
            hues[i] = _free_hue([h for h in hues if h is not None])
    return [float(h) for h in hues]


MIN_LUMINANCE = 0.1
"""The least relative luminance of a group colour: 3:1 against the map's black (WCAG 2)."""


def hue_rgb(hue: float) -> RGB:
    """The original widget's colour of a hue, ``hsl(hue, 80%, 50%)``, as [r, g, b] (0..255).

    Hues whose colour would be too dark to read on the black map (blues, about 215..265
    degrees) are lightened, one percent of lightness at a time, until their luminance
    reaches :data:`MIN_LUMINANCE`. Computed exactly (CSS Color 4's ``hsl`` formula on
    fractions), halves rounded up, so that floating-point noise cannot move a channel by one.
    """
    for percent in range(50, 101):
        rgb = _hsl_rgb(hue, Fraction(percent, 100))
        if relative_luminance(rgb) >= MIN_LUMINANCE:
            return rgb
    return rgb


def relative_luminance(rgb: Sequence[int]) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0..255 channels), 0..1."""
    r, g, b = (_linear(float(c)) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _hsl_rgb(hue: float, lightness: Fraction) -> RGB:
    saturation = Fraction(4, 5)
    a = saturation * min(lightness, 1 - lightness)
    h = Fraction(hue) % 360

    def channel(n: int) -> int:
        k = (n + h / 30) % 12
        value = lightness - a * max(-1, min(k - 3, 9 - k, 1))  # 0..1
        return math.floor(value * 255 + Fraction(1, 2))

    return [channel(0), channel(8), channel(4)]


def hue_colors(hues: Sequence[float]) -> list[RGB]:
    """The ``group_colors`` of these hues (one [r, g, b] each)."""
    return [hue_rgb(h) for h in hues]


# -- values from a result ----------------------------------------------------------------------


def display_maps(spatial: np.ndarray) -> np.ndarray:
    """Spatial factors (n, h, w) scaled for display: over their 99th percentile, in [0, 1]."""
    scale = float(np.percentile(spatial, 99))
    if not np.isfinite(scale) or scale <= 0:
        scale = float(np.abs(spatial).max()) or 1.0
    return np.clip(spatial / scale, 0.0, 1.0).astype(np.float32)  # (n, h, w)


def image_png(image: np.ndarray) -> bytes:
    """PNG of the input image (H, W, 3) floats in [0, 1]: the ``image`` field."""
    return png_bytes(image)


def icon_pngs(icons: np.ndarray | None, n: int) -> list[bytes]:
    """The ``icons`` field: PNG of each icon of ``icons`` (n, S, S, 3); b"" where none yet."""
    if icons is None:
        return [b""] * n
    return [png_bytes(icon) for icon in icons]


def predictions(result: NeuronGroupsResult) -> list[dict[str, Any]]:
    """The ``predictions`` field: the top five classes with their probabilities."""
    probs = result.probabilities  # (K,)
    return [
        {"name": name, "probability": round(float(probs[i]), 4)}
        for name, i in zip(result.top5, result.top5_indices, strict=True)
    ]


def group_state(
    result: NeuronGroupsResult, colors: Sequence[RGB], icons: np.ndarray | None = None
) -> dict[str, Any]:
    """The :data:`GROUP_FIELDS` of a result, with these group colours.

    ``icons`` (n, S, S, 3) stands in for ``result.icons`` (e.g. a snapshot while optimizing).
    """
    maps = display_maps(result.spatial)  # (n, h, w) float32
    shown = result.icons if icons is None else icons
    quality = quality_state(result.last)
    return {
        "n_groups": result.n_groups,
        "spatial": maps.astype("<f4").tobytes(),
        "spatial_shape": list(maps.shape),
        "icons": icon_pngs(shown, result.n_groups),
        "icon_size": int(shown.shape[1]) if shown is not None else DEFAULT_ICON_SIZE,
        "attributions": _f4(result.attributions),  # (k, n)
        "class_names": list(result.classes),
        "group_colors": [list(c) for c in colors],
        "tables": {method: _f4(table) for method, table in result.tables.items()},
        "rest": b"" if result.rest is None else _f4(result.rest),
        "disagreements": _disagreements(result.tables),
        "explained_variance": quality["explained_variance"],
        "stability": quality["stability"],
        "regions": region_pngs(result.image, result.spatial),
    }


def _f4(values: np.ndarray) -> bytes:
    return np.asarray(values).astype("<f4").tobytes()


def _disagreements(tables: Mapping[str, np.ndarray]) -> bytes:
    """Where the linear sign is not the measured effect's (uint8 bytes), b'' when unknown."""
    if "linear" not in tables or "ablation" not in tables:
        return b""
    return sign_disagreements(tables["linear"], tables["ablation"]).astype(np.uint8).tobytes()


def quality_state(groups: LayerGroups) -> dict[str, Any]:
    """A layer's explained variance (None when unknown), its curve and its stability."""
    value = groups.explained_variance
    curve = groups.explained_variance_by_k
    return {
        "explained_variance": None if value is None or np.isnan(value) else float(value),
        "explained_variance_by_k": [] if curve is None else [float(v) for v in curve],
        "stability": [] if groups.stability is None else [float(v) for v in groups.stability],
    }


REGION_SIZE = 80
"""Side of a region tile's crop, in image pixels: an icon's."""


def region_pngs(image: np.ndarray, spatial: np.ndarray) -> list[bytes]:
    """A PNG per group: the image around its strongest cell, the cell outlined in white."""
    pngs = []
    for crop in peak_crops(image, spatial, REGION_SIZE):
        pixels = np.array(crop.crop)  # (S, S, 3) floats in [0, 1]
        top, left, bottom, right = (round(v * (REGION_SIZE - 1)) for v in crop.box)
        pixels[top : bottom + 1, [left, right]] = 1.0
        pixels[[top, bottom], left : right + 1] = 1.0
        pngs.append(png_bytes(pixels))
    return pngs


def earlier_layer_state(
    groups: LayerGroups,
    colors: Sequence[RGB],
    options: Sequence[int],
    icons: np.ndarray | None = None,
    image: np.ndarray | None = None,
) -> dict[str, Any]:
    """One entry of ``earlier_layers``: a layer before the last, with these colours.

    ``icons`` (n, S, S, 3) stands in for ``groups.icons`` (e.g. a snapshot while optimizing);
    ``image`` (H, W, 3) gives the region tiles.
    """
    maps = display_maps(groups.spatial)  # (n, h, w) float32
    return {
        "layer": groups.layer,
        "n_groups": groups.n_groups,
        "n_groups_options": [int(n) for n in options],
        "spatial": maps.astype("<f4").tobytes(),
        "spatial_shape": list(maps.shape),
        "icons": icon_pngs(groups.icons if icons is None else icons, groups.n_groups),
        "group_colors": [list(c) for c in colors],
        **quality_state(groups),
        "regions": region_pngs(image, groups.spatial) if image is not None else [],
    }


def flow_state(
    earlier: str,
    later: str,
    values: np.ndarray,
    tables: Mapping[str, np.ndarray] | None = None,
    rest: np.ndarray | None = None,
) -> dict[str, Any]:
    """One entry of ``flows``: the flows (n_from, n_to) from ``earlier`` to ``later``.

    ``tables`` are every method's flows (the ``values`` shown are one of them), ``rest``
    integrated gradients' rest of each later group's score (n_to,).
    """
    values = np.asarray(values, dtype="<f4")  # (n_from, n_to)
    tables = tables or {}
    return {
        "from": earlier,
        "to": later,
        "values": values.tobytes(),
        "shape": list(values.shape),
        "tables": {method: _f4(table) for method, table in tables.items()},
        "rest": b"" if rest is None else _f4(rest),
        "disagreements": _disagreements(tables),
    }


def result_state(
    result: NeuronGroupsResult,
    colors: Mapping[str, Sequence[RGB]],
    options: Mapping[str, Sequence[int]],
    icons: Mapping[str, np.ndarray | None] | None = None,
) -> dict[str, Any]:
    """The fields of :class:`ViewState` that a result of one or more layers determines.

    Not ``image`` (its PNG is encoded only when the image changes) nor the choices.

    Parameters
    ----------
    result : NeuronGroupsResult
    colors : mapping of str to list of [r, g, b]
        Each layer's group colours.
    options : mapping of str to list of int
        Each layer's group counts offered.
    icons : mapping of str to ndarray (n, S, S, 3), optional
        Icons standing in for a layer's own (e.g. a snapshot while optimizing).
    """
    icons = icons or {}
    last = result.layer
    several = len(result.layers) > 1
    return {
        **group_state(result, colors[last], icons.get(last)),
        "predictions": predictions(result),
        "layer": last,
        "model_name": result.model_name,
        "n_groups_options": [int(n) for n in options[last]],
        "earlier_layers": [
            earlier_layer_state(
                result.groups[layer], colors[layer], options[layer], icons.get(layer), result.image
            )
            for layer in result.layers[:-1]
        ],
        "flows": [
            flow_state(
                a,
                b,
                values,
                {method: flows[(a, b)] for method, flows in result.flow_tables.items()},
                result.flow_rest.get((a, b)),
            )
            for (a, b), values in result.flows.items()
        ],
        "layer_groups": result.counts if several else [],
        "attribution_methods": [m for m in METHODS if m in result.tables],
        "explained_variance_by_k": quality_state(result.last)["explained_variance_by_k"],
    }


# -- what both sides compute (mirrors of js/widget.js) --------------------------------------


def _js_number(x: float) -> str:
    # How JavaScript writes a number in a template string (integers without ".0").
    return str(int(x)) if x == int(x) else repr(x)


def format_value(v: float) -> str:
    """A table number as ``formatValue`` writes it: 3 decimals, no "-0.000", "–" if not finite.

    Like JavaScript's ``toFixed``, ties round away from zero on the exact binary value.
    """
    v = float(v)
    if not math.isfinite(v):
        return "–"
    if abs(v) >= 1e21:  # toFixed gives up on fixed notation there
        return repr(v)
    exact = Decimal(v)  # the double's exact binary value
    text = str(exact.quantize(Decimal("0.001"), ROUND_HALF_UP, Context(prec=64)))
    return text[1:] if text.startswith("-") and set(text[1:]) <= {"0", "."} else text


def attribution_color(v: float, max_abs: float) -> str:
    """The CSS background of a table cell (``attributionColor``): blue up, orange down.

    Opacity ``|v| / max_abs * 0.8``, rounded to 3 decimals (half up, as ``Math.round``).
    """
    v, max_abs = float(v), float(max_abs)
    if not math.isfinite(v) or not max_abs > 0 or v == 0:
        return "transparent"
    alpha = math.floor(min(1.0, abs(v) / max_abs) * 0.8 * 1000 + 0.5) / 1000
    rgb = "33, 113, 181" if v > 0 else "230, 85, 13"
    return f"rgba({rgb}, {_js_number(alpha)})"


def _linear(channel: float) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def text_color(rgb: Sequence[int]) -> str:
    """``"#000"`` or ``"#fff"``, whichever contrasts more with ``rgb`` (WCAG 2 contrast)."""
    luminance = relative_luminance(rgb)
    on_black = (luminance + 0.05) / 0.05
    on_white = 1.05 / (luminance + 0.05)
    return "#000" if on_black >= on_white else "#fff"


def group_map(spatial: np.ndarray, colors: Sequence[Sequence[int]]) -> np.ndarray:
    """The all-groups map as ``groupMapPixels`` draws it, uint8 of shape (h, w, 3).

    Each group's colour is scaled by its value clamped to [0, 1] (NaN as 0), rounded half to
    even as a ``Uint8ClampedArray`` stores it; the lightest value wins per channel.
    """
    values = np.asarray(spatial, dtype=np.float64)  # (n, h, w)
    with np.errstate(invalid="ignore"):
        values = np.where(values > 0, np.minimum(values, 1.0), 0.0)
    if values.shape[0] == 0:
        return np.zeros((*values.shape[1:], 3), np.uint8)
    rgb = np.asarray(colors, dtype=np.float64)[: values.shape[0], :3]  # (n, 3)
    layers = np.rint(values[..., None] * rgb[:, None, None, :])  # (n, h, w, 3)
    return np.clip(layers, 0, 255).max(axis=0).astype(np.uint8)  # (h, w, 3)
