"""GroupWidget: the interactive neuron-groups view for notebooks, built on anywidget.

The kernel side computes (activations, groups, attributions, icons) and keeps the model
state in traits; the front end (``js/widget.js``) draws it and sends back what the user
chose (``selected_group``, ``n_groups``, ``classes``) and actions (``{"type": "stop"}``).
Icons are optimized in a background thread, so the kernel stays usable.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from neuron_groups.backends.base import IconSettings, VisionModel
from neuron_groups.errors import Cancelled, NeuronGroupsError
from neuron_groups.images import load_image, png_bytes
from neuron_groups.pipeline import DEFAULT_GROUPS, DEFAULT_LAYER, LayerReading, add_icons
from neuron_groups.result import NeuronGroupsResult
from neuron_groups.view import group_state, icon_pngs, predictions, stable_hues

MAX_GROUP_OPTIONS = 16
"""The groups control offers 1 .. min(this, positions, channels)."""


def _static(name: str) -> Path:
    source = Path(__file__).resolve().parents[2] / "js" / name  # a source checkout
    return source if source.exists() else Path(__file__).parent / "static" / name


class _IconJob:
    """One background icon optimization, cancellable between steps."""

    def __init__(self, result: NeuronGroupsResult):
        self.result = result
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None


class GroupWidget(anywidget.AnyWidget):
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
    :class:`~neuron_groups.NeuronGroupsResult`.
    """

    _esm = _static("widget.js")
    _css = _static("widget.css")

    # -- data shown (kernel -> front end) ----------------------------------------------
    image = traitlets.Bytes(b"", help="PNG of the input image. Default: b''.").tag(sync=True)
    spatial = traitlets.Bytes(
        b"", help="float32 (n, h, w) group maps scaled to [0, 1] for display. Default: b''."
    ).tag(sync=True)
    spatial_shape = traitlets.List(
        traitlets.Int(), [], help="Shape [n, h, w] of `spatial`. Default: []."
    ).tag(sync=True)
    icons = traitlets.List(
        traitlets.Bytes(), [], help="PNG per group; b'' until ready. Default: []."
    ).tag(sync=True)
    icon_size = traitlets.Int(80, help="Icon side in pixels. Default: 80.").tag(sync=True)
    attributions = traitlets.Bytes(
        b"", help="float32 (len(class_names), n) class x group effects. Default: b''."
    ).tag(sync=True)
    class_names = traitlets.List(
        traitlets.Unicode(), [], help="Row names of the table. Default: []."
    ).tag(sync=True)
    class_options = traitlets.List(
        traitlets.Unicode(), [], help="Every class name, for the class picker. Default: []."
    ).tag(sync=True)
    predictions = traitlets.List(
        traitlets.Dict(), [], help="Top 5 as {name, probability}. Default: []."
    ).tag(sync=True)
    group_colors = traitlets.List(
        traitlets.Unicode(), [], help="CSS colour per group. Default: []."
    ).tag(sync=True)
    n_groups_options = traitlets.List(
        traitlets.Int(), [], help="Values the groups control offers. Default: []."
    ).tag(sync=True)
    layer = traitlets.Unicode(DEFAULT_LAYER, help="Layer factorized. Default: 'mixed4d'.").tag(
        sync=True
    )
    model_name = traitlets.Unicode("", help="Name of the model. Default: ''.").tag(sync=True)
    title = traitlets.Unicode("", help="Caption. Default: ''.").tag(sync=True)
    status = traitlets.Enum(
        ["computing", "optimizing", "ready", "stopped", "error"],
        "computing",
        help="What the kernel is doing. Default: 'computing'.",
    ).tag(sync=True)
    progress = traitlets.Float(0.0, help="Icon optimization progress, 0..1. Default: 0.").tag(
        sync=True
    )
    progress_text = traitlets.Unicode("", help="Progress in words. Default: ''.").tag(sync=True)
    error = traitlets.Unicode("", help="Message shown when something failed. Default: ''.").tag(
        sync=True
    )

    # -- what the user chooses (both ways) ---------------------------------------------
    n_groups = traitlets.Int(DEFAULT_GROUPS, help="Number of groups. Default: 6.").tag(sync=True)
    classes = traitlets.List(
        traitlets.Unicode(), [], help="Classes asked for; [] means the top 5. Default: []."
    ).tag(sync=True)
    selected_group = traitlets.Int(-1, help="Pinned group, -1 for none. Default: -1.").tag(
        sync=True
    )

    # -- Python only ---------------------------------------------------------------------
    result = traitlets.Instance(
        NeuronGroupsResult, allow_none=True, help="The current result. Default: None."
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
        self._job: _IconJob | None = None
        self._lock = threading.RLock()
        self._quiet = False  # set while the kernel itself updates user traits
        self._shown_image: np.ndarray | None = None
        self.on_msg(self._on_message)
        if img is None:
            return  # e.g. from_result
        self._set_quietly(n_groups=int(n_groups), classes=[str(c) for c in (classes or [])])
        self._run(self._load, img, layer, model, classes, n_groups)

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
        image = load_image(img)
        self._reading = LayerReading(self._model, image, layer)
        names = self._model.class_names
        self.class_options = list(names) if names is not None else []
        self.model_name = self._model.name
        h, w, c = self._reading.acts.shape
        self.n_groups_options = list(range(1, min(MAX_GROUP_OPTIONS, h * w, c) + 1))
        self._set_quietly(layer=self._reading.layer)
        self._analyze(int(n_groups), classes)

    def _analyze(self, n_groups: int, classes: Any) -> None:
        assert self._reading is not None
        result = self._results.get(n_groups)
        if result is None:
            result = self._reading.analyze(n_groups, classes, self._method, self._seed)
            self._results[n_groups] = result
        elif list(result.class_indices) != self._reading.resolve(classes):
            self._reading.attribute(result, classes)
        self._show_result(result)
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
        state = {
            **group_state(result, self._hues[n]),
            "predictions": predictions(result),
            "layer": result.layer,
            "model_name": result.model_name,
        }
        if result.image is not self._shown_image:  # encode the PNG only when it changes
            state["image"] = png_bytes(result.image)
            self._shown_image = result.image
        with self.hold_sync():
            self._set_quietly(result=result, **state)
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

    def _icons_worker(self, job: _IconJob, result: NeuronGroupsResult) -> None:
        total = self._icon_settings.steps
        last = [0.0]

        def progress(step: int, objectives: np.ndarray) -> None:
            now = time.monotonic()
            if self._is_current(job) and (now - last[0] > 0.2 or step + 1 == total):
                last[0] = now
                with self.hold_sync():
                    self.progress = (step + 1) / total
                    self.progress_text = f"Icons: step {step + 1} / {total}"

        def snapshot(step: int, images: np.ndarray) -> None:
            if self._is_current(job) and result is self.result:
                self.icons = icon_pngs(images, result.n_groups)

        try:
            add_icons(
                result,
                self._model,
                self._icon_settings,
                cache=self._icon_cache,
                progress=progress,
                snapshot=snapshot,
                snapshot_every=self._snapshot_every,
                should_stop=job.stop.is_set,
            )
        except Cancelled:  # whoever cancelled has set the status
            return
        except Exception as exc:  # shown in the widget, never lost silently
            if self._job is job:
                self.error = f"Icon optimization failed: {exc}"
                self.status = "error"
            return
        if result is self.result:
            self.icons = icon_pngs(result.icons, result.n_groups)
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

    def _set_quietly(self, **values: Any) -> None:
        self._quiet = True
        try:
            if "result" in values:
                self.set_trait("result", values.pop("result"))
            for name, value in values.items():
                setattr(self, name, value)
        finally:
            self._quiet = False

    def _run(self, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except NeuronGroupsError as exc:
            self.error, self.status = str(exc), "error"
        except Exception as exc:  # a failed computation: say what failed
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = "error"

    @traitlets.validate("n_groups")
    def _check_n_groups(self, proposal: dict) -> int:
        value = proposal["value"]
        options = self.n_groups_options
        if self._quiet or not options:  # the kernel's own updates come from real results
            return value
        if not options[0] <= value <= options[-1]:
            limit = options[-1]
            raise traitlets.TraitError(
                f"n_groups must be between 1 and {limit} here; got {value}. "
                f"Nearest valid: {min(max(value, 1), limit)}."
            )
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
            self._run(self._analyze, change["new"], list(self.classes))

    @traitlets.observe("classes")
    def _on_classes(self, change: dict) -> None:
        if not self._quiet and self._reading is not None:
            n = self.result.n_groups if self.result is not None else self.n_groups
            self._run(self._analyze, n, list(change["new"]))

    @traitlets.observe("layer")
    def _on_layer(self, change: dict) -> None:
        if not self._quiet and self._reading is not None:
            self.status = "computing"
            self._run(self._change_layer, change["new"])

    def _change_layer(self, layer: str) -> None:
        assert self._reading is not None
        reading = LayerReading(self._model, self._reading.image, layer)
        self._cancel_icons()
        self._reading, self._results, self._hues = reading, {}, {}
        self.set_trait("result", None)
        self._set_quietly(layer=reading.layer)
        self._analyze(self.n_groups, list(self.classes))

    @traitlets.observe("result")
    def _on_result(self, change: dict) -> None:
        if not self._quiet and change["new"] is not None:
            self._cancel_icons()
            self._reading = None  # a result set by hand is shown as it is
            self._show_result(change["new"])
            self.status = "ready"

    # -- sharing ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, plus a static fallback for where widgets don't render."""
        from neuron_groups.export import widget_mimebundle

        return widget_mimebundle(self, super()._repr_mimebundle_(**kwargs))

    def cached_results(self) -> dict[int, NeuronGroupsResult]:
        """The results computed so far, by number of groups (the current one included)."""
        results = dict(self._results)
        if self.result is not None:
            results[self.result.n_groups] = self.result
        return results

    def save_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write a standalone interactive page (every group count explored is included)."""
        from neuron_groups.html import widget_html

        return widget_html(self, path, title=title)
