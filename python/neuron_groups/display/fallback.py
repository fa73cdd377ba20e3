"""The static view: caption, one JPEG (image, group map, icons) and the attribution table.

With several layers (:func:`static_layers_html`): one JPEG with the image and each layer's
group map side by side, each layer's icons under its map, then the last layer's table.

Shown where no JavaScript runs: a standalone page's ``<noscript>``, and a notebook output's
``text/html`` / ``image/jpeg`` next to the live widget (GitHub, nbviewer, nbconvert without
widget state). It is drawn straight from a :class:`~neuron_groups.result.NeuronGroupsResult`
and the group colours (numbers): nothing is decoded back from the front-end state.

Every string from the result or the caller (title, class names, model and layer names) goes
through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuron_groups.display.state import (
    RGB,
    attribution_color,
    display_maps,
    format_value,
    group_map,
    predictions,
)
from neuron_groups.images import to_uint8
from neuron_groups.layers import MultiLayerResult
from neuron_groups.result import NeuronGroupsResult

_GAP, _STRIP = 8, 6  # pixels between panels; height of each group's colour strip
_PENDING = (230, 230, 230)  # where an icon is not ready yet
_LEFT = 'style="text-align: left; padding: 2px 6px"'


def static_image(
    result: NeuronGroupsResult,
    colors: Sequence[RGB],
    *,
    icons: np.ndarray | None = None,
    side: int = 224,
    quality: int = 88,
) -> bytes:
    """A JPEG of the image, the group map, and each group's icon over its colour strip.

    Parameters
    ----------
    result : NeuronGroupsResult
        What to draw.
    colors : sequence of [r, g, b]
        One colour per group (ints 0..255).
    icons : ndarray, shape (n, S, S, 3), optional
        Icons to show instead of ``result.icons`` (e.g. a snapshot while optimizing).
    side : int
        Height of the image and the map, in pixels.
    quality : int
        JPEG quality.

    Returns
    -------
    bytes
        The JPEG.
    """
    from PIL import Image

    photo = _photo(result.image, side)
    width = photo.width
    shown = result.icons if icons is None else icons
    n = result.n_groups
    # Icons (or colour swatches) in one row under the image and the map.
    tile = max(8, min(80 if shown is not None else 40, (2 * width + _GAP) // max(n, 1) - _GAP))
    height = side + (_GAP + (tile if shown is not None else 0) + _STRIP if n else 0)
    canvas = Image.new("RGB", (2 * width + _GAP, height), (255, 255, 255))
    canvas.paste(photo, (0, 0))
    grid = Image.fromarray(group_map(display_maps(result.spatial), colors))  # (h, w, 3)
    canvas.paste(grid.resize((width, side), Image.Resampling.NEAREST), (width + _GAP, 0))
    top = side + _GAP
    for j in range(n):
        left = j * (tile + _GAP)
        if shown is not None:
            _paste_icon(canvas, shown[j] if j < len(shown) else None, (left, top), tile)
        y = top + (tile if shown is not None else 0)
        canvas.paste(tuple(colors[j]), (left, y, left + tile, y + _STRIP))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _paste_icon(canvas: Any, icon: np.ndarray | None, corner: tuple[int, int], tile: int) -> None:
    from PIL import Image

    left, top = corner
    if icon is None:
        canvas.paste(_PENDING, (left, top, left + tile, top + tile))
        return
    picture = Image.fromarray(to_uint8(icon))  # (S, S, 3) uint8
    canvas.paste(picture.resize((tile, tile), Image.Resampling.BILINEAR), (left, top))


def _caption(result: NeuronGroupsResult, title: str) -> list[str]:
    esc = html.escape
    parts = []
    if title:
        parts.append(f'<div style="font-weight: 600; font-size: 15px">{esc(title)}</div>')
    meta = " · ".join(esc(str(v)) for v in (result.model_name, result.layer) if v)
    guesses = ", ".join(
        f"{esc(p['name'])} ({100 * p['probability']:.1f}%)" for p in predictions(result)
    )
    if meta or guesses:
        line = meta + (" — predicted: " + guesses if guesses else "")
        parts.append(f'<div style="color: #555">{line}</div>')
    return parts


def _table(result: NeuronGroupsResult, colors: Sequence[RGB]) -> str:
    table = np.asarray(result.attributions, dtype=np.float32)  # (k, n)
    finite = np.abs(table[np.isfinite(table)])
    max_abs = float(finite.max()) if finite.size else 0.0
    head = "".join(
        f'<th style="padding: 2px 6px"><span style="display: inline-block; width: 10px; '
        f'height: 10px; background: rgb({r}, {g}, {b})"></span> {j}</th>'
        for j, (r, g, b) in enumerate(colors)
    )
    rows = []
    for name, values in zip(result.classes, table, strict=True):
        cells = "".join(
            f'<td style="padding: 2px 6px; text-align: right; '
            f'background: {attribution_color(v, max_abs)}">{format_value(v)}</td>'
            for v in values.tolist()
        )
        rows.append(f"<tr><th {_LEFT}>{html.escape(str(name))}</th>{cells}</tr>")
    return (
        '<table style="border-collapse: collapse; margin: 6px 0 0 0">'
        '<caption style="text-align: left; font-weight: 600">'
        "Effect of neuron groups on output classes</caption>"
        f"<thead><tr><th {_LEFT}>Class</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def static_html(
    result: NeuronGroupsResult,
    colors: Sequence[RGB],
    *,
    title: str = "",
    icons: np.ndarray | None = None,
    image: bytes | None = None,
) -> str:
    """The static view as HTML: caption, :func:`static_image` and the attribution table.

    Parameters
    ----------
    result : NeuronGroupsResult
    colors : sequence of [r, g, b]
        One colour per group.
    title : str
        Caption above the figure (escaped).
    icons : ndarray, shape (n, S, S, 3), optional
        Icons to show instead of ``result.icons``.
    image : bytes, optional
        The JPEG to embed (default: :func:`static_image`).

    Returns
    -------
    str
        One ``<div class="neuron-groups-static">``.
    """
    jpeg = static_image(result, colors, icons=icons) if image is None else image
    src = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    alt = f"The image and where each of its {result.n_groups} neuron groups is present"
    parts = [
        '<div class="neuron-groups-static" style="font-family: sans-serif; font-size: 13px">',
        *_caption(result, title),
        f'<div><img src="{src}" alt="{html.escape(alt)}" style="max-width: 100%"></div>',
    ]
    if len(result.classes):
        parts.append(_table(result, colors))
    parts.append("</div>")
    return "\n".join(parts)


def static_fallback(
    result: NeuronGroupsResult,
    colors: Sequence[RGB],
    *,
    title: str = "",
    icons: np.ndarray | None = None,
) -> dict[str, str]:
    """The ``text/html`` and ``image/jpeg`` (base64) entries of a notebook output."""
    jpeg = static_image(result, colors, icons=icons)
    return {
        "text/html": static_html(result, colors, title=title, icons=icons, image=jpeg),
        "image/jpeg": base64.b64encode(jpeg).decode("ascii"),
    }


def static_layers_image(
    layers: MultiLayerResult,
    colors: dict[str, Sequence[RGB]],
    *,
    side: int = 224,
    per_row: int = 3,
    quality: int = 88,
) -> bytes:
    """A JPEG of the image and each layer's group map in a row, each layer's icons below.

    Parameters
    ----------
    layers : MultiLayerResult
        What to draw.
    colors : dict of str to sequence of [r, g, b]
        Each layer's group colours.
    side : int
        Height of the image and of each map, in pixels.
    per_row : int
        Icons (or colour swatches, before icons) per row under each map.
    quality : int
        JPEG quality.

    Returns
    -------
    bytes
        The JPEG.
    """
    from PIL import Image

    photo = _photo(layers.image, side)
    width = photo.width
    tile = max(8, (width - (per_row - 1) * _GAP) // per_row)
    rows = max(-(-n // per_row) for n in layers.n_groups)
    height = side + _GAP + rows * (tile + _STRIP + _GAP)
    canvas = Image.new("RGB", ((len(layers.layers) + 1) * (width + _GAP) - _GAP, height), "white")
    canvas.paste(photo, (0, 0))
    for column, layer in enumerate(layers.layers, 1):
        result, layer_colors = layers.results[layer], colors[layer]
        left = column * (width + _GAP)
        grid = Image.fromarray(group_map(display_maps(result.spatial), layer_colors))  # (h, w, 3)
        canvas.paste(grid.resize((width, side), Image.Resampling.NEAREST), (left, 0))
        for j in range(result.n_groups):
            x = left + (j % per_row) * (tile + _GAP)
            y = side + _GAP + (j // per_row) * (tile + _STRIP + _GAP)
            icon = result.icons[j] if result.icons is not None else None
            _paste_icon(canvas, icon, (x, y), tile)
            canvas.paste(tuple(layer_colors[j]), (x, y + tile, x + tile, y + tile + _STRIP))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def static_layers_html(
    layers: MultiLayerResult,
    colors: dict[str, Sequence[RGB]],
    *,
    title: str = "",
    image: bytes | None = None,
) -> str:
    """The static view of several layers: caption, :func:`static_layers_image`, last table.

    Parameters
    ----------
    layers : MultiLayerResult
    colors : dict of str to sequence of [r, g, b]
        Each layer's group colours.
    title : str
        Caption above the figure (escaped).
    image : bytes, optional
        The JPEG to embed (default: :func:`static_layers_image`).

    Returns
    -------
    str
        One ``<div class="neuron-groups-static">``.
    """
    last = layers.last
    jpeg = static_layers_image(layers, colors) if image is None else image
    src = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    columns = ", ".join(
        f"{layer} ({n} groups)" for layer, n in zip(layers.layers, layers.n_groups, strict=True)
    )
    alt = f"The image, then where each neuron group is present at {columns}"
    parts = [
        '<div class="neuron-groups-static" style="font-family: sans-serif; font-size: 13px">',
        *_caption(last, title),
        f'<div style="color: #555">Left to right: the image, {html.escape(columns)}</div>',
        f'<div><img src="{src}" alt="{html.escape(alt)}" style="max-width: 100%"></div>',
    ]
    if len(last.classes):
        parts.append(_table(last, colors[layers.layers[-1]]))
    parts.append("</div>")
    return "\n".join(parts)


def static_layers_fallback(
    layers: MultiLayerResult, colors: dict[str, Sequence[RGB]], *, title: str = ""
) -> dict[str, str]:
    """The ``text/html`` and ``image/jpeg`` (base64) entries of a multi-layer output."""
    jpeg = static_layers_image(layers, colors)
    return {
        "text/html": static_layers_html(layers, colors, title=title, image=jpeg),
        "image/jpeg": base64.b64encode(jpeg).decode("ascii"),
    }


def with_fallback(bundle: Any, fallback: Callable[[], dict[str, str]]) -> Any:
    """Add the static view to a widget's ``_repr_mimebundle_`` result.

    Front ends that render widgets pick the widget view (JupyterLab ranks it above HTML);
    the others show the fallback.

    Parameters
    ----------
    bundle : tuple of (dict, dict), dict or None
        What ``anywidget.AnyWidget._repr_mimebundle_`` returned.
    fallback : callable
        Returns the entries to add (e.g. :func:`static_fallback` of the shown result), or
        {} when there is nothing to show. An exception it raises becomes a warning: a
        fallback never stops the live widget from showing.

    Returns
    -------
    The same shape as ``bundle``, with the fallback's entries added.
    """
    if bundle is None:
        return None
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, None)
    try:
        extra = fallback()
    except Exception as exc:  # a fallback must never break displaying the live widget
        warnings.warn(f"neuron-groups: no static fallback ({exc})", RuntimeWarning, stacklevel=2)
        extra = {}
    data = {**data, **extra}
    return (data, metadata) if isinstance(bundle, tuple) else data


def _photo(image, side: int):
    """The input image as a PIL image ``side`` pixels high, its aspect ratio kept."""
    from PIL import Image

    photo = Image.fromarray(to_uint8(image))  # (H, W, 3) uint8
    width = max(1, round(photo.width * side / max(photo.height, 1)))
    return photo.resize((width, side), Image.Resampling.BILINEAR)
