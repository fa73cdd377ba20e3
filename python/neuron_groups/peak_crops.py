"""The image around a group's strongest cell: what a tile shows before its icon arrives.

:func:`peak_crop` cuts a square of the image around the cell where a group's spatial map
peaks, at the image's own scale (one crop pixel per image pixel when the image is large
enough), and says where that cell lies in the crop, so that a front end can outline it.
(Starting the icons' optimization from these crops was tried for issue 22 and not kept:
``benchmarks/icon_variants.py``.)

Unlike :func:`neuron_groups.datasets.regions.region_crop` (a fixed number of layer cells
resampled to 64 pixels, for a dataset's gallery), the window here is given in image pixels:
an 80-pixel crop of a 224-pixel image shows the network the region at the scale an 80-pixel
icon is seen at.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import PIL.Image

from neuron_groups.backends.inputs import check_image


@dataclasses.dataclass(frozen=True)
class PeakCrop:
    """A crop of the image around a group's peak cell.

    Attributes
    ----------
    crop : ndarray, float32, shape (size, size, 3), values in [0, 1]
    box : tuple of float
        Where the peak cell lies in the crop: (top, left, bottom, right) as fractions of the
        crop's side, clipped to [0, 1] (as :func:`neuron_groups.datasets.regions.cell_box`).
    cell : tuple of int
        The peak cell (row, column) of the spatial map.
    window : tuple of int
        The crop's window in image pixels: (top, left, bottom, right).
    """

    crop: np.ndarray
    box: tuple[float, float, float, float]
    cell: tuple[int, int]
    window: tuple[int, int, int, int]


def peak_cell(spatial: np.ndarray) -> tuple[int, int]:
    """The (row, column) of a spatial map's largest value; the first one on ties.

    Raises
    ------
    ValueError
        If ``spatial`` is not a non-empty 2-D array of finite numbers.
    """
    spatial = np.asarray(spatial)
    if spatial.ndim != 2 or spatial.size == 0:
        raise ValueError(f"A group's spatial map has shape (h, w); got {spatial.shape}.")
    if not np.issubdtype(spatial.dtype, np.number) or not np.all(np.isfinite(spatial)):
        raise ValueError("A group's spatial map must hold finite numbers.")
    y, x = np.unravel_index(int(np.argmax(spatial)), spatial.shape)
    return int(y), int(x)


def _window(centre: float, side: int, extent: int) -> int:
    """The first pixel of a ``side``-pixel window centred at ``centre``, kept inside."""
    return int(min(max(round(centre - side / 2), 0), extent - side))


def peak_crop(image: np.ndarray, spatial: np.ndarray, size: int = 80) -> PeakCrop:
    """Cut the ``size`` x ``size`` square of ``image`` centred on the peak cell of ``spatial``.

    The map's (h, w) cells split the image evenly: cell (y, x) covers image rows
    ``y * H / h .. (y + 1) * H / h`` and columns alike. The window is centred on the peak
    cell's centre (rounded to whole pixels) and shifted inside the image at its borders.
    An image smaller than ``size`` on a side gives a window of its shorter side, resized
    (bilinear) to ``size``.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB floats in [0, 1].
    spatial : ndarray, shape (h, w)
        One group's spatial map (``Factorization.spatial[i]``, ``result.groups``' maps).
    size : int
        Side of the crop in pixels (80: an icon's).

    Returns
    -------
    PeakCrop

    Raises
    ------
    ImageError
        For an image that is not RGB floats in [0, 1].
    ValueError
        For a spatial map that is not 2-D and finite, or a size below 1.
    """
    rgb = check_image(image)  # (H, W, 3)
    y, x = peak_cell(spatial)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"The crop size is a whole number of pixels >= 1; got {size!r}.")
    height, width = rgb.shape[:2]
    h, w = np.shape(spatial)
    side = min(int(size), height, width)
    cell = (y * height / h, x * width / w, (y + 1) * height / h, (x + 1) * width / w)
    top = _window((cell[0] + cell[2]) / 2, side, height)
    left = _window((cell[1] + cell[3]) / 2, side, width)
    crop = rgb[top : top + side, left : left + side]  # (side, side, 3)
    if side != size:
        crop = _resize(crop, int(size))
    box = tuple(
        float(np.clip((edge - origin) / side, 0.0, 1.0))
        for edge, origin in zip(cell, (top, left, top, left), strict=True)
    )
    return PeakCrop(crop, box, (y, x), (top, left, top + side, left + side))


def peak_crops(image: np.ndarray, spatial: np.ndarray, size: int = 80) -> list[PeakCrop]:
    """:func:`peak_crop` for each group's map in ``spatial`` (n, h, w)."""
    spatial = np.asarray(spatial)
    if spatial.ndim != 3:
        raise ValueError(f"The groups' spatial maps have shape (n, h, w); got {spatial.shape}.")
    return [peak_crop(image, one, size) for one in spatial]


def _resize(crop: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of float channels (h, w, 3) -> (size, size, 3), kept in float32."""
    planes = [PIL.Image.fromarray(np.ascontiguousarray(crop[..., c], np.float32)) for c in range(3)]
    channels = [np.asarray(p.resize((size, size), PIL.Image.Resampling.BILINEAR)) for p in planes]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)


__all__ = ["PeakCrop", "peak_cell", "peak_crop", "peak_crops"]
