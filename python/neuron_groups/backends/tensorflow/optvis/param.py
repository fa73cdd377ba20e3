"""Image parameterizations: the image as a Fourier spectrum, colour-decorrelated, squashed.

A reimplementation in TensorFlow 2 of Lucid's ``param.image(size, batch=n)`` defaults
(``fft_image`` + ``to_valid_rgb(decorrelate=True, sigmoid=True)``). Lucid, by the Lucid
Authors, is Apache-2.0 licensed: https://github.com/tensorflow/lucid. The code here is written
anew; the constants and formulas are Lucid's.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
"""Square root of ImageNet's colour correlation matrix, as Lucid measured it."""

MAX_NORM_SVD_SQRT = float(np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)))
"""The largest column norm of :data:`COLOR_CORRELATION_SVD_SQRT` (0.46195...)."""

COLOR_MATRIX = COLOR_CORRELATION_SVD_SQRT / np.float32(MAX_NORM_SVD_SQRT)
"""Maps decorrelated colour to RGB (before the sigmoid): ``rgb = x @ COLOR_MATRIX.T``."""


def rfft2d_freqs(h: int, w: int) -> np.ndarray:
    """Return the magnitude of each frequency of a real 2D FFT of an (h, w) image.

    Parameters
    ----------
    h, w : int
        Image height and width.

    Returns
    -------
    ndarray, shape (h, w // 2 + 1), or (h, w // 2 + 2) when ``w`` is odd
        As Lucid, an odd width keeps one extra column; the inverse transform is then one
        pixel too wide and is cropped.
    """
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[: w // 2 + (2 if w % 2 else 1)]
    return np.sqrt(fx * fx + fy * fy)


def spectrum_scale(h: int, w: int, decay_power: float = 1.0) -> np.ndarray:
    """Per-frequency scale of the spectrum: ``1 / max(f, 1/max(w, h))**decay * sqrt(w*h)``.

    Returns
    -------
    ndarray, float32, shape of :func:`rfft2d_freqs`
    """
    freqs = rfft2d_freqs(h, w)
    scale = 1.0 / np.maximum(freqs, 1.0 / max(w, h)) ** decay_power
    return (scale * np.sqrt(w * h)).astype(np.float32)


def init_spectrum(n: int, h: int, w: int, rng: np.random.Generator, sd: float = 0.01) -> np.ndarray:
    """Draw an initial spectrum (real and imaginary parts) ~ N(0, sd).

    Returns
    -------
    ndarray, float32, shape (2, n, 3, h, w // 2 + 1)  (``+ 2`` for odd ``w``)
    """
    return rng.normal(0.0, sd, size=(2, n, 3, *rfft2d_freqs(h, w).shape)).astype(np.float32)


def fft_image(spectrum: tf.Tensor, scale: tf.Tensor, h: int, w: int) -> tf.Tensor:
    """Turn a spectrum into a decorrelated-colour image (Lucid's ``fft_image``).

    Parameters
    ----------
    spectrum : Tensor, shape (2, n, 3, h, wf)
        Real and imaginary parts.
    scale : Tensor, shape (h, wf)
        From :func:`spectrum_scale`.
    h, w : int
        Output size.

    Returns
    -------
    Tensor, shape (n, h, w, 3)
    """
    coeffs = tf.complex(spectrum[0] * scale, spectrum[1] * scale)  # (n, 3, h, wf)
    pixels = tf.signal.irfft2d(coeffs)  # (n, 3, h, 2 * (wf - 1))
    pixels = tf.transpose(pixels, (0, 2, 3, 1))[:, :h, :w, :]  # (n, h, w, 3)
    return pixels / 4.0


def to_valid_rgb(t: tf.Tensor) -> tf.Tensor:
    """Map decorrelated colour to RGB and squash into (0, 1): ``sigmoid(t @ M.T)``.

    Parameters
    ----------
    t : Tensor, shape (..., 3)

    Returns
    -------
    Tensor, shape (..., 3), values in (0, 1)
    """
    return tf.sigmoid(tf.tensordot(t, tf.constant(COLOR_MATRIX.T), axes=1))


class FourierImage:
    """A batch of ``n`` square RGB images parameterized by their Fourier spectrum.

    Calling the object returns the images, shape (n, size, size, 3), in (0, 1);
    :attr:`spectrum` is the only trainable variable.

    Parameters
    ----------
    n : int
        Batch size.
    size : int
        Side in pixels.
    rng : numpy.random.Generator
        Draws the initial spectrum.
    sd : float
        Standard deviation of the initial spectrum (Lucid: 0.01).
    """

    def __init__(self, n: int, size: int, rng: np.random.Generator, sd: float = 0.01):
        self.n, self.size = n, size
        self.spectrum = tf.Variable(init_spectrum(n, size, size, rng, sd), name="spectrum")
        self.scale = tf.constant(spectrum_scale(size, size))

    def __call__(self) -> tf.Tensor:
        """Return the images, shape (n, size, size, 3), in (0, 1)."""
        return to_valid_rgb(fft_image(self.spectrum, self.scale, self.size, self.size))
