"""Stochastic image transforms the visualization must be robust to (Lucid's ``transform``).

Lucid's ``standard_transforms`` in TensorFlow 2: pad 12 (constant 0.5), jitter 8, random
scale 0.90..1.10 (TF1 bilinear), random rotation -10..10 degrees (nearest neighbour, zero
fill, about the centre, with TF1 ``tf.contrib.image.rotate``'s gradient), jitter 4.
Lucid, by the Lucid Authors, is Apache-2.0 licensed: https://github.com/tensorflow/lucid.
The code here is written anew.

Unlike Lucid, the random choices are drawn outside the graph, with a seeded numpy generator,
so that results repeat: each transform's :meth:`Transform.draw` picks its integers, and the
transform is applied to those integers, given as int32 tensors (or Python ints). The
transforms work on images of unknown spatial size, so one compiled step serves every random
scale.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

Draw = tuple[int, ...]


class Transform:
    """A transform of a batch of images (n, h, w, c), given its random draw.

    Attributes
    ----------
    n_draws : int
        How many integers :meth:`draw` returns.
    """

    n_draws = 0

    def draw(self, rng: np.random.Generator) -> Draw:
        """Pick this step's random integers."""
        return ()

    def __call__(self, images: tf.Tensor, draw: Sequence | tf.Tensor = ()) -> tf.Tensor:
        """Apply the transform for the given draw."""
        raise NotImplementedError


class Pad(Transform):
    """Pad each side by ``width`` pixels of the constant ``value`` (Lucid: 12, 0.5)."""

    def __init__(self, width: int, value: float = 0.5):
        self.width, self.value = width, value

    def __call__(self, images, draw=()):
        """Pad images (n, h, w, c) to (n, h + 2 width, w + 2 width, c)."""
        w = self.width
        return tf.pad(images, [(0, 0), (w, w), (w, w), (0, 0)], constant_values=self.value)

    def __repr__(self):
        return f"Pad({self.width}, {self.value})"


class Jitter(Transform):
    """Random crop that removes ``d`` rows and ``d`` columns (TF1 ``random_crop``).

    The draw is the crop's offset (dy, dx), each uniform in 0..d; the output is
    (n, h - d, w - d, c).
    """

    n_draws = 2

    def __init__(self, d: int):
        self.d = d

    def draw(self, rng):
        """Pick the offset (dy, dx), each uniform in 0..d."""
        return tuple(int(v) for v in rng.integers(0, self.d + 1, size=2))

    def __call__(self, images, draw=(0, 0)):
        """Crop images (n, h, w, c) to (n, h - d, w - d, c) at offset ``draw``."""
        begin = tf.stack([0, draw[0], draw[1], 0])
        size = tf.shape(images) - [0, self.d, self.d, 0]
        out = tf.slice(images, begin, size)
        n, h, w, c = images.shape
        out.set_shape([n, h - self.d if h else None, w - self.d if w else None, c])
        return out

    def __repr__(self):
        return f"Jitter({self.d})"


def resize_bilinear_tf1(images: tf.Tensor, size) -> tf.Tensor:
    """Resize bilinearly as TF1's ``tf.image.resize_bilinear`` did.

    No corner alignment, no half-pixel centres. images (n, h, w, c) -> (n, size[0], size[1], c).
    """
    return tf.raw_ops.ResizeBilinear(
        images=images, size=size, align_corners=False, half_pixel_centers=False
    )


class RandomScale(Transform):
    """Rescale by one of ``scales`` (Lucid: 1 + (i - 5) / 50, i = 0..10), bilinear.

    The output side is ``int(scale * side)`` computed in float32, as Lucid did.
    """

    n_draws = 1

    def __init__(self, scales: Sequence[float]):
        self.scales = np.asarray(scales, dtype=np.float32)

    def draw(self, rng):
        """Pick the index of a scale."""
        return (int(rng.integers(len(self.scales))),)

    def output_size(self, h: int, w: int, index: int) -> tuple[int, int]:
        """The (h, w) that ``index`` resizes an (h, w) image to."""
        s = self.scales[index]
        return int(s * np.float32(h)), int(s * np.float32(w))

    def __call__(self, images, draw=(0,)):
        """Rescale images (n, h, w, c); the output shape is static if ``draw`` is an int."""
        index = draw[0]
        h, w = images.shape[1:3]
        if isinstance(index, (int, np.integer)) and h and w:  # static output shape
            return resize_bilinear_tf1(images, self.output_size(h, w, int(index)))
        hw = tf.cast(tf.shape(images)[1:3], tf.float32)
        size = tf.cast(tf.gather(tf.constant(self.scales), index) * hw, tf.int32)
        return resize_bilinear_tf1(images, size)

    def __repr__(self):
        return f"RandomScale({self.scales.tolist()})"


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


def degrees_to_radians_lucid(degrees) -> np.ndarray:
    """Lucid's conversion, ``3.14 * angle / 180`` in float32 (3.14, not pi)."""
    return np.float32(3.14) * np.asarray(degrees, dtype=np.float32) / np.float32(180.0)


class RandomRotate(Transform):
    """Rotate by one of ``angles`` (Lucid: -10..10 degrees plus five more zeros)."""

    n_draws = 1

    def __init__(self, angles: Sequence[float], units: str = "degrees"):
        self.angles = list(angles)
        if units == "degrees":
            self.radians = degrees_to_radians_lucid(self.angles)
        elif units in ("radians", "rads", "rad"):
            self.radians = np.asarray(self.angles, dtype=np.float32)
        else:
            raise ValueError(f"units must be 'degrees' or 'radians', not {units!r}.")

    def draw(self, rng):
        """Pick the index of an angle."""
        return (int(rng.integers(len(self.angles))),)

    def __call__(self, images, draw=(0,)):
        """Rotate images (n, h, w, c) by the angle of index ``draw[0]``."""
        return rotate(images, tf.gather(tf.constant(self.radians), draw[0]))

    def __repr__(self):
        return f"RandomRotate({self.angles})"


class Compose:
    """Transforms applied in order, each given its slice of one flat array of draws.

    Parameters
    ----------
    transforms : sequence of Transform
    """

    def __init__(self, transforms: Sequence[Transform]):
        self.transforms = list(transforms)
        self.n_draws = sum(t.n_draws for t in self.transforms)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """Draw every transform's integers, in order: int32, shape (n_draws,)."""
        draws = [v for t in self.transforms for v in t.draw(rng)]
        return np.asarray(draws, dtype=np.int32).reshape(self.n_draws)

    def __call__(self, images: tf.Tensor, draws) -> tf.Tensor:
        """Apply the transforms with ``draws`` from :meth:`draw` (a tensor or ints)."""
        i = 0
        for t in self.transforms:
            images = t(images, draws[i : i + t.n_draws])
            i += t.n_draws
        return images

    def __repr__(self):
        return f"Compose({self.transforms})"


def standard_transforms() -> list[Transform]:
    """Lucid's ``standard_transforms``, in order."""
    return [
        Pad(12, 0.5),
        Jitter(8),
        RandomScale([1 + (i - 5) / 50.0 for i in range(11)]),
        RandomRotate(list(range(-10, 11)) + 5 * [0]),
        Jitter(4),
    ]
