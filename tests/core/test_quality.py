"""Explained variance and stability (quality.py), against direct computations."""

import numpy as np
import pytest

from neuron_groups.factorization import factorize, max_groups
from neuron_groups.quality import (
    explained_variance,
    explained_variance_by_count,
    matched_cosines,
    stability,
)


@pytest.fixture(scope="module")
def acts(shared):
    return np.load(shared / "fixtures" / "lucid_inceptionv1" / "dog_cat_mixed4d_activations.npy")[0]


def test_explained_variance_is_one_minus_the_relative_squared_residual(acts):
    groups = factorize(acts, 4)
    flat = acts.reshape(-1, acts.shape[-1]).astype(np.float64)
    approx = groups.spatial.reshape(4, -1).T.astype(np.float64) @ groups.channel  # (P, C)
    direct = 1 - np.sum((flat - approx) ** 2) / np.sum(flat**2)
    assert explained_variance(acts, groups.spatial, groups.channel) == pytest.approx(direct, 1e-5)
    assert direct == pytest.approx(1 - groups.error**2, 1e-4)  # the same as the fit's error


def test_the_curve_rises_with_the_count_and_ends_at_the_most_groups(acts):
    curve = explained_variance_by_count(acts)
    assert curve.shape == (max_groups(acts.shape),) == (16,)
    assert np.all(np.diff(curve) > 0) and 0 < curve[0] < curve[-1] < 1
    six = factorize(acts, 6)
    assert curve[5] == pytest.approx(explained_variance(acts, six.spatial, six.channel), 1e-6)


def test_explained_variance_of_an_exact_factorization_is_one():
    rng = np.random.default_rng(0)
    spatial, channel = rng.random((3, 5, 5)), rng.random((3, 9))
    acts = np.einsum("nhw,nc->hwc", spatial, channel)
    assert explained_variance(acts, spatial, channel) == pytest.approx(1.0)
    assert explained_variance(acts, 0 * spatial, channel) == pytest.approx(0.0)


def test_matching_is_hungarian_not_greedy():
    reference = np.array([[1.0, 0.0], [0.8, 0.6]])
    # Greedy would pair reference 0 with other 0 (cos 0.96) and leave reference 1 cos 0.6.
    other = np.array([[0.96, 0.28], [1.0, 0.0]])
    np.testing.assert_allclose(matched_cosines(reference, other), [1.0, 0.936], atol=1e-3)
    np.testing.assert_allclose(matched_cosines(reference, -reference), [0.0, 0.0])


def test_identical_refits_are_perfectly_stable(acts):
    channel = factorize(acts, 5).channel
    shuffled = np.random.default_rng(0).permutation(5)
    same = stability(acts, channel, refits=3, refit=lambda a, n, seed: channel[shuffled])
    np.testing.assert_allclose(same, 1.0, rtol=1e-6)


def test_real_refits_are_in_the_unit_interval_and_repeatable(acts):
    channel = factorize(acts, 6).channel
    first = stability(acts, channel, refits=2, seed=0)
    assert first.shape == (6,) and np.all((first >= 0) & (first <= 1))
    np.testing.assert_array_equal(first, stability(acts, channel, refits=2, seed=0))
    assert first.mean() > 0.5  # a trained network's groups mostly come back
