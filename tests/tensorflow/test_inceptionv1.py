"""InceptionV1 (BVLC GoogLeNet in TF2): fidelity, layers, sizes, bad input, load_model."""

from __future__ import annotations

import os
import re
import shutil
import sys
import types

import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import IconHooks, IconSettings, Targets, VisionModel
from neuron_groups.backends.inceptionv1 import weight_shapes
from neuron_groups.backends.tensorflow.inceptionv1 import InceptionV1
from neuron_groups.errors import ClassNameError, DataError, ImageError, LayerError, ModelError
from neuron_groups.models import load_model

GOLDEN, LABRADOR, LEMON, VASE = 207, 208, 951, 883


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


@pytest.fixture(scope="module")
def flowers(shared):
    from neuron_groups.images import load_image

    return load_image(shared / "images" / "flowers.png")


# -- fidelity ---------------------------------------------------------------------------
def test_dog_cat_logits_match_reference(inception, dog_cat):
    logits = inception.logits(dog_cat)
    assert logits.shape == (1000,)
    assert logits[GOLDEN] == pytest.approx(11.14, abs=0.05)
    assert logits[LABRADOR] == pytest.approx(10.85, abs=0.05)
    probs = softmax(logits)
    assert list(np.argsort(-logits)[:2]) == [GOLDEN, LABRADOR]
    assert probs[GOLDEN] == pytest.approx(0.456, abs=0.005)
    assert probs[LABRADOR] == pytest.approx(0.339, abs=0.005)


def test_dog_cat_top5(inception, dog_cat):
    # golden retriever, Labrador retriever, kuvasz, Cardigan, Great Pyrenees.
    top5 = [inception.class_names[i] for i in np.argsort(-inception.logits(dog_cat))[:5]]
    assert top5 == [
        "golden retriever",
        "Labrador retriever",
        "kuvasz",
        "Cardigan",
        "Great Pyrenees",
    ]


def test_flowers_top2_match_reference(inception, flowers):
    probs = softmax(inception.logits(flowers))
    assert list(np.argsort(-probs)[:2]) == [LEMON, VASE]
    assert probs[LEMON] == pytest.approx(0.527, abs=0.005)
    assert probs[VASE] == pytest.approx(0.187, abs=0.005)


def test_class_names_are_imagenet(inception):
    assert len(inception.class_names) == 1000
    assert inception.class_names[LABRADOR] == "Labrador retriever"
    assert "tiger cat" in inception.class_synonyms[282]


# -- layers -----------------------------------------------------------------------------
def test_layer_listing(inception):
    infos = inception.layers()
    names = [i.name for i in infos]
    assert names[:3] == ["conv2d0", "maxpool0", "localresponsenorm0"]
    assert names[-3:] == ["avgpool0", "softmax2_pre_activation", "softmax2"]
    shapes = {i.name: i.shape for i in infos}
    assert shapes["conv2d0"] == (112, 112, 64)
    assert shapes["mixed3a"] == (28, 28, 256)
    assert shapes["mixed4d"] == (14, 14, 528)
    assert shapes["mixed5b"] == (7, 7, 1024)
    assert shapes["avgpool0"] == (1024,)
    assert shapes["softmax2_pre_activation"] == (1000,)
    channels = {n: shapes[f"mixed{n}"][-1] for n in ("3a", "3b", "4a", "4b", "4c", "4e", "5a")}
    assert channels == {
        "3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4e": 832, "5a": 832
    }  # fmt: skip
    assert not inception.resolve_layer("avgpool0").spatial
    assert inception.resolve_layer("mixed4d").spatial


@pytest.mark.parametrize(
    ("caffe", "lucid"),
    [
        ("inception_4d/output", "mixed4d"),
        ("conv1/7x7_s2", "conv2d0"),
        ("pool3/3x3_s2", "maxpool4"),
        ("loss3/classifier", "softmax2_pre_activation"),
        ("prob", "softmax2"),
    ],
)
def test_caffe_alias_resolves(inception, caffe, lucid):
    assert inception.resolve_layer(caffe).name == lucid


def test_alias_gives_same_activations(inception, dog_cat):
    lucid = inception.activations(dog_cat, "mixed4d")
    caffe = inception.activations(dog_cat, "inception_4d/output")
    assert lucid.shape == (14, 14, 528)
    np.testing.assert_array_equal(lucid, caffe)
    assert lucid.min() >= 0  # post-ReLU


def test_vector_layers(inception, dog_cat):
    logits = inception.activations(dog_cat, "loss3/classifier")
    np.testing.assert_allclose(logits, inception.logits(dog_cat), rtol=1e-6)
    probs = inception.activations(dog_cat, "softmax2")
    np.testing.assert_allclose(probs, softmax(logits), atol=1e-6)


def test_unknown_layer(inception, dog_cat):
    with pytest.raises(LayerError, match="mixed4d"):
        inception.activations(dog_cat, "mixed4z")


def test_head_continues_forward(inception, dog_cat):
    images = tf.constant(dog_cat[None])
    acts = inception.forward_to(images, "mixed4d")  # (1, 14, 14, 528)
    logits = inception.head_from(acts, "mixed4d")  # (1, 1000)
    np.testing.assert_allclose(logits[0], inception.logits(dog_cat), rtol=1e-4, atol=1e-4)
    with pytest.raises(LayerError, match="after the logits"):
        inception.head_from(logits, "softmax2")


def test_forward_uses_the_given_relu(inception, dog_cat):
    calls = []

    def counting_relu(x):
        calls.append(x.shape)
        return tf.nn.relu(x)

    images = tf.constant(dog_cat[None])
    inception.forward_to(images, "mixed3a", relu=counting_relu)
    assert len(calls) == 3 + 6  # conv1, conv2 reduce, conv2, then 3a's six convolutions
    leaky = inception.forward_to(images, "conv2d0", relu=lambda x: x)
    assert float(tf.reduce_min(leaky)) < 0  # the identity "ReLU" really replaced tf.nn.relu


# -- sizes ------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [64, 192])
def test_lrn_is_tensorflows_with_its_gradient(inception, channels):
    from neuron_groups.backends.inceptionv1 import LRN

    # Activations of the size LRN sees (hundreds), so that the normalization bites.
    x = tf.constant(
        np.random.default_rng(channels).gamma(2.0, 60.0, (2, 5, 7, channels)), tf.float32
    )
    weights = tf.constant(np.random.default_rng(1).normal(size=x.shape), tf.float32)
    outputs, gradients = [], []
    for lrn in (inception.network.lrn, lambda t: tf.nn.local_response_normalization(t, **LRN)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = lrn(x)
            loss = tf.reduce_sum(y * weights)
        outputs.append(y.numpy())
        gradients.append(tape.gradient(loss, x).numpy())
    assert np.abs(outputs[0] / x.numpy() - 1).max() > 0.05  # the normalization is not ~1
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=2e-6)
    np.testing.assert_allclose(gradients[0], gradients[1], rtol=1e-5, atol=1e-6)


def test_non_square_input(inception):
    image = np.random.default_rng(0).random((256, 320, 3), dtype=np.float32)
    assert inception.activations(image, "mixed4d").shape == (16, 20, 528)
    logits = inception.logits(image)
    assert logits.shape == (1000,)
    assert np.all(np.isfinite(logits))


def test_pooling_rounds_up_like_caffe(inception):
    # 240: conv1 120, pools 60 -> 30 -> 15; floor-mode pooling would give 14.
    # 226: conv1 113, Caffe's pool 56 -> 28 -> 14; TF's SAME pooling would give 57 -> 15.
    image = np.full((240, 226, 3), 0.5, np.float32)
    assert inception.activations(image, "mixed4d").shape == (15, 14, 528)


@pytest.mark.parametrize(("layer", "minimum"), [("mixed4d", 15), ("mixed5b", 31)])
def test_smallest_input(inception, layer, minimum):
    assert inception.min_input_size(layer) == minimum
    rng = np.random.default_rng(1)
    acts = inception.activations(rng.random((minimum, minimum, 3), dtype=np.float32), layer)
    assert acts.shape[:2] == (1, 1)
    small = rng.random((minimum - 1, 40, 3), dtype=np.float32)
    with pytest.raises(ImageError, match=f"smallest input that reaches {layer} is {minimum}x"):
        inception.activations(small, layer)


def test_too_small_mentions_default_size(inception):
    with pytest.raises(ImageError, match="224x224 is the default"):
        inception.logits(np.zeros((20, 20, 3), np.float32))


# -- bad images -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.full((224, 224, 3), np.nan, np.float32), "NaN or infinite"),
        (np.full((224, 224, 3), np.inf, np.float32), "NaN or infinite"),
        (np.zeros((224, 224), np.float32), "grayscale"),
        (np.zeros((224, 224, 4), np.float32), "RGBA"),
        (np.zeros((224, 224, 2), np.float32), "2 channels"),
        (np.zeros((0, 224, 3), np.float32), "empty"),
        (np.zeros((2, 224, 224, 3), np.float32), r"one RGB image, \(H, W, 3\)"),
        (np.full((224, 224, 3), 200.0, np.float32), "divide by 255"),
        (np.full((224, 224, 3), 200, np.uint8), "Divide by 255"),
        (np.full((224, 224, 3), -2.0, np.float32), "mean-subtracted"),
        (np.array([["a"]]), "array of numbers"),
    ],
)
def test_bad_image(inception, image, message):
    with pytest.raises(ImageError, match=message):
        inception.activations(image, "mixed4d")


def test_slightly_out_of_range_is_clipped(inception, dog_cat):
    bright = dog_cat.copy()
    bright[:10] = 1.2
    clipped = np.clip(bright, 0, 1)
    np.testing.assert_array_equal(inception.logits(bright), inception.logits(clipped))


def test_batch_of_one_is_accepted(inception, dog_cat):
    np.testing.assert_array_equal(inception.logits(dog_cat[None]), inception.logits(dog_cat))


# -- read: one forward and backward pass ---------------------------------------------------
def test_read_shapes(inception, dog_cat):
    reading = inception.read(dog_cat, "mixed4d", Targets.classes([208, 282]))
    assert reading.acts.shape == (14, 14, 528)
    assert reading.grads.shape == (2, 14, 14, 528)
    np.testing.assert_array_equal(reading.targets, [208, 282])
    np.testing.assert_allclose(reading.acts, inception.activations(dog_cat, "mixed4d"), atol=1e-5)
    np.testing.assert_allclose(reading.logits, inception.logits(dog_cat), atol=1e-4)
    assert not np.allclose(reading.grads[0], reading.grads[1])


def test_read_without_targets(inception, dog_cat):
    reading = inception.read(dog_cat, "mixed4d")
    assert reading.grads.shape == (0, *reading.acts.shape)
    assert reading.targets.shape == (0,)
    assert reading.logits.shape == (1000,)
    np.testing.assert_allclose(reading.logits, inception.logits(dog_cat), atol=1e-4)
    np.testing.assert_allclose(reading.acts, inception.activations(dog_cat, "mixed4d"), atol=1e-5)
    # A layer after the logits is read too when no gradient is asked for.
    probs = inception.read(dog_cat, "softmax2")
    np.testing.assert_allclose(probs.acts, softmax(probs.logits), atol=1e-6)


def test_read_bad_class_or_layer(inception, dog_cat):
    with pytest.raises(ClassNameError, match=r"0\.\.999"):
        inception.read(dog_cat, "mixed4d", Targets.classes([1000]))
    with pytest.raises(ClassNameError, match="integers"):
        inception.read(dog_cat, "mixed4d", Targets(indices=("tiger cat",)))
    with pytest.raises(ClassNameError, match="1000 classes"):
        inception.read(dog_cat, "mixed4d", Targets.top_classes(1001))
    with pytest.raises(LayerError, match="after the logits"):
        inception.read(dog_cat, "softmax2", Targets.classes([1]))
    with pytest.raises(LayerError, match="after the logits"):
        inception.read(dog_cat, "softmax2", Targets.top_classes(1))
    with pytest.raises(LayerError, match="mixed4d"):
        inception.read(dog_cat, "mixed4z", Targets.classes([1]))


def test_read_bad_direction_targets(inception, dog_cat):
    vectors = np.ones((2, 528), np.float32)
    with pytest.raises(LayerError, match="must come after the layer read"):
        inception.read(dog_cat, "mixed4d", Targets.directions("mixed4d", vectors))
    with pytest.raises(LayerError, match="must come after the layer read"):
        inception.read(dog_cat, "mixed5a", Targets.directions("inception_4d/output", vectors))
    with pytest.raises(LayerError, match="Did you mean"):
        inception.read(dog_cat, "mixed4a", Targets.directions("mixed4dd", vectors))
    with pytest.raises(LayerError, match="528 channels but layer 'mixed5a' has 832"):
        inception.read(dog_cat, "mixed4a", Targets.directions("mixed5a", vectors))


def test_read_bad_image(inception):
    with pytest.raises(ImageError, match="divide by 255"):
        inception.read(np.full((224, 224, 3), 200.0), "mixed4d", Targets.top_classes(2))
    with pytest.raises(ImageError, match="smallest input that reaches softmax2_pre_activation"):
        inception.read(np.zeros((20, 20, 3), np.float32), "mixed4d", Targets.top_classes(2))


# -- identity, icons --------------------------------------------------------------------
def test_identity(inception):
    assert inception.identity.startswith("inceptionv1-")
    assert len(inception.identity) == len("inceptionv1-") + 12
    arrays = list(inception.weight_arrays())
    shapes = weight_shapes()
    assert len(arrays) == 2 * len(shapes)
    assert arrays[0].shape == shapes["conv1/7x7_s2"] and arrays[1].shape == (64,)


def test_render_icons_delegates_to_one_renderer_pool(inception, monkeypatch, request):
    seen = {}

    class FakePool:
        def render(self, tag, forward, directions, settings, hooks):
            seen.update(tag=tag, hooks=hooks, settings=settings, directions=directions)
            relus = []
            images = tf.fill((2, 64, 64, 3), 0.5)
            acts = forward(images, lambda x: relus.append(1) or tf.nn.relu(x))
            seen.update(shape=tuple(acts.shape), relus=len(relus), pools=seen.get("pools", 0) + 1)
            return np.zeros((2, 8, 8, 3), np.float32)

    fake = types.ModuleType("neuron_groups.backends.tensorflow.optvis")
    fake.RendererPool = FakePool
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    # The model is the session's: it must not keep the fake pool (it makes a new real one).
    inception.__dict__.pop("_icon_renderers", None)
    request.addfinalizer(lambda: inception.__dict__.pop("_icon_renderers", None))
    directions = np.ones((2, 480), np.float32)
    hooks = IconHooks(snapshot_every=3)
    icons = inception.render_icons("inception_3b/output", directions, IconSettings(size=8), hooks)
    assert icons.shape == (2, 8, 8, 3)
    assert seen["tag"] == "mixed3b"  # the canonical name keys the pool
    assert seen["shape"] == (2, 8, 8, 480)  # 64 -> 32 -> 16 -> 8, read at mixed3b
    assert seen["relus"] == 3 + 6 + 6
    assert seen["settings"].size == 8
    assert seen["directions"] is directions
    assert seen["hooks"] is hooks
    pool = inception.__dict__["_icon_renderers"]
    inception.render_icons("mixed3b", directions, IconSettings(size=8), hooks)
    assert inception.__dict__["_icon_renderers"] is pool  # one pool per model


# -- load_model -------------------------------------------------------------------------
def test_load_model_is_cached(inception):
    assert load_model() is inception
    assert load_model("GoogLeNet") is inception
    assert load_model(" bvlc_googlenet ") is inception
    assert isinstance(inception, InceptionV1)
    assert isinstance(inception, VisionModel)


def test_load_model_returns_a_vision_model_as_is(inception):
    assert load_model(inception) is inception


def test_unknown_model_name():
    with pytest.raises(ModelError, match=r"Did you mean 'inceptionv1'.*Known models"):
        load_model("inceptionv2")


def test_load_model_bad_type_and_options():
    with pytest.raises(ModelError, match=r"keras\.Model"):
        load_model(42)
    with pytest.raises(ModelError, match="value_range"):
        load_model("inceptionv1", value_range=(0, 255))


def test_corrupt_weights_raise_data_error(shared, tmp_path, monkeypatch):
    corrupt = "inception_4d/3x3_filter.bin"
    source = shared / "models" / "bvlc_googlenet"
    for path in source.rglob("*"):
        if path.is_file():
            target = tmp_path / "models" / "bvlc_googlenet" / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path, target)
    broken = tmp_path / "models" / "bvlc_googlenet" / "weights" / corrupt
    broken.unlink()
    shutil.copyfile(source / "weights" / corrupt, broken)
    with broken.open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x00\x80\x7f")  # one weight becomes +inf
    monkeypatch.setenv("NEURON_GROUPS_DATA", str(tmp_path))
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataError, match=r"inception_4d/3x3_filter\.bin.*corrupt"):
        load_model("inceptionv1")


def test_weight_shapes_match_prototxt(shared):
    text = (shared / "models" / "bvlc_googlenet" / "deploy.prototxt").read_text()
    convs = re.findall(
        r'name: "([^"]+)"\s+type: "Convolution".*?num_output: (\d+).*?kernel_size: (\d+)',
        text,
        re.S,
    )
    expected = {name: (int(out), int(k), int(k)) for name, out, k in convs}
    shapes = weight_shapes()
    assert len(expected) == 57
    assert {name: shape[:3] for name, shape in shapes.items() if len(shape) == 4} == expected
    assert shapes["loss3/classifier"] == (1000, 1024)
