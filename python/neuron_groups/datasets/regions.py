"""The strongest image regions of each group over a dataset, kept in bounded heaps."""

from __future__ import annotations

import dataclasses
import heapq

import numpy as np

from neuron_groups.datasets.projection import nnls_codes


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
    """

    group: int
    value: float
    image_index: int
    image: str
    y: int
    x: int


class TopRegions:
    """The strongest cells of each group over a dataset, in bounded memory (a heap per group).

    Each entry keeps its cell's activation vector (C,), so that at the end of a fit the
    candidates are re-scored with the final channel factors: ``capacity`` entries per group
    are kept while fitting (scored with the factors of the moment) and the best ``k`` of
    them after re-scoring are reported.
    """

    def __init__(self, n_groups: int, capacity: int):
        self.capacity = capacity
        self.heaps: list[list[tuple[float, int, int, int, str, np.ndarray]]] = [
            [] for _ in range(n_groups)
        ]

    def push(
        self,
        codes: np.ndarray,
        rows: np.ndarray,
        first: int,
        names: list[str],
        images: list[np.ndarray] | None = None,
    ) -> None:
        """Offer a batch's cells: codes (B, h, w, n), rows (B, h, w, C); image ``first + b``.

        ``images`` are the B (S, S, 3) images the rows were read from.
        """
        b, h, w, n = codes.shape
        flat = codes.reshape(-1, n)  # (B*h*w, n)
        take = min(self.capacity, len(flat))
        for g in range(n):
            best = np.argpartition(-flat[:, g], take - 1)[:take]
            for cell in best:
                i, y, x = np.unravel_index(cell, (b, h, w))
                entry = (float(flat[cell, g]), first + int(i), int(y), int(x), names[i])
                self._offer(g, entry, rows[i, y, x])

    def _offer(self, g: int, entry: tuple, vector: np.ndarray) -> None:
        heap = self.heaps[g]
        item = (*entry, np.array(vector, np.float32))
        if len(heap) < self.capacity:
            heapq.heappush(heap, item)
        elif entry[0] > heap[0][0]:
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
                [Region(g, float(values[j]), heap[j][1], heap[j][4], *heap[j][2:4]) for j in order]
            )
        return out

    # -- arrays for .npz files --------------------------------------------------------------
    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The heaps as flat arrays (no pickles)."""
        items = [(g, *item) for g, heap in enumerate(self.heaps) for item in heap]
        c = items[0][6].shape[0] if items else 0
        return {
            f"{prefix}group": np.array([it[0] for it in items], np.int64),
            f"{prefix}value": np.array([it[1] for it in items], np.float64),
            f"{prefix}index": np.array([it[2] for it in items], np.int64),
            f"{prefix}y": np.array([it[3] for it in items], np.int64),
            f"{prefix}x": np.array([it[4] for it in items], np.int64),
            f"{prefix}name": np.array([it[5] for it in items], dtype=str),
            f"{prefix}vector": np.array([it[6] for it in items], np.float32).reshape(-1, c),
        }

    @classmethod
    def from_arrays(cls, fields: dict, prefix: str, n_groups: int, capacity: int) -> TopRegions:
        """Rebuild the heaps written by :meth:`to_arrays`."""
        regions = cls(n_groups, capacity)
        columns = ("group", "value", "index", "y", "x", "name", "vector")
        group, value, index, y, x, name, vector = (fields[prefix + c] for c in columns)
        for j in range(len(group)):
            item = (float(value[j]), int(index[j]), int(y[j]), int(x[j]), str(name[j]), vector[j])
            heapq.heappush(regions.heaps[int(group[j])], item)
        return regions
