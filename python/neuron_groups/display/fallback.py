"""The static view: caption, one JPEG (image, group maps, icons) and the attribution table.

One path for one layer or several: the JPEG has the image and each layer's group map side by
side, then one row per layer (input to output) of its icons, each over its group's colour
strip (only the strips before icons exist); the table is the last layer's.

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
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from neuron_groups.display.state import (
    RGB,
    attribution_color,
    display_maps,
    even_hues,
    format_value,
    group_map,
    hue_colors,
    predictions,
)
from neuron_groups.images import to_uint8
from neuron_groups.result import NeuronGroupsResult

_GAP, _STRIP = 8, 6  # pixels between panels; height of each group's colour strip
_PENDING = (230, 230, 230)  # where an icon is not ready yet
_LEFT = 'style="text-align: left; padding: 2px 6px"'


Colors = Sequence[RGB] | Mapping[str, Sequence[RGB]]
"""Group colours: each layer's (a mapping), or the last layer's alone (a list)."""

Icons = np.ndarray | Mapping[str, np.ndarray | None] | None
"""Icons standing in for a layer's own: per layer (a mapping), or the last layer's (an array)."""


def layer_colors(result: NeuronGroupsResult, colors: Colors | None) -> dict[str, list[RGB]]:
    """Every layer's colours: those given, else evenly spaced hues (a list: the last layer's)."""
    given = {result.layer: colors} if isinstance(colors, Sequence) else dict(colors or {})
    return {
        layer: [list(c) for c in given.get(layer, [])] or hue_colors(even_hues(groups.n_groups))
        for layer, groups in result.groups.items()
    }


def _layer_icons(result: NeuronGroupsResult, icons: Icons) -> dict[str, np.ndarray | None]:
    """Every layer's icons to draw: those given in place of its own, else its own."""
    given = {result.layer: icons} if isinstance(icons, np.ndarray) else dict(icons or {})
    return {
        layer: given[layer] if given.get(layer) is not None else groups.icons
        for layer, groups in result.groups.items()
    }


def static_image(
    result: NeuronGroupsResult,
    colors: Colors | None = None,
    *,
    icons: Icons = None,
    side: int = 224,
    quality: int = 88,
) -> bytes:
    """A JPEG of the image and each layer's group map, then each layer's icons in a row.

    Parameters
    ----------
    result : NeuronGroupsResult
        What to draw (one layer or several).
    colors : list of [r, g, b], or mapping of str to such lists, optional
        The group colours (ints 0..255): each layer's, or the last layer's (default: evenly
        spaced hues).
    icons : ndarray (n, S, S, 3), or mapping of str to such arrays, optional
        Icons to show instead of a layer's own (e.g. a snapshot while optimizing): each
        layer's, or the last layer's.
    side : int
        Height of the image and the maps, in pixels.
    quality : int
        JPEG quality.

    Returns
    -------
    bytes
        The JPEG.
    """
    from PIL import Image

    colors, shown = layer_colors(result, colors), _layer_icons(result, icons)
    photo = _photo(result.image, side)
    width = photo.width
    canvas_width = (len(result.layers) + 1) * (width + _GAP) - _GAP
    # One row per layer under the image and the maps: its icons (or colour swatches).
    tiles = {
        layer: max(8, min(80 if shown[layer] is not None else 40, canvas_width // max(n, 1) - _GAP))
        for layer, n in zip(result.layers, result.counts, strict=True)
    }
    rows = [
        _GAP + (tiles[layer] if shown[layer] is not None else 0) + _STRIP
        for layer, n in zip(result.layers, result.counts, strict=True)
        if n
    ]
    canvas = Image.new("RGB", (canvas_width, side + sum(rows)), (255, 255, 255))
    canvas.paste(photo, (0, 0))
    top = side + _GAP
    for column, (layer, groups) in enumerate(result.groups.items(), 1):
        grid = Image.fromarray(group_map(display_maps(groups.spatial), colors[layer]))  # (h, w, 3)
        canvas.paste(
            grid.resize((width, side), Image.Resampling.NEAREST), (column * (width + _GAP), 0)
        )
        tile, icons_here = tiles[layer], shown[layer]
        for j in range(groups.n_groups):
            left = j * (tile + _GAP)
            if icons_here is not None:
                _paste_icon(
                    canvas, icons_here[j] if j < len(icons_here) else None, (left, top), tile
                )
            y = top + (tile if icons_here is not None else 0)
            canvas.paste(tuple(colors[layer][j]), (left, y, left + tile, y + _STRIP))
        if groups.n_groups:
            top += (tile if icons_here is not None else 0) + _STRIP + _GAP
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
    colors: Colors | None = None,
    *,
    title: str = "",
    icons: Icons = None,
    image: bytes | None = None,
) -> str:
    """The static view as HTML: caption, :func:`static_image` and the last layer's table.

    Parameters
    ----------
    result : NeuronGroupsResult
        One layer or several.
    colors : list of [r, g, b], or mapping of str to such lists, optional
        The group colours: each layer's, or the last layer's (see :func:`static_image`).
    title : str
        Caption above the figure (escaped).
    icons : ndarray or mapping of str to ndarray, optional
        Icons to show instead of a layer's own (see :func:`static_image`).
    image : bytes, optional
        The JPEG to embed (default: :func:`static_image`).

    Returns
    -------
    str
        One ``<div class="neuron-groups-static">``.
    """
    colors = layer_colors(result, colors)
    jpeg = static_image(result, colors, icons=icons) if image is None else image
    src = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
    parts = [
        '<div class="neuron-groups-static" style="font-family: sans-serif; font-size: 13px">',
        *_caption(result, title),
    ]
    if len(result.layers) == 1:
        alt = f"The image and where each of its {result.n_groups} neuron groups is present"
    else:
        columns = ", ".join(
            f"{layer} ({n} groups)" for layer, n in zip(result.layers, result.counts, strict=True)
        )
        alt = f"The image, then where each neuron group is present at {columns}"
        parts.append(
            f'<div style="color: #555">Left to right: the image, {html.escape(columns)}; '
            "below, each layer's icons in a row, input to output</div>"
        )
    parts.append(f'<div><img src="{src}" alt="{html.escape(alt)}" style="max-width: 100%"></div>')
    if len(result.classes):
        parts.append(_table(result, colors[result.layer]))
    parts.append("</div>")
    return "\n".join(parts)


def static_fallback(
    result: NeuronGroupsResult,
    colors: Colors | None = None,
    *,
    title: str = "",
    icons: Icons = None,
) -> dict[str, str]:
    """The ``text/html`` and ``image/jpeg`` (base64) entries of a notebook output."""
    jpeg = static_image(result, colors, icons=icons)
    return {
        "text/html": static_html(result, colors, title=title, icons=icons, image=jpeg),
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
