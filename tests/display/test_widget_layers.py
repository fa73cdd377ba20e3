"""GroupWidget at several layers, and the image picker, on the numpy fake (kernel side only)."""

from __future__ import annotations

import io
import threading

import numpy as np
import PIL.Image
import pytest
import traitlets

from neuron_groups import IconSettings
from neuron_groups.data import example_names
from neuron_groups.display.state import even_hues, hue_colors
from neuron_groups.display.widget import GroupWidget
from tests.fakes import FakeModel

IMAGE = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
LAYERS = ["conv", "conv2"]


def make(model=None, steps=0, counts=(3, 4), layer=LAYERS, **kwargs):
    return GroupWidget(
        IMAGE,
        layer=list(layer) if not isinstance(layer, str) else layer,
        n_groups=list(counts) if not isinstance(counts, int) else counts,
        model=model or FakeModel(),
        icons=steps > 0,
        icon_settings=IconSettings(steps=max(steps, 1), size=8),
        icon_cache=False,
        **kwargs,
    )


def floats(buffer, shape):
    return np.frombuffer(buffer, dtype="<f4").reshape(shape)


def png(color=(200, 30, 30), size=(40, 30), kind="PNG"):
    out = io.BytesIO()
    PIL.Image.new("RGB", size, color).save(out, kind)
    return out.getvalue()


# -- what it shows -------------------------------------------------------------------------------


def test_fields_describe_every_layer_and_the_flows():
    w = make(classes=["dog"])
    assert w.status == "ready" and w.error == ""
    assert w.layer == "conv2" and w.n_groups == 4 and w.layer_groups == [3, 4]
    assert w.spatial_shape == [4, 7, 7] and w.class_names == ["dog"]
    (entry,) = w.earlier_layers
    assert entry["layer"] == "conv" and entry["n_groups"] == 3
    assert entry["spatial_shape"] == [3, 7, 7] and entry["icons"] == [b""] * 3
    assert entry["n_groups_options"] == list(range(1, 9))  # min(16, 49 positions, 8 channels)
    assert entry["group_colors"] == hue_colors(even_hues(3))
    assert floats(entry["spatial"], (3, 7, 7)).max() == pytest.approx(1.0, abs=0.01)
    (flow,) = w.flows
    assert (flow["from"], flow["to"], flow["shape"]) == ("conv", "conv2", [3, 4])
    np.testing.assert_array_equal(floats(flow["values"], (3, 4)), w.result.flows[("conv", "conv2")])
    assert w.result.layers == LAYERS and w.result.counts == [3, 4]
    assert w.n_groups_options == list(range(1, 13))  # min(16, 49 positions, 12 channels)
    assert w.image_options == example_names() and "dog_cat" in w.image_options
    assert w.selected_layer == "" and w.pinned is None
    assert repr(w) == (
        "GroupWidget(image 56x56, layers conv (3) -> conv2 (4) groups, classes=['dog'], "
        "status='ready')"
    )


def test_binary_values_inside_lists_travel_as_buffers():
    from ipywidgets.widgets.widget import _remove_buffers

    _, paths, buffers = _remove_buffers(make().get_state())
    assert ["earlier_layers", 0, "spatial"] in paths and ["flows", 0, "values"] in paths
    assert all(isinstance(b, (bytes, memoryview)) for b in buffers)


def test_one_layer_count_recomputes_only_that_layer_and_its_flows():
    model = FakeModel()
    w = make(model)
    last, reads = w.result.last, model.reads
    w.layer_groups = [5, 4]  # the first layer: no pass
    assert model.reads == reads and w.result.last is last
    assert w.earlier_layers[0]["spatial_shape"] == [5, 7, 7] and w.flows[0]["shape"] == [5, 4]
    w.layer_groups = [5, 2]  # the last layer: one pass for the pair
    assert model.reads == reads + 1 and w.n_groups == 2 and w.spatial_shape == [2, 7, 7]
    assert w.flows[0]["shape"] == [5, 2] and w.error == ""
    w.n_groups = 4  # the last layer's count through n_groups, as in one layer
    assert w.layer_groups == [5, 4] and w.result.last is last  # from the cache
    assert model.reads == reads + 1


def test_classes_change_only_the_table():
    model = FakeModel()
    w = make(model, classes=["cat"])
    flows, earlier, reads = w.flows, w.earlier_layers, model.reads
    w.classes = ["kitty", "car"]
    assert w.class_names == ["cat", "car"] and w.classes == ["kitty", "car"]
    assert w.flows == flows and w.earlier_layers == earlier
    assert model.reads == reads + 1  # "car" was not read yet
    w.classes = ["car"]
    assert model.reads == reads + 1


def test_bad_layer_counts_are_refused_and_sent_back():
    w = make()
    with pytest.raises(traitlets.TraitError, match=r"one count per layer \(conv, conv2\); got 3"):
        w.layer_groups = [3, 4, 5]
    assert w.layer_groups == [3, 4] and w.error.startswith("layer_groups=[3, 4, 5] was refused")
    with pytest.raises(traitlets.TraitError, match=r"conv has 1 to 8 groups.*; got 9.*valid: 8"):
        w.layer_groups = [9, 4]
    sent = []
    original = w.send_state
    w.send_state = lambda key=None: (sent.append(key), original(key))
    w.set_state({"layer_groups": [0, 4]})  # as a comm message does: no exception escapes
    assert w.layer_groups == [3, 4] and "layer_groups" in sent[-1]
    assert w.spatial_shape == [4, 7, 7]


def test_the_layers_of_the_view_are_fixed():
    w = make()
    w.layer = "conv"
    assert w.layer == "conv2" and w.error.startswith("layer='conv' was refused")
    assert "GroupWidget(img, layer=[...])" in w.error


@pytest.mark.parametrize(
    ("layers", "counts", "message"),
    [
        (["conv2", "conv"], 3, "comes before"),
        (["conv", "logits"], 3, "no spatial extent"),
        (LAYERS, [3, 4, 5], "3 counts for 2 layers"),
    ],
)
def test_bad_construction_is_a_message_before_any_read(layers, counts, message):
    model = FakeModel()
    w = make(model, layer=layers, counts=counts)
    assert w.status == "error" and message in w.error
    assert model.reads == 0


# -- the pinned group ----------------------------------------------------------------------------


def test_pin_any_layer_with_validation():
    w = make()
    w.select("conv", 2)
    assert (w.selected_layer, w.selected_group) == ("conv", 2) and w.pinned == ("conv", 2)
    with pytest.raises(traitlets.TraitError, match=r"0\.\.2, or -1 for none; got 3.*conv has 3"):
        w.selected_group = 3
    w.selected_layer = "block/conv"  # another name of the same layer
    assert w.selected_layer == "conv"
    with pytest.raises(traitlets.TraitError, match="a layer shown"):
        w.selected_layer = "logits"
    w.select("", 3)  # the last layer has 4 groups
    assert w.pinned == ("conv2", 3)
    w.set_state({"selected_layer": "conv", "selected_group": 1})  # both at once, as the page
    assert w.pinned == ("conv", 1)
    w.layer_groups = [1, 4]  # the pinned group is gone
    assert w.selected_group == -1
    w.select("conv2", 3)
    w.selected_layer = "conv"  # group 3 does not exist there
    assert w.pinned is None


# -- icons ---------------------------------------------------------------------------------------


def test_icons_for_every_layer_last_layer_first_in_one_thread():
    model = FakeModel(step_delay=0.002)
    order, threads = [], set()
    original = model.render_icons

    def spy(layer, *args, **kwargs):
        order.append(layer)
        threads.add(threading.current_thread().name)
        return original(layer, *args, **kwargs)

    model.render_icons = spy
    texts = []
    w = make(model, steps=12, snapshot_every=4)
    w.observe(lambda change: texts.append(change["new"]), names="progress_text")
    assert w.wait(timeout=30)
    assert order == ["conv2", "conv"] and threads == {"neuron-groups-icons"}
    assert w.status == "ready" and w.progress == 1.0 and w.progress_text == "Icons done."
    assert all(w.icons) and all(w.earlier_layers[0]["icons"])
    assert any(t.startswith("Icons for conv2 (1 of 2)") for t in texts)
    assert any(t.startswith("Icons for conv (2 of 2)") for t in texts)
    icon = PIL.Image.open(io.BytesIO(w.earlier_layers[0]["icons"][0]))
    assert icon.size == (8, 8)


def test_an_earlier_layers_icons_change_nothing_else_of_its_entry():
    w = make(FakeModel(), steps=0)
    assert w.wait()  # the measures have arrived: nothing else changes the entry now
    before = dict(w.earlier_layers[0])
    assert len(before["regions"]) == 3 and len(before["stability"]) == 3
    conv = w.result.groups["conv"]
    w._publish_icons(conv, np.full((3, 8, 8, 3), 0.5, np.float32))  # a snapshot of conv's
    (after,) = w.earlier_layers
    assert len(after["icons"]) == 3 and all(after["icons"])
    assert {k: v for k, v in after.items() if k != "icons"} == {
        k: v for k, v in before.items() if k != "icons"
    }  # the regions, maps, colours and readouts stay


def test_stop_cancels_the_layers_and_the_view_stays_usable():
    model = FakeModel(step_delay=0.02)
    w = make(model, steps=10_000)
    assert model.started.wait(10)
    w._handle_custom_msg({"type": "stop"}, [])
    assert w.wait(timeout=10)
    assert w.status == "stopped" and w.result.icons is None
    w.layer_groups = [2, 4]
    assert w.earlier_layers[0]["n_groups"] == 2 and w.error == ""


def test_a_count_change_elsewhere_keeps_the_running_layer():
    model = FakeModel(step_delay=0.01)
    w = make(model, steps=10_000)
    assert model.started.wait(10)
    job, queue = w._job, w._queue
    assert queue.current is w.result.last  # the last layer first
    w.layer_groups = [2, 4]  # the first layer: the last layer's icons keep going
    assert w._job is job and w._queue is queue and w.status == "optimizing"
    assert [g.n_groups for g in queue.rest] == [2] and queue.rest[0].layer == "conv"
    w.layer_groups = [2, 3]  # the layer being rendered changed: start again
    assert w._job is not job and job.stopping
    assert w._queue.current is w.result.last and w._queue.current.n_groups == 3
    w.close()


# -- the image picker ----------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["conv", LAYERS])
def test_an_uploaded_image_recomputes_everything(layer):
    w = make(layer=layer, counts=3 if isinstance(layer, str) else (3, 4), classes=["dog"])
    before, shown = w.image, w.result
    w._handle_custom_msg({"type": "image", "filename": "red.png"}, [memoryview(png())])
    assert w.error == "" and w.status == "ready"
    assert w.image != before and w.result is not shown
    assert PIL.Image.open(io.BytesIO(w.image)).size == (40, 30)
    assert w.class_names == ["dog"] and w.n_groups == shown.n_groups  # the choices stay
    np.testing.assert_allclose(w.result.image[0, 0], np.array([200, 30, 30]) / 255, atol=1e-6)


@pytest.mark.parametrize("layer", ["conv", LAYERS])
def test_an_example_image_by_name(layer):
    w = make(layer=layer, counts=3 if isinstance(layer, str) else (3, 4))
    before = w.image
    w._handle_custom_msg({"type": "image", "name": "flowers"}, [])
    assert w.error == "" and w.image != before
    w._handle_custom_msg({"type": "image", "name": "/etc/passwd"}, [])
    assert w.error.startswith("Could not read /etc/passwd: '/etc/passwd' is not an example")


@pytest.mark.parametrize("layer", ["conv", LAYERS])
def test_a_bad_file_is_a_message_and_the_view_stays(layer):
    w = make(layer=layer, counts=3 if isinstance(layer, str) else (3, 4))
    image, spatial, result, status = w.image, w.spatial, w.result, w.status
    w._handle_custom_msg({"type": "image", "filename": "notes.png"}, [b"not an image"])
    assert w.error.startswith("Could not read notes.png: The 12 bytes are not an image format")
    assert (w.image, w.spatial, w.result, w.status) == (image, spatial, result, status)
    w._handle_custom_msg({"type": "image", "filename": "tiny.png"}, [png(size=(1, 1))])
    assert "tiny.png" in w.error  # read, but too small for the groups: still nothing changed
    assert (w.image, w.result) == (image, result)
    w._handle_custom_msg({"type": "image", "filename": "x.png"}, [])
    assert w.error.startswith("Could not read x.png: an image message has")


def test_set_image_from_python():
    w = make()
    w.set_image(png(kind="JPEG"))
    assert w.error == "" and PIL.Image.open(io.BytesIO(w.image)).size == (40, 30)


# -- page and static view ------------------------------------------------------------------------


def test_the_static_fallback_shows_every_layer():
    w = make(classes=["dog"])
    data, _ = w._repr_mimebundle_()
    html = data["text/html"]
    assert "Left to right: the image, conv (3 groups), conv2 (4 groups)" in html
    assert "<td" in html and "image/jpeg" in data
    assert w.layer_colors() == {
        "conv": hue_colors(even_hues(3)),
        "conv2": hue_colors(even_hues(4)),
    }


# -- InceptionV1 ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_two_layer_widget(inception, dog_cat):
    classes = ["Labrador retriever", "tiger cat"]
    w = GroupWidget(dog_cat, ["mixed4a", "mixed4d"], [5, 6], classes, inception, icons=False)
    assert w.error == "" and w.layer == "mixed4d" and w.class_names == classes
    assert w.earlier_layers[0]["layer"] == "mixed4a" and w.flows[0]["shape"] == [5, 6]
    assert w.earlier_layers[0]["spatial_shape"] == [5, 14, 14]
    w.layer_groups = [4, 6]
    assert w.error == "" and w.flows[0]["shape"] == [4, 6] and w.layer_groups == [4, 6]
    w.select("mixed4a", 3)
    assert w.pinned == ("mixed4a", 3)


def test_a_saved_multi_layer_result_is_shown_as_it_is(tmp_path):
    from neuron_groups import load

    w = make(classes=["car"])
    shown = GroupWidget.from_result(load(w.result.save(tmp_path / "m.npz")))
    assert shown.status == "ready" and shown.layer_groups == [3, 4]
    assert shown.earlier_layers[0]["spatial"] == w.earlier_layers[0]["spatial"]
    assert shown.earlier_layers[0]["n_groups_options"] == [3]
    assert shown.flows == w.flows and shown.class_names == ["car"]
    with pytest.raises(traitlets.TraitError, match="saved result"):
        shown.layer_groups = [2, 4]
