"""Time the two-layer demo (dog_cat, mixed4a 5 groups -> mixed4d 6 groups, two classes).

Side by side, after the model is loaded (best of ``--repeats``):

- everything but icons for the two layers (:class:`neuron_groups.reading.ImageReading`:
  one pass for the last layer and the classes, one pass for the pair, two factorizations,
  the flows), against one single-layer run (mixed4d, 6 groups) and against the sum of two
  single-layer runs (mixed4a with 5 groups + mixed4d with 6). The goal: under 1.5x one
  single-layer run.
- icons for the 11 groups over the two layers, no cache: the total, and the time to the
  first layer's icons (the last layer, mixed4d, comes first). ``--steps`` runs the
  optimization short (the default is Lucid's 513 steps).
- the standalone page's size, with the icons just made and with noise icons of the real
  size (80x80, PNG's worst case); the goal is 1 MB. With ``--paint``, the time from opening
  the page in headless chromium to the front end being ready.

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_layers.py [--steps 32] [--paint]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from bench_pipeline import best_of, cpu_description

CLASSES = ["Labrador retriever", "tiger cat"]
LAYERS = ["mixed4a", "mixed4d"]
GROUPS = [5, 6]


def compute_times(model, image, repeats: int) -> dict[str, tuple[float, float]]:
    """Everything but icons for one layer, the other, and the two together.

    The three runs alternate within each repeat, so that a busy machine slows them alike;
    each gets its best wall-clock time and its best CPU time (all threads), in seconds.
    """
    from neuron_groups.reading import ImageReading

    runs = {
        "mixed4a alone (5 groups)": lambda: ImageReading(model, image, "mixed4a", CLASSES).analyze(
            5, CLASSES
        ),
        "mixed4d alone (6 groups)": lambda: ImageReading(model, image, "mixed4d", CLASSES).analyze(
            6, CLASSES
        ),
        "mixed4a -> mixed4d, flows": lambda: ImageReading(model, image, LAYERS, CLASSES).analyze(
            GROUPS, CLASSES
        ),
    }
    for run in runs.values():
        run()  # the first call of each kind traces and compiles
    best = {name: (float("inf"), float("inf")) for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def pass_times(model, image, repeats: int) -> dict[str, float]:
    """Seconds of the two passes the two-layer analysis makes."""
    from neuron_groups.backends.base import Targets
    from neuron_groups.labels import resolve_classes

    classes = Targets.classes(resolve_classes(CLASSES, model.class_synonyms, model.n_classes))
    vectors = Targets.directions("mixed4d", np.ones((GROUPS[1], 528), np.float32))
    return {
        "  pass 1: mixed4d + 2 class grads": best_of(
            lambda: model.read(image, "mixed4d", classes), repeats
        ),
        "  pass 2: mixed4a + 6 score grads": best_of(
            lambda: model.read(image, "mixed4a", vectors), repeats
        ),
    }


def icon_times(model, image, steps: int):
    """Render both layers' icons (no cache), last layer first; return the result and times."""
    from neuron_groups.backends.base import IconSettings
    from neuron_groups.icons import render_icons
    from neuron_groups.reading import ImageReading

    result = ImageReading(model, image, LAYERS, CLASSES).analyze(GROUPS, CLASSES)
    settings = IconSettings(steps=steps)
    start = time.perf_counter()
    first = None
    for groups in reversed(list(result.groups.values())):
        groups.icons = render_icons(model, groups.layer, groups.channel, settings, cache=False)
        first = first if first is not None else time.perf_counter() - start
    return result, first, time.perf_counter() - start


def page_sizes(result) -> tuple[int, int, str]:
    """Bytes of the page with the icons made, and with noise icons of 80x80; its HTML."""
    from neuron_groups.display.page import save_page

    made = save_page(result)
    rng = np.random.default_rng(0)
    for layer in result.layers:
        n = result.groups[layer].n_groups
        result.groups[layer].icons = rng.random((n, 80, 80, 3)).astype(np.float32)
    noise = save_page(result)
    return len(made.encode("utf-8")), len(noise.encode("utf-8")), made


def first_paint(html: str) -> float:
    """Seconds from opening the page in headless chromium to ``root.dataset.ready``."""
    from tests.browser.chromium import browser

    with tempfile.TemporaryDirectory() as tmp, browser() as chromium:
        path = Path(tmp) / "layers.html"
        path.write_text(html, encoding="utf-8")
        page = chromium.new_page(viewport={"width": 1200, "height": 900})
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("#neuron-groups-root[data-ready=true]", timeout=60_000)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=513, help="icon steps (default 513)")
    parser.add_argument("--paint", action="store_true", help="time the page in chromium")
    args = parser.parse_args()

    import tensorflow as tf

    from neuron_groups import load_image, load_model

    model = load_model("inceptionv1")
    image = load_image("dog_cat")
    times = compute_times(model, image, args.repeats)
    passes = pass_times(model, image, args.repeats)
    result, first, total = icon_times(model, image, args.steps)
    made, noise, html = page_sizes(result)
    paint = first_paint(html) if args.paint else None

    single = times["mixed4d alone (6 groups)"]
    pair = times["mixed4a -> mixed4d, flows"]
    two = tuple(a + b for a, b in zip(times["mixed4a alone (5 groups)"], single, strict=True))
    print("neuron-groups two-layer benchmark: dog_cat, mixed4a (5) -> mixed4d (6), 2 classes")
    print(f"CPU: {cpu_description()}, {os.cpu_count()} cores; TensorFlow {tf.__version__}")
    print(f"best of {args.repeats} (runs interleaved), model loaded and traced\n")
    print(f"{'everything but icons':<34}{'wall':>10}{'CPU':>10}")
    for stage, (wall, cpu) in [*times.items(), ("two single-layer runs, summed", two)]:
        print(f"{stage:<34}{wall:>9.3f}s{cpu:>9.3f}s")
    for stage, seconds in passes.items():
        print(f"{stage:<34}{seconds:>9.3f}s")
    for unit, k in (("wall", 0), ("CPU", 1)):
        ratio = pair[k] / single[k]
        verdict = "met" if ratio < 1.5 else "NOT met"
        print(
            f"\n{unit}: two layers / one single-layer run {ratio:.2f}x (goal < 1.5x: {verdict}); "
            f"/ two single-layer runs {pair[k] / two[k]:.2f}x",
            end="",
        )
    print()
    per_step = total / max(args.steps, 1)
    print(f"\nicons, 11 groups over two layers, {args.steps} steps, no cache")
    print(f"{'first layer (mixed4d, 6 groups)':<34}{first:>9.1f}s")
    print(f"{'both layers':<34}{total:>9.1f}s")
    if 32 <= args.steps != 513:  # shorter runs are mostly tracing
        print(f"{'both layers, 513 steps (estimate)':<34}{per_step * 513:>9.1f}s")
    print(f"\n{'page, with these icons':<34}{made / 1000:>8.0f}KB")
    print(f"{'page, noise icons 80x80':<34}{noise / 1000:>8.0f}KB   goal < 1000 KB")
    if paint is not None:
        print(f"{'page open to front end ready':<34}{paint:>9.2f}s")


if __name__ == "__main__":
    main()
