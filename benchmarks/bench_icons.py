"""Time the group icons of the demo: 6 icons, 80x80, mixed4d, 513 steps, on InceptionV1.

Usage: python benchmarks/bench_icons.py [--steps N] [--eager-steps N] [--png PATH]
                                        [--inter-op N] [--intra-op N]

Prints milliseconds per step and the total for the compiled loop (run in full, tracing
included), and the same for an equivalent plain eager loop (timed over a few steps and
extrapolated), then each icon's objective: its direction score at mixed4d on the final
80x80 icon, without transforms. The directions are the NMF channel factors of dog_cat at
mixed4d, as the demo computes them. Set NEURON_GROUPS_DATA to read the data offline.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from bench_pipeline import cpu_description

from neuron_groups import load_model
from neuron_groups.backends.base import IconHooks, IconSettings
from neuron_groups.backends.tensorflow.optvis import Renderer
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image

LAYER = "mixed4d"


def demo_directions(model) -> np.ndarray:
    """The demo's 6 NMF channel factors of dog_cat at mixed4d, ordered left to right."""
    from neuron_groups.data import data_path

    acts = model.activations(load_image(data_path("images/dog_cat.png")), LAYER)
    return factorize(acts, 6, layer=LAYER).channel


def direction_scores(model, icons: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Each icon's mean over positions of ``acts . direction`` at the layer, no transforms."""
    acts = model.forward_to(tf.constant(icons), LAYER).numpy()  # (n, h, w, C)
    return np.einsum("bhwc,bc->b", acts, directions) / (acts.shape[1] * acts.shape[2])


def time_compiled(model, directions, settings):
    def forward(images, relu):
        return model.forward_to(images, LAYER, relu)

    renderer = Renderer(forward, directions, settings)
    times = []

    def progress(step, scores):
        times.append(time.perf_counter())

    start, cpu = time.perf_counter(), time.process_time()
    icons = renderer.run(IconHooks(progress=progress))
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    first = times[0] - start
    steady = np.diff(times[len(times) // 2 :]).mean() if len(times) > 3 else float("nan")
    return icons, total, cpu, first, steady


def time_eager(model, directions, settings, steps):
    def forward(images, relu):
        return model.forward_to(images, LAYER, relu)

    renderer = Renderer(forward, directions, settings)
    times = []
    tf.config.run_functions_eagerly(True)
    try:
        for _ in range(steps):
            draws = tf.constant(renderer.transforms.draw(renderer.draw_rng))
            start = time.perf_counter()
            renderer.train_step(draws).numpy()
            times.append(time.perf_counter() - start)
    finally:
        tf.config.run_functions_eagerly(False)
    return float(np.median(times[1:]))


def save_grid(icons: np.ndarray, path: str, scale: int = 3) -> None:
    from PIL import Image

    row = np.concatenate(
        [np.pad(i, ((2, 2), (2, 2), (0, 0)), constant_values=1) for i in icons], axis=1
    )
    image = Image.fromarray((row * 255).round().astype(np.uint8))
    image.resize((image.width * scale, image.height * scale), Image.NEAREST).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=513)
    parser.add_argument("--eager-steps", type=int, default=20)
    parser.add_argument("--png", help="save the icons side by side to this PNG")
    parser.add_argument("--inter-op", type=int, default=0, help="TF inter-op threads (0: TF's)")
    parser.add_argument("--intra-op", type=int, default=0, help="TF intra-op threads (0: TF's)")
    args = parser.parse_args()
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)

    print(f"CPU: {cpu_description()}")
    print(
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, intra-op threads "
        f"{tf.config.threading.get_intra_op_parallelism_threads() or 'default'}, inter-op "
        f"{tf.config.threading.get_inter_op_parallelism_threads() or 'default'}"
    )
    load = os.getloadavg()[0]
    model = load_model("inceptionv1")
    directions = demo_directions(model)
    settings = IconSettings(steps=args.steps)
    print(
        f"demo: {len(directions)} icons, {settings.size}x{settings.size}, {LAYER}, "
        f"{settings.steps} steps"
    )

    icons, total, cpu, first, steady = time_compiled(model, directions, settings)
    per_step = total / settings.steps
    print(
        f"compiled: {per_step * 1e3:.0f} ms/step overall ({steady * 1e3:.0f} ms/step steady, "
        f"first step with tracing {first:.1f} s); total {total:.1f} s"
    )
    print(
        f"  CPU time {cpu:.1f} s over {os.cpu_count()} cores; load average before the run "
        f"{load:.1f} (other processes slow the wall time down)"
    )
    if settings.steps != 513:
        print(f"  extrapolated to 513 steps: {first + 512 * steady:.1f} s")

    if args.eager_steps > 1:
        eager = time_eager(model, directions, settings, args.eager_steps)
        print(
            f"eager baseline: {eager * 1e3:.0f} ms/step (median of {args.eager_steps - 1} "
            f"steps, extrapolated): about {eager * 513:.0f} s for 513 steps"
        )

    scores = direction_scores(model, icons, directions)
    print("objective per icon (direction score at mixed4d, final icon, no transforms):")
    print("  " + "  ".join(f"{s:.1f}" for s in scores))
    if args.png:
        save_grid(icons, args.png)
        print(f"icons saved to {args.png}")


if __name__ == "__main__":
    main()
