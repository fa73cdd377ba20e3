"""The static view (HTML + JPEG), drawn straight from a result, and the widget's fallback."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import numpy as np
import PIL.Image
import pytest

import neuron_groups.display.fallback as fallback
from neuron_groups.display.state import (
    attribution_color,
    display_maps,
    even_hues,
    format_value,
    group_map,
    hue_colors,
)
from neuron_groups.display.widget import GroupWidget
from tests.fakes import fake_result

EVIL_CLASS = "</script><img src=x onerror=alert(1)>"
EVIL_TITLE = "Dog & <b>cat</b></title><!-- <script>"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
COLORS = hue_colors(even_hues(3))


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(text: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(text)
    return parser.tags


def jpeg(data: bytes) -> np.ndarray:
    image = PIL.Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return np.asarray(image.convert("RGB")).astype(int)  # (H, W, 3)


# -- the HTML ----------------------------------------------------------------------------------


def test_static_html_table_has_the_results_numbers_and_colours():
    result = fake_result(3, ("tabby", EVIL_CLASS))
    text = fallback.static_html(result, COLORS, title=EVIL_TITLE)
    max_abs = float(np.abs(result.attributions).max())
    cells = re.findall(r'<td style="[^"]*background: ([^"]*)">([^<]*)</td>', text)
    assert cells == [
        (attribution_color(v, max_abs), format_value(v))
        for v in result.attributions.ravel().tolist()
    ]
    swatches = re.findall(r"background: rgb\((\d+), (\d+), (\d+)\)\"></span> (\d)</th>", text)
    assert [[int(r), int(g), int(b)] for r, g, b, _ in swatches] == COLORS
    assert [int(j) for *_, j in swatches] == [0, 1, 2]
    rows = re.findall(r'<tr><th style="[^"]*">([^<]*)</th>', text)
    assert rows == ["Class", "tabby", "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"]


def test_static_html_escapes_and_captions():
    result = fake_result(3, ("tabby", EVIL_CLASS), top5=["a<b", "b", "c", "d", "e"])
    text = fallback.static_html(result, COLORS, title=EVIL_TITLE)
    assert "<b>" not in text and EVIL_CLASS not in text and "a<b" not in text
    assert "Dog &amp; &lt;b&gt;cat&lt;/b&gt;&lt;/title&gt;&lt;!-- &lt;script&gt;" in text
    probability = 100 * result.probabilities[result.top5_indices[0]]
    assert f"inceptionv1 · mixed4d — predicted: a&lt;b ({probability:.1f}%)" in text
    imgs = [attrs for tag, attrs in tags(text) if tag == "img"]
    assert len(imgs) == 1 and imgs[0]["src"].startswith("data:image/jpeg;base64,")
    assert "3 neuron groups" in imgs[0]["alt"]


def test_static_html_without_classes_has_no_table():
    text = fallback.static_html(fake_result(3, ()), COLORS)
    assert "<table" not in text and "<img" in text


# -- the picture --------------------------------------------------------------------------------


def test_static_image_draws_the_map_from_the_result():
    result = fake_result(3, icons=True)
    picture = jpeg(fallback.static_image(result, COLORS, side=96))
    assert picture.shape[1] == 2 * 96 + 8 and picture.shape[0] > 96
    # The map panel (right of the image): each of the 4 x 4 cells is the group map's colour.
    expected = group_map(display_maps(result.spatial), COLORS)  # (4, 4, 3)
    left = 96 + 8
    for row in range(4):
        for col in range(4):
            y, x = row * 24 + 12, left + col * 24 + 12
            assert np.abs(picture[y, x] - expected[row, col]).max() <= 24, (row, col)


def test_static_image_strips_have_the_group_colours():
    result = fake_result(3)  # no icons: a row of swatches
    picture = jpeg(fallback.static_image(result, COLORS, side=64))
    tile = min(40, (2 * 64 + 8) // 3 - 8)
    y = 64 + 8 + 3  # the middle of the strips
    for j, color in enumerate(COLORS):
        x = j * (tile + 8) + tile // 2
        assert np.abs(picture[y, x] - color).max() <= 24, j
    assert picture.shape[0] == 64 + 8 + 6


def test_static_image_shows_the_given_icons():
    result = fake_result(3, icons=True)
    black = np.zeros_like(result.icons)
    picture = jpeg(fallback.static_image(result, COLORS, icons=black, side=64))
    tile = min(80, (2 * 64 + 8) // 3 - 8)
    icon = picture[64 + 8 + 4 : 64 + 8 + tile - 4, 4 : tile - 4]
    assert icon.max() <= 24  # the snapshot, not the result's own (random) icons


def test_the_view_never_decodes_images_or_bytes(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(PIL.Image, "open", refuse)
    monkeypatch.setattr(np, "frombuffer", refuse)
    entries = fallback.static_fallback(fake_result(3, icons=True), COLORS, title="t")
    assert set(entries) == {"text/html", "image/jpeg"}
    assert entries["image/jpeg"] in entries["text/html"]


# -- in a notebook output ------------------------------------------------------------------------


def test_with_fallback_keeps_the_view_and_adds_the_static_view():
    bundle = ({"text/plain": "W()", WIDGET_VIEW: {"model_id": "m"}}, {})
    entries = {"text/html": "<div>x</div>", "image/jpeg": "abc"}
    data, metadata = fallback.with_fallback(bundle, lambda: entries)
    assert data == {**bundle[0], **entries} and metadata == {}
    assert fallback.with_fallback({"text/plain": "W()"}, lambda: entries) == {
        "text/plain": "W()",
        **entries,
    }
    assert fallback.with_fallback(None, lambda: entries) is None


def test_a_failing_fallback_is_a_warning_not_an_error():
    bundle = ({"text/plain": "W()"}, {})

    def broken():
        raise ValueError("no")

    with pytest.warns(RuntimeWarning, match=r"no static fallback \(no\)"):
        assert fallback.with_fallback(bundle, broken) == bundle


def test_group_widget_output_has_the_fallback():
    result = fake_result(3, ("tabby", EVIL_CLASS), icons=True)
    widget = GroupWidget.from_result(result, title="fallback <b>test</b>")
    try:
        data, _ = widget._repr_mimebundle_()
        assert {WIDGET_VIEW, "text/plain", "text/html", "image/jpeg"} <= set(data)
        assert data["text/plain"].startswith("GroupWidget(image 32x32, layer='mixed4d', 3 groups")
        expected = fallback.static_fallback(result, widget.group_colors, title=widget.title)
        assert data["text/html"] == expected["text/html"]
        assert base64.b64decode(data["image/jpeg"])[:2] == b"\xff\xd8"
    finally:
        widget.close()


def test_group_widget_without_a_result_has_no_fallback():
    widget = GroupWidget()
    try:
        data, _ = widget._repr_mimebundle_()
        assert WIDGET_VIEW in data and "text/html" not in data
    finally:
        widget.close()
