"""neuron-groups: the neuron groups of "The Building Blocks of Interpretability" in notebooks.

Split a layer's activations into groups of neurons, see where each group fires in the image,
what it looks for, and how much it pushes each class; at several layers, how much each group
feeds each group of the next layer (the flows).

The numpy core (images, labels, data, factorization, attribution, result, pipeline, layers,
datasets) is imported here; the display layer (:class:`GroupWidget`, :func:`save_page`) only
when used, so that importing the package imports neither anywidget nor a deep-learning
framework.
"""

from neuron_groups.attribution import group_attributions
from neuron_groups.backends.base import IconHooks, IconSettings, LayerInfo, Targets, VisionModel
from neuron_groups.datasets import SharedGroups, fit_groups, load_groups
from neuron_groups.errors import NeuronGroupsError
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image
from neuron_groups.layers import MultiLayerReading, MultiLayerResult, neuron_groups
from neuron_groups.layers import load as load_layers
from neuron_groups.pipeline import LayerReading, add_icons
from neuron_groups.result import NeuronGroupsResult, load


def load_model(*args, **kwargs):
    """Load a vision model; see :func:`neuron_groups.models.load_model`."""
    from neuron_groups.models import load_model as _load_model

    return _load_model(*args, **kwargs)


def __getattr__(name):
    if name == "GroupWidget":
        from neuron_groups.display.widget import GroupWidget

        return GroupWidget
    if name == "save_page":
        from neuron_groups.display.page import save_page

        return save_page
    raise AttributeError(name)


__version__ = "0.1.0"
__all__ = [
    "GroupWidget",
    "IconHooks",
    "IconSettings",
    "LayerInfo",
    "LayerReading",
    "MultiLayerReading",
    "MultiLayerResult",
    "NeuronGroupsError",
    "NeuronGroupsResult",
    "SharedGroups",
    "Targets",
    "VisionModel",
    "add_icons",
    "factorize",
    "fit_groups",
    "group_attributions",
    "load",
    "load_groups",
    "load_image",
    "load_layers",
    "load_model",
    "neuron_groups",
    "save_page",
]
