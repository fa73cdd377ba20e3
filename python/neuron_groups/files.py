"""Writing and reading the package's numpy files: ``.npz`` archives and atomic writes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from neuron_groups.errors import NeuronGroupsError


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` with ``write(file)`` through a temporary file and a rename.

    No reader ever sees a half-written file, and a failed write leaves nothing behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` to a compressed ``.npz`` at exactly ``path``; return it."""
    path = Path(path)
    with path.open("wb") as f:  # a file object keeps numpy from appending ".npz"
        np.savez_compressed(f, **arrays)
    return path


def read_npz(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (``allow_pickle=False``).

    Raises
    ------
    NeuronGroupsError
        When the file cannot be read; ``what`` names what it was meant to hold.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise NeuronGroupsError(f"Cannot read {what} from {path}: {exc}") from exc
