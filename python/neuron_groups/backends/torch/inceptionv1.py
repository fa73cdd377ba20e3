"""InceptionV1 (GoogLeNet) as trained by BVLC in Caffe, rebuilt with PyTorch ops.

The layer table, Caffe's size arithmetic and the weight files are framework-neutral and live
in :mod:`neuron_groups.backends.inceptionv1`; this module holds only the PyTorch ops
(:class:`GoogLeNet`) and the :class:`InceptionV1` VisionModel. Caffe's semantics are kept:
max pooling rounds output sizes up (``ceil_mode``), LRN divides alpha by the window size,
inputs are BGR 0..255 minus the ImageNet mean. Tensors are channels-first inside.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from neuron_groups.backends.inceptionv1 import (
    BGR_MEAN,
    LRN,
    POOL_KERNEL,
    POOL_STRIDE,
    InceptionV1Facts,
    Stage,
    Weights,
    load_weights,
    stages_between,
    weight_shapes,
)
from neuron_groups.backends.torch.common import Relu, TorchVisionModel

LRN_SIZE = 2 * LRN["depth_radius"] + 1
"""Caffe's LRN window (5 channels)."""
LRN_ALPHA = LRN["alpha"] * LRN_SIZE
"""``F.local_response_norm`` divides alpha by the window size itself, as Caffe does."""


def _key(prefix: str) -> str:
    """A parameter name for a Caffe prefix (module names cannot hold ``/`` or ``.``)."""
    return prefix.replace("/", "__").replace(".", "_")


# -- the network -------------------------------------------------------------------------
class GoogLeNet(torch.nn.Module):
    """BVLC GoogLeNet as PyTorch ops, readable at every :data:`STAGES` layer.

    Parameters
    ----------
    weights : dict
        Caffe prefix -> (filter, bias) as stored, see :func:`load_weights`.
    """

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
            "bgr_mean", torch.tensor(BGR_MEAN, dtype=torch.float32).reshape(1, 3, 1, 1)
        )

    def forward(self, images: torch.Tensor, upto: str, relu: Relu = torch.relu) -> torch.Tensor:
        """Run from RGB images in [0, 1], (B, 3, H, W), to the output of stage ``upto``."""
        x = images.flip(1) * 255.0 - self.bgr_mean  # (B, 3, H, W) BGR
        return self.run(x, None, upto, relu)

    def run(self, x: torch.Tensor, after: str | None, upto: str, relu: Relu = torch.relu):
        """Run from the output of stage ``after`` (None: the BGR input) to that of ``upto``.

        The logits are ``run(acts, layer, LOGITS)``, (B, 1000).
        """
        for stage in stages_between(after, upto):
            x = self._run_stage(stage, x, relu)
        return x

    def weight_arrays(self) -> Iterator[np.ndarray]:
        """Every filter and bias as stored in the files, in :func:`weight_shapes` order."""
        for prefix in weight_shapes():
            kernel = self.filters[_key(prefix)].detach().cpu().numpy()
            # Back to the stored layout: filters (out, kh, kw, in), the classifier (out, in).
            yield kernel.transpose(0, 2, 3, 1) if kernel.ndim == 4 else kernel
            yield self.biases[_key(prefix)].detach().cpu().numpy()

    def _run_stage(self, stage: Stage, x: torch.Tensor, relu: Relu) -> torch.Tensor:
        kind = stage.kind
        if kind == "conv":
            return self._conv(x, stage.block, relu, stage.stride, stage.pad)
        if kind == "maxpool":
            # Caffe rounds the output size up; with no padding every window starts inside.
            return F.max_pool2d(x, POOL_KERNEL, POOL_STRIDE, ceil_mode=True)
        if kind == "lrn":
            return F.local_response_norm(x, LRN_SIZE, LRN_ALPHA, LRN["beta"], LRN["bias"])
        if kind == "inception":
            return self._inception(x, stage.block, relu)
        if kind == "avgpool":
            # Caffe's 7x7 average pool is global at 224; global pooling lets other sizes through.
            return x.mean(dim=(2, 3))  # (B, C)
        if kind == "fc":
            key = _key(stage.block)
            return F.linear(x, self.filters[key], self.biases[key])  # (B, K)
        return torch.softmax(x, dim=1)

    def _conv(self, x: torch.Tensor, prefix: str, relu: Relu, stride: int = 1, pad: int = 0):
        key = _key(prefix)
        return relu(F.conv2d(x, self.filters[key], self.biases[key], stride, pad))

    def _inception(self, x: torch.Tensor, block: str, relu: Relu) -> torch.Tensor:
        conv = self._conv
        branch1 = conv(x, f"{block}/1x1", relu)
        branch3 = conv(conv(x, f"{block}/3x3_reduce", relu), f"{block}/3x3", relu, pad=1)
        branch5 = conv(conv(x, f"{block}/5x5_reduce", relu), f"{block}/5x5", relu, pad=2)
        # 3x3 stride 1 pad 1: the padding is -inf, so it never wins (Caffe, TF's SAME).
        pooled = F.max_pool2d(x, 3, 1, padding=1)
        branch_pool = conv(pooled, f"{block}/pool_proj", relu)
        return torch.cat([branch1, branch3, branch5, branch_pool], dim=1)  # (B, C, H, W)


def _frozen(array: np.ndarray) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(array)), requires_grad=False)


# -- the VisionModel ---------------------------------------------------------------------
class InceptionV1(InceptionV1Facts, TorchVisionModel):
    """BVLC GoogLeNet in PyTorch behind the :class:`~neuron_groups.backends.base.VisionModel` seam.

    Parameters
    ----------
    weights : dict, optional
        Caffe prefix -> (filter, bias) as stored; read with :func:`load_weights` if omitted.
    class_names, class_synonyms : sequence, optional
        Display name and all names of each of the 1000 logits.
    device : str or torch.device, optional
        Where the weights live and the passes run (default: CPU).
    """

    def __init__(
        self,
        weights: Weights | None = None,
        class_names=None,
        class_synonyms=None,
        device: str | torch.device | None = None,
    ) -> None:
        self._init_facts(weights is None, class_names, class_synonyms)
        self.module = GoogLeNet(load_weights() if weights is None else weights)
        if device is not None:
            self.module.to(device)
        self.freeze()

    def weight_arrays(self) -> Iterator[np.ndarray]:
        """Every filter and bias, as stored in the weight files."""
        return self.module.weight_arrays()

    def forward_to(self, images: torch.Tensor, layer: str, relu: Relu = torch.relu):
        """Activations at ``layer`` of RGB images in [0, 1], (B, 3, H, W) -> (B, C, H', W')."""
        return self.module(images, self.resolve_layer(layer).name, relu)

    def continue_to(self, acts: torch.Tensor, layer: str, later: str) -> torch.Tensor:
        """Activations at ``later`` from those at ``layer``, channels-first."""
        return self.module.run(acts, *self.later_pair(layer, later))


__all__ = ["GoogLeNet", "InceptionV1"]
