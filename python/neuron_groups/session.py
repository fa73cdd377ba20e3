"""An image explored at one or more layers: the choices and caches behind a ``GroupWidget``.

A :class:`Session` holds what an interactive view changes one choice at a time (the image,
the layers, each layer's group count, the classes, the factorization or the given groups)
and what it has computed for them. Every mode is one path: one layer is a list of one, and
groups given rather than found (:class:`~neuron_groups.datasets.SharedGroups`) are the
``method`` of their layer, as in :func:`~neuron_groups.neuron_groups`. The caches are the
reading's (:class:`~neuron_groups.reading.ImageReading`: the passes, each layer's groups
per count, the flows), so a change recomputes only what it touches, and icons rendered for
a layer's groups stay with them across count switches.

A change either succeeds, making its result the one shown, or raises and changes nothing.
numpy only: the widget drives a session and turns its results into traits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuron_groups.attribution import DEFAULT_METHOD, check_method
from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings, VisionModel
from neuron_groups.errors import ClassNameError, GroupCountError, LayerError, NeuronGroupsError
from neuron_groups.factorization import GroupSource, max_groups, why_max_groups
from neuron_groups.reading import (
    DEFAULT_LAYER,
    ImageReading,
    check_counts,
    check_layers,
    given_counts,
)
from neuron_groups.result import LayerGroups, NeuronGroupsResult

SAVED = "this view shows a saved result; it has no model to compute anything else with."
"""Why a session of a saved result refuses every change."""


def class_list(classes: Any) -> list[str | int]:
    """Classes as a list of names (str) and indices (int); [] for None or a single class.

    A single class (not in a list) is left for the reading to refuse with its message.
    """
    if classes is None or isinstance(classes, (str, int, np.integer)):
        return []
    return [int(c) if isinstance(c, (int, np.integer)) else str(c) for c in classes]


class Session:
    """One image, its layers and the choices made so far; :attr:`result` is the one shown.

    Make one with :meth:`open` (reads the image) or :meth:`of_result` (a saved result, which
    refuses changes). Each change (:meth:`analyze`, :meth:`set_counts`, :meth:`set_count`,
    :meth:`set_classes`, :meth:`set_image`, :meth:`set_layer`) returns the new result, or
    raises and changes nothing.

    Attributes
    ----------
    model : VisionModel or None
        None for a saved result.
    reading : ImageReading or None
        The image read at the layers (None for a saved result).
    result : NeuronGroupsResult or None
        The result shown: None until the first analysis succeeds.
    classes : list of str or int
        The classes of the table shown, as asked, without repeats (entry i is row i); []
        means the top 5.
    method, seed
        The factorization (an estimator name or instance, or a
        :class:`~neuron_groups.factorization.GroupSource`) and its seed.
    attribution : str
        The attribution method the table and flows show (every method is computed).
    """

    def __init__(
        self,
        model: VisionModel | None,
        reading: ImageReading | None,
        counts: list[int],
        *,
        method: Any = "nmf",
        seed: int | None = 0,
        result: NeuronGroupsResult | None = None,
        attribution: str = DEFAULT_METHOD,
    ):
        self.model = model
        self.reading = reading
        self.method, self.seed = method, seed
        self.attribution = check_method(attribution)
        self.result = result
        self.classes: list[str | int] = []
        self._asked: tuple[list[int], Any] = (list(counts), None)  # until the first result
        self._fixed: dict[str, int] = {}  # the layers of given groups, checked at each read
        self._seen: dict[int, None] = {}  # the last layer's counts computed, in order

    # -- making one ----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        model: VisionModel,
        image: np.ndarray,
        layers: str | Sequence[str] | None = None,
        n_groups: int | Sequence[int] | None = None,
        classes: Sequence[str | int] | None = None,
        *,
        method: Any = "nmf",
        seed: int | None = 0,
        attribution: str = DEFAULT_METHOD,
    ) -> Session:
        """Check the choices, then read ``image`` (one pass); no groups are found yet.

        Parameters
        ----------
        model : VisionModel
        image : ndarray, shape (H, W, 3)
            RGB floats in [0, 1].
        layers : str or list of str, optional
            Default: the given groups' layer, else ``"mixed4d"``.
        n_groups : int or list of int, optional
            As for :func:`~neuron_groups.neuron_groups`.
        classes : list of str or int, optional
            Read in the same pass when they are valid; a bad class is refused by the first
            :meth:`analyze`, and can be fixed with :meth:`set_classes`.
        method, seed, attribution
            As for :func:`~neuron_groups.neuron_groups` (given groups are a ``method``).

        Raises
        ------
        LayerError, GroupCountError, ModelError
            Bad layers or counts, or given groups that do not fit the model or layers:
            before any pass.
        """
        if layers is None:
            layers = method.layer if isinstance(method, GroupSource) else DEFAULT_LAYER
        names = check_layers(model, layers)
        fixed = given_counts(model, method, names)
        counts = check_counts(n_groups, names, fixed)
        check_method(attribution)
        reading = _read(model, image, names, classes)
        session = cls(model, reading, counts, method=method, seed=seed, attribution=attribution)
        session._asked, session._fixed = (counts, classes), fixed
        return session

    @classmethod
    def of_result(cls, result: NeuronGroupsResult) -> Session:
        """A session that shows ``result`` as it is (no model: every change is refused)."""
        session = cls(None, None, result.counts, result=result)
        session.classes = [] if list(result.classes) == list(result.top5) else list(result.classes)
        return session

    # -- what it shows -------------------------------------------------------------------------
    @property
    def layers(self) -> list[str]:
        """The layers, input to output."""
        return list(self.reading.layers if self.reading is not None else self.result.layers)

    @property
    def counts(self) -> list[int]:
        """Each layer's group count: the result's, or those asked before it."""
        return self.result.counts if self.result is not None else list(self._asked[0])

    @property
    def fixed(self) -> dict[str, int]:
        """The layers whose groups are given (shared groups), and their fixed counts."""
        return dict(self._fixed)

    def options(self, layer: str) -> list[int]:
        """The group counts a control offers at ``layer``: 1 .. :func:`max_groups`.

        Only the fixed count where the groups are given, and only the count shown for a
        saved result.
        """
        if self.reading is None:
            return [self.result.groups[layer].n_groups]
        fixed = self.fixed.get(layer)
        if fixed is not None:
            return [fixed]
        return list(range(1, max_groups(self._shape(layer)) + 1))

    def _shape(self, layer: str) -> tuple[int, ...]:
        # An earlier layer's activations are read with the first analysis; before it, the
        # shape at the model's input size.
        acts = self.reading.acts.get(layer)
        return (
            tuple(acts.shape) if acts is not None else tuple(self.model.resolve_layer(layer).shape)
        )

    def check_count(self, layer: str, n: int) -> None:
        """Refuse a group count that :meth:`options` does not offer at ``layer``.

        Raises
        ------
        GroupCountError
            Saying the allowed range and why, and the nearest valid count.
        """
        self._require_model()
        options = self.options(layer)
        if n in options:
            return
        if layer in self.fixed:
            raise GroupCountError(
                f"the groups at {layer} are given ({options[0]} of them, e.g. shared groups); "
                "their count is fixed (fit_groups with another n_groups for another count)."
            )
        limit = options[-1]
        raise GroupCountError(
            f"{layer} has 1 to {limit} groups here ({why_max_groups(self._shape(layer))}); "
            f"got {n}. Nearest valid: {min(max(int(n), 1), limit)}."
        )

    def check_counts(self, counts: Sequence[int]) -> None:
        """Refuse counts that are not one offered count per layer (see :meth:`check_count`)."""
        self._require_model()
        layers = self.layers
        if len(counts) != len(layers):
            raise GroupCountError(
                f"one count per layer ({', '.join(layers)}); got {len(counts)}: {list(counts)}."
            )
        for layer, n in zip(layers, counts, strict=True):
            self.check_count(layer, n)

    def results_by_count(self) -> dict[int, NeuronGroupsResult]:
        """The result at every count of the last layer computed so far, with today's classes.

        With one layer these are the count variants a page offers (each from the reading's
        cache); with several, only the result shown (the flows and earlier layers change
        with the count too).
        """
        if self.result is None:
            return {}
        shown = {self.result.n_groups: self.result}
        if self.reading is None or len(self.layers) > 1:
            return shown
        reading, classes = self.reading, self.classes or None
        others = {
            n: reading.analyze(n, classes, self.method, self.seed, self.attribution)
            for n in self._seen
            if n != self.result.n_groups
        }
        return {**others, **shown}

    def icon_queue(self) -> list[LayerGroups]:
        """The groups shown that have no icons yet, the last layer first ([] without a model)."""
        if self.result is None or self.model is None:
            return []
        return [g for g in reversed(list(self.result.groups.values())) if g.icons is None]

    def render_icons(
        self,
        groups: LayerGroups,
        settings: IconSettings,
        *,
        cache: Any = True,
        hooks: IconHooks = NO_HOOKS,
    ) -> None:
        """Render (or take from the disk cache) the icons of ``groups``; they keep them."""
        from neuron_groups.icons import render_icons

        self._require_model()
        groups.icons = render_icons(
            self.model, groups.layer, groups.channel, settings, cache=cache, hooks=hooks
        )

    # -- changes -------------------------------------------------------------------------------
    def analyze(
        self, counts: Sequence[int] | None = None, classes: Any = ...
    ) -> NeuronGroupsResult:
        """Show these counts (default: the current ones) and classes (default: the current).

        Before the first result, the current ones are those :meth:`open` was given. Only
        what changed is computed (the reading caches groups, gradients and flows).
        """
        self._require_model()
        counts = self.counts if counts is None else list(counts)
        asked = self._classes_now() if classes is ... else classes
        result = self.reading.analyze(
            counts, asked or None, self.method, self.seed, self.attribution
        )
        listed = class_list(asked)
        self.classes = self.reading.unique_classes(listed) if listed else []
        self.result = result
        self._seen[result.n_groups] = None
        return result

    def set_attribution(self, method: str) -> NeuronGroupsResult | None:
        """Show another attribution method's table and flows (computed already: no pass)."""
        self.attribution = check_method(method)
        return None if self.result is None else self.result.use(method)

    def measure(self, result: NeuronGroupsResult | None = None) -> NeuronGroupsResult | None:
        """Add the explained variance over counts and the stability to ``result``.

        ``result`` defaults to the one shown; a saved result keeps what it has.
        """
        result = self.result if result is None else result
        if result is None or self.reading is None:
            return result
        return self.reading.measure(result)

    def set_counts(self, counts: Sequence[int]) -> NeuronGroupsResult:
        """Show one group count per layer (input to output), checked first."""
        self.check_counts(counts)
        return self.analyze(counts)

    def set_count(self, layer: str, n: int) -> NeuronGroupsResult:
        """Show ``n`` groups at ``layer`` (one of :attr:`layers`), the others unchanged."""
        counts = self.counts
        counts[self.layers.index(layer)] = n
        return self.set_counts(counts)

    def set_classes(self, classes: Sequence[str | int] | None) -> NeuronGroupsResult:
        """Show the table of these classes (None or []: the top 5)."""
        return self.analyze(classes=list(classes or []))

    def set_image(self, image: np.ndarray) -> NeuronGroupsResult:
        """Read another image at the same layers and show it with the same choices."""
        return self._reread(image, self.layers)

    def set_layer(self, layer: str) -> NeuronGroupsResult:
        """Read the image at another layer (a view of one layer), keeping the other choices."""
        self._require_model()
        if len(self.layers) > 1:
            raise LayerError(
                "the layers of a view of several layers are fixed; make another widget with "
                "GroupWidget(img, layer=[...])."
            )
        (name,) = check_layers(self.model, layer)
        if name == self.layers[0] and self.result is not None:
            return self.result
        return self._reread(self.reading.image, [name])

    def _reread(self, image: np.ndarray, layers: list[str]) -> NeuronGroupsResult:
        self._require_model()
        fixed = given_counts(self.model, self.method, layers)  # before the pass
        counts = [fixed.get(layer, n) for layer, n in zip(layers, self.counts, strict=True)]
        classes = self._classes_now()
        reading = _read(self.model, image, layers, classes or None)
        result = reading.analyze(counts, classes or None, self.method, self.seed, self.attribution)
        self.reading, self.result, self._seen = reading, result, {result.n_groups: None}
        self._fixed = fixed
        return result

    def _classes_now(self) -> Any:
        """The classes shown; before the first result, those :meth:`open` was given."""
        return self.classes if self.result is not None else self._asked[1]

    def _require_model(self) -> None:
        if self.reading is None:
            raise NeuronGroupsError(SAVED)


def _read(model: VisionModel, image: np.ndarray, layers: list[str], classes: Any) -> ImageReading:
    """Read the image, with the classes' gradients in the same pass when they are valid."""
    try:
        return ImageReading(model, image, layers, classes)
    except ClassNameError:  # read anyway: the analysis says what is wrong, and it can be fixed
        return ImageReading(model, image, layers)
