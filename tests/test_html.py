"""The standalone page and the static view, without a browser: structure, escaping, size."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from tests import fakes

from neuron_groups import html as pages
from neuron_groups.export import static_fallback, widget_mimebundle
from neuron_groups.result import NeuronGroupsResult

EVIL_CLASS = "</script><img src=x onerror=alert(1)>"
EVIL_TITLE = "Dog & <b>cat</b></title><!-- <script>"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def fake_result(n=3, classes=("tabby", EVIL_CLASS), icons=False, seed=0) -> NeuronGroupsResult:
    return fakes.fake_result(n, classes, icons, seed)


class Elements(HTMLParser):
    """Every start tag, and the text of each <script> / <title> / <noscript> element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "title", "style"):
            self._open.append(tag)
            self.texts.setdefault(tag, []).append("")

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            self.texts[self._open[-1]][-1] += data


def parse(text: str) -> Elements:
    parser = Elements()
    parser.feed(text)
    parser.close()
    return parser


def page_data(text: str) -> dict:
    match = re.search(r'id="neuron-groups-data">(.*?)</script>', text)
    assert match, "the page has no data block"
    return json.loads(match.group(1))


def test_page_has_exactly_its_own_elements():
    text = pages.result_html(fake_result(), title=EVIL_TITLE)
    doc = parse(text)
    scripts = [attrs for tag, attrs in doc.tags if tag == "script"]
    assert [s.get("type") for s in scripts] == ["application/json", "module"]
    # Inside the static view (noscript) the class name is text, not an <img>.
    assert not [attrs for tag, attrs in doc.tags if tag == "img" and attrs.get("src") == "x"]
    assert doc.texts["title"] == [EVIL_TITLE]
    assert "<b>" not in text and EVIL_CLASS not in text
    assert text.lower().count("</script") == 2


def test_user_strings_round_trip_through_the_data_block():
    text = pages.result_html(fake_result(), title=EVIL_TITLE)
    data = page_data(text)
    assert data["state"]["title"] == EVIL_TITLE
    assert EVIL_CLASS in data["state"]["class_names"]
    raw = re.search(r'id="neuron-groups-data">(.*?)</script>', text, re.S).group(1)
    assert not set("<>&") & set(raw), "the JSON block holds a raw <, > or &"


def test_page_needs_no_network():
    text = pages.result_html(fake_result(icons=True))
    doc = parse(text)
    for tag, attrs in doc.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value or value.startswith("data:"), f"<{tag} {name}={value[:40]}>"
    data = page_data(text)
    assert "export default" in data["esm"] and "StaticModel" in data["esm"]
    assert ".neuron-groups" in doc.texts["style"][0]
    assert not re.search(r"import\s*\(?\s*['\"]https?:", text)


def test_binary_traits_are_base64():
    result = fake_result(icons=True)
    state = page_data(pages.result_html(result))["state"]
    spatial = np.frombuffer(base64.b64decode(state["spatial"]["$base64"]), "<f4")
    assert spatial.size == result.spatial.size and state["spatial_shape"] == [3, 4, 4]
    icon = Image.open(io.BytesIO(base64.b64decode(state["icons"][0]["$base64"])))
    assert icon.size == (16, 16)


def test_every_cached_count_is_offered_and_the_current_one_not_repeated():
    results = {3: fake_result(3), 4: fake_result(4, seed=1), 5: fake_result(5, seed=2)}
    data = page_data(pages.results_html(results, 4))
    assert data["state"]["n_groups"] == 4
    assert data["state"]["n_groups_options"] == [3, 4, 5]
    assert sorted(data["variants"]) == ["3", "5"]
    assert {"spatial", "icons", "attributions", "group_colors"} <= set(data["variant_keys"])
    assert len(data["variants"]["5"]["group_colors"]) == 5
    # A single result: no variants, the control has one position.
    single = page_data(pages.result_html(fake_result()))
    assert single["variants"] == {} and single["state"]["n_groups_options"] == [3]


def test_current_count_must_be_a_result():
    with pytest.raises(ValueError, match="current=7"):
        pages.results_html({3: fake_result()}, 7)


def test_write_to_path(tmp_path):
    path = tmp_path / "page.html"
    text = pages.result_html(fake_result(), path, title="t")
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("css", "rgb"),
    [
        ("hsl(0, 80%, 50%)", (230, 25, 25)),
        ("hsl(120deg 80% 50%)", (25, 230, 25)),
        ("#1e88e5", (30, 136, 229)),
        ("nonsense", (230, 25, 25)),
    ],
)
def test_css_colors(css, rgb):
    assert pages.css_rgb(css) == rgb


def test_group_map_lightest_wins():
    spatial = np.zeros((2, 1, 2), np.float32)
    spatial[0, 0, 0], spatial[1, 0, 0] = 1.0, 0.5
    spatial[1, 0, 1] = 1.0
    out = pages.group_map(spatial, [(200, 0, 0), (0, 100, 250)])
    assert out.tolist() == [[[200, 50, 125], [0, 100, 250]]]


def test_static_view_escapes_and_shows_everything():
    result = fake_result(icons=True)
    state = pages.full_state(result, [0.0, 120.0, 240.0], [])
    state["title"] = EVIL_TITLE
    text = pages.static_html(state)
    doc = parse(text)
    assert "<b>" not in text and EVIL_CLASS not in text
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    imgs = [attrs for tag, attrs in doc.tags if tag == "img"]
    assert len(imgs) == 1 and imgs[0]["src"].startswith("data:image/jpeg;base64,")
    assert text.count("<td") == result.attributions.size
    assert f"{result.attributions[0, 0]:.3f}" in text


def test_static_image_layout():
    result = fake_result(icons=True)
    state = pages.full_state(result, [0.0, 120.0, 240.0], [])
    image = Image.open(io.BytesIO(pages.static_image(state, side=100)))
    assert image.format == "JPEG"
    assert image.size[0] == 2 * 100 + 8 and image.size[1] > 100
    assert pages.static_image({}) == b""


def widget_like(result: NeuronGroupsResult) -> SimpleNamespace:
    state = pages.full_state(result, [0.0, 120.0, 240.0], [])
    return SimpleNamespace(**state, title="x")


def test_mimebundle_keeps_the_view_and_adds_the_fallback():
    bundle = ({"text/plain": "W()", WIDGET_VIEW: {"model_id": "m"}}, {})
    data, metadata = widget_mimebundle(widget_like(fake_result()), bundle)
    assert data[WIDGET_VIEW] == {"model_id": "m"} and data["text/plain"] == "W()"
    assert data["text/html"].startswith('<div class="neuron-groups-static"')
    jpeg = base64.b64decode(data["image/jpeg"])
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    assert metadata == {}
    assert widget_mimebundle(object(), None) is None


def test_mimebundle_without_an_image_or_on_error_is_unchanged():
    bundle = ({"text/plain": "W()"}, {})
    assert widget_mimebundle(SimpleNamespace(image=b""), bundle) == bundle
    broken = SimpleNamespace(image=b"not a png")
    with pytest.warns(RuntimeWarning, match="no static fallback"):
        assert widget_mimebundle(broken, bundle) == bundle


def test_static_fallback_of_a_state():
    state = pages.full_state(fake_result(), [0.0, 120.0, 240.0], [])
    assert set(static_fallback(state)) == {"text/html", "image/jpeg"}


def test_group_widget_output_has_the_fallback():
    from neuron_groups.widget import GroupWidget

    widget = GroupWidget.from_result(fake_result())
    try:
        data, _ = widget._repr_mimebundle_()
        assert {WIDGET_VIEW, "text/plain", "text/html", "image/jpeg"} <= set(data)
    finally:
        widget.close()


@pytest.mark.slow
def test_demo_page_is_under_a_megabyte(tmp_path):
    """dog_cat, 6 groups, with icons: under 1 MB (icons are noise, PNG's worst case)."""
    from neuron_groups import neuron_groups

    result = neuron_groups("dog_cat", icons=False)
    rng = np.random.default_rng(0)
    result.icons = rng.random((result.n_groups, 80, 80, 3)).astype(np.float32)
    size = len(pages.result_html(result, tmp_path / "demo.html").encode("utf-8"))
    print(f"demo page: {size} bytes")
    assert size < 1_000_000
