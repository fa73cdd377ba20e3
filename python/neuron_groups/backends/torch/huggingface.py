"""Hugging Face ``transformers`` vision models behind the VisionModel seam, with no wrapper.

A model is read as any ``nn.Module`` is (:class:`~neuron_groups.backends.torch.module.
TorchModuleModel`: module paths as layers, one probe pass with forward hooks); what differs
is said here, read from the model and its processor without importing ``transformers``:

- **Input.** Images go in as ``pixel_values``; a dual encoder (CLIP, SigLIP: a model with
  ``get_image_features`` and ``get_text_features``) through ``get_image_features``. The
  input size is the processor's (its crop, else its resize), else the config's
  ``image_size``; a model with absolute position embeddings it does not interpolate (ViT,
  DeiT, CLIP, SigLIP) takes that size only. The normalization is the processor's
  (``image_mean``, ``image_std``, ``rescale_factor``), else the config's where it has one
  (a timm model's ``pretrained_cfg``), else ImageNet's for the families whose checkpoints
  all use it (:data:`IMAGENET_FAMILIES`); any other model needs ``processor=`` (or
  ``mean=`` and ``std=``), and says so.
- **Output.** A classifier's logits are the output's ``logits``, named by
  ``config.id2label``. A model without a classifier returns an **embedding**: by default
  ``image_embeds``, else the pooled output (``pooler_output``), else the class token of
  the last hidden state (the mean of its tokens when it has no class token); ``output=``
  names another field, or is a function of the output. Its targets are named directions
  in that space (:meth:`HuggingFaceModel.toward`): the "logit" of a direction ``v`` is
  ``<embedding, v / |v|>``, the embedding's component along it (the embedding is not
  normalized, so the target is linear in it and defined everywhere; for one image the
  directions rank as by cosine similarity).
- **Layers.** Every module path of the model (for a dual encoder, those of its vision
  tower: ``vision_model.encoder.layers.5``). Outputs that are tuples or output objects are
  read at their hidden states; tokens are laid on their patch grid, prefix tokens (the
  class token, DeiT's distillation token, DINOv2's registers; none for SigLIP or Swin)
  left out; Swin's tokens on each stage's grid, and ConvNeXt's channels-last MLP outputs
  on the right axes.
- **Text.** A dual encoder's text tower turns class names into directions
  (:meth:`HuggingFaceModel.embed_texts`), with the tokenizer of its processor.
"""

from __future__ import annotations

import collections
import copy
import inspect
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from neuron_groups.backends.base import LayerInfo, VisionModel
from neuron_groups.backends.inputs import check_class_names, check_directions
from neuron_groups.backends.torch.layouts import NO_TOKENS, Geometry, square
from neuron_groups.backends.torch.module import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LOGITS,
    Probed,
    TorchModuleModel,
)
from neuron_groups.errors import ClassNameError, ModelError

IMAGENET_FAMILIES = frozenset(
    {
        "convnext",
        "convnextv2",
        "deit",
        "dinov2",
        "dinov2_with_registers",
        "focalnet",
        "levit",
        "pvt",
        "pvt_v2",
        "regnet",
        "resnet",
        "swin",
        "swinv2",
        "vit_mae",
        "vit_msn",
    }
)
"""Model types whose published checkpoints all normalize with ImageNet's mean and std.

Others (ViT and BEiT checkpoints use 0.5 or ImageNet's, CLIP and SigLIP their own) need the
checkpoint's processor, since their config does not say.
"""

MAX_PREFIX = 16
"""The most tokens a ViT puts before its patches (class, distillation, register tokens)."""

Output = str | Callable[[object], torch.Tensor] | None


def is_dual_encoder(net: torch.nn.Module) -> bool:
    """Whether ``net`` embeds images and texts in one space (CLIP, SigLIP)."""
    return callable(getattr(net, "get_image_features", None)) and callable(
        getattr(net, "get_text_features", None)
    )


class HuggingFaceModel(TorchModuleModel):
    """A ``transformers`` vision model (a classifier, a backbone, or CLIP), read at its modules.

    Parameters
    ----------
    net : transformers.PreTrainedModel
        A vision model taking ``pixel_values``: a classifier (``...ForImageClassification``),
        a backbone without a classifier (``Dinov2Model``, ``CLIPVisionModel``), or a dual
        encoder (``CLIPModel``, ``SiglipModel``).
    processor : image processor or processor, optional
        The checkpoint's (``AutoImageProcessor`` / ``AutoProcessor.from_pretrained(name)``):
        its normalization and input size; a processor with a tokenizer also embeds text
        classes for a dual encoder.
    output : str or callable, optional
        What the output is: ``None`` (the logits of a classifier, else the embedding: see
        the module docstring), a field of the output object (``"image_embeds"``,
        ``"pooler_output"``; an embedding (B, E)), or a function of the output object
        giving (B, E).
    value_range, mean, std, class_names, input_size, device, name
        As for :class:`~neuron_groups.backends.torch.module.TorchModuleModel`; they override
        the processor's and the config's. ``class_names`` is for a classifier only.

    Raises
    ------
    ModelError
        A model that does not take ``pixel_values`` or has no output to read; one whose
        normalization is nowhere to be found (it names the argument to pass); an
        ``output`` that is not in the output, or not one vector per image.
    """

    RUN_ERRORS = (RuntimeError, AssertionError, ValueError)

    def __init__(
        self,
        net: torch.nn.Module,
        *,
        processor: object = None,
        output: Output = None,
        class_names: Sequence[str] | Sequence[Sequence[str]] | None = None,
        **options: object,
    ) -> None:
        if output is not None and not isinstance(output, str) and not callable(output):
            raise ModelError(
                f"output is a field of the model's output (e.g. 'pooler_output') or a function "
                f"of it; got {type(output).__name__}."
            )
        self.processor = processor
        self.image_processor = getattr(processor, "image_processor", None) or processor
        self.output = output
        self.config = getattr(net, "config", None)
        self.dual = is_dual_encoder(net)
        self.embedding_size: int | None = None  # set by the probe for an embedding model
        self.classifier = False
        self._unit: torch.Tensor | None = None  # (K, E) unit directions, for an embedding
        self._check_takes_pixels(net)
        super().__init__(net, class_names=class_names, **options)

    # -- what differs from a plain module ------------------------------------------------------
    @property
    def vision_config(self) -> object:
        """The config of the vision tower (a dual encoder's ``vision_config``)."""
        return getattr(self.config, "vision_config", None) or self.config

    @property
    def model_type(self) -> str:
        """The config's ``model_type`` (``"vit"``, ``"clip"``, ``"dinov2"``...)."""
        return str(getattr(self.config, "model_type", "") or "")

    def _entry(self) -> Callable:
        return self.module.get_image_features if self.dual else self.module.forward

    def _check_takes_pixels(self, net: torch.nn.Module) -> None:
        entry = net.get_image_features if self.dual else net.forward
        if "pixel_values" not in inspect.signature(entry).parameters:
            raise ModelError(
                f"{type(net).__name__} is not a vision model: its forward takes no pixel_values."
            )

    def _call(self, inputs: torch.Tensor) -> object:
        return self._entry()(pixel_values=inputs)

    def _preset(self) -> dict:
        found = _processor_preset(self.image_processor) if self.image_processor else {}
        configured = getattr(self.config, "pretrained_cfg", None) or {}  # a timm model's
        size = getattr(self.vision_config, "image_size", None)
        path = str(getattr(self.config, "_name_or_path", "") or "")
        return {
            "name": path or None,
            "range": found.get("range"),
            "mean": _first(found.get("mean"), configured.get("mean")),
            "std": _first(found.get("std"), configured.get("std")),
            "size": found.get("size") or (square(size) if size else None),
        }

    def _default_normalization(self, preset: dict) -> tuple[Sequence[float], Sequence[float]]:
        if preset.get("mean") is not None and preset.get("std") is not None:
            return preset["mean"], preset["std"]
        if self.model_type in IMAGENET_FAMILIES:
            return IMAGENET_MEAN, IMAGENET_STD
        path = str(getattr(self.config, "_name_or_path", "") or "") or "<its checkpoint>"
        auto = "AutoProcessor" if self.dual else "AutoImageProcessor"
        raise ModelError(
            f"{type(self.module).__name__} ({self.model_type or 'a Hugging Face model'}) does "
            "not say how its input is normalized: its config has no mean and std, and "
            "checkpoints of its kind do not all use ImageNet's. Pass "
            f"processor={auto}.from_pretrained({path!r}) (the checkpoint's own), or mean= "
            "and std=."
        )

    def _fixed_size(self) -> tuple[int, int] | None:
        """The config's size, for a model whose absolute position embeddings fix it.

        Such a model (ViT, DeiT, CLIP, SigLIP) refuses other sizes unless asked to
        interpolate its position embeddings, which would change what it computes.
        """
        size = getattr(self.vision_config, "image_size", None)
        takes_flag = "interpolate_pos_encoding" in inspect.signature(self._entry()).parameters
        absolute = any(
            name.endswith(("position_embeddings", "position_embedding.weight"))
            and not name.startswith("text")
            for name, _ in self.module.named_parameters()
        )
        return square(size) if size and takes_flag and absolute else None

    def _geometry(self, probed: Probed) -> Geometry:
        """The patch size (one per stage for Swin), and the prefix tokens the probe saw."""
        patch = getattr(self.vision_config, "patch_size", None)
        if not patch:
            return NO_TOKENS
        stages = len(getattr(self.vision_config, "depths", None) or [0])
        strides = tuple(square(np.asarray(square(patch)) * 2**i) for i in range(stages))
        patches = (self.probe_size[0] // strides[0][0]) * (self.probe_size[1] // strides[0][1])
        prefixes = collections.Counter(
            int(out.shape[1]) - patches
            for out in (_hidden(o) for o in probed.outputs.values())
            if out is not None and out.ndim == 3 and out.shape[0] == 1
            if 0 <= int(out.shape[1]) - patches <= MAX_PREFIX
        )
        prefix = prefixes.most_common(1)[0][0] if prefixes else 0
        return Geometry(prefix, strides)

    def _check_output(self, output: object) -> torch.Tensor:
        """The probe's logits (1, K); for an embedding, (1, 0) and :attr:`embedding_size`."""
        logits = _field(output, "logits")
        if self.output in (None, "logits") and isinstance(logits, torch.Tensor):
            if logits.ndim != 2 or logits.shape[0] != 1:
                raise ModelError(
                    f"The logits of {self.name!r} have shape {tuple(logits.shape)} for one "
                    "image; a classifier gives (1, K)."
                )
            self.classifier = True
            return logits
        if self.output == "logits":
            raise ModelError(f"{self.name!r} has no logits: {_fields(output)}.")
        embedding = self._embedding(output)
        if not isinstance(embedding, torch.Tensor) or embedding.ndim != 2:
            shape = tuple(embedding.shape) if isinstance(embedding, torch.Tensor) else None
            raise ModelError(
                f"The output of {self.name!r} chosen as its embedding ({self.output!r}) is "
                f"{shape or type(embedding).__name__}; an embedding is one vector per image, "
                f"(B, E). Its output has {_fields(output)}."
            )
        self.embedding_size = int(embedding.shape[1])
        return embedding[:, :0]  # no directions yet: (1, 0)

    def _embedding(self, output: object) -> torch.Tensor:
        """The embedding (B, E) in the model's output (see the module docstring)."""
        if callable(self.output):
            return self.output(output)
        if isinstance(self.output, str):
            found = _field(output, self.output)
            if found is None:
                raise ModelError(
                    f"The output of {self.name!r} has no field {self.output!r}: {_fields(output)}."
                )
            return found
        return default_embedding(output, getattr(self, "geometry", NO_TOKENS).prefix)

    def _logits_of(self, output: object) -> torch.Tensor:
        if self.classifier:
            return _field(output, "logits")
        embedding = self._embedding(output)  # (B, E)
        if self._unit is None:
            return embedding[:, :0]
        unit = self._unit.to(embedding.device, embedding.dtype)  # (K, E)
        return embedding @ unit.T  # (B, K): each direction's component

    def _class_names(self, class_names, n_logits: int):
        if not self.classifier:
            if class_names is not None:
                raise ModelError(
                    f"{self.name!r} has no classifier, so no class names: its targets are "
                    "directions in its embedding, given as classes={name: vector} (or "
                    "target_image=)."
                )
            return [], []
        if class_names is not None:
            return check_class_names(class_names, n_logits)
        labels = getattr(self.config, "id2label", None) or {}
        names = [labels.get(i, labels.get(str(i))) for i in range(n_logits)]
        if not all(isinstance(n, str) and n.strip() for n in names):
            names = [f"class {i}" for i in range(n_logits)]
        synonyms = [tuple(s.strip() for s in n.split(",") if s.strip()) or (n,) for n in names]
        return [s[0] for s in synonyms], synonyms

    # -- models without a classifier -----------------------------------------------------------
    def toward(self, directions: Mapping[str, np.ndarray]) -> VisionModel:
        """The model with its logits the embedding's components along ``directions``.

        See :meth:`VisionModel.toward`. The new model shares the network, the layers and
        the icons; only its logits and class names differ.
        """
        if self.embedding_size is None:
            return super().toward(directions)
        names, unit = check_directions(directions, self.embedding_size, self.name)
        aimed = copy.copy(self)
        aimed.__dict__.pop("_layer_shapes", None)  # the logits' shape changes
        aimed._unit = torch.from_numpy(unit)  # (K, E)
        aimed._layers = [*self._layers[:-1], LayerInfo(LOGITS, (len(names),))]
        aimed.class_names, aimed.class_synonyms = list(names), [(n,) for n in names]
        return aimed

    def embed(self, image: np.ndarray) -> np.ndarray:
        """The embedding (E,) of one image (checked as every image is)."""
        if self.embedding_size is None:
            return super().embed(image)
        batch = self.image_batch(image, self.logits_layer)

        def forward() -> torch.Tensor:
            with torch.no_grad():
                return self._embedding(self._call(self.normalize(batch)))

        with self.running():
            embedding = self._run(forward, batch)
        return embedding[0].float().cpu().numpy()

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Text embeddings (T, E) from a dual encoder's text tower and its processor's tokenizer."""
        if not self.dual:
            return super().embed_texts(texts)
        tokenizer = getattr(self.processor, "tokenizer", None)
        if tokenizer is None:
            path = str(getattr(self.config, "_name_or_path", "") or "") or "<its checkpoint>"
            raise ClassNameError(
                f"Text classes {list(texts)!r} are embedded with {self.name!r}'s tokenizer, "
                f"which was not given: pass processor=AutoProcessor.from_pretrained({path!r}) "
                "(the processor with the tokenizer, not only the image processor)."
            )
        tokens = tokenizer(list(texts), return_tensors="pt", truncation=True, **self._padding())
        wanted = inspect.signature(self.module.get_text_features).parameters
        inputs = {k: v.to(self.device) for k, v in tokens.items() if k in wanted}
        with self.running(), torch.no_grad():
            found = self.module.get_text_features(**inputs)
        features = found if isinstance(found, torch.Tensor) else _field(found, "pooler_output")
        return features.float().cpu().numpy()  # (T, E)

    def _padding(self) -> dict:
        """SigLIP was trained on texts padded to its full length; CLIP on the longest."""
        if self.model_type.startswith("siglip"):
            text = getattr(self.config, "text_config", None)
            return {"padding": "max_length", "max_length": text.max_position_embeddings}
        return {"padding": True}


# -- reading outputs and processors -----------------------------------------------------------
def _field(output: object, key: str) -> object:
    """A field of an output object (or a mapping), or None."""
    if isinstance(output, Mapping):
        return output.get(key)
    return getattr(output, key, None)


def _hidden(out: object) -> torch.Tensor | None:
    """The first tensor of a module's output (itself, or a tuple's or output object's)."""
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    if isinstance(out, Mapping):
        first = next(iter(out.values()), None)
        return first if isinstance(first, torch.Tensor) else None
    return None


def _fields(output: object) -> str:
    """The tensor fields of an output object and their shapes, for messages."""
    if isinstance(output, torch.Tensor):
        return f"one tensor of shape {tuple(output.shape)}"
    if isinstance(output, Mapping):
        shapes = [f"{k} {tuple(v.shape)}" for k, v in output.items() if isinstance(v, torch.Tensor)]
        return "fields " + ", ".join(shapes) if shapes else "no tensor fields"
    return f"a {type(output).__name__} (config.return_dict = False? set it to True)"


def default_embedding(output: object, prefix: int) -> torch.Tensor | None:
    """``image_embeds``, else ``pooler_output``, else the class token or mean of the tokens."""
    if isinstance(output, torch.Tensor):
        return output
    for key in ("image_embeds", "pooler_output"):
        found = _field(output, key)
        if isinstance(found, torch.Tensor) and found.ndim == 2:
            return found
    hidden = _field(output, "last_hidden_state")
    if not isinstance(hidden, torch.Tensor):
        hidden = _hidden(output)
    if isinstance(hidden, torch.Tensor) and hidden.ndim == 3:  # (B, N, D)
        return hidden[:, 0] if prefix else hidden.mean(dim=1)
    if isinstance(hidden, torch.Tensor) and hidden.ndim == 4:  # (B, C, H, W)
        return hidden.mean(dim=(2, 3))
    return hidden


def _processor_preset(processor: object) -> dict:
    """Normalization, value range and input size from an image processor's settings."""
    found: dict = {}
    if getattr(processor, "do_normalize", True) is False:
        found["mean"], found["std"] = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    else:
        found["mean"] = getattr(processor, "image_mean", None)
        found["std"] = getattr(processor, "image_std", None)
    if getattr(processor, "do_rescale", True) is False:
        found["range"] = (0.0, 255.0)  # it takes raw pixel values
    else:
        factor = getattr(processor, "rescale_factor", None)
        found["range"] = (0.0, 255.0 * float(factor)) if factor else None
    crop = (
        getattr(processor, "crop_size", None)
        if getattr(processor, "do_center_crop", False)
        else None
    )
    found["size"] = _size_of(crop) or _size_of(getattr(processor, "size", None))
    return found


def _size_of(size: object) -> tuple[int, int] | None:
    """(H, W) from a processor's size: height and width, else a shortest edge."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)

    def get(key: str) -> object:
        return size.get(key) if isinstance(size, Mapping) else getattr(size, key, None)

    if get("height") and get("width"):
        return int(get("height")), int(get("width"))
    edge = get("shortest_edge")
    return (int(edge), int(edge)) if edge else None


def _first(*values: object) -> object:
    return next((v for v in values if v is not None), None)


__all__ = ["IMAGENET_FAMILIES", "HuggingFaceModel", "default_embedding", "is_dual_encoder"]
