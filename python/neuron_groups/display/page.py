r"""A standalone interactive page: the widget's own front end with its data inlined.

The page needs no kernel and no network. The stylesheet is inlined; the ES module and the
front-end state travel in one JSON block::

    {"esm": "<widget.js>", "state": {<every field of ViewState>},
     "variants": {"<n>": {<GROUP_FIELDS of n groups>}, ...}}

A page of several layers (:func:`layers_page`) carries ``earlier_layers``, ``flows`` and
``layer_groups`` in its state and offers only the group counts it shows (no variants).

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuron_groups.display.assets import CSS, ESM, compact_text
from neuron_groups.display.fallback import static_html, static_layers_html
from neuron_groups.display.state import (
    RGB,
    earlier_layer_state,
    even_hues,
    flow_state,
    group_state,
    hue_colors,
    result_state,
    stable_hues,
)
from neuron_groups.layers import MultiLayerResult
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


def _all_hues(
    results: Mapping[int, NeuronGroupsResult], current: int, given: Mapping[int, list[float]]
) -> dict[int, list[float]]:
    # Missing hues follow the shown count first, then the others in order, each kept stable
    # against the one before (as the widget does when the count changes).
    hues = dict(given)
    previous: int | None = None
    for n in sorted(results, key=lambda k: (k != current, k)):
        if n not in hues:
            before = results[previous].channel if previous is not None else None
            hues[n] = stable_hues(results[n].channel, before, hues.get(previous))
        previous = n
    return hues


def results_page(
    results: Mapping[int, NeuronGroupsResult],
    current: int,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    hues: Mapping[int, list[float]] | None = None,
    class_options: Sequence[str] = (),
    selected_group: int = -1,
) -> str:
    """Write (when ``path`` is given) and return the page of several group counts.

    Parameters
    ----------
    results : mapping of int to NeuronGroupsResult
        The results by number of groups (all of the same image and layer).
    current : int
        The group count shown first (a key of ``results``).
    path : path, optional
        Where to write the page (UTF-8).
    title : str
        Caption above the figure, and the page's title (default: "Neuron groups").
    hues : mapping of int to list of float, optional
        The groups' hues per count (default: stable across counts, as in the widget).
    class_options : sequence of str
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
    colors = {n: hue_colors(h) for n, h in _all_hues(results, current, hues or {}).items()}
    result = results[current]
    state = {
        **result_state(result, colors[current], class_options),
        **_page_choices(result, title),
        "n_groups_options": sorted(results),
        "selected_group": selected_group if -1 <= selected_group < result.n_groups else -1,
    }
    variants = {n: group_state(r, colors[n]) for n, r in results.items()}
    fallback = static_html(result, colors[current], title=title)
    text = page_html(state, variants, title or DEFAULT_TITLE, fallback)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def _page_choices(result: NeuronGroupsResult, title: str) -> dict[str, Any]:
    """The fields of a page's state that no result array determines (a page is always ready)."""
    return {
        # [] reads as "top 5 predicted" (no chips to edit) when that is what was attributed.
        "classes": [] if list(result.classes) == list(result.top5) else list(result.classes),
        "status": "ready",
        "progress": 1.0 if result.icons is not None else 0.0,
        "progress_text": "",
        "error": "",
        "title": title,
    }


def layers_page(
    layers: MultiLayerResult,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    colors: Mapping[str, Sequence[RGB]] | None = None,
    class_options: Sequence[str] = (),
    selected_layer: str = "",
    selected_group: int = -1,
) -> str:
    """Write (when ``path`` is given) and return the page of groups at several layers.

    Parameters
    ----------
    layers : MultiLayerResult
        The groups at each layer and the flows between neighbouring layers.
    path : path, optional
        Where to write the page (UTF-8).
    title : str
        Caption above the figure, and the page's title (default: "Neuron groups").
    colors : mapping of str to list of [r, g, b], optional
        Each layer's group colours (default: evenly spaced hues at each layer).
    class_options : sequence of str
        Class names offered by the class picker (default: none).
    selected_layer, selected_group : str, int
        The group pinned when the page opens ("" the last layer; -1: none).

    Returns
    -------
    str
        The page's HTML.
    """
    colors = {
        layer: [list(c) for c in (colors or {}).get(layer, [])]
        or hue_colors(even_hues(layers.results[layer].n_groups))
        for layer in layers.layers
    }
    last = layers.last
    pinned = selected_layer or layers.layers[-1]
    valid = pinned in layers.results and -1 <= selected_group < layers.results[pinned].n_groups
    state = {
        **result_state(last, colors[layers.layers[-1]], class_options),
        **_page_choices(last, title),
        "n_groups_options": [last.n_groups],
        "earlier_layers": [
            earlier_layer_state(
                layers.results[layer], colors[layer], [layers.results[layer].n_groups]
            )
            for layer in layers.layers[:-1]
        ],
        "flows": [flow_state(a, b, values) for (a, b), values in layers.flows.items()],
        "layer_groups": layers.n_groups,
        "selected_layer": selected_layer if valid else "",
        "selected_group": selected_group if valid else -1,
    }
    fallback = static_layers_html(layers, colors, title=title)
    text = page_html(state, {}, title or DEFAULT_TITLE, fallback)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def save_page(
    source: Any, path: str | os.PathLike | None = None, *, title: str | None = None
) -> str:
    """Write (when ``path`` is given) and return the standalone page of a result or a widget.

    Parameters
    ----------
    source : NeuronGroupsResult, MultiLayerResult or GroupWidget
        A result (one group count), a multi-layer result (its counts), or a widget: every
        group count it computed (with several layers, the counts shown), with its colours,
        its title and its pinned group.
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
        return results_page({source.n_groups: source}, source.n_groups, path, title=title or "")
    if isinstance(source, MultiLayerResult):
        return layers_page(source, path, title=title or "")
    if getattr(source, "multi_result", None) is not None:
        return layers_page(
            source.multi_result,
            path,
            title=source.title if title is None else title,
            colors=source.layer_colors(),
            selected_layer=source.selected_layer,
            selected_group=source.selected_group,
        )
    results = source.cached_results()
    if not results:
        raise ValueError("The widget has no result to save yet.")
    current = source.result.n_groups if source.result is not None else min(results)
    return results_page(
        results,
        current,
        path,
        title=source.title if title is None else title,
        hues=source.group_hues(),
        selected_group=source.selected_group,
    )
