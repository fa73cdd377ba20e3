"""The errors neuron-groups raises on bad input: each says what was wrong and what is allowed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NeuronGroupsError(ValueError):
    """Base class of every error this package raises about its input or data."""


class LayerError(NeuronGroupsError):
    """An unknown layer, or a layer that cannot be used for what was asked."""


class ImageError(NeuronGroupsError):
    """An image that cannot be read or used (empty, NaN, wrong shape, too small...)."""


class ClassNameError(NeuronGroupsError):
    """A class name or index the model does not have."""


class GroupCountError(NeuronGroupsError):
    """A number of groups that the activations cannot be factorized into."""


class FactorizationError(NeuronGroupsError):
    """A factorization method that is unknown or unsuitable for the activations."""


class ModelError(NeuronGroupsError):
    """An unknown model name, or a model object that cannot be used."""


class DataError(NeuronGroupsError):
    """A weight, label or image file that is missing, unreachable or corrupt."""


class DatasetError(NeuronGroupsError):
    """A set of images that cannot be fitted (empty, or nothing readable)."""


class Cancelled(Exception):  # noqa: N818 - it is an outcome, not a failure
    """Raised inside long computations when the caller asked them to stop."""


def closest(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` of ``choices`` closest to ``word`` (case-insensitive)."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.4)
    if not matches:
        matches = [c for c in lowered if word.lower() in c][:n]
    return [lowered[m] for m in matches]


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """Return a ' Did you mean ...?' sentence, or '' when nothing is close."""
    near = closest(word, choices, n)
    if not near:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in near) + "?"


def plural(n: int, one: str, many: str | None = None) -> str:
    """``n`` and a noun in the right number: '1 file', '2 files', '3 entries'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
