"""The session behind a GroupWidget, alone: numpy only, on the fake model (no anywidget)."""

from __future__ import annotations

import numpy as np
import pytest

from neuron_groups.datasets import fit_groups
from neuron_groups.errors import (
    ClassNameError,
    GroupCountError,
    LayerError,
    NeuronGroupsError,
)
from neuron_groups.reading import ImageReading
from neuron_groups.session import SAVED, Session, class_list
from tests.core.test_datasets import random_images
from tests.fakes import FakeModel

IMAGE = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
OTHER = np.random.default_rng(2).random((70, 70, 3)).astype(np.float32) ** 3
LAYERS = ["conv", "conv2"]


def open_session(model=None, layers="conv", n_groups=3, classes=None, **options) -> Session:
    return Session.open(model or FakeModel(), IMAGE, layers, n_groups, classes, **options)


@pytest.fixture(scope="module")
def shared():
    return fit_groups(
        random_images(32), "conv", 4, model=FakeModel(), batch_size=8, progress=False, top_k=3
    )


# -- opening -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "counts", "error", "message"),
    [
        (["conv2", "conv"], 3, LayerError, "comes before"),
        (["conv", "logits"], 3, LayerError, "no spatial extent"),
        ("convv", 3, LayerError, "Did you mean 'conv'"),
        (LAYERS, [3, 4, 5], GroupCountError, "3 counts for 2 layers"),
    ],
)
def test_bad_choices_are_refused_before_any_pass(layers, counts, error, message):
    model = FakeModel()
    with pytest.raises(error, match=message):
        open_session(model, layers, counts)
    assert model.reads == 0


def test_open_reads_once_and_analyze_is_the_readings_analysis():
    model = FakeModel()
    session = open_session(model, LAYERS, [3, 4], ["dog"])
    assert model.reads == 1 and session.result is None and session.counts == [3, 4]
    result = session.analyze()
    expected = ImageReading(FakeModel(), IMAGE, LAYERS, ["dog"]).analyze([3, 4], ["dog"])
    assert result is session.result and result.counts == [3, 4] and result.classes == ["dog"]
    for layer in LAYERS:
        np.testing.assert_array_equal(result.groups[layer].spatial, expected.groups[layer].spatial)
    np.testing.assert_array_equal(
        result.flows[("conv", "conv2")], expected.flows[LAYERS[0], "conv2"]
    )
    np.testing.assert_array_equal(result.attributions, expected.attributions)


def test_the_default_layer_is_that_of_given_groups(shared):
    session = Session.open(FakeModel(), IMAGE, method=shared)
    assert session.layers == ["conv"] and session.counts == [4] and session.fixed == {"conv": 4}


# -- counts --------------------------------------------------------------------------------------


def test_options_follow_max_groups_and_a_bad_count_says_why_and_the_nearest():
    session = open_session(layers=LAYERS, n_groups=[3, 4])
    session.analyze()
    assert session.options("conv") == list(range(1, 9))  # min(16, 49 positions, 8 channels)
    assert session.options("conv2") == list(range(1, 13))
    with pytest.raises(GroupCountError) as refused:
        session.set_count("conv", 9)
    assert str(refused.value) == (
        "conv has 1 to 8 groups here (no more groups than its 7x7 positions and 8 channels); "
        "got 9. Nearest valid: 8."
    )
    with pytest.raises(GroupCountError, match=r"one count per layer \(conv, conv2\); got 1"):
        session.set_counts([3])
    assert session.counts == [3, 4]  # nothing changed


def test_a_count_at_one_layer_recomputes_that_layer_and_keeps_its_icons():
    model = FakeModel()
    session = open_session(model, LAYERS, [3, 4])
    first = session.analyze()
    first.groups["conv"].icons = np.zeros((3, 8, 8, 3), np.float32)
    reads = model.reads
    changed = session.set_count("conv", 5)  # the earlier layer: no pass
    assert model.reads == reads and changed.counts == [5, 4]
    assert changed.groups["conv2"] is first.groups["conv2"]
    assert [g.layer for g in session.icon_queue()] == ["conv2", "conv"]  # last layer first
    back = session.set_count("conv", 3)
    assert back.groups["conv"] is first.groups["conv"] and back.groups["conv"].icons is not None
    assert [g.layer for g in session.icon_queue()] == ["conv2"]
    session.set_count("conv2", 2)  # the last layer: one pass for the pair
    assert model.reads == reads + 1 and session.counts == [3, 2]


def test_results_by_count_are_every_count_seen_with_todays_classes():
    session = open_session(n_groups=3)
    session.analyze()
    session.set_count("conv", 5)
    session.set_count("conv", 2)
    session.set_classes(["car"])
    results = session.results_by_count()
    assert sorted(results) == [2, 3, 5] and results[2] is session.result
    assert all(r.classes == ["car"] for r in results.values())
    several = open_session(layers=LAYERS, n_groups=[3, 4])
    several.analyze()
    several.set_count("conv2", 2)
    assert list(several.results_by_count()) == [2]  # the flows change with a count too


# -- classes ---------------------------------------------------------------------------------------


def test_classes_are_kept_as_given_without_repeats_and_new_ones_cost_one_pass():
    model = FakeModel()
    session = open_session(model, classes=["kitty", 1])
    session.analyze()
    assert session.classes == ["kitty", 1] and session.result.classes == ["cat", "dog"]
    reads = model.reads
    session.set_classes(["cat", "dog", "car", 0])
    assert session.classes == ["cat", "dog", "car"] and model.reads == reads + 1
    session.set_classes(None)
    assert session.classes == [] and len(session.result.classes) == 4  # the top 5 of 4


def test_a_bad_class_at_open_is_read_anyway_and_can_be_fixed():
    model = FakeModel()
    session = open_session(model, classes=["dgo"])
    assert model.reads == 1
    with pytest.raises(ClassNameError, match="Unknown class 'dgo'"):
        session.analyze()
    with pytest.raises(ClassNameError):
        session.set_count("conv", 4)  # still the classes asked
    assert session.result is None and session.counts == [3]
    session.set_classes(["dog"])
    assert session.result.classes == ["dog"] and session.result.n_groups == 3


def test_a_failed_change_changes_nothing():
    session = open_session(classes=["dog"])
    shown = session.analyze()
    with pytest.raises(ClassNameError):
        session.set_classes(["no such class"])
    with pytest.raises(ValueError):  # too small for the fake's 7 x 7 map
        session.set_image(np.zeros((1, 1, 3), np.float32))
    assert session.result is shown and session.classes == ["dog"]
    assert session.reading.image is IMAGE


def test_class_list_keeps_ints_and_names():
    assert class_list([np.int64(3), "dog", 2]) == [3, "dog", 2]
    assert type(class_list([np.int64(3)])[0]) is int
    assert class_list(None) == [] and class_list("dog") == [] and class_list(3) == []


# -- image and layer -------------------------------------------------------------------------------


@pytest.mark.parametrize("layers", ["conv", LAYERS])
def test_another_image_keeps_the_choices(layers):
    session = open_session(layers=layers, n_groups=3 if layers == "conv" else [3, 4])
    session.analyze()
    session.set_classes(["tree"])
    counts = session.counts
    result = session.set_image(OTHER)
    assert result.image is OTHER and result.counts == counts and result.classes == ["tree"]
    assert list(session.results_by_count()) == [counts[-1]]  # the old image's counts are gone


def test_another_layer_for_one_layer_only():
    model = FakeModel()
    session = open_session(model)
    session.analyze()
    reads = model.reads
    assert session.set_layer("block/conv") is session.result and model.reads == reads
    moved = session.set_layer("conv2")
    assert moved.layer == "conv2" and moved.n_groups == 3 and session.layers == ["conv2"]
    several = open_session(layers=LAYERS, n_groups=[3, 4])
    several.analyze()
    with pytest.raises(LayerError, match="the layers of a view of several layers are fixed"):
        several.set_layer("conv")


# -- given groups and saved results ----------------------------------------------------------------


def test_given_groups_are_one_layers_method(shared):
    model = FakeModel()
    session = Session.open(model, IMAGE, LAYERS, method=shared)
    result = session.analyze()
    assert result.counts == [4, 6] and session.options("conv") == [4]
    np.testing.assert_array_equal(result.groups["conv"].channel, shared.channel)
    np.testing.assert_allclose(
        result.groups["conv"].spatial, shared.project(model.activations(IMAGE, "conv")), rtol=1e-5
    )
    with pytest.raises(GroupCountError, match="the groups at conv are given"):
        session.set_count("conv", 3)
    with pytest.raises(LayerError, match="fitted at 'conv', which is not read here"):
        Session.open(model, IMAGE, "conv2", method=shared)


def test_a_saved_result_is_shown_as_it_is_and_refuses_changes(tmp_path):
    from neuron_groups import load

    computed = open_session(layers=LAYERS, n_groups=[3, 4], classes=["car"])
    computed.analyze()
    session = Session.of_result(load(computed.result.save(tmp_path / "r.npz")))
    assert session.layers == LAYERS and session.counts == [3, 4] and session.classes == ["car"]
    assert session.options("conv") == [3] and session.icon_queue() == []
    assert list(session.results_by_count()) == [4]
    for change in (
        lambda: session.set_count("conv", 2),
        lambda: session.set_classes(["dog"]),
        lambda: session.set_image(OTHER),
        lambda: session.analyze(),
    ):
        with pytest.raises(NeuronGroupsError, match="saved result"):
            change()
    assert SAVED.startswith("this view shows a saved result")


def test_render_icons_gives_the_groups_their_icons():
    from neuron_groups.backends.base import IconSettings

    model = FakeModel()
    session = open_session(model, layers=LAYERS, n_groups=[2, 3])
    session.analyze()
    for groups in session.icon_queue():
        session.render_icons(groups, IconSettings(steps=2, size=8), cache=False)
    assert session.icon_queue() == [] and model.icon_calls == 2
    assert session.result.groups["conv"].icons.shape == (2, 8, 8, 3)
