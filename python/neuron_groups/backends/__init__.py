"""Framework backends: the one seam through which the package touches a deep-learning framework.

Everything outside this package works on numpy arrays. A backend provides a
:class:`~neuron_groups.backends.base.VisionModel`; :func:`neuron_groups.load_model`
chooses one. What every backend shares lives beside the framework folders, in numpy:
:mod:`~neuron_groups.backends.inputs` (input checks), :mod:`~neuron_groups.backends.inceptionv1`
(the layer table, sizes and weight files) and :mod:`~neuron_groups.backends.optvis` (feature
visualization's settings checks, random draws, spectrum and colour constants).
"""

from neuron_groups.backends.base import (
    NO_HOOKS,
    NO_TARGETS,
    Evaluation,
    IconHooks,
    IconSettings,
    LayerInfo,
    Readout,
    Targets,
    VisionModel,
)

__all__ = [
    "NO_HOOKS",
    "NO_TARGETS",
    "Evaluation",
    "IconHooks",
    "IconSettings",
    "LayerInfo",
    "Readout",
    "Targets",
    "VisionModel",
]
