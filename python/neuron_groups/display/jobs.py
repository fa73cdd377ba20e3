"""Background work for the widgets, stopped before the interpreter exits.

A :class:`Job` is a thread that can be stopped, waited for, and that keeps its failure.

A widget computes what takes long (a model's first load, icons, a gallery's classes) in a
:class:`Job`, so the kernel stays free. The work checks :meth:`Job.check` (or passes
:meth:`Job.should_stop` down as ``IconHooks.should_stop``) between steps, and ends by raising
:class:`~neuron_groups.errors.Cancelled` once asked to stop.

Threads are daemons, so a script never waits minutes for icons at its end. But a daemon
thread still inside a framework when the interpreter finalizes can abort the process
(PyTorch: ``terminate called without an active exception``, exit code 134). So the first job
registers :func:`stop_all` to run when the interpreter begins to exit (with
``threading._register_atexit``, before non-daemon threads are joined and before
``atexit`` handlers; plain ``atexit`` where that is missing): it asks every running job to
stop and waits for them, at most :data:`EXIT_WAIT` seconds in all, so that none is left in a
framework's code. A script that wants its icons waits for them (``w.wait()``).
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable

from neuron_groups.errors import Cancelled

EXIT_WAIT = 10.0
"""Seconds the interpreter's exit waits, in all, for running jobs to stop (one icon step
takes well under a second on a CPU; a model's first load may not be stoppable)."""

_running: set[Job] = set()
_lock = threading.Lock()
_hooked = False


class Job:
    """One piece of work run in a daemon thread: stoppable between steps, waitable.

    Parameters
    ----------
    work : callable
        Called as ``work(job)`` in the thread. It may raise
        :class:`~neuron_groups.errors.Cancelled` to end early (``cancelled`` is then True);
        any other exception is kept in ``error`` and passed to ``on_error``.
    name : str
        The thread's name.
    on_error : callable, optional
        Called as ``on_error(job, exc)`` in the thread when ``work`` fails.

    Attributes
    ----------
    error : Exception or None
        What ``work`` raised (not a cancellation).
    cancelled : bool
        Whether ``work`` ended by a cancellation.
    """

    def __init__(
        self,
        work: Callable[[Job], None],
        *,
        name: str,
        on_error: Callable[[Job, Exception], None] | None = None,
    ):
        self.name = name
        self.error: Exception | None = None
        self.cancelled = False
        self._work = work
        self._on_error = on_error
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Job:
        """Start the work in its thread; return the job."""
        _hook_exit()
        with _lock:
            _running.add(self)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._work(self)
        except Cancelled:
            self.cancelled = True
        except Exception as exc:  # kept and reported, never lost silently
            self.error = exc
            if self._on_error is not None:
                self._on_error(self, exc)
        finally:
            with _lock:
                _running.discard(self)

    # -- asking it to stop -----------------------------------------------------------------
    @property
    def stopping(self) -> bool:
        """Whether the job was asked to stop."""
        return self._stop.is_set()

    def should_stop(self) -> bool:
        """The same as :attr:`stopping`, as a function (for ``IconHooks.should_stop``)."""
        return self._stop.is_set()

    def check(self) -> None:
        """Raise :class:`~neuron_groups.errors.Cancelled` if the job was asked to stop."""
        if self._stop.is_set():
            raise Cancelled(f"{self.name} was stopped")

    def stop(self, wait: bool = True, timeout: float | None = None) -> None:
        """Ask the work to stop at its next step; with ``wait``, return once it has ended."""
        self._stop.set()
        if wait:
            self.wait(timeout)

    # -- waiting -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the thread has started and not ended."""
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has ended (or ``timeout`` seconds); return True if it has.

        From the job's own thread it returns False at once (the work is still running).
        """
        if self._thread is threading.current_thread():
            return False
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)
        return not self._thread.is_alive()


def wait_all(jobs: list[Job | None], timeout: float | None = None) -> bool:
    """Wait for each job in turn, ``timeout`` seconds in all; True if every one has ended."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for job in jobs:
        if job is None:
            continue
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not job.wait(left):
            return False
    return True


def running_jobs() -> list[Job]:
    """The jobs whose work has started and not ended."""
    with _lock:
        return list(_running)


def stop_all(timeout: float = EXIT_WAIT) -> list[Job]:
    """Ask every running job to stop and wait for them (``timeout`` seconds in all).

    Run when the interpreter begins to exit. Returns the jobs still running, which are
    named on stderr.
    """
    jobs = running_jobs()
    for job in jobs:
        job.stop(wait=False)
    wait_all(list(jobs), timeout)
    left = [job for job in jobs if job.running]
    if left:
        names = ", ".join(job.name for job in left)
        print(f"neuron-groups: background work still running at exit: {names}", file=sys.stderr)
    return left


def _hook_exit() -> None:
    global _hooked
    with _lock:
        if _hooked:
            return
        _hooked = True
    register = getattr(threading, "_register_atexit", None)  # runs before threads are joined
    try:
        if register is None:
            raise RuntimeError("no threading._register_atexit")
        register(stop_all)
    except RuntimeError:  # missing, or the interpreter is already exiting
        atexit.register(stop_all)


class Throttle:
    """Says when a progress report is due: at most one every ``seconds``, and the last one.

    Parameters
    ----------
    seconds : float
        The least time between two reports.
    """

    def __init__(self, seconds: float = 0.2):
        self.seconds = seconds
        self._last = -float("inf")

    def due(self, final: bool = False) -> bool:
        """Whether to report now (always for the ``final`` report)."""
        now = time.monotonic()
        if final or now - self._last > self.seconds:
            self._last = now
            return True
        return False
