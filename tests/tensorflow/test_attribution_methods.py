"""The three tables of InceptionV1 (TensorFlow) against independent computations.

At ``mixed5b`` the rest of the network is linear (a global mean, then the classifier), so every
table has a closed form in plain numpy. At ``mixed4d`` (non-linear after it): the linear table
is the network's forward-mode derivative along each group's part, integrated gradients is within
1% of a fine uniform path (the network's own forward mode along each part, averaged), the
rest closes completeness within 1% against ``read``'s logits, and ablation is the drop of the
logits computed by the network's uncompiled head.
"""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from neuron_groups.attribution import COMPLETENESS, group_parts  # noqa: E402
from neuron_groups.backends.inceptionv1 import load_weights  # noqa: E402
from neuron_groups.reading import ImageReading  # noqa: E402

CLASSES = ["Labrador retriever", "tiger cat"]
INDICES = [208, 282]
FINE = 256


@pytest.fixture(scope="module")
def last_conv(inception, dog_cat):
    return ImageReading(inception, dog_cat, "mixed5b", CLASSES).analyze(4, CLASSES)


def test_at_the_last_conv_layer_every_table_is_numpys(inception, dog_cat, last_conv):
    result = last_conv
    kernel, bias = load_weights()["loss3/classifier"]  # (1000, 1024), (1000,)
    w = kernel[INDICES].astype(np.float64)  # (2, 1024)
    acts = inception.activations(dog_cat, "mixed5b").astype(np.float64)  # (7, 7, 1024)
    parts = group_parts(result.spatial, result.channel).astype(np.float64)  # (4, 7, 7, 1024)

    def logits(a):  # (..., 7, 7, 1024) -> (..., 2): a global mean, then the classifier
        return a.mean(axis=(-3, -2)) @ w.T + bias[INDICES]

    linear = (parts.mean(axis=(1, 2)) @ w.T).T  # (2, 4): the derivative along each part
    np.testing.assert_allclose(result.tables["linear"], linear, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(result.tables["integrated"], linear, rtol=1e-4, atol=1e-4)
    reconstruction = parts.sum(axis=0)
    rest = (acts - reconstruction).mean(axis=(0, 1)) @ w.T  # (2,)
    np.testing.assert_allclose(result.rest, rest, rtol=1e-4, atol=1e-4)
    drop = (logits(acts)[None] - logits(acts[None] - np.minimum(acts[None], parts))).T
    np.testing.assert_allclose(result.tables["ablation"], drop, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def middle(inception, dog_cat):
    reading = ImageReading(inception, dog_cat, "mixed4d", CLASSES)
    result = reading.analyze(4, CLASSES)
    return reading.acts["mixed4d"], result


def head(inception, acts: np.ndarray) -> np.ndarray:
    """The logits of the classes from activations (B, 14, 14, 528), uncompiled: (B, 2)."""
    return tf.gather(inception.head_from(tf.constant(acts), "mixed4d"), INDICES, axis=1).numpy()


def test_the_linear_table_is_the_forward_mode_derivative_along_each_part(inception, middle):
    acts, result = middle
    parts = group_parts(result.spatial, result.channel)  # (4, 14, 14, 528)
    primals = tf.constant(np.repeat(acts[None], len(parts), axis=0))
    with tf.autodiff.ForwardAccumulator(primals, tf.constant(parts)) as accumulator:
        out = tf.gather(inception.head_from(primals, "mixed4d"), INDICES, axis=1)
    derivative = accumulator.jvp(out).numpy().T  # (2, 4)
    found = result.tables["linear"]
    np.testing.assert_allclose(found, derivative, rtol=1e-3, atol=1e-3 * np.abs(found).max())


def test_integrated_is_within_one_percent_of_a_fine_path(inception, middle):
    acts, result = middle
    parts = group_parts(result.spatial, result.channel)  # (4, 14, 14, 528)
    fractions = (np.arange(FINE) + 0.5) / FINE  # the midpoint rule, uniform and fine
    reference = np.zeros((len(INDICES), len(parts)))
    for start in range(0, FINE, 32):
        points = fractions[start : start + 32, None, None, None] * acts[None]
        points = tf.constant(points.astype(np.float32))
        for row, index in enumerate(INDICES):
            with tf.GradientTape() as tape:  # one reverse pass per class, uncompiled
                tape.watch(points)
                total = tf.reduce_sum(inception.head_from(points, "mixed4d")[:, index])
            grads = tape.gradient(total, points).numpy()  # (32, 14, 14, 528): each point's own
            reference[row] += np.einsum("phwc,nhwc->n", grads, parts) / FINE
    found = result.tables["integrated"]
    np.testing.assert_allclose(found, reference, atol=COMPLETENESS * np.abs(reference).max())


def test_the_rest_closes_completeness_within_one_percent(inception, dog_cat, middle):
    acts, result = middle
    logits = inception.read(dog_cat, "mixed4d").logits[INDICES]
    at_zero = head(inception, np.zeros_like(acts)[None])[0]
    change = logits - at_zero
    total = result.tables["integrated"].sum(axis=1) + result.rest
    scale = np.maximum(np.abs(change), 0.1 * np.abs(change).max())
    assert np.all(np.abs(total - change) <= COMPLETENESS * scale), (total, change)


def test_ablation_is_the_drop_of_the_uncompiled_head(inception, middle):
    acts, result = middle
    parts = group_parts(result.spatial, result.channel)
    removed = acts[None] - np.minimum(acts[None], parts)
    drop = (head(inception, acts[None]) - head(inception, removed)).T  # (2, 4)
    np.testing.assert_allclose(
        result.tables["ablation"], drop, rtol=1e-5, atol=1e-5 * np.abs(drop).max()
    )
