"""Feature visualization in PyTorch, piece by piece against the TensorFlow backend's ops.

Each piece (parameterization, transforms, redirected ReLU, Adam) is checked on the same
inputs as its TensorFlow twin, forward and backward; the loop is checked for its hooks,
seeds and continuation, and on the demo for the icons' scores against TensorFlow's.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from neuron_groups.backends import optvis  # noqa: E402
from neuron_groups.backends.base import IconHooks, IconSettings  # noqa: E402
from neuron_groups.backends.tensorflow.optvis import param as tf_param  # noqa: E402
from neuron_groups.backends.tensorflow.optvis import relu as tf_relu  # noqa: E402
from neuron_groups.backends.tensorflow.optvis import render as tf_render  # noqa: E402
from neuron_groups.backends.tensorflow.optvis import transforms as tf_transforms  # noqa: E402
from neuron_groups.backends.torch import InceptionV1  # noqa: E402
from neuron_groups.backends.torch import optvis as pt  # noqa: E402
from neuron_groups.errors import Cancelled  # noqa: E402
from neuron_groups.factorization import factorize  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*:DeprecationWarning")


def nchw(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


def nhwc(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().permute(0, 2, 3, 1).numpy()


def both_ways(tf_fn, torch_fn, images: np.ndarray, seed: int = 0):
    """Outputs and input gradients (for a random cotangent) of a TF op and its PyTorch twin."""
    x_tf = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x_tf)
        y_tf = tf_fn(x_tf)
    cot = np.random.default_rng(seed).normal(size=y_tf.shape).astype(np.float32)
    g_tf = tape.gradient(y_tf, x_tf, output_gradients=tf.constant(cot)).numpy()
    x_pt = nchw(images).requires_grad_(True)
    y_pt = torch_fn(x_pt)
    (g_pt,) = torch.autograd.grad(y_pt, x_pt, nchw(cot))
    return (y_tf.numpy(), nhwc(y_pt)), (g_tf, nhwc(g_pt))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).random((2, 33, 30, 3), dtype=np.float32)  # (n, h, w, 3)


@pytest.mark.parametrize("index", range(11))
def test_random_scale_matches_tf1_bilinear(images, index):
    scale = optvis.standard_transforms()[2]
    (y_tf, y_pt), (g_tf, g_pt) = both_ways(
        lambda x: tf_transforms.with_ops(scale)(x, (index,)),
        lambda x: pt.apply_transform(scale, x, (index,)),
        images,
    )
    assert y_pt.shape == y_tf.shape
    np.testing.assert_allclose(y_pt, y_tf, atol=1e-6)
    np.testing.assert_allclose(g_pt, g_tf, atol=1e-5)


@pytest.mark.parametrize("index", [0, 3, 9, 12, 20])
def test_rotation_matches_tf1_with_its_gradient(images, index):
    rotation = optvis.standard_transforms()[3]
    (y_tf, y_pt), (g_tf, g_pt) = both_ways(
        lambda x: tf_transforms.with_ops(rotation)(x, (index,)),
        lambda x: pt.apply_transform(rotation, x, (index,)),
        images,
    )
    np.testing.assert_array_equal(y_pt, y_tf)
    np.testing.assert_allclose(g_pt, g_tf, atol=1e-6)


def test_standard_transforms_match_with_the_same_draws(images):
    transforms = optvis.standard_transforms()
    draws = optvis.draw_transforms(transforms, np.random.default_rng(4))
    (y_tf, y_pt), (g_tf, g_pt) = both_ways(
        lambda x: tf_transforms.Compose(transforms)(x, draws),
        lambda x: pt.apply_transforms(transforms, x, draws),
        images,
    )
    np.testing.assert_allclose(y_pt, y_tf, atol=1e-6)
    np.testing.assert_allclose(g_pt, g_tf, atol=1e-5)


def test_fourier_parameterization_matches():
    rng = np.random.default_rng(2)
    spectrum = optvis.init_spectrum(3, 24, 24, rng, sd=0.5)  # (2, n, 3, S, wf)
    scale = optvis.spectrum_scale(24, 24)
    v = tf.Variable(spectrum)
    with tf.GradientTape() as tape:
        y_tf = tf_param.to_valid_rgb(tf_param.fft_image(v, tf.constant(scale), 24, 24))
        loss_tf = tf.reduce_sum(y_tf * np.arange(3, dtype=np.float32))
    s = torch.from_numpy(spectrum).requires_grad_(True)
    y_pt = pt.fourier_images(s, torch.from_numpy(scale), 24)  # (n, 3, S, S)
    loss_pt = (y_pt * torch.arange(3.0)[:, None, None]).sum()
    (g_pt,) = torch.autograd.grad(loss_pt, s)
    np.testing.assert_allclose(nhwc(y_pt), y_tf.numpy(), atol=1e-6)
    g_tf = tape.gradient(loss_tf, v).numpy()
    np.testing.assert_allclose(g_pt.numpy(), g_tf, atol=1e-4 * np.abs(g_tf).max())


@pytest.mark.parametrize("redirect", [True, False])
def test_redirected_relu_matches(redirect):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    x[1] = -np.abs(x[1])  # item 1 is dead: its gradient is redirected
    g = rng.normal(size=x.shape).astype(np.float32)
    y = np.maximum(x, 0)
    if redirect:
        ref = tf_relu.redirected_grad(tf.constant(y), tf.constant(g)).numpy()
    else:
        ref = tf_relu.relu_grad(tf.constant(y), tf.constant(g)).numpy()
    xt = torch.from_numpy(x).requires_grad_(True)
    (got,) = torch.autograd.grad(pt.relu_for(redirect)(xt), xt, torch.from_numpy(g))
    np.testing.assert_array_equal(got.numpy(), ref)
    assert redirect == bool(np.any(ref[1] != 0))


@pytest.mark.parametrize("beta1", [0.9, 0.7])
def test_adam_is_tf1s(beta1):
    rng = np.random.default_rng(5)
    start = rng.normal(size=(4, 5)).astype(np.float32)
    grads = rng.normal(size=(6, 4, 5)).astype(np.float32)
    v = tf.Variable(start)
    ref = tf_render.Adam(v, 0.05)
    mine = torch.from_numpy(start.copy())
    adam = pt.Adam(mine)
    for step, grad in enumerate(grads):
        ref.apply(tf.constant(grad), step, 0.05, 0.99, beta1)
        adam.apply(torch.from_numpy(grad), step, 0.05, 0.99, beta1)
    np.testing.assert_allclose(mine.numpy(), v.numpy(), rtol=1e-6, atol=1e-7)
    assert not np.allclose(mine.numpy(), start)


# -- the loop -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch_inception():
    return InceptionV1()


@pytest.fixture(scope="module")
def demo(inception, dog_cat):
    """The demo's six directions at mixed4d (NMF of dog_cat)."""
    return factorize(inception.activations(dog_cat, "mixed4d"), 6).channel  # (6, 528)


SMALL = IconSettings(size=32, steps=4)


def test_hooks_progress_snapshots_and_stop(torch_inception, demo):
    seen, shots = [], []
    hooks = IconHooks(
        progress=lambda step, scores: seen.append((step, scores.shape)),
        snapshot=lambda step, images: shots.append((step, images.shape)),
        snapshot_every=3,
    )
    icons = torch_inception.render_icons("mixed4d", demo[:2], SMALL, hooks)
    assert icons.shape == (2, 32, 32, 3) and icons.dtype == np.float32
    assert icons.min() > 0 and icons.max() < 1
    assert seen == [(i, (2,)) for i in range(4)]
    assert shots == [(2, (2, 32, 32, 3)), (3, (2, 32, 32, 3))]
    stop = IconHooks(should_stop=lambda: len(seen) >= 6, progress=lambda s, _: seen.append(s))
    with pytest.raises(Cancelled):
        torch_inception.render_icons("mixed4d", demo[:3], SMALL, stop)


def test_a_longer_run_continues_a_shorter_one(torch_inception, demo):
    fresh = pt.Renderer(
        lambda x, relu: torch_inception.forward_to(x, "mixed4d", relu),
        demo[:2],
        IconSettings(size=32, steps=5),
        torch.device("cpu"),
    ).run(IconSettings(size=32, steps=5))
    torch_inception.render_icons("mixed4d", demo[:2], IconSettings(size=32, steps=2))
    longer = torch_inception.render_icons("mixed4d", demo[:2], IconSettings(size=32, steps=5))
    np.testing.assert_array_equal(longer, fresh)
    other_seed = torch_inception.render_icons(
        "mixed4d", demo[:2], IconSettings(size=32, steps=5, seed=1)
    )
    assert not np.allclose(other_seed, fresh)


def test_bad_directions_are_refused(torch_inception):
    with pytest.raises(ValueError, match="shape"):
        torch_inception.render_icons("mixed4d", np.ones(528), SMALL)
    with pytest.raises(ValueError, match="Unknown transforms"):
        torch_inception.render_icons("mixed4d", np.ones((1, 528)), IconSettings(transforms="x"))


def test_first_step_matches_tensorflow(inception, torch_inception, demo):
    # One step: same initial spectrum, same draws; the gradients differ only where max
    # pooling breaks ties differently, which flips Adam's first update of a few
    # coefficients (~0.1% of them), so the images agree closely but not exactly.
    settings = IconSettings(steps=1)
    ref = inception.render_icons("mixed4d", demo, settings)
    got = torch_inception.render_icons("mixed4d", demo, settings)
    assert np.abs(got - ref).mean() < 1e-3
    assert np.abs(got - ref).max() < 2e-2
