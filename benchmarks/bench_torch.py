"""Icon step and pipeline across frameworks: TensorFlow, PyTorch and Lucent on the same weights.

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_torch.py [--rounds N] [--compile]

Prints, in one run and side by side (the demo: 6 icons, 80x80, mixed4d, directions = the
demo's 6 NMF channel factors of dog_cat):

1. ms per icon step, median of interleaved rounds: our TensorFlow step, our PyTorch step
   (and its variants: channels-last weights and inputs, bfloat16 autocast; ``--compile``
   adds ``torch.compile`` of the network), the bare forward-and-backward floor of the
   truncated network in each framework at 104 px (the padded icon), and each step's ratio
   to its floor.
2. Lucent 0.1.8's own render loop (``render_vis``: its ``param.image`` with FFT and
   decorrelation, its standard transforms, its Adam at lr 0.05, its ``direction``
   objectives) on our PyTorch InceptionV1 (the same BVLC weights): with Lucent's defaults
   (it upsamples images under 224 px to 224 and runs the whole classifier), and at 104 px up
   to mixed4d, to show what the upsampling costs. ms per step is the median time between
   its optimizer steps. Skipped, with a line saying so, when Lucent is not installed (it is
   not a dependency: ``pip install --no-deps torch-lucent==0.1.8 kornia==0.4.1``).
3. The pipeline after model load (read: activations, logits and both classes' gradients;
   NMF; attribution), median of ``--repeats``, for both backends.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import torch

with contextlib.suppress(ImportError):
    # Before TensorFlow: importing torchvision (Lucent does) or triton (torch.compile) after
    # TensorFlow 2.21 crashes the interpreter here (segmentation fault, torch 2.14.1).
    import torchvision  # noqa: F401

import numpy as np
import tensorflow as tf
from bench_icons import demo_directions, network_pass, time_rounds
from bench_pipeline import CLASSES, cpu_description

from neuron_groups import load_model
from neuron_groups.attribution import group_attributions
from neuron_groups.backends.base import IconSettings, Targets
from neuron_groups.backends.inceptionv1 import LOGITS, load_weights
from neuron_groups.backends.optvis import draw_transforms, rngs
from neuron_groups.backends.tensorflow.optvis import Renderer as TFRenderer
from neuron_groups.backends.tensorflow.optvis.render import draw_sequence
from neuron_groups.backends.torch import InceptionV1 as TorchInceptionV1
from neuron_groups.backends.torch.optvis import Renderer as TorchRenderer
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image
from neuron_groups.labels import imagenet_synonyms, resolve_classes

LAYER = "mixed4d"
PADDED = 104
"""The side of an 80 px icon after Lucid's 12 px padding: what the network mostly sees."""


# -- 1. our steps and the floors ------------------------------------------------------------
def tf_step(model, directions, settings: IconSettings):
    """Our TensorFlow step, past the ReLU-redirection steps: ``step(i)``."""
    renderer = TFRenderer(lambda x, relu: model.forward_to(x, LAYER, relu), directions, settings)
    draws = draw_sequence(renderer.transforms, 1, 64)  # (64, n_draws)
    lr, beta2 = np.float32(settings.learning_rate), np.float32(settings.beta2)
    for i in range(settings.redirect_relu_steps):
        renderer.train_step(draws[i], lr, beta2).numpy()
    return lambda i: renderer.train_step(draws[i % len(draws)], lr, beta2).numpy()


def torch_forward(model, memory_format=None, autocast: bool = False):
    """``forward(images, relu)`` to mixed4d, optionally channels-last or bfloat16-autocast."""

    def forward(images: torch.Tensor, relu) -> torch.Tensor:  # (n, 3, S, S) -> (n, C, h, w)
        if memory_format is not None:
            images = images.contiguous(memory_format=memory_format)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            return model.forward_to(images, LAYER, relu).float()

    return forward


def torch_step(forward, directions, settings: IconSettings):
    """Our PyTorch step with ``forward``, past the ReLU-redirection steps: ``step(i)``."""
    renderer = TorchRenderer(forward, directions, settings, torch.device("cpu"))
    rng = rngs(settings.seed)[1]
    draws = [draw_transforms(renderer.transforms, rng) for _ in range(64)]
    for i in range(settings.redirect_relu_steps):
        renderer.train_step(draws[i])
    return lambda i: renderer.train_step(draws[i % len(draws)])


def torch_floor(forward, directions):
    """Forward and backward of the truncated network: ``floor(images (n, 3, S, S))``."""
    vectors = torch.from_numpy(directions)  # (n, C)

    def floor(images: torch.Tensor) -> torch.Tensor:
        images = images.detach().requires_grad_(True)
        acts = forward(images, torch.relu)  # (n, C, h, w)
        (grad,) = torch.autograd.grad(torch.einsum("nchw,nc->", acts, vectors), images)
        return grad

    return floor


def torch_model(weights, memory_format=None) -> TorchInceptionV1:
    model = TorchInceptionV1(weights=weights)
    if memory_format is not None:
        model.module.to(memory_format=memory_format)
    return model


def step_figures(tf_model, directions, rounds: int, compile_network: bool) -> dict[str, float]:
    settings = IconSettings()
    weights = load_weights()
    plain, last = torch_model(weights), torch_model(weights, torch.channels_last)
    forwards = {
        "": torch_forward(plain),
        ", channels-last": torch_forward(last, torch.channels_last),
        ", bf16 autocast": torch_forward(plain, autocast=True),
    }
    if compile_network:
        start = time.perf_counter()
        compiled = torch.compile(torch_forward(torch_model(weights)))
        compiled(torch.rand(len(directions), 3, PADDED, PADDED), torch.relu)
        print(f"torch.compile: first call (compiling) {time.perf_counter() - start:.0f} s")
        forwards[", torch.compile"] = compiled
    rng = np.random.default_rng(0)
    nhwc = rng.random((len(directions), PADDED, PADDED, 3), np.float32)
    tf_images, torch_images = tf.constant(nhwc), torch.from_numpy(nhwc).permute(0, 3, 1, 2)
    floor_tf = network_pass(tf_model, directions)
    candidates = {
        "ours, TensorFlow step": tf_step(tf_model, directions, settings),
        f"TensorFlow floor at {PADDED} px": lambda i: floor_tf(tf_images).numpy(),
    }
    for suffix, forward in forwards.items():
        floor = torch_floor(forward, directions)
        candidates[f"ours, PyTorch step{suffix}"] = torch_step(forward, directions, settings)
        candidates[f"PyTorch floor at {PADDED} px{suffix}"] = lambda i, f=floor: f(torch_images)
    ms = time_rounds(candidates, rounds)
    print(f"\n1. ms per step, median of {rounds} interleaved rounds")
    for name, value in ms.items():
        print(f"  {name:<44}{value:>8.1f} ms")
    tf_ratio = ms["ours, TensorFlow step"] / ms[floor_name("TensorFlow")]
    print(f"  {'ours TensorFlow step / its floor':<44}{tf_ratio:>8.2f}x")
    for suffix in forwards:
        step, floor = ms[f"ours, PyTorch step{suffix}"], ms[floor_name("PyTorch", suffix)]
        print(f"  {'ours PyTorch step' + suffix + ' / its floor':<44}{step / floor:>8.2f}x")
    return ms


def floor_name(framework: str, suffix: str = "") -> str:
    return f"{framework} floor at {PADDED} px{suffix}"


# -- 2. Lucent --------------------------------------------------------------------------------
class LucentView(torch.nn.Module):
    """Our PyTorch GoogLeNet as Lucent sees a model: a child module named after the layer.

    Lucent hooks every child module by name; ``mixed4d`` is an identity on the layer's
    output. With ``whole`` the forward pass goes on to the logits, as a classifier's does.
    """

    def __init__(self, net: torch.nn.Module, whole: bool) -> None:
        super().__init__()
        self.net, self.whole = net, whole
        self.mixed4d = torch.nn.Identity()

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (n, 3, S, S) in [0, 1]
        acts = self.mixed4d(self.net(images, LAYER))  # (n, C, h, w)
        return self.net.run(acts, LAYER, LOGITS) if self.whole else acts


def lucent_ms_per_step(net, directions, steps: int, whole: bool, size: int | None) -> float:
    """Median ms between the optimizer steps of Lucent's ``render_vis`` (steps 3 on)."""
    from lucent.optvis import objectives, param, render

    stamps: list[float] = []

    class TimedAdam(torch.optim.Adam):
        def step(self, closure=None):
            loss = super().step(closure)
            stamps.append(time.perf_counter())
            return loss

    objective = objectives.Objective.sum(
        [
            objectives.direction(LAYER, torch.from_numpy(d), batch=i)
            for i, d in enumerate(directions)
        ]
    )
    render.render_vis(
        LucentView(net, whole),
        objective,
        lambda: param.image(80, batch=len(directions)),  # FFT, decorrelated: Lucent's defaults
        optimizer=lambda params: TimedAdam(params, lr=0.05),
        thresholds=(steps,),
        preprocess=False,  # our network takes RGB in [0, 1] and does Caffe's preprocessing
        progress=False,
        show_image=False,
        fixed_image_size=size,
    )
    return float(np.median(np.diff(stamps[2:]))) * 1e3


def lucent_figures(directions, steps: int, ours: dict[str, float]) -> None:
    try:
        import kornia
        import lucent  # noqa: F401
    except ImportError as exc:
        print(
            f"\n2. Lucent: not installed ({exc}); not measured in this run. To measure it: "
            "pip install --no-deps torch-lucent==0.1.8 kornia==0.4.1"
        )
        return
    net = torch_model(load_weights()).module
    runs = {
        "Lucent 0.1.8, its defaults (224 px, whole net)": (True, None),
        f"Lucent 0.1.8, {PADDED} px, up to {LAYER}": (False, PADDED),
    }
    print(
        f"\n2. Lucent's render_vis on our PyTorch InceptionV1 (kornia {kornia.__version__}), "
        f"median ms between its optimizer steps, {steps} steps"
    )
    for name, (whole, size) in runs.items():
        ms = lucent_ms_per_step(net, directions, steps, whole, size)
        ratios = ", ".join(
            f"{ms / ours[key]:.2f}x {label}"
            for key, label in (
                ("ours, TensorFlow step", "our TF step"),
                ("ours, PyTorch step", "our PyTorch step"),
                (floor_name("TensorFlow"), "the TF floor"),
                (floor_name("PyTorch"), "the PyTorch floor"),
            )
        )
        print(f"  {name:<48}{ms:>8.1f} ms  ({ratios})")


# -- 3. the pipeline after model load ---------------------------------------------------------
def pipeline_seconds(model, repeats: int) -> dict[str, float]:
    """Median seconds of read (2 classes), NMF (6 groups) and attribution; first read apart."""
    image = load_image("dog_cat")
    targets = Targets.classes(resolve_classes(CLASSES, imagenet_synonyms(), 1000))
    start = time.perf_counter()
    reading = model.read(image, LAYER, targets)
    first = time.perf_counter() - start
    groups = factorize(reading.acts, 6, layer=LAYER)
    stages = {
        "read (acts, logits, 2 gradients)": lambda: model.read(image, LAYER, targets),
        "NMF, 6 groups": lambda: factorize(reading.acts, 6, layer=LAYER),
        "attribution, 2 classes": lambda: group_attributions(
            reading.grads, groups.spatial, groups.channel
        ),
    }
    times = {name: [] for name in stages}
    for _ in range(repeats):
        for name, fn in stages.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    out = {"first read (TF traces)": first}
    out.update({name: float(np.median(t)) for name, t in times.items()})
    return out


def pipeline_figures(tf_model, repeats: int) -> None:
    rows = {
        "TensorFlow": pipeline_seconds(tf_model, repeats),
        "PyTorch": pipeline_seconds(load_model("inceptionv1", backend="torch"), repeats),
    }
    print(f"\n3. the pipeline after model load (dog_cat, {LAYER}), median of {repeats}, seconds")
    print(f"  {'stage':<36}" + "".join(f"{name:>12}" for name in rows))
    for stage in rows["TensorFlow"]:
        print(f"  {stage:<36}" + "".join(f"{r[stage]:>12.3f}" for r in rows.values()))
    totals = [sum(v for k, v in r.items() if not k.startswith("first")) for r in rows.values()]
    print(
        f"  {'after load: read + NMF + attribution':<36}" + "".join(f"{t:>12.3f}" for t in totals)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds per step figure")
    parser.add_argument("--lucent-steps", type=int, default=12, help="Lucent steps per run")
    parser.add_argument("--repeats", type=int, default=5, help="pipeline repeats")
    parser.add_argument("--compile", action="store_true", help="add torch.compile (minutes)")
    args = parser.parse_args()
    print(f"CPU: {cpu_description()}, {os.cpu_count()} CPUs")
    print(
        f"TensorFlow {tf.__version__}; PyTorch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()} kernels"
    )
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
    tf_model = load_model("inceptionv1")
    directions = demo_directions(tf_model)
    print(f"demo: {len(directions)} icons, 80x80, {LAYER}")
    ours = step_figures(tf_model, directions, args.rounds, args.compile)
    print(f"load average after 1: {os.getloadavg()}")
    lucent_figures(directions, args.lucent_steps, ours)
    print(f"load average after 2: {os.getloadavg()}")
    pipeline_figures(tf_model, args.repeats)
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
