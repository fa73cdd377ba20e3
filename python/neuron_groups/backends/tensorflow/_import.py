"""Import TensorFlow without its start-up chatter.

TensorFlow's native code prints lines such as "oneDNN custom operations are on" and "failed
call to cuInit" to file descriptor 2 before its logging is configured, so
``TF_CPP_MIN_LOG_LEVEL`` cannot hide them and they land in every notebook output. We send
descriptor 2 to a temporary file while TensorFlow loads and initialises its devices, and
replay what was written only if that fails.
"""

from __future__ import annotations

import contextlib
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


def import_tensorflow():
    """Return the ``tensorflow`` module, imported quietly the first time."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _native_stderr_captured():
        import tensorflow as tf

        tf.config.list_physical_devices()  # device discovery prints the cuInit line
    return tf
