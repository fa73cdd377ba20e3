"""The Fourier parameterization and the colour decorrelation (Lucid's ``param.image``).

The numpy parts (frequencies, scale, initial spectrum, colour matrix) come from the shared
:mod:`neuron_groups.backends.optvis`; the TensorFlow ops from ``param``.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends import optvis as shared
from neuron_groups.backends.tensorflow.optvis import param


def test_the_colour_matrix_is_lucids_normalized_by_its_largest_column_norm():
    assert pytest.approx(0.46195, abs=1e-5) == shared.MAX_NORM_SVD_SQRT
    norms = np.linalg.norm(shared.COLOR_MATRIX, axis=0)
    assert norms.max() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(
        shared.COLOR_MATRIX * 0.46195, shared.COLOR_CORRELATION_SVD_SQRT, atol=1e-4
    )


def test_to_valid_rgb_multiplies_by_the_matrix_then_squashes():
    x = np.array([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]], np.float32)
    expected = 1 / (1 + np.exp(-(x @ shared.COLOR_MATRIX.T)))
    np.testing.assert_allclose(param.to_valid_rgb(tf.constant(x)).numpy(), expected, atol=1e-6)
    assert param.to_valid_rgb(tf.zeros((1, 3))).numpy().tolist() == [[0.5, 0.5, 0.5]]


@pytest.mark.parametrize(("h", "w", "wf"), [(80, 80, 41), (6, 7, 5), (5, 4, 3)])
def test_frequencies_and_spectrum_shape(h, w, wf):
    freqs = shared.rfft2d_freqs(h, w)
    assert freqs.shape == (h, wf)
    assert freqs[0, 0] == 0 and freqs[0, 1] == pytest.approx(1 / w)
    spectrum = shared.init_spectrum(3, h, w, np.random.default_rng(0))
    assert spectrum.shape == (2, 3, 3, h, wf) and spectrum.dtype == np.float32
    assert spectrum.std() == pytest.approx(0.01, rel=0.2)


def test_spectrum_scale_is_lucids():
    scale = shared.spectrum_scale(80, 80)
    # The DC term's frequency 0 is floored at 1/max(w, h).
    assert scale[0, 0] == pytest.approx(80 * 80)
    assert scale[0, 1] == pytest.approx(80 * 80)  # f = 1/80 exactly at the floor
    assert scale[0, 4] == pytest.approx(80 / 4 * 80, rel=1e-6)  # f = 4/80
    assert scale[3, 4] == pytest.approx(80 / np.hypot(3, 4) * 80, rel=1e-6)


@pytest.mark.parametrize(("h", "w"), [(8, 8), (6, 7)])
def test_fft_image_is_the_scaled_inverse_real_fft_over_4(h, w):
    rng = np.random.default_rng(1)
    spectrum = shared.init_spectrum(2, h, w, rng, sd=1.0)
    scale = shared.spectrum_scale(h, w)
    got = param.fft_image(tf.constant(spectrum), tf.constant(scale), h, w).numpy()
    coeffs = (spectrum[0] + 1j * spectrum[1]) * scale  # (n, 3, h, wf)
    width = 2 * (coeffs.shape[-1] - 1)  # odd widths: one pixel more, then cropped
    expected = np.fft.irfft2(coeffs, s=(h, width))[..., :h, :w].transpose(0, 2, 3, 1) / 4
    assert got.shape == (2, h, w, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("size", [80, 7])
def test_fourier_image_shape_range_and_seed(size):
    image = param.FourierImage(3, size, np.random.default_rng(0))
    pixels = image().numpy()
    assert pixels.shape == (3, size, size, 3) and pixels.dtype == np.float32
    assert pixels.min() > 0 and pixels.max() < 1
    # A small random start: grey with a little noise.
    assert abs(pixels.mean() - 0.5) < 0.05 and pixels.std() > 1e-3
    assert image.spectrum.shape == (2, 3, 3, size, size // 2 + (2 if size % 2 else 1))
    same = param.FourierImage(3, size, np.random.default_rng(0))().numpy()
    other = param.FourierImage(3, size, np.random.default_rng(1))().numpy()
    np.testing.assert_array_equal(pixels, same)
    assert not np.allclose(pixels, other)
