"""VisionModel.evaluate in TensorFlow: targets, and their gradients, at given activations.

At the image's own activations the values and gradients are ``read``'s. At other
activations they are checked against computations that do not go through ``evaluate``:
plain numpy after InceptionV1's last pool (the network is linear there), forward-mode
derivatives (``tf.autodiff.ForwardAccumulator``, eager) of the uncompiled head, and, for
Keras, the model's layers called one by one on the activations (a residual branch from the
image, and a dropout that must stay off), with central differences for the gradients.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import Targets
from neuron_groups.backends.inceptionv1 import load_weights
from neuron_groups.backends.tensorflow.keras_model import KerasVisionModel
from neuron_groups.errors import ClassNameError, LayerError

CLASSES = [208, 282]  # Labrador retriever, tiger cat


def varied(acts: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` activations (count, *acts.shape) near the image's: each channel rescaled.

    The first row is the image's own.
    """
    scale = np.random.default_rng(seed).uniform(0.3, 1.5, (count, *[1] * (acts.ndim - 1), 1))
    scale[0] = 1.0
    return (acts[None] * scale).astype(np.float32)


def forward_mode(fn, acts: np.ndarray, tangents: np.ndarray) -> np.ndarray:
    """Derivatives (B, T) of ``fn`` (acts (B, ...) -> (B, T)) along ``tangents`` (B, ...), eager."""
    primals = tf.constant(acts)
    with tf.autodiff.ForwardAccumulator(primals, tf.constant(tangents)) as acc:
        out = fn(primals)
    return acc.jvp(out).numpy()


def along(grads: np.ndarray, tangents: np.ndarray) -> np.ndarray:
    """Derivatives (B, T) along ``tangents`` (B, ...) from gradients (B, T, ...)."""
    flat = grads.reshape(*grads.shape[:2], -1).astype(np.float64)  # (B, T, P)
    return np.einsum("btp,bp->bt", flat, tangents.reshape(len(tangents), -1))


# -- InceptionV1 ---------------------------------------------------------------------------
def test_at_the_images_own_activations_evaluate_is_read(inception, dog_cat):
    reading = inception.read(dog_cat, "mixed4d", Targets.classes(CLASSES))
    own = np.repeat(reading.acts[None], 2, axis=0)  # (2, 14, 14, 528)
    got = inception.evaluate(dog_cat, "mixed4d", own, Targets.classes(CLASSES), gradients=True)
    assert got.values.shape == (2, 2) and got.grads.shape == (2, 2, 14, 14, 528)
    assert got.values.dtype == np.float32 and got.grads.dtype == np.float32
    for row in range(2):
        np.testing.assert_allclose(got.values[row], reading.logits[CLASSES], rtol=1e-5)
        scale = np.abs(reading.grads).max()
        np.testing.assert_allclose(got.grads[row], reading.grads, rtol=1e-4, atol=1e-5 * scale)
    assert inception.evaluate(dog_cat, "mixed4d", own, Targets.classes(CLASSES)).grads is None


def test_direction_targets_at_the_images_own_activations_are_read(inception, dog_cat):
    vectors = np.random.default_rng(1).random((3, 832), dtype=np.float32)  # at mixed5a
    targets = Targets.directions("mixed5a", vectors)
    reading = inception.read(dog_cat, "mixed4d", targets)
    got = inception.evaluate(dog_cat, "mixed4d", reading.acts[None], targets, gradients=True)
    scores = np.einsum("hwc,tc->t", inception.activations(dog_cat, "mixed5a"), vectors)
    np.testing.assert_allclose(got.values[0], scores, rtol=1e-5)
    scale = np.abs(reading.grads).max()
    np.testing.assert_allclose(got.grads[0], reading.grads, rtol=1e-4, atol=1e-5 * scale)


def test_after_the_last_pool_values_and_gradients_are_numpys(inception, dog_cat):
    # mixed5b -> global mean -> classifier is linear: logits = mean_yx(a) @ W.T + b.
    kernel, bias = load_weights()["loss3/classifier"]  # (1000, 1024), (1000,)
    acts = varied(inception.activations(dog_cat, "mixed5b"), 3, seed=2)  # (3, 7, 7, 1024)
    got = inception.evaluate(dog_cat, "mixed5b", acts, Targets.classes(CLASSES), gradients=True)
    pooled = acts.astype(np.float64).mean(axis=(1, 2))  # (3, 1024)
    expected = pooled @ kernel[CLASSES].T.astype(np.float64) + bias[CLASSES]
    np.testing.assert_allclose(got.values, expected, rtol=1e-5, atol=1e-4)
    per_position = kernel[CLASSES] / 49  # (2, 1024), the same at every position
    np.testing.assert_allclose(
        got.grads, np.broadcast_to(per_position[None, :, None, None], got.grads.shape), rtol=1e-5
    )
    assert not np.allclose(got.values[0], got.values[1])  # the rows are their own


def test_class_gradients_at_given_activations_match_forward_mode(inception, dog_cat):
    acts = varied(inception.activations(dog_cat, "mixed4d"), 3, seed=3)
    got = inception.evaluate(dog_cat, "mixed4d", acts, Targets.classes(CLASSES), gradients=True)

    def head(a):  # (B, 14, 14, 528) -> (B, 2), uncompiled
        return tf.gather(inception.head_from(a, "mixed4d"), CLASSES, axis=1)

    np.testing.assert_allclose(got.values, head(tf.constant(acts)).numpy(), rtol=1e-5, atol=1e-4)
    tangents = np.random.default_rng(4).random(acts.shape, dtype=np.float32)
    jvp = forward_mode(head, acts, tangents)
    np.testing.assert_allclose(
        along(got.grads, tangents), jvp, rtol=1e-3, atol=1e-3 * np.abs(jvp).max()
    )
    assert not np.allclose(got.grads[0], got.grads[1])


def test_direction_gradients_at_given_activations_match_forward_mode(inception, dog_cat):
    vectors = np.random.default_rng(5).random((2, 832), dtype=np.float32)
    acts = varied(inception.activations(dog_cat, "mixed4d"), 2, seed=6)
    targets = Targets.directions("mixed5a", vectors)
    got = inception.evaluate(dog_cat, "mixed4d", acts, targets, gradients=True)

    def scores(a):  # (B, 14, 14, 528) -> (B, 2)
        return tf.einsum("bhwc,tc->bt", inception.continue_to(a, "mixed4d", "mixed5a"), vectors)

    np.testing.assert_allclose(got.values, scores(tf.constant(acts)).numpy(), rtol=1e-5)
    tangents = np.random.default_rng(7).random(acts.shape, dtype=np.float32)
    jvp = forward_mode(scores, acts, tangents)
    np.testing.assert_allclose(
        along(got.grads, tangents), jvp, rtol=1e-3, atol=1e-3 * np.abs(jvp).max()
    )


def test_evaluate_traces_once_per_kind_and_count_and_not_within_few_readings(inception, dog_cat):
    acts = varied(inception.activations(dog_cat, "mixed4c"), 4, seed=8)
    targets = Targets.classes(CLASSES)
    compiled = inception.evaluate(dog_cat, "mixed4c", acts, targets, gradients=True)
    traced = inception.tracing_count()
    for rows in (1, 3):  # other batch sizes, other classes, other activations: no new trace
        inception.evaluate(dog_cat, "mixed4c", acts[:rows] * 0.5, Targets.classes([1, 2]), True)
    assert inception.tracing_count() == traced
    with inception.few_readings():
        eager = inception.evaluate(dog_cat, "mixed4c", acts, targets, gradients=True)
    assert inception.tracing_count() == traced
    np.testing.assert_allclose(eager.values, compiled.values, rtol=1e-5)
    scale = np.abs(compiled.grads).max()
    np.testing.assert_allclose(eager.grads, compiled.grads, rtol=1e-4, atol=1e-5 * scale)


def test_bad_evaluations_get_specific_errors(inception, dog_cat):
    acts = inception.activations(dog_cat, "mixed4d")
    with pytest.raises(LayerError, match=r"shape \(B, 14, 14, 528\).*add a batch axis"):
        inception.evaluate(dog_cat, "mixed4d", acts, Targets.classes(CLASSES))
    with pytest.raises(LayerError, match=r"shape \(B, 14, 14, 528\).*got \(2, 14, 14, 512\)"):
        inception.evaluate(dog_cat, "mixed4d", np.zeros((2, 14, 14, 512)), Targets.classes([1]))
    with pytest.raises(LayerError, match="NaN"):
        inception.evaluate(
            dog_cat, "mixed4d", np.full((1, *acts.shape), np.nan), Targets.classes([1])
        )
    with pytest.raises(ClassNameError, match=r"not Targets\.top_classes"):
        inception.evaluate(dog_cat, "mixed4d", acts[None], Targets.top_classes(2))
    with pytest.raises(LayerError, match="must come after the layer read"):
        inception.evaluate(
            dog_cat, "mixed4d", acts[None], Targets.directions("mixed4c", np.ones((1, 512)))
        )
    empty = inception.evaluate(dog_cat, "mixed4d", acts[None], Targets.classes([]), gradients=True)
    assert empty.values.shape == (1, 0) and empty.grads.shape == (1, 0, 14, 14, 528)


# -- Keras ----------------------------------------------------------------------------------
def residual_keras() -> tuple[keras.Model, dict]:
    """c1, c2 on c1, their sum (a branch from c1 around c2), dropout, pool, 3 logits.

    Evaluated at c2, the sum still needs the image's c1; the dropout must stay off.
    """
    init = keras.initializers.RandomNormal(stddev=0.4, seed=11)
    layers = {
        "c1": keras.layers.Conv2D(4, 3, activation="softplus", kernel_initializer=init, name="c1"),
        "c2": keras.layers.Conv2D(
            4, 3, padding="same", activation="tanh", kernel_initializer=init, name="c2"
        ),
        "sum": keras.layers.Add(name="sum"),
        "drop": keras.layers.Dropout(0.5, name="drop"),
        "pool": keras.layers.GlobalAveragePooling2D(name="pool"),
        "logits": keras.layers.Dense(3, kernel_initializer=init, name="logits"),
    }
    inputs = keras.Input((None, None, 3))
    c1 = layers["c1"](inputs)
    x = layers["sum"]([c1, layers["c2"](c1)])
    x = layers["logits"](layers["pool"](layers["drop"](x)))
    return keras.Model(inputs, x, name="residual"), layers


@pytest.fixture(scope="module")
def residual():
    model, layers = residual_keras()
    return KerasVisionModel(model, value_range=(0, 2)), layers


@pytest.fixture(scope="module")
def small_image() -> np.ndarray:
    return np.random.default_rng(12).random((11, 9, 3), dtype=np.float32)


def by_hand(layers: dict, image: np.ndarray, acts: np.ndarray) -> tf.Tensor:
    """The logits (B, 3) with c2's output replaced by ``acts``, the layers called one by one."""
    c1 = layers["c1"](tf.constant(image[None] * 2))  # value_range (0, 2)
    summed = layers["sum"]([tf.repeat(c1, len(acts), axis=0), tf.constant(acts)])
    return layers["logits"](layers["pool"](layers["drop"](summed, training=False)))


def test_keras_values_at_given_activations_match_the_layers_called_by_hand(residual, small_image):
    vision, layers = residual
    acts = varied(vision.activations(small_image, "c2"), 4, seed=13)  # (4, 9, 7, 4)
    got = vision.evaluate(small_image, "c2", acts, Targets.classes([2, 0]), gradients=True)
    expected = by_hand(layers, small_image, acts).numpy()[:, [2, 0]]
    np.testing.assert_allclose(got.values, expected, rtol=1e-5, atol=1e-6)
    own = vision.read(small_image, "c2", Targets.classes([2, 0]))
    np.testing.assert_allclose(got.values[0], own.logits[[2, 0]], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.grads[0], own.grads, rtol=1e-4, atol=1e-6)
    eps = 1e-2
    rng = np.random.default_rng(14)
    for _ in range(2):  # central differences of the hand-made forward
        direction = rng.random(acts.shape).astype(np.float32)
        up = by_hand(layers, small_image, acts + eps * direction).numpy()[:, [2, 0]]
        down = by_hand(layers, small_image, acts - eps * direction).numpy()[:, [2, 0]]
        fd = (up.astype(np.float64) - down) / (2 * eps)
        np.testing.assert_allclose(along(got.grads, direction), fd, rtol=2e-3, atol=1e-4)


def test_keras_direction_targets_at_given_activations(residual, small_image):
    vision, layers = residual
    vectors = np.random.default_rng(15).normal(size=(2, 4)).astype(np.float32)
    acts = varied(vision.activations(small_image, "c1"), 3, seed=16)  # (3, 9, 7, 4) at c1
    got = vision.evaluate(small_image, "c1", acts, Targets.directions("sum", vectors), True)

    def scores(a):  # c1 -> sum = c1 + c2(c1): both branches from the given activations
        return tf.einsum("bhwc,tc->bt", layers["sum"]([a, layers["c2"](a)]), vectors)

    np.testing.assert_allclose(got.values, scores(tf.constant(acts)).numpy(), rtol=1e-5, atol=1e-5)
    tangents = np.random.default_rng(17).random(acts.shape, dtype=np.float32)
    jvp = forward_mode(scores, acts, tangents)
    np.testing.assert_allclose(along(got.grads, tangents), jvp, rtol=1e-4, atol=1e-5)


def test_keras_refuses_activations_of_another_size(residual, small_image):
    vision, _ = residual
    with pytest.raises(LayerError, match=r"\(B, 9, 7, 4\)"):
        vision.evaluate(small_image, "c2", np.zeros((1, 7, 9, 4)), Targets.classes([0]))
