"""Image parameterizations: the image as a Fourier spectrum, colour-decorrelated, squashed.

Lucid's ``param.image(size, batch=n)`` defaults (``fft_image`` + ``to_valid_rgb(decorrelate=True,
sigmoid=True)``) with PyTorch ops, channels-first. The numpy parts (the frequencies, their
scale, the initial spectrum, the colour matrix) are shared by every backend in
:mod:`neuron_groups.backends.optvis`. Lucid, by the Lucid Authors, is Apache-2.0
licensed: https://github.com/tensorflow/lucid; this is written anew.
"""

from __future__ import annotations

import torch

from neuron_groups.backends.optvis import COLOR_MATRIX


def fourier_images(spectrum: torch.Tensor, scale: torch.Tensor, size: int) -> torch.Tensor:
    """Lucid's ``fft_image`` then ``to_valid_rgb``: spectrum (2, n, 3, S, wf) -> (n, 3, S, S)."""
    coeffs = torch.complex(spectrum[0] * scale, spectrum[1] * scale)  # (n, 3, S, wf)
    pixels = torch.fft.irfft2(coeffs)[..., :size, :size] / 4.0  # (n, 3, S, S)
    matrix = torch.from_numpy(COLOR_MATRIX).to(pixels.device)  # (3 rgb, 3 decorrelated)
    return torch.sigmoid(torch.einsum("nchw,dc->ndhw", pixels, matrix))  # (n, 3, S, S)


__all__ = ["fourier_images"]
