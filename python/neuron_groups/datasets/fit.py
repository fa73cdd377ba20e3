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

Engines: ``engine="local"`` (default) runs the batches here; ``engine="ray"`` reads them on a
Ray cluster (``ray_engine.py``). Both run the same per-batch code (``batches.py``) in the
same order, and this module's checkpoints, progress bar and stop requests (``_Saving``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from neuron_groups.backends.base import VisionModel
from neuron_groups.datasets.batches import (
    EstimatorState,
    FitState,
    fit_batch,
    load_square,
    new_estimator,
    read_batch,
    restore_estimator,
)
from neuron_groups.datasets.regions import TopRegions
from neuron_groups.datasets.shared import FORMAT, FitStats, SharedGroups
from neuron_groups.datasets.sources import image_sources
from neuron_groups.errors import (
    Cancelled,
    DatasetError,
    GroupCountError,
    LayerError,
    did_you_mean,
    plural,
)
from neuron_groups.factorization import one_blas_thread
from neuron_groups.files import read_npz, write_atomically
from neuron_groups.models import load_model
from neuron_groups.quality import matched_cosines
from neuron_groups.reading import DEFAULT_LAYER

DEFAULT_DATASET_GROUPS = 8
ENGINES = ("local", "ray")
"""Where :func:`fit_groups` runs: in this process, or on a Ray cluster (``ray_engine.py``)."""
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


def _batches(
    sources: Iterable[tuple[str, Any]],
    size: int,
    side: int,
    state: FitState,
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
        image, reason = load_square(source, side)
        if image is None:
            state.skipped.append((name, reason))
        else:
            images.append(image)
            names.append(name)
        on_source()
        if len(images) == size:
            yield names, images, consumed
            names, images, consumed = [], [], 0
    if images or consumed:
        yield names, images, consumed


def _progress_bar(total: int | None, done: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="Fitting groups", unit="image", disable=not enabled)


def _save_checkpoint(path: Path, state: FitState, settings: FitSettings) -> None:
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
        "n_batches": np.array(state.n_batches),
        "sum_squares": np.array(state.sum_squares, np.float64),
        "residual_squares": np.array(state.residual_squares, np.float64),
    }
    for i, half in enumerate(state.halves):
        if half.components is not None:
            arrays.update(_half_arrays(half, f"half{i}_"))
    write_atomically(path, lambda f: np.savez(f, **arrays))


def _half_arrays(half: EstimatorState, prefix: str) -> dict[str, np.ndarray]:
    return {
        f"{prefix}components": half.components,
        f"{prefix}numerator": half.numerator,
        f"{prefix}denominator": half.denominator,
        f"{prefix}n_steps": np.array(half.n_steps),
        f"{prefix}first_rows": np.array(half.first_rows),
    }


def _saved_half(fields: dict[str, np.ndarray], prefix: str) -> EstimatorState:
    """A half's state from a checkpoint; checkpoints from before the halves start it anew."""
    if f"{prefix}components" not in fields:
        return EstimatorState()
    return EstimatorState(
        components=fields[f"{prefix}components"],
        numerator=fields[f"{prefix}numerator"],
        denominator=fields[f"{prefix}denominator"],
        n_steps=int(fields[f"{prefix}n_steps"]),
        first_rows=int(fields[f"{prefix}first_rows"]),
    )


CHECKPOINT_KEYS = (
    "settings",
    "components",
    "numerator",
    "denominator",
    "n_steps",
    "first_rows",
    "sources_done",
    "n_images",
    "code_sums",
    "shape",
    "skipped_names",
    "skipped_reasons",
)

RESTART = (
    "A checkpoint cannot be repaired: delete it, and the fit starts again from the first image."
)


def _load_checkpoint(path: Path, settings: FitSettings) -> FitState:
    fields = read_npz(path, "a fit_groups checkpoint", RESTART)
    if str(fields.get("format")) != FORMAT + " checkpoint":
        raise DatasetError(f"{path} is not a fit_groups checkpoint; remove it or choose another.")
    missing = [key for key in CHECKPOINT_KEYS if key not in fields]
    if missing:
        raise DatasetError(
            f"The checkpoint {path} has no {missing} (another version wrote it?). {RESTART}"
        )
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
    return FitState(
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
        n_batches=int(fields.get("n_batches", 0)),
        halves=[_saved_half(fields, "half0_"), _saved_half(fields, "half1_")],
        sum_squares=float(fields.get("sum_squares", 0.0)),
        residual_squares=float(fields.get("residual_squares", 0.0)),
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
    engine: str = "local",
    ray_address: str | None = None,
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
        An ``.npz`` written atomically after the first batch, then every
        ``checkpoint_every`` batches, when stopped and at the end; if it exists, the fit
        resumes from it (give the same ``images`` in the same order; a finished fit's
        checkpoint returns its groups at once). A fit killed at any moment (even SIGKILL)
        resumes from it to the groups of an uninterrupted fit. A truncated or corrupt
        checkpoint is refused with a :class:`~neuron_groups.errors.NeuronGroupsError`.
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
    engine : {"local", "ray"}
        ``"local"``: read and fit in this process. ``"ray"``: read the images through the
        model as Ray Data batches on the workers of a Ray cluster (one model per worker, a
        GPU each when the cluster has GPUs) and fit in a Ray actor, in the same batches and
        order as locally, so that both give the same groups (the ``ray`` extra;
        :mod:`~neuron_groups.datasets.ray_engine`). It needs a pattern, a folder or a list
        of images (not a one-pass iterable), and a model given by name or one that pickles.
    ray_address : str, optional
        With ``engine="ray"``: the cluster to use (``ray.init(address=...)``); by default
        the ``RAY_ADDRESS`` environment variable, else a local cluster is started. Ignored
        when this process is already connected to Ray.

    Returns
    -------
    SharedGroups

    Raises
    ------
    DatasetError
        No images (a folder that does not exist or holds no image files, a pattern that
        matches nothing, an empty list: refused before the model is loaded), or none
        readable; an unknown engine; Ray missing for ``engine="ray"``; the Ray reducer lost
        (the message says which checkpoint to resume from).
    """
    engine = _check_engine(engine)
    sources = image_sources(images)  # a missing or empty input is refused before any model
    vision_model = load_model(model)
    info = vision_model.resolve_layer(layer)
    _check_fit_args(vision_model, info, n_groups, batch_size)
    settings = FitSettings(
        info.name, n_groups, batch_size, seed, vision_model.name, top_k, float(forget_factor)
    )
    path = Path(checkpoint) if checkpoint is not None else None
    resumed = path is not None and path.exists()
    state = _load_checkpoint(path, settings) if resumed else FitState()
    state.top = state.top or TopRegions(n_groups, top_k * CANDIDATES)
    estimator = new_estimator(n_groups, seed, forget_factor)
    if state.components is not None:
        restore_estimator(estimator, state)
    total = len(sources) if isinstance(sources, list) else None
    stats = FitStats()
    last_good: list[FitState] = [state.copy()] if state.components is not None else []
    saving = _Saving(path, settings, checkpoint_every, should_stop, last_good)
    saving.saved_images = state.sources_done if resumed else None
    with _progress_bar(total, state.sources_done, progress) as bar, one_blas_thread():
        try:
            if engine == "ray":
                from neuron_groups.datasets.ray_engine import fit_on_ray

                fit_on_ray(
                    model, vision_model, sources, state, settings, stats, bar, saving, ray_address
                )
            else:
                _fit_loop(
                    estimator, vision_model, info.name, sources, state, settings, stats, bar, saving
                )
        except KeyboardInterrupt:
            if path is not None and last_good:  # the state after the last finished batch
                _save_checkpoint(path, last_good[-1], settings)
            raise
        if progress and state.skipped:
            shown = ", ".join(name for name, _ in state.skipped[:5])
            more = f" and {len(state.skipped) - 5} more" if len(state.skipped) > 5 else ""
            message = f"Skipped {plural(len(state.skipped), 'unreadable file')}: {shown}{more}."
            bar.write(message, file=sys.stderr)
    return _finish(state, settings, vision_model, stats, top_k)


def _check_engine(engine: Any) -> str:
    if engine not in ENGINES:
        hint = did_you_mean(str(engine), ENGINES)
        raise DatasetError(f"Unknown engine {engine!r}.{hint} Engines: {', '.join(ENGINES)}.")
    return engine


@dataclasses.dataclass
class _Saving:
    """What happens after each batch, whatever the engine: checkpoints, the stop request."""

    path: Path | None
    settings: FitSettings
    every: int
    should_stop: Callable[[], bool] | None
    last_good: list[FitState]
    batches_since: int = 0
    saved_images: int | None = None
    """The images the checkpoint on disk holds (None: no checkpoint written or resumed)."""

    def batch_done(self, current: Callable[[], FitState], keep_each: bool = True) -> None:
        """After a finished batch: keep its state, checkpoint it every ``every`` batches.

        The first batch that gives the fit a state is checkpointed at once, so that a fit
        killed at any moment after it (SIGKILL, a lost Ray reducer) has a checkpoint.
        ``current()`` returns the state after the batch. With ``keep_each`` it is copied
        after every batch, for KeyboardInterrupt's checkpoint (the local engine: a copy in
        memory); without, only when a checkpoint is due or a stop asked for (the Ray engine,
        whose state lives in its reducer and is fetched from it then).

        Raises :class:`~neuron_groups.errors.Cancelled` (after a checkpoint) when asked to stop.
        """
        self.batches_since += 1
        due = self.path is not None and (
            self.batches_since >= self.every or self.saved_images is None
        )
        stop = self.should_stop is not None and self.should_stop()
        if not (keep_each or due or stop):
            return
        good = self.keep(current())
        if (due or stop) and self.path is not None and good.components is not None:
            self.save(good)
        if stop:
            where = f"; resume from {self.path}" if self.path is not None else ""
            raise Cancelled(f"fit_groups stopped after {good.sources_done} images{where}.")

    def keep(self, state: FitState) -> FitState:
        """Keep a copy of ``state`` (after a finished batch) for KeyboardInterrupt; return it."""
        good = state.copy()
        if good.components is not None:
            self.last_good[:] = [good]
        return good

    def save(self, state: FitState) -> None:
        """Write the checkpoint (atomically) and remember what it holds."""
        assert self.path is not None
        _save_checkpoint(self.path, state, self.settings)
        self.batches_since = 0
        self.saved_images = state.sources_done

    def finished(self, state: FitState) -> None:
        if self.path is not None and state.components is not None:
            self.save(state)  # a second call returns at once


def _fit_loop(
    estimator,
    model: VisionModel,
    layer: str,
    sources: Iterable[tuple[str, Any]],
    state: FitState,
    settings: FitSettings,
    stats: FitStats,
    bar,
    saving: _Saving,
) -> None:
    start = time.perf_counter()

    def on_source() -> None:
        bar.update()
        if state.skipped:
            bar.set_postfix(skipped=len(state.skipped), refresh=False)

    for names, images, consumed in _batches(
        sources, settings.batch_size, model.default_size, state, on_source
    ):
        if images:
            acts = read_batch(model, layer, images)  # (B, h, w, C)
            middle = time.perf_counter()
            stats.seconds_reading += middle - start
            fit_batch(estimator, acts, names, images, state)
            stats.max_rows = max(stats.max_rows, acts.shape[0] * acts.shape[1] * acts.shape[2])
            del acts
            start = time.perf_counter()
            stats.seconds_fitting += start - middle
        state.sources_done += consumed
        saving.batch_done(lambda: state)
    saving.finished(state)


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
    state: FitState, settings: FitSettings, model: VisionModel, stats: FitStats, top_k: int
) -> SharedGroups:
    if state.n_images == 0:
        if state.skipped:
            shown = "; ".join(f"{n}: {r}" for n, r in state.skipped[:3])
            count = len(state.skipped)
            which = "The one image could not" if count == 1 else f"None of the {count} images could"
            raise DatasetError(
                f"{which} be read ({shown}). Give image files PIL can read (PNG, JPEG, ...)."
            )
        raise DatasetError(  # a pattern, folder or list is refused sooner (image_sources)
            "No images to fit: the iterable gave none. Give a glob pattern that matches "
            "files (e.g. 'photos/*.jpg'), a folder of images, or a list of paths."
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
        explained_variance=dataset_explained_variance(state),
        stability=split_half_stability(channel, state),
    )


def dataset_explained_variance(state: FitState) -> float:
    """``1 - sum |a - R|^2 / sum |a|^2`` over every image fitted.

    Each batch's ``R`` is by the factors just updated with it: the images are not kept, so
    this is the fit's running measure, not a second pass.
    """
    if state.sum_squares == 0.0:
        return float("nan")
    return 1.0 - state.residual_squares / state.sum_squares


def split_half_stability(channel: np.ndarray, state: FitState) -> np.ndarray | None:
    """Each group's mean matched cosine with the fits on the even and the odd batches: (n,).

    None when a half saw no batch (one batch in all).
    """
    if any(half.components is None for half in state.halves):
        return None
    cosines = [matched_cosines(channel, half.components) for half in state.halves]
    return np.mean(cosines, axis=0).astype(np.float32)
