import numpy as np

from neuron_groups.attribution import group_attributions


def test_matches_the_original_loop():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(2, 4, 5, 7)).astype(np.float32)
    spatial = rng.random((3, 4, 5)).astype(np.float32)
    channel = rng.random((3, 7)).astype(np.float32)
    # The notebook: [np.sum(group_vec * grad) for group_vec in group_vecs] for each class.
    vecs = [spatial[i, ..., None] * channel[i] for i in range(3)]
    expected = np.array([[np.sum(v * g) for v in vecs] for g in grads])
    np.testing.assert_allclose(group_attributions(grads, spatial, channel), expected, rtol=1e-5)


def test_linear_in_gradient_and_zero_for_empty_group():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(1, 3, 3, 4))
    spatial = rng.random((2, 3, 3))
    spatial[1] = 0
    channel = rng.random((2, 4))
    once = group_attributions(grads, spatial, channel)
    twice = group_attributions(2 * grads, spatial, channel)
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-6)
    assert once[0, 1] == 0 and once[0, 0] != 0
