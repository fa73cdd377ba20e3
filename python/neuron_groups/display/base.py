"""What both widgets are: their shared traits, their background job, stop, wait, close, save.

:class:`WidgetBase` is the anywidget base of :class:`~neuron_groups.display.widget.GroupWidget`
and :class:`~neuron_groups.display.gallery.GalleryWidget`. It holds the traits they share
(:class:`~neuron_groups.display.state.WidgetState`), runs their long work in one
:class:`~neuron_groups.display.jobs.Job` at a time (plus, for a model's first load, a
loading job), turns a job's progress into ``progress`` and ``progress_text``, and gives both
widgets the same controls:

- ``stop(wait=True) -> None``: stop the background work (the Stop button sends
  ``{"type": "stop"}``, which stops without waiting);
- ``wait(timeout=None) -> bool``: block until the background work has ended; raise the
  widget's failure, if it has one (see below);
- ``save_html(path, title=None) -> Path``: the standalone page (:meth:`to_html`);
- ``close()``: close the widget and stop its work.

A failure (a widget that could not be made, or background work that failed) is shown in the
widget (``error``, ``status == "error"``) and never raised by the constructor, so a notebook
shows it where it belongs; it is kept, and :meth:`wait` raises it (as ``GroupWidget.result``
does when there is no result because of it), so a script does not go on silently.
A refused change (a bad count or class) is not a failure: the view stays as it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import numpy as np

from neuron_groups.backends.base import IconHooks, IconSettings
from neuron_groups.display.assets import CSS, ESM, compact_text
from neuron_groups.display.hosts import prepare_host
from neuron_groups.display.jobs import Job, Throttle, wait_all
from neuron_groups.display.page import write_page
from neuron_groups.display.state import WidgetState
from neuron_groups.errors import NeuronGroupsError


def error_message(exc: BaseException) -> str:
    """What a widget says of an exception: our errors as they are, others with their type."""
    if isinstance(exc, NeuronGroupsError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"  # a failed computation: say what failed


class WidgetBase(anywidget.AnyWidget, WidgetState):
    """The anywidget base of both widgets (see the module docstring).

    Parameters
    ----------
    icon_settings, icon_cache, snapshot_every
        How icons are optimized, cached and sent while they are made: see
        :class:`~neuron_groups.GroupWidget`.
    **kwargs
        Trait values (``title``...).
    """

    _esm = compact_text(ESM)
    _css = compact_text(CSS)

    STOPPED = "Stopped."
    """``progress_text`` once the work was stopped."""

    def __init__(
        self,
        *,
        icon_settings: IconSettings | None = None,
        icon_cache: Any = True,
        snapshot_every: int = 16,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        prepare_host()  # what Colab or VS Code need first, once per process; never raises
        self._icon_settings = icon_settings or IconSettings()
        self._icon_cache = icon_cache
        self._snapshot_every = snapshot_every
        self._lock = threading.RLock()
        self._job: Job | None = None
        self._loading: Job | None = None
        self._failure: Exception | None = None
        self.on_msg(self._on_message)

    # -- failures ------------------------------------------------------------------------------
    def _fail(self, exc: Exception, prefix: str = "") -> None:
        """Show ``exc`` in the widget and keep it for :meth:`wait` to raise."""
        self._failure = exc
        with self.hold_sync():
            self.error = prefix + error_message(exc)
            self.status = "error"

    # -- the background job ------------------------------------------------------------------
    def _start_job(self, work: Callable[[Job], None], name: str, prefix: str = "") -> Job:
        """Run ``work(job)`` in the background in place of the running job (which is stopped).

        A failure of the job while it is the widget's current one is shown (after ``prefix``).
        """

        def failed(job: Job, exc: Exception) -> None:
            with self._lock:
                if self._job is job:
                    self._fail(exc, prefix)

        job = Job(work, name=name, on_error=failed)
        with self._lock:
            previous, self._job = self._job, job
            self._failure = None
        if previous is not None:
            previous.stop(wait=False)
        return job.start()

    def _is_current(self, job: Job) -> bool:
        """Whether ``job`` is the widget's job and was not asked to stop."""
        with self._lock:
            return self._job is job and not job.stopping

    def _cancel(self) -> Job | None:
        """Ask the running job to stop between steps; return it (None if there was none)."""
        with self._lock:
            job, self._job = self._job, None
        if job is not None:
            job.stop(wait=False)
        return job

    def _report(self, job: Job, fraction: float, text: str) -> None:
        """Show the progress of ``job`` while it is the current one."""
        with self._lock:
            if self._is_current(job):
                with self.hold_sync():
                    self.progress, self.progress_text = fraction, text

    def _finish(self, job: Job, text: str) -> None:
        """Show that ``job`` has done its work, if it is still the current one."""
        with self._lock:
            if self._is_current(job):
                with self.hold_sync():
                    self.status, self.progress, self.progress_text = "ready", 1.0, text

    def _icon_hooks(
        self,
        job: Job,
        progress_of: Callable[[int], tuple[float, str]],
        snapshot: Callable[[np.ndarray], None],
    ) -> IconHooks:
        """The hooks of an icon optimization run by ``job``.

        ``progress_of(step)`` gives the fraction done and its words after ``step`` of the
        settings' steps (sent at most five times a second, and at the last step);
        ``snapshot(images)`` receives the icons (n, S, S, 3) every ``snapshot_every`` steps.
        """
        total = self._icon_settings.steps
        throttle = Throttle()

        def progress(step: int, objectives: np.ndarray) -> None:
            if self._is_current(job) and throttle.due(final=step + 1 == total):
                self._report(job, *progress_of(step + 1))

        return IconHooks(
            progress=progress,
            snapshot=lambda step, images: snapshot(images),
            snapshot_every=self._snapshot_every,
            should_stop=job.should_stop,
        )

    # -- the controls both widgets have --------------------------------------------------------
    def stop(self, wait: bool = True) -> None:
        """Stop the background work (what is shown stays); with ``wait``, until it has ended."""
        job = self._cancel()
        if job is None:
            return
        if wait:
            job.wait()
        with self._lock:
            if self.status in ("computing", "optimizing"):
                self.status, self.progress_text = "stopped", self.STOPPED

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background work has ended; return True if it has (False: timeout).

        The first widget of a process may load its model in the background
        (``status == "loading"``); this waits for that too.

        Raises
        ------
        Exception
            The widget's failure, where it has one: the error that stopped it from being
            made (an unknown layer, an unreadable image...), or that ended its background
            work (as ``error`` shows it).
        """
        start = time.monotonic()
        if not wait_all([self._loading], timeout):
            return False
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - start))
        if not wait_all([self._job, *self._side_jobs()], left):  # the load may start them
            return False
        if self._failure is not None:
            raise self._failure
        return True

    def _side_jobs(self) -> list[Job | None]:
        """Background work besides the main job that :meth:`wait` and :meth:`close` include."""
        return []

    def close(self) -> None:
        """Close the widget and stop its background work."""
        for job in (self._loading, self._cancel(), *self._side_jobs()):
            if job is not None:
                job.stop(wait=False)
        super().close()

    def to_html(self, title: str | None = None) -> str:
        """The standalone page of what the widget shows (``title``: default the widget's)."""
        raise NotImplementedError

    def save_html(self, path: str | Path, title: str | None = None) -> Path:
        """Write :meth:`to_html` to ``path`` (UTF-8); return the path."""
        path = Path(path)
        write_page(self.to_html(title), path)
        return path

    # -- messages from the front end ---------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "stop":
            self.stop(wait=False)
        else:
            self._on_action(content, list(buffers or []))

    def _on_action(self, content: dict, buffers: list) -> None:
        """A message other than Stop (the group view's image picker)."""
