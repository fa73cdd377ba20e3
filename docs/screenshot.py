"""Make ``docs/widget.png``, the README's picture, from the JupyterLab browser test.

Runs the example notebook in a real JupyterLab (as ``tests/browser/test_jupyterlab.py`` does)
and copies the screenshot that test takes. Usage, from the repository's root::

    python docs/screenshot.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    """Run the screenshot test with the README's picture as its copy target."""
    target = REPO / "docs" / "widget.png"
    env = {**os.environ, "NEURON_GROUPS_SCREENSHOT": str(target)}
    env.setdefault("NEURON_GROUPS_DATA", str(REPO.parent / "shared"))
    test = "tests/browser/test_jupyterlab.py::test_screenshot_of_the_widget"
    code = subprocess.call([sys.executable, "-m", "pytest", "-q", test], cwd=REPO, env=env)
    if code == 0:
        print(f"Wrote {target}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
