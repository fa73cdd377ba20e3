"""Fixtures shared by the PyTorch tests of any ``nn.Module``: seeded networks, no download.

Small inputs keep them quick (96 px). Each test module gets its own instances.
"""

from __future__ import annotations

import numpy as np
import pytest

SIDE = 96


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    """dog_cat at 96x96, RGB floats in [0, 1]."""
    from PIL import Image

    from neuron_groups.images import load_image

    full = Image.fromarray(np.uint8(np.round(load_image("dog_cat") * 255)))
    return np.asarray(full.resize((SIDE, SIDE), Image.BILINEAR), np.float32) / 255


@pytest.fixture(scope="module")
def resnet():
    """torchvision's ResNet-50, randomly initialized (seed 0)."""
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    return torchvision.models.resnet50(weights=None)


@pytest.fixture(scope="module")
def resnet_model(resnet):
    from neuron_groups import load_model

    return load_model(resnet, input_size=SIDE)


@pytest.fixture(scope="module")
def vit():
    """timm's ViT-Tiny at 96 px with 4 register tokens: 5 prefix tokens, a 6x6 patch grid."""
    torch = pytest.importorskip("torch")
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    return timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=SIDE, reg_tokens=4)


@pytest.fixture(scope="module")
def vit_model(vit):
    from neuron_groups import load_model

    return load_model(vit)
