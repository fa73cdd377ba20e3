import numpy as np

from neuron_groups.attribution import group_attributions


def test_matches_the_original_loop():
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(2, 4, 5, 7)).astype(np.float32)
    spatial = rng.random((3, 4, 5)).astype(np.float32)
    channel = rng.random((3, 7)).astype(np.float32)
    # The notebook: [np.sum(group_vec * grad) for group_vec in group_vecs] for each class.
    vecs = [spatial[i, ..., None] * channel[i] for i in range(3)]
    expected = np.array([[np.sum(v * g) for v in vecs] for g in grads])
    np.testing.assert_allclose(group_attributions(grads, spatial, channel), expected, rtol=1e-5)


def test_linear_in_gradient_and_zero_for_empty_group():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(1, 3, 3, 4))
    spatial = rng.random((2, 3, 3))
    spatial[1] = 0
    channel = rng.random((2, 4))
    once = group_attributions(grads, spatial, channel)
    twice = group_attributions(2 * grads, spatial, channel)
    np.testing.assert_allclose(twice, 2 * once, rtol=1e-6)
    assert once[0, 1] == 0 and once[0, 0] != 0


# -- the three methods on a nonlinear numpy model with known answers ----------------------------

import pytest  # noqa: E402

from neuron_groups.attribution import (  # noqa: E402
    COMPLETENESS,
    METHODS,
    Probe,
    ablation,
    group_parts,
    integrated,
    linear,
)
from neuron_groups.backends.base import Evaluation, Readout, Targets  # noqa: E402
from tests.fakes import FakeModel  # noqa: E402


class PowerModel(FakeModel):
    """``logit_k = sum W_k * conv**p / p`` at "conv": gradient ``W_k * conv**(p-1)``.

    Along the path ``s a`` the gradient is ``s**(p-1) W a**(p-1)``, whose mean over s in
    [0, 1] is ``W a**(p-1) / p``: integrated gradients are the linear table divided by p.
    """

    def __init__(self, power: int):
        super().__init__()
        self.power = power
        self.evaluated = 0

    def _weights(self, indices) -> np.ndarray:
        return self.head[list(indices)].reshape(-1, 7, 7, 8)  # (T, 7, 7, 8)

    def read(self, image, layer, targets):
        conv = self._conv(image)
        logits = self.evaluate(image, "conv", conv[None], Targets.classes(range(4))).values[0]
        indices = np.asarray(targets.indices, np.int64)
        grads = self._weights(indices) * conv[None] ** (self.power - 1)
        return Readout(conv, logits.astype(np.float32), grads.astype(np.float32), indices)

    def evaluate(self, image, layer, acts, targets, gradients=False):
        self.evaluated += len(acts)
        w = self._weights(targets.indices)  # (T, 7, 7, 8)
        p = self.power
        values = np.einsum("thwc,bhwc->bt", w, acts.astype(np.float64) ** p / p)
        grads = w[None] * acts[:, None] ** (p - 1) if gradients else None  # (B, T, 7, 7, 8)
        return Evaluation(values.astype(np.float32), grads)


@pytest.fixture
def setting():
    model = PowerModel(power=8)
    rng = np.random.default_rng(2)
    image = rng.random((28, 28, 3)).astype(np.float32)
    acts = model._conv(image)
    spatial = rng.random((3, 7, 7)).astype(np.float32)
    channel = rng.random((3, 8)).astype(np.float32)
    return model, image, acts, spatial, channel


def probe_of(model, image, acts, classes=(1, 3)):
    return Probe(model, image, "conv", acts, Targets.classes(classes))


def test_integrated_is_the_path_integral_and_complete(setting):
    model, image, acts, spatial, channel = setting
    probe = probe_of(model, image, acts)
    found = integrated(probe, spatial, channel)
    exact = linear(probe, spatial, channel).table / model.power  # see PowerModel
    np.testing.assert_allclose(found.table, exact, rtol=COMPLETENESS)
    change = model.evaluate(image, "conv", acts[None], Targets.classes((1, 3))).values[0]
    np.testing.assert_allclose(found.table.sum(axis=1) + found.rest, change, rtol=COMPLETENESS)
    assert probe.path_gradient().steps > 16  # a steep power needs the path refined


def test_a_quadratic_path_is_exact_at_the_first_steps(setting):
    _, image, acts, spatial, channel = setting
    model = PowerModel(power=2)
    probe = probe_of(model, image, acts)
    found = integrated(probe, spatial, channel)
    assert probe.path_gradient().steps == 16 and model.evaluated == 17  # one batched pass
    np.testing.assert_allclose(found.table, linear(probe, spatial, channel).table / 2, rtol=1e-5)


def test_the_rest_is_what_the_groups_leave_out(setting):
    model, image, acts, spatial, channel = setting
    probe = probe_of(model, image, acts)
    found = integrated(probe, spatial, channel)
    reconstruction = group_parts(spatial, channel).sum(axis=0)
    mean = probe.path_gradient().mean
    expected = np.einsum("thwc,hwc->t", mean, acts - reconstruction)
    np.testing.assert_allclose(found.rest, expected, rtol=1e-4)


def test_ablation_is_the_measured_drop_with_activations_kept_non_negative(setting):
    model, image, acts, spatial, channel = setting
    found = ablation(probe_of(model, image, acts), spatial, channel)
    parts = group_parts(spatial, channel)
    w = model._weights((1, 3)).astype(np.float64)
    for g in range(3):
        kept = acts - np.minimum(acts, parts[g])
        assert kept.min() >= 0
        drop = np.einsum("thwc,hwc->t", w, (acts.astype(np.float64) ** 8 - kept**8) / 8)
        np.testing.assert_allclose(found.table[:, g], drop, rtol=1e-4)


def test_every_method_has_one_calling_pattern(setting):
    model, image, acts, spatial, channel = setting
    probe = probe_of(model, image, acts)
    assert list(METHODS) == ["integrated", "linear", "ablation"]
    for method in METHODS.values():
        assert method(probe, spatial, channel).table.shape == (2, 3)
