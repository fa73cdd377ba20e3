"""Reading images from anything a user may hold, and writing them as PNG bytes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import PIL.Image

from neuron_groups.data import data_path, example_names
from neuron_groups.errors import ImageError, did_you_mean


def load_image(
    source: str | os.PathLike | bytes | PIL.Image.Image | np.ndarray,
) -> np.ndarray:
    """Return an image as RGB floats in [0, 1], shape (H, W, 3), dtype float32.

    Parameters
    ----------
    source : str, path, PIL.Image or ndarray
        A file path; an ``http(s)://`` address; the name of one of the article's example
        images (``"dog_cat"``, ``"flowers"``, ...); the bytes of an image file (PNG, JPEG,
        ...: an upload); a PIL image; or an array (H, W), (H, W, 1),
        (H, W, 3) or (H, W, 4), uint8 in 0..255 or floats in [0, 1] (a leading batch axis
        of 1 is dropped). Grayscale is repeated to RGB; RGBA drops its alpha.

    Raises
    ------
    ImageError
        If the file cannot be read or the array cannot be an image.
    """
    if isinstance(source, PIL.Image.Image):
        return _from_pil(source)
    if isinstance(source, (str, os.PathLike)):
        return _from_pil(_open(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _from_pil(_open_bytes(bytes(source)))
    if isinstance(source, np.ndarray) or hasattr(source, "__array__"):
        return _from_array(np.asarray(source))
    raise ImageError(
        f"Cannot read an image from a {type(source).__name__}; give a file path, an "
        "http(s) address, an example name, a file's bytes, a PIL image or a numpy array."
    )


def _open(source: str | os.PathLike) -> PIL.Image.Image:
    text = os.fspath(source)
    if text.startswith(("http://", "https://")):
        path = _download(text)
    elif not Path(text).exists() and text in example_names():
        path = data_path(f"images/{text}.png")
    else:
        path = Path(text)
        if not path.exists():
            hint = did_you_mean(path.stem, example_names()) if path.suffix == "" else ""
            raise ImageError(
                f"No image file at {text!r}.{hint} Give a path, an http(s) address, or one "
                f"of the example names: {', '.join(example_names())}."
            )
    try:
        with PIL.Image.open(path) as img:
            img.load()
            return img
    except (OSError, PIL.Image.DecompressionBombError) as exc:
        raise ImageError(f"Cannot read {text!r} as an image: {exc}.") from exc


def _open_bytes(data: bytes) -> PIL.Image.Image:
    if not data:
        raise ImageError("The image file is empty (0 bytes).")
    try:
        with PIL.Image.open(io.BytesIO(data)) as img:
            img.load()
            return img
    except PIL.UnidentifiedImageError:
        raise ImageError(
            f"The {len(data)} bytes are not an image format PIL can read (PNG, JPEG, GIF, "
            "WebP, BMP, TIFF, ...)."
        ) from None
    except (OSError, PIL.Image.DecompressionBombError) as exc:
        raise ImageError(f"The {len(data)} bytes are not a whole image file: {exc}.") from exc


def _download(url: str) -> Path:
    import pooch

    from neuron_groups.data import cache_dir

    try:
        return Path(pooch.retrieve(url, known_hash=None, path=cache_dir() / "downloads"))
    except Exception as exc:
        raise ImageError(f"Could not download the image at {url}: {exc}.") from exc


def _from_pil(img: PIL.Image.Image) -> np.ndarray:
    if img.mode not in ("RGB", "L", "RGBA", "LA", "I;16", "I", "F"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    if img.mode in ("I;16", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        top = arr.max() if arr.size else 1.0
        return _from_array(arr / (top if top > 0 else 1.0))
    return _from_array(np.asarray(img))


def _from_array(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise ImageError(
            f"An image array has shape (H, W), (H, W, C) or (1, H, W, C); got {arr.shape}."
        )
    if arr.size == 0:
        raise ImageError(f"The image is empty: shape {arr.shape}.")
    channels = arr.shape[-1]
    if channels not in (1, 3, 4):
        raise ImageError(
            f"An image has 1 (gray), 3 (RGB) or 4 (RGBA) channels on its last axis; "
            f"got {channels} (shape {arr.shape}). Channels-first arrays need "
            "arr.transpose(1, 2, 0)."
        )
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.number):
        raise ImageError(f"An image holds numbers; got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.integer):
        if arr.dtype != np.uint8 and arr.max() > 255:
            raise ImageError(
                f"Integer images hold 0..255; got values up to {arr.max()} ({arr.dtype})."
            )
        out = arr.astype(np.float32) / 255.0
    else:
        out = arr.astype(np.float32)
        if not np.all(np.isfinite(out)):
            raise ImageError("The image holds NaN or infinite values.")
        low, high = float(out.min()), float(out.max())
        if low < -1e-3 or high > 1 + 1e-3:
            hint = " It looks like 0..255: divide by 255." if high <= 255 and low >= 0 else ""
            raise ImageError(
                f"Float images hold values in [0, 1]; got [{low:.3g}, {high:.3g}].{hint}"
            )
        out = np.clip(out, 0.0, 1.0)
    if channels == 1:
        out = np.repeat(out, 3, axis=-1)
    elif channels == 4:
        out = out[..., :3]
    return np.ascontiguousarray(out)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] (any shape) to uint8 0..255, rounding."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an (H, W, 3) or (H, W) image of floats in [0, 1] as PNG bytes."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(to_uint8(image)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
