"""The one-pass gradients of several class logits, checked against independent derivatives.

On InceptionV1 they are checked against forward-mode derivatives (JVPs). Finite differences
are used only on small smooth models: on the real network they differ by a few percent,
because max pooling over tied values (many zeros after the ReLUs) is not differentiable, so
one-sided changes pick different maxima than the gradient does.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import LayerInfo
from neuron_groups.backends.tensorflow.common import TFVisionModel
from neuron_groups.backends.tensorflow.keras_model import KerasVisionModel

CLASSES = [208, 282, 207]  # Labrador retriever, tiger cat, golden retriever


def jvp_of_logits(model, acts: np.ndarray, layer: str, directions: np.ndarray) -> np.ndarray:
    """Derivatives (n, K) of every logit along each of ``directions`` (n, ...) at ``acts``.

    Run eagerly on purpose: inside a tf.function, TF's forward mode breaks ties in max
    pooling differently from its reverse mode (it goes through MaxPoolGradGrad), and the two
    then differ by ~10% on this network, where ReLUs leave many tied zeros.
    """
    primals = tf.constant(np.repeat(acts[None], len(directions), axis=0))
    with tf.autodiff.ForwardAccumulator(primals, tf.constant(directions)) as acc:
        logits = model.head_from(primals, layer)  # (n, K)
    return acc.jvp(logits).numpy()


@pytest.mark.parametrize("layer", ["mixed4d", "mixed5a"])
def test_inception_gradients_match_forward_mode(inception, dog_cat, layer):
    acts, _, grads = inception.activations_and_gradients(dog_cat, layer, CLASSES)
    # Non-negative directions, like NMF's factors.
    directions = np.random.default_rng(0).random((2, *acts.shape), dtype=np.float32)
    jvp = jvp_of_logits(inception, acts, layer, directions)[:, CLASSES]  # (2, 3)
    reverse = np.einsum("khwc,nhwc->nk", grads.astype(np.float64), directions)
    np.testing.assert_allclose(reverse, jvp, rtol=1e-3, atol=1e-3 * np.abs(jvp).max())


def test_inception_gradients_are_per_class(inception, dog_cat):
    _, _, together = inception.activations_and_gradients(dog_cat, "mixed4d", CLASSES)
    for row, cls in enumerate(CLASSES):
        _, _, alone = inception.activations_and_gradients(dog_cat, "mixed4d", [cls])
        np.testing.assert_allclose(together[row], alone[0], rtol=1e-4, atol=1e-7)


class SmoothModel(TFVisionModel):
    """A two-layer smooth network written with tf ops: exercises TFVisionModel's head path."""

    name = "smooth"
    logits_layer = "logits"

    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(1)
        self.kernel = tf.constant(rng.normal(0, 0.5, (3, 3, 3, 5)), tf.float32)
        self.dense = tf.constant(rng.normal(0, 0.5, (5, 4)), tf.float32)

    def layers(self) -> list[LayerInfo]:
        return [LayerInfo("features", (222, 222, 5)), LayerInfo("logits", (4,))]

    def forward_to(self, images, layer, relu=tf.nn.relu):
        feats = tf.nn.softplus(tf.nn.conv2d(images, self.kernel, 1, "VALID"))  # (B, H, W, 5)
        return (
            feats
            if self.resolve_layer(layer).name == "features"
            else self.head_from(feats, "features")
        )

    def head_from(self, acts, layer):
        if self.resolve_layer(layer).name == "logits":
            return acts
        return tf.tanh(tf.reduce_mean(acts, axis=[1, 2]) @ self.dense) * 3  # (B, 4)


def central_difference(head, acts: np.ndarray, direction: np.ndarray, eps: float) -> np.ndarray:
    """Derivative of every logit along ``direction``: (f(a + eps v) - f(a - eps v)) / 2 eps."""
    up = head(np.float32(acts + eps * direction)[None]).numpy()[0].astype(np.float64)
    down = head(np.float32(acts - eps * direction)[None]).numpy()[0].astype(np.float64)
    return (up - down) / (2 * eps)


def check_against_finite_differences(model, head, layer: str, image, classes) -> None:
    """Compare the one-pass gradients with central differences along random directions."""
    acts, _, grads = model.activations_and_gradients(image, layer, classes)
    rng = np.random.default_rng(2)
    for _ in range(3):
        direction = rng.random(acts.shape)
        fd = central_difference(head, acts, direction, eps=1e-2)[classes]
        reverse = np.tensordot(grads.astype(np.float64), direction, axes=direction.ndim)
        np.testing.assert_allclose(reverse, fd, rtol=2e-3, atol=1e-4)


def test_tf_model_gradients_match_finite_differences():
    model = SmoothModel()
    image = np.random.default_rng(3).random((16, 12, 3), dtype=np.float32)
    check_against_finite_differences(
        model,
        lambda acts: model.head_from(tf.constant(acts), "features"),
        "features",
        image,
        [3, 0, 1],
    )


def test_keras_gradients_match_finite_differences():
    init = keras.initializers.RandomNormal(stddev=0.5, seed=4)
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(4, 3, activation="softplus", kernel_initializer=init, name="c1")
    conv2 = keras.layers.Conv2D(6, 3, activation="tanh", kernel_initializer=init, name="c2")
    pool = keras.layers.GlobalAveragePooling2D(name="pool")
    dense = keras.layers.Dense(3, kernel_initializer=init, name="logits")
    model = keras.Model(inputs, dense(pool(conv2(conv(inputs)))), name="smooth_keras")
    vision = KerasVisionModel(model)
    image = np.random.default_rng(5).random((14, 10, 3), dtype=np.float32)

    def head(acts):  # the layers after c1, applied directly to perturbed activations
        return dense(pool(conv2(tf.constant(acts))))

    check_against_finite_differences(vision, head, "c1", image, [2, 0])
