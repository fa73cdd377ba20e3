"""Time the group icons of the demo: 6 icons, 80x80, mixed4d, on InceptionV1.

Usage: python benchmarks/bench_icons.py [--rounds N] [--no-quality] [--png PATH]
                                        [--inter-op N] [--intra-op N] [--seeds S ...]
                                        [--variants NAME ...] [--groups N] [--steps N]

Prints, in one run and side by side:

1. ms per step: our compiled step, the step as it was before issue 22 (TensorFlow's LRN
   op), the bare floor under it (the truncated network's forward and backward pass on the
   6 images, compiled: at 80 px, at 104 px, and at the sizes the step's transforms actually
   hand the network), and the step by stage
   (parameterization, transforms, network, Adam, host round trip), each forward and
   backward, timed in interleaved rounds (median) so that other load hits all alike.
2. Issue 22's race: Lucid's settings (the default before issue 22), today's default (Adam's
   betas 0.6 and 0.98) and the variants tried to get there sooner
   (:data:`VARIANTS`, built in ``icon_variants.py``: Adam's betas, the default with a higher
   learning rate, the fast preset, coarse to fine, a smaller tiled canvas, a start from
   each group's strongest image region, MACO),
   each over the seeds asked for, all interleaved one step at a time in one process, so
   that the load on the machine hits all alike. The score is each icon's direction score
   at mixed4d on the icon itself (full size, no transforms) as a share of the faithful
   score: the mean over Lucid's runs' seeds of their final (513-step) score for that icon,
   computed in the same race. (One seed's icons are not the yardstick: a single icon's final
   score varies by about 10% between seeds, so against seed 0 alone Lucid's own settings
   never get every icon to 90% with some seeds.) Printed per run: the step and seconds at which
   the mean over icons and every icon reach 90% (every icon 95%), seconds without the
   traces (a compiled step's first call; with them in brackets); the final shares (mean,
   lowest); how the final icons look beside Lucid's and beside the image regions (the
   cosine of their mean mixed3b activations: different seeds of Lucid's give the
   yardstick). Then per variant, the median over the seeds against Lucid's: the goal
   is 90% on every icon in at least 35% fewer seconds (0.65x) with a final score of at least
   0.99 of the faithful one.
3. The second call with the same shape: no trace.

The directions are the NMF channel factors of dog_cat at mixed4d, as the demo computes them
(``--image`` and ``--layer`` for another example image and layer; ``--groups`` fewer, for a
short run; ``--steps`` fewer makes Lucid's last step the
reference: not the faithful score). Set NEURON_GROUPS_DATA to read the data offline.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from bench_pipeline import cpu_description
from icon_variants import (
    CoarseToFine,
    Maco,
    Plain,
    Run,
    Tiled,
    forward_before,
    natural_magnitude,
    region_start,
    self_check,
)

from neuron_groups import load_model
from neuron_groups.backends.base import IconSettings
from neuron_groups.backends.tensorflow.optvis import Renderer
from neuron_groups.backends.tensorflow.optvis.render import Adam, draw_sequence
from neuron_groups.data import data_path
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image
from neuron_groups.peak_crops import peak_crops

LAYER, IMAGE = "mixed4d", "dog_cat"
"""The demo's layer and image; ``--layer`` and ``--image`` set others for the whole run."""
EXAMPLES = ("dog_cat", "flowers", "chair", "bicycle", "chameleon", "faucet", "rooster")
EXAMPLES += ("spoonbill", "sunglasses_tux", "trombone")
"""The example images whose crops give MACO its fixed magnitude."""


def demo_directions(model) -> np.ndarray:
    """The demo's 6 NMF channel factors of IMAGE at LAYER (dog_cat, mixed4d)."""
    return demo_groups(model)[0]


def demo_groups(model, groups: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The demo's channel factors (n, C) and each group's strongest 80-px region (n, 80, 80, 3).

    ``groups`` below 6 keeps the first of the demo's 6 groups.
    """
    image = load_image(data_path(f"images/{IMAGE}.png"))
    found = factorize(model.activations(image, LAYER), 6, layer=LAYER)
    crops = np.stack([c.crop for c in peak_crops(image, found.spatial[:groups], 80)])
    return found.channel[:groups], crops


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
    rates = np.float32([settings.learning_rate, settings.beta2, settings.beta1])
    before = Renderer(forward_before(model, LAYER), directions, settings)
    for i in range(settings.redirect_relu_steps + 3):  # past the redirection steps
        renderer.train_step(draws[i], *rates).numpy()
        before.train_step(draws[i], *rates).numpy()
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
        "step (ours)": lambda i: renderer.train_step(draws[i % pick], *rates).numpy(),
        "step before issue 22": lambda i: before.train_step(draws[i % pick], *rates).numpy(),
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
    print(f"  {'step / step before issue 22':<28}{step / ms['step before issue 22']:>7.2f}x")
    for name in ("floor at 80 px", "floor at 104 px", "floor at the sizes seen"):
        print(f"  {'step / ' + name:<28}{step / ms[name]:>7.2f}x")
    print("  PyTorch and Lucent 0.1.8 on the same weights: benchmarks/bench_torch.py")


# -- 2. seconds to a share of the faithful score, the variants raced -------------------------
BASELINE = "Lucid's (old default)"
"""The default before issue 22, the yardstick of the race: Lucid's optimizer exactly, through
the network as it ran then (TensorFlow's LRN op, :func:`icon_variants.forward_before`)."""


def _plain(name: str, settings: Callable[[Context, int], IconSettings]):
    """A variant: the package's optimization named ``name`` with ``settings(context, seed)``."""
    return lambda c, s: Plain(name, c.forward, c.directions, settings(c, s))


VARIANTS = {
    BASELINE: lambda c, s: Plain(BASELINE, c.forward_before, c.directions, c.lucid(seed=s)),
    "default (beta1 .6, beta2 .98)": _plain(
        "default (beta1 .6, beta2 .98)", lambda c, s: IconSettings(seed=s, steps=c.steps)
    ),
    "beta1 .7, beta2 .99": _plain(
        "beta1 .7, beta2 .99", lambda c, s: c.lucid(seed=s, beta1=0.7, beta2=0.99)
    ),
    "lr .065": _plain(
        "lr .065", lambda c, s: IconSettings(seed=s, steps=c.steps, learning_rate=0.065)
    ),
    "lr .08": _plain(
        "lr .08", lambda c, s: IconSettings(seed=s, steps=c.steps, learning_rate=0.08)
    ),
    "fast preset": _plain(
        "fast preset", lambda c, s: IconSettings.fast(seed=s, steps=c.steps // 2)
    ),
    "coarse 40 px x96": lambda c, s: CoarseToFine(
        "coarse 40 px x96", c.forward, c.directions, c.lucid(seed=s), 40, 96
    ),
    "tiled 40 px x64": lambda c, s: Tiled(
        "tiled 40 px x64", c.forward, c.directions, c.lucid(seed=s), 40, 64
    ),
    "start: region": lambda c, s: c.region_run("start: region", s, 1.0),
    "start: region x.5 + noise": lambda c, s: c.region_run("start: region x.5 + noise", s, 0.5),
    "MACO, lr .2": lambda c, s: Maco(
        "MACO, lr .2", c.forward, c.directions, c.lucid(seed=s, learning_rate=0.2), c.magnitude
    ),
}
"""The runs raced in section 2 (each over every seed asked for); see icon_variants.py."""


@dataclasses.dataclass
class Context:
    """What the variants are built from: the demo's model, directions, crops and steps."""

    model: object
    directions: np.ndarray
    crops: np.ndarray  # (n, 80, 80, 3) each group's strongest region of the image
    steps: int
    magnitude: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.forward_before = forward_before(self.model, LAYER)

    def forward(self, images, relu):
        return self.model.forward_to(images, LAYER, relu)

    def lucid(self, **changes) -> IconSettings:
        """Lucid's settings (the old default) with ``changes``, for the race's length."""
        return IconSettings.lucid(steps=self.steps, **changes)

    def region_run(self, name: str, seed: int, weight: float) -> Plain:
        run = Plain(name, self.forward, self.directions, self.lucid(seed=seed))
        run.renderer.param.spectrum.assign(region_start(run.renderer, self.crops, weight))
        return run


@dataclasses.dataclass
class Trace:
    """One run's race: the seconds of each step and its scores every few steps."""

    run: Run
    seed: int
    seconds: list = dataclasses.field(default_factory=list)  # per step
    first_of_phase: list = dataclasses.field(default_factory=list)  # per step: traced
    phases: list = dataclasses.field(default_factory=list)  # per step: which compiled step
    marks: list = dataclasses.field(default_factory=list)  # (steps done, scores (n,))

    def warm_seconds(self) -> np.ndarray:
        """Seconds up to each step, a phase's first step (its trace) counted as a median one."""
        t, first = np.array(self.seconds), np.array(self.first_of_phase)
        typical = np.median(t[~first]) if (~first).any() else 0.0
        return np.concatenate([[0.0], np.cumsum(np.where(first, typical, t))])

    def step_ms(self) -> str:
        """The median ms of a step in each phase (e.g. coarse, then full size): 'a/b'."""
        t, first, phases = (np.array(v) for v in (self.seconds, self.first_of_phase, self.phases))
        medians = [np.median(t[(phases == p) & ~first]) * 1e3 for p in np.unique(phases)]
        return "/".join(f"{m:.0f}" for m in medians)

    def cold_seconds(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.seconds)])


def race(runs: list[tuple[Run, int]], score, every: int) -> list[Trace]:
    """Step every run in turn, one step each per round; score each every ``every`` steps."""
    traces = [Trace(run, seed) for run, seed in runs]
    for t in traces:
        t.marks.append((0, score(t.run.images())))
    loads = [os.getloadavg()[0]]
    while any(t.run.done < t.run.steps for t in traces):
        for t in traces:
            if t.run.done >= t.run.steps:
                continue
            phase, start = t.run.phase, time.perf_counter()
            t.run.step()
            t.seconds.append(time.perf_counter() - start)
            t.first_of_phase.append(t.run.done == 1 or t.run.phase != phase)
            t.phases.append(t.run.phase)
            if t.run.done % every == 0 or t.run.done == t.run.steps:
                t.marks.append((t.run.done, score(t.run.images())))
        if traces[0].run.done % 64 == 0:
            loads.append(os.getloadavg()[0])
    print(f"  load average (1 min) during the race: {min(loads):.1f} to {max(loads):.1f}")
    return traces


def first_reach(trace: Trace, shares: np.ndarray, target: float):
    """(step, warm seconds, cold seconds) when ``shares`` (k,) first reach ``target``, or None."""
    hit = np.flatnonzero(shares >= target - 1e-6)
    if not hit.size:
        return None
    step = trace.marks[hit[0]][0]
    return step, trace.warm_seconds()[step], trace.cold_seconds()[step]


def fmt(hit) -> str:
    return f"{hit[0]:>4d} {hit[1]:5.1f} s ({hit[2]:5.1f})" if hit else f"{'never':>21}"


def looks(model, icons: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Per icon, the cosine of mixed3b's mean activations (a texture descriptor) of two sets."""
    a = tf.reduce_mean(model.forward_to(tf.constant(icons), "mixed3b"), axis=(1, 2)).numpy()
    b = tf.reduce_mean(model.forward_to(tf.constant(others), "mixed3b"), axis=(1, 2)).numpy()
    return np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def quality(model, directions, crops, seeds, names, steps) -> dict:
    """Race the variants; print when each reaches 90% / 95% of the faithful score."""
    images = [load_image(data_path(f"images/{name}.png")) for name in EXAMPLES]
    context = Context(model, directions, crops, steps, natural_magnitude(images, 80))
    self_check()
    runs = [(VARIANTS[name](context, seed), seed) for name in names for seed in seeds]
    print(f"\n2. The variants raced: {len(runs)} runs of {len(directions)} icons, one step of")
    print("   each in turn; each run's icons scored every 8 steps (not timed)")
    traces = race(runs, lambda icons: direction_scores(model, icons, directions), every=8)
    by_name = {(t.run.name, t.seed): t for t in traces}
    faithful = np.mean([by_name[(BASELINE, s)].marks[-1][1] for s in seeds], axis=0)  # (n,)
    today = by_name[(BASELINE, seeds[0])].run.images()
    print(
        f"   faithful score: the mean of Lucid's {steps}-step icons (the old default) over seeds "
        f"{seeds}, per icon {np.round(faithful, 1).tolist()}"
        + ("" if steps == 513 else " (NOT 513 steps)")
    )
    print("   step, seconds without traces (with); 'look': mixed3b cosine of the final icons to")
    print(f"   Lucid's (seed {seeds[0]}), 'photo': to the image regions (Lucid's icons: see")
    print(f"   {BASELINE!r}); ms/step: the median step of each phase (a coarse one first)")
    head = f"  {'run':<31}{'seed':>4}{'90% mean':>22}{'90% every icon':>22}{'95% every icon':>22}"
    print(head + f"{'final: mean':>13}{'min':>7}{'look':>6}{'photo':>7}{'ms/step':>9}")
    rows = {}
    for t in traces:
        share = np.array([m[1] for m in t.marks]) / faithful  # (k, n)
        hits = [
            first_reach(t, share.mean(1), 0.9),
            first_reach(t, share.min(1), 0.9),
            first_reach(t, share.min(1), 0.95),
        ]
        final, icons = share[-1], t.run.images()
        look, photo = looks(model, icons, today).mean(), looks(model, icons, crops).mean()
        rows[(t.run.name, t.seed)] = (hits, final)
        print(
            f"  {t.run.name:<31}{t.seed:>4}"
            + "".join(f"{fmt(h):>22}" for h in hits)
            + f"{final.mean():>13.3f}{final.min():>7.3f}{look:>6.2f}{photo:>7.2f}"
            + f"{t.step_ms():>9}"
        )
    summary(rows, names, seeds)
    return {name: by_name[(name, seeds[0])].run.images() for name in names}


def summary(rows: dict, names: list[str], seeds: list[int]) -> None:
    """Per variant over the seeds: median warm seconds to 90%, against Lucid's."""
    print("\n   over the seeds: the median seconds to 90% on every icon and on the mean")
    print("   (without traces; a seed that never gets there counts as the slowest), as a share")
    print("   of Lucid's, with the fastest and slowest seed; the final share (mean over seeds and")
    print("   icons) and the lowest icon")

    def median_seconds(name, which):
        got = [rows[(name, s)][0][which] for s in seeds]
        each = [np.inf if g is None else g[1] for g in got]
        seconds = float(np.median(each))
        never = sum(g is None for g in got)
        text = "never" if np.isinf(seconds) else f"{seconds:5.1f} s"
        spread = f", seeds {min(each):.1f}-{max(each):.1f}" if len(each) > 1 else ""
        return text + (f", never in {never}/{len(got)}" if never else spread), seconds

    base = {which: median_seconds(BASELINE, which)[1] for which in (0, 1)}
    for name in names:
        cells = []
        for which, label in ((1, "every icon"), (0, "mean")):
            text, seconds = median_seconds(name, which)
            finite = np.isfinite(seconds) and np.isfinite(base[which])
            ratio = f"({seconds / base[which]:.2f}x)" if finite else ""
            cells.append(f"{label} {text:>30} {ratio:<8}")
        finals = [rows[(name, s)][1] for s in seeds]
        mean, lowest = np.mean([f.mean() for f in finals]), min(f.min() for f in finals)
        print(f"  {name:<31} " + "  ".join(cells) + f"  final {mean:.3f}, lowest {lowest:.3f}")


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


def save_grid(rows: dict[str, np.ndarray], path: str, scale: int = 2) -> None:
    """Save each row of icons (n, S, S, 3) side by side, one row under another, as a PNG."""
    from PIL import Image

    def strip(icons):
        return np.concatenate(
            [np.pad(i, ((2, 2), (2, 2), (0, 0)), constant_values=1) for i in icons], axis=1
        )

    grid = np.concatenate([strip(icons) for icons in rows.values()], axis=0)
    image = Image.fromarray((grid * 255).round().astype(np.uint8))
    image.resize((image.width * scale, image.height * scale), Image.NEAREST).save(path)
    print(f"\nfinal icons (seed 0), one row each, top to bottom: {', '.join(rows)}: {path}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="timing rounds per figure")
    parser.add_argument("--no-quality", action="store_true", help="skip the race (section 2)")
    parser.add_argument("--png", help="save the race's final icons (seed 0) to this PNG")
    parser.add_argument("--inter-op", type=int, default=0, help="TF inter-op threads (0: TF's)")
    parser.add_argument("--intra-op", type=int, default=0, help="TF intra-op threads (0: TF's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of every run")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=list(VARIANTS),
        choices=list(VARIANTS),
        metavar="NAME",
        help=f"runs to race besides Lucid's settings (all): {', '.join(VARIANTS)}",
    )
    parser.add_argument("--image", default=IMAGE, choices=EXAMPLES, help="example image (dog_cat)")
    parser.add_argument("--layer", default=LAYER, help="layer of InceptionV1 (mixed4d)")
    parser.add_argument("--groups", type=int, default=6, choices=range(1, 7), help="icons (6)")
    parser.add_argument("--steps", type=int, default=513, help="steps of each run (513)")
    args = parser.parse_args()
    args.variants = [BASELINE, *(v for v in args.variants if v != BASELINE)]
    return args


def main() -> None:
    global LAYER, IMAGE
    args = arguments()
    LAYER, IMAGE = args.layer, args.image
    tf.get_logger().setLevel("ERROR")  # each run has its own compiled step: no retrace warnings
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
    directions, crops = demo_groups(model, args.groups)
    print(f"demo: {len(directions)} icons, 80x80, {IMAGE} at {LAYER}")

    if args.rounds:
        per_step(model, directions, args.rounds)
    if not args.no_quality:
        finals = quality(model, directions, crops, args.seeds, args.variants, args.steps)
        if args.png:
            save_grid({"image regions": crops, **finals}, args.png)
    second_call(model, directions)
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
