"""Image parameterizations: the image as a Fourier spectrum, colour-decorrelated, squashed.

A reimplementation in TensorFlow 2 of Lucid's ``param.image(size, batch=n)`` defaults
(``fft_image`` + ``to_valid_rgb(decorrelate=True, sigmoid=True)``). The numpy parts (the
frequencies, their scale, the initial spectrum, the colour matrix) are shared by every
backend in :mod:`neuron_groups.backends.optvis`. Lucid, by the Lucid Authors, is Apache-2.0
licensed: https://github.com/tensorflow/lucid. The code here is written anew; the constants
and formulas are Lucid's.
"""

from __future__ import annotations

import numpy as np

from neuron_groups.backends.optvis import COLOR_MATRIX, init_spectrum, spectrum_scale
from neuron_groups.backends.tensorflow._import import import_tensorflow

tf = import_tensorflow()


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
