"""Lucid's random transforms applied with TensorFlow ops, given each step's numpy draws.

The transforms themselves (their parameters and how each step's random integers are drawn)
are described once, framework-neutrally, in :mod:`neuron_groups.backends.optvis`: pad 12
(constant 0.5), jitter 8, random scale 0.90..1.10 (TF1 bilinear), random rotation -10..10
degrees (nearest neighbour, zero fill, about the centre, with TF1
``tf.contrib.image.rotate``'s gradient), jitter 4. Each class here is that description plus
``__call__(images, draw)``, which applies it to the drawn integers, given as int32 tensors
(or Python ints). The transforms work on images of unknown spatial size, so one compiled
step serves every random scale. Lucid, by the Lucid Authors, is Apache-2.0 licensed:
https://github.com/tensorflow/lucid. The code here is written anew.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from neuron_groups.backends import optvis
from neuron_groups.backends.optvis import degrees_to_radians_lucid
from neuron_groups.backends.tensorflow._import import import_tensorflow

tf = import_tensorflow()


class Pad(optvis.Pad):
    """Pad each side by ``width`` pixels of the constant ``value`` (Lucid: 12, 0.5)."""

    def __call__(self, images: tf.Tensor, draw=()) -> tf.Tensor:
        """Pad images (n, h, w, c) to (n, h + 2 width, w + 2 width, c)."""
        w = self.width
        return tf.pad(images, [(0, 0), (w, w), (w, w), (0, 0)], constant_values=self.value)


class Jitter(optvis.Jitter):
    """Random crop that removes ``d`` rows and ``d`` columns, at the drawn offset (dy, dx)."""

    def __call__(self, images: tf.Tensor, draw=(0, 0)) -> tf.Tensor:
        """Crop images (n, h, w, c) to (n, h - d, w - d, c) at offset ``draw``."""
        begin = tf.stack([0, draw[0], draw[1], 0])
        size = tf.shape(images) - [0, self.d, self.d, 0]
        out = tf.slice(images, begin, size)
        n, h, w, c = images.shape
        out.set_shape([n, h - self.d if h else None, w - self.d if w else None, c])
        return out


def resize_bilinear_tf1(images: tf.Tensor, size) -> tf.Tensor:
    """Resize bilinearly as TF1's ``tf.image.resize_bilinear`` did.

    No corner alignment, no half-pixel centres. images (n, h, w, c) -> (n, size[0], size[1], c).
    """
    return tf.raw_ops.ResizeBilinear(
        images=images, size=size, align_corners=False, half_pixel_centers=False
    )


class RandomScale(optvis.RandomScale):
    """Rescale by the drawn one of ``scales``, bilinear (TF1's)."""

    def __call__(self, images: tf.Tensor, draw=(0,)) -> tf.Tensor:
        """Rescale images (n, h, w, c); the output shape is static if ``draw`` is an int."""
        index = draw[0]
        h, w = images.shape[1:3]
        if isinstance(index, (int, np.integer)) and h and w:  # static output shape
            return resize_bilinear_tf1(images, self.output_size(h, w, int(index)))
        hw = tf.cast(tf.shape(images)[1:3], tf.float32)  # (2,)
        size = tf.cast(tf.gather(tf.constant(self.scales32), index) * hw, tf.int32)
        return resize_bilinear_tf1(images, size)


def rotation_transform(angle: tf.Tensor, h, w) -> tf.Tensor:
    """Return the projective transform (8,) rotating an (h, w) image about its centre.

    As ``tf.contrib.image.angles_to_projective_transforms``; ``angle`` is in radians.

    It maps an output point (x, y) to the input point
    (a0 x + a1 y + a2, b0 x + b1 y + b2): ``[a0, a1, a2, b0, b1, b2, 0, 0]``.
    """
    cos, sin = tf.cos(angle), tf.sin(angle)
    x_offset = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / 2.0
    y_offset = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / 2.0
    zero = tf.zeros_like(angle)
    return tf.stack([cos, -sin, x_offset, sin, cos, y_offset, zero, zero])


def rotate(images: tf.Tensor, angle: tf.Tensor) -> tf.Tensor:
    """Rotate images (n, h, w, c) by ``angle`` radians about the centre, as TF1 did.

    Nearest neighbour, zero fill: TF's ``ImageProjectiveTransform`` op, which
    ``tf.contrib.image.rotate`` ran. Its gradient is TF1's too: the incoming gradient rotated
    back by the inverse transform (not the exact adjoint of the nearest-neighbour gather).
    """
    shape = tf.shape(images)
    hw = tf.cast(shape[1:3], tf.float32)
    transform = rotation_transform(tf.cast(angle, tf.float32), hw[0], hw[1])
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transform[None],
        output_shape=shape[1:3],
        fill_value=0.0,
        interpolation="NEAREST",
        fill_mode="CONSTANT",
    )
    out.set_shape(images.shape)
    return out


class RandomRotate(optvis.RandomRotate):
    """Rotate about the centre by the drawn one of ``angles``."""

    def __call__(self, images: tf.Tensor, draw=(0,)) -> tf.Tensor:
        """Rotate images (n, h, w, c) by the angle of index ``draw[0]``."""
        return rotate(images, tf.gather(tf.constant(self.radians), draw[0]))


_OPS: dict[type, type] = {
    optvis.Pad: Pad,
    optvis.Jitter: Jitter,
    optvis.RandomScale: RandomScale,
    optvis.RandomRotate: RandomRotate,
}


def with_ops(transform: optvis.Transform) -> optvis.Transform:
    """The TensorFlow version (callable) of a transform description; as is if it has one."""
    if callable(transform):
        return transform
    cls = _OPS[type(transform)]
    return cls(**{f.name: getattr(transform, f.name) for f in dataclasses.fields(transform)})


class Compose:
    """Transforms applied in order, each given its slice of one flat array of draws.

    Parameters
    ----------
    transforms : sequence of neuron_groups.backends.optvis.Transform
        Descriptions (or their TensorFlow versions).
    """

    def __init__(self, transforms: Sequence[optvis.Transform]):
        self.transforms = [with_ops(t) for t in transforms]
        self.n_draws = optvis.count_draws(self.transforms)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Draw every transform's integers, in order: int32, shape (n_draws,)."""
        return optvis.draw_transforms(self.transforms, rng)

    def __call__(self, images: tf.Tensor, draws) -> tf.Tensor:
        """Apply the transforms with ``draws`` from :meth:`draw` (a tensor or ints)."""
        i = 0
        for t in self.transforms:
            images = t(images, draws[i : i + t.n_draws])
            i += t.n_draws
        return images

    def __repr__(self):
        return f"Compose({self.transforms})"


def standard_transforms() -> list[optvis.Transform]:
    """Lucid's ``standard_transforms``, in order, with their TensorFlow ops."""
    return [with_ops(t) for t in optvis.standard_transforms()]


__all__ = [
    "Compose",
    "Jitter",
    "Pad",
    "RandomRotate",
    "RandomScale",
    "degrees_to_radians_lucid",
    "resize_bilinear_tf1",
    "rotate",
    "rotation_transform",
    "standard_transforms",
    "with_ops",
]
