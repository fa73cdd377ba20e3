"""How a module's output is laid out, and how it becomes channels-first activations and back.

A module's output may be an image map channels-first (B, C, H, W) as convolutions give it,
or channels-last (B, H, W, C) as ConvNeXt's and Swin's MLPs give it; tokens (B, N, D) of a
Vision Transformer, with ``prefix`` tokens (class, register, distillation) before the
patches, on a grid of one patch size (a ViT) or of one per stage (Swin); a vector (B, C);
or a global pool's output (B, C, 1, 1). Any of these may be the first tensor of a tuple or
of an output object (a Hugging Face ``ModelOutput``, whose first field is the hidden
states): that tensor is read, and swapped in place of it.

Above the seam activations are (h, w, C) or (C,); inside the PyTorch backend they are
channels-first, (B, C, h, w) or (B, C), whatever the module's own layout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np
import torch

from neuron_groups.errors import LayerError

Pair = tuple[int, int]


# -- where tokens and maps sit on the image ---------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Geometry:
    """Where a network's token and map outputs sit on its input image.

    Attributes
    ----------
    prefix : int
        How many tokens come before the patches (0 for a network without tokens).
    strides : tuple of (int, int)
        The patch sizes its outputs' grids can have: one for a ViT (its patch size), one
        per stage for a network that merges patches (Swin). Empty: any layout is inferred
        from the shapes alone (a convolutional network), and no 3-D output is read.
    """

    prefix: int = 0
    strides: tuple[Pair, ...] = ()

    @property
    def tokens(self) -> bool:
        """Whether the network has token outputs to read on a grid."""
        return bool(self.strides)


NO_TOKENS = Geometry()


def grids(hw: Pair, stride: Pair) -> list[Pair]:
    """The grids an input of (H, W) can give at ``stride``: rounded down, and rounded up.

    A patch embedding's convolution rounds down; a network that pads its input to whole
    patches (Swin) rounds up.
    """
    (height, width), (down, across) = hw, stride
    floor = (height // down, width // across)
    ceil = (-(-height // down), -(-width // across))
    return [floor] if floor == ceil else [floor, ceil]


def grid_of(hw: Pair, stride: Pair, count: int) -> Pair | None:
    """The grid (gh, gw) of ``count`` patches of an (H, W) input at ``stride``, or None."""
    return next((g for g in grids(hw, stride) if g[0] * g[1] == count), None)


def on_a_grid(spatial: Pair, hw: Pair, strides: Iterable[Pair]) -> bool:
    """Whether ``spatial`` (h, w) is the grid of an (H, W) input at one of ``strides``."""
    return any(tuple(spatial) in grids(hw, stride) for stride in strides)


def scales_alike(spatial: Pair, hw: Pair) -> bool:
    """Whether (h, w) could be an (H, W) image's map: both sides shrunk by about one factor.

    Within a tenth, or two cells (a valid convolution's border, a rounded stride).
    """
    (h, w), (height, width) = spatial, hw
    return abs(h * width - w * height) <= 0.1 * max(h * width, w * height) + 2 * max(hw)


# -- one output's layout ----------------------------------------------------------------------
KINDS = ("map", "map_last", "tokens", "vector", "pooled")


@dataclasses.dataclass(frozen=True)
class Layout:
    """How one module's output maps to channels-first activations (B, C, H, W) or (B, C).

    Attributes
    ----------
    kind : str
        ``"map"`` (B, C, H, W), ``"map_last"`` (B, H, W, C), ``"tokens"`` (B, N, D),
        ``"vector"`` (B, C) or ``"pooled"`` (B, C, 1, 1), read as (B, C).
    prefix : int
        Tokens only: how many leading tokens are not patches (left out, kept unchanged).
    stride : (int, int)
        Tokens only: the patch size of their grid.
    nested : bool
        The output is a tuple or an output object whose first tensor is read.
    """

    kind: str
    prefix: int = 0
    stride: Pair = (0, 0)
    nested: bool = False

    def to_acts(self, out: object, hw: Pair) -> torch.Tensor:
        """The module's output as activations for an input of (H, W) ``hw``.

        Tokens (B, N, D) -> (B, D, gh, gw), channels-last maps -> (B, C, H, W).

        Raises
        ------
        LayerError
            For tokens that do not fill the patch grid of this input.
        """
        tensor = first_tensor(out) if self.nested else out
        assert isinstance(tensor, torch.Tensor)
        if self.kind == "pooled":
            return tensor.flatten(1)  # (B, C)
        if self.kind == "map_last":
            return tensor.permute(0, 3, 1, 2)  # (B, C, H, W)
        if self.kind != "tokens":
            return tensor
        patches = tensor[:, self.prefix :, :]  # (B, gh*gw, D)
        grid = grid_of(hw, self.stride, patches.shape[1])
        if grid is None:
            raise LayerError(
                f"{patches.shape[1]} patch tokens do not fill the {self.stride[0]}-pixel patch "
                f"grid of a {hw[0]}x{hw[1]} input."
            )
        return patches.unflatten(1, grid).permute(0, 3, 1, 2)  # (B, D, gh, gw)

    def to_output(self, acts: torch.Tensor, out: object) -> object:
        """Activations back in the module's layout, with ``out``'s prefix tokens and the rest."""
        tensor = first_tensor(out) if self.nested else out
        assert isinstance(tensor, torch.Tensor)
        if self.kind == "pooled":
            new = acts.reshape(tensor.shape)
        elif self.kind == "map_last":
            new = acts.permute(0, 2, 3, 1).contiguous()  # (B, H, W, C), as views expect
        elif self.kind == "tokens":
            patches = acts.flatten(2).transpose(1, 2)  # (B, gh*gw, D)
            new = torch.cat([tensor[:, : self.prefix, :], patches], dim=1)  # (B, N, D)
        else:
            new = acts
        return replace_first(out, new) if self.nested else new


def first_tensor(out: object) -> object:
    """The first entry of a tuple, list or mapping (an output object's first field); else None."""
    if isinstance(out, (tuple, list)):
        return out[0] if out else None
    if isinstance(out, Mapping):
        return next(iter(out.values()), None)
    return None


def replace_first(out: object, tensor: torch.Tensor) -> object:
    """``out`` with its first entry (see :func:`first_tensor`) replaced by ``tensor``."""
    if isinstance(out, tuple) and hasattr(out, "_replace"):  # a named tuple
        return out._replace(**{out._fields[0]: tensor})
    if isinstance(out, (tuple, list)):
        return type(out)([tensor, *out[1:]])
    assert isinstance(out, Mapping)
    key = next(iter(out.keys()))
    if dataclasses.is_dataclass(out):  # a Hugging Face ModelOutput
        return dataclasses.replace(out, **{key: tensor})
    return {**out, key: tensor}


def candidate_layouts(out: object, geometry: Geometry, hw: Pair) -> list[Layout]:
    """The layouts one output of a probe pass at (H, W) ``hw`` may have, likeliest first.

    None when it is not readable: not a floating tensor (or a tuple or output object
    starting with one) with the probe's batch of one; a 3-D output that is not tokens
    on a grid; in a network with tokens, a 4-D output that is not on a grid (attention
    weights (B, heads, N, N)). Two when a map could be channels-first or channels-last
    (every side about equal): the caller tells them apart.
    """
    nested = not isinstance(out, torch.Tensor)
    tensor = first_tensor(out) if nested else out
    if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
        return []
    if tensor.ndim not in (2, 3, 4) or tensor.shape[0] != 1:
        return []  # windows of Swin's attention (B * windows, ...) are not the image's batch
    shape = tuple(int(d) for d in tensor.shape[1:])
    if tensor.ndim == 2:
        found = [Layout("vector")]
    elif tensor.ndim == 3:
        found = _token_layouts(shape, geometry, hw)
    else:
        found = _map_layouts(shape, geometry, hw)
    return [dataclasses.replace(layout, nested=nested) for layout in found]


def _token_layouts(shape: tuple[int, ...], geometry: Geometry, hw: Pair) -> list[Layout]:
    count, depth = shape
    if depth < 2:  # (B, C, 1): a pooled output, not one channel of C tokens
        return []
    for prefix in dict.fromkeys((geometry.prefix, 0)):
        for stride in geometry.strides:
            if count > prefix and grid_of(hw, stride, count - prefix) is not None:
                return [Layout("tokens", prefix, stride)]
    return []


def _map_layouts(shape: tuple[int, ...], geometry: Geometry, hw: Pair) -> list[Layout]:
    first, second, third = shape
    if (second, third) == (1, 1):
        return [Layout("pooled")]  # a global pool's output: one position, nothing to split
    if geometry.tokens:
        fits = [on_a_grid(s, hw, geometry.strides) for s in ((second, third), (first, second))]
    else:
        fits = [scales_alike(s, hw) for s in ((second, third), (first, second))]
    found = [Layout(kind) for kind, fit in zip(("map", "map_last"), fits, strict=True) if fit]
    if not found and not geometry.tokens:
        return [Layout("map")]  # as PyTorch lays images out, whatever the sizes
    return found


def moved_axis(before: tuple[int, ...], after: tuple[int, ...]) -> Layout | None:
    """Tell a channels-first map from a channels-last one by the axis a wider input widened.

    ``before`` and ``after`` are the output's shapes at two input widths; None when not
    exactly one of the width axes changed.
    """
    if len(before) != 4 or len(after) != 4 or before[1] != after[1]:
        return None  # axis 1 is C or H, which a wider input leaves alone
    if before[3] != after[3] and before[2] == after[2]:
        return Layout("map")  # (B, C, H, W): W is the last axis
    if before[2] != after[2] and before[3] == after[3]:
        return Layout("map_last")  # (B, H, W, C)
    return None


def settle(
    candidates: Mapping[str, list[Layout]],
    outputs: Mapping[str, object],
    wider: Mapping[str, object],
) -> dict[str, Layout]:
    """One layout per output that has any, in order: the likeliest, or the one a wider pass shows.

    ``outputs`` are the probe pass's, ``wider`` a pass's on a wider input (may be empty);
    an output with two candidate layouts takes the one :func:`moved_axis` finds.
    """
    layouts = {}
    for name, found in candidates.items():
        if not found:
            continue
        layout = found[0]
        if len(found) > 1 and name in wider:
            moved = moved_axis(_shape(outputs[name]), _shape(wider[name]))
            layout = dataclasses.replace(moved, nested=layout.nested) if moved else layout
        layouts[name] = layout
    return layouts


def _shape(out: object) -> tuple[int, ...]:
    tensor = out if isinstance(out, torch.Tensor) else first_tensor(out)
    return tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else ()


def shape_of(out: object, layout: Layout, hw: Pair) -> tuple[int, ...]:
    """A layer's shape above the seam: (H, W, C) or (C,)."""
    acts = layout.to_acts(out, hw)
    return (*(int(d) for d in acts.shape[2:]), int(acts.shape[1]))


def square(size: object) -> Pair:
    """A side or a pair as a pair of ints (a patch size, an image size)."""
    values = np.broadcast_to(np.asarray(size), 2)
    return int(values[0]), int(values[1])


__all__ = [
    "NO_TOKENS",
    "Geometry",
    "Layout",
    "candidate_layouts",
    "first_tensor",
    "grid_of",
    "moved_axis",
    "replace_first",
    "settle",
    "shape_of",
    "square",
]
