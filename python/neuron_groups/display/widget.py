"""GroupWidget: the interactive neuron-groups view for notebooks, built on anywidget.

The kernel side computes (activations, groups, attributions, icons) and keeps the front-end
state in the traits of :class:`~neuron_groups.display.state.ViewState`; the front end
(``js/widget.js``) draws it and sends back what the user chose (``selected_group``,
``selected_layer``, ``n_groups``, ``layer_groups``, ``classes``) and actions (messages
``{"type": "stop"}``, and ``{"type": "image", "name": ...}`` or ``{"type": "image",
"filename": ...}`` with the file's bytes as one buffer). Icons are optimized in a background
thread, so the kernel stays usable.

Given a list of layers, the widget shows groups at each and the flows between neighbouring
layers (:mod:`neuron_groups.layers`); the usual fields then describe the last layer, and
``earlier_layers``, ``flows`` and ``layer_groups`` the rest.

Given shared groups (``groups=``, :class:`~neuron_groups.datasets.SharedGroups`), the image is
seen through them (:meth:`SharedGroups.analyze`: its maps are the NNLS projection of its
activations on the fixed channel factors); their count is fixed (the groups control shows
it, not editable), colours go by group index and icons by the shared directions, so a group
looks the same on every image; a new image is projected on the same groups.

A choice that cannot be honoured (a group count out of range, an unknown class or layer, a
failed computation) is refused: the trait goes back to its last valid value, here and in the
front end, and ``error`` says what was refused and why.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

import neuron_groups.display.state as view
from neuron_groups.backends.base import IconHooks, IconSettings, VisionModel
from neuron_groups.display.assets import CSS, ESM, compact_text
from neuron_groups.display.fallback import static_fallback, static_layers_fallback, with_fallback
from neuron_groups.display.hosts import prepare_host
from neuron_groups.display.state import ViewState, hue_colors, stable_hues
from neuron_groups.errors import (
    Cancelled,
    ClassNameError,
    GroupCountError,
    ImageError,
    LayerError,
    NeuronGroupsError,
)
from neuron_groups.images import load_image
from neuron_groups.layers import MultiLayerReading, MultiLayerResult, check_counts, check_layers
from neuron_groups.models import is_built
from neuron_groups.pipeline import DEFAULT_GROUPS, DEFAULT_LAYER, LayerReading, add_icons
from neuron_groups.result import NeuronGroupsResult

MAX_GROUP_OPTIONS = 16
"""The groups control offers 1 .. min(this, positions, channels)."""


def _await_loading(widget: Any) -> None:
    """Block until the widget's background first load (if any) has ended.

    Not from the loading thread itself, which is what sets the results.
    """
    loading = getattr(widget, "_loading", None)
    if loading is not None and loading is not threading.current_thread():
        loading.join()


class _LoadedInstance(traitlets.Instance):
    """An Instance trait whose reading waits for the first load (so ``w.result`` is ready)."""

    def get(self, obj: Any, cls: Any = None) -> Any:
        _await_loading(obj)
        return super().get(obj, cls)


class _IconJob:
    """One background icon optimization, cancellable between steps.

    It renders ``current``, then each result of ``queue`` in turn (the widget may change the
    queue while it runs, under its lock); ``finished`` is set once the queue ran dry.
    """

    def __init__(self, results: list[NeuronGroupsResult]):
        self.current = results[0]
        self.queue = list(results[1:])
        self.done = 0
        self.finished = False
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None


def _class_list(classes: Any) -> list[str | int]:
    """The ``classes`` trait of what was asked: ints stay ints, anything else is a name."""
    if classes is None or isinstance(classes, (str, int, np.integer)):
        return []  # a single class, not a list, is refused by the reading with its message
    return [int(c) if isinstance(c, (int, np.integer)) else str(c) for c in classes]


def _message(exc: Exception) -> str:
    if isinstance(exc, NeuronGroupsError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"  # a failed computation: say what failed


class GroupWidget(anywidget.AnyWidget, ViewState):
    """The neuron groups of an image at a layer, or at several linked by flows, interactive.

    Parameters
    ----------
    img : path, URL, example name, PIL image or array
        The image (see :func:`neuron_groups.load_image`).
    layer : str or list of str
        Layer to factorize (default ``"mixed4d"``, or the layer of ``groups``); or 2..4
        layers, input to output, to see the groups at each and the flows between
        neighbouring layers.
    n_groups : int or list of int
        Number of groups (default 6); with several layers, one number for all or one per
        layer.
    classes : list of str or int, optional
        Classes for the attribution table; default: the top 5 predicted.
    model : str, VisionModel, keras.Model or torch.nn.Module, optional
        Default: InceptionV1 (see :func:`~neuron_groups.load_model`).
    method : str or sklearn estimator
        Factorization (default NMF).
    icons : bool
        Optimize each group's icon in the background (default True); with several layers,
        the last layer's first.
    icon_settings : IconSettings, optional
        Feature-visualization settings (Lucid's defaults).
    icon_cache : bool or path
        Icon disk cache (True: the user cache; False: none).
    snapshot_every : int
        Send the icons' current state every this many steps (0: only the final icons).
    title : str
        Caption shown above the figure.
    groups : SharedGroups, optional
        Groups fitted on many images (:func:`~neuron_groups.fit_groups`): the image is seen
        through them. ``layer`` must be theirs (default: theirs) and ``model`` the one they
        were fitted with; ``n_groups`` and ``method`` do not apply. One layer only.

    Notes
    -----
    Errors (an unknown layer or class, a failed computation, an unreadable image) are shown
    in the widget as a message and the widget stays usable. ``w.result`` is the current
    :class:`~neuron_groups.NeuronGroupsResult` (with several layers, the last layer's) and
    ``w.multi_result`` the current :class:`~neuron_groups.MultiLayerResult` (None with one
    layer). The pinned group is ``(w.selected_layer, w.selected_group)`` (``""`` names the
    last layer); :attr:`pinned` reads it and :meth:`select` sets it. The synced traits are
    those of :class:`~neuron_groups.display.state.ViewState`.

    The first widget of a process whose model is a name (InceptionV1 by default) returns at
    once and loads the model in the background: the widget shows its frame with
    ``status == "loading"``, and reading ``w.result`` or ``w.multi_result`` waits for that
    load, so the next cell sees the groups; ``w.wait()`` waits for the icons too.
    """

    _esm = compact_text(ESM)
    _css = compact_text(CSS)

    result = _LoadedInstance(
        NeuronGroupsResult,
        allow_none=True,
        help="The current result (Python only; reading it waits for the first load). "
        "Default: None.",
    )
    multi_result = _LoadedInstance(
        MultiLayerResult,
        allow_none=True,
        help="The current result across layers (Python only; None with one layer). Default: None.",
    )

    def __init__(
        self,
        img: Any = None,
        layer: str | list[str] | None = None,
        n_groups: int | list[int] | None = None,
        classes: list[str | int] | None = None,
        model: Any = None,
        *,
        method: Any = "nmf",
        seed: int | None = 0,
        icons: bool = True,
        icon_settings: IconSettings | None = None,
        icon_cache: Any = True,
        snapshot_every: int = 16,
        title: str = "",
        groups: Any = None,
        **kwargs: Any,
    ):
        super().__init__(title=title, **kwargs)
        prepare_host()  # what Colab or VS Code need first, once per process; never raises
        self._method, self._seed = method, seed
        self._want_icons = icons
        self._icon_settings = icon_settings or IconSettings()
        self._icon_cache = icon_cache
        self._snapshot_every = snapshot_every
        self._model: VisionModel | None = None
        self._reading: LayerReading | None = None
        self._results: dict[int, NeuronGroupsResult] = {}
        self._hues: dict[int, list[float]] = {}
        self._multi: MultiLayerReading | None = None
        self._layer_hues: dict[str, dict[int, list[float]]] = {}  # layers before the last
        self._shown_at: dict[str, NeuronGroupsResult] = {}  # last shown result per such layer
        self._valid_classes: list[str | int] = []  # the classes of the table shown
        self._snapshot: tuple[NeuronGroupsResult, np.ndarray] | None = None
        self._job: _IconJob | None = None
        self._lock = threading.RLock()
        self._quiet = False  # set while the kernel itself updates user traits
        self._shown_image: np.ndarray | None = None
        self._groups = groups
        self._loading: threading.Thread | None = None
        self.on_msg(self._on_message)
        if img is None:
            return  # e.g. from_result
        if is_built(model):
            self._start(img, layer, model, classes, n_groups)
            return
        # The model's first load in this process takes seconds (the framework's import, the
        # weights and their hash check): show the frame and a loading state at once instead.
        self.status = "loading"
        self._loading = threading.Thread(
            target=self._start,
            args=(img, layer, model, classes, n_groups),
            name="neuron-groups-load",
            daemon=True,
        )
        self._loading.start()

    def _start(self, img: Any, layer: Any, model: Any, classes: Any, n_groups: Any) -> None:
        """Read the image and show its groups; a failure is shown in the widget."""
        try:
            if self._groups is not None:
                self._load_shared(img, layer, model, classes, n_groups)
                return
            layer = DEFAULT_LAYER if layer is None else layer
            n_groups = DEFAULT_GROUPS if n_groups is None else n_groups
            if not isinstance(layer, str):
                self._load_multi(img, layer, model, classes, n_groups)
                return
            self._set_quietly(n_groups=int(n_groups), classes=_class_list(classes))
            self._load(img, layer, model, classes, int(n_groups))
        except Exception as exc:
            self.error, self.status = _message(exc), "error"

    # -- construction helpers ----------------------------------------------------------
    @classmethod
    def from_result(
        cls, result: NeuronGroupsResult | MultiLayerResult, **kwargs: Any
    ) -> GroupWidget:
        """Show a saved or computed result, of one layer or several (no recomputation)."""
        widget = cls(icons=False, **kwargs)
        if isinstance(result, MultiLayerResult):
            widget._show_multi(result)
            widget._set_quietly(layer_groups=result.n_groups)
        else:
            widget._show_result(result)
        widget.status = "ready"
        return widget

    def _start_model(self, model: Any) -> None:
        from neuron_groups.data import example_names
        from neuron_groups.models import load_model

        self._model = load_model("inceptionv1" if model is None else model)
        self.status = "computing"
        names = self._model.class_names
        self.class_options = list(names) if names is not None else []
        self.model_name = self._model.name
        self.image_options = example_names()

    def _load(self, img: Any, layer: str, model: Any, classes: Any, n_groups: int) -> None:
        self._start_model(model)
        self._reading = self._read(load_image(img), layer, classes)
        self.n_groups_options = self._group_options(self._reading)
        self._set_quietly(layer=self._reading.layer)
        self._analyze(n_groups, classes)

    def _load_shared(self, img: Any, layer: Any, model: Any, classes: Any, n_groups: Any) -> None:
        """Start the view of an image through shared groups (after checking everything)."""
        groups = self._groups
        if layer is not None and not isinstance(layer, str):
            raise LayerError(
                f"Shared groups belong to one layer ({groups.layer!r}); several layers "
                f"(layer={list(layer)!r}) cannot be shown with groups=. Use "
                f"layer={groups.layer!r}, or drop groups= to find groups at each layer."
            )
        if n_groups is not None and n_groups != groups.n_groups:
            raise GroupCountError(
                f"n_groups={n_groups!r} does not apply with groups=: the shared groups are "
                f"{groups.n_groups}. Leave n_groups out."
            )
        self._set_quietly(n_groups=groups.n_groups, classes=_class_list(classes))
        self._start_model(model)
        assert self._model is not None
        name = groups.check_model(self._model, groups.layer if layer is None else layer)
        self._reading = self._read(load_image(img), name, classes)
        self.n_groups_options = self._group_options(self._reading)
        self._set_quietly(layer=name)
        self._analyze(groups.n_groups, classes)

    def _load_multi(self, img: Any, layers: Any, model: Any, classes: Any, n_groups: Any) -> None:
        self._set_quietly(classes=_class_list(classes))
        self._start_model(model)
        assert self._model is not None
        names = check_layers(self._model, layers)  # before the image is read
        counts = check_counts(n_groups, names)
        self._set_quietly(n_groups=counts[-1], layer_groups=counts, layer=names[-1])
        self._multi = self._read_multi(load_image(img), names, classes)
        self.n_groups_options = self._group_options(self._multi.last)
        self._analyze_multi(counts, classes)

    def _read(self, image: np.ndarray, layer: str, classes: Any) -> LayerReading:
        """Read the image at a layer, with the gradients of the classes in the same pass."""
        assert self._model is not None
        try:
            return LayerReading(self._model, image, layer, classes)
        except ClassNameError:  # read anyway, so that the classes can be fixed afterwards
            return LayerReading(self._model, image, layer)

    def _read_multi(self, image: np.ndarray, layers: list[str], classes: Any) -> MultiLayerReading:
        """Read the image's last layer with the classes (the earlier ones come with the flows)."""
        assert self._model is not None
        try:
            return MultiLayerReading(self._model, image, layers, classes)
        except ClassNameError:  # as in _read
            return MultiLayerReading(self._model, image, layers)

    def _group_options(self, reading: LayerReading) -> list[int]:
        if self._groups is not None:
            return [self._groups.n_groups]  # shared groups: their count, fixed
        return view.group_options(reading.acts.shape, MAX_GROUP_OPTIONS)

    def _analyze(self, n_groups: int, classes: Any) -> None:
        """Show ``n_groups`` groups with these classes (computed, or from the cache)."""
        assert self._reading is not None
        reading = self._reading
        result = self._results.get(n_groups)
        if result is None:
            result = self._analysis(reading, n_groups, classes)
            self._results[n_groups] = result
        elif list(result.class_indices) != reading.resolve(classes):
            reading.attribute(result, classes)
        asked = _class_list(classes)
        self._valid_classes = reading.unique_classes(asked) if asked else []
        self._show_result(result)
        self._set_quietly(classes=list(self._valid_classes))  # classes[i] is row i
        self._schedule_icons()

    def _analysis(self, reading: LayerReading, n_groups: int, classes: Any) -> NeuronGroupsResult:
        """The groups of a reading: found for it, or the shared ones projected on it."""
        if self._groups is not None:
            return self._groups.analyze(reading, classes)
        return reading.analyze(n_groups, classes, self._method, self._seed)

    def _analyze_multi(self, counts: list[int], classes: Any) -> None:
        """Show these group counts (one per layer) and classes; only what changed is computed."""
        assert self._multi is not None
        reading = self._multi
        shown = reading.analyze(counts, classes, self._method, self._seed)
        asked = _class_list(classes)
        self._valid_classes = reading.last.unique_classes(asked) if asked else []
        self._show_multi(shown)
        self._set_quietly(classes=list(self._valid_classes), layer_groups=shown.n_groups)
        self._schedule_icons()

    def _show_result(self, result: NeuronGroupsResult) -> None:
        n = result.n_groups
        if n not in self._hues and self._groups is not None:
            self._hues[n] = view.even_hues(n)  # by group index: the same on every image
        if n not in self._hues:
            previous = self.result
            self._hues[n] = stable_hues(
                result.channel,
                previous.channel if previous is not None else None,
                self._hues.get(previous.n_groups) if previous is not None else None,
            )
        values = {
            **view.group_state(result, hue_colors(self._hues[n]), self._snapshot_of(result)),
            "predictions": view.predictions(result),
            "layer": result.layer,
            "model_name": result.model_name,
        }
        if result.image is not self._shown_image:  # encode the PNG only when it changes
            values["image"] = view.image_png(result.image)
            self._shown_image = result.image
        with self.hold_sync():
            self._set_quietly(result=result, **values)
            self._drop_stale_pin()
            self.error = ""
        if not self.n_groups_options:
            self.n_groups_options = [n]

    def _show_multi(self, shown: MultiLayerResult) -> None:
        with self.hold_sync():
            self.multi_result = shown
            self._show_result(shown.last)
            flows = [view.flow_state(a, b, values) for (a, b), values in shown.flows.items()]
            self._set_quietly(earlier_layers=self._earlier_entries(shown), flows=flows)
            self._drop_stale_pin()

    def _snapshot_of(self, result: NeuronGroupsResult) -> np.ndarray | None:
        """The icons being optimized for ``result``, while it has none of its own."""
        if result.icons is None and self._snapshot and self._snapshot[0] is result:
            return self._snapshot[1]
        return None

    def _earlier_entries(self, shown: MultiLayerResult) -> list[dict[str, Any]]:
        """The ``earlier_layers`` field: every layer before the last, input to output."""
        entries = []
        for layer in shown.layers[:-1]:
            result = shown.results[layer]
            entries.append(
                view.earlier_layer_state(
                    result,
                    hue_colors(self._earlier_hues(result)),
                    self._layer_options(layer),
                    self._snapshot_of(result),
                )
            )
        return entries

    def _earlier_hues(self, result: NeuronGroupsResult) -> list[float]:
        """Hues of a layer before the last, kept stable across its group counts."""
        hues = self._layer_hues.setdefault(result.layer, {})
        if result.n_groups not in hues:
            before = self._shown_at.get(result.layer)
            hues[result.n_groups] = stable_hues(
                result.channel,
                before.channel if before is not None else None,
                hues.get(before.n_groups) if before is not None else None,
            )
        self._shown_at[result.layer] = result
        return hues[result.n_groups]

    def _layer_options(self, layer: str) -> list[int]:
        """The counts offered at ``layer``: 1..limit, or only the one shown without a reading."""
        if self._multi is None:
            assert self.multi_result is not None
            return [self.multi_result.results[layer].n_groups]
        if layer == self._multi.layers[-1]:
            return list(self.n_groups_options)
        return view.group_options(self._multi.acts[layer].shape, MAX_GROUP_OPTIONS)

    def _layer_names(self) -> list[str]:
        """The layers shown, input to output."""
        if self.multi_result is not None:
            return list(self.multi_result.layers)
        return [self.result.layer] if self.result is not None else [self.layer]

    def _count_at(self, layer: str) -> int:
        """Number of groups shown at ``layer`` ("" the last layer; 0 if it is not shown)."""
        if self.multi_result is not None and layer in self.multi_result.results:
            return self.multi_result.results[layer].n_groups
        if layer in ("", self.layer) or (self.result is not None and layer == self.result.layer):
            return self.result.n_groups if self.result is not None else self.n_groups
        return 0

    def _drop_stale_pin(self) -> None:
        if self.selected_group >= self._count_at(self.selected_layer):
            self.selected_group = -1  # the pinned group no longer exists

    # -- icons in the background -------------------------------------------------------
    def _shown_results(self) -> list[NeuronGroupsResult]:
        """The results on screen, in the order their icons are made: the last layer first."""
        if self.multi_result is not None:
            return [
                self.multi_result.results[layer] for layer in reversed(self.multi_result.layers)
            ]
        return [self.result] if self.result is not None else []

    def _is_shown(self, result: NeuronGroupsResult) -> bool:
        return any(result is shown for shown in self._shown_results())

    def _schedule_icons(self) -> None:
        """Make the icons the view lacks: keep the running job if it works on a shown result."""
        shown = self._shown_results()
        needed = [result for result in shown if result.icons is None]
        with self._lock:
            job = self._job
            keep = (
                job is not None
                and not job.finished
                and not job.stop.is_set()
                and any(job.current is result for result in shown)
            )
            if keep:
                assert job is not None
                job.queue = [result for result in needed if result is not job.current]
        if keep:
            self.status = "optimizing"
        elif self._want_icons and needed:
            self._start_icons(needed)
        else:
            self.status = "ready"

    def _start_icons(self, results: list[NeuronGroupsResult]) -> None:
        self._cancel_icons()
        job = _IconJob(results)
        job.thread = threading.Thread(
            target=self._icons_worker, args=(job,), name="neuron-groups-icons", daemon=True
        )
        with self._lock:
            self._job = job
        self.status, self.progress = "optimizing", 0.0
        self.progress_text = self._progress_words(job, 0)
        job.thread.start()

    def _is_current(self, job: _IconJob) -> bool:
        with self._lock:
            return self._job is job and not job.stop.is_set()

    def _progress_words(self, job: _IconJob, step: int) -> str:
        total = self._icon_settings.steps
        if self.multi_result is None:
            return f"Icons: step {step} / {total}"
        with self._lock:
            layer, number, count = job.current.layer, job.done + 1, job.done + 1 + len(job.queue)
        return f"Icons for {layer} ({number} of {count}): step {step} / {total}"

    def _icon_hooks(self, job: _IconJob, result: NeuronGroupsResult) -> IconHooks:
        """Progress and snapshots sent to the front end; stop when the job is cancelled."""
        total = self._icon_settings.steps
        last = [0.0]

        def progress(step: int, objectives: np.ndarray) -> None:
            now = time.monotonic()
            if self._is_current(job) and (now - last[0] > 0.2 or step + 1 == total):
                last[0] = now
                with self._lock:
                    done, count = job.done, job.done + 1 + len(job.queue)
                with self.hold_sync():
                    self.progress = (done + (step + 1) / total) / count
                    self.progress_text = self._progress_words(job, step + 1)

        def snapshot(step: int, images: np.ndarray) -> None:  # images (n, S, S, 3)
            if self._is_current(job) and self._is_shown(result):
                self._snapshot = (result, images)
                self._publish_icons(result, images)

        return IconHooks(
            progress=progress,
            snapshot=snapshot,
            snapshot_every=self._snapshot_every,
            should_stop=job.stop.is_set,
        )

    def _publish_icons(self, result: NeuronGroupsResult, images: np.ndarray | None = None) -> None:
        """Send a shown result's icons (or this snapshot of them, (n, S, S, 3))."""
        if result is self.result:
            shown = result.icons if images is None else images
            self.icons = view.icon_pngs(shown, result.n_groups)
        elif self.multi_result is not None and self._is_shown(result):
            self.earlier_layers = self._earlier_entries(self.multi_result)

    def _icons_worker(self, job: _IconJob) -> None:
        while True:
            result = job.current
            hooks = self._icon_hooks(job, result)
            try:
                add_icons(
                    result, self._model, self._icon_settings, cache=self._icon_cache, hooks=hooks
                )
            except Cancelled:  # whoever cancelled has set the status
                return
            except Exception as exc:  # shown in the widget, never lost silently
                if self._job is job:
                    self.error = f"Icon optimization failed: {exc}"
                    self.status = "error"
                return
            if self._is_shown(result):
                self._publish_icons(result)
            with self._lock:
                job.done += 1
                if job.stop.is_set():
                    return
                if not job.queue:
                    job.finished = True
                    break
                job.current = job.queue.pop(0)
        if self._is_current(job):
            self.status, self.progress = "ready", 1.0
            self.progress_text = "Icons done."

    def _cancel_icons(self) -> _IconJob | None:
        """Ask the running icon job to stop between steps; return it (None if there was none)."""
        with self._lock:
            job, self._job = self._job, None
        if job is not None:
            job.stop.set()
        return job

    def _mark_stopped(self) -> None:
        if self.status == "optimizing":
            self.status, self.progress_text = "stopped", "Icons stopped."

    def stop(self) -> None:
        """Stop optimizing icons (the groups, map and table stay); return once it has ended."""
        job = self._cancel_icons()
        if job is not None and job.thread is not None:
            job.thread.join()
        self._mark_stopped()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the model has loaded and the icons are done; return True if they are.

        The first widget of a process loads its model in the background (``status`` is
        ``"loading"`` meanwhile, and ``result`` None); ``w.wait()`` then returns once its
        groups and icons are shown.
        """
        start = time.perf_counter()
        if self._loading is not None:
            self._loading.join(timeout)
            if self._loading.is_alive():
                return False
            if timeout is not None:
                timeout = max(0.0, timeout - (time.perf_counter() - start))
        job = self._job
        if job is None or job.thread is None:
            return True
        job.thread.join(timeout)
        return not job.thread.is_alive()

    def close(self) -> None:
        """Close the widget and cancel its background work."""
        self._cancel_icons()
        super().close()

    # -- a new image ---------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "stop" and self._cancel_icons():
            self._mark_stopped()
        elif content.get("type") == "image":
            self._on_image(content, list(buffers or []))

    def _on_image(self, content: dict, buffers: list) -> None:
        """An example chosen (``name``), or a file dropped or uploaded (``filename`` + bytes)."""
        name, filename = content.get("name"), content.get("filename")
        label = str(filename or name or "the image")
        try:
            if isinstance(name, str) and name:
                source: Any = self._example(name)
            elif isinstance(filename, str) and buffers:
                source = bytes(buffers[0])
            else:
                raise ImageError(
                    'an image message has "name" (an example image) or "filename" with the '
                    "file's bytes as one buffer."
                )
            image = load_image(source)
        except Exception as exc:
            self.error = f"Could not read {label}: {_message(exc)}"
            return
        self._use_image(image, label)

    @staticmethod
    def _example(name: str) -> str:
        from neuron_groups.data import example_names

        names = example_names()
        if name not in names:
            raise ImageError(f"{name!r} is not an example image; they are {', '.join(names)}.")
        return name

    def set_image(self, img: Any) -> None:
        """Show another image (as the picker does): everything is recomputed for it.

        A path, URL, example name, a file's bytes, a PIL image or an array. If it cannot be
        read or used, ``error`` says why and the view stays as it was.
        """
        label = img if isinstance(img, str) else f"the {type(img).__name__}"
        try:
            image = load_image(img)
        except Exception as exc:
            self.error = f"Could not read {label}: {_message(exc)}"
            return
        self._use_image(image, label)

    def _use_image(self, image: np.ndarray, label: str) -> None:
        before = self.status
        self.status = "computing"
        try:
            self._change_image(image)
        except Exception as exc:  # nothing changed: the previous view stays
            self.error, self.status = f"Could not use {label}: {_message(exc)}", before

    def _change_image(self, image: np.ndarray) -> None:
        if self._multi is not None:
            classes = list(self.classes)
            counts = self.multi_result.n_groups if self.multi_result else list(self.layer_groups)
            reading = self._read_multi(image, self._multi.layers, classes or None)
            reading.analyze(counts, classes, self._method, self._seed)  # fails: nothing changed
            self._cancel_icons()
            self._multi, self._hues, self._layer_hues, self._shown_at = reading, {}, {}, {}
            self._snapshot, self.multi_result = None, None
            self.set_trait("result", None)  # new groups: new colours
            self.n_groups_options = self._group_options(reading.last)
            self._analyze_multi(counts, classes)
        elif self._reading is not None:
            self._reread(image, self._reading.layer)
        else:
            raise NeuronGroupsError(
                "this widget shows a saved result; it has no model to read with."
            )

    # -- reacting to the user ------------------------------------------------------------
    def set_state(self, sync_data: dict) -> None:
        """Apply a change from the front end; a refused value is sent back as it was."""
        try:
            super().set_state(sync_data)
        except traitlets.TraitError as exc:
            # Every change of the message was rolled back (the error message too): say it
            # again, and send the kernel's values, since the front end shows the refused ones.
            names = [name for name in sync_data if name in self.keys]
            asked = ", ".join(f"{name}={sync_data[name]!r}" for name in names)
            self.error = f"{asked} was refused: {exc}"
            self.send_state(names)

    def _set_quietly(self, **values: Any) -> None:
        self._quiet = True
        try:
            if "result" in values:
                self.set_trait("result", values.pop("result"))
            for name, value in values.items():
                setattr(self, name, value)
        finally:
            self._quiet = False

    def _refuse(self, name: str, value: Any, reason: str) -> None:
        """Say why ``name=value`` was refused and put the choices back to the shown result."""
        self.error, self.status = f"{name}={value!r} was refused: {reason}", "error"
        if self.result is not None:
            values: dict[str, Any] = {
                "n_groups": self.result.n_groups,
                "classes": list(self._valid_classes),
                "layer": self.result.layer,
            }
            if self.multi_result is not None:
                values["layer_groups"] = self.multi_result.n_groups
            self._set_quietly(**values)

    def _try(self, name: str, value: Any, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except Exception as exc:
            self._refuse(name, value, _message(exc))

    @traitlets.validate("n_groups")
    def _check_n_groups(self, proposal: dict) -> int:
        value = proposal["value"]
        options = self.n_groups_options
        if self._quiet or not options:  # the kernel's own updates come from real results
            return value
        if self._groups is not None and value != self._groups.n_groups:
            reason = (
                f"the shared groups are {self._groups.n_groups}; their count is fixed "
                "(fit_groups with another n_groups for another count)."
            )
            self.error = f"n_groups={value!r} was refused: {reason}"
            raise traitlets.TraitError(reason)
        if not options[0] <= value <= options[-1]:
            limit = options[-1]
            reason = (
                f"n_groups must be between 1 and {limit} here; got {value}. "
                f"Nearest valid: {min(max(value, 1), limit)}."
            )
            self.error = f"n_groups={value!r} was refused: {reason}"  # status unchanged
            raise traitlets.TraitError(reason)
        return value

    @traitlets.validate("layer_groups")
    def _check_layer_groups(self, proposal: dict) -> list[int]:
        value = list(proposal["value"])
        if self._quiet:
            return value
        reason = self._layer_groups_problem(value)
        if reason:
            self.error = f"layer_groups={value!r} was refused: {reason}"  # status unchanged
            raise traitlets.TraitError(reason)
        return value

    def _layer_groups_problem(self, counts: list[int]) -> str:
        """Why these group counts cannot be shown ('' if they can)."""
        if self._multi is None and self.multi_result is not None:
            return "this widget shows a saved result; it has no reading to compute other counts."
        if self._multi is None:
            return "layer_groups is for several layers; with one, set n_groups." if counts else ""
        layers = self._multi.layers
        if len(counts) != len(layers):
            return f"layer_groups has one count per layer ({', '.join(layers)}); got {len(counts)}."
        for layer, count in zip(layers, counts, strict=True):
            options = self._layer_options(layer)
            if not options[0] <= count <= options[-1]:
                limit = options[-1]
                return (
                    f"the groups at {layer} are between 1 and {limit}; got {count}. "
                    f"Nearest valid: {min(max(count, 1), limit)}."
                )
        return ""

    @traitlets.validate("selected_layer")
    def _check_selected_layer(self, proposal: dict) -> str:
        value = proposal["value"]
        names = self._layer_names()
        if value == "" or value in names:
            return value
        if self._model is not None:
            try:
                canonical = self._model.resolve_layer(value).name
            except NeuronGroupsError:
                canonical = ""
            if canonical in names:
                return canonical
        raise traitlets.TraitError(
            f"selected_layer is a layer shown ({', '.join(names)}), or '' for the last; "
            f"got {value!r}."
        )

    @traitlets.validate("selected_group")
    def _check_selected_group(self, proposal: dict) -> int:
        value = proposal["value"]
        n = self._count_at(self.selected_layer)
        if not -1 <= value < n:
            where = f" ({self.selected_layer} has {n} groups)" if self.multi_result else ""
            raise traitlets.TraitError(
                f"selected_group is a group index 0..{n - 1}, or -1 for none; got {value}.{where}"
            )
        return value

    @traitlets.observe("selected_layer")
    def _on_selected_layer(self, change: dict) -> None:
        self._drop_stale_pin()

    @traitlets.observe("n_groups")
    def _on_n_groups(self, change: dict) -> None:
        if self._quiet:
            return
        if self._multi is not None:
            counts = [*self.layer_groups[:-1], change["new"]]
            self.status = "computing"
            self._try("n_groups", change["new"], self._analyze_multi, counts, self.classes)
        elif self._reading is not None:
            self.status = "computing"
            self._try("n_groups", change["new"], self._analyze, change["new"], self.classes)

    @traitlets.observe("layer_groups")
    def _on_layer_groups(self, change: dict) -> None:
        if not self._quiet and self._multi is not None:
            self.status = "computing"
            counts = list(change["new"])
            self._try("layer_groups", counts, self._analyze_multi, counts, self.classes)

    @traitlets.observe("classes")
    def _on_classes(self, change: dict) -> None:
        if self._quiet:
            return
        if self._multi is not None and self.multi_result is not None:
            counts = self.multi_result.n_groups
            self._try("classes", change["new"], self._analyze_multi, counts, list(change["new"]))
        elif self._reading is not None:
            n = self.result.n_groups if self.result is not None else self.n_groups
            self._try("classes", change["new"], self._analyze, n, list(change["new"]))

    @traitlets.observe("layer")
    def _on_layer(self, change: dict) -> None:
        if self._quiet:
            return
        if self._multi is not None:
            self._refuse(
                "layer",
                change["new"],
                "the layers of a multi-layer view are fixed; make another widget with "
                "GroupWidget(img, layer=[...]).",
            )
        elif self._reading is not None:
            self.status = "computing"
            self._try("layer", change["new"], self._change_layer, change["new"])

    def _change_layer(self, layer: str) -> None:
        assert self._reading is not None
        self._reread(self._reading.image, layer)

    def _reread(self, image: np.ndarray, layer: str) -> None:
        """Read ``image`` at ``layer`` anew, keeping the group count and the classes."""
        classes = list(self.classes)
        if self._groups is not None:
            assert self._model is not None
            layer = self._groups.check_model(self._model, layer)  # before the pass
        reading = self._read(image, layer, classes or None)
        n = self.result.n_groups if self.result is not None else self.n_groups
        result = self._analysis(reading, n, classes)  # fails: nothing changed
        self._cancel_icons()
        self._reading, self._results, self._hues = reading, {n: result}, {}
        self._snapshot = None
        self.set_trait("result", None)  # new groups: new colours
        self.n_groups_options = self._group_options(reading)
        self._set_quietly(layer=reading.layer)
        self._analyze(n, classes)

    @traitlets.observe("result")
    def _on_result(self, change: dict) -> None:
        if not self._quiet and change["new"] is not None:
            self._cancel_icons()
            self._reading = None  # a result set by hand is shown as it is
            if self._multi is not None:  # ... as one layer
                self._multi, self.multi_result = None, None
                self._set_quietly(earlier_layers=[], flows=[], layer_groups=[], selected_layer="")
            self._show_result(change["new"])
            self.status = "ready"

    # -- the pinned group ------------------------------------------------------------------
    @property
    def pinned(self) -> tuple[str, int] | None:
        """The pinned group as (layer, index), or None."""
        if self.selected_group < 0:
            return None
        return (self.selected_layer or self.layer, self.selected_group)

    def select(self, layer: str | None, index: int = -1) -> None:
        """Pin group ``index`` of ``layer`` (None or "": the last layer); -1 unpins."""
        with self.hold_trait_notifications():  # both checked together
            self.selected_layer = layer or ""
            self.selected_group = index

    # -- reading and sharing -------------------------------------------------------------
    def __repr__(self) -> str:
        shown = self.result
        error = f", error={self.error!r}" if self.error else ""
        if shown is None:
            return f"GroupWidget(status={self.status!r}{error})"
        h, w = shown.image.shape[:2]
        if self.multi_result is not None:
            chain = " -> ".join(
                f"{layer} ({n})"
                for layer, n in zip(
                    self.multi_result.layers, self.multi_result.n_groups, strict=True
                )
            )
            where = f"layers {chain} groups"
        else:
            where = f"layer={shown.layer!r}, {shown.n_groups} groups"
        return (
            f"GroupWidget(image {w}x{h}, {where}, classes={list(shown.classes)!r}, "
            f"status={self.status!r}{error})"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, plus a static fallback for where widgets don't render."""
        return with_fallback(super()._repr_mimebundle_(**kwargs), self._static_fallback)

    def _static_fallback(self) -> dict[str, str]:
        shown = self.result
        if shown is None:
            return {}
        if self.multi_result is not None:
            return static_layers_fallback(self.multi_result, self.layer_colors(), title=self.title)
        icons = shown.icons if shown.icons is not None else self._snapshot_of(shown)
        return static_fallback(shown, self.group_colors, title=self.title, icons=icons)

    def layer_colors(self) -> dict[str, list[list[int]]]:
        """The group colours ([r, g, b] each) shown at every layer, input to output."""
        colors = {entry["layer"]: entry["group_colors"] for entry in self.earlier_layers}
        colors[self.layer] = list(self.group_colors)
        return colors

    def cached_results(self) -> dict[int, NeuronGroupsResult]:
        """The results computed so far, by number of groups (the current one included).

        With several layers: the last layer's current result only.
        """
        if self.multi_result is not None:
            return {self.multi_result.last.n_groups: self.multi_result.last}
        results = dict(self._results)
        if self.result is not None:
            results[self.result.n_groups] = self.result
        return results

    def group_hues(self) -> dict[int, list[float]]:
        """The hue (degrees) of each group, per group count computed so far (the last layer)."""
        return {n: list(h) for n, h in self._hues.items()}

    def save_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write a standalone interactive page (every group count explored is included)."""
        from neuron_groups.display.page import save_page

        save_page(self, path, title=title)
        return Path(path)
