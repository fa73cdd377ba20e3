"""The background-job helper both widgets use, alone (threads only, no widget)."""

from __future__ import annotations

import threading

import pytest

from neuron_groups.display import jobs
from neuron_groups.display.jobs import Job, Throttle, running_jobs, stop_all, wait_all
from neuron_groups.errors import Cancelled


def looping(started: threading.Event, steps: list[int], delay: float = 0.005):
    """Work that counts steps until it is asked to stop."""

    def work(job: Job) -> None:
        started.set()
        while True:
            job.check()
            steps.append(len(steps))
            threading.Event().wait(delay)

    return work


def test_a_job_runs_in_its_named_daemon_thread_and_stops_between_steps():
    started, steps, names = threading.Event(), [], []

    def work(job):
        names.append((threading.current_thread().name, threading.current_thread().daemon))
        looping(started, steps)(job)

    job = Job(work, name="neuron-groups-test").start()
    assert started.wait(10) and job.running and job in running_jobs()
    assert job.wait(timeout=0.05) is False  # still running
    assert job.stop() is None  # waits by default
    assert not job.running and job.cancelled and job.error is None and job.stopping
    assert names == [("neuron-groups-test", True)] and steps
    assert job not in running_jobs()
    done = len(steps)
    assert job.wait() is True and len(steps) == done


def test_stop_without_waiting_returns_at_once():
    started, release = threading.Event(), threading.Event()

    def work(job):
        started.set()
        release.wait(10)
        job.check()

    job = Job(work, name="slow step").start()
    assert started.wait(10)
    job.stop(wait=False)
    assert job.stopping and job.running  # the step is not over
    release.set()
    assert job.wait(10) and job.cancelled


def test_a_failure_is_kept_and_reported_from_the_thread():
    seen = []

    def work(job):
        raise RuntimeError("out of memory")

    job = Job(
        work,
        name="failing",
        on_error=lambda j, exc: seen.append((j, exc, threading.current_thread().name)),
    ).start()
    assert job.wait(10)
    assert isinstance(job.error, RuntimeError) and not job.cancelled
    assert seen == [(job, job.error, "failing")]


def test_waiting_from_the_jobs_own_thread_does_not_deadlock():
    answers = []
    job = Job(lambda j: answers.append(j.wait(1)), name="self").start()
    assert job.wait(10) and answers == [False]


def test_a_job_never_started_has_ended():
    job = Job(lambda j: None, name="idle")
    assert job.wait(0) is True and not job.running
    assert wait_all([None, job], timeout=0) is True


def test_wait_all_shares_one_timeout():
    release = threading.Event()
    first = Job(lambda j: release.wait(10), name="first").start()
    second = Job(lambda j: None, name="second").start()
    assert wait_all([first, second], timeout=0.05) is False
    release.set()
    assert wait_all([first, second], timeout=10) is True


def test_stop_all_stops_every_running_job_and_names_those_that_do_not_stop(capsys):
    started, steps = threading.Event(), []
    polite = Job(looping(started, steps), name="polite").start()
    assert started.wait(10)
    release = threading.Event()
    stubborn = Job(lambda j: release.wait(10), name="stubborn").start()  # never checks
    try:
        left = stop_all(timeout=0.5)
        assert left == [stubborn] and not polite.running and polite.cancelled
        assert "background work still running at exit: stubborn" in capsys.readouterr().err
    finally:
        release.set()
        assert stubborn.wait(10)


def test_the_exit_hook_is_registered_once(monkeypatch):
    registered = []
    monkeypatch.setattr(jobs, "_hooked", False)
    monkeypatch.setattr(jobs.threading, "_register_atexit", registered.append, raising=False)
    for _ in range(2):
        Job(lambda j: None, name="hooked").start().wait(10)
    assert registered == [stop_all]


def test_the_exit_hook_falls_back_to_atexit(monkeypatch):
    def refuse(fn):
        raise RuntimeError("can't register atexit after shutdown")

    registered = []
    monkeypatch.setattr(jobs, "_hooked", False)
    monkeypatch.setattr(jobs.threading, "_register_atexit", refuse, raising=False)
    monkeypatch.setattr(jobs.atexit, "register", registered.append)
    Job(lambda j: None, name="late").start().wait(10)
    assert registered == [stop_all]


def test_check_raises_cancelled_only_once_asked():
    job = Job(lambda j: None, name="checked")
    job.check()  # not asked: nothing
    job.stop(wait=False)
    with pytest.raises(Cancelled, match="checked was stopped"):
        job.check()
    assert job.should_stop() is True


def test_throttle_lets_one_report_through_per_interval_and_always_the_last(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: now[0])
    throttle = Throttle(0.2)
    assert throttle.due() is True
    now[0] += 0.1
    assert throttle.due() is False
    assert throttle.due(final=True) is True
    now[0] += 0.25
    assert throttle.due() is True
