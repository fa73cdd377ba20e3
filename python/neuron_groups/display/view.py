"""A widget that shows a session: its result as front-end state, its icons as they are made.

:class:`SessionView` is the part of :class:`~neuron_groups.display.widget.GroupWidget` that
turns a :class:`~neuron_groups.session.Session`'s result into the traits of
:class:`~neuron_groups.display.state.ViewState` (:func:`~neuron_groups.display.state.
result_state`, colours from a :class:`~neuron_groups.display.palette.Palette`), and renders
the icons the view lacks in its background job (the last layer first), showing snapshots as
they come. :class:`~neuron_groups.display.widget.GroupWidget` adds what the user does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import traitlets

import neuron_groups.display.state as view
from neuron_groups.display.base import WidgetBase
from neuron_groups.display.jobs import Job
from neuron_groups.display.palette import Palette
from neuron_groups.display.state import ViewState
from neuron_groups.result import LayerGroups, NeuronGroupsResult
from neuron_groups.session import Session


class _Shown(traitlets.Instance):
    """The ``result`` trait, which waits for the first load and raises a failure.

    Reading it waits for the model's first load, and raises the widget's failure when that
    failure is why there is no result.
    """

    def get(self, obj: Any, cls: Any = None) -> Any:
        loading = getattr(obj, "_loading", None)
        if loading is not None:
            loading.wait()  # not from the loading thread itself (it returns at once there)
        value = super().get(obj, cls)
        failure = getattr(obj, "_failure", None)
        if value is None and failure is not None:
            raise failure
        return value


@dataclasses.dataclass
class _IconQueue:
    """What one icon job renders: ``current``, then each of ``rest`` in turn.

    The widget changes ``rest`` under its lock while the job runs; ``finished`` is set once
    the queue ran dry.
    """

    current: LayerGroups
    rest: list[LayerGroups]
    several: bool
    done: int = 0
    finished: bool = False


class SessionView(WidgetBase, ViewState):
    """Shows a session's result and makes its icons in the background (see the module).

    Parameters
    ----------
    icons : bool
        Optimize the icons the view lacks in the background (default True).
    **kwargs
        Those of :class:`~neuron_groups.display.base.WidgetBase`, and trait values.
    """

    STOPPED = "Icons stopped."

    result = _Shown(
        NeuronGroupsResult,
        allow_none=True,
        help="The current result (Python only; reading it waits for the first load, and "
        "raises the error that left the widget without one). Default: None.",
    )

    def __init__(self, *, icons: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self._session: Session | None = None
        self._palette = Palette()
        self._want_icons = icons
        self._queue: _IconQueue | None = None
        self._snapshot: tuple[LayerGroups, np.ndarray] | None = None
        self._quiet = False  # set while the kernel itself updates user traits
        self._shown_image: np.ndarray | None = None
        self._measuring: Job | None = None

    # -- showing a result ------------------------------------------------------------------
    def _shown_result(self) -> NeuronGroupsResult | None:
        """The result shown (without waiting or raising, unlike :attr:`result`)."""
        return self._trait_values.get("result")

    def _show(self, result: NeuronGroupsResult, fresh: bool = False) -> None:
        """Show ``result`` (``fresh``: new groups, so new colours), then make its icons."""
        session = self._session
        assert session is not None
        if fresh:
            self._palette, self._snapshot = Palette(session.fixed), None
        colors = {layer: self._palette.colors(g) for layer, g in result.groups.items()}
        options = {layer: session.options(layer) for layer in result.layers}
        values = view.result_state(result, colors, options, self._snapshots(result))
        if result.image is not self._shown_image:  # encode the PNG only when it changes
            values["image"] = view.image_png(result.image)
            self._shown_image = result.image
        with self._lock, self.hold_sync():
            self._set_quietly(
                result=result,
                classes=list(session.classes),
                attribution_method=result.attribution_method,
                **values,
            )
            self._drop_stale_pin()
            self.error = ""
            self._failure = None
        self._schedule_icons()
        self._measure_later(result)

    # -- the curve over counts and the stability, a moment later -------------------------------
    def _measure_later(self, result: NeuronGroupsResult) -> None:
        """Measure what the table did not wait for, in the background, then show it."""
        session = self._session
        if session is None or session.reading is None or _measured(result):
            return
        self._measuring = Job(
            lambda job: self._measure(session, result),
            name="neuron-groups-measure",
            on_error=lambda job, exc: self._fail(exc, "Measuring the groups failed: "),
        ).start()

    def _measure(self, session: Session, result: NeuronGroupsResult) -> None:
        session.measure(result)
        with self._lock:
            if self._shown_result() is not result:
                return  # another result is shown by now; it measures itself
            with self.hold_sync():
                self._set_quietly(
                    **view.quality_state(result.last),
                    earlier_layers=[
                        {**entry, **view.quality_state(result.groups[entry["layer"]])}
                        for entry in self.earlier_layers
                    ],
                )

    def _side_jobs(self) -> list[Job | None]:
        return [self._measuring]

    def _snapshots(self, result: NeuronGroupsResult) -> dict[str, np.ndarray]:
        """The icons being optimized for a layer of ``result`` that has none of its own."""
        if self._snapshot is None:
            return {}
        groups, images = self._snapshot
        shown = result.groups.get(groups.layer)
        return {groups.layer: images} if shown is groups and groups.icons is None else {}

    def layer_colors(self) -> dict[str, list[list[int]]]:
        """The group colours ([r, g, b] each) shown at every layer, input to output."""
        colors = {entry["layer"]: entry["group_colors"] for entry in self.earlier_layers}
        colors[self.layer] = list(self.group_colors)
        return colors

    def group_hues(self) -> dict[int, list[float]]:
        """The hue (degrees) of each group, per group count shown so far (the last layer)."""
        return self._palette.hues().get(self.layer, {})

    def _set_quietly(self, **values: Any) -> None:
        self._quiet = True
        try:
            if "result" in values:
                self.set_trait("result", values.pop("result"))
            for name, value in values.items():
                setattr(self, name, value)
        finally:
            self._quiet = False

    def _count_at(self, layer: str) -> int:
        """Number of groups shown at ``layer`` ("" the last layer; 0 if it is not shown)."""
        shown = self._shown_result()
        if shown is None:
            return self.n_groups if layer in ("", self.layer) else 0
        groups = shown.groups.get(layer or shown.layer)
        return groups.n_groups if groups is not None else 0

    def _drop_stale_pin(self) -> None:
        if self.selected_group >= self._count_at(self.selected_layer):
            self.selected_group = -1  # the pinned group no longer exists

    # -- icons in the background -------------------------------------------------------
    def _schedule_icons(self) -> None:
        """Make the icons the view lacks: keep the running job if it works on a shown layer."""
        needed = self._session.icon_queue() if self._session is not None else []
        with self._lock:
            job, queue = self._job, self._queue
            keep = (
                job is not None
                and queue is not None
                and not queue.finished
                and not job.stopping
                and any(groups is queue.current for groups in needed)
            )
            if keep:
                assert queue is not None
                queue.rest = [groups for groups in needed if groups is not queue.current]
        if keep:
            self.status = "optimizing"
        elif self._want_icons and needed:
            self._start_icons(needed)
        else:
            self.status = "ready"

    def _start_icons(self, needed: list[LayerGroups]) -> None:
        assert self._session is not None
        session = self._session
        shown = self._shown_result()
        queue = _IconQueue(
            needed[0], needed[1:], several=shown is not None and len(shown.layers) > 1
        )
        with self._lock:
            self._queue = queue
        self.status, self.progress = "optimizing", 0.0
        self.progress_text = self._progress_of(queue, 0)[1]
        self._start_job(
            lambda job: self._render(job, session, queue),
            "neuron-groups-icons",
            prefix="Icon optimization failed: ",
        )

    def _progress_of(self, queue: _IconQueue, step: int) -> tuple[float, str]:
        """The fraction of a queue's icons done at ``step`` of the current layer's, in words."""
        total = self._icon_settings.steps
        with self._lock:
            layer, done, count = queue.current.layer, queue.done, queue.done + 1 + len(queue.rest)
        fraction = (done + step / total) / count
        if not queue.several:
            return fraction, f"Icons: step {step} / {total}"
        return fraction, f"Icons for {layer} ({done + 1} of {count}): step {step} / {total}"

    def _render(self, job: Job, session: Session, queue: _IconQueue) -> None:
        """The icon job: render the queue's groups in turn, showing those on screen."""
        while True:
            groups = queue.current
            hooks = self._icon_hooks(
                job,
                lambda step: self._progress_of(queue, step),
                lambda images, groups=groups: self._snapshot_icons(job, groups, images),
            )
            session.render_icons(groups, self._icon_settings, cache=self._icon_cache, hooks=hooks)
            self._publish_icons(groups)
            with self._lock:
                queue.done += 1
                job.check()
                if not queue.rest:
                    queue.finished = True
                    break
                queue.current = queue.rest.pop(0)
        self._finish(job, "Icons done.")

    def _snapshot_icons(self, job: Job, groups: LayerGroups, images: np.ndarray) -> None:
        if self._is_current(job):  # images (n, S, S, 3)
            self._snapshot = (groups, images)
            self._publish_icons(groups, images)

    def _publish_icons(self, groups: LayerGroups, images: np.ndarray | None = None) -> None:
        """Send the icons of ``groups`` (or this snapshot of them), if they are shown."""
        with self._lock:
            shown = self._shown_result()
            if shown is None or shown.groups.get(groups.layer) is not groups:
                return
            icons = groups.icons if images is None else images
            if groups.layer == shown.layer:
                self.icons = view.icon_pngs(icons, groups.n_groups)
                return
            pngs = view.icon_pngs(icons, groups.n_groups)
            self.earlier_layers = [  # only this layer's icons change
                {**entry, "icons": pngs} if entry["layer"] == groups.layer else entry
                for entry in self.earlier_layers
            ]


def _measured(result: NeuronGroupsResult) -> bool:
    return all(
        g.explained_variance_by_k is not None and g.stability is not None
        for g in result.groups.values()
    )
