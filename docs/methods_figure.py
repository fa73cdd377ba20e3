"""Make ``docs/methods.png``: one example where the article's linear attribution misleads.

sunglasses_tux at mixed4c, 6 groups, the top class "bow tie": the standalone page opened in
headless chromium: the view with the linear table on top, and below it the table shown by
each method in turn (the switch clicked), side by side. Usage, from the repository's root::

    NEURON_GROUPS_DATA=../shared python docs/methods_figure.py
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

IMAGE, LAYER, GROUPS, CLASSES = "sunglasses_tux", "mixed4c", 6, ["bow tie"]
METHODS = ("linear", "integrated", "ablation")


def main() -> int:
    """Write docs/methods.png; print the three tables."""
    import PIL.Image

    from neuron_groups import neuron_groups, save_page
    from tests.browser.chromium import browser

    result = neuron_groups(IMAGE, LAYER, GROUPS, CLASSES, attribution="linear", icons=False)
    for method in METHODS:
        print(method, result.tables[method].round(2).tolist())
    shots = []
    with tempfile.TemporaryDirectory() as tmp, browser() as chromium:
        page_path = Path(tmp) / "page.html"
        save_page(result, page_path, title=f"{IMAGE} at {LAYER}")
        page = chromium.new_page(viewport={"width": 1000, "height": 900})
        page.goto(page_path.as_uri())
        page.wait_for_selector("#neuron-groups-root[data-ready=true]", timeout=60_000)
        page.click("label.ng-method[data-method=linear]")
        whole = page.locator(".neuron-groups").first
        view = PIL.Image.open(io.BytesIO(whole.screenshot())).convert("RGB")
        for method in METHODS:
            page.click(f"label.ng-method[data-method={method}]")
            table = page.locator(".neuron-groups table").first
            shots.append(PIL.Image.open(io.BytesIO(table.screenshot())).convert("RGB"))
    width = max(sum(s.width for s in shots) + 20 * (len(shots) - 1), view.width)
    height = view.height + 20 + max(s.height for s in shots)
    figure = PIL.Image.new("RGB", (width, height), "white")
    figure.paste(view, (0, 0))
    x = 0
    for shot in shots:
        figure.paste(shot, (x, view.height + 20))
        x += shot.width + 20
    figure.save(REPO / "docs" / "methods.png", optimize=True)
    print("Wrote docs/methods.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
