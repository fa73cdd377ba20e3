"""The example notebook in a real JupyterLab, in headless chromium driven by Playwright.

One notebook run (module fixture ``notebook``) serves every test: open
``examples/neuron_groups.ipynb``, "Run > Run All Cells", wait for every cell to finish. While
it runs, a script in the page (``TILE_WATCH``) notes when each tile first shows its image
region and its icon. Then the tests hover and click the first widget (dog_cat) like a user,
read ``w.selected_group`` and ``w.attribution_method`` back in the kernel through new cells,
take a screenshot (into a temporary folder; the README's ``docs/widget.png`` is made by
``python docs/screenshot.py``), and check that the browser console saw no error. Run with
``pytest -m browser tests/browser``.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .chromium import browser
from .jupyterlab import LabServer

pytestmark = pytest.mark.browser

NOTEBOOK = "neuron_groups.ipynb"
SCREENSHOT_ENV = "NEURON_GROUPS_SCREENSHOT"
"""Where ``docs/screenshot.py`` asks the screenshot test to copy its picture (unset: nowhere)."""

# Waits (milliseconds). Generous: they bound how long a broken page is waited for; a passing
# run returns as soon as the page is there. Nothing is asserted about how long things take.
PAGE_TIMEOUT = 90_000  # JupyterLab's first load
KERNEL_TIMEOUT = 120_000  # the kernel starting
RUN_ALL_TIMEOUT = 360_000  # every cell: TensorFlow, the model, two widgets' icons
CELL_TIMEOUT = 60_000  # one small cell
UI_TIMEOUT = 15_000  # the page reacting to a hover, a click or a trait change

DONE_PROMPT = re.compile(r"^\[\d+\]:$")

# Installed in the page before it loads: every 25 ms, for each tile of each widget (key "view
# index|layer|group"), the first time (ms) its region was drawn (loaded, visible, with its
# "region" tag), the first time its icon was, and how many times the tile held neither an
# icon nor a region ("bare": its grey placeholder alone) once its groups were known (not while
# the widget is "loading" the model or "computing" the groups: then its tiles are grey
# stand-ins). Polling, because an image's load is no DOM change; 25 ms is far below the time
# to the icons' first snapshot (seconds).
TILE_WATCH = """(() => {
  if (window.top !== window) return;
  const seen = (window.__ngTiles = {});
  const drawn = (img) => !!img && img.complete && img.naturalWidth > 0 && img.checkVisibility();
  setInterval(() => {
    document.querySelectorAll(".neuron-groups").forEach((view, v) => {
      for (const tile of view.querySelectorAll(".ng-tile")) {
        const key = `${v}|${tile.dataset.layer ?? ""}|${tile.dataset.group}`;
        const t = (seen[key] ??= { region: null, icon: null, bare: 0 });
        const icon = tile.querySelector("img.ng-icon");
        const tag = tile.querySelector(".ng-region-tag");
        const known = !["loading", "computing"].includes(view.dataset.status);
        if (known && !icon?.getAttribute("src") && !tile.querySelector(".has-region img[src]")) {
          t.bare++;
        }
        if (t.region === null && drawn(tile.querySelector("img.ng-tile-region")) &&
            tag?.checkVisibility() && tag.textContent === "region") t.region = performance.now();
        if (t.icon === null && drawn(icon)) t.icon = performance.now();
      }
    });
  }, 25);
})();"""


@dataclass
class Notebook:
    """The open notebook after "Run All", and what the browser reported meanwhile."""

    page: object
    console_errors: list[str] = field(default_factory=list)

    @property
    def widget(self):  # the dog_cat GroupWidget
        return self.page.locator(".neuron-groups").nth(0)

    @property
    def flowers(self):
        return self.page.locator(".neuron-groups").nth(1)

    def cells(self):
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def run_code(self, code: str) -> str:
        """Run ``code`` in a new cell at the end (typed into JupyterLab); return its output."""
        from playwright.sync_api import expect

        cells = self.cells()
        count = cells.count()
        # Select the last cell in command mode (a click on its prompt does not enter the
        # editor), insert a cell below it ("b"), edit it (Enter), run it in place (Ctrl+Enter).
        cells.nth(count - 1).locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("b")
        expect(cells).to_have_count(count + 1, timeout=UI_TIMEOUT)
        cell = cells.nth(count)
        expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=UI_TIMEOUT)
        self.page.keyboard.press("Enter")
        expect(cell.locator(".cm-editor.cm-focused")).to_be_visible(timeout=UI_TIMEOUT)
        self.page.keyboard.insert_text(code)  # no auto-closing of brackets, unlike typing
        self.page.keyboard.press("Control+Enter")
        expect(cell.locator(".jp-InputPrompt")).to_have_text(DONE_PROMPT, timeout=CELL_TIMEOUT)
        output = cell.locator(".jp-OutputArea-output")
        return "\n".join(output.all_inner_texts())


def _message_text(msg) -> str:
    location = msg.location or {}
    where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})" if location else ""
    return f"console.{msg.type}: {msg.text}{where}"


@contextlib.contextmanager
def notebook_run(lab_server: LabServer, name: str, height: int = 1000) -> Iterator[Notebook]:
    """Open ``examples/<name>`` in JupyterLab, run every cell, yield it; shut its kernel down.

    ``height`` is the window's: tall enough for a whole widget, so that its screenshot shows
    the widget and nothing of JupyterLab's toolbars.
    """
    from playwright.sync_api import expect

    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": height})
        context.add_init_script(TILE_WATCH)
        page = context.new_page()
        nb = Notebook(page)
        page.on(
            "console",
            lambda msg: (
                nb.console_errors.append(_message_text(msg)) if msg.type == "error" else None
            ),
        )
        page.on("pageerror", lambda exc: nb.console_errors.append(f"page error: {exc}"))

        page.goto(lab_server.lab_url(name), timeout=PAGE_TIMEOUT)
        panel = page.locator(".jp-NotebookPanel")
        expect(panel).to_be_visible(timeout=PAGE_TIMEOUT)
        code_cells = json.loads((lab_server.root / name).read_text())["cells"]
        n_code = sum(cell["cell_type"] == "code" for cell in code_cells)
        expect(panel.locator(".jp-CodeCell")).to_have_count(n_code, timeout=PAGE_TIMEOUT)
        lab_server.wait_for_kernel(name, timeout=KERNEL_TIMEOUT / 1000)
        indicator = panel.locator(".jp-Notebook-ExecutionIndicator")
        expect(indicator).to_have_attribute("data-status", "idle", timeout=KERNEL_TIMEOUT)
        expect(page.locator(".jp-Dialog")).to_have_count(0)  # no kernel picker, no prompt

        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
        page.locator("#jp-mainmenu-run .lm-Menu-item", has=label).click()

        # Run All marks every code cell "[*]" at once; a cell shows "[n]" when done, and the
        # cells after an error go back to "[ ]". Started: some prompt is no longer "[ ]".
        # Done: no cell waits and the kernel is idle.
        prompts = "[...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]"
        page.wait_for_function(
            f"() => {prompts}.some((p) => p.textContent.trim() !== '[ ]:')", timeout=UI_TIMEOUT
        )
        page.wait_for_function(
            f"""() => !{prompts}.some((p) => p.textContent.includes('*')) &&
                document.querySelector(
                    '.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]')""",
            timeout=RUN_ALL_TIMEOUT,
        )
        yield nb
        context.close()
    lab_server.shut_down(name)  # the server is shared: leave no kernel working


def failed_cells(notebook: Notebook) -> str:
    """Why cells did not run, or '' when every code cell ran without a traceback."""
    code_cells = notebook.page.locator(".jp-NotebookPanel .jp-CodeCell")
    prompts = code_cells.locator(".jp-InputPrompt").all_inner_texts()
    not_run = [i for i, p in enumerate(prompts) if not DONE_PROMPT.match(p.strip())]
    if not_run:
        first = code_cells.nth(not_run[0] - 1 if not_run[0] > 0 else 0)
        return (
            f"code cells {not_run} did not run (prompts {prompts}); output of the cell "
            f"before:\n{first.locator('.jp-OutputArea').inner_text()}"
        )
    tracebacks = notebook.page.locator(".jp-OutputArea-output", has_text="Traceback")
    return "\n".join(tracebacks.all_inner_texts())


@pytest.fixture(scope="module")
def notebook(lab_server: LabServer) -> Iterator[Notebook]:
    """The example notebook open in JupyterLab, every cell run."""
    with notebook_run(lab_server, NOTEBOOK) as nb:
        yield nb


def test_every_cell_runs_and_both_widgets_render(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    page = notebook.page
    problem = failed_cells(notebook)
    assert not problem, problem

    expect(page.locator(".neuron-groups")).to_have_count(2)
    widget, flowers = notebook.widget, notebook.flowers
    for view, n_groups in ((widget, 6), (flowers, 5)):
        expect(view.locator(".ng-error")).to_be_hidden()
        # The notebook waited for the icons (w.wait()): the view holds the final state.
        expect(view).to_have_attribute("data-status", "ready", timeout=UI_TIMEOUT)
        expect(view.locator(".ng-tile")).to_have_count(n_groups)
        expect(view.locator(".ng-table thead th[data-group]")).to_have_count(n_groups)
        expect(view.locator(".ng-image")).to_be_visible()
        expect(view.locator(".ng-map")).to_be_visible()
        icons = view.locator("img.ng-icon")
        expect(icons).to_have_count(n_groups)
        for j in range(n_groups):
            expect(icons.nth(j)).to_be_visible()
        expect(view.locator(".ng-icon-placeholder:visible")).to_have_count(0)
    rows = widget.locator(".ng-table tbody th.ng-class-name").all_inner_texts()
    assert rows == ["Labrador retriever", "tiger cat"]
    expect(flowers.locator(".ng-table tbody th.ng-class-name")).to_have_count(5)  # the top 5

    # The printed attribution table (cell output) matches the widget's table, to 3 decimals,
    # with its rest (integrated gradients, the method shown by default).
    stdout = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]')
    printed = stdout.filter(has_text="tiger cat").first.inner_text()
    cells = widget.locator('.ng-table td[data-class="tiger cat"]').all_inner_texts()
    cells += widget.locator('.ng-table td.ng-rest[data-row="1"]').all_inner_texts()
    printed_row = next(line for line in printed.splitlines() if line.startswith("tiger cat"))
    assert printed_row.split()[2:] == [c.strip() for c in cells]


def tile_history(notebook: Notebook) -> dict[str, dict[str, float | None]]:
    """What ``TILE_WATCH`` saw: per tile ("view|layer|group"), when its region and its icon
    were first drawn (ms, None: never) and how often it was bare."""
    return notebook.page.evaluate("() => window.__ngTiles")


def check_tiles_were_never_bare(
    notebook: Notebook, view: int, layers: dict[str, int], regions_first: bool = True
) -> None:
    """Each tile of widget ``view`` (``layers``: its group count per layer) always showed its
    image region or its icon, never the bare placeholder, and now shows its icon alone.

    ``regions_first``: each tile also drew its region before its icon's first snapshot (the
    widget appeared before the snapshot; where they race, a tile that begins with its icon
    needs no region).
    """
    from playwright.sync_api import expect

    history = tile_history(notebook)
    widget = notebook.page.locator(".neuron-groups").nth(view)
    for layer, n in layers.items():
        for j in range(n):
            seen = history.get(f"{view}|{layer}|{j}")
            where = (view, layer, j, seen)
            assert seen and seen["bare"] == 0 and seen["icon"] is not None, where
            if regions_first or seen["region"] is not None:
                assert seen["region"] is not None and seen["region"] < seen["icon"], where
    expect(widget.locator("img.ng-tile-region:visible")).to_have_count(0)
    expect(widget.locator(".ng-region-tag:visible")).to_have_count(0)
    assert widget.locator("img.ng-tile-region[src]").count() == 0


def test_tiles_show_their_regions_until_the_icons_arrive(notebook: Notebook) -> None:
    """Issue 22: both widgets compute their icons in the background after they appear; the
    tiles show the image regions first, then the icons."""
    check_tiles_were_never_bare(notebook, 0, {"mixed4d": 6})
    check_tiles_were_never_bare(notebook, 1, {"mixed4d": 5})


def test_the_method_switch_reaches_the_kernel(notebook: Notebook) -> None:
    """A click on a method shows its table and sets ``w.attribution_method``; setting it in
    Python moves the switch back."""
    from playwright.sync_api import expect

    widget = notebook.widget
    table = widget.locator(".ng-table")
    expect(table).to_have_attribute("data-method", "integrated")
    expect(table.locator("td.ng-rest")).to_have_count(2)  # the rest of each class
    integrated = table.locator("td[data-group]").all_inner_texts()
    widget.locator('.ng-method-switch .ng-method[data-method="ablation"]').click()
    expect(table).to_have_attribute("data-method", "ablation", timeout=UI_TIMEOUT)
    expect(table.locator("td.ng-rest")).to_have_count(0)
    assert table.locator("td[data-group]").all_inner_texts() != integrated
    out = notebook.run_code(
        'print("method =", w.attribution_method, w.result.attribution_method)\n'
        'w.attribution_method = "integrated"'
    )
    assert "method = ablation ablation" in out, out
    expect(table).to_have_attribute("data-method", "integrated", timeout=UI_TIMEOUT)
    expect(widget.locator('.ng-method-input[value="integrated"]')).to_be_checked()
    assert table.locator("td[data-group]").all_inner_texts() == integrated


def _spotlight_range(widget) -> list[int]:
    """Min and max brightness of the spotlight mask (grey, opaque: multiplied onto the image)."""
    return widget.locator(".ng-spotlight").evaluate(
        """(canvas) => {
            const data = canvas.getContext('2d').getImageData(
                0, 0, canvas.width, canvas.height).data;
            let lo = 255, hi = 0;
            for (let i = 0; i < data.length; i += 4) {
                lo = Math.min(lo, data[i]); hi = Math.max(hi, data[i]);
            }
            return [lo, hi];
        }"""
    )


def test_hovering_a_tile_spotlights_its_group(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    widget = notebook.widget
    expect(widget.locator(".ng-spotlight")).to_be_hidden()
    widget.locator('.ng-tile[data-group="2"]').hover()

    expect(widget).to_have_attribute("data-selected", "2", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_visible()
    low, high = _spotlight_range(widget)
    assert low < high, "the spotlight is uniform: it shows no group"
    expect(widget.locator(".ng-map-group")).to_be_visible()
    expect(widget.locator(".ng-map")).to_be_hidden()
    selected = re.compile(r"\bis-selected\b")
    column = widget.locator('.ng-table [data-group="2"]')
    expect(column).to_have_count(1 + 2)  # header + one cell per class
    for k in range(3):
        expect(column.nth(k)).to_have_class(selected)
    for other in ("0", "1", "3", "4", "5"):
        expect(widget.locator(f'.ng-table th[data-group="{other}"]')).not_to_have_class(selected)
    expect(widget.locator('.ng-tile[data-group="2"]')).to_have_class(selected)

    # Leaving the tiles ends the spotlight (nothing is pinned).
    widget.locator(".ng-image").hover()
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_hidden()
    expect(widget.locator(".ng-map")).to_be_visible()


def test_clicking_a_tile_pins_it_and_python_sees_it(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    widget = notebook.widget
    tile = widget.locator('.ng-tile[data-group="1"]')
    tile.click()
    expect(tile).to_have_attribute("aria-pressed", "true", timeout=UI_TIMEOUT)
    expect(widget).to_have_attribute("data-pinned", "1")
    # The pin outlives the hover.
    widget.locator(".ng-image").hover()
    expect(widget).to_have_attribute("data-selected", "1", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-spotlight")).to_be_visible()

    # The kernel has it: shell messages are handled in order, so the widget's update
    # reached the kernel before this cell's execution request.
    out = notebook.run_code('print("selected_group =", w.selected_group)')
    assert "selected_group = 1" in out, out

    # And back: setting the trait in Python moves the pin in the page.
    notebook.run_code("w.selected_group = 4")
    expect(widget).to_have_attribute("data-pinned", "4", timeout=UI_TIMEOUT)
    expect(widget.locator('.ng-tile[data-group="4"]')).to_have_attribute("aria-pressed", "true")
    expect(tile).to_have_attribute("aria-pressed", "false")

    # A second click on the pinned tile unpins it, in the page and in the kernel.
    widget.locator('.ng-tile[data-group="4"]').click()
    expect(widget).to_have_attribute("data-pinned", "-1", timeout=UI_TIMEOUT)
    out = notebook.run_code('print("selected_group =", w.selected_group)')
    assert "selected_group = -1" in out, out


def test_screenshot_of_the_widget(notebook: Notebook, tmp_path: Path) -> None:
    """The dog_cat widget, nothing pinned or hovered: a picture with the image, map and icons."""
    import os
    import shutil

    import numpy as np
    import PIL.Image
    from playwright.sync_api import expect

    widget = notebook.widget
    notebook.page.mouse.move(0, 0)
    expect(widget).to_have_attribute("data-selected", "-1", timeout=UI_TIMEOUT)
    widget.scroll_into_view_if_needed()
    shot = tmp_path / "widget.png"
    widget.screenshot(path=str(shot), animations="disabled")
    _shrink_png(shot)
    box = widget.bounding_box()
    with PIL.Image.open(shot) as picture:
        pixels = np.asarray(picture.convert("RGB"), dtype=np.float32)
    assert abs(pixels.shape[1] - box["width"]) <= 2 and abs(pixels.shape[0] - box["height"]) <= 2
    assert pixels.std(axis=(0, 1)).min() > 20  # a drawn figure, not a blank or flat frame
    if os.environ.get(SCREENSHOT_ENV):
        shutil.copyfile(shot, os.environ[SCREENSHOT_ENV])


def _shrink_png(path: Path) -> None:
    """Rewrite a PNG with an adaptive palette (a fraction of the size, same look)."""
    import PIL.Image

    with PIL.Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256, method=PIL.Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def _settle(page) -> None:
    """Let the page finish what a key started (JupyterLab commands run synchronously, their DOM
    updates by the next frames): wait for two animation frames and a task."""
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame("
        "() => setTimeout(done))))"
    )


def test_keyboard_moves_between_tiles_and_pins(notebook: Notebook) -> None:
    from playwright.sync_api import expect

    page, widget = notebook.page, notebook.widget
    widget.locator('.ng-tile[data-group="0"]').focus()
    page.keyboard.press("ArrowRight")
    tile1 = widget.locator('.ng-tile[data-group="1"]')
    expect(tile1).to_be_focused(timeout=UI_TIMEOUT)
    expect(tile1).to_have_class(re.compile(r"\bis-selected\b"))
    page.keyboard.press("Enter")
    expect(widget).to_have_attribute("data-pinned", "1", timeout=UI_TIMEOUT)
    page.keyboard.press("Escape")
    expect(widget).to_have_attribute("data-pinned", "-1", timeout=UI_TIMEOUT)


def test_keys_in_the_widget_do_not_run_notebook_commands(notebook: Notebook) -> None:
    """In JupyterLab's command mode single keys are notebook commands ("b" inserts a cell
    below, "d d" deletes the cell, "x" cuts it): pressed on a tile they must not fire."""
    from playwright.sync_api import expect

    page, widget = notebook.page, notebook.widget
    cells = notebook.cells()
    n_cells = cells.count()
    tile = widget.locator('.ng-tile[data-group="1"]')
    tile.focus()
    page.keyboard.press("b")  # insert a cell below: harmless to the tests that follow
    _settle(page)
    assert cells.count() == n_cells, "a key pressed on a tile ran a notebook command"
    expect(tile).to_be_focused()


def test_arrow_keys_on_the_groups_control_change_the_groups(notebook: Notebook) -> None:
    """One step left is one group fewer, recomputed in the kernel. Runs after the screenshot."""
    from playwright.sync_api import expect

    page, widget = notebook.page, notebook.widget
    slider = widget.locator(".ng-groups-input")
    slider.focus()
    page.keyboard.press("ArrowLeft")
    expect(slider).to_be_focused()
    expect(widget.locator(".ng-groups-value")).to_have_text("5", timeout=UI_TIMEOUT)
    expect(widget.locator(".ng-tile")).to_have_count(5, timeout=CELL_TIMEOUT)
    out = notebook.run_code('print("n_groups =", w.n_groups, w.result.n_groups)')
    assert "n_groups = 5 5" in out, out


def test_no_errors_in_the_browser_console(notebook: Notebook) -> None:
    """Runs last: covers loading, running, hovering and clicking."""
    assert notebook.console_errors == []
