"""A user's own keras.Model through the whole pipeline, icons included."""

import numpy as np

from neuron_groups import IconSettings, load_model, neuron_groups
from tests.tensorflow.test_keras_model import tiny_model


def test_keras_model_end_to_end(tmp_path):
    model = load_model(
        tiny_model(), value_range=(-1, 1), class_names=[["cat", "kitty"], ["dog"], ["car"]]
    )
    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    settings = IconSettings(size=24, steps=12, seed=1)
    result = neuron_groups(
        image, "c2", 3, ["kitty", 2], model=model, icon_settings=settings, icon_cache=tmp_path
    )
    assert result.spatial.shape[0] == 3 and result.channel.shape == (3, 8)
    assert result.classes == ["cat", "car"] and result.attributions.shape == (2, 3)
    assert result.icons.shape == (3, 24, 24, 3)
    assert result.icons.min() >= 0.0 and result.icons.max() <= 1.0
    assert result.icons.std() > 0.01  # optimised, not a flat image
    assert len(list(tmp_path.rglob("*.npy"))) == 1  # cached
    again = neuron_groups(
        image, "c2", 3, ["kitty", 2], model=model, icon_settings=settings, icon_cache=tmp_path
    )
    np.testing.assert_array_equal(again.icons, result.icons)
