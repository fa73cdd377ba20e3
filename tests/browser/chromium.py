"""Headless Debian chromium driven by Playwright, with no network but localhost."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("NEURON_GROUPS_CHROMIUM") or shutil.which("chromium") or ""
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Every host but localhost fails to resolve: the pages must need no network at all.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def require_chromium() -> str:
    """Return chromium's path, failing (not skipping) when it is missing: CI installs it."""
    if not CHROMIUM or not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed (apt-get install chromium); see .ci/run")
    return CHROMIUM


@contextlib.contextmanager
def browser() -> Iterator[object]:
    """A Playwright Browser on Debian's chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=require_chromium(), args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()
