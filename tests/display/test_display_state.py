"""The front-end state: its one description (ViewState), and the helpers both sides compute.

The cross-checks run the front end's bundle (``neuron_groups/static/widget.js``, what the
package ships) in node on the same inputs as the Python helpers and compare the answers
exactly; they need ``node`` on the PATH.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import anywidget
import numpy as np
import pytest
import traitlets

from neuron_groups.display import state as view
from neuron_groups.display.assets import ESM, asset_path
from neuron_groups.display.widget import GroupWidget
from tests.fakes import fake_result

WIDGET_JS = asset_path(ESM)


def run_js(expression: str) -> object:
    """Evaluate ``expression`` (using ``w``, the widget module) in node; return its JSON value."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not installed (the cross-checks run {WIDGET_JS.name} in it)")
    script = (
        f"import * as w from {json.dumps(WIDGET_JS.as_uri())};\n"
        f"process.stdout.write(JSON.stringify({expression}));\n"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def js_literal(values: object) -> str:
    """Python numbers as a JavaScript literal (NaN and Infinity included, exact doubles)."""
    return json.dumps(values, allow_nan=True)


# -- one description -------------------------------------------------------------------------


def test_fields_are_the_synced_traits_of_view_state():
    synced = set(ViewState_traits(sync=True))
    assert set(view.FIELDS) == synced and len(view.FIELDS) == len(synced)
    assert set(view.GROUP_FIELDS) < set(view.FIELDS)
    for name in view.FIELDS:
        trait = view.ViewState.class_traits()[name]
        assert trait.help, f"{name} has no help"


def ViewState_traits(**metadata):  # noqa: N802 - reads as the class it asks
    return view.ViewState.class_trait_names(**metadata)


def test_the_widget_syncs_exactly_the_view_state():
    own = set(GroupWidget.class_trait_names(sync=True))
    base = set(anywidget.AnyWidget.class_trait_names(sync=True))
    assert own - base == set(view.FIELDS)
    assert GroupWidget.class_traits()["classes"] is view.ViewState.class_traits()["classes"]


def test_fields_match_the_front_end():
    fields, group_fields = run_js("[w.FIELDS, w.GROUP_FIELDS]")
    assert sorted(fields) == sorted(view.FIELDS) and len(fields) == len(set(fields))
    assert sorted(group_fields) == sorted(view.GROUP_FIELDS)


def test_classes_trait_keeps_integers_and_names():
    state = view.ViewState()
    state.classes = [208, "tiger cat"]
    assert state.classes == [208, "tiger cat"] and type(state.classes[0]) is int
    with pytest.raises(traitlets.TraitError):
        state.classes = [1.5]


def test_group_colors_are_numbers():
    state = view.ViewState()
    state.group_colors = [[1, 2, 3]]
    with pytest.raises(traitlets.TraitError):
        state.group_colors = ["hsl(0, 80%, 50%)"]
    with pytest.raises(traitlets.TraitError):
        state.group_colors = [[1, 2]]


# -- building the state from a result ------------------------------------------------------------


def test_hue_colors_are_the_css_hsl_colours():
    # hsl(h, 80%, 50%): the strongest channel 0.9 * 255 = 229.5, the weakest 0.1 * 255 = 25.5
    assert view.hue_colors([0.0, 120.0]) == [[230, 26, 26], [26, 230, 26]]
    assert view.hue_rgb(60.0) == [230, 230, 26] and view.hue_rgb(420.0) == view.hue_rgb(60.0)
    assert view.hue_rgb(30.0) == [230, 128, 26]  # half way: 0.5 * 255 = 127.5
    assert view.hue_rgb(-90.0) == view.hue_rgb(270.0) == [128, 26, 230]


def test_dark_blues_are_lightened_to_read_on_the_black_map():
    # hsl(240, 80%, 50%) = (26, 26, 230) has luminance 0.067: 2.3:1 on black. It is lightened
    # (hsl(240, 80%, 57%)) to the floor, 3:1; hues bright enough keep the original colour.
    assert view.hue_rgb(240.0) == [62, 62, 234]
    for hue in range(0, 360, 5):
        rgb = view.hue_rgb(float(hue))
        assert view.relative_luminance(rgb) >= view.MIN_LUMINANCE, (hue, rgb)
        original = view._hsl_rgb(float(hue), view.Fraction(1, 2))
        if view.relative_luminance(original) >= view.MIN_LUMINANCE:
            assert rgb == original, hue


def test_group_state_is_built_from_the_result():
    result = fake_result(3, icons=True)
    colors = view.hue_colors(view.even_hues(3))
    state = view.group_state(result, colors)
    assert set(state) == set(view.GROUP_FIELDS)
    maps = np.frombuffer(state["spatial"], "<f4").reshape(state["spatial_shape"])
    np.testing.assert_array_equal(maps, view.display_maps(result.spatial))
    table = np.frombuffer(state["attributions"], "<f4").reshape(len(result.classes), 3)
    np.testing.assert_array_equal(table, result.attributions)
    assert state["group_colors"] == colors and state["icon_size"] == 16
    assert all(png.startswith(b"\x89PNG") for png in state["icons"])
    pending = view.group_state(fake_result(3), colors)
    assert pending["icons"] == [b""] * 3 and pending["icon_size"] == view.DEFAULT_ICON_SIZE


def test_predictions_are_the_top_five_with_probabilities():
    result = fake_result()
    predicted = view.predictions(result)
    assert [p["name"] for p in predicted] == result.top5
    probs = result.probabilities[result.top5_indices]
    np.testing.assert_allclose([p["probability"] for p in predicted], probs, atol=5e-5)


def test_display_maps_scale_by_the_99th_percentile():
    spatial = np.linspace(0, 2, 2 * 10 * 10, dtype=np.float32).reshape(2, 10, 10)
    maps = view.display_maps(spatial)
    assert maps.dtype == np.float32 and maps.min() == 0 and maps.max() == 1
    assert maps[0, 5, 5] == pytest.approx(spatial[0, 5, 5] / np.percentile(spatial, 99))
    assert view.display_maps(np.zeros((1, 2, 2))).max() == 0


# -- the same answers as the front end -------------------------------------------------------------


def test_format_value_examples():
    assert view.format_value(0.0625) == "0.063"  # toFixed: ties away from zero
    assert view.format_value(-0.0625) == "-0.063"
    assert view.format_value(-0.0004) == "0.000"  # no "-0.000"
    assert view.format_value(float("nan")) == "–"


def test_text_color_by_contrast():
    assert view.text_color([255, 235, 59]) == "#000"  # yellow
    assert view.text_color([25, 230, 230]) == "#000"  # cyan
    assert view.text_color([25, 25, 230]) == "#fff"  # blue
    assert view.text_color([0, 0, 0]) == "#fff" and view.text_color([255, 255, 255]) == "#000"


def numbers() -> list[float]:
    rng = np.random.default_rng(0)
    special = [0.0, -0.0, 0.0625, -0.0625, 1.0005, 2.5e-4, -4e-4, -5e-4, 123.4565, 0.1 + 0.2]
    special += [1e20, 3e21, float("nan"), float("inf"), float("-inf"), 1e-300, -7.0]
    noise = rng.normal(scale=[[0.001], [0.1], [10.0]], size=(3, 40)).astype(np.float32)
    return special + [float(v) for v in noise.ravel()]


def test_format_value_matches_the_front_end():
    values = numbers()
    js = run_js(f"{js_literal(values)}.map(w.formatValue)")
    assert [view.format_value(v) for v in values] == js


def test_attribution_color_matches_the_front_end():
    values = numbers()
    pairs = [(v, m) for v in values for m in (1.0, 0.3, 0.0, float("nan"), 1e-6)]
    pairs += [(0.5, 0.5), (0.7, 0.5), (-0.000624, 1.0), (0.0005625, 1.0)]
    js = run_js(f"{js_literal(pairs)}.map(([v, m]) => w.attributionColor(v, m))")
    assert [view.attribution_color(v, m) for v, m in pairs] == js


def test_text_color_matches_the_front_end():
    rng = np.random.default_rng(1)
    colors = [*view.hue_colors(range(0, 360, 3)), *([g, g, g] for g in range(256))]
    colors += rng.integers(0, 256, size=(300, 3)).tolist()
    js = run_js(f"{js_literal(colors)}.map((c) => w.textColor(c))")
    assert [view.text_color(c) for c in colors] == js


def test_group_map_matches_the_front_end():
    rng = np.random.default_rng(2)
    n, h, w = 5, 6, 7
    spatial = rng.uniform(-0.5, 1.5, size=(n, h, w)).astype(np.float32)  # (n, h, w)
    spatial[0, 0, 0], spatial[1, 0, 1], spatial[2, 0, 2] = np.nan, np.inf, 0.5  # edges, a tie
    colors = [*view.hue_colors(view.even_hues(n - 1)), [255, 1, 3]]
    flat = [float(v) for v in spatial.ravel()]
    js = run_js(
        f"Array.from(w.groupMapPixels(new Float32Array({js_literal(flat)}), "
        f"[{n}, {h}, {w}], {js_literal(colors)}))"
    )
    ours = view.group_map(spatial, colors)  # (h, w, 3)
    rgba = np.concatenate([ours, np.full((h, w, 1), 255, np.uint8)], axis=-1)
    assert rgba.ravel().tolist() == js


def test_group_map_lightest_wins():
    spatial = np.zeros((2, 1, 2), np.float32)  # (n, h, w)
    spatial[0, 0, 0], spatial[1, 0, 0] = 1.0, 0.5
    spatial[1, 0, 1] = 1.0
    out = view.group_map(spatial, [[200, 0, 0], [0, 101, 250]])
    assert out.dtype == np.uint8
    assert out.tolist() == [[[200, 50, 125], [0, 101, 250]]]  # 50.5 rounds to even
    assert view.group_map(np.zeros((0, 2, 3)), []).shape == (2, 3, 3)
