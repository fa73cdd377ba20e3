"""neuron-groups: the neuron groups of "The Building Blocks of Interpretability" in notebooks.

Split a layer's activations into groups of neurons, see where each group fires in the image,
what it looks for, and how much it pushes each class.
"""

from neuron_groups.attribution import group_attributions
from neuron_groups.backends.base import IconSettings, LayerInfo, VisionModel
from neuron_groups.errors import NeuronGroupsError
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image
from neuron_groups.pipeline import LayerReading, add_icons, neuron_groups
from neuron_groups.result import NeuronGroupsResult, load


def load_model(*args, **kwargs):
    """Load a vision model; see :func:`neuron_groups.models.load_model`."""
    from neuron_groups.models import load_model as _load_model

    return _load_model(*args, **kwargs)


def __getattr__(name):
    if name == "GroupWidget":  # importing anywidget only when the widget is used
        from neuron_groups.widget import GroupWidget

        return GroupWidget
    raise AttributeError(name)


__version__ = "0.1.0"
__all__ = [
    "GroupWidget",
    "IconSettings",
    "LayerInfo",
    "LayerReading",
    "NeuronGroupsError",
    "NeuronGroupsResult",
    "VisionModel",
    "add_icons",
    "factorize",
    "group_attributions",
    "load",
    "load_image",
    "load_model",
    "neuron_groups",
]
