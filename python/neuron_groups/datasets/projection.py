"""Non-negative codes of activations on fixed channel factors (NNLS), and their error."""

from __future__ import annotations

import numpy as np


def nnls_codes(rows: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Non-negative codes of each row on fixed channel factors.

    For each row x (C,), ``argmin_{w >= 0} ||x - channel.T @ w||``. With ``G = channel @
    channel.T = L L^T`` (Cholesky), ``||x - channel.T w||^2 = ||L^T w - L^{-1} channel x||^2
    + const``, so each row is an (n, n) problem for ``scipy.optimize.nnls`` with the same
    solution as the (C, n) one. Falls back to the (C, n) problem when G is singular.

    Parameters
    ----------
    rows : ndarray, shape (m, C)
    channel : ndarray, shape (n, C)

    Returns
    -------
    ndarray, shape (m, n), float64
    """
    from scipy.linalg import LinAlgError, cholesky, solve_triangular
    from scipy.optimize import nnls

    rows = np.asarray(rows, np.float64)  # (m, C)
    basis = np.asarray(channel, np.float64)  # (n, C)
    try:
        lower = cholesky(basis @ basis.T, lower=True)  # (n, n)
        design = lower.T  # (n, n)
        targets = solve_triangular(lower, basis @ rows.T, lower=True).T  # (m, n)
    except LinAlgError:
        design, targets = basis.T, rows  # (C, n), (m, C)
    codes = np.empty((len(rows), len(basis)))  # (m, n)
    for i, target in enumerate(targets):
        codes[i] = nnls(design, target, maxiter=50 * len(basis))[0]
    return codes


def reconstruction_error(rows: np.ndarray, channel: np.ndarray) -> float:
    """Relative error ``||X - W H|| / ||X||`` of rows (m, C) coded by NNLS on ``channel``."""
    codes = nnls_codes(rows, channel)  # (m, n)
    norm = float(np.linalg.norm(rows))
    return float(np.linalg.norm(rows - codes @ channel) / norm) if norm else 0.0
