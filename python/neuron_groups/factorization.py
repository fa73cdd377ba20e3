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
from typing import TYPE_CHECKING

import numpy as np

from neuron_groups.errors import FactorizationError, GroupCountError, did_you_mean

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

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
    h, w, c = acts.shape
    if isinstance(n_groups, bool) or not isinstance(n_groups, (int, np.integer)):
        raise GroupCountError(f"n_groups is a whole number; got {n_groups!r}.")
    limit = min(h * w, c)
    if not 1 <= n_groups <= limit:
        nearest = min(max(int(n_groups), 1), limit)
        raise GroupCountError(
            f"n_groups must be between 1 and {limit} for {layer!r} here ({h}x{w} positions, "
            f"{c} channels); got {n_groups}. Nearest valid: {nearest}."
        )


def order_left_to_right(spatial: np.ndarray) -> np.ndarray:
    """Indices that sort groups by the column of each spatial factor's peak (stable)."""
    peak_column = np.argmax(spatial.max(axis=1), axis=1)  # (n,)
    return np.argsort(peak_column, kind="stable")


def factorize(
    acts: np.ndarray,
    n_groups: int,
    method: str | BaseEstimator = "nmf",
    seed: int | None = 0,
    layer: str = "this layer",
) -> Factorization:
    """Factorize activations (H, W, C) into ``n_groups`` groups, ordered left to right.

    Parameters
    ----------
    acts : ndarray, shape (H, W, C)
        One image's activations at a layer.
    n_groups : int
        Between 1 and min(H*W, C).
    method : str or estimator
        See :func:`make_estimator`. NMF (the default ``"nmf"``, or an ``NMF`` instance)
        of activations with negative values is sign-split NMF (see the module docstring);
        ``"signsplitnmf"`` asks for it whatever the signs.
    seed : int or None
        ``random_state`` of the estimator; a fixed seed makes the result repeatable.
    layer : str
        Used in error messages only.
    """
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
