"""The three tables of a PyTorch model against torch's own derivatives, the network run by hand.

A seeded ResNet-18 read at ``layer3`` (the rest of the network, ``layer4 -> avgpool -> fc``,
run by hand): the linear table is ``torch.func.jvp`` along each group's part at the image's
activations; integrated gradients is that jvp along the path, averaged on a fine uniform grid
(1% of it); completeness holds within 1%; ablation is the hand-run network's logit drop.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from neuron_groups.attribution import COMPLETENESS, group_parts  # noqa: E402
from neuron_groups.reading import ImageReading  # noqa: E402

CLASSES = [208, 282]
FINE = 128

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*")


def cf(array: np.ndarray) -> torch.Tensor:
    """(..., h, w, C) numpy -> (..., C, h, w) tensor."""
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(array, -1, -3), np.float32))


@pytest.fixture(scope="module")
def setting(image):
    import torchvision

    from neuron_groups import load_model

    torch.manual_seed(0)
    resnet = torchvision.models.resnet18(weights=None)
    model = load_model(resnet, input_size=image.shape[0])
    result = ImageReading(model, image, "layer3", CLASSES).analyze(3, CLASSES)
    acts = ImageReading(model, image, "layer3").acts["layer3"]  # (6, 6, 256)
    with model.frozen:

        def logits(a):  # layer3's output (B, 256, 6, 6) -> (B, 2)
            return resnet.fc(torch.flatten(resnet.avgpool(resnet.layer4(a)), 1))[:, CLASSES]

        yield result, acts, logits


def jvp(logits, at: np.ndarray, along: np.ndarray) -> np.ndarray:
    """d logits(at + t along) / dt at t = 0, for a batch: (B, T)."""
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH):
        _, out = torch.func.jvp(logits, (cf(at),), (cf(along),))
    return out.numpy()


def test_linear_is_the_derivative_along_each_part(setting):
    result, acts, logits = setting
    parts = group_parts(result.spatial, result.channel)  # (3, 6, 6, 256)
    expected = jvp(logits, np.repeat(acts[None], 3, 0), parts).T  # (T, n)
    np.testing.assert_allclose(
        result.tables["linear"], expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max()
    )


def test_integrated_is_the_derivative_averaged_along_the_path(setting):
    result, acts, logits = setting
    parts = group_parts(result.spatial, result.channel)
    fractions = (np.arange(FINE) + 0.5) / FINE  # the midpoint rule on a fine grid
    path = fractions[:, None, None, None] * acts[None]  # (FINE, 6, 6, 256)
    n = len(parts)
    along = np.repeat(parts, FINE, axis=0)  # (n * FINE, ...): every group at every point
    derivatives = jvp(logits, np.tile(path, (n, 1, 1, 1)), along)  # (n * FINE, T)
    reference = derivatives.reshape(n, FINE, -1).mean(axis=1).T  # (T, n)
    found = result.tables["integrated"]
    np.testing.assert_allclose(found, reference, atol=COMPLETENESS * np.abs(reference).max())
    with torch.no_grad():
        change = (logits(cf(acts[None])) - logits(cf(np.zeros_like(acts)[None])))[0].numpy()
    scale = np.maximum(np.abs(change), 0.1 * np.abs(change).max())
    assert np.all(np.abs(found.sum(axis=1) + result.rest - change) <= COMPLETENESS * scale)


def test_ablation_is_the_logit_drop_of_the_network_run_by_hand(setting):
    result, acts, logits = setting
    parts = group_parts(result.spatial, result.channel)
    removed = acts[None] - np.minimum(acts[None], parts)  # (n, 6, 6, 256) >= 0
    with torch.no_grad():
        drop = (logits(cf(acts[None])) - logits(cf(removed))).numpy().T  # (T, n)
    np.testing.assert_allclose(
        result.tables["ablation"], drop, rtol=1e-4, atol=1e-4 * np.abs(drop).max()
    )
