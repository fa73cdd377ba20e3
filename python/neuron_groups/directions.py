"""Targets for a model without a classifier: named directions in its embedding.

A classifier's targets are its classes. A model whose output is an embedding (DINOv2,
CLIP's image tower) has none; its targets are directions in the embedding's space:

- given as vectors, ``classes={"dog": vector, ...}`` (for example text embeddings computed
  with CLIP's text tower);
- the embedding of another image, ``target_image=``, named :data:`TARGET_IMAGE`: "which
  groups make these two images look alike";
- for a model with a text tower (CLIP, SigLIP), class names as texts,
  ``classes=["a photo of a dog", ...]``, or ``classes={"dog": "a photo of a dog"}``,
  embedded by that tower.

:func:`aim` turns them into the model to read with: one whose class names are the
directions' names and whose logits are the embedding's components along them
(:meth:`~neuron_groups.backends.base.VisionModel.toward`: ``<embedding, v / |v|>``), so
that every target, attribution method, flow and readout above works on them as on
classes. numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from neuron_groups.backends.base import VisionModel
from neuron_groups.errors import ClassNameError
from neuron_groups.images import load_image

TARGET_IMAGE = "target image"
"""The name of the direction ``target_image=`` gives (the other image's embedding)."""


def aim(
    model: VisionModel, classes: Any = None, target_image: Any = None
) -> tuple[VisionModel, Any]:
    """The model and classes to read with, the directions given made into classes.

    Parameters
    ----------
    model : VisionModel
    classes : dict, list or None
        A dict ``{name: vector or text}`` of directions; a list of texts for a model with a
        text tower (names it already has are kept as they are); else classes as usual.
    target_image : path, URL, example name, PIL image or array, optional
        Another image, whose embedding is one more direction, :data:`TARGET_IMAGE`.

    Returns
    -------
    (VisionModel, classes)
        With directions: the model toward them, and the list of their names (every
        direction is a row of the table). Without: both as given.

    Raises
    ------
    ClassNameError, ModelError
        Directions for a classifier, a direction of the wrong size (both sizes named),
        texts for a model without a text tower, a target image for a classifier.
    """
    directions: dict[str, Any] = {}
    if isinstance(classes, Mapping) and model.embedding_size is None:
        return model.toward(dict(classes)), list(classes)  # a classifier refuses them
    if isinstance(classes, Mapping):
        directions.update(_embedded_texts(model, classes))
    elif _are_texts(model, classes):
        texts = list(dict.fromkeys(classes))
        directions.update(zip(texts, model.embed_texts(texts), strict=True))
    if target_image is not None:
        if TARGET_IMAGE in directions:
            raise ClassNameError(
                f"{TARGET_IMAGE!r} names the direction target_image= gives; name the "
                "direction of that class otherwise."
            )
        directions[TARGET_IMAGE] = model.embed(load_image(target_image))
    if not directions:
        return model, classes
    aimed = model.toward(directions)
    return aimed, list(aimed.class_names or [])


def _embedded_texts(model: VisionModel, classes: Mapping) -> dict[str, Any]:
    """The directions of a dict, its texts (``{"dog": "a photo of a dog"}``) embedded."""
    texts = {name: value for name, value in classes.items() if isinstance(value, str)}
    if not texts:
        return dict(classes)
    embedded = dict(zip(texts, model.embed_texts(list(texts.values())), strict=True))
    return {name: embedded.get(name, value) for name, value in classes.items()}


def _are_texts(model: VisionModel, classes: Any) -> bool:
    """Whether ``classes`` are texts to embed: strings, for an embedding model, not its names."""
    if model.embedding_size is None or isinstance(classes, str):
        return False
    if not isinstance(classes, Sequence) or not classes:
        return False
    if not all(isinstance(c, str) for c in classes):
        return False
    known = {name.lower() for name in model.class_names or []}
    return not all(c.strip().lower() in known for c in classes)


__all__ = ["TARGET_IMAGE", "aim"]
