"""The trust readouts and the region tiles in the widget's state (numpy fake model)."""

import io

import numpy as np
import PIL.Image
import pytest

from neuron_groups.display.gallery import gallery_state
from neuron_groups.display.widget import GroupWidget
from neuron_groups.images import to_uint8
from neuron_groups.peak_crops import peak_crop
from tests.display.test_widget import IMAGE, floats, make
from tests.fakes import FakeModel


def test_every_method_travels_and_the_switch_shows_another_without_a_pass():
    model = FakeModel()
    w = make(model)
    w.wait()
    assert w.attribution_method == "integrated" == w.result.attribution_method
    assert w.attribution_methods == ["integrated", "linear", "ablation"]
    k = len(w.class_names)
    for method, table in w.tables.items():
        np.testing.assert_allclose(floats(table, (k, 3)), w.result.tables[method])
    assert floats(w.rest, (k,)).shape == (k,) and len(w.disagreements) == k * 3
    reads, evaluations = model.reads, model.evaluations
    w.attribution_method = "ablation"
    assert w.result.attribution_method == "ablation" and w.error == ""
    np.testing.assert_allclose(floats(w.attributions, (k, 3)), w.result.tables["ablation"])
    assert (model.reads, model.evaluations) == (reads, evaluations)  # nothing recomputed
    w.n_groups = 4  # the method chosen stays
    assert w.result.attribution_method == "ablation" and w.attribution_method == "ablation"


def test_a_widget_can_open_on_another_method():
    w = make(attribution="linear")
    assert w.attribution_method == "linear"
    np.testing.assert_allclose(
        floats(w.attributions, (len(w.class_names), 3)), w.result.tables["linear"]
    )


def test_explained_variance_comes_at_once_and_the_curve_and_stability_a_moment_later():
    w = make()
    assert w.explained_variance == pytest.approx(w.result.last.explained_variance)
    w.wait()  # the measure job
    assert len(w.explained_variance_by_k) == 8  # 1..8 groups (8 channels)
    assert w.explained_variance_by_k[2] == pytest.approx(w.explained_variance)
    assert len(w.stability) == 3 and all(0 <= v <= 1 for v in w.stability)
    np.testing.assert_allclose(w.stability, w.result.last.stability, rtol=1e-6)


def test_each_group_tile_has_its_image_region_with_the_cell_outlined():
    w = make()
    assert len(w.regions) == 3
    for g, png in enumerate(w.regions):
        region = np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"))
        crop = peak_crop(IMAGE, w.result.spatial[g], 80)
        expected = to_uint8(crop.crop)  # (80, 80, 3), as every PNG of the package is made
        top, left, bottom, right = (round(v * 79) for v in crop.box)
        outline = np.zeros((80, 80), bool)
        outline[top : bottom + 1, [left, right]] = True
        outline[[top, bottom], left : right + 1] = True
        assert region.shape == (80, 80, 3)
        assert (region[outline] == 255).all()  # the peak cell, outlined in white
        np.testing.assert_array_equal(region[~outline], expected[~outline])  # the image itself


def test_the_layers_view_carries_the_readouts_of_each_layer_and_flow():
    w = GroupWidget(IMAGE, ["conv", "conv2"], [2, 3], model=FakeModel(), icons=False)
    w.wait()
    (earlier,) = w.earlier_layers
    assert earlier["explained_variance"] == pytest.approx(
        w.result.groups["conv"].explained_variance
    )
    assert len(earlier["stability"]) == 2 and len(earlier["regions"]) == 2
    assert len(earlier["explained_variance_by_k"]) == 8
    (flow,) = w.flows
    assert set(flow["tables"]) == {"integrated", "linear", "ablation"}
    np.testing.assert_allclose(
        floats(flow["tables"]["linear"], (2, 3)), w.result.flow_tables["linear"][("conv", "conv2")]
    )
    assert len(flow["disagreements"]) == 6 and floats(flow["rest"], (3,)).shape == (3,)


def test_the_gallery_shows_the_datasets_readouts():
    from neuron_groups.datasets import fit_groups
    from tests.core.test_datasets import random_images

    groups = fit_groups(
        random_images(8, seed=2), "conv", 3, model=FakeModel(), batch_size=2, progress=False
    )
    state = gallery_state(groups)
    assert state["explained_variance"] == pytest.approx(groups.explained_variance)
    np.testing.assert_allclose(state["stability"], groups.stability, rtol=1e-6)
    groups.stability, groups.explained_variance = None, float("nan")  # a file from before
    state = gallery_state(groups)
    assert state["stability"] == [] and state["explained_variance"] is None
