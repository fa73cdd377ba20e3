"""InceptionV1 (BVLC GoogLeNet) without a framework: its layer table, sizes and weight files.

The network is BVLC's ``bvlc_googlenet`` (Szegedy et al., "Going deeper with convolutions",
2014; weights from the Caffe model zoo, license "unrestricted"), read from the raw per-layer
float32 files that chaosmail/caffejs publishes. Layers carry the names Lucid gave
InceptionV1 (``mixed4d``, ``softmax2_pre_activation``...), with Caffe's names
(``inception_4d/output``...) as aliases. Caffe's semantics are kept: max pooling rounds
output sizes up, LRN divides alpha by the window size, inputs are BGR 0..255 minus the
ImageNet mean.

Everything here is framework-neutral: the order of the network's stages and of each inception
block's branches is :class:`GoogLeNetTrunk`'s, and a backend (TensorFlow, PyTorch) supplies
the ops from the arrays of :func:`load_weights`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neuron_groups.backends.base import LayerInfo
from neuron_groups.backends.inputs import ceil_div, short_hash
from neuron_groups.data import data_paths, registry
from neuron_groups.errors import DataError, LayerError

WEIGHTS_DIR = "models/bvlc_googlenet/weights"
BGR_MEAN = (104.0, 117.0, 123.0)
"""Caffe's ImageNet mean, subtracted from the 0..255 BGR input (B, G, R)."""
LRN = {"depth_radius": 2, "bias": 1.0, "alpha": 1e-4 / 5, "beta": 0.75}
"""Caffe's LRN (local_size 5, alpha 1e-4, beta 0.75, k 1); Caffe divides alpha by the size."""
POOL_KERNEL, POOL_STRIDE = 3, 2
"""The trunk's max pools: 3x3, stride 2, output size rounded up."""
DEFAULT_SIZE = 224

Weights = dict[str, tuple[np.ndarray, np.ndarray]]
"""Caffe prefix (``inception_4d/3x3``) -> (filter (out, kh, kw, in) or (out, in), bias (out,))."""


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

    @property
    def spatial(self) -> bool:
        """Whether the stage's output is a feature map (H, W, C) rather than a vector."""
        return self.kind not in ("avgpool", "fc", "softmax")


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
INDEX = {s.name: i for i, s in enumerate(STAGES)}
"""Position of each stage (by Lucid's name) in :data:`STAGES`."""


def stages_between(after: str | None, upto: str) -> tuple[Stage, ...]:
    """The stages that take the output of ``after`` (None: the input image) to that of ``upto``."""
    start = 0 if after is None else INDEX[after] + 1
    return STAGES[start : INDEX[upto] + 1]


class GoogLeNetTrunk:
    """BVLC GoogLeNet's stages in order, whatever the framework: a backend supplies the ops.

    A backend's network subclasses this (before its framework's module class) and
    implements the ops on its own tensors and layout: :meth:`conv`, :meth:`max_pool`,
    :meth:`lrn`, :meth:`pool_same`, :meth:`concat_channels`, :meth:`global_mean`,
    :meth:`fc`, :meth:`softmax` and :meth:`stored_weights`.
    """

    plain_relu: Callable
    """The framework's ReLU, used when :meth:`run` is given none."""

    def run(self, x, after: str | None, upto: str, relu: Callable | None = None):
        """Run from the output of stage ``after`` (None: the BGR input) to that of ``upto``.

        The logits are ``run(acts, layer, LOGITS)``, (B, 1000); ``relu`` computes every ReLU
        (default: :attr:`plain_relu`).
        """
        relu = relu or self.plain_relu
        for stage in stages_between(after, upto):
            x = self.run_stage(stage, x, relu)
        return x

    def run_stage(self, stage: Stage, x, relu):
        """The output of one stage for its input ``x``."""
        kind = stage.kind
        if kind == "conv":
            return self.conv(x, stage.block, relu, stage.stride, stage.pad)
        if kind == "maxpool":
            return self.max_pool(x)
        if kind == "lrn":
            return self.lrn(x)
        if kind == "inception":
            return self.inception(x, stage.block, relu)
        if kind == "avgpool":
            # Caffe's 7x7 average pool is global at 224; global pooling lets other sizes through.
            return self.global_mean(x)  # (B, C)
        if kind == "fc":
            return self.fc(x, stage.block)  # (B, K)
        return self.softmax(x)

    def inception(self, x, block: str, relu):
        """An inception block: four branches, concatenated along the channels."""
        conv = self.conv
        branch1 = conv(x, f"{block}/1x1", relu)
        branch3 = conv(conv(x, f"{block}/3x3_reduce", relu), f"{block}/3x3", relu, pad=1)
        branch5 = conv(conv(x, f"{block}/5x5_reduce", relu), f"{block}/5x5", relu, pad=2)
        branch_pool = conv(self.pool_same(x), f"{block}/pool_proj", relu)
        return self.concat_channels([branch1, branch3, branch5, branch_pool])

    def weight_arrays(self):
        """Every filter and bias as stored in the files, in :func:`weight_shapes` order."""
        for prefix in weight_shapes():
            yield from self.stored_weights(prefix)

    # -- the ops a backend supplies --------------------------------------------------------
    def conv(self, x, prefix: str, relu, stride: int = 1, pad: int = 0):
        """``relu(conv(x, filter) + bias)`` with the weights of ``prefix``, zero padding."""
        raise NotImplementedError

    def max_pool(self, x):
        """The trunk's 3x3 stride 2 max pool, its output size rounded up (Caffe's)."""
        raise NotImplementedError

    def lrn(self, x):
        """Caffe's local response normalization (:data:`LRN`)."""
        raise NotImplementedError

    def pool_same(self, x):
        """3x3 stride 1 max pool, padded so the padding never wins (Caffe's pad 1)."""
        raise NotImplementedError

    def concat_channels(self, branches: list):
        """The branches concatenated along the channel axis."""
        raise NotImplementedError

    def global_mean(self, x):
        """The mean over positions, (B, C)."""
        raise NotImplementedError

    def fc(self, x, prefix: str):
        """The classifier ``x @ filter.T + bias``, (B, K)."""
        raise NotImplementedError

    def softmax(self, x):
        """The softmax over classes."""
        raise NotImplementedError

    def stored_weights(self, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """The (filter, bias) of ``prefix`` back in the stored layouts (see :data:`Weights`)."""
        raise NotImplementedError


# -- size arithmetic (Caffe's) ----------------------------------------------------------
def out_side(stage: Stage, side: int) -> int:
    """Spatial side after ``stage`` for an input side ``side`` (Caffe's rounding)."""
    if stage.kind == "conv":
        return (side + 2 * stage.pad - stage.kernel) // stage.stride + 1
    if stage.kind == "maxpool":
        return ceil_div(side - POOL_KERNEL, POOL_STRIDE) + 1
    return side


def sides(input_side: int) -> list[int]:
    """Spatial side of every stage's output for a square input; 0 where none is left."""
    out, side = [], input_side
    for stage in STAGES:
        side = max(out_side(stage, side), 0) if side > 0 else 0
        out.append(side)
    return out


def layer_shape(hw: tuple[int, int], layer: str) -> tuple[int, ...]:
    """The output shape of ``layer``, (h, w, C) or (C,), for an input of (H, W) ``hw``."""
    stage = STAGES[INDEX[layer]]
    width = channels()[INDEX[layer]]
    if not stage.spatial:
        return (width,)
    height, wide = hw
    for step in stages_between(None, layer):
        height, wide = out_side(step, height), out_side(step, wide)
    return (height, wide, width)


def min_input_side(layer: str) -> int:
    """Return the smallest square input side for which every stage up to ``layer`` has an output."""
    last = INDEX[layer]
    side = 1
    while min(sides(side)[: last + 1]) < 1:
        side += 1
    return side


def channels() -> list[int]:
    """Output channels of every stage, following the trunk from the 3 input channels."""
    out, width = [], 3
    for stage in STAGES:
        if stage.kind in ("conv", "fc"):
            width = stage.widths[0]
        elif stage.kind == "inception":
            w = stage.widths
            width = w[0] + w[2] + w[4] + w[5]
        out.append(width)
    return out


def layer_infos(input_side: int = DEFAULT_SIZE) -> list[LayerInfo]:
    """Every stage as a :class:`LayerInfo`, input to output, with shapes for a square input."""
    infos = []
    for stage, side, width in zip(STAGES, sides(input_side), channels(), strict=True):
        shape = (side, side, width) if stage.spatial else (width,)
        infos.append(LayerInfo(stage.name, shape, (stage.alias,)))
    return infos


# -- weights -----------------------------------------------------------------------------
def weight_shapes() -> dict[str, tuple[int, ...]]:
    """Map each weight file's Caffe prefix (``inception_4d/3x3``) to its stored shape.

    Convolution filters are (out, kh, kw, in); the classifier is (out, in).
    """
    shapes: dict[str, tuple[int, ...]] = {}
    inputs = [3, *channels()]
    for stage, cin in zip(STAGES, inputs, strict=False):
        if stage.kind == "conv":
            shapes[stage.block] = (stage.widths[0], stage.kernel, stage.kernel, cin)
        elif stage.kind == "fc":
            shapes[stage.block] = (stage.widths[0], cin)
        elif stage.kind == "inception":
            shapes.update(_inception_shapes(stage, cin))
    return shapes


def _inception_shapes(stage: Stage, cin: int) -> dict[str, tuple[int, ...]]:
    c1, c3r, c3, c5r, c5, cp = stage.widths
    prefix = stage.block
    return {
        f"{prefix}/1x1": (c1, 1, 1, cin),
        f"{prefix}/3x3_reduce": (c3r, 1, 1, cin),
        f"{prefix}/3x3": (c3, 3, 3, c3r),
        f"{prefix}/5x5_reduce": (c5r, 1, 1, cin),
        f"{prefix}/5x5": (c5, 5, 5, c5r),
        f"{prefix}/pool_proj": (cp, 1, 1, cin),
    }


def weight_files(prefix: str) -> tuple[str, str]:
    """The data paths of a layer's (filter, bias) files, e.g. for ``inception_4d/3x3``."""
    return f"{WEIGHTS_DIR}/{prefix}_filter.bin", f"{WEIGHTS_DIR}/{prefix}_bias.bin"


def _read(path: Path, relpath: str, shape: tuple[int, ...]) -> np.ndarray:
    values = np.fromfile(path, dtype="<f4")
    if values.size != int(np.prod(shape)):
        raise DataError(f"{path} holds {values.size} floats; {relpath} should hold {shape}.")
    return values.reshape(shape)


def load_weights() -> Weights:
    """Read every layer's (filter, bias) as stored: filters (out, kh, kw, in).

    Files missing locally are downloaded first, with one progress bar.

    Raises
    ------
    DataError
        If a file is missing, corrupt or cannot be downloaded.
    """
    shapes = weight_shapes()
    relpaths = [path for prefix in shapes for path in weight_files(prefix)]
    paths = dict(zip(relpaths, data_paths(relpaths, "InceptionV1 weights"), strict=True))
    weights = {}
    for prefix, shape in shapes.items():
        filter_path, bias_path = weight_files(prefix)
        weights[prefix] = (
            _read(paths[filter_path], filter_path, shape),
            _read(paths[bias_path], bias_path, shape[:1]),
        )
    return weights


class InceptionV1Facts:
    """What every backend's InceptionV1 knows without a framework (a mixin before the backend).

    The name, the layers and their shapes, the smallest input per layer, which layers can
    follow which, the cache identity of the published weights, and how to continue from a
    layer through :attr:`network`. A backend's class calls :meth:`_init_facts` and builds
    :attr:`network` (its :class:`GoogLeNetTrunk`) from the weights it returns.
    """

    name = "inceptionv1"
    logits_layer = LOGITS
    default_size = DEFAULT_SIZE
    pinned: bool = True
    network: GoogLeNetTrunk

    def _init_facts(self, weights: Weights | None, class_names, class_synonyms) -> Weights:
        """Set the facts; return the weights to build the network from.

        Parameters
        ----------
        weights : dict, optional
            Caffe prefix -> (filter, bias) as stored; the published ones (read with
            :func:`load_weights`, pinned) if None.
        class_names, class_synonyms : sequence, optional
            Display name and all names of each of the 1000 logits.
        """
        self.pinned = weights is None
        self.class_names = class_names
        self.class_synonyms = class_synonyms
        self._layers = layer_infos(DEFAULT_SIZE)
        return load_weights() if weights is None else weights

    def weight_arrays(self):
        """Every filter and bias, as stored in the weight files."""
        return self.network.weight_arrays()

    def continue_to(self, acts, layer: str, later: str):
        """Activations at ``later`` from those at ``layer``, in the backend's layout."""
        return self.network.run(acts, *self.later_pair(layer, later))

    def layers(self) -> list[LayerInfo]:
        """List the trunk's layers, input to output, with shapes (H, W, C) at 224x224."""
        return list(self._layers)

    @property
    def identity(self) -> str:
        """``inceptionv1-`` and a short digest of the weights, the same in every backend.

        For the published weights (read from the files, whose SHA-256s are pinned) the
        digest of the pinned hashes: cheap, no array is hashed. For weights given to the
        constructor, the digest of the arrays (:meth:`VisionModel.identity`).
        """
        if not self.pinned:
            return super().identity  # type: ignore[misc]
        cached = self.__dict__.get("_pinned_identity")
        if cached is None:
            cached = self.__dict__["_pinned_identity"] = (
                f"{self.name}-{short_hash(weights_digest())}"
            )
        return cached

    def layer_shape(self, hw: tuple[int, int], layer: str) -> tuple[int, ...]:
        """The output shape of ``layer`` for an input of (H, W) ``hw``, by Caffe's arithmetic."""
        return layer_shape(hw, self.resolve_layer(layer).name)  # type: ignore[attr-defined]

    def min_input_size(self, layer: str) -> int:
        """Smallest square input side that reaches ``layer`` (Caffe's size arithmetic)."""
        return min_input_side(self.resolve_layer(layer).name)  # type: ignore[attr-defined]

    def later_pair(self, layer: str, later: str) -> tuple[str, str]:
        """Canonical names of ``layer`` and ``later``; refuses a ``later`` that comes before."""
        resolve = self.resolve_layer  # type: ignore[attr-defined]
        name, later_name = resolve(layer).name, resolve(later).name
        if INDEX[later_name] < INDEX[name]:
            raise LayerError(f"{later_name!r} comes before {name!r}; there is no way back.")
        return name, later_name


def weights_digest() -> str:
    """Return a digest of the pinned SHA-256s of every weight file (cheap: no file is read)."""
    known = registry()
    digest = hashlib.sha256()
    for prefix in weight_shapes():
        for relpath in weight_files(prefix):
            digest.update(known[relpath].encode())
    return digest.hexdigest()


__all__ = [
    "BGR_MEAN",
    "DEFAULT_SIZE",
    "INDEX",
    "LOGITS",
    "LRN",
    "POOL_KERNEL",
    "POOL_STRIDE",
    "STAGES",
    "GoogLeNetTrunk",
    "InceptionV1Facts",
    "Stage",
    "Weights",
    "channels",
    "layer_infos",
    "layer_shape",
    "load_weights",
    "min_input_side",
    "sides",
    "stages_between",
    "weight_files",
    "weight_shapes",
    "weights_digest",
]
