"""Shared groups over many images (datasets.py): the streamed fit, resume, apply, save/load."""

from __future__ import annotations

import tracemalloc

import numpy as np
import PIL.Image
import pytest
from scipy.optimize import nnls
from sklearn.decomposition import NMF

from neuron_groups.attribution import group_attributions
from neuron_groups.datasets import (
    DatasetError,
    SharedGroups,
    fit_groups,
    image_sources,
    load_groups,
    nnls_codes,
    reconstruction_error,
    square_image,
)
from neuron_groups.errors import Cancelled, LayerError, ModelError
from tests.fakes import FakeModel

CELLS = 7 * 7  # FakeModel's "conv" is (7, 7, 8)


def random_images(n: int, seed: int = 0, size: int = 224):
    """A generator of n images with varied contrast (not held in a list)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield (rng.random((size, size, 3)) ** (1 + 3 * rng.random())).astype(np.float32)


def fake_rows(model: FakeModel, images) -> np.ndarray:
    """All (positions, C) rows of the images at "conv", as the fit sees them."""
    return np.concatenate([model.activations(i, "conv").reshape(CELLS, 8) for i in images])


def fit(images, **options) -> SharedGroups:
    options = {"model": FakeModel(), "batch_size": 8, "progress": False, **options}
    return fit_groups(images, "conv", 4, **options)


# -- the fit -----------------------------------------------------------------------------------


def test_streamed_fit_reconstructs_nearly_as_well_as_batch_nmf():
    images = list(random_images(120))
    groups = fit(images)
    rows = fake_rows(FakeModel(), images)  # (120 * 49, 8)
    batch = NMF(4, init="nndsvd", max_iter=1000, random_state=0).fit(rows)
    streamed, full = (
        reconstruction_error(rows, groups.channel),
        reconstruction_error(rows, batch.components_),
    )
    # Measured: 0.310 streamed vs 0.281 batch (one pass, 15 batches of 8 images).
    assert streamed <= 1.15 * full
    assert groups.n_images == 120 and groups.channel.shape == (4, 8)
    assert np.all(groups.channel >= 0)


def test_the_fit_holds_one_batch_of_activations_whatever_the_number_of_images():
    peaks = {}
    for n in (40, 200):
        model = FakeModel()
        tracemalloc.start()
        groups = fit(random_images(n), model=model)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert groups.stats.max_rows == 8 * CELLS  # one batch of rows at a time
        assert model.reads == n  # one forward pass per image
    # Five times the images, about the same peak (the images come from a generator).
    assert peaks[200] < 1.2 * peaks[40], peaks


def test_bad_files_are_skipped_counted_and_named(tmp_path):
    for i, image in enumerate(random_images(3)):
        PIL.Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / f"good{i}.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "empty.jpg").write_bytes(b"")
    groups = fit(str(tmp_path), batch_size=2)
    assert groups.n_images == 3
    assert sorted(name.rsplit("/", 1)[-1] for name, _ in groups.skipped) == [
        "broken.png",
        "empty.jpg",
    ]
    assert all(reason for _, reason in groups.skipped)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            "{tmp}/photos",
            r"'.*/photos' does not exist: no such folder or file. Did you mean 'photo'",
        ),
        ("{tmp}/nowhere/a.jpg", r"does not exist: .*Its folder '.*/nowhere' does not exist either"),
        ("{tmp}/empty", r"The folder '.*/empty' is empty: no image files \(.png, .jpg"),
        ("{tmp}/photo", r"The folder '.*/photo' holds 1 entry but no image files.*'folder/\*\*/"),
        ("{tmp}/photo/*.jpg", r"The pattern '.*/photo/\*.jpg' matched no files"),
        ([], r"No images to fit: the list is empty"),
        (["{tmp}/a.png"], r"The listed file '.*/a.png' does not exist"),
        (["{tmp}/a.png", "{tmp}/b.png"], r"None of the 2 listed files exists: '.*/a.png', '.*/b"),
    ],
)
def test_a_missing_or_empty_input_is_refused_before_any_model_loads(
    tmp_path, monkeypatch, images, message
):
    (tmp_path / "empty").mkdir()
    (tmp_path / "photo").mkdir()
    (tmp_path / "photo" / "notes.txt").write_text("not an image")
    images = (
        [i.format(tmp=tmp_path) for i in images]
        if isinstance(images, list)
        else images.format(tmp=tmp_path)
    )
    built = []
    monkeypatch.setattr("neuron_groups.models.load_model", lambda *a, **k: built.append(a))
    with pytest.raises(DatasetError, match=message):
        fit_groups(images, progress=False)  # model=None: the default InceptionV1
    assert built == []


def test_an_iterable_that_gives_nothing_is_an_error_naming_the_fix():
    with pytest.raises(DatasetError, match=r"No images to fit: the iterable gave none.*glob"):
        fit(image for image in [])


def test_a_set_of_only_bad_files_names_them(tmp_path):
    (tmp_path / "a.png").write_bytes(b"nope")
    with pytest.raises(DatasetError, match=r"The one image could not be read .*a.png"):
        fit(str(tmp_path))
    (tmp_path / "b.png").write_bytes(b"nope")
    with pytest.raises(DatasetError, match=r"None of the 2 images could be read .*a.png.*b.png"):
        fit(str(tmp_path))


def test_mixed_sizes_are_resized_to_the_models_input_size():
    rng = np.random.default_rng(3)
    images = [rng.random(shape).astype(np.float32) for shape in [(100, 150, 3), (300, 224, 3)]]
    assert square_image(images[0], 224).shape == (224, 224, 3)
    assert square_image(images[1], 224).shape == (224, 224, 3)
    same = images[0][:64, :64]
    assert square_image(same, 64) is same
    groups = fit(images, batch_size=2)
    assert groups.n_images == 2 and groups.shape == (7, 7)


def test_sources_from_a_glob_a_folder_and_an_iterable(tmp_path):
    for name in ("b.png", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    folder = [name for name, _ in image_sources(tmp_path)]
    assert [p.rsplit("/", 1)[-1] for p in folder] == ["a.png", "b.png"]
    assert [name for name, _ in image_sources(str(tmp_path / "*.png"))] == folder
    arrays = [name for name, _ in image_sources(x for x in np.zeros((2, 4, 4, 3)))]
    assert arrays == ["<item 0>", "<item 1>"]


# -- stop and resume -----------------------------------------------------------------------------


def assert_same_groups(a: SharedGroups, b: SharedGroups) -> None:
    np.testing.assert_array_equal(a.channel, b.channel)
    np.testing.assert_array_equal(a.usage, b.usage)
    assert a.n_images == b.n_images and a.skipped == b.skipped
    assert a.top_regions == b.top_regions


def test_a_stopped_fit_resumes_to_the_uninterrupted_result(tmp_path):
    images = list(random_images(60))
    images[13] = np.zeros((5, 5, 2))  # one bad item (2 channels): skipped before and after the stop
    whole = fit(images)
    checkpoint = tmp_path / "fit.npz"
    asked = iter(range(100))
    with pytest.raises(Cancelled, match="resume from"):
        fit(images, checkpoint=checkpoint, should_stop=lambda: next(asked) == 3)
    assert checkpoint.exists()
    model = FakeModel()
    resumed = fit(images, checkpoint=checkpoint, model=model)
    assert model.reads == 60 - (4 * 8 + 1)  # the 4 finished batches are not read again
    assert_same_groups(resumed, whole)


class InterruptingModel(FakeModel):
    """Raises KeyboardInterrupt (a user's Ctrl-C) at its ``at``-th read."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def read(self, *args, **kwargs):
        if self.reads + 1 == self.at:
            raise KeyboardInterrupt
        return super().read(*args, **kwargs)


def test_ctrl_c_keeps_the_finished_batches(tmp_path):
    images = list(random_images(40))
    whole = fit(images)
    checkpoint = tmp_path / "fit.npz"
    with pytest.raises(KeyboardInterrupt):  # in the middle of the 3rd batch
        fit(images, checkpoint=checkpoint, model=InterruptingModel(at=20), checkpoint_every=100)
    model = FakeModel()
    resumed = fit(images, checkpoint=checkpoint, model=model)
    assert model.reads == 40 - 16
    assert_same_groups(resumed, whole)


def test_a_finished_fits_checkpoint_returns_its_groups_without_reading(tmp_path):
    checkpoint = tmp_path / "fit.npz"
    first = fit(random_images(20), checkpoint=checkpoint)
    model = FakeModel()
    again = fit(random_images(20), checkpoint=checkpoint, model=model)
    assert model.reads == 0
    assert_same_groups(again, first)


def test_the_progress_bar_counts_images_and_skipped_files(capsys):
    images = [*random_images(5), np.zeros((4, 4, 2))]
    fit(images, batch_size=2, progress=True)
    err = capsys.readouterr().err
    assert "6/6" in err and "image/s" in err and "skipped=1" in err
    assert "Skipped 1 unreadable file: <item 5>." in err
    fit([*images, np.zeros((4, 4, 2))], batch_size=2, progress=True)
    assert "Skipped 2 unreadable files: <item 5>, <item 6>." in capsys.readouterr().err


def test_a_checkpoint_of_another_fit_is_refused(tmp_path):
    checkpoint = tmp_path / "fit.npz"
    with pytest.raises(Cancelled):
        fit(random_images(20), checkpoint=checkpoint, should_stop=lambda: True)
    with pytest.raises(DatasetError, match=r"seed: 0 .checkpoint. vs 1"):
        fit(random_images(20), checkpoint=checkpoint, seed=1)


# -- killed (SIGKILL) at any moment, and damaged checkpoints --------------------------------------

KILLED_FIT = """
import os, signal, sys

import numpy as np

from neuron_groups.datasets import fit_groups
from tests.core.test_datasets import random_images
from tests.fakes import FakeModel

checkpoint, kill_at, moment = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def kill():
    os.kill(os.getpid(), signal.SIGKILL)


class KilledAtARead(FakeModel):
    def read(self, *args, **kwargs):
        if moment == "read" and self.reads + 1 == kill_at:
            kill()
        return super().read(*args, **kwargs)


real_savez, writes = np.savez, []


def savez_killed_halfway(f, **arrays):  # the checkpoint's write: killed in the middle
    writes.append(1)
    if moment == "write" and len(writes) == kill_at:
        import io

        whole = io.BytesIO()
        real_savez(whole, **arrays)
        f.write(whole.getvalue()[: len(whole.getvalue()) // 2])
        f.flush()
        kill()
    real_savez(f, **arrays)


np.savez = savez_killed_halfway
fit_groups(
    list(random_images(60, size=64)), "conv", 4, model=KilledAtARead(), batch_size=8,
    progress=False, checkpoint=checkpoint, checkpoint_every=2,
)
"""

KILL_READS = [int(k) for k in np.random.default_rng(20).choice(np.arange(2, 61), 2, replace=False)]
"""Two reads to be killed at, of 60 in batches of 8 (seeded: 18 and 53, in batches 3 and 7)."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "at"), [("read", KILL_READS[0]), ("read", KILL_READS[1]), ("write", 2)]
)
def test_a_fit_killed_at_any_moment_resumes_to_the_uninterrupted_groups(tmp_path, moment, at):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import neuron_groups

    repo = Path(__file__).resolve().parents[2]
    package_root = Path(neuron_groups.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_root), str(repo)])}
    checkpoint = tmp_path / "fit.npz"
    args = [sys.executable, "-c", KILLED_FIT, str(checkpoint), str(at), moment]
    done = subprocess.run(args, env=env, cwd=repo, capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    images = list(random_images(60, size=64))
    whole = fit(images)
    model = FakeModel()
    resumed = fit(images, checkpoint=checkpoint, checkpoint_every=2, model=model)
    assert_same_groups(resumed, whole)
    # Checkpoints follow batches 1, 3, 5, 7 (the first, then every 2): the resumed fit reads
    # the images after the last one before the kill. (Killed while writing the 2nd, after
    # batch 3, the 1st is whole and the half-written temporary file is left beside it.)
    finished = (at - 1) // 8 if moment == "read" else 3
    saved = max((b for b in range(1, finished + 1) if b % 2 == 1), default=0)
    if moment == "write":
        saved = 1
        assert [p.suffix for p in tmp_path.iterdir()].count(".tmp") == 1
    assert model.reads == 60 - 8 * saved


def test_a_damaged_checkpoint_names_the_file_and_says_to_delete_it(tmp_path):
    from neuron_groups.errors import NeuronGroupsError
    from tests.core.damage import assert_every_damage_is_refused

    images = list(random_images(20, size=64))
    checkpoint = tmp_path / "fit.npz"
    whole = fit(images, checkpoint=checkpoint)

    def resume(path):
        return fit(images, checkpoint=path)

    def same(groups):
        return np.array_equal(groups.channel, whole.channel)

    assert assert_every_damage_is_refused(checkpoint, resume, same) >= 40  # of 55
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(NeuronGroupsError, match=r"delete it, and the fit starts again"):
        resume(checkpoint)


# -- the groups ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def groups() -> SharedGroups:
    return fit(random_images(48), top_k=5)


def test_save_and_load_round_trip(tmp_path, groups):
    path = groups.save(tmp_path / "groups.npz")
    back = load_groups(path)
    np.testing.assert_array_equal(back.channel, groups.channel)
    for name in ("layer", "model_name", "model_identity", "n_images", "skipped", "shape"):
        assert getattr(back, name) == getattr(groups, name)
    assert back.top_regions == groups.top_regions  # values are stored as float64: exact


def test_a_damaged_groups_file_names_the_file(tmp_path, groups):
    from tests.core.damage import assert_every_damage_is_refused

    path = groups.save(tmp_path / "groups.npz")

    def same(back):
        return (
            np.array_equal(back.channel, groups.channel) and back.top_regions == groups.top_regions
        )

    assert assert_every_damage_is_refused(path, load_groups, same) >= 40  # of 55


def test_loading_a_one_image_result_says_what_to_use(tmp_path):
    from tests.fakes import fake_result

    path = fake_result().save(tmp_path / "one.npz")
    with pytest.raises(Exception, match=r"neuron_groups.load"):
        load_groups(path)


def test_top_regions_are_each_groups_strongest_cells(groups):
    images = list(random_images(48))
    model = FakeModel()
    for g, regions in enumerate(groups.top_regions):
        assert len(regions) == 5
        values = [r.value for r in regions]
        assert values == sorted(values, reverse=True)
        for region in regions:  # the value is the NNLS code of that cell on the final factors
            cell = model.activations(images[region.image_index], "conv")[region.y, region.x]
            code = nnls_codes(cell[None], groups.channel)[0, g]
            assert code == pytest.approx(region.value, rel=1e-6, abs=1e-9)
    all_codes = nnls_codes(fake_rows(model, images), groups.channel)  # (48 * 49, 4)
    best = [regions[0].value for regions in groups.top_regions]
    np.testing.assert_allclose(best, all_codes.max(axis=0), rtol=1e-6)  # the true maxima


def test_apply_projects_on_the_fixed_channel_factors(groups):
    model = FakeModel()
    image = next(random_images(1, seed=9))
    result = groups.apply(image, model, classes=["dog", "car"])
    np.testing.assert_array_equal(result.channel, groups.channel)
    acts = model.activations(image, "conv")  # (7, 7, 8)
    # Each position's maps are the NNLS solution on the full (C, n) problem.
    for y, x in [(0, 0), (3, 4), (6, 6)]:
        expected = nnls(groups.channel.T.astype(np.float64), acts[y, x].astype(np.float64))[0]
        np.testing.assert_allclose(result.spatial[:, y, x], expected, rtol=1e-5, atol=1e-6)
    approx = np.einsum("nhw,nc->hwc", result.spatial, groups.channel)
    error = np.linalg.norm(acts - approx) / np.linalg.norm(acts)
    assert result.reconstruction_error == pytest.approx(error, rel=1e-5)
    grads = model.read(image, "conv", model_targets([1, 2])).grads
    np.testing.assert_allclose(
        result.attributions, group_attributions(grads, result.spatial, result.channel), rtol=1e-5
    )
    assert result.classes == ["dog", "car"]


def model_targets(indices):
    from neuron_groups.backends.base import Targets

    return Targets.classes(indices)


def test_a_layer_or_model_mismatch_is_a_specific_error(groups):
    image = next(random_images(1))
    with pytest.raises(LayerError, match="fitted at 'conv', not 'conv2'"):
        groups.apply(image, FakeModel(), layer="conv2")
    other = FakeModel()
    other.head = other.head + 1
    with pytest.raises(ModelError, match="fitted with fake-"):
        groups.apply(image, other)


# -- the real model --------------------------------------------------------------------------------


def variants(shared) -> list[np.ndarray]:
    """The 10 example images, each as is, flipped, a centre crop and a half-size copy: 40."""
    from neuron_groups.images import load_image

    out = []
    for path in sorted((shared / "images").glob("*.png")):
        image = load_image(path)  # (224, 224, 3)
        out += [image, image[:, ::-1], image[40:200, 30:190], image[::2, ::2]]
    return out


def test_inception_streamed_fit_is_close_to_batch_nmf(inception, shared):
    images = variants(shared)
    groups = fit_groups(images, "mixed4d", 6, model=inception, batch_size=8, progress=False)
    rows = np.concatenate(
        [inception.activations(square_image(i, 224), "mixed4d").reshape(-1, 528) for i in images]
    )  # (40 * 196, 528)
    batch = NMF(6, init="nndsvd", max_iter=400, random_state=0).fit(rows)
    streamed = reconstruction_error(rows, groups.channel)
    full = reconstruction_error(rows, batch.components_)
    print(f"mixed4d, 40 images: streamed {streamed:.4f}, batch NMF {full:.4f}")
    assert streamed <= 1.05 * full
    result = groups.apply("dog_cat", inception)
    assert result.spatial.shape == (6, 14, 14)
    np.testing.assert_array_equal(result.channel, groups.channel)
    assert result.top5[0] and result.attributions.shape == (5, 6)


def test_the_fit_measures_explained_variance_and_split_half_stability(tmp_path):
    images = random_images(12, seed=5)
    groups = fit_groups(images, "conv", 3, model=FakeModel(), batch_size=2, progress=False)
    assert 0 < groups.explained_variance < 1
    assert groups.stability.shape == (3,) and np.all(
        (groups.stability >= 0) & (groups.stability <= 1)
    )
    saved = load_groups(groups.save(tmp_path / "g.npz"))
    assert saved.explained_variance == groups.explained_variance
    np.testing.assert_array_equal(saved.stability, groups.stability)


def test_split_half_stability_matches_each_group_to_its_halves():
    from neuron_groups.datasets.batches import EstimatorState, FitState
    from neuron_groups.datasets.fit import split_half_stability

    channel = np.eye(3, 5)
    state = FitState(halves=[EstimatorState(components=channel[[2, 0, 1]]), EstimatorState()])
    assert split_half_stability(channel, state) is None  # one half saw nothing
    state.halves[1].components = np.array([[1.0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0]])
    np.testing.assert_allclose(
        split_half_stability(channel, state), [(1 + 0.7071) / 2, 1, 1], atol=1e-3
    )


def test_explained_variance_over_the_dataset_is_one_minus_the_residual_share():
    from neuron_groups.datasets.batches import FitState
    from neuron_groups.datasets.fit import dataset_explained_variance

    assert dataset_explained_variance(FitState(sum_squares=8.0, residual_squares=2.0)) == 0.75
    assert np.isnan(dataset_explained_variance(FitState()))
