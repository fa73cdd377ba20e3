"""A small numpy VisionModel: exercises everything above the backend seam without TensorFlow."""

from __future__ import annotations

import threading

import numpy as np

from neuron_groups.backends.base import IconSettings, LayerInfo, VisionModel
from neuron_groups.errors import Cancelled


class FakeModel(VisionModel):
    """Activations (7, 7, 8) at "conv", a linear head to 4 classes, icons by a slow loop.

    ``logits = W @ conv.ravel()``, so the gradients are exact and known.
    """

    name = "fake"
    class_names = ("cat", "dog", "car", "tree")
    class_synonyms = (("cat", "kitty"), ("dog",), ("car", "automobile"), ("tree",))

    def __init__(self, step_delay: float = 0.0):
        rng = np.random.default_rng(0)
        self.head = rng.normal(size=(4, 7 * 7 * 8)).astype(np.float32)
        self.step_delay = step_delay
        self.icon_calls = 0
        self.started = threading.Event()

    def layers(self):
        return [LayerInfo("conv", (7, 7, 8), ("block/conv",)), LayerInfo("logits", (4,))]

    def activations(self, image, layer):
        # Each channel responds to a colour in one horizontal band of the image.
        small = image[:: max(1, image.shape[0] // 7), :: max(1, image.shape[1] // 7)][:7, :7]
        left = np.linspace(1, 0, 7)[None, :, None]
        return np.concatenate([small * left, small * (1 - left), small[..., :2]], axis=-1).astype(
            np.float32
        )

    def logits(self, image):
        return self.head @ self.activations(image, "conv").ravel()

    def activations_and_gradients(self, image, layer, class_indices):
        acts = self.activations(image, layer)
        grads = self.head[list(class_indices)].reshape(-1, 7, 7, 8)
        return acts, self.head @ acts.ravel(), grads

    def render_icons(
        self,
        layer,
        directions,
        settings=None,
        *,
        progress=None,
        snapshot=None,
        snapshot_every=0,
        should_stop=None,
    ):
        settings = settings or IconSettings()
        self.icon_calls += 1
        self.started.set()
        n, size = len(directions), settings.size
        images = np.zeros((n, size, size, 3), np.float32)
        for step in range(settings.steps):
            if should_stop is not None and should_stop():
                raise Cancelled()
            threading.Event().wait(self.step_delay)
            images[:] = (step + 1) / settings.steps
            if progress is not None:
                progress(step, np.full(n, float(step)))
            if snapshot is not None and snapshot_every and step % snapshot_every == 0:
                snapshot(step, images.copy())
        return images
