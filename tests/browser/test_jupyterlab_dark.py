"""The widget in JupyterLab's dark theme: its text readable, its map readable.

The shared JupyterLab server's user setting for ``@jupyterlab/apputils-extension:themes`` is
set to "JupyterLab Dark" through the settings REST API (restored afterwards), a small notebook
with one GroupWidget (no icons: they do not change the colours) is run, and the page's
computed colours are read:

- text: every visible piece of text in the widget (caption, controls, tile labels, the table
  and its coloured cells) against the background it is drawn on (the nearest opaque
  background, semi-transparent layers composited), WCAG contrast ratio at least 4.5:1, with
  nothing pinned and with a group pinned;
- map (on screenshots, so that whatever the theme does to it counts): each group, shown alone
  (hovered), reaches at least 3:1 (WCAG's ratio for graphics) against the map's backdrop
  somewhere, and the all-groups map is not all dark.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from .chromium import browser
from .jupyterlab import LabServer
from .notebook_ui import UI_TIMEOUT, NotebookPage, collect_errors

pytestmark = pytest.mark.browser

NOTEBOOK = "dark_theme.ipynb"
THEMES = "@jupyterlab/apputils-extension:themes"
DARK = "JupyterLab Dark"
N_GROUPS = 6
TEXT_CONTRAST = 4.5  # WCAG 2 AA, normal text
GRAPHICS_CONTRAST = 3.0  # WCAG 2 AA, graphical objects (1.4.11)
MAP_VISIBLE_SHARE = 0.1  # at least this share of the map stands out from its backdrop
# (the map is every group's colour scaled by its presence, on black: where no group is strong
# it is dark by design; for dog_cat at mixed4d about a quarter of it stands out)

CODE = f"""\
from neuron_groups import GroupWidget
w = GroupWidget("dog_cat", "mixed4d", {N_GROUPS}, ["Labrador retriever", "tiger cat"],
                icons=False, title="Dark theme")
w"""

# Colour arithmetic in the page: parse CSS colours, composite, WCAG luminance and contrast.
_COLOUR_JS = """
const parse = (css) => {
  const m = css.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return null;
  const v = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
};
const over = (top, below) => {  // top (with alpha) over an opaque colour
  const a = top[3];
  return [0, 1, 2].map((i) => top[i] * a + below[i] * (1 - a)).concat([1]);
};
const luminance = (c) => {
  const lin = c.slice(0, 3).map((v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
};
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const background = (el) => {  // what el is drawn on: its and its ancestors' backgrounds
  const layers = [];
  for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
    const c = parse(getComputedStyle(node).backgroundColor);
    if (c && c[3] > 0) {
      layers.push(c);
      if (c[3] >= 1) break;
    }
  }
  let base = [255, 255, 255, 1];  // the canvas of the page when nothing is opaque
  if (layers.length && layers[layers.length - 1][3] >= 1) base = layers.pop();
  for (const layer of layers.reverse()) base = over(layer, base);
  return base;
};
"""

_TEXT_CONTRASTS = (
    "(root) => {"
    + _COLOUR_JS
    + """
  const out = [];
  // Shown: laid out, visible and not fully transparent (the method switch's radios are
  // opacity 0 under their labels: they draw no text).
  const shown = (el) => el.getClientRects().length > 0 &&
      getComputedStyle(el).visibility !== 'hidden' && getComputedStyle(el).opacity !== '0';
  for (const el of [root, ...root.querySelectorAll('*')]) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3)
        .map((n) => n.textContent).join('').trim();
    const control = ['INPUT', 'SELECT', 'BUTTON', 'TEXTAREA'].includes(el.tagName);
    if ((!own && !control) || !shown(el) || el.type === 'range') continue;
    const bg = background(el);
    const fg = over(parse(getComputedStyle(el).color), bg);
    out.push({
      text: (own || el.value || el.placeholder || el.tagName).slice(0, 40),
      cls: el.className && el.className.baseVal === undefined ? el.className : el.tagName,
      fg: fg.slice(0, 3).map(Math.round), bg: bg.slice(0, 3).map(Math.round),
      ratio: contrast(fg, bg),
    });
  }
  return out;
}"""
)

_BACKGROUND = "(el) => {" + _COLOUR_JS + "return background(el).slice(0, 3); }"


def _contrast_to(pixels, background) -> object:
    """WCAG contrast of each pixel (h, w, 3) uint8 against one colour: (h, w)."""
    import numpy as np

    def luminance(rgb):  # (..., 3) 0..255 -> (...)
        s = np.asarray(rgb, dtype=np.float64) / 255
        lin = np.where(s <= 0.03928, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)
        return lin @ np.array([0.2126, 0.7152, 0.0722])

    a, b = luminance(pixels), luminance(background)
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def _seen(locator) -> object:
    """What the user sees of an element (a screenshot: filters and opacity included),
    as uint8 (h, w, 3)."""
    import io

    import numpy as np
    import PIL.Image

    with PIL.Image.open(io.BytesIO(locator.screenshot(animations="disabled"))) as shot:
        return np.asarray(shot.convert("RGB"))


def _put_theme(server: LabServer, theme: str | None) -> None:
    """Write the themes plugin's user settings (None: back to the default theme)."""
    raw = json.dumps({"theme": theme} if theme else {})
    request = urllib.request.Request(
        f"{server.url}/lab/api/settings/{THEMES}",
        data=json.dumps({"raw": raw}).encode(),
        method="PUT",
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204, response.status


def _write_notebook(path) -> None:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
    notebook = {
        "cells": [{**cell, "source": CODE}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))


@pytest.fixture(scope="module")
def dark(lab_server: LabServer) -> Iterator[NotebookPage]:
    """A one-widget notebook run in JupyterLab with the dark theme."""
    from playwright.sync_api import expect

    _write_notebook(lab_server.root / NOTEBOOK)
    _put_theme(lab_server, DARK)
    try:
        with browser() as chromium:
            context = chromium.new_context(viewport={"width": 1280, "height": 1000})
            page = context.new_page()
            nb = NotebookPage(page, lab_server, NOTEBOOK, collect_errors(page))
            nb.open(lab_server.lab_url(NOTEBOOK))
            expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
            nb.run_all()
            nb.assert_every_cell_ran()
            expect(page.locator(".neuron-groups")).to_have_attribute(
                "data-status", "ready", timeout=UI_TIMEOUT
            )
            yield nb
            context.close()
    finally:
        _put_theme(lab_server, None)
        lab_server.shut_down(NOTEBOOK)


def _low_contrast(widget) -> tuple[list[dict], int]:
    found = widget.evaluate(_TEXT_CONTRASTS)
    return [t for t in found if t["ratio"] < TEXT_CONTRAST], len(found)


def test_text_contrast_in_the_dark_theme(dark: NotebookPage) -> None:
    from playwright.sync_api import expect

    widget = dark.page.locator(".neuron-groups")
    dark.page.mouse.move(0, 0)
    low, checked = _low_contrast(widget)
    assert checked > 20, f"only {checked} pieces of text found: the widget did not render"
    widget.locator(f'.ng-tile[data-group="{N_GROUPS - 1}"]').click()  # pin: column and tile
    expect(widget).to_have_attribute("data-pinned", str(N_GROUPS - 1), timeout=UI_TIMEOUT)
    dark.page.mouse.move(0, 0)
    low_pinned, _ = _low_contrast(widget)
    widget.locator(f'.ng-tile[data-group="{N_GROUPS - 1}"]').click()  # unpin
    expect(widget).to_have_attribute("data-pinned", "-1", timeout=UI_TIMEOUT)
    assert not low + low_pinned, (
        f"text below {TEXT_CONTRAST}:1 in the dark theme (nothing pinned): {low}; "
        f"(a group pinned): {low_pinned}"
    )


def test_the_map_is_readable_in_the_dark_theme(dark: NotebookPage) -> None:
    """Contrast against the map's own backdrop (the panel behind the canvas), on screenshots."""
    import numpy as np
    from playwright.sync_api import expect

    widget = dark.page.locator(".neuron-groups")
    backdrop = widget.locator(".ng-panel-map").evaluate(_BACKGROUND)
    faint = {}
    for j in range(N_GROUPS):
        widget.locator(f'.ng-tile[data-group="{j}"]').hover()
        expect(widget).to_have_attribute("data-selected", str(j), timeout=UI_TIMEOUT)
        best = float(_contrast_to(_seen(widget.locator(".ng-map-group")), backdrop).max())
        if best < GRAPHICS_CONTRAST:
            faint[j] = round(best, 2)
    dark.page.mouse.move(0, 0)
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)
    ratios = _contrast_to(_seen(widget.locator(".ng-map")), backdrop)
    share = float(np.mean(ratios >= GRAPHICS_CONTRAST))
    assert not faint, (
        f"groups that, shown alone, never reach {GRAPHICS_CONTRAST}:1 against the map's "
        f"backdrop {backdrop}: {faint} (best ratio per group)"
    )
    assert share >= MAP_VISIBLE_SHARE, (
        f"only {share:.0%} of the map stands out ({GRAPHICS_CONTRAST}:1) from its backdrop "
        f"{backdrop}: the map is all dark (contrast percentiles 50/90/99: "
        f"{np.percentile(ratios, [50, 90, 99]).round(2).tolist()})"
    )


def test_no_errors_in_the_browser_console(dark: NotebookPage) -> None:
    assert dark.console_errors == []
