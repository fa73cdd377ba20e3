"""One batch of the shared-groups fit, the same in every engine (local and Ray).

The state a fit carries from batch to batch (:class:`FitState`: the MiniBatchNMF's arrays,
the code sums, the top regions, the skipped files, and what the trust readouts need: two
more MiniBatchNMFs fitted on the even and the odd batches, for split-half stability, and the
summed squares of the activations and of their residuals, for the explained variance over
the dataset), how a source becomes a squared image,
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
class EstimatorState:
    """A MiniBatchNMF's ``partial_fit`` state: what a checkpoint keeps of it."""

    components: np.ndarray | None = None  # (n, C)
    numerator: np.ndarray | None = None  # (n, C)
    denominator: np.ndarray | None = None  # (n, C)
    n_steps: int = 0
    first_rows: int = 0

    def copy(self) -> EstimatorState:
        """A deep copy (the estimator's arrays are updated in place between batches)."""
        arrays = ("components", "numerator", "denominator")
        return dataclasses.replace(
            self,
            **{a: None if getattr(self, a) is None else getattr(self, a).copy() for a in arrays},
        )


@dataclasses.dataclass
class FitState(EstimatorState):
    """Everything a resumed fit needs: the estimators' arrays and the bookkeeping.

    Its own :class:`EstimatorState` fields are the whole fit's; ``halves`` those of the fits
    on the even and the odd batches.
    """

    sources_done: int = 0
    n_images: int = 0
    n_batches: int = 0
    code_sums: np.ndarray | None = None  # (n,)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    shape: tuple[int, int] = (0, 0)
    top: TopRegions | None = None
    halves: list[EstimatorState] = dataclasses.field(
        default_factory=lambda: [EstimatorState(), EstimatorState()]
    )
    sum_squares: float = 0.0
    residual_squares: float = 0.0

    def copy(self) -> FitState:
        """A deep copy (the estimators' arrays are updated in place between batches)."""
        return dataclasses.replace(
            super().copy(),
            code_sums=None if self.code_sums is None else self.code_sums.copy(),
            skipped=list(self.skipped),
            top=None if self.top is None else self.top.copy(),
            halves=[half.copy() for half in self.halves],
        )


@dataclasses.dataclass
class FitEstimators:
    """The MiniBatchNMF of the whole fit, and those of its even and odd batches."""

    whole: Any
    halves: tuple[Any, Any]


def new_estimator(n_groups: int, seed: int, forget_factor: float) -> FitEstimators:
    """Fresh MiniBatchNMFs for a streamed fit (``partial_fit`` one batch at a time).

    The halves start from random initializations of their own (seeds ``seed + 1`` and
    ``seed + 2``), so their agreement with the whole fit is not an echo of one start.
    """
    from sklearn.decomposition import MiniBatchNMF

    def estimator(init: str, random_state: int):
        return MiniBatchNMF(
            n_components=n_groups,
            init=init,
            batch_size=10**9,  # with partial_fit, the statistics fade by forget_factor per call
            forget_factor=forget_factor,
            random_state=random_state,
        )

    halves = (estimator("random", seed + 1), estimator("random", seed + 2))
    return FitEstimators(estimator("nndsvda", seed), halves)


def restore_estimator(estimators: FitEstimators, state: FitState) -> None:
    """Put a checkpoint's arrays back into fresh MiniBatchNMFs (their partial_fit state).

    The derived settings come from the estimator's own ``_check_params`` on an array of the
    first batch's shape; ``tests/core/test_datasets.py`` checks that a resumed fit equals an
    uninterrupted one, which would catch a scikit-learn change to this state.
    """
    for estimator, saved in zip(
        (estimators.whole, *estimators.halves), (state, *state.halves), strict=True
    ):
        if saved.components is not None:
            _restore_one(estimator, saved)


def _restore_one(estimator, state: EstimatorState) -> None:
    assert state.components is not None
    c = state.components.shape[1]
    estimator._check_params(np.zeros((state.first_rows, c), state.components.dtype))
    estimator.n_features_in_ = c
    estimator.components_ = state.components.copy()
    estimator._components_numerator = state.numerator.copy()
    estimator._components_denominator = state.denominator.copy()
    estimator.n_steps_ = state.n_steps
    estimator.n_components_ = state.components.shape[0]


def capture_estimator(estimator, state: EstimatorState) -> None:
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


def fit_batch(
    estimators: FitEstimators,
    acts: np.ndarray,
    names: list[str],
    images: list[np.ndarray],
    state: FitState,
) -> None:
    """Update the estimators, the code sums, the top regions and the squares with one batch.

    ``acts`` is (B, h, w, C); ``images`` the B squared images it was read from. The batch
    goes to the whole fit and to the half of its parity.
    """
    b, h, w, c = acts.shape
    rows = acts.reshape(b * h * w, c)  # (B*h*w, C), a view
    if rows.min() < 0:
        raise DatasetError(
            f"NMF needs non-negative activations, but the layer has values down to "
            f"{rows.min():.3g}. Use a post-ReLU layer (e.g. mixed4d)."
        )
    if state.components is None:
        state.shape = (h, w)
        state.code_sums = np.zeros(estimators.whole.n_components)
    half = state.n_batches % 2
    for estimator, saved in (
        (estimators.whole, state),
        (estimators.halves[half], state.halves[half]),
    ):
        if saved.components is None:
            saved.first_rows = len(rows)
        partial_fit(estimator, rows)
        capture_estimator(estimator, saved)
    components = estimators.whole.components_  # (n, C)
    codes = nnls_codes(rows, components)  # (B*h*w, n)
    state.sum_squares += float(np.sum(np.square(rows, dtype=np.float64)))
    state.residual_squares += float(np.sum(np.square(rows - codes @ components, dtype=np.float64)))
    codes = codes.reshape(b, h, w, -1)  # (B, h, w, n)
    state.code_sums = state.code_sums + codes.sum(axis=(0, 1, 2))
    state.top.push(codes, acts, state.n_images, names, images)
    state.n_images += b
    state.n_batches += 1
