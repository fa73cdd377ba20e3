"""Widgets in scripts: background work ends cleanly at exit, and errors are not silent.

Each test runs a small script in a fresh interpreter, as a user's script runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNS = 5
"""Runs of the PyTorch exit script: the abort it guards against was intermittent (4 of 7)."""


def run_script(tmp_path: Path, *code: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run the script made of these pieces of code (each dedented) in a fresh interpreter."""
    script = tmp_path / "script.py"
    script.write_text("\n".join(textwrap.dedent(part) for part in code), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "python"), str(REPO)]),
        "NEURON_GROUPS_CACHE": str(tmp_path / "cache"),
    }
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


WAIT_FOR_ICONS = """
import time
deadline = time.monotonic() + 60
while w.progress == 0 and time.monotonic() < deadline:  # the icons are being optimized
    time.sleep(0.02)
assert w.status == "optimizing" and w.progress > 0, (w.status, w.error)
print("exiting while", w.progress_text, flush=True)
"""


def test_a_script_exits_cleanly_while_a_pytorch_model_computes_icons(tmp_path):
    """Exit code 0 each time, not 134 ("terminate called without an active exception")."""
    pytest.importorskip("torch")
    code = """
    import numpy as np
    import torch
    from torch import nn

    from neuron_groups import GroupWidget, IconSettings

    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10),
    )
    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    settings = IconSettings(size=32, steps=100_000)  # far more than the script waits for
    w = GroupWidget(image, "3", 3, model=net, icon_settings=settings, icon_cache=False)
    assert w.error == "", w.error
    """
    for run in range(RUNS):
        done = run_script(tmp_path, code, WAIT_FOR_ICONS)
        assert "exiting while Icons: step" in done.stdout, done.stderr
        assert "terminate called" not in done.stderr, f"run {run}: {done.stderr[-2000:]}"
        assert done.returncode == 0, f"run {run}: exit {done.returncode}\n{done.stderr[-2000:]}"


def test_the_exit_stops_running_jobs_and_waits_for_them(tmp_path):
    code = """
    import atexit
    import numpy as np
    from neuron_groups import GroupWidget, IconSettings
    from tests.fakes import FakeModel

    image = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
    settings = IconSettings(size=8, steps=1_000_000)
    w = GroupWidget(image, "conv", 3, model=FakeModel(step_delay=0.01),
                    icon_settings=settings, icon_cache=False)
    job = w._job
    # atexit handlers run after the jobs' exit hook (threading._register_atexit)
    atexit.register(lambda: print("at exit:", job.running, job.cancelled, flush=True))
    """
    done = run_script(tmp_path, code, WAIT_FOR_ICONS, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "at exit: False True" in done.stdout, (done.stdout, done.stderr)


def test_a_script_stops_at_a_widget_that_could_not_be_made(tmp_path):
    code = """
    import numpy as np
    from neuron_groups import GroupWidget
    from tests.fakes import FakeModel

    image = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
    w = GroupWidget(image, layer="no_such_layer", model=FakeModel())
    print("made:", w.status, flush=True)
    print("groups:", w.result.n_groups)
    print("not reached")
    """
    done = run_script(tmp_path, code, timeout=60)
    assert done.returncode == 1 and "made: error" in done.stdout
    assert "not reached" not in done.stdout
    assert "neuron_groups.errors.LayerError: Unknown layer 'no_such_layer'" in done.stderr
