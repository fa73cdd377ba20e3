"""How far the groups can be trusted: how much of the layer they explain, and how stable they are.

- **Explained variance** ``1 - |a - R|^2 / |a|^2`` over every position and channel, with
  ``R`` the groups' reconstruction. It is not centred: NMF reconstructs ``a`` itself, so
  the mean is part of what the groups must explain. The **curve over counts** is the same
  for 1, 2, ... groups: where it flattens, more groups explain little more.
- **Stability** of each group: the layer is refitted on resampled positions (a bootstrap)
  from another random start, each refit's groups are matched to these by the Hungarian
  method on their channel factors, and a group's stability is its mean matched cosine, in
  [0, 1]. A group that comes back in every refit is a property of the activations; one that
  does not is an accident of the start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from neuron_groups.factorization import Factorization, factorize, max_groups

REFITS = 5
"""How many refits the stability of one layer's groups is measured over."""


def explained_variance(acts: np.ndarray, spatial: np.ndarray, channel: np.ndarray) -> float:
    """``1 - |a - R|^2 / |a|^2`` for activations (h, w, C) and groups (n, h, w), (n, C)."""
    reconstruction = np.einsum("nhw,nc->hwc", spatial, channel, optimize=True)  # (h, w, C)
    total = float(np.sum(np.square(acts, dtype=np.float64)))
    if total == 0.0:
        return 1.0
    return 1.0 - float(np.sum(np.square(acts - reconstruction, dtype=np.float64))) / total


def explained_variance_by_count(
    acts: np.ndarray,
    method: Any = "nmf",
    seed: int | None = 0,
    known: Callable[[int], Factorization] | None = None,
) -> np.ndarray:
    """Explained variance for 1 .. :func:`max_groups` groups: (K,), entry k-1 for k groups.

    ``known(k)``, when given, returns the groups of count k (a cache, so that the value at
    the count shown is exactly that of the groups shown); else each count is factorized.
    """
    fit = known or (lambda k: factorize(acts, k, method=method, seed=seed))
    curve = []
    for k in range(1, max_groups(acts.shape) + 1):
        groups = fit(k)
        curve.append(explained_variance(acts, groups.spatial, groups.channel))
    return np.asarray(curve, np.float32)


def matched_cosines(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Each reference direction's cosine with its Hungarian match among ``other``: (n,).

    Both are channel factors (n, C); the matching maximizes the summed cosine, and each
    cosine is clipped to [0, 1] (a direction pointing away is no match).
    """
    from scipy.optimize import linear_sum_assignment

    def unit(m: np.ndarray) -> np.ndarray:
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

    cosines = unit(reference.astype(np.float64)) @ unit(other.astype(np.float64)).T  # (n, n)
    rows, cols = linear_sum_assignment(-cosines)
    matched = np.zeros(len(reference))
    matched[rows] = cosines[rows, cols]
    return np.clip(matched, 0.0, 1.0).astype(np.float32)


def refit_on_resampled_positions(acts: np.ndarray, n_groups: int, seed: int) -> np.ndarray:
    """Channel factors (n, C) of NMF on a bootstrap of the positions, from a random start."""
    from sklearn.decomposition import NMF

    rng = np.random.default_rng(seed)
    flat = acts.reshape(-1, acts.shape[-1])  # (P, C)
    resampled = flat[rng.integers(0, len(flat), size=len(flat))]  # (P, C), with replacement
    estimator = NMF(n_groups, init="random", max_iter=1000, random_state=seed)
    groups = factorize(resampled[:, None, :], n_groups, method=estimator, seed=seed)
    return groups.channel


def stability(
    acts: np.ndarray,
    channel: np.ndarray,
    refits: int = REFITS,
    seed: int = 0,
    refit: Callable[[np.ndarray, int, int], np.ndarray] = refit_on_resampled_positions,
) -> np.ndarray:
    """Each group's mean matched cosine over ``refits`` refits, in [0, 1]: (n,).

    Parameters
    ----------
    acts : ndarray, shape (h, w, C)
        The activations the groups were found in.
    channel : ndarray, shape (n, C)
        The groups' channel factors.
    refits : int
        How many refits.
    seed : int
        Refit i uses seed ``seed + 1 + i`` for its resample and its start.
    refit : callable
        ``refit(acts, n, seed) -> channel factors (n, C)``; default
        :func:`refit_on_resampled_positions`.
    """
    n = len(channel)
    cosines = [matched_cosines(channel, refit(acts, n, seed + 1 + i)) for i in range(refits)]
    return np.mean(cosines, axis=0).astype(np.float32)
