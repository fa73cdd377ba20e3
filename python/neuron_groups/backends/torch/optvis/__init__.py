"""Feature visualization in PyTorch: Lucid's ``render_vis``, as the TensorFlow backend does it.

The framework-neutral parts (settings checks, seeded generators, spectrum, colour matrix,
the transforms' descriptions and draws) are shared in :mod:`neuron_groups.backends.optvis`;
this package holds the PyTorch ops, channels-first, in the pieces of the TensorFlow
backend's ``optvis``: :mod:`.param` (the image as a Fourier spectrum, colour-decorrelated),
:mod:`.transforms` (the random transforms, as TF1 computed them), :mod:`.objectives`
(direction scores), :mod:`.relu` (the redirected ReLU gradient) and :mod:`.render` (Adam,
the loop, :class:`RendererPool`). Lucid, by the Lucid Authors: https://github.com/tensorflow/lucid.
Written anew; no Lucid code is used.
"""

from neuron_groups.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    render=("Adam", "Renderer", "RendererPool"),
    param="fourier_images",
    transforms=(
        "apply_transform",
        "apply_transforms",
        "resize_bilinear_tf1",
        "rotate",
        "rotation_transform",
    ),
    relu="relu_for",
)
