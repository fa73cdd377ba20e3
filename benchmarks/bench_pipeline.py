"""Time each stage of the demo (dog_cat, mixed4d, 6 groups, two classes) on this machine.

Prints our figures beside a baseline that works the way the original notebook did: eager
TensorFlow with no compiled functions, and one gradient computation per class (the notebook
built a new graph and session for each class).

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_pipeline.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
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
    from neuron_groups.factorization import factorize
    from neuron_groups.labels import imagenet_synonyms, resolve_classes

    model = load_model("inceptionv1")
    image = load_image("dog_cat")
    classes = resolve_classes(CLASSES, imagenet_synonyms(), 1000)

    # Warm-up: the first call traces and compiles (reported separately).
    start = time.perf_counter()
    acts, _, grads = model.activations_and_gradients(image, "mixed4d", classes)
    first_call = time.perf_counter() - start
    groups = factorize(acts, 6)

    ours = {
        "activations": best_of(lambda: model.activations(image, "mixed4d"), args.repeats),
        "factorization (NMF)": best_of(lambda: factorize(acts, 6), args.repeats),
        "attribution, 2 classes": best_of(
            lambda: group_attributions(
                model.activations_and_gradients(image, "mixed4d", classes)[2],
                groups.spatial,
                groups.channel,
            ),
            args.repeats,
        ),
    }

    batch = tf.constant(image[None])

    def eager_activations():
        return model.forward_to(batch, "mixed4d").numpy()

    def eager_attribution_per_class():
        rows = []
        for index in classes:  # one gradient computation per class, as the notebook did
            with tf.GradientTape() as tape:
                layer_acts = model.forward_to(batch, "mixed4d")
                tape.watch(layer_acts)
                logit = model.head_from(layer_acts, "mixed4d")[0, index]
            rows.append(tape.gradient(logit, layer_acts).numpy()[0])
        return group_attributions(np.stack(rows), groups.spatial, groups.channel)

    baseline = {
        "activations": best_of(eager_activations, args.repeats),
        "factorization (NMF)": ours["factorization (NMF)"],
        "attribution, 2 classes": best_of(eager_attribution_per_class, args.repeats),
    }
    np.testing.assert_allclose(
        eager_attribution_per_class(),
        group_attributions(grads, groups.spatial, groups.channel),
        rtol=1e-3,
        atol=1e-4,
    )

    cores = os.cpu_count()
    print(f"neuron-groups pipeline benchmark: dog_cat, mixed4d, 6 groups, {cores} cores")
    print(f"best of {args.repeats}; baseline = eager TF, one gradient pass per class\n")
    print(f"{'stage':<28}{'ours':>10}{'baseline':>12}")
    print(f"{'import tensorflow':<28}{tf_time:>9.2f}s{'':>12}")
    print(f"{'import neuron_groups (+tf)':<28}{import_time:>9.2f}s{'':>12}")
    print(f"{'model build + weight load':<28}{load_time:>9.2f}s{'':>12}")
    print(f"{'first call (tracing)':<28}{first_call:>9.2f}s{'':>12}")
    for stage, seconds in ours.items():
        print(f"{stage:<28}{seconds:>9.3f}s{baseline[stage]:>11.3f}s")
    after_load = sum(ours.values())
    print(f"{'after load, total':<28}{after_load:>9.3f}s{sum(baseline.values()):>11.3f}s")
    print(
        f"\ngoals: after load < 1.5 s ({'met' if after_load < 1.5 else 'NOT met'}), "
        f"model load < 3 s once cached ({'met' if load_time < 3 else 'NOT met'})"
    )
    print(f"(python start-up, {python_start:.2f}s, subtracted from the cold-start figures)")


if __name__ == "__main__":
    main()
