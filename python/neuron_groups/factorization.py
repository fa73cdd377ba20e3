"""Splitting a layer's activations into groups of neurons by matrix factorization.

As in the original notebook (Lucid's ``ChannelReducer``): the activations (H, W, C) are
flattened to (H*W, C) and factorized with a ``sklearn.decomposition`` estimator into spatial
factors (n, H, W) and channel factors (n, C); groups are then ordered left to right.
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
        The estimator's class name.
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


def _check(acts: np.ndarray, n_groups: int, estimator: BaseEstimator, layer: str) -> None:
    import sklearn.decomposition

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
    if isinstance(estimator, sklearn.decomposition.NMF) and acts.min() < 0:
        raise FactorizationError(
            f"NMF needs non-negative activations, but {layer!r} has values down to "
            f"{acts.min():.3g}. Use a post-ReLU layer (e.g. mixed4d) or another method "
            "(method='PCA' or 'FastICA')."
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
        See :func:`make_estimator`.
    seed : int or None
        ``random_state`` of the estimator; a fixed seed makes the result repeatable.
    layer : str
        Used in error messages only.
    """
    estimator = make_estimator(method, n_groups, seed)
    acts = np.asarray(acts, dtype=np.float32)
    _check(acts, n_groups, estimator, layer)
    h, w, c = acts.shape
    flat = acts.reshape(h * w, c).astype(np.float64)  # (H*W, C)
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        spatial_flat = estimator.fit_transform(flat)  # (H*W, n)
    channel = np.asarray(estimator.components_)  # (n, C)
    error = _relative_error(flat, spatial_flat, channel, estimator)
    spatial = spatial_flat.T.reshape(n_groups, h, w)  # (n, H, W)
    order = order_left_to_right(spatial)
    return Factorization(
        spatial=spatial[order].astype(np.float32),
        channel=channel[order].astype(np.float32),
        error=error,
        method=type(estimator).__name__,
    )


def _relative_error(
    flat: np.ndarray, spatial_flat: np.ndarray, channel: np.ndarray, estimator: BaseEstimator
) -> float:
    if hasattr(estimator, "inverse_transform"):
        try:
            approx = estimator.inverse_transform(spatial_flat)
        except Exception:  # some estimators cannot invert
            approx = spatial_flat @ channel
    else:
        approx = spatial_flat @ channel
    norm = np.linalg.norm(flat)
    return float(np.linalg.norm(flat - approx) / norm) if norm > 0 else 0.0
