"""The one-pass gradients of several targets, checked against independent derivatives.

Class logits and direction scores at a later layer, all from :meth:`VisionModel.read`. On
InceptionV1 they are checked against forward-mode derivatives (JVPs). Finite differences
are used only on small smooth models: on the real network they differ by a few percent,
because max pooling over tied values (many zeros after the ReLUs) is not differentiable, so
one-sided changes pick different maxima than the gradient does.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import LayerInfo, Targets
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
    reading = inception.read(dog_cat, layer, Targets.classes(CLASSES))
    acts, grads = reading.acts, reading.grads
    # Non-negative directions, like NMF's factors.
    directions = np.random.default_rng(0).random((2, *acts.shape), dtype=np.float32)
    jvp = jvp_of_logits(inception, acts, layer, directions)[:, CLASSES]  # (2, 3)
    reverse = np.einsum("khwc,nhwc->nk", grads.astype(np.float64), directions)
    np.testing.assert_allclose(reverse, jvp, rtol=1e-3, atol=1e-3 * np.abs(jvp).max())


def test_inception_gradients_are_per_class(inception, dog_cat):
    together = inception.read(dog_cat, "mixed4d", Targets.classes(CLASSES)).grads
    for row, cls in enumerate(CLASSES):
        alone = inception.read(dog_cat, "mixed4d", Targets.classes([cls])).grads
        np.testing.assert_allclose(together[row], alone[0], rtol=1e-4, atol=1e-7)


def test_top_classes_are_the_best_logits_with_their_gradients(inception, dog_cat):
    top = inception.read(dog_cat, "mixed4d", Targets.top_classes(5))
    best = np.argsort(-top.logits, kind="stable")[:5]
    np.testing.assert_array_equal(top.targets, best)
    assert top.targets.dtype == np.int64 and top.grads.shape == (5, 14, 14, 528)
    named = inception.read(dog_cat, "mixed4d", Targets.classes(best.tolist()))
    np.testing.assert_allclose(top.grads, named.grads, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(top.logits, named.logits, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(top.acts, named.acts, rtol=1e-5, atol=1e-5)


def jvp_of_direction_scores(model, acts, layer, later, vectors, tangents) -> np.ndarray:
    """Derivatives (n, T) of each direction score at ``later`` along each of ``tangents``.

    Score t is the sum over positions of ``<acts_later[y, x], vectors[t]>``; eager, as
    :func:`jvp_of_logits`.
    """
    primals = tf.constant(np.repeat(acts[None], len(tangents), axis=0))
    with tf.autodiff.ForwardAccumulator(primals, tf.constant(tangents)) as acc:
        out = model.continue_to(primals, layer, later)  # (n, h, w, C_later)
        scores = tf.einsum("nhwc,tc->nt", out, tf.constant(vectors))  # (n, T)
    return acc.jvp(scores).numpy()


def test_direction_targets_match_forward_mode(inception, dog_cat):
    rng = np.random.default_rng(7)
    vectors = rng.random((2, 528), dtype=np.float32)  # two directions at mixed4d
    reading = inception.read(dog_cat, "mixed4a", Targets.directions("mixed4d", vectors))
    assert reading.grads.shape == (2, 14, 14, 512)
    np.testing.assert_array_equal(reading.targets, [0, 1])
    np.testing.assert_allclose(reading.logits, inception.logits(dog_cat), rtol=1e-4, atol=1e-4)
    tangents = rng.random((2, *reading.acts.shape), dtype=np.float32)
    jvp = jvp_of_direction_scores(inception, reading.acts, "mixed4a", "mixed4d", vectors, tangents)
    reverse = np.einsum("thwc,nhwc->nt", reading.grads.astype(np.float64), tangents)
    np.testing.assert_allclose(reverse, jvp, rtol=1e-3, atol=1e-3 * np.abs(jvp).max())
    # Each direction has its own gradient.
    assert not np.allclose(reading.grads[0], reading.grads[1])


def test_repeated_reads_never_retrace(inception, dog_cat):
    vectors = np.ones((1, 528), np.float32)
    kinds = [
        lambda: Targets.classes([1, 2]),
        lambda: Targets.top_classes(3),
        lambda: Targets.directions("mixed4d", vectors),
        lambda: Targets.classes([]),
    ]
    for make in kinds:  # the first read of each kind may trace
        inception.read(dog_cat, "mixed4a", make())
    traced = inception.tracing_count()
    for count in (1, 4):  # other class sets, other k, other directions: no new trace
        inception.read(dog_cat, "mixed4a", Targets.classes(range(count)))
        inception.read(dog_cat, "mixed4a", Targets.top_classes(count))
        inception.read(dog_cat, "mixed4a", Targets.directions("mixed4d", np.ones((count, 528))))
        inception.read(dog_cat, "mixed4a")
    assert inception.tracing_count() == traced


def test_given_classes_after_the_top_classes_trace_nothing_new(inception, dog_cat):
    # A widget reads the top 5 first, then the classes a user asks for: one graph for both.
    inception.read(dog_cat, "mixed4c", Targets.top_classes(5))
    traced = inception.tracing_count()
    readout = inception.read(dog_cat, "mixed4c", Targets.classes([208, 282]))
    assert inception.tracing_count() == traced
    assert list(readout.targets) == [208, 282] and readout.grads.shape == (2, 14, 14, 512)


def test_uncompiled_readings_trace_nothing_and_equal_the_compiled_ones(inception, dog_cat):
    """``few_readings()`` (the command line's one-shot readings) runs the same ops, untraced."""
    vectors = np.random.default_rng(0).random((2, 832)).astype(np.float32)
    kinds = [
        Targets.classes([208, 282]),
        Targets.top_classes(3),
        Targets.directions("mixed5a", vectors),
        Targets.classes([]),
    ]
    with inception.few_readings():
        assert not inception.compile_readings
        compiled_before = dict(inception._compiled)
        traced = inception.tracing_count()
        eager = [inception.read(dog_cat, "mixed3b", targets) for targets in kinds]
        assert inception.tracing_count() == traced and inception._compiled == compiled_before
    assert inception.compile_readings  # put back
    for targets, got in zip(kinds, eager, strict=True):
        expected = inception.read(dog_cat, "mixed3b", targets)
        np.testing.assert_array_equal(got.targets, expected.targets)
        for name in ("acts", "logits", "grads"):
            want = getattr(expected, name)
            np.testing.assert_allclose(
                getattr(got, name), want, rtol=1e-4, atol=1e-5 * np.abs(want).max(initial=1)
            )


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

    def weight_arrays(self):
        return [self.kernel.numpy(), self.dense.numpy()]

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
    reading = model.read(image, layer, Targets.classes(classes))
    acts, grads = reading.acts, reading.grads
    np.testing.assert_array_equal(reading.targets, classes)
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


def smooth_keras(channels: int, seed: int) -> tuple[keras.Model, dict]:
    """A smooth Keras classifier: c1 (4 channels), c2 (``channels``), pool, 3 logits.

    Returns the model and its layers by name, to apply them to perturbed activations.
    """
    init = keras.initializers.RandomNormal(stddev=0.5, seed=seed)
    layers = {
        "c1": keras.layers.Conv2D(4, 3, activation="softplus", kernel_initializer=init, name="c1"),
        "c2": keras.layers.Conv2D(
            channels, 3, activation="tanh", kernel_initializer=init, name="c2"
        ),
        "pool": keras.layers.GlobalAveragePooling2D(name="pool"),
        "logits": keras.layers.Dense(3, kernel_initializer=init, name="logits"),
    }
    x = inputs = keras.Input((None, None, 3))
    for layer in layers.values():
        x = layer(x)
    return keras.Model(inputs, x, name=f"smooth_keras_{seed}"), layers


def test_keras_gradients_match_finite_differences():
    model, layers = smooth_keras(6, seed=4)
    vision = KerasVisionModel(model)
    image = np.random.default_rng(5).random((14, 10, 3), dtype=np.float32)

    def head(acts):  # the layers after c1, applied directly to perturbed activations
        return layers["logits"](layers["pool"](layers["c2"](tf.constant(acts))))

    check_against_finite_differences(vision, head, "c1", image, [2, 0])


def test_keras_direction_targets_match_finite_differences():
    model, layers = smooth_keras(5, seed=6)
    vision = KerasVisionModel(model)
    image = np.random.default_rng(8).random((12, 11, 3), dtype=np.float32)
    vectors = np.random.default_rng(9).normal(size=(2, 5)).astype(np.float32)
    reading = vision.read(image, "c1", Targets.directions("c2", vectors))
    assert reading.grads.shape == (2, *reading.acts.shape)
    np.testing.assert_allclose(reading.logits, vision.logits(image), rtol=1e-5, atol=1e-6)

    def scores(acts):  # (1, h, w, 4) at c1 -> each direction's score at c2, (1, 2)
        return tf.einsum("bhwc,tc->bt", layers["c2"](tf.constant(acts)), vectors)

    rng = np.random.default_rng(10)
    for _ in range(2):
        direction = rng.random(reading.acts.shape)
        fd = central_difference(scores, reading.acts, direction, eps=1e-2)
        reverse = np.tensordot(reading.grads.astype(np.float64), direction, axes=direction.ndim)
        np.testing.assert_allclose(reverse, fd, rtol=2e-3, atol=1e-4)
