"""The optimization loop: one feature visualization per direction, all as one batch.

Lucid's ``render_vis`` in PyTorch, with the settings of the TensorFlow backend
(:mod:`neuron_groups.backends.tensorflow.optvis.render`): Adam (TF1's formulation) on the
Fourier-parameterized image of :mod:`.param`, through the transforms of :mod:`.transforms`
and the network up to the layer, with the ReLU gradient of :mod:`.relu` redirected for the
first steps, maximizing :mod:`.objectives`. :class:`RendererPool` keeps the last run per
layer so that a longer run continues a shorter one. Lucid, by the Lucid Authors, is
Apache-2.0 licensed: https://github.com/tensorflow/lucid; the code is written anew.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import torch

from neuron_groups.backends import optvis as shared
from neuron_groups.backends.base import NO_HOOKS, IconHooks, IconSettings
from neuron_groups.backends.torch.optvis import objectives
from neuron_groups.backends.torch.optvis.param import fourier_images
from neuron_groups.backends.torch.optvis.relu import relu_for
from neuron_groups.backends.torch.optvis.transforms import apply_transforms

Forward = Callable[[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]], torch.Tensor]
"""``forward(images, relu)``: images (B, 3, H, W) in [0, 1] -> activations (B, C, h, w)."""


# -- the optimizer and the loop ----------------------------------------------------------------
class Adam:
    """Adam with TF1's ``ApplyAdam`` kernel (epsilon outside the bias correction), in place."""

    def __init__(self, var: torch.Tensor, epsilon: float = 1e-8):
        self.var, self.epsilon = var, epsilon
        self.m = torch.zeros_like(var)
        self.v = torch.zeros_like(var)

    def apply(
        self,
        grad: torch.Tensor,
        step: int,
        learning_rate: float,
        beta2: float,
        beta1: float = 0.9,
    ) -> None:
        """Update the variable with ``grad``; ``step`` is the 0-based update count."""
        t = np.float32(step + 1)
        b1, b2 = np.float32(beta1), np.float32(beta2)
        alpha = np.float32(learning_rate) * np.sqrt(np.float32(1) - b2**t) / (np.float32(1) - b1**t)
        with torch.no_grad():
            self.m += (grad - self.m) * float(np.float32(1) - b1)
            self.v += (grad * grad - self.v) * float(np.float32(1) - b2)
            self.var -= (self.m * float(alpha)) / (self.v.sqrt() + self.epsilon)


def trajectory_key(directions: np.ndarray, settings: IconSettings) -> tuple:
    """What fixes the images an optimization goes through: all but the step count."""
    settings_key = {k: v for k, v in IconSettings.key(settings).items() if k != "steps"}
    return (
        shared.directions_digest(directions),
        tuple(sorted(settings_key.items())),
        settings.beta2,
        settings.beta1,
    )


class Renderer:
    """The state of one batch of feature visualizations; :meth:`run` goes to ``steps``."""

    def __init__(
        self, forward: Forward, directions: np.ndarray, settings: IconSettings, device
    ) -> None:
        self.forward, self.settings = forward, settings
        self.trajectory = trajectory_key(directions, settings)
        n, size = len(directions), settings.size
        init_rng, self.draw_rng = shared.rngs(settings.seed)
        self.spectrum = torch.from_numpy(shared.init_spectrum(n, size, size, init_rng)).to(device)
        self.scale = torch.from_numpy(shared.spectrum_scale(size, size)).to(device)  # (S, wf)
        self.directions = torch.from_numpy(directions).to(device)  # (n, C)
        self.transforms = shared.TRANSFORMS[settings.transforms]()
        self.adam = Adam(self.spectrum)
        self.step = 0

    def images(self) -> torch.Tensor:
        """The current images, (n, 3, S, S) in (0, 1)."""
        return fourier_images(self.spectrum, self.scale, self.settings.size)

    def train_step(self, draws: np.ndarray) -> np.ndarray:
        """One update with this step's draws; return each item's objective (n,)."""
        spectrum = self.spectrum.detach().requires_grad_(True)
        with torch.enable_grad():
            images = fourier_images(spectrum, self.scale, self.settings.size)  # (n, 3, S, S)
            seen = apply_transforms(self.transforms, images, draws)  # (n, 3, S', S')
            relu = relu_for(self.step < self.settings.redirect_relu_steps)
            acts = self.forward(seen, relu)  # (n, C, h, w)
            scores = objectives.direction_scores(acts, self.directions)  # (n,)
            (grad,) = torch.autograd.grad(-objectives.total(scores), spectrum)
        settings = self.settings
        self.adam.apply(grad, self.step, settings.learning_rate, settings.beta2, settings.beta1)
        self.step += 1
        return scores.detach().cpu().numpy()

    def run(self, settings: IconSettings, hooks: IconHooks = NO_HOOKS) -> np.ndarray:
        """Run from the current step to ``settings.steps``; return images (n, S, S, 3)."""
        self.settings = settings
        steps = settings.steps
        for i in range(self.step, steps):
            hooks.before_step(i, steps)
            draws = shared.draw_transforms(self.transforms, self.draw_rng)  # (n_draws,)
            scores = self.train_step(draws)
            hooks.after_step(i, steps, scores, self._numpy_images)
        return self._numpy_images()

    def _numpy_images(self) -> np.ndarray:
        with torch.no_grad():
            return self.images().permute(0, 2, 3, 1).cpu().numpy()  # (n, S, S, 3)


class RendererPool:
    """One kept :class:`Renderer` per layer; a call that repeats its run continues it.

    A call with the directions and settings (all but ``steps``) of the kept run, and no
    fewer steps than it has made, goes on from where it stopped, with a fresh run's result.

    Parameters
    ----------
    device : callable
        ``device()`` is where a new renderer's tensors live (the model's device, asked
        each time one is made).
    """

    def __init__(self, device: Callable[[], torch.device] = lambda: torch.device("cpu")) -> None:
        self.device = device
        self._kept: dict[str, Renderer] = {}
        self._lock = threading.Lock()

    def render(
        self,
        tag: str,
        forward: Forward,
        directions: np.ndarray,
        settings: IconSettings,
        hooks: IconHooks,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C); return (n, S, S, 3) in [0, 1]."""
        directions = shared.check_directions(directions, settings)
        if not self._lock.acquire(blocking=False):  # busy in another thread: a fresh run
            return Renderer(forward, directions, settings, self.device()).run(settings, hooks)
        try:
            kept = self._kept.get(tag)
            if not (
                kept is not None
                and kept.trajectory == trajectory_key(directions, settings)
                and kept.step <= settings.steps
            ):
                kept = self._kept[tag] = Renderer(forward, directions, settings, self.device())
            return kept.run(settings, hooks)
        finally:
            self._lock.release()


__all__ = ["Adam", "Forward", "Renderer", "RendererPool", "trajectory_key"]
