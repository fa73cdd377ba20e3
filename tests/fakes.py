"""A small numpy VisionModel: exercises everything above the backend seam without TensorFlow."""

from __future__ import annotations

import threading

import numpy as np

from neuron_groups.backends.base import IconSettings, LayerInfo, VisionModel
from neuron_groups.errors import Cancelled
from neuron_groups.result import NeuronGroupsResult


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


def fake_result(
    n: int = 3,
    classes=("tabby", "tiger cat"),
    icons: bool = False,
    seed: int = 0,
    size: int = 32,
    top5=None,
) -> NeuronGroupsResult:
    """A small random result (n groups on a 4x4 map, 8 channels) for page and widget tests."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=20).astype(np.float32)
    return NeuronGroupsResult(
        image=rng.random((size, size, 3)).astype(np.float32),
        layer="mixed4d",
        spatial=rng.random((n, 4, 4)).astype(np.float32),
        channel=rng.random((n, 8)).astype(np.float32),
        attributions=rng.normal(size=(len(classes), n)).astype(np.float32),
        classes=list(classes),
        class_indices=np.arange(len(classes)),
        logits=logits,
        top5=list(top5) if top5 is not None else [f"class {i}" for i in range(5)],
        icons=rng.random((n, 16, 16, 3)).astype(np.float32) if icons else None,
    )
