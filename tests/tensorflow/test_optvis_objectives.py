"""The direction objective (Lucid's ``objectives.direction(layer, v, batch=i)``)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.tensorflow.optvis import objectives


def test_each_item_scores_its_own_direction_averaged_over_positions():
    rng = np.random.default_rng(0)
    acts = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    vectors = rng.normal(size=(2, 5)).astype(np.float32)
    scores = objectives.direction(vectors)(tf.constant(acts)).numpy()
    expected = [(acts[i] @ vectors[i]).mean() for i in range(2)]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    # A dot product, not a cosine: doubling the activations doubles the score.
    doubled = objectives.direction(vectors)(tf.constant(2 * acts)).numpy()
    np.testing.assert_allclose(doubled, 2 * scores, rtol=1e-5)
    assert objectives.total(tf.constant(scores)).numpy() == pytest.approx(sum(expected), 1e-5)


def test_a_channel_mismatch_is_explained():
    with pytest.raises(ValueError, match="3 channels but the layer has 5"):
        objectives.direction(np.ones((2, 3)))(tf.zeros((2, 1, 1, 5)))
