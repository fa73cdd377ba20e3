import hashlib
import shutil

import pytest

from neuron_groups import data
from neuron_groups.errors import DataError


def test_registry_covers_weights_labels_and_images(shared):
    registry = data.registry()
    weights = [p for p in registry if p.startswith("models/bvlc_googlenet/weights/")]
    assert len(weights) == 116
    assert "models/bvlc_googlenet/synset_words.txt" in registry
    assert len(data.example_names()) == 10 and "dog_cat" in data.example_names()


def test_registry_hashes_match_the_local_copy(shared):
    items = list(data.registry().items())
    for relpath, expected in [
        *items[:5],
        ("images/dog_cat.png", data.registry()["images/dog_cat.png"]),
    ]:
        digest = hashlib.sha256((shared / relpath).read_bytes()).hexdigest()
        assert expected == f"sha256:{digest}"


def test_upstream_addresses_are_pinned():
    url = data.upstream_url("models/bvlc_googlenet/weights/conv1/7x7_s2_bias.bin")
    assert url.endswith(
        "chaosmail/caffejs/dedfd566d0268352c3becdc808ea3d24908a7a0c/examples/models/"
        "bvlc_googlenet/weights/conv1/7x7_s2_bias.bin"
    )
    assert data.upstream_url("models/bvlc_googlenet/synset_words.txt").endswith(
        "/examples/data/ilsvrc12/synset_words.txt"
    )


def test_local_copy_is_used_first(shared):
    assert data.data_path("images/dog_cat.png") == shared / "images" / "dog_cat.png"


def test_corrupt_local_file_is_refused(monkeypatch, tmp_path, shared):
    relpath = "models/bvlc_googlenet/weights/conv1/7x7_s2_bias.bin"
    target = tmp_path / relpath
    target.parent.mkdir(parents=True)
    shutil.copy(shared / relpath, target)
    target.write_bytes(target.read_bytes()[:-4] + b"\0\0\0\0")
    monkeypatch.setenv("NEURON_GROUPS_DATA", str(tmp_path))
    with pytest.raises(DataError, match="corrupt") as info:
        data.data_path(relpath)
    assert "NEURON_GROUPS_DATA" in str(info.value) and "caffejs" in str(info.value)


def test_corrupt_cached_file_is_never_used(monkeypatch, tmp_path, shared):
    relpath = "images/flowers.png"
    monkeypatch.delenv("NEURON_GROUPS_DATA")
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path))
    cached = tmp_path / relpath
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"corrupt")
    # The cached copy fails its hash, so pooch tries to download again (and cannot here).
    with pytest.raises(DataError, match="downloading"):
        data.data_path(relpath)
    shutil.copy(shared / relpath, cached)
    assert data.data_path(relpath) == cached


def test_unknown_file():
    with pytest.raises(DataError, match="not one of"):
        data.data_path("models/unknown.bin")
