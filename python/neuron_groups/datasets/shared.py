"""Shared groups: fixed channel factors fitted on a dataset, applied to any image."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuron_groups.backends.base import VisionModel
from neuron_groups.datasets.projection import nnls_codes
from neuron_groups.datasets.regions import CROP_SIZE, Region, decode_crops, encode_crops
from neuron_groups.datasets.sources import square_image
from neuron_groups.errors import LayerError, ModelError, NeuronGroupsError
from neuron_groups.factorization import Factorization
from neuron_groups.files import read_npz, save_npz
from neuron_groups.images import load_image
from neuron_groups.models import load_model
from neuron_groups.reading import ImageReading
from neuron_groups.result import NeuronGroupsResult

FORMAT = "neuron-groups shared groups 1"
"""The ``format`` key of a saved :class:`SharedGroups` file."""

METHOD = "SharedGroups (NNLS on fixed factors)"
"""The ``method`` of a layer's groups given by :class:`SharedGroups`."""


class FitStats:
    """What a fit measured: how much it held at once and how fast it went.

    Attributes
    ----------
    max_rows : int
        The most activation rows (positions x images) held at once: one batch.
    seconds_reading : float
        Time spent loading images and reading them through the model.
    seconds_fitting : float
        Time spent in ``partial_fit`` and the top-region bookkeeping.
    """

    max_rows: int = 0
    seconds_reading: float = 0.0
    seconds_fitting: float = 0.0


@dataclasses.dataclass(repr=False)
class SharedGroups:
    """Neuron groups fitted on many images: fixed channel factors, applied to any image.

    Attributes
    ----------
    layer : str
        Canonical name of the layer.
    channel : ndarray, shape (n, C)
        The shared channel factors, most used group first.
    model_name, model_identity : str
        The model's name and weights identity (:attr:`VisionModel.identity`).
    n_images : int
        Images fitted.
    skipped : list of (str, str)
        Files that could not be read, and why.
    top_regions : list of list of Region
        For each group, its strongest cells across the dataset, best first.
    shape : (int, int)
        The layer's (h, w) at the fit's input size.
    usage : ndarray, shape (n,)
        Each group's share of the summed codes over the dataset.
    seed : int
    stats : FitStats
        What the fit measured (not saved).
    explained_variance : float
        ``1 - sum |a - R|^2 / sum |a|^2`` over the dataset, as the fit went (each batch
        reconstructed by the factors just updated with it); NaN for files from before.
    stability : ndarray, shape (n,), or None
        Split-half stability: each group's mean matched cosine (Hungarian matching on the
        channel factors) with the groups of two more fits, on the even and on the odd
        batches, each from its own random start; None for files from before.
    """

    layer: str
    channel: np.ndarray
    model_name: str
    model_identity: str
    n_images: int
    skipped: list[tuple[str, str]]
    top_regions: list[list[Region]]
    shape: tuple[int, int]
    usage: np.ndarray
    seed: int = 0
    stats: FitStats = dataclasses.field(default_factory=FitStats)
    explained_variance: float = float("nan")
    stability: np.ndarray | None = None

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.channel.shape[0])

    def __repr__(self) -> str:
        return (
            f"SharedGroups(model={self.model_name!r}, layer={self.layer!r}, "
            f"{self.n_groups} groups over {self.channel.shape[1]} channels, "
            f"{self.n_images} images, {len(self.skipped)} skipped)"
        )

    def project(self, acts: np.ndarray) -> np.ndarray:
        """Spatial maps (n, h, w) of activations (h, w, C) on the fixed channel factors (NNLS)."""
        h, w, c = acts.shape
        codes = nnls_codes(acts.reshape(h * w, c), self.channel)  # (h*w, n)
        return codes.T.reshape(self.n_groups, h, w).astype(np.float32)

    def check_model(self, model: VisionModel, layer: str | None = None) -> str:
        """The canonical layer to read, after checking the model and layer fit these groups.

        Raises
        ------
        LayerError
            A layer other than the groups' layer, or one with another channel count.
        ModelError
            A model whose weights are not those the groups were fitted with.
        """
        if layer is not None:
            asked = model.resolve_layer(layer).name
            if asked != self.layer:
                raise LayerError(
                    f"These groups were fitted at {self.layer!r}, not {asked!r}: a group is a "
                    f"direction in {self.layer}'s channels. Read the image at "
                    f"layer={self.layer!r}, or fit groups at {asked!r}."
                )
        info = model.resolve_layer(self.layer)
        if info.channels != self.channel.shape[1]:
            raise LayerError(
                f"Layer {self.layer!r} of {model.name!r} has {info.channels} channels; these "
                f"groups have {self.channel.shape[1]}. Use the model they were fitted with "
                f"({self.model_name!r})."
            )
        if model.identity != self.model_identity:
            raise ModelError(
                f"These groups were fitted with {self.model_identity}, not {model.identity}: "
                f"their channels mean other things. Use the model they were fitted with."
            )
        return info.name

    def factorize(self, acts: np.ndarray) -> Factorization:
        """An image's groups on the fixed channel factors (its maps by NNLS), acts (h, w, C).

        This makes shared groups a :class:`~neuron_groups.factorization.GroupSource`: pass
        them as ``method`` to :func:`neuron_groups.neuron_groups` or
        :meth:`ImageReading.analyze <neuron_groups.reading.ImageReading.analyze>`. The groups
        keep their order, so colours and icons are the shared ones.
        """
        spatial = self.project(acts)  # (n, h, w)
        flat = acts.reshape(-1, acts.shape[-1])  # (h*w, C)
        approx = spatial.reshape(self.n_groups, -1).T @ self.channel  # (h*w, C)
        norm = float(np.linalg.norm(flat))
        return Factorization(
            spatial=spatial,
            channel=self.channel.copy(),
            error=float(np.linalg.norm(flat - approx) / norm) if norm else 0.0,
            method=METHOD,
        )

    def apply(
        self,
        image: Any,
        model: Any = None,
        *,
        layer: str | None = None,
        classes: Sequence[str | int] | None = None,
    ) -> NeuronGroupsResult:
        """One image seen through the shared groups (no icons).

        The same as ``neuron_groups(image, self.layer, classes=classes, method=self,
        icons=False)``: its activations are read once (with the class gradients), its maps
        are their NNLS projection on the fixed channel factors, and the attributions are
        computed as for one image. The image is read at its own size.

        Parameters
        ----------
        image : path, URL, example name, PIL image or array
            See :func:`neuron_groups.images.load_image`.
        model : str, VisionModel or keras.Model, optional
            The model the groups were fitted with (default InceptionV1).
        layer : str, optional
            If given, it must be the groups' layer (else :class:`LayerError`).
        classes : list of str or int, optional
            Classes to attribute (default: the image's top 5).

        Returns
        -------
        NeuronGroupsResult
            ``channel`` is these groups' factors; ``reconstruction_error`` the relative error
            of the NNLS projection.
        """
        vision_model = load_model(model)
        name = self.check_model(vision_model, layer)
        reading = ImageReading(vision_model, load_image(image), name, classes)
        return reading.analyze(None, classes, method=self)

    def class_effects(
        self,
        model: Any = None,
        top: int = 3,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[list[tuple[str, float]]]:
        """The classes each group pushes most on average over its strongest regions.

        The fit does not keep the images nor any gradient, so this is measured afterwards on
        what it keeps: each group's top regions (their crops, :attr:`Region.crop`). Each crop
        is read through the model at its own size (enlarged to the layer's smallest input
        where the crop is smaller; one forward and backward pass, for the
        crop's top 5 classes) and seen through these groups (:meth:`factorize`), which gives
        ``A_r[k, g]``: the linear attribution of group g to class k in crop r (the gradient of
        logit k contracted with the group's NNLS map times its channel factor, the article's
        table; the other methods would cost a path or an ablation per crop),
        taken as 0 for a class not among the crop's top 5. The effect of group g on class k
        is the mean of ``A_r[k, g]`` over g's m regions. Cost: one read per region
        (``n_groups * top_k``), on crops of 64 x 64 pixels.

        Parameters
        ----------
        model : str, VisionModel or keras.Model, optional
            The model the groups were fitted with (default InceptionV1).
        top : int
            Classes kept per group.
        progress : callable, optional
            Called as ``progress(done, total)`` after each region (it may raise to stop).

        Returns
        -------
        list of list of (str, float)
            Per group, up to ``top`` (class name, mean attribution) with a positive mean,
            largest first; [] for a group without crops.
        """
        vision_model = load_model(model)
        self.check_model(vision_model)
        side = max(CROP_SIZE, vision_model.min_input_size(self.layer) or 0)
        effects = []
        total, done = sum(r.crop is not None for group in self.top_regions for r in group), 0
        for g, regions in enumerate(self.top_regions):
            sums: dict[int, float] = {}
            crops = [r.crop for r in regions if r.crop is not None]
            names: dict[int, str] = {}
            for crop in crops:
                done += 1
                reading = ImageReading(vision_model, square_image(crop / 255, side), self.layer)
                result = reading.analyze(
                    None, method=self, attribution="linear", methods=["linear"]
                )
                for row, k in enumerate(result.class_indices):
                    sums[int(k)] = sums.get(int(k), 0.0) + float(result.attributions[row, g])
                    names[int(k)] = result.classes[row]
                if progress is not None:
                    progress(done, total)
            means = sorted(((v / len(crops), k) for k, v in sums.items()), reverse=True)
            effects.append([(names[k], mean) for mean, k in means[:top] if mean > 0])
        return effects

    def save(self, path: str | os.PathLike) -> Path:
        """Write a compressed ``.npz`` that loads with ``allow_pickle=False``.

        The regions' crops are stored as JPEG (quality 90, ``region_jpeg`` end to end with
        ``region_jpeg_end`` offsets), so 8 groups x 12 regions add about 0.3 MB; a loaded crop
        is the JPEG's pixels, close to but not exactly the fitted one.
        """
        regions = [r for group in self.top_regions for r in group]
        arrays = {
            "format": np.array(FORMAT),
            "layer": np.array(self.layer),
            "channel": self.channel.astype(np.float32),
            "model_name": np.array(self.model_name),
            "model_identity": np.array(self.model_identity),
            "n_images": np.array(self.n_images),
            "seed": np.array(self.seed),
            "shape": np.array(self.shape, np.int64),
            "usage": self.usage.astype(np.float32),
            "skipped_names": np.array([s[0] for s in self.skipped], dtype=str),
            "skipped_reasons": np.array([s[1] for s in self.skipped], dtype=str),
            "region_group": np.array([r.group for r in regions], np.int64),
            "region_value": np.array([r.value for r in regions], np.float64),
            "region_index": np.array([r.image_index for r in regions], np.int64),
            "region_image": np.array([r.image for r in regions], dtype=str),
            "region_yx": np.array([(r.y, r.x) for r in regions], np.int64).reshape(-1, 2),
            "explained_variance": np.array(self.explained_variance, np.float64),
        }
        if self.stability is not None:
            arrays["stability"] = self.stability.astype(np.float32)
        arrays["region_jpeg"], arrays["region_jpeg_end"] = encode_crops([r.crop for r in regions])
        return save_npz(path, arrays)


def load_groups(path: str | os.PathLike) -> SharedGroups:
    """Read groups written by :meth:`SharedGroups.save`."""
    fields = read_npz(path, "shared groups")
    if str(fields.get("format", "")) != FORMAT:
        raise NeuronGroupsError(
            f"{path} is not a file of shared groups (written by SharedGroups.save); a one-image "
            "result loads with neuron_groups.load."
        )
    n = fields["channel"].shape[0]
    top: list[list[Region]] = [[] for _ in range(n)]
    crops = decode_crops(fields["region_jpeg"], fields["region_jpeg_end"])
    for g, value, index, image, (y, x), crop in zip(
        fields["region_group"],
        fields["region_value"],
        fields["region_index"],
        fields["region_image"],
        fields["region_yx"],
        crops,
        strict=True,
    ):
        region = Region(int(g), float(value), int(index), str(image), int(y), int(x), crop)
        top[int(g)].append(region)
    return SharedGroups(
        layer=str(fields["layer"]),
        channel=fields["channel"],
        model_name=str(fields["model_name"]),
        model_identity=str(fields["model_identity"]),
        n_images=int(fields["n_images"]),
        skipped=[
            (str(a), str(b))
            for a, b in zip(fields["skipped_names"], fields["skipped_reasons"], strict=True)
        ],
        top_regions=top,
        shape=(int(fields["shape"][0]), int(fields["shape"][1])),
        usage=fields["usage"],
        seed=int(fields["seed"]),
        explained_variance=float(fields.get("explained_variance", np.nan)),
        stability=fields.get("stability"),
    )
