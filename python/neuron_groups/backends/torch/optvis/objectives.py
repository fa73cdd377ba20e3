"""Objectives: what the visualization maximizes, as a function of a layer's activations.

Lucid's ``objectives.direction(layer, v, batch=i)`` summed over i, as the TensorFlow
backend's (:mod:`neuron_groups.backends.tensorflow.optvis.objectives`): for batch item i,
the dot product of the activations with ``v_i`` over channels, averaged over positions.
Lucid, by the Lucid Authors, is Apache-2.0 licensed: https://github.com/tensorflow/lucid;
this is written anew.
"""

from __future__ import annotations

import torch


def direction_scores(acts: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Batch item i's score, ``mean over (y, x) of acts[i, :, y, x] . directions[i]``.

    acts (n, C, h, w), directions (n, C) -> scores (n,).
    """
    if acts.shape[1] != directions.shape[1]:
        raise ValueError(
            f"The directions have {directions.shape[1]} channels but the layer has {acts.shape[1]}."
        )
    return torch.einsum("nchw,nc->nhw", acts, directions).mean(dim=(1, 2))  # (n,)


def total(scores: torch.Tensor) -> torch.Tensor:
    """The objective the optimizer maximizes: the sum of the batch items' scores."""
    return scores.sum()


__all__ = ["direction_scores", "total"]
