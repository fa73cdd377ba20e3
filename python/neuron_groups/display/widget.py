"""GroupWidget: the interactive neuron-groups view for notebooks, built on anywidget.

The widget is glue. What it shows and computes is a :class:`~neuron_groups.session.Session`
(numpy: the reading, each layer's groups per count, the classes, the flows); its colours a
:class:`~neuron_groups.display.palette.Palette`; its front-end values come from
:func:`~neuron_groups.display.state.result_state`; its background work is a
:class:`~neuron_groups.display.jobs.Job` (:class:`~neuron_groups.display.base.WidgetBase`).
The front end (``js/widget.js``) draws the traits of
:class:`~neuron_groups.display.state.ViewState` and sends back what the user chose
(``selected_group``, ``selected_layer``, ``n_groups``, ``layer_groups``, ``classes``) and
actions (messages ``{"type": "stop"}``, and ``{"type": "image", "name": ...}`` or
``{"type": "image", "filename": ...}`` with the file's bytes as one buffer).

One layer or several is one path: the usual fields describe the last layer, and
``earlier_layers``, ``flows`` and ``layer_groups`` the others ([] with one layer). Groups
given rather than found (``groups=``, shared groups) are the ``method`` of their layer:
their count is fixed there and they are coloured by group index.

A choice that cannot be honoured (a group count out of range, an unknown class or layer, a
failed computation) is refused: the trait goes back to its last valid value, here and in the
front end, and ``error`` says what was refused and why.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import traitlets

import neuron_groups.models as models
from neuron_groups.directions import aim
from neuron_groups.display.base import error_message
from neuron_groups.display.fallback import static_fallback, with_fallback
from neuron_groups.display.jobs import Job
from neuron_groups.display.page import result_page
from neuron_groups.display.palette import Palette
from neuron_groups.display.view import SessionView
from neuron_groups.errors import ImageError, NeuronGroupsError
from neuron_groups.images import load_image
from neuron_groups.models import is_built
from neuron_groups.result import NeuronGroupsResult
from neuron_groups.session import Session, class_list


class GroupWidget(SessionView):
    """The neuron groups of an image at a layer, or at several linked by flows, interactive.

    Parameters
    ----------
    img : path, URL, example name, PIL image or array
        The image (see :func:`neuron_groups.load_image`).
    layer : str or list of str
        Layer to factorize (default ``"mixed4d"``, or the layer of ``groups``); or 2..4 layers,
        input to output, to see the groups at each and the flows between neighbours.
    n_groups : int or list of int
        Number of groups (default 6, at most 16); with several layers, one number for all or
        one per layer.
    classes : list of str or int, or dict, optional
        Classes for the attribution table; default: the top 5 predicted.
    model : str, VisionModel, keras.Model or torch.nn.Module, optional
        Default: InceptionV1 (see :func:`~neuron_groups.load_model`).
    method : str, sklearn estimator or SharedGroups
        Factorization (default NMF), or groups fitted on many images, used at their layer.
    seed : int or None
        Seed of the factorization.
    icons : bool
        Optimize each group's icon in the background (default True; the last layer's first).
    icon_settings : IconSettings, optional
        Feature-visualization settings (default ``IconSettings()``; ``.lucid()``: Lucid's).
    icon_cache : bool or path
        Icon disk cache (True: the user cache; False: none).
    snapshot_every : int
        Send the icons' current state every this many steps (0: only the final icons).
    title : str
        Caption shown above the figure.
    groups : SharedGroups, optional
        The same as ``method=groups``: the image is seen through groups fitted on many
        images (:func:`~neuron_groups.fit_groups`) at their layer, which must be one of
        ``layer`` (default: theirs); ``model`` must be the one they were fitted with. Their
        count is fixed.
    attribution : str
        The table (and flows) shown first: ``"integrated"`` (default), ``"linear"`` (the
        article's) or ``"ablation"`` (measured). All three are computed; the switch in the
        widget, or ``w.attribution_method = ...``, changes it at once.
    processor, target_image
        As for :func:`~neuron_groups.neuron_groups`, as are ``classes`` given as directions.

    Notes
    -----
    Errors (an unknown layer or class, a failed computation, an unreadable image) are shown
    in the widget as a message and the widget stays usable; the constructor never raises.
    When the widget could not be made, reading ``w.result`` (and ``w.wait()``) raises its
    error, so a script stops there; ``w.wait()`` also raises when the icons failed.

    ``w.result`` is the current :class:`~neuron_groups.NeuronGroupsResult` (every layer,
    and the flows). The pinned group is ``(w.selected_layer, w.selected_group)`` (``""``
    names the last layer); :attr:`pinned` reads it and :meth:`select` sets it.

    The first widget of a process whose model is a name (InceptionV1 by default) returns at
    once and loads the model in the background: the widget shows its frame with
    ``status == "loading"``, and reading ``w.result`` waits for that load, so the next cell
    sees the groups; ``w.wait()`` waits for the icons too. A script should ``w.wait()`` for
    its icons: background work is stopped when the interpreter exits.
    """

    def __init__(
        self,
        img: Any = None,
        layer: str | list[str] | None = None,
        n_groups: int | list[int] | None = None,
        classes: list[str | int] | None = None,
        model: Any = None,
        *,
        method: Any = "nmf",
        seed: int | None = 0,
        icons: bool = True,
        icon_settings: Any = None,
        icon_cache: Any = True,
        snapshot_every: int = 16,
        title: str = "",
        groups: Any = None,
        attribution: str = "integrated",
        processor: Any = None,
        target_image: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            icons=icons,
            icon_settings=icon_settings,
            icon_cache=icon_cache,
            snapshot_every=snapshot_every,
            title=title,
            **kwargs,
        )
        if img is None:
            return  # e.g. from_result
        method = groups if groups is not None else method
        self._attribution, self._aim = attribution, (processor, target_image)
        choices = (img, layer, n_groups, classes, model, method, seed)
        if is_built(model):
            try:
                self._open(None, *choices)
            except Exception as exc:
                self._fail(exc)
            return
        # The model's first load in this process takes seconds (the framework's import, the
        # weights and their hash check): show the frame and a loading state at once instead.
        self.status = "loading"
        self._loading = Job(
            lambda job: self._open(job, *choices),
            name="neuron-groups-load",
            on_error=lambda job, exc: self._fail(exc),
        ).start()

    def _open(self, job: Job | None, img, layer, n_groups, classes, model, method, seed) -> None:
        """Load the model, read the image and show its groups (``job``: the loading job)."""
        from neuron_groups.data import example_names

        self._set_quietly(classes=class_list(classes))
        vision_model, classes = _aimed_model(model, classes, *self._aim)
        if job is not None:
            job.check()  # the interpreter may be exiting
        self.status = "computing"
        names = vision_model.class_names
        self.class_options = list(names) if names is not None else []
        self.model_name = vision_model.name
        self.image_options = example_names()
        image = load_image(img)
        session = Session.open(
            vision_model,
            image,
            layer,
            n_groups,
            classes,
            method=method,
            seed=seed,
            attribution=self._attribution,
        )
        self._session, self._palette = session, Palette(session.fixed)
        counts, last = session.counts, session.layers[-1]
        self._set_quietly(
            layer=last,
            n_groups=counts[-1],
            layer_groups=counts if len(counts) > 1 else [],
            n_groups_options=session.options(last),
        )
        self._show(session.analyze())

    @classmethod
    def from_result(cls, result: NeuronGroupsResult, **kwargs: Any) -> GroupWidget:
        """Show a saved or computed result, of one layer or several (no recomputation)."""
        widget = cls(icons=False, **kwargs)
        widget.result = result
        return widget

    # -- reacting to the user ------------------------------------------------------------
    def set_state(self, sync_data: dict) -> None:
        """Apply a change from the front end; a refused value is sent back as it was."""
        try:
            super().set_state(sync_data)
        except traitlets.TraitError as exc:
            # Every change of the message was rolled back (the error message too): say it
            # again, and send the kernel's values, since the front end shows the refused ones.
            names = [name for name in sync_data if name in self.keys]
            asked = ", ".join(f"{name}={sync_data[name]!r}" for name in names)
            self.error = f"{asked} was refused: {exc}"
            self.send_state(names)

    def _refuse(self, name: str, value: Any, reason: str) -> None:
        """Say why ``name=value`` was refused and put the choices back to the shown result."""
        self.error, self.status = f"{name}={value!r} was refused: {reason}", "error"
        shown = self._shown_result()
        if shown is not None and self._session is not None:
            self._set_quietly(
                n_groups=shown.n_groups,
                classes=list(self._session.classes),
                layer=shown.layer,
                layer_groups=shown.counts if len(shown.layers) > 1 else [],
            )

    def _change(self, name: str, value: Any, action: Any, *args: Any) -> None:
        """Apply a user's change through the session, or refuse it (nothing changes then)."""
        session = self._session
        assert session is not None
        reading = session.reading
        self.status = "computing"
        try:
            result = action(*args)
        except Exception as exc:
            self._refuse(name, value, error_message(exc))
            return
        self._show(result, fresh=session.reading is not reading)

    def _check(self, name: str, value: Any, check: Any, *args: Any) -> None:
        """Raise a TraitError (and say it in ``error``) if ``check(*args)`` refuses ``value``."""
        try:
            check(*args)
        except NeuronGroupsError as exc:
            self.error = f"{name}={value!r} was refused: {exc}"  # status unchanged
            raise traitlets.TraitError(str(exc)) from None

    @traitlets.validate("n_groups")
    def _check_n_groups(self, proposal: dict) -> int:
        value = proposal["value"]
        session = self._session
        if not self._quiet and session is not None:  # the kernel's own updates are results
            self._check("n_groups", value, session.check_count, session.layers[-1], value)
        return value

    @traitlets.validate("layer_groups")
    def _check_layer_groups(self, proposal: dict) -> list[int]:
        value = list(proposal["value"])
        session = self._session
        if self._quiet:
            return value
        if session is not None and len(session.layers) > 1:
            self._check("layer_groups", value, session.check_counts, value)
        elif value:
            reason = "layer_groups is for several layers; with one, set n_groups."
            self.error = f"layer_groups={value!r} was refused: {reason}"
            raise traitlets.TraitError(reason)
        return value

    @traitlets.validate("selected_layer")
    def _check_selected_layer(self, proposal: dict) -> str:
        value = proposal["value"]
        names = self._layer_names()
        if value == "" or value in names:
            return value
        model = self._session.model if self._session is not None else None
        if model is not None:
            try:
                canonical = model.resolve_layer(value).name
            except NeuronGroupsError:
                canonical = ""
            if canonical in names:
                return canonical
        raise traitlets.TraitError(
            f"selected_layer is a layer shown ({', '.join(names)}), or '' for the last; "
            f"got {value!r}."
        )

    @traitlets.validate("selected_group")
    def _check_selected_group(self, proposal: dict) -> int:
        value = proposal["value"]
        n = self._count_at(self.selected_layer)
        if not -1 <= value < n:
            shown = self._shown_result()
            several = shown is not None and len(shown.layers) > 1
            where = f" ({self.selected_layer} has {n} groups)" if several else ""
            raise traitlets.TraitError(
                f"selected_group is a group index 0..{n - 1}, or -1 for none; got {value}.{where}"
            )
        return value

    @traitlets.observe("selected_layer")
    def _on_selected_layer(self, change: dict) -> None:
        self._drop_stale_pin()

    @traitlets.observe("n_groups")
    def _on_n_groups(self, change: dict) -> None:
        session = self._session
        if not self._quiet and session is not None:
            last = session.layers[-1]
            self._change("n_groups", change["new"], session.set_count, last, change["new"])

    @traitlets.observe("layer_groups")
    def _on_layer_groups(self, change: dict) -> None:
        session = self._session
        if not self._quiet and session is not None and len(session.layers) > 1:
            counts = list(change["new"])
            self._change("layer_groups", counts, session.set_counts, counts)

    @traitlets.observe("attribution_method")
    def _on_attribution_method(self, change: dict) -> None:
        session = self._session
        if not self._quiet and session is not None and session.result is not None:
            self._change(
                "attribution_method", change["new"], session.set_attribution, change["new"]
            )

    @traitlets.observe("classes")
    def _on_classes(self, change: dict) -> None:
        session = self._session
        if not self._quiet and session is not None:
            classes = list(change["new"])
            self._change("classes", change["new"], session.set_classes, classes)

    @traitlets.observe("layer")
    def _on_layer(self, change: dict) -> None:
        session = self._session
        if not self._quiet and session is not None:
            self._change("layer", change["new"], session.set_layer, change["new"])

    @traitlets.observe("result")
    def _on_result(self, change: dict) -> None:
        if not self._quiet and change["new"] is not None:  # a result set by hand: as it is
            self._cancel()
            self._session = Session.of_result(change["new"])
            self._show(change["new"], fresh=True)

    # -- the pinned group ------------------------------------------------------------------
    @property
    def pinned(self) -> tuple[str, int] | None:
        """The pinned group as (layer, index), or None."""
        if self.selected_group < 0:
            return None
        return (self.selected_layer or self.layer, self.selected_group)

    def select(self, layer: str | None, index: int = -1) -> None:
        """Pin group ``index`` of ``layer`` (None or "": the last layer); -1 unpins."""
        with self.hold_trait_notifications():  # both checked together
            self.selected_layer = layer or ""
            self.selected_group = index

    def _layer_names(self) -> list[str]:
        """The layers shown, input to output."""
        shown = self._shown_result()
        return list(shown.layers) if shown is not None else [self.layer]

    # -- a new image ---------------------------------------------------------------------
    def _on_action(self, content: dict, buffers: list) -> None:
        """An example chosen (``name``), or a file dropped or uploaded (``filename`` + bytes)."""
        if content.get("type") == "image":
            name, filename = content.get("name"), content.get("filename")
            label = str(filename or name or "the image")
            self._read_image(lambda: _picked_image(name, filename, buffers), label)

    def set_image(self, img: Any) -> None:
        """Show another image (as the picker does): everything is recomputed for it.

        A path, URL, example name, a file's bytes, a PIL image or an array. If it cannot be
        read or used, ``error`` says why and the view stays as it was.
        """
        self._read_image(lambda: img, img if isinstance(img, str) else f"the {type(img).__name__}")

    def _read_image(self, source: Any, label: str) -> None:
        try:
            image = load_image(source())
        except Exception as exc:
            self.error = f"Could not read {label}: {error_message(exc)}"
            return
        self._use_image(image, label)

    def _use_image(self, image: np.ndarray, label: str) -> None:
        before = self.status
        self.status = "computing"
        try:
            if self._session is None:
                raise NeuronGroupsError("this widget has no model to read it with.")
            result = self._session.set_image(image)
        except Exception as exc:  # nothing changed: the previous view stays
            self.error, self.status = f"Could not use {label}: {error_message(exc)}", before
            return
        self._show(result, fresh=True)

    # -- reading and sharing -------------------------------------------------------------
    def __repr__(self) -> str:
        shown = self._shown_result()
        error = f", error={self.error!r}" if self.error else ""
        if shown is None:
            return f"GroupWidget(status={self.status!r}{error})"
        h, w = shown.image.shape[:2]
        if len(shown.layers) > 1:
            chain = " -> ".join(f"{g.layer} ({g.n_groups})" for g in shown.groups.values())
            where = f"layers {chain} groups"
        else:
            where = f"layer={shown.layer!r}, {shown.n_groups} groups"
        return (
            f"GroupWidget(image {w}x{h}, {where}, classes={list(shown.classes)!r}, "
            f"status={self.status!r}{error})"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget view, plus a static fallback for where widgets don't render."""
        return with_fallback(super()._repr_mimebundle_(**kwargs), self._static_fallback)

    def _static_fallback(self) -> dict[str, str]:
        shown = self._shown_result()
        if shown is None:
            return {}
        return static_fallback(
            shown, self.layer_colors(), title=self.title, icons=self._snapshots(shown)
        )

    def to_html(self, title: str | None = None) -> str:
        """The standalone page: what is shown, and with one layer every group count computed.

        Raises
        ------
        ValueError
            When the widget has no result yet.
        """
        shown = self._shown_result()
        if shown is None or self._session is None:
            raise ValueError("The widget has no result to save yet.")
        return result_page(
            shown,
            title=self.title if title is None else title,
            variants=self._session.results_by_count().values(),
            hues=self._palette.hues(),
            selected_layer=self.selected_layer,
            selected_group=self.selected_group,
        )


def _aimed_model(model: Any, classes: Any, processor: Any, target_image: Any) -> tuple:
    """The model to read with (InceptionV1 by default) and the classes, directions as classes."""
    given = {"processor": processor} if processor is not None else {}
    vision_model = models.load_model("inceptionv1" if model is None else model, **given)
    return aim(vision_model, classes, target_image)


def _picked_image(name: Any, filename: Any, buffers: list) -> Any:
    """What an image message names: an example image (never a path), or a file's bytes."""
    from neuron_groups.data import example_names

    if isinstance(name, str) and name:
        names = example_names()
        if name not in names:
            raise ImageError(f"{name!r} is not an example image; they are {', '.join(names)}.")
        return name
    if isinstance(filename, str) and buffers:
        return bytes(buffers[0])
    raise ImageError(
        'an image message has "name" (an example image) or "filename" with the '
        "file's bytes as one buffer."
    )
