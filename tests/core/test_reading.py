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
