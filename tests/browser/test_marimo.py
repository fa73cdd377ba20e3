"""``examples/neuron_groups_marimo.py`` served by ``marimo run``, in headless chromium.

The notebook wraps a GroupWidget in ``mo.ui.anywidget``; the cell after it reads
``view.widget.selected_group`` and prints the pinned group's effects. One server and one page
serve every test: the widget renders and its icons (optimized in a background thread of the
kernel) arrive, hovering a tile spotlights its group, and a click on a tile reaches Python:
marimo runs the dependent cell again and its output names the pinned group with the same
numbers as the widget's table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .chromium import browser
from .notebook_ui import UI_TIMEOUT, collect_errors
from .servers import running_marimo

pytestmark = pytest.mark.browser

NOTEBOOK = "neuron_groups_marimo.py"
RUN_TIMEOUT = 180_000  # ms: marimo running the cells (TensorFlow, the model, the groups)


@dataclass
class App:
    page: object
    console_errors: list[str]

    @property
    def widget(self):
        return self.page.locator(".neuron-groups")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """The marimo app open in the browser, its widget drawn."""
    from playwright.sync_api import expect

    base = tmp_path_factory.mktemp("marimo")
    with running_marimo(base, NOTEBOOK) as server, browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        opened = App(page, collect_errors(page))
        page.goto(f"{server.url}/?access_token={server.token}", timeout=UI_TIMEOUT)
        try:
            expect(opened.widget).to_have_count(1, timeout=RUN_TIMEOUT)
        except AssertionError:
            pytest.fail(f"no widget in the marimo app:\n{page.inner_text('body')[-3000:]}")
        yield opened
        context.close()


def test_the_widget_renders_and_its_icons_arrive(app: App) -> None:
    from playwright.sync_api import expect

    widget = app.widget
    expect(widget.locator(".ng-error")).to_be_hidden()
    expect(widget.locator(".ng-tile")).to_have_count(6)
    expect(widget.locator(".ng-map")).to_be_visible()
    rows = widget.locator(".ng-table tbody th.ng-class-name")
    # The model loads in the background (the frame shows at once): the rows follow.
    expect(rows).to_have_text(["Labrador retriever", "tiger cat"], timeout=RUN_TIMEOUT)
    # The icons are sent from the kernel's background thread, after the cell has finished.
    expect(widget).to_have_attribute("data-status", "ready", timeout=RUN_TIMEOUT)
    icons = widget.locator("img.ng-icon")
    expect(icons).to_have_count(6)
    widths = icons.evaluate_all("(imgs) => imgs.map((img) => img.complete && img.naturalWidth)")
    assert all(widths), f"icons not drawn: natural widths {widths}"


def test_hovering_a_tile_spotlights_its_group(app: App) -> None:
    from playwright.sync_api import expect

    widget = app.widget
    widget.locator('.ng-tile[data-group="2"]').hover()
    expect(widget).to_have_attribute("data-selected", "2", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_visible()
    expect(widget.locator('.ng-table th[data-group="2"]')).to_have_class(
        re.compile(r"\bis-selected\b")
    )
    widget.locator(".ng-image").hover()
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)


def test_a_pin_reaches_python_and_reruns_the_dependent_cell(app: App) -> None:
    from playwright.sync_api import expect

    page, widget = app.page, app.widget
    expect(page.get_by_text("No group pinned")).to_have_count(1)
    widget.locator('.ng-tile[data-group="1"]').click()
    expect(widget).to_have_attribute("data-pinned", "1", timeout=UI_TIMEOUT)
    summary = page.get_by_text(re.compile(r"^Pinned group \d+:"))
    expect(summary).to_have_count(1, timeout=UI_TIMEOUT)
    text = summary.inner_text()
    assert text.startswith("Pinned group 1:"), text
    # Python's numbers for the pinned group are the widget's table column.
    cells = widget.locator('.ng-table td[data-group="1"]').all_inner_texts()
    printed = [float(v) for v in re.findall(r"[+-]\d+\.\d+", text)]
    shown = [float(c.strip().replace("\u2212", "-")) for c in cells]
    assert len(printed) == len(shown) == 2, (text, cells)
    assert all(abs(p - s) < 0.01 for p, s in zip(printed, shown, strict=True)), (text, cells)
    expect(page.get_by_text("No group pinned")).to_have_count(0)


def test_no_errors_in_the_browser_console(app: App) -> None:
    """Runs last: covers loading, running, hovering and clicking."""
    assert app.console_errors == []
