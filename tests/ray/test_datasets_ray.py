"""The Ray engine of fit_groups: the same groups as the local engine, on a local Ray cluster.

The module starts its own cluster (2 CPUs, no dashboard, a 300 MB object store) once and
shuts it down at the end. The main check reads 25 files with the real InceptionV1 at
mixed4d: the 10 example images, 14 crops / flips / scales of them, and one broken file
among them.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from neuron_groups.data import data_path, example_names
from neuron_groups.datasets import DatasetError, SharedGroups, fit_groups, ray_engine
from neuron_groups.errors import Cancelled, ModelError
from neuron_groups.images import load_image
from tests.fakes import FakeModel

ray = pytest.importorskip("ray")

VARIANTS = 14
"""Crops, flips and scales of the example images, beside the 10 examples themselves."""


@pytest.fixture(scope="module")
def cluster():
    # The workers cannot import the test modules: their models travel by value.
    for module in (sys.modules[__name__], sys.modules[FakeModel.__module__]):
        ray.cloudpickle.register_pickle_by_value(module)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=300 * 2**20,
        log_to_driver=False,
    )
    yield
    ray.shutdown()
    for module in (sys.modules[__name__], sys.modules[FakeModel.__module__]):
        ray.cloudpickle.unregister_pickle_by_value(module)


def save_png(image: np.ndarray, path: Path) -> None:
    PIL.Image.fromarray(np.asarray(image * 255 + 0.5, np.uint8)).save(path)


def variant(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random crop (60-100% of a side), maybe flipped, scaled by 0.5-1.5."""
    side = int(image.shape[0] * rng.uniform(0.6, 1.0))
    top, left = rng.integers(0, image.shape[0] - side + 1, size=2)
    crop = image[top : top + side, left : left + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    size = max(32, int(side * rng.uniform(0.5, 1.5)))
    pil = PIL.Image.fromarray(np.asarray(crop * 255 + 0.5, np.uint8))
    return np.asarray(pil.resize((size, size), PIL.Image.Resampling.BILINEAR), np.float32) / 255


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    """The examples, VARIANTS variants of them, and a broken file sorted among them."""
    folder = tmp_path_factory.mktemp("images")
    bases = [load_image(data_path(f"images/{name}.png")) for name in example_names()]
    rng = np.random.default_rng(0)
    for i, base in enumerate(bases):
        save_png(base, folder / f"{i:03d}.png")
    for i in range(VARIANTS):
        save_png(variant(bases[i % len(bases)], rng), folder / f"{len(bases) + i:03d}.png")
    (folder / "015_broken.png").write_bytes(b"\x89PNG not really")
    return folder


def assert_same_groups(local: SharedGroups, remote: SharedGroups) -> None:
    """Equal up to float32 rounding (measured: identical).

    Both engines run the same batches in the same order through the same code; the one
    place they may differ is the model's forward pass in another process, where TensorFlow
    may split a kernel's sums over another number of threads (float32 rounding, about 1e-7
    relative, grown by the NMF's few iterations a batch). 1e-4 relative allows that and
    still fails for any change of batch, order or image.
    """
    scale = np.abs(local.channel).max()
    np.testing.assert_allclose(remote.channel, local.channel, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(remote.usage, local.usage, rtol=1e-4, atol=1e-6)
    assert remote.n_images == local.n_images
    assert remote.skipped == local.skipped
    assert remote.shape == local.shape
    for mine, theirs in zip(remote.top_regions, local.top_regions, strict=True):
        assert [(r.image, r.image_index, r.y, r.x) for r in mine] == [
            (r.image, r.image_index, r.y, r.x) for r in theirs
        ]
        np.testing.assert_allclose([r.value for r in mine], [r.value for r in theirs], rtol=1e-4)


@pytest.mark.slow
def test_the_ray_engine_gives_the_local_groups_with_inceptionv1(cluster, image_folder):
    options = {"layer": "mixed4d", "n_groups": 6, "batch_size": 8, "progress": False}
    local = fit_groups(str(image_folder), **options)
    remote = fit_groups(str(image_folder), engine="ray", **options)
    assert local.n_images == 10 + VARIANTS
    assert [Path(name).name for name, _ in remote.skipped] == ["015_broken.png"]
    assert remote.skipped[0][1]  # the reason
    assert_same_groups(local, remote)
    assert remote.stats.max_rows == 8 * 14 * 14  # one batch of mixed4d rows at a time


# -- a fast model for stop and resume ------------------------------------------------------------


class LoggingFake(FakeModel):
    """FakeModel that pickles, and appends a line to ``log`` per read and per unpickling.

    Each Ray worker gets its own copy, so the log file is how the test counts across them.
    """

    def __init__(self, log: Path):
        super().__init__()
        self.log = log

    def __getstate__(self):
        return {key: value for key, value in vars(self).items() if key != "started"}

    def __setstate__(self, state):
        vars(self).update(state, started=threading.Event())
        self._write("load")

    def read(self, *args, **kwargs):
        self._write("read")
        return super().read(*args, **kwargs)

    def _write(self, word: str) -> None:
        with open(self.log, "a") as f:
            f.write(word + "\n")

    def count(self, word: str) -> int:
        return self.log.read_text().split().count(word) if self.log.exists() else 0


def random_images(n: int) -> list[np.ndarray]:
    """n (64, 64, 3) images of varied contrast."""
    rng = np.random.default_rng(0)
    return [
        (rng.random((64, 64, 3)) ** (1 + 3 * rng.random())).astype(np.float32) for _ in range(n)
    ]


def fit_fake(images, model, **options) -> SharedGroups:
    options = {"batch_size": 8, "progress": False, **options}
    return fit_groups(images, "conv", 4, model=model, **options)


@pytest.mark.slow
def test_a_ray_fit_stopped_with_bad_items_resumes_to_the_local_result(cluster, tmp_path, capsys):
    images = random_images(60)
    for bad in (5, 13, 41):  # 2 channels: unreadable, skipped and named before and after
        images[bad] = np.zeros((5, 5, 2))
    whole = fit_fake(images, FakeModel())
    checkpoint = tmp_path / "fit.npz"
    asked = iter(range(100))
    with pytest.raises(Cancelled, match="resume from"):
        fit_fake(
            images,
            LoggingFake(tmp_path / "first.log"),
            engine="ray",
            checkpoint=checkpoint,
            should_stop=lambda: next(asked) == 2,  # after 3 batches
        )
    assert checkpoint.exists()
    capsys.readouterr()
    model = LoggingFake(tmp_path / "second.log")
    resumed = fit_fake(images, model, engine="ray", checkpoint=checkpoint, progress=True)
    # 3 batches of 8 readable images and the 2 bad ones among them were done before.
    assert model.count("read") == 60 - (3 * 8 + 2) - 1
    assert model.count("load") == 2  # one model per worker: a fixed pool of 2 (2 CPUs)
    np.testing.assert_array_equal(resumed.channel, whole.channel)
    np.testing.assert_array_equal(resumed.usage, whole.usage)
    assert resumed.skipped == whole.skipped and resumed.top_regions == whole.top_regions
    assert [name for name, _ in resumed.skipped] == ["<item 5>", "<item 13>", "<item 41>"]
    err = capsys.readouterr().err  # the progress bar: images done, images/s, skipped files
    assert "60/60" in err and "image/s" in err and "skipped=3" in err
    assert "Skipped 3 unreadable files: <item 5>, <item 13>, <item 41>" in err


# -- faults: a worker killed, the reducer killed ------------------------------------------------


class KillingFake(LoggingFake):
    """LoggingFake whose worker process kills itself (SIGKILL) at the fit's ``at``-th read, once.

    The log counts the reads of every worker; an exclusively created marker file makes the
    kill happen once, in whichever worker reaches that read.
    """

    def __init__(self, log: Path, at: int):
        super().__init__(log)
        self.at = at

    def read(self, *args, **kwargs):
        if self.count("read") + 1 >= self.at:
            try:
                os.close(os.open(self.log.with_suffix(".killed"), os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass  # killed once already
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().read(*args, **kwargs)


@pytest.mark.slow
def test_a_worker_killed_mid_fit_is_replaced_and_the_groups_are_the_same(cluster, tmp_path):
    images = random_images(60)
    whole = fit_fake(images, FakeModel())
    model = KillingFake(tmp_path / "worker.log", at=27)  # in the 4th batch of 8
    remote = fit_fake(images, model, engine="ray")
    assert (tmp_path / "worker.killed").exists()
    assert model.count("load") == 3  # 2 workers, and the one Ray Data started in its place
    np.testing.assert_array_equal(remote.channel, whole.channel)
    np.testing.assert_array_equal(remote.usage, whole.usage)
    assert remote.top_regions == whole.top_regions and remote.n_images == 60


DIES_AT_BATCH = 5
"""The reducer's process is killed as it starts its 5th batch (4 finished)."""


class DyingReducer(ray_engine._Reducer):
    def next_batch(self):
        self.batches = getattr(self, "batches", 0) + 1
        if self.batches == DIES_AT_BATCH:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().next_batch()


@pytest.mark.slow
def test_a_killed_reducer_names_the_checkpoint_which_resumes_to_the_same_groups(
    cluster, tmp_path, monkeypatch
):
    images = random_images(60)
    images[13] = np.zeros((5, 5, 2))  # unreadable: skipped before and after the resume
    whole = fit_fake(images, FakeModel())
    checkpoint = tmp_path / "fit.npz"
    with monkeypatch.context() as patch:
        patch.setattr(ray_engine, "_Reducer", DyingReducer)
        with pytest.raises(DatasetError) as raised:
            fit_fake(
                images,
                LoggingFake(tmp_path / "first.log"),
                engine="ray",
                checkpoint=checkpoint,
                checkpoint_every=2,
            )
    # Checkpoints after batches 1 and 3 (the first, then every 2); batch 4 was fitted too.
    message = str(raised.value)
    assert "The Ray actor that fits the groups (the reducer) died after 33 images" in message
    assert "ActorDiedError" in message
    assert f"The checkpoint {checkpoint} holds the fit of the first 25 images" in message
    assert "run the same fit_groups call again to resume" in message
    model = LoggingFake(tmp_path / "second.log")
    resumed = fit_fake(images, model, engine="ray", checkpoint=checkpoint, checkpoint_every=2)
    assert model.count("read") == 60 - 25
    np.testing.assert_array_equal(resumed.channel, whole.channel)
    np.testing.assert_array_equal(resumed.usage, whole.usage)
    assert resumed.skipped == whole.skipped and resumed.top_regions == whole.top_regions


@pytest.mark.parametrize(
    ("inside", "saved", "path", "message"),
    [
        (False, 16, "fit.npz", r"\(the reducer\) died after 0 images.*ActorDiedError: The actor"),
        (True, 16, "fit.npz", r"Reading the images on the Ray workers failed after 0 images"),
        (False, 16, "fit.npz", r"The checkpoint .*fit.npz holds the fit of the first 16 images"),
        (False, None, "fit.npz", r"No batch had finished, so there is no checkpoint"),
        (False, None, None, r"Nothing was saved \(checkpoint=None\)"),
    ],
)
def test_a_lost_reducer_or_extraction_says_which_and_what_to_resume_from(
    tmp_path, inside, saved, path, message
):
    from types import SimpleNamespace

    from neuron_groups.datasets.batches import FitState
    from neuron_groups.datasets.fit import FitSettings, _Saving
    from neuron_groups.datasets.shared import FitStats

    error = ray.exceptions.ActorDiedError()
    if inside:  # raised in the live reducer by the rows it reads: Ray Data lost a worker
        error = ray.exceptions.RayTaskError("next_batch", "", error).as_instanceof_cause()

    def get(reference):
        raise error

    cluster = SimpleNamespace(get=get, exceptions=ray.exceptions)
    reducer = SimpleNamespace(next_batch=SimpleNamespace(remote=lambda: None))
    where = None if path is None else tmp_path / path
    saving = _Saving(where, FitSettings(*SETTINGS), 3, None, [], saved_images=saved)
    with pytest.raises(DatasetError, match=message):
        ray_engine._drive(cluster, reducer, FitState(), FitStats(), None, saving)


# -- what travels to the driver, without a cluster -----------------------------------------------


SETTINGS = ("conv", 4, 8, 0, "fake", 3, 0.7)
"""A FitSettings for LoggingFake: layer, groups, batch size, seed, model, top k, forget factor."""


def reduce_here(images: list[np.ndarray], log: Path):
    """The Ray actors' code run in this process: (the reducer's replies, the reducer)."""
    import pickle

    from ray import cloudpickle

    from neuron_groups.datasets.batches import FitState
    from neuron_groups.datasets.fit import CANDIDATES, FitSettings
    from neuron_groups.datasets.ray_engine import _Extractor, _Reducer
    from neuron_groups.datasets.regions import TopRegions
    from neuron_groups.datasets.shared import FitStats

    extractor = _Extractor(("pickle", cloudpickle.dumps(LoggingFake(log))), "conv")
    columns = extractor(
        {
            "name": np.array([f"<item {i}>" for i in range(len(images))], dtype=object),
            "source": np.array([pickle.dumps(image) for image in images], dtype=object),
        }
    )
    rows = [{key: column[i] for key, column in columns.items()} for i in range(len(images))]

    class Rows:  # the one method of Ray Data's split the reducer uses
        def iter_rows(self):
            return iter(rows)

    settings = FitSettings(*SETTINGS)
    state = FitState(top=TopRegions(settings.n_groups, settings.top_k * CANDIDATES))
    reducer = _Reducer(settings, state, FitStats(), Rows())
    replies = []
    while (reply := reducer.next_batch())[0]:
        replies.append(reply)
    return replies, reducer


def test_the_reducer_sends_counts_per_batch_and_its_state_only_when_asked(tmp_path):
    import pickle

    images = random_images(20)
    images[3] = np.zeros((5, 5, 2))  # unreadable: counted as consumed, not as an image
    replies, reducer = reduce_here(images, tmp_path / "log")
    assert [(consumed, skipped) for consumed, skipped, _ in replies] == [(9, 1), (8, 1), (3, 1)]
    largest_reply = max(len(pickle.dumps(reply)) for reply in replies)
    state = reducer.snapshot()
    assert state.sources_done == 20 and state.n_images == 19 and state.components.shape == (4, 8)
    assert largest_reply < 1000 < len(pickle.dumps(state))


def test_a_state_kept_remotely_is_fetched_only_for_checkpoints_and_the_stop(tmp_path):
    from neuron_groups.datasets.fit import FitSettings, _Saving

    state = reduce_here(random_images(8), tmp_path / "log")[1].snapshot()
    fetched = []

    def current():
        fetched.append(len(fetched))
        return state

    settings = FitSettings(*SETTINGS)
    stops = iter([False] * 6 + [True])
    saving = _Saving(tmp_path / "fit.npz", settings, 3, lambda: next(stops), [])
    for _ in range(6):
        saving.batch_done(current, keep_each=False)
    # After batches 1 and 4: the first batch, then every 3.
    assert len(fetched) == 2 and (tmp_path / "fit.npz").exists()
    with pytest.raises(Cancelled, match="stopped after 8 images"):
        saving.batch_done(current, keep_each=False)
    assert len(fetched) == 3 and saving.last_good[0].sources_done == 8
    local = _Saving(None, settings, 3, None, [])
    local.batch_done(current)
    assert len(fetched) == 4  # the local engine keeps every batch's state


# -- errors before any cluster work -------------------------------------------------------------


def test_an_unknown_engine_names_the_nearest():
    with pytest.raises(DatasetError, match=r"Unknown engine 'rey'. Did you mean 'ray'.*local, ray"):
        fit_fake(random_images(2), FakeModel(), engine="rey")


def test_a_model_that_does_not_pickle_says_what_to_pass():
    # FakeModel holds a threading.Event, which does not pickle.
    with pytest.raises(ModelError, match=r'does not pickle.*model="inceptionv1"'):
        fit_fake(random_images(2), FakeModel(), engine="ray")


def test_a_one_pass_iterable_asks_for_a_list():
    with pytest.raises(DatasetError, match=r"glob pattern, a folder or a list.*generator"):
        fit_fake((image for image in random_images(2)), FakeModel(), engine="ray")


def test_an_empty_set_is_the_local_error(tmp_path):
    with pytest.raises(DatasetError, match=r"No images to fit"):
        fit_fake([], LoggingFake(tmp_path / "log"), engine="ray")


def test_a_finished_checkpoint_returns_its_groups_without_a_cluster(tmp_path):
    checkpoint = tmp_path / "fit.npz"
    first = fit_fake(random_images(20), FakeModel(), checkpoint=checkpoint)
    model = LoggingFake(tmp_path / "log")
    again = fit_fake(random_images(20), model, checkpoint=checkpoint, engine="ray")
    assert model.count("read") == 0
    np.testing.assert_array_equal(again.channel, first.channel)
    assert again.top_regions == first.top_regions


def test_without_ray_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(DatasetError, match=r'pip install "neuron-groups\[ray\]"'):
        fit_fake(random_images(2), FakeModel(), engine="ray")
