r"""A standalone interactive page: the widget's own front end, its data inlined.

The page needs no kernel and no network: the stylesheet is inlined, the ES module and the
front-end state (binary traits as base64) travel in one JSON block, and a small in-memory
model (``StaticModel`` from ``widget.js``) stands in for the kernel. Every group count that
was computed is included, so the groups control keeps working where the data exists.

The same module draws the *static* view (:func:`static_html`, :func:`static_image`): the
image, the group map, the icons and the attribution table as plain HTML and one JPEG, for
places where no JavaScript runs (the page's ``<noscript>``, a notebook output's fallback).

Escaping
--------
Every user string (title, class names, file names) reaches the page either through
:func:`html.escape` (the ``<title>`` and the static view) or inside the JSON block, where
``<``, ``>`` and ``&`` are written as JSON escapes (``\u003c`` ...), so nothing in
it can close the ``<script>`` element; the front end then only ever sets ``textContent``.
"""

from __future__ import annotations

import base64
import colorsys
import html
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuron_groups.result import NeuronGroupsResult
from neuron_groups.view import full_state, group_state, stable_hues

if TYPE_CHECKING:
    from neuron_groups.widget import GroupWidget

ROOT_ID = "neuron-groups-root"
"""``id`` of the element the page renders the widget into."""

DATA_ID = "neuron-groups-data"
"""``id`` of the JSON block: ``{"esm", "state", "variants", "variant_keys"}``."""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="neuron-groups">
<title>{title}</title>
<style>
/* The widget follows the reader's light or dark scheme; so does the page around it. */
:root {{ color-scheme: light dark; }}
body {{ margin: 0; padding: 24px; font-family: system-ui, sans-serif;
  background: Canvas; color: CanvasText; }}
.ng-page-error {{ color: #b00020; white-space: pre-wrap; }}
{css}
</style>
</head>
<body>
<div id="{root_id}"></div>
<noscript>
<p>This page needs JavaScript to be interactive; below is a static view.</p>
{fallback}
</noscript>
<script type="application/json" id="{data_id}">{data}</script>
<script type="module">
const root = document.getElementById("{root_id}");
try {{
  const data = JSON.parse(document.getElementById("{data_id}").textContent);
  const url = URL.createObjectURL(new Blob([data.esm], {{ type: "text/javascript" }}));
  const widget = await import(url);
  URL.revokeObjectURL(url);
  const revive = (value) => {{
    if (Array.isArray(value)) return value.map(revive);
    if (value && typeof value === "object") {{
      if ("$base64" in value) return widget.decodeBase64(value.$base64);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
    }}
    return value;
  }};
  const state = revive(data.state);
  const variants = revive(data.variants);
  // The count shown first is a variant too (so the control can come back to it); its values
  // are those of the state, not repeated in the file.
  const current = String(state.n_groups);
  if (Object.keys(variants).length > 0 && !(current in variants)) {{
    variants[current] = Object.fromEntries(data.variant_keys.map((k) => [k, state[k]]));
  }}
  const model = new widget.StaticModel(state, variants);
  const def = widget.default;
  const view = def.initialize ? await def.initialize({{ model }}) : null;
  await (view?.render ?? def.render)({{ model, el: root }});
  root.dataset.ready = "true";
}} catch (err) {{
  const message = document.createElement("p");
  message.className = "ng-page-error";
  message.textContent = `The neuron groups could not be shown: ${{err}}`;
  root.replaceChildren(message);
  throw err;
}}
</script>
</body>
</html>
"""

# Inside a <script> element only "</script" (any case) and "<!--" matter; JSON has "<", ">"
# and "&" only inside strings, where \\uXXXX means the same character.
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def _static_text(name: str) -> str:
    from neuron_groups.widget import _static

    return _static(name).read_text(encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def script_json(value: Any) -> str:
    """JSON text that is safe inside a ``<script>`` element (no ``<``, ``>`` or ``&``)."""
    text = json.dumps(_jsonable(value), ensure_ascii=True, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)


def _style_safe(css: str) -> str:
    # Only "</style" can end a <style> element early; in CSS "\\/" is "/" again.
    return re.sub(r"</(?=style)", r"<\\/", css, flags=re.IGNORECASE)


def page(
    state: Mapping[str, Any],
    variants: Mapping[int, Mapping[str, Any]],
    title: str,
    *,
    fallback: str | None = None,
) -> str:
    """The HTML of a standalone page.

    Parameters
    ----------
    state : mapping
        Every trait the front end reads (bytes values are sent as base64).
    variants : mapping of int to mapping
        Per group count, the traits that differ (see :func:`neuron_groups.view.group_state`);
        the groups control offers these counts. The one of ``state["n_groups"]`` is not
        written out: the page rebuilds it from ``state``.
    title : str
        The page's ``<title>`` (escaped).
    fallback : str, optional
        HTML shown where JavaScript does not run; default: :func:`static_html` of ``state``.

    Returns
    -------
    str
        The whole page, one self-contained file.
    """
    keys = sorted({key for variant in variants.values() for key in variant})
    data = {
        "esm": _static_text("widget.js"),
        "state": state,
        "variants": {str(k): v for k, v in variants.items() if k != state.get("n_groups")},
        "variant_keys": keys,
    }
    return _PAGE.format(
        title=html.escape(title),
        css=_style_safe(_static_text("widget.css")),
        root_id=ROOT_ID,
        data_id=DATA_ID,
        data=script_json(data),
        fallback=static_html(state) if fallback is None else fallback,
    )


def _write(text: str, path: str | os.PathLike | None) -> str:
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def results_html(
    results: Mapping[int, NeuronGroupsResult],
    current: int,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    hues: Mapping[int, list[float]] | None = None,
    class_options: list[str] | None = None,
    selected_group: int = -1,
) -> str:
    """Write (when ``path`` is given) and return the page for several group counts.

    Parameters
    ----------
    results : mapping of int to NeuronGroupsResult
        The results by number of groups (all of the same image and layer).
    current : int
        The group count shown first (a key of ``results``).
    path : path, optional
        Where to write the page (UTF-8).
    title : str
        Caption above the figure and the page's title (default: "Neuron groups").
    hues : mapping of int to list of float, optional
        The groups' hues per count (default: stable across counts, as in the widget).
    class_options : list of str, optional
        Class names offered by the class picker (default: none).
    selected_group : int
        The group pinned when the page opens (-1: none).

    Returns
    -------
    str
        The page's HTML.
    """
    if current not in results:
        raise ValueError(f"current={current} is not one of the result counts {sorted(results)}.")
    hues = dict(hues or {})
    previous = None
    for n in sorted(results, key=lambda k: (k != current, k)):
        if n not in hues:
            prev_channel = results[previous].channel if previous is not None else None
            hues[n] = stable_hues(results[n].channel, prev_channel, hues.get(previous))
        previous = n
    result = results[current]
    state = full_state(result, hues[current], list(class_options or []))
    state.update(
        n_groups_options=sorted(results),
        # [] reads as "top 5 predicted" (no chips to edit) when that is what was attributed.
        classes=[] if list(result.classes) == list(result.top5) else list(result.classes),
        selected_group=selected_group if -1 <= selected_group < result.n_groups else -1,
        status="ready",
        progress=1.0 if result.icons is not None else 0.0,
        progress_text="",
        error="",
        title=title,
    )
    # Every count, the current one too, so that the control can switch back to it (the page
    # does not repeat the current one's values: they are in ``state``).
    variants = {n: group_state(r, hues[n]) for n, r in results.items()} if len(results) > 1 else {}
    return _write(page(state, variants, title or "Neuron groups"), path)


def result_html(
    result: NeuronGroupsResult, path: str | os.PathLike | None = None, *, title: str = ""
) -> str:
    """Write (when ``path`` is given) and return the standalone page of one result."""
    return results_html({result.n_groups: result}, result.n_groups, path, title=title)


def widget_html(widget: GroupWidget, path: str | os.PathLike, title: str | None = None) -> Path:
    """Write the standalone page of a widget, with every group count it computed."""
    results = widget.cached_results()
    if not results:
        raise ValueError("The widget has no result to save yet.")
    current = widget.result.n_groups if widget.result is not None else min(results)
    results_html(
        results,
        current,
        path,
        title=widget.title if title is None else title,
        hues=dict(widget._hues),
        class_options=[],
        selected_group=widget.selected_group,
    )
    return Path(path)


# -- the static view -----------------------------------------------------------------------

_HSL = re.compile(r"hsla?\(\s*([-\d.]+)(?:deg)?[\s,]+([\d.]+)%[\s,]+([\d.]+)%")
_HEX = re.compile(r"#([0-9a-fA-F]{6})\b")


def css_rgb(color: str, fallback_hue: float = 0.0) -> tuple[int, int, int]:
    """RGB (0..255) of a CSS colour written ``hsl(h, s%, l%)`` or ``#rrggbb``.

    Anything else gives the hue ``fallback_hue`` at the widget's saturation and lightness.
    """
    match = _HSL.match(color.strip())
    if match:
        h, s, lightness = (float(g) for g in match.groups())
    else:
        hexa = _HEX.match(color.strip())
        if hexa:
            value = int(hexa.group(1), 16)
            return (value >> 16) & 255, (value >> 8) & 255, value & 255
        h, s, lightness = fallback_hue, 80.0, 50.0
    r, g, b = colorsys.hls_to_rgb((h % 360) / 360.0, lightness / 100.0, s / 100.0)
    return round(r * 255), round(g * 255), round(b * 255)


def _floats(value: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    raw = bytes(value or b"")
    if not shape or len(raw) != 4 * int(np.prod(shape)):
        return None
    return np.frombuffer(raw, dtype="<f4").reshape(shape)


def _group_data(state: Mapping[str, Any]) -> tuple[np.ndarray | None, list[tuple[int, int, int]]]:
    shape = tuple(int(s) for s in state.get("spatial_shape") or ())
    spatial = _floats(state.get("spatial"), shape) if len(shape) == 3 else None
    n = spatial.shape[0] if spatial is not None else len(state.get("group_colors") or [])
    colors = list(state.get("group_colors") or [])
    rgb = [css_rgb(colors[j] if j < len(colors) else "", j * 360.0 / max(n, 1)) for j in range(n)]
    return spatial, rgb


def group_map(spatial: np.ndarray, rgb: list[tuple[int, int, int]]) -> np.ndarray:
    """The all-groups map as the widget draws it, uint8 of shape (h, w, 3).

    Each group's colour is scaled by its presence; the lightest value wins per channel.
    """
    values = np.clip(np.nan_to_num(spatial.astype(np.float32)), 0.0, 1.0)  # (n, h, w)
    colors = np.asarray(rgb, dtype=np.float32)  # (n, 3)
    layers = values[..., None] * colors[:, None, None, :]
    if not len(colors):
        return np.zeros((*values.shape[1:], 3), np.uint8)
    return layers.max(axis=0).astype(np.uint8)


def static_image(state: Mapping[str, Any], *, side: int = 224, quality: int = 88) -> bytes:
    """A JPEG of the static view: the image, the group map, and the icons with their colours.

    Parameters
    ----------
    state : mapping
        The front-end state (traits ``image``, ``spatial``, ``spatial_shape``,
        ``group_colors``, ``icons``).
    side : int
        Height of the image and the map, in pixels.
    quality : int
        JPEG quality.

    Returns
    -------
    bytes
        The JPEG (empty if the state has no image yet).
    """
    from PIL import Image

    raw = bytes(state.get("image") or b"")
    if not raw:
        return b""
    photo = Image.open(io.BytesIO(raw)).convert("RGB")
    width = max(1, round(photo.width * side / max(photo.height, 1)))
    photo = photo.resize((width, side), Image.Resampling.BILINEAR)
    spatial, rgb = _group_data(state)
    n = len(rgb)
    icons = [bytes(i or b"") for i in state.get("icons") or []]
    has_icons = any(icons)
    gap, strip = 8, 6
    # Icons (or colour swatches) in one row under the image and the map.
    tile = max(8, min(80 if has_icons else 40, (2 * width + gap) // max(n, 1) - gap))
    height = side + (gap + (tile if has_icons else 0) + strip if n else 0)
    canvas = Image.new("RGB", (2 * width + gap, height), (255, 255, 255))
    canvas.paste(photo, (0, 0))
    if spatial is not None:
        grid = Image.fromarray(group_map(spatial, rgb))
        canvas.paste(grid.resize((width, side), Image.Resampling.NEAREST), (width + gap, 0))
    top = side + gap
    for j in range(n):
        left = j * (tile + gap)
        if has_icons:
            if j < len(icons) and icons[j]:
                icon = Image.open(io.BytesIO(icons[j])).convert("RGB")
                canvas.paste(icon.resize((tile, tile), Image.Resampling.BILINEAR), (left, top))
            else:
                canvas.paste((230, 230, 230), (left, top, left + tile, top + tile))
        y = top + (tile if has_icons else 0)
        canvas.paste(rgb[j], (left, y, left + tile, y + strip))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


_LEFT = 'style="text-align: left; padding: 2px 6px"'


def _cell_color(v: float, max_abs: float) -> str:
    if not np.isfinite(v) or max_abs <= 0 or v == 0:
        return "transparent"
    alpha = round(min(1.0, abs(v) / max_abs) * 0.8, 3)
    return f"rgba(33, 113, 181, {alpha})" if v > 0 else f"rgba(230, 85, 13, {alpha})"


def _format(v: float) -> str:
    if not np.isfinite(v):
        return "–"
    text = f"{v:.3f}"
    return text[1:] if re.fullmatch(r"-0\.0+", text) else text


def static_html(state: Mapping[str, Any], *, image: bytes | None = None) -> str:
    """The static view as HTML: caption, :func:`static_image` and the attribution table.

    Every string from the state is escaped. ``image`` is the JPEG to embed (default: made
    from ``state``).
    """
    esc = html.escape
    _, rgb = _group_data(state)
    n = len(rgb)
    names = [str(c) for c in state.get("class_names") or []]
    table = _floats(state.get("attributions"), (len(names), n)) if n and names else None
    parts = ['<div class="neuron-groups-static" style="font-family: sans-serif; font-size: 13px">']
    title = str(state.get("title") or "")
    if title:
        parts.append(f'<div style="font-weight: 600; font-size: 15px">{esc(title)}</div>')
    meta = " · ".join(esc(str(state.get(k))) for k in ("model_name", "layer") if state.get(k))
    predictions = ", ".join(
        f"{esc(str(p.get('name', '')))} ({100 * float(p.get('probability', 0)):.1f}%)"
        for p in state.get("predictions") or []
        if isinstance(p, Mapping)
    )
    if meta or predictions:
        line = meta + (" — predicted: " + predictions if predictions else "")
        parts.append(f'<div style="color: #555">{line}</div>')
    jpeg = static_image(state) if image is None else image
    if jpeg:
        src = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        alt = f"The image and where each of its {n} neuron groups is present"
        parts.append(f'<div><img src="{src}" alt="{esc(alt)}" style="max-width: 100%"></div>')
    if table is not None:
        max_abs = float(np.nanmax(np.abs(table))) if table.size else 0.0
        head = "".join(
            f'<th style="padding: 2px 6px"><span style="display: inline-block; width: 10px; '
            f'height: 10px; background: rgb{rgb[j]}"></span> {j}</th>'
            for j in range(n)
        )
        rows = []
        for i, name in enumerate(names):
            cells = "".join(
                f'<td style="padding: 2px 6px; text-align: right; '
                f'background: {_cell_color(float(v), max_abs)}">{_format(float(v))}</td>'
                for v in table[i]
            )
            rows.append(f"<tr><th {_LEFT}>{esc(name)}</th>{cells}</tr>")
        parts.append(
            '<table style="border-collapse: collapse; margin: 6px 0 0 0">'
            '<caption style="text-align: left; font-weight: 600">'
            "Effect of neuron groups on output classes</caption>"
            f"<thead><tr><th {_LEFT}>Class</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    parts.append("</div>")
    return "\n".join(parts)
