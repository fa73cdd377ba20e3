"""How much each group of neurons moves each target: three methods with one calling pattern.

For a layer with activations ``a`` (h, w, C) and groups with maps ``S_g`` and channel factors
``C_g``, group g's **part** is ``P_g = S_g (outer) C_g`` and the reconstruction is
``R = sum_g P_g``. A target ``f`` is a class logit, or a group's score at a later layer (the
flows). Each method turns a :class:`Probe` (the model's passes for the targets, cached) and
the groups into a table ``(T, n)``:

- ``"linear"`` (the article's, Lucid's ``raw_class_group_attr``):
  ``lin[t, g] = <grad f_t(a), P_g>``, a first-order estimate at the image's activations.
- ``"integrated"`` (integrated gradients from the zero baseline along the straight path):
  ``ig[t, g] = <avg_grad_t, P_g>`` with ``avg_grad_t`` the gradient of ``f_t`` averaged over
  ``s a`` for s in [0, 1], and ``rest[t] = <avg_grad_t, a - R>``, the evidence the groups do
  not explain. Completeness: ``sum_g ig[t, g] + rest[t] = f_t(a) - f_t(0)``; the path is
  refined until it holds within :data:`COMPLETENESS` (1%), where the path turns most (see
  :class:`_Path`). After those batched passes for the average, it costs what the linear
  table costs, for any group count.
- ``"ablation"`` (measured): ``abl[t, g] = f_t(a) - f_t(a - min(a, P_g))``, the drop when
  the group's part is removed with the activations kept >= 0 (for signed activations, such
  as a ViT's, ``a - P_g``).

A new method is one function ``method(probe, spatial, channel) -> Attribution`` added to
:data:`METHODS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from neuron_groups.backends.base import Targets, VisionModel
from neuron_groups.errors import NeuronGroupsError, did_you_mean

COMPLETENESS = 0.01
"""How closely the integrated table and its rest add up to ``f(a) - f(0)`` (relative)."""

FIRST_STEPS, MAX_STEPS, REFINE = 16, 256, 8
"""The path's first intervals (even), the most it takes, and how many are split at a time."""

CHUNK = 32
"""The most activations evaluated in one backend call (memory: CHUNK x T gradients)."""


def group_attributions(grads: np.ndarray, spatial: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Each target's gradient contracted with each group's part: ``<grads[t], P_g>``.

    Parameters
    ----------
    grads : ndarray, shape (T, H, W, C)
        A gradient (or an averaged gradient) of each target with respect to the activations.
    spatial : ndarray, shape (n, H, W)
        Where each group is present.
    channel : ndarray, shape (n, C)
        Each group's direction over channels.

    Returns
    -------
    ndarray, shape (T, n)
    """
    if grads.shape[1:3] != spatial.shape[1:] or grads.shape[3] != channel.shape[1]:
        raise ValueError(
            f"Gradients {grads.shape} do not match spatial {spatial.shape} and channel "
            f"{channel.shape} factors."
        )
    # Contract channels first: (T, H, W, C) x (n, C) -> (T, n, H, W), then positions.
    per_position = np.einsum("khwc,nc->knhw", grads, channel, optimize=True)
    return np.einsum("knhw,nhw->kn", per_position, spatial, optimize=True).astype(np.float32)


def group_parts(spatial: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Each group's part of the activations, ``S_g (outer) C_g``: (n, H, W, C)."""
    return (spatial[..., None] * channel[:, None, None, :]).astype(np.float32)


@dataclasses.dataclass(frozen=True)
class PathGradient:
    """The gradient of each target averaged along the straight path from 0 to ``a``.

    Attributes
    ----------
    mean : ndarray, shape (T, H, W, C)
    change : ndarray, shape (T,)
        ``f(a) - f(0)`` of each target, what ``<mean, a>`` approximates.
    steps : int
        Intervals of the trapezoid rule used.
    """

    mean: np.ndarray
    change: np.ndarray
    steps: int

    def completeness_error(self, acts: np.ndarray) -> np.ndarray:
        """``|<mean, a> - (f(a) - f(0))|`` relative to the size of the change, per target."""
        total = np.einsum("thwc,hwc->t", self.mean, acts, optimize=True)  # (T,)
        return np.abs(total - self.change) / _scale(self.change)


def _scale(change: np.ndarray) -> np.ndarray:
    """What an error is relative to: the change, floored at a tenth of the largest one."""
    largest = float(np.abs(change).max()) if change.size else 0.0
    return np.maximum(np.abs(change), max(0.1 * largest, 1e-6))


class Probe:
    """The passes attribution needs, for targets at one layer of one image; cached.

    Parameters
    ----------
    model : VisionModel
    image : ndarray, shape (H, W, 3)
    layer : str
        The layer whose activations are attributed.
    acts : ndarray, shape (h, w, C)
        The image's activations there.
    targets : Targets
        Class logits (``Targets.classes``) or scores at a later layer (``Targets.directions``).
    gradients : ndarray, shape (T, h, w, C), optional
        The gradients at ``acts`` if already read (one pass of ``VisionModel.read``).
    path : PathGradient, optional
        The path-averaged gradients if already computed.
    """

    def __init__(
        self,
        model: VisionModel,
        image: np.ndarray,
        layer: str,
        acts: np.ndarray,
        targets: Targets,
        gradients: np.ndarray | None = None,
        path: PathGradient | None = None,
    ):
        self.model, self.image, self.layer = model, image, layer
        self.acts, self.targets = acts, targets
        self._gradients = gradients
        self._path = path

    def gradients(self) -> np.ndarray:
        """D f / d a at the image's activations, (T, h, w, C)."""
        if self._gradients is None:
            self._gradients = self._evaluate(self.acts[None], gradients=True)[1][0]
        return self._gradients

    def values(self, acts: np.ndarray) -> np.ndarray:
        """The targets at each of a batch of activations (B, h, w, C): (B, T)."""
        return self._evaluate(acts, gradients=False)[0]

    def path_gradient(self) -> PathGradient:
        """The path-averaged gradient, refined until complete within :data:`COMPLETENESS`."""
        if self._path is None:
            self._path = self._integrate()
        return self._path

    def _integrate(self) -> PathGradient:
        # Denser near zero, where a ReLU network's path turns most: s = u^2 for even u.
        path = _Path(self.acts, np.linspace(0.0, 1.0, FIRST_STEPS + 1) ** 2, self._sample)
        while True:
            found = path.average()
            done = np.all(found.completeness_error(self.acts) <= COMPLETENESS)
            if done or found.steps >= MAX_STEPS:
                return found
            path.refine(REFINE)

    def _sample(self, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values (P, T) and gradients (P, T, h, w, C) of the targets at ``fractions * a``."""
        return self._evaluate(self._on_path(fractions), True)

    def _on_path(self, fractions: np.ndarray) -> np.ndarray:
        return fractions[:, None, None, None].astype(np.float32) * self.acts[None]  # (B, h, w, C)

    def _evaluate(self, acts: np.ndarray, gradients: bool) -> tuple[np.ndarray, np.ndarray]:
        values, grads = [], []
        for start in range(0, len(acts), CHUNK):
            out = self.model.evaluate(
                self.image, self.layer, acts[start : start + CHUNK], self.targets, gradients
            )
            values.append(out.values)  # (b, T)
            if gradients:
                grads.append(out.grads)  # (b, T, h, w, C)
        stacked = np.concatenate(grads) if gradients else np.zeros(0, np.float32)
        return np.concatenate(values), stacked


class _Path:
    """Points ``s a`` on the straight path, refined where the trapezoid rule is off.

    Along the path the targets change by ``f(s_r a) - f(s_l a)`` over an interval, which the
    values give exactly; the trapezoid rule estimates it as ``(s_r - s_l) / 2`` times the sum
    of the endpoints' slopes ``<grad f(s a), a>``. Their difference is each interval's own
    error, so refining splits the intervals that are most off (a ReLU network's path often
    turns sharply near 0) instead of all of them.
    """

    def __init__(self, acts: np.ndarray, fractions: np.ndarray, sample: Callable) -> None:
        self.acts, self.sample = acts, sample
        self.fractions = fractions  # (P,), sorted
        self.values, self.grads = sample(fractions)  # (P, T), (P, T, h, w, C)
        self.slopes = self._slopes(self.grads)  # (P, T)

    def _slopes(self, grads: np.ndarray) -> np.ndarray:
        """``<grad f(s a), a>`` at each point: the derivative along the path, (P, T)."""
        return np.einsum("pthwc,hwc->pt", grads, self.acts, optimize=True)

    def _add(self, fractions: np.ndarray) -> None:
        values, grads = self.sample(fractions)
        order = np.argsort(np.concatenate([self.fractions, fractions]), kind="stable")
        self.fractions = np.concatenate([self.fractions, fractions])[order]
        self.values = np.concatenate([self.values, values])[order]
        self.slopes = np.concatenate([self.slopes, self._slopes(grads)])[order]
        self.grads = np.concatenate([self.grads, grads])[order]

    def _weights(self) -> np.ndarray:
        """The trapezoid rule's weight of each point on the (uneven) grid: (P,)."""
        widths = np.diff(self.fractions)
        return np.concatenate([widths, [0.0]]) / 2 + np.concatenate([[0.0], widths]) / 2

    def average(self) -> PathGradient:
        mean = np.einsum("p,pthwc->thwc", self._weights(), self.grads, optimize=True)
        change = self.values[-1] - self.values[0]  # (T,)
        return PathGradient(mean.astype(np.float32), change, len(self.fractions) - 1)

    def refine(self, most: int) -> None:
        """Split the ``most`` intervals whose trapezoid is furthest from the values' change."""
        widths = np.diff(self.fractions)[:, None]  # (P-1, 1)
        estimate = widths / 2 * (self.slopes[:-1] + self.slopes[1:])  # (P-1, T)
        exact = np.diff(self.values, axis=0)  # (P-1, T)
        scale = _scale(self.values[-1] - self.values[0])
        off = (np.abs(estimate - exact) / scale).max(axis=1)  # (P-1,)
        worst = np.argsort(-off, kind="stable")[:most]
        self._add((self.fractions[worst] + self.fractions[worst + 1]) / 2)


@dataclasses.dataclass(frozen=True)
class Attribution:
    """One method's table.

    Attributes
    ----------
    table : ndarray, shape (T, n)
        The effect of each group on each target.
    rest : ndarray, shape (T,), or None
        What the groups do not explain (integrated gradients only).
    """

    table: np.ndarray
    rest: np.ndarray | None = None


def linear(probe: Probe, spatial: np.ndarray, channel: np.ndarray) -> Attribution:
    """The article's first-order estimate: ``<grad f(a), P_g>``."""
    return Attribution(group_attributions(probe.gradients(), spatial, channel))


def integrated(probe: Probe, spatial: np.ndarray, channel: np.ndarray) -> Attribution:
    """Integrated gradients from zero: ``<avg_grad, P_g>``, and the rest ``<avg_grad, a - R>``."""
    path = probe.path_gradient()
    table = group_attributions(path.mean, spatial, channel)  # (T, n)
    whole = np.einsum("thwc,hwc->t", path.mean, probe.acts, optimize=True)  # <avg_grad, a>
    return Attribution(table, (whole - table.sum(axis=1)).astype(np.float32))


def ablation(probe: Probe, spatial: np.ndarray, channel: np.ndarray) -> Attribution:
    """The measured drop of each target when each group's part is removed."""
    acts = probe.acts
    parts = group_parts(spatial, channel)  # (n, h, w, C)
    removed = np.minimum(acts[None], parts) if acts.min() >= 0 else parts
    values = probe.values(np.concatenate([acts[None], acts[None] - removed]))  # (1 + n, T)
    return Attribution((values[0][None] - values[1:]).T.astype(np.float32))  # (T, n)


METHODS: dict[str, Callable[[Probe, np.ndarray, np.ndarray], Attribution]] = {
    "integrated": integrated,
    "linear": linear,
    "ablation": ablation,
}
"""Every attribution method by name; the first is the default."""

DEFAULT_METHOD = "integrated"


def check_method(method: str) -> str:
    """The method's name, after checking it is one of :data:`METHODS`."""
    if method not in METHODS:
        raise NeuronGroupsError(
            f"Unknown attribution {method!r}.{did_you_mean(str(method), list(METHODS))} "
            f"Methods: {', '.join(METHODS)} (default {DEFAULT_METHOD})."
        )
    return method


STRONG = 0.25
"""A cell is strong when its measured effect is at least this share of the table's largest."""

NAMES = {
    "integrated": "integrated gradients",
    "linear": "linear attribution (the article's)",
    "ablation": "measured effect of removing each group",
}
"""What each method's table is called where it is shown."""


def sign_disagreements(linear: np.ndarray, measured: np.ndarray, strong: float = STRONG):
    """Cells where the linear estimate's sign is not the measured effect's, on strong cells.

    Parameters
    ----------
    linear, measured : ndarray, shape (T, n)
        The linear table and the ablation table.
    strong : float
        Only cells whose measured effect is at least this share of the largest count.

    Returns
    -------
    ndarray of bool, shape (T, n)
    """
    largest = float(np.abs(measured).max()) if measured.size else 0.0
    if largest == 0.0:
        return np.zeros(measured.shape, bool)
    opposite = np.sign(linear) * np.sign(measured) < 0
    return opposite & (np.abs(measured) >= strong * largest)


def attribute_all(
    probe: Probe,
    spatial: np.ndarray,
    channel: np.ndarray,
    methods: Sequence[str] = tuple(METHODS),
) -> dict[str, Attribution]:
    """These methods' tables (default: every method's) for these groups."""
    return {name: METHODS[name](probe, spatial, channel) for name in methods}
