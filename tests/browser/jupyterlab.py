"""A JupyterLab server for the browser tests: localhost, a token, a copy of examples/, no browser.

Everything the server and its kernels write (settings, workspaces, runtime files, the icon
cache) goes to a temporary folder, so a run neither reads nor changes the user's Jupyter setup,
and the icons are computed afresh every time (a cached icon would skip the code under test).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

ICON_STEPS = int(os.environ.get("NEURON_GROUPS_STEPS") or 128)
"""Icon optimization steps in the browser tests (Lucid's are 513): ~15 s a widget on a CPU, and
icons that already show what each group looks for (the README's picture is taken with them)."""

START_TIMEOUT = 90.0
"""Seconds the server may take to answer (a wait for readiness, not a timed assertion)."""

# JupyterLab's user settings: no news/update prompt (a toast that asks, and a request to the
# internet), every cell attached to the DOM (the default windowing leaves off-screen cells out
# or unrendered, which a test that reads outputs cannot see).
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path
    log: Path

    def lab_url(self, path: str) -> str:
        """The address that opens ``path`` (relative to the root) in JupyterLab.

        ``reset``: a fresh workspace, so that the notebooks earlier pages opened on this
        server (JupyterLab saves and restores the open tabs) are not opened again beside it.
        """
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def api(self, path: str) -> object:
        """GET ``/api/<path>`` as JSON."""
        url = f"{self.url}/api/{path}?token={self.token}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def shut_down(self, notebook: str) -> None:
        """Shut down ``notebook``'s kernel (and its background work) and forget its session."""
        for session in self.api("sessions"):
            if session["path"] == notebook:
                url = f"{self.url}/api/sessions/{session['id']}?token={self.token}"
                request = urllib.request.Request(url, method="DELETE")
                with urllib.request.urlopen(request, timeout=30):
                    pass

    def wait_for_kernel(self, notebook: str, timeout: float) -> None:
        """Wait until ``notebook``'s kernel is idle and a page is connected to it.

        JupyterLab's own kernel indicator can read "idle" before the kernel even exists, and
        "Run All" then clears the cells instead of running them: the server knows better.
        """
        deadline = time.monotonic() + timeout
        while True:
            kernels = [s["kernel"] for s in self.api("sessions") if s["path"] == notebook]
            if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
                return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no connected idle kernel for {notebook} in {timeout:.0f} s: "
                    f"{kernels}\n{self.log_tail()}"
                )
            time.sleep(0.25)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (for failure messages)."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def free_port() -> int:
    """A localhost TCP port nobody listens on right now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and the kernels it started (its own process group), politely first."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    # Kernels left behind by a server that died or ignored SIGTERM are in the same group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_lab(base: Path) -> Iterator[LabServer]:
    """A JupyterLab server serving a copy of ``examples/``, its files under ``base``; killed
    (with its kernels) on exit."""
    root = base / "notebooks"
    shutil.copytree(REPO / "examples", root)
    settings = base / "settings"
    for name, values in USER_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        # tests/conftest.py has set it (to ../shared unless told otherwise).
        "NEURON_GROUPS_DATA": os.environ["NEURON_GROUPS_DATA"],
        "NEURON_GROUPS_STEPS": str(ICON_STEPS),
        "NEURON_GROUPS_CACHE": str(base / "cache"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--LabApp.extension_manager=readonly",  # no package index queries
    ]
    if os.geteuid() == 0:  # CI and these machines run as root
        command.append("--allow-root")
    log = base / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(f"{server.url}/api/status?token={token}"):
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer in {START_TIMEOUT:.0f} s:\n{server.log_tail()}"
                )
            time.sleep(0.25)
        yield server
    finally:
        _stop(proc)
