"""Import TensorFlow without its start-up chatter, and without importing Keras.

TensorFlow's native code prints lines such as "oneDNN custom operations are on" and "failed
call to cuInit" to file descriptor 2 before its logging is configured, so
``TF_CPP_MIN_LOG_LEVEL`` cannot hide them and they land in every notebook output. We send
descriptor 2 to a temporary file while TensorFlow loads and initialises its devices, and
replay what was written only if that fails.

``import tensorflow`` also imports Keras eagerly (``keras.src.optimizers``), and Keras
imports pandas, scikit-learn and IPython: a third of TensorFlow's import time, for a package
whose built-in model is plain TensorFlow ops. TensorFlow skips that import when
``TF_USE_LEGACY_KERAS`` is set and the legacy ``tf_keras`` package is absent; ``tf.keras``
itself is resolved on first use, from the variable as it is then. So the variable is set
for the import only, and only when the user has not set it, ``tf_keras`` is not installed
and Keras is not imported already; ``tf.keras`` and ``import keras`` work as before.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def _native_stderr_captured() -> Iterator[None]:
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


LEGACY_KERAS = "TF_USE_LEGACY_KERAS"


@contextlib.contextmanager
def _keras_import_deferred() -> Iterator[None]:
    if (
        LEGACY_KERAS in os.environ
        or "keras" in sys.modules
        or importlib.util.find_spec("tf_keras") is not None
    ):
        yield
        return
    os.environ[LEGACY_KERAS] = "1"
    try:
        yield
    finally:
        os.environ.pop(LEGACY_KERAS, None)


def import_triton_first() -> None:
    """Import triton (when installed) before TensorFlow: the other order crashes the process.

    With PyTorch's CUDA builds (which bring triton; torch.func, torchvision and timm load it
    through torch._dynamo), importing triton after TensorFlow ends in a segmentation fault
    (triton 3.8, tensorflow 2.21: ``import tensorflow; import triton``); before, both work.
    It costs about 0.5 s, and nothing where triton is not installed. The one place this is
    done: :func:`import_tensorflow` calls it, and so does the test suite's ``conftest.py``,
    whose test modules import TensorFlow directly.
    """
    if "triton" not in sys.modules and importlib.util.find_spec("triton") is not None:
        import triton  # noqa: F401


def import_tensorflow():
    """Return the ``tensorflow`` module, imported quietly the first time.

    Every module of the backend that uses TensorFlow gets it from here (``tf =
    import_tensorflow()``), so whichever is imported first imports it quietly; importing
    the backend's package alone imports nothing.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import_triton_first()
    with _native_stderr_captured(), _keras_import_deferred():
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery prints the cuInit line
    return tf


def import_keras():
    """Return the ``keras`` module, TensorFlow being imported quietly first."""
    import_tensorflow()
    import keras

    return keras
