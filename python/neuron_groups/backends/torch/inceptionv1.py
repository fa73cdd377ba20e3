"""InceptionV1 (GoogLeNet) as trained by BVLC in Caffe, rebuilt with PyTorch ops.

The layer table, Caffe's size arithmetic and the weight files are framework-neutral and live
in :mod:`neuron_groups.backends.inceptionv1`; this module holds only the PyTorch ops
(:class:`GoogLeNet`) and the :class:`InceptionV1` VisionModel. Caffe's semantics are kept:
max pooling rounds output sizes up (``ceil_mode``), LRN divides alpha by the window size,
inputs are BGR 0..255 minus the ImageNet mean. Tensors are channels-first inside.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from neuron_groups.backends import inceptionv1 as caffe
from neuron_groups.backends.inceptionv1 import GoogLeNetTrunk, InceptionV1Facts, Weights
from neuron_groups.backends.torch.common import Relu, TorchVisionModel

LRN_SIZE = 2 * caffe.LRN["depth_radius"] + 1
"""Caffe's LRN window (5 channels)."""
LRN_ALPHA = caffe.LRN["alpha"] * LRN_SIZE
"""``F.local_response_norm`` divides alpha by the window size itself, as Caffe does."""


def _key(prefix: str) -> str:
    """A parameter name for a Caffe prefix (module names cannot hold ``/`` or ``.``)."""
    return prefix.replace("/", "__").replace(".", "_")


# -- the network -------------------------------------------------------------------------
class GoogLeNet(GoogLeNetTrunk, torch.nn.Module):
    """BVLC GoogLeNet as PyTorch ops, channels-first, readable at every :data:`STAGES` layer.

    Parameters
    ----------
    weights : dict
        Caffe prefix -> (filter, bias) as stored, see :func:`load_weights`.
    """

    plain_relu = staticmethod(torch.relu)

    def __init__(self, weights: Weights) -> None:
        super().__init__()
        self.filters = torch.nn.ParameterDict()
        self.biases = torch.nn.ParameterDict()
        for prefix, (kernel, bias) in weights.items():
            # Filters (out, kh, kw, in) -> (out, in, kh, kw); the classifier stays (out, in).
            kernel = kernel.transpose(0, 3, 1, 2) if kernel.ndim == 4 else kernel
            self.filters[_key(prefix)] = _frozen(kernel)
            self.biases[_key(prefix)] = _frozen(bias)
        self.register_buffer(
            "bgr_mean", torch.tensor(caffe.BGR_MEAN, dtype=torch.float32).reshape(1, 3, 1, 1)
        )

    def forward(self, images: torch.Tensor, upto: str, relu: Relu = torch.relu) -> torch.Tensor:
        """Run from RGB images in [0, 1], (B, 3, H, W), to the output of stage ``upto``."""
        x = images.flip(1) * 255.0 - self.bgr_mean  # (B, 3, H, W) BGR
        return self.run(x, None, upto, relu)

    def stored_weights(self, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """Back to the stored layout: filters (out, kh, kw, in), the classifier (out, in)."""
        kernel = self.filters[_key(prefix)].detach().cpu().numpy()
        kernel = kernel.transpose(0, 2, 3, 1) if kernel.ndim == 4 else kernel
        return kernel, self.biases[_key(prefix)].detach().cpu().numpy()

    # -- ops (channels-first) --------------------------------------------------------------
    def conv(self, x: torch.Tensor, prefix: str, relu: Relu, stride: int = 1, pad: int = 0):
        """A convolution of the trunk, with bias and ReLU."""
        key = _key(prefix)
        return relu(F.conv2d(x, self.filters[key], self.biases[key], stride, pad))

    def max_pool(self, x: torch.Tensor) -> torch.Tensor:
        """Caffe rounds the output size up; with no padding every window starts inside."""
        return F.max_pool2d(x, caffe.POOL_KERNEL, caffe.POOL_STRIDE, ceil_mode=True)

    def lrn(self, x: torch.Tensor) -> torch.Tensor:
        """Caffe's LRN (see :data:`LRN_ALPHA`)."""
        return F.local_response_norm(x, LRN_SIZE, LRN_ALPHA, caffe.LRN["beta"], caffe.LRN["bias"])

    def pool_same(self, x: torch.Tensor) -> torch.Tensor:
        """3x3 stride 1 pad 1: the padding is -inf, so it never wins (Caffe, TF's SAME)."""
        return F.max_pool2d(x, 3, 1, padding=1)

    def concat_channels(self, branches: list[torch.Tensor]) -> torch.Tensor:
        """(B, C, H, W) along C."""
        return torch.cat(branches, dim=1)

    def global_mean(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> (B, C)."""
        return x.mean(dim=(2, 3))

    def fc(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        """(B, C) -> (B, K)."""
        key = _key(prefix)
        return F.linear(x, self.filters[key], self.biases[key])

    def softmax(self, x: torch.Tensor) -> torch.Tensor:
        """Over the classes."""
        return torch.softmax(x, dim=1)


def _frozen(array: np.ndarray) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(array)), requires_grad=False)


# -- the VisionModel ---------------------------------------------------------------------
class InceptionV1(InceptionV1Facts, TorchVisionModel):
    """BVLC GoogLeNet in PyTorch behind the :class:`~neuron_groups.backends.base.VisionModel` seam.

    ``weights``, ``class_names`` and ``class_synonyms`` are those of
    :meth:`~neuron_groups.backends.inceptionv1.InceptionV1Facts._init_facts` (the published
    weights by default); ``device`` is where the weights live and the passes run (CPU by
    default).
    """

    def __init__(
        self,
        weights: Weights | None = None,
        class_names=None,
        class_synonyms=None,
        device: str | torch.device | None = None,
    ) -> None:
        weights = self._init_facts(weights, class_names, class_synonyms)
        self.module = self.network = GoogLeNet(weights)
        if device is not None:
            self.module.to(device)
        self.freeze()

    def forward_to(self, images: torch.Tensor, layer: str, relu: Relu = torch.relu):
        """Activations at ``layer`` of RGB images in [0, 1], (B, 3, H, W) -> (B, C, H', W')."""
        return self.module(images, self.resolve_layer(layer).name, relu)


__all__ = ["GoogLeNet", "InceptionV1"]
