"""Where a dataset's images come from (patterns, folders, lists, iterables), squared to one size."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


def image_sources(images: Any) -> Iterable[tuple[str, Any]]:
    """The images to fit as (name, source) pairs, in a fixed order.

    Parameters
    ----------
    images : str, path, list or iterable
        A glob pattern (``"photos/*.jpg"``, ``**`` allowed), a folder (its image files,
        sorted, not recursive), one file or example name, or a list / any iterable of paths,
        arrays or PIL images (anything :func:`~neuron_groups.images.load_image` reads).
        A (N, H, W, 3) array is N images. Arrays are named ``"<item i>"``.
    """
    if isinstance(images, (str, os.PathLike)):
        return [(p, p) for p in _expand(os.fspath(images))]
    if isinstance(images, Sequence) or (isinstance(images, np.ndarray) and images.ndim == 4):
        return list(_named(iter(images)))
    return _named(iter(images))


def _expand(text: str) -> list[str]:
    if glob.has_magic(text):
        return sorted(p for p in glob.glob(text, recursive=True) if Path(p).is_file())
    path = Path(text)
    if path.is_dir():
        return sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return [text]


def _named(items: Iterator[Any]) -> Iterator[tuple[str, Any]]:
    for i, item in enumerate(items):
        name = os.fspath(item) if isinstance(item, (str, os.PathLike)) else f"<item {i}>"
        yield name, item


def square_image(image: np.ndarray, size: int) -> np.ndarray:
    """Resize an (H, W, 3) image to (size, size, 3): shorter side to ``size``, centre crop.

    An image already ``size`` x ``size`` is returned unchanged. Every image of a dataset
    then gives the same number of positions (equal weight in the fit) at the model's
    default input size, which every layer accepts.
    """
    h, w = image.shape[:2]
    if (h, w) == (size, size):
        return image
    scale = size / min(h, w)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    pil = PIL.Image.fromarray(np.asarray(image * 255 + 0.5, dtype=np.uint8))
    pil = pil.resize((new_w, new_h), PIL.Image.Resampling.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    out = np.asarray(pil.crop((left, top, left + size, top + size)), np.float32) / 255.0
    return out  # (size, size, 3)
