"""A small numpy VisionModel: exercises everything above the backend seam without TensorFlow."""

from __future__ import annotations

import threading

import numpy as np

from neuron_groups.backends.base import (
    NO_HOOKS,
    NO_TARGETS,
    Evaluation,
    IconSettings,
    LayerInfo,
    Readout,
    VisionModel,
)
from neuron_groups.backends.inputs import check_acts, check_evaluation_targets, check_image
from neuron_groups.result import LayerGroups, NeuronGroupsResult


class FakeModel(VisionModel):
    """Activations (7, 7, 8) at "conv", a linear head to 4 classes, icons by a slow loop.

    ``logits = W @ conv.ravel()``, so the gradients are exact and known. ``reads`` counts
    the forward-and-backward passes asked of it. A second spatial layer after "conv",
    ``conv2 = [conv, conv @ mix]`` (7, 7, 12), makes direction targets (a group's score at
    conv2, read at conv) exact too; the logits read only its first 8 channels, so they are
    the same function of "conv" as before.

    :meth:`evaluate` is exact too (all after "conv" is linear); ``evaluations`` counts its
    calls (``reads`` does not count them).
    """

    name = "fake"
    class_names = ("cat", "dog", "car", "tree")
    class_synonyms = (("cat", "kitty"), ("dog",), ("car", "automobile"), ("tree",))
    logits_layer = "logits"

    def __init__(self, step_delay: float = 0.0, gate: threading.Event | None = None):
        rng = np.random.default_rng(0)
        self.head = rng.normal(size=(4, 7 * 7 * 8)).astype(np.float32)
        self.mix = np.random.default_rng(1).random((8, 4)).astype(np.float32)  # >= 0
        self.step_delay = step_delay
        self.gate = gate  # when given, icons wait for it before their first step
        self.icon_calls = 0
        self.reads = 0
        self.evaluations = 0
        self.started = threading.Event()

    def layers(self):
        return [
            LayerInfo("conv", (7, 7, 8), ("block/conv",)),
            LayerInfo("conv2", (7, 7, 12)),
            LayerInfo("logits", (4,)),
        ]

    def weight_arrays(self):
        return [self.head]

    def _conv(self, image):
        # Each channel responds to a colour in one horizontal band of the image.
        small = image[:: max(1, image.shape[0] // 7), :: max(1, image.shape[1] // 7)][:7, :7]
        left = np.linspace(1, 0, 7)[None, :, None]
        return np.concatenate([small * left, small * (1 - left), small[..., :2]], axis=-1).astype(
            np.float32
        )

    def read(self, image, layer, targets=NO_TARGETS):
        self.reads += 1
        name = self.resolve_layer(layer).name
        conv = self._conv(image)  # (7, 7, 8)
        logits = self.head @ conv.ravel()  # (4,)
        acts = {"conv": conv, "conv2": self._conv2(conv), "logits": logits}[name]
        if targets.kind == "directions":
            return self._read_directions(name, acts, logits, targets)
        if targets.kind == "top":
            indices = np.argsort(-logits, kind="stable")[: targets.k]
        else:
            indices = np.asarray(targets.indices, dtype=np.int64)
        grads = self._class_weights(name, indices)  # (T, *acts.shape)
        return Readout(acts, logits, grads, np.asarray(indices, dtype=np.int64))

    def _conv2(self, conv):
        return np.concatenate([conv, conv @ self.mix], axis=-1)  # (7, 7, 12)

    def _read_directions(self, name, acts, logits, targets):
        later = self.resolve_layer(targets.layer).name
        if (name, later) != ("conv", "conv2"):
            raise NotImplementedError("the fake model has direction targets from conv to conv2")
        vectors = targets.vectors  # (T, 12)
        # t = sum_xy <conv2[y, x], v> = sum_xy <conv[y, x], v[:8] + mix @ v[8:]>
        per_channel = vectors[:, :8] + vectors[:, 8:] @ self.mix.T  # (T, 8)
        grads = np.broadcast_to(per_channel[:, None, None, :], (len(vectors), 7, 7, 8))
        return Readout(acts, logits, grads.astype(np.float32), np.arange(len(vectors)))

    def evaluate(self, image, layer, acts, targets, gradients=False):
        """Targets at given activations: linear after "conv", so values and gradients exact."""
        self.evaluations += 1
        check_image(image)
        info = self.resolve_layer(layer)
        later = check_evaluation_targets(self, info, targets)
        acts = check_acts(acts, info.shape, info.name)  # (B, ...)
        if targets.kind == "directions":
            if (info.name, later.name) != ("conv", "conv2"):
                raise NotImplementedError("the fake model has direction targets from conv to conv2")
            # t = sum_xy <conv2[y, x], v> = sum_xy <conv[y, x], v[:8] + mix @ v[8:]>
            per_channel = targets.vectors[:, :8] + targets.vectors[:, 8:] @ self.mix.T  # (T, 8)
            weights = np.broadcast_to(per_channel[:, None, None, :], (len(per_channel), 7, 7, 8))
        else:
            weights = self._class_weights(info.name, np.asarray(targets.indices, np.int64))
        flat = np.reshape(weights, (len(weights), -1))  # (T, P)
        values = (acts.reshape(len(acts), -1) @ flat.T).astype(np.float32)  # (B, T)
        grads = None
        if gradients:
            grads = np.broadcast_to(weights[None], (len(acts), *weights.shape)).astype(np.float32)
        return Evaluation(values, grads)

    def _class_weights(self, name, indices):
        """d logits[indices] / d acts at ``name``, (T, *shape): the logits are linear in it."""
        head = self.head[indices].reshape(-1, 7, 7, 8)  # (T, 7, 7, 8)
        if name == "conv":
            return head
        if name == "conv2":  # the logits read conv2's first 8 channels only
            return np.concatenate([head, np.zeros((len(indices), 7, 7, 4), np.float32)], -1)
        return np.eye(4, dtype=np.float32)[indices]  # the logits themselves

    def render_icons(self, layer, directions, settings=None, hooks=NO_HOOKS):
        settings = settings or IconSettings()
        self.icon_calls += 1
        self.started.set()
        n, size = len(directions), settings.size
        images = np.zeros((n, size, size, 3), np.float32)
        if self.gate is not None:
            self.gate.wait(timeout=60)
        for step in range(settings.steps):
            hooks.before_step(step, settings.steps)
            threading.Event().wait(self.step_delay)
            images[:] = (step + 1) / settings.steps
            hooks.after_step(step, settings.steps, np.full(n, float(step)), images.copy)
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
    groups = LayerGroups(
        layer="mixed4d",
        spatial=rng.random((n, 4, 4)).astype(np.float32),
        channel=rng.random((n, 8)).astype(np.float32),
    )
    result = NeuronGroupsResult(
        image=rng.random((size, size, 3)).astype(np.float32),
        groups=[groups],
        attributions=rng.normal(size=(len(classes), n)).astype(np.float32),
        classes=list(classes),
        class_indices=np.arange(len(classes)),
        logits=logits,
        top5=list(top5) if top5 is not None else [f"class {i}" for i in range(5)],
    )
    if icons:
        result.icons = rng.random((n, 16, 16, 3)).astype(np.float32)
    return result
