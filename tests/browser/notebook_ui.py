"""Driving a notebook in JupyterLab 4 or Notebook 7 (the same notebook components) like a user.

Open a notebook, "Run > Run All Cells", wait until every cell is done, type and run a new
cell, collect the browser's console errors. Shared by the Notebook 7 and the JupyterLab
dark-theme tests; the selectors are JupyterLab's ``.jp-*`` classes, which Notebook 7 reuses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from .jupyterlab import LabServer

# Waits (milliseconds): how long a broken page is waited for, not timed assertions.
PAGE_TIMEOUT = 90_000  # the application's first load
KERNEL_TIMEOUT = 120_000  # the kernel starting
RUN_ALL_TIMEOUT = 300_000  # every cell (TensorFlow, the model, the widgets' icons)
CELL_TIMEOUT = 60_000  # one small cell
UI_TIMEOUT = 15_000  # the page reacting to a hover, a click or a trait change

DONE_PROMPT = re.compile(r"^\[\d+\]:$")
_PROMPTS = "[...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]"


def message_text(msg) -> str:
    """A console message with where it came from."""
    location = msg.location or {}
    where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})" if location else ""
    return f"console.{msg.type}: {msg.text}{where}"


def collect_errors(page) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(message_text(msg)))
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    return errors


@dataclass
class NotebookPage:
    """A notebook open in JupyterLab or Notebook 7, and the browser's errors meanwhile."""

    page: object
    server: LabServer
    path: str
    console_errors: list[str] = field(default_factory=list)

    def cells(self):
        return self.page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def code_cells(self):
        return self.page.locator(".jp-NotebookPanel .jp-CodeCell")

    def open(self, url: str) -> None:
        """Load ``url`` (which opens :attr:`path`) and wait for every cell and a idle kernel."""
        from playwright.sync_api import expect

        self.page.goto(url, timeout=PAGE_TIMEOUT)
        panel = self.page.locator(".jp-NotebookPanel")
        expect(panel).to_be_visible(timeout=PAGE_TIMEOUT)
        cells = json.loads((self.server.root / self.path).read_text())["cells"]
        n_code = sum(cell["cell_type"] == "code" for cell in cells)
        expect(self.code_cells()).to_have_count(n_code, timeout=PAGE_TIMEOUT)
        self.server.wait_for_kernel(self.path, timeout=KERNEL_TIMEOUT / 1000)
        expect(self.page.locator(".jp-Dialog")).to_have_count(0)  # no kernel picker, no prompt

    def run_all(self) -> None:
        """Run every cell from the menu bar (Run, Run All Cells); return when none waits."""
        page = self.page
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        label = page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
        page.locator(".lm-Menu-item", has=label).click()
        # Run All marks every code cell "[*]" at once; a cell shows "[n]" when done, and the
        # cells after an error go back to "[ ]". Started: some prompt is no longer "[ ]".
        page.wait_for_function(
            f"() => {_PROMPTS}.some((p) => p.textContent.trim() !== '[ ]:')", timeout=UI_TIMEOUT
        )
        page.wait_for_function(
            f"() => !{_PROMPTS}.some((p) => p.textContent.includes('*'))",
            timeout=RUN_ALL_TIMEOUT,
        )
        self.server.wait_for_kernel(self.path, timeout=KERNEL_TIMEOUT / 1000)

    def assert_every_cell_ran(self) -> None:
        """Every code cell has a "[n]" prompt and no output shows a traceback."""
        prompts = self.code_cells().locator(".jp-InputPrompt").all_inner_texts()
        not_run = [i for i, p in enumerate(prompts) if not DONE_PROMPT.match(p.strip())]
        if not_run:
            before = self.code_cells().nth(max(not_run[0] - 1, 0))
            pytest.fail(
                f"code cells {not_run} did not run (prompts {prompts}); output of the cell "
                f"before:\n{before.locator('.jp-OutputArea').inner_text()}"
            )
        tracebacks = self.page.locator(".jp-OutputArea-output", has_text="Traceback")
        assert tracebacks.count() == 0, tracebacks.all_inner_texts()

    def run_code(self, code: str) -> str:
        """Run ``code`` in a new cell at the end (typed in); return its output text."""
        from playwright.sync_api import expect

        page, cells = self.page, self.cells()
        count = cells.count()
        # Select the last cell in command mode (a click on its prompt does not enter the
        # editor), insert a cell below it ("b"), edit it (Enter), run it in place (Ctrl+Enter).
        cells.nth(count - 1).locator(".jp-InputPrompt").click()
        page.keyboard.press("Escape")
        page.keyboard.press("b")
        expect(cells).to_have_count(count + 1, timeout=UI_TIMEOUT)
        cell = cells.nth(count)
        expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=UI_TIMEOUT)
        page.keyboard.press("Enter")
        expect(cell.locator(".cm-editor.cm-focused")).to_be_visible(timeout=UI_TIMEOUT)
        page.keyboard.insert_text(code)  # no auto-closing of brackets, unlike typing
        page.keyboard.press("Control+Enter")
        expect(cell.locator(".jp-InputPrompt")).to_have_text(DONE_PROMPT, timeout=CELL_TIMEOUT)
        return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())
