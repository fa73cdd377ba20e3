"""The widget's speed for the demo: first paint, hover response, and the data it sends.

- first paint: from constructing ``GroupWidget`` (model already loaded) to the image, map and
  table drawn in headless chromium (kernel-side computation + the front end's render of the
  same state, measured separately and added);
- hover: time from a tile's ``mouseover`` to the DOM showing the spotlight, and to the next
  animation frame, in headless chromium (median of 50);
- data: bytes of every synced trait for the demo with its six icons (binary buffers as they
  travel, JSON for the rest).

Baselines named beside the figures: the issue's goals (2 s first paint, one 60 Hz frame =
16.7 ms for hover, 300 KB of data) and the original widget's way of sending images, base64
data URLs, for the data size.

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_widget.py
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CLASSES = ["Labrador retriever", "tiger cat"]

HOVER_JS = """
async () => {
  const tiles = [...document.querySelectorAll('.ng-tile')];
  const spotlight = document.querySelector('.ng-spotlight');
  const dom = [], frame = [];
  for (let i = 0; i < 50; i++) {
    const tile = tiles[i % tiles.length];
    const t0 = performance.now();
    tile.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
    if (spotlight.hidden) throw new Error('no spotlight after hover');
    dom.push(performance.now() - t0);
    await new Promise(requestAnimationFrame);
    frame.push(performance.now() - t0);
    tiles[0].parentElement.dispatchEvent(new MouseEvent('mouseleave'));
    await new Promise(requestAnimationFrame);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return {dom: median(dom), frame: median(frame)};
}
"""


def state_bytes(widget) -> tuple[int, int]:
    """Bytes the synced state takes as sent (binary buffers), and as base64 data URLs."""
    state = widget.get_state()
    binary = json_size = as_base64 = 0
    for value in state.values():
        buffers = value if isinstance(value, list) else [value]
        blobs = [bytes(b) for b in buffers if isinstance(b, (bytes, memoryview))]
        if blobs and len(blobs) == len(buffers):
            binary += sum(len(b) for b in blobs)
            as_base64 += sum(
                len("data:image/png;base64,") + len(base64.b64encode(b)) for b in blobs
            )
        else:
            size = len(json.dumps(value))
            json_size += size
            as_base64 += size
    return binary + json_size, as_base64


def main() -> None:
    from neuron_groups.display.widget import GroupWidget
    from neuron_groups.models import load_model
    from tests.browser.chromium import browser

    model = load_model("inceptionv1")
    GroupWidget("flowers", model=model, icons=False)  # warm-up: traces the compiled functions

    start = time.perf_counter()
    widget = GroupWidget("dog_cat", "mixed4d", 6, CLASSES, model=model, icons=False)
    kernel_side = time.perf_counter() - start

    with_icons = GroupWidget("dog_cat", "mixed4d", 6, CLASSES, model=model)
    with_icons.wait()  # from the icon cache after the first run (about 35 s otherwise)
    sent, as_data_urls = state_bytes(with_icons)

    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "demo.html"
        widget.save_html(page_path)
        with browser() as chromium:
            page = chromium.new_page(viewport={"width": 900, "height": 900})
            page.goto(page_path.as_uri())
            page.wait_for_selector(".ng-table td")
            render = page.evaluate(
                "performance.getEntriesByType('paint').map(e => e.startTime).pop() || "
                "performance.now()"
            )
            hover = page.evaluate(HOVER_JS)

    first_paint = kernel_side + render / 1000
    print("GroupWidget benchmark: dog_cat, mixed4d, 6 groups, 2 classes, model loaded")
    print(f"{'measure':<34}{'ours':>12}{'baseline':>14}  baseline is")
    print(f"{'kernel: compute the state':<34}{kernel_side:>11.2f}s")
    print(f"{'browser: page to first paint':<34}{render / 1000:>11.2f}s")
    print(f"{'first paint, total':<34}{first_paint:>11.2f}s{2.0:>13.1f}s  the goal")
    print(f"{'hover -> spotlight in the DOM':<34}{hover['dom']:>10.2f}ms{16.7:>12.1f}ms  one frame")
    print(f"{'hover -> next frame':<34}{hover['frame']:>10.2f}ms{16.7:>12.1f}ms  one frame")
    print(f"{'data sent, with icons':<34}{sent / 1000:>10.0f}KB{300:>12.0f}KB  the goal")
    print(
        f"{'same data as base64 data URLs':<34}{as_data_urls / 1000:>10.0f}KB{'':>14}  the original"
    )


if __name__ == "__main__":
    main()
