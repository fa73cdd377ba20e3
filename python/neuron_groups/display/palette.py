"""The colours of the groups a view shows: kept stable as counts change, layer by layer.

Each layer keeps its own hues per group count. A count seen for the first time at a layer
gets hues that keep each group of the grouping shown there before on its closest new group
(:func:`~neuron_groups.display.state.stable_hues`); a count seen before keeps its hues.
Given groups (shared groups) are coloured by group index (:func:`even_hues`), so a group
looks the same on every image and in the gallery. The widget and the page of a widget read
the same palette.
"""

from __future__ import annotations

from collections.abc import Collection

from neuron_groups.display.state import RGB, even_hues, hue_colors, stable_hues
from neuron_groups.result import LayerGroups


class Palette:
    """Hues per layer and group count, stable across the counts shown at each layer.

    Parameters
    ----------
    fixed : collection of str
        Layers whose groups are given: coloured by group index.
    """

    def __init__(self, fixed: Collection[str] = ()):
        self.fixed = set(fixed)
        self._hues: dict[str, dict[int, list[float]]] = {}
        self._shown: dict[str, LayerGroups] = {}  # the groups last coloured at each layer

    def colors(self, groups: LayerGroups) -> list[RGB]:
        """The colours of ``groups`` (one [r, g, b] per group), now shown at their layer."""
        at = self._hues.setdefault(groups.layer, {})
        n = groups.n_groups
        if n not in at:
            before = self._shown.get(groups.layer)
            if groups.layer in self.fixed or before is None:
                at[n] = even_hues(n)
            else:
                at[n] = stable_hues(groups.channel, before.channel, at.get(before.n_groups))
        self._shown[groups.layer] = groups
        return hue_colors(at[n])

    def hues(self) -> dict[str, dict[int, list[float]]]:
        """The hues (degrees) of every layer and count coloured so far."""
        return {layer: {n: list(h) for n, h in at.items()} for layer, at in self._hues.items()}
