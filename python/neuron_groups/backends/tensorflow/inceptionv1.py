"""InceptionV1 (GoogLeNet) as trained by BVLC in Caffe, rebuilt with plain TensorFlow 2 ops.

The layer table, Caffe's size arithmetic and the weight files are framework-neutral and live
in :mod:`neuron_groups.backends.inceptionv1`; this module holds only the TensorFlow ops
(:class:`GoogLeNet`, Caffe's ceil-mode max pool) and the :class:`InceptionV1` VisionModel.
Caffe's semantics are kept: max pooling rounds output sizes up, LRN divides alpha by the
window size, inputs are BGR 0..255 minus the ImageNet mean.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

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
from neuron_groups.backends.tensorflow.common import Relu, TFVisionModel


# -- the network -------------------------------------------------------------------------
class GoogLeNet(tf.Module):
    """BVLC GoogLeNet as TensorFlow ops, readable at every :data:`STAGES` layer.

    Parameters
    ----------
    weights : dict
        Caffe prefix -> (filter, bias) as stored, see :func:`load_weights`.
    """

    def __init__(self, weights: Weights) -> None:
        super().__init__(name="googlenet")
        self.filters: dict[str, tf.Variable] = {}
        self.biases: dict[str, tf.Variable] = {}
        for prefix, (kernel, bias) in weights.items():
            # Filters (out, kh, kw, in) -> (kh, kw, in, out); the classifier (out, in) -> (in, out).
            kernel = kernel.transpose(1, 2, 3, 0) if kernel.ndim == 4 else kernel.T
            safe = prefix.replace("/", "_")
            self.filters[prefix] = tf.Variable(kernel, trainable=False, name=f"{safe}_w")
            self.biases[prefix] = tf.Variable(bias, trainable=False, name=f"{safe}_b")

    def forward(self, images: tf.Tensor, upto: str, relu: Relu = tf.nn.relu) -> tf.Tensor:
        """Run from RGB images in [0, 1], (B, H, W, 3), to the output of stage ``upto``."""
        x = tf.reverse(images, axis=[-1]) * 255.0 - BGR_MEAN  # (B, H, W, 3) BGR
        return self.run(x, None, upto, relu)

    def run(self, x: tf.Tensor, after: str | None, upto: str, relu: Relu = tf.nn.relu):
        """Run from the output of stage ``after`` (None: the BGR input) to that of ``upto``.

        The logits are ``run(acts, layer, LOGITS)``, (B, 1000).
        """
        for stage in stages_between(after, upto):
            x = self._apply(stage, x, relu)
        return x

    def weight_arrays(self) -> Iterator[np.ndarray]:
        """Every filter and bias as stored in the files, in :func:`weight_shapes` order."""
        for prefix in weight_shapes():
            kernel = self.filters[prefix].numpy()
            # Back to the stored layouts: filters (out, kh, kw, in), the classifier (out, in).
            yield kernel.transpose(3, 0, 1, 2) if kernel.ndim == 4 else kernel.T
            yield self.biases[prefix].numpy()

    def _apply(self, stage: Stage, x: tf.Tensor, relu: Relu) -> tf.Tensor:
        kind = stage.kind
        if kind == "conv":
            return self._conv(x, stage.block, relu, stage.stride, stage.pad)
        if kind == "maxpool":
            return _caffe_max_pool(x)
        if kind == "lrn":
            return tf.nn.local_response_normalization(x, **LRN)
        if kind == "inception":
            return self._inception(x, stage.block, relu)
        if kind == "avgpool":
            # Caffe's 7x7 average pool is global at 224; global pooling lets other sizes through.
            return tf.reduce_mean(x, axis=[1, 2])  # (B, C)
        if kind == "fc":
            return tf.matmul(x, self.filters[stage.block]) + self.biases[stage.block]
        return tf.nn.softmax(x)

    def _conv(self, x: tf.Tensor, prefix: str, relu: Relu, stride: int = 1, pad: int = 0):
        padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]] if pad else "VALID"
        y = tf.nn.conv2d(x, self.filters[prefix], stride, padding)
        return relu(tf.nn.bias_add(y, self.biases[prefix]))

    def _inception(self, x: tf.Tensor, block: str, relu: Relu) -> tf.Tensor:
        conv = self._conv
        branch1 = conv(x, f"{block}/1x1", relu)
        branch3 = conv(conv(x, f"{block}/3x3_reduce", relu), f"{block}/3x3", relu, pad=1)
        branch5 = conv(conv(x, f"{block}/5x5_reduce", relu), f"{block}/5x5", relu, pad=2)
        # 3x3 stride 1 pad 1: Caffe's padded max pool ignores the padding, as SAME does.
        pooled = tf.nn.max_pool2d(x, 3, 1, "SAME")
        branch_pool = conv(pooled, f"{block}/pool_proj", relu)
        return tf.concat([branch1, branch3, branch5, branch_pool], axis=-1)  # (B, H, W, C)


def _caffe_max_pool(x: tf.Tensor) -> tf.Tensor:
    """3x3 stride 2 max pool that rounds the output size up, as Caffe does.

    The last window may overhang the bottom/right edge; it is padded with the lowest float
    so the padding never wins the max (nor takes its gradient).
    """
    shape = tf.shape(x)  # (B, H, W, C)
    pads = []
    for side in (shape[1], shape[2]):
        out = ceil_div_tensor(side - POOL_KERNEL, POOL_STRIDE) + 1
        pads.append(tf.maximum((out - 1) * POOL_STRIDE + POOL_KERNEL - side, 0))
    padded = tf.pad(x, [[0, 0], [0, pads[0]], [0, pads[1]], [0, 0]], constant_values=x.dtype.min)
    return tf.nn.max_pool2d(padded, POOL_KERNEL, POOL_STRIDE, "VALID")


def ceil_div_tensor(a: tf.Tensor, b: int) -> tf.Tensor:
    """``ceil(a / b)`` for integer tensors (floor division rounds toward -inf)."""
    return -tf.math.floordiv(-a, b)


# -- the VisionModel ---------------------------------------------------------------------
class InceptionV1(InceptionV1Facts, TFVisionModel):
    """BVLC GoogLeNet behind the :class:`~neuron_groups.backends.base.VisionModel` seam.

    Parameters
    ----------
    weights : dict, optional
        Caffe prefix -> (filter, bias) as stored; read with :func:`load_weights` if omitted.
    class_names, class_synonyms : sequence, optional
        Display name and all names of each of the 1000 logits.
    """

    def __init__(
        self,
        weights: Weights | None = None,
        class_names=None,
        class_synonyms=None,
    ) -> None:
        super().__init__()
        self._init_facts(weights is None, class_names, class_synonyms)
        self.net = GoogLeNet(load_weights() if weights is None else weights)

    def weight_arrays(self) -> Iterator[np.ndarray]:
        """Every filter and bias, as stored in the weight files."""
        return self.net.weight_arrays()

    def forward_to(self, images: tf.Tensor, layer: str, relu: Relu = tf.nn.relu) -> tf.Tensor:
        """Activations at ``layer`` of RGB images in [0, 1], (B, H, W, 3) (traceable)."""
        return self.net.forward(images, self.resolve_layer(layer).name, relu)

    def continue_to(self, acts: tf.Tensor, layer: str, later: str) -> tf.Tensor:
        """Activations at ``later`` from those at ``layer`` (traceable)."""
        return self.net.run(acts, *self.later_pair(layer, later))


__all__ = ["GoogLeNet", "InceptionV1", "Stage", "load_weights", "weight_shapes"]
