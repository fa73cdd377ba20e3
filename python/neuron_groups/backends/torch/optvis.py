"""Feature visualization in PyTorch: Lucid's ``render_vis`` defaults, as the TensorFlow backend.

One image per direction, all as one batch: Adam (TF1's formulation) on a Fourier-
parameterized, colour-decorrelated image, through Lucid's standard transforms and the
network up to the layer, with the ReLU gradient redirected for the first steps. Everything
framework-neutral (settings checks, seeded generators, spectrum, colour matrix, the
transforms' descriptions and draws) comes from :mod:`neuron_groups.backends.optvis`; this
module only applies it with PyTorch ops, channels-first. Lucid, by the Lucid Authors, is
Apache-2.0 licensed: https://github.com/tensorflow/lucid; the code is written anew.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from neuron_groups.backends import optvis
from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings
from neuron_groups.backends.optvis import (
    COLOR_MATRIX,
    TRANSFORMS,
    check_directions,
    draw_transforms,
    init_spectrum,
    rngs,
    spectrum_scale,
)

Forward = Callable[[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]], torch.Tensor]
"""``forward(images, relu)``: images (B, 3, H, W) in [0, 1] -> activations (B, C, h, w)."""


# -- the parameterization -----------------------------------------------------------------
def fourier_images(spectrum: torch.Tensor, scale: torch.Tensor, size: int) -> torch.Tensor:
    """Lucid's ``fft_image`` then ``to_valid_rgb``: spectrum (2, n, 3, S, wf) -> (n, 3, S, S)."""
    coeffs = torch.complex(spectrum[0] * scale, spectrum[1] * scale)  # (n, 3, S, wf)
    pixels = torch.fft.irfft2(coeffs)[..., :size, :size] / 4.0  # (n, 3, S, S)
    matrix = torch.from_numpy(COLOR_MATRIX).to(pixels.device)  # (3 rgb, 3 decorrelated)
    return torch.sigmoid(torch.einsum("nchw,dc->ndhw", pixels, matrix))  # (n, 3, S, S)


# -- the transforms, given each step's draws --------------------------------------------------
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


# -- the redirected ReLU ----------------------------------------------------------------------
class _RedirectedRelu(torch.autograd.Function):
    """max(x, 0); while redirecting, Lucid's ``redirected_relu_grad`` (from the output y)."""

    @staticmethod
    def forward(ctx, x, redirect):
        y = x.clamp_min(0.0)
        ctx.save_for_backward(y)
        ctx.redirect = redirect
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        plain = grad * (y > 0)
        if not ctx.redirect:
            return plain, None
        redirected = torch.where((y <= 0) & (grad > 0), torch.zeros_like(grad), grad)
        alive = plain.flatten(1).abs().amax(dim=1) > 0  # (B,)
        alive = alive.reshape(-1, *([1] * (plain.ndim - 1)))  # (B, 1, ...)
        return torch.where(alive, plain, redirected), None


def relu_for(redirect: bool) -> Callable[[torch.Tensor], torch.Tensor]:
    """A ReLU whose gradient is redirected when ``redirect`` is true (plain otherwise)."""
    if not redirect:
        return torch.relu
    return lambda x: _RedirectedRelu.apply(x, True)


# -- the optimizer and the loop ----------------------------------------------------------------
class Adam:
    """Adam with TF1's ``ApplyAdam`` kernel (epsilon outside the bias correction), in place."""

    def __init__(self, var: torch.Tensor, beta1: float = 0.9, epsilon: float = 1e-8):
        self.var, self.beta1, self.epsilon = var, beta1, epsilon
        self.m = torch.zeros_like(var)
        self.v = torch.zeros_like(var)

    def apply(self, grad: torch.Tensor, step: int, learning_rate: float, beta2: float) -> None:
        """Update the variable with ``grad``; ``step`` is the 0-based update count."""
        t = np.float32(step + 1)
        b1, b2 = np.float32(self.beta1), np.float32(beta2)
        alpha = np.float32(learning_rate) * np.sqrt(np.float32(1) - b2**t) / (np.float32(1) - b1**t)
        with torch.no_grad():
            self.m += (grad - self.m) * float(np.float32(1) - b1)
            self.v += (grad * grad - self.v) * float(np.float32(1) - b2)
            self.var -= (self.m * float(alpha)) / (self.v.sqrt() + self.epsilon)


def trajectory_key(directions: np.ndarray, settings: IconSettings) -> tuple:
    """What fixes the images an optimization goes through: all but the step count."""
    digest = hashlib.sha256(np.ascontiguousarray(directions, np.float32).tobytes()).hexdigest()
    settings_key = {k: v for k, v in IconSettings.key(settings).items() if k != "steps"}
    return (digest, tuple(sorted(settings_key.items())), settings.beta2)


class Renderer:
    """The state of one batch of feature visualizations; :meth:`run` goes to ``steps``."""

    def __init__(
        self, forward: Forward, directions: np.ndarray, settings: IconSettings, device
    ) -> None:
        self.forward, self.settings = forward, settings
        self.trajectory = trajectory_key(directions, settings)
        n, size = len(directions), settings.size
        init_rng, self.draw_rng = rngs(settings.seed)
        self.spectrum = torch.from_numpy(init_spectrum(n, size, size, init_rng)).to(device)
        self.scale = torch.from_numpy(spectrum_scale(size, size)).to(device)  # (S, wf)
        self.directions = torch.from_numpy(directions).to(device)  # (n, C)
        self.transforms = TRANSFORMS[settings.transforms]()
        self.adam = Adam(self.spectrum)
        self.step = 0

    def images(self) -> torch.Tensor:
        """The current images, (n, 3, S, S) in (0, 1)."""
        return fourier_images(self.spectrum, self.scale, self.settings.size)

    def train_step(self, draws: np.ndarray) -> np.ndarray:
        """One update with this step's draws; return each item's objective (n,)."""
        spectrum = self.spectrum.detach().requires_grad_(True)
        with torch.enable_grad():
            images = fourier_images(spectrum, self.scale, self.settings.size)  # (n, 3, S, S)
            seen = apply_transforms(self.transforms, images, draws)  # (n, 3, S', S')
            relu = relu_for(self.step < self.settings.redirect_relu_steps)
            acts = self.forward(seen, relu)  # (n, C, h, w)
            scores = torch.einsum("nchw,nc->nhw", acts, self.directions).mean(dim=(1, 2))
            (grad,) = torch.autograd.grad(-scores.sum(), spectrum)
        self.adam.apply(grad, self.step, self.settings.learning_rate, self.settings.beta2)
        self.step += 1
        return scores.detach().cpu().numpy()

    def run(self, settings: IconSettings, hooks: IconHooks = NO_HOOKS) -> np.ndarray:
        """Run from the current step to ``settings.steps``; return images (n, S, S, 3)."""
        self.settings = settings
        steps = settings.steps
        for i in range(self.step, steps):
            hooks.before_step(i, steps)
            draws = draw_transforms(self.transforms, self.draw_rng)  # (n_draws,)
            scores = self.train_step(draws)
            hooks.after_step(i, steps, scores, self._numpy_images)
        return self._numpy_images()

    def _numpy_images(self) -> np.ndarray:
        with torch.no_grad():
            return self.images().permute(0, 2, 3, 1).cpu().numpy()  # (n, S, S, 3)


class RendererPool:
    """One kept :class:`Renderer` per layer; a call that repeats its run continues it.

    A call with the directions and settings (all but ``steps``) of the kept run, and no
    fewer steps than it has made, goes on from where it stopped, with a fresh run's result.
    """

    def __init__(self) -> None:
        self._kept: dict[str, Renderer] = {}
        self._lock = threading.Lock()

    def render(
        self,
        tag: str,
        forward: Forward,
        directions: np.ndarray,
        settings: IconSettings,
        hooks: IconHooks,
        device,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C); return (n, S, S, 3) in [0, 1]."""
        directions = check_directions(directions, settings)
        if not self._lock.acquire(blocking=False):  # busy in another thread: a fresh run
            return Renderer(forward, directions, settings, device).run(settings, hooks)
        try:
            kept = self._kept.get(tag)
            if not (
                kept is not None
                and kept.trajectory == trajectory_key(directions, settings)
                and kept.step <= settings.steps
            ):
                kept = self._kept[tag] = Renderer(forward, directions, settings, device)
            return kept.run(settings, hooks)
        finally:
            self._lock.release()


__all__ = [
    "Adam",
    "Renderer",
    "RendererPool",
    "apply_transforms",
    "fourier_images",
    "relu_for",
    "resize_bilinear_tf1",
    "rotate",
    "rotation_transform",
]
