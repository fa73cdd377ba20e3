"""The redirected ReLU gradient (Lucid's ``redirected_relu_grad``)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from neuron_groups.backends.tensorflow.optvis.relu import redirected_relu

# Batch item 0 is dead (all inputs negative); item 1 has one live unit.
X = np.array([[-1.0, -2.0, -0.5, -3.0], [-1.0, 2.0, -0.5, -3.0]], np.float32)
# d(loss)/d(out): negative pushes the output up (the loss is minimized).
UPSTREAM = np.array([[-1.0, 1.0, -2.0, 0.5], [-1.0, 1.0, -2.0, 0.5]], np.float32)


def make(redirect_steps=17):
    step = tf.Variable(0, dtype=tf.int64)
    relu = redirected_relu(step, redirect_steps)

    @tf.function
    def grad(x, upstream):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = relu(x)
        return y, tape.gradient(y, x, output_gradients=upstream)

    return step, grad


def test_forward_is_relu():
    _, grad = make()
    y, _ = grad(tf.constant(X), tf.constant(UPSTREAM))
    np.testing.assert_array_equal(y.numpy(), np.maximum(X, 0))


def test_a_dead_item_gets_the_upward_gradient_during_the_first_17_steps():
    step, grad = make()
    for s in (0, 16):
        step.assign(s)
        g = grad(tf.constant(X), tf.constant(UPSTREAM))[1].numpy()
        # Dead item: the gradient passes where it pushes up (negative), not where it pushes down.
        np.testing.assert_array_equal(g[0], [-1.0, 0.0, -2.0, 0.0])
        # Live item: the plain ReLU gradient, even while redirecting.
        np.testing.assert_array_equal(g[1], [0.0, 1.0, 0.0, 0.0])


def test_after_step_16_the_gradient_is_plain_and_nothing_retraces():
    step, grad = make()
    grad(tf.constant(X), tf.constant(UPSTREAM))
    step.assign(17)
    g = grad(tf.constant(X), tf.constant(UPSTREAM))[1].numpy()
    np.testing.assert_array_equal(g[0], np.zeros(4))
    np.testing.assert_array_equal(g[1], [0.0, 1.0, 0.0, 0.0])
    assert grad.experimental_get_tracing_count() == 1


def test_no_redirection_gives_the_plain_gradient_from_the_start():
    _, grad = make(redirect_steps=0)
    g = grad(tf.constant(X), tf.constant(UPSTREAM))[1].numpy()
    np.testing.assert_array_equal(g[0], np.zeros(4))


def test_redirection_works_per_item_on_feature_maps():
    _, grad = make()
    x = -np.ones((3, 2, 2, 5), np.float32)
    x[2, 1, 1, 4] = 1.0  # only item 2 is alive
    upstream = -np.ones_like(x)
    g = grad(tf.constant(x), tf.constant(upstream))[1].numpy()
    assert np.all(g[:2] == -1.0)
    assert g[2].sum() == -1.0 and g[2, 1, 1, 4] == -1.0
