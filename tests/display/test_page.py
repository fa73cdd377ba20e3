"""The standalone page without a browser: what it holds, its escaping, its loader, its size."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from neuron_groups.display import page as pages
from neuron_groups.display.assets import compact_text
from neuron_groups.display.state import (
    FIELDS,
    GROUP_FIELDS,
    attribution_color,
    display_maps,
    even_hues,
    format_value,
    hue_colors,
    predictions,
    stable_hues,
)
from neuron_groups.display.widget import GroupWidget
from tests.fakes import FakeModel, fake_result

EVIL_CLASS = "</script><img src=x onerror=alert(1)>"
EVIL_TITLE = "Dog & <b>cat</b></title><!-- <script>"


def evil_result(n=3, icons=False, seed=0):
    return fake_result(n, ("tabby", EVIL_CLASS), icons, seed)


class Elements(HTMLParser):
    """Every start tag, and the text of each <script> / <title> / <style> element."""

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


def raw_data(text: str) -> str:
    match = re.search(r'id="neuron-groups-data">(.*?)</script>', text, re.S)
    assert match, "the page has no data block"
    return match.group(1)


def page_data(text: str) -> dict:
    return json.loads(raw_data(text))


def unb64(value: dict) -> bytes:
    assert set(value) == {"$base64"}
    return base64.b64decode(value["$base64"])


def floats(value: dict, shape) -> np.ndarray:
    return np.frombuffer(unb64(value), "<f4").reshape(shape)


# -- the data block ---------------------------------------------------------------------------


def test_page_state_holds_the_result():
    result = evil_result(icons=True)
    data = page_data(pages.save_page(result, title="A title"))
    assert set(data) == {"esm", "state", "variants"}
    state = data["state"]
    assert set(state) == set(FIELDS)
    np.testing.assert_array_equal(
        floats(state["spatial"], state["spatial_shape"]), display_maps(result.spatial)
    )
    assert state["spatial_shape"] == [3, 4, 4]
    np.testing.assert_array_equal(floats(state["attributions"], (2, 3)), result.attributions)
    assert state["class_names"] == ["tabby", EVIL_CLASS]
    assert state["classes"] == ["tabby", EVIL_CLASS]  # not the top 5: the chips show them
    assert state["group_colors"] == hue_colors(even_hues(3))
    assert state["predictions"] == predictions(result)
    assert state["n_groups"] == 3 and state["n_groups_options"] == [3]
    assert state["status"] == "ready" and state["error"] == "" and state["progress"] == 1.0
    assert state["title"] == "A title" and state["layer"] == "mixed4d"
    assert state["class_options"] == [] and state["selected_group"] == -1
    image = Image.open(io.BytesIO(unb64(state["image"])))
    assert image.size == (32, 32)
    icon = Image.open(io.BytesIO(unb64(state["icons"][0])))
    assert icon.size == (16, 16) and state["icon_size"] == 16
    assert data["variants"] == {}  # one count: nothing else to switch to


def test_top_five_attributed_reads_as_no_classes():
    result = fake_result(classes=[f"class {i}" for i in range(5)])
    state = page_data(pages.save_page(result))["state"]
    assert state["classes"] == [] and state["progress"] == 0.0


def test_the_esm_is_the_front_end_module():
    data = page_data(pages.save_page(fake_result()))
    assert data["esm"] == compact_text("widget.js")
    exported = re.search(r"^export \{([^}]*)\};$", data["esm"], flags=re.MULTILINE)
    assert exported and "mountPage" in [name.strip() for name in exported.group(1).split(",")]


def test_every_cached_count_is_a_variant_and_the_current_one_not_repeated():
    results = {3: fake_result(3), 4: fake_result(4, seed=1), 5: fake_result(5, seed=2)}
    data = page_data(pages.result_page(results[4], variants=[results[3], results[4], results[5]]))
    assert data["state"]["n_groups"] == 4
    assert data["state"]["n_groups_options"] == [3, 4, 5]
    assert sorted(data["variants"]) == ["3", "5"]
    for n in (3, 5):
        variant = data["variants"][str(n)]
        assert set(variant) == set(GROUP_FIELDS) and variant["n_groups"] == n
        np.testing.assert_array_equal(
            floats(variant["attributions"], (2, n)), results[n].attributions
        )
    # Colours: the count shown first gets even hues, the others keep its colours where they can.
    first = even_hues(4)
    assert data["state"]["group_colors"] == hue_colors(first)
    expected = stable_hues(results[3].channel, results[4].channel, first)
    assert data["variants"]["3"]["group_colors"] == hue_colors(expected)


def test_non_contiguous_counts_are_offered_as_they_are():
    results = {2: fake_result(2), 6: fake_result(6, seed=1)}
    state = page_data(pages.result_page(results[6], variants=[results[2]], selected_group=9))
    assert state["state"]["n_groups_options"] == [2, 6] and state["state"]["selected_group"] == -1


def test_a_page_of_several_layers_has_no_count_variants():
    layers = fake_layers()
    other = fake_layers(counts=(3, 2))
    with pytest.raises(ValueError, match="several layers \\(conv, conv2\\) has no count variants"):
        pages.result_page(layers, variants=[other])
    assert page_data(pages.result_page(layers, variants=[layers]))["variants"] == {}


# -- structure and escaping -----------------------------------------------------------------------


def test_page_has_exactly_its_own_elements():
    text = pages.save_page(evil_result(), title=EVIL_TITLE)
    doc = parse(text)
    scripts = [attrs for tag, attrs in doc.tags if tag == "script"]
    assert [s.get("type") for s in scripts] == ["application/json", "module"]
    # Inside the static view (noscript) the class name is text, not an <img>.
    assert not [attrs for tag, attrs in doc.tags if tag == "img" and attrs.get("src") == "x"]
    assert doc.texts["title"] == [EVIL_TITLE]
    assert "<b>" not in text and EVIL_CLASS not in text
    assert text.lower().count("</script") == 2


def test_the_loader_only_parses_imports_and_mounts():
    text = pages.save_page(fake_result())
    loader = parse(text).texts["script"][1]
    statements = [line.strip() for line in loader.strip().splitlines()]
    body = statements[statements.index("try {") + 1 : statements.index("} catch (err) {")]
    assert len(body) == 5
    assert "JSON.parse(" in body[0] and "createObjectURL(new Blob([data.esm]" in body[1]
    assert body[2] == "const { mountPage } = await import(url);"
    assert body[4] == "await mountPage(root, data);"
    # The catch only says that loading failed (mountPage reports its own errors).
    handler = statements[statements.index("} catch (err) {") + 1 :]
    assert len(handler) <= 7 and "could not be shown" in " ".join(handler)
    assert "{{" not in text.replace(raw_data(text), "")  # no doubled braces left over


def test_user_strings_round_trip_through_the_data_block():
    text = pages.save_page(evil_result(), title=EVIL_TITLE)
    data = page_data(text)
    assert data["state"]["title"] == EVIL_TITLE
    assert EVIL_CLASS in data["state"]["class_names"]
    assert not set("<>&") & set(raw_data(text)), "the JSON block holds a raw <, > or &"


def test_page_needs_no_network():
    text = pages.save_page(fake_result(icons=True))
    doc = parse(text)
    for tag, attrs in doc.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value or value.startswith("data:"), f"<{tag} {name}={value[:40]}>"
    assert ".neuron-groups" in doc.texts["style"][0]
    assert not re.search(r"import\s*\(?\s*['\"]https?:", text)


def test_the_static_view_is_in_noscript():
    result = evil_result()
    text = pages.save_page(result)
    noscript = re.search(r"<noscript>(.*?)</noscript>", text, re.S).group(1)
    max_abs = float(np.abs(result.attributions).max())
    cells = re.findall(r'<td style="[^"]*background: ([^"]*)">([^<]*)</td>', noscript)
    expected = [
        (attribution_color(v, max_abs), format_value(v))
        for v in result.attributions.ravel().tolist()
    ]
    assert cells == expected
    assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in noscript


def test_write_to_path(tmp_path):
    path = tmp_path / "page.html"
    text = pages.save_page(fake_result(), path, title="t")
    assert path.read_text(encoding="utf-8") == text


# -- a widget's page -------------------------------------------------------------------------------


def test_widget_page_has_every_count_explored(tmp_path):
    image = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
    w = GroupWidget(image, "conv", 3, ["dog"], FakeModel(), icons=False, title="mine")
    w.n_groups = 5
    w.n_groups = 2
    w.selected_group = 1
    path = w.save_html(tmp_path / "w.html")
    data = page_data(path.read_text(encoding="utf-8"))
    state = data["state"]
    assert state["n_groups"] == 2 and state["n_groups_options"] == [2, 3, 5]
    assert state["title"] == "mine" and state["selected_group"] == 1
    assert state["group_colors"] == w.group_colors
    hues = w.group_hues()
    assert data["variants"]["5"]["group_colors"] == hue_colors(hues[5])
    assert data["variants"]["3"]["class_names"] == ["dog"]
    other = page_data(pages.save_page(w, title="other"))["state"]
    assert other["title"] == "other"


def test_widget_without_a_result_has_no_page():
    with pytest.raises(ValueError, match="no result"):
        pages.save_page(GroupWidget())


@pytest.mark.slow
def test_demo_page_is_under_a_megabyte(tmp_path):
    """dog_cat, 6 groups, with icons: under 1 MB (icons are noise, PNG's worst case)."""
    from neuron_groups import neuron_groups

    result = neuron_groups("dog_cat", icons=False)
    rng = np.random.default_rng(0)
    result.icons = rng.random((result.n_groups, 80, 80, 3)).astype(np.float32)
    size = len(pages.save_page(result, tmp_path / "demo.html").encode("utf-8"))
    print(f"demo page: {size} bytes")
    assert size < 1_000_000


# -- several layers ----------------------------------------------------------------------------


def fake_layers(counts=(3, 4), icons=False):
    from neuron_groups.reading import ImageReading

    image = np.random.default_rng(2).random((56, 56, 3)).astype(np.float32)
    result = ImageReading(FakeModel(), image, ["conv", "conv2"]).analyze(list(counts), ["dog"])
    if icons:
        for n, layer in zip(counts, result.layers, strict=True):
            result.groups[layer].icons = np.random.default_rng(n).random((n, 16, 16, 3))
    return result


def test_a_multi_layer_page_carries_every_layer_and_the_flows():
    layers = fake_layers(icons=True)
    text = pages.save_page(layers, title="flows")
    data = page_data(text)
    state = data["state"]
    assert set(state) == set(FIELDS) and data["variants"] == {}
    assert state["layer"] == "conv2" and state["n_groups"] == 4 and state["layer_groups"] == [3, 4]
    assert state["n_groups_options"] == [4] and state["class_names"] == ["dog"]
    (entry,) = state["earlier_layers"]
    assert entry["layer"] == "conv" and entry["n_groups_options"] == [3]
    np.testing.assert_array_equal(
        floats(entry["spatial"], entry["spatial_shape"]),
        display_maps(layers.groups["conv"].spatial),
    )
    assert entry["group_colors"] == hue_colors(even_hues(3))
    assert Image.open(io.BytesIO(unb64(entry["icons"][2]))).size == (16, 16)
    (flow,) = state["flows"]
    assert (flow["from"], flow["to"], flow["shape"]) == ("conv", "conv2", [3, 4])
    np.testing.assert_array_equal(floats(flow["values"], (3, 4)), layers.flows[("conv", "conv2")])
    noscript = re.search(r"<noscript>(.*?)</noscript>", text, re.S).group(1)
    assert "Left to right: the image, conv (3 groups), conv2 (4 groups)" in noscript
    assert noscript.count("<td") == 4  # the last layer's table: 1 class x 4 groups


def test_a_one_layer_page_has_empty_layer_fields():
    state = page_data(pages.save_page(fake_result()))["state"]
    assert state["earlier_layers"] == [] and state["flows"] == [] and state["layer_groups"] == []
    assert state["selected_layer"] == "" and state["image_options"] == []


def test_a_multi_layer_widget_page_keeps_its_pin_and_colours(tmp_path):
    image = np.random.default_rng(1).random((56, 56, 3)).astype(np.float32)
    w = GroupWidget(image, ["conv", "conv2"], [3, 4], ["dog"], FakeModel(), icons=False)
    w.layer_groups = [2, 4]
    w.layer_groups = [3, 4]
    w.select("conv", 2)
    state = page_data(w.save_html(tmp_path / "w.html").read_text(encoding="utf-8"))["state"]
    assert (state["selected_layer"], state["selected_group"]) == ("conv", 2)
    assert state["earlier_layers"][0]["group_colors"] == w.earlier_layers[0]["group_colors"]
    assert state["group_colors"] == w.group_colors and state["layer_groups"] == [3, 4]
    unpinned = page_data(pages.result_page(w.result, selected_layer="conv", selected_group=7))
    assert unpinned["state"]["selected_group"] == -1 and unpinned["state"]["selected_layer"] == ""


@pytest.mark.slow
def test_layers_demo_page_is_under_a_megabyte(tmp_path):
    """dog_cat, mixed4a (5) -> mixed4d (6), with noise icons of the real size, under 1 MB."""
    from neuron_groups import neuron_groups

    result = neuron_groups(
        "dog_cat",
        ["mixed4a", "mixed4d"],
        [5, 6],
        ["Labrador retriever", "tiger cat"],
        icons=False,
    )
    rng = np.random.default_rng(0)
    for layer in result.layers:
        n = result.groups[layer].n_groups
        result.groups[layer].icons = rng.random((n, 80, 80, 3)).astype(np.float32)
    size = len(pages.save_page(result, tmp_path / "layers.html").encode("utf-8"))
    print(f"two-layer demo page: {size} bytes")
    assert size < 1_000_000


def test_the_module_travels_without_comments_but_with_every_export(tmp_path):
    import subprocess

    from neuron_groups.display.assets import asset_text

    source = asset_text("widget.js")
    # Compaction drops whole comment lines, which is safe only without multi-line templates.
    assert all(line.count("`") % 2 == 0 for line in source.splitlines())
    sent = compact_text("widget.js")
    # The bundle keeps the JSDoc inside functions and esbuild's module markers; none travels.
    assert len(sent) < 0.85 * len(source)
    assert not any(mark in sent for mark in ("@param", "@type", "@returns", "// js/src/"))
    exports = []
    for name, text in (("source.mjs", source), ("sent.mjs", sent)):
        (tmp_path / name).write_text(text)
        script = f"import('{(tmp_path / name).as_uri()}').then(m => console.log("
        script += "JSON.stringify([Object.keys(m).sort(), m.formatValue(-0.0456)])))"
        run = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
        exports.append(run.stdout)
    assert exports[0] == exports[1] and '"mountPage"' in exports[0]
