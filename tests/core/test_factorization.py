import numpy as np
import pytest
from sklearn.decomposition import NMF, PCA

from neuron_groups.errors import FactorizationError, GroupCountError
from neuron_groups.factorization import factorize, max_groups, order_left_to_right


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


@pytest.mark.parametrize(("n", "nearest"), [(0, 1), (-3, 1), (17, 16), (197, 16)])
def test_group_count_limits(lucid_acts, n, nearest):
    with pytest.raises(GroupCountError, match=rf"between 1 and 16.*at most 16 groups.*{nearest}\."):
        factorize(lucid_acts, n)
    assert factorize(lucid_acts, 16).spatial.shape == (16, 14, 14)


def test_a_small_layer_allows_fewer_groups():
    acts = np.random.default_rng(0).random((2, 3, 40)).astype(np.float32)  # 6 positions
    assert max_groups(acts.shape) == 6
    with pytest.raises(GroupCountError, match=r"between 1 and 6.*2x3 positions.*Nearest valid: 6"):
        factorize(acts, 7)


def signed_groups(overlap: bool, seed: int = 0):
    """Three groups with signed channel directions (3, 12), peaking at columns 6, 1 and 3.

    Without overlap each position belongs to one group (its strongest); with it the
    presences are smooth bumps that overlap. Returns (acts (8, 8, 12), directions,
    presences (3, 8, 8)), the groups in left-to-right order.
    """
    rng = np.random.default_rng(seed)
    columns = [6, 1, 3]
    directions = rng.normal(size=(3, 12))  # both signs in every direction
    bumps = np.stack([np.exp(-0.5 * (np.arange(8) - c) ** 2) for c in columns])  # (3, 8)
    presence = rng.uniform(0.5, 1.0, size=(3, 8, 1)) * bumps[:, None, :]  # (3, 8, 8)
    if not overlap:
        presence = presence * (np.arange(3)[:, None, None] == presence.argmax(axis=0))
    acts = np.einsum("nhw,nc->hwc", presence, directions).astype(np.float32)
    order = [1, 2, 0]  # peaks at columns 1, 3, 6
    return acts, directions[order], presence[order]


def cosines(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Cosine of each found row (n, D) with the same row of the truth (n, D)."""
    found, truth = found.reshape(len(found), -1), truth.reshape(len(truth), -1)
    norms = np.linalg.norm(found, axis=1) * np.linalg.norm(truth, axis=1)
    return np.sum(found * truth, axis=1) / norms


def test_sign_split_nmf_recovers_signed_groups():
    acts, directions, presence = signed_groups(overlap=False)
    assert acts.min() < 0
    groups = factorize(acts, 3)  # the default picks sign-split NMF for signed activations
    assert groups.method == "SignSplitNMF"
    assert groups.spatial.min() >= 0 and groups.channel.min() < 0 < groups.channel.max()
    assert np.all(cosines(groups.channel, directions) > 0.999)
    assert np.all(cosines(groups.spatial, presence) > 0.999)
    assert groups.error < 1e-3
    # PCA, the usual answer to signed data, mixes the groups.
    pca = factorize(acts, 3, method="PCA")
    best = np.abs(
        cosines(pca.channel[:, None].repeat(3, 1).reshape(9, 12), np.tile(directions, (3, 1)))
    )
    assert best.reshape(3, 3).max(axis=0).min() < 0.9


def test_sign_split_nmf_on_overlapping_signed_groups():
    # Overlapping groups whose channels cancel cannot be split exactly; still close.
    acts, directions, presence = signed_groups(overlap=True)
    groups = factorize(acts, 3)
    assert np.all(cosines(groups.channel, directions) > 0.95)  # 0.965 at worst here
    assert np.all(cosines(groups.spatial, presence) > 0.98)
    flat = acts.reshape(-1, 12)
    approx = groups.spatial.reshape(3, -1).T @ groups.channel  # the signed reconstruction
    measured = np.linalg.norm(flat - approx) / np.linalg.norm(flat)
    assert groups.error == pytest.approx(measured, rel=1e-4)
    assert 1e-3 < groups.error < 0.1


def test_sign_split_is_plain_nmf_on_non_negative_activations(lucid_acts):
    plain, split = factorize(lucid_acts, 6), factorize(lucid_acts, 6, method="sign-split NMF")
    assert plain.method == "NMF" and split.method == "SignSplitNMF"
    np.testing.assert_allclose(split.channel, plain.channel, atol=1e-6)
    np.testing.assert_allclose(split.spatial, plain.spatial, atol=1e-6)


def test_negative_activations_with_nmf_or_other_methods(lucid_acts):
    shifted = lucid_acts - 1.0  # (14, 14, 528), signed
    by_instance = factorize(shifted, 4, method=NMF(init="nndsvd", max_iter=300))
    assert by_instance.method == "SignSplitNMF" and by_instance.channel.min() < 0
    assert factorize(shifted, 4, method="PCA").spatial.shape == (4, 14, 14)
    with pytest.raises(FactorizationError, match=r"LatentDirichletAllocation cannot.*NMF"):
        factorize(shifted, 4, method="LatentDirichletAllocation")


def test_no_spatial_extent_and_unknown_method(lucid_acts):
    with pytest.raises(FactorizationError, match="spatial extent"):
        factorize(lucid_acts.mean(axis=(0, 1)), 2, layer="avgpool0")
    with pytest.raises(FactorizationError, match="Did you mean 'NMF'"):
        factorize(lucid_acts, 2, method="nfm")
    with pytest.raises(GroupCountError, match="whole number"):
        factorize(lucid_acts, 2.5)
