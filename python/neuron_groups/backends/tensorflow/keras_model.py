"""Any Keras image classifier behind the :class:`~neuron_groups.backends.base.VisionModel` seam.

The model is read at its own layers (``model.layers``, by name). Images come in as RGB floats
in [0, 1] and are mapped to the range the network wants (``value_range``). Keras has no hook
to swap the ReLUs inside a layer, so feature visualization runs without ReLU gradient
redirection for Keras models: :meth:`KerasVisionModel.forward_to` ignores ``relu``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from neuron_groups.backends.base import LayerInfo
from neuron_groups.backends.inputs import check_class_names, check_value_range
from neuron_groups.backends.tensorflow._import import import_keras, import_tensorflow
from neuron_groups.backends.tensorflow.common import (
    Relu,
    TFVisionModel,
    direction_scores,
    pick_classes,
    picked_logits,
)
from neuron_groups.errors import LayerError, ModelError, did_you_mean

tf = import_tensorflow()
keras = import_keras()

OUTPUT = "output"
"""Name of the model's output when no layer of ``model.layers`` produces it."""


class KerasVisionModel(TFVisionModel):
    """A ``keras.Model`` taking (B, H, W, 3) images, readable at its layers.

    Parameters
    ----------
    model : keras.Model
        A built model with one image input (B, H, W, 3).
    value_range : (float, float)
        The input range the network wants; an image ``x`` in [0, 1] is fed as
        ``lo + x * (hi - lo)``. Default (0, 1).
    class_names : list of str, or list of lists of str, optional
        The name, or all names (the first is shown), of each logit.
    logits_layer : str, optional
        The layer whose output holds the pre-softmax logits. Default: the model's output
        (a warning is given when that is a softmax).
    name : str, optional
        Display name; default ``model.name``.

    Raises
    ------
    ModelError
        If the model does not take one RGB image batch, the range or class names do not
        fit, or ``logits_layer`` is unknown.
    """

    def __init__(
        self,
        model: keras.Model,
        *,
        value_range: tuple[float, float] = (0.0, 1.0),
        class_names: Sequence[str] | Sequence[Sequence[str]] | None = None,
        logits_layer: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.name = name or model.name
        self.value_range = check_value_range(value_range)
        self._input_hw = _check_input(model)
        self.default_size = self._input_hw[0] or 224
        self._outputs = _readable_outputs(model)
        self.logits_layer = self._find_logits(logits_layer)
        self._layers = self._measure_layers()
        self.class_names, self.class_synonyms = _class_names(class_names, self._n_logits())
        self._submodels: dict[tuple[str, ...], keras.Model] = {}

    # -- layers ------------------------------------------------------------------------
    def layers(self) -> list[LayerInfo]:
        """List the layers with image (H, W, C) or vector (C,) outputs, in model order."""
        return list(self._layers)

    def fixed_input_size(self) -> tuple[int, int] | None:
        """Return the (H, W) of the model's input, or None when it takes any size."""
        height, width = self._input_hw
        return (height, width) if height and width else None

    def weight_arrays(self) -> Iterator[np.ndarray]:
        """The model's weights, then the value range and the logits layer's name as arrays.

        The range and the logits layer change what the model computes for an image, so a
        change of either changes :attr:`identity` as a change of weights does.
        """
        yield from self.model.get_weights()
        yield np.asarray(self.value_range, dtype=np.float64)  # (2,)
        yield np.frombuffer(self.logits_layer.encode(), dtype=np.uint8)

    @property
    def identity(self) -> str:
        """The model's name and a digest of :meth:`weight_arrays`, taken anew on each call.

        A Keras model's weights can change in place (training, ``set_weights``), so the
        digest is not kept.
        """
        return self.weights_identity()

    def _find_logits(self, logits_layer: str | None) -> str:
        if logits_layer is not None:
            if logits_layer not in self._outputs:
                hint = did_you_mean(logits_layer, self._outputs)
                raise ModelError(
                    f"logits_layer {logits_layer!r} is not a layer of {self.name!r}.{hint}"
                )
            return logits_layer
        if len(self.model.outputs) != 1:
            raise ModelError(
                f"{self.name!r} has {len(self.model.outputs)} outputs; "
                "say which layer holds the logits with logits_layer=."
            )
        output = self.model.outputs[0]
        name = next((n for n, t in self._outputs.items() if t is output), None)
        if name is None:
            name = OUTPUT
            self._outputs[OUTPUT] = output
        _warn_if_softmax(self.model, name)
        return name

    def _measure_layers(self) -> list[LayerInfo]:
        height, width = self.fixed_input_size() or (self.default_size, self.default_size)
        probe = keras.Model(self.model.inputs[0], list(self._outputs.values()))
        outputs = probe(np.zeros((1, height, width, 3), np.float32), training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [
            LayerInfo(name, tuple(int(d) for d in out.shape[1:]))
            for name, out in zip(self._outputs, outputs, strict=True)
        ]

    def _n_logits(self) -> int:
        shape = self.layers_by_name()[self.logits_layer].shape
        if len(shape) != 1:
            raise ModelError(
                f"The logits layer {self.logits_layer!r} has shape {shape}; logits are a "
                "vector (K,). Pass logits_layer= naming the classifier's output."
            )
        return shape[0]

    # -- tensor functions --------------------------------------------------------------
    def _submodel(self, *layers: str) -> keras.Model:
        """A model from the input to the outputs of ``layers``, built once per tuple."""
        if layers not in self._submodels:
            outputs = [self._outputs[name] for name in layers]
            if len(outputs) == 1:
                outputs = outputs[0]
            self._submodels[layers] = keras.Model(self.model.inputs[0], outputs)
        return self._submodels[layers]

    def _to_range(self, images: tf.Tensor) -> tf.Tensor:
        low, high = self.value_range
        return low + images * (high - low)  # (B, H, W, 3)

    def forward_to(self, images: tf.Tensor, layer: str, relu: Relu = tf.nn.relu) -> tf.Tensor:
        """Activations at ``layer`` of RGB images in [0, 1], (B, H, W, 3) (traceable).

        ``relu`` is ignored: Keras layers compute their own activations.
        """
        name = self.resolve_layer(layer).name
        acts = self._submodel(name)(self._to_range(images), training=False)
        return tf.cast(acts, tf.float32)

    def _outputs_of(self, images: tf.Tensor, *layers: str) -> list[tf.Tensor]:
        outputs = self._submodel(*layers)(self._to_range(images), training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [tf.cast(out, tf.float32) for out in outputs]

    def run_from(self, images: tf.Tensor, acts: tf.Tensor, layer: str, later: str) -> tf.Tensor:
        """The activations at ``later`` when ``layer``'s output is ``acts`` (B, ...) (traceable).

        The model's graph from the input to ``later`` is run on ``images`` (one image,
        repeated B times, for the tensors ``later`` needs that do not pass through
        ``layer``: a residual branch), with ``layer``'s call answered by ``acts``, every
        layer in inference mode. Parts of the graph that only lead to ``layer`` are pruned
        from the compiled pass.
        """
        if layer == later:
            return acts
        replaced_layer = self.model.get_layer(layer)
        replacement = tf.cast(acts, self._outputs[layer].dtype)

        def operation(op):
            if op is replaced_layer:
                return lambda *args, **kwargs: replacement
            return _in_inference(op)

        tiled = tf.repeat(self._to_range(images), tf.shape(acts)[0], axis=0)  # (B, H, W, 3)
        # Keras's own walk of a functional graph (Functional.call runs it the same way).
        out = self._submodel(later)._run_through_graph(tiled, operation_fn=operation)
        return tf.cast(out, tf.float32)

    def _forward_graph(self, layer: str) -> Callable:
        """``graph(image) -> (acts (1, ...), logits (1, K))``, one forward pass."""

        def graph(image):
            acts, logits = self._outputs_of(image, layer, self.logits_layer)
            return acts, logits

        return graph

    def _read_graph(self, layer: str, kind: str, later: str) -> Callable:
        """``graph(image, arg, k) -> (acts, logits, grads (T, ...), targets (T,))``, one pass.

        A Keras model cannot be restarted from an inner layer, so the image is tiled once
        per target instead and run through the model as one batch; rows do not interact
        (inference mode), so row t of the gradient of the summed targets is target t's.
        """

        def graph(image, arg, k):
            count = tf.maximum(k, tf.shape(arg)[0])  # k > 0 only for the best classes
            tiled = tf.repeat(image, count, axis=0)  # (T, H, W, 3)
            names = (layer, later, self.logits_layer) if later else (layer, self.logits_layer)
            with tf.GradientTape() as tape:
                outputs = self._outputs_of(tiled, *names)
                acts, logits = outputs[0], outputs[-1]  # (T, H', W', C), (T, K)
                if kind == "directions":
                    targets = tf.range(count)
                    total = direction_scores(outputs[1], arg)
                else:
                    targets = pick_classes(logits[0], arg, k)  # (T,)
                    total = picked_logits(logits, targets)
            grads = tape.gradient(total, acts)  # (T, H', W', C)
            if grads is None:
                what = "logits" if kind != "directions" else f"activations at {later!r}"
                raise LayerError(f"The {what} of {self.name!r} do not depend on layer {layer!r}.")
            return acts[0], logits[0], grads, targets

        return graph


def _in_inference(op: Callable) -> Callable:
    """``op`` called with ``training=False`` where it takes the call-context argument."""

    def call(*args, **kwargs):
        if "training" in getattr(op, "_call_context_args", ()):
            kwargs["training"] = False
        return op(*args, **kwargs)

    return call


def _check_input(model: keras.Model) -> tuple[int | None, int | None]:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise ModelError(
            f"The Keras model {model.name!r} needs exactly one input of shape "
            "(B, H, W, 3); build it (call it once or give it a keras.Input) first."
        )
    shape = tuple(inputs[0].shape)
    if len(shape) != 4 or shape[-1] != 3:
        raise ModelError(
            f"The Keras model {model.name!r} takes inputs of shape {shape}; images are "
            "(B, H, W, 3) RGB, channels last."
        )
    return shape[1], shape[2]


def _readable_outputs(model: keras.Model) -> dict[str, keras.KerasTensor]:
    """Map each layer with one image (B, H, W, C) or vector (B, C) output to that output."""
    outputs = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError):  # a layer used several times has no one output
            continue
        if isinstance(output, keras.KerasTensor) and len(output.shape) in (2, 4):
            outputs[layer.name] = output
    return outputs


def _warn_if_softmax(model: keras.Model, name: str) -> None:
    if name == OUTPUT:
        return
    layer = model.get_layer(name)
    activation = getattr(layer, "activation", None)
    if isinstance(layer, keras.layers.Softmax) or activation is keras.activations.softmax:
        warnings.warn(
            f"The output of {model.name!r} (layer {name!r}) is a softmax: attributions will "
            "be of probabilities, not logits. Pass logits_layer= naming the layer before the "
            "softmax (build the classifier with a linear activation and a separate Softmax).",
            stacklevel=4,
        )


def _class_names(
    class_names: Sequence[str] | Sequence[Sequence[str]] | None, n_logits: int
) -> tuple[list[str] | None, list[tuple[str, ...]] | None]:
    """Return (display names, synonyms) of each logit from a user's list."""
    if class_names is None:
        return None, None
    return check_class_names(class_names, n_logits)


__all__ = ["KerasVisionModel"]
