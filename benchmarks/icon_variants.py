"""The icon optimizations that ``bench_icons.py`` races against Lucid's settings (issue 22).

Each :class:`Run` is one batch of icons optimized step by step, so that the benchmark can
interleave the runs (one step of each in turn: other load on the machine hits all alike)
and score each run's icons at full size as it goes. Beside the package's own settings
(:class:`Plain`: Lucid's settings, the default, ``beta1``/``beta2``, the fast preset) and the
network as it ran before issue 22 (:func:`forward_before`), it holds
the variants that were tried for issue 22 and not kept in the package, so that their
figures can be measured again:

- :class:`CoarseToFine`: the first steps on a smaller icon (fewer pixels, cheaper steps),
  with the transforms' pixel sizes scaled to it, then the full size from the same spectrum
  zero-padded (:func:`upsample_spectrum`; the upsampled image is the small one's
  trigonometric interpolation).
- :class:`Tiled`: the first steps on a smaller periodic canvas seen at the full size's
  scale, then tiled (:func:`tile_spectrum`).
- A start from each group's strongest region of the image (:func:`spectrum_of_images`, with
  :func:`neuron_groups.peak_crops.peak_crops`), alone or blended with the usual noise.
- :class:`Maco`: the magnitude-constrained parameterization of Fel et al. (2023, "Unlocking
  Feature Visualization for Deeper Networks with MAgnitude Constrained Optimization"): only
  the phase of the spectrum is optimized; the magnitude is fixed, here the mean magnitude of
  crops of the package's example images (:func:`natural_magnitude`; MACO used ImageNet's).

:func:`self_check` checks the exact relations these rest on. Written anew for this project.

Measured (``bench_icons.py --seeds 0 1 2``, the demo, 2-core AMD EPYC with AVX-512, load
4.5-6.6, every run interleaved, against Lucid's settings, the default then): none reached 90%
of the faithful score on every icon in any seed except the tiled canvas once (at step 480);
coarse to fine's steps at 40 px cost 0.4x a full one, but the small icon is seen at half the
network's scale and its upsampled image scores a third of the faithful score at the switch;
the tiled canvas keeps its 2 x 2 repetition to the end; a start from the image regions keeps
the photo's layout (its icons are nearer the regions than today's are) and its slowest icon
ends at 0.81-0.85; MACO's icons, their contrast fixed, end at 0.77-0.84 of the faithful
score. What did reach the goal on the demo is the package's default now, Adam's betas 0.6
and 0.98 (the README's speed section).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import tensorflow as tf

from neuron_groups.backends import optvis
from neuron_groups.backends.base import IconSettings
from neuron_groups.backends.inceptionv1 import LRN
from neuron_groups.backends.optvis import COLOR_MATRIX, spectrum_scale
from neuron_groups.backends.tensorflow.inceptionv1 import GoogLeNet
from neuron_groups.backends.tensorflow.optvis import Renderer
from neuron_groups.backends.tensorflow.optvis.param import fft_image, to_valid_rgb
from neuron_groups.backends.tensorflow.optvis.render import Adam, draw_sequence
from neuron_groups.backends.tensorflow.optvis.transforms import Compose

EPS = 0.01
"""Pixel values are clipped to [EPS, 1 - EPS] before the sigmoid is inverted."""


# -- the network as it was before issue 22 -------------------------------------------------
class GoogLeNetBefore(GoogLeNet):
    """The network with TensorFlow's own LRN op, as the package ran it before issue 22."""

    def lrn(self, x):
        return tf.nn.local_response_normalization(x, **LRN)


@functools.cache
def forward_before(model, layer: str):
    """``forward(images, relu)`` to ``layer`` through :class:`GoogLeNetBefore` (same weights).

    One network per model and layer: the step timing and the race share it.
    """
    network = GoogLeNetBefore({p: model.network.stored_weights(p) for p in model.network.filters})
    name = model.resolve_layer(layer).name
    return lambda images, relu: network.forward(images, name, relu)


# -- spectra -----------------------------------------------------------------------------
def upsample_spectrum(spectrum: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad a square image's spectrum (2, n, 3, s, s//2+1) to (2, n, 3, size, size//2+1).

    With Lucid's scale (``spectrum_scale``) a frequency's parameter means the same at every
    size, so the low frequencies are copied as they are; the small image's Nyquist row is
    split between +s/2 and -s/2 and its Nyquist column halved (the inverse real FFT counts
    it once at size s and twice at the larger size). The image is then the small one's
    trigonometric interpolation: at a ratio of 2, every second pixel is the small image's.
    """
    _, n, c, s, wf = spectrum.shape
    if s % 2 or wf != s // 2 + 1 or size % 2 or size < s:
        raise ValueError(f"upsample from an even side s to an even size >= s; got {s} -> {size}")
    half = s // 2
    small = spectrum.copy()
    small[..., half] *= 0.5  # the Nyquist column
    out = np.zeros((2, n, c, size, size // 2 + 1), np.float32)
    out[..., :half, : half + 1] = small[..., :half, :]
    out[..., size - half + 1 :, : half + 1] = small[..., half + 1 :, :]
    out[..., half, : half + 1] += 0.5 * small[..., half, :]  # the Nyquist row, split
    out[..., size - half, : half + 1] += 0.5 * small[..., half, :]
    return out


def tile_spectrum(spectrum: np.ndarray, times: int = 2) -> np.ndarray:
    """The spectrum of a periodic s-pixel image tiled ``times`` x ``times``: (.., s*times, ..)."""
    _, n, c, s, wf = spectrum.shape
    size = s * times
    rows = (np.arange(s) * times) % size  # frequency k of the small grid is k * times here
    cols = np.arange(wf) * times
    gain = times**2 * spectrum_scale(s, s) / spectrum_scale(size, size)[np.ix_(rows, cols)]
    out = np.zeros((2, n, c, size, size // 2 + 1), np.float32)
    out[..., rows[:, None], cols[None, :]] = spectrum * gain
    return out


def spectrum_of_images(images: np.ndarray) -> np.ndarray:
    """The spectrum (2, n, 3, S, S//2+1) whose parameterized image is ``images`` (n, S, S, 3).

    The inverse of Lucid's ``param.image``: logit, undo the colour matrix, times 4, real
    FFT, divided by the scale. Exact for pixels in [EPS, 1 - EPS] (others are clipped).
    """
    _, size, _, _ = images.shape
    rgb = np.clip(images, EPS, 1 - EPS).astype(np.float64)
    decorrelated = np.log(rgb / (1 - rgb)) @ np.linalg.inv(COLOR_MATRIX.T)  # (n, S, S, 3)
    coeffs = np.fft.rfft2(4.0 * decorrelated.transpose(0, 3, 1, 2)) / spectrum_scale(size, size)
    return np.stack([coeffs.real, coeffs.imag]).astype(np.float32)


def natural_magnitude(images: list[np.ndarray], size: int, crops: int = 40) -> np.ndarray:
    """The mean spectrum magnitude (3, size, size//2+1) of random crops, decorrelated colour."""
    rng, total = np.random.default_rng(0), np.zeros((3, size, size // 2 + 1))
    for image in images:
        height, width = image.shape[:2]
        for _ in range(crops):
            y, x = rng.integers(height - size + 1), rng.integers(width - size + 1)
            crop = np.clip(image[y : y + size, x : x + size], EPS, 1 - EPS)
            decorrelated = np.log(crop / (1 - crop)) @ np.linalg.inv(COLOR_MATRIX.T)
            decorrelated -= decorrelated.mean(axis=(0, 1))
            total += np.abs(np.fft.rfft2(decorrelated.transpose(2, 0, 1)))
    return (total / (crops * len(images))).astype(np.float32)


def scaled_transforms(size: int, full: int = 80) -> list[optvis.Transform]:
    """Lucid's transforms with their pixel amounts (pad, jitters) scaled to ``size``."""
    pad, jitter, scale, rotate, last = optvis.standard_transforms()
    ratio = size / full
    return [
        optvis.Pad(round(pad.width * ratio), pad.value),
        optvis.Jitter(round(jitter.d * ratio)),
        scale,
        rotate,
        optvis.Jitter(round(last.d * ratio)),
    ]


def images_of(spectrum: np.ndarray) -> np.ndarray:
    """The parameterized images (n, S, S, 3) of a spectrum (2, n, 3, S, S//2+1)."""
    size = spectrum.shape[3]
    scale = tf.constant(spectrum_scale(size, size))
    return to_valid_rgb(fft_image(tf.constant(spectrum), scale, size, size)).numpy()


# -- runs --------------------------------------------------------------------------------
class Run:
    """One batch of icons optimized step by step; :meth:`images` are at full size.

    Attributes
    ----------
    name : str
    steps : int
        Steps in all.
    done : int
        Steps made so far.
    phase : int
        Which compiled step the last step ran (a new phase's first step traces).
    """

    name, steps, done, phase = "", 0, 0, 0

    def step(self) -> None:
        """Make one step."""
        raise NotImplementedError

    def images(self) -> np.ndarray:
        """The current icons, (n, S, S, 3) in [0, 1]."""
        raise NotImplementedError


class Plain(Run):
    """The package's optimization with ``settings``; optionally from another spectrum."""

    def __init__(self, name, forward, directions, settings: IconSettings, start=None):
        self.name, self.steps, self.settings = name, settings.steps, settings
        self.renderer = Renderer(forward, directions, settings)
        if start is not None:
            self.renderer.param.spectrum.assign(start)
        self.draws = draw_sequence(self.renderer.transforms, settings.seed, settings.steps)
        self.rates = np.float32([settings.learning_rate, settings.beta2, settings.beta1])

    def step(self) -> None:
        self.renderer.train_step(self.draws[self.done], *self.rates).numpy()
        self.done += 1

    def images(self) -> np.ndarray:
        return self.renderer.images().numpy()


def region_start(renderer: Renderer, crops: np.ndarray, weight: float) -> np.ndarray:
    """The seed's noise spectrum plus ``weight`` times the crops' spectrum."""
    return renderer.param.spectrum.numpy() + weight * spectrum_of_images(crops)


class CoarseToFine(Run):
    """``coarse_steps`` steps on a ``small``-pixel icon, then the rest at full size.

    At the switch the spectrum and Adam's moments are zero-padded (:func:`upsample_spectrum`;
    the second moment as its square root) and the step count goes on.
    """

    def __init__(self, name, forward, directions, settings: IconSettings, small, coarse_steps):
        self.name, self.steps, self.coarse_steps = name, settings.steps, coarse_steps
        self.small = Plain(name, forward, directions, _small(settings, small, coarse_steps))
        self.small.renderer.transforms = Compose(self.transforms(small, settings.size))
        self.small.draws = draw_sequence(
            self.small.renderer.transforms, settings.seed, coarse_steps
        )
        self.full = Plain(name, forward, directions, settings)

    def transforms(self, small: int, size: int) -> list[optvis.Transform]:
        return scaled_transforms(small, size)

    def grow(self, spectrum: np.ndarray) -> np.ndarray:
        return upsample_spectrum(spectrum, self.full.renderer.param.size)

    def switch(self) -> None:
        small, full = self.small.renderer, self.full.renderer
        full.param.spectrum.assign(self.grow(small.param.spectrum.numpy()))
        full.adam.m.assign(self.grow(small.adam.m.numpy()))
        full.adam.v.assign(np.square(self.grow(np.sqrt(small.adam.v.numpy()))))
        full.step.assign(self.coarse_steps)
        self.full.done = self.coarse_steps

    def step(self) -> None:
        if self.done < self.coarse_steps:
            self.small.step()
        else:
            if self.done == self.coarse_steps:
                self.switch()
                self.phase = 1
            self.full.step()
        self.done += 1

    def images(self) -> np.ndarray:
        if self.done > self.coarse_steps:
            return self.full.images()
        return images_of(self.grow(self.small.renderer.param.spectrum.numpy()))


class Tiled(CoarseToFine):
    """The coarse steps on a periodic canvas of ``small`` = size / 2 pixels at full scale.

    Its transforms are Lucid's own (the network sees it at the full icon's scale); at the
    switch it is tiled 2 x 2 and Adam starts anew.
    """

    def transforms(self, small: int, size: int) -> list[optvis.Transform]:
        if 2 * small != size:
            raise ValueError(f"a tiled canvas is half the icon's side ({size // 2}), not {small}")
        return optvis.standard_transforms()

    def grow(self, spectrum: np.ndarray) -> np.ndarray:
        return tile_spectrum(spectrum, 2)

    def switch(self) -> None:
        full = self.full.renderer
        full.param.spectrum.assign(self.grow(self.small.renderer.param.spectrum.numpy()))
        full.step.assign(self.coarse_steps)
        self.full.done = self.coarse_steps


def _small(settings: IconSettings, small: int, steps: int) -> IconSettings:
    return dataclasses.replace(settings, size=small, steps=steps)


class MacoImage:
    """MACO's image: a fixed magnitude (3, S, S//2+1) and an optimized phase (n, 3, S, S//2+1).

    The phase is standardized per icon, the inverse FFT's image standardized per icon, then
    Lucid's colour matrix and sigmoid (as MACO's reference code, per icon for a batch).
    """

    def __init__(self, n: int, size: int, magnitude: np.ndarray, rng: np.random.Generator):
        self.n, self.size = n, size
        self.magnitude = tf.constant(magnitude)  # (3, S, S//2+1)
        phase = rng.normal(size=(n, 3, size, size // 2 + 1)).astype(np.float32)
        self.spectrum = tf.Variable(phase, name="phase")  # the optimized variable

    def pixels(self) -> tf.Tensor:
        """The standardized image before colour and sigmoid, (n, S, S, 3)."""
        mean, var = tf.nn.moments(self.spectrum, axes=(1, 2, 3), keepdims=True)
        phase = (self.spectrum - mean) / (tf.sqrt(var) + 1e-5)
        coeffs = tf.complex(tf.cos(phase) * self.magnitude, tf.sin(phase) * self.magnitude)
        image = tf.transpose(tf.signal.irfft2d(coeffs), (0, 2, 3, 1))  # (n, S, S, 3)
        mean, var = tf.nn.moments(image, axes=(1, 2, 3), keepdims=True)
        return (image - mean) / (tf.sqrt(var) + 1e-5)

    def __call__(self) -> tf.Tensor:
        return to_valid_rgb(self.pixels())


class Maco(Plain):
    """The default optimization (transforms, Adam) of a :class:`MacoImage`."""

    def __init__(self, name, forward, directions, settings: IconSettings, magnitude):
        super().__init__(name, forward, directions, settings)
        renderer = self.renderer
        rng = optvis.rngs(settings.seed)[0]
        renderer.param = MacoImage(len(directions), settings.size, magnitude, rng)
        renderer.adam = Adam(renderer.param.spectrum, settings.learning_rate)
        renderer.images = tf.function(renderer.param.__call__, autograph=False)


# -- checks ------------------------------------------------------------------------------
def self_check() -> None:
    """Check the relations the variants rest on; raise AssertionError if one fails."""
    rng = np.random.default_rng(0)
    spectrum = rng.normal(size=(2, 2, 3, 40, 21)).astype(np.float32)
    small = images_of(spectrum)  # (2, 40, 40, 3)
    np.testing.assert_allclose(
        images_of(upsample_spectrum(spectrum, 80))[:, ::2, ::2], small, atol=1e-5
    )
    np.testing.assert_allclose(
        images_of(tile_spectrum(spectrum)), np.tile(small, (1, 2, 2, 1)), atol=1e-5
    )
    crops = rng.uniform(EPS, 1 - EPS, size=(2, 80, 80, 3)).astype(np.float32)
    np.testing.assert_allclose(images_of(spectrum_of_images(crops)), crops, atol=1e-4)
    magnitude = rng.uniform(0.5, 2.0, size=(3, 16, 9)).astype(np.float32)
    maco = MacoImage(2, 16, magnitude, rng)
    maco.spectrum.assign_add(rng.normal(size=maco.spectrum.shape).astype(np.float32))
    # The columns the inverse real FFT keeps whole (not the first and Nyquist ones):
    seen = np.abs(np.fft.rfft2(maco.pixels().numpy().transpose(0, 3, 1, 2)))[..., 1:-1]
    ratio = seen / magnitude[..., 1:-1]  # each icon's whole spectrum is scaled alike
    np.testing.assert_allclose(ratio / ratio.mean(axis=(1, 2, 3), keepdims=True), 1.0, rtol=1e-3)
