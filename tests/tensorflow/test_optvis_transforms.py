"""The random transforms (Lucid's ``standard_transforms``), each on a known image."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.tensorflow.optvis import transforms as tr


def ramp(n=2, h=6, w=6, c=3):
    return tf.reshape(tf.range(n * h * w * c, dtype=tf.float32), (n, h, w, c))


def test_pad_adds_a_constant_border():
    image = tf.zeros((2, 4, 5, 3))
    out = tr.Pad(12, 0.5)(image).numpy()
    assert out.shape == (2, 28, 29, 3)
    assert np.all(out[:, 12:16, 12:17] == 0)
    border = out.copy()
    border[:, 12:16, 12:17] = 0.5
    assert np.all(border == 0.5)


def test_jitter_crops_at_the_drawn_offset():
    image = ramp(h=10, w=12)
    out = tr.Jitter(4)(image, (1, 3)).numpy()
    assert out.shape == (2, 6, 8, 3)
    np.testing.assert_array_equal(out, image.numpy()[:, 1:7, 3:11])
    tensor_draw = tr.Jitter(4)(image, tf.constant([1, 3])).numpy()
    np.testing.assert_array_equal(out, tensor_draw)


def test_jitter_offsets_are_uniform_over_0_to_d_inclusive():
    rng = np.random.default_rng(0)
    draws = np.array([tr.Jitter(8).draw(rng) for _ in range(2000)])
    assert draws.min() == 0 and draws.max() == 8
    assert set(np.unique(draws[:, 0])) == set(range(9)) == set(np.unique(draws[:, 1]))
    assert np.corrcoef(draws.T)[0, 1] == pytest.approx(0, abs=0.1)  # independent offsets


def test_random_scale_sizes_are_lucids():
    scale = tr.standard_transforms()[2]
    assert isinstance(scale, tr.RandomScale)
    np.testing.assert_allclose(
        scale.scales, [0.9, 0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06, 1.08, 1.1], rtol=1e-6
    )
    sizes = [scale.output_size(96, 96, i)[0] for i in range(11)]
    assert sizes == [86, 88, 90, 92, 94, 96, 97, 99, 101, 103, 105]
    image = tf.zeros((2, 96, 96, 3))
    for i in (0, 6, 10):
        assert scale(image, (i,)).shape == (2, sizes[i], sizes[i], 3)  # static shapes
        assert tuple(scale(image, tf.constant([i])).numpy().shape) == (2, sizes[i], sizes[i], 3)


def test_bilinear_resize_is_tf1s_without_half_pixel_centres():
    # A 1 x 4 ramp 0, 1, 2, 3 stretched to 6: samples at x * 4/6, the last clamped.
    row = tf.reshape(tf.constant([0.0, 1, 2, 3]), (1, 1, 4, 1))
    out = tr.resize_bilinear_tf1(row, (1, 6)).numpy().ravel()
    np.testing.assert_allclose(out, [0, 2 / 3, 4 / 3, 2, 8 / 3, 3], atol=1e-6)
    # Shrinking by 2 takes every other pixel exactly (no averaging, no half-pixel shift).
    out = tr.resize_bilinear_tf1(row, (1, 2)).numpy().ravel()
    np.testing.assert_allclose(out, [0, 2], atol=1e-6)


def test_rotating_by_zero_is_the_identity():
    image = ramp(h=7, w=9)
    np.testing.assert_array_equal(tr.rotate(image, 0.0).numpy(), image.numpy())
    rotate = tr.standard_transforms()[3]
    assert rotate.angles[rotate.angles.index(0)] == 0
    np.testing.assert_array_equal(rotate(image, (rotate.angles.index(0),)).numpy(), image.numpy())


def test_rotating_by_90_degrees_turns_about_the_centre_counterclockwise():
    image = np.zeros((1, 5, 5, 1), np.float32)
    image[0, 0, 4, 0] = 1  # top right
    image[0, 2, 2, 0] = 2  # centre
    out = tr.rotate(tf.constant(image), np.pi / 2).numpy()[0, ..., 0]
    assert out[0, 0] == 1 and out[2, 2] == 2 and out.sum() == 3


def test_rotation_fills_with_zero():
    image = np.ones((1, 11, 11, 1), np.float32)
    out = tr.rotate(tf.constant(image), np.pi / 4).numpy()[0, ..., 0]
    assert out[0, 0] == out[-1, -1] == 0 and out[5, 5] == 1
    assert out[5].tolist() == [1.0] * 11  # the middle row stays inside


def source_index(h, w, angle):
    """For each output pixel of a rotation, the flat index of its source pixel (-1: fill)."""
    index = tf.reshape(tf.range(1, h * w + 1, dtype=tf.float32), (1, h, w, 1))
    return tr.rotate(index, angle).numpy().astype(int).ravel() - 1


def test_rotation_gradient_is_tf1s_inverse_rotation_of_the_incoming_gradient():
    rng = np.random.default_rng(0)
    image = tf.constant(rng.normal(size=(1, 11, 13, 1)).astype(np.float32))
    upstream = rng.normal(size=(1, 11, 13, 1)).astype(np.float32)
    angle = tr.degrees_to_radians_lucid(7)
    with tf.GradientTape() as tape:
        tape.watch(image)
        out = tr.rotate(image, angle)
    grad = tape.gradient(out, image, output_gradients=tf.constant(upstream)).numpy()
    np.testing.assert_array_equal(grad, tr.rotate(tf.constant(upstream), -angle).numpy())
    # Not the exact adjoint of the gather, which sums each output's gradient into its source.
    source = source_index(11, 13, angle)
    adjoint = np.zeros(11 * 13, np.float32)
    np.add.at(adjoint, source[source >= 0], upstream.ravel()[source >= 0])
    assert not np.allclose(grad.ravel(), adjoint)


def test_lucid_converts_degrees_with_3_14():
    assert tr.degrees_to_radians_lucid(90) == np.float32(1.57)
    assert tr.degrees_to_radians_lucid(-10) == pytest.approx(-3.14 / 18)


def test_standard_transforms_are_lucids_in_order():
    pad, jitter8, scale, rotate, jitter4 = tr.standard_transforms()
    assert (pad.width, pad.value) == (12, 0.5)
    assert (jitter8.d, jitter4.d) == (8, 4)
    assert len(scale.scales) == 11
    assert list(rotate.angles) == [*range(-10, 11), 0, 0, 0, 0, 0]


def test_compose_draws_and_applies_in_order():
    compose = tr.Compose(tr.standard_transforms())
    assert compose.n_draws == 6
    rng = np.random.default_rng(0)
    draws = np.array([compose.draw(rng) for _ in range(3000)])
    assert draws.dtype == np.int32
    assert draws.min(axis=0).tolist() == [0, 0, 0, 0, 0, 0]
    assert draws.max(axis=0).tolist() == [8, 8, 10, 25, 4, 4]
    image = tf.random.uniform((2, 80, 80, 3), seed=1)
    for d in draws[:5]:
        size = compose.transforms[2].output_size(96, 96, d[2])[0] - 4
        out = compose(image, tf.constant(d))
        assert tuple(out.numpy().shape) == (2, size, size, 3)
        static = compose(image, [int(v) for v in d])
        assert static.shape == (2, size, size, 3)
        np.testing.assert_array_equal(static.numpy(), out.numpy())
