"""Reading images from anything a user may hold, and writing them as PNG bytes.

Files are read as an image viewer shows them: EXIF orientation applied, 16-bit samples
scaled by their full range (65535), CMYK, palette and greyscale images converted to RGB,
and transparency composited over white. Images from the web are fetched within a size cap
(:data:`URL_MAX_BYTES`) and a time limit for the whole download (:data:`URL_TIMEOUT`).
"""

from __future__ import annotations

import io
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageOps

from neuron_groups.data import data_path, example_names
from neuron_groups.errors import ImageError, did_you_mean

URL_MAX_BYTES = 20 * 2**20
"""Largest image fetched from an http(s) address: 20 MB (``load_image(..., max_bytes=)``)."""
URL_TIMEOUT = 30.0
"""Seconds allowed for a whole download from an http(s) address (``load_image(..., timeout=)``).

Connecting, every wait for data and the whole transfer together; a server that stalls or
trickles is given up on then.
"""
URL_MAX_REDIRECTS = 5
"""Redirects followed from an http(s) address; more, or a loop, is refused."""
BACKGROUND = (255, 255, 255)
"""What transparent pixels of an image file are composited over: white, as a page shows them."""


def load_image(
    source: str | os.PathLike | bytes | PIL.Image.Image | np.ndarray,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
) -> np.ndarray:
    """Return an image as RGB floats in [0, 1], shape (H, W, 3), dtype float32.

    Parameters
    ----------
    source : str, path, bytes, PIL.Image or ndarray
        A file path; an ``http(s)://`` address; the name of one of the article's example
        images (``"dog_cat"``, ``"flowers"``, ...); the bytes of an image file (PNG, JPEG,
        ...: an upload); a PIL image; or an array (H, W), (H, W, 1),
        (H, W, 3) or (H, W, 4), uint8 in 0..255 or floats in [0, 1] (a leading batch axis
        of 1 is dropped). Files, bytes and PIL images are read as a viewer shows them: EXIF
        orientation applied, 16-bit samples divided by 65535, CMYK / palette / greyscale
        converted to RGB, transparent pixels composited over white. An array's grey is
        repeated to RGB, and its alpha channel dropped (its colours are taken as they are).
    max_bytes : int, optional
        For an address: the largest download, default :data:`URL_MAX_BYTES` (20 MB).
    timeout : float, optional
        For an address: seconds for the whole download (connecting, redirects, every
        byte), default :data:`URL_TIMEOUT` (30 s).

    Raises
    ------
    ImageError
        If the file cannot be read, the address does not give an image within the size cap
        and the time limit (too large, stalled, redirected in a loop, a web page rather
        than an image, an HTTP error), or the array cannot be an image.
    """
    if isinstance(source, PIL.Image.Image):
        return _from_pil(source)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.startswith(("http://", "https://")):
            limit = URL_MAX_BYTES if max_bytes is None else max_bytes
            return _from_pil(_from_url(text, limit, URL_TIMEOUT if timeout is None else timeout))
        return _from_pil(_open(text))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _from_pil(_open_bytes(bytes(source)))
    if isinstance(source, np.ndarray) or hasattr(source, "__array__"):
        return _from_array(np.asarray(source))
    raise ImageError(
        f"Cannot read an image from a {type(source).__name__}; give a file path, an "
        "http(s) address, an example name, a file's bytes, a PIL image or a numpy array."
    )


def _open(text: str) -> PIL.Image.Image:
    if not Path(text).exists() and text in example_names():
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


# -- images from the web ---------------------------------------------------------------------


def _from_url(url: str, max_bytes: int, timeout: float) -> PIL.Image.Image:
    data, content_type = _download(url, max_bytes, timeout)
    try:
        return _open_bytes(data)
    except ImageError as exc:
        if content_type.startswith("image/"):
            raise ImageError(f"The image at {url} ({content_type}) is damaged: {exc}") from None
        raise ImageError(
            f"The address {url} gave {content_type or 'no content type'} ({len(data)} bytes), "
            "not an image. Give the address of the image itself (in a browser: right-click "
            "the image, Copy image address), or download it and give the file."
        ) from None


def _download(url: str, max_bytes: int, timeout: float) -> tuple[bytes, str]:
    """The body and content type at ``url``, within ``max_bytes`` and ``timeout`` seconds.

    The download runs in a daemon thread that this one waits for at most ``timeout``:
    every stage (the name lookup, which ignores socket timeouts, too) counts against it.
    A download given up on is told to stop and ends at its next read, or when its socket
    times out.
    """
    outcome: dict[str, object] = {}
    cancelled = threading.Event()

    def run() -> None:
        try:
            outcome["data"] = _fetch(url, max_bytes, timeout, cancelled)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="neuron-groups download", daemon=True)
    worker.start()
    try:
        worker.join(timeout)
    finally:
        cancelled.set()  # a no-op when it is done
    if "error" in outcome:
        raise _download_error(url, outcome["error"], max_bytes, timeout)
    if "data" not in outcome:
        raise ImageError(
            f"The image at {url} did not arrive within {timeout:g} s (the server stalled, "
            "or is too slow). Try again, download it and give the file, or allow longer: "
            "load_image(url, timeout=...)."
        )
    return outcome["data"]  # type: ignore[return-value]


class _TooLarge(Exception):  # noqa: N818 - an outcome, turned into an ImageError
    """The body is larger than the cap (``size`` bytes announced, or more than the cap sent)."""

    def __init__(self, size: int | None):
        super().__init__(size)
        self.size = size


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = URL_MAX_REDIRECTS
    max_repeats = 1  # the same address twice is a loop

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not newurl.startswith(("http://", "https://")):  # urllib would follow ftp://
            raise urllib.error.HTTPError(newurl, code, f"a redirect to {newurl}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(
    url: str, max_bytes: int, timeout: float, cancelled: threading.Event
) -> tuple[bytes, str]:
    opener = urllib.request.build_opener(_Redirects)
    request = urllib.request.Request(url, headers={"User-Agent": "neuron-groups (urllib)"})
    with opener.open(request, timeout=timeout) as response:
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > max_bytes:
            raise _TooLarge(int(announced))
        chunks, size = [], 0
        while not cancelled.is_set():
            chunk = response.read1(1 << 16)  # what has arrived, up to 64 KB: never waits for more
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise _TooLarge(None)
            chunks.append(chunk)
        return b"".join(chunks), response.headers.get_content_type()


def _download_error(url: str, exc: BaseException, max_bytes: int, timeout: float) -> ImageError:
    if isinstance(exc, _TooLarge):
        size = f"{exc.size / 2**20:.1f} MB" if exc.size is not None else "more than that"
        return ImageError(
            f"The image at {url} is larger than the {max_bytes / 2**20:g} MB download limit "
            f"({size}). Download it and give the file, or allow more: "
            "load_image(url, max_bytes=...)."
        )
    if isinstance(exc, urllib.error.HTTPError) and 300 <= exc.code < 400:
        return ImageError(
            f"The address {url} redirects in a loop, more than {URL_MAX_REDIRECTS} times or "
            f"away from http(s) (last: HTTP {exc.code} to {exc.headers.get('Location')}). Open "
            "it in a browser and give the address it ends at, or download the image and give "
            "the file."
        )
    if isinstance(exc, urllib.error.HTTPError):
        return ImageError(f"Could not download the image at {url}: HTTP {exc.code} {exc.reason}.")
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return ImageError(
            f"The image at {url} did not arrive within {timeout:g} s (the server stalled). "
            "Try again, download it and give the file, or allow longer: "
            "load_image(url, timeout=...)."
        )
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return ImageError(f"Could not download the image at {url}: {reason}.")


# -- pixels ------------------------------------------------------------------------------------


def _upright(img: PIL.Image.Image) -> PIL.Image.Image:
    """``img`` turned as its EXIF orientation says (as it is when the EXIF is unreadable)."""
    try:
        return PIL.ImageOps.exif_transpose(img)
    except Exception:  # a damaged EXIF block fails in many ways; the pixels are still good
        return img


def _from_pil(img: PIL.Image.Image) -> np.ndarray:
    """A PIL image as a viewer shows it, as RGB floats in [0, 1] (H, W, 3)."""
    img = _upright(img)
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey (PNG, TIFF; older Pillow opens it as "I"): its full range is 65535.
        arr = np.asarray(img).astype(np.float32)
        return _from_array(np.clip(arr / 65535.0, 0.0, 1.0))
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        top = float(arr.max()) if arr.size else 1.0
        return _from_array(arr / top if top > 1 else arr)  # floats beyond 1: by their maximum
    if "transparency" in img.info:  # a palette's or a colour key's transparent entries
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = PIL.Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        img = PIL.Image.alpha_composite(background, rgba)
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")  # CMYK, YCbCr, P, 1, ...
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
