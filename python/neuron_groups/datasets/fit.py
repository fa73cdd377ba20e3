"""The streamed, resumable fit of one shared set of neuron groups for many images.

:func:`fit_groups` reads images in batches, pushes each batch through the model, and updates
a mini-batch NMF (``sklearn.decomposition.MiniBatchNMF.partial_fit``) with the batch's
(positions, C) rows, so that at most one batch of activations is held at a time and peak
memory does not depend on the number of images. The estimator's state (the channel factors
and its two running statistics, each (n, C)) is what a checkpoint saves; a stopped fit
resumes from it and gives the same groups as an uninterrupted one.

:class:`SharedGroups` holds the fitted channel factors (n, C). :meth:`SharedGroups.apply`
shows one image through them: its spatial maps are the non-negative least squares
projection of its activations on the FIXED channel factors, so a group keeps its colour
and icon on every image, and the class attributions are computed as for one image
(``shared.py``).

Why ``partial_fit`` rather than per-batch sufficient statistics: NMF's objective is not a
function of a fixed summary of the rows (each row's non-negative code depends on the
current factors), so a statistics-only reduction needs one pass over the images per
iteration, and every pass costs a forward pass per image. MiniBatchNMF is the online NMF
(Mairal et al. 2010): per batch it solves the batch's codes for the current factors, adds
the batch's statistics (codes x rows, codes x codes) to running sums, and updates the
factors from them: one pass, O(n * C) state.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neuron_groups.backends.base import VisionModel
from neuron_groups.datasets.projection import nnls_codes
from neuron_groups.datasets.regions import TopRegions
from neuron_groups.datasets.shared import FORMAT, FitStats, SharedGroups
from neuron_groups.datasets.sources import image_sources, square_image
from neuron_groups.errors import Cancelled, DatasetError, GroupCountError, ImageError, LayerError
from neuron_groups.files import read_npz, write_atomically
from neuron_groups.images import load_image
from neuron_groups.pipeline import DEFAULT_LAYER, _model

DEFAULT_DATASET_GROUPS = 8
DEFAULT_BATCH = 16
"""Images per batch: mixed4d's 14x14 positions x 16 images = 3136 rows of 528 channels."""
CHECKPOINT_EVERY = 10
"""Batches between two checkpoints."""
TOP_K = 12
"""Image regions kept per group for the gallery."""
CANDIDATES = 4
"""Top regions are chosen among CANDIDATES * top_k kept per group, re-scored at the end."""
FORGET_FACTOR = 0.9
"""How much a batch's statistics fade per later batch (MiniBatchNMF's ``forget_factor``).

After k more batches a batch weighs 0.9**k in the running statistics (the factors
themselves carry everything before). In one pass, fading the statistics of the first
batches, coded with early factors, converges better. Relative reconstruction error against
a batch NMF on the same rows, InceptionV1 mixed4d, 8 groups, 200 images, 16 a batch: batch
0.843; streamed 0.861 (1.0), 0.858 (0.9), 0.854 (0.7); on the fake model (120 images, 8 a
batch) 13%, 10% and 6% above the batch NMF. 0.9 still spans about ten batches.
"""


@dataclasses.dataclass
class _State:
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

    def copy(self) -> _State:
        return dataclasses.replace(
            self,
            components=None if self.components is None else self.components.copy(),
            numerator=None if self.numerator is None else self.numerator.copy(),
            denominator=None if self.denominator is None else self.denominator.copy(),
            code_sums=None if self.code_sums is None else self.code_sums.copy(),
            skipped=list(self.skipped),
            top=None if self.top is None else self.top.copy(),
        )


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """What must agree between a checkpoint and the fit resuming from it."""

    layer: str
    n_groups: int
    batch_size: int
    seed: int
    model_name: str
    top_k: int
    forget_factor: float


def _estimator(n_groups: int, seed: int, forget_factor: float):
    from sklearn.decomposition import MiniBatchNMF

    return MiniBatchNMF(
        n_components=n_groups,
        init="nndsvda",
        batch_size=10**9,  # with partial_fit, the statistics fade by forget_factor per call
        forget_factor=forget_factor,
        random_state=seed,
    )


def _restore(estimator, state: _State) -> None:
    """Put a checkpoint's arrays back into a fresh MiniBatchNMF (its partial_fit state).

    The derived settings come from the estimator's own ``_check_params`` on an array of the
    first batch's shape; ``tests/test_datasets.py`` checks that a resumed fit equals an
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


def _capture(estimator, state: _State) -> None:
    state.components = estimator.components_
    state.numerator = estimator._components_numerator
    state.denominator = estimator._components_denominator
    state.n_steps = int(estimator.n_steps_)


def _partial_fit(estimator, rows: np.ndarray) -> None:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.partial_fit(rows)


def _read_batch(model: VisionModel, layer: str, images: list[np.ndarray]) -> np.ndarray:
    """Activations (B, h, w, C) of a batch (today's seam reads one image per call)."""
    return np.stack([model.activations(image, layer) for image in images])


def _batches(
    sources: Iterable[tuple[str, Any]],
    size: int,
    side: int,
    state: _State,
    on_source: Callable[[], None],
) -> Iterator[tuple[list[str], list[np.ndarray], int]]:
    """Batches of (names, images, sources consumed), skipping (and recording) bad files."""
    names: list[str] = []
    images: list[np.ndarray] = []
    consumed = 0
    for i, (name, source) in enumerate(sources):
        if i < state.sources_done:
            continue  # done before the checkpoint
        consumed += 1
        try:
            images.append(square_image(load_image(source), side))
            names.append(name)
        except (ImageError, OSError, ValueError) as exc:
            state.skipped.append((name, str(exc)))
        on_source()
        if len(images) == size:
            yield names, images, consumed
            names, images, consumed = [], [], 0
    if images or consumed:
        yield names, images, consumed


def _progress_bar(total: int | None, done: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="Fitting groups", unit="image", disable=not enabled)


def _save_checkpoint(path: Path, state: _State, settings: FitSettings) -> None:
    """Write the state to ``path`` atomically (a temporary file in the same folder, renamed)."""
    arrays = {
        "format": np.array(FORMAT + " checkpoint"),
        "settings": np.array([str(v) for v in dataclasses.astuple(settings)], dtype=str),
        "components": state.components,
        "numerator": state.numerator,
        "denominator": state.denominator,
        "n_steps": np.array(state.n_steps),
        "first_rows": np.array(state.first_rows),
        "sources_done": np.array(state.sources_done),
        "n_images": np.array(state.n_images),
        "code_sums": state.code_sums,
        "shape": np.array(state.shape, np.int64),
        "skipped_names": np.array([s[0] for s in state.skipped], dtype=str),
        "skipped_reasons": np.array([s[1] for s in state.skipped], dtype=str),
        **state.top.to_arrays("top_"),
    }
    write_atomically(path, lambda f: np.savez(f, **arrays))


def _load_checkpoint(path: Path, settings: FitSettings) -> _State:
    fields = read_npz(path, "a fit_groups checkpoint")
    if str(fields.get("format")) != FORMAT + " checkpoint":
        raise DatasetError(f"{path} is not a fit_groups checkpoint; remove it or choose another.")
    saved = [str(v) for v in fields["settings"]]
    wanted = [str(v) for v in dataclasses.astuple(settings)]
    if saved != wanted:
        names = [f.name for f in dataclasses.fields(FitSettings)]
        diff = [
            f"{n}: {a} (checkpoint) vs {b}"
            for n, a, b in zip(names, saved, wanted, strict=True)
            if a != b
        ]
        raise DatasetError(
            f"The checkpoint {path} is of another fit ({'; '.join(diff)}). Resume with the "
            "same settings, or delete the checkpoint to start again."
        )
    reasons = fields["skipped_reasons"]
    return _State(
        components=fields["components"],
        numerator=fields["numerator"],
        denominator=fields["denominator"],
        n_steps=int(fields["n_steps"]),
        first_rows=int(fields["first_rows"]),
        sources_done=int(fields["sources_done"]),
        n_images=int(fields["n_images"]),
        code_sums=fields["code_sums"],
        skipped=[(str(n), str(r)) for n, r in zip(fields["skipped_names"], reasons, strict=True)],
        shape=(int(fields["shape"][0]), int(fields["shape"][1])),
        top=TopRegions.from_arrays(fields, "top_", settings.n_groups, settings.top_k * CANDIDATES),
    )


def fit_groups(
    images: Any,
    layer: str = DEFAULT_LAYER,
    n_groups: int = DEFAULT_DATASET_GROUPS,
    *,
    model: Any = None,
    batch_size: int = DEFAULT_BATCH,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
    top_k: int = TOP_K,
    progress: bool = True,
    should_stop: Callable[[], bool] | None = None,
    forget_factor: float = FORGET_FACTOR,
) -> SharedGroups:
    """Find one set of neuron groups shared by many images, streamed in bounded memory.

    Parameters
    ----------
    images : str, path, list or iterable
        A glob pattern, a folder, a list or any iterable of paths / arrays (see
        :func:`image_sources`). Each image is resized to the model's default input size
        (shorter side, then a centre crop; see :func:`square_image`).
    layer : str
        A spatial layer (default mixed4d).
    n_groups : int
        Number of shared groups.
    model : str, VisionModel or keras.Model, optional
        Default InceptionV1.
    batch_size : int
        Images read and fitted together (the memory bound: one batch of activations).
    seed : int
        ``random_state`` of the estimator.
    checkpoint : path, optional
        An ``.npz`` written atomically every ``checkpoint_every`` batches, when stopped and
        at the end; if it exists, the fit resumes from it (give the same ``images`` in the
        same order; a finished fit's checkpoint returns its groups at once).
    top_k : int
        Image regions kept per group (:attr:`SharedGroups.top_regions`).
    progress : bool
        Show a progress bar: images done, images/s, skipped files, and the time left when
        the number of images is known (a pattern, a folder, a list).
    should_stop : callable, optional
        Asked between batches; when true, the checkpoint is written and
        :class:`~neuron_groups.errors.Cancelled` raised. KeyboardInterrupt also writes the
        checkpoint (the state after the last finished batch) before it propagates.
    forget_factor : float
        See :data:`FORGET_FACTOR`.

    Returns
    -------
    SharedGroups

    Raises
    ------
    DatasetError
        No images, or none readable.
    """
    vision_model = _model(model)
    info = vision_model.resolve_layer(layer)
    _check_fit_args(vision_model, info, n_groups, batch_size)
    settings = FitSettings(
        info.name, n_groups, batch_size, seed, vision_model.name, top_k, float(forget_factor)
    )
    path = Path(checkpoint) if checkpoint is not None else None
    resumed = path is not None and path.exists()
    state = _load_checkpoint(path, settings) if resumed else _State()
    state.top = state.top or TopRegions(n_groups, top_k * CANDIDATES)
    estimator = _estimator(n_groups, seed, forget_factor)
    if state.components is not None:
        _restore(estimator, state)
    sources = image_sources(images)
    total = len(sources) if isinstance(sources, list) else None
    stats = FitStats()
    last_good: list[_State] = [state.copy()] if state.components is not None else []
    with _progress_bar(total, state.sources_done, progress) as bar, _one_blas_thread():
        try:
            _fit_loop(
                estimator,
                vision_model,
                info.name,
                sources,
                state,
                settings,
                stats,
                bar,
                path,
                checkpoint_every,
                should_stop,
                last_good,
            )
        except KeyboardInterrupt:
            if path is not None and last_good:  # the state after the last finished batch
                _save_checkpoint(path, last_good[-1], settings)
            raise
        if progress and state.skipped:
            shown = ", ".join(name for name, _ in state.skipped[:5])
            more = f" and {len(state.skipped) - 5} more" if len(state.skipped) > 5 else ""
            message = f"Skipped {len(state.skipped)} unreadable files: {shown}{more}."
            bar.write(message, file=sys.stderr)
    return _finish(state, settings, vision_model, stats, top_k)


def _one_blas_thread():
    """Run numpy's BLAS on one thread while the model's framework keeps its own threads.

    Interleaved with TensorFlow's passes, OpenBLAS's threads and TensorFlow's contend for
    the cores: on 2 cores the fit of 96 images at mixed4d took 2.15 s with 2 BLAS threads
    and 0.27 s with 1 (``benchmarks/bench_datasets.py``).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _fit_loop(
    estimator,
    model: VisionModel,
    layer: str,
    sources: Iterable[tuple[str, Any]],
    state: _State,
    settings: FitSettings,
    stats: FitStats,
    bar,
    path: Path | None,
    every: int,
    should_stop: Callable[[], bool] | None,
    last_good: list[_State],
) -> None:
    batches_since = 0
    start = time.perf_counter()

    def on_source() -> None:
        bar.update()
        if state.skipped:
            bar.set_postfix(skipped=len(state.skipped), refresh=False)

    for names, images, consumed in _batches(
        sources, settings.batch_size, model.default_size, state, on_source
    ):
        if images:
            acts = _read_batch(model, layer, images)  # (B, h, w, C)
            middle = time.perf_counter()
            stats.seconds_reading += middle - start
            _fit_batch(estimator, acts, names, images, state)
            stats.max_rows = max(stats.max_rows, acts.shape[0] * acts.shape[1] * acts.shape[2])
            del acts
            start = time.perf_counter()
            stats.seconds_fitting += start - middle
        state.sources_done += consumed
        good = state.copy()
        if good.components is not None:
            last_good[:] = [good]
        batches_since += 1
        if path is not None and good.components is not None and batches_since >= every:
            _save_checkpoint(path, good, settings)
            batches_since = 0
        if should_stop is not None and should_stop():
            if path is not None and good.components is not None:
                _save_checkpoint(path, good, settings)
            where = f"; resume from {path}" if path is not None else ""
            raise Cancelled(f"fit_groups stopped after {state.sources_done} images{where}.")
    if path is not None and state.components is not None:
        _save_checkpoint(path, state, settings)  # a second call returns at once


def _fit_batch(
    estimator, acts: np.ndarray, names: list[str], images: list[np.ndarray], state: _State
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
    _partial_fit(estimator, rows)
    _capture(estimator, state)
    codes = nnls_codes(rows, estimator.components_).reshape(b, h, w, -1)  # (B, h, w, n)
    state.code_sums = state.code_sums + codes.sum(axis=(0, 1, 2))
    state.top.push(codes, acts, state.n_images, names, images)
    state.n_images += b


def _check_fit_args(model: VisionModel, info, n_groups: Any, batch_size: Any) -> None:
    if not info.spatial:
        raise LayerError(
            f"Layer {info.name!r} has no spatial extent (shape {info.shape}) to split into "
            "groups; choose a convolutional layer such as mixed4d."
        )
    for name, value in (("n_groups", n_groups), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise GroupCountError(f"{name} is a whole number of at least 1; got {value!r}.")
    if n_groups > info.channels:
        raise GroupCountError(
            f"n_groups must be at most the {info.channels} channels of {info.name!r}; "
            f"got {n_groups}."
        )


def _finish(
    state: _State, settings: FitSettings, model: VisionModel, stats: FitStats, top_k: int
) -> SharedGroups:
    if state.n_images == 0:
        if state.skipped:
            shown = "; ".join(f"{n}: {r}" for n, r in state.skipped[:3])
            raise DatasetError(
                f"None of the {len(state.skipped)} images could be read ({shown}). Give image "
                "files PIL can read (PNG, JPEG, ...)."
            )
        raise DatasetError(
            "No images to fit: the pattern, folder or list is empty. Give a glob pattern "
            "that matches files (e.g. 'photos/*.jpg'), a folder of images, or a list of paths."
        )
    order = np.argsort(-state.code_sums, kind="stable")  # most used group first
    channel = state.components[order].astype(np.float32)  # (n, C)
    by_estimator = state.top.final(state.components.astype(np.float32), top_k)
    top = [
        [dataclasses.replace(region, group=new) for region in by_estimator[old]]
        for new, old in enumerate(order)
    ]
    return SharedGroups(
        layer=settings.layer,
        channel=channel,
        model_name=model.name,
        model_identity=model.identity,
        n_images=state.n_images,
        skipped=list(state.skipped),
        top_regions=top,
        shape=state.shape,
        usage=(state.code_sums[order] / max(state.code_sums.sum(), 1e-12)).astype(np.float32),
        seed=settings.seed,
        stats=stats,
    )
