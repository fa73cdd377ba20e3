"""GroupWidget: the interactive neuron-groups view for notebooks, built on anywidget.

The kernel side computes (activations, groups, attributions, icons) and keeps the front-end
state in the traits of :class:`~neuron_groups.display.state.ViewState`; the front end
(``js/widget.js``) draws it and sends back what the user chose (``selected_group``,
``n_groups``, ``classes``) and actions (``{"type": "stop"}``). Icons are optimized in a
background thread, so the kernel stays usable.

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
from neuron_groups.display.assets import CSS, ESM, asset_path
from neuron_groups.display.fallback import static_fallback, with_fallback
from neuron_groups.display.state import ViewState, hue_colors, stable_hues
from neuron_groups.errors import Cancelled, ClassNameError, NeuronGroupsError
from neuron_groups.images import load_image
from neuron_groups.pipeline import DEFAULT_GROUPS, DEFAULT_LAYER, LayerReading, add_icons
from neuron_groups.result import NeuronGroupsResult

MAX_GROUP_OPTIONS = 16
"""The groups control offers 1 .. min(this, positions, channels)."""


class _IconJob:
    """One background icon optimization, cancellable between steps."""

    def __init__(self, result: NeuronGroupsResult):
        self.result = result
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
    """The neuron groups of an image at a layer, interactive.

    Parameters
    ----------
    img : path, URL, example name, PIL image or array
        The image (see :func:`neuron_groups.load_image`).
    layer : str
        Layer to factorize (default ``"mixed4d"``).
    n_groups : int
        Number of groups (default 6).
    classes : list of str or int, optional
        Classes for the attribution table; default: the top 5 predicted.
    model : str, VisionModel or tf.keras.Model, optional
        Default: InceptionV1.
    method : str or sklearn estimator
        Factorization (default NMF).
    icons : bool
        Optimize each group's icon in the background (default True).
    icon_settings : IconSettings, optional
        Feature-visualization settings (Lucid's defaults).
    icon_cache : bool or path
        Icon disk cache (True: the user cache; False: none).
    snapshot_every : int
        Send the icons' current state every this many steps (0: only the final icons).
    title : str
        Caption shown above the figure.

    Notes
    -----
    Errors (an unknown layer or class, a failed computation) are shown in the widget as a
    message and the widget stays usable. ``w.result`` is the current
    :class:`~neuron_groups.NeuronGroupsResult`. The synced traits are those of
    :class:`~neuron_groups.display.state.ViewState`.
    """

    _esm = asset_path(ESM)
    _css = asset_path(CSS)

    result = traitlets.Instance(
        NeuronGroupsResult, allow_none=True, help="The current result (Python only). Default: None."
    )

    def __init__(
        self,
        img: Any = None,
        layer: str = DEFAULT_LAYER,
        n_groups: int = DEFAULT_GROUPS,
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
        **kwargs: Any,
    ):
        super().__init__(title=title, **kwargs)
        self._method, self._seed = method, seed
        self._want_icons = icons
        self._icon_settings = icon_settings or IconSettings()
        self._icon_cache = icon_cache
        self._snapshot_every = snapshot_every
        self._model: VisionModel | None = None
        self._reading: LayerReading | None = None
        self._results: dict[int, NeuronGroupsResult] = {}
        self._hues: dict[int, list[float]] = {}
        self._valid_classes: list[str | int] = []  # the classes of the table shown
        self._snapshot: tuple[NeuronGroupsResult, np.ndarray] | None = None
        self._job: _IconJob | None = None
        self._lock = threading.RLock()
        self._quiet = False  # set while the kernel itself updates user traits
        self._shown_image: np.ndarray | None = None
        self.on_msg(self._on_message)
        if img is None:
            return  # e.g. from_result
        self._set_quietly(n_groups=int(n_groups), classes=_class_list(classes))
        try:
            self._load(img, layer, model, classes, int(n_groups))
        except Exception as exc:
            self.error, self.status = _message(exc), "error"

    # -- construction helpers ----------------------------------------------------------
    @classmethod
    def from_result(cls, result: NeuronGroupsResult, **kwargs: Any) -> GroupWidget:
        """Show a saved or computed result (no kernel-side recomputation)."""
        widget = cls(icons=False, **kwargs)
        widget._show_result(result)
        widget.status = "ready"
        return widget

    def _load(self, img: Any, layer: str, model: Any, classes: Any, n_groups: int) -> None:
        from neuron_groups.models import load_model

        self.status = "computing"
        self._model = load_model("inceptionv1" if model is None else model)
        names = self._model.class_names
        self.class_options = list(names) if names is not None else []
        self.model_name = self._model.name
        self._reading = self._read(load_image(img), layer, classes)
        self.n_groups_options = self._group_options(self._reading)
        self._set_quietly(layer=self._reading.layer)
        self._analyze(n_groups, classes)

    def _read(self, image: np.ndarray, layer: str, classes: Any) -> LayerReading:
        """Read the image at a layer, with the gradients of the classes in the same pass."""
        assert self._model is not None
        try:
            return LayerReading(self._model, image, layer, classes)
        except ClassNameError:  # read anyway, so that the classes can be fixed afterwards
            return LayerReading(self._model, image, layer)

    @staticmethod
    def _group_options(reading: LayerReading) -> list[int]:
        h, w, c = reading.acts.shape
        return list(range(1, min(MAX_GROUP_OPTIONS, h * w, c) + 1))

    def _analyze(self, n_groups: int, classes: Any) -> None:
        """Show ``n_groups`` groups with these classes (computed, or from the cache)."""
        assert self._reading is not None
        reading = self._reading
        result = self._results.get(n_groups)
        if result is None:
            result = reading.analyze(n_groups, classes, self._method, self._seed)
            self._results[n_groups] = result
        elif list(result.class_indices) != reading.resolve(classes):
            reading.attribute(result, classes)
        asked = _class_list(classes)
        self._valid_classes = reading.unique_classes(asked) if asked else []
        self._show_result(result)
        self._set_quietly(classes=list(self._valid_classes))  # classes[i] is row i
        running = self._job is not None and self._job.result is result
        if self._want_icons and result.icons is None and not running:
            self._start_icons(result)
        else:
            self.status = "optimizing" if running else "ready"

    def _show_result(self, result: NeuronGroupsResult) -> None:
        n = result.n_groups
        if n not in self._hues:
            previous = self.result
            self._hues[n] = stable_hues(
                result.channel,
                previous.channel if previous is not None else None,
                self._hues.get(previous.n_groups) if previous is not None else None,
            )
        snapshot = self._snapshot[1] if self._snapshot and self._snapshot[0] is result else None
        values = {
            **view.group_state(result, hue_colors(self._hues[n]), snapshot),
            "predictions": view.predictions(result),
            "layer": result.layer,
            "model_name": result.model_name,
        }
        if result.image is not self._shown_image:  # encode the PNG only when it changes
            values["image"] = view.image_png(result.image)
            self._shown_image = result.image
        with self.hold_sync():
            self._set_quietly(result=result, **values)
            if self.selected_group >= n:
                self.selected_group = -1
            self.error = ""
        if not self.n_groups_options:
            self.n_groups_options = [n]

    # -- icons in the background -------------------------------------------------------
    def _start_icons(self, result: NeuronGroupsResult) -> None:
        self._cancel_icons()
        job = _IconJob(result)
        job.thread = threading.Thread(
            target=self._icons_worker, args=(job, result), name="neuron-groups-icons", daemon=True
        )
        with self._lock:
            self._job = job
        self.status, self.progress = "optimizing", 0.0
        self.progress_text = f"Icons: step 0 / {self._icon_settings.steps}"
        job.thread.start()

    def _is_current(self, job: _IconJob) -> bool:
        with self._lock:
            return self._job is job and not job.stop.is_set()

    def _icon_hooks(self, job: _IconJob, result: NeuronGroupsResult) -> IconHooks:
        """Progress and snapshots sent to the front end; stop when the job is cancelled."""
        total = self._icon_settings.steps
        last = [0.0]

        def progress(step: int, objectives: np.ndarray) -> None:
            now = time.monotonic()
            if self._is_current(job) and (now - last[0] > 0.2 or step + 1 == total):
                last[0] = now
                with self.hold_sync():
                    self.progress = (step + 1) / total
                    self.progress_text = f"Icons: step {step + 1} / {total}"

        def snapshot(step: int, images: np.ndarray) -> None:  # images (n, S, S, 3)
            if self._is_current(job) and result is self.result:
                self._snapshot = (result, images)
                self.icons = view.icon_pngs(images, result.n_groups)

        return IconHooks(
            progress=progress,
            snapshot=snapshot,
            snapshot_every=self._snapshot_every,
            should_stop=job.stop.is_set,
        )

    def _icons_worker(self, job: _IconJob, result: NeuronGroupsResult) -> None:
        hooks = self._icon_hooks(job, result)
        try:
            add_icons(result, self._model, self._icon_settings, cache=self._icon_cache, hooks=hooks)
        except Cancelled:  # whoever cancelled has set the status
            return
        except Exception as exc:  # shown in the widget, never lost silently
            if self._job is job:
                self.error = f"Icon optimization failed: {exc}"
                self.status = "error"
            return
        if result is self.result:
            self.icons = view.icon_pngs(result.icons, result.n_groups)
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
        """Block until the running icon optimization ends; return True if it has."""
        job = self._job
        if job is None or job.thread is None:
            return True
        job.thread.join(timeout)
        return not job.thread.is_alive()

    def close(self) -> None:
        """Close the widget and cancel its background work."""
        self._cancel_icons()
        super().close()

    # -- reacting to the user ------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "stop" and self._cancel_icons():
            self._mark_stopped()

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
            self._set_quietly(
                n_groups=self.result.n_groups,
                classes=list(self._valid_classes),
                layer=self.result.layer,
            )

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
        if not options[0] <= value <= options[-1]:
            limit = options[-1]
            reason = (
                f"n_groups must be between 1 and {limit} here; got {value}. "
                f"Nearest valid: {min(max(value, 1), limit)}."
            )
            self.error = f"n_groups={value!r} was refused: {reason}"  # status unchanged
            raise traitlets.TraitError(reason)
        return value

    @traitlets.validate("selected_group")
    def _check_selected_group(self, proposal: dict) -> int:
        value = proposal["value"]
        n = self.result.n_groups if self.result is not None else self.n_groups
        if not -1 <= value < n:
            raise traitlets.TraitError(
                f"selected_group is a group index 0..{n - 1}, or -1 for none; got {value}."
            )
        return value

    @traitlets.observe("n_groups")
    def _on_n_groups(self, change: dict) -> None:
        if not self._quiet and self._reading is not None:
            self.status = "computing"
            self._try("n_groups", change["new"], self._analyze, change["new"], self.classes)

    @traitlets.observe("classes")
    def _on_classes(self, change: dict) -> None:
        if not self._quiet and self._reading is not None:
            n = self.result.n_groups if self.result is not None else self.n_groups
            self._try("classes", change["new"], self._analyze, n, list(change["new"]))

    @traitlets.observe("layer")
    def _on_layer(self, change: dict) -> None:
        if not self._quiet and self._reading is not None:
            self.status = "computing"
            self._try("layer", change["new"], self._change_layer, change["new"])

    def _change_layer(self, layer: str) -> None:
        assert self._reading is not None
        classes = list(self.classes)
        reading = self._read(self._reading.image, layer, classes or None)
        n = self.result.n_groups if self.result is not None else self.n_groups
        result = reading.analyze(n, classes, self._method, self._seed)  # fails: nothing changed
        self._cancel_icons()
        self._reading, self._results, self._hues = reading, {n: result}, {}
        self.set_trait("result", None)  # new groups: new colours
        self.n_groups_options = self._group_options(reading)
        self._set_quietly(layer=reading.layer)
        self._analyze(n, classes)

    @traitlets.observe("result")
    def _on_result(self, change: dict) -> None:
        if not self._quiet and change["new"] is not None:
            self._cancel_icons()
            self._reading = None  # a result set by hand is shown as it is
            self._show_result(change["new"])
            self.status = "ready"

    # -- reading and sharing -------------------------------------------------------------
    def __repr__(self) -> str:
        shown = self.result
        if shown is None:
            error = f", error={self.error!r}" if self.error else ""
            return f"GroupWidget(status={self.status!r}{error})"
        h, w = shown.image.shape[:2]
        error = f", error={self.error!r}" if self.error else ""
        return (
            f"GroupWidget(image {w}x{h}, layer={shown.layer!r}, {shown.n_groups} groups, "
            f"classes={list(shown.classes)!r}, status={self.status!r}{error})"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, plus a static fallback for where widgets don't render."""
        return with_fallback(super()._repr_mimebundle_(**kwargs), self._static_fallback)

    def _static_fallback(self) -> dict[str, str]:
        shown = self.result
        if shown is None:
            return {}
        snapshot = self._snapshot[1] if self._snapshot and self._snapshot[0] is shown else None
        icons = shown.icons if shown.icons is not None else snapshot
        return static_fallback(shown, self.group_colors, title=self.title, icons=icons)

    def cached_results(self) -> dict[int, NeuronGroupsResult]:
        """The results computed so far, by number of groups (the current one included)."""
        results = dict(self._results)
        if self.result is not None:
            results[self.result.n_groups] = self.result
        return results

    def group_hues(self) -> dict[int, list[float]]:
        """The hue (degrees) of each group, per group count computed so far."""
        return {n: list(h) for n, h in self._hues.items()}

    def save_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write a standalone interactive page (every group count explored is included)."""
        from neuron_groups.display.page import save_page

        save_page(self, path, title=title)
        return Path(path)
