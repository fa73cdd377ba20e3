"""Servers of the other notebook hosts for the browser tests: Jupyter Notebook 7, Voila, marimo.

Each runs in its own process group on localhost, with a token, on a copy of ``examples/`` in a
temporary folder; everything it or its kernels write (settings, runtime files, the icon cache,
marimo's config) goes there too. The server-side plumbing (a free port, "does it answer", stop
the group) is JupyterLab's, from :mod:`tests.browser.jupyterlab`.

A host that is not installed fails the test that needs it with the command that installs it:
CI installs every host through the ``test`` extra, so a missing one is a broken setup, not a
reason to skip.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .jupyterlab import REPO, START_TIMEOUT, USER_SETTINGS, LabServer, _answers, _stop, free_port

HOST_ICON_STEPS = int(os.environ.get("NEURON_GROUPS_HOST_STEPS") or 8)
"""Icon optimization steps in the host tests: they test the host, not the icons (JupyterLab's
tests do), so the icons only have to arrive."""


def require(module: str, what: str) -> None:
    """Fail (not skip) when ``module`` is not importable: CI installs it with the test extra."""
    if importlib.util.find_spec(module) is None:
        pytest.fail(
            f"{what} is not installed (no module {module!r}): pip install -e '.[test]' "
            "installs every host the browser tests drive"
        )


@dataclass(frozen=True)
class HostServer:
    """A running host server: where it answers, its token, the folder it serves, its log."""

    url: str
    token: str
    root: Path
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (for failure messages)."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


class NotebookServer(LabServer):
    """A running Jupyter Notebook 7 server (the same REST API as JupyterLab's)."""

    def notebook_url(self, path: str) -> str:
        """The address that opens ``path`` (relative to the root) in Notebook 7."""
        return f"{self.url}/notebooks/{path}?token={self.token}"


def _environment(base: Path) -> dict[str, str]:
    """The server's environment: data from tests/conftest.py, few icon steps, every config,
    cache and runtime folder under ``base``."""
    return {
        **os.environ,
        "NEURON_GROUPS_DATA": os.environ["NEURON_GROUPS_DATA"],
        "NEURON_GROUPS_STEPS": str(HOST_ICON_STEPS),
        "NEURON_GROUPS_CACHE": str(base / "cache"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "IPYTHONDIR": str(base / "ipython"),
        "XDG_CONFIG_HOME": str(base / "xdg-config"),
        "XDG_CACHE_HOME": str(base / "xdg-cache"),
        "XDG_STATE_HOME": str(base / "xdg-state"),
        "MARIMO_SKIP_UPDATE_CHECK": "1",
    }


def _copy_examples(base: Path) -> Path:
    root = base / "notebooks"
    shutil.copytree(REPO / "examples", root)
    return root


@contextlib.contextmanager
def _serving(
    name: str, command: list[str], base: Path, ready_url: str, cwd: Path
) -> Iterator[Path]:
    """Start ``command`` in a new process group; yield its log once ``ready_url`` answers 200;
    stop the group (the server and its kernels) on exit."""
    log = base / "server.log"

    def tail() -> str:
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            env=_environment(base),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(ready_url):
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer in {START_TIMEOUT:.0f} s:\n{tail()}")
            time.sleep(0.25)
        yield log
    finally:
        _stop(proc)


def _root_flag() -> list[str]:
    return ["--allow-root"] if os.geteuid() == 0 else []  # CI and these machines run as root


@contextlib.contextmanager
def running_notebook7(base: Path) -> Iterator[NotebookServer]:
    """Jupyter Notebook 7 on a copy of ``examples/``, with JupyterLab's test user settings."""
    require("notebook", "Jupyter Notebook 7")
    root = _copy_examples(base)
    # Notebook 7 reads user settings from <JUPYTER_CONFIG_DIR>/lab/user-settings (it ignores
    # --JupyterNotebookApp.user_settings_dir).
    settings = base / "config" / "lab" / "user-settings"
    for name, values in USER_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "notebook",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        *_root_flag(),
    ]
    url = f"http://127.0.0.1:{port}"
    with _serving(
        "Jupyter Notebook", command, base, f"{url}/api/status?token={token}", root
    ) as log:
        yield NotebookServer(url, token, root, log)


@contextlib.contextmanager
def running_voila(base: Path, notebook: str) -> Iterator[HostServer]:
    """Voila serving ``notebook`` (a file of ``examples/``) as a dashboard at its root URL.

    Voila runs the notebook when the page is requested, streaming the page while it runs.
    """
    require("voila", "Voila")
    root = _copy_examples(base)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "voila",
        str(root / notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        f"--token={token}",
        "--show_tracebacks=True",
    ]
    url = f"http://127.0.0.1:{port}"
    # The static files answer without running the notebook (the root URL would run it).
    ready = f"{url}/voila/static/favicon.ico?token={token}"
    with _serving("Voila", command, base, ready, root) as log:
        yield HostServer(url, token, root, log)


@contextlib.contextmanager
def running_marimo(base: Path, notebook: str) -> Iterator[HostServer]:
    """``marimo run`` (the app view, read-only code) of ``notebook``, a file of ``examples/``.

    marimo runs the notebook's cells when a page opens a session.
    """
    require("marimo", "marimo")
    root = _copy_examples(base)
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "marimo",
        "run",
        str(root / notebook),
        "--headless",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--token-password={token}",
        "--no-sandbox",
    ]
    url = f"http://127.0.0.1:{port}"
    with _serving("marimo", command, base, f"{url}/health", root) as log:
        yield HostServer(url, token, root, log)
