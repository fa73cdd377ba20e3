"""ImageNet class names, and turning what a user typed into class indices."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from neuron_groups.data import data_path
from neuron_groups.errors import ClassNameError, did_you_mean

SYNSET_WORDS = "models/bvlc_googlenet/synset_words.txt"


@functools.cache
def imagenet_synonyms() -> tuple[tuple[str, ...], ...]:
    """All names of each of the 1000 ImageNet classes, in the standard order.

    ``synset_words.txt`` lines look like ``n02099712 Labrador retriever``; a line may hold
    several comma-separated synonyms, the first of which is the display name.
    """
    text = data_path(SYNSET_WORDS).read_text()
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        _, _, names = line.partition(" ")
        rows.append(tuple(n.strip() for n in names.split(",") if n.strip()))
    return tuple(rows)


def imagenet_names() -> list[str]:
    """Display name (first synonym) of each ImageNet class."""
    return [s[0] for s in imagenet_synonyms()]


def resolve_classes(
    classes: Sequence[str | int],
    synonyms: Sequence[Sequence[str]] | None,
    n_classes: int,
) -> list[int]:
    """Turn class names (any synonym, case-insensitive) or indices into logit indices.

    Raises
    ------
    ClassNameError
        For an unknown name (listing the closest names) or an index out of range.
    """
    lookup: dict[str, int] = {}
    if synonyms is not None:
        for index, names in enumerate(synonyms):
            for name in names:
                lookup.setdefault(name.lower(), index)
    indices = []
    for cls in classes:
        if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool):
            if not 0 <= cls < n_classes:
                raise ClassNameError(
                    f"Class index {cls} is out of range: the model has {n_classes} classes "
                    f"(0..{n_classes - 1})."
                )
            indices.append(int(cls))
        elif isinstance(cls, str):
            if synonyms is None:
                raise ClassNameError(
                    f"Class {cls!r} was given by name, but this model has no class names; "
                    f"give an index in 0..{n_classes - 1}, or pass class_names to load_model."
                )
            key = cls.strip().lower()
            if key not in lookup:
                hint = did_you_mean(cls, [n for names in synonyms for n in names])
                raise ClassNameError(
                    f"Unknown class {cls!r}.{hint} Classes are named as in synset_words.txt "
                    "(any synonym, any case) or given by index."
                )
            indices.append(lookup[key])
        else:
            raise ClassNameError(
                f"A class is a name or an index; got {cls!r} ({type(cls).__name__})."
            )
    return indices
