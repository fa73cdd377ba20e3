"""Time the trust readouts (issue 19) beside the article's pipeline, in the same run.

The demo (dog_cat, mixed4d, 6 groups, "Labrador retriever" and "tiger cat") after the model is
loaded and each kind of pass compiled once:

- baseline: today's pipeline before the readouts, the read (activations, logits, class
  gradients), NMF and the article's linear table (``analyze(methods=["linear"])``);
- ours, first: the same with all three tables (integrated gradients' path, the ablation
  batch) and the explained variance, what the widget shows at once;
- ours, a moment later: the curve over counts (1..16 groups) and the stability (5 refits);
- switching the table's method (``result.use``), and a group-count change in the widget's
  session once the curve has filled the count cache.

Rounds alternate the runs, so a busy machine slows them alike; medians are printed with the
CPU, its flags and the load average at the start and the end.

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_readouts.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench_pipeline import CLASSES, cpu_description

LAYER, GROUPS = "mixed4d", 6


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one_round(model, image) -> dict[str, float]:
    """One of each run, in a fixed order; fresh readings so that nothing is cached."""
    from neuron_groups.reading import ImageReading
    from neuron_groups.session import Session

    times = {}
    times["baseline: read + NMF + linear table"] = seconds(
        lambda: ImageReading(model, image, LAYER, CLASSES).analyze(
            GROUPS, CLASSES, attribution="linear", methods=["linear"]
        )
    )
    start = time.perf_counter()
    reading = ImageReading(model, image, LAYER, CLASSES)
    result = reading.analyze(GROUPS, CLASSES)
    times["ours: read + NMF + 3 tables + explained variance"] = time.perf_counter() - start
    times["ours, later: curve over counts + stability"] = seconds(lambda: reading.measure(result))
    times["switch the method (result.use)"] = seconds(lambda: result.use("ablation"))
    session = Session.open(model, image, LAYER, GROUPS, CLASSES)
    session.analyze()
    times["widget: count change, cold (6 -> 4)"] = seconds(lambda: session.set_count(LAYER, 4))
    session.measure()
    times["widget: count change after the curve (4 -> 8)"] = seconds(
        lambda: session.set_count(LAYER, 8)
    )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import tensorflow as tf

    from neuron_groups import load_image, load_model

    print(f"CPU: {cpu_description()}, {os.cpu_count()} cores; TensorFlow {tf.__version__}")
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    model = load_model("inceptionv1")
    image = load_image("dog_cat")
    one_round(model, image)  # traces every kind of pass once
    rounds = [one_round(model, image) for _ in range(args.rounds)]
    print(
        f"\nmedian of {args.rounds} rounds, seconds (dog_cat, {LAYER}, {GROUPS} groups, 2 classes)"
    )
    for name in rounds[0]:
        value = statistics.median(r[name] for r in rounds)
        print(f"{name:<52}{value:>9.3f}")
    first = statistics.median(r["ours: read + NMF + 3 tables + explained variance"] for r in rounds)
    later = statistics.median(r["ours, later: curve over counts + stability"] for r in rounds)
    change = statistics.median(r["widget: count change, cold (6 -> 4)"] for r in rounds)
    print(
        f"\ngoals: every readout within 1 s after load: {first + later:.2f} s "
        f"({'met' if first + later < 1 else 'NOT met'}; the tables first: {first:.2f} s); "
        f"a count change under 0.3 s: {change:.2f} s ({'met' if change < 0.3 else 'NOT met'})"
    )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
