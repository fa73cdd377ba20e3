"""Icon speed work that must not change what a default run produces.

The default optimization and Lucid's are pinned (Lucid's objectives from the code before the
speed work); the compiled step is traced once per process and shape; a run asked for again continues
instead of restarting, with a fresh run's result; the fast preset is the default's first steps.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading

import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import IconHooks, IconSettings
from neuron_groups.backends.optvis import check_directions
from neuron_groups.backends.tensorflow.optvis import Renderer, render_directions
from neuron_groups.errors import Cancelled
from tests.conftest import REPO
from tests.tensorflow.test_optvis_render import DIRECTIONS, TinyModel, tiny_net

SMALL = IconSettings(size=24, steps=12)

# Each icon's objective at steps 0, 16, 17 and 39 of Lucid's settings (IconSettings.lucid(),
# the default before issue 22) on InceptionV1 at mixed4d, for pinned_directions(), computed
# before the speed work.
PINNED_LUCID = {
    0: [97.60379028, 95.38643646, 100.14775085, 35.05913925, 85.05995178, 82.43969727],
    16: [617.58618164, 854.66333008, 807.81158447, 666.94097900, 775.83972168, 539.88818359],
    17: [809.84735107, 1073.03564453, 1118.00732422, 908.40954590, 938.18859863, 672.30737305],
    39: [1256.84008789, 1791.90478516, 1580.48278809, 1435.73779297, 1509.79968262, 969.00366211],
}
# The same for the default (Adam's betas 0.6 and 0.98), computed when it became the default.
PINNED_DEFAULT = {
    0: PINNED_LUCID[0],
    16: [915.99230957, 966.82202148, 956.51116943, 947.29437256, 1134.19201660, 614.05523682],
    17: [1140.25000000, 1236.42065430, 1347.71557617, 1232.44018555, 1313.30090332, 756.02148438],
    39: [1646.03344727, 1833.67419434, 2036.41638184, 1775.18701172, 1763.32641602, 1383.23205566],
}


def pinned_directions() -> np.ndarray:
    """Six sparse non-negative directions over mixed4d's 528 channels, (6, 528)."""
    rng = np.random.default_rng(0)
    return (np.abs(rng.normal(size=(6, 528))) * (rng.random((6, 528)) < 0.1)).astype(np.float32)


def objectives_until(model, layer, directions, settings, steps):
    """Each step's objectives (steps, n) of a run stopped after ``steps`` steps."""
    seen = []
    hooks = IconHooks(progress=lambda s, o: seen.append(o), should_stop=lambda: len(seen) >= steps)
    with pytest.raises(Cancelled):
        model.render_icons(layer, directions, settings, hooks)
    return np.array(seen)


# -- the default run does not drift ------------------------------------------------------
def test_the_default_is_lucids_but_adams_betas_and_lucids_own_is_a_preset():
    default, lucid = IconSettings(), IconSettings.lucid()
    for settings in (default, lucid):
        assert (settings.size, settings.steps, settings.learning_rate) == (80, 513, 0.05)
        assert (settings.seed, settings.transforms, settings.redirect_relu_steps) == (
            0,
            "standard",
            17,
        )
    assert (default.beta1, default.beta2) == (0.6, 0.98)
    assert (lucid.beta1, lucid.beta2) == (0.9, 0.999)
    assert "beta2" not in lucid.key() and "beta1" not in lucid.key()  # old cache keys match
    assert default.key()["beta1"] == 0.6 and default.key()["beta2"] == 0.98
    assert IconSettings.lucid(steps=7).steps == 7
    with pytest.raises(ValueError, match="beta2"):
        check_directions(DIRECTIONS, IconSettings(beta2=1.0))
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\)"):
        check_directions(DIRECTIONS, IconSettings(beta1=-0.1))


def test_the_fast_preset_is_the_defaults_first_256_steps():
    fast = IconSettings.fast()
    assert fast == dataclasses.replace(IconSettings(), steps=256)
    assert IconSettings.fast(size=40).size == 40 and IconSettings.fast(size=40).steps == 256
    # so a default run continues where the fast one stopped (same trajectory, more steps)
    renderer = Renderer(tiny_net(), DIRECTIONS, IconSettings.fast(size=24))
    assert renderer.continues(DIRECTIONS, IconSettings(size=24))
    assert not renderer.continues(DIRECTIONS, IconSettings.lucid(size=24))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("settings", "pinned"),
    [(IconSettings(), PINNED_DEFAULT), (IconSettings.lucid(), PINNED_LUCID)],
    ids=["default", "lucid"],
)
def test_the_icons_objectives_are_pinned(inception, settings, pinned):
    """The start is pinned exactly; later steps by their mean, across CPUs.

    The optimization amplifies float32 rounding, which differs between CPUs' kernels (AVX2
    against AVX-512). On an AVX2 EPYC, against the values pinned on an AVX-512 one: with
    Lucid's settings single icons drifted by up to 4.7% and the mean of the six by up to 1.4%;
    with the default's, single icons by up to 6.1% to step 17 and 14.6% at step 39 (its
    shorter memory follows each step's gradient more closely), the mean by up to 1.9%. So
    single icons are held to 10% up to step 17 and to 25% later. A changed setting moves the
    mean further: Adam's beta2 at 0.99 by 3.2% at step 16, a learning rate of 0.045 by 6.0%,
    the default's betas against Lucid's by 30%.
    """
    seen = objectives_until(inception, "mixed4d", pinned_directions(), settings, 40)
    for step, expected in pinned.items():
        expected = np.asarray(expected)
        if step == 0:
            np.testing.assert_allclose(seen[0], expected, rtol=2e-3, err_msg="step 0")
            continue
        mean_drift = abs(seen[step].mean() / expected.mean() - 1)
        assert mean_drift < 0.025, f"step {step}: the mean moved by {mean_drift:.1%}"
        rtol = 0.1 if step <= 17 else 0.25
        np.testing.assert_allclose(seen[step], expected, rtol=rtol, err_msg=f"step {step}")


def test_lucids_settings_and_another_beta1_are_not_the_default_result():
    forward = tiny_net()
    default = render_directions(forward, DIRECTIONS, SMALL)
    others = (IconSettings.lucid(size=24, steps=12), IconSettings(size=24, steps=12, beta1=0.7))
    for other in others:
        assert not np.allclose(render_directions(forward, DIRECTIONS, other), default, atol=1e-3)


# -- traced once per process and shape -----------------------------------------------------
class CountingModel(TinyModel):
    """The tiny model, counting how often its network is traced (run in Python)."""

    def __init__(self):
        super().__init__()
        self.forwards = 0

    def forward_to(self, images, layer, relu=tf.nn.relu):
        self.forwards += 1
        return super().forward_to(images, layer, relu)


def test_a_second_call_with_the_same_shape_does_not_trace_again():
    model = CountingModel()
    first = model.render_icons("conv2", DIRECTIONS, SMALL)
    traced, forwards = model.tracing_count(), model.forwards
    assert traced >= 1 and forwards == 1
    other = DIRECTIONS[::-1] * 2.0
    second = model.render_icons("conv2", other, SMALL)
    assert model.tracing_count() == traced and model.forwards == forwards
    np.testing.assert_array_equal(second, render_directions(tiny_net(), other, SMALL))
    np.testing.assert_array_equal(first, render_directions(tiny_net(), DIRECTIONS, SMALL))
    model.render_icons("conv2", DIRECTIONS[:1], SMALL)  # another icon count: another trace
    assert model.tracing_count() > traced


FRESH = """
import json, sys
import numpy as np
from tests.tensorflow.test_optvis_render import DIRECTIONS, TinyModel
from neuron_groups.backends.base import IconSettings
icons = TinyModel().render_icons("conv2", DIRECTIONS * 2.0, IconSettings(size=24, steps=12))
json.dump(icons.tolist(), sys.stdout)
"""


def test_a_reused_step_gives_a_fresh_processs_result():
    model = TinyModel()
    model.render_icons("conv2", DIRECTIONS, SMALL)
    reused = model.render_icons("conv2", DIRECTIONS * 2.0, SMALL)
    out = subprocess.run(
        [sys.executable, "-c", FRESH], cwd=REPO, capture_output=True, text=True, check=True
    )
    np.testing.assert_array_equal(reused, np.asarray(json.loads(out.stdout), np.float32))


# -- continuing one optimization -----------------------------------------------------------
def test_asking_for_more_steps_continues_the_run_to_the_fresh_result():
    model, steps = TinyModel(), []
    short = model.render_icons("conv2", DIRECTIONS, IconSettings(size=24, steps=6))
    hooks = IconHooks(progress=lambda s, o: steps.append(s))
    longer = model.render_icons("conv2", DIRECTIONS, SMALL, hooks)
    assert steps == list(range(6, 12))  # continued from step 6, not restarted
    np.testing.assert_array_equal(longer, render_directions(tiny_net(), DIRECTIONS, SMALL))
    np.testing.assert_array_equal(
        short, render_directions(tiny_net(), DIRECTIONS, IconSettings(size=24, steps=6))
    )


def test_a_stopped_run_resumes_where_it_stopped():
    model, steps = TinyModel(), []

    def progress(step, objectives):
        steps.append(step)

    stopping = IconHooks(should_stop=lambda: len(steps) >= 4, progress=progress)
    with pytest.raises(Cancelled):
        model.render_icons("conv2", DIRECTIONS, SMALL, stopping)
    resumed = model.render_icons("conv2", DIRECTIONS, SMALL, IconHooks(progress=progress))
    assert steps == list(range(12))
    np.testing.assert_array_equal(resumed, render_directions(tiny_net(), DIRECTIONS, SMALL))


def test_other_settings_or_fewer_steps_start_anew():
    model = TinyModel()
    model.render_icons("conv2", DIRECTIONS, SMALL)
    for settings in (
        IconSettings(size=24, steps=6),
        IconSettings(size=24, steps=12, seed=3),
        IconSettings(size=24, steps=12, beta1=0.7),
    ):
        steps: list[int] = []
        hooks = IconHooks(progress=lambda s, o, steps=steps: steps.append(s))
        icons = model.render_icons("conv2", DIRECTIONS, settings, hooks)
        assert steps[0] == 0
        np.testing.assert_array_equal(icons, render_directions(tiny_net(), DIRECTIONS, settings))


def test_a_busy_step_is_not_shared_between_threads():
    model, inner = TinyModel(), {}

    def other_call():
        inner["icons"] = model.render_icons("conv2", DIRECTIONS * 3.0, SMALL)

    def progress(step, objectives):
        if step == 2 and not inner:  # a second call at the same key while this one runs
            worker = threading.Thread(target=other_call)
            worker.start()
            worker.join()

    outer = model.render_icons("conv2", DIRECTIONS, SMALL, IconHooks(progress=progress))
    np.testing.assert_array_equal(outer, render_directions(tiny_net(), DIRECTIONS, SMALL))
    np.testing.assert_array_equal(
        inner["icons"], render_directions(tiny_net(), DIRECTIONS * 3.0, SMALL)
    )
