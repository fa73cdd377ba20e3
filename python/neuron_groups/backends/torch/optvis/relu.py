"""A ReLU whose gradient is redirected for the first steps (Lucid's ``redirected_relu_grad``).

Wherever a batch item's whole ReLU gradient would be zero, the gradient instead passes the
part of the incoming gradient that pushes negative inputs up, computed from the output as
the TensorFlow backend's is (:mod:`neuron_groups.backends.tensorflow.optvis.relu`).
Lucid, by the Lucid Authors, is Apache-2.0
licensed: https://github.com/tensorflow/lucid; this is written anew.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


class _RedirectedRelu(torch.autograd.Function):
    """max(x, 0); while redirecting, Lucid's ``redirected_relu_grad`` (from the output y)."""

    @staticmethod
    def forward(ctx, x, redirect):
        y = x.clamp_min(0.0)
        ctx.save_for_backward(y)
        ctx.redirect = redirect
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        plain = grad * (y > 0)
        if not ctx.redirect:
            return plain, None
        redirected = torch.where((y <= 0) & (grad > 0), torch.zeros_like(grad), grad)
        alive = plain.flatten(1).abs().amax(dim=1) > 0  # (B,)
        alive = alive.reshape(-1, *([1] * (plain.ndim - 1)))  # (B, 1, ...)
        return torch.where(alive, plain, redirected), None


def relu_for(redirect: bool) -> Callable[[torch.Tensor], torch.Tensor]:
    """A ReLU whose gradient is redirected when ``redirect`` is true (plain otherwise)."""
    if not redirect:
        return torch.relu
    return lambda x: _RedirectedRelu.apply(x, True)


__all__ = ["relu_for"]
