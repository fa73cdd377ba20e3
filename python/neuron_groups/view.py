"""What the front end shows, computed from a result: the widget's trait values (numpy only).

Shared by :class:`~neuron_groups.widget.GroupWidget` (sent as traits) and
:mod:`neuron_groups.html` (inlined in a standalone page).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from neuron_groups.images import png_bytes
from neuron_groups.result import NeuronGroupsResult


def even_hues(n: int) -> list[float]:
    """The original widget's colours: hues spaced evenly round the circle."""
    return [i * 360.0 / n for i in range(n)]


def _hue_distance(a: float, b: float) -> float:
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def _free_hue(used: list[float]) -> float:
    candidates = np.arange(0.0, 360.0, 5.0)
    if not used:
        return 0.0
    gaps = [min(_hue_distance(c, u) for u in used) for c in candidates]
    return float(candidates[int(np.argmax(gaps))])


def stable_hues(
    channel: np.ndarray, previous_channel: np.ndarray | None, previous_hues: list[float] | None
) -> list[float]:
    """Hues for new groups that keep each old group's colour on its closest new group.

    Groups are matched one-to-one by the cosine similarity of their channel factors
    (Hungarian assignment); a match counts only if the similarity exceeds 0.5. Unmatched
    groups get the hue farthest from those in use.
    """
    n = channel.shape[0]
    if previous_channel is None or previous_hues is None:
        return even_hues(n)

    def unit(m: np.ndarray) -> np.ndarray:
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

    similarity = unit(channel) @ unit(previous_channel).T  # (n, n_previous)
    rows, cols = linear_sum_assignment(-similarity)
    hues: list[float | None] = [None] * n
    for new, old in zip(rows, cols, strict=True):
        if similarity[new, old] > 0.5:
            hues[new] = previous_hues[old]
    for i in range(n):
        if hues[i] is None:
            hues[i] = _free_hue([h for h in hues if h is not None])
    return [float(h) for h in hues]


def hue_colors(hues: list[float]) -> list[str]:
    """CSS colours of the groups, as the original: ``hsl(hue, 80%, 50%)``."""
    return [f"hsl({h:.0f}, 80%, 50%)" for h in hues]


def display_maps(spatial: np.ndarray) -> np.ndarray:
    """Spatial factors scaled for display: divided by their 99th percentile, clipped to [0, 1]."""
    scale = float(np.percentile(spatial, 99))
    if not np.isfinite(scale) or scale <= 0:
        scale = float(np.abs(spatial).max()) or 1.0
    return np.clip(spatial / scale, 0.0, 1.0).astype(np.float32)


def icon_pngs(icons: np.ndarray | None, n: int) -> list[bytes]:
    """PNG bytes of each icon; empty bytes where there is none yet."""
    if icons is None:
        return [b""] * n
    return [png_bytes(icon) for icon in icons]


def predictions(result: NeuronGroupsResult) -> list[dict[str, Any]]:
    """The top five classes with their probabilities, for the caption."""
    probs = result.probabilities
    return [
        {"name": name, "probability": round(float(probs[i]), 4)}
        for name, i in zip(result.top5, result.top5_indices, strict=True)
    ]


def group_state(result: NeuronGroupsResult, hues: list[float]) -> dict[str, Any]:
    """The traits that change with the number of groups."""
    maps = display_maps(result.spatial)
    return {
        "n_groups": result.n_groups,
        "spatial": maps.astype("<f4").tobytes(),
        "spatial_shape": list(maps.shape),
        "icons": icon_pngs(result.icons, result.n_groups),
        "icon_size": int(result.icons.shape[1]) if result.icons is not None else 80,
        "attributions": result.attributions.astype("<f4").tobytes(),
        "class_names": list(result.classes),
        "group_colors": hue_colors(hues),
    }


def full_state(
    result: NeuronGroupsResult, hues: list[float], class_options: list[str]
) -> dict[str, Any]:
    """Every trait the front end reads, for one result."""
    return {
        "image": png_bytes(result.image),
        **group_state(result, hues),
        "predictions": predictions(result),
        "class_options": list(class_options),
        "layer": result.layer,
        "model_name": result.model_name,
    }
