import numpy as np
import pytest

from neuron_groups.errors import NeuronGroupsError
from neuron_groups.result import LayerGroups, NeuronGroupsResult, load


def make_result(icons=True):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=1000).astype(np.float32)
    groups = LayerGroups(
        layer="mixed4d",
        spatial=rng.random((6, 14, 14)).astype(np.float32),
        channel=rng.random((6, 528)).astype(np.float32),
        icons=rng.random((6, 80, 80, 3)).astype(np.float32) if icons else None,
        reconstruction_error=0.5,
    )
    return NeuronGroupsResult(
        image=rng.random((224, 224, 3)).astype(np.float32),
        groups=[groups],
        attributions=rng.normal(size=(2, 6)).astype(np.float32),
        classes=["Labrador retriever", "tiger cat"],
        class_indices=np.array([208, 282]),
        logits=logits,
        top5=[f"class {i}" for i in np.argsort(-logits)[:5]],
    )


@pytest.mark.parametrize("icons", [True, False])
def test_save_and_load_round_trip(tmp_path, icons):
    result = make_result(icons)
    path = result.save(tmp_path / "out.npz")
    with np.load(path, allow_pickle=False) as raw:
        assert raw["image"].shape == (224, 224, 3)
        assert raw["spatial"].shape == (6, 14, 14) and raw["channel"].shape == (6, 528)
        assert raw["attributions"].shape == (2, 6)
        assert list(raw["classes"]) == ["Labrador retriever", "tiger cat"]
        assert raw["logits"].shape == (1000,)
        assert ("icons" in raw.files) == icons
    back = load(path)
    for name in ("image", "spatial", "channel", "attributions", "logits", "class_indices"):
        np.testing.assert_array_equal(getattr(back, name), getattr(result, name))
    assert back.classes == result.classes and back.top5 == result.top5
    assert back.layer == "mixed4d" and back.reconstruction_error == 0.5
    if icons:
        np.testing.assert_array_equal(back.icons, result.icons)
    else:
        assert back.icons is None


def test_tables_name_every_row():
    result = make_result()
    table = result.attribution_table()
    assert table.splitlines()[1].startswith("Labrador retriever")
    assert f"{result.attributions[1, 5]:.3f}" in table.splitlines()[2]
    assert result.top5_table().count("\n") == 4
    assert result.probabilities.sum() == pytest.approx(1.0)


def test_loading_something_else_fails_clearly(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(NeuronGroupsError, match="not a neuron-groups result"):
        load(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(NeuronGroupsError, match="Cannot read"):
        load(tmp_path / "junk.npz")


def test_repr_says_what_the_result_is():
    text = repr(make_result())
    assert text.startswith("NeuronGroupsResult(")
    for part in ("mixed4d (6 groups on 14x14)", "'Labrador retriever'", "6 of 80x80"):
        assert part in text
    assert "array(" not in text and len(text) < 300
    assert "icons: none" in repr(make_result(icons=False))


def test_a_truncated_or_flipped_result_file_names_the_file_and_the_fix(tmp_path):
    from tests.core.damage import assert_every_damage_is_refused

    result = make_result()
    path = result.save(tmp_path / "out.npz")

    def same(back):
        return all(
            np.array_equal(getattr(back, name), getattr(result, name))
            for name in ("image", "spatial", "channel", "attributions", "logits", "icons")
        )

    refused = assert_every_damage_is_refused(path, load, same)
    assert refused >= 50  # of 55: a flip may land on a timestamp, which nothing reads
    assert same(load(path))


def test_a_missing_result_file_says_so(tmp_path):
    with pytest.raises(NeuronGroupsError, match=r"Cannot read .* from .*absent.npz: No such file"):
        load(tmp_path / "absent.npz")


def test_a_truncated_multi_layer_result_names_the_file(tmp_path):
    from neuron_groups.reading import ImageReading
    from tests.core.damage import assert_every_damage_is_refused
    from tests.fakes import FakeModel

    image = np.random.default_rng(0).random((28, 28, 3)).astype(np.float32)
    result = ImageReading(FakeModel(), image, ["conv", "conv2"]).analyze([3, 4])
    path = result.save(tmp_path / "flows.npz")

    def same(back):
        return np.array_equal(back.flows[("conv", "conv2")], result.flows[("conv", "conv2")])

    assert assert_every_damage_is_refused(path, load, same) >= 40  # of 55


def test_damage_that_numpy_alone_would_read_past_is_refused(tmp_path):
    """Two single-byte changes after which np.load returns wrong arrays without an error."""
    from neuron_groups.files import read_npz

    arrays = {"a": np.arange(6 * 528, dtype=np.float32).reshape(6, 528), "b": np.ones(3)}
    path = tmp_path / "stored.npz"
    np.savez(path, **arrays)  # uncompressed, as fit checkpoints are
    raw = path.read_bytes()
    shape = raw.index(b"(6, 528)") + len("(6, 52")
    comment_length = raw.index(b"PK\x01\x02") + 32  # the first entry of the zip directory
    for offset, value in [(shape, ord("7")), (comment_length, 0xFF)]:
        damaged = bytearray(raw)
        damaged[offset] = value
        path.write_bytes(bytes(damaged))
        with np.load(path) as fooled:  # numpy reads a (6, 527) array, or only one member
            wrong = fooled["a"].shape == (6, 527) if offset == shape else fooled.files == ["a"]
        assert wrong
        with pytest.raises(NeuronGroupsError, match="truncated or corrupt: BadZipFile"):
            read_npz(path, "a test archive")
