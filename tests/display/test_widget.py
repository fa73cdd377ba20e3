"""The kernel side of GroupWidget, on a numpy fake model (no TensorFlow, no browser)."""

import io
import threading

import numpy as np
import PIL.Image
import pytest
import traitlets

import neuron_groups.display.state as view
import neuron_groups.display.widget as widget_module
from neuron_groups import IconSettings
from neuron_groups.backends.base import IconHooks
from neuron_groups.display.state import even_hues, hue_colors
from neuron_groups.display.widget import GroupWidget
from neuron_groups.errors import LayerError, ModelError
from neuron_groups.reading import ImageReading
from tests.fakes import FakeModel

IMAGE = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)


def make(model=None, steps=0, **kwargs):
    icons = steps > 0
    settings = IconSettings(steps=max(steps, 1), size=8)
    return GroupWidget(
        IMAGE,
        layer="conv",
        n_groups=3,
        model=model or FakeModel(),
        icons=icons,
        icon_settings=settings,
        icon_cache=False,
        **kwargs,
    )


def floats(buffer, shape):
    return np.frombuffer(buffer, dtype="<f4").reshape(shape)


def test_traits_hold_the_result_as_binary_buffers():
    w = make()
    assert w.status == "ready" and w.error == ""
    assert PIL.Image.open(io.BytesIO(w.image)).size == (56, 56)
    maps = floats(w.spatial, w.spatial_shape)
    assert w.spatial_shape == [3, 7, 7] and maps.max() == pytest.approx(1.0, abs=0.01)
    assert maps.min() >= 0.0
    table = floats(w.attributions, (len(w.class_names), 3))
    np.testing.assert_allclose(table, w.result.attributions)
    assert w.class_names == [FakeModel.class_names[i] for i in w.result.top5_indices[:4]]
    assert w.class_options == list(FakeModel.class_names)
    assert (
        w.group_colors == hue_colors(even_hues(3)) == [[230, 26, 26], [26, 230, 26], [62, 62, 234]]
    )
    assert w.icons == [b"", b"", b""]
    assert w.n_groups_options == list(range(1, 9))  # min(16, 7*7 positions, 8 channels)


def test_state_serializes_without_base64():
    w = make()
    state = w.get_state()
    assert isinstance(state["image"], (bytes, memoryview))
    assert isinstance(state["spatial"], (bytes, memoryview))
    assert not any(isinstance(v, str) and v.startswith("data:") for v in state.values())


def test_result_matches_the_engine():
    model = FakeModel()
    w = make(model)
    engine = ImageReading(model, IMAGE, "conv").analyze(3)
    np.testing.assert_allclose(w.result.attributions, engine.attributions)
    np.testing.assert_allclose(w.result.spatial, engine.spatial)


def test_changing_groups_is_cached_and_keeps_colours():
    model = FakeModel()
    w = make(model)
    first = w.result
    colours = dict(zip(map(bytes, first.channel.round(4)), map(tuple, w.group_colors), strict=True))
    w.n_groups = 4
    assert w.spatial_shape == [4, 7, 7] and w.result.n_groups == 4
    assert len(set(map(tuple, w.group_colors))) == 4
    reads = model.reads
    w.n_groups = 3
    assert w.result.last is first.last and model.reads == reads  # cached per value
    again = dict(zip(map(bytes, first.channel.round(4)), map(tuple, w.group_colors), strict=True))
    assert again == colours


def test_classes_by_name_synonym_and_errors_shown_in_widget():
    w = make()
    w.classes = ["kitty", "dog"]
    assert w.class_names == ["cat", "dog"]
    assert floats(w.attributions, (2, 3)).shape == (2, 3)
    w.classes = ["dgo"]
    assert w.error.startswith("classes=['dgo'] was refused: Unknown class 'dgo'")
    assert "'dog'" in w.error
    assert w.status == "error" and w.class_names == ["cat", "dog"]  # the last good table stays
    assert w.classes == ["kitty", "dog"]  # and the classes that made it
    w.classes = ["car"]
    assert w.error == "" and w.class_names == ["car"]


def test_bad_layer_is_a_message_not_a_traceback():
    w = make()
    w.layer = "convv"
    assert w.error.startswith("layer='convv' was refused: Unknown layer 'convv'")
    assert "Did you mean 'conv'" in w.error
    assert w.spatial_shape == [3, 7, 7] and w.layer == "conv"
    bad = GroupWidget(IMAGE, layer="logits", model=FakeModel(), icons=False)
    assert "no spatial extent" in bad.error and bad.status == "error"


def test_invalid_trait_values_raise_specific_errors():
    w = make()
    with pytest.raises(traitlets.TraitError, match="Nearest valid: 8"):
        w.n_groups = 50
    assert w.n_groups == 3 and w.error.startswith("n_groups=50 was refused: conv has 1 to 8")
    assert "(no more groups than its 7x7 positions and 8 channels)" in w.error
    with pytest.raises(traitlets.TraitError, match=r"0\.\.2, or -1"):
        w.selected_group = 3
    w.selected_group = 2
    w.n_groups = 2
    assert w.selected_group == -1  # the pinned group no longer exists


def test_icons_run_in_the_background_with_progress_and_snapshots():
    model = FakeModel(step_delay=0.01)
    w = make(model, steps=30, snapshot_every=5)
    assert w.status == "optimizing"  # the constructor returned while icons run
    seen = []
    w.observe(lambda change: seen.append(change["new"]), names="icons")
    assert w.wait(timeout=30)
    assert w.status == "ready" and w.progress == 1.0
    assert w.progress_text == "Icons done."
    assert len(seen) >= 3  # snapshots then the final icons
    icons = [np.asarray(PIL.Image.open(io.BytesIO(png))) for png in w.icons]
    assert icons[0].shape == (8, 8, 3) and icons[0].min() == 255
    assert w.result.icons.shape == (3, 8, 8, 3)


def test_stop_message_cancels_and_widget_stays_usable():
    model = FakeModel(step_delay=0.02)
    w = make(model, steps=10_000)
    assert model.started.wait(10)
    w._handle_custom_msg({"type": "stop"}, [])
    assert w.wait(timeout=10)
    assert w.status == "stopped" and w.result.icons is None
    w.classes = ["tree"]
    assert w.class_names == ["tree"] and w.error == ""


def test_stop_without_running_icons_changes_nothing():
    w = make(FakeModel(), steps=3)
    assert w.wait(timeout=10) and w.status == "ready"
    w._handle_custom_msg({"type": "stop"}, [])
    w.stop()
    assert w.status == "ready" and w.progress_text == "Icons done."


def test_stop_from_python_waits_for_the_worker():
    model = FakeModel(step_delay=0.02)
    w = make(model, steps=10_000)
    assert model.started.wait(10)
    job = w._job
    assert w.stop() is None
    assert not job.running and job.cancelled and w.status == "stopped"


def test_closing_cancels_background_work():
    model = FakeModel(step_delay=0.02)
    w = make(model, steps=10_000)
    assert model.started.wait(10)
    job = w._job
    w.close()
    assert job.wait(10) and job.cancelled


def test_changing_groups_during_icons_restarts_for_the_new_groups():
    model = FakeModel(step_delay=0.005)
    w = make(model, steps=40)
    w.n_groups = 2
    assert w.wait(timeout=30)
    assert w.result.n_groups == 2 and w.result.icons.shape[0] == 2
    assert len(w.icons) == 2 and all(w.icons)


def test_changing_classes_during_icons_keeps_them_running():
    model = FakeModel(step_delay=0.01)
    w = make(model, steps=10_000)
    assert model.started.wait(10)
    job = w._job
    statuses = []
    w.observe(lambda change: statuses.append(change["new"]), names="status")
    w.classes = ["car"]
    assert w._job is job and w.status == "optimizing" and w.class_names == ["car"]
    w.n_groups = 2
    assert statuses[-2:] == ["computing", "optimizing"]  # the front end shows both
    assert w._job is not job and job.stopping
    w.close()


def test_image_is_encoded_once(monkeypatch):
    encoded = []
    original = view.png_bytes

    def spy(array):
        encoded.append(array.shape)
        return original(array)

    monkeypatch.setattr(view, "png_bytes", spy)
    w = make()
    assert encoded.count(IMAGE.shape) == 1
    w.n_groups = 2
    w.classes = ["tree"]
    w.n_groups = 3
    assert encoded.count(IMAGE.shape) == 1  # the groups changed, the image did not


def test_failed_icon_computation_is_shown():
    class Broken(FakeModel):
        def render_icons(self, *args, **kwargs):
            raise RuntimeError("out of memory")

    w = make(Broken(), steps=5)
    with pytest.raises(RuntimeError, match="out of memory"):  # a script does not go on
        w.wait(timeout=10)
    assert w.status == "error" and "out of memory" in w.error
    assert w.result.n_groups == 3  # the groups are there: only the icons failed
    assert w.spatial_shape == [3, 7, 7]


def test_from_result_shows_a_saved_result(tmp_path):
    w = make()
    path = w.result.save(tmp_path / "r.npz")
    from neuron_groups import load

    shown = GroupWidget.from_result(load(path))
    assert shown.spatial == w.spatial and shown.class_names == w.class_names
    assert shown.status == "ready"


def test_background_updates_come_from_one_worker_thread():
    model = FakeModel(step_delay=0.002)
    names = set()
    original = model.render_icons

    def spy(*args, **kwargs):
        names.add(threading.current_thread().name)
        return original(*args, **kwargs)

    model.render_icons = spy
    w = make(model, steps=10)
    assert w.wait(timeout=10)
    assert names == {"neuron-groups-icons"}


# -- integer and repeated classes ------------------------------------------------------------


def test_integer_classes_stay_integers_through_every_action():
    w = make(classes=[2, np.int64(0)])
    assert w.classes == [2, 0] and all(type(c) is int for c in w.classes)
    assert w.class_names == ["car", "cat"]
    w.n_groups = 4
    assert w.classes == [2, 0] and w.class_names == ["car", "cat"]
    w.classes = [3, "dog"]
    assert w.classes == [3, "dog"] and w.class_names == ["tree", "dog"]
    w.layer = "block/conv"  # another name of the same layer: a new reading
    assert w.layer == "conv" and w.error == ""
    assert w.classes == [3, "dog"] and w.class_names == ["tree", "dog"]


def test_repeated_classes_are_one_row_and_the_list_is_rewritten():
    w = make(classes=["cat", "kitty", 0])
    assert w.class_names == ["cat"] and w.classes == ["cat"]
    assert w.result.attributions.shape == (1, 3)
    w.classes = ["dog", "cat", 1, "kitty", "car"]
    assert w.class_names == ["dog", "cat", "car"]
    assert w.classes == ["dog", "cat", "car"]  # classes[i] is the row class_names[i]
    w.classes = []
    assert w.classes == [] and len(w.class_names) == 4  # the top 5 of 4 classes


# -- refused changes go back -------------------------------------------------------------------


def test_failed_computation_puts_n_groups_back(monkeypatch):
    w = make()
    before = w.spatial
    reading = w._session.reading
    original = reading.analyze

    def analyze(n_groups, *args, **kwargs):
        if list(n_groups) == [4]:
            raise RuntimeError("factorization diverged")
        return original(n_groups, *args, **kwargs)

    monkeypatch.setattr(reading, "analyze", analyze)
    w.n_groups = 4
    assert w.n_groups == 3 and w.spatial == before and w.result.n_groups == 3
    assert w.error == "n_groups=4 was refused: RuntimeError: factorization diverged"
    w.n_groups = 2  # still usable
    assert w.n_groups == 2 and w.error == "" and w.result.n_groups == 2


def test_bad_classes_from_python_go_back_to_the_last_valid_list():
    w = make(classes=[1, "cat"])
    w.classes = ["cat", "no such class"]
    assert w.classes == [1, "cat"] and w.class_names == ["dog", "cat"]
    assert w.error.startswith("classes=['cat', 'no such class'] was refused: Unknown class")


class Sent:
    """Records the names the widget sends to the front end (``send_state``)."""

    def __init__(self, widget):
        self.names: list[str] = []
        original = widget.send_state

        def send_state(key=None):
            keys = [key] if isinstance(key, str) else list(key or [])
            self.names.extend(keys)
            return original(key)

        widget.send_state = send_state


def test_refused_value_from_the_front_end_is_sent_back():
    w = make()
    sent = Sent(w)
    w.set_state({"n_groups": 50})  # as a comm message does; no exception escapes
    assert w.n_groups == 3
    assert w.error.startswith("n_groups=50 was refused: conv has 1 to 8 groups")
    assert "n_groups" in sent.names  # the front end's control goes back to 3
    sent.names.clear()
    w.set_state({"classes": ["dgo"]})
    assert w.classes == [] and w.error.startswith("classes=['dgo'] was refused")
    assert "classes" in sent.names and "class_names" not in sent.names


def test_failed_computation_from_the_front_end_is_sent_back(monkeypatch):
    w = make()

    def analyze(*args, **kwargs):
        raise MemoryError("no room")

    monkeypatch.setattr(w._session.reading, "analyze", analyze)
    sent = Sent(w)
    w.set_state({"n_groups": 5})
    assert w.n_groups == 3 and w.result.n_groups == 3
    assert w.error == "n_groups=5 was refused: MemoryError: no room"
    assert "n_groups" in sent.names


# -- how it prints -------------------------------------------------------------------------------


def test_repr_says_what_is_shown():
    w = make(classes=["cat", "dog"])
    expected = (
        "GroupWidget(image 56x56, layer='conv', 3 groups, classes=['cat', 'dog'], status='ready')"
    )
    assert repr(w) == str(w) == expected
    w.classes = ["dgo"]
    assert repr(w).startswith(expected[: -len("status='ready')")] + "status='error', error=")
    assert GroupWidget().__repr__() == "GroupWidget(status='computing')"
    bad = GroupWidget(IMAGE, layer="logits", model=FakeModel(), icons=False)
    assert repr(bad).startswith("GroupWidget(status='error', error=\"Layer 'logits' has no")


# -- icons -------------------------------------------------------------------------------------


def test_icon_worker_passes_one_hooks_object(monkeypatch):
    import neuron_groups.icons as icons

    seen = []
    original = icons.render_icons

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(icons, "render_icons", spy)
    w = make(steps=6, snapshot_every=2)
    assert w.wait(timeout=10) and w.status == "ready"
    (kwargs,) = seen
    hooks = kwargs["hooks"]
    assert isinstance(hooks, IconHooks) and hooks.snapshot_every == 2
    assert set(kwargs) == {"cache", "hooks"}


@pytest.mark.slow
def test_real_model_integer_and_repeated_classes(inception, dog_cat):
    w = GroupWidget(dog_cat, "mixed4d", 3, [208], model=inception, icons=False)
    assert w.classes == [208] and w.class_names == ["Labrador retriever"]
    w.n_groups = 4
    assert w.classes == [208] and w.class_names == ["Labrador retriever"] and w.error == ""
    w.classes = ["Labrador retriever", 208, "tiger cat", "labrador retriever"]
    assert w.class_names == ["Labrador retriever", "tiger cat"]
    assert w.classes == ["Labrador retriever", "tiger cat"]
    assert w.result.attributions.shape == (2, 4)


# -- the first model load of a process ---------------------------------------------------------


def slow_first_load(monkeypatch, fail: bool = False) -> threading.Event:
    """Make the model look unbuilt and its load wait for the returned event."""
    import neuron_groups.models as models

    release = threading.Event()
    real_load = models.load_model

    def load(model):
        assert release.wait(10), "the test never released the load"
        if fail:
            raise models.ModelError("The weights could not be read (test).")
        return real_load(model)

    monkeypatch.setattr(models, "load_model", load)
    monkeypatch.setattr(widget_module, "is_built", lambda model: False)
    return release


def test_the_first_load_shows_the_frame_and_a_loading_state_at_once(monkeypatch):
    release = slow_first_load(monkeypatch)
    w = GroupWidget(
        np.full((64, 64, 3), 0.5, np.float32), "conv", 3, model=FakeModel(), icons=False
    )
    assert (w.status, w.spatial, w.n_groups_options) == ("loading", b"", [])
    assert w.wait(timeout=0.05) is False  # still loading: the constructor did not wait
    threading.Timer(0.2, release.set).start()
    assert w.result is not None  # reading the result waits for the load
    assert w.wait(timeout=10) is True
    assert w.status == "ready" and w.error == ""
    assert w.result is not None and w.result.n_groups == 3
    assert len(w.spatial) == 3 * 7 * 7 * 4  # (n, h, w) float32 maps arrived


def test_a_failed_first_load_is_shown_in_the_widget(monkeypatch):
    release = slow_first_load(monkeypatch, fail=True)
    w = GroupWidget(
        np.full((64, 64, 3), 0.5, np.float32), "conv", 3, model=FakeModel(), icons=False
    )
    release.set()
    with pytest.raises(ModelError, match=r"The weights could not be read \(test\)\."):
        w.wait(timeout=10)
    assert w.status == "error"
    assert "The weights could not be read (test)." in w.error
    with pytest.raises(ModelError, match="could not be read"):
        w.result  # noqa: B018 - reading it is the test


def test_a_built_model_is_read_before_the_constructor_returns():
    w = GroupWidget(
        np.full((64, 64, 3), 0.5, np.float32), "conv", 3, model=FakeModel(), icons=False
    )
    assert w.status == "ready" and w.result is not None


def test_is_built_knows_which_models_load_slowly(monkeypatch, tmp_path):
    from neuron_groups.models import is_built

    assert is_built(FakeModel()) is True  # a model object: nothing to build
    assert is_built("no such model") is True  # refused at once by load_model
    monkeypatch.setenv("NEURON_GROUPS_DATA", str(tmp_path))  # folders never built with
    assert is_built(None) is False
    assert is_built("GoogLeNet") is False


# -- errors in scripts ----------------------------------------------------------------------------


def test_a_widget_that_could_not_be_made_raises_its_error_when_its_result_is_read():
    w = GroupWidget(IMAGE, layer="no_such_layer", model=FakeModel(), icons=False)
    # As in a notebook: the constructor returned and the widget shows the error ...
    assert w.status == "error" and w.error.startswith("Unknown layer 'no_such_layer'")
    # ... and a script that goes on to use it stops here, with the same error.
    with pytest.raises(LayerError, match="Unknown layer 'no_such_layer'"):
        w.result  # noqa: B018 - reading it is the test
    with pytest.raises(LayerError, match="Unknown layer 'no_such_layer'"):
        w.wait()
    assert repr(w).startswith("GroupWidget(status='error', error=\"Unknown layer")  # no raise


def test_a_refused_change_is_not_a_failure():
    w = make()
    w.classes = ["dgo"]
    assert w.status == "error" and w.result.n_groups == 3  # the shown result stays readable
    assert w.wait(timeout=1) is True


def test_a_failed_construction_that_is_fixed_later_is_no_failure_any_more():
    w = make(classes=["dgo"])
    assert w.status == "error" and "Unknown class 'dgo'" in w.error
    with pytest.raises(Exception, match="Unknown class 'dgo'"):
        w.wait()
    w.classes = ["dog"]  # the image was read: fixing the classes shows the groups
    assert w.error == "" and w.class_names == ["dog"] and w.result.n_groups == 3
    assert w.wait(timeout=1) is True


def test_two_widgets_computing_icons_at_once_both_finish(tmp_path):
    gate = threading.Event()  # no icon steps until both widgets are optimizing
    model = FakeModel(step_delay=0.002, gate=gate)
    settings = IconSettings(steps=40, size=8)
    options = {"model": model, "icon_settings": settings, "icon_cache": tmp_path}
    first = GroupWidget(IMAGE, "conv", 3, **options)
    second = GroupWidget(IMAGE[::-1], ["conv", "conv2"], [2, 4], **options)
    assert first.status == second.status == "optimizing"
    gate.set()
    assert first.wait(timeout=60) and second.wait(timeout=60)
    for w in (first, second):
        assert w.status == "ready" and w.error == "" and w.progress_text == "Icons done."
        assert all(g.icons is not None for g in w.result.groups.values())
        assert all(w.icons) and all(all(e["icons"]) for e in w.earlier_layers)
    assert len(list(tmp_path.glob("*.npy"))) == 3  # one cache entry per set of directions
