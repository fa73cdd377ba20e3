"""Finding the project's data files: weights, labels and example images.

Each file has a pinned upstream address and a SHA-256 (``registry.txt``). A file is looked for
first in the folder named by ``NEURON_GROUPS_DATA`` (laid out like the project's ``shared``
folder: ``models/bvlc_googlenet/...``, ``images/...``), then in the user cache, and is
downloaded into the cache otherwise. A file whose hash does not match is never used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pooch

from neuron_groups.errors import DataError

DATA_ENV = "NEURON_GROUPS_DATA"
"""Environment variable naming a local, read-only copy of the data (used first)."""
CACHE_ENV = "NEURON_GROUPS_CACHE"
"""Environment variable overriding the user cache folder."""

CAFFEJS_COMMIT = "dedfd566d0268352c3becdc808ea3d24908a7a0c"
BUILDING_BLOCKS_COMMIT = "0d598ae76d5a7183c09a33aeaa7c08af67e1c631"
_CAFFEJS = f"https://raw.githubusercontent.com/chaosmail/caffejs/{CAFFEJS_COMMIT}/examples"
_BUILDING_BLOCKS = (
    f"https://raw.githubusercontent.com/distillpub/post--building-blocks/{BUILDING_BLOCKS_COMMIT}"
)


def upstream_url(relpath: str) -> str:
    """Return the pinned upstream address of a data file given by its relative path."""
    if relpath == "models/bvlc_googlenet/synset_words.txt":
        return f"{_CAFFEJS}/data/ilsvrc12/synset_words.txt"
    if relpath.startswith("models/"):
        return f"{_CAFFEJS}/{relpath}"
    if relpath.startswith("images/"):
        return f"{_BUILDING_BLOCKS}/static/examples/input_images/{relpath[len('images/') :]}"
    raise DataError(f"No upstream address is known for {relpath!r}.")


@functools.cache
def registry() -> dict[str, str]:
    """Map each known relative path to its expected ``sha256:<hex>``."""
    text = (Path(__file__).parent / "registry.txt").read_text()
    return dict(line.split() for line in text.splitlines() if line.strip())


def cache_dir() -> Path:
    """The folder downloads are kept in (``NEURON_GROUPS_CACHE`` or the OS user cache)."""
    return Path(os.environ.get(CACHE_ENV) or pooch.os_cache("neuron-groups"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def _verified(path: str, size: int, mtime_ns: int, expected: str) -> bool:
    # Keyed by size and mtime so an unchanged file is hashed once per process.
    return _sha256(Path(path)) == expected


def _matches(path: Path, expected: str) -> bool:
    stat = path.stat()
    return _verified(str(path), stat.st_size, stat.st_mtime_ns, expected)


def data_path(relpath: str, progress: bool = False) -> Path:
    """Return a verified local path to the data file ``relpath``, downloading it if needed.

    Parameters
    ----------
    relpath : str
        Path relative to the data root, e.g. ``"images/dog_cat.png"``.
    progress : bool
        Show a progress bar while downloading.

    Raises
    ------
    DataError
        If the file is unknown, corrupt in ``NEURON_GROUPS_DATA``, or cannot be downloaded.
    """
    known = registry()
    if relpath not in known:
        raise DataError(f"{relpath!r} is not one of the package's data files.")
    expected = known[relpath].split(":", 1)[1]
    url = upstream_url(relpath)

    local_root = os.environ.get(DATA_ENV)
    if local_root:
        local = Path(local_root) / relpath
        if local.is_file():
            if not _matches(local, expected):
                raise DataError(
                    f"{local} (from {DATA_ENV}={local_root}) is corrupt: its SHA-256 is not "
                    f"{expected}. Replace it with a fresh copy of {url}, or unset {DATA_ENV} "
                    "to download it."
                )
            return local

    try:
        with _quiet_pooch(), _no_new_empty_folders(cache_dir()):
            fetcher = pooch.create(
                path=cache_dir(),
                base_url="",
                registry={relpath: known[relpath]},
                urls={relpath: url},
            )
            # pooch downloads again a cached file whose hash does not match: never used.
            return Path(fetcher.fetch(relpath, progressbar=progress))
    except Exception as exc:  # network errors come in many types
        raise DataError(_unreachable(relpath, url, exc, local_root)) from exc


OFFLINE_LAYOUT = """\
    models/bvlc_googlenet/weights/<layer>_filter.bin, <layer>_bias.bin   (116 files)
    models/bvlc_googlenet/synset_words.txt
    images/<name>.png   (the examples: dog_cat, flowers, ...)"""
"""The folder layout :data:`DATA_ENV` must have (the project's ``shared`` folder has it)."""


def _unreachable(relpath: str, url: str, exc: Exception, local_root: str | None) -> str:
    where = f"{DATA_ENV}={local_root} has no {relpath}, and " if local_root else ""
    missing = missing_files()
    return (
        f"Could not get {relpath}: {where}downloading {url} failed ({type(exc).__name__}). "
        f"{len(missing)} of the package's {len(registry())} data files are neither in "
        f"{DATA_ENV} nor in the cache ({cache_dir()}). To run offline, set {DATA_ENV} to a "
        f"folder laid out like this (README, section Offline):\n{OFFLINE_LAYOUT}"
    )


def missing_files() -> list[str]:
    """The package's data files found neither in :data:`DATA_ENV` nor in the cache."""
    return [relpath for relpath in registry() if not _is_local(relpath)]


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    # pooch's "Downloading file ..." lines would run into the caller's own output. (Not
    # setLevel: pooch's logger is not registered with logging's manager, so a level change
    # misses its cached checks.)
    logger = pooch.get_logger()
    was_disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = was_disabled


@contextlib.contextmanager
def _no_new_empty_folders(root: Path) -> Iterator[None]:
    """Remove the folders below ``root`` (and ``root``) that a failed download left empty."""
    existed = root.exists()
    before = {p for p in root.rglob("*") if p.is_dir()} if existed else set()
    try:
        yield
    except BaseException:
        if root.exists():
            created = [p for p in root.rglob("*") if p.is_dir() and p not in before]
            for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
                if not any(folder.iterdir()):
                    folder.rmdir()
            if not existed and not any(root.iterdir()):
                root.rmdir()
        raise


def _is_local(relpath: str) -> bool:
    local_root = os.environ.get(DATA_ENV)
    if local_root and (Path(local_root) / relpath).is_file():
        return True
    return (cache_dir() / relpath).is_file()


def data_paths(relpaths: list[str], what: str) -> list[Path]:
    """Like :func:`data_path` for many files, with one progress bar over those downloaded.

    Parameters
    ----------
    relpaths : list of str
        Paths relative to the data root.
    what : str
        What the files are, for the progress bar (e.g. ``"InceptionV1 weights"``).
    """
    missing = [r for r in relpaths if not _is_local(r)]
    if missing:
        from tqdm.auto import tqdm

        with tqdm(total=len(missing), desc=f"Downloading {what}", unit="file") as bar:
            for relpath in missing:
                data_path(relpath)
                bar.update()
    return [data_path(r) for r in relpaths]


def example_names() -> list[str]:
    """Names of the article's example images (``dog_cat``, ``flowers``, ...)."""
    return sorted(Path(p).stem for p in registry() if p.startswith("images/"))
