"""The display layer: everything that shows a result (widget, page, static view, export).

Nothing in the numpy core imports this package. Its modules, from the bottom up:

- :mod:`~neuron_groups.display.assets`: where ``js/widget.js`` and ``js/widget.css`` are;
- :mod:`~neuron_groups.display.state`: the one description of the front-end data
  (:class:`ViewState`, and :class:`WidgetState`, the traits both widgets share), built
  from a result;
- :mod:`~neuron_groups.display.palette`: the group colours, stable across counts;
- :mod:`~neuron_groups.display.fallback`: the static view (HTML + JPEG), one layer or several;
- :mod:`~neuron_groups.display.page`: the standalone page (:func:`result_page`,
  :func:`save_page`);
- :mod:`~neuron_groups.display.hosts`: what notebook hosts need (Colab's widget manager, a
  warning where VS Code cannot find anywidget's front end);
- :mod:`~neuron_groups.display.jobs`: background work (:class:`~jobs.Job`), stopped when the
  interpreter exits;
- :mod:`~neuron_groups.display.base`: what both widgets are (job, stop, wait, close, save);
- :mod:`~neuron_groups.display.widget`: :class:`GroupWidget` (anywidget), glue over a
  :class:`~neuron_groups.session.Session`;
- :mod:`~neuron_groups.display.gallery`: the gallery of shared groups (:class:`GalleryWidget`,
  its state :class:`GalleryState`) and its offline page (:func:`gallery_page`);
- :mod:`~neuron_groups.display.export`: offline notebook export (nbconvert), and
  ``neuron-groups export`` (also ``python -m neuron_groups.display.export``).

Names are imported on first use, so that ``import neuron_groups.display`` stays light.
"""

from neuron_groups.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(
    __name__,
    widget="GroupWidget",
    state=("ViewState", "WidgetState", "FIELDS", "GROUP_FIELDS"),
    page=("save_page", "result_page"),
    gallery=("gallery_page", "GalleryWidget", "GalleryState"),
    fallback="static_fallback",
    export="export_notebook",
)
