"""Time the group icons of the demo: 6 icons, 80x80, mixed4d, on InceptionV1.

Usage: python benchmarks/bench_icons.py [--rounds N] [--no-quality] [--png PATH]
                                        [--inter-op N] [--intra-op N]

Prints, in one run and side by side:

1. ms per step: our compiled step, the bare floor under it (the truncated network's
   forward and backward pass on the 6 images, compiled: at 80 px, at 104 px, and at the
   sizes the step's transforms actually hand the network), and the step by stage
   (parameterization, transforms, network, Adam, host round trip), each forward and
   backward, timed in interleaved rounds (median) so that other load hits all alike.
2. Seconds to 90% / 95% / 100% of the faithful score, for the default run, the fast
   preset (:meth:`IconSettings.fast`) and the widget's preview (the default run's own
   snapshots, every 16 steps). The score is each icon's direction score at mixed4d on the
   icon itself, without transforms, as a share of the faithful (513-step) icon's; "mean"
   averages the icons, "all" waits for the lowest.
3. The second call with the same shape: no trace.

The directions are the NMF channel factors of dog_cat at mixed4d, as the demo computes them.
Set NEURON_GROUPS_DATA to read the data offline.
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
from neuron_groups.backends.tensorflow.optvis.render import Adam, draw_sequence
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image

LAYER = "mixed4d"
SHARES = (0.9, 0.95, 1.0)
PREVIEW_EVERY = 16
"""The widget's default ``snapshot_every``."""


def demo_directions(model) -> np.ndarray:
    """The demo's 6 NMF channel factors of dog_cat at mixed4d, ordered left to right."""
    from neuron_groups.data import data_path

    acts = model.activations(load_image(data_path("images/dog_cat.png")), LAYER)
    return factorize(acts, 6, layer=LAYER).channel


def direction_scores(model, icons: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Each icon's mean over positions of ``acts . direction`` at the layer, no transforms."""
    acts = model.forward_to(tf.constant(icons), LAYER).numpy()  # (n, h, w, C)
    return np.einsum("bhwc,bc->b", acts, directions) / (acts.shape[1] * acts.shape[2])


# -- 1. ms per step ------------------------------------------------------------------------
def network_pass(model, directions, relu=tf.nn.relu):
    """Compiled forward and backward pass of the truncated network: images (6, S, S, 3)."""
    v = tf.constant(directions)

    @tf.function(input_signature=[tf.TensorSpec([len(directions), None, None, 3])])
    def fb(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            acts = model.forward_to(images, LAYER, relu)  # (n, h, w, C)
            loss = tf.reduce_sum(tf.einsum("bhwc,bc->bhw", acts, v))
        return tape.gradient(loss, images)

    return fb


def stage_functions(renderer: Renderer):
    """Compiled pieces of one step, each forward and backward, on the renderer's shapes."""
    spectrum = tf.Variable(renderer.param.spectrum)  # (2, n, 3, S, S // 2 + 1)
    weights = tf.random.stateless_normal(renderer.param().shape, (1, 2))  # (n, S, S, 3)

    @tf.function
    def parameterization():
        with tf.GradientTape() as tape:
            tape.watch(renderer.param.spectrum)
            loss = tf.reduce_sum(renderer.param() * weights)
        return tape.gradient(loss, renderer.param.spectrum)

    @tf.function(input_signature=[tf.TensorSpec([renderer.transforms.n_draws], tf.int32)])
    def transforms(draws):
        images = tf.stop_gradient(renderer.param())  # (n, S, S, 3)
        with tf.GradientTape() as tape:
            tape.watch(images)
            seen = renderer.transforms(images, draws)  # (n, S', S', 3)
            loss = tf.reduce_sum(seen * seen)
        return tape.gradient(loss, images)

    adam_state = Adam(spectrum)
    grad = tf.random.stateless_normal(spectrum.shape, (3, 4))

    @tf.function
    def adam():
        adam_state.apply(grad, tf.constant(100, tf.int64))
        return spectrum[0, 0, 0, 0, 0]

    @tf.function(input_signature=[tf.TensorSpec([renderer.transforms.n_draws], tf.int32)])
    def host(draws):
        return tf.cast(draws, tf.float32)[:1] * 2.0  # (1,)

    return parameterization, transforms, adam, host


def seen_sizes(renderer: Renderer, draws: np.ndarray) -> list[int]:
    """The side of the images the network sees after the transforms, per draw."""
    images = renderer.param()
    return [int(renderer.transforms(images, d).shape[1]) for d in draws]


def time_rounds(candidates: dict, rounds: int) -> dict[str, float]:
    """Median ms of each candidate, timed once per round in turn (load hits all alike)."""
    for fn in candidates.values():  # warm up (trace, first kernels)
        fn(0)
        fn(1)
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for i in range(rounds):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn(i)
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) * 1e3 for name, t in times.items()}


def per_step(model, directions, rounds: int) -> None:
    def forward(images, relu):
        return model.forward_to(images, LAYER, relu)

    settings = IconSettings()
    renderer = Renderer(forward, directions, settings)
    draws = draw_sequence(renderer.transforms, 1, 64)  # (64, n_draws)
    lr, beta2 = np.float32(settings.learning_rate), np.float32(settings.beta2)
    for i in range(settings.redirect_relu_steps + 3):  # past the redirection steps
        renderer.train_step(draws[i], lr, beta2).numpy()
    sizes = seen_sizes(renderer, draws)
    n = len(directions)
    rng = np.random.default_rng(0)
    images = {s: tf.constant(rng.random((n, s, s, 3), np.float32)) for s in set(sizes) | {80, 104}}
    floor, with_redirect = (
        network_pass(model, directions),
        network_pass(model, directions, renderer.relu),
    )
    parameterization, transforms, adam, host = stage_functions(renderer)
    pick = len(draws)
    candidates = {
        "step (ours)": lambda i: renderer.train_step(draws[i % pick], lr, beta2).numpy(),
        "floor at 80 px": lambda i: floor(images[80]).numpy(),
        "floor at 104 px": lambda i: floor(images[104]).numpy(),
        "floor at the sizes seen": lambda i: floor(images[sizes[i % pick]]).numpy(),
        "  network with our ReLU": lambda i: with_redirect(images[sizes[i % pick]]).numpy(),
        "  parameterization": lambda i: parameterization().numpy(),
        "  transforms": lambda i: transforms(draws[i % pick]).numpy(),
        "  Adam update": lambda i: adam().numpy(),
        "  host round trip": lambda i: host(draws[i % pick]).numpy(),
    }
    ms = time_rounds(candidates, rounds)
    print(
        f"\n1. ms per step, median of {rounds} interleaved rounds (network input sides "
        f"{min(sizes)}..{max(sizes)}, mean {np.mean(sizes):.0f}; 80 px icons, 104 px padded)"
    )
    for name, value in ms.items():
        print(f"  {name:<28}{value:>7.1f} ms")
    stages = [k for k in ms if k.startswith("  ") and k != "  network with our ReLU"]
    parts = ms["  network with our ReLU"] + sum(ms[k] for k in stages)
    print(f"  {'sum of the stages':<28}{parts:>7.1f} ms")
    step = ms["step (ours)"]
    for name in ("floor at 80 px", "floor at 104 px", "floor at the sizes seen"):
        print(f"  {'step / ' + name:<28}{step / ms[name]:>7.2f}x")
    print("  PyTorch and Lucent 0.1.8 on the same weights: benchmarks/bench_torch.py")


# -- 2. seconds to a share of the faithful score ---------------------------------------------
def timed_run(model, directions, settings, every: int):
    """Run with snapshots every ``every`` steps; return (steps, seconds, scores (k, n)).

    Seconds count from the call (tracing included) to each snapshot, without the time
    spent scoring the snapshots.
    """

    def forward(images, relu):
        return model.forward_to(images, LAYER, relu)

    marks, scores, scoring = [], [], [0.0]
    start = time.perf_counter()

    def snapshot(step, images):
        now = time.perf_counter()
        marks.append((step + 1, now - start - scoring[0]))
        scores.append(direction_scores(model, images, directions))
        scoring[0] += time.perf_counter() - now

    Renderer(forward, directions, settings).run(IconHooks(snapshot=snapshot, snapshot_every=every))
    steps, seconds = (np.array(v) for v in zip(*marks, strict=True))
    return steps, seconds, np.array(scores)


def reached(shares: np.ndarray, steps, seconds, target: float) -> str:
    """When a share (k,) first reaches ``target``: 'step (seconds)', or 'never'."""
    hit = np.flatnonzero(shares >= target - 1e-6)
    return f"{steps[hit[0]]:>4d} ({seconds[hit[0]]:5.1f} s)" if hit.size else "     never  "


def quality(model, directions) -> np.ndarray:
    default = timed_run(model, directions, IconSettings(), every=8)
    faithful = default[2][-1]  # (n,) the 513-step icons' scores
    fast = timed_run(model, directions, IconSettings.fast(), every=8)
    rows = {
        "default (snapshots every 8)": default,
        "fast preset (256, beta2 .99)": fast,
        f"preview (every {PREVIEW_EVERY} steps)": tuple(v[1::2] for v in default),
    }
    print("\n2. step (seconds, tracing included) at which the icons reach a share of the")
    print("   faithful score; mean over icons / every icon")
    print(f"  {'run':<30}" + "".join(f"{f'{s:.0%} mean':>14}{f'{s:.0%} all':>14}" for s in SHARES))
    for name, (steps, seconds, scores) in rows.items():
        share = scores / faithful  # (k, n)
        cells = [
            reached(agg(share, axis=1), steps, seconds, s)
            for s in SHARES
            for agg in (np.mean, np.min)
        ]
        print(f"  {name:<30}" + "".join(f"{c:>14}" for c in cells))
    final = fast[2][-1] / faithful
    print(
        f"  fast preset's final icons: {final.mean():.3f} of the faithful score on average, "
        f"lowest icon {final.min():.3f}, in {fast[1][-1]:.1f} s vs {default[1][-1]:.1f} s"
    )
    return default[2][-1]


# -- 3. the second call ----------------------------------------------------------------------
def second_call(model, directions) -> None:
    settings, firsts = IconSettings(steps=2), []
    for other in (directions, directions[::-1].copy()):
        start = time.perf_counter()
        model.render_icons(LAYER, other, settings)
        firsts.append(time.perf_counter() - start)
    traced = model.tracing_count()
    model.render_icons(LAYER, directions * 0.5, settings)
    print(
        f"\n3. render_icons, 2 steps: first call {firsts[0]:.2f} s (traces), second call "
        f"with the same shape {firsts[1]:.2f} s; traces on a third call: "
        f"{model.tracing_count() - traced}"
    )


def save_grid(icons: np.ndarray, path: str, scale: int = 3) -> None:
    from PIL import Image

    row = np.concatenate(
        [np.pad(i, ((2, 2), (2, 2), (0, 0)), constant_values=1) for i in icons], axis=1
    )
    image = Image.fromarray((row * 255).round().astype(np.uint8))
    image.resize((image.width * scale, image.height * scale), Image.NEAREST).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="timing rounds per figure")
    parser.add_argument("--no-quality", action="store_true", help="skip the 513-step runs")
    parser.add_argument("--png", help="save the faithful icons side by side to this PNG")
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
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
    model = load_model("inceptionv1")
    directions = demo_directions(model)
    print(f"demo: {len(directions)} icons, 80x80, {LAYER}")

    per_step(model, directions, args.rounds)
    if not args.no_quality:
        quality(model, directions)
    second_call(model, directions)
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}")
    if args.png:
        save_grid(model.render_icons(LAYER, directions), args.png)
        print(f"icons saved to {args.png}")


if __name__ == "__main__":
    main()
