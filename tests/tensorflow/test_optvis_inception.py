"""A quality floor for feature visualization on the real InceptionV1 (small and fast)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from neuron_groups.backends.base import IconHooks, IconSettings

LAYER = "mixed4a"
SETTINGS = IconSettings(size=48, steps=60)


def scores(model, icons, directions):
    acts = model.forward_to(tf.constant(icons), LAYER).numpy()  # (n, h, w, C)
    return np.einsum("bhwc,bc->b", acts, directions) / (acts.shape[1] * acts.shape[2])


@pytest.mark.slow
def test_icons_excite_their_direction_far_more_than_the_start(inception):
    rng = np.random.default_rng(0)
    directions = np.zeros((2, 512), np.float32)
    directions[0, 7] = 1.0  # one channel
    directions[1] = np.abs(rng.normal(size=512)) * (rng.random(512) < 0.1)  # a sparse mix
    seen = []
    icons = inception.render_icons(
        LAYER, directions, SETTINGS, IconHooks(progress=lambda s, o: seen.append(o))
    )
    start = inception.render_icons(LAYER, directions, IconSettings(size=48, steps=0))
    assert icons.shape == (2, 48, 48, 3)
    before, after = scores(inception, start, directions), scores(inception, icons, directions)
    assert np.all(after > before + 5 * np.abs(before) + 1), (before, after)
    assert np.all(seen[-1] > 3 * seen[0])
    # Structure, not a flat colour: the icons vary far more than the grey start.
    assert np.all(icons.std(axis=(1, 2, 3)) > 0.06)
    assert np.all(start.std(axis=(1, 2, 3)) < 0.03)
    # Each icon is better for its own direction than for the other one's.
    cross = scores(inception, icons[::-1], directions)
    assert np.all(after > cross)
