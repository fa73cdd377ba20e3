"""The standalone page (``save_html`` / ``save_page`` / the CLI's ``--out``) in headless chromium.

The page is opened from disk with every host but localhost unresolvable (``chromium.FLAGS``),
and again in a context with ``offline=True``; every request it makes must be ``file:``,
``blob:`` or ``data:``. Results are real (dog_cat at mixed4d, 6 and 4 groups); the icons of
the 6-group result are noise (rendering real ones takes minutes on a CPU).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from neuron_groups.display.page import result_page, save_page
from neuron_groups.reading import ImageReading
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


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory, inception, dog_cat) -> Path:
    """dog_cat at mixed4d with 6 groups (noise icons) and 4 groups cached."""
    reading = ImageReading(inception, dog_cat, "mixed4d")
    results = {n: reading.analyze(n) for n in (6, 4)}
    results[6].icons = np.random.default_rng(0).random((6, 80, 80, 3)).astype(np.float32)
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
