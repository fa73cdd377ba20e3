"""Objectives: what the visualization maximizes, as a function of a layer's activations.

Lucid's ``objectives.direction(layer, v, batch=i)`` summed over i: for batch item i, the
dot product of the activations with ``v_i`` over channels, averaged over positions (not a
cosine similarity). Lucid, by the Lucid Authors, is Apache-2.0 licensed:
https://github.com/tensorflow/lucid; this is written anew.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from neuron_groups.backends.tensorflow._import import import_tensorflow

tf = import_tensorflow()

Objective = Callable[[tf.Tensor], tf.Tensor]
"""Maps activations (n, h, w, C) to one score per batch item, shape (n,)."""


def direction(vectors: np.ndarray) -> Objective:
    """Batch item i's score is ``mean over (y, x) of acts[i, y, x] . vectors[i]``.

    Parameters
    ----------
    vectors : array or tf.Variable, shape (n, C)
        A variable is read at each call (a compiled step then serves other directions of
        the same shape); anything else is taken as a constant.

    Returns
    -------
    callable
        acts (n, h, w, C) -> scores (n,)
    """
    if isinstance(vectors, tf.Variable):
        v = vectors  # (n, C)
    else:
        v = tf.constant(np.asarray(vectors, dtype=np.float32))  # (n, C)

    def objective(acts):
        if acts.shape[-1] not in (None, v.shape[-1]):
            raise ValueError(
                f"The directions have {v.shape[-1]} channels but the layer has {acts.shape[-1]}."
            )
        return tf.reduce_mean(tf.einsum("bhwc,bc->bhw", acts, v), axis=(1, 2))  # (n,)

    return objective


def total(scores: tf.Tensor) -> tf.Tensor:
    """The objective the optimizer maximizes: the sum of the batch items' scores."""
    return tf.reduce_sum(scores)
