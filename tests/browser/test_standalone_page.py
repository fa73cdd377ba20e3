"""The standalone page (``save_html`` / ``save_page`` / the CLI's ``--out``) in headless chromium.

The page is opened from disk with every host but localhost unresolvable (``chromium.FLAGS``),
and again in a context with ``offline=True``; every request it makes must be ``file:``,
``blob:`` or ``data:``. Results are real (dog_cat at mixed4d, 6 and 4 groups, measured: the
explained variance over counts and each group's stability); the icons of the 6-group result
are noise (rendering real ones takes minutes on a CPU), the 4-group result has none (its tiles
show the image regions). The helpers that check the attribution table against a result are
shared with the multi-layer page's test.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

from neuron_groups.attribution import sign_disagreements
from neuron_groups.display.page import result_page, save_page
from neuron_groups.display.state import REGION_SIZE, format_value, region_pngs
from neuron_groups.reading import ImageReading
from neuron_groups.result import NeuronGroupsResult
from tests.fakes import fake_result

from .chromium import browser

pytestmark = pytest.mark.browser

UI_TIMEOUT = 15_000  # ms to wait for the page to react (a bound on waiting, not an assertion)
LOAD_TIMEOUT = 30_000
LOCAL_SCHEMES = ("file:", "blob:", "data:")
SELECTED = re.compile(r"\bis-selected\b")
PINNED = re.compile(r"\bis-pinned\b")

EVIL_CLASS = "</script><img src=x onerror=alert(1)>"
EVIL_TITLE = "Dog & <b>cat</b></title><img src=x onerror=alert(2)>"


@dataclass
class Visit:
    """A page opened in chromium and what it did meanwhile."""

    page: object
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def remote_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]


def open_page(context, url: str) -> Visit:
    """Open ``url`` in a new page of ``context``, recording requests, errors and dialogs."""
    page = context.new_page()
    visit = Visit(page)
    page.on("request", lambda request: visit.requests.append(request.url))
    page.on("pageerror", lambda error: visit.errors.append(f"pageerror: {error}"))
    page.on(
        "console",
        lambda msg: visit.errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )

    def on_dialog(dialog):
        visit.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    return visit


def check_hover_and_pin(widget, page, n_groups: int, group: int = 2) -> None:
    """Hover tile ``group`` (spotlight + table column), leave, click to pin, unpin."""
    from playwright.sync_api import expect

    expect(widget.locator(".ng-tile")).to_have_count(n_groups, timeout=LOAD_TIMEOUT)
    page.mouse.move(1, 1)  # off the widget
    expect(widget.locator(".ng-spotlight")).to_be_hidden(timeout=UI_TIMEOUT)
    tile = widget.locator(f'.ng-tile[data-group="{group}"]')
    tile.hover()
    expect(widget).to_have_attribute("data-selected", str(group), timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_visible()
    expect(widget.locator(".ng-map-group")).to_be_visible()
    column = widget.locator(f'.ng-table [data-group="{group}"]')
    assert column.count() >= 2  # the header and at least one class
    for k in range(column.count()):
        expect(column.nth(k)).to_have_class(SELECTED)
    other = (group + 1) % n_groups
    expect(widget.locator(f'.ng-table th[data-group="{other}"]')).not_to_have_class(SELECTED)

    page.mouse.move(1, 1)  # off the widget
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_hidden()

    tile.click()
    expect(tile).to_have_attribute("aria-pressed", "true", timeout=UI_TIMEOUT)
    page.mouse.move(1, 1)
    expect(widget).to_have_attribute("data-pinned", str(group))
    expect(widget).to_have_attribute("data-selected", str(group))
    expect(widget.locator(".ng-spotlight")).to_be_visible()
    expect(widget.locator(f'.ng-table th[data-group="{group}"]')).to_have_class(PINNED)
    tile.click()
    expect(widget).to_have_attribute("data-pinned", "-1", timeout=UI_TIMEOUT)
    page.mouse.move(1, 1)
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)


# -- the attribution table in each method (shared with the multi-layer page's test) ----------

METHODS = ("integrated", "linear", "ablation")
"""The switch's methods, in its order."""

TEXTS = "nodes => nodes.map((n) => n.textContent)"
MARKS = """tds => tds.map((td) => [
    td.classList.contains("has-disagreement"),
    getComputedStyle(td, "::after").content,
    td.title,
])"""


def choose_method(widget, method: str) -> None:
    """Click ``method`` in the switch, as a person does; wait until the table shows it."""
    from playwright.sync_api import expect

    widget.locator(f'.ng-method-switch .ng-method[data-method="{method}"]').click()
    expect(widget.locator(".ng-table")).to_have_attribute("data-method", method, timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-method-switch")).to_have_attribute("data-method", method)
    expect(widget.locator(f'.ng-method-input[value="{method}"]')).to_be_checked()


def check_table(widget, result: NeuronGroupsResult, method: str) -> None:
    """The table shows ``result.tables[method]`` (as the page writes numbers), a rest column
    for integrated gradients only, and a mark ("!", the explanation in the title) exactly on
    the cells where the linear and the measured effects disagree in sign."""
    from playwright.sync_api import expect

    shown = np.asarray(result.tables[method], np.float32)  # (k, n): what the page decodes
    cells = widget.locator(".ng-table tbody td[data-group]")  # row-major: class, then group
    assert cells.evaluate_all(TEXTS) == [format_value(v) for v in shown.ravel()], method
    rest = widget.locator(".ng-table td.ng-rest")
    if method == "integrated":
        expect(widget.locator(".ng-table th.ng-rest-head")).to_have_count(1)
        expected = [format_value(v) for v in np.asarray(result.rest, np.float32)]
        assert rest.evaluate_all(TEXTS) == expected
    else:
        expect(widget.locator(".ng-table th.ng-rest-head")).to_have_count(0)
        expect(rest).to_have_count(0)
    disagree = sign_disagreements(result.tables["linear"], result.tables["ablation"]).ravel()
    marks = cells.evaluate_all(MARKS)
    assert [marked for marked, _, _ in marks] == disagree.tolist(), method
    for marked, after, title in marks:
        assert (after == '"!"') == marked, (after, title)
        assert ("disagree in sign" in title) == marked, title


def to_fixed(v: float, digits: int) -> str:
    """``v.toFixed(digits)`` as JavaScript writes it (ties away from zero, exact value)."""
    return str(Decimal(float(v)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))


def png_mean(png: bytes) -> list[float]:
    """The mean RGB of a PNG."""
    import PIL.Image

    with PIL.Image.open(io.BytesIO(png)) as picture:
        return np.asarray(picture.convert("RGB"), np.float64).mean(axis=(0, 1)).tolist()


SHOWN_MEAN = """img => {
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext("2d");
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
    return sum.map((s) => s / (d.length / 4));
}"""


def check_tiles(widget, result: NeuronGroupsResult) -> None:
    """Each tile shows its group's stability; its icon when the result has icons, else its
    region of the image (the right one, labelled "region"), never both."""
    from playwright.sync_api import expect

    tiles = widget.locator(".ng-tile")
    expect(tiles).to_have_count(result.n_groups, timeout=UI_TIMEOUT)
    regions = region_pngs(result.image, result.spatial) if result.icons is None else None
    for j, stability in enumerate(result.last.stability):
        tile = widget.locator(f'.ng-tile[data-group="{j}"]')
        expect(tile).to_have_attribute("data-stability", to_fixed(stability, 2))
        expect(tile.locator(".ng-tile-stability")).to_have_text(to_fixed(stability, 2))
        expect(tile.locator(".ng-tile-stability")).to_have_attribute("title", re.compile("^stab"))
        icon, region = tile.locator("img.ng-icon"), tile.locator("img.ng-tile-region")
        tag = tile.locator(".ng-region-tag")
        if regions is None:
            expect(icon).to_be_visible()
            expect(region).to_be_hidden()
            expect(tag).to_be_hidden()
            assert region.get_attribute("src") is None
            continue
        expect(icon).to_be_hidden()
        expect(region).to_be_visible()
        expect(tag).to_be_visible()
        expect(tag).to_have_text("region")
        region.evaluate("img => img.decode()")
        assert region.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [REGION_SIZE] * 2
        assert region.evaluate(SHOWN_MEAN) == pytest.approx(png_mean(regions[j]), abs=0.5)


@pytest.fixture(scope="module")
def demo_results(inception, dog_cat) -> dict[int, NeuronGroupsResult]:
    """dog_cat at mixed4d with 6 groups (noise icons) and 4 (no icons), both measured."""
    reading = ImageReading(inception, dog_cat, "mixed4d")
    results = {n: reading.measure(reading.analyze(n)) for n in (6, 4)}
    results[6].icons = np.random.default_rng(0).random((6, 80, 80, 3)).astype(np.float32)
    return results


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory, demo_results) -> Path:
    """The page of the 6-group result, with the 4-group one as a variant."""
    results = demo_results
    path = tmp_path_factory.mktemp("standalone") / "dog_cat.html"
    result_page(results[6], path, title="dog_cat at mixed4d", variants=[results[4]])
    return path


@pytest.mark.parametrize("offline", [False, True], ids=["file", "offline-context"])
def test_page_is_interactive_without_network(demo_page: Path, offline: bool) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=offline, viewport={"width": 1200, "height": 900})
        visit = open_page(context, demo_page.as_uri())
        page = visit.page
        widget = page.locator(".neuron-groups")
        expect(widget).to_have_count(1, timeout=LOAD_TIMEOUT)
        expect(page.locator("#neuron-groups-root")).to_have_attribute("data-ready", "true")
        expect(widget.locator(".ng-error")).to_be_hidden()
        expect(widget.locator(".ng-title")).to_have_text("dog_cat at mixed4d")
        expect(widget.locator(".ng-image")).to_be_visible()
        expect(widget.locator(".ng-icon:visible")).to_have_count(6)
        check_hover_and_pin(widget, page, 6)

        # The groups control offers exactly the cached counts (not a slider over 1..6, whose
        # far-left thumb would read as a minimum), and moves between them: 6 -> 4 -> 6.
        control = widget.locator(".ng-groups-control")
        expect(control).to_have_attribute("data-mode", "select")
        expect(widget.locator(".ng-groups-input")).to_be_hidden()
        select = widget.locator(".ng-groups-select")
        expect(select).to_be_enabled()
        assert select.locator("option").all_inner_texts() == ["4", "6"]
        expect(select).to_have_value("6")
        select.focus()  # as a person does: the control takes the focus from the pinned tile
        select.select_option("4")
        expect(widget.locator(".ng-tile")).to_have_count(4, timeout=UI_TIMEOUT)
        expect(widget.locator(".ng-table thead th[data-group]")).to_have_count(4)
        expect(widget.locator(".ng-error")).to_be_hidden()
        check_hover_and_pin(widget, page, 4, group=1)
        select.focus()
        select.select_option("6")
        expect(select).to_have_value("6")
        expect(widget.locator(".ng-tile")).to_have_count(6, timeout=UI_TIMEOUT)
        expect(widget.locator(".ng-icon:visible")).to_have_count(6)
        expect(widget.locator(".ng-error")).to_be_hidden()

        assert visit.remote_requests() == []
        assert visit.errors == []
        context.close()


def test_methods_curve_stability_and_regions(demo_page: Path, demo_results) -> None:
    """Issue 19 and 22 offline: the switch changes the table, the curve marks the count shown
    and follows it, the tiles show their stability, and the regions while there is no icon."""
    from playwright.sync_api import expect

    six, four = demo_results[6], demo_results[4]
    with browser() as chromium:
        context = chromium.new_context(offline=True, viewport={"width": 1200, "height": 900})
        visit = open_page(context, demo_page.as_uri())
        widget = visit.page.locator(".neuron-groups")
        expect(widget.locator(".ng-tile")).to_have_count(6, timeout=LOAD_TIMEOUT)

        switch = widget.locator(".ng-method-switch")
        expect(switch).to_be_visible()
        labels = switch.locator(".ng-method")
        assert labels.evaluate_all("ls => ls.map((l) => l.dataset.method)") == list(METHODS)
        expect(switch).to_have_attribute("data-method", six.attribution_method)
        check_table(widget, six, six.attribution_method)
        for method in ("linear", "ablation", "integrated"):
            choose_method(widget, method)
            check_table(widget, six, method)
        check_tiles(widget, six)  # icons, no regions

        # The explained-variance curve over counts, the count shown marked; a click on the
        # point of another offered count (4) chooses it, and the mark moves there.
        explained = widget.locator(".ng-explained")
        curve = explained.locator("svg.ng-ev-curve")
        expect(curve).to_be_visible()
        by_k = six.last.explained_variance_by_k
        points = curve.locator("circle.ng-ev-point")
        expect(points).to_have_count(len(by_k))
        assert [float(v) for v in points.evaluate_all("ps => ps.map((p) => p.dataset.k)")] == [
            *range(1, len(by_k) + 1)
        ]
        ys = [float(y) for y in points.evaluate_all("ps => ps.map((p) => p.getAttribute('cy'))")]
        assert np.argmin(ys) == np.argmax(by_k) and np.argmax(ys) == np.argmin(by_k)  # up: more
        current = curve.locator("circle.ng-ev-current")
        centre = "c => [c.getAttribute('cx'), c.getAttribute('cy')]"
        for shown, result in ((6, six), (4, four)):
            if shown == 4:
                points.nth(3).click()
                expect(widget.locator(".ng-tile")).to_have_count(4, timeout=UI_TIMEOUT)
            expect(current).to_have_attribute("data-k", str(shown), timeout=UI_TIMEOUT)
            expect(current).to_be_visible()
            assert current.evaluate(centre) == points.nth(shown - 1).evaluate(centre)
            value = float(explained.get_attribute("data-value"))
            assert value == pytest.approx(result.last.explained_variance, abs=1e-12)
            assert value == pytest.approx(by_k[shown - 1], abs=1e-6)
        expect(widget.locator(".ng-groups-select")).to_have_value("4")

        check_tiles(widget, four)  # no icons: the regions
        check_table(widget, four, "integrated")  # the variant's table, in the method chosen
        widget.locator(".ng-groups-select").select_option("6")
        check_tiles(widget, six)  # the icons again, not the regions
        expect(current).to_have_attribute("data-k", "6")

        assert visit.remote_requests() == []
        assert visit.errors == []
        context.close()


def test_page_without_javascript_shows_the_static_view(demo_page: Path) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=True, java_script_enabled=False)
        page = context.new_page()
        page.goto(demo_page.as_uri())
        view = page.locator(".neuron-groups-static")
        expect(view).to_be_visible()
        expect(view.locator("img")).to_have_count(1)
        assert view.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
        expect(view.locator("tbody tr")).to_have_count(5)  # the top 5 classes
        expect(page.locator(".neuron-groups")).to_have_count(0)
        context.close()


def test_user_strings_are_text(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    result = fake_result(3, ("tabby", EVIL_CLASS), seed=1, top5=[EVIL_CLASS, "b", "c", "d", "e"])
    path = tmp_path / "evil.html"
    save_page(result, path, title=EVIL_TITLE)
    with browser() as chromium:
        for javascript in (True, False):
            context = chromium.new_context(offline=True, java_script_enabled=javascript)
            visit = open_page(context, path.as_uri())
            page = visit.page
            if javascript:
                widget = page.locator(".neuron-groups")
                expect(widget.locator(".ng-tile")).to_have_count(3, timeout=LOAD_TIMEOUT)
                expect(widget.locator(".ng-title")).to_have_text(EVIL_TITLE)
                expect(widget.locator(".ng-table")).to_contain_text(EVIL_CLASS)
                expect(widget.locator(".ng-predictions")).to_contain_text(EVIL_CLASS)
                expect(widget.locator(".ng-title b")).to_have_count(0)
            else:
                view = page.locator(".neuron-groups-static")
                expect(view).to_contain_text(EVIL_TITLE)
                expect(view.locator("table")).to_contain_text(EVIL_CLASS)
                expect(view.locator("b")).to_have_count(0)
            assert page.title() == EVIL_TITLE
            assert page.locator('img[src="x"]').count() == 0
            assert page.evaluate("document.querySelectorAll('img[onerror]').length") == 0
            assert visit.dialogs == []
            assert visit.errors == []
            context.close()


def _luminance(css_color: str) -> float:
    values = [float(v) for v in re.findall(r"[\d.]+", css_color)]
    if len(values) == 4 and values[3] == 0:  # transparent: the browser's white canvas shows
        values = [255.0, 255.0, 255.0]
    r, g, b = (v / 255 for v in values[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_is_readable_in_light_and_dark_schemes(demo_page: Path, scheme: str) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=True, color_scheme=scheme)
        page = context.new_page()
        page.goto(demo_page.as_uri())
        expect(page.locator(".neuron-groups .ng-title")).to_be_visible(timeout=LOAD_TIMEOUT)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        for selector in (".ng-title", ".ng-table tbody th", ".ng-meta"):
            color = page.locator(f".neuron-groups {selector}").first.evaluate(
                "node => getComputedStyle(node).color"
            )
            lighter, darker = sorted((_luminance(color), _luminance(background)), reverse=True)
            contrast = (lighter + 0.05) / (darker + 0.05)
            assert contrast >= 4.5, f"{selector}: {color} on {background} ({scheme})"
        context.close()


def test_a_module_that_fails_to_load_says_so(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    path = tmp_path / "broken.html"
    text = save_page(fake_result(3), None)
    assert text.count('"esm":"') == 1
    path.write_text(text.replace('"esm":"', '"esm":"throw new Error(\\"module broken\\");', 1))
    with browser() as chromium:
        context = chromium.new_context(offline=True)
        visit = open_page(context, path.as_uri())
        root = visit.page.locator("#neuron-groups-root")
        expect(root).to_have_text(re.compile("could not be shown: Error: module broken"))
        expect(root).to_have_class("ng-page-error")
        context.close()
