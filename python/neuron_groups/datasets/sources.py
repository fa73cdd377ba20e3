"""Where a dataset's images come from (patterns, folders, lists, iterables), squared to one size."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image

from neuron_groups.errors import DatasetError, did_you_mean, plural

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

    Raises
    ------
    DatasetError
        When there is nothing to read: a pattern that matches no file, a folder or file that
        does not exist, a folder without image files, an empty list, or a list of paths none
        of which exists. Nothing is loaded first, so :func:`fit_groups` refuses them before
        it builds a model.
    """
    if isinstance(images, (str, os.PathLike)):
        return [(p, p) for p in _expand(os.fspath(images))]
    if isinstance(images, Sequence) or (isinstance(images, np.ndarray) and images.ndim == 4):
        sources = list(_named(iter(images)))
        _check_listed(sources)
        return sources
    return _named(iter(images))


def _expand(text: str) -> list[str]:
    if glob.has_magic(text):
        found = sorted(p for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not found:
            raise DatasetError(
                f"The pattern {text!r} matched no files. Check the folder and the extension "
                "(patterns are case-sensitive: '*.jpg' does not match 'A.JPG'), or give the "
                "folder itself."
            )
        return found
    path = Path(text)
    if path.is_dir():
        found = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            others = sum(1 for _ in path.iterdir())
            what = f"holds {plural(others, 'entry', 'entries')} but" if others else "is empty:"
            raise DatasetError(
                f"The folder {text!r} {what} no image files ({', '.join(IMAGE_SUFFIXES)}; "
                "subfolders are not searched: use a pattern such as 'folder/**/*.jpg')."
            )
        return found
    if not path.exists() and not _is_example(text):
        raise DatasetError(f"{text!r} does not exist: no such folder or file.{_nearby(path)}")
    return [text]


def _check_listed(sources: list[tuple[str, Any]]) -> None:
    if not sources:
        raise DatasetError(
            "No images to fit: the list is empty. Give a list of image paths or arrays, a "
            "glob pattern that matches files (e.g. 'photos/*.jpg') or a folder of images."
        )
    paths = [source for _, source in sources if isinstance(source, (str, os.PathLike))]
    if len(paths) == len(sources) and not any(
        Path(p).exists() or _is_example(os.fspath(p)) for p in paths
    ):
        shown = ", ".join(repr(os.fspath(p)) for p in paths[:3])
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        what = (
            f"The listed file {shown} does not exist."
            if len(paths) == 1
            else f"None of the {len(paths)} listed files exists: {shown}{more}."
        )
        raise DatasetError(f"{what}{_nearby(Path(paths[0]))}")


def _is_example(text: str) -> bool:
    from neuron_groups.data import example_names

    return text in example_names()


def _nearby(path: Path) -> str:
    """' Did you mean ...?' among the names beside ``path``, or where its folder is missing."""
    parent = path.parent
    if not parent.is_dir():
        return f" (Its folder {str(parent)!r} does not exist either.)"
    return did_you_mean(path.name, [p.name for p in parent.iterdir()])


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
