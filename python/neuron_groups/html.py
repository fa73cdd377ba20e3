"""A standalone interactive page: the widget's own front end, its data inlined.

The page needs no kernel and no network: the ES module and stylesheet are inlined, binary
traits are base64 in a JSON block, and a small in-memory model (``StaticModel`` from
``widget.js``) stands in for the kernel. Every group count that was computed is included,
so the groups control keeps working where the data exists.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuron_groups.result import NeuronGroupsResult
from neuron_groups.view import full_state, group_state, stable_hues

if TYPE_CHECKING:
    from neuron_groups.widget import GroupWidget

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ margin: 0; padding: 24px; font-family: system-ui, sans-serif; }}
{css}
</style>
</head>
<body>
<noscript>This page needs JavaScript to show the neuron groups.</noscript>
<div id="neuron-groups-root"></div>
<script type="application/json" id="neuron-groups-state">{state}</script>
<script type="text/plain" id="neuron-groups-esm">{esm}</script>
<script type="module">
const text = (id) => document.getElementById(id).textContent;
const blob = new Blob([text("neuron-groups-esm")], {{ type: "text/javascript" }});
const url = URL.createObjectURL(blob);
const widget = await import(url);
const {{ state, variants }} = JSON.parse(text("neuron-groups-state"));
const revive = (value) => {{
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {{
    if ("$base64" in value) return widget.decodeBase64(value.$base64);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }}
  return value;
}};
const model = new widget.StaticModel(revive(state), revive(variants));
const el = document.getElementById("neuron-groups-root");
const def = widget.default;
await (def.render ?? (await def.initialize?.({{ model }}))?.render)({{ model, el }});
</script>
</body>
</html>
"""


def _static_text(name: str) -> str:
    from neuron_groups.widget import _static

    return _static(name).read_text(encoding="utf-8")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _script_safe(text: str) -> str:
    # Inside <script>, only "</" can end the block early; "<\\/" means the same to JSON and JS.
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def page(state: dict, variants: dict[int, dict], title: str) -> str:
    """The HTML of a standalone page for front-end ``state`` and per-group-count ``variants``."""
    data = json.dumps(
        {
            "state": _jsonable(state),
            "variants": {str(k): _jsonable(v) for k, v in variants.items()},
        },
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return _PAGE.format(
        title=html.escape(title),
        css=_script_safe(_static_text("widget.css")),
        state=_script_safe(data),
        esm=_script_safe(_static_text("widget.js")),
    )


def _write(text: str, path: str | os.PathLike | None) -> str:
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def results_html(
    results: dict[int, NeuronGroupsResult],
    current: int,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    hues: dict[int, list[float]] | None = None,
    class_options: list[str] | None = None,
) -> str:
    """Write (when ``path`` is given) and return the page for several group counts."""
    hues = dict(hues or {})
    previous = None
    for n in sorted(results, key=lambda k: (k != current, k)):
        if n not in hues:
            prev_channel = results[previous].channel if previous is not None else None
            hues[n] = stable_hues(results[n].channel, prev_channel, hues.get(previous))
        previous = n
    result = results[current]
    state = full_state(result, hues[current], class_options or [])
    state.update(
        n_groups_options=sorted(results),
        classes=list(result.classes),
        selected_group=-1,
        status="ready",
        progress=1.0 if result.icons is not None else 0.0,
        progress_text="",
        error="",
        title=title,
    )
    variants = {n: group_state(r, hues[n]) for n, r in results.items() if n != current}
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
    )
    return Path(path)
