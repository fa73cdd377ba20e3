"""The framework-neutral backend modules: numpy only, and shared by the TensorFlow backend."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from neuron_groups.backends import inceptionv1, inputs, optvis
from neuron_groups.backends.base import IconSettings, Targets
from neuron_groups.errors import ClassNameError, ImageError, LayerError
from tests.fakes import FakeModel


def test_the_neutral_modules_import_no_framework():
    code = (
        "import sys\n"
        "import neuron_groups.backends.inputs, neuron_groups.backends.inceptionv1\n"
        "import neuron_groups.backends.optvis, neuron_groups.backends.framework\n"
        "import neuron_groups.backends.tensorflow, neuron_groups.backends.torch\n"
        "print(sorted({'tensorflow', 'keras', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- inputs ----------------------------------------------------------------------------
def test_check_image_clips_a_little_and_refuses_more():
    image = np.full((4, 5, 3), 1.2)
    checked = inputs.check_image(image[None])
    assert checked.shape == (4, 5, 3) and checked.dtype == np.float32 and checked.max() == 1.0
    with pytest.raises(ImageError, match="divide by 255"):
        inputs.check_image(np.full((4, 5, 3), 1 + inputs.CLIP_SLACK + 0.01))


def test_size_checks_name_the_sizes():
    inputs.check_fixed_size("m", (8, 8), (8, 8))
    inputs.check_fixed_size("m", (9, 8), None)
    with pytest.raises(ImageError, match="takes 8x8 images; got 9x8"):
        inputs.check_fixed_size("m", (9, 8), (8, 8))
    inputs.check_min_size((15, 40), "mixed4d", 15, 224)
    with pytest.raises(ImageError, match=r"smallest input that reaches mixed4d is 15x15 \(224x"):
        inputs.check_min_size((14, 40), "mixed4d", 15, 224)


def test_class_checks():
    np.testing.assert_array_equal(inputs.check_class_indices([3, 0], 4), [3, 0])
    assert inputs.check_class_indices([], 4).dtype == np.int32
    with pytest.raises(ClassNameError, match=r"out of range.*0\.\.3"):
        inputs.check_class_indices([4], 4)
    with pytest.raises(ClassNameError, match="integers"):
        inputs.check_class_indices([1.5], 4)
    assert inputs.check_top_k(4, 4) == 4
    with pytest.raises(ClassNameError, match="4 classes"):
        inputs.check_top_k(5, 4)


def test_target_checks_on_a_numpy_model():
    model = FakeModel()
    conv = model.resolve_layer("conv")
    assert inputs.check_targets(model, conv, Targets.top_classes(2)) is None
    later = inputs.check_targets(model, conv, Targets.directions("logits", np.ones((2, 4))))
    assert later.name == "logits"
    logits = model.resolve_layer("logits")
    with pytest.raises(LayerError, match="must come after the layer read"):
        inputs.check_targets(model, logits, Targets.directions("conv", np.ones((1, 8))))
    with pytest.raises(LayerError, match="3 channels but layer 'logits' has 4"):
        inputs.check_targets(model, conv, Targets.directions("logits", np.ones((1, 3))))
    with pytest.raises(ClassNameError):
        inputs.check_targets(model, conv, Targets.classes([9]))


def test_ceil_div_and_short_hash():
    assert [inputs.ceil_div(a, 2) for a in (-3, -2, 0, 1, 4)] == [-1, -1, 0, 1, 2]
    assert inputs.short_hash("0123456789abcdef") == "0123456789ab"


# -- InceptionV1's table -----------------------------------------------------------------
def test_inceptionv1_table_sizes_and_files():
    infos = {info.name: info for info in inceptionv1.layer_infos(224)}
    assert infos["mixed4d"].shape == (14, 14, 528)
    assert infos["mixed4d"].aliases == ("inception_4d/output",)
    assert infos[inceptionv1.LOGITS].shape == (1000,)
    assert inceptionv1.min_input_side("mixed4d") == 15
    assert inceptionv1.sides(240)[inceptionv1.INDEX["mixed4d"]] == 15  # Caffe rounds up
    names = [s.name for s in inceptionv1.stages_between("mixed4d", inceptionv1.LOGITS)]
    assert names[0] == "mixed4e" and names[-1] == inceptionv1.LOGITS
    assert inceptionv1.weight_files("inception_4d/3x3") == (
        "models/bvlc_googlenet/weights/inception_4d/3x3_filter.bin",
        "models/bvlc_googlenet/weights/inception_4d/3x3_bias.bin",
    )


# -- feature visualization's numpy parts ----------------------------------------------------
def test_directions_and_settings_are_checked():
    good = optvis.check_directions(np.ones((2, 3)), IconSettings())
    assert good.dtype == np.float32
    with pytest.raises(ValueError, match=r"\(n, C\)"):
        optvis.check_directions(np.ones(3), IconSettings())
    with pytest.raises(ValueError, match="Unknown transforms"):
        optvis.check_directions(np.ones((1, 3)), IconSettings(transforms="fancy"))


def test_the_seeded_generators_repeat_and_are_independent():
    (a_init, a_draw), (b_init, b_draw) = optvis.rngs(0), optvis.rngs(0)
    assert a_init.random() == b_init.random() and a_draw.random() == b_draw.random()
    init, draw = optvis.rngs(0)
    assert init.random() != draw.random()


def test_transform_descriptions_draw_within_their_ranges():
    transforms = optvis.standard_transforms()
    assert optvis.count_draws(transforms) == 6
    rng = np.random.default_rng(0)
    draws = np.array([optvis.draw_transforms(transforms, rng) for _ in range(2000)])
    assert draws.dtype == np.int32
    assert draws.min(axis=0).tolist() == [0] * 6
    assert draws.max(axis=0).tolist() == [8, 8, 10, 25, 4, 4]
    assert optvis.draw_transforms(optvis.TRANSFORMS["none"](), rng).shape == (0,)
    with pytest.raises(ValueError, match="units"):
        optvis.RandomRotate((1, 2), units="turns")


def test_the_tensorflow_transforms_are_the_shared_descriptions_with_ops():
    tr = pytest.importorskip("neuron_groups.backends.tensorflow.optvis.transforms")
    shared = optvis.standard_transforms()
    compose = tr.Compose(shared)
    for tf_transform, description in zip(compose.transforms, shared, strict=True):
        assert isinstance(tf_transform, type(description)) and callable(tf_transform)
        assert dataclasses.astuple(tf_transform) == dataclasses.astuple(description)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(5):
        np.testing.assert_array_equal(compose.draw(a), optvis.draw_transforms(shared, b))


# -- the numpy fake's evaluate ------------------------------------------------------------
def test_the_fake_evaluates_as_it_reads_and_linearly_elsewhere():
    model = FakeModel()
    image = np.random.default_rng(0).random((14, 14, 3), dtype=np.float32)
    targets = Targets.classes([3, 1])
    reading = model.read(image, "conv", targets)
    acts = np.stack([reading.acts, np.random.default_rng(1).random((7, 7, 8), dtype=np.float32)])
    got = model.evaluate(image, "conv", acts, targets, gradients=True)
    assert got.values.shape == (2, 2) and got.grads.shape == (2, 2, 7, 7, 8)
    np.testing.assert_allclose(got.values[0], reading.logits[[3, 1]], rtol=1e-5)
    np.testing.assert_array_equal(got.grads[0], reading.grads)
    logits = acts.reshape(2, -1) @ model.head.T  # (2, 4): the head applied directly
    np.testing.assert_allclose(got.values, logits[:, [3, 1]], rtol=1e-5)
    assert model.evaluate(image, "conv", acts, targets).grads is None
    assert model.reads == 1 and model.evaluations == 2


def test_the_fake_evaluates_direction_targets_and_refuses_bad_activations():
    model = FakeModel()
    image = np.random.default_rng(2).random((14, 14, 3), dtype=np.float32)
    vectors = np.random.default_rng(3).random((3, 12), dtype=np.float32)
    targets = Targets.directions("conv2", vectors)
    acts = np.random.default_rng(4).random((2, 7, 7, 8), dtype=np.float32)
    got = model.evaluate(image, "conv", acts, targets, gradients=True)
    conv2 = np.concatenate([acts, acts @ model.mix], axis=-1)  # (2, 7, 7, 12)
    np.testing.assert_allclose(got.values, np.einsum("bhwc,tc->bt", conv2, vectors), rtol=1e-5)
    np.testing.assert_array_equal(got.grads[1], model.read(image, "conv", targets).grads)
    with pytest.raises(LayerError, match=r"shape \(B, 7, 7, 8\).*got \(7, 7, 8\)"):
        model.evaluate(image, "conv", acts[0], targets)
    with pytest.raises(ClassNameError, match="top_classes"):
        model.evaluate(image, "conv", acts, Targets.top_classes(2))
