"""The multi-layer standalone page (``save_page`` of a two-layer result) in headless chromium.

chameleon at mixed4a (5 groups) -> mixed4d (6 groups) -> African chameleon, green lizard, read
with the real model; the icons are noise (rendering real ones takes minutes on a CPU). A real
case where the article's linear attribution misleads: mixed4d's group 4 is linear evidence
*against* "African chameleon" (about -1.4) while removing it lowers that logit by about 4,
the largest measured effect, so its cell and its curve to the class are marked. The page is
opened from disk in an offline context with every host but localhost unresolvable
(``chromium.FLAGS``): every request it makes must be ``file:``, ``blob:`` or ``data:``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from neuron_groups.attribution import sign_disagreements
from neuron_groups.display.page import save_page
from neuron_groups.images import load_image
from neuron_groups.reading import ImageReading
from neuron_groups.result import NeuronGroupsResult

from .chromium import browser
from .test_standalone_page import (
    LOAD_TIMEOUT,
    UI_TIMEOUT,
    check_table,
    choose_method,
    open_page,
)

pytestmark = pytest.mark.browser

LAYERS = ["mixed4a", "mixed4d"]
COUNTS = [5, 6]
IMAGE = "chameleon"
CLASSES = ["African chameleon", "green lizard"]
SELECTED = re.compile(r"\bis-selected\b")
PINNED = re.compile(r"\bis-pinned\b")
EMPHASIZED = re.compile(r"\bis-emphasized\b")
FADED = re.compile(r"\bis-faded\b")

# Where a curve starts and ends on the page, and the boxes of the tiles it joins.
CURVE_ENDS = """path => {
  const total = path.getTotalLength();
  const m = path.getScreenCTM();
  const at = (len) => {
    const p = path.getPointAtLength(len);
    return [p.x * m.a + m.e, p.y * m.d + m.f];
  };
  const tile = (layer, j) => {
    const r = document.querySelector(`.ng-tile[data-layer="${layer}"][data-group="${j}"]`)
      .getBoundingClientRect();
    return [r.left, r.right, r.top + r.height / 2];
  };
  const d = path.dataset;
  return {
    start: at(0), end: at(total), from: tile(d.fromLayer, d.from), to: tile(d.toLayer, d.to),
  };
}"""

# Where the middle of a curve is on the page.
MIDDLE = """p => {
  const q = p.getPointAtLength(p.getTotalLength() / 2), m = p.getScreenCTM();
  return [q.x * m.a + m.e, q.y * m.d + m.f];
}"""


@pytest.fixture(scope="module")
def layers_result(inception, shared) -> NeuronGroupsResult:
    """The two-layer reading, with noise icons at both layers."""
    image = load_image(shared / "images" / f"{IMAGE}.png")
    reading = ImageReading(inception, image, LAYERS, classes=CLASSES)
    result = reading.analyze(COUNTS, classes=CLASSES)
    rng = np.random.default_rng(0)
    for layer, n in zip(LAYERS, COUNTS, strict=True):
        result.groups[layer].icons = rng.random((n, 80, 80, 3)).astype(np.float32)
    return result


@pytest.fixture(scope="module")
def layers_page(tmp_path_factory, layers_result) -> Path:
    """The two-layer reading's page."""
    path = tmp_path_factory.mktemp("layers") / f"{IMAGE}_layers.html"
    save_page(layers_result, path, title=f"{IMAGE}: mixed4a -> mixed4d")
    return path


def test_layers_page_offline(layers_page: Path) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=True, viewport={"width": 1200, "height": 1400})
        visit = open_page(context, layers_page.as_uri())
        page = visit.page
        widget = page.locator(".neuron-groups")
        expect(page.locator("#neuron-groups-root")).to_have_attribute(
            "data-ready", "true", timeout=LOAD_TIMEOUT
        )
        expect(widget).to_have_class(re.compile(r"\bis-multi\b"))
        expect(widget.locator(".ng-error")).to_be_hidden()

        # Two columns of tiles, input to output, then the classes; noise icons everywhere.
        columns = widget.locator(".ng-column")
        assert [columns.nth(i).get_attribute("data-layer") for i in range(3)] == [
            *LAYERS,
            "classes",
        ]
        for layer, n in zip(LAYERS, COUNTS, strict=True):
            column = widget.locator(f'.ng-column[data-layer="{layer}"]')
            expect(column.locator(".ng-tile")).to_have_count(n)
            expect(column.locator(".ng-icon:visible")).to_have_count(n)
            expect(column.locator(".ng-layer-count")).to_have_text(f"{n} groups")
        expect(widget.locator(".ng-class-node")).to_have_count(len(CLASSES))
        expect(widget.locator(".ng-table thead th[data-group]")).to_have_count(COUNTS[-1])
        # No kernel behind a page: no image picker.
        expect(widget.locator(".ng-image-picker")).to_be_hidden()

        # One curve per pair of groups; the ones above the threshold are drawn, and each
        # joins the right edge of its group to the left edge of the next column's group.
        curves = widget.locator(".ng-curve")
        expect(curves).to_have_count(COUNTS[0] * COUNTS[1] + COUNTS[1] * len(CLASSES))
        drawn = widget.locator('.ng-curve[data-from-layer="mixed4a"]:not(.is-hidden)')
        assert drawn.count() > 0
        for k in range(drawn.count()):
            ends = drawn.nth(k).evaluate(CURVE_ENDS)
            assert ends["start"] == pytest.approx([ends["from"][1], ends["from"][2]], abs=1.5)
            assert ends["end"] == pytest.approx([ends["to"][0], ends["to"][2]], abs=1.5)
        strongest = widget.locator('.ng-curve[data-from-layer="mixed4a"][data-fraction="1.000"]')
        expect(strongest).to_have_count(1)
        assert float(strongest.get_attribute("stroke-width")) == pytest.approx(8)

        # Hovering a mixed4a group: its spotlight (mixed4a's map) and its curves out.
        page.mouse.move(1, 1)
        expect(widget.locator(".ng-spotlight")).to_be_hidden()
        tile = widget.locator('.ng-tile[data-layer="mixed4a"][data-group="1"]')
        tile.hover()
        expect(widget).to_have_attribute("data-selected-layer", "mixed4a", timeout=UI_TIMEOUT)
        expect(widget).to_have_attribute("data-selected", "1")
        expect(tile).to_have_class(SELECTED)
        spotlight = widget.locator(".ng-spotlight")
        expect(spotlight).to_be_visible()
        expect(spotlight).to_have_attribute("data-layer", "mixed4a")
        expect(widget.locator(".ng-map-group")).to_be_visible()
        mixed4a_spot = spotlight.evaluate("c => c.toDataURL()")
        out = widget.locator('.ng-curve[data-from-layer="mixed4a"][data-from="1"]')
        expect(out).to_have_count(COUNTS[1])
        for k in range(COUNTS[1]):
            expect(out.nth(k)).to_have_class(EMPHASIZED)
        others = widget.locator('.ng-curve:not([data-from-layer="mixed4a"][data-from="1"])')
        for k in range(others.count()):
            expect(others.nth(k)).to_have_class(FADED)
        opacity = "p => Number(getComputedStyle(p).strokeOpacity)"
        assert out.first.evaluate(opacity) > 2 * others.first.evaluate(opacity)

        # The last layer's group of the same index has another map: another spotlight.
        widget.locator('.ng-tile[data-layer="mixed4d"][data-group="1"]').hover()
        expect(widget).to_have_attribute("data-selected-layer", "mixed4d", timeout=UI_TIMEOUT)
        expect(spotlight).to_have_attribute("data-layer", "mixed4d")
        assert spotlight.evaluate("c => c.toDataURL()") != mixed4a_spot

        # Hovering a curve shows its value.
        curve = widget.locator('.ng-curve[data-from-layer="mixed4a"]:not(.is-hidden)').first
        x, y = curve.evaluate(MIDDLE)
        page.mouse.move(x, y)
        tip = widget.locator(".ng-flow-tip")
        expect(tip).to_be_visible(timeout=UI_TIMEOUT)
        hovered = widget.locator(".ng-curve.is-hovered")
        expect(hovered).to_have_count(1)
        expect(tip).to_have_text(hovered.locator("title").text_content())
        assert re.search(r"-?\d+\.\d{3}$", tip.text_content())

        # Pin, leave, still shown; unpin.
        tile.click()
        expect(tile).to_have_attribute("aria-pressed", "true", timeout=UI_TIMEOUT)
        page.mouse.move(1, 1)
        expect(widget).to_have_attribute("data-pinned-layer", "mixed4a")
        expect(widget).to_have_attribute("data-pinned", "1")
        expect(widget).to_have_attribute("data-selected-layer", "mixed4a")
        expect(tile).to_have_class(PINNED)
        expect(spotlight).to_be_visible()
        expect(out.first).to_have_class(EMPHASIZED)
        tile.click()
        expect(widget).to_have_attribute("data-pinned", "-1", timeout=UI_TIMEOUT)
        page.mouse.move(1, 1)
        expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)
        expect(spotlight).to_be_hidden()

        # The keyboard reaches every layer: Right goes to the next column.
        widget.locator('.ng-tile[data-layer="mixed4a"][data-group="4"]').focus()
        page.keyboard.press("ArrowRight")
        expect(widget.locator('.ng-tile[data-layer="mixed4d"][data-group="4"]')).to_be_focused()
        page.keyboard.press("ArrowDown")
        expect(widget.locator('.ng-tile[data-layer="mixed4d"][data-group="5"]')).to_be_focused()
        page.keyboard.press("ArrowLeft")  # mixed4a has 5 groups: its last one
        expect(widget.locator('.ng-tile[data-layer="mixed4a"][data-group="4"]')).to_be_focused()

        # The threshold (view only): at 1, only each pair's largest curve is drawn.
        threshold = widget.locator(".ng-threshold")
        threshold.fill("1")
        expect(widget.locator(".ng-curve:not(.is-hidden)")).to_have_count(
            widget.locator('.ng-curve[data-fraction="1.000"]').count(), timeout=UI_TIMEOUT
        )
        threshold.fill("0")
        assert widget.locator(".ng-curve:not(.is-hidden)").count() > drawn.count()

        assert visit.remote_requests() == []
        assert visit.errors == []
        context.close()


CURVES = """paths => paths.map((p) => [
    Number(p.dataset.from), Number(p.dataset.to), Number(p.dataset.value),
    Number(p.getAttribute("stroke-width")), p.dataset.disagrees === "true",
    getComputedStyle(p).strokeDasharray, p.querySelector("title").textContent,
])"""


def check_curves(widget, expected: np.ndarray, disagree: np.ndarray, side: str) -> list[float]:
    """The curves of one pair of columns (``side``: a selector of their paths) show the flows
    ``expected`` (n_from, n_to), dashed and explained exactly where ``disagree``; returns their
    widths in (from, to) order."""
    curves = sorted(widget.locator(f"path.ng-curve{side}").evaluate_all(CURVES))
    assert len(curves) == expected.size
    for i, j, value, _, marked, dashes, title in curves:
        assert value == float(np.float32(expected[i, j])), (i, j)
        assert marked == bool(disagree[i, j]), (i, j)
        assert (dashes != "none") == marked, (i, j, dashes)
        assert ("disagree in sign" in title) == marked, title
    return [width for _, _, _, width, *_ in curves]


def test_the_switch_changes_the_table_and_the_flows(
    layers_page: Path, layers_result: NeuronGroupsResult
) -> None:
    """Issue 19 offline: each method shows its table and its flows (the curves to the classes
    are the table's); the marks sit where linear and measured effects disagree in sign."""
    from playwright.sync_api import expect

    result = layers_result
    pair = (LAYERS[0], LAYERS[1])
    marks = sign_disagreements(result.tables["linear"], result.tables["ablation"])  # (k, n)
    assert marks.any(), "the page was chosen for a cell where linear and measured disagree"
    flow_marks = sign_disagreements(
        result.flow_tables["linear"][pair], result.flow_tables["ablation"][pair]
    )
    with browser() as chromium:
        context = chromium.new_context(offline=True, viewport={"width": 1200, "height": 1400})
        visit = open_page(context, layers_page.as_uri())
        widget = visit.page.locator(".neuron-groups")
        expect(widget.locator(".ng-column")).to_have_count(3, timeout=LOAD_TIMEOUT)
        widths = {}
        for method in ("linear", "ablation", "integrated"):
            choose_method(widget, method)
            check_table(widget, result, method)
            between = check_curves(
                widget,
                result.flow_tables[method][pair],
                flow_marks,
                f'[data-from-layer="{LAYERS[0]}"]',
            )
            to_classes = check_curves(
                widget, result.tables[method].T, marks.T, '[data-to-layer="classes"]'
            )
            widths[method] = between + to_classes
        assert widths["linear"] != widths["integrated"] != widths["ablation"]

        # A marked curve explains itself on hover, in the tip (a cell: in its title).
        curve = widget.locator(".ng-curve.is-disagreeing:not(.is-hidden)").first
        x, y = curve.evaluate(MIDDLE)
        visit.page.mouse.move(x, y)
        expect(widget.locator(".ng-curve.is-hovered")).to_have_attribute(
            "data-disagrees", "true", timeout=UI_TIMEOUT
        )
        expect(widget.locator(".ng-flow-tip")).to_contain_text("disagree in sign")
        assert visit.remote_requests() == []
        assert visit.errors == []
        context.close()
