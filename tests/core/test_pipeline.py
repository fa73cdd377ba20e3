"""The whole engine on the real InceptionV1 (no icons: they have their own tests)."""

import numpy as np
import pytest

from neuron_groups import load, neuron_groups
from neuron_groups.errors import (
    ClassNameError,
    GroupCountError,
    ImageError,
    LayerError,
    ModelError,
)


@pytest.fixture(scope="module")
def demo(inception):
    return neuron_groups(
        "dog_cat", "mixed4d", 6, ["Labrador retriever", "tiger cat"], model=inception, icons=False
    )


def test_demo_shapes_and_names(demo):
    assert demo.image.shape == (224, 224, 3)
    assert demo.spatial.shape == (6, 14, 14) and demo.channel.shape == (6, 528)
    assert demo.attributions.shape == (2, 6)
    assert demo.classes == ["Labrador retriever", "tiger cat"]
    assert list(demo.class_indices) == [208, 282]
    assert demo.top5[:2] == ["golden retriever", "Labrador retriever"]
    assert demo.icons is None and demo.layer == "mixed4d"


def test_demo_attributions_tell_dog_from_cat(demo):
    # dog_cat: the dog is on the left, the cat on the right; groups run left to right.
    labrador, tiger_cat = demo.attributions
    assert labrador.argmax() < tiger_cat.argmax()
    assert labrador.max() > 1.0 and tiger_cat.max() > 0.5
    # The linear approximation: groups' sum is about the logit change along the activations.
    total = demo.attributions.sum(axis=1)
    assert np.all(np.isfinite(total))


def test_default_classes_are_the_top5(inception):
    result = neuron_groups("flowers", n_groups=5, model=inception, icons=False)
    assert result.classes == result.top5 and len(result.classes) == 5
    assert result.classes[:2] == ["lemon", "vase"]


def test_reproducible(inception, demo):
    again = neuron_groups(
        "dog_cat", "mixed4d", 6, ["Labrador retriever", "tiger cat"], model=inception, icons=False
    )
    np.testing.assert_array_equal(again.spatial, demo.spatial)
    np.testing.assert_array_equal(again.attributions, demo.attributions)


def test_caffe_layer_names_give_the_same_groups(inception, demo):
    caffe = neuron_groups(
        "dog_cat", "inception_4d/output", 6, [208, 282], model=inception, icons=False
    )
    np.testing.assert_allclose(caffe.attributions, demo.attributions, rtol=1e-5)


def test_save_load(tmp_path, demo):
    back = load(demo.save(tmp_path / "demo.npz"))
    np.testing.assert_array_equal(back.attributions, demo.attributions)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"layer": "mixed4z"}, LayerError, "Did you mean 'mixed4e'"),
        ({"layer": "softmax2_pre_activation"}, LayerError, "no spatial extent"),
        ({"layer": "mixed5b", "n_groups": 50}, GroupCountError, "between 1 and 16.*valid: 16"),
        ({"n_groups": 0}, GroupCountError, "at least 1; got 0"),
        ({"classes": ["Labrador retreiver"]}, ClassNameError, "Labrador retriever"),
        ({"classes": "tiger cat"}, ClassNameError, "list of names"),
    ],
)
def test_bad_input_gets_specific_errors(inception, kwargs, error, message):
    with pytest.raises(error, match=message):
        neuron_groups("dog_cat", model=inception, icons=False, **kwargs)


def test_bad_images_and_models(inception):
    with pytest.raises(ImageError, match="too small"):
        neuron_groups(np.zeros((20, 20, 3)), model=inception, icons=False)
    with pytest.raises(ImageError, match="NaN"):
        neuron_groups(np.full((224, 224, 3), np.nan), model=inception, icons=False)
    with pytest.raises(ModelError, match="inceptionv1"):
        neuron_groups("dog_cat", model="inceptionv2", icons=False)


def test_a_class_given_by_name_and_by_index_is_one_row(inception, demo):
    twice = neuron_groups(
        "dog_cat",
        "mixed4d",
        6,
        ["Labrador retriever", 208, "tiger cat"],
        model=inception,
        icons=False,
    )
    assert twice.classes == ["Labrador retriever", "tiger cat"]
    np.testing.assert_allclose(twice.attributions, demo.attributions, rtol=1e-5)
