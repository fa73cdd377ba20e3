"""Group icons: feature visualizations of channel directions, cached on disk.

:func:`render_icons` asks the model's backend (:meth:`VisionModel.render_icons`) for one
icon per direction, and keeps the result in a cache folder keyed by everything that
determines it: the model's weights (:attr:`VisionModel.identity`), the layer, the direction
vectors and the :class:`~neuron_groups.backends.base.IconSettings`. Asking again returns at
once. numpy only: no deep-learning framework is imported here.

An entry is ``<key>.npy`` with a CRC-32 footer (:func:`~neuron_groups.files.save_checked_npy`),
written through a temporary file and a rename; a truncated, corrupt or foreign entry is a
miss and is rendered and written again. While one process (or thread) renders an entry it
holds ``<key>.npy.lock`` (:mod:`filelock`: an OS lock, released if the process dies); a
second one asking for the same icons waits, then reads the first one's entry instead of
rendering them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings, VisionModel
from neuron_groups.data import cache_dir
from neuron_groups.errors import Cancelled, NeuronGroupsError
from neuron_groups.files import read_checked_npy, save_checked_npy

ICON_CACHE_ENV = "NEURON_GROUPS_ICON_CACHE"
"""Environment variable naming the icon cache folder; ``off`` (or ``0``) disables it."""

CACHE_FORMAT = 1
"""Part of every key: bump it when the rendering changes, so old icons are not reused."""

DEFAULT_SETTINGS = IconSettings()

_OFF = {"off", "0", "false", "no", "none"}


def icon_cache_folder(cache: bool | str | os.PathLike = True) -> Path | None:
    """Where icons are cached, or None for no caching.

    Parameters
    ----------
    cache : bool or path
        False: no cache. A path: that folder. True: the folder named by
        ``NEURON_GROUPS_ICON_CACHE`` (``off``/``0`` disables), else ``cache_dir()/"icons"``.
    """
    if cache is False or cache is None:
        return None
    if cache is not True:
        return Path(cache)
    env = os.environ.get(ICON_CACHE_ENV, "").strip()
    if env.lower() in _OFF:
        return None
    return Path(env) if env else cache_dir() / "icons"


def cache_key(
    model: VisionModel, layer: str, directions: np.ndarray, settings: IconSettings
) -> str:
    """SHA-256 (hex) of the model's identity, the canonical layer, the directions and settings.

    Parameters
    ----------
    directions : array, shape (n, C)
        Hashed as C-contiguous float32, with their shape.
    """
    directions = np.ascontiguousarray(directions, dtype=np.float32)
    header = {
        "format": CACHE_FORMAT,
        "model": model.identity,
        "layer": model.resolve_layer(layer).name,
        "shape": list(directions.shape),
        "settings": settings.key(),
    }
    digest = hashlib.sha256(json.dumps(header, sort_keys=True, default=str).encode())
    digest.update(directions.tobytes())
    return digest.hexdigest()


def load_cached(path: Path, n: int, size: int) -> np.ndarray | None:
    """Return the icons stored at ``path``, or None.

    None when the entry is absent, truncated, corrupt (its CRC-32 does not match), or not
    (n, size, size, 3) float32 in [0, 1].
    """
    try:
        icons = read_checked_npy(path, "cached icons")
    except (OSError, NeuronGroupsError):
        return None
    if (
        icons.shape != (n, size, size, 3)
        or icons.dtype != np.float32
        or not np.all(np.isfinite(icons))
        or icons.min() < 0
        or icons.max() > 1
    ):
        return None
    return icons


def save_atomic(path: Path, icons: np.ndarray) -> None:
    """Write ``icons`` to ``path`` (``.npy``, CRC-32 footer): a temporary file, then a rename.

    No reader ever sees a half-written entry, and a failed write leaves nothing behind.
    """
    save_checked_npy(path, icons)


LOCK_POLL = 0.25
"""Seconds between two looks at ``should_stop`` while waiting for another writer's lock."""


def _hold_lock(lock: FileLock, hooks: IconHooks) -> bool:
    """Wait for ``lock``; True once held, False where the folder cannot hold a lock file.

    Raises :class:`~neuron_groups.errors.Cancelled` when ``hooks.should_stop()`` turns true
    while waiting.
    """
    try:
        Path(lock.lock_file).parent.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                lock.acquire(timeout=LOCK_POLL)
                return True
            except Timeout:
                if hooks.should_stop is not None and hooks.should_stop():
                    raise Cancelled(
                        "Icon rendering was cancelled while waiting for another process "
                        f"rendering the same icons ({lock.lock_file})."
                    ) from None
    except OSError:
        return False  # an unwritable folder: render without it (saving will warn)


def _check_directions(directions: np.ndarray) -> np.ndarray:
    directions = np.asarray(directions, dtype=np.float32)
    if directions.ndim != 2 or 0 in directions.shape:
        raise ValueError(f"directions must have shape (n, C); got {directions.shape}.")
    return directions


def _entry(
    model: VisionModel,
    layer: str,
    directions: np.ndarray,
    settings: IconSettings,
    cache: bool | str | os.PathLike,
) -> Path | None:
    """The cache file of these icons, or None when caching is off."""
    folder = icon_cache_folder(cache)
    if folder is None:
        return None
    return folder / f"{cache_key(model, layer, directions, settings)}.npy"


def cached_icons(
    model: VisionModel,
    layer: str,
    directions: np.ndarray,
    settings: IconSettings = DEFAULT_SETTINGS,
    cache: bool | str | os.PathLike = True,
) -> np.ndarray | None:
    """The icons :func:`render_icons` would return from the cache, or None; never renders.

    Parameters are those of :func:`render_icons`.

    Returns
    -------
    ndarray, float32, shape (n, S, S, 3), or None
        None when caching is off or the cache has no valid entry for them.
    """
    directions = _check_directions(directions)
    path = _entry(model, layer, directions, settings, cache)
    return None if path is None else load_cached(path, len(directions), settings.size)


def render_icons(
    model: VisionModel,
    layer: str,
    directions: np.ndarray,
    settings: IconSettings = DEFAULT_SETTINGS,
    *,
    cache: bool | str | os.PathLike = True,
    hooks: IconHooks = NO_HOOKS,
) -> np.ndarray:
    """One feature-visualization icon per direction, from the cache when it has them.

    Parameters
    ----------
    model : VisionModel
    layer : str
        Canonical name or alias.
    directions : array, shape (n, C)
        Each group's channel vector (e.g. NMF's channel factors).
    settings : IconSettings
        Size, steps, learning rate, seed, transforms, ReLU redirection.
    cache : bool or path
        See :func:`icon_cache_folder`.
    hooks : IconHooks
        Progress, snapshots and stop, passed to :meth:`VisionModel.render_icons`; not
        called on a cache hit. While another process or thread renders the same icons into
        the same cache, this call waits for it (asking ``should_stop``) and returns its icons.

    Returns
    -------
    ndarray, float32, shape (n, S, S, 3), values in [0, 1]

    Raises
    ------
    neuron_groups.errors.Cancelled
        When ``hooks.should_stop()`` turns true; nothing is written to the cache then.
    """
    directions = _check_directions(directions)
    path = _entry(model, layer, directions, settings, cache)
    if path is None:
        return _render(model, layer, directions, settings, hooks)
    icons = load_cached(path, len(directions), settings.size)
    if icons is not None:
        return icons
    lock = FileLock(f"{path}.lock")
    held = _hold_lock(lock, hooks)
    try:
        icons = load_cached(path, len(directions), settings.size)  # written while we waited?
        if icons is not None:
            return icons
        icons = _render(model, layer, directions, settings, hooks)
        try:
            save_atomic(path, icons)
        except OSError as exc:
            warnings.warn(f"Could not cache the icons in {path.parent}: {exc}", stacklevel=2)
    finally:
        if held:
            # No lock files pile up. Whoever waits on this one, or opens a new one, looks
            # at the entry first; only after a failed or cancelled render can two of them
            # then render at once (each write is atomic, so the entry stays whole).
            Path(lock.lock_file).unlink(missing_ok=True)
            lock.release()
    return icons


def _render(
    model: VisionModel,
    layer: str,
    directions: np.ndarray,
    settings: IconSettings,
    hooks: IconHooks,
) -> np.ndarray:
    return np.asarray(model.render_icons(layer, directions, settings, hooks), dtype=np.float32)
