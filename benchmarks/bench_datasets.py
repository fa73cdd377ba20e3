"""Time the streamed fit of shared groups (local engine) and measure its peak memory.

The images are crops, flips and scales of the 10 example images, made one at a time as
the fit asks for them (a generator: the dataset is never held in memory), so that the peak
measures the fit alone. Each size runs in a fresh interpreter, so that its peak resident
memory (``ru_maxrss``) is its own; with ``--traced``, the peak of Python and numpy
allocations (``tracemalloc``; TensorFlow's own buffers are not traced) is reported beside
it (tracing slows the fit's many small allocations: its speeds are not the untraced ones).

Reported per size: images per second of the extraction (loading, resizing, the forward
pass to the layer) and of the fit (``partial_fit``, the NNLS codes, the top-region heaps),
the wall time, and the two peaks. The goal: the same peak at 200 and 2,000 images.

Usage:
    NEURON_GROUPS_DATA=../shared python benchmarks/bench_datasets.py [--sizes 200 2000] [--traced]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from bench_pipeline import cpu_description


def variants(n: int, seed: int = 0):
    """n images: example i % 10, randomly cropped (60-100% of a side), flipped, scaled."""
    from neuron_groups.data import data_path, example_names
    from neuron_groups.images import load_image

    bases = [load_image(data_path(f"images/{name}.png")) for name in example_names()]
    rng = np.random.default_rng(seed)
    for i in range(n):
        image = bases[i % len(bases)]  # (224, 224, 3)
        side = int(224 * rng.uniform(0.6, 1.0))
        top, left = rng.integers(0, 224 - side + 1, size=2)
        crop = image[top : top + side, left : left + side]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        scale = rng.uniform(0.5, 1.5)  # fit_groups resizes back to 224: a scale is a blur
        size = max(32, int(side * scale))
        yield _resize(crop, size)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    import PIL.Image

    pil = PIL.Image.fromarray((image * 255 + 0.5).astype(np.uint8))
    return np.asarray(pil.resize((size, size), PIL.Image.Resampling.BILINEAR), np.float32) / 255


def run_one(n: int, layer: str, groups: int, batch: int, traced: bool) -> dict:
    """Fit n images in this process; return the measurements."""
    import resource
    import time
    import tracemalloc

    from neuron_groups.datasets import fit_groups
    from neuron_groups.models import load_model

    model = load_model("inceptionv1")
    model.activations(next(variants(1, seed=99)), layer)  # compile outside the timing
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    fitted = fit_groups(variants(n), layer, groups, model=model, batch_size=batch, progress=False)
    wall = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else float("nan")
    tracemalloc.stop()
    stats = fitted.stats
    return {
        "images": fitted.n_images,
        "wall_s": wall,
        "extract_ips": fitted.n_images / stats.seconds_reading,
        "fit_ips": fitted.n_images / stats.seconds_fitting,
        "total_ips": fitted.n_images / wall,
        "max_rows": stats.max_rows,
        "traced_peak_mb": peak / 2**20,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--layer", default="mixed4d")
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument(
        "--traced", action="store_true", help="also trace Python allocations (slows the fit)"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.layer, args.groups, args.batch, args.traced)))
        return
    import tensorflow as tf

    print(f"CPU: {cpu_description()}, {os.cpu_count()} CPUs; TensorFlow {tf.__version__}")
    print(f"layer {args.layer}, {args.groups} groups, {args.batch} images a batch, local engine")
    header = "images  wall s  extract img/s  fit img/s  total img/s  rows held  traced MB  RSS MB"
    print(header)
    for n in args.sizes:
        command = [sys.executable, __file__, "--child", str(n), "--layer", args.layer]
        command += ["--groups", str(args.groups), "--batch", str(args.batch)]
        command += ["--traced"] if args.traced else []
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{r['images']:>6} {r['wall_s']:>7.1f} {r['extract_ips']:>14.1f} "
            f"{r['fit_ips']:>10.1f} {r['total_ips']:>12.1f} {r['max_rows']:>10} "
            f"{r['traced_peak_mb']:>10.1f} {r['maxrss_mb']:>7.0f}"
        )


if __name__ == "__main__":
    main()
