"""Make the README's pictures, ``docs/widget.png`` and ``docs/layers.png``, from browser tests.

Runs the example notebooks in a real JupyterLab (as ``tests/browser/test_jupyterlab.py`` and
``tests/browser/test_jupyterlab_layers.py`` do) and copies the screenshots those tests take.
Usage, from the repository's root::

    python docs/screenshot.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHOTS = {
    "NEURON_GROUPS_SCREENSHOT": (
        "widget.png",
        "tests/browser/test_jupyterlab.py::test_screenshot_of_the_widget",
    ),
    "NEURON_GROUPS_SCREENSHOT_LAYERS": (
        "layers.png",
        "tests/browser/test_jupyterlab_layers.py::test_screenshot_of_the_layers_view",
    ),
}


def main() -> int:
    """Run the screenshot tests with the README's pictures as their copy targets."""
    env = dict(os.environ)
    env.setdefault("NEURON_GROUPS_DATA", str(REPO.parent / "shared"))
    tests = []
    for variable, (name, test) in SHOTS.items():
        env[variable] = str(REPO / "docs" / name)
        tests.append(test)
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", *tests], cwd=REPO, env=env)
    if code == 0:
        print("Wrote", ", ".join(f"docs/{name}" for name, _ in SHOTS.values()))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
