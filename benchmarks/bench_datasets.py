"""Time the streamed fit of shared groups, local engine and Ray engine, and measure peak memory.

The images are crops, flips and scales of the 10 example images, written once as PNG files
to a temporary folder; both engines fit the same first n files (the Ray engine reads files or
lists, not one-pass generators), so each fit holds only its file names besides one batch.
Each (size, engine) runs in a fresh interpreter, so that its peak resident memory
(``ru_maxrss``) is its own; the Ray engine runs on a local cluster that interpreter starts
(``ray.init(num_cpus=<CPUs>)``), whose worker processes (the extraction actors, one
InceptionV1 each, and the reducer) are its descendants, sampled every 0.2 s for their
resident memory. With ``--traced``, the peak of Python and numpy allocations of the local
engine (``tracemalloc``; TensorFlow's own buffers are not traced) is reported beside it
(tracing slows the fit's many small allocations: its speeds are not the untraced ones).

Reported per size and engine: images per second of the extraction (loading, resizing, the
forward pass to the layer; for Ray, the reducer's wait for rows, which includes starting
the workers and loading the model in each) and of the fit (``partial_fit``, the NNLS codes,
the top-region heaps), the wall time (local: the model already loaded; Ray: everything
after ``ray.init``), and the peaks. The Ray engine's overhead is its wall time over the
local one's at the same size. The goal: the same peak at 200 and 2,000 images.

Usage:
    NEURON_GROUPS_DATA=../shared python benchmarks/bench_datasets.py \
        [--sizes 200 2000] [--engines local ray] [--traced]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
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


def write_variants(folder: Path, n: int) -> None:
    """Save n variants as PNG files named 00000.png, 00001.png, ... (sorted = made order)."""
    import PIL.Image

    for i, image in enumerate(variants(n)):
        PIL.Image.fromarray((image * 255 + 0.5).astype(np.uint8)).save(folder / f"{i:05d}.png")


class DescendantMemory:
    """The peak resident memory of this process's descendants (Ray's workers), sampled."""

    def __init__(self, every: float = 0.2):
        self.every = every
        self.peak_total = 0
        self.peak_one = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> DescendantMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(self.every):
            sizes = []
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # ended between listing and reading
                    sizes.append(child.memory_info().rss)
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_one = max(self.peak_one, max(sizes, default=0))


def run_one(paths: list[str], engine: str, layer: str, groups: int, batch: int, traced: bool):
    """Fit the images in this process; return the measurements."""
    import resource
    import time
    import tracemalloc

    from neuron_groups.datasets import fit_groups
    from neuron_groups.models import load_model

    options = {"batch_size": batch, "progress": False, "engine": engine}
    if engine == "ray":
        import ray

        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
        model = "inceptionv1"  # loaded by name on each worker
        traced = False
    else:
        model = load_model("inceptionv1")
        model.activations(next(variants(1, seed=99)), layer)  # compile outside the timing
    if traced:
        tracemalloc.start()
    with DescendantMemory() as workers:
        start = time.perf_counter()
        fitted = fit_groups(paths, layer, groups, model=model, **options)
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
        "workers_mb": workers.peak_total / 2**20,
        "worker_mb": workers.peak_one / 2**20,
        "channel": fitted.channel.tolist(),
    }


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--engines", nargs="+", default=["local", "ray"])
    parser.add_argument("--layer", default="mixed4d")
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument(
        "--traced", action="store_true", help="also trace Python allocations (slows the fit)"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        paths = sorted(str(p) for p in Path(args.folder).glob("*.png"))[: args.child]
        engine = args.engines[0]
        result = run_one(paths, engine, args.layer, args.groups, args.batch, args.traced)
        print(json.dumps(result))
        return
    import ray
    import tensorflow as tf

    print(f"CPU: {cpu_description()}, {os.cpu_count()} CPUs; TensorFlow {tf.__version__},")
    print(f"Ray {ray.__version__}; layer {args.layer}, {args.groups} groups, {args.batch} a batch")
    with tempfile.TemporaryDirectory() as folder:
        write_variants(Path(folder), max(args.sizes))
        table(args, folder)


def table(args, folder: str) -> None:
    header = (
        "images engine  wall s  extract img/s  fit img/s  total img/s  rows held  traced MB"
        "  driver RSS MB  workers MB (largest)  overhead  load average"
    )
    print(header)
    for n in args.sizes:
        local = None
        for engine in args.engines:
            load = load_average()
            command = [sys.executable, __file__, "--child", str(n), "--folder", folder]
            command += ["--engines", engine, "--layer", args.layer]
            command += ["--groups", str(args.groups), "--batch", str(args.batch)]
            command += ["--traced"] if args.traced else []
            child = subprocess.run(command, capture_output=True, text=True)
            if child.returncode != 0:
                sys.exit(f"{n} images, {engine} engine failed:\n{child.stderr[-3000:]}")
            r = json.loads(child.stdout.strip().splitlines()[-1])
            local = r if engine == "local" else local
            overhead = f"{r['wall_s'] / local['wall_s']:.2f}x" if local else "-"
            same = ""
            if local and engine != "local":
                difference = np.abs(np.array(r["channel"]) - np.array(local["channel"])).max()
                same = f"  (max |channel - local| {difference:.1e})"
            print(
                f"{r['images']:>6} {engine:<6} {r['wall_s']:>7.1f} {r['extract_ips']:>14.1f} "
                f"{r['fit_ips']:>10.1f} {r['total_ips']:>12.1f} {r['max_rows']:>10} "
                f"{r['traced_peak_mb']:>10.1f} {r['maxrss_mb']:>14.0f} "
                f"{r['workers_mb']:>11.0f} ({r['worker_mb']:.0f}) {overhead:>9}  {load}{same}"
            )


if __name__ == "__main__":
    main()
