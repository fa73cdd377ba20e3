"""GroupWidget and GalleryWidget agree: the same controls, return types, job and shared traits."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

import neuron_groups
from neuron_groups import IconSettings
from neuron_groups.datasets import fit_groups
from neuron_groups.display.base import WidgetBase
from neuron_groups.display.gallery import GalleryState, GalleryWidget
from neuron_groups.display.jobs import Job
from neuron_groups.display.state import ViewState, WidgetState
from neuron_groups.display.widget import GroupWidget
from neuron_groups.errors import ModelError
from tests.core.test_datasets import random_images
from tests.fakes import FakeModel

IMAGE = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
CONTROLS = ("stop", "wait", "close", "save_html")


@pytest.fixture(scope="module")
def groups():
    return fit_groups(
        random_images(16), "conv", 3, model=FakeModel(), batch_size=8, progress=False, top_k=2
    )


def running(kind: str, groups, model: FakeModel):
    settings = IconSettings(steps=100_000, size=8)
    if kind == "group":
        return GroupWidget(IMAGE, "conv", 3, model=model, icon_settings=settings, icon_cache=False)
    return GalleryWidget(groups, model, classes=False, icon_settings=settings, icon_cache=False)


def test_both_widgets_have_the_same_controls_from_one_base():
    for name in CONTROLS:
        base = getattr(WidgetBase, name)
        assert getattr(GroupWidget, name) is base and getattr(GalleryWidget, name) is base, name
    assert str(inspect.signature(WidgetBase.stop)) == "(self, wait: 'bool' = True) -> 'None'"
    assert str(inspect.signature(WidgetBase.wait)) == (
        "(self, timeout: 'float | None' = None) -> 'bool'"
    )
    assert str(inspect.signature(WidgetBase.save_html)) == (
        "(self, path: 'str | Path', title: 'str | None' = None) -> 'Path'"
    )
    assert neuron_groups.GalleryWidget is GalleryWidget  # exported, as GroupWidget is


def test_both_widgets_declare_the_shared_traits_once():
    shared = WidgetState.class_trait_names(sync=True)
    assert sorted(shared) == [
        "error",
        "explained_variance",
        "group_colors",
        "icon_size",
        "icons",
        "layer",
        "model_name",
        "progress",
        "progress_text",
        "selected_group",
        "stability",
        "status",
        "title",
    ]
    for name in shared:
        trait = WidgetState.class_traits()[name]
        for cls in (ViewState, GalleryState, GroupWidget, GalleryWidget):
            assert cls.class_traits()[name] is trait, (cls.__name__, name)


@pytest.mark.parametrize("kind", ["group", "gallery"])
def test_stop_wait_and_save_behave_alike(kind, groups, tmp_path):
    model = FakeModel(step_delay=0.01)
    w = running(kind, groups, model)
    assert model.started.wait(30)
    assert not hasattr(w, "thread") and isinstance(w._job, Job)  # a private job
    job = w._job
    assert w.wait(timeout=0.05) is False  # still running
    assert w.stop() is None and not job.running and job.cancelled
    assert w.status == "stopped" and w.wait() is True
    path = w.save_html(tmp_path / "page.html")
    assert isinstance(path, Path) and path.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert neuron_groups.save_page(w) == path.read_text(encoding="utf-8")
    w.close()


@pytest.mark.parametrize("kind", ["group", "gallery"])
def test_closing_stops_the_work(kind, groups):
    model = FakeModel(step_delay=0.01)
    w = running(kind, groups, model)
    assert model.started.wait(30)
    job = w._job
    w.close()
    assert job.wait(10) and job.cancelled


@pytest.mark.parametrize("kind", ["group", "gallery"])
def test_both_raise_their_failure_from_wait(kind, groups):
    other = FakeModel()
    other.head = other.head + 1  # other weights: the shared groups refuse it

    if kind == "group":
        w = GroupWidget(IMAGE, model=other, groups=groups, icons=False)
    else:
        w = GalleryWidget(groups, other, icon_cache=False)
    with pytest.raises(ModelError, match="fitted with"):
        w.wait(timeout=30)
    assert w.status == "error" and "fitted with" in w.error
