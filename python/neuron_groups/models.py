"""Choosing a vision model: InceptionV1 by name, any Keras or PyTorch model, or a VisionModel.

TensorFlow is imported only when a TensorFlow model is built, PyTorch only for a PyTorch one.
"""

from __future__ import annotations

import functools
import os
import weakref
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
    model: str | VisionModel | object | None = "inceptionv1",
    *,
    value_range: tuple[float, float] | None = None,
    class_names: Sequence[str] | Sequence[Sequence[str]] | None = None,
    logits_layer: str | None = None,
    backend: str = "tensorflow",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    input_size: int | tuple[int, int] | None = None,
    device: object = None,
    processor: object = None,
    output: object = None,
) -> VisionModel:
    """Return a :class:`~neuron_groups.backends.base.VisionModel` to read images with.

    Parameters
    ----------
    model : str, keras.Model, torch.nn.Module, VisionModel or None
        None means ``"inceptionv1"`` (also ``"googlenet"``, ``"bvlc_googlenet"``, any case): BVLC
        GoogLeNet with ImageNet weights, built once per process. A ``keras.Model`` taking
        (B, H, W, 3) images is wrapped in a
        :class:`~neuron_groups.backends.tensorflow.keras_model.KerasVisionModel`; a
        ``torch.nn.Module`` classifier taking (B, 3, H, W) images (torchvision, timm, your
        own) in a :class:`~neuron_groups.backends.torch.module.TorchModuleModel`, read at
        its module paths (``"layer3"``, ``"blocks.6"``); a Hugging Face ``transformers``
        vision model (a classifier, a backbone such as DINOv2, or CLIP) in a
        :class:`~neuron_groups.backends.torch.huggingface.HuggingFaceModel`, also read at
        its module paths. The same module with no options gives the same wrapper. A
        VisionModel is returned as it is.
    value_range : (float, float), optional
        Keras and PyTorch models: the input range the network wants (default (0, 1)).
    class_names : list of str, or list of lists of str, optional
        Keras and PyTorch models: the name (or all names) of each logit. PyTorch default:
        ImageNet's names for 1000 logits, else ``"class i"``.
    logits_layer : str, optional
        Keras models only: the layer holding the pre-softmax logits (default: the output).
    backend : str
        Built-in models only: ``"tensorflow"`` (default) or ``"torch"`` (PyTorch, the
        ``torch`` extra; never imports TensorFlow). Both read the same weight files and share
        the icon cache.
    mean, std : sequence of 3 floats, optional
        PyTorch models only: the input normalization ``(x - mean) / std`` in units of
        ``value_range``. Default: timm's ``pretrained_cfg`` when the module has one, else
        ImageNet's (torchvision's).
    input_size : int or (int, int), optional
        PyTorch models only: the size the layers are listed at (default: the model's own,
        else 224).
    device : str or torch.device, optional
        PyTorch models only: where to run (default: where the module's weights are).
    processor : image processor or processor, optional
        Hugging Face models only: the checkpoint's (``AutoImageProcessor`` or
        ``AutoProcessor.from_pretrained(name)``), for the input's normalization and size,
        and for a CLIP or SigLIP model the tokenizer that turns text classes into
        directions. Needed where the config does not say the normalization (ViT, BEiT,
        CLIP, SigLIP), unless ``mean`` and ``std`` are given.
    output : str or callable, optional
        Hugging Face models only: the embedding of a model without a classifier, a field
        of its output (``"image_embeds"``, ``"pooler_output"``) or a function of it giving
        (B, E). Default: the logits of a classifier; else ``image_embeds``, else the
        pooled output, else the class token of the last hidden state.

    Raises
    ------
    ModelError
        For an unknown name, an object that is not a model, or options a model cannot take.
    DataError
        If InceptionV1's weights are missing or corrupt and cannot be downloaded.
    """
    options = {
        "value_range": value_range,
        "class_names": class_names,
        "logits_layer": logits_layer,
        "mean": mean,
        "std": std,
        "input_size": input_size,
        "device": device,
        "processor": processor,
        "output": output,
    }
    given = [key for key, value in options.items() if value is not None]
    if model is None:
        model = "inceptionv1"
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
    if _is_huggingface_model(model):
        _refuse_options([k for k in given if k not in HF_OPTIONS], "a Hugging Face model")
        return _torch_module_model(model, {key: options[key] for key in given}, huggingface=True)
    if _is_torch_module(model):
        _refuse_options([k for k in given if k not in TORCH_OPTIONS], "a PyTorch module")
        return _torch_module_model(model, {key: options[key] for key in given})
    if _is_keras_model(model):
        _refuse_options([k for k in given if k not in KERAS_OPTIONS], "a Keras model")
        from neuron_groups.backends.tensorflow.keras_model import KerasVisionModel

        return KerasVisionModel(model, **{key: options[key] for key in given})
    raise ModelError(
        f"A model is a name ({', '.join(sorted(MODEL_NAMES))}), a keras.Model, a "
        f"torch.nn.Module or a VisionModel; got {type(model).__name__}."
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


KERAS_OPTIONS = ("value_range", "class_names", "logits_layer")
TORCH_OPTIONS = ("value_range", "class_names", "mean", "std", "input_size", "device")
HF_OPTIONS = (*TORCH_OPTIONS, "processor", "output")


def _refuse_options(given: list[str], what: str) -> None:
    if given:
        raise ModelError(
            f"{', '.join(given)} cannot be set for {what}. value_range and class_names are "
            f"for a Keras model or a PyTorch module, logits_layer for a Keras model, "
            f"{', '.join(TORCH_OPTIONS[2:])} for a PyTorch module, processor and output for "
            "a Hugging Face model."
        )


def _is_torch_module(model: object) -> bool:
    # Avoid importing PyTorch just to reject a wrong type.
    if not any(c.__module__.startswith("torch.") for c in type(model).__mro__):
        return False
    import torch

    return isinstance(model, torch.nn.Module)


def _is_huggingface_model(model: object) -> bool:
    # A transformers model is a PyTorch module whose class comes from transformers.
    classes = type(model).__mro__
    return any(c.__module__.startswith("transformers.") for c in classes) and _is_torch_module(
        model
    )


_torch_wrappers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""The wrapper of each module loaded without options, so that passing it again is cheap."""


def _torch_module_model(net: object, options: dict, huggingface: bool = False) -> VisionModel:
    if huggingface:
        from neuron_groups.backends.torch.huggingface import HuggingFaceModel as Wrapper
    else:
        from neuron_groups.backends.torch.module import TorchModuleModel as Wrapper

    if options:
        return Wrapper(net, **options)
    if net not in _torch_wrappers:
        _torch_wrappers[net] = Wrapper(net)
    return _torch_wrappers[net]


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

    model = InceptionV1(class_names=imagenet_names(), class_synonyms=imagenet_synonyms())
    _built_folders.add((data_root, cache_root))
    return model


_built_folders: set[tuple[str | None, str | None]] = set()
"""The data folders InceptionV1 (TensorFlow, the default backend) was built with."""


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


def is_built(model: object = None) -> bool:
    """Whether :func:`load_model` returns ``model`` without building anything slow.

    False only for a built-in model's name (None meaning InceptionV1) that this process has
    not built yet with the current data folders: its first load imports the framework and
    reads and checks the weights, which takes seconds.
    """
    if model is not None and not isinstance(model, str):
        return True
    try:
        name = _canonical_name("inceptionv1" if model is None else model)
    except ModelError:
        return True  # refused at once by load_model
    assert name == "inceptionv1"  # the one built-in model
    folders = (os.environ.get(DATA_ENV), os.environ.get(CACHE_ENV))
    return folders in _built_folders


__all__ = ["MODEL_NAMES", "is_built", "load_model"]
