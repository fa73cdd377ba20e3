"""Time each stage of the demo (dog_cat, mixed4d, 6 groups, two classes) on this machine.

Ours: after the model is loaded, one compiled forward-and-backward pass
(``VisionModel.read``: activations, logits and the gradients of both classes), then NMF and
the attribution arithmetic. Printed beside a baseline that works the way the original
notebook did, in three passes: eager TensorFlow with no compiled functions, one forward pass
for the activations, then one gradient computation per class (the notebook built a new
graph and session for each class).

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_pipeline.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CLASSES = ["Labrador retriever", "tiger cat"]


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


VECTOR_FLAGS = [
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
]
"""The /proc/cpuinfo flags that matter to TensorFlow's oneDNN kernels."""


def cpu_description() -> str:
    """The CPU model and its vector-instruction flags, from /proc/cpuinfo where there is one."""
    model, flags = platform.processor() or "unknown CPU", []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = [flag for flag in value.split() if flag in VECTOR_FLAGS]
                    break
    except OSError:
        pass
    return f"{model} ({' '.join(flags) or 'no AVX flags'})"


def timed_subprocess(code: str) -> float:
    """Seconds a fresh interpreter takes to run ``code`` (cold start, as a user sees it)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    python_start = timed_subprocess("pass")
    tf_time = timed_subprocess("import tensorflow") - python_start
    import_time = timed_subprocess("import tensorflow, neuron_groups.models") - python_start
    load_time = (
        timed_subprocess(
            "import tensorflow, neuron_groups.models as m; m.load_model('inceptionv1')"
        )
        - python_start
        - import_time
    )

    import numpy as np
    import tensorflow as tf

    from neuron_groups import load_image, load_model
    from neuron_groups.attribution import group_attributions
    from neuron_groups.backends.base import Targets
    from neuron_groups.factorization import factorize
    from neuron_groups.labels import imagenet_synonyms, resolve_classes

    model = load_model("inceptionv1")
    image = load_image("dog_cat")
    classes = resolve_classes(CLASSES, imagenet_synonyms(), 1000)
    targets = Targets.classes(classes)

    # Warm-up: the first call traces and compiles (reported separately).
    start = time.perf_counter()
    reading = model.read(image, "mixed4d", targets)
    first_call = time.perf_counter() - start
    groups = factorize(reading.acts, 6)

    ours = {
        "read: acts+logits+grads": best_of(
            lambda: model.read(image, "mixed4d", targets), args.repeats
        ),
        "factorization (NMF)": best_of(lambda: factorize(reading.acts, 6), args.repeats),
        "attribution, 2 classes": best_of(
            lambda: group_attributions(reading.grads, groups.spatial, groups.channel), args.repeats
        ),
    }

    batch = tf.constant(image[None])

    def eager_activations():
        return model.forward_to(batch, "mixed4d").numpy()

    def eager_gradients_per_class():
        rows = []
        for index in classes:  # one gradient computation per class, as the notebook did
            with tf.GradientTape() as tape:
                layer_acts = model.forward_to(batch, "mixed4d")
                tape.watch(layer_acts)
                logit = model.head_from(layer_acts, "mixed4d")[0, index]
            rows.append(tape.gradient(logit, layer_acts).numpy()[0])
        return np.stack(rows)

    baseline = {
        "activations (eager)": best_of(eager_activations, args.repeats),
        "gradients, 1 pass per class": best_of(eager_gradients_per_class, args.repeats),
        "factorization (NMF)": ours["factorization (NMF)"],
        "attribution, 2 classes": ours["attribution, 2 classes"],
    }
    np.testing.assert_allclose(
        group_attributions(eager_gradients_per_class(), groups.spatial, groups.channel),
        group_attributions(reading.grads, groups.spatial, groups.channel),
        rtol=1e-3,
        atol=1e-4,
    )

    cores = os.cpu_count()
    print(f"neuron-groups pipeline benchmark: dog_cat, mixed4d, 6 groups, {cores} cores")
    print(f"CPU: {cpu_description()}; TensorFlow {tf.__version__}")
    print(
        f"best of {args.repeats}; baseline = eager TF, "
        "a forward pass for the activations, then one gradient pass per class\n"
    )
    print(f"{'stage':<30}{'ours':>10}")
    print(f"{'import tensorflow':<30}{tf_time:>9.2f}s")
    print(f"{'import neuron_groups (+tf)':<30}{import_time:>9.2f}s")
    print(f"{'model build + weight load':<30}{load_time:>9.2f}s")
    print(f"{'first read (tracing)':<30}{first_call:>9.2f}s")
    for stage, seconds in ours.items():
        print(f"{stage:<30}{seconds:>9.3f}s")
    print(f"\n{'baseline stage':<30}{'time':>10}")
    for stage, seconds in baseline.items():
        print(f"{stage:<30}{seconds:>9.3f}s")
    after_load = sum(ours.values())
    print(
        f"\n{'after load, total':<30}{after_load:>9.3f}s ours, {sum(baseline.values()):.3f}s "
        "baseline (one compiled pass vs three eager passes)"
    )
    print(
        f"\ngoals: after load < 1.5 s ({'met' if after_load < 1.5 else 'NOT met'}), "
        f"model load < 3 s once cached ({'met' if load_time < 3 else 'NOT met'})"
    )
    print(f"(python start-up, {python_start:.2f}s, subtracted from the cold-start figures)")


if __name__ == "__main__":
    main()
