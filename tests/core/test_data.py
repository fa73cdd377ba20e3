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


@pytest.fixture
def local_upstream(monkeypatch, shared_over_http):
    """The pinned upstream, stood in for by ../shared served on localhost."""
    monkeypatch.setattr(data, "upstream_url", lambda relpath: f"{shared_over_http}/{relpath}")
    monkeypatch.delenv("NEURON_GROUPS_DATA")
    return shared_over_http


def test_download_verifies_and_caches(local_upstream, monkeypatch, tmp_path, shared):
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path))
    relpaths = ["images/dog_cat.png", "models/bvlc_googlenet/weights/conv1/7x7_s2_bias.bin"]
    paths = data.data_paths(relpaths, "test files")
    assert paths == [tmp_path / r for r in relpaths]
    for relpath, path in zip(relpaths, paths, strict=True):
        assert path.read_bytes() == (shared / relpath).read_bytes()
    # A cached file that no longer matches its hash is downloaded again, never used.
    paths[0].write_bytes(b"tampered")
    assert data.data_path(relpaths[0]).read_bytes() == (shared / relpaths[0]).read_bytes()


def test_download_of_wrong_bytes_is_refused(local_upstream, monkeypatch, tmp_path):
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path))
    # Serve flowers.png where dog_cat.png is expected: the hash check must refuse it.
    monkeypatch.setattr(
        data, "upstream_url", lambda relpath: f"{local_upstream}/images/flowers.png"
    )
    with pytest.raises(DataError, match=r"images/dog_cat\.png"):
        data.data_path("images/dog_cat.png")
    assert not (tmp_path / "images" / "dog_cat.png").exists()


def test_all_weights_download_with_one_progress_bar(local_upstream, monkeypatch, tmp_path, capsys):
    import logging

    import pooch

    from neuron_groups.backends.inceptionv1 import load_weights

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    pooch.get_logger().addHandler(handler)
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path))
    try:
        weights = load_weights()
    finally:
        pooch.get_logger().removeHandler(handler)
    assert len(weights) == 58 and weights["inception_4d/3x3"][0].shape == (288, 3, 3, 144)
    assert len(list((tmp_path / "models").rglob("*.bin"))) == 116
    err = capsys.readouterr().err
    assert "Downloading InceptionV1 weights" in err and "116/116" in err
    assert not [r for r in records if "Downloading file" in r.getMessage()]  # no line per file


def test_offline_error_says_the_whole_layout_once(monkeypatch, tmp_path):
    # Nothing local, nothing cached, no network: the first error already names the layout
    # (weights, labels and images), not only the next missing file.
    monkeypatch.setenv("NEURON_GROUPS_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "upstream_url", lambda relpath: "http://127.0.0.1:9/" + relpath)
    with pytest.raises(DataError) as info:
        data.data_path("images/dog_cat.png")
    message = str(info.value)
    for part in ("models/bvlc_googlenet/weights/", "synset_words.txt", "images/", "README"):
        assert part in message
    assert f"{len(data.registry())} of the package's {len(data.registry())} data files" in message


def test_failed_download_leaves_no_empty_folders_and_no_pooch_lines(monkeypatch, tmp_path, capsys):
    import logging

    import pooch

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    pooch.get_logger().addHandler(handler)
    monkeypatch.delenv("NEURON_GROUPS_DATA")
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "upstream_url", lambda relpath: "http://127.0.0.1:9/" + relpath)
    try:
        with pytest.raises(DataError):
            data.data_path("models/bvlc_googlenet/weights/conv1/7x7_s2_bias.bin")
    finally:
        pooch.get_logger().removeHandler(handler)
    assert not (tmp_path / "cache").exists()
    assert not records and "Downloading" not in capsys.readouterr().err
