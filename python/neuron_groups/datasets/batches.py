"""One batch of the shared-groups fit, the same in every engine (local and Ray).

The state a fit carries from batch to batch (:class:`FitState`: the MiniBatchNMF's arrays,
the code sums, the top regions, the skipped files), how a source becomes a squared image,
how a batch of images becomes activations, and :func:`fit_batch`, which updates the state
with one batch. :mod:`~neuron_groups.datasets.fit` (the local engine, checkpoints, the
progress bar) and :mod:`~neuron_groups.datasets.ray_engine` both run exactly this code, so
the two engines give the same groups.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from neuron_groups.backends.base import VisionModel
from neuron_groups.datasets.projection import nnls_codes
from neuron_groups.datasets.regions import TopRegions
from neuron_groups.datasets.sources import square_image
from neuron_groups.errors import DatasetError, ImageError
from neuron_groups.images import load_image


@dataclasses.dataclass
class FitState:
    """Everything a resumed fit needs: the estimator's arrays and the bookkeeping."""

    components: np.ndarray | None = None  # (n, C)
    numerator: np.ndarray | None = None  # (n, C)
    denominator: np.ndarray | None = None  # (n, C)
    n_steps: int = 0
    first_rows: int = 0
    sources_done: int = 0
    n_images: int = 0
    code_sums: np.ndarray | None = None  # (n,)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    shape: tuple[int, int] = (0, 0)
    top: TopRegions | None = None

    def copy(self) -> FitState:
        """A deep copy (the estimator's arrays are updated in place between batches)."""
        return dataclasses.replace(
            self,
            components=None if self.components is None else self.components.copy(),
            numerator=None if self.numerator is None else self.numerator.copy(),
            denominator=None if self.denominator is None else self.denominator.copy(),
            code_sums=None if self.code_sums is None else self.code_sums.copy(),
            skipped=list(self.skipped),
            top=None if self.top is None else self.top.copy(),
        )


def new_estimator(n_groups: int, seed: int, forget_factor: float):
    """A fresh MiniBatchNMF for a streamed fit (``partial_fit`` one batch at a time)."""
    from sklearn.decomposition import MiniBatchNMF

    return MiniBatchNMF(
        n_components=n_groups,
        init="nndsvda",
        batch_size=10**9,  # with partial_fit, the statistics fade by forget_factor per call
        forget_factor=forget_factor,
        random_state=seed,
    )


def restore_estimator(estimator, state: FitState) -> None:
    """Put a checkpoint's arrays back into a fresh MiniBatchNMF (its partial_fit state).

    The derived settings come from the estimator's own ``_check_params`` on an array of the
    first batch's shape; ``tests/core/test_datasets.py`` checks that a resumed fit equals an
    uninterrupted one, which would catch a scikit-learn change to this state.
    """
    assert state.components is not None
    c = state.components.shape[1]
    estimator._check_params(np.zeros((state.first_rows, c), state.components.dtype))
    estimator.n_features_in_ = c
    estimator.components_ = state.components.copy()
    estimator._components_numerator = state.numerator.copy()
    estimator._components_denominator = state.denominator.copy()
    estimator.n_steps_ = state.n_steps
    estimator.n_components_ = state.components.shape[0]


def capture_estimator(estimator, state: FitState) -> None:
    """Keep the estimator's ``partial_fit`` arrays in ``state`` (the checkpoint's content)."""
    state.components = estimator.components_
    state.numerator = estimator._components_numerator
    state.denominator = estimator._components_denominator
    state.n_steps = int(estimator.n_steps_)


def partial_fit(estimator, rows: np.ndarray) -> None:
    """One ``partial_fit`` on activation rows (P, C), without convergence warnings."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.partial_fit(rows)


def read_batch(model: VisionModel, layer: str, images: list[np.ndarray]) -> np.ndarray:
    """Activations (B, h, w, C) of a batch (today's seam reads one image per call)."""
    return np.stack([model.activations(image, layer) for image in images])


def load_square(source: Any, side: int) -> tuple[np.ndarray | None, str]:
    """One source read and squared to (side, side, 3), or None and why it could not be read."""
    try:
        return square_image(load_image(source), side), ""
    except (ImageError, OSError, ValueError) as exc:
        return None, str(exc)


def one_blas_thread():
    """Run numpy's BLAS on one thread while the model's framework keeps its own threads.

    Interleaved with TensorFlow's passes, OpenBLAS's threads and TensorFlow's contend for
    the cores: on 2 cores the fit of 96 images at mixed4d took 2.15 s with 2 BLAS threads
    and 0.27 s with 1 (``benchmarks/bench_datasets.py``).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def fit_batch(
    estimator, acts: np.ndarray, names: list[str], images: list[np.ndarray], state: FitState
) -> None:
    """Update the estimator, the code sums and the top regions with one batch.

    ``acts`` is (B, h, w, C); ``images`` the B squared images it was read from.
    """
    b, h, w, c = acts.shape
    rows = acts.reshape(b * h * w, c)  # (B*h*w, C), a view
    if rows.min() < 0:
        raise DatasetError(
            f"NMF needs non-negative activations, but the layer has values down to "
            f"{rows.min():.3g}. Use a post-ReLU layer (e.g. mixed4d)."
        )
    if state.components is None:
        state.first_rows = len(rows)
        state.shape = (h, w)
        state.code_sums = np.zeros(estimator.n_components)
    partial_fit(estimator, rows)
    capture_estimator(estimator, state)
    codes = nnls_codes(rows, estimator.components_).reshape(b, h, w, -1)  # (B, h, w, n)
    state.code_sums = state.code_sums + codes.sum(axis=(0, 1, 2))
    state.top.push(codes, acts, state.n_images, names, images)
    state.n_images += b
