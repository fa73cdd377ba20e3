"""ImageReading at one layer on the numpy fake model: one pass, classes without repeats, cached
gradients."""

import numpy as np
import pytest

from neuron_groups.errors import ClassNameError, LayerError, NeuronGroupsError
from neuron_groups.pipeline import neuron_groups
from neuron_groups.reading import ImageReading
from tests.fakes import FakeModel


@pytest.fixture
def image():
    return np.random.default_rng(0).random((28, 28, 3)).astype(np.float32)


def test_one_pass_reads_activations_logits_and_gradients(image):
    model = FakeModel()
    reading = ImageReading(model, image, "conv", ["dog", "car"])
    result = reading.analyze(3, ["dog", "car"])
    assert model.reads == 1
    expected_logits = model.head @ reading.acts["conv"].ravel()
    np.testing.assert_allclose(reading.logits, expected_logits, rtol=1e-5)
    # The fake head is linear: attribution of class k to group g is head_k . group vector g.
    vectors = result.spatial[..., None] * result.channel[:, None, None, :]  # (n, h, w, C)
    expected = model.head[[1, 2]] @ vectors.reshape(3, -1).T  # (k, n)
    np.testing.assert_allclose(result.attributions, expected, rtol=1e-4, atol=1e-5)


def test_the_default_classes_are_the_top5_from_the_same_pass(image):
    model = FakeModel()
    reading = ImageReading(model, image, "conv")
    result = reading.analyze(2)
    assert model.reads == 1
    assert list(result.class_indices) == list(np.argsort(-reading.logits, kind="stable")[:4])


def test_only_new_classes_cost_another_pass(image):
    model = FakeModel()
    reading = ImageReading(model, image, "conv", ["cat"])
    reading.analyze(2, ["cat"])
    reading.analyze(3, ["cat"])
    assert model.reads == 1
    result = reading.analyze(2, ["tree", "cat"])
    assert model.reads == 2 and result.classes == ["tree", "cat"]
    reading.analyze(2, ["tree"])
    assert model.reads == 2


def test_a_class_named_twice_is_one_row(image):
    model = FakeModel()
    reading = ImageReading(model, image, "conv")
    result = reading.analyze(2, ["cat", "kitty", 0, "dog", 1])
    assert result.classes == ["cat", "dog"] and list(result.class_indices) == [0, 1]
    assert reading.unique_classes(["cat", "kitty", 0, "dog", 1]) == ["cat", "dog"]
    assert reading.unique_classes([3, "tree", "car"]) == [3, "car"]


def test_neuron_groups_runs_one_pass(image):
    model = FakeModel()
    neuron_groups(image, "conv", 2, ["car"], model=model, icons=False)
    assert model.reads == 1


def test_bad_layers_and_classes(image):
    model = FakeModel()
    with pytest.raises(LayerError, match=r"no spatial extent.*conv"):
        ImageReading(model, image, "logits")
    with pytest.raises(ClassNameError, match="list of names"):
        ImageReading(model, image, "conv", "cat")
    with pytest.raises(ClassNameError, match="out of range"):
        ImageReading(model, image, "conv", [9])
    assert model.reads == 0  # refused before any work


def test_a_result_of_one_layer_is_a_result_of_several_with_one(image):
    result = ImageReading(FakeModel(), image, "conv").analyze(2)
    assert result.layers == ["conv"] and result.flows == {} and result.counts == [2]
    assert result.last is result.groups["conv"] and result.spatial is result.last.spatial
    with pytest.raises(NeuronGroupsError, match="one layer has no flows"):
        result.flow_table()


# -- every attribution method, kept in the result -------------------------------------------------


def test_every_method_is_computed_and_the_chosen_one_shown(image):
    model = FakeModel()
    reading = ImageReading(model, image, "conv", ["dog", "car"])
    result = reading.analyze(3, ["dog", "car"])
    assert result.attribution_method == "integrated"
    assert set(result.tables) == {"integrated", "linear", "ablation"}
    np.testing.assert_array_equal(result.attributions, result.tables["integrated"])
    # The fake is linear: integrated gradients equal the linear table, and the rest closes
    # the gap to logit(a) - logit(0) = logit(a).
    np.testing.assert_allclose(result.tables["integrated"], result.tables["linear"], rtol=1e-4)
    logits = reading.logits[[1, 2]]
    np.testing.assert_allclose(result.attributions.sum(1) + result.rest, logits, rtol=1e-4)
    linear = reading.analyze(3, ["dog", "car"], attribution="linear")
    vectors = result.spatial[..., None] * result.channel[:, None, None, :]  # (n, h, w, C)
    expected = model.head[[1, 2]] @ vectors.reshape(3, -1).T  # the article's table, exactly
    np.testing.assert_allclose(linear.attributions, expected, rtol=1e-4, atol=1e-5)
    assert result.use("ablation").attributions is result.tables["ablation"]


def test_a_bad_attribution_method_names_the_choices(image):
    with pytest.raises(NeuronGroupsError, match=r"Unknown attribution 'lineer'. Did you mean 'lin"):
        ImageReading(FakeModel(), image, "conv").analyze(2, attribution="lineer")
    with pytest.raises(NeuronGroupsError, match="Methods: integrated, linear, ablation"):
        neuron_groups(image, "conv", 2, model=FakeModel(), attribution="shap", icons=False)


def test_explained_variance_comes_with_the_groups_and_the_rest_with_measure(image):
    reading = ImageReading(FakeModel(), image, "conv")
    result = reading.analyze(3)
    groups = result.last
    assert 0 < groups.explained_variance <= 1
    assert groups.explained_variance == pytest.approx(1 - groups.reconstruction_error**2, 1e-4)
    assert groups.explained_variance_by_k is None and groups.stability is None
    reading.measure(result, refits=2)
    assert groups.explained_variance_by_k.shape == (8,)  # no more groups than 8 channels
    assert groups.explained_variance_by_k[2] == pytest.approx(groups.explained_variance)
    assert groups.stability.shape == (3,) and np.all(groups.stability <= 1)


def test_every_readout_is_saved_and_loaded(image, tmp_path):
    from neuron_groups import load

    result = neuron_groups(image, "conv", 3, ["dog"], model=FakeModel(), icons=False)
    path = result.save(tmp_path / "r.npz")
    with np.load(path) as saved:
        keys = set(saved.files)
    assert {
        "attributions",
        "attribution_method",
        "attributions_linear",
        "attributions_integrated",
        "attributions_rest",
        "effects_ablation",
        "explained_variance",
        "explained_variance_by_k",
        "stability",
    } <= keys
    again = load(path)
    assert again.attribution_method == "integrated" and set(again.tables) == set(result.tables)
    for method, table in result.tables.items():
        np.testing.assert_array_equal(again.tables[method], table)
    np.testing.assert_array_equal(again.rest, result.rest)
    np.testing.assert_array_equal(again.last.stability, result.last.stability)
    assert again.last.explained_variance == result.last.explained_variance


def test_a_layer_no_target_depends_on_is_warned_about(image):
    class Unreached(FakeModel):
        def read(self, image, layer, targets=None):
            readout = super().read(image, layer, targets)
            return type(readout)(readout.acts, readout.logits, 0 * readout.grads, readout.targets)

    with pytest.warns(UserWarning, match=r"No target of 'fake' depends on the positions of 'conv'"):
        ImageReading(Unreached(), image, "conv", ["cat"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ImageReading(FakeModel(), image, "conv", ["cat"])  # gradients reach it: no warning
