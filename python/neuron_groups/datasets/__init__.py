"""One shared set of neuron groups for many images.

- :mod:`~neuron_groups.datasets.sources`: the images (patterns, folders, lists, iterables).
- :mod:`~neuron_groups.datasets.fit`: :func:`fit_groups`, the streamed, resumable fit.
- :mod:`~neuron_groups.datasets.batches`: one batch of the fit, shared by both engines.
- :mod:`~neuron_groups.datasets.ray_engine`: ``engine="ray"``: extraction on Ray Data
  workers, the fit in a Ray actor.
- :mod:`~neuron_groups.datasets.regions`: each group's strongest image regions.
- :mod:`~neuron_groups.datasets.projection`: NNLS codes on fixed channel factors.
- :mod:`~neuron_groups.datasets.shared`: :class:`SharedGroups`, applied to any image.
"""

from neuron_groups.datasets.fit import fit_groups
from neuron_groups.datasets.projection import nnls_codes, reconstruction_error
from neuron_groups.datasets.regions import Region, TopRegions
from neuron_groups.datasets.shared import FitStats, SharedGroups, load_groups
from neuron_groups.datasets.sources import image_sources, square_image
from neuron_groups.errors import DatasetError

__all__ = [
    "DatasetError",
    "FitStats",
    "Region",
    "SharedGroups",
    "TopRegions",
    "fit_groups",
    "image_sources",
    "load_groups",
    "nnls_codes",
    "reconstruction_error",
    "square_image",
]
