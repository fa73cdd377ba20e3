"""Lucid's random transforms applied with PyTorch ops, given each step's numpy draws.

The transforms themselves (their parameters and how each step's random integers are drawn)
are described once, framework-neutrally, in :mod:`neuron_groups.backends.optvis`; here each
is applied to images (n, c, h, w) as TF1 did: bilinear resizing without corner alignment,
and a nearest-neighbour rotation whose gradient is the incoming one rotated back.
Lucid, by the Lucid Authors, is Apache-2.0
licensed: https://github.com/tensorflow/lucid; this is written anew.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from neuron_groups.backends import optvis


def resize_bilinear_tf1(images: torch.Tensor, out_h: int, out_w: int) -> torch.Tensor:
    """Bilinear resize as TF1's ``resize_bilinear``: no corner alignment, no half-pixel centres.

    images (n, c, h, w) -> (n, c, out_h, out_w); the gradient is the exact adjoint.
    """
    h, w = images.shape[-2:]
    top, bottom, y_lerp = _tf1_taps(h, out_h, images.device)  # (out_h,) each
    left, right, x_lerp = _tf1_taps(w, out_w, images.device)  # (out_w,) each
    rows_top, rows_bottom = images[:, :, top], images[:, :, bottom]  # (n, c, out_h, w)

    def across(rows: torch.Tensor) -> torch.Tensor:
        a, b = rows[..., left], rows[..., right]  # (n, c, out_h, out_w)
        return a + (b - a) * x_lerp

    upper, lower = across(rows_top), across(rows_bottom)
    return upper + (lower - upper) * y_lerp[:, None]


def _tf1_taps(size: int, out: int, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    scale = np.float32(size) / np.float32(out)
    source = np.arange(out, dtype=np.float32) * scale  # (out,)
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, size - 1)
    lerp = (source - low.astype(np.float32)).astype(np.float32)
    return (
        torch.from_numpy(low).to(device),
        torch.from_numpy(high).to(device),
        torch.from_numpy(lerp).to(device),
    )


def rotation_transform(angle: np.float32, h: int, w: int) -> np.ndarray:
    """The (2, 3) map of an output point (x, y, 1) to its input point, about the centre.

    As ``tf.contrib.image.angles_to_projective_transforms``, in float32.
    """
    cos, sin = np.cos(np.float32(angle)), np.sin(np.float32(angle))
    fh, fw = np.float32(h - 1), np.float32(w - 1)
    x_offset = (fw - (cos * fw - sin * fh)) / np.float32(2)
    y_offset = (fh - (sin * fw + cos * fh)) / np.float32(2)
    return np.array([[cos, -sin, x_offset], [sin, cos, y_offset]], dtype=np.float32)


def _project_nearest(images: torch.Tensor, matrix: np.ndarray) -> torch.Tensor:
    """Nearest-neighbour projective transform with zero fill (TF's ImageProjectiveTransform)."""
    n, c, h, w = images.shape
    m = torch.from_numpy(matrix).to(images.device)  # (2, 3)
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float32, device=images.device),
        torch.arange(w, dtype=torch.float32, device=images.device),
        indexing="ij",
    )  # (h, w) each
    in_x = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
    in_y = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
    # std::round: halves away from zero.
    px = (torch.sign(in_x) * torch.floor(in_x.abs() + 0.5)).long()
    py = (torch.sign(in_y) * torch.floor(in_y.abs() + 0.5)).long()
    inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)  # (h, w)
    flat = (py.clamp(0, h - 1) * w + px.clamp(0, w - 1)).reshape(-1)  # (h*w,)
    out = images.reshape(n, c, h * w)[:, :, flat].reshape(n, c, h, w)
    return out * inside.to(images.dtype)


class _Rotate(torch.autograd.Function):
    """Forward: the rotation; backward: TF1's gradient, the incoming one rotated back."""

    @staticmethod
    def forward(ctx, images, matrix, inverse):
        ctx.inverse = inverse
        return _project_nearest(images, matrix)

    @staticmethod
    def backward(ctx, grad):
        return _project_nearest(grad, ctx.inverse), None, None


def rotate(images: torch.Tensor, angle: np.float32) -> torch.Tensor:
    """Rotate images (n, c, h, w) by ``angle`` radians about the centre, as TF1 did."""
    h, w = images.shape[-2:]
    matrix = rotation_transform(angle, h, w)  # (2, 3)
    full = np.vstack([matrix, np.array([[0, 0, 1]], np.float32)])  # (3, 3)
    inverse = np.linalg.inv(full.astype(np.float32)).astype(np.float32)[:2]  # (2, 3)
    return _Rotate.apply(images, matrix, inverse)


def apply_transform(transform: optvis.Transform, images: torch.Tensor, draw) -> torch.Tensor:
    """Apply one transform description to images (n, c, h, w) with its drawn integers."""
    if isinstance(transform, optvis.Pad):
        d = transform.width
        return F.pad(images, (d, d, d, d), value=transform.value)
    if isinstance(transform, optvis.Jitter):
        dy, dx = int(draw[0]), int(draw[1])
        h, w = images.shape[-2:]
        return images[:, :, dy : dy + h - transform.d, dx : dx + w - transform.d]
    if isinstance(transform, optvis.RandomScale):
        h, w = images.shape[-2:]
        return resize_bilinear_tf1(images, *transform.output_size(h, w, int(draw[0])))
    if isinstance(transform, optvis.RandomRotate):
        return rotate(images, transform.radians[int(draw[0])])
    raise TypeError(f"No PyTorch op for the transform {transform!r}.")


def apply_transforms(
    transforms: Sequence[optvis.Transform], images: torch.Tensor, draws: np.ndarray
) -> torch.Tensor:
    """Apply the transforms in order, each given its slice of the flat ``draws``."""
    i = 0
    for transform in transforms:
        images = apply_transform(transform, images, draws[i : i + transform.n_draws])
        i += transform.n_draws
    return images


__all__ = [
    "apply_transform",
    "apply_transforms",
    "resize_bilinear_tf1",
    "rotate",
    "rotation_transform",
]
