"""The across-layers example in a real JupyterLab, in headless chromium driven by Playwright.

One run of ``examples/neuron_groups_layers.ipynb`` (dog_cat, mixed4a with 5 groups -> mixed4d
with 6 -> two classes) serves every test, in order: the view renders with its curves, a
screenshot, hovering a mixed4a group (spotlight and curves respond), pinning (read back in the
kernel), changing mixed4a's group count, dropping an image onto the widget, and a bad file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .jupyterlab import LabServer
from .test_jupyterlab import (
    UI_TIMEOUT,
    Notebook,
    check_tiles_were_never_bare,
    failed_cells,
    notebook_run,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "neuron_groups_layers.ipynb"
SCREENSHOT_ENV = "NEURON_GROUPS_SCREENSHOT_LAYERS"
"""Where ``docs/screenshot.py`` asks for a copy of the screenshot (unset: nowhere)."""
RECOMPUTE_TIMEOUT = 180_000  # ms: the kernel reading a new image at two layers
SHARED = Path(os.environ["NEURON_GROUPS_DATA"])


@pytest.fixture(scope="module")
def notebook(lab_server: LabServer) -> Iterator[Notebook]:
    """The across-layers example open in JupyterLab, every cell run."""
    with notebook_run(lab_server, NOTEBOOK, height=1800) as nb:
        yield nb


def widget(notebook: Notebook):
    return notebook.page.locator(".neuron-groups").first


def test_the_view_has_a_column_per_layer_and_curves(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    problem = failed_cells(notebook)
    assert not problem, problem
    view = widget(notebook)
    expect(view).to_have_attribute("data-status", "ready", timeout=UI_TIMEOUT)  # icons done
    expect(view.locator(".ng-error")).to_be_hidden()
    expect(view.locator('.ng-tile[data-layer="mixed4a"]')).to_have_count(5)
    expect(view.locator('.ng-tile[data-layer="mixed4d"]')).to_have_count(6)
    expect(view.locator('path.ng-curve[data-from-layer="mixed4a"]')).to_have_count(5 * 6)
    expect(view.locator(".ng-icon-placeholder:visible")).to_have_count(0)
    # Issue 22: every tile, at both layers, showed its image region or its icon from the
    # start (here mixed4d's first snapshot may arrive as the view appears).
    check_tiles_were_never_bare(notebook, 0, {"mixed4a": 5, "mixed4d": 6}, regions_first=False)
    widths = [
        float(w)
        for w in view.locator('path.ng-curve[data-from-layer="mixed4a"]').evaluate_all(
            "paths => paths.map(p => getComputedStyle(p).strokeWidth.replace('px', ''))"
        )
    ]
    assert max(widths) > 2 * min(widths)  # widths follow |flow|, not one width for all
    out = notebook.run_code("print(w.layer_groups, w.result.flows[('mixed4a', 'mixed4d')].shape)")
    assert "[5, 6] (5, 6)" in out, out


def test_screenshot_of_the_layers_view(notebook: Notebook, tmp_path: Path) -> None:
    import numpy as np
    import PIL.Image

    view = widget(notebook)
    notebook.page.mouse.move(0, 0)
    view.scroll_into_view_if_needed()
    shot = tmp_path / "layers.png"
    view.screenshot(path=str(shot), animations="disabled")
    with PIL.Image.open(shot) as picture:
        pixels = np.asarray(picture.convert("RGB"), dtype=np.float32)
    assert pixels.std(axis=(0, 1)).min() > 20  # a drawn figure, not a blank frame
    if os.environ.get(SCREENSHOT_ENV):
        with PIL.Image.open(shot) as picture:
            picture.convert("RGB").quantize(colors=256).save(os.environ[SCREENSHOT_ENV])


def test_hovering_a_mixed4a_group_shows_its_spotlight_and_curves(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    view = widget(notebook)
    notebook.page.mouse.move(0, 0)
    expect(view.locator(".ng-spotlight")).to_be_hidden(timeout=UI_TIMEOUT)
    view.locator('.ng-tile[data-layer="mixed4a"][data-group="1"]').hover()
    expect(view).to_have_attribute("data-selected-layer", "mixed4a", timeout=UI_TIMEOUT)
    expect(view).to_have_attribute("data-selected", "1")
    spotlight = view.locator(".ng-spotlight")
    expect(spotlight).to_be_visible()
    expect(spotlight).to_have_attribute("data-layer", "mixed4a")
    emphasized = view.locator("path.ng-curve.is-emphasized")
    expect(emphasized).to_have_count(6)  # group 1's curves out, to each mixed4d group
    sources = emphasized.evaluate_all("ps => ps.map(p => p.dataset.fromLayer + p.dataset.from)")
    assert set(sources) == {"mixed4a1"}
    expect(view.locator("path.ng-curve.is-faded")).to_have_count(
        view.locator("path.ng-curve").count() - 6
    )
    notebook.page.mouse.move(0, 0)
    expect(emphasized).to_have_count(0, timeout=UI_TIMEOUT)


def test_clicking_pins_and_python_sees_it(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    view = widget(notebook)
    tile = view.locator('.ng-tile[data-layer="mixed4a"][data-group="2"]')
    tile.click()
    expect(tile).to_have_attribute("aria-pressed", "true", timeout=UI_TIMEOUT)
    notebook.page.mouse.move(0, 0)
    expect(view).to_have_attribute("data-pinned-layer", "mixed4a")
    out = notebook.run_code("print(w.selected_layer, w.selected_group, w.pinned)")
    assert "mixed4a 2 ('mixed4a', 2)" in out, out


def test_changing_the_mixed4a_count_recomputes_that_layer(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    view = widget(notebook)
    view.locator('.ng-layer-groups[data-layer="mixed4a"]').select_option("3")
    expect(view.locator('.ng-tile[data-layer="mixed4a"]')).to_have_count(
        3, timeout=RECOMPUTE_TIMEOUT
    )
    expect(view.locator('path.ng-curve[data-from-layer="mixed4a"]')).to_have_count(3 * 6)
    expect(view.locator('.ng-tile[data-layer="mixed4d"]')).to_have_count(6)
    out = notebook.run_code("print(w.layer_groups, w.result.flows[('mixed4a', 'mixed4d')].shape)")
    assert "[3, 6] (3, 6)" in out, out


def test_dropping_an_image_recomputes_the_view(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    view = widget(notebook)
    flowers = list((SHARED / "images" / "flowers.png").read_bytes())
    transfer = notebook.page.evaluate_handle(
        """(bytes) => {
            const dt = new DataTransfer();
            dt.items.add(new File([new Uint8Array(bytes)], "flowers.png", { type: "image/png" }));
            return dt;
        }""",
        flowers,
    )
    target = view.locator(".ng-panel-image")
    target.dispatch_event("dragover", {"dataTransfer": transfer})
    target.dispatch_event("drop", {"dataTransfer": transfer})
    expect(view).to_have_attribute("data-status", "computing", timeout=UI_TIMEOUT)
    expect(view).to_have_attribute(
        "data-status", re.compile("optimizing|ready"), timeout=RECOMPUTE_TIMEOUT
    )
    out = notebook.run_code("print(w.result.top5[0], w.error == '')")
    assert "lemon True" in out, out


def test_a_bad_file_is_refused_and_the_view_stays(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    view = widget(notebook)
    view.locator(".ng-image-file").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a png"}]
    )
    expect(view.locator(".ng-error")).to_be_visible(timeout=RECOMPUTE_TIMEOUT)
    expect(view.locator(".ng-error")).to_contain_text("notes.png")
    expect(view.locator('.ng-tile[data-layer="mixed4a"]')).to_have_count(3)
    out = notebook.run_code("print(w.result.top5[0])")
    assert "lemon" in out, out


def test_no_errors_in_the_browser_console(notebook: Notebook) -> None:
    assert notebook.console_errors == []
