"""Writing and reading the package's numpy files: ``.npz`` archives and atomic writes.

Every file the package writes goes through a temporary file and a rename, so a crash (even
SIGKILL) leaves the previous file or the new one, never half of one. Every file it reads is
checked whole (each ``.npz`` member against its CRC-32; a checked ``.npy`` against the CRC-32
in its footer), and a truncated or corrupt file is a :class:`NeuronGroupsError` naming the
file and what to do, never a ``zipfile``, ``zlib`` or numpy exception.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from neuron_groups.errors import NeuronGroupsError

REWRITE = "Delete it and create it again (save or fit again)."
"""What :func:`read_npz` tells the user to do with a corrupt file, unless told otherwise."""

CHECK_MARK = b"NGCRC32:"
"""The footer of a checked ``.npy``: this mark, then the CRC-32 of the bytes before it."""


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` with ``write(file)`` through a temporary file and a rename.

    No reader ever sees a half-written file, and a failed write leaves nothing behind.
    (A process killed while writing leaves its ``<stem>*.tmp`` file beside ``path``; the
    file at ``path`` is then the previous one, whole.)
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
    """Write ``arrays`` to a compressed ``.npz`` at exactly ``path``, atomically; return it."""
    path = Path(path)
    # A file object keeps numpy from appending ".npz".
    write_atomically(path, lambda f: np.savez_compressed(f, **arrays))
    return path


def read_npz(path: str | os.PathLike, what: str, remedy: str = REWRITE) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (``allow_pickle=False``), each member checked whole.

    Parameters
    ----------
    path : path
    what : str
        What the file was meant to hold, for messages (``"a neuron-groups result"``).
    remedy : str
        What the user should do with a truncated or corrupt file.

    Raises
    ------
    NeuronGroupsError
        When the file is missing, unreadable, truncated or corrupt; the message names the
        file, what went wrong and ``remedy``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            # testzip reads every member through its CRC-32: a flipped byte anywhere in the
            # data is found here, even where numpy would stop reading before it.
            broken = archive.testzip()
            # numpy writes no comments: one found is a flipped length field, which can hide
            # the members after it from zipfile.
            commented = archive.comment or any(info.comment for info in archive.infolist())
        if broken is not None:
            raise zipfile.BadZipFile(f"bad CRC-32 for {broken}")
        if commented:
            raise zipfile.BadZipFile("a damaged central directory (a comment numpy never writes)")
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise NeuronGroupsError(f"Cannot read {what} from {path}: {exc.strerror}.") from exc
    except Exception as exc:  # any failure of a damaged file: see _corrupt
        raise _corrupt(path, what, remedy, exc) from None  # the message says what it was


def _corrupt(path: str | os.PathLike, what: str, remedy: str, exc: Exception) -> NeuronGroupsError:
    # A damaged archive fails in whichever library meets the damage first: zipfile
    # (BadZipFile, NotImplementedError, RuntimeError for a flipped "encrypted" flag), zlib
    # (zlib.error), struct, numpy's header parser (ValueError, SyntaxError), EOFError,
    # OverflowError, MemoryError for an absurd shape. Each means the same to the user.
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return NeuronGroupsError(
        f"Cannot read {what} from {path}: the file is not a complete neuron-groups file "
        f"(truncated or corrupt: {detail}). {remedy}"
    )


def save_checked_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as a ``.npy`` with a CRC-32 footer, atomically.

    ``np.load`` reads the file as it is (it stops at the array's end); :func:`read_checked_npy`
    also checks the footer, so a flipped byte anywhere is found.
    """
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    body = buffer.getvalue()
    footer = CHECK_MARK + zlib.crc32(body).to_bytes(4, "little")
    write_atomically(path, lambda f: f.write(body + footer))


def read_checked_npy(path: Path, what: str) -> np.ndarray:
    """The array :func:`save_checked_npy` wrote at ``path``.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    NeuronGroupsError
        When the file is truncated, corrupt, or has no footer (written otherwise).
    """
    raw = path.read_bytes()
    size = len(CHECK_MARK) + 4
    body, footer = raw[:-size], raw[-size:]
    if len(raw) < size or not footer.startswith(CHECK_MARK):
        raise _corrupt(path, what, REWRITE, ValueError("no CRC-32 footer"))
    if zlib.crc32(body) != int.from_bytes(footer[len(CHECK_MARK) :], "little"):
        raise _corrupt(path, what, REWRITE, ValueError("bad CRC-32"))
    try:
        return np.load(io.BytesIO(body), allow_pickle=False)
    except Exception as exc:  # any failure of a damaged file: see _corrupt
        raise _corrupt(path, what, REWRITE, exc) from None
