"""VisionModel.evaluate in PyTorch: targets, and their gradients, at given activations.

At the image's own activations the values and gradients are ``read``'s. At other
activations they are checked against the network run by hand from the layer, without
``evaluate``'s hooks: InceptionV1's trunk in float64 (autograd for the gradients),
torchvision's ResNet-50 from ``layer3`` and timm's ViT (with register tokens) from
``blocks.2`` (forward-mode ``torch.func.jvp`` for the gradients).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from neuron_groups.backends.base import Targets  # noqa: E402
from neuron_groups.backends.inceptionv1 import LOGITS  # noqa: E402
from neuron_groups.backends.torch import InceptionV1  # noqa: E402
from neuron_groups.errors import LayerError  # noqa: E402
from neuron_groups.images import load_image  # noqa: E402

CLASSES = [208, 282]

# torch.func.jvp's first use scripts decompositions with the deprecated torch.jit.script.
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*")


def varied(acts: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` activations near the image's (each channel rescaled); row 0 the image's own."""
    scale = np.random.default_rng(seed).uniform(0.3, 1.5, (count, *[1] * (acts.ndim - 1), 1))
    scale[0] = 1.0
    return (acts[None] * scale).astype(np.float32)


def along(grads: np.ndarray, tangents: np.ndarray) -> np.ndarray:
    """Derivatives (B, T) along ``tangents`` (B, ...) from gradients (B, T, ...)."""
    flat = grads.reshape(*grads.shape[:2], -1).astype(np.float64)  # (B, T, P)
    return np.einsum("btp,bp->bt", flat, tangents.reshape(len(tangents), -1))


def cf(array: np.ndarray) -> torch.Tensor:
    """(B, h, w, C) numpy -> (B, C, h, w) contiguous tensor."""
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


def check_forward_mode(fn, acts: np.ndarray, grads: np.ndarray, seed: int) -> None:
    """``grads`` (B, T, h, w, C) against ``torch.func.jvp`` of ``fn`` ((B, C, h, w) -> (B, T))."""
    tangents = np.random.default_rng(seed).random(acts.shape, dtype=np.float32)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH):  # forward mode: the composite kernel
        _, jvp = torch.func.jvp(fn, (cf(acts),), (cf(tangents),))
    jvp = jvp.numpy()
    np.testing.assert_allclose(
        along(grads, tangents), jvp, rtol=1e-4, atol=1e-4 * np.abs(jvp).max()
    )


def check_own(model, image, layer, targets, got) -> None:
    """Row 0 (the image's own activations) against ``read``."""
    reading = model.read(image, layer, targets)
    if targets.kind == "classes":
        np.testing.assert_allclose(got.values[0], reading.logits[list(targets.indices)], rtol=1e-5)
    scale = np.abs(reading.grads).max()
    np.testing.assert_allclose(got.grads[0], reading.grads, rtol=1e-4, atol=1e-5 * scale)


# -- InceptionV1 ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch_inception():
    return InceptionV1()


def test_inception_against_the_float64_trunk(torch_inception):
    dog_cat = load_image("dog_cat")
    acts = varied(torch_inception.activations(dog_cat, "mixed4d"), 3, seed=1)
    targets = Targets.classes(CLASSES)
    got = torch_inception.evaluate(dog_cat, "mixed4d", acts, targets, gradients=True)
    assert got.values.shape == (3, 2) and got.grads.shape == (3, 2, 14, 14, 528)
    check_own(torch_inception, dog_cat, "mixed4d", targets, got)
    net = copy.deepcopy(torch_inception.module).double()
    given = cf(acts).double().requires_grad_(True)
    logits = net.run(given, "mixed4d", LOGITS)[:, CLASSES]  # (3, 2)
    np.testing.assert_allclose(got.values, logits.detach().numpy(), rtol=1e-5, atol=1e-4)
    for t in range(2):
        (grad,) = torch.autograd.grad(logits[:, t].sum(), given, retain_graph=True)
        exact = grad.permute(0, 2, 3, 1).numpy()  # (3, 14, 14, 528)
        scale = np.abs(exact).max()
        # Max pooling breaks float32 ties in its own way; the gradients agree to 1e-3.
        np.testing.assert_allclose(got.grads[:, t], exact, rtol=0, atol=1e-3 * scale)
    assert not np.allclose(got.grads[0], got.grads[1])


def test_inception_direction_targets_and_vector_layers(torch_inception):
    dog_cat = load_image("dog_cat")
    vectors = np.random.default_rng(2).random((2, 832), dtype=np.float32)
    targets = Targets.directions("mixed5a", vectors)
    acts = varied(torch_inception.activations(dog_cat, "mixed4e"), 2, seed=3)
    got = torch_inception.evaluate(dog_cat, "mixed4e", acts, targets, gradients=True)
    check_own(torch_inception, dog_cat, "mixed4e", targets, got)

    def scores(a):  # (B, 832, 14, 14) at mixed4e -> (B, 2)
        later = torch_inception.module.run(a, "mixed4e", "mixed5a")
        return torch.einsum("bchw,tc->bt", later, torch.from_numpy(vectors))

    np.testing.assert_allclose(got.values, scores(cf(acts)).detach().numpy(), rtol=1e-5)
    # At the pooled vector (1024,) the logits are linear: grads are the classifier's rows.
    pooled = varied(torch_inception.activations(dog_cat, "avgpool0"), 2, seed=4)
    vector = torch_inception.evaluate(dog_cat, "avgpool0", pooled, Targets.classes(CLASSES), True)
    kernel = torch_inception.module.filters["loss3__classifier"].detach().numpy()  # (1000, 1024)
    assert vector.grads.shape == (2, 2, 1024)
    np.testing.assert_allclose(vector.grads, np.broadcast_to(kernel[CLASSES], (2, 2, 1024)))


# -- ResNet-50 ---------------------------------------------------------------------------------
def test_resnet_classes_against_the_network_run_by_hand(resnet, resnet_model, image):
    training = resnet.training
    acts = varied(resnet_model.activations(image, "layer3"), 3, seed=5)  # (3, 6, 6, 1024)
    targets = Targets.classes(CLASSES)
    got = resnet_model.evaluate(image, "layer3", acts, targets, gradients=True)
    check_own(resnet_model, image, "layer3", targets, got)

    def logits(a):  # layer3's output (B, 1024, 6, 6) -> (B, 2)
        return resnet.fc(torch.flatten(resnet.avgpool(resnet.layer4(a)), 1))[:, CLASSES]

    with resnet_model.frozen:  # eval mode, as evaluate runs it
        with torch.no_grad():
            expected = logits(cf(acts)).numpy()
        check_forward_mode(logits, acts, got.grads, seed=6)
    np.testing.assert_allclose(got.values, expected, rtol=1e-4, atol=1e-5)
    # The module is as it was (its mode, weights that want gradients); no gradient landed.
    assert resnet.training == training and all(
        p.requires_grad and p.grad is None for p in resnet.parameters()
    )


def test_resnet_direction_targets_against_the_network_run_by_hand(resnet, resnet_model, image):
    vectors = np.random.default_rng(7).random((2, 2048), dtype=np.float32)
    targets = Targets.directions("layer4", vectors)
    acts = varied(resnet_model.activations(image, "layer3"), 2, seed=8)
    got = resnet_model.evaluate(image, "layer3", acts, targets, gradients=True)
    check_own(resnet_model, image, "layer3", targets, got)

    def scores(a):
        return torch.einsum("bchw,tc->bt", resnet.layer4(a), torch.from_numpy(vectors))

    with resnet_model.frozen:
        with torch.no_grad():
            expected = scores(cf(acts)).numpy()
        check_forward_mode(scores, acts, got.grads, seed=9)
    np.testing.assert_allclose(got.values, expected, rtol=1e-4)


# -- a Vision Transformer with prefix tokens --------------------------------------------------
def test_vit_patch_grid_with_the_images_prefix_tokens(vit, vit_model, image):
    model = vit_model
    targets = Targets.classes([3, 7])
    seen = {}
    handle = vit.blocks[2].register_forward_hook(lambda m, a, out: seen.setdefault("out", out))
    try:
        acts = varied(model.activations(image, "blocks.2"), 3, seed=10)  # (3, 6, 6, 192)
    finally:
        handle.remove()
    prefix = seen["out"][:, :5].detach()  # (1, 5, 192): class and register tokens
    got = model.evaluate(image, "blocks.2", acts, targets, gradients=True)
    assert got.grads.shape == (3, 2, 6, 6, 192)
    check_own(model, image, "blocks.2", targets, got)

    def logits(a):  # (B, 192, 6, 6) patches after blocks.2 -> (B, 2)
        tokens = torch.cat([prefix.expand(len(a), -1, -1), a.flatten(2).transpose(1, 2)], 1)
        for block in vit.blocks[3:]:
            tokens = block(tokens)
        return vit.forward_head(vit.norm(tokens))[:, [3, 7]]

    with vit_model.frozen:  # eval mode, as evaluate runs it
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
            expected = logits(cf(acts)).numpy()
        check_forward_mode(logits, acts, got.grads, seed=11)
    np.testing.assert_allclose(got.values, expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(LayerError, match=r"\(B, 6, 6, 192\)"):
        model.evaluate(image, "blocks.2", np.zeros((1, 37, 192)), targets)
