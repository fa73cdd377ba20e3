"""Hugging Face models straight in: ViT, DeiT, Swin, ConvNeXt, DINOv2 (registers), CLIP, SigLIP.

Every model is built from a tiny config with random, seeded weights (no download) and runs
the whole pipeline, the widget and the page. Grids are checked against each model's own
patch arithmetic; the tables, to logits and to directions in an embedding, against
forward-mode derivatives (``torch.func.jvp``): the linear table is the derivative along
each group's part, the integrated table its mean along the path from zero, the ablation
table the drop when the part is removed. 96 px images keep it quick.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from neuron_groups import load_model  # noqa: E402
from neuron_groups.attribution import Probe  # noqa: E402
from neuron_groups.backends.base import IconSettings, Targets  # noqa: E402
from neuron_groups.backends.torch import HuggingFaceModel  # noqa: E402
from neuron_groups.directions import TARGET_IMAGE, aim  # noqa: E402
from neuron_groups.errors import ClassNameError, LayerError, ModelError  # noqa: E402
from neuron_groups.pipeline import neuron_groups  # noqa: E402
from neuron_groups.reading import ImageReading  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SIDE = 96
SMALL_ICONS = IconSettings(size=32, steps=3)
TINY = {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64}
LABELS = {0: "tabby, tabby cat", 1: "dog", 2: "car", 3: "boat"}
WORDS = ["[PAD]", "[EOS]", "a", "dog", "cat", "photo", "of", "the", "car"]

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*torch.jit.script.*"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


def seeded(build):
    torch.manual_seed(0)
    return build().eval()


def other_image() -> np.ndarray:
    return np.random.default_rng(7).random((SIDE, SIDE, 3), dtype=np.float32)


# -- the models ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vit():
    config = transformers.ViTConfig(
        image_size=SIDE, patch_size=16, num_hidden_layers=2, id2label=LABELS, **TINY
    )
    return seeded(lambda: transformers.ViTForImageClassification(config))


@pytest.fixture(scope="module")
def vit_processor():
    return transformers.ViTImageProcessor(size={"height": SIDE, "width": SIDE})


@pytest.fixture(scope="module")
def deit():
    config = transformers.DeiTConfig(
        image_size=SIDE, patch_size=16, num_hidden_layers=2, num_labels=4, **TINY
    )
    return seeded(lambda: transformers.DeiTForImageClassificationWithTeacher(config))


@pytest.fixture(scope="module")
def beit():
    config = transformers.BeitConfig(
        image_size=SIDE, patch_size=16, num_hidden_layers=2, num_labels=4,
        use_relative_position_bias=True, **TINY,
    )  # fmt: skip
    return seeded(lambda: transformers.BeitForImageClassification(config))


@pytest.fixture(scope="module")
def swin():
    config = transformers.SwinConfig(
        image_size=SIDE, patch_size=4, embed_dim=16, depths=[1, 1, 2], num_heads=[1, 2, 2],
        window_size=6, num_labels=4,
    )  # fmt: skip
    return seeded(lambda: transformers.SwinForImageClassification(config))


@pytest.fixture(scope="module")
def convnext():
    config = transformers.ConvNextConfig(
        image_size=SIDE, hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1], num_labels=4
    )
    return seeded(lambda: transformers.ConvNextForImageClassification(config))


@pytest.fixture(scope="module")
def dinov2():
    """DINOv2 with 4 registers, listed at 98 px (7x7 patches of 14), read at 96 (6x6)."""
    config = transformers.Dinov2WithRegistersConfig(
        image_size=98, patch_size=14, num_hidden_layers=2, num_register_tokens=4, **TINY
    )
    return seeded(lambda: transformers.Dinov2WithRegistersModel(config))


def tiny_tokenizer(eos: bool = True):
    """A word-level tokenizer over WORDS, ending each text with [EOS] (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="of"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    if eos:
        tokenizer.post_processor = processors.TemplateProcessing(
            single="$A [EOS]", special_tokens=[("[EOS]", 1)]
        )
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]")


def tower_configs(**text) -> dict:
    return {
        "text_config": dict(num_hidden_layers=1, vocab_size=len(WORDS), **TINY, **text),
        "vision_config": dict(image_size=SIDE, patch_size=16, num_hidden_layers=2, **TINY),
    }


@pytest.fixture(scope="module")
def clip():
    text = {"eos_token_id": 1, "bos_token_id": 1, "pad_token_id": 0}
    config = transformers.CLIPConfig(**tower_configs(**text), projection_dim=24)
    return seeded(lambda: transformers.CLIPModel(config))


@pytest.fixture(scope="module")
def clip_processor():
    images = transformers.CLIPImageProcessor(
        size={"shortest_edge": SIDE}, crop_size={"height": SIDE, "width": SIDE}
    )
    return transformers.CLIPProcessor(image_processor=images, tokenizer=tiny_tokenizer())


@pytest.fixture(scope="module")
def siglip():
    text = {"max_position_embeddings": 8, "pad_token_id": 0, "eos_token_id": 1}
    return seeded(
        lambda: transformers.SiglipModel(transformers.SiglipConfig(**tower_configs(**text)))
    )


@pytest.fixture(scope="module")
def siglip_processor():
    images = transformers.SiglipImageProcessor(size={"height": SIDE, "width": SIDE})
    return transformers.SiglipProcessor(image_processor=images, tokenizer=tiny_tokenizer(False))


@pytest.fixture(scope="module")
def directions():
    rng = np.random.default_rng(3)
    return {"north": rng.normal(size=32), "east": rng.normal(size=32)}


# -- forward mode ---------------------------------------------------------------------------------
def channels_first(acts: np.ndarray) -> torch.Tensor:
    """(B, h, w, C) -> (B, C, h, w), float32, each row its own memory (for forward mode)."""
    return torch.from_numpy(np.ascontiguousarray(acts.transpose(0, 3, 1, 2), dtype=np.float32))


def along_parts(model, image, layer, acts, parts, scales) -> np.ndarray:
    """d logits / d s along each group's part at ``s * acts``, by ``torch.func.jvp``: (S, n, K)."""
    count, n = len(scales), len(parts)
    points = scales[:, None, None, None, None] * np.broadcast_to(acts, (n, *acts.shape))
    primals = channels_first(points.reshape(count * n, *acts.shape))
    tangents = channels_first(np.tile(parts, (count, 1, 1, 1)))
    images = torch.from_numpy(image.transpose(2, 0, 1)[None].copy())

    def logits(a):  # (S * n, C, h, w) -> (S * n, K)
        return model.logits_with(images, layer, a)

    # Forward mode has no rule for the fused attention kernel; its composite twin has.
    with model.frozen, sdpa_kernel(SDPBackend.MATH):
        _, derivative = torch.func.jvp(logits, (primals,), (tangents,))
    return derivative.numpy().reshape(count, n, -1)


def path_points(model, image, layer, rows) -> list[np.ndarray]:
    """The fractions s of the path at which a reading evaluates these classes' gradients."""
    taken = []
    sample = Probe._sample

    def recording(probe, fractions):
        taken.append(np.asarray(fractions, np.float64))
        return sample(probe, fractions)

    classes = [int(row) for row in rows]
    Probe._sample = recording
    try:
        ImageReading(model, image, layer, classes).class_probe(classes).path_gradient()
    finally:
        Probe._sample = sample
    return taken


def check_tables(model, image, layer, result) -> None:
    """Each table of ``result`` (its last layer) against forward mode and the model's logits."""
    acts = model.read(image, layer).acts  # (h, w, C)
    parts = np.einsum("nhw,nc->nhwc", result.spatial, result.channel)  # (n, h, w, C)
    rows = result.class_indices
    linear = along_parts(model, image, layer, acts, parts, np.ones(1))[0][:, rows].T  # (T, n)
    scale = np.abs(linear).max()
    assert scale > 0
    np.testing.assert_allclose(result.tables["linear"], linear, rtol=1e-4, atol=1e-4 * scale)
    # The integrated table: the trapezoid rule on the path from 0 to acts, at the points the
    # reading took (it adds points where the rule is off until the table and its rest add up).
    points = np.sort(np.concatenate(path_points(model, image, layer, rows)))
    widths = np.diff(points)
    weights = np.concatenate([widths, [0]]) / 2 + np.concatenate([[0], widths]) / 2
    along = along_parts(model, image, layer, acts, parts, points)  # (S, n, K)
    integrated = np.einsum("s,snk->nk", weights, along)[:, rows].T
    table = result.tables["integrated"]
    np.testing.assert_allclose(table, integrated, rtol=1e-3, atol=1e-3 * np.abs(integrated).max())
    images = torch.from_numpy(image.transpose(2, 0, 1)[None].copy())
    removed = np.minimum(acts, parts) if acts.min() >= 0 else parts
    batch = channels_first(np.concatenate([acts[None], acts[None] - removed]))
    with torch.no_grad(), model.frozen:
        values = model.logits_with(images, layer, batch).numpy()[:, rows]  # (1 + n, T)
    measured = (values[0] - values[1:]).T
    np.testing.assert_allclose(result.tables["ablation"], measured, rtol=1e-4, atol=1e-5)


def pixels(model, image: np.ndarray) -> torch.Tensor:
    """The image as the network takes it, by the model's normalization: (1, 3, H, W)."""
    rgb = torch.from_numpy(image.transpose(2, 0, 1)[None].copy())
    mean, std = (torch.tensor(v).reshape(1, 3, 1, 1) for v in (model.mean, model.std))
    return ((rgb - mean) / std).float()


def first_output(net, module: str, run) -> torch.Tensor:
    """The first tensor ``module`` of ``net`` outputs while ``run()`` runs."""
    seen = {}

    def keep(m, args, out):
        seen.setdefault("out", out if isinstance(out, torch.Tensor) else out[0])

    handle = net.get_submodule(module).register_forward_hook(keep)
    try:
        run()
    finally:
        handle.remove()
    return seen["out"].detach()


# -- classifiers ---------------------------------------------------------------------------------
def test_a_vit_classifier_goes_in_with_its_processor(vit, vit_processor, image):
    model = load_model(vit, processor=vit_processor)
    assert isinstance(model, HuggingFaceModel) and model.name == "ViTForImageClassification"
    assert model.mean == (0.5, 0.5, 0.5) and model.std == (0.5, 0.5, 0.5)  # the processor's
    assert model.fixed_input_size() == (SIDE, SIDE)  # absolute position embeddings
    grid = vit.config.image_size // vit.config.patch_size
    shapes = {info.name: info.shape for info in model.layers()}
    assert shapes["vit.layers.1"] == (grid, grid, 32) and shapes["vit.layers.1.mlp.fc1"][2] == 64
    assert shapes["vit.layers.1.attention"] == (grid, grid, 32)  # a tuple's hidden states
    assert shapes["classifier"] == (4,) and model.logits_layer == "logits"
    assert model.class_names == ["tabby", "dog", "car", "boat"]  # config.id2label
    assert model.class_synonyms[0] == ("tabby", "tabby cat")
    acts = model.activations(image, "vit.layers.1")
    hooked = first_output(vit, "vit.layers.1", lambda: model.logits(image))
    np.testing.assert_array_equal(acts, hooked[0, 1:].numpy().reshape(grid, grid, 32))
    with torch.no_grad():
        logits = vit(pixel_values=pixels(model, image)).logits[0].numpy()
    np.testing.assert_allclose(model.logits(image), logits, rtol=1e-5, atol=1e-5)


def test_vit_tables_checked_by_forward_mode(vit, vit_processor, image):
    model = load_model(vit, processor=vit_processor)
    result = neuron_groups(image, "vit.layers.0", 3, ["tabby cat", "dog"], model=model, icons=False)
    assert result.classes == ["tabby", "dog"] and result.method == "SignSplitNMF"
    check_tables(model, image, "vit.layers.0", result)


def test_deit_leaves_out_its_class_and_distillation_tokens(deit, image):
    model = load_model(deit)  # DeiT checkpoints use ImageNet's normalization
    assert model.mean == (0.485, 0.456, 0.406) and model.geometry.prefix == 2
    acts = model.activations(image, "deit.layers.1")
    hooked = first_output(deit, "deit.layers.1", lambda: model.logits(image))
    np.testing.assert_array_equal(acts, hooked[0, 2:].numpy().reshape(6, 6, 32))
    result = neuron_groups(image, "deit.layers.0", 3, [0, 3], model=model, icons=False)
    check_tables(model, image, "deit.layers.0", result)


def test_swin_stages_are_read_on_their_own_grids(swin, image):
    model = load_model(swin)
    rows, cols = swin.swin.embeddings.patch_grid  # the image in 4-pixel patches: 24x24
    for i, stage in enumerate(swin.swin.encoder.layers):
        h, w = stage.blocks[0].input_resolution  # the patch grid halved at each stage
        dim = swin.config.embed_dim * 2**i
        if stage.downsample is not None:  # merges 2x2 patches at its end
            h, w, dim = -(-h // 2), -(-w // 2), 2 * dim
        assert model.resolve_layer(f"swin.encoder.layers.{i}").shape == (h, w, dim)
    hooked = first_output(swin, "swin.encoder.layers.1.blocks.0", lambda: model.logits(image))
    acts = model.activations(image, "swin.encoder.layers.1.blocks.0")  # (12, 12, 32)
    np.testing.assert_array_equal(acts, hooked[0].numpy().reshape(rows // 2, cols // 2, 32))
    names = [info.name for info in model.layers()]
    assert "swin.encoder.layers.0.blocks.0.attention.q_proj" not in names  # 16 windows: no image
    result = neuron_groups(image, "swin.encoder.layers.1.blocks.0", 3, model=model, icons=False)
    check_tables(model, image, "swin.encoder.layers.1.blocks.0", result)


def test_convnext_channels_last_outputs_are_read_on_the_right_axes(convnext, image):
    model = load_model(convnext)
    for stage in range(4):
        side = SIDE // convnext.config.patch_size // 2**stage  # the stem, then a 2x2 stride each
        width = convnext.config.hidden_sizes[stage]
        block = f"convnext.encoder.stages.{stage}.layers.0"
        assert model.resolve_layer(f"{block}.dwconv").shape == (side, side, width)  # (B, C, H, W)
        assert model.resolve_layer(f"{block}.pwconv1").shape == (
            side,
            side,
            4 * width,
        )  # (B, H, W, C)
    layer = "convnext.encoder.stages.1.layers.0.pwconv2"
    hooked = first_output(convnext, layer, lambda: model.logits(image))
    np.testing.assert_array_equal(model.activations(image, layer), hooked[0].numpy())
    result = neuron_groups(image, layer, 3, model=model, icons=False)  # swapped channels-last
    assert result.spatial.shape == (3, 12, 12) and result.channel.shape == (3, 16)
    check_tables(model, image, layer, result)


# -- models without a classifier ------------------------------------------------------------------
def test_dinov2_is_an_embedding_model_with_register_tokens(dinov2, image):
    model = load_model(dinov2)
    assert model.embedding_size == 32 and model.class_names == [] and model.n_classes == 0
    assert model.geometry.prefix == 1 + dinov2.config.num_register_tokens
    listed = dinov2.config.image_size // dinov2.config.patch_size  # 98 // 14
    assert model.resolve_layer("encoder.layer.1").shape == (listed, listed, 32)
    side = SIDE // dinov2.config.patch_size  # 96 // 14: DINOv2 takes any size
    acts = model.activations(image, "encoder.layer.1")
    hooked = first_output(dinov2, "encoder.layer.1", lambda: model.embed(image))
    np.testing.assert_array_equal(acts, hooked[0, 5:].numpy().reshape(side, side, 32))
    with torch.no_grad():
        pooled = dinov2(pixel_values=pixels(model, image)).pooler_output[0].numpy()
    np.testing.assert_allclose(model.embed(image), pooled, rtol=1e-5, atol=1e-5)
    empty = neuron_groups(image, "encoder.layer.0", 2, model=model, icons=False)
    assert empty.classes == [] and empty.attributions.shape == (0, 2)  # groups, no targets


def test_dinov2_directions_checked_by_forward_mode(dinov2, directions, image):
    model = load_model(dinov2)
    aimed, classes = aim(model, directions)
    assert classes == ["north", "east"] and aimed.class_names == classes and model.n_classes == 0
    units = np.stack([v / np.linalg.norm(v) for v in directions.values()])
    np.testing.assert_allclose(
        aimed.logits(image), units @ model.embed(image), rtol=1e-5, atol=1e-5
    )
    result = neuron_groups(image, "encoder.layer.0", 3, directions, model=dinov2, icons=False)
    assert result.classes == ["north", "east"]
    np.testing.assert_allclose(result.logits, aimed.logits(image), rtol=1e-6)
    check_tables(aimed, image, "encoder.layer.0", result)


def test_target_image_is_the_other_images_embedding(dinov2, image):
    model = load_model(dinov2)
    other = other_image()
    result = neuron_groups(
        image, "encoder.layer.0", 3, model=dinov2, target_image=other, icons=False
    )
    assert result.classes == [TARGET_IMAGE]
    target = model.embed(other)
    expected = model.embed(image) @ target / np.linalg.norm(target)
    np.testing.assert_allclose(result.logits, [expected], rtol=1e-5)
    alike, _ = aim(model, None, image)  # an image toward itself: its embedding's norm
    np.testing.assert_allclose(alike.logits(image), [np.linalg.norm(model.embed(image))], rtol=1e-5)


def test_clip_text_classes_go_through_its_text_tower(clip, clip_processor, image):
    model = load_model(clip, processor=clip_processor)
    assert model.dual and model.embedding_size == clip.config.projection_dim
    names = [info.name for info in model.layers()]
    assert "vision_model.encoder.layers.1" in names and "visual_projection" in names
    assert not any(name.startswith("text_model") for name in names)
    texts = ["a dog", "a photo of a cat", "the car"]
    tokens = clip_processor.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = clip.get_text_features(**tokens).pooler_output.numpy()
        features = clip.get_image_features(pixel_values=pixels(model, image)).pooler_output[0]
    assert model.mean == tuple(clip_processor.image_processor.image_mean)
    np.testing.assert_allclose(model.embed(image), features.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.embed_texts(texts), expected, rtol=1e-5, atol=1e-6)
    aimed, classes = aim(model, texts)
    assert classes == texts
    features = features.numpy()
    cosine = expected @ features / np.linalg.norm(expected, axis=1) / np.linalg.norm(features)
    logits = aimed.logits(image)  # each text's component: ranked as by cosine similarity
    np.testing.assert_allclose(logits / np.linalg.norm(features), cosine, rtol=1e-5, atol=1e-6)
    layer = "vision_model.encoder.layers.0"
    result = neuron_groups(
        image, layer, 3, texts, model=clip, processor=clip_processor, icons=False
    )
    assert result.classes == texts
    check_tables(aimed, image, layer, result)


def test_siglip_has_no_class_token(siglip, siglip_processor, image):
    model = load_model(siglip, processor=siglip_processor)
    assert model.geometry.prefix == 0 and model.mean == (0.5, 0.5, 0.5)
    acts = model.activations(image, "vision_model.encoder.layers.1")
    hooked = first_output(siglip, "vision_model.encoder.layers.1", lambda: model.embed(image))
    np.testing.assert_array_equal(acts, hooked[0].numpy().reshape(6, 6, 32))  # every token
    with torch.no_grad():
        pooled = siglip.get_image_features(pixel_values=pixels(model, image)).pooler_output[0]
    np.testing.assert_allclose(model.embed(image), pooled.numpy(), rtol=1e-5, atol=1e-6)
    texts = model.embed_texts(["a dog", "a cat"])  # padded to the full length, as trained
    assert texts.shape == (2, 32) and not np.allclose(texts[0], texts[1])


# -- the whole path: pipeline, widget, page ------------------------------------------------------
CASES = {
    "vit": ("vit.layers.0", {"processor": "vit_processor"}),
    "deit": ("deit.layers.0", {}),
    "beit": ("beit.layers.1", {"processor": "vit_processor"}),
    "swin": ("swin.encoder.layers.0", {}),
    "convnext": ("convnext.encoder.stages.2", {}),
    "dinov2": ("encoder.layer.0", {"classes": "directions"}),
    "clip": ("vision_model.encoder.layers.0", {"processor": "clip_processor"}),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_model_through_the_pipeline_the_widget_and_the_page(kind, image, request, tmp_path):
    from neuron_groups.display.page import save_page
    from neuron_groups.display.widget import GroupWidget

    layer, fixtures = CASES[kind]
    options = {key: request.getfixturevalue(name) for key, name in fixtures.items()}
    if kind == "clip":
        options["classes"] = ["a dog", "a cat"]
        options["target_image"] = other_image()
    elif kind != "dinov2":
        options["classes"] = [1, 2]
    net = request.getfixturevalue(kind)
    result = neuron_groups(image, layer, 3, model=net, icons=False, **options)
    model = load_model(net, processor=options.get("processor"))
    h, w, channels = model.activations(image, layer).shape
    assert result.spatial.shape == (3, h, w) and result.channel.shape == (3, channels)
    assert result.last.explained_variance_by_k is not None and result.last.stability is not None
    widget = GroupWidget(image, layer, 3, model=net, icons=False, **options)
    try:
        assert widget.error == "" and widget.status == "ready", widget.error
        assert widget.class_names == list(result.classes) and len(result.classes) >= 2
        np.testing.assert_allclose(widget.result.attributions, result.attributions, rtol=1e-5)
        shown = widget.class_names[-1]
        if kind in ("dinov2", "clip"):  # the picker offers the directions' names
            assert widget.class_options == list(result.classes)
        widget.classes = [shown]
        assert widget.error == "" and widget.result.classes == [shown]
        html = save_page(widget, tmp_path / "page.html")
        assert re.search(rf'"class_names":\s*\[\s*"{re.escape(shown)}"\s*\]', html)
        data, _ = widget._repr_mimebundle_()
        assert f">{shown}</th>" in data["text/html"]  # the static fallback's table
    finally:
        widget.close()


def test_the_picker_refuses_a_name_no_direction_has(dinov2, directions, image):
    from neuron_groups.display.widget import GroupWidget

    widget = GroupWidget(image, "encoder.layer.0", 2, directions, model=dinov2, icons=False)
    try:
        widget.classes = ["nroth"]
        assert "Unknown class 'nroth'" in widget.error and "Did you mean 'north'" in widget.error
        assert widget.classes == ["north", "east"]  # put back
    finally:
        widget.close()


def test_icons_of_a_fixed_size_vit(vit, vit_processor, image):
    model = load_model(vit, processor=vit_processor)
    result = neuron_groups(image, "vit.layers.1", 2, model=model, steps=3, icon_cache=False)
    icons = result.icons
    assert icons is not None and icons.shape[0] == 2 and np.isfinite(icons).all()
    small = model.render_icons("vit.layers.1", result.channel, SMALL_ICONS)  # resized to 96
    assert small.shape == (2, 32, 32, 3) and small.min() >= 0 and small.max() <= 1


# -- bad input ------------------------------------------------------------------------------------
def test_a_model_without_its_normalization_names_the_argument(vit, clip):
    with pytest.raises(ModelError, match=r"processor=AutoImageProcessor\.from_pretrained\("):
        load_model(vit)
    with pytest.raises(ModelError, match=r"processor=AutoProcessor\.from_pretrained\("):
        load_model(clip)
    given = load_model(vit, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert given.mean == (0.5, 0.5, 0.5)


def test_errors_name_what_was_wrong(vit, vit_processor, dinov2, clip, clip_processor, image):
    model = load_model(dinov2)
    with pytest.raises(ClassNameError, match=r"'north' has 5 numbers, but the embedding .* has 32"):
        aim(model, {"north": np.ones(5)})
    with pytest.raises(LayerError, match=r"Did you mean 'encoder\.layer\.0'"):
        neuron_groups(image, "encoder.layr.0", 2, model=dinov2, icons=False)
    with pytest.raises(ClassNameError, match=r"no text tower to embed \['a dog'\]"):
        neuron_groups(image, "encoder.layer.0", 2, ["a dog"], model=dinov2, icons=False)
    images_only = clip_processor.image_processor
    with pytest.raises(ClassNameError, match=r"tokenizer, which was not given.*AutoProcessor"):
        aim(load_model(clip, processor=images_only), ["a dog"])
    classifier = load_model(vit, processor=vit_processor)
    with pytest.raises(ClassNameError, match=r"is a classifier.*classes=\{name: vector\}"):
        aim(classifier, {"north": np.ones(32)})
    with pytest.raises(ModelError, match=r"is a classifier.*target_image="):
        aim(classifier, None, image)
    with pytest.raises(ModelError, match=r"no field 'image_embedz'.*pooler_output \(1, 32\)"):
        load_model(dinov2, output="image_embedz")
    with pytest.raises(ModelError, match=r"no classifier, so no class names"):
        load_model(dinov2, class_names=["a"])
    with pytest.raises(ModelError, match=r"processor cannot be set for a PyTorch module"):
        load_model(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), processor=vit_processor)


def test_an_embedding_named_by_the_user(dinov2, image):
    with pytest.raises(ModelError, match=r"is \(1, 54, 32\); an embedding is one vector"):
        load_model(dinov2, output="last_hidden_state")  # 5 + 7 * 7 tokens at 98 px
    tokens_mean = load_model(dinov2, output=lambda out: out.last_hidden_state[:, 5:].mean(1))
    hooked = first_output(dinov2, "layernorm", lambda: tokens_mean.embed(image))
    np.testing.assert_allclose(tokens_mean.embed(image), hooked[0, 5:].mean(0).numpy(), rtol=1e-5)


# -- any module: channels-last outputs ----------------------------------------------------------
class ChannelsLastCube(torch.nn.Module):
    """A patchify to (B, 8, 8, 8), then a channels-last linear layer: every side alike."""

    def __init__(self) -> None:
        super().__init__()
        self.patchify = torch.nn.Conv2d(3, 8, 4, stride=4)
        self.mix = torch.nn.Linear(8, 8)
        self.head = torch.nn.Linear(8, 3)

    def forward(self, x):
        x = self.patchify(x).permute(0, 2, 3, 1)  # (B, H, W, C)
        x = self.mix(x)
        return self.head(x.mean(dim=(1, 2)))


def test_channels_last_outputs_of_any_module(image):
    pytest.importorskip("timm")
    from timm.models.convnext import ConvNeXt

    net = seeded(lambda: ConvNeXt(depths=(1, 1, 1, 1), dims=(8, 16, 24, 32), num_classes=3))
    assert net.stages[0].blocks[0].use_conv_mlp is False  # its MLP runs on (B, H, W, C)
    model = load_model(net, input_size=64)
    layer = "stages.0.blocks.0.mlp.fc1"
    assert model.resolve_layer(layer).shape == (16, 16, 32)
    assert model.resolve_layer("stages.0.blocks.0.conv_dw").shape == (16, 16, 8)
    small = np.ascontiguousarray(image[:64, :64])
    hooked = first_output(net, layer, lambda: model.logits(small))
    np.testing.assert_array_equal(model.activations(small, layer), hooked[0].numpy())
    cube = seeded(ChannelsLastCube)
    cubic = load_model(cube, input_size=32)  # a second, wider pass tells the axes apart
    assert (
        cubic.resolve_layer("mix").shape == (8, 8, 8) and cubic._layouts["mix"].kind == "map_last"
    )
    hooked = first_output(cube, "mix", lambda: cubic.logits(image[:32, :32]))
    np.testing.assert_array_equal(cubic.activations(image[:32, :32], "mix"), hooked[0].numpy())
    reading = cubic.read(image[:32, :32], "mix", Targets.classes([0, 2]))
    assert reading.grads.shape == (2, 8, 8, 8)


def test_transformers_is_not_imported_for_other_models():
    code = (
        "import sys, torch\n"
        "from neuron_groups.models import load_model\n"
        "net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1),\n"
        "                          torch.nn.Flatten(), torch.nn.Linear(4, 3))\n"
        "load_model(net, input_size=16)\n"
        "assert 'transformers' not in sys.modules, 'transformers was imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
