"""VisionModel.evaluate at InceptionV1's mixed4d: targets at a batch of given activations.

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_evaluate.py [--rounds N] [--no-torch]

Prints the CPU and the load, then, for the TensorFlow backend (compiled, as a widget runs
it) and the PyTorch backend, the median seconds over interleaved rounds (after one warm-up
call each, which traces) of:

- the baseline: ``read(dog_cat, "mixed4d", Targets.classes([208, 282]))``, today's one
  pass (forward to the logits, both classes' gradients);
- ``evaluate`` with B = 32 activations (the image's, each channel rescaled) and T = 2
  classes, values only, and with gradients (what integrated gradients calls per chunk);
- ``evaluate`` with B = 64 and T = 8 with gradients (the largest the analysis asks for).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from bench_pipeline import cpu_description

from neuron_groups import load_model
from neuron_groups.backends.base import Targets
from neuron_groups.images import load_image

LAYER = "mixed4d"
CLASSES = [208, 282]


def batch_of(acts: np.ndarray, count: int) -> np.ndarray:
    """``count`` activations near the image's (B, 14, 14, 528): each channel rescaled."""
    scale = np.random.default_rng(0).uniform(0.3, 1.5, (count, 1, 1, acts.shape[-1]))
    return (acts[None] * scale).astype(np.float32)


def cases(model, image: np.ndarray) -> dict[str, Callable[[], object]]:
    """The calls to time, by name."""
    acts = model.activations(image, LAYER)
    b32, b64 = batch_of(acts, 32), batch_of(acts, 64)
    two, eight = Targets.classes(CLASSES), Targets.classes(range(200, 208))
    return {
        "read, 2 classes (baseline)": lambda: model.read(image, LAYER, two),
        "evaluate B=32 T=2, values": lambda: model.evaluate(image, LAYER, b32, two),
        "evaluate B=32 T=2, gradients": lambda: model.evaluate(image, LAYER, b32, two, True),
        "evaluate B=64 T=8, gradients": lambda: model.evaluate(image, LAYER, b64, eight, True),
    }


def measure(models: dict[str, object], image: np.ndarray, rounds: int) -> None:
    """Warm each call up once, then time interleaved rounds; print medians."""
    calls = {
        (backend, name): fn
        for backend, model in models.items()
        for name, fn in cases(model, image).items()
    }
    for fn in calls.values():
        fn()  # traces (TensorFlow) and warms up
    times: dict[tuple[str, str], list[float]] = {key: [] for key in calls}
    for _ in range(rounds):
        for key, fn in calls.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    for (backend, name), seconds in times.items():
        print(
            f"{backend:>10}  {name:<30} median {statistics.median(seconds):6.3f} s"
            f"   min {min(seconds):6.3f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    print(cpu_description())
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")
    image = load_image("dog_cat")
    models = {"tensorflow": load_model("inceptionv1")}
    if not args.no_torch:
        import torch

        from neuron_groups.backends.torch import InceptionV1

        models["torch"] = InceptionV1()
        print(f"torch threads: {torch.get_num_threads()}")
    measure(models, image, args.rounds)
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
