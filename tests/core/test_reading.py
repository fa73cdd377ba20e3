"""LayerReading on the numpy fake model: one pass, classes without repeats, cached gradients."""

import numpy as np
import pytest

from neuron_groups.errors import ClassNameError, LayerError
from neuron_groups.pipeline import LayerReading, neuron_groups
from tests.fakes import FakeModel


@pytest.fixture
def image():
    return np.random.default_rng(0).random((28, 28, 3)).astype(np.float32)


def test_one_pass_reads_activations_logits_and_gradients(image):
    model = FakeModel()
    reading = LayerReading(model, image, "conv", ["dog", "car"])
    result = reading.analyze(3, ["dog", "car"])
    assert model.reads == 1
    expected_logits = model.head @ reading.acts.ravel()
    np.testing.assert_allclose(reading.logits, expected_logits, rtol=1e-5)
    # The fake head is linear: attribution of class k to group g is head_k . group vector g.
    vectors = result.spatial[..., None] * result.channel[:, None, None, :]  # (n, h, w, C)
    expected = model.head[[1, 2]] @ vectors.reshape(3, -1).T  # (k, n)
    np.testing.assert_allclose(result.attributions, expected, rtol=1e-4, atol=1e-5)


def test_the_default_classes_are_the_top5_from_the_same_pass(image):
    model = FakeModel()
    reading = LayerReading(model, image, "conv")
    result = reading.analyze(2)
    assert model.reads == 1
    assert list(result.class_indices) == list(np.argsort(-reading.logits, kind="stable")[:4])


def test_only_new_classes_cost_another_pass(image):
    model = FakeModel()
    reading = LayerReading(model, image, "conv", ["cat"])
    result = reading.analyze(2, ["cat"])
    reading.attribute(result, ["cat"])
    assert model.reads == 1
    reading.attribute(result, ["tree", "cat"])
    assert model.reads == 2 and result.classes == ["tree", "cat"]


def test_a_class_named_twice_is_one_row(image):
    model = FakeModel()
    reading = LayerReading(model, image, "conv")
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
        LayerReading(model, image, "logits")
    with pytest.raises(ClassNameError, match="list of names"):
        LayerReading(model, image, "conv", "cat")
    with pytest.raises(ClassNameError, match="out of range"):
        LayerReading(model, image, "conv", [9])
    assert model.reads == 0  # refused before any work
