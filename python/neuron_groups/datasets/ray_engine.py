"""The Ray engine of :func:`~neuron_groups.datasets.fit_groups` (``engine="ray"``).

The same fit as the local engine, spread over a Ray cluster with Ray's own primitives:

- **Extraction** is a Ray Data pipeline: a dataset of the image sources (paths, or pickled
  in-memory images), and ``map_batches`` with :class:`_Extractor`, an actor class that loads
  the model once per worker (a GPU each when the cluster has GPUs) and turns each batch of
  sources into squared images (S, S, 3) and activations (h, w, C), with a flag and a reason
  for each source it could not read.
- **The reduction** runs in :class:`_Reducer`, a Ray actor that owns the MiniBatchNMF state.
  It reads the extracted rows in their original order from the pipeline
  (``Dataset.streaming_split(1)``: the rows go from the workers to the actor, never through
  the driver), gathers ``batch_size`` readable images (unreadable ones do not count, as
  locally) and calls :func:`~neuron_groups.datasets.batches.fit_batch`, as the local engine does.
  So the batches, their order and the arithmetic are the local engine's, and both engines
  give the same groups.
- **The driver** asks the reducer for one batch at a time and gets back a count of
  images and the timings, which drive the same progress bar and stop requests as locally
  (``fit._Saving``). The fit's state (the channel factors, the running statistics and the
  top-region candidates with their activation vectors and crops: about 5.6 MB at mixed4d
  with 8 groups) comes to the driver only for a checkpoint, a stop, KeyboardInterrupt and
  the end, not after every batch.

Faults: a worker process that dies is restarted by Ray Data (its actors have
``max_restarts=-1`` and their tasks are retried), so the fit goes on with the same groups.
The reducer holds the only copy of the fit's state since the last checkpoint, so a lost
reducer (or an extraction that Ray Data gives up on) ends the fit with a
:class:`DatasetError` that says which and names the checkpoint to resume from; the first
batch is always checkpointed (``fit._Saving``), so a checkpoint exists from then on.
"""

from __future__ import annotations

import contextlib
import pickle
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from neuron_groups.backends.base import VisionModel
from neuron_groups.datasets.shared import FitStats
from neuron_groups.errors import DatasetError, ModelError

INSTALL = 'pip install "neuron-groups[ray]"'
BUILT_IN_BACKENDS = {
    "neuron_groups.backends.tensorflow.inceptionv1": "tensorflow",
    "neuron_groups.backends.torch.inceptionv1": "torch",
}
"""The modules of the built-in models, which the workers load by name rather than unpickle."""


def import_ray():
    """Return the ``ray`` module (with ``ray.data``), or say how to install it."""
    try:
        import ray
        import ray.data  # the ray[data] extra, not just ray
    except ImportError as exc:
        raise DatasetError(
            f'engine="ray" needs Ray Data ({exc}); install it with `{INSTALL}`, or use '
            'engine="local".'
        ) from exc
    return ray


def fit_on_ray(
    model_arg: Any,
    model: VisionModel,
    sources: Iterable[tuple[str, Any]],
    state,
    settings,
    stats: FitStats,
    bar,
    saving,
    address: str | None,
) -> None:
    """Fit ``sources`` on a Ray cluster, updating ``state`` and ``stats`` after each batch.

    Parameters
    ----------
    model_arg : str, VisionModel, keras.Model or None
        What the user passed as ``model`` (a name is sent to the workers as it is).
    model : VisionModel
        The same model, loaded here (layer names, input size, identity).
    sources : list of (name, source)
        From :func:`~neuron_groups.datasets.image_sources`; the first
        ``state.sources_done`` are skipped (done before the checkpoint).
    state, settings, stats, bar, saving
        The local engine's ``FitState``, ``FitSettings``, :class:`FitStats`, progress bar and
        ``_Saving``: ``saving`` is told of each batch, and ``state`` becomes the reducer's
        when a checkpoint, a stop or the end needs it.
    address : str, optional
        The cluster (``ray.init(address=...)``); None: ``RAY_ADDRESS`` or a new local one.
    """
    ray = import_ray()
    if not isinstance(sources, list):
        raise DatasetError(
            'engine="ray" needs a glob pattern, a folder or a list of images (Ray Data builds '
            f"its dataset from a known list); got a one-pass {type(sources).__name__}. Pass "
            'list(images), write the images to files, or use engine="local".'
        )
    spec = model_spec(model_arg, model)
    remaining = sources[state.sources_done :]
    if not remaining:  # nothing to read, or a finished fit's checkpoint: no cluster needed
        saving.finished(state)
        return
    if not ray.is_initialized():
        ray.init(address=address)
    rows = _extracted_rows(ray, remaining, spec, settings)
    # No CPU slot of its own: per image the reduction costs a fraction of the extraction
    # (fit img/s >> extraction img/s), so the extraction workers keep every CPU.
    reducer = ray.remote(num_cpus=0)(_Reducer).remote(settings, state, stats, rows)
    try:
        _drive(ray, reducer, state, stats, bar, saving)
    finally:
        ray.kill(reducer)


def _drive(ray, reducer, state, stats: FitStats, bar, saving) -> None:
    """Ask the reducer for batch after batch; fetch its state only when it is needed.

    Each batch sends back a count of images and the timings; the fit's state comes from the
    reducer for a checkpoint (after the first batch, then every ``checkpoint_every``), a
    stop, KeyboardInterrupt (after the batch it is fitting) and at the end. A reducer that
    dies becomes a :class:`DatasetError` that names the checkpoint to resume from.
    """
    done = [state.sources_done]  # images of the finished batches

    def ask(ref):
        try:
            return ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            # A RayTaskError is raised inside the live reducer, by the extraction it reads
            # (RayTaskError(ActorDiedError): Ray Data gave up on a worker); else the reducer
            # itself is gone.
            inside = isinstance(exc, ray.exceptions.RayTaskError)
            raise _fit_lost(saving, done[0], exc, extraction=inside) from exc

    def fetched():
        _copy_into(state, ask(reducer.snapshot.remote()))
        return state

    try:
        while True:
            consumed, skipped, measured = ask(reducer.next_batch.remote())
            if consumed == 0:
                break
            done[0] += consumed
            _copy_into(stats, measured)
            bar.update(consumed)
            if skipped:
                bar.set_postfix(skipped=skipped, refresh=False)
            saving.batch_done(fetched, keep_each=False)
    except KeyboardInterrupt:
        with contextlib.suppress(DatasetError):  # a lost reducer: the last checkpoint stays
            saving.keep(fetched())  # what fit_groups checkpoints before the interrupt goes on
        raise
    saving.finished(fetched())


def _fit_lost(saving, images_done: int, exc: Exception, extraction: bool) -> DatasetError:
    """What to tell the user when the reducer actor (which holds the fit) cannot go on."""
    lines = str(exc).strip().splitlines()
    cause = f"{type(exc).__name__}: {lines[0] if lines else 'no message'}"
    if extraction:
        what = (
            f"Reading the images on the Ray workers failed after {images_done} images had "
            f"been fitted ({cause}; Ray Data retries a lost worker, so this one failed for "
            "good)."
        )
    else:
        what = (
            f"The Ray actor that fits the groups (the reducer) died after {images_done} "
            f"images had been fitted ({cause}), and the fit's state in it is lost."
        )
    if saving.path is None:
        todo = (
            "Nothing was saved (checkpoint=None): run the fit again, with a checkpoint "
            "path to make it resumable."
        )
    elif saving.saved_images is None:
        todo = "No batch had finished, so there is no checkpoint: run the same call again."
    else:
        todo = (
            f"The checkpoint {saving.path} holds the fit of the first {saving.saved_images} "
            "images: run the same fit_groups call again to resume from there."
        )
    return DatasetError(f"{what} {todo}")


def _copy_into(target, source) -> None:
    vars(target).update(vars(source))


def model_spec(model_arg: Any, model: VisionModel) -> tuple:
    """How the workers get the model: ``("name", name, backend)`` or ``("pickle", bytes)``.

    A name (or the default) and the built-in InceptionV1 (either backend) are loaded by name
    on each worker; any other model is pickled once here and unpickled on each worker.
    """
    if model_arg is None or isinstance(model_arg, str):
        return ("name", model_arg or "inceptionv1", "tensorflow")
    backend = BUILT_IN_BACKENDS.get(type(model).__module__)
    if backend is not None:
        return ("name", "inceptionv1", backend)
    from ray import cloudpickle

    try:
        return ("pickle", cloudpickle.dumps(model))
    except Exception as exc:  # pickling raises TypeError, PicklingError, AttributeError...
        raise ModelError(
            f'engine="ray" sends the model to each worker by pickling it, and this '
            f"{type(model).__name__} does not pickle ({exc}). Pass a model name "
            '(model="inceptionv1"), or a VisionModel that pickles (e.g. one that rebuilds its '
            'framework objects in __setstate__), or use engine="local".'
        ) from exc


def _load_spec(spec: tuple) -> VisionModel:
    from neuron_groups.models import load_model

    if spec[0] == "name":
        return load_model(spec[1], backend=spec[2])
    from ray import cloudpickle

    return cloudpickle.loads(spec[1])


def _extracted_rows(ray, sources: list[tuple[str, Any]], spec: tuple, settings):
    """The pipeline's output, in source order, as one iterator for the reducer."""
    from ray.data import DataContext

    items = [
        {"name": name, "source": pickle.dumps(source)}  # one column type for paths and arrays
        for name, source in sources
    ]
    gpus = int(ray.cluster_resources().get("GPU", 0))
    cpus = int(ray.cluster_resources().get("CPU", 1))
    per_worker = {"num_gpus": 1} if gpus else {"num_cpus": 1}
    context = DataContext.get_current()
    before = (context.execution_options.preserve_order, context.enable_progress_bars)
    # A dataset copies the context when it is built: the order and the quiet progress bars
    # are this dataset's only (our tqdm bar counts the images).
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    try:
        dataset = ray.data.from_items(items).map_batches(
            _Extractor,
            fn_constructor_args=(spec, settings.layer),
            batch_size=settings.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, gpus or cpus)),
            **per_worker,
        )
        (rows,) = dataset.streaming_split(1)
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = before
    return rows


class _Extractor:
    """A Ray Data actor: loads the model once, then reads batches of sources through it."""

    def __init__(self, spec: tuple, layer: str):
        self.model = _load_spec(spec)
        info = self.model.resolve_layer(layer)
        self.layer = info.name
        self.side = self.model.default_size
        self.blank_acts = np.zeros(info.shape, np.float32)  # (h, w, C), for unread rows
        self.blank_image = np.zeros((self.side, self.side, 3), np.float32)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from neuron_groups.datasets.batches import load_square, read_batch

        loaded = [load_square(pickle.loads(source), self.side) for source in batch["source"]]
        good = [image for image, _ in loaded if image is not None]
        acts = iter(read_batch(self.model, self.layer, good) if good else ())  # (B', h, w, C)
        return {
            "name": batch["name"],
            "ok": np.array([image is not None for image, _ in loaded]),
            "reason": np.array([reason for _, reason in loaded], dtype=object),
            "image": np.stack([self.blank_image if i is None else i for i, _ in loaded]),
            "acts": np.stack([self.blank_acts if i is None else next(acts) for i, _ in loaded]),
        }


class _Reducer:
    """A Ray actor that owns the fit: it consumes the extracted rows one batch at a time."""

    def __init__(self, settings, state, stats: FitStats, rows):
        from neuron_groups.datasets.batches import new_estimator, restore_estimator

        self.settings = settings
        self.state = state
        self.stats = stats
        self.estimator = new_estimator(settings.n_groups, settings.seed, settings.forget_factor)
        if state.components is not None:
            restore_estimator(self.estimator, state)
        self.rows = iter(rows.iter_rows())

    def next_batch(self) -> tuple[int, int, FitStats]:
        """Fit the next ``batch_size`` readable images.

        Returns (sources consumed, files skipped so far, stats): a few bytes, not the state.
        0 sources consumed: the dataset is done.
        """
        from neuron_groups.datasets.batches import fit_batch
        from neuron_groups.factorization import one_blas_thread

        start = time.perf_counter()
        names, images, acts, consumed = [], [], [], 0
        for row in self.rows:
            consumed += 1
            if row["ok"]:
                names.append(str(row["name"]))
                images.append(row["image"])
                acts.append(row["acts"])
            else:
                self.state.skipped.append((str(row["name"]), str(row["reason"])))
            if len(images) == self.settings.batch_size:
                break
        middle = time.perf_counter()
        self.stats.seconds_reading += middle - start
        if images:
            batch = np.stack(acts)  # (B, h, w, C)
            with one_blas_thread():
                fit_batch(self.estimator, batch, names, images, self.state)
            self.stats.max_rows = max(self.stats.max_rows, int(np.prod(batch.shape[:3])))
        self.state.sources_done += consumed
        self.stats.seconds_fitting += time.perf_counter() - middle
        return consumed, len(self.state.skipped), self.stats

    def snapshot(self):
        """The fit's state after the last batch (channel factors, statistics, regions)."""
        return self.state
