"""Any PyTorch image classifier (an ``nn.Module``) behind the VisionModel seam.

The network is read at its own modules, named by module path as ``named_modules()`` gives
them (``"layer3"``, ``"layer4.2"``, ``"features.12"``, ``"blocks.6"``); its output, the
logits, is the layer :data:`LOGITS`. Activations come from forward hooks and gradients from
autograd: a hook swaps the module's output for a detached copy that requires a gradient,
so one forward pass gives the layer's activations, everything after them, and a graph from
them to the logits (nothing before the layer is differentiated).

Layouts (:mod:`neuron_groups.backends.torch.layouts`). Image maps are returned
channels-last, (H, W, C), whether the module gives them channels-first (B, C, H, W), as
convolutions do, or channels-last (B, H, W, C), as ConvNeXt's block MLPs do: the probe pass
tells them apart by which sides scale with the image (a map whose sides are all equal is
settled by a second, wider probe pass). A Vision Transformer's token outputs (B, N, D)
(timm's ``VisionTransformer``, torchvision's ``VisionTransformer``) are laid out on their
patch grid, (gh, gw, D); the prefix tokens (the class token, and timm's register or
distillation tokens: ``num_prefix_tokens``) are left out of what is read, and kept
unchanged inside the network. Vector outputs (B, C) are (C,). An output that is a tuple
or an output object is read at its first tensor (the hidden states), and only that is
swapped.

State. Each pass puts the module in eval mode and turns off its weights' gradients, and
puts both back as they were when the last pass running ends (passes may overlap: icons
render in a background thread). Nothing else about the module changes, except its device
when ``device=`` names another one (it is moved there, as ``module.to(device)``).

Feature visualization runs Lucid's optimization (:mod:`neuron_groups.backends.torch.optvis`)
on the module's layer without ReLU gradient redirection: a module computes its own ReLUs
(often as shared modules or ``F.relu`` calls) and there is no faithful way to swap them.
Lucid redirected only for its own InceptionV1, which keeps it. A network that takes one
input size only (a ViT with a fixed ``img_size``) sees each transformed icon resized to that
size (bilinear) before it.
"""

from __future__ import annotations

import dataclasses
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from neuron_groups.backends.base import LayerInfo, Readout, Targets
from neuron_groups.backends.inputs import check_class_names, check_value_range
from neuron_groups.backends.torch.common import (
    Relu,
    TorchVisionModel,
    pick_classes,
    to_readout,
)
from neuron_groups.backends.torch.layouts import (
    NO_TOKENS,
    Geometry,
    Layout,
    candidate_layouts,
    settle,
    shape_of,
    square,
)
from neuron_groups.errors import ImageError, LayerError, ModelError, NeuronGroupsError, did_you_mean

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
"""torchvision's (and most timm models') input normalization, in units of (0, 1) pixels."""
DEFAULT_SIZE = 224
LOGITS = "logits"
"""The name of the module's output (the pre-softmax class scores) in the layer listing."""


# -- where a network's tokens sit ------------------------------------------------------------
def token_geometry(net: torch.nn.Module) -> Geometry:
    """The tokens of a timm or torchvision Vision Transformer; :data:`NO_TOKENS` otherwise."""
    patch_embed = getattr(net, "patch_embed", None)
    if patch_embed is not None and hasattr(net, "num_prefix_tokens"):  # timm
        return Geometry(int(net.num_prefix_tokens), (square(patch_embed.patch_size),))
    if all(hasattr(net, a) for a in ("class_token", "patch_size", "encoder")):  # torchvision
        return Geometry(1, (square(net.patch_size),))
    return NO_TOKENS


def fixed_size_of(net: torch.nn.Module) -> tuple[int, int] | None:
    """The one (H, W) a Vision Transformer takes, or None when it takes any size."""
    patch_embed = getattr(net, "patch_embed", None)
    if patch_embed is not None and hasattr(net, "num_prefix_tokens"):
        strict = getattr(patch_embed, "strict_img_size", False)
        if strict and not getattr(net, "dynamic_img_size", False) and patch_embed.img_size:
            return tuple(int(s) for s in patch_embed.img_size)
        return None
    if all(hasattr(net, a) for a in ("class_token", "patch_size", "image_size")):
        return int(net.image_size), int(net.image_size)
    return None


# -- the device and the module's state ----------------------------------------------------
def available_devices() -> list[str]:
    """The devices this machine can run PyTorch on."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def check_device(device: str | torch.device) -> torch.device:
    """Return ``device`` as a torch.device if this machine has it, else raise ModelError."""
    try:
        wanted = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ModelError(
            f"{device!r} is not a PyTorch device ({exc}). Devices here: "
            f"{', '.join(available_devices())}."
        ) from None
    here = available_devices()
    known = (
        wanted.type == "cpu"
        or str(wanted) in here
        or (wanted.index is None and any(d.startswith(wanted.type) for d in here))
    )
    if not known:
        raise ModelError(
            f"This machine has no {str(wanted)!r} device (the model was asked to run there). "
            f"Devices here: {', '.join(here)}."
        )
    return wanted


def move_to(
    net: torch.nn.Module, current: torch.device, device: str | torch.device | None, name: str
) -> None:
    """Check the device of ``net``'s weights, and move it to ``device`` if one is named."""
    if current.type == "meta":
        raise ModelError(
            f"The weights of {name!r} are on the 'meta' device (not loaded); load "
            "them (e.g. load_state_dict or to_empty) first."
        )
    if device is None:
        check_device(current)
        return
    wanted = check_device(device)
    if wanted != current:
        net.to(wanted)


class FrozenWhileRunning:
    """Eval mode and no weight gradients while any pass runs; the user's state after.

    Re-entrant across threads: the state is saved when the first pass starts and put back
    when the last one ends.
    """

    def __init__(self, net: torch.nn.Module) -> None:
        self.net = net
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: tuple[list[tuple[torch.nn.Module, bool]], list[tuple]] = ([], [])

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                modes = [(m, m.training) for m in self.net.modules()]
                grads = [(p, p.requires_grad) for p in self.net.parameters()]
                self._saved = (modes, grads)
                self.net.eval()
                for parameter in self.net.parameters():
                    parameter.requires_grad_(False)
            self._depth += 1

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                modes, grads = self._saved
                for module, training in modes:
                    module.training = training
                for parameter, flag in grads:
                    parameter.requires_grad_(flag)
                self._saved = ([], [])


def hook_here(module: torch.nn.Module, fn: Callable) -> torch.utils.hooks.RemovableHandle:
    """Register ``fn`` as a forward hook of ``module`` for passes run by this thread only.

    Icons render in a background thread while the widget may read in another; each pass's
    hooks must not fire in the other's.
    """
    thread = threading.get_ident()

    def hook(mod, args, out):
        return fn(mod, args, out) if threading.get_ident() == thread else None

    return module.register_forward_hook(hook)


class _Reached(Exception):  # noqa: N818 - control flow: the layer asked for was reached
    """Raised by a hook to stop a forward pass at the layer read."""

    def __init__(self, acts: torch.Tensor) -> None:
        super().__init__()
        self.acts = acts


# -- one probe pass ---------------------------------------------------------------------------
@dataclasses.dataclass
class Probed:
    """What one probe pass saw: each module's first output and how often it ran."""

    outputs: dict[str, object]
    calls: dict[str, int]
    result: object


def probe_pass(net: torch.nn.Module, run: Callable[[], object]) -> Probed:
    """Run ``run()`` with every named module of ``net`` recording its output."""
    seen: dict[str, object] = {}
    calls: dict[str, int] = {}

    def record(name: str) -> Callable:
        def hook(module, inputs, out):
            calls[name] = calls.get(name, 0) + 1
            seen.setdefault(name, out)

        return hook

    handles = [hook_here(m, record(n)) for n, m in net.named_modules() if n]
    try:
        result = run()
    finally:
        for handle in handles:
            handle.remove()
    return Probed(seen, calls, result)


# -- the VisionModel ------------------------------------------------------------------------
class TorchModuleModel(TorchVisionModel):
    """An ``nn.Module`` classifier taking (B, 3, H, W) images, readable at its modules.

    Parameters
    ----------
    net : torch.nn.Module
        A classifier: its output for one image is a tensor of logits (1, K).
    value_range : (float, float), optional
        The pixel range the network wants; an image ``x`` in [0, 1] becomes
        ``lo + x * (hi - lo)`` before ``mean`` and ``std``. Default (0, 1).
    mean, std : sequence of 3 floats, optional
        Per-channel normalization ``(x - mean) / std``, in units of ``value_range``.
        Default: the module's timm ``pretrained_cfg`` when it has one, else ImageNet's
        (:data:`IMAGENET_MEAN`, :data:`IMAGENET_STD`), as torchvision's models want. Give
        ``mean=(0, 0, 0), std=(1, 1, 1)`` for a network that normalizes inside.
    class_names : list of str, or list of lists of str, optional
        The name (or all names) of each logit. Default: ImageNet's names when there are
        1000 logits, else ``"class i"``.
    input_size : int or (int, int), optional
        The input size the layers are listed at (the probe pass). Default: the fixed size
        of a ViT, else timm's ``pretrained_cfg`` input size, else 224.
    device : str or torch.device, optional
        Where to run. Default: where the module's weights are. Another device moves the
        module there.
    name : str, optional
        Display name. Default: timm's architecture name, else the class name.

    Raises
    ------
    ModelError
        If the module is not a classifier (its output is not one logits tensor (1, K)),
        cannot run on the probe image, the options do not fit, or the device is missing.

    Notes
    -----
    A subclass for another kind of module (:mod:`neuron_groups.backends.torch.huggingface`)
    changes how the module is called (:meth:`_call`), where its logits are in what it
    returns (:meth:`_logits_of`, checked once by :meth:`_check_output`), its defaults
    (:meth:`_preset`, :meth:`_default_normalization`, :meth:`_class_names`) and where its
    tokens sit (:meth:`_geometry`, :meth:`_fixed_size`).
    """

    RUN_ERRORS: tuple[type[BaseException], ...] = (RuntimeError, AssertionError)
    """What a pass that fails on an image raises (reported as an ImageError)."""

    def __init__(
        self,
        net: torch.nn.Module,
        *,
        value_range: tuple[float, float] | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        class_names: Sequence[str] | Sequence[Sequence[str]] | None = None,
        input_size: int | tuple[int, int] | None = None,
        device: str | torch.device | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(net, torch.nn.Module):
            raise ModelError(f"Expected a torch.nn.Module; got {type(net).__name__}.")
        self.module = net
        self.frozen = FrozenWhileRunning(net)
        preset = self._preset()
        self.name = name or preset.get("name") or type(net).__name__
        self.value_range = check_value_range(_given(value_range, preset.get("range"), (0, 1)))
        if mean is None or std is None:
            default_mean, default_std = self._default_normalization(preset)
            mean, std = _given(mean, default_mean), _given(std, default_std)
        self.mean, self.std = _check_triple("mean", mean), _check_triple("std", std)
        if np.any(np.asarray(self.std) == 0):
            raise ModelError(f"std has a zero: {self.std}; it divides the pixels.")
        move_to(self.module, self.device, device, self.name)
        self._fixed = self._fixed_size()
        self.probe_size = _probe_size(input_size, self._fixed, preset.get("size"))
        self.default_size = self.probe_size[0]
        self.logits_layer = LOGITS
        self._layers, self._layouts, self._shared = self._probe()
        n_logits = self._layers[-1].channels
        self.class_names, self.class_synonyms = self._class_names(class_names, n_logits)

    # -- what a kind of module changes -------------------------------------------------------
    def _preset(self) -> dict:
        """Defaults the module carries: ``name``, ``range``, ``mean``, ``std``, ``size`` (H, W).

        timm's ``pretrained_cfg``; missing keys fall back to the documented defaults.
        """
        config = getattr(self.module, "pretrained_cfg", None) or {}
        size = config.get("input_size")  # timm: (3, H, W)
        return {
            "name": config.get("architecture"),
            "mean": config.get("mean"),
            "std": config.get("std"),
            "size": (int(size[-2]), int(size[-1])) if size else None,
        }

    def _default_normalization(self, preset: dict) -> tuple[Sequence[float], Sequence[float]]:
        """(mean, std) when not given: the preset's, else ImageNet's."""
        return _given(preset.get("mean"), IMAGENET_MEAN), _given(preset.get("std"), IMAGENET_STD)

    def _fixed_size(self) -> tuple[int, int] | None:
        """The one (H, W) the module takes (a ViT with a fixed ``img_size``), or None."""
        return fixed_size_of(self.module)

    def _geometry(self, probed: Probed) -> Geometry:
        """Where the module's tokens sit (timm's and torchvision's ViTs); the probe pass seen."""
        return token_geometry(self.module)

    def _call(self, inputs: torch.Tensor) -> object:
        """The module's output for normalized inputs (B, 3, H, W)."""
        return self.module(inputs)

    def _logits_of(self, output: object) -> torch.Tensor:
        """The logits (B, K) in the module's output."""
        return output

    def _check_output(self, output: object) -> torch.Tensor:
        """The probe pass's logits (1, K), or a ModelError saying why there are none."""
        return check_classifier(self.name, output)

    def _class_names(self, class_names, n_logits: int):
        """(display names, synonyms) of each logit (see :func:`_class_names`)."""
        return _class_names(class_names, n_logits)

    # -- construction ----------------------------------------------------------------------
    def _probe_at(self, hw: tuple[int, int]) -> Probed:
        """One forward pass of a grey image of (H, W) ``hw`` with every module recorded."""
        image = torch.full((1, 3, *hw), 0.5, device=self.device)
        with self.frozen, torch.no_grad():
            return probe_pass(self.module, lambda: self._call(self.normalize(image)))

    def _probe(self) -> tuple[list[LayerInfo], dict[str, Layout], dict[str, int]]:
        """One forward pass at :attr:`probe_size`: every module's output shape, in order."""
        hw = self.probe_size
        try:
            probed = self._probe_at(hw)
        except (RuntimeError, AssertionError, ValueError, TypeError) as exc:
            raise ModelError(
                f"{self.name!r} could not run on a {hw[0]}x{hw[1]} probe image "
                f"({_first_line(exc)}). Pass input_size= the size it takes."
            ) from None
        self.geometry = self._geometry(probed)
        logits = self._check_output(probed.result)
        candidates = {
            name: candidate_layouts(out, self.geometry, hw)
            for name, out in probed.outputs.items()
            if probed.calls[name] == 1
        }
        layouts = self._settle(candidates, probed)
        infos = [LayerInfo(n, shape_of(probed.outputs[n], lay, hw)) for n, lay in layouts.items()]
        layouts[LOGITS] = Layout("vector")
        infos.append(LayerInfo(LOGITS, (int(logits.shape[1]),)))
        shared = {name: count for name, count in probed.calls.items() if count > 1}
        return infos, layouts, shared

    def _settle(self, candidates: dict[str, list[Layout]], probed: Probed) -> dict[str, Layout]:
        """One layout per readable output; a map whose sides are all alike asks a wider pass.

        Such a map (B, n, n, n) could be channels-first or channels-last: the axis that
        widens with the input is its width (:func:`~neuron_groups.backends.torch.layouts.
        settle`). Without that pass (a network of one size, or one that fails at the wider
        size) it is read channels-first.
        """
        wider: dict[str, object] = {}
        if any(len(found) > 1 for found in candidates.values()) and self._fixed is None:
            height, width = self.probe_size
            try:
                wider = self._probe_at((height, width + max(width // 2, 1))).outputs
            except (RuntimeError, AssertionError, ValueError, TypeError):
                wider = {}
        return settle(candidates, probed.outputs, wider)

    # -- layers ----------------------------------------------------------------------------
    def layers(self) -> list[LayerInfo]:
        """Every module with one image (H, W, C), token grid (gh, gw, D) or vector (C,) output.

        In the order their outputs are computed (a container after its last child), at
        :attr:`probe_size`; then :data:`LOGITS`, the network's output. A ViT's token layers
        are listed on their patch grid, prefix (class, register) tokens left out. Modules
        that run more than once per pass (a shared ``ReLU``) have no one output and are
        left out.
        """
        return list(self._layers)

    def resolve_layer(self, layer: str) -> LayerInfo:
        """Return the layer named ``layer`` (a module path, or :data:`LOGITS`).

        Raises
        ------
        LayerError
            For a shared module (it runs several times) or an unknown name; the message
            names the closest layers and the outermost ones.
        """
        if isinstance(layer, str):
            for info in self._layers:
                if layer == info.name:
                    return info
            if layer in self._shared:
                parent = layer.rpartition(".")[0]
                raise LayerError(
                    f"Module {layer!r} of {self.name!r} runs {self._shared[layer]} times in one "
                    f"pass (a shared module), so it has no one output. Read its parent "
                    f"{parent or 'module'!r} or another layer instead."
                )
        if not isinstance(layer, str):
            raise LayerError(f"A layer is named by a string; got {type(layer).__name__}.")
        names = [info.name for info in self._layers]
        hint = did_you_mean(layer, names)
        raise LayerError(
            f"Unknown layer {layer!r} for model {self.name!r}.{hint} Outermost layers: "
            f"{', '.join(_outermost(names))} (model.layers() lists all {len(names)})."
        )

    def fixed_input_size(self) -> tuple[int, int] | None:
        """Return the (H, W) a ViT with a fixed ``img_size`` takes, or None."""
        return self._fixed

    # -- identity --------------------------------------------------------------------------
    def weight_arrays(self) -> Iterator[np.ndarray]:
        """Every parameter and buffer (``state_dict``), then the input range and normalization.

        All of them change what the model computes for an image.
        """
        for tensor in self.module.state_dict().values():
            yield tensor.detach().cpu().numpy()
        yield np.asarray([*self.value_range, *self.mean, *self.std], dtype=np.float64)  # (8,)

    @property
    def identity(self) -> str:
        """The name and a digest of :meth:`weight_arrays`, taken anew on each call.

        A module's weights can change in place (training, ``load_state_dict``).
        """
        return self.weights_identity()

    # -- tensor functions ----------------------------------------------------------------
    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1], (B, 3, H, W), to what the network takes."""
        low, high = self.value_range
        mean = torch.tensor(self.mean, device=images.device).reshape(1, 3, 1, 1)
        std = torch.tensor(self.std, device=images.device).reshape(1, 3, 1, 1)
        return ((low + images * (high - low) - mean) / std).to(self.dtype)

    @property
    def dtype(self) -> torch.dtype:
        """The floating type of the module's weights (float32 for a module without any)."""
        floats = (p.dtype for p in self.module.parameters() if p.is_floating_point())
        return next(floats, torch.float32)

    def logits_with(self, images: torch.Tensor, layer: str, acts: torch.Tensor) -> torch.Tensor:
        """The logits (B, K) of images whose activations at ``layer`` are replaced by ``acts``.

        images (B, 3, H, W) in [0, 1] (or one image for all); acts channels-first as
        :meth:`forward_to` gives them, (B, C, h, w) (a ViT's patch tokens on their grid;
        the prefix tokens stay the images' own). The function whose gradient :meth:`read`
        takes, for checks.
        """
        return self.run_from(images, acts, self.resolve_layer(layer).name, LOGITS)

    def run_from(self, images: torch.Tensor, acts: torch.Tensor, layer: str, later: str):
        """The activations at ``later`` (B, ...) when ``layer``'s are ``acts`` (B, C, h, w).

        The module runs on ``images`` (one image, repeated B times) with ``layer``'s output
        swapped for ``acts`` in its own layout (a ViT's prefix tokens kept at the image's
        values), and stops at ``later``.
        """
        if layer == later:
            return acts
        rows = images.expand(len(acts), -1, -1, -1)  # (B, 3, H, W), no copy
        hw = tuple(rows.shape[2:])
        layout = self._layouts[layer]

        def swap(module, args, out):
            return layout.to_output(acts.to(self.dtype), out)

        def stop(module, args, out):
            raise _Reached(self._layouts[later].to_acts(out, hw))

        handles = [hook_here(self._module(layer), swap)]
        if later != LOGITS:
            handles.append(hook_here(self._module(later), stop))
        try:
            return self._logits_of(self._call(self.normalize(rows)))
        except _Reached as reached:
            return reached.acts
        finally:
            for handle in handles:
                handle.remove()

    def _module(self, name: str) -> torch.nn.Module:
        return self.module.get_submodule(name)

    def forward_to(self, images: torch.Tensor, layer: str, relu: Relu = torch.relu):
        """Activations at ``layer`` of RGB images in [0, 1], (B, 3, H, W) -> (B, C, h, w).

        The pass stops at the layer. ``relu`` is ignored (see the module docstring); a
        network of one fixed size sees the images resized to it.
        """
        name = self.resolve_layer(layer).name
        if self._fixed is not None and tuple(images.shape[2:]) != self._fixed:
            images = F.interpolate(images, size=self._fixed, mode="bilinear", align_corners=False)
        inputs = self.normalize(images)
        if name == LOGITS:
            return self._logits_of(self._call(inputs))
        layout, hw = self._layouts[name], tuple(images.shape[2:])

        def stop(module, args, out):
            raise _Reached(layout.to_acts(out, hw))

        handle = hook_here(self._module(name), stop)
        try:
            self._call(inputs)
        except _Reached as reached:
            return reached.acts
        finally:
            handle.remove()
        raise LayerError(f"Layer {name!r} of {self.name!r} did not run in this pass.")

    def _pass(self, batch: torch.Tensor, layer: str, later: str, want_grad: bool):
        """One forward pass: (acts (1, ...) leaf, logits (1, K), acts at ``later`` or None).

        With ``want_grad`` the activations at ``layer`` are a leaf that requires a gradient
        and that everything after the layer is computed from.
        """
        hw = tuple(batch.shape[2:])
        found: dict[str, torch.Tensor] = {}

        def swap(module, args, out):
            layout = self._layouts[layer]
            acts = layout.to_acts(out, hw).detach().requires_grad_(want_grad)
            found["acts"] = acts
            return layout.to_output(acts, out)

        def keep(module, args, out):
            found["later"] = self._layouts[later].to_acts(out, hw)

        handles = []
        if layer != LOGITS:
            handles.append(hook_here(self._module(layer), swap))
        if later and later != LOGITS:
            handles.append(hook_here(self._module(later), keep))
        try:
            with torch.set_grad_enabled(want_grad):
                logits = self._logits_of(self._call(self.normalize(batch)))  # (1, K)
        finally:
            for handle in handles:
                handle.remove()
        if layer == LOGITS:
            found["acts"] = logits = logits.detach().requires_grad_(want_grad)
        if later == LOGITS:
            found["later"] = logits
        return found["acts"], logits, found.get("later")

    def _read_pass(self, batch: torch.Tensor, layer: str, targets: Targets, later: str):
        """One forward pass, then one backward pass from each target to the activations.

        Returns (acts (1, ...), logits (1, K), grads (T, ...), targets (T,)).
        """
        acts, logits, at_later = self._pass(batch, layer, later, want_grad=True)
        if targets.kind == "directions":
            assert targets.vectors is not None and at_later is not None
            vectors = torch.from_numpy(targets.vectors).to(at_later.device)  # (T, C_later)
            flat = at_later[0].reshape(at_later.shape[1], -1)  # (C_later, P)
            scalars = torch.einsum("cp,tc->t", flat, vectors)  # (T,)
            picked = torch.arange(len(vectors))
            what = f"activations at {later!r}"
        else:
            picked = pick_classes(targets, logits[0])  # (T,)
            scalars = [logits[0, c] for c in picked]
            what = "logits"
        grads = []
        for t, scalar in enumerate(scalars):
            last = t == len(scalars) - 1
            (grad,) = torch.autograd.grad(scalar, acts, retain_graph=not last, allow_unused=True)
            if grad is None:
                raise LayerError(f"The {what} of {self.name!r} do not depend on layer {layer!r}.")
            grads.append(grad)
        return acts.detach(), logits.detach(), torch.cat(grads), picked

    # -- passes --------------------------------------------------------------------------
    def running(self) -> FrozenWhileRunning:
        """Eval mode and no weight gradients while a pass runs; the user's state after."""
        return self.frozen

    def _read_forward(self, batch: torch.Tensor, layer: str) -> Readout:
        acts, logits, _ = self._run(lambda: self._pass(batch, layer, "", want_grad=False), batch)
        return to_readout(acts, logits)

    def _run(self, fn: Callable, batch: torch.Tensor):
        try:
            return fn()
        except NeuronGroupsError:
            raise
        except self.RUN_ERRORS as exc:
            height, width = batch.shape[2:]
            size = f"{self.probe_size[0]}x{self.probe_size[1]}"
            raise ImageError(
                f"The model {self.name!r} could not run on a {height}x{width} image "
                f"({_first_line(exc)}). It runs at {size}, the size its layers were listed "
                "at; resize the image, or pass input_size= to load_model."
            ) from None


def check_classifier(name: str, output: object) -> torch.Tensor:
    """The logits (1, K) a classifier returns for one image, or a ModelError saying why not."""
    what = f"{name!r} is not a classifier: a classifier returns one logits tensor (B, K)"
    if isinstance(output, (tuple, list, dict)):
        raise ModelError(
            f"{what}, but it returns a {type(output).__name__} of {len(output)} items. Wrap "
            "it in a module whose forward returns the logits alone."
        )
    if not isinstance(output, torch.Tensor):
        raise ModelError(f"{what}, but it returns a {type(output).__name__}.")
    shape = tuple(output.shape)
    if output.ndim != 2 or shape[0] != 1:
        kind = " (a feature map: a backbone without its head?)" if output.ndim == 4 else ""
        raise ModelError(
            f"{what}, but for one image it returns shape {shape}{kind}. Pass the whole "
            "classifier, or add a head (pooling and a linear layer) that gives (B, K)."
        )
    rows = output.float()
    if bool((rows >= 0).all()) and abs(float(rows.sum()) - 1.0) < 1e-4 and shape[1] > 1:
        warnings.warn(
            f"The output of {name!r} sums to 1 (a softmax?): attributions will be of "
            "probabilities, not logits. Pass the network without its final softmax.",
            stacklevel=5,
        )
    return output


# -- options ---------------------------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _outermost(names: list[str]) -> list[str]:
    """The listed names none of whose ancestors is listed (``layer3``, not ``layer3.1``)."""
    listed = set(names)

    def has_listed_ancestor(name: str) -> bool:
        parts = name.split(".")
        return any(".".join(parts[:i]) in listed for i in range(1, len(parts)))

    return [n for n in names if not has_listed_ancestor(n)]


def _given(*values: object) -> object:
    """The first of these that is not None (None if all are)."""
    return next((v for v in values if v is not None), None)


def _check_triple(what: str, values: object) -> tuple[float, ...]:
    try:
        triple = tuple(float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1))
    except (TypeError, ValueError):
        triple = ()
    if len(triple) != 3 or not np.all(np.isfinite(triple)):
        raise ModelError(f"{what} is 3 numbers, one per RGB channel; got {values!r}.")
    return triple


def _probe_size(
    input_size: int | tuple[int, int] | None,
    fixed: tuple[int, int] | None,
    preset: tuple[int, int] | None,
) -> tuple[int, int]:
    if input_size is None:
        return fixed or preset or (DEFAULT_SIZE, DEFAULT_SIZE)
    sizes = np.broadcast_to(np.asarray(input_size), 2) if np.ndim(input_size) <= 1 else ()
    if len(sizes) != 2 or not all(float(s).is_integer() and s >= 1 for s in sizes):
        raise ModelError(f"input_size is a side or (H, W) in pixels; got {input_size!r}.")
    probe = (int(sizes[0]), int(sizes[1]))
    if fixed is not None and probe != fixed:
        raise ModelError(
            f"input_size {probe} does not fit: this network takes {fixed[0]}x{fixed[1]} "
            "images only (a fixed img_size)."
        )
    return probe


def _class_names(
    class_names: Sequence[str] | Sequence[Sequence[str]] | None, n_logits: int
) -> tuple[list[str], list[tuple[str, ...]]]:
    """(display names, synonyms) of each logit: given, ImageNet's for 1000, else "class i"."""
    if class_names is None:
        if n_logits == 1000:
            from neuron_groups.labels import imagenet_synonyms

            synonyms = [tuple(s) for s in imagenet_synonyms()]
        else:
            synonyms = [(f"class {i}",) for i in range(n_logits)]
        return [s[0] for s in synonyms], synonyms
    return check_class_names(class_names, n_logits)


__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LOGITS",
    "TorchModuleModel",
    "available_devices",
    "check_device",
    "probe_pass",
    "token_geometry",
]
