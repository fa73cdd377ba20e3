"""A ReLU whose gradient is redirected for the first steps (Lucid's ``redirected_relu_grad``).

At the start of an optimization the units being visualized may not fire at all, and a plain
ReLU then lets no gradient through. For the first few steps this ReLU's gradient, wherever a
batch item's whole ReLU gradient would be zero, instead passes the part of the incoming
gradient that pushes negative inputs up. Lucid, by the Lucid Authors, is Apache-2.0
licensed: https://github.com/tensorflow/lucid; this is written anew with
``tf.custom_gradient``.

The gradient is computed from the ReLU's output ``y`` rather than its input ``x`` (``y > 0``
exactly where ``x > 0``), as TensorFlow's own ReLU gradient is: the pre-activation then
need not be kept, and the convolution, bias and ReLU can be fused. It differs from Lucid's
only where ``x`` is exactly 0, where Lucid let the gradient through.
"""

from __future__ import annotations

from collections.abc import Callable

from neuron_groups.backends.tensorflow._import import import_tensorflow

tf = import_tensorflow()


def relu_grad(y: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    """The plain ReLU gradient: ``grad`` where the output ``y`` is positive, else 0."""
    return tf.raw_ops.ReluGrad(gradients=grad, features=y)


def redirected_grad(y: tf.Tensor, grad: tf.Tensor) -> tf.Tensor:
    """Return the redirected ReLU gradient, per batch item.

    It is the plain ReLU gradient if any of the item's is non-zero, else the incoming
    gradient except where it would push a dead unit further down. ``grad`` is
    d(loss)/d(output) of a loss being *minimized*, so a positive value pushes down.

    Parameters
    ----------
    y : Tensor, shape (B, ...)
        The ReLU's output.
    grad : Tensor, shape (B, ...)
    """
    plain = relu_grad(y, grad)
    redirected = tf.where((y <= 0.0) & (grad > 0.0), tf.zeros_like(grad), grad)
    flat = tf.reshape(plain, (tf.shape(plain)[0], -1))  # (B, N)
    alive = tf.reduce_max(tf.abs(flat), axis=1) > 0.0  # (B,) Lucid: norm > 0
    alive = tf.reshape(alive, [-1] + [1] * (len(plain.shape) - 1))  # (B, 1, ...)
    return tf.where(alive, plain, redirected)


def redirected_relu(step: tf.Variable, redirect_steps: int) -> Callable[[tf.Tensor], tf.Tensor]:
    """Return a ReLU whose gradient is redirected while ``step < redirect_steps``.

    Parameters
    ----------
    step : tf.Variable (integer)
        The current optimization step (0-based), read when the gradient is computed, so a
        compiled step function never retraces because of it.
    redirect_steps : int
        Lucid: 17 (steps 0..16). 0 gives the plain ReLU gradient throughout.

    Returns
    -------
    callable
        ``relu(x)``, forward ``max(x, 0)``; ``x`` has a leading batch dimension.
    """

    @tf.custom_gradient
    def relu(x):
        y = tf.nn.relu(x)

        def grad(g):
            redirect = tf.cast(step, tf.int64) < redirect_steps
            return tf.cond(redirect, lambda: redirected_grad(y, g), lambda: relu_grad(y, g))

        return y, grad

    return relu
