"""The example notebook in Jupyter Notebook 7, in headless chromium driven by Playwright.

One Notebook 7 server and one run of ``examples/neuron_groups.ipynb`` (icons with
``HOST_ICON_STEPS`` steps) serve every test: both widgets render, hovering a tile spotlights
its group and marks its table column, a click pins it and the kernel reads the pin back in
``w.selected_group``. Notebook 7 is built from JupyterLab's components, so the page is driven
with the same ``.jp-*`` selectors (:mod:`tests.browser.notebook_ui`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from .chromium import browser
from .notebook_ui import UI_TIMEOUT, NotebookPage, collect_errors
from .servers import running_notebook7

pytestmark = pytest.mark.browser

NOTEBOOK = "neuron_groups.ipynb"


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookPage]:
    """The example notebook open in Notebook 7, every cell run."""
    with running_notebook7(tmp_path_factory.mktemp("notebook7")) as server, browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        nb = NotebookPage(page, server, NOTEBOOK, collect_errors(page))
        nb.open(server.notebook_url(NOTEBOOK))
        # Notebook 7.6 logs errors of its own while loading (settings of JupyterLab plugins it
        # does not ship: "Cannot read properties of undefined (reading 'schema')"); only what
        # comes after, from running the notebook on, is the widget's.
        del nb.console_errors[:]
        nb.run_all()
        yield nb
        context.close()


def test_the_example_runs_and_both_widgets_render(notebook: NotebookPage) -> None:
    from playwright.sync_api import expect

    notebook.assert_every_cell_ran()
    views = notebook.page.locator(".neuron-groups")
    expect(views).to_have_count(2)
    for j, n_groups in enumerate((6, 5)):
        view = views.nth(j)
        expect(view).to_have_attribute("data-status", "ready", timeout=UI_TIMEOUT)
        expect(view.locator(".ng-error")).to_be_hidden()
        expect(view.locator(".ng-tile")).to_have_count(n_groups)
        expect(view.locator(".ng-map")).to_be_visible()
        icons = view.locator("img.ng-icon")
        expect(icons).to_have_count(n_groups)
        loaded = icons.evaluate_all("(imgs) => imgs.map((img) => img.complete && img.naturalWidth)")
        assert all(loaded), f"icons not drawn in widget {j}: natural widths {loaded}"


def test_hovering_a_tile_spotlights_its_group(notebook: NotebookPage) -> None:
    from playwright.sync_api import expect

    widget = notebook.page.locator(".neuron-groups").first
    expect(widget.locator(".ng-spotlight")).to_be_hidden()
    widget.locator('.ng-tile[data-group="2"]').hover()
    expect(widget).to_have_attribute("data-selected", "2", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_visible()
    selected = re.compile(r"\bis-selected\b")
    expect(widget.locator('.ng-table th[data-group="2"]')).to_have_class(selected)
    expect(widget.locator('.ng-table th[data-group="3"]')).not_to_have_class(selected)

    widget.locator(".ng-image").hover()  # leaving the tiles ends the spotlight
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_hidden()


def test_a_click_pins_the_group_and_the_kernel_reads_it(notebook: NotebookPage) -> None:
    from playwright.sync_api import expect

    widget = notebook.page.locator(".neuron-groups").first
    tile = widget.locator('.ng-tile[data-group="1"]')
    tile.click()
    expect(tile).to_have_attribute("aria-pressed", "true", timeout=UI_TIMEOUT)
    widget.locator(".ng-image").hover()  # the pin outlives the hover
    expect(widget).to_have_attribute("data-selected", "1", timeout=UI_TIMEOUT)
    # Shell messages are handled in order: the widget's update reached the kernel before
    # this cell's execution request.
    out = notebook.run_code('print("selected_group =", w.selected_group)')
    assert "selected_group = 1" in out, out


def test_no_errors_in_the_browser_console(notebook: NotebookPage) -> None:
    """Runs last: covers running, rendering, hovering and clicking."""
    assert notebook.console_errors == []
