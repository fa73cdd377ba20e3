"""Feature visualization in TensorFlow 2, after Lucid's ``optvis`` (Apache-2.0).

The framework-neutral parts (checks, seeded generators, spectrum and colour constants, the
transforms' descriptions and draws) are shared in :mod:`neuron_groups.backends.optvis`; this
package holds the TensorFlow ops, in small composable pieces as in Lucid: :mod:`.param` (the
image as a Fourier spectrum, colour-decorrelated), :mod:`.transforms` (the random
transforms), :mod:`.objectives` (direction scores), :mod:`.relu` (the redirected ReLU
gradient) and :mod:`.render` (the compiled optimization loop, :func:`render_directions`, and
:class:`RendererPool`, which keeps it compiled for the process).
Lucid, by the Lucid Authors: https://github.com/tensorflow/lucid. Written anew; no Lucid code
is used.
"""

from neuron_groups.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__, render=("Renderer", "RendererPool", "render_directions")
)
