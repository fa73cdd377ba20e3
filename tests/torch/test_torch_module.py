"""Any PyTorch classifier: torchvision's ResNet-50 and Vision Transformers, timm's ViT.

Randomly initialized, seeded networks (no download) run the whole pipeline: layers by module
path, activations, groups (sign-split NMF on a ViT's signed tokens), attributions checked
against forward-mode derivatives (``torch.func.jvp``), icons, the widget and the page; and
each kind of bad input gets its specific error. Small inputs keep it quick (96 px).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from neuron_groups import load_model  # noqa: E402
from neuron_groups.backends.base import IconHooks, IconSettings, Targets  # noqa: E402
from neuron_groups.backends.torch import TorchModuleModel  # noqa: E402
from neuron_groups.errors import ImageError, LayerError, ModelError  # noqa: E402
from neuron_groups.pipeline import neuron_groups  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SIDE = 96
SMALL_ICONS = IconSettings(size=32, steps=3)

# torch.func.jvp's first use scripts decompositions with the deprecated torch.jit.script.
pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script.*")


def channels_first(acts: np.ndarray, count: int) -> torch.Tensor:
    """(h, w, C) -> (count, C, h, w), float32, each row its own memory (for forward mode)."""
    return torch.from_numpy(np.ascontiguousarray(acts.transpose(2, 0, 1))).repeat(count, 1, 1, 1)


def forward_mode_attributions(model, image, layer, result) -> np.ndarray:
    """d logits along each group's pattern (spatial x channel), by ``torch.func.jvp``: (K', n).

    The attribution of class k to group g is the derivative of logit k along the group's
    part of the activations, which forward mode gives directly.
    """
    acts = model.read(image, layer).acts  # (h, w, C)
    n = len(result.channel)
    patterns = np.einsum("nhw,nc->nhwc", result.spatial, result.channel)  # (n, h, w, C)
    images = torch.from_numpy(image.transpose(2, 0, 1)[None].copy()).expand(n, -1, -1, -1)
    tangents = torch.from_numpy(np.ascontiguousarray(patterns.transpose(0, 3, 1, 2)))

    def logits(a):  # (n, C, h, w) -> (n, K)
        return model.logits_with(images, layer, a)

    # Forward mode has no rule for the fused attention kernel; its composite twin has.
    with model.frozen, sdpa_kernel(SDPBackend.MATH):
        _, derivative = torch.func.jvp(logits, (channels_first(acts, n),), (tangents,))
    return derivative.numpy()[:, result.class_indices].T  # (K', n)


# -- ResNet-50 -----------------------------------------------------------------------------------
def test_resnet_layers_are_module_paths_with_their_shapes(resnet_model):
    shapes = {info.name: info.shape for info in resnet_model.layers()}
    assert shapes["layer3"] == (6, 6, 1024) and shapes["layer4.2"] == (3, 3, 2048)
    assert shapes["layer3.0.conv1"] == (12, 12, 256) and shapes["conv1"] == (48, 48, 64)
    assert shapes["avgpool"] == (2048,) and shapes["fc"] == (1000,)
    names = list(shapes)
    assert names.index("layer3") < names.index("layer4") < names.index("fc")
    assert names[-1] == "logits" == resnet_model.logits_layer and shapes["logits"] == (1000,)
    assert "layer3.0.relu" not in shapes  # runs three times per block: no one output
    assert resnet_model.name == "ResNet" and resnet_model.default_size == SIDE
    assert resnet_model.class_names[208] == "Labrador retriever"  # 1000 logits: ImageNet's
    assert resnet_model.mean == (0.485, 0.456, 0.406) and resnet_model.value_range == (0, 1)
    assert resnet_model.fixed_input_size() is None


def test_unknown_and_shared_layers_name_the_nearest(resnet_model, image):
    with pytest.raises(LayerError, match=r"Did you mean 'layer3'.*Outermost layers: conv1, bn1"):
        resnet_model.read(image, "layr3")
    with pytest.raises(LayerError, match=r"'layer3\.0\.relu'.*runs 3 times.*parent 'layer3\.0'"):
        resnet_model.read(image, "layer3.0.relu")
    for flat in ("fc", "avgpool"):
        with pytest.raises(
            LayerError, match=r"no spatial extent.*layer4\.2\.bn3, layer4\.2, layer4"
        ):
            neuron_groups(image, flat, 3, model=resnet_model, icons=False)


def test_resnet_pipeline_with_attributions_checked_by_forward_mode(resnet_model, image):
    result = neuron_groups(image, "layer3", 4, model=resnet_model, icons=False)
    assert result.method == "NMF" and result.model_name == "ResNet"
    assert result.spatial.shape == (4, 6, 6) and result.channel.shape == (4, 1024)
    assert result.spatial.min() >= 0 and result.channel.min() >= 0
    assert result.attributions.shape == (5, 4) and result.classes == result.top5
    logits = resnet_model.logits(image)
    np.testing.assert_array_equal(result.class_indices, np.argsort(-logits, kind="stable")[:5])
    jvp = forward_mode_attributions(resnet_model, image, "layer3", result)
    np.testing.assert_allclose(
        result.tables["linear"], jvp, rtol=1e-4, atol=1e-4 * np.abs(jvp).max()
    )
    assert np.abs(result.attributions).max() > 0


def test_direction_targets_checked_by_forward_mode(resnet_model, image):
    vectors = np.random.default_rng(3).random((2, 2048), dtype=np.float32)  # at layer4
    reading = resnet_model.read(image, "layer3", Targets.directions("layer4", vectors))
    assert reading.grads.shape == (2, 6, 6, 1024)
    np.testing.assert_array_equal(reading.targets, [0, 1])
    np.testing.assert_allclose(reading.logits, resnet_model.logits(image), rtol=1e-5, atol=1e-5)
    tangents = np.random.default_rng(4).random((2, *reading.acts.shape), dtype=np.float32)
    images = torch.from_numpy(image.transpose(2, 0, 1)[None].copy()).expand(2, -1, -1, -1)

    def scores(acts):  # layer3's (n, 1024, 6, 6) -> each vector's score at layer4, (n, T)
        later = {}
        layer4 = resnet_model.module.get_submodule("layer4")
        handle = layer4.register_forward_hook(lambda m, a, out: later.setdefault("acts", out))
        try:
            resnet_model.logits_with(images, "layer3", acts)
        finally:
            handle.remove()
        return torch.einsum("nchw,tc->nt", later["acts"], torch.from_numpy(vectors))

    tangent_cf = torch.from_numpy(np.ascontiguousarray(tangents.transpose(0, 3, 1, 2)))
    with resnet_model.frozen:
        _, jvp = torch.func.jvp(scores, (channels_first(reading.acts, 2),), (tangent_cf,))
    reverse = np.einsum("thwc,nhwc->nt", reading.grads.astype(np.float64), tangents)
    np.testing.assert_allclose(reverse, jvp.numpy(), rtol=1e-4, atol=1e-4 * jvp.abs().max().item())


def test_passes_leave_the_users_module_as_it_was(resnet, resnet_model, image):
    resnet.train()
    running = resnet.bn1.running_mean.clone()
    seen = []
    handle = resnet.layer1.register_forward_pre_hook(
        lambda m, a: seen.append((m.training, resnet.conv1.weight.requires_grad))
    )
    try:
        resnet_model.read(image, "layer3", Targets.classes([1, 2]))
        resnet_model.activations(image, "layer2")
    finally:
        handle.remove()
        mode = resnet.training
        resnet.eval()
    assert seen == [(False, False), (False, False)]  # eval mode, no weight gradients inside
    assert mode and all(p.requires_grad for p in resnet.parameters())  # and as before after
    assert all(p.grad is None for p in resnet.parameters())
    torch.testing.assert_close(resnet.bn1.running_mean, running, rtol=0, atol=0)


class Gate(torch.nn.Module):
    """Identity that holds the pass of one chosen thread until released."""

    def __init__(self) -> None:
        super().__init__()
        self.thread, self.inside, self.release = None, threading.Event(), threading.Event()

    def forward(self, x):
        if threading.get_ident() == self.thread:
            self.inside.set()
            assert self.release.wait(timeout=60)
        return x


def test_a_pass_in_another_thread_does_not_see_this_ones_hooks(image):
    # The widget renders icons in a thread while the kernel reads: each pass's hooks (a
    # stop at its layer, a swap of activations) must act in its own pass only.
    gate = Gate()
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), gate, torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 3),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3),
    )  # fmt: skip
    model = load_model(net, input_size=16)
    alone = model.read(image, "0", Targets.classes([0, 2]))
    background = {}

    def read_layer3():
        gate.thread = threading.get_ident()
        background["acts"] = model.activations(image, "3")  # hooks "3", then waits at the gate

    thread = threading.Thread(target=read_layer3)
    thread.start()
    try:
        assert gate.inside.wait(timeout=60)
        meanwhile = model.read(image, "0", Targets.classes([0, 2]))  # runs through "3"
    finally:
        gate.release.set()
        thread.join(timeout=60)
    np.testing.assert_array_equal(meanwhile.logits, alone.logits)
    np.testing.assert_array_equal(meanwhile.grads, alone.grads)
    assert background["acts"].shape == (94, 94, 4)


def test_resnet_icons_climb(resnet_model, image):
    result = neuron_groups(image, "layer3", 3, model=resnet_model, icons=False)
    scores = []
    icons = resnet_model.render_icons(
        "layer3", result.channel, SMALL_ICONS, IconHooks(progress=lambda s, o: scores.append(o))
    )
    assert icons.shape == (3, 32, 32, 3) and np.isfinite(icons).all()
    assert icons.min() >= 0 and icons.max() <= 1
    assert np.all(scores[-1] > scores[0])  # every direction's objective went up


def test_widget_and_page_take_the_module_itself(resnet, image, tmp_path):
    from neuron_groups.display.page import save_page
    from neuron_groups.display.widget import GroupWidget

    widget = GroupWidget(image, layer="layer3", n_groups=3, model=resnet, icons=False)
    assert widget.error == "" and widget.status == "ready"
    assert widget.layer == "layer3" and widget.model_name == "ResNet" and widget.n_groups == 3
    assert len(widget.class_options) == 1000 and widget.result.spatial.shape == (3, 6, 6)
    assert load_model(resnet) is load_model(resnet)  # passing the module again reuses it
    html = save_page(widget, tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == html
    assert re.search(r'"layer":\s*"layer3"', html)
    assert re.search(r'"spatial_shape":\s*\[3,\s*6,\s*6\]', html)
    assert re.search(r'"model_name":\s*"ResNet"', html)


# -- Vision Transformers ---------------------------------------------------------------------------
def test_vit_tokens_are_read_on_their_patch_grid(vit, vit_model, image):
    assert vit.num_prefix_tokens == 5 and vit_model.fixed_input_size() == (SIDE, SIDE)
    shapes = {info.name: info.shape for info in vit_model.layers()}
    assert shapes["blocks.6"] == (6, 6, 192) and shapes["blocks.6.mlp.fc1"] == (6, 6, 768)
    assert shapes["patch_embed.proj"] == (6, 6, 192) and shapes["head"] == (1000,)
    assert all(s[:2] == (6, 6) for s in shapes.values() if len(s) == 3)  # no (heads, N, d)
    assert vit_model.mean == (0.5, 0.5, 0.5)  # timm's pretrained_cfg
    tokens = {}
    handle = vit.blocks[6].register_forward_hook(lambda m, a, out: tokens.setdefault("t", out))
    try:
        acts = vit_model.activations(image, "blocks.6")
    finally:
        handle.remove()
    patches = tokens["t"][0, 5:].detach().numpy().reshape(6, 6, 192)  # prefix tokens left out
    np.testing.assert_array_equal(acts, patches)


def test_vit_pipeline_is_signed_with_attributions_checked_by_forward_mode(vit_model, image):
    assert vit_model.activations(image, "blocks.6").min() < 0
    result = neuron_groups(image, "blocks.6", 4, model=vit_model, icons=False)
    assert result.method == "SignSplitNMF"
    assert result.spatial.min() >= 0 and result.channel.min() < 0 < result.channel.max()
    assert result.attributions.shape == (5, 4)
    jvp = forward_mode_attributions(vit_model, image, "blocks.6", result)
    np.testing.assert_allclose(
        result.tables["linear"], jvp, rtol=1e-4, atol=1e-4 * np.abs(jvp).max()
    )
    icons = vit_model.render_icons("blocks.6", result.channel, SMALL_ICONS)
    assert icons.shape == (4, 32, 32, 3) and np.isfinite(icons).all()


def test_torchvision_vit_drops_its_class_token():
    from torchvision.models.vision_transformer import VisionTransformer

    torch.manual_seed(0)
    net = VisionTransformer(
        32, 8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32, num_classes=10
    )
    model = load_model(net)
    layer = "encoder.layers.encoder_layer_1"
    assert model.resolve_layer(layer).shape == (4, 4, 16) and model.fixed_input_size() == (32, 32)
    assert model.class_names == [f"class {i}" for i in range(10)]
    image = np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)
    tokens = {}
    handle = net.get_submodule(layer).register_forward_hook(
        lambda m, a, o: tokens.setdefault("t", o)
    )
    try:
        acts = model.read(image, layer, Targets.classes([3])).acts
    finally:
        handle.remove()
    np.testing.assert_array_equal(acts, tokens["t"][0, 1:].detach().numpy().reshape(4, 4, 16))


# -- bad input ---------------------------------------------------------------------------------
class Pair(torch.nn.Module):
    """Returns (logits, features): not one logits tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.fc = torch.nn.Linear(4, 5)

    def forward(self, x):
        features = self.conv(x).mean(dim=(2, 3))
        return self.fc(features), features


def small_cnn(flat_side: int | None = None) -> torch.nn.Sequential:
    """conv -> ReLU -> a head: global pooling, or (flat_side) a flatten for one size only."""
    torch.manual_seed(0)
    if flat_side is None:
        head = [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3)]
    else:
        head = [torch.nn.Flatten(), torch.nn.Linear(4 * flat_side * flat_side, 3)]
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), *head)


def test_a_module_that_is_not_a_classifier_is_refused():
    backbone = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
    with pytest.raises(ModelError, match=r"not a classifier.*\(1, 8, 222, 222\).*feature map"):
        load_model(backbone)
    with pytest.raises(ModelError, match=r"not a classifier.*tuple of 2 items.*logits alone"):
        load_model(Pair())
    with pytest.warns(UserWarning, match="sums to 1"):
        load_model(torch.nn.Sequential(small_cnn(), torch.nn.Softmax(dim=1)))


def test_input_sizes_the_model_refuses(vit, vit_model, image):
    with pytest.raises(ImageError, match=r"takes 96x96 images; got 64x64"):
        vit_model.read(image[:64, :64], "blocks.6")
    with pytest.raises(ModelError, match=r"input_size \(64, 64\).*takes 96x96 images only"):
        load_model(vit, input_size=64)
    fixed_flatten = load_model(small_cnn(flat_side=16), input_size=16)
    assert fixed_flatten.logits(image[:16, :16]).shape == (3,)
    with pytest.raises(ImageError, match=r"could not run on a 20x20 image .* runs at 16x16"):
        fixed_flatten.read(image[:20, :20], "1", Targets.classes([0]))
    with pytest.raises(ModelError, match=r"could not run on a 224x224 probe.*input_size="):
        load_model(small_cnn(flat_side=16))


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", r"no 'cuda' device.*Devices here: cpu"),
        ("cuda:1", r"no 'cuda:1' device.*Devices here: cpu"),
        ("mps", r"no 'mps' device.*Devices here: cpu"),
        ("tpu", r"'tpu' is not a PyTorch device.*Devices here: cpu"),
    ],
)
def test_a_device_the_machine_lacks(device, message, monkeypatch):
    # A machine with only a CPU, wherever the test runs.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ModelError, match=message):
        load_model(small_cnn(), device=device)


def test_the_models_device_is_used():
    net = small_cnn()
    model = load_model(net, device="cpu")
    assert model.device == torch.device("cpu")
    with torch.device("meta"):
        unloaded = small_cnn()
    with pytest.raises(ModelError, match="'meta' device"):
        load_model(unloaded)


def test_bad_options(resnet):
    net = small_cnn()
    with pytest.raises(ModelError, match="2 entries for 3 logits"):
        load_model(net, class_names=["a", "b"])
    with pytest.raises(ModelError, match=r"logits_layer cannot be set for a PyTorch module"):
        load_model(net, logits_layer="2")
    with pytest.raises(ModelError, match="mean is 3 numbers"):
        load_model(net, mean=(0.5, 0.5))
    with pytest.raises(ModelError, match="value_range needs finite low < high"):
        load_model(net, value_range=(1, 0))
    named = load_model(net, class_names=["cat", "dog", "car"], mean=(0, 0, 0), std=(1, 1, 1))
    assert named.class_names == ["cat", "dog", "car"] and named.std == (1.0, 1.0, 1.0)
    assert isinstance(named, TorchModuleModel) and named is not load_model(net)


def test_other_objects_are_refused_without_importing_torch():
    code = (
        "import sys\n"
        "from neuron_groups.models import load_model\n"
        "from neuron_groups.errors import ModelError\n"
        "try:\n"
        "    load_model(object())\n"
        "except ModelError as exc:\n"
        "    assert 'torch.nn.Module' in str(exc), exc\n"
        "assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
