"""Choosing a vision model: InceptionV1 by name, any Keras model, or a ready VisionModel.

TensorFlow is imported only when a model is actually built.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence

from neuron_groups.backends.base import VisionModel
from neuron_groups.data import CACHE_ENV, DATA_ENV
from neuron_groups.errors import ModelError, did_you_mean

MODEL_NAMES = {
    "inceptionv1": "inceptionv1",
    "googlenet": "inceptionv1",
    "bvlc_googlenet": "inceptionv1",
}
"""Every accepted model name (lower case) and the model it means."""

BACKENDS = ("tensorflow", "torch")
"""The frameworks a built-in model can be built with (``backend=``)."""


def load_model(
    model: str | VisionModel | object = "inceptionv1",
    *,
    value_range: tuple[float, float] | None = None,
    class_names: Sequence[str] | Sequence[Sequence[str]] | None = None,
    logits_layer: str | None = None,
    backend: str = "tensorflow",
) -> VisionModel:
    """Return a :class:`~neuron_groups.backends.base.VisionModel` to read images with.

    Parameters
    ----------
    model : str, keras.Model or VisionModel
        ``"inceptionv1"`` (also ``"googlenet"``, ``"bvlc_googlenet"``, any case): BVLC
        GoogLeNet with ImageNet weights, built once per process. A ``keras.Model`` taking
        (B, H, W, 3) images is wrapped in a
        :class:`~neuron_groups.backends.tensorflow.keras_model.KerasVisionModel`. A
        VisionModel is returned as it is.
    value_range : (float, float), optional
        Keras models only: the input range the network wants (default (0, 1)).
    class_names : list of str, or list of lists of str, optional
        Keras models only: the name (or all names) of each logit.
    logits_layer : str, optional
        Keras models only: the layer holding the pre-softmax logits (default: the output).
    backend : str
        Built-in models only: ``"tensorflow"`` (default) or ``"torch"`` (PyTorch, the
        ``torch`` extra; never imports TensorFlow). Both read the same weight files and share
        the icon cache.

    Raises
    ------
    ModelError
        For an unknown name, an object that is not a model, or options a model cannot take.
    DataError
        If InceptionV1's weights are missing or corrupt and cannot be downloaded.
    """
    options = {"value_range": value_range, "class_names": class_names, "logits_layer": logits_layer}
    given = [key for key, value in options.items() if value is not None]
    if isinstance(model, VisionModel):
        _refuse_options(given, "a ready VisionModel")
        return model
    if isinstance(model, str):
        canonical = _canonical_name(model)
        _refuse_options(given, f"the built-in {canonical!r}")
        folders = (os.environ.get(DATA_ENV), os.environ.get(CACHE_ENV))
        if _backend(backend) == "torch":
            return _inceptionv1_torch(*folders)
        return _inceptionv1(*folders)
    if _is_keras_model(model):
        from neuron_groups.backends.tensorflow.keras_model import KerasVisionModel

        return KerasVisionModel(model, **{key: options[key] for key in given})
    raise ModelError(
        f"A model is a name ({', '.join(sorted(MODEL_NAMES))}), a keras.Model or a "
        f"VisionModel; got {type(model).__name__}."
    )


def _backend(backend: str) -> str:
    key = str(backend).strip().lower()
    key = {"tf": "tensorflow", "pytorch": "torch"}.get(key, key)
    if key not in BACKENDS:
        hint = did_you_mean(str(backend), BACKENDS)
        raise ModelError(f"Unknown backend {backend!r}.{hint} Backends: {', '.join(BACKENDS)}.")
    return key


def _canonical_name(name: str) -> str:
    key = name.strip().lower()
    if key not in MODEL_NAMES:
        hint = did_you_mean(name, MODEL_NAMES)
        raise ModelError(
            f"Unknown model {name!r}.{hint} Known models: {', '.join(sorted(MODEL_NAMES))}; "
            "or pass a keras.Model."
        )
    return MODEL_NAMES[key]


def _refuse_options(given: list[str], what: str) -> None:
    if given:
        raise ModelError(f"{', '.join(given)} can only be set for a Keras model, not for {what}.")


def _is_keras_model(model: object) -> bool:
    # Avoid importing TensorFlow just to reject a wrong type.
    if not any(c.__module__.startswith(("keras", "tf_keras")) for c in type(model).__mro__):
        return False
    import keras

    return isinstance(model, keras.Model)


@functools.cache
def _inceptionv1(data_root: str | None, cache_root: str | None) -> VisionModel:
    # Keyed by the data folders, so that pointing them elsewhere loads (and checks) anew.
    from neuron_groups.backends.tensorflow.inceptionv1 import InceptionV1
    from neuron_groups.labels import imagenet_names, imagenet_synonyms

    return InceptionV1(class_names=imagenet_names(), class_synonyms=imagenet_synonyms())


@functools.cache
def _inceptionv1_torch(data_root: str | None, cache_root: str | None) -> VisionModel:
    try:
        from neuron_groups.backends.torch import InceptionV1
    except ImportError as exc:
        raise ModelError(
            f'backend="torch" needs PyTorch ({exc}); install it with '
            '`pip install "neuron-groups[torch]"`.'
        ) from exc
    from neuron_groups.labels import imagenet_names, imagenet_synonyms

    return InceptionV1(class_names=imagenet_names(), class_synonyms=imagenet_synonyms())


__all__ = ["MODEL_NAMES", "load_model"]
