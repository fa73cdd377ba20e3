"""The crop of the image around a group's peak cell (what a tile shows before its icon)."""

from __future__ import annotations

import numpy as np
import pytest

from neuron_groups.errors import ImageError
from neuron_groups.peak_crops import peak_cell, peak_crop, peak_crops

pytestmark = pytest.mark.core


def coordinates_image(height: int, width: int) -> np.ndarray:
    """An image whose pixels say where they are: R = row / H, G = column / W, B = 0.5."""
    rows, cols = np.mgrid[0:height, 0:width]
    planes = [rows / height, cols / width, np.full((height, width), 0.5)]
    return np.stack(planes, axis=-1).astype(np.float32)


def one_hot_map(h: int, w: int, y: int, x: int) -> np.ndarray:
    spatial = np.zeros((h, w), np.float32)
    spatial[y, x] = 1.0
    return spatial


def test_the_crop_is_the_image_around_the_peak_cell_at_its_own_scale():
    image = coordinates_image(224, 224)
    got = peak_crop(image, one_hot_map(14, 14, 5, 9), size=80)
    # Cell (5, 9) covers rows 80..96, columns 144..160: centre (88, 152), window 48..128 x 112..192.
    assert got.cell == (5, 9)
    assert got.window == (48, 112, 128, 192)
    np.testing.assert_array_equal(got.crop, image[48:128, 112:192])
    assert got.crop.shape == (80, 80, 3) and got.crop.dtype == np.float32
    assert got.box == pytest.approx((32 / 80, 32 / 80, 48 / 80, 48 / 80))


def test_the_window_is_shifted_inside_the_image_at_its_borders():
    image = coordinates_image(224, 200)
    corner = peak_crop(image, one_hot_map(14, 14, 0, 13), size=80)
    assert corner.window == (0, 120, 80, 200)
    np.testing.assert_array_equal(corner.crop, image[0:80, 120:200])
    # Cell (0, 13) covers rows 0..16 and columns 185.7..200: the crop's top right.
    assert corner.box == pytest.approx((0.0, (13 * 200 / 14 - 120) / 80, 0.2, 1.0))


def test_an_image_smaller_than_the_crop_is_resized_from_its_shorter_side():
    image = coordinates_image(48, 64)
    got = peak_crop(image, one_hot_map(3, 4, 1, 3), size=80)
    assert got.window == (0, 16, 48, 64)  # a 48-pixel window, the shorter side
    assert got.crop.shape == (80, 80, 3)
    # Bilinear resizing keeps the ramp's ends within a pixel's value.
    assert got.crop[..., 1].min() == pytest.approx(16 / 64, abs=1 / 64)
    assert got.crop[..., 1].max() == pytest.approx(63 / 64, abs=1 / 64)
    assert got.box == pytest.approx((1 / 3, 2 / 3, 2 / 3, 1.0))  # columns 48..64 of 16..64


def test_the_first_peak_wins_ties_and_each_group_gets_its_crop():
    spatial = np.zeros((2, 4, 4), np.float32)
    spatial[0, 1, 2] = spatial[0, 3, 0] = 2.0  # a tie: the first in row order
    spatial[1, 2, 3] = 1.0
    assert peak_cell(spatial[0]) == (1, 2)
    crops = peak_crops(coordinates_image(64, 64), spatial, size=32)
    assert [c.cell for c in crops] == [(1, 2), (2, 3)]
    assert [c.window for c in crops] == [(8, 24, 40, 56), (24, 32, 56, 64)]


@pytest.mark.parametrize(
    ("image", "spatial", "size", "error", "match"),
    [
        (np.zeros((8, 8)), np.ones((2, 2)), 4, ImageError, "shape"),
        (np.zeros((8, 8, 3), np.uint8), np.ones((2, 2)), 4, ImageError, "integer"),
        (np.zeros((8, 8, 3)), np.ones((2, 2, 2)), 4, ValueError, r"\(h, w\)"),
        (np.zeros((8, 8, 3)), np.array([[1.0, np.nan]]), 4, ValueError, "finite"),
        (np.zeros((8, 8, 3)), np.ones((2, 2)), 0, ValueError, ">= 1"),
        (np.zeros((8, 8, 3)), np.ones((2, 2)), 2.5, ValueError, "whole number"),
    ],
)
def test_bad_input_gets_a_specific_error(image, spatial, size, error, match):
    with pytest.raises(error, match=match):
        peak_crop(image, spatial, size)
    with pytest.raises(ValueError, match=r"\(n, h, w\)"):
        peak_crops(np.zeros((8, 8, 3)), np.ones((2, 2)), 4)
