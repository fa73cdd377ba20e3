"""Fixtures of the browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .jupyterlab import LabServer, running_lab


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab server on a copy of ``examples/``, killed at the end of the session."""
    with running_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server
