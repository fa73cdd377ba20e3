"""Splitting a layer's activations into groups of neurons by matrix factorization.

As in the original notebook (Lucid's ``ChannelReducer``): the activations (H, W, C) are
flattened to (H*W, C) and factorized with a ``sklearn.decomposition`` estimator into spatial
factors (n, H, W) and channel factors (n, C); groups are then ordered left to right.

Signed activations (a Vision Transformer's residual stream, a layer before its ReLU) cannot
be factorized by NMF as they are. For them the default, ``"nmf"``, is **sign-split NMF**:
NMF of the positive and negative parts side by side, ``[max(X, 0), max(-X, 0)]``
(H*W, 2C), into spatial factors W >= 0 (n, H*W) and channel factors [P, N] >= 0 (n, 2C);
each group's channel direction is ``P - N`` (n, C), signed. So X = X+ - X- is approximated
by ``W @ (P - N)``, the spatial maps stay non-negative (they show where a group is present,
and display as for any layer), and a group's direction says which channels it raises and
which it lowers. Attribution (``grad . spatial x direction``) and icons (maximizing the
direction) use the signed direction as they use an NMF one. Non-negative activations
(every post-ReLU layer, InceptionV1's) get plain NMF, unchanged.

Why this and not semi-NMF (W >= 0, directions free; Ding, Li and Jordan 2010): sign-split
NMF is scikit-learn's NMF (same solver, ``nndsvd`` start, determinism and convergence
checks) on a non-negative matrix, not a solver of our own; it keeps NMF's parts-based,
sparse groups; and it is exact when groups of opposite-signed channels do not overlap in
space, which is what it recovers on synthetic data. Where such groups overlap, their
cancelling parts cost reconstruction, reported in :attr:`Factorization.error` (always the
error of X itself). The price is a matrix twice as wide.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from neuron_groups.errors import FactorizationError, GroupCountError, did_you_mean

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

    from neuron_groups.backends.base import VisionModel

MAX_GROUPS = 16
"""The most groups one layer of an image is split into, in the widget and the command line
alike: each group is a tile, a colour that must stay distinguishable from the others, a
column of the table and an icon that costs seconds to minutes on a CPU. (The layer's own
limit, min(positions, channels), applies below it.)"""

# scikit-learn is imported where it is used: it costs about a second, and importing the
# package (a notebook's first cell) should not pay it before a factorization is asked for.


@dataclasses.dataclass(frozen=True)
class Factorization:
    """The groups found in one layer's activations.

    Attributes
    ----------
    spatial : ndarray, shape (n, H, W)
        How strongly each group is present at each position.
    channel : ndarray, shape (n, C)
        Each group's direction in channel space.
    error : float
        Relative reconstruction error ``||X - X_hat|| / ||X||`` of the (H*W, C) activations.
    method : str
        The estimator's class name; ``"SignSplitNMF"`` for NMF of signed activations.
    """

    spatial: np.ndarray
    channel: np.ndarray
    error: float
    method: str


def _estimators() -> dict[str, type]:
    import sklearn.decomposition
    from sklearn.base import BaseEstimator

    return {
        name.lower(): cls
        for name, cls in vars(sklearn.decomposition).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseEstimator)
        and "n_components" in inspect.signature(cls).parameters
    }


def make_estimator(method: str | BaseEstimator, n_groups: int, seed: int | None) -> BaseEstimator:
    """Return a fresh estimator for ``n_groups`` components.

    ``"nmf"`` (the default elsewhere) is ``NMF(init="nndsvd")``, the initialisation
    scikit-learn used in 2018, run to convergence; any other ``sklearn.decomposition``
    class is named case-insensitively (``"PCA"``, ``"FastICA"``, ...). An estimator
    instance is cloned and its ``n_components`` set. ``seed`` fixes ``random_state``.
    """
    import sklearn.decomposition
    from sklearn.base import BaseEstimator, clone

    if isinstance(method, BaseEstimator):
        estimator = clone(method)
        if "n_components" not in estimator.get_params():
            raise FactorizationError(
                f"{type(method).__name__} has no n_components; use an estimator from "
                "sklearn.decomposition such as NMF or PCA."
            )
        estimator.set_params(n_components=n_groups)
    elif isinstance(method, str):
        known = _estimators()
        cls = known.get(method.lower())
        if cls is None:
            names = sorted(c.__name__ for c in known.values())
            raise FactorizationError(
                f"Unknown factorization method {method!r}.{did_you_mean(method, names)} "
                f"Methods: {', '.join(names)}, or an estimator instance."
            )
        options = {"init": "nndsvd", "max_iter": 1000} if cls is sklearn.decomposition.NMF else {}
        estimator = cls(n_components=n_groups, **options)
    else:
        raise FactorizationError(
            f"method is a name or an sklearn.decomposition estimator; got {type(method).__name__}."
        )
    if seed is not None and "random_state" in estimator.get_params():
        estimator.set_params(random_state=seed)
    return estimator


def _check(acts: np.ndarray, n_groups: int, layer: str) -> None:
    if acts.ndim != 3:
        raise FactorizationError(
            f"Factorization needs activations with a spatial extent (H, W, C); layer {layer!r} "
            f"gives shape {acts.shape}. Choose a convolutional layer such as mixed4d."
        )
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)):
        raise GroupCountError(f"n_groups is a whole number; got {n_groups!r}.")
    limit = max_groups(acts.shape)
    if not 1 <= n_groups <= limit:
        nearest = min(max(int(n_groups), 1), limit)
        raise GroupCountError(
            f"n_groups must be between 1 and {limit} for {layer!r} here: "
            f"{why_max_groups(acts.shape)}; got {n_groups}. Nearest valid: {nearest}."
        )


def max_groups(shape: tuple[int, ...]) -> int:
    """The most groups a layer of activations ``shape`` (h, w, C) can be split into."""
    h, w, c = shape
    return min(MAX_GROUPS, h * w, c)


def why_max_groups(shape: tuple[int, ...]) -> str:
    """Why :func:`max_groups` is what it is, in words."""
    h, w, c = shape
    if min(h * w, c) >= MAX_GROUPS:
        return f"at most {MAX_GROUPS} groups (one tile, colour and icon each)"
    return f"no more groups than its {h}x{w} positions and {c} channels"


def order_left_to_right(spatial: np.ndarray) -> np.ndarray:
    """Indices that sort groups by the column of each spatial factor's peak (stable)."""
    peak_column = np.argmax(spatial.max(axis=1), axis=1)  # (n,)
    return np.argsort(peak_column, kind="stable")


@runtime_checkable
class GroupSource(Protocol):
    """Groups that are given rather than found: fixed channel factors for one layer.

    :class:`~neuron_groups.datasets.SharedGroups` (groups fitted on many images) is one. Pass
    it as the ``method`` of an analysis: at its layer the image's maps are its
    :meth:`factorize` of the activations, at any other layer the default factorization runs.
    """

    layer: str

    @property
    def n_groups(self) -> int:
        """The fixed number of groups."""

    def check_model(self, model: VisionModel, layer: str | None = None) -> str:
        """The canonical layer, after checking the model and layer fit these groups."""

    def factorize(self, acts: np.ndarray) -> Factorization:
        """An image's maps on the fixed channel factors, for its activations (h, w, C)."""


def factorize(
    acts: np.ndarray,
    n_groups: int,
    method: str | BaseEstimator | GroupSource = "nmf",
    seed: int | None = 0,
    layer: str = "this layer",
) -> Factorization:
    """Factorize activations (H, W, C) into ``n_groups`` groups, ordered left to right.

    Parameters
    ----------
    acts : ndarray, shape (H, W, C)
        One image's activations at a layer.
    n_groups : int
        Between 1 and :func:`max_groups` (16, or fewer for a small layer).
    method : str, estimator or GroupSource
        See :func:`make_estimator`. NMF (the default ``"nmf"``, or an ``NMF`` instance)
        of activations with negative values is sign-split NMF (see the module docstring);
        ``"signsplitnmf"`` asks for it whatever the signs. A :class:`GroupSource` gives its
        fixed groups (``n_groups`` must be its count).
    seed : int or None
        ``random_state`` of the estimator; a fixed seed makes the result repeatable.
    layer : str
        Used in error messages only.
    """
    if isinstance(method, GroupSource):
        return _given_groups(acts, n_groups, method, layer)
    sign_split = isinstance(method, str) and method.lower().replace("-", "") in SIGN_SPLIT_NAMES
    estimator = make_estimator("nmf" if sign_split else method, n_groups, seed)
    acts = np.asarray(acts, dtype=np.float32)
    _check(acts, n_groups, layer)
    h, w, c = acts.shape
    flat = acts.reshape(h * w, c).astype(np.float64)  # (H*W, C)
    if sign_split or (_is_nmf(estimator) and flat.min() < 0):
        spatial_flat, channel = _fit(estimator, split_signs(flat))  # (H*W, n), (n, 2C)
        channel = channel[:, :c] - channel[:, c:]  # (n, C), signed
        error = _relative_error(flat, spatial_flat @ channel)
        name = SIGN_SPLIT
    else:
        spatial_flat, channel = _fit(estimator, flat)  # (H*W, n), (n, C)
        error = _relative_error(flat, _reconstruction(estimator, spatial_flat, channel))
        name = type(estimator).__name__
    spatial = spatial_flat.T.reshape(n_groups, h, w)  # (n, H, W)
    order = order_left_to_right(spatial)
    return Factorization(
        spatial=spatial[order].astype(np.float32),
        channel=channel[order].astype(np.float32),
        error=error,
        method=name,
    )


def _given_groups(
    acts: np.ndarray, n_groups: int, source: GroupSource, layer: str
) -> Factorization:
    if n_groups != source.n_groups:
        raise GroupCountError(
            f"The groups given for {layer!r} are {source.n_groups}, fixed; got "
            f"n_groups={n_groups}. Leave n_groups out, or give {source.n_groups}."
        )
    return source.factorize(np.asarray(acts, dtype=np.float32))


SIGN_SPLIT = "SignSplitNMF"
"""``Factorization.method`` (and ``result.method``) of NMF run on signed activations."""
SIGN_SPLIT_NAMES = ("signsplitnmf", "signsplit", "signsplit nmf", "sign split nmf")


def split_signs(flat: np.ndarray) -> np.ndarray:
    """The positive and negative parts side by side: (P, C) -> (P, 2C), non-negative."""
    return np.concatenate([np.maximum(flat, 0.0), np.maximum(-flat, 0.0)], axis=1)


def _is_nmf(estimator: BaseEstimator) -> bool:
    import sklearn.decomposition

    return isinstance(estimator, (sklearn.decomposition.NMF, sklearn.decomposition.MiniBatchNMF))


def _fit(estimator: BaseEstimator, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit ``flat`` (P, D); return (spatial (P, n), components (n, D))."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            spatial_flat = estimator.fit_transform(flat)  # (P, n)
        except ValueError as exc:  # e.g. an estimator that needs non-negative data
            raise FactorizationError(
                f"{type(estimator).__name__} cannot factorize these activations: {exc} "
                "Use NMF (the default, sign-split for signed activations) or PCA."
            ) from None
    return spatial_flat, np.asarray(estimator.components_)


def _reconstruction(
    estimator: BaseEstimator, spatial_flat: np.ndarray, channel: np.ndarray
) -> np.ndarray:
    if hasattr(estimator, "inverse_transform"):
        try:
            return estimator.inverse_transform(spatial_flat)
        except Exception:  # some estimators cannot invert
            pass
    return spatial_flat @ channel


def _relative_error(flat: np.ndarray, approx: np.ndarray) -> float:
    norm = np.linalg.norm(flat)
    return float(np.linalg.norm(flat - approx) / norm) if norm > 0 else 0.0


def one_blas_thread():
    """Run numpy's BLAS on one thread while the model's framework keeps its own threads.

    Interleaved with TensorFlow's passes, OpenBLAS's threads and TensorFlow's contend for
    the cores: on 2 cores the fit of 96 images at mixed4d took 2.15 s with 2 BLAS threads
    and 0.27 s with 1 (``benchmarks/bench_datasets.py``), and the curve over counts and the
    stability of one image took 23.8 s with 2 and 0.5 s with 1
    (``benchmarks/bench_readouts.py``).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")
