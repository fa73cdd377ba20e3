"""Framework-neutral checks of what a backend is given: images, sizes, classes, targets.

Every backend runs these before touching its framework, so that bad input gets the same
specific error (:mod:`neuron_groups.errors`) whatever the framework, and never a traceback
from inside one. numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neuron_groups.backends.base import LayerInfo, Targets, VisionModel
from neuron_groups.errors import ClassNameError, ImageError, LayerError, ModelError

CLIP_SLACK = 0.5
"""Values up to this far outside [0, 1] are clipped; further out, the image is refused."""


# -- images ----------------------------------------------------------------------------
def check_image(image: np.ndarray) -> np.ndarray:
    """Check that ``image`` is one RGB image of floats in [0, 1]; return it as float32.

    A batch of one, (1, H, W, 3), is accepted too. Values slightly outside [0, 1] (by less
    than :data:`CLIP_SLACK`) are clipped.

    Returns
    -------
    ndarray, float32, shape (H, W, 3), values in [0, 1]

    Raises
    ------
    ImageError
        For a non-numeric, integer, empty, wrongly shaped or non-finite image, or one whose
        values are far outside [0, 1].
    """
    array = np.asarray(image)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ImageError(f"An image is an array of numbers; got dtype {array.dtype}.")
    if np.issubdtype(array.dtype, np.integer):
        raise ImageError(
            f"The image has integer dtype {array.dtype}; the model takes RGB floats in [0, 1]. "
            "Divide by 255 (or load it with neuron_groups.images.load_image)."
        )
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    _check_shape(array)
    if not np.all(np.isfinite(array)):
        raise ImageError("The image has NaN or infinite values.")
    _check_range(float(array.min()), float(array.max()))
    return np.clip(array, 0.0, 1.0).astype(np.float32)


def _check_range(low: float, high: float) -> None:
    if high > 1 + CLIP_SLACK:
        raise ImageError(
            f"The image's values reach {high:g}; the model takes RGB floats in [0, 1]. "
            "It looks like 0..255 data: divide by 255."
        )
    if low < -CLIP_SLACK:
        raise ImageError(
            f"The image's values go down to {low:g}; the model takes RGB floats in [0, 1], "
            "not normalized or mean-subtracted values."
        )


def _check_shape(array: np.ndarray) -> None:
    if array.size == 0:
        raise ImageError(f"The image is empty (shape {array.shape}).")
    if array.ndim == 2:
        raise ImageError(
            f"The image has shape {array.shape}, a grayscale image; the model takes RGB "
            "(H, W, 3). Repeat it over 3 channels, or load it with "
            "neuron_groups.images.load_image, which converts."
        )
    if array.ndim != 3:
        raise ImageError(
            f"The image has shape {array.shape}; the model takes one RGB image, (H, W, 3)."
        )
    if array.shape[-1] != 3:
        hint = " (RGBA? drop the alpha channel: image[..., :3])" if array.shape[-1] == 4 else ""
        raise ImageError(
            f"The image has {array.shape[-1]} channels{hint}; the model takes RGB, "
            f"shape (H, W, 3), got {array.shape}."
        )


# -- a user's model options ---------------------------------------------------------------
def check_class_names(
    class_names: Sequence[str] | Sequence[Sequence[str]], n_logits: int
) -> tuple[list[str], list[tuple[str, ...]]]:
    """(display names, synonyms) of each logit from a user's list (Keras and PyTorch models).

    Each entry is a name or a non-empty list of names, the first being the display name.
    """
    synonyms = [(c,) if isinstance(c, str) else tuple(str(n) for n in c) for c in class_names]
    if len(synonyms) != n_logits or any(len(s) == 0 for s in synonyms):
        raise ModelError(
            f"class_names has {len(synonyms)} entries for {n_logits} logits; give one name "
            "(or one non-empty list of names) per logit."
        )
    return [s[0] for s in synonyms], synonyms


# -- input sizes -----------------------------------------------------------------------
def check_value_range(value_range: tuple[float, float]) -> tuple[float, float]:
    """A model's input range (low, high) as floats, or ModelError (Keras and PyTorch models)."""
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ModelError(f"value_range is a pair (low, high); got {value_range!r}.") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ModelError(f"value_range needs finite low < high; got {value_range!r}.")
    return low, high


def check_fixed_size(model_name: str, hw: tuple[int, int], fixed: tuple[int, int] | None) -> None:
    """Refuse an image of (H, W) ``hw`` when the network takes only ``fixed`` (H, W)."""
    if fixed is not None and tuple(hw) != tuple(fixed):
        raise ImageError(
            f"The model {model_name!r} takes {fixed[0]}x{fixed[1]} images; got "
            f"{hw[0]}x{hw[1]}. Resize the image first."
        )


def check_min_size(hw: tuple[int, int], layer: str, minimum: int | None, default: int) -> None:
    """Refuse an image of (H, W) ``hw`` smaller than ``minimum``, the least that reaches ``layer``.

    ``default`` is the model's default input side, named in the message.
    """
    height, width = hw
    if minimum is not None and min(height, width) < minimum:
        raise ImageError(
            f"The image is {height}x{width}, too small to reach layer {layer!r}: "
            f"the smallest input that reaches {layer} is {minimum}x{minimum} "
            f"({default}x{default} is the default). Upscale the image."
        )


# -- classes ---------------------------------------------------------------------------
def check_class_indices(class_indices: Sequence[int], n_classes: int) -> np.ndarray:
    """Return the class indices as int32 (T,), refusing non-integers and indices out of range.

    Raises
    ------
    ClassNameError
        For a name or another non-integer, or an index outside ``0..n_classes - 1``.
    """
    classes = np.asarray(list(class_indices)).reshape(-1)
    if classes.size and (classes.dtype == bool or not np.issubdtype(classes.dtype, np.integer)):
        raise ClassNameError(
            f"Class indices are integers; got {list(class_indices)!r}. Resolve names with "
            "neuron_groups.labels.resolve_classes first."
        )
    bad = classes[(classes < 0) | (classes >= n_classes)]
    if bad.size:
        raise ClassNameError(
            f"Class index {int(bad[0])} is out of range: the model has {n_classes} "
            f"classes (0..{n_classes - 1})."
        )
    return classes.astype(np.int32)


def check_top_k(k: int, n_classes: int) -> int:
    """Return ``k`` if 0 <= k <= n_classes (how many best classes to take), else refuse it."""
    if not 0 <= k <= n_classes:
        raise ClassNameError(
            f"Cannot take the {k} best classes: the model has {n_classes} classes."
        )
    return k


# -- targets ---------------------------------------------------------------------------
def check_targets(model: VisionModel, layer: LayerInfo, targets: Targets) -> LayerInfo | None:
    """Check that ``targets`` can be differentiated at ``layer``; return the later layer, if any.

    Class targets (``"classes"``, ``"top"``) need ``layer`` at or before the logits, and
    their indices in range; direction targets need their layer strictly after ``layer`` and
    vectors with its channel count. Empty targets need nothing.

    Returns
    -------
    LayerInfo or None
        The direction targets' layer; None for class targets.

    Raises
    ------
    LayerError, ClassNameError
    """
    if targets.kind in ("classes", "top"):
        if targets.kind == "classes":
            check_class_indices(targets.indices, model.n_classes)
        else:
            check_top_k(targets.k, model.n_classes)
        if len(targets) and model.layer_index(layer.name) > model.layer_index(model.logits_layer):
            raise LayerError(
                f"Layer {layer.name!r} comes after the logits ({model.logits_layer!r}); "
                "gradients of the logits are taken at a layer before them."
            )
        return None
    if targets.kind != "directions":
        raise ValueError(f"Unknown kind of targets {targets.kind!r}.")
    later = model.resolve_layer(targets.layer)
    if model.layer_index(later.name) <= model.layer_index(layer.name):
        raise LayerError(
            f"Direction targets at {later.name!r} are read at {layer.name!r}, which does not "
            f"come before it: the targets' layer must come after the layer read."
        )
    assert targets.vectors is not None
    if targets.vectors.shape[1] != later.channels:
        raise LayerError(
            f"The directions have {targets.vectors.shape[1]} channels but layer "
            f"{later.name!r} has {later.channels}."
        )
    return later


def check_directions(
    directions: object, size: int, model_name: str
) -> tuple[list[str], np.ndarray]:
    """Named directions in an embedding of ``size`` numbers, as (names, unit vectors (K, E)).

    ``directions`` maps each name (a non-empty string) to a vector (E,), or (1, E), of
    finite numbers that are not all zero (a numpy array, a list, or a tensor).

    Raises
    ------
    ClassNameError
        For anything else; a vector of another size names both sizes.
    """
    if not isinstance(directions, Mapping):
        raise ClassNameError(
            f"Directions are a dict of names and vectors, {{name: vector}}; got "
            f"{type(directions).__name__}."
        )
    names, rows = [], []
    for name, vector in directions.items():
        if not isinstance(name, str) or not name.strip():
            raise ClassNameError(f"A direction is named by a non-empty string; got {name!r}.")
        row = _as_vector(name, vector)
        if row.size != size:
            raise ClassNameError(
                f"Direction {name!r} has {row.size} numbers, but the embedding of "
                f"{model_name!r} has {size}: a direction lives in the space of the model's "
                "output (for CLIP, the projected image embedding: get_image_features)."
            )
        norm = float(np.linalg.norm(row))
        if not np.isfinite(norm) or norm == 0:
            raise ClassNameError(f"Direction {name!r} is zero or not finite; it has no direction.")
        names.append(name)
        rows.append(row / norm)
    matrix = np.stack(rows).astype(np.float32) if rows else np.zeros((0, size), np.float32)
    return names, matrix


def _as_vector(name: str, vector: object) -> np.ndarray:
    """One direction as float64 (E,): from (E,) or (1, E), a list, an array or a tensor."""
    if hasattr(vector, "detach"):  # a tensor: off its device, out of the graph
        vector = vector.detach().cpu().float().numpy()
    try:
        array = np.asarray(vector, dtype=np.float64)
    except (TypeError, ValueError):
        raise ClassNameError(
            f"Direction {name!r} is a vector of numbers; got {type(vector).__name__}."
        ) from None
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1:
        raise ClassNameError(f"Direction {name!r} is one vector (E,); got shape {array.shape}.")
    return array


def check_evaluation_targets(
    model: VisionModel, layer: LayerInfo, targets: Targets
) -> LayerInfo | None:
    """:func:`check_targets` for :meth:`VisionModel.evaluate`, which takes no ``"top"``.

    The best classes depend on the activations; evaluating at many activations needs
    named classes.
    """
    if targets.kind == "top":
        raise ClassNameError(
            "evaluate takes Targets.classes or Targets.directions, not Targets.top_classes: "
            "the best classes depend on the activations. Read the image's best classes "
            "first (read(...).targets) and pass Targets.classes(those)."
        )
    return check_targets(model, layer, targets)


def check_acts(acts: np.ndarray, expected: tuple[int, ...], layer: str) -> np.ndarray:
    """Check a batch of activations (B, *expected) at ``layer``; return it as float32.

    ``expected`` is the layer's shape for this image, (h, w, C) or (C,).

    Raises
    ------
    LayerError
        For a non-numeric, wrongly shaped or non-finite batch; the message gives the
        expected shape.
    """
    array = np.asarray(acts)
    want = ", ".join(["B", *(str(d) for d in expected)])
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise LayerError(f"Activations are numbers; got dtype {array.dtype}.")
    if array.ndim != len(expected) + 1 or tuple(array.shape[1:]) != tuple(expected):
        hint = (
            " (one set of activations? add a batch axis: acts[None])"
            if (tuple(array.shape) == tuple(expected))
            else ""
        )
        raise LayerError(
            f"Activations at {layer!r} for this image have shape ({want}), as read returns "
            f"them (channels-last), with B of them; got {array.shape}{hint}."
        )
    if not np.all(np.isfinite(array)):
        raise LayerError("The activations have NaN or infinite values.")
    return np.ascontiguousarray(array, dtype=np.float32)


# -- small helpers ---------------------------------------------------------------------
def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for integers, also for negative ``a``."""
    return -(-a // b)


def short_hash(digest_hex: str) -> str:
    """Return the first 12 hex digits of a digest: enough to tell weights apart in cache keys."""
    return digest_hex[:12]


__all__ = [
    "CLIP_SLACK",
    "ceil_div",
    "check_acts",
    "check_class_indices",
    "check_directions",
    "check_evaluation_targets",
    "check_fixed_size",
    "check_image",
    "check_min_size",
    "check_targets",
    "check_top_k",
    "short_hash",
]
