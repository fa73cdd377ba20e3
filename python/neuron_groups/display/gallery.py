"""The gallery of a set of shared groups: each group's icon, its strongest regions, its classes.

:class:`GalleryState` is the one description of what the gallery's front end reads (the
gallery view of ``js/widget.js``, chosen by ``view == "gallery"``; its ``GALLERY_FIELDS``
list the same names); the traits it shares with the group view are
:class:`~neuron_groups.display.state.WidgetState`'s. :func:`gallery_state` builds those
values from a :class:`~neuron_groups.datasets.SharedGroups`; :class:`GalleryWidget` syncs
them in a notebook and computes what takes time (the classes each group pushes, the icons)
in its background job (:class:`~neuron_groups.display.base.WidgetBase`, as
:class:`~neuron_groups.GroupWidget` does); :func:`gallery_page` inlines them in one offline
HTML file (the standalone page of :mod:`~neuron_groups.display.page`).
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import PIL.Image
import traitlets

import neuron_groups.models as models
from neuron_groups.datasets.regions import cell_box
from neuron_groups.display.base import WidgetBase
from neuron_groups.display.jobs import Job
from neuron_groups.display.page import page_html, write_page
from neuron_groups.display.state import (
    DEFAULT_ICON_SIZE,
    RGB,
    WidgetState,
    _synced,
    even_hues,
    hue_colors,
    icon_pngs,
)

CROP_QUALITY = 85
"""JPEG quality of the region crops sent to the front end (about 2 KB a 64 x 64 crop)."""

TOP_CLASSES = 3
"""Classes shown per group."""


class GalleryState(WidgetState):
    """Every value the gallery's front end reads (kernel to front end unless marked).

    Its own traits; the others (title, model_name, layer, group_colors, icons, icon_size,
    explained_variance, stability, status, progress, progress_text, error, selected_group)
    are :class:`WidgetState`'s.
    """

    view = traitlets.Unicode(
        "gallery", help="Which view of js/widget.js draws this: 'gallery'. Default: 'gallery'."
    ).tag(sync=True)
    n_images = traitlets.Int(0, help="Images the groups were fitted on. Default: 0.").tag(sync=True)
    gallery = traitlets.List(
        traitlets.Dict(),
        [],
        help='One dict per group, in group order: {"usage": float (share of the summed codes, '
        '0..1), "classes": [{"name": str, "value": float}] (pushed most, largest first; [] '
        'while unknown), "regions": [{"image": str, "index": int, "y": int, "x": int, '
        '"value": float, "crop": JPEG bytes (b"" if none), "box": [top, left, bottom, right] '
        "(the cell in the crop, fractions)}] (strongest first)}. Default: [].",
    ).tag(sync=True)


GALLERY_FIELDS: tuple[str, ...] = _synced(GalleryState)
"""Names of the gallery's synced traits (== ``GALLERY_FIELDS`` of ``js/widget.js``)."""


def crop_jpeg(crop: np.ndarray) -> bytes:
    """JPEG bytes of a uint8 (S, S, 3) crop."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.asarray(crop, np.uint8)).save(
        buffer, format="JPEG", quality=CROP_QUALITY
    )
    return buffer.getvalue()


def _known(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def shared_colors(n: int) -> list[RGB]:
    """The colours of n shared groups: by group index, as :class:`GroupWidget` shows them."""
    return hue_colors(even_hues(n))


def _region_entry(region: Any, shape: tuple[int, int]) -> dict[str, Any]:
    return {
        "image": region.image,
        "index": int(region.image_index),
        "y": int(region.y),
        "x": int(region.x),
        "value": round(float(region.value), 5),
        "crop": crop_jpeg(region.crop) if region.crop is not None else b"",
        "box": [round(v, 5) for v in cell_box(region.y, region.x, shape)],
    }


def gallery_groups(
    groups: Any, effects: Sequence[Sequence[tuple[str, float]]] | None = None
) -> list[dict[str, Any]]:
    """The ``gallery`` field of shared groups, with these class effects (None: unknown yet)."""
    return [
        {
            "usage": round(float(groups.usage[g]), 5),
            "classes": [
                {"name": name, "value": round(float(value), 5)}
                for name, value in (effects[g] if effects is not None else [])
            ],
            "regions": [_region_entry(r, groups.shape) for r in groups.top_regions[g]],
        }
        for g in range(groups.n_groups)
    ]


def gallery_state(
    groups: Any,
    *,
    title: str = "",
    effects: Sequence[Sequence[tuple[str, float]]] | None = None,
    icons: np.ndarray | Sequence[bytes] | None = None,
) -> dict[str, Any]:
    """Every :class:`GalleryState` value of shared groups (a page's whole state).

    Parameters
    ----------
    groups : SharedGroups
    title : str
    effects : list of list of (str, float), optional
        :meth:`SharedGroups.class_effects` (None: not computed, no classes shown).
    icons : ndarray, shape (n, S, S, 3), or list of PNG bytes, optional
        The groups' icons (None, or b"" for one: a placeholder).
    """
    n = groups.n_groups
    if icons is None or isinstance(icons, np.ndarray):
        pngs, size = icon_pngs(icons, n), DEFAULT_ICON_SIZE if icons is None else icons.shape[1]
    else:
        pngs, size = [bytes(p) for p in icons], _png_side(icons)
    return {
        "view": "gallery",
        "title": title,
        "model_name": groups.model_name,
        "layer": groups.layer,
        "n_images": int(groups.n_images),
        "gallery": gallery_groups(groups, effects),
        "explained_variance": _known(groups.explained_variance),
        "stability": [] if groups.stability is None else [float(v) for v in groups.stability],
        "group_colors": shared_colors(n),
        "icons": pngs,
        "icon_size": int(size),
        "status": "ready",
        "progress": 1.0 if all(pngs) else 0.0,
        "progress_text": "",
        "error": "",
        "selected_group": -1,
    }


def _png_side(pngs: Sequence[bytes]) -> int:
    for png in pngs:
        if png:
            return PIL.Image.open(io.BytesIO(bytes(png))).size[0]
    return DEFAULT_ICON_SIZE


class GalleryWidget(WidgetBase, GalleryState):
    """The gallery of shared groups in a notebook.

    The regions show at once. In the background, the model is loaded, the icons are taken
    from the cache if they are there, the classes each group pushes are measured
    (:meth:`SharedGroups.class_effects`, one read per region) and the missing icons are
    optimized, with progress, snapshots and a Stop button; the kernel stays free. ``stop``,
    ``wait``, ``close`` and ``save_html`` are those of :class:`~neuron_groups.GroupWidget`
    (:class:`~neuron_groups.display.base.WidgetBase`): ``wait()`` raises what made the work
    fail (e.g. another model than the groups'), which ``error`` shows.

    Parameters
    ----------
    groups : SharedGroups
    model : str, VisionModel, keras.Model or torch.nn.Module, optional
        The model the groups were fitted with (default InceptionV1).
    title : str
    classes : bool
        Measure the classes each group pushes (default True).
    icons : bool
        Optimize the icons missing from the cache (default True).
    icon_settings : IconSettings, optional
    icon_cache : bool or path
    snapshot_every : int
        Send the icons' current state every this many steps (0: only the final icons).
    """

    def __init__(
        self,
        groups: Any,
        model: Any = None,
        *,
        title: str = "",
        classes: bool = True,
        icons: bool = True,
        icon_settings: Any = None,
        icon_cache: Any = True,
        snapshot_every: int = 16,
        **kwargs: Any,
    ):
        super().__init__(
            icon_settings=icon_settings,
            icon_cache=icon_cache,
            snapshot_every=snapshot_every,
            **kwargs,
        )
        self.shared_groups = groups
        self.effects: list[list[tuple[str, float]]] | None = None
        for name, value in gallery_state(groups, title=title).items():
            setattr(self, name, value)
        if classes or icons:
            self.status, self.progress_text = "computing", "Loading the model…"
            self._start_job(
                lambda job: self._work(job, model, classes, icons), "neuron-groups-gallery"
            )

    def __repr__(self) -> str:
        return f"GalleryWidget({self.shared_groups!r}, status={self.status!r})"

    @traitlets.validate("selected_group")
    def _check_selected_group(self, proposal: dict) -> int:
        value, n = proposal["value"], len(self.gallery)
        if not -1 <= value < n:
            raise traitlets.TraitError(
                f"selected_group is a group index 0..{n - 1}, or -1 for none; got {value}."
            )
        return value

    # -- background work -----------------------------------------------------------------
    def _work(self, job: Job, model: Any, classes: bool, icons: bool) -> None:
        from neuron_groups.icons import cached_icons, render_icons

        groups = self.shared_groups
        vision_model = models.load_model("inceptionv1" if model is None else model)
        groups.check_model(vision_model)
        job.check()
        args = (vision_model, groups.layer, groups.channel, self._icon_settings)
        found = cached_icons(*args, cache=self._icon_cache)
        if found is not None:
            self._show_icons(job, found)
        if classes:
            self._phase(job)
            self.effects = groups.class_effects(
                vision_model, TOP_CLASSES, lambda done, total: self._on_region(job, done, total)
            )
            self.gallery = gallery_groups(groups, self.effects)
        if icons and found is None:
            self._phase(job)
            total = self._icon_settings.steps
            hooks = self._icon_hooks(
                job,
                lambda step: (step / total, f"Icons: step {step} / {total}"),
                lambda images: self._show_icons(job, images),
            )
            self._show_icons(job, render_icons(*args, cache=self._icon_cache, hooks=hooks))
        self._finish(job, "Done.")

    def _phase(self, job: Job) -> None:
        """A step of the work begins (it stops here if asked to)."""
        with self._lock:
            job.check()
            self.status, self.progress = "optimizing", 0.0

    def _on_region(self, job: Job, done: int, total: int) -> None:
        job.check()
        self._report(job, done / max(total, 1), f"Classes: region {done} / {total}")

    def _show_icons(self, job: Job, images: np.ndarray) -> None:  # images (n, S, S, 3)
        with self._lock:
            if self._is_current(job):
                with self.hold_sync():
                    self.icon_size = int(images.shape[1])
                    self.icons = icon_pngs(images, len(images))

    def to_html(self, title: str | None = None) -> str:
        """The gallery as one offline HTML page (the icons and classes known so far)."""
        return gallery_page(
            self.shared_groups,
            title=self.title if title is None else title,
            effects=self.effects,
            icons=list(self.icons),
        )


def gallery_page(
    groups: Any,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    effects: Sequence[Sequence[tuple[str, float]]] | None = None,
    icons: Any = None,
) -> str:
    """Write (when ``path`` is given) and return the offline page of a gallery of shared groups.

    The gallery's whole state (:func:`gallery_state`) travels in the JSON block of a
    standalone page (:func:`~neuron_groups.display.page.page_html`, no variants), which
    ``mountPage`` draws with the gallery view. Crops travel as JPEG (about 2-3 KB each) and
    icons as PNG: 8 groups x 12 regions with 80-pixel icons make a page of about 0.5 MB
    (``tests/display/test_gallery.py`` holds it under 1 MB).

    Parameters
    ----------
    groups : SharedGroups
    path : path, optional
        Where to write the page (UTF-8).
    title : str
        Caption and page title (default: "Shared neuron groups").
    effects : list of list of (str, float), optional
        :meth:`SharedGroups.class_effects` (None: no classes shown).
    icons : ndarray (n, S, S, 3) or list of PNG bytes, optional
        The groups' icons (None: placeholders).

    Returns
    -------
    str
        The page's HTML.
    """
    state = gallery_state(groups, title=title, effects=effects, icons=icons)
    text = page_html(state, {}, title or DEFAULT_GALLERY_TITLE, _gallery_fallback(state))
    return write_page(text, path)


DEFAULT_GALLERY_TITLE = "Shared neuron groups"


def _gallery_fallback(state: Mapping[str, Any]) -> str:
    """The gallery in words, where JavaScript does not run (the crops need it)."""
    items = []
    for g, entry in enumerate(state["gallery"]):
        pushes = ", ".join(f"{c['name']} ({c['value']:.3g})" for c in entry["classes"])
        regions = "; ".join(
            f"{r['image']} cell ({r['y']}, {r['x']}) {r['value']:.3g}" for r in entry["regions"]
        )
        parts = [f"Group {g}: {entry['usage'] * 100:.1f}% of use", pushes and f"pushes {pushes}"]
        text = ". ".join(p for p in parts if p)
        items.append(f"<li>{html.escape(text)}. Strongest: {html.escape(regions)}.</li>")
    return f"<ul>{''.join(items)}</ul>"
