"""How much each group of neurons pushes each class: a linear approximation.

``attr[class, group] = sum over (y, x, c) of grad[class, y, x, c] * spatial[group, y, x]
* channel[group, c]``, where ``grad`` is the gradient of the class's pre-softmax logit with
respect to the layer's activations (the original notebook's ``raw_class_group_attr``).
"""

from __future__ import annotations

import numpy as np


def group_attributions(grads: np.ndarray, spatial: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Attribution of each class logit to each group.

    Parameters
    ----------
    grads : ndarray, shape (K, H, W, C)
        Gradient of each class logit with respect to the layer's activations.
    spatial : ndarray, shape (n, H, W)
        Where each group is present.
    channel : ndarray, shape (n, C)
        Each group's direction over channels.

    Returns
    -------
    ndarray, shape (K, n)
    """
    if grads.shape[1:3] != spatial.shape[1:] or grads.shape[3] != channel.shape[1]:
        raise ValueError(
            f"Gradients {grads.shape} do not match spatial {spatial.shape} and channel "
            f"{channel.shape} factors."
        )
    # Contract channels first: (K, H, W, C) x (n, C) -> (K, n, H, W), then positions.
    per_position = np.einsum("khwc,nc->knhw", grads, channel, optimize=True)
    return np.einsum("knhw,nhw->kn", per_position, spatial, optimize=True).astype(np.float32)
