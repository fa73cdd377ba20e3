"""``examples/neuron_groups.ipynb`` as a Voila dashboard, in headless chromium.

Voila runs the notebook in a kernel of its own when the page is requested and shows the
outputs only (no code). One server and one page serve every test: both widgets render with
their icons (optimized in the kernel's background thread, sent as PNG bytes, shown from blob
URLs), and hovering a tile spotlights its group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from .chromium import browser
from .notebook_ui import UI_TIMEOUT, collect_errors
from .servers import running_voila

pytestmark = pytest.mark.browser

NOTEBOOK = "neuron_groups.ipynb"
RUN_TIMEOUT = 300_000  # ms: Voila running the whole notebook (TensorFlow, model, two widgets)

HOST_ERRORS = [
    # Voila's page links Font Awesome from a CDN: the network is off here.
    re.compile(r"Failed to load resource: net::ERR_NAME_NOT_RESOLVED \(https://cdn\.jsdelivr"),
    # Voila 0.5 also loads Notebook 7's lab extension, which asks for a shared module
    # (@jupyterlab/docregistry) Voila does not provide; nothing of the widget is involved.
    re.compile(r"(?s)The getter for the shared module is not a function.*@jupyter-notebook/"),
]
"""Errors the host logs on its own (checked to be only these, so new ones still fail)."""


@dataclass
class Dashboard:
    page: object
    console_errors: list[str]

    @property
    def widgets(self):
        return self.page.locator(".neuron-groups")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The example notebook rendered by Voila, both widgets on the page."""
    from playwright.sync_api import expect

    with running_voila(tmp_path_factory.mktemp("voila"), NOTEBOOK) as server, browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        board = Dashboard(page, collect_errors(page))
        # Voila streams the page while the notebook runs: wait for the widgets, not "load".
        page.goto(f"{server.url}/?token={server.token}", wait_until="commit", timeout=UI_TIMEOUT)
        try:
            expect(board.widgets).to_have_count(2, timeout=RUN_TIMEOUT)
        except AssertionError:
            pytest.fail(
                f"Voila shows no widgets:\n{page.inner_text('body')[-3000:]}\n{server.log_tail()}"
            )
        yield board
        context.close()


def test_the_dashboard_shows_both_widgets_and_no_code(dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    page = dashboard.page
    for j, n_groups in enumerate((6, 5)):
        view = dashboard.widgets.nth(j)
        expect(view.locator(".ng-error")).to_be_hidden()
        expect(view.locator(".ng-tile")).to_have_count(n_groups)
        expect(view.locator(".ng-map")).to_be_visible()
        expect(view.locator(".ng-table thead th[data-group]")).to_have_count(n_groups)
    expect(page.get_by_text("w.result.attribution_table()")).to_have_count(0)  # outputs only
    printed_table = page.get_by_text(re.compile(r"tiger cat\s+-?\d+\.\d{3}"))
    expect(printed_table.first).to_be_visible()  # the notebook's printed outputs are there


def test_the_icons_arrive(dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    for j in range(2):
        view = dashboard.widgets.nth(j)
        expect(view).to_have_attribute("data-status", "ready", timeout=UI_TIMEOUT)
        expect(view.locator(".ng-icon-placeholder:visible")).to_have_count(0)
        icons = view.locator("img.ng-icon")
        sources = icons.evaluate_all(
            "(imgs) => imgs.map((img) => [img.getAttribute('src') || '', img.naturalWidth])"
        )
        assert len(sources) == view.locator(".ng-tile").count(), sources
        for src, width in sources:
            assert src and width > 0, f"an icon without a picture in widget {j}: {sources}"


def test_hovering_a_tile_spotlights_its_group(dashboard: Dashboard) -> None:
    from playwright.sync_api import expect

    widget = dashboard.widgets.first
    widget.locator('.ng-tile[data-group="2"]').hover()
    expect(widget).to_have_attribute("data-selected", "2", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_visible()
    expect(widget.locator('.ng-table th[data-group="2"]')).to_have_class(
        re.compile(r"\bis-selected\b")
    )
    widget.locator(".ng-image").hover()
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)


def test_no_errors_in_the_browser_console_but_the_hosts_own(dashboard: Dashboard) -> None:
    """Runs last: covers loading, rendering and hovering."""
    others = [e for e in dashboard.console_errors if not any(p.search(e) for p in HOST_ERRORS)]
    assert others == []
