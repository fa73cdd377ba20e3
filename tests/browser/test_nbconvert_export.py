"""Notebooks exported with nbconvert show the live widget offline, and a fallback without JS.

``neuron_groups.display.export.export_notebook`` points the exported page at local copies of
require.js, the widgets HTML manager and anywidget's front end (no CDN). The npm packages it
copies from (``export.NPM_PACKAGES``) must be installed: in the repository's
``node_modules`` (``npm ci``) or where ``$NEURON_GROUPS_NODE_MODULES`` says.

* ``test_example_notebook_*``: ``examples/neuron_groups.ipynb`` executed with nbclient (widget
  state stored, few icon steps), exported, opened from disk with the network off.
* ``test_fallback_*``: a notebook built in-process (no kernel) whose widget output carries the
  static fallback: hidden under the live view, shown where JavaScript is off.
* ``test_jupyterlab_prefers_the_live_widget``: the same output in a real JupyterLab shows the
  live widget, not the fallback.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from neuron_groups.display import export
from tests.fakes import fake_result

from .chromium import browser
from .test_standalone_page import LOAD_TIMEOUT, UI_TIMEOUT, check_hover_and_pin, open_page

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "neuron_groups.ipynb"
LAYERS_EXAMPLE = REPO / "examples" / "neuron_groups_layers.ipynb"
ICON_STEPS = "8"  # the example's icons: a few steps, enough to have pictures
CELL_TIMEOUT = 900  # seconds per cell while executing (a bound, not an assertion)
RUN_TIMEOUT = 120_000  # ms for JupyterLab to run one small cell
EVIL_CLASS = "</script><img src=x onerror=alert(1)>"

# A GroupWidget of a small result; its output carries the static fallback (text/html, image).
# (The kernel runs outside the repository, so it builds the result itself.)
FALLBACK_WIDGET = """
import numpy as np
from neuron_groups.result import LayerGroups, NeuronGroupsResult
from neuron_groups.display.widget import GroupWidget

rng = np.random.default_rng(0)
groups = LayerGroups(
    layer="mixed4d",
    spatial=rng.random((4, 6, 6)).astype(np.float32),
    channel=rng.random((4, 8)).astype(np.float32),
    icons=rng.random((4, 16, 16, 3)).astype(np.float32),
)
result = NeuronGroupsResult(
    image=rng.random((48, 48, 3)).astype(np.float32),
    groups=[groups],
    attributions=rng.normal(size=(2, 4)).astype(np.float32),
    classes=["tabby", CLASS],
    class_indices=np.array([0, 1]),
    logits=rng.normal(size=10).astype(np.float32),
    top5=["a", "b", "c", "d", "e"],
)
w = GroupWidget.from_result(result, title="fallback")
w
""".replace("CLASS", repr(EVIL_CLASS))


@pytest.fixture(scope="module")
def node_modules() -> Path:
    try:
        return export.find_node_modules()
    except export.AssetsError as exc:
        pytest.fail(f"{exc} (.ci/run installs them)")


# -- assets (no browser) ---------------------------------------------------------------------


def test_assets_are_local_copies(tmp_path: Path, node_modules: Path) -> None:
    folder = export.write_assets(tmp_path / "assets", node_modules=node_modules)
    require = (folder / "require.js").read_text(encoding="utf-8")
    assert "RequireJS" in require[:500] and "paths: { anywidget:" in require
    anywidget = (folder / "anywidget.js").read_text(encoding="utf-8")
    assert 'define(["@jupyter-widgets/base"]' in anywidget
    embed = (folder / "embed-amd.js").read_text(encoding="utf-8")
    assert 'define("@jupyter-widgets/base"' in embed
    assert list(folder.glob("*.woff2"))


# -- the example notebook, executed and exported ---------------------------------------------


def exported(example: Path, work: Path, node_modules: Path) -> Path:
    """``example`` executed (icons of a few steps) and exported to ``work/site/example.html``."""
    if not example.exists():
        pytest.fail(f"{example} is missing")
    notebook = work / example.name
    shutil.copyfile(example, notebook)
    with pytest.MonkeyPatch.context() as env:  # the kernel inherits these
        env.setenv("NEURON_GROUPS_STEPS", ICON_STEPS)
        env.setenv("NEURON_GROUPS_CACHE", str(work / "cache"))
        env.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
        page = export.export_notebook(
            notebook,
            work / "site" / "example.html",
            execute=True,
            timeout=CELL_TIMEOUT,
            node_modules=node_modules,
        )
    return page


@pytest.fixture(scope="module")
def example_page(tmp_path_factory, node_modules: Path) -> Path:
    return exported(EXAMPLE, tmp_path_factory.mktemp("export"), node_modules)


def test_example_notebook_page_loads_nothing_remote(example_page: Path) -> None:
    text = example_page.read_text(encoding="utf-8")
    assert '<script src="example_files/require.js">' in text
    assert "'example_files/embed-amd.js'" in text
    assert not re.search(r"""<script[^>]+src=["']https?:""", text)
    assert "application/vnd.jupyter.widget-state+json" in text
    assert (example_page.parent / "example_files" / "anywidget.js").is_file()


@pytest.mark.parametrize("offline", [False, True], ids=["file", "offline-context"])
def test_example_notebook_widgets_work_offline(example_page: Path, offline: bool) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=offline, viewport={"width": 1200, "height": 900})
        visit = open_page(context, example_page.as_uri())
        page = visit.page
        widgets = page.locator(".neuron-groups")
        expect(widgets).to_have_count(2, timeout=LOAD_TIMEOUT)  # dog_cat and flowers
        for view, n_groups in ((widgets.nth(0), 6), (widgets.nth(1), 5)):
            expect(view.locator(".ng-tile")).to_have_count(n_groups, timeout=UI_TIMEOUT)
            expect(view.locator(".ng-error")).to_be_hidden()
            expect(view.locator(".ng-image")).to_be_visible()
            expect(view.locator(".ng-icon:visible")).to_have_count(n_groups)
        widget = widgets.nth(0)
        expect(widget.locator(".ng-table tbody th.ng-class-name")).to_have_count(2)
        # No kernel behind an export: the controls that recompute are disabled, not inert.
        expect(widget.locator(".ng-groups-input")).to_be_disabled()
        expect(widget.locator(".ng-class-entry")).to_be_hidden()
        check_hover_and_pin(widget, page, 6)
        assert visit.remote_requests() == []
        assert visit.errors == []
        context.close()


def test_the_layers_example_exports_its_multi_layer_view(tmp_path: Path, node_modules) -> None:
    from playwright.sync_api import expect

    page_path = exported(LAYERS_EXAMPLE, tmp_path, node_modules)
    assert page_path.stat().st_size < 1_000_000  # the bound for the two-layer demo
    with browser() as chromium:
        context = chromium.new_context(offline=True, viewport={"width": 1280, "height": 1800})
        visit = open_page(context, page_path.as_uri())
        widget = visit.page.locator(".neuron-groups").first
        expect(widget.locator('.ng-tile[data-layer="mixed4a"]')).to_have_count(
            5, timeout=LOAD_TIMEOUT
        )
        expect(widget.locator('.ng-tile[data-layer="mixed4d"]')).to_have_count(6)
        expect(widget.locator('path.ng-curve[data-from-layer="mixed4a"]')).to_have_count(30)
        expect(widget.locator(".ng-image-picker")).to_be_hidden()  # no kernel to send an image to
        widget.locator('.ng-tile[data-layer="mixed4a"][data-group="1"]').hover()
        expect(widget).to_have_attribute("data-selected-layer", "mixed4a", timeout=UI_TIMEOUT)
        expect(widget.locator("path.ng-curve.is-emphasized")).to_have_count(6)
        expect(widget.locator(".ng-spotlight")).to_be_visible()
        assert visit.remote_requests() == []
        assert visit.errors == []
        context.close()


# -- the static fallback ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fallback_notebook(tmp_path_factory) -> Path:
    """A notebook whose one output is a GroupWidget with the fallback, state saved (no kernel)."""
    from ipywidgets.embed import embed_data

    from neuron_groups.display.widget import GroupWidget

    widget = GroupWidget.from_result(
        fake_result(4, classes=["tabby", EVIL_CLASS], icons=True), title="fallback <b>test</b>"
    )
    try:
        data, metadata = widget._repr_mimebundle_()
        state = embed_data(views=[widget], drop_defaults=False)["manager_state"]
    finally:
        widget.close()
    assert {"text/html", "image/jpeg"} <= set(data)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("GroupWidget.from_result(result)", execution_count=1)
    output = nbformat.v4.new_output(
        "execute_result", data=data, metadata=metadata, execution_count=1
    )
    cell.outputs = [output]
    nb.cells = [cell]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": state}
    path = tmp_path_factory.mktemp("fallback") / "fallback.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def fallback_page(fallback_notebook: Path, node_modules: Path) -> Path:
    return export.export_notebook(fallback_notebook, node_modules=node_modules)


def test_fallback_is_hidden_under_the_live_widget(fallback_page: Path) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=True)
        visit = open_page(context, fallback_page.as_uri())
        page = visit.page
        widget = page.locator(".neuron-groups")
        expect(widget.locator(".ng-tile")).to_have_count(4, timeout=LOAD_TIMEOUT)
        expect(widget.locator(".ng-table")).to_contain_text(EVIL_CLASS)
        expect(page.locator(f".{export.FALLBACK_CLASS}")).to_have_count(1)
        expect(page.locator(f".{export.FALLBACK_CLASS}")).to_be_hidden()
        assert page.locator('img[src="x"]').count() == 0
        assert visit.dialogs == [] and visit.errors == [] and visit.remote_requests() == []
        context.close()


def test_fallback_shows_without_javascript(fallback_page: Path) -> None:
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(offline=True, java_script_enabled=False)
        page = context.new_page()
        page.goto(fallback_page.as_uri())
        fallback = page.locator(f".{export.FALLBACK_CLASS}")
        expect(fallback).to_be_visible()
        expect(fallback).to_contain_text("fallback <b>test</b>")
        expect(fallback.locator("table")).to_contain_text(EVIL_CLASS)
        assert fallback.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
        assert page.locator('img[src="x"]').count() == 0
        context.close()


def test_fallback_shows_when_the_scripts_are_missing(
    fallback_notebook: Path, node_modules: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page_path = export.export_notebook(
        fallback_notebook, tmp_path / "alone.html", node_modules=node_modules
    )
    shutil.rmtree(tmp_path / "alone_files")  # shared without its folder
    with browser() as chromium:
        context = chromium.new_context(offline=True)
        page = context.new_page()
        page.goto(page_path.as_uri())
        expect(page.locator(f".{export.FALLBACK_CLASS}")).to_be_visible()
        context.close()


def test_notebook_without_widget_state_warns(tmp_path: Path, node_modules: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("no widgets")]
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, path)
    with pytest.warns(UserWarning, match="no saved widget state"):
        page = export.export_notebook(path, node_modules=node_modules)
    assert "no widgets" in page.read_text(encoding="utf-8")


def test_jupyterlab_prefers_the_live_widget(lab_server) -> None:
    """With text/html and image/jpeg next to the widget view, JupyterLab shows the widget."""
    from playwright.sync_api import expect

    name = "fallback_in_lab.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FALLBACK_WIDGET.strip())]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, lab_server.root / name)
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(lab_server.lab_url(name))
        panel = page.locator(".jp-NotebookPanel")
        expect(panel.locator(".jp-CodeCell")).to_have_count(1, timeout=LOAD_TIMEOUT * 3)
        lab_server.wait_for_kernel(name, timeout=RUN_TIMEOUT / 1000)  # the indicator says
        indicator = panel.locator(".jp-Notebook-ExecutionIndicator")  # "idle" before that
        expect(indicator).to_have_attribute("data-status", "idle", timeout=RUN_TIMEOUT)
        panel.locator(".jp-CodeCell .jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        prompt = panel.locator(".jp-CodeCell .jp-InputPrompt").first
        expect(prompt).to_have_text(re.compile(r"^\[1\]:$"), timeout=RUN_TIMEOUT)
        output = panel.locator(".jp-CodeCell .jp-OutputArea").first
        expect(output.locator(".neuron-groups .ng-tile")).to_have_count(4, timeout=RUN_TIMEOUT)
        expect(output.locator(".neuron-groups-static")).to_have_count(0)
        expect(output.locator(".jp-RenderedImage")).to_have_count(0)
        context.close()
    os.remove(lab_server.root / name)
