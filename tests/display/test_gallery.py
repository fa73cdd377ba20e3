"""The gallery of shared groups: region crops, class effects, state, widget, page and CLI."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import PIL.Image
import pytest
import traitlets
from scipy.optimize import nnls

from neuron_groups.backends.base import IconSettings
from neuron_groups.datasets import Region, SharedGroups, TopRegions, fit_groups, load_groups
from neuron_groups.datasets.regions import CROP_SIZE, cell_box, crop_window, region_crop
from neuron_groups.datasets.sources import square_image
from neuron_groups.display import state as view
from neuron_groups.display.gallery import (
    GALLERY_FIELDS,
    GalleryState,
    GalleryWidget,
    gallery_page,
    gallery_state,
)
from neuron_groups.display.page import DATA_ID
from neuron_groups.errors import ModelError
from tests.core.test_datasets import random_images
from tests.display.test_display_state import run_js
from tests.fakes import FakeModel

TINY_ICONS = IconSettings(size=16, steps=4)


def fit(images, **options) -> SharedGroups:
    options = {"model": FakeModel(), "batch_size": 8, "progress": False, "top_k": 5, **options}
    return fit_groups(images, "conv", 4, **options)


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    return list(random_images(48))


@pytest.fixture(scope="module")
def groups(images) -> SharedGroups:
    return fit(images)


def jpeg_pixels(data: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(data)).convert("RGB"), np.float64)


# -- crops --------------------------------------------------------------------------------------


def test_a_crop_shows_its_cell_in_the_middle_third():
    image = np.zeros((224, 224, 3), np.float32)
    image[80:96, 112:128] = 1.0  # cell (5, 7) of a 14 x 14 layer: 16 pixels a cell
    crop = region_crop(image, 5, 7, (14, 14))
    assert crop.shape == (CROP_SIZE, CROP_SIZE, 3) and crop.dtype == np.uint8
    assert crop_window(5, 7, (14, 14)) == (4.0, 6.0, 7.0, 9.0)  # 3 cells, the cell in the middle
    assert cell_box(5, 7, (14, 14)) == pytest.approx((1 / 3, 1 / 3, 2 / 3, 2 / 3))
    # The white cell fills the middle third of the crop (bilinear edges aside), nothing else.
    assert np.all(crop[24:40, 24:40] == 255)
    assert np.all(crop[:19] == 0) and np.all(crop[45:] == 0)
    assert np.all(crop[:, :19] == 0) and np.all(crop[:, 45:] == 0)


def test_a_crop_at_the_border_is_shifted_inside_the_image():
    rows = np.repeat(np.arange(224, dtype=np.float32)[:, None], 224, axis=1) / 255  # (224, 224)
    image = np.stack([rows, rows.T, np.zeros_like(rows)], axis=-1)  # value = row, column
    crop = region_crop(image, 0, 13, (14, 14))
    assert crop_window(0, 13, (14, 14)) == (0.0, 11.0, 3.0, 14.0)
    assert cell_box(0, 13, (14, 14)) == pytest.approx((0, 2 / 3, 1 / 3, 1))
    # Rows 0..48 and columns 176..224, resampled: a linear ramp keeps its mean.
    assert crop[..., 0].mean() == pytest.approx(rows[:48].mean() * 255, abs=0.6)
    assert crop[..., 1].mean() == pytest.approx(rows[176:].mean() * 255, abs=0.6)


def test_each_top_region_keeps_the_crop_of_its_own_cell(groups, images):
    for regions in groups.top_regions:
        for region in regions:
            square = square_image(images[region.image_index], 224)
            expected = region_crop(square, region.y, region.x, groups.shape)
            np.testing.assert_array_equal(region.crop, expected)


def test_crops_are_bounded_like_the_heaps():
    top = TopRegions(2, capacity=3)
    rng = np.random.default_rng(0)
    for first in range(0, 40, 4):
        codes = rng.random((4, 7, 7, 2))
        rows = rng.random((4, 7, 7, 8)).astype(np.float32)
        top.push(
            codes,
            rows,
            first,
            [f"i{first + b}" for b in range(4)],
            list(rng.random((4, 224, 224, 3))),
        )
    assert [len(heap) for heap in top.heaps] == [3, 3]
    assert all(item[6].shape == (CROP_SIZE, CROP_SIZE, 3) for heap in top.heaps for item in heap)


def test_checkpoint_arrays_keep_the_crops_and_their_absence(groups):
    top = TopRegions(2, capacity=2)
    rng = np.random.default_rng(1)
    top.push(
        rng.random((1, 7, 7, 2)), rng.random((1, 7, 7, 8)), 0, ["a"], [rng.random((224, 224, 3))]
    )
    top.push(rng.random((1, 7, 7, 2)) + 1, rng.random((1, 7, 7, 8)), 1, ["b"], None)  # no pixels
    arrays = top.to_arrays("top_")
    assert all(a.dtype != object for a in arrays.values())
    back = TopRegions.from_arrays(arrays, "top_", 2, 2)
    for before, after in zip(top.heaps, back.heaps, strict=True):
        for a, b in zip(
            sorted(before, key=lambda t: t[0]), sorted(after, key=lambda t: t[0]), strict=True
        ):
            assert a[:5] == b[:5]
            if a[6] is None:
                assert b[6] is None
            else:
                np.testing.assert_array_equal(a[6], b[6])


def blocks(pixels: np.ndarray) -> np.ndarray:
    """Means of 8 x 8 blocks of a (64, 64, 3) image: what JPEG keeps even of noise."""
    return np.asarray(pixels, np.float64).reshape(8, 8, 8, 8, 3).mean(axis=(1, 3))


def test_saved_groups_keep_their_crops_as_jpeg(tmp_path, groups):
    path = groups.save(tmp_path / "groups.npz")
    with np.load(path, allow_pickle=False) as data:
        assert data["region_jpeg"].dtype == np.uint8 and data["region_jpeg_end"].shape == (20,)
    back = load_groups(path)
    for a, b in zip(groups.top_regions, back.top_regions, strict=True):
        assert a == b
        for ra, rb in zip(a, b, strict=True):
            assert rb.crop.shape == (CROP_SIZE, CROP_SIZE, 3) and rb.crop.dtype == np.uint8
            assert np.abs(blocks(ra.crop) - blocks(rb.crop)).max() < 6


# -- class effects ------------------------------------------------------------------------------


def test_class_effects_are_the_mean_attribution_over_each_groups_crops(groups):
    model = FakeModel()
    head = model.head.reshape(4, 7, 7, 8)  # d logit_k / d conv: the fake's exact gradients
    expected = []
    for g, regions in enumerate(groups.top_regions):
        total = np.zeros(4)
        for region in regions:
            conv = model._conv(region.crop.astype(np.float32) / 255).astype(np.float64)
            codes = np.array(  # (7, 7): NNLS of each cell on the full (C, n) problem
                [
                    [nnls(groups.channel.T.astype(np.float64), conv[y, x])[0][g] for x in range(7)]
                    for y in range(7)
                ]
            )
            # The fake has 4 classes, so every class is among a crop's top 5.
            total += np.einsum("khwc,hw,c->k", head, codes, groups.channel[g])
        mean = total / len(regions)
        order = np.argsort(-mean)[:3]
        expected.append([(model.class_names[k], mean[k]) for k in order if mean[k] > 0])
    effects = groups.class_effects(model)
    assert [[name for name, _ in e] for e in effects] == [[name for name, _ in e] for e in expected]
    for got, want in zip(effects, expected, strict=True):
        np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-4, atol=1e-6)
    assert any(effects)  # something is pushed


def test_class_effects_report_progress_and_can_be_stopped(groups):
    seen = []
    groups.class_effects(FakeModel(), progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 20) for i in range(1, 21)]

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        groups.class_effects(FakeModel(), progress=stop)


# -- state ---------------------------------------------------------------------------------------


def test_gallery_fields_are_the_synced_traits_and_match_the_front_end():
    synced = set(GalleryState.class_trait_names(sync=True))
    assert set(GALLERY_FIELDS) == synced and len(GALLERY_FIELDS) == len(synced)
    assert all(GalleryState.class_traits()[name].help for name in GALLERY_FIELDS)
    front_end = run_js("w.GALLERY_FIELDS")
    assert sorted(front_end) == sorted(GALLERY_FIELDS) and len(front_end) == len(set(front_end))


def test_the_gallery_widget_syncs_exactly_the_gallery_state():
    import anywidget

    own = set(GalleryWidget.class_trait_names(sync=True))
    assert own - set(anywidget.AnyWidget.class_trait_names(sync=True)) == set(GALLERY_FIELDS)


def test_gallery_state_of_shared_groups(groups):
    effects = [[("tree", 1.5)], [], [("cat", 0.25), ("dog", 0.125)], []]
    state = gallery_state(groups, title="T", effects=effects)
    assert set(state) == set(GALLERY_FIELDS)
    assert state["view"] == "gallery" and state["n_images"] == 48 and state["layer"] == "conv"
    assert state["group_colors"] == view.hue_colors(view.even_hues(4))
    assert state["icons"] == [b""] * 4 and state["progress"] == 0.0
    assert state["gallery"][2]["classes"] == [
        {"name": "cat", "value": 0.25},
        {"name": "dog", "value": 0.125},
    ]
    for g, entry in enumerate(state["gallery"]):
        assert entry["usage"] == pytest.approx(float(groups.usage[g]), abs=1e-5)
        assert len(entry["regions"]) == 5
        for sent, region in zip(entry["regions"], groups.top_regions[g], strict=True):
            assert (sent["y"], sent["x"], sent["index"]) == (region.y, region.x, region.image_index)
            assert sent["value"] == pytest.approx(region.value, abs=1e-5)
            assert sent["box"] == pytest.approx(
                list(cell_box(region.y, region.x, (7, 7))), abs=1e-5
            )
            pixels = jpeg_pixels(sent["crop"])  # JPEG: close to the crop, not exact
            assert pixels.shape == (CROP_SIZE, CROP_SIZE, 3)
            assert np.abs(blocks(pixels) - blocks(region.crop)).max() < 12
    with pytest.raises(traitlets.TraitError):
        GalleryState(gallery=[1])


def test_the_gallery_widget_measures_classes_and_streams_cached_icons(tmp_path, groups):
    model = FakeModel()
    widget = GalleryWidget(
        groups, model, icon_settings=TINY_ICONS, icon_cache=tmp_path, snapshot_every=1
    )
    assert len(widget.gallery) == 4 and all(entry["regions"] for entry in widget.gallery)
    assert widget.wait(60) and widget.status == "ready" and widget.error == ""
    assert widget.effects == groups.class_effects(FakeModel())
    assert widget.gallery[0]["classes"][0]["name"] == widget.effects[0][0][0]
    assert all(widget.icons) and widget.icon_size == 16 and model.icon_calls == 1
    # A second gallery of the same groups takes the icons from the cache.
    again = GalleryWidget(
        groups, model, classes=False, icon_settings=TINY_ICONS, icon_cache=tmp_path
    )
    assert again.wait(60) and again.icons == widget.icons and model.icon_calls == 1
    with pytest.raises(traitlets.TraitError, match=r"0\.\.3"):
        widget.selected_group = 4
    widget.selected_group = 2


def test_the_gallery_can_be_stopped_and_says_when_the_model_is_wrong(tmp_path, groups):
    slow = FakeModel(step_delay=0.05)
    widget = GalleryWidget(
        groups, slow, classes=False, icon_settings=IconSettings(size=8, steps=400), icon_cache=False
    )
    assert slow.started.wait(30)
    widget._on_message(widget, {"type": "stop"}, [])
    assert widget.wait(30) and widget.status == "stopped"
    other = FakeModel()
    other.head = other.head + 1
    wrong = GalleryWidget(groups, other, icon_cache=False)
    with pytest.raises(ModelError, match="fitted with"):
        wrong.wait(30)
    assert wrong.status == "error" and "fitted with" in wrong.error


# -- page ----------------------------------------------------------------------------------------


def page_data(text: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{DATA_ID}">(.*?)</script>', text, re.S)
    assert match
    return json.loads(match.group(1))


def test_the_gallery_page_carries_the_whole_state(tmp_path, groups):
    path = tmp_path / "gallery.html"
    text = gallery_page(groups, path, title="Fake <gallery>", effects=[[("tree", 1.0)]] * 4)
    assert path.read_text(encoding="utf-8") == text
    data = page_data(text)
    assert set(data["state"]) == set(GALLERY_FIELDS) and data["state"]["view"] == "gallery"
    assert len(data["state"]["gallery"]) == 4
    assert "$base64" in data["state"]["gallery"][0]["regions"][0]["crop"]
    assert "<title>Fake &lt;gallery&gt;</title>" in text
    assert "Group 0:" in text and "pushes tree" in text  # the <noscript> view in words


def realistic_groups(shared) -> SharedGroups:
    """8 groups x 12 regions whose crops are pieces of the example images (JPEG-realistic)."""
    from neuron_groups.images import load_image

    pictures = [load_image(p) for p in sorted((shared / "images").glob("*.png"))]
    top = []
    for g in range(8):
        regions = []
        for i in range(12):
            picture = pictures[(g * 12 + i) % len(pictures)]
            y, x = (g + i) % 14, (3 * g + i) % 14
            crop = region_crop(square_image(picture, 224), y, x, (14, 14))
            name = f"photos/retrievers/image_{g * 12 + i:05d}.jpg"
            regions.append(Region(g, 10.0 - i, g * 12 + i, name, y, x, crop))
        top.append(regions)
    return SharedGroups(
        layer="mixed4d",
        channel=np.random.default_rng(0).random((8, 528)).astype(np.float32),
        model_name="InceptionV1",
        model_identity="x",
        n_images=2000,
        skipped=[],
        top_regions=top,
        shape=(14, 14),
        usage=np.full(8, 1 / 8, np.float32),
    )


def test_a_gallery_of_8_groups_by_12_regions_is_a_small_page_and_file(tmp_path, shared):
    groups = realistic_groups(shared)
    icons = np.random.default_rng(0).random((8, 80, 80, 3)).astype(np.float32)  # noise: worst case
    effects = [[("Labrador retriever", 1.0), ("golden retriever", 0.5), ("tennis ball", 0.25)]] * 8
    size = len(gallery_page(groups, effects=effects, icons=icons).encode())
    print(f"gallery page, 8 groups x 12 regions, noise icons: {size / 1e6:.3f} MB")
    assert size < 1_000_000
    saved = groups.save(tmp_path / "groups.npz").stat().st_size
    print(f"saved groups, 8 x 12 regions with crops: {saved / 1e6:.3f} MB")
    assert saved < 1_000_000


# -- the command line (the real model, end to end) ----------------------------------------------


def test_cli_fit_writes_the_gallery_page(tmp_path, capsys, shared):
    import shutil

    from neuron_groups import cli

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("dog_cat", "flowers", "chair"):
        shutil.copy(shared / "images" / f"{name}.png", folder / f"{name}.png")
    out, page = tmp_path / "groups.npz", tmp_path / "gallery.html"
    argv = [
        "fit",
        str(folder),
        "--groups",
        "3",
        "--save",
        str(out),
        "--out",
        str(page),
        "--no-icons",
    ]
    assert cli.main(argv) == 0
    assert "Wrote the gallery" in capsys.readouterr().err
    state = page_data(page.read_text(encoding="utf-8"))["state"]
    groups = load_groups(out)
    assert state["view"] == "gallery" and state["layer"] == "mixed4d" and state["n_images"] == 3
    assert len(state["gallery"]) == 3 and state["icons"] == [{"$base64": ""}] * 3
    for g, entry in enumerate(state["gallery"]):
        assert [r["image"] for r in entry["regions"]] == [r.image for r in groups.top_regions[g]]
        assert all(c["value"] > 0 for c in entry["classes"])
    assert any(entry["classes"] for entry in state["gallery"])


def test_cli_fit_checks_the_gallery_path_before_fitting(tmp_path, capsys):
    from neuron_groups import cli

    argv = ["fit", "x.png", "--save", str(tmp_path / "g.npz"), "--out", "/no/such/folder/g.html"]
    assert cli.main(argv) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_compact_module_drops_no_code():
    """Lines starting a comment are dropped whole from pages and widgets: none may hold code."""
    from neuron_groups.display.assets import asset_text

    for number, line in enumerate(asset_text("widget.js").splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("/*") and "*/" in stripped:
            assert not stripped.split("*/", 1)[1].strip(), f"widget.js:{number}: {stripped}"
