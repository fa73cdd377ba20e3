"""InceptionV1 (GoogLeNet) as trained by BVLC in Caffe, rebuilt with plain TensorFlow 2 ops.

The network and its weights are BVLC's ``bvlc_googlenet`` (Szegedy et al., "Going deeper with
convolutions", 2014; weights from the Caffe model zoo, license "unrestricted"), read from the
raw per-layer float32 files that chaosmail/caffejs publishes. Caffe's semantics are kept:
max pooling rounds output sizes up, LRN divides alpha by the window size, inputs are BGR
0..255 minus the ImageNet mean. Layers carry the names Lucid gave InceptionV1 (``mixed4d``,
``softmax2_pre_activation``...), with Caffe's names (``inception_4d/output``...) as aliases.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from neuron_groups.backends.base import LayerInfo
from neuron_groups.backends.tensorflow.common import Relu, TFVisionModel, ceil_div, short_hash
from neuron_groups.data import data_paths, registry
from neuron_groups.errors import DataError, LayerError

WEIGHTS_DIR = "models/bvlc_googlenet/weights"
BGR_MEAN = (104.0, 117.0, 123.0)
"""Caffe's ImageNet mean, subtracted from the 0..255 BGR input (B, G, R)."""
LRN = {"depth_radius": 2, "bias": 1.0, "alpha": 1e-4 / 5, "beta": 0.75}
"""Caffe's LRN (local_size 5, alpha 1e-4, beta 0.75, k 1); Caffe divides alpha by the size."""


@dataclasses.dataclass(frozen=True)
class Stage:
    """One readable layer of the network's trunk.

    Attributes
    ----------
    name, alias : str
        Lucid's name and Caffe's name.
    kind : str
        ``conv``, ``maxpool`` (3x3 stride 2, ceil mode), ``lrn``, ``inception``,
        ``avgpool`` (global), ``fc`` or ``softmax``.
    kernel, stride, pad : int
        Convolution geometry (``conv`` only).
    widths : tuple of int
        Output channels: (C,) for ``conv`` and ``fc``; for ``inception`` the branches'
        (1x1, 3x3_reduce, 3x3, 5x5_reduce, 5x5, pool_proj).
    """

    name: str
    alias: str
    kind: str
    kernel: int = 1
    stride: int = 1
    pad: int = 0
    widths: tuple[int, ...] = ()

    @property
    def block(self) -> str:
        """Caffe's prefix of the layer's weight files (``inception_4d`` for a block)."""
        return self.alias.split("/")[0] if self.kind == "inception" else self.alias


def _inception(lucid: str, caffe: str, *widths: int) -> Stage:
    return Stage(lucid, f"inception_{caffe}/output", "inception", widths=widths)


STAGES: tuple[Stage, ...] = (
    Stage("conv2d0", "conv1/7x7_s2", "conv", kernel=7, stride=2, pad=3, widths=(64,)),
    Stage("maxpool0", "pool1/3x3_s2", "maxpool"),
    Stage("localresponsenorm0", "pool1/norm1", "lrn"),
    Stage("conv2d1", "conv2/3x3_reduce", "conv", widths=(64,)),
    Stage("conv2d2", "conv2/3x3", "conv", kernel=3, pad=1, widths=(192,)),
    Stage("localresponsenorm1", "conv2/norm2", "lrn"),
    Stage("maxpool1", "pool2/3x3_s2", "maxpool"),
    _inception("mixed3a", "3a", 64, 96, 128, 16, 32, 32),
    _inception("mixed3b", "3b", 128, 128, 192, 32, 96, 64),
    Stage("maxpool4", "pool3/3x3_s2", "maxpool"),
    _inception("mixed4a", "4a", 192, 96, 208, 16, 48, 64),
    _inception("mixed4b", "4b", 160, 112, 224, 24, 64, 64),
    _inception("mixed4c", "4c", 128, 128, 256, 24, 64, 64),
    _inception("mixed4d", "4d", 112, 144, 288, 32, 64, 64),
    _inception("mixed4e", "4e", 256, 160, 320, 32, 128, 128),
    Stage("maxpool10", "pool4/3x3_s2", "maxpool"),
    _inception("mixed5a", "5a", 256, 160, 320, 32, 128, 128),
    _inception("mixed5b", "5b", 384, 192, 384, 48, 128, 128),
    Stage("avgpool0", "pool5/7x7_s1", "avgpool"),
    Stage("softmax2_pre_activation", "loss3/classifier", "fc", widths=(1000,)),
    Stage("softmax2", "prob", "softmax"),
)
LOGITS = "softmax2_pre_activation"
_INDEX = {s.name: i for i, s in enumerate(STAGES)}
_POOL_KERNEL, _POOL_STRIDE = 3, 2


# -- size arithmetic (Caffe's) ----------------------------------------------------------
def _out_side(stage: Stage, side: int) -> int:
    """Spatial side after ``stage`` for an input side ``side`` (Caffe's rounding)."""
    if stage.kind == "conv":
        return (side + 2 * stage.pad - stage.kernel) // stage.stride + 1
    if stage.kind == "maxpool":
        return ceil_div(side - _POOL_KERNEL, _POOL_STRIDE) + 1
    return side


def sides(input_side: int) -> list[int]:
    """Spatial side of every stage's output for a square input; 0 where none is left."""
    out, side = [], input_side
    for stage in STAGES:
        side = max(_out_side(stage, side), 0) if side > 0 else 0
        out.append(side)
    return out


def min_input_side(layer: str) -> int:
    """Return the smallest square input side for which every stage up to ``layer`` has an output."""
    last = _INDEX[layer]
    side = 1
    while min(sides(side)[: last + 1]) < 1:
        side += 1
    return side


def _channels() -> list[int]:
    """Output channels of every stage, following the trunk from the 3 input channels."""
    out, channels = [], 3
    for stage in STAGES:
        if stage.kind in ("conv", "fc"):
            channels = stage.widths[0]
        elif stage.kind == "inception":
            w = stage.widths
            channels = w[0] + w[2] + w[4] + w[5]
        out.append(channels)
    return out


# -- weights -----------------------------------------------------------------------------
def weight_shapes() -> dict[str, tuple[int, ...]]:
    """Map each weight file's Caffe prefix (``inception_4d/3x3``) to its stored shape.

    Convolution filters are (out, kh, kw, in); the classifier is (out, in).
    """
    shapes: dict[str, tuple[int, ...]] = {}
    channels = [3, *_channels()]
    for stage, cin in zip(STAGES, channels, strict=False):
        if stage.kind == "conv":
            shapes[stage.block] = (stage.widths[0], stage.kernel, stage.kernel, cin)
        elif stage.kind == "fc":
            shapes[stage.block] = (stage.widths[0], cin)
        elif stage.kind == "inception":
            c1, c3r, c3, c5r, c5, cp = stage.widths
            prefix = stage.block
            shapes[f"{prefix}/1x1"] = (c1, 1, 1, cin)
            shapes[f"{prefix}/3x3_reduce"] = (c3r, 1, 1, cin)
            shapes[f"{prefix}/3x3"] = (c3, 3, 3, c3r)
            shapes[f"{prefix}/5x5_reduce"] = (c5r, 1, 1, cin)
            shapes[f"{prefix}/5x5"] = (c5, 5, 5, c5r)
            shapes[f"{prefix}/pool_proj"] = (cp, 1, 1, cin)
    return shapes


def _weight_files(prefix: str) -> tuple[str, str]:
    return f"{WEIGHTS_DIR}/{prefix}_filter.bin", f"{WEIGHTS_DIR}/{prefix}_bias.bin"


def _read(path: Path, relpath: str, shape: tuple[int, ...]) -> np.ndarray:
    values = np.fromfile(path, dtype="<f4")
    if values.size != int(np.prod(shape)):
        raise DataError(f"{path} holds {values.size} floats; {relpath} should hold {shape}.")
    return values.reshape(shape)


def load_weights() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read every layer's (filter, bias) as stored: filters (out, kh, kw, in).

    Files missing locally are downloaded first, with one progress bar.

    Raises
    ------
    DataError
        If a file is missing, corrupt or cannot be downloaded.
    """
    shapes = weight_shapes()
    relpaths = [path for prefix in shapes for path in _weight_files(prefix)]
    paths = dict(zip(relpaths, data_paths(relpaths, "InceptionV1 weights"), strict=True))
    weights = {}
    for prefix, shape in shapes.items():
        filter_path, bias_path = _weight_files(prefix)
        weights[prefix] = (
            _read(paths[filter_path], filter_path, shape),
            _read(paths[bias_path], bias_path, shape[:1]),
        )
    return weights


def weights_digest() -> str:
    """Return a digest of the pinned SHA-256s of every weight file (cheap: no file is read)."""
    known = registry()
    digest = hashlib.sha256()
    for prefix in weight_shapes():
        for relpath in _weight_files(prefix):
            digest.update(known[relpath].encode())
    return digest.hexdigest()


# -- the network -------------------------------------------------------------------------
class GoogLeNet(tf.Module):
    """BVLC GoogLeNet as TensorFlow ops, readable at every :data:`STAGES` layer.

    Parameters
    ----------
    weights : dict
        Caffe prefix -> (filter, bias) as stored, see :func:`load_weights`.
    """

    def __init__(self, weights: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
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
        for stage in STAGES[: _INDEX[upto] + 1]:
            x = self._apply(stage, x, relu)
        return x

    def head(self, acts: tf.Tensor, after: str) -> tf.Tensor:
        """Run from the output of stage ``after`` to the logits, (B, 1000)."""
        x = acts
        for stage in STAGES[_INDEX[after] + 1 : _INDEX[LOGITS] + 1]:
            x = self._apply(stage, x, tf.nn.relu)
        return x

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
        out = ceil_div_tensor(side - _POOL_KERNEL, _POOL_STRIDE) + 1
        pads.append(tf.maximum((out - 1) * _POOL_STRIDE + _POOL_KERNEL - side, 0))
    padded = tf.pad(x, [[0, 0], [0, pads[0]], [0, pads[1]], [0, 0]], constant_values=x.dtype.min)
    return tf.nn.max_pool2d(padded, _POOL_KERNEL, _POOL_STRIDE, "VALID")


def ceil_div_tensor(a: tf.Tensor, b: int) -> tf.Tensor:
    """``ceil(a / b)`` for integer tensors (floor division rounds toward -inf)."""
    return -tf.math.floordiv(-a, b)


# -- the VisionModel ---------------------------------------------------------------------
class InceptionV1(TFVisionModel):
    """BVLC GoogLeNet behind the :class:`~neuron_groups.backends.base.VisionModel` seam.

    Parameters
    ----------
    weights : dict, optional
        Caffe prefix -> (filter, bias) as stored; read with :func:`load_weights` if omitted.
    class_names, class_synonyms : sequence, optional
        Display name and all names of each of the 1000 logits.
    """

    name = "inceptionv1"
    logits_layer = LOGITS
    default_size = 224

    def __init__(
        self,
        weights: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
        class_names=None,
        class_synonyms=None,
    ) -> None:
        super().__init__()
        self.net = GoogLeNet(load_weights() if weights is None else weights)
        self.class_names = class_names
        self.class_synonyms = class_synonyms
        self._layers = _layer_infos(self.default_size)
        self._identity: str | None = None

    def layers(self) -> list[LayerInfo]:
        """List the trunk's layers, input to output, with shapes at 224x224."""
        return list(self._layers)

    @property
    def identity(self) -> str:
        """``inceptionv1-`` and a short digest of the pinned weight hashes."""
        if self._identity is None:
            self._identity = f"{self.name}-{short_hash(weights_digest())}"
        return self._identity

    def forward_to(self, images: tf.Tensor, layer: str, relu: Relu = tf.nn.relu) -> tf.Tensor:
        """Activations at ``layer`` of RGB images in [0, 1], (B, H, W, 3) (traceable)."""
        return self.net.forward(images, self.resolve_layer(layer).name, relu)

    def head_from(self, acts: tf.Tensor, layer: str) -> tf.Tensor:
        """Logits (B, 1000) from the activations at ``layer`` (traceable)."""
        name = self.resolve_layer(layer).name
        if _INDEX[name] > _INDEX[LOGITS]:
            raise LayerError(f"{name!r} comes after the logits; there is no way back from it.")
        return self.net.head(acts, name)

    def min_input_size(self, layer: str) -> int:
        """Smallest square input side that reaches ``layer`` (Caffe's size arithmetic)."""
        return min_input_side(self.resolve_layer(layer).name)


def _layer_infos(input_side: int) -> list[LayerInfo]:
    infos = []
    for stage, side, channels in zip(STAGES, sides(input_side), _channels(), strict=True):
        spatial = stage.kind not in ("avgpool", "fc", "softmax")
        shape = (side, side, channels) if spatial else (channels,)
        infos.append(LayerInfo(stage.name, shape, (stage.alias,)))
    return infos
