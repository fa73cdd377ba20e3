"""neuron-groups: the neuron groups of "The Building Blocks of Interpretability" in notebooks.

Split a layer's activations into groups of neurons, see where each group fires in the image,
what it looks for, and how much it pushes each class; at several layers, how much each group
feeds each group of the next layer (the flows).

The numpy core is imported here; the display layer (:class:`GroupWidget`,
:class:`GalleryWidget`, :func:`save_page`) only when first used (:func:`~neuron_groups.lazy.
lazy_exports`), so that importing the package imports neither anywidget nor a framework.
"""

from neuron_groups.attribution import group_attributions
from neuron_groups.backends.base import IconHooks, IconSettings, LayerInfo, Targets, VisionModel
from neuron_groups.datasets import SharedGroups, fit_groups, load_groups
from neuron_groups.errors import NeuronGroupsError
from neuron_groups.factorization import factorize
from neuron_groups.images import load_image
from neuron_groups.lazy import lazy_exports
from neuron_groups.models import load_model
from neuron_groups.pipeline import add_icons, neuron_groups
from neuron_groups.reading import ImageReading
from neuron_groups.result import LayerGroups, NeuronGroupsResult, load
from neuron_groups.session import Session

__getattr__, _display_names = lazy_exports(
    __name__,
    **{
        "display.widget": "GroupWidget",
        "display.gallery": "GalleryWidget",
        "display.page": "save_page",
    },
)

__version__ = "0.1.0"
__all__ = [
    "GalleryWidget",
    "GroupWidget",
    "IconHooks",
    "IconSettings",
    "ImageReading",
    "LayerGroups",
    "LayerInfo",
    "NeuronGroupsError",
    "NeuronGroupsResult",
    "Session",
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
    "load_model",
    "neuron_groups",
    "save_page",
]
