"""Shared test setup: data comes from the local copy in ``../shared`` unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from neuron_groups.backends.tensorflow._import import import_triton_first

# Some test modules import TensorFlow directly, which must come after triton (else a crash):
# the package's one workaround, done before any test module is imported.
import_triton_first()

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
AREAS = ("core", "tensorflow", "torch", "ray", "display", "browser")
"""The test folders; each test gets its folder's marker, so ``-m torch`` selects an area."""
os.environ.setdefault("NEURON_GROUPS_DATA", str(REPO.parent / "shared"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SHARED = Path(os.environ["NEURON_GROUPS_DATA"])


@pytest.fixture(scope="session")
def shared() -> Path:
    """The local data folder (laid out like ``../shared``)."""
    return SHARED


@pytest.fixture(scope="session")
def inception():
    """The default InceptionV1 model, built once per test session."""
    from neuron_groups import load_model

    return load_model("inceptionv1")


@pytest.fixture(scope="session")
def dog_cat() -> object:
    """The article's dog_cat image as floats in [0, 1], shape (224, 224, 3)."""
    from neuron_groups.images import load_image

    return load_image(SHARED / "images" / "dog_cat.png")


@pytest.fixture
def shared_over_http():
    """Serve the local data folder over HTTP on localhost; yield its base address."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SHARED))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def pytest_collection_modifyitems(config, items) -> None:
    """Mark each test with its area (its folder under ``tests/``)."""
    for item in items:
        parts = Path(str(item.path)).resolve().relative_to(TESTS).parts
        if len(parts) > 1 and parts[0] in AREAS:
            item.add_marker(getattr(pytest.mark, parts[0]))
