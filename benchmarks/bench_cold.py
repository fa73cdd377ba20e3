"""Cold and warm start: the CLI table from a fresh process, and the widget's first paint.

Usage: NEURON_GROUPS_DATA=../shared python benchmarks/bench_cold.py [--runs 5]

Prints, in one run:

1. ``neuron-groups dog_cat --no-icons`` end to end, in a fresh interpreter each time
   (median of ``--runs``), beside the floors measured in the same run: the interpreter
   alone, ``import tensorflow`` alone (TensorFlow's default, which imports Keras too), the
   backend's own import of TensorFlow (Keras deferred), ``import sklearn.decomposition``
   alone.
2. Where the cold time goes, from one fresh interpreter: importing the package, importing
   TensorFlow, building InceptionV1 (weights read and checked), the first reading (eager, as
   the command line reads), the factorization.
3. Warm: in a process that has built the model and shown one widget, the time to build
   another ``GroupWidget`` for the demo image (groups shown, icons pending: ``icons=False``).

Goals (issue 12): cold CLI table under 5 s; warm widget first paint under 1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_pipeline import cpu_description

STAGES = """
import time
start = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter()))
import neuron_groups, neuron_groups.cli
mark("import neuron_groups (numpy core)")
from neuron_groups.backends.tensorflow._import import import_tensorflow
import_tensorflow()
mark("import tensorflow")
from neuron_groups.models import load_model
model = load_model("inceptionv1")
mark("build InceptionV1 (weights read, hashes checked)")
model.compile_readings = False  # as the command line reads: once, without a trace
from neuron_groups.images import load_image
from neuron_groups.reading import ImageReading
reading = ImageReading(model, load_image("dog_cat"), "mixed4d", ["Labrador retriever", "tiger cat"])
mark("first reading (eager, as the command line)")
reading.analyze(6, ["Labrador retriever", "tiger cat"])
mark("factorization (imports sklearn) and attribution")
last = start
for name, at in marks:
    print(f"{name}\\t{at - last:.3f}")
    last = at
"""

DEFERRED = (
    "from neuron_groups.backends.tensorflow._import import import_tensorflow; import_tensorflow()"
)
"""How the backend imports TensorFlow: without the Keras import TensorFlow makes by default."""

WIDGET = """
import time
from neuron_groups import GroupWidget
GroupWidget("dog_cat", icons=False).result  # builds the model, traces the reading
times = []
for _ in range(RUNS):
    start = time.perf_counter()
    widget = GroupWidget("dog_cat", icons=False)  # the frame, in the "loading" state
    widget.result  # waits for the groups (read and factorized in the widget's thread)
    times.append(time.perf_counter() - start)
print(sorted(times)[len(times) // 2])
"""


def seconds(command: list[str]) -> float:
    """Wall time of one fresh process running ``command``; its output is discarded."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(command: list[str], runs: int) -> float:
    """Median wall time of ``runs`` fresh processes."""
    times = sorted(seconds(command) for _ in range(runs))
    return times[len(times) // 2]


def cli_command() -> list[str]:
    """The console script installed beside this interpreter, or the module run by it.

    Not the first one on PATH: that may be a version manager's shim (pyenv's costs a bash
    and a ``pyenv exec`` per call), which is not the package's start-up.
    """
    script = Path(sys.executable).with_name("neuron-groups")
    if not script.is_file():
        return [sys.executable, "-m", "neuron_groups.cli"]
    return [str(script)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    python = sys.executable
    print(f"CPU: {cpu_description()}, {os.cpu_count()} CPUs")
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}")

    rows = {
        "python -c pass": [python, "-c", "pass"],
        "import tensorflow (with Keras: TF's way)": [python, "-c", "import tensorflow"],
        "import_tensorflow() (Keras deferred)": [python, "-c", DEFERRED],
        "import sklearn.decomposition": [python, "-c", "import sklearn.decomposition"],
        "neuron-groups dog_cat --no-icons": [*cli_command(), "dog_cat", "--no-icons"],
    }
    print(f"\n1. cold, fresh process each time, median of {args.runs}")
    for name, command in rows.items():
        print(f"  {name:<42}{median_of(command, args.runs):>7.2f} s")

    print("\n2. where the cold time goes (one fresh process)")
    out = subprocess.run([python, "-c", STAGES], check=True, capture_output=True, text=True).stdout
    for line in out.strip().splitlines():
        name, value = line.split("\t")
        print(f"  {name:<52}{float(value):>6.2f} s")

    print("\n3. warm widget first paint (groups shown, icons pending)")
    code = WIDGET.replace("RUNS", str(args.runs))
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    print(
        f"  GroupWidget('dog_cat', icons=False), median of {args.runs}: "
        f"{float(out.stdout.strip()):.2f} s"
    )
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print("goals: cold CLI table < 5 s; warm widget first paint < 1 s")


if __name__ == "__main__":
    main()
