"""The result of a neuron-groups analysis, and its ``.npz`` file format."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from neuron_groups.errors import NeuronGroupsError
from neuron_groups.files import read_npz, save_npz


@dataclasses.dataclass(repr=False)
class NeuronGroupsResult:
    """Everything the analysis of one image at one layer found.

    Attributes
    ----------
    image : ndarray, shape (H, W, 3)
        The input image, RGB floats in [0, 1].
    layer : str
        Canonical name of the layer that was factorized.
    spatial : ndarray, shape (n, h, w)
        Where each group is present, ordered left to right.
    channel : ndarray, shape (n, C)
        Each group's direction over the layer's channels.
    attributions : ndarray, shape (k, n)
        Effect of each group on each class's logit (linear approximation).
    classes : list of str
        Names of the k attributed classes (rows of ``attributions``).
    class_indices : ndarray, shape (k,)
        Their logit indices.
    logits : ndarray, shape (K,)
        The model's pre-softmax scores for the image.
    top5 : list of str
        Names of the five highest-scoring classes, best first.
    icons : ndarray, shape (n, S, S, 3), or None
        Feature visualization of each group, floats in [0, 1], once rendered.
    model_name : str
    method : str
        The factorization estimator's class name.
    reconstruction_error : float
        Relative error of the factorization.
    """

    image: np.ndarray
    layer: str
    spatial: np.ndarray
    channel: np.ndarray
    attributions: np.ndarray
    classes: list[str]
    class_indices: np.ndarray
    logits: np.ndarray
    top5: list[str]
    icons: np.ndarray | None = None
    model_name: str = "inceptionv1"
    method: str = "NMF"
    reconstruction_error: float = float("nan")

    def __repr__(self) -> str:
        h, w = self.spatial.shape[1:]
        icons = "none" if self.icons is None else "{} of {}x{}".format(*self.icons.shape[:3])
        return (
            f"NeuronGroupsResult(model={self.model_name!r}, layer={self.layer!r}, "
            f"{self.n_groups} groups on {h}x{w}, classes={list(self.classes)!r}, "
            f"top1={self.top5[0] if self.top5 else None!r}, icons: {icons})"
        )

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return int(self.spatial.shape[0])

    @property
    def probabilities(self) -> np.ndarray:
        """Softmax of the logits, shape (K,)."""
        shifted = np.exp(self.logits - self.logits.max())
        return shifted / shifted.sum()

    @property
    def top5_indices(self) -> np.ndarray:
        """Logit indices of the top five classes, best first."""
        return np.argsort(-self.logits, kind="stable")[:5]

    def attribution_table(self, digits: int = 3) -> str:
        """The class x group attribution table as aligned text."""
        width = max([len(c) for c in self.classes] + [5])
        header = " " * width + "".join(f"{'group ' + str(g):>10}" for g in range(self.n_groups))
        rows = [
            f"{name:<{width}}" + "".join(f"{v:>10.{digits}f}" for v in values)
            for name, values in zip(self.classes, self.attributions, strict=True)
        ]
        return "\n".join([header, *rows])

    def top5_table(self) -> str:
        """The five best classes with their probabilities and logits, as text."""
        probs = self.probabilities
        return "\n".join(
            f"{rank}. {name:<28} p={probs[i]:.3f}  logit={self.logits[i]:.2f}"
            for rank, (name, i) in enumerate(zip(self.top5, self.top5_indices, strict=True), 1)
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the result to a compressed ``.npz`` that loads with ``allow_pickle=False``."""
        return save_npz(path, self.to_arrays())

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays :meth:`save` writes, by key."""
        arrays = {
            "image": self.image.astype(np.float32),
            "spatial": self.spatial.astype(np.float32),
            "channel": self.channel.astype(np.float32),
            "attributions": self.attributions.astype(np.float32),
            "classes": np.array(self.classes, dtype=str),
            "class_indices": np.asarray(self.class_indices, dtype=np.int64),
            "logits": self.logits.astype(np.float32),
            "top5": np.array(self.top5, dtype=str),
            "layer": np.array(self.layer),
            "model_name": np.array(self.model_name),
            "method": np.array(self.method),
            "reconstruction_error": np.array(self.reconstruction_error, dtype=np.float64),
        }
        if self.icons is not None:
            arrays["icons"] = self.icons.astype(np.float32)
        return arrays


def load(path: str | os.PathLike) -> NeuronGroupsResult:
    """Read a result written by :meth:`NeuronGroupsResult.save`."""
    return from_arrays(read_npz(path, "a neuron-groups result"), path)


def from_arrays(fields: dict[str, np.ndarray], path: str | os.PathLike) -> NeuronGroupsResult:
    """The result that :meth:`NeuronGroupsResult.to_arrays` wrote (``path``: for messages)."""
    missing = {"image", "spatial", "channel", "attributions", "classes", "logits"} - set(fields)
    if missing:
        raise NeuronGroupsError(f"{path} is not a neuron-groups result: no {sorted(missing)}.")
    return NeuronGroupsResult(
        image=fields["image"],
        layer=str(fields.get("layer", "")),
        spatial=fields["spatial"],
        channel=fields["channel"],
        attributions=fields["attributions"],
        classes=[str(c) for c in fields["classes"]],
        class_indices=fields.get("class_indices", np.zeros(0, np.int64)),
        logits=fields["logits"],
        top5=[str(c) for c in fields.get("top5", [])],
        icons=fields.get("icons"),
        model_name=str(fields.get("model_name", "")),
        method=str(fields.get("method", "")),
        reconstruction_error=float(fields.get("reconstruction_error", np.nan)),
    )
