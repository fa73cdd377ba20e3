"""Groups at several layers and the flows between them: the numpy fake, then InceptionV1."""

from __future__ import annotations

import numpy as np
import pytest

import neuron_groups
import neuron_groups.reading as reading_module
from neuron_groups import IconSettings, NeuronGroupsResult, load
from neuron_groups.errors import ClassNameError, GroupCountError, LayerError
from neuron_groups.reading import MAX_LAYERS, ImageReading, check_counts, unit_directions
from tests.fakes import FakeModel

IMAGE = np.random.default_rng(3).random((56, 56, 3)).astype(np.float32)


def fake_score(model: FakeModel, vectors: np.ndarray, conv: np.ndarray) -> np.ndarray:
    """Each score s_b = sum_xy <conv2[y, x], v_b> of the fake, straight from conv (h, w, 8)."""
    conv2 = np.concatenate([conv, conv @ model.mix], axis=-1)  # (h, w, 12)
    return np.einsum("hwc,bc->b", conv2, vectors)


# -- bad input, refused before any work ---------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (["conv2", "conv"], r"'conv' comes before 'conv2'.*Write \['conv', 'conv2'\]"),
        (["conv", "block/conv"], r"'conv' is given 2 times.*give each layer once: \['conv'\]"),
        (["conv", "conv3"], r"Unknown layer 'conv3'.*Did you mean"),
        (["conv", "logits"], r"'logits' has no spatial extent.*convolutional"),
        ([], r"empty list"),
        (["conv", 3], r"a name, or a list of names"),
        (["conv", "conv2"] * 3, rf"At most {MAX_LAYERS} layers.*notebook's width.*a minute"),
    ],
)
def test_bad_layers_are_refused_before_any_read(layers, message):
    model = FakeModel()
    with pytest.raises(LayerError, match=message):
        ImageReading(model, IMAGE, layers)
    assert model.reads == 0


def test_group_counts_are_checked_against_the_layers():
    assert check_counts(4, ["a", "b"]) == [4, 4]
    assert check_counts([2, np.int64(3)], ["a", "b"]) == [2, 3]
    assert check_counts(None, ["a", "b"], {"b": 8}) == [6, 8]
    assert check_counts(4, ["a", "b"], {"b": 8}) == [4, 8]
    with pytest.raises(GroupCountError, match=r"3 counts for 2 layers \(a, b\).*n_groups=\[6, 6\]"):
        check_counts([1, 2, 3], ["a", "b"])
    with pytest.raises(GroupCountError, match="at 'b' is a whole number of at least 1; got 0"):
        check_counts([2, 0], ["a", "b"])
    with pytest.raises(GroupCountError, match="one number per layer"):
        check_counts("3", ["a", "b"])


def test_bad_counts_and_classes_cost_no_pass(monkeypatch):
    model = FakeModel()
    with pytest.raises(GroupCountError, match="1 count for 2 layers"):
        neuron_groups.neuron_groups(IMAGE, ["conv", "conv2"], [3], model=model, icons=False)
    with pytest.raises(ClassNameError):
        neuron_groups.neuron_groups(IMAGE, ["conv", "conv2"], 3, ["dgo"], model=model)
    assert model.reads == 0
    with pytest.raises(GroupCountError, match=r"2 counts for 1 layer \(conv\)"):
        neuron_groups.neuron_groups(IMAGE, "conv", [3, 4], model=model)
    assert model.reads == 0


# -- what it computes -----------------------------------------------------------------------------


def test_flows_are_the_derivative_of_each_score_along_each_group():
    model = FakeModel()
    result = ImageReading(model, IMAGE, ["conv", "conv2"], ["dog"]).analyze([3, 4], ["dog"])
    a, b = result.groups["conv"], result.groups["conv2"]
    flows = result.flows[("conv", "conv2")]
    assert flows.shape == (3, 4) and flows.dtype == np.float32
    # The fake's scores are linear in conv: the derivative along a group vector is its value.
    vectors = b.channel / np.linalg.norm(b.channel, axis=1, keepdims=True)  # (4, 12)
    group_vectors = a.spatial[..., None] * a.channel[:, None, None, :]  # (3, 7, 7, 8)
    expected = np.stack([fake_score(model, vectors, g) for g in group_vectors])  # (3, 4)
    np.testing.assert_allclose(flows, expected, rtol=1e-4, atol=1e-5)
    assert np.abs(flows).max() > 0


def test_each_layer_has_its_own_groups_and_the_last_the_classes():
    model = FakeModel()
    reading = ImageReading(model, IMAGE, ["conv", "conv2"], ["dog", 2])
    result = reading.analyze([2, 5], ["dog", 2])
    assert result.layers == ["conv", "conv2"] and result.counts == [2, 5]
    assert result.last is result.groups["conv2"] and result.classes == ["dog", "car"]
    assert result.attributions.shape == (2, 5)  # the classes attach to the last layer
    first = result.groups["conv"]
    assert first.spatial.shape == (2, 7, 7) and first.channel.shape == (2, 8)
    assert result.last.channel.shape == (5, 12)
    alone = ImageReading(FakeModel(), IMAGE, "conv").analyze(2)
    np.testing.assert_allclose(first.spatial, alone.spatial, rtol=1e-5)  # factorized as today


def test_one_read_per_pair_and_one_for_the_classes():
    model = FakeModel()
    reading = ImageReading(model, IMAGE, ["conv", "conv2"])
    assert model.reads == 1  # the last layer, with the classes
    reading.analyze([3, 3])
    assert model.reads == 2  # one pass for the pair gives conv's activations and all gradients


def counting_factorize(monkeypatch):
    calls = []
    original = reading_module.factorize

    def spy(acts, n, **kwargs):
        calls.append((kwargs.get("layer"), n))
        return original(acts, n, **kwargs)

    monkeypatch.setattr(reading_module, "factorize", spy)
    return calls


def test_only_what_changed_is_recomputed(monkeypatch):
    calls = counting_factorize(monkeypatch)
    model = FakeModel()
    reading = ImageReading(model, IMAGE, ["conv", "conv2"], ["cat"])
    first = reading.analyze([3, 4], ["cat"])
    assert sorted(calls) == [("conv", 3), ("conv2", 4)] and model.reads == 2
    calls.clear()

    # The first layer's count: its groups and the flows out of it; no pass.
    second = reading.analyze([2, 4], ["cat"])
    assert calls == [("conv", 2)] and model.reads == 2
    assert second.last is first.last and second.flows[("conv", "conv2")].shape == (2, 4)
    calls.clear()

    # The last layer's count: its groups and the flows into it (one pass for the pair).
    third = reading.analyze([2, 5], ["cat"])
    assert calls == [("conv2", 5)] and model.reads == 3
    assert third.groups["conv"] is second.groups["conv"]
    calls.clear()

    # Classes: only the last layer's table; a class already read costs no pass.
    flows = third.flows[("conv", "conv2")].copy()
    fourth = reading.analyze([2, 5], ["cat"])
    assert fourth.last is third.last and model.reads == 3
    fifth = reading.analyze([2, 5], ["tree", "cat"])
    assert calls == [] and model.reads == 4 and fifth.classes == ["tree", "cat"]
    np.testing.assert_array_equal(fifth.flows[("conv", "conv2")], flows)

    # Back to counts seen before: all from the cache.
    reading.analyze([3, 4], ["cat"])
    assert calls == [] and model.reads == 4


def test_unit_directions_have_norm_one():
    channel = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
    np.testing.assert_allclose(unit_directions(channel), [[0.6, 0.8], [0.0, 0.0]])


# -- result: text, file -----------------------------------------------------------------------


def test_flow_table_ranks_by_size():
    result = ImageReading(FakeModel(), IMAGE, ["conv", "conv2"]).analyze([3, 4])
    flows = result.flows[("conv", "conv2")]
    lines = result.flow_table(top=3).splitlines()
    assert lines[0].split() == ["from", "to", "flow"] and len(lines) == 4
    i, j = np.unravel_index(np.abs(flows).argmax(), flows.shape)
    assert lines[1].split() == ["conv", str(i), "conv2", str(j), f"{flows[i, j]:.3f}"]
    sizes = [abs(float(line.split()[-1])) for line in lines[1:]]
    assert sizes == sorted(sizes, reverse=True)
    assert repr(result).startswith(
        "NeuronGroupsResult(model='fake', conv (3 groups on 7x7) -> conv2 (4 groups on 7x7), "
        "classes="
    )


def test_save_and_load_round_trip(tmp_path):
    result = ImageReading(FakeModel(), IMAGE, ["conv", "conv2"]).analyze([3, 4], ["car"])
    result.groups["conv"].icons = np.random.default_rng(0).random((3, 8, 8, 3), np.float32)
    path = result.save(tmp_path / "flows.npz")
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        assert list(data["layers"]) == ["conv", "conv2"]
        np.testing.assert_array_equal(data["flow_conv_conv2"], result.flows[("conv", "conv2")])
        assert data["flow_conv_conv2"].shape == (3, 4)
    assert {"spatial_conv", "channel_conv", "spatial_conv2", "channel_conv2"} <= keys
    assert {"image", "spatial", "channel", "attributions", "classes", "logits", "layer"} <= keys
    again = load(path)  # every layer, whole
    assert isinstance(again, NeuronGroupsResult) and again.layers == ["conv", "conv2"]
    for layer in again.layers:
        np.testing.assert_array_equal(again.groups[layer].spatial, result.groups[layer].spatial)
        np.testing.assert_array_equal(again.groups[layer].channel, result.groups[layer].channel)
        assert again.groups[layer].method == result.groups[layer].method == "NMF"
        assert again.groups[layer].reconstruction_error == result.groups[layer].reconstruction_error
    np.testing.assert_array_equal(again.groups["conv"].icons, result.groups["conv"].icons)
    assert again.classes == ["car"] and again.counts == [3, 4] and again.layer == "conv2"
    np.testing.assert_array_equal(again.flows[("conv", "conv2")], result.flows[("conv", "conv2")])


def test_a_file_of_several_layers_from_before_loads_whole(tmp_path):
    """Files written by the two-type package: no layers' own method or error."""
    result = ImageReading(FakeModel(), IMAGE, ["conv", "conv2"]).analyze([3, 4], ["car"])
    arrays = result.to_arrays()
    for key in (
        "method_conv",
        "reconstruction_error_conv",
        "method_conv2",
        "reconstruction_error_conv2",
    ):
        del arrays[key]
    path = tmp_path / "old.npz"
    np.savez_compressed(path, **arrays)
    again = load(path)
    assert again.layers == ["conv", "conv2"] and again.groups["conv"].method == "NMF"
    assert np.isnan(again.groups["conv"].reconstruction_error)


def test_a_one_layer_file_from_before_loads(tmp_path):
    result = ImageReading(FakeModel(), IMAGE, "conv").analyze(2, ["car"])
    arrays = result.to_arrays()
    del arrays["layers"], arrays["reconstruction_error"]
    path = tmp_path / "old.npz"
    np.savez_compressed(path, **arrays)
    again = load(path)
    assert again.layers == ["conv"] and again.flows == {} and again.classes == ["car"]
    np.testing.assert_array_equal(again.spatial, result.spatial)


def test_entry_point_renders_icons_last_layer_first():
    model = FakeModel()
    order = []
    original = model.render_icons

    def spy(layer, *args, **kwargs):
        order.append(layer)
        return original(layer, *args, **kwargs)

    model.render_icons = spy
    result = neuron_groups.neuron_groups(
        IMAGE,
        ["conv", "conv2"],
        [2, 3],
        model=model,
        icon_settings=IconSettings(steps=2, size=8),
        icon_cache=False,
    )
    assert order == ["conv2", "conv"]
    assert result.groups["conv"].icons.shape == (2, 8, 8, 3)
    assert result.last.icons.shape == (3, 8, 8, 3)


# -- InceptionV1 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(inception, dog_cat):
    reading = ImageReading(
        inception, dog_cat, ["mixed4a", "mixed4d"], ["Labrador retriever", "tiger cat"]
    )
    return reading, reading.analyze([5, 6], ["Labrador retriever", "tiger cat"])


@pytest.mark.slow
def test_inception_flows_match_forward_mode(inception, demo):
    from tests.tensorflow.test_gradients import jvp_of_direction_scores

    reading, result = demo
    a, b = result.groups["mixed4a"], result.groups["mixed4d"]
    vectors = unit_directions(b.channel)  # (6, 528)
    group_vectors = a.spatial[..., None] * a.channel[:, None, None, :]  # (5, 14, 14, 512)
    jvp = jvp_of_direction_scores(
        inception, reading.acts["mixed4a"], "mixed4a", "mixed4d", vectors, group_vectors
    )  # (5, 6)
    flows = result.flow_tables["linear"][("mixed4a", "mixed4d")]  # the article's, first order
    assert flows.shape == (5, 6)
    np.testing.assert_allclose(flows, jvp, rtol=1e-3, atol=1e-3 * np.abs(jvp).max())


@pytest.mark.slow
def test_inception_demo_groups_and_classes(inception, demo):
    _, result = demo
    assert result.counts == [5, 6]
    assert result.classes == ["Labrador retriever", "tiger cat"]
    single = ImageReading(
        inception, result.image, "mixed4d", ["Labrador retriever", "tiger cat"]
    ).analyze(6, ["Labrador retriever", "tiger cat"])
    np.testing.assert_allclose(result.attributions, single.attributions, rtol=1e-4)
    acts = inception.activations(result.image, "mixed4a")
    np.testing.assert_allclose(demo[0].acts["mixed4a"], acts, rtol=1e-4, atol=1e-4)


def test_flows_of_every_method_are_kept(tmp_path):
    model = FakeModel()
    result = neuron_groups.neuron_groups(
        IMAGE, ["conv", "conv2"], [3, 4], ["dog"], model=model, icons=False
    )
    pair = ("conv", "conv2")
    assert set(result.flow_tables) == {"integrated", "linear", "ablation"}
    assert result.flows is result.flow_tables["integrated"]
    # The fake's scores are linear in conv: integrated flows equal the linear ones.
    np.testing.assert_allclose(
        result.flow_tables["integrated"][pair], result.flow_tables["linear"][pair], rtol=1e-4
    )
    assert result.flow_rest[pair].shape == (4,)
    assert all(g.stability is not None for g in result.groups.values())
    path = result.save(tmp_path / "flows.npz")
    with np.load(path) as saved:
        for key in (
            "flow_conv_conv2",
            "flow_linear_conv_conv2",
            "flow_integrated_conv_conv2",
            "flow_ablation_conv_conv2",
        ):
            assert saved[key].shape == (3, 4)
    again = load(path)
    for method, flows in result.flow_tables.items():
        np.testing.assert_array_equal(again.flow_tables[method][pair], flows[pair])
    assert again.use("linear").flows[pair] is again.flow_tables["linear"][pair]
