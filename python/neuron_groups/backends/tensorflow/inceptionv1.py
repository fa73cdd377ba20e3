"""InceptionV1 (GoogLeNet) as trained by BVLC in Caffe, rebuilt with plain TensorFlow 2 ops.

The layer table, Caffe's size arithmetic and the weight files are framework-neutral and live
in :mod:`neuron_groups.backends.inceptionv1`; this module holds only the TensorFlow ops
(:class:`GoogLeNet`, Caffe's ceil-mode max pool) and the :class:`InceptionV1` VisionModel.
Caffe's semantics are kept: max pooling rounds output sizes up, LRN divides alpha by the
window size, inputs are BGR 0..255 minus the ImageNet mean.
"""

from __future__ import annotations

import functools

import numpy as np

from neuron_groups.backends.inceptionv1 import (
    BGR_MEAN,
    LRN,
    POOL_KERNEL,
    POOL_STRIDE,
    GoogLeNetTrunk,
    InceptionV1Facts,
    Weights,
)
from neuron_groups.backends.tensorflow._import import import_tensorflow
from neuron_groups.backends.tensorflow.common import Relu, TFVisionModel

tf = import_tensorflow()


# -- the network -------------------------------------------------------------------------
class GoogLeNet(GoogLeNetTrunk, tf.Module):
    """BVLC GoogLeNet as TensorFlow ops, channels-last, readable at every :data:`STAGES` layer.

    Parameters
    ----------
    weights : dict
        Caffe prefix -> (filter, bias) as stored, see :func:`load_weights`.
    """

    plain_relu = staticmethod(tf.nn.relu)

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

    def stored_weights(self, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """Back to the stored layouts: filters (out, kh, kw, in), the classifier (out, in)."""
        kernel = self.filters[prefix].numpy()
        kernel = kernel.transpose(3, 0, 1, 2) if kernel.ndim == 4 else kernel.T
        return kernel, self.biases[prefix].numpy()

    # -- ops (channels-last) ---------------------------------------------------------------
    def conv(self, x: tf.Tensor, prefix: str, relu: Relu, stride: int = 1, pad: int = 0):
        """A convolution of the trunk, with bias and ReLU."""
        padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]] if pad else "VALID"
        y = tf.nn.conv2d(x, self.filters[prefix], stride, padding)
        return relu(tf.nn.bias_add(y, self.biases[prefix]))

    def max_pool(self, x: tf.Tensor) -> tf.Tensor:
        """3x3 stride 2, output size rounded up (see :func:`_caffe_max_pool`)."""
        return _caffe_max_pool(x)

    def lrn(self, x: tf.Tensor) -> tf.Tensor:
        """Caffe's LRN, ``x / (bias + alpha * window sum of x**2) ** 0.75`` (alpha as in LRN).

        TensorFlow's ``local_response_normalization`` computes the same, but its gradient
        kernel is slow on the CPU: this form, a matrix product over channels and two square
        roots, makes the icon step's forward and backward pass about 5% faster (within
        3e-7 of it).
        """
        window = _channel_window(x.shape[-1])  # (C, C)
        d = LRN["bias"] + LRN["alpha"] * tf.tensordot(tf.square(x), window, 1)  # (B, H, W, C)
        return x * tf.math.rsqrt(d) * tf.math.rsqrt(tf.sqrt(d))  # d ** -0.5 * d ** -0.25

    def pool_same(self, x: tf.Tensor) -> tf.Tensor:
        """3x3 stride 1: Caffe's padded max pool ignores the padding, as SAME does."""
        return tf.nn.max_pool2d(x, 3, 1, "SAME")

    def concat_channels(self, branches: list[tf.Tensor]) -> tf.Tensor:
        """(B, H, W, C) along C."""
        return tf.concat(branches, axis=-1)

    def global_mean(self, x: tf.Tensor) -> tf.Tensor:
        """(B, H, W, C) -> (B, C)."""
        return tf.reduce_mean(x, axis=[1, 2])

    def fc(self, x: tf.Tensor, prefix: str) -> tf.Tensor:
        """(B, C) -> (B, K)."""
        return tf.matmul(x, self.filters[prefix]) + self.biases[prefix]

    def softmax(self, x: tf.Tensor) -> tf.Tensor:
        """Over the last axis."""
        return tf.nn.softmax(x)


assert LRN["beta"] == 0.75, "GoogLeNet.lrn computes the power -0.75 as two square roots"


@functools.cache
def _channel_window(channels: int) -> np.ndarray:
    """(C, C) float32: 1 where two channels are within LRN's depth radius of each other."""
    index = np.arange(channels)
    near = np.abs(index[:, None] - index[None, :]) <= LRN["depth_radius"]
    return near.astype(np.float32)


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

    def __init__(self, weights: Weights | None = None, class_names=None, class_synonyms=None):
        super().__init__()
        self.network = GoogLeNet(self._init_facts(weights, class_names, class_synonyms))

    def forward_to(self, images: tf.Tensor, layer: str, relu: Relu = tf.nn.relu) -> tf.Tensor:
        """Activations at ``layer`` of RGB images in [0, 1], (B, H, W, 3) (traceable)."""
        return self.network.forward(images, self.resolve_layer(layer).name, relu)


__all__ = ["GoogLeNet", "InceptionV1"]
