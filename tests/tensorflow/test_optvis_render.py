"""The optimization loop on a tiny conv net: it climbs, repeats, reports, stops."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import IconHooks, IconSettings, LayerInfo
from neuron_groups.backends.tensorflow.common import TFVisionModel
from neuron_groups.backends.tensorflow.optvis import Renderer, render_directions
from neuron_groups.backends.tensorflow.optvis.render import Adam
from neuron_groups.errors import Cancelled
from neuron_groups.icons import render_icons

FAST = IconSettings(size=24, steps=12)


def tiny_net(bias1=0.0, bias2=0.0):
    """Two 3x3 convolutions with ReLUs: images (B, H, W, 3) -> (B, H/2 - 2, W/2 - 2, 6)."""
    rng = np.random.default_rng(0)
    w1 = tf.constant(rng.normal(0, 0.5, (3, 3, 3, 8)).astype(np.float32))
    w2 = tf.constant(rng.normal(0, 0.3, (3, 3, 8, 6)).astype(np.float32))

    def forward(images, relu):
        x = relu(tf.nn.conv2d(images - 0.5, w1, 2, "SAME") + bias1)
        return relu(tf.nn.conv2d(x, w2, 1, "VALID") + bias2)

    return forward


DIRECTIONS = np.eye(6, dtype=np.float32)[[0, 3]] + 0.1


def scores_of(forward, images, directions=DIRECTIONS):
    acts = forward(tf.constant(images), tf.nn.relu).numpy()
    return np.einsum("bhwc,bc->b", acts, directions) / (acts.shape[1] * acts.shape[2])


def test_icons_have_the_right_shape_and_range_and_the_objective_rises():
    forward, seen = tiny_net(), []
    hooks = IconHooks(progress=lambda s, o: seen.append(o))
    icons = render_directions(forward, DIRECTIONS, FAST, hooks)
    assert icons.shape == (2, 24, 24, 3) and icons.dtype == np.float32
    assert icons.min() >= 0 and icons.max() <= 1 and icons.std() > 0.01
    assert len(seen) == 12 and all(o.shape == (2,) for o in seen)
    assert np.all(seen[-1] > seen[0] + 0.1)
    start = IconSettings(size=24, steps=0)
    before = scores_of(forward, render_directions(forward, DIRECTIONS, start))
    assert np.all(scores_of(forward, icons) > before + 0.1)


def test_a_seed_makes_the_result_repeatable():
    forward = tiny_net()
    a = render_directions(forward, DIRECTIONS, FAST)
    b = render_directions(forward, DIRECTIONS, FAST)
    c = render_directions(forward, DIRECTIONS, IconSettings(size=24, steps=12, seed=1))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c, atol=1e-3)


def test_one_compiled_step_serves_every_scale():
    sizes = []

    def forward(images, relu):
        sizes.append(images.shape[1])
        return tiny_net()(images, relu)

    renderer = Renderer(forward, DIRECTIONS, IconSettings(size=24, steps=30))
    renderer.run()
    assert sizes == [None]  # traced once, for any input size
    assert renderer.train_step.experimental_get_tracing_count() == 1
    assert renderer.step.numpy() == 30


def test_progress_and_snapshots_are_reported():
    progress, snaps = [], []
    icons = render_directions(
        tiny_net(),
        DIRECTIONS,
        IconSettings(size=24, steps=10),
        IconHooks(
            progress=lambda s, o: progress.append((s, o)),
            snapshot=lambda s, im: snaps.append((s, im)),
            snapshot_every=4,
        ),
    )
    assert [s for s, _ in progress] == list(range(10))
    assert [s for s, _ in snaps] == [3, 7, 9]
    assert all(im.shape == (2, 24, 24, 3) for _, im in snaps)
    np.testing.assert_array_equal(snaps[-1][1], icons)
    assert not np.allclose(snaps[0][1], icons)


def test_should_stop_cancels_between_steps():
    asked, progress = [], []

    def stop():
        asked.append(1)
        return len(asked) > 3

    with pytest.raises(Cancelled):
        render_directions(
            tiny_net(),
            DIRECTIONS,
            FAST,
            IconHooks(should_stop=stop, progress=lambda s, o: progress.append(s)),
        )
    assert progress == [0, 1, 2]


def test_redirected_relu_gradients_revive_a_dead_start():
    # A bias that kills every unit of the last layer for the grey starting image.
    forward = tiny_net(bias2=-1.5)
    start = render_directions(forward, DIRECTIONS, IconSettings(size=24, steps=0))
    assert np.all(scores_of(forward, start) == 0)
    plain = IconSettings(size=24, steps=40, transforms="none", redirect_relu_steps=0)
    # No gradient at all: nothing moves.
    np.testing.assert_array_equal(render_directions(forward, DIRECTIONS, plain), start)
    revived = render_directions(
        forward, DIRECTIONS, IconSettings(size=24, steps=40, transforms="none")
    )
    assert np.all(scores_of(forward, revived) > 0)


def test_without_transforms_the_network_sees_the_icon_itself():
    seen = []

    def forward(images, relu):
        seen.append(tuple(images.shape))
        return tiny_net()(images, relu)

    render_directions(forward, DIRECTIONS, IconSettings(size=20, steps=2, transforms="none"))
    assert seen == [(2, 20, 20, 3)]


@pytest.mark.parametrize(
    ("directions", "settings", "match"),
    [
        (np.ones(6), FAST, r"\(n, C\)"),
        (np.full((2, 6), np.nan), FAST, "NaN"),
        (DIRECTIONS, IconSettings(transforms="fancy"), "Unknown transforms"),
        (DIRECTIONS, IconSettings(size=4), "at least"),
        (np.ones((2, 5)), FAST, "5 channels"),
    ],
)
def test_bad_input_is_refused(directions, settings, match):
    with pytest.raises(ValueError, match=match):
        render_directions(tiny_net(), directions, settings)


def test_adam_is_tf1s_with_epsilon_outside_the_bias_correction():
    rng = np.random.default_rng(0)
    var = tf.Variable(rng.normal(size=5).astype(np.float32))
    adam = Adam(var, learning_rate=0.05, epsilon=1e-2)
    x, m, v = var.numpy().astype(np.float64), 0.0, 0.0
    for t in range(1, 6):
        g = rng.normal(size=5)
        adam.apply(tf.constant(g, tf.float32), tf.constant(t - 1))
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x -= 0.05 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-2)
    np.testing.assert_allclose(var.numpy(), x, rtol=1e-5, atol=1e-6)


def test_adam_takes_its_betas_per_call():
    """``apply`` given beta1 and beta2 (as the compiled step feeds them) uses them."""
    rng = np.random.default_rng(1)
    var = tf.Variable(rng.normal(size=5).astype(np.float32))
    adam = Adam(var, learning_rate=0.05)
    x, m, v = var.numpy().astype(np.float64), 0.0, 0.0
    for t in range(1, 6):
        g = rng.normal(size=5)
        adam.apply(tf.constant(g, tf.float32), tf.constant(t - 1), 0.05, 0.99, 0.7)
        m = 0.7 * m + 0.3 * g
        v = 0.99 * v + 0.01 * g * g
        x -= 0.05 * np.sqrt(1 - 0.99**t) / (1 - 0.7**t) * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(var.numpy(), x, rtol=1e-5, atol=1e-6)


class TinyModel(TFVisionModel):
    """The tiny net behind the VisionModel seam (only what icons need)."""

    name = "tiny"

    def __init__(self):
        super().__init__()
        self.net = tiny_net()

    def layers(self):
        return [LayerInfo("conv2", (5, 5, 6))]

    def weight_arrays(self):
        return []

    def forward_to(self, images, layer, relu=tf.nn.relu):
        return self.net(images, relu)


def test_cached_icons_through_the_tensorflow_model(tmp_path):
    model, steps = TinyModel(), []
    hooks = IconHooks(progress=lambda s, o: steps.append(s))
    icons = render_icons(model, "conv2", DIRECTIONS, FAST, cache=tmp_path, hooks=hooks)
    again = render_icons(model, "conv2", DIRECTIONS, FAST, cache=tmp_path, hooks=hooks)
    assert steps == list(range(12))  # the second call is a hit
    np.testing.assert_array_equal(icons, again)
    np.testing.assert_array_equal(icons, render_directions(tiny_net(), DIRECTIONS, FAST))


def test_cancelling_a_tensorflow_render_leaves_no_cache_entry(tmp_path):
    asked = []

    def stop():
        asked.append(1)
        return len(asked) > 5

    hooks = IconHooks(should_stop=stop)
    with pytest.raises(Cancelled):
        render_icons(TinyModel(), "conv2", DIRECTIONS, FAST, cache=tmp_path, hooks=hooks)
    assert list(tmp_path.iterdir()) == []
