"""The strongest image regions of each group over a dataset, kept in bounded heaps.

Each kept cell also keeps a small crop of its image (:func:`region_crop`), since the images
themselves may be gone when the gallery shows them (arrays, generators, moved files).
"""

from __future__ import annotations

import dataclasses
import heapq
import io

import numpy as np
import PIL.Image

from neuron_groups.datasets.projection import nnls_codes

CROP_SIZE = 64
"""Side in pixels of each region's crop (uint8 RGB): 12 KiB a crop before compression."""

CROP_CELLS = 3
"""The crop spans this many layer cells each way, the region's cell in the middle.

At InceptionV1's mixed4d (14 x 14 cells on a 224-pixel image) that is 48 pixels: the cell
and a cell of context on each side, where most of the cell's effective receptive field lies.
"""


def crop_window(y: int, x: int, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """The crop around cell (y, x) of an (h, w) layer, in cells: (top, left, bottom, right).

    :data:`CROP_CELLS` cells each way (fewer if the layer is smaller), centred on the cell
    and shifted inside the image at its borders, so every crop shows only image pixels.
    """
    h, w = shape
    size_y, size_x = min(CROP_CELLS, h), min(CROP_CELLS, w)
    top = min(max(y + 0.5 - size_y / 2, 0.0), h - size_y)
    left = min(max(x + 0.5 - size_x / 2, 0.0), w - size_x)
    return (top, left, top + size_y, left + size_x)


def cell_box(y: int, x: int, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """Where cell (y, x) lies in its crop, as fractions (top, left, bottom, right) in [0, 1]."""
    top, left, bottom, right = crop_window(y, x, shape)
    height, width = bottom - top, right - left
    return ((y - top) / height, (x - left) / width, (y + 1 - top) / height, (x + 1 - left) / width)


def region_crop(
    image: np.ndarray, y: int, x: int, shape: tuple[int, int], size: int = CROP_SIZE
) -> np.ndarray:
    """The crop of ``image`` (H, W, 3) floats in [0, 1] around cell (y, x) of an (h, w) layer.

    The cell (y, x) covers image rows ``y * H / h .. (y + 1) * H / h`` (and columns alike),
    as the layer's grid splits the image evenly. The window is :func:`crop_window` in those
    pixels, resampled (bilinear, on the exact fractional box) to ``size`` x ``size``.

    Returns
    -------
    ndarray, uint8, shape (size, size, 3)
    """
    height, width = image.shape[:2]
    h, w = shape
    top, left, bottom, right = crop_window(y, x, shape)
    box = (left * width / w, top * height / h, right * width / w, bottom * height / h)
    pixels = PIL.Image.fromarray(np.asarray(np.clip(image, 0, 1) * 255 + 0.5, np.uint8))
    resized = pixels.resize((size, size), PIL.Image.Resampling.BILINEAR, box=box)
    return np.asarray(resized, np.uint8)  # (size, size, 3)


@dataclasses.dataclass(frozen=True)
class Region:
    """One cell of one image where a group is strong.

    Attributes
    ----------
    group : int
    value : float
        The group's NNLS code at the cell for the final channel factors.
    image_index : int
        Position of the image among those read (skipped files not counted).
    image : str
        Its path, or ``"<item i>"``.
    y, x : int
        The cell at the layer (row, column).
    crop : ndarray, uint8, shape (S, S, 3), or None
        The image around the cell (:func:`region_crop`); None when the fit had no pixels.
    """

    group: int
    value: float
    image_index: int
    image: str
    y: int
    x: int
    crop: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)


class TopRegions:
    """The strongest cells of each group over a dataset, in bounded memory (a heap per group).

    Each entry keeps its cell's activation vector (C,), so that at the end of a fit the
    candidates are re-scored with the final channel factors: ``capacity`` entries per group
    are kept while fitting (scored with the factors of the moment) and the best ``k`` of
    them after re-scoring are reported. An entry also keeps its crop (:func:`region_crop`),
    made only when the entry enters a heap: at most ``n_groups * capacity`` crops are held.
    """

    def __init__(self, n_groups: int, capacity: int):
        self.capacity = capacity
        # (value, image index, y, x, name, vector (C,), crop (S, S, 3) uint8 or None)
        self.heaps: list[list[tuple]] = [[] for _ in range(n_groups)]

    def push(
        self,
        codes: np.ndarray,
        rows: np.ndarray,
        first: int,
        names: list[str],
        images: list[np.ndarray] | None = None,
    ) -> None:
        """Offer a batch's cells: codes (B, h, w, n), rows (B, h, w, C); image ``first + b``.

        ``images`` are the B (S, S, 3) images the rows were read from; each kept cell keeps
        its crop of them (none without ``images``).
        """
        b, h, w, n = codes.shape
        flat = codes.reshape(-1, n)  # (B*h*w, n)
        take = min(self.capacity, len(flat))
        for g in range(n):
            best = np.argpartition(-flat[:, g], take - 1)[:take]
            for cell in best:
                value = float(flat[cell, g])
                heap = self.heaps[g]
                if len(heap) >= self.capacity and not value > heap[0][0]:
                    continue  # would not be kept: no crop to make
                i, y, x = (int(v) for v in np.unravel_index(cell, (b, h, w)))
                crop = region_crop(images[i], y, x, (h, w)) if images is not None else None
                item = (value, first + i, y, x, names[i], np.array(rows[i, y, x], np.float32), crop)
                if len(heap) < self.capacity:
                    heapq.heappush(heap, item)
                else:
                    heapq.heapreplace(heap, item)

    def copy(self) -> TopRegions:
        """A snapshot (the vectors are never changed in place, so they are shared)."""
        other = TopRegions(len(self.heaps), self.capacity)
        other.heaps = [list(heap) for heap in self.heaps]
        return other

    def final(self, channel: np.ndarray, k: int) -> list[list[Region]]:
        """Re-score every candidate on ``channel`` (n, C); each group's best ``k``, best first."""
        out = []
        for g, heap in enumerate(self.heaps):
            if not heap:
                out.append([])
                continue
            vectors = np.stack([item[5] for item in heap])  # (m, C)
            values = nnls_codes(vectors, channel)[:, g]  # (m,)
            order = np.argsort(-values, kind="stable")[:k]
            out.append(
                [
                    Region(g, float(values[j]), heap[j][1], heap[j][4], *heap[j][2:4], heap[j][6])
                    for j in order
                ]
            )
        return out

    # -- arrays for .npz files --------------------------------------------------------------
    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The heaps as flat arrays (no pickles); a missing crop is zeros, ``has_crop`` False."""
        items = [(g, *item) for g, heap in enumerate(self.heaps) for item in heap]
        c = items[0][6].shape[0] if items else 0
        crops, has_crop = crop_arrays([it[7] for it in items])
        return {
            f"{prefix}group": np.array([it[0] for it in items], np.int64),
            f"{prefix}value": np.array([it[1] for it in items], np.float64),
            f"{prefix}index": np.array([it[2] for it in items], np.int64),
            f"{prefix}y": np.array([it[3] for it in items], np.int64),
            f"{prefix}x": np.array([it[4] for it in items], np.int64),
            f"{prefix}name": np.array([it[5] for it in items], dtype=str),
            f"{prefix}vector": np.array([it[6] for it in items], np.float32).reshape(-1, c),
            f"{prefix}crop": crops,
            f"{prefix}has_crop": has_crop,
        }

    @classmethod
    def from_arrays(cls, fields: dict, prefix: str, n_groups: int, capacity: int) -> TopRegions:
        """Rebuild the heaps written by :meth:`to_arrays`."""
        regions = cls(n_groups, capacity)
        columns = ("group", "value", "index", "y", "x", "name", "vector")
        group, value, index, y, x, name, vector = (fields[prefix + c] for c in columns)
        crops = crops_from_arrays(fields, prefix, len(group))
        for j in range(len(group)):
            item = (
                float(value[j]),
                int(index[j]),
                int(y[j]),
                int(x[j]),
                str(name[j]),
                vector[j],
                crops[j],
            )
            heapq.heappush(regions.heaps[int(group[j])], item)
        return regions


def crop_arrays(crops: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """Crops (some None) as one uint8 array (m, S, S, 3) (zeros for None) and a mask (m,)."""
    size = next((c.shape[0] for c in crops if c is not None), CROP_SIZE)
    out = np.zeros((len(crops), size, size, 3), np.uint8)  # (m, S, S, 3)
    for j, crop in enumerate(crops):
        if crop is not None:
            out[j] = crop
    return out, np.array([c is not None for c in crops], bool)


SAVED_CROP_QUALITY = 90
"""JPEG quality of the crops in a saved groups file: about 3 KB a 64 x 64 crop of a photo,
against about 9 KB compressed as raw pixels (``tests/display/test_gallery.py`` measures the
file)."""


def encode_crops(crops: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """Crops (some None) as JPEGs end to end in one uint8 array, and each one's end offset (m,).

    A None crop is an empty JPEG (its end equals the previous one).
    """
    blobs = []
    for crop in crops:
        if crop is None:
            blobs.append(b"")
            continue
        buffer = io.BytesIO()
        PIL.Image.fromarray(crop).save(buffer, format="JPEG", quality=SAVED_CROP_QUALITY)
        blobs.append(buffer.getvalue())
    ends = np.cumsum([len(b) for b in blobs], dtype=np.int64)  # (m,)
    return np.frombuffer(b"".join(blobs), np.uint8), ends


def decode_crops(data: np.ndarray, ends: np.ndarray) -> list[np.ndarray | None]:
    """The crops written by :func:`encode_crops`, uint8 (S, S, 3) each, or None."""
    crops: list[np.ndarray | None] = []
    start = 0
    for end in ends:
        blob = data[start : int(end)].tobytes()
        start = int(end)
        crops.append(np.asarray(PIL.Image.open(io.BytesIO(blob)).convert("RGB")) if blob else None)
    return crops


def crops_from_arrays(fields: dict, prefix: str, m: int) -> list[np.ndarray | None]:
    """The m crops written by :func:`crop_arrays` (all None for a file written before crops)."""
    if prefix + "crop" not in fields:
        return [None] * m
    crops, has_crop = fields[prefix + "crop"], fields[prefix + "has_crop"]
    return [crops[j] if has_crop[j] else None for j in range(m)]
