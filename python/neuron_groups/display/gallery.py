"""The gallery of a set of shared groups: each group's icon, its strongest regions, its classes.

:class:`GalleryState` is the one description of what the gallery's front end reads (the
gallery view of ``js/widget.js``, chosen by ``view == "gallery"``; its ``GALLERY_FIELDS``
list the same names). :func:`gallery_state` builds those values from a
:class:`~neuron_groups.datasets.SharedGroups`; :class:`GalleryWidget` syncs them in a
notebook and computes what takes time (the classes each group pushes, the icons) in a
background thread; :func:`gallery_page` inlines them in one offline HTML file (the
standalone page of :mod:`~neuron_groups.display.page`).

The shared groups are only read through their attributes (``channel``, ``top_regions``,
``usage``, ``class_effects`` ...), so this module imports nothing from the datasets
package, which imports it lazily for :meth:`SharedGroups.gallery`.
"""

from __future__ import annotations

import html
import io
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import PIL.Image
import traitlets

from neuron_groups.backends.base import IconHooks, IconSettings
from neuron_groups.display.assets import CSS, ESM, compact_text
from neuron_groups.display.hosts import prepare_host
from neuron_groups.display.page import page_html
from neuron_groups.display.state import (
    DEFAULT_ICON_SIZE,
    RGB,
    STATUSES,
    _synced,
    even_hues,
    hue_colors,
    icon_pngs,
)
from neuron_groups.errors import Cancelled, NeuronGroupsError

CROP_QUALITY = 85
"""JPEG quality of the region crops sent to the front end (about 2 KB a 64 x 64 crop)."""

TOP_CLASSES = 3
"""Classes shown per group."""


class GalleryState(traitlets.HasTraits):
    """Every value the gallery's front end reads (kernel to front end unless marked)."""

    view = traitlets.Unicode(
        "gallery", help="Which view of js/widget.js draws this: 'gallery'. Default: 'gallery'."
    ).tag(sync=True)
    title = traitlets.Unicode("", help="Caption above the gallery. Default: ''.").tag(sync=True)
    model_name = traitlets.Unicode("", help="Name of the model. Default: ''.").tag(sync=True)
    layer = traitlets.Unicode("", help="The groups' layer. Default: ''.").tag(sync=True)
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
    group_colors = traitlets.List(
        traitlets.List(traitlets.Int(), minlen=3, maxlen=3),
        [],
        help="n colours [r, g, b], ints 0..255, one per group. Default: [].",
    ).tag(sync=True)
    icons = traitlets.List(
        traitlets.Bytes(), [], help="n PNGs, one per group; b'' while pending. Default: []."
    ).tag(sync=True)
    icon_size = traitlets.Int(DEFAULT_ICON_SIZE, help="Icon side in pixels. Default: 80.").tag(
        sync=True
    )
    status = traitlets.Enum(
        STATUSES, "ready", help="What the kernel is doing. Default: 'ready'."
    ).tag(sync=True)
    progress = traitlets.Float(0.0, help="Progress of the running work, 0..1. Default: 0.").tag(
        sync=True
    )
    progress_text = traitlets.Unicode("", help="Progress in words. Default: ''.").tag(sync=True)
    error = traitlets.Unicode("", help="What failed; '' when nothing did. Default: ''.").tag(
        sync=True
    )
    selected_group = traitlets.Int(
        -1, help="Both ways: the pinned group, -1 for none. Default: -1."
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


def shared_colors(n: int) -> list[RGB]:
    """The colours of n shared groups: by group index, as :class:`GroupWidget` shows them."""
    return hue_colors(even_hues(n))


def _region_entry(region: Any, shape: tuple[int, int]) -> dict[str, Any]:
    from neuron_groups.datasets.regions import cell_box

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


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, NeuronGroupsError) else f"{type(exc).__name__}: {exc}"


class GalleryWidget(anywidget.AnyWidget, GalleryState):
    """The gallery of shared groups in a notebook (see :meth:`SharedGroups.gallery`).

    The regions show at once. In a background thread, the model is loaded, the icons are
    taken from the cache if they are there, the classes each group pushes are measured
    (:meth:`SharedGroups.class_effects`, one read per region) and the missing icons are
    optimized, with progress, snapshots and a Stop button; the kernel stays free.

    Parameters
    ----------
    groups : SharedGroups
    model : str, VisionModel or keras.Model, optional
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

    _esm = compact_text(ESM)
    _css = compact_text(CSS)

    def __init__(
        self,
        groups: Any,
        model: Any = None,
        *,
        title: str = "",
        classes: bool = True,
        icons: bool = True,
        icon_settings: IconSettings | None = None,
        icon_cache: Any = True,
        snapshot_every: int = 16,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        prepare_host()
        self.shared_groups = groups
        self.effects: list[list[tuple[str, float]]] | None = None
        self._settings = icon_settings or IconSettings()
        self._cache = icon_cache
        self._snapshot_every = snapshot_every
        self._stop = threading.Event()
        self.set_trait("view", "gallery")
        for name, value in gallery_state(groups, title=title).items():
            setattr(self, name, value)
        self.on_msg(self._on_message)
        self.thread: threading.Thread | None = None
        if classes or icons:
            self.status, self.progress_text = "computing", "Loading the model…"
            self.thread = threading.Thread(
                target=self._work,
                args=(model, classes, icons),
                name="neuron-groups-gallery",
                daemon=True,
            )
            self.thread.start()

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
    def _work(self, model: Any, classes: bool, icons: bool) -> None:
        from neuron_groups.icons import cached_icons, render_icons
        from neuron_groups.models import load_model

        groups = self.shared_groups
        try:
            vision_model = load_model("inceptionv1" if model is None else model)
            groups.check_model(vision_model)
            args = (vision_model, groups.layer, groups.channel, self._settings)
            found = cached_icons(*args, cache=self._cache)
            if found is not None:
                self._show_icons(found)
            if classes:
                self.effects = groups.class_effects(vision_model, TOP_CLASSES, self._on_region)
                self.gallery = gallery_groups(groups, self.effects)
            if icons and found is None:
                self._show_icons(render_icons(*args, cache=self._cache, hooks=self._hooks()))
        except Cancelled:
            self.status, self.progress_text = "stopped", "Stopped."
            return
        except Exception as exc:  # shown in the widget, never lost silently
            self.error, self.status = _message(exc), "error"
            return
        self.status, self.progress, self.progress_text = "ready", 1.0, "Done."

    def _on_region(self, done: int, total: int) -> None:
        if self._stop.is_set():
            raise Cancelled("the gallery was stopped")
        with self.hold_sync():
            self.status = "optimizing"
            self.progress = done / max(total, 1)
            self.progress_text = f"Classes: region {done} / {total}"

    def _hooks(self) -> IconHooks:
        total = self._settings.steps
        last = [0.0]

        def progress(step: int, objectives: np.ndarray) -> None:
            now = time.monotonic()
            if now - last[0] > 0.2 or step + 1 == total:
                last[0] = now
                with self.hold_sync():
                    self.status = "optimizing"
                    self.progress = (step + 1) / total
                    self.progress_text = f"Icons: step {step + 1} / {total}"

        return IconHooks(
            progress=progress,
            snapshot=lambda step, images: self._show_icons(images),
            snapshot_every=self._snapshot_every,
            should_stop=self._stop.is_set,
        )

    def _show_icons(self, images: np.ndarray) -> None:  # images (n, S, S, 3)
        with self.hold_sync():
            self.icon_size = int(images.shape[1])
            self.icons = icon_pngs(images, len(images))

    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "stop":
            self.stop(wait=False)

    def stop(self, wait: bool = True) -> None:
        """Stop the background work (the regions and what is done stay)."""
        self._stop.set()
        if wait and self.thread is not None:
            self.thread.join()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background work ends; return True if it has."""
        if self.thread is None:
            return True
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def close(self) -> None:
        """Close the widget and stop its background work."""
        self._stop.set()
        super().close()

    def save_html(self, path: Any, title: str | None = None) -> str:
        """Write the gallery as one offline HTML page (the icons and classes known so far)."""
        return gallery_page(
            self.shared_groups,
            path,
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
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


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
