"""KerasVisionModel: any keras.Model behind the VisionModel seam."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import Targets
from neuron_groups.backends.tensorflow.keras_model import KerasVisionModel
from neuron_groups.errors import ImageError, LayerError, ModelError
from neuron_groups.models import load_model


def tiny_model(output_activation: str | None = None) -> keras.Model:
    """A seeded functional CNN taking any image size: conv, conv, pool, dense (3 logits)."""
    init = keras.initializers.RandomNormal(stddev=0.3, seed=0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu", kernel_initializer=init, name="c1")(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", kernel_initializer=init, name="c2")(
        x
    )
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = keras.layers.Dense(3, kernel_initializer=init, name="logits")(x)
    if output_activation:
        x = keras.layers.Softmax(name="probs")(x)
    return keras.Model(inputs, x, name="tiny")


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return tiny_model()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(0).random((20, 24, 3), dtype=np.float32)


def test_layers_use_keras_names(model):
    vision = KerasVisionModel(model)
    assert [(i.name, i.shape) for i in vision.layers()] == [
        ("c1", (222, 222, 6)),
        ("c2", (110, 110, 8)),
        ("pool", (8,)),
        ("logits", (3,)),
    ]
    assert vision.logits_layer == "logits"
    assert vision.name == "tiny"
    with pytest.raises(LayerError, match="'c1'"):
        vision.activations(np.zeros((9, 9, 3), np.float32), "c11")


def test_value_range_maps_images(model, image):
    vision = load_model(model, value_range=(-1, 2))
    expected = model(image[None] * 3 - 1).numpy()[0]
    np.testing.assert_allclose(vision.logits(image), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(KerasVisionModel(model).logits(image), expected, atol=1e-4)


def test_activations_match_the_layer(model, image):
    vision = KerasVisionModel(model)
    acts = vision.activations(image, "c2")
    reference = keras.Model(model.inputs[0], model.get_layer("c2").output)(image[None])
    assert acts.shape == (8, 10, 8)
    np.testing.assert_allclose(acts, reference.numpy()[0], rtol=1e-5, atol=1e-6)


def test_class_names_and_synonyms(model):
    vision = load_model(model, class_names=["cat", ["dog", "puppy"], "cow"])
    assert vision.class_names == ["cat", "dog", "cow"]
    assert vision.class_synonyms == [("cat",), ("dog", "puppy"), ("cow",)]
    with pytest.raises(ModelError, match="2 entries for 3 logits"):
        load_model(model, class_names=["cat", "dog"])


def test_one_pass_gradients_match_per_class_tapes(model, image):
    vision = KerasVisionModel(model, value_range=(0, 255))
    reading = vision.read(image, "c1", Targets.classes([2, 0]))
    acts, logits, grads = reading.acts, reading.logits, reading.grads
    np.testing.assert_array_equal(reading.targets, [2, 0])
    sub = keras.Model(model.inputs[0], [model.get_layer("c1").output, model.output])
    for row, cls in enumerate([2, 0]):
        with tf.GradientTape() as tape:
            inner, out = sub(image[None] * 255)
            target = out[0, cls]
        expected = tape.gradient(target, inner).numpy()[0]
        np.testing.assert_allclose(grads[row], expected, rtol=1e-4, atol=1e-6)
    assert acts.shape == grads.shape[1:] == (18, 22, 6)
    assert logits.shape == (3,)


def test_top_classes_are_chosen_in_the_same_pass(model, image):
    vision = KerasVisionModel(model, value_range=(0, 255))
    top = vision.read(image, "c2", Targets.top_classes(2))
    np.testing.assert_array_equal(top.targets, np.argsort(-top.logits, kind="stable")[:2])
    named = vision.read(image, "c2", Targets.classes(top.targets))
    np.testing.assert_allclose(top.grads, named.grads, rtol=1e-5, atol=1e-7)
    traced = vision.tracing_count()
    vision.read(image, "c2", Targets.top_classes(3))
    vision.read(image, "c2", Targets.classes([0]))
    assert vision.tracing_count() == traced


def test_direction_targets_through_the_tiled_image(model, image):
    vision = KerasVisionModel(model)
    vectors = np.eye(8, dtype=np.float32)[[1, 5]]  # channels 1 and 5 of c2
    reading = vision.read(image, "c1", Targets.directions("c2", vectors))
    sub = keras.Model(model.inputs[0], [model.get_layer("c1").output, model.get_layer("c2").output])
    for row in range(2):
        with tf.GradientTape() as tape:
            inner, later = sub(image[None])
            target = tf.reduce_sum(later[..., [1, 5][row]])
        expected = tape.gradient(target, inner).numpy()[0]
        np.testing.assert_allclose(reading.grads[row], expected, rtol=1e-4, atol=1e-6)
    with pytest.raises(LayerError, match="must come after the layer read"):
        vision.read(image, "c2", Targets.directions("c1", np.ones((1, 6))))


def test_softmax_output_warns_and_logits_layer_picks_logits(image):
    model = tiny_model("softmax")
    with pytest.warns(UserWarning, match="softmax"):
        probs_model = load_model(model)
    assert probs_model.logits(image).sum() == pytest.approx(1.0, abs=1e-5)
    vision = load_model(model, logits_layer="logits")
    assert vision.logits_layer == "logits"
    assert vision.logits(image).sum() != pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ModelError, match="Did you mean 'logits'"):
        load_model(model, logits_layer="logit")
    with pytest.raises(LayerError, match="after the logits"):
        vision.read(image, "probs", Targets.classes([0]))


def test_logits_layer_must_be_a_vector(model):
    with pytest.raises(ModelError, match="logits are a vector"):
        KerasVisionModel(model, logits_layer="c2")


def test_fixed_size_model_checks_the_size():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Flatten(name="flat")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    vision = KerasVisionModel(model)
    assert vision.fixed_input_size() == (8, 8)
    assert vision.default_size == 8
    assert vision.logits(np.zeros((8, 8, 3), np.float32)).shape == (2,)
    with pytest.raises(ImageError, match="takes 8x8 images; got 9x8"):
        vision.logits(np.zeros((9, 8, 3), np.float32))


def test_too_small_image_is_an_image_error(model):
    with pytest.raises(ImageError, match="too small"):
        KerasVisionModel(model).logits(np.zeros((2, 2, 3), np.float32))


def test_bad_models_are_refused():
    inputs = keras.Input((5,))
    flat = keras.Model(inputs, keras.layers.Dense(2)(inputs), name="flat")
    with pytest.raises(ModelError, match=r"\(B, H, W, 3\)"):
        load_model(flat)
    image_in = keras.Input((None, None, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(image_in)
    two_heads = keras.Model(
        image_in, [keras.layers.Dense(2)(pooled), keras.layers.Dense(3)(pooled)]
    )
    with pytest.raises(ModelError, match="2 outputs"):
        load_model(two_heads)


@pytest.mark.parametrize("value_range", [(1, 0), (0, float("nan")), (0, 1, 2)])
def test_bad_value_range(model, value_range):
    with pytest.raises(ModelError, match="value_range"):
        load_model(model, value_range=value_range)


def test_relu_argument_is_ignored(model, image):
    vision = KerasVisionModel(model)
    images = tf.constant(image[None])
    plain = vision.forward_to(images, "c2")
    other = vision.forward_to(images, "c2", relu=lambda x: x)
    np.testing.assert_array_equal(plain.numpy(), other.numpy())


def test_identity_follows_the_weights():
    model = tiny_model()
    vision = KerasVisionModel(model)
    before = vision.identity
    assert before.startswith("tiny-")
    assert KerasVisionModel(model).identity == before
    assert KerasVisionModel(model, value_range=(0, 255)).identity != before
    assert KerasVisionModel(model, logits_layer="pool").identity != before
    layer = model.get_layer("logits")
    layer.set_weights([w + 1 for w in layer.get_weights()])
    assert vision.identity != before
