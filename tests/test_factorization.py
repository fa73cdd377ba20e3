import numpy as np
import pytest
from sklearn.decomposition import NMF, PCA

from neuron_groups.errors import FactorizationError, GroupCountError
from neuron_groups.factorization import factorize, order_left_to_right


@pytest.fixture(scope="module")
def lucid_acts(shared):
    # Real mixed4d activations of Lucid's own InceptionV1 on dog_cat: (14, 14, 528).
    return np.load(shared / "fixtures/lucid_inceptionv1/dog_cat_mixed4d_activations.npy")[0]


def test_shapes_and_reconstruction(lucid_acts):
    groups = factorize(lucid_acts, 6)
    assert groups.spatial.shape == (6, 14, 14) and groups.channel.shape == (6, 528)
    assert groups.method == "NMF"
    assert groups.spatial.min() >= 0 and groups.channel.min() >= 0
    flat = lucid_acts.reshape(-1, 528)
    approx = groups.spatial.reshape(6, -1).T @ groups.channel
    measured = np.linalg.norm(flat - approx) / np.linalg.norm(flat)
    assert groups.error == pytest.approx(measured, rel=1e-4)
    assert groups.error < 0.6  # six groups explain most of a real layer
    assert factorize(lucid_acts, 12).error < groups.error


def test_reproducible_by_default(lucid_acts):
    a, b = factorize(lucid_acts, 6), factorize(lucid_acts, 6)
    np.testing.assert_array_equal(a.spatial, b.spatial)
    np.testing.assert_array_equal(a.channel, b.channel)


def test_ordered_left_to_right(lucid_acts):
    groups = factorize(lucid_acts, 6)
    peak_columns = np.argmax(groups.spatial.max(axis=1), axis=1)
    assert list(peak_columns) == sorted(peak_columns)


def test_order_left_to_right_on_known_maps():
    spatial = np.zeros((3, 2, 5))
    spatial[0, 1, 4] = spatial[1, 0, 0] = spatial[2, 1, 2] = 1
    assert list(order_left_to_right(spatial)) == [1, 2, 0]


def test_other_methods_by_name_and_instance(lucid_acts):
    pca = factorize(lucid_acts, 4, method="pca")
    assert pca.method == "PCA" and pca.channel.shape == (4, 528)
    inst = factorize(lucid_acts, 3, method=NMF(init="random", max_iter=500), seed=1)
    assert inst.spatial.shape == (3, 14, 14)
    again = factorize(lucid_acts, 3, method=PCA())
    assert again.channel.shape == (3, 528)


def test_recovers_known_groups():
    # Three parts with disjoint channel sets, peaking at columns 6, 1 and 3 of an 8x8 map:
    # NMF must find each part's channels, and order them left to right by their peaks.
    rng = np.random.default_rng(0)
    columns, channel_sets = [6, 1, 3], [range(0, 4), range(4, 8), range(8, 12)]
    acts = np.zeros((8, 8, 12), np.float32)
    truth = np.zeros((3, 12))
    for column, channels, vector in zip(columns, channel_sets, truth, strict=True):
        vector[list(channels)] = rng.uniform(0.5, 1.5, size=4)
        bump = np.exp(-0.5 * (np.arange(8) - column) ** 2)  # (8,) over columns
        presence = rng.uniform(0.5, 1.0, size=(8, 1)) * bump[None, :]  # (8, 8)
        acts += presence[..., None] * vector
    groups = factorize(acts, 3)
    unit = groups.channel / np.linalg.norm(groups.channel, axis=1, keepdims=True)
    expected = truth[[1, 2, 0]]  # peaks at columns 1, 3, 6
    cosine = np.sum(unit * expected / np.linalg.norm(expected, axis=1, keepdims=True), axis=1)
    assert np.all(cosine > 0.99), cosine
    assert groups.error < 1e-3


@pytest.mark.parametrize(("n", "nearest"), [(0, 1), (-3, 1), (197, 196)])
def test_group_count_limits(lucid_acts, n, nearest):
    with pytest.raises(GroupCountError, match=rf"between 1 and 196.*Nearest valid: {nearest}\."):
        factorize(lucid_acts, n)


def test_negative_activations_suggest_alternatives(lucid_acts):
    with pytest.raises(FactorizationError, match=r"post-ReLU.*PCA"):
        factorize(lucid_acts - 1.0, 4)
    assert factorize(lucid_acts - 1.0, 4, method="PCA").spatial.shape == (4, 14, 14)


def test_no_spatial_extent_and_unknown_method(lucid_acts):
    with pytest.raises(FactorizationError, match="spatial extent"):
        factorize(lucid_acts.mean(axis=(0, 1)), 2, layer="avgpool0")
    with pytest.raises(FactorizationError, match="Did you mean 'NMF'"):
        factorize(lucid_acts, 2, method="nfm")
    with pytest.raises(GroupCountError, match="whole number"):
        factorize(lucid_acts, 2.5)
