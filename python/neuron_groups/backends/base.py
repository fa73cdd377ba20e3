"""The framework-independent interface of a vision model (the backend seam).

Everything above this seam works on numpy arrays: a model is a :class:`VisionModel`, whose
methods take and return numpy arrays, images being RGB floats in [0, 1] of shape (H, W, 3)
whatever range or channel order the network wants inside. Two frameworks implement it:
TensorFlow (:mod:`neuron_groups.backends.tensorflow`: InceptionV1, any Keras model) and
PyTorch (:mod:`neuron_groups.backends.torch`: InceptionV1, any ``nn.Module``); a user may
subclass it for a model of their own.

What a model implements is small: :meth:`VisionModel.layers`, :meth:`VisionModel.read`
(one forward and one backward pass that return everything a reading needs),
:meth:`VisionModel.render_icons` and :meth:`VisionModel.weight_arrays`. Framework settings
stay in the framework's backend; the seam only says what a caller means
(:meth:`VisionModel.few_readings`: "this process reads each layer once"). The steps every
framework backend takes in the same order (checks, forward-or-continue, the icon pool) are
written once in :mod:`neuron_groups.backends.framework`, and the input checks in
:mod:`neuron_groups.backends.inputs`, so that a backend holds only its framework's ops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np

from neuron_groups.errors import Cancelled, ClassNameError, LayerError, ModelError, did_you_mean


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """A layer the model can be read at.

    Attributes
    ----------
    name : str
        Canonical name (Lucid's for InceptionV1, e.g. ``"mixed4d"``).
    shape : tuple of int
        Output shape (H, W, C) for the model's default input size; (C,) for vector layers.
    aliases : tuple of str
        Other accepted names (Caffe's for InceptionV1, e.g. ``"inception_4d/output"``).
    """

    name: str
    shape: tuple[int, ...]
    aliases: tuple[str, ...] = ()

    @property
    def spatial(self) -> bool:
        """Whether the layer has a spatial extent (H, W, C) that can be factorized."""
        return len(self.shape) == 3

    @property
    def channels(self) -> int:
        """Number of channels (the last axis)."""
        return int(self.shape[-1])


LUCID = {"beta1": 0.9, "beta2": 0.999}
"""Adam's betas in Lucid's ``render_vis`` (TF1's defaults): what :meth:`IconSettings.lucid` sets."""

FAST = {"steps": 256}
"""What :meth:`IconSettings.fast` changes from the defaults."""


@dataclasses.dataclass(frozen=True)
class IconSettings:
    """Feature-visualization settings: Lucid's ``render_vis``, with Adam's betas retuned.

    Attributes
    ----------
    size : int
        Icon side in pixels (80).
    steps : int
        Number of optimizer updates (513: Lucid runs steps 0..512).
    learning_rate : float
        Adam's learning rate (0.05).
    seed : int
        Seeds the initial spectrum and the random transforms (0).
    transforms : str
        ``"standard"`` (Lucid's five transforms) or ``"none"``.
    redirect_relu_steps : int
        Steps at the start (17: steps 0..16) during which ReLU gradients are redirected.
    beta2 : float
        Adam's decay of the squared-gradient average (0.98; Lucid's is 0.999).
    beta1 : float
        Adam's decay of the gradient average, its momentum (0.6; Lucid's is 0.9).

    Notes
    -----
    Everything but Adam's two betas is Lucid's: the same parameterization, transforms,
    objective and step count. With shorter memories (0.6 and 0.98 against 0.9 and 0.999)
    the icons reach 90% of the score of Lucid's icons sooner and end higher (issue 22,
    measured by ``benchmarks/bench_icons.py``; the README's speed section has the figures).
    :meth:`lucid` gives Lucid's optimizer exactly, and :meth:`fast` the first 256 steps.
    A run of k steps is the start of every longer run with the same settings, so a
    snapshot at step k is exactly the k-step icons, and a longer run can continue a shorter
    one.
    """

    size: int = 80
    steps: int = 513
    learning_rate: float = 0.05
    seed: int = 0
    transforms: str = "standard"
    redirect_relu_steps: int = 17
    beta2: float = 0.98
    beta1: float = 0.6

    def key(self) -> dict:
        """Everything that determines the result, for cache keys.

        ``beta2`` and ``beta1`` are left out at Lucid's values, so that the keys of icons
        cached before they were settings (always Lucid's then) still match.
        """
        key = dataclasses.asdict(self)
        for name, lucids in LUCID.items():
            if key[name] == lucids:
                del key[name]
        return key

    @classmethod
    def lucid(cls, **changes) -> IconSettings:
        """Lucid's ``render_vis`` exactly: Adam with TF1's betas (0.9, 0.999).

        This package's default before issue 22, and the reference the default is measured
        against. ``changes`` override any field (e.g. ``steps``).
        """
        return cls(**{**LUCID, **changes})

    @classmethod
    def fast(cls, **changes) -> IconSettings:
        """A fast preset: the default's first 256 steps (of 513).

        The icons are exactly the default run's at step 256, so a full run later continues
        them. On the demo they score 0.97 of Lucid's 513-step icons on average (0.95-1.00 by
        seed; ``benchmarks/bench_icons.py`` measures it). ``changes`` override any field.
        """
        return cls(**{**FAST, **changes})


@dataclasses.dataclass(frozen=True)
class IconHooks:
    """What the caller of a long icon optimization wants to hear and say, in one object.

    Passed unchanged from the widget or the CLI down to the backend's optimization loop,
    which calls :meth:`before_step` and :meth:`after_step` around each update.

    Attributes
    ----------
    progress : callable, optional
        ``progress(step, objectives)`` after each step; objectives has shape (n,).
    snapshot : callable, optional
        ``snapshot(step, images)`` every ``snapshot_every`` steps and after the last;
        images has shape (n, S, S, 3), floats in [0, 1].
    snapshot_every : int
        0: no snapshots.
    should_stop : callable, optional
        Asked before each step; when it returns true the optimization raises
        :class:`~neuron_groups.errors.Cancelled`.
    """

    progress: Callable[[int, np.ndarray], None] | None = None
    snapshot: Callable[[int, np.ndarray], None] | None = None
    snapshot_every: int = 0
    should_stop: Callable[[], bool] | None = None

    def before_step(self, step: int, steps: int) -> None:
        """Raise :class:`~neuron_groups.errors.Cancelled` if the caller asked to stop."""
        if self.should_stop is not None and self.should_stop():
            raise Cancelled(f"Icon rendering was cancelled at step {step} of {steps}.")

    def wants_snapshot(self, step: int, steps: int) -> bool:
        """Whether :meth:`after_step` will need the images of this (0-based) step."""
        return (
            self.snapshot is not None
            and self.snapshot_every > 0
            and ((step + 1) % self.snapshot_every == 0 or step == steps - 1)
        )

    def after_step(
        self,
        step: int,
        steps: int,
        objectives: np.ndarray,
        images: Callable[[], np.ndarray],
    ) -> None:
        """Report a finished step; ``images()`` is called only when a snapshot is due."""
        if self.progress is not None:
            self.progress(step, objectives)
        if self.wants_snapshot(step, steps):
            assert self.snapshot is not None
            self.snapshot(step, images())


NO_HOOKS = IconHooks()


@dataclasses.dataclass(frozen=True)
class Targets:
    """The scalar functions of an image whose gradients a reading asks for.

    Three kinds, made by the class methods:

    - :meth:`classes`: the logits of the given class indices;
    - :meth:`top_classes`: the logits of this image's ``k`` best classes (chosen by the
      backend from the same forward pass);
    - :meth:`directions`: ``t_i = sum over positions of <acts_L[y, x], vectors[i]>`` at a
      layer ``L`` after the layer being read (a group's score at a later layer).

    Attributes
    ----------
    kind : str
        ``"classes"``, ``"top"`` or ``"directions"``.
    indices : tuple of int
        The class indices (``"classes"``).
    k : int
        How many best classes (``"top"``).
    layer : str
        The later layer (``"directions"``).
    vectors : ndarray, shape (T, C_L), or None
        The directions (``"directions"``).
    """

    kind: str = "classes"
    indices: tuple[int, ...] = ()
    k: int = 0
    layer: str = ""
    vectors: np.ndarray | None = dataclasses.field(default=None, compare=False)

    @classmethod
    def classes(cls, indices: Iterable[int]) -> Targets:
        """The logits of these class indices (in this order; may be empty)."""
        return cls("classes", indices=tuple(int(i) for i in indices))

    @classmethod
    def top_classes(cls, k: int = 5) -> Targets:
        """The logits of the image's ``k`` best classes, best first."""
        return cls("top", k=int(k))

    @classmethod
    def directions(cls, layer: str, vectors: np.ndarray) -> Targets:
        """Each vector's score at ``layer``, summed over positions; vectors (T, C)."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"Direction targets have shape (T, C); got {vectors.shape}.")
        return cls("directions", layer=layer, vectors=vectors)

    def __len__(self) -> int:
        if self.kind == "classes":
            return len(self.indices)
        if self.kind == "top":
            return self.k
        assert self.vectors is not None
        return len(self.vectors)


NO_TARGETS = Targets.classes(())


@dataclasses.dataclass(frozen=True)
class Readout:
    """What one forward-and-backward pass of one image returns.

    Attributes
    ----------
    acts : ndarray, shape (H', W', C), or (C,) for vector layers
        The activations at the layer read.
    logits : ndarray, shape (K,)
        The pre-softmax class scores.
    grads : ndarray, shape (T, H', W', C)
        ``grads[t]`` is the gradient of target t with respect to ``acts``.
    targets : ndarray of int64, shape (T,)
        The class index of each target (for ``"classes"`` and ``"top"``), or 0..T-1.
    """

    acts: np.ndarray
    logits: np.ndarray
    grads: np.ndarray
    targets: np.ndarray

    @classmethod
    def without_targets(cls, acts: np.ndarray, logits: np.ndarray) -> Readout:
        """A forward pass's readout: no targets, so gradients (0, *acts.shape)."""
        no_grads = np.zeros((0, *acts.shape), np.float32)
        return cls(acts, logits, no_grads, np.zeros(0, np.int64))


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Targets evaluated at given activations of a layer (:meth:`VisionModel.evaluate`).

    Attributes
    ----------
    values : ndarray, float32, shape (B, T)
        ``values[b, t]`` is target t when the layer's activations are ``acts[b]``.
    grads : ndarray, float32, shape (B, T, h, w, C), or None
        ``grads[b, t]`` is the gradient of ``values[b, t]`` with respect to ``acts[b]``
        (same layout as the activations: (B, T, C) for a vector layer); None when not
        asked for.
    """

    values: np.ndarray
    grads: np.ndarray | None


class VisionModel(ABC):
    """A differentiable image classifier readable at named layers.

    Subclasses set :attr:`name`, :attr:`class_names`, :attr:`logits_layer` and
    :attr:`default_size` and implement the abstract methods. Layer-name resolution and its
    errors, and the cache identity, are shared here.
    """

    name: str = "model"
    class_names: Sequence[str] | None = None
    """Display name of each logit (first synonym), or None when the model has no labels."""
    class_synonyms: Sequence[Sequence[str]] | None = None
    """All names of each logit (e.g. every synonym of synset_words.txt), or None."""
    logits_layer: str = ""
    """Canonical name of the layer holding the pre-softmax logits."""
    default_size: int = 224

    # -- layers ------------------------------------------------------------------------
    @abstractmethod
    def layers(self) -> list[LayerInfo]:
        """List the readable layers, input to output, with their shapes."""

    def resolve_layer(self, layer: str) -> LayerInfo:
        """Return the :class:`LayerInfo` named ``layer`` (canonical name or alias).

        Raises
        ------
        LayerError
            If no layer has that name; the message lists the closest names.
        """
        if not isinstance(layer, str):
            raise LayerError(f"A layer is named by a string; got {type(layer).__name__}.")
        infos = self.layers()
        for info in infos:
            if layer == info.name or layer in info.aliases:
                return info
        for info in infos:  # forgive case
            if layer.lower() in (n.lower() for n in (info.name, *info.aliases)):
                return info
        names = [i.name for i in infos]
        hint = did_you_mean(layer, names + [a for i in infos for a in i.aliases])
        raise LayerError(
            f"Unknown layer {layer!r} for model {self.name!r}.{hint} Layers: {', '.join(names)}."
        )

    def layers_by_name(self) -> dict[str, LayerInfo]:
        """Map each canonical layer name to its :class:`LayerInfo`."""
        return {info.name: info for info in self.layers()}

    def layer_index(self, layer: str) -> int:
        """Position of ``layer`` in :meth:`layers` (input to output)."""
        name = self.resolve_layer(layer).name
        return [info.name for info in self.layers()].index(name)

    def min_input_size(self, layer: str) -> int | None:
        """Smallest square input side that reaches ``layer``, or None when unknown."""
        return None

    def fixed_input_size(self) -> tuple[int, int] | None:
        """Return the (H, W) the network requires, or None when it takes any size."""
        return None

    def before_logits(self, layer: str) -> str:
        """Canonical name of ``layer``, refused if it comes after the logits (no way back)."""
        name = self.resolve_layer(layer).name
        if self.layer_index(name) > self.layer_index(self.logits_layer):
            raise LayerError(f"{name!r} comes after the logits; there is no way back from it.")
        return name

    @property
    def n_classes(self) -> int:
        """Number of logits."""
        return self.resolve_layer(self.logits_layer).channels

    # -- identity ----------------------------------------------------------------------
    @abstractmethod
    def weight_arrays(self) -> Iterable[np.ndarray]:
        """Every array that determines the model's outputs (its weights), in a fixed order."""

    @property
    def identity(self) -> str:
        """A string that changes when the weights change (used in cache keys).

        By default the name and a digest of :meth:`weight_arrays`, computed once. A backend
        that knows a cheaper fingerprint of the same weights may override it.
        """
        cached = self.__dict__.get("_identity")
        if cached is None:
            cached = self.__dict__["_identity"] = self.weights_identity()
        return cached

    def weights_identity(self) -> str:
        """The name and a digest of :meth:`weight_arrays`, computed anew on every call.

        For backends whose weights can change in place, whose :attr:`identity` must not be
        kept.
        """
        digest = hashlib.sha256(self.name.encode())
        for array in self.weight_arrays():
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.tobytes())
        return f"{self.name}-{digest.hexdigest()[:12]}"

    # -- forward and backward ----------------------------------------------------------
    @abstractmethod
    def read(self, image: np.ndarray, layer: str, targets: Targets = NO_TARGETS) -> Readout:
        """One forward and one backward pass: activations, logits and target gradients.

        Parameters
        ----------
        image : ndarray, shape (H, W, 3)
            RGB floats in [0, 1].
        layer : str
            Canonical name or alias of the layer to read.
        targets : Targets
            Scalars to differentiate with respect to the activations at ``layer``. Class
            targets need ``layer`` at or before :attr:`logits_layer`; direction targets
            need their layer after ``layer``.

        Returns
        -------
        Readout
        """

    def activations(self, image: np.ndarray, layer: str) -> np.ndarray:
        """Activations of one image at ``layer``: (H', W', C) for spatial layers."""
        return self.read(image, layer).acts

    def evaluate(
        self,
        image: np.ndarray,
        layer: str,
        acts: np.ndarray,
        targets: Targets,
        gradients: bool = False,
    ) -> Evaluation:
        """Targets, and their gradients, as if ``layer`` had produced each of ``acts``.

        The rest of the network is unchanged and runs on ``image`` (a network may use
        other tensors of the image after the layer, such as a residual branch, or a ViT's
        prefix tokens, which keep the image's own values). With ``acts`` the image's own
        activations (``read(image, layer).acts``), the values are :meth:`read`'s logits of
        the classes (or its direction scores) and the gradients are :meth:`read`'s.

        Parameters
        ----------
        image : ndarray, shape (H, W, 3)
            RGB floats in [0, 1].
        layer : str
            Canonical name or alias of the layer whose activations are given.
        acts : ndarray, shape (B, h, w, C)
            A batch of activations at ``layer``, laid out as :meth:`read` returns them
            (channels-last; a ViT's patch grid; (B, C) for a vector layer).
        targets : Targets
            :meth:`Targets.classes` (logits; ``layer`` at or before the logits) or
            :meth:`Targets.directions` (a group's score at a later layer).
        gradients : bool
            Also return d target / d activations.

        Returns
        -------
        Evaluation
            values (B, T) and, when asked, grads (B, T, h, w, C), float32.

        Raises
        ------
        LayerError
            For ``acts`` of another shape than the layer's for this image (the message
            gives the expected (B, h, w, C)), or targets that cannot be evaluated there.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not evaluate targets at given activations; a "
            "model implements VisionModel.evaluate for that (the built-in backends do)."
        )

    @contextlib.contextmanager
    def few_readings(self) -> Iterator[None]:
        """Within this block the process reads each layer once (the command line does).

        A backend that prepares for repeated readings (TensorFlow compiles each kind of
        pass once, which pays off in a widget) skips that preparation here, with the same
        numbers. The default does nothing. Put back as it was when the block ends.
        """
        yield

    def logits(self, image: np.ndarray) -> np.ndarray:
        """Pre-softmax class scores of one image, shape (K,)."""
        return self.read(image, self.logits_layer).logits

    # -- models without a classifier ---------------------------------------------------
    embedding_size: int | None = None
    """For a model whose output is an embedding (no classifier): its size E; else None.

    Such a model's "logits" are the embedding's components along named directions in its
    space, ``<embedding, v / |v|>`` (:meth:`toward`): the directions are unit vectors, the
    embedding is not normalized. :attr:`class_names` are the directions' names, so every
    target, table and flow works on them as on classes. For one image the directions rank
    as by cosine similarity (the embedding's norm is common to all of them).
    """

    def embed(self, image: np.ndarray) -> np.ndarray:
        """The embedding (E,) of one image, RGB floats in [0, 1], (H, W, 3).

        Raises
        ------
        ModelError
            For a classifier (the default).
        """
        raise ModelError(
            f"{self.name!r} is a classifier: its output is class logits, not an embedding "
            "to compare images in. Pass a model without a classifier (a backbone such as "
            "DINOv2 or CLIP's image tower) for target_image=."
        )

    def toward(self, directions: Mapping[str, np.ndarray]) -> VisionModel:
        """The model with its logits the embedding's components along ``directions``.

        ``directions`` maps each name to a vector (E,) in the embedding's space (normalized
        here); the new model's :attr:`class_names` are the names, in order. The model
        itself is unchanged (the new one shares its network).

        Raises
        ------
        ClassNameError
            For a classifier (the default), or directions of another size than E.
        """
        raise ClassNameError(
            f"{self.name!r} is a classifier: its targets are its own classes, named by "
            "name or index. Directions (classes={name: vector}) are targets for a model "
            "without a classifier, whose output is an embedding."
        )

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings (T, E) of ``texts`` in the image embedding's space (a text tower's).

        Raises
        ------
        ClassNameError
            For a model without a text tower (the default), or one whose tokenizer is missing.
        """
        raise ClassNameError(
            f"{self.name!r} has no text tower to embed {list(texts)!r} with (CLIP and SigLIP "
            "have one). Give each class as a vector in its embedding's space, "
            "classes={name: vector}: e.g. text embeddings computed with another model."
        )

    # -- feature visualization ---------------------------------------------------------
    @abstractmethod
    def render_icons(
        self,
        layer: str,
        directions: np.ndarray,
        settings: IconSettings = IconSettings(),
        hooks: IconHooks = NO_HOOKS,
    ) -> np.ndarray:
        """Optimize one image per direction (n, C) at ``layer``; return (n, S, S, 3) in [0, 1].

        Raises :class:`neuron_groups.errors.Cancelled` when ``hooks.should_stop()`` turns
        true.
        """
