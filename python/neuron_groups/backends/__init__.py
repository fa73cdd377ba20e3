"""Framework backends: the one seam through which the package touches a deep-learning framework.

Everything outside this package works on numpy arrays. A backend provides a
:class:`~neuron_groups.backends.base.VisionModel`; :func:`neuron_groups.load_model`
chooses one.
"""

from neuron_groups.backends.base import IconSettings, LayerInfo, VisionModel

__all__ = ["IconSettings", "LayerInfo", "VisionModel"]
