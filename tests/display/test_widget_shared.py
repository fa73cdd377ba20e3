"""GroupWidget(img, groups=shared): one image seen through groups fitted on many (fake model)."""

from __future__ import annotations

import numpy as np
import pytest

from neuron_groups import IconSettings
from neuron_groups.datasets import SharedGroups, fit_groups
from neuron_groups.display.state import display_maps, even_hues, hue_colors
from neuron_groups.display.widget import GroupWidget
from neuron_groups.icons import cache_key
from tests.core.test_datasets import random_images
from tests.fakes import FakeModel

IMAGE = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
OTHER = np.random.default_rng(2).random((70, 70, 3)).astype(np.float32) ** 3


@pytest.fixture(scope="module")
def groups() -> SharedGroups:
    return fit_groups(
        random_images(32), "conv", 4, model=FakeModel(), batch_size=8, progress=False, top_k=3
    )


def make(groups, model=None, **kwargs) -> GroupWidget:
    options = {"icons": False, "icon_cache": False, **kwargs}
    return GroupWidget(IMAGE, model=model or FakeModel(), groups=groups, **options)


def shown_maps(w: GroupWidget) -> np.ndarray:
    return np.frombuffer(w.spatial, "<f4").reshape(w.spatial_shape)


def test_the_image_is_seen_through_the_shared_groups(groups):
    model = FakeModel()
    w = make(groups, model)
    assert w.status == "ready" and w.error == ""
    acts = model.activations(IMAGE, "conv")  # (7, 7, 8)
    expected = groups.project(acts)  # (4, 7, 7)
    np.testing.assert_allclose(w.result.spatial, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(shown_maps(w), display_maps(expected), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(w.result.channel, groups.channel)
    assert w.layer == "conv" and w.n_groups == 4 and w.n_groups_options == [4]
    assert w.group_colors == hue_colors(even_hues(4))  # by group index, as in the gallery
    assert w.result.attributions.shape == (4, 4)  # the fake's 4 classes x 4 groups


def test_the_group_count_is_fixed(groups):
    w = make(groups)
    w.set_state({"n_groups": 3})
    assert w.n_groups == 4 and w.result.n_groups == 4
    assert "n_groups=3 was refused" in w.error and "fixed" in w.error


def test_a_new_image_is_projected_on_the_same_groups(groups):
    model = FakeModel()
    w = make(groups, model)
    colors = list(w.group_colors)
    w.set_image(OTHER)
    assert w.error == "" and w.status == "ready"
    expected = groups.project(model.activations(OTHER, "conv"))
    np.testing.assert_allclose(w.result.spatial, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(w.result.channel, groups.channel)
    assert w.group_colors == colors and w.n_groups == 4 and w.n_groups_options == [4]


def test_icons_are_those_of_the_shared_directions(groups, tmp_path):
    model = FakeModel()
    settings = IconSettings(size=8, steps=2)
    w = make(groups, model, icons=True, icon_settings=settings, icon_cache=tmp_path)
    assert w.wait(30) and all(w.icons) and model.icon_calls == 1
    key = cache_key(model, "conv", groups.channel, settings)
    assert (tmp_path / f"{key}.npy").exists()  # cached per the groups' directions
    w.set_image(OTHER)  # another image, the same groups: the same icons, from the cache
    assert w.wait(30) and model.icon_calls == 1 and all(w.icons)


def test_a_layer_mismatch_is_a_clear_error(groups):
    w = make(groups, layer="conv2")
    assert w.status == "error" and "fitted at 'conv', which is not read here (conv2)" in w.error
    assert "Read layer='conv'" in w.error
    shown = make(groups)
    shown.set_state({"layer": "conv2"})
    assert shown.layer == "conv" and "fitted at 'conv'" in shown.error


def test_shared_groups_are_one_layer_of_several(groups):
    model = FakeModel()
    w = make(groups, model, layer=["conv", "conv2"])
    assert w.status == "ready" and w.error == ""
    assert w.layer_groups == [4, 6]  # the shared count at conv, the default elsewhere
    (entry,) = w.earlier_layers
    assert entry["layer"] == "conv" and entry["n_groups_options"] == [4]
    assert entry["group_colors"] == hue_colors(even_hues(4))  # by group index
    np.testing.assert_array_equal(w.result.groups["conv"].channel, groups.channel)
    expected = groups.project(model.activations(IMAGE, "conv"))
    np.testing.assert_allclose(w.result.groups["conv"].spatial, expected, rtol=1e-5, atol=1e-7)
    assert w.n_groups_options == list(range(1, 13)) and w.flows[0]["shape"] == [4, 6]
    with pytest.raises(Exception, match="the groups at conv are given"):
        w.layer_groups = [3, 6]
    w.layer_groups = [4, 2]  # the other layer's count is free
    assert w.error == "" and w.flows[0]["shape"] == [4, 2]


def test_another_count_of_shared_groups_is_refused(groups):
    w = make(groups, n_groups=6)
    assert w.status == "error" and "are 4, fixed; got n_groups=6" in w.error


def test_another_models_groups_are_refused(groups):
    other = FakeModel()
    other.head = other.head + 1
    w = make(groups, other)
    assert w.status == "error" and "fitted with fake-" in w.error


def test_its_page_offers_only_the_shared_count(groups, tmp_path):
    import json
    import re

    w = make(groups)
    text = w.save_html(tmp_path / "shared.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="neuron-groups-data">(.*?)</script>', text, re.S).group(1))
    assert data["state"]["n_groups_options"] == [4] and data["variants"] == {}
    assert data["state"]["group_colors"] == hue_colors(even_hues(4))
