r"""A standalone interactive page: the widget's own front end with its data inlined.

The page needs no kernel and no network. The stylesheet is inlined; the ES module and the
front-end state travel in one JSON block::

    {"esm": "<widget.js>", "state": {<every field of ViewState>},
     "variants": {"<n>": {<GROUP_FIELDS of n groups>}, ...}}


where bytes are written ``{"$base64": "..."}`` and the count shown first is not repeated
among the variants (the front end rebuilds it from ``state``). The page's one inline
script parses that block, imports ``esm`` from a blob URL and calls the module's
``mountPage(root, data)``; everything else happens in ``js/widget.js``. Where JavaScript
does not run, ``<noscript>`` holds the static view (:mod:`neuron_groups.display.fallback`).

Escaping
--------
Every user string (title, class names) reaches the page either through :func:`html.escape`
(the ``<title>`` and the static view) or inside the JSON block, where ``<``, ``>`` and ``&``
are written as JSON escapes (``\u003c`` ...), so nothing in it can close the ``<script>``
element; the front end then only ever sets ``textContent``.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuron_groups.display.assets import CSS, ESM, compact_text
from neuron_groups.display.fallback import static_html
from neuron_groups.display.state import (
    even_hues,
    group_state,
    hue_colors,
    image_png,
    result_state,
    stable_hues,
)
from neuron_groups.result import NeuronGroupsResult

ROOT_ID = "neuron-groups-root"
"""``id`` of the element the page renders the widget into."""

DATA_ID = "neuron-groups-data"
"""``id`` of the JSON block ``{"esm", "state", "variants"}``."""

DEFAULT_TITLE = "Neuron groups"
"""The page's ``<title>`` when no title is given."""

_PAGE = string.Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="neuron-groups">
<title>$title</title>
<style>
/* The widget follows the reader's light or dark scheme; so does the page around it. */
:root { color-scheme: light dark; }
body { margin: 0; padding: 24px; font-family: system-ui, sans-serif;
  background: Canvas; color: CanvasText; }
.ng-page-error { color: #b00020; white-space: pre-wrap; }
$css
</style>
</head>
<body>
<div id="$root_id"></div>
<noscript>
<p>This page needs JavaScript to be interactive; below is a static view.</p>
$fallback
</noscript>
<script type="application/json" id="$data_id">$data</script>
<script type="module">
const root = document.getElementById("$root_id");
try {
  const data = JSON.parse(document.getElementById("$data_id").textContent);
  const url = URL.createObjectURL(new Blob([data.esm], { type: "text/javascript" }));
  const { mountPage } = await import(url);
  URL.revokeObjectURL(url);
  await mountPage(root, data);
} catch (err) {
  if (!root.hasChildNodes()) {  // mountPage shows its own errors; this is for the loading
    root.className = "ng-page-error";
    root.textContent = "The neuron groups could not be shown: " + err;
  }
  throw err;
}
</script>
</body>
</html>
""")

# Inside a <script> element only "</script" (any case) and "<!--" matter; JSON has "<", ">"
# and "&" only inside strings, where \uXXXX means the same character.
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


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
    # Only "</style" can end a <style> element early; in CSS "\/" is "/" again.
    return re.sub(r"</(?=style)", r"<\\/", css, flags=re.IGNORECASE)


def page_html(
    state: Mapping[str, Any],
    variants: Mapping[int, Mapping[str, Any]],
    title: str,
    fallback: str,
) -> str:
    """The HTML of a standalone page.

    Parameters
    ----------
    state : mapping
        Every field of :class:`~neuron_groups.display.state.ViewState`.
    variants : mapping of int to mapping
        Per group count, its :data:`~neuron_groups.display.state.GROUP_FIELDS`; the one of
        ``state["n_groups"]`` is left out of the page (it is ``state``'s).
    title : str
        The page's ``<title>`` (escaped).
    fallback : str
        HTML shown where JavaScript does not run.

    Returns
    -------
    str
        The whole page, one self-contained file.
    """
    data = {
        "esm": compact_text(ESM),
        "state": state,
        "variants": {str(n): v for n, v in variants.items() if n != state.get("n_groups")},
    }
    return _PAGE.substitute(
        title=html.escape(title),
        css=_style_safe(compact_text(CSS)),
        root_id=ROOT_ID,
        data_id=DATA_ID,
        data=script_json(data),
        fallback=fallback,
    )


def write_page(text: str, path: str | os.PathLike | None) -> str:
    """Write a page's HTML to ``path`` (UTF-8) when it is given; return the HTML."""
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _stable_hues(
    counts: Mapping[int, np.ndarray], current: int, given: Mapping[int, Sequence[float]]
) -> dict[int, list[float]]:
    # Hues of one layer per count (``counts``: each count's channel factors). Missing hues
    # follow the shown count first, then the others in order, each kept stable against the
    # one before (as the widget does when the count changes).
    hues = {n: list(h) for n, h in given.items()}
    previous: int | None = None
    for n in sorted(counts, key=lambda k: (k != current, k)):
        if n not in hues:
            before = counts[previous] if previous is not None else None
            hues[n] = stable_hues(counts[n], before, hues.get(previous))
        previous = n
    return hues


def result_page(
    result: NeuronGroupsResult,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    variants: Iterable[NeuronGroupsResult] = (),
    hues: Mapping[str, Mapping[int, Sequence[float]]] | None = None,
    class_options: Sequence[str] = (),
    selected_layer: str = "",
    selected_group: int = -1,
) -> str:
    """Write (when ``path`` is given) and return the page of a result of one or more layers.

    Parameters
    ----------
    result : NeuronGroupsResult
        The result shown first: one layer, or several with their flows.
    path : path, optional
        Where to write the page (UTF-8).
    title : str
        Caption above the figure, and the page's title (default: "Neuron groups").
    variants : iterable of NeuronGroupsResult
        With one layer: the same image and layer at other group counts, which the page's
        groups control switches to offline. With several layers there are none (the flows
        and the earlier layers change with a count too): the page offers the counts shown.
    hues : mapping of str to mapping of int to list of float, optional
        Each layer's group hues per count (a widget's); the missing ones are evenly spaced
        for the count shown and kept stable from it for the others, as in the widget.
    class_options : sequence of str
        Class names offered by the class picker (default: none).
    selected_layer, selected_group : str, int
        The group pinned when the page opens ("" the last layer; -1: none).

    Returns
    -------
    str
        The page's HTML.
    """
    others = {r.n_groups: r for r in variants if r.n_groups != result.n_groups}
    if others and len(result.layers) > 1:
        raise ValueError(
            f"A page of several layers ({', '.join(result.layers)}) has no count variants: "
            "its flows and earlier layers change with a count too."
        )
    counts = {result.n_groups: result, **others}
    given = hues or {}
    colors = {  # a widget's colours, else evenly spaced hues
        layer: hue_colors(given.get(layer, {}).get(groups.n_groups) or even_hues(groups.n_groups))
        for layer, groups in result.groups.items()
    }
    last_hues = _stable_hues(
        {n: r.channel for n, r in counts.items()}, result.n_groups, given.get(result.layer, {})
    )
    options = {layer: [groups.n_groups] for layer, groups in result.groups.items()}
    options[result.layer] = sorted(counts)
    pinned = selected_layer or result.layer
    valid = pinned in result.groups and -1 <= selected_group < result.groups[pinned].n_groups
    state = {
        "image": image_png(result.image),
        **result_state(result, colors, options),
        **_page_choices(result, title),
        "class_options": list(class_options),
        "image_options": [],
        "selected_layer": selected_layer if valid and selected_layer in result.layers[:-1] else "",
        "selected_group": selected_group if valid else -1,
    }
    variant_state = {n: group_state(r, hue_colors(last_hues[n])) for n, r in counts.items()}
    fallback = static_html(result, colors, title=title)
    return write_page(page_html(state, variant_state, title or DEFAULT_TITLE, fallback), path)


def _page_choices(result: NeuronGroupsResult, title: str) -> dict[str, Any]:
    """The fields of a page's state that no result array determines (a page is always ready)."""
    return {
        # [] reads as "top 5 predicted" (no chips to edit) when that is what was attributed.
        "classes": [] if list(result.classes) == list(result.top5) else list(result.classes),
        "attribution_method": result.attribution_method,
        "status": "ready",
        "progress": 1.0 if all(g.icons is not None for g in result.groups.values()) else 0.0,
        "progress_text": "",
        "error": "",
        "title": title,
    }


def save_page(
    source: Any, path: str | os.PathLike | None = None, *, title: str | None = None
) -> str:
    """Write (when ``path`` is given) and return the standalone page of a result or a widget.

    Parameters
    ----------
    source : NeuronGroupsResult, GroupWidget or GalleryWidget
        A result (of one layer or several), or a widget: its page as ``source.to_html``
        writes it (a :class:`~neuron_groups.GroupWidget`'s has every group count it
        computed, its colours, its title and its pinned group).
    path : path, optional
        Where to write the page (UTF-8).
    title : str, optional
        Caption and page title (default: the widget's title, or none).

    Returns
    -------
    str
        The page's HTML.
    """
    if isinstance(source, NeuronGroupsResult):
        return result_page(source, path, title=title or "")
    to_html = getattr(source, "to_html", None)
    if to_html is None:
        raise TypeError(
            f"save_page takes a NeuronGroupsResult or a widget; got {type(source).__name__}."
        )
    return write_page(to_html(title), path)
