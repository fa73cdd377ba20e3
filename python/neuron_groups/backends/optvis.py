"""The framework-neutral parts of feature visualization (after Lucid's ``optvis``), in numpy.

What does not depend on the framework lives here, so that every backend shares it: the
checks of the directions and settings, the seeded random generators, the Fourier
parameterization's frequencies, scale and initial spectrum, the colour-correlation
constants, and the random transforms as plain descriptions (:class:`Pad`, :class:`Jitter`,
:class:`RandomScale`, :class:`RandomRotate`) with their numpy draws. A backend applies the
transforms with its own ops, given each step's draws (see
:mod:`neuron_groups.backends.tensorflow.optvis` and :mod:`neuron_groups.backends.torch.optvis`).

Lucid, by the Lucid Authors, is Apache-2.0 licensed: https://github.com/tensorflow/lucid.
The constants and formulas are Lucid's; the code is written anew.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from neuron_groups.backends.base import IconSettings

Draw = tuple[int, ...]


# -- checks and random generators -------------------------------------------------------
def check_directions(directions: np.ndarray, settings: IconSettings) -> np.ndarray:
    """Check the directions (n, C) and the settings; return the directions as float32.

    Raises
    ------
    ValueError
        For directions not of shape (n, C) or not finite, unknown transforms, an icon side
        below 8 pixels, a negative step count or a ``beta1`` or ``beta2`` outside [0, 1).
    """
    directions = np.asarray(directions, dtype=np.float32)
    if directions.ndim != 2 or directions.shape[0] < 1 or directions.shape[1] < 1:
        raise ValueError(f"directions must have shape (n, C); got {directions.shape}.")
    if not np.all(np.isfinite(directions)):
        raise ValueError("directions contain NaN or infinite values.")
    if settings.transforms not in TRANSFORMS:
        raise ValueError(
            f"Unknown transforms {settings.transforms!r}; choose one of {sorted(TRANSFORMS)}."
        )
    if settings.size < 8:
        raise ValueError(f"Icon size must be at least 8 pixels; got {settings.size}.")
    if settings.steps < 0:
        raise ValueError(f"steps must be >= 0; got {settings.steps}.")
    for name in ("beta1", "beta2"):
        value = getattr(settings, name)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1); got {value}.")
    return directions


def directions_digest(directions: np.ndarray) -> str:
    """A digest of the directions (n, C) as float32: part of what fixes a run's images."""
    return hashlib.sha256(np.ascontiguousarray(directions, np.float32).tobytes()).hexdigest()


def rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for the initial spectrum and the transforms' draws."""
    init, draws = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(draws)


# -- colour ------------------------------------------------------------------------------
COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32
)
"""Square root of ImageNet's colour correlation matrix, as Lucid measured it."""

MAX_NORM_SVD_SQRT = float(np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0)))
"""The largest column norm of :data:`COLOR_CORRELATION_SVD_SQRT` (0.46195...)."""

COLOR_MATRIX = COLOR_CORRELATION_SVD_SQRT / np.float32(MAX_NORM_SVD_SQRT)
"""Maps decorrelated colour to RGB (before the sigmoid): ``rgb = x @ COLOR_MATRIX.T``."""


# -- the Fourier parameterization ---------------------------------------------------------
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
    fy = np.fft.fftfreq(h)[:, None]  # (h, 1)
    fx = np.fft.fftfreq(w)[: w // 2 + (2 if w % 2 else 1)]  # (wf,)
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


# -- the random transforms, as descriptions with their draws ---------------------------------
@dataclasses.dataclass(frozen=True)
class Transform:
    """A transform of a batch of images; a backend applies it given :meth:`draw`'s integers.

    Attributes
    ----------
    n_draws : int
        How many integers :meth:`draw` returns.
    """

    n_draws = 0

    def draw(self, rng: np.random.Generator) -> Draw:
        """Pick this step's random integers."""
        return ()


@dataclasses.dataclass(frozen=True)
class Pad(Transform):
    """Pad each side by ``width`` pixels of the constant ``value`` (Lucid: 12, 0.5)."""

    width: int
    value: float = 0.5


@dataclasses.dataclass(frozen=True)
class Jitter(Transform):
    """Random crop that removes ``d`` rows and ``d`` columns (TF1 ``random_crop``).

    The draw is the crop's offset (dy, dx), each uniform in 0..d; the output is
    (n, h - d, w - d, c).
    """

    d: int
    n_draws = 2

    def draw(self, rng: np.random.Generator) -> Draw:
        """Pick the offset (dy, dx), each uniform in 0..d."""
        return tuple(int(v) for v in rng.integers(0, self.d + 1, size=2))


@dataclasses.dataclass(frozen=True)
class RandomScale(Transform):
    """Rescale by one of ``scales`` (Lucid: 1 + (i - 5) / 50, i = 0..10), bilinear (TF1's).

    The output side is ``int(scale * side)`` computed in float32, as Lucid did.
    """

    scales: tuple[float, ...]
    n_draws = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "scales", tuple(float(s) for s in self.scales))

    @property
    def scales32(self) -> np.ndarray:
        """The scales as float32, shape (len(scales),)."""
        return np.asarray(self.scales, dtype=np.float32)

    def draw(self, rng: np.random.Generator) -> Draw:
        """Pick the index of a scale."""
        return (int(rng.integers(len(self.scales))),)

    def output_size(self, h: int, w: int, index: int) -> tuple[int, int]:
        """The (h, w) that ``index`` resizes an (h, w) image to."""
        s = self.scales32[index]
        return int(s * np.float32(h)), int(s * np.float32(w))


def degrees_to_radians_lucid(degrees) -> np.ndarray:
    """Lucid's conversion, ``3.14 * angle / 180`` in float32 (3.14, not pi)."""
    return np.float32(3.14) * np.asarray(degrees, dtype=np.float32) / np.float32(180.0)


@dataclasses.dataclass(frozen=True)
class RandomRotate(Transform):
    """Rotate about the centre by one of ``angles`` (Lucid: -10..10 degrees plus five zeros).

    Nearest neighbour, zero fill, as TF1's ``tf.contrib.image.rotate``.
    """

    angles: tuple[float, ...]
    units: str = "degrees"
    n_draws = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "angles", tuple(self.angles))
        if self.units not in ("degrees", "radians", "rads", "rad"):
            raise ValueError(f"units must be 'degrees' or 'radians', not {self.units!r}.")

    @property
    def radians(self) -> np.ndarray:
        """The angles in radians, float32, shape (len(angles),)."""
        if self.units == "degrees":
            return degrees_to_radians_lucid(self.angles)
        return np.asarray(self.angles, dtype=np.float32)

    def draw(self, rng: np.random.Generator) -> Draw:
        """Pick the index of an angle."""
        return (int(rng.integers(len(self.angles))),)


def standard_transforms() -> list[Transform]:
    """Lucid's ``standard_transforms``, in order."""
    return [
        Pad(12, 0.5),
        Jitter(8),
        RandomScale(tuple(1 + (i - 5) / 50.0 for i in range(11))),
        RandomRotate((*range(-10, 11), *(5 * [0]))),
        Jitter(4),
    ]


TRANSFORMS: dict[str, Callable[[], list[Transform]]] = {
    "standard": standard_transforms,
    "none": list,
}
"""The transform sets :attr:`IconSettings.transforms` can name."""


def count_draws(transforms: Sequence[Transform]) -> int:
    """How many integers one step of ``transforms`` draws."""
    return sum(t.n_draws for t in transforms)


def draw_transforms(transforms: Sequence[Transform], rng: np.random.Generator) -> np.ndarray:
    """Draw every transform's integers, in order: int32, shape (count_draws(transforms),)."""
    draws = [v for t in transforms for v in t.draw(rng)]
    return np.asarray(draws, dtype=np.int32).reshape(count_draws(transforms))


__all__ = [
    "COLOR_CORRELATION_SVD_SQRT",
    "COLOR_MATRIX",
    "MAX_NORM_SVD_SQRT",
    "TRANSFORMS",
    "Jitter",
    "Pad",
    "RandomRotate",
    "RandomScale",
    "Transform",
    "check_directions",
    "count_draws",
    "degrees_to_radians_lucid",
    "directions_digest",
    "draw_transforms",
    "init_spectrum",
    "rfft2d_freqs",
    "rngs",
    "spectrum_scale",
    "standard_transforms",
]
