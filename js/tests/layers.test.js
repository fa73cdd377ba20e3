// The multi-layer view (earlier_layers not empty) and the image picker (vitest + jsdom).
// jsdom lays nothing out, so the curves' geometry is tested through the pure curvePaths; the DOM
// tests check which curves exist, their width, colour, threshold and emphasis.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import widget, {
  CURVE_MAX_WIDTH,
  CURVE_MIN_WIDTH,
  DEFAULT_THRESHOLD,
  StaticModel,
  curvePaths,
  decodeBase64,
  moveAcrossColumns,
  mountPage,
  normalizeFlow,
  signColor,
} from "../src/index.js";
import { click, createMounter, f32, hover, key, leave, png, tick } from "./testing.js";

const EMPTY = new DataView(new ArrayBuffer(0));
const BLUE = "rgb(33, 113, 181)";
const ORANGE = "rgb(230, 85, 13)";


const colors = (n) => Array.from({ length: n }, (_, j) => [40 * j, 200 - 30 * j, 100]);
const maps = (n, seed) => f32(Array.from({ length: n * 4 }, (_, i) => ((i * 7 + seed) % 5) / 4));

// mixed4a (3 groups) -> mixed4d (4 groups) -> 2 classes.
// Flow (3, 4): row a = mixed4a group a, column b = mixed4d group b; the pair's max |v| is 2.
const FLOW = [
  [2.0, -1.0, 0.1, 0.0],
  [-0.5, 0.15, 1.0, -2.0],
  [0.3, 0.0, -0.05, 0.5],
];
// Attributions (2 classes, 4 groups); max |v| 4.
const ATTRIBUTIONS = [
  [4.0, -2.0, 0.2, 1.0],
  [-1.0, 0.3, 3.0, -4.0],
];

function multiState(overrides = {}) {
  return {
    image: png(),
    spatial: maps(4, 1),
    spatial_shape: [4, 2, 2],
    icons: [png(), EMPTY, png(), png()],
    icon_size: 80,
    attributions: f32(ATTRIBUTIONS.flat()),
    class_names: ["Labrador retriever", "tiger cat"],
    classes: [],
    class_options: ["Labrador retriever", "tiger cat", "tabby"],
    predictions: [{ name: "Labrador retriever", probability: 0.6 }],
    n_groups: 4,
    n_groups_options: [1, 2, 3, 4, 5, 6],
    group_colors: colors(4),
    selected_group: -1,
    selected_layer: "",
    status: "ready",
    progress: 0,
    progress_text: "",
    error: "",
    layer: "mixed4d",
    model_name: "InceptionV1",
    title: "dog_cat",
    earlier_layers: [
      {
        layer: "mixed4a",
        n_groups: 3,
        n_groups_options: [1, 2, 3, 4, 5, 6],
        spatial: maps(3, 2),
        spatial_shape: [3, 2, 2],
        icons: [png(), png(), EMPTY],
        group_colors: colors(3),
      },
    ],
    flows: [{ from: "mixed4a", to: "mixed4d", values: f32(FLOW.flat()), shape: [3, 4] }],
    layer_groups: [3, 4],
    image_options: ["dog_cat", "flowers"],
    ...overrides,
  };
}


const { mountModel, track, unmountAll } = createMounter();

beforeEach(() => {
  let i = 0;
  URL.createObjectURL = vi.fn(() => `blob:test/${++i}`);
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => unmountAll());

function mount(state = multiState(), { parent = document.body, offline = false } = {}) {
  return mountModel(new StaticModel(state, {}, { offline }), parent);
}

const tile = ($, layer, j) => $(`.ng-tile[data-layer="${layer}"][data-group="${j}"]`);
const curvesOf = ($$, pred) => $$(".ng-curve").filter(pred);
const has = (node, cls) => node.classList.contains(cls);

describe("flows: pure functions", () => {
  it("normalizes |flow| by the pair's largest", () => {
    const { maxAbs, fractions } = normalizeFlow([2, -1, 0.5, 0, NaN]);
    expect(maxAbs).toBe(2);
    expect([...fractions]).toEqual([1, 0.5, 0.25, 0, 0]);
    expect([...normalizeFlow([0, 0]).fractions]).toEqual([0, 0]);
  });

  it("colours by sign with the table's palette", () => {
    expect(signColor(0.3)).toBe(BLUE);
    expect(signColor(-0.3)).toBe(ORANGE);
    expect(signColor(0)).toBe("rgb(128, 128, 128)");
  });

  const column = (n, left, right) => Array.from({ length: n }, (_, j) => ({ left, right, y: 10 + 20 * j }));

  it("curvePaths: width per pair, colour by sign, threshold, geometry", () => {
    // Pair 0: max 2; pair 1: max 10 (a pair's scale does not depend on the other pair's).
    const flows = [
      { values: [2, -1, 0.1, 0], nFrom: 2, nTo: 2 },
      { values: [10, -5], nFrom: 2, nTo: 1 },
    ];
    const geometry = [column(2, 0, 50), column(2, 150, 200), column(1, 300, 400)];
    const curves = curvePaths(flows, geometry, 0.1);
    expect(curves).toHaveLength(6);
    const at = (pair, from, to) => curves.find((c) => c.pair === pair && c.from === from && c.to === to);
    expect(at(0, 0, 0).width).toBe(CURVE_MAX_WIDTH);
    expect(at(0, 0, 1).width).toBeCloseTo(CURVE_MAX_WIDTH / 2);
    expect(at(1, 0, 0).width).toBe(CURVE_MAX_WIDTH);
    expect(at(1, 1, 0).width).toBeCloseTo(CURVE_MAX_WIDTH / 2);
    expect(at(0, 1, 0).width).toBe(Math.max(CURVE_MIN_WIDTH, CURVE_MAX_WIDTH * 0.05));
    expect(at(0, 0, 0).color).toBe(BLUE);
    expect(at(0, 0, 1).color).toBe(ORANGE);
    // Threshold 0.1 of the pair's max: 0.1/2 = 0.05 and 0 are hidden; 1/2 and 5/10 are not.
    expect(at(0, 1, 0).hidden).toBe(true);
    expect(at(0, 1, 1).hidden).toBe(true);
    expect(at(0, 0, 1).hidden).toBe(false);
    expect(at(1, 1, 0).hidden).toBe(false);
    expect(curvePaths(flows, geometry, 0.6).filter((c) => !c.hidden)).toHaveLength(2);
    expect(curvePaths(flows, geometry, 0).filter((c) => c.hidden)).toHaveLength(1); // the 0 only
    // From the right edge of the left node to the left edge of the right node.
    expect(at(0, 1, 0).d).toBe("M 50 30 C 100 30, 100 10, 150 10");
    expect(at(1, 0, 0).d.startsWith("M 200 10 ")).toBe(true);
    expect(at(1, 0, 0).d.endsWith(", 300 10")).toBe(true);
  });

  it("curvePaths skips a pair whose flow does not fit its columns", () => {
    const flows = [{ values: [1, 2, 3], nFrom: 1, nTo: 3 }, null];
    const geometry = [column(1, 0, 1), column(2, 5, 6), column(1, 9, 10)];
    expect(curvePaths(flows, geometry, 0)).toEqual([]);
  });

  it("moveAcrossColumns: up/down within a column, left/right across, clamped", () => {
    const counts = [3, 5, 2];
    expect(moveAcrossColumns("ArrowDown", 0, 2, counts)).toEqual({ col: 0, group: 0 });
    expect(moveAcrossColumns("ArrowUp", 0, 0, counts)).toEqual({ col: 0, group: 2 });
    expect(moveAcrossColumns("ArrowRight", 0, 2, counts)).toEqual({ col: 1, group: 2 });
    expect(moveAcrossColumns("ArrowRight", 1, 4, counts)).toEqual({ col: 2, group: 1 });
    expect(moveAcrossColumns("ArrowRight", 2, 1, counts)).toEqual({ col: 2, group: 1 });
    expect(moveAcrossColumns("ArrowLeft", 1, 4, counts)).toEqual({ col: 0, group: 2 });
    expect(moveAcrossColumns("End", 1, 0, counts)).toEqual({ col: 1, group: 4 });
    expect(moveAcrossColumns("Home", 1, 3, counts)).toEqual({ col: 1, group: 0 });
    expect(moveAcrossColumns("x", 1, 3, counts)).toBeNull();
  });
});

describe("multi-layer layout", () => {
  it("one column per layer, input to output, then the classes; curves between them", () => {
    const { $, $$ } = mount();
    const root = $(".neuron-groups");
    expect(has(root, "is-multi")).toBe(true);
    expect($(".ng-meta").textContent).toBe("InceptionV1 · mixed4a → mixed4d");
    const columns = $$(".ng-column");
    expect(columns.map((c) => c.dataset.layer)).toEqual(["mixed4a", "mixed4d", "classes"]);
    expect(columns[0].querySelectorAll(".ng-tile")).toHaveLength(3);
    expect(columns[1].querySelectorAll(".ng-tile")).toHaveLength(4);
    expect([...columns[2].querySelectorAll(".ng-class-node")].map((n) => n.dataset.class)).toEqual([
      "Labrador retriever",
      "tiger cat",
    ]);
    // The table stays.
    expect($$(".ng-table thead th[data-group]")).toHaveLength(4);
    expect($$('.ng-tile[data-layer="mixed4a"] img.ng-icon:not([hidden])')).toHaveLength(2);
    expect(tile($, "mixed4a", 2).querySelector(".ng-icon-placeholder").hidden).toBe(false);
    expect(tile($, "mixed4a", 1).getAttribute("aria-label")).toBe("mixed4a group 1");
    // One curve per pair of groups: 3 x 4 between the layers, 4 x 2 to the classes.
    expect($$(".ng-curve")).toHaveLength(12 + 8);
    expect(curvesOf($$, (p) => p.dataset.fromLayer === "mixed4a" && p.dataset.toLayer === "mixed4d")).toHaveLength(12);
    expect(curvesOf($$, (p) => p.dataset.toLayer === "classes")).toHaveLength(8);
    // The groups control moves to the columns' heads.
    expect($(".ng-groups-control").hidden).toBe(true);
    expect($('.ng-layer-groups[data-layer="mixed4a"]').value).toBe("3");
    expect($('.ng-layer-groups[data-layer="mixed4d"]').value).toBe("4");
    expect($(".ng-flow-controls").hidden).toBe(false);
  });

  it("curves: width by |flow| per pair, colour by sign, value on hover", () => {
    const { $, $$, el } = mount();
    const curve = (fl, f, tl, t) =>
      $(`.ng-curve[data-from-layer="${fl}"][data-from="${f}"][data-to-layer="${tl}"][data-to="${t}"]`);
    const width = (p) => Number(p.getAttribute("stroke-width"));
    expect(width(curve("mixed4a", 0, "mixed4d", 0))).toBe(CURVE_MAX_WIDTH); // 2 of max 2
    expect(width(curve("mixed4a", 0, "mixed4d", 1))).toBeCloseTo(CURVE_MAX_WIDTH / 2); // -1
    expect(width(curve("mixed4a", 1, "mixed4d", 3))).toBe(CURVE_MAX_WIDTH); // -2
    expect(curve("mixed4a", 0, "mixed4d", 0).getAttribute("stroke")).toBe(BLUE);
    expect(curve("mixed4a", 1, "mixed4d", 3).getAttribute("stroke")).toBe(ORANGE);
    // Group -> class curves come from the attributions, normalized on their own (max 4).
    expect(width(curve("mixed4d", 0, "classes", 0))).toBe(CURVE_MAX_WIDTH); // 4
    expect(width(curve("mixed4d", 2, "classes", 1))).toBeCloseTo(CURVE_MAX_WIDTH * 0.75); // 3
    expect(curve("mixed4d", 3, "classes", 1).getAttribute("stroke")).toBe(ORANGE); // -4
    // The value, as a <title> and a tooltip.
    const c = curve("mixed4a", 1, "mixed4d", 0);
    expect(c.dataset.value).toBe("-0.5");
    expect(c.querySelector("title").textContent).toBe("mixed4a group 1 → mixed4d group 0: -0.500");
    expect(curve("mixed4d", 2, "classes", 1).querySelector("title").textContent).toBe(
      "mixed4d group 2 → “tiger cat”: 3.000",
    );
    c.dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: 10, clientY: 10 }));
    const tip = $(".ng-flow-tip");
    expect(tip.hidden).toBe(false);
    expect(tip.textContent).toContain("-0.500");
    expect(has(c, "is-hovered")).toBe(true);
    $(".ng-curves").dispatchEvent(new MouseEvent("mouseleave"));
    expect(tip.hidden).toBe(true);
    expect(el.querySelectorAll(".ng-curve.is-hovered")).toHaveLength(0);
  });

  it("the threshold hides curves under that fraction of their pair's largest (view only)", () => {
    const { $, $$, model } = mount();
    const visible = () => $$(".ng-curve:not(.is-hidden)").length;
    const allFractions = $$(".ng-curve").map((p) => Number(p.dataset.fraction));
    const expected = (t) => allFractions.filter((f) => f > 0 && f >= t - 5e-4).length;
    expect(Number($(".ng-threshold").value)).toBe(DEFAULT_THRESHOLD);
    expect(visible()).toBe(expected(DEFAULT_THRESHOLD));
    const slider = $(".ng-threshold");
    slider.value = "0.5";
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    // >= half of the pair's max: 2, -1, 1, -2 (layers); 4, -2, 3, -4 (classes).
    expect(visible()).toBe(8);
    expect($(".ng-flow").dataset.curves).toBe("8");
    expect(has($('.ng-curve[data-from-layer="mixed4a"][data-from="2"][data-to="3"]'), "is-hidden")).toBe(true);
    slider.value = "0";
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    expect(visible()).toBe(expected(0)); // every non-zero flow
    expect(visible()).toBe(20 - 2);
    // Front-end state only: nothing was written to the model.
    expect(model.saves).toBe(0);
    expect(model.sent).toEqual([]);
  });

  it("hovering a group of an earlier layer: spotlight of that layer, its curves emphasized", () => {
    const { $, $$, model } = mount();
    hover(tile($, "mixed4a", 1));
    const root = $(".neuron-groups");
    expect(root.dataset.selectedLayer).toBe("mixed4a");
    expect(root.dataset.selected).toBe("1");
    expect($(".ng-spotlight").hidden).toBe(false);
    expect($(".ng-spotlight").dataset.layer).toBe("mixed4a");
    expect($(".ng-map-group").hidden).toBe(false);
    expect($(".ng-map").hidden).toBe(true);
    expect(has(tile($, "mixed4a", 1), "is-selected")).toBe(true);
    // Not the last layer's group 1, nor its table column.
    expect(has(tile($, "mixed4d", 1), "is-selected")).toBe(false);
    expect($$(".ng-table .is-selected")).toHaveLength(0);
    const emphasized = $$(".ng-curve.is-emphasized");
    expect(emphasized).toHaveLength(4); // out of mixed4a 1 into each mixed4d group
    expect(emphasized.every((p) => p.dataset.fromLayer === "mixed4a" && p.dataset.from === "1")).toBe(true);
    expect($$(".ng-curve.is-faded")).toHaveLength(20 - 4);
    expect(model.saves).toBe(0);

    leave($(".ng-flow"));
    expect(root.dataset.selected).toBe("-1");
    expect(root.dataset.selectedLayer).toBe("");
    expect($(".ng-spotlight").hidden).toBe(true);
    expect($$(".ng-curve.is-emphasized, .ng-curve.is-faded")).toHaveLength(0);
  });

  it("hovering a group of the last layer emphasizes its curves in and out", () => {
    const { $, $$, el } = mount();
    hover(tile($, "mixed4d", 2));
    const emphasized = $$(".ng-curve.is-emphasized");
    const into = emphasized.filter((p) => p.dataset.toLayer === "mixed4d");
    const out = emphasized.filter((p) => p.dataset.fromLayer === "mixed4d");
    expect(into.map((p) => p.dataset.from)).toEqual(["0", "1", "2"]);
    expect(into.every((p) => p.dataset.to === "2")).toBe(true);
    expect(out.map((p) => p.dataset.to)).toEqual(["0", "1"]);
    expect(emphasized).toHaveLength(5);
    expect($(".ng-spotlight").dataset.layer).toBe("mixed4d");
    const column = [...el.querySelectorAll('.ng-table [data-group="2"]')];
    expect(column.every((c) => has(c, "is-selected"))).toBe(true);
  });

  it("click pins: selected_layer + selected_group saved; the last layer is \"\"; click again unpins", () => {
    const { $, $$, model } = mount();
    const t = tile($, "mixed4a", 2);
    click(t);
    expect(model.get("selected_layer")).toBe("mixed4a");
    expect(model.get("selected_group")).toBe(2);
    expect(model.saves).toBe(1);
    expect(t.getAttribute("aria-pressed")).toBe("true");
    expect(has(t, "is-pinned")).toBe(true);
    leave($(".ng-flow"));
    const root = $(".neuron-groups");
    expect(root.dataset.pinnedLayer).toBe("mixed4a");
    expect(root.dataset.pinned).toBe("2");
    expect(root.dataset.selected).toBe("2");
    expect($(".ng-spotlight").hidden).toBe(false);
    expect($$(".ng-curve.is-emphasized").length).toBeGreaterThan(0);
    // The last layer's group 2 is not pinned.
    expect(tile($, "mixed4d", 2).getAttribute("aria-pressed")).toBe("false");

    click(tile($, "mixed4d", 2));
    expect(model.get("selected_layer")).toBe("");
    expect(model.get("selected_group")).toBe(2);
    expect(model.saves).toBe(2);
    expect(t.getAttribute("aria-pressed")).toBe("false");
    expect(tile($, "mixed4d", 2).getAttribute("aria-pressed")).toBe("true");

    click(tile($, "mixed4d", 2));
    expect(model.get("selected_group")).toBe(-1);
    expect(model.get("selected_layer")).toBe("");
    click(t);
    key(t, "Escape");
    expect(model.get("selected_group")).toBe(-1);
    expect(model.get("selected_layer")).toBe("");
  });

  it("selected_layer and selected_group set from Python pin that group", async () => {
    const { $, model } = mount();
    model.set("selected_layer", "mixed4a");
    model.set("selected_group", 0);
    await tick();
    expect(tile($, "mixed4a", 0).getAttribute("aria-pressed")).toBe("true");
    expect($(".neuron-groups").dataset.pinnedLayer).toBe("mixed4a");
    model.set("selected_layer", "mixed9"); // not shown: nothing pinned, no crash
    await tick();
    expect($(".neuron-groups").dataset.pinned).toBe("-1");
  });

  it("keyboard: every group is focusable; arrows move within and across columns", () => {
    const { $, model } = mount();
    for (const t of document.querySelectorAll(".ng-tile")) expect(t.getAttribute("tabindex")).toBe("0");
    const a0 = tile($, "mixed4a", 0);
    a0.focus();
    expect($(".neuron-groups").dataset.selectedLayer).toBe("mixed4a");
    key(a0, "ArrowDown");
    expect(document.activeElement).toBe(tile($, "mixed4a", 1));
    key(document.activeElement, "ArrowUp");
    key(document.activeElement, "ArrowUp"); // wraps
    expect(document.activeElement).toBe(tile($, "mixed4a", 2));
    key(document.activeElement, "ArrowRight");
    expect(document.activeElement).toBe(tile($, "mixed4d", 2));
    expect($(".neuron-groups").dataset.selectedLayer).toBe("mixed4d");
    key(document.activeElement, "End");
    expect(document.activeElement).toBe(tile($, "mixed4d", 3));
    key(document.activeElement, "ArrowRight"); // the last column: stays
    expect(document.activeElement).toBe(tile($, "mixed4d", 3));
    key(document.activeElement, "ArrowLeft"); // clamped to mixed4a's last group
    expect(document.activeElement).toBe(tile($, "mixed4a", 2));
    key(document.activeElement, "Enter");
    expect(model.get("selected_layer")).toBe("mixed4a");
    expect(model.get("selected_group")).toBe(2);
    key(document.activeElement, " ");
    expect(model.get("selected_group")).toBe(-1);
  });

  it("an earlier layer's count control sends a new layer_groups list", () => {
    const { $, model } = mount();
    const select = $('.ng-layer-groups[data-layer="mixed4a"]');
    expect([...select.options].map((o) => o.value)).toEqual(["1", "2", "3", "4", "5", "6"]);
    select.value = "5";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("layer_groups")).toEqual([5, 4]);
    expect(model.get("n_groups")).toBe(4);
    expect(model.saves).toBe(1);
    // The last layer's count is n_groups, as in the single-layer view.
    const last = $('.ng-layer-groups[data-layer="mixed4d"]');
    last.value = "6";
    last.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("n_groups")).toBe(6);
    expect(model.saves).toBe(2);
  });

  it("new earlier_layers and flows from the kernel rebuild the columns and curves", async () => {
    const { $$, model } = mount();
    const layer = { ...multiState().earlier_layers[0], n_groups: 2, spatial: maps(2, 3), spatial_shape: [2, 2, 2], icons: [EMPTY, EMPTY], group_colors: colors(2) };
    model.set("earlier_layers", [layer]);
    model.set("flows", [{ from: "mixed4a", to: "mixed4d", values: f32([1, 0, 0, 0, 0, 0, 0, -1]), shape: [2, 4] }]);
    await tick();
    expect($$('.ng-tile[data-layer="mixed4a"]')).toHaveLength(2);
    expect($$('.ng-curve[data-from-layer="mixed4a"]')).toHaveLength(8);
    // A flow that does not fit its columns (arriving before the layer) draws no curves.
    model.set("flows", [{ from: "mixed4a", to: "mixed4d", values: f32(FLOW.flat()), shape: [3, 4] }]);
    await tick();
    expect($$('.ng-curve[data-from-layer="mixed4a"]')).toHaveLength(0);
    expect($$('.ng-curve[data-to-layer="classes"]')).toHaveLength(8);
  });
});

describe("single-layer view", () => {
  it("has no columns, curves or threshold; the diagram takes no box", () => {
    const { $, $$ } = mount(multiState({ earlier_layers: [], flows: [], layer_groups: [] }));
    expect(has($(".neuron-groups"), "is-multi")).toBe(false);
    expect(has($(".ng-flow"), "is-single")).toBe(true);
    expect($$(".ng-column")).toHaveLength(0);
    expect($$(".ng-curve")).toHaveLength(0);
    expect($(".ng-flow-controls").hidden).toBe(true);
    expect($(".ng-groups-control").hidden).toBe(false);
    expect($(".ng-tiles").parentElement).toBe($(".ng-flow"));
    expect(tile($, "mixed4d", 1).getAttribute("aria-label")).toBe("Group 1");
  });

  it("going back from the multi-layer view restores it", async () => {
    const { $, $$, model } = mount();
    model.set("earlier_layers", []);
    model.set("flows", []);
    await tick();
    expect($$(".ng-column")).toHaveLength(0);
    expect($$(".ng-curve")).toHaveLength(0);
    expect($$(".ng-tile")).toHaveLength(4);
    expect($(".ng-tiles").parentElement).toBe($(".ng-flow"));
  });
});

describe("image picker", () => {
  for (const multi of [true, false]) {
    const state = () => (multi ? multiState() : multiState({ earlier_layers: [], flows: [], layer_groups: [] }));
    const view = multi ? "multi-layer" : "single-layer";

    it(`${view}: an example image is sent by name; 'computing' until the kernel answers`, async () => {
      const { $, model } = mount(state());
      const picker = $(".ng-image-picker");
      expect(picker.hidden).toBe(false);
      const select = $(".ng-image-select");
      expect([...select.options].map((o) => o.value)).toEqual(["", "dog_cat", "flowers"]);
      select.value = "flowers";
      select.dispatchEvent(new Event("change", { bubbles: true }));
      expect(model.sent).toEqual([{ type: "image", name: "flowers" }]);
      const root = $(".neuron-groups");
      expect(has(root, "is-computing")).toBe(true);
      expect($(".ng-status").hidden).toBe(false);
      expect($(".ng-status").textContent).toMatch(/Computing/);
      expect(select.disabled).toBe(true);
      expect($(".ng-image-upload").disabled).toBe(true);
      // A second choice while waiting sends nothing.
      select.value = "dog_cat";
      select.dispatchEvent(new Event("change", { bubbles: true }));
      expect(model.sent).toHaveLength(1);
      // The kernel answers (here: refuses the image); the previous view stays.
      model.set("error", "Could not read flowers: broken");
      await tick();
      expect(has(root, "is-computing")).toBe(false);
      expect($(".ng-status").hidden).toBe(true);
      expect($(".ng-error").hidden).toBe(false);
      expect($(".ng-error").textContent).toContain("Could not read");
      expect(select.disabled).toBe(false);
      expect(document.querySelectorAll(".ng-tile").length).toBeGreaterThan(0);
    });

    it(`${view}: an uploaded file is sent with its bytes as one buffer`, async () => {
      const { $, model } = mount(state());
      const input = $(".ng-image-file");
      expect(input.type).toBe("file");
      expect(input.accept).toBe("image/*");
      const file = new File([new Uint8Array([137, 80, 78, 71, 1, 2, 3])], "cat.png", { type: "image/png" });
      Object.defineProperty(input, "files", { value: [file], configurable: true });
      input.dispatchEvent(new Event("change", { bubbles: true }));
      await vi.waitFor(() => expect(model.sent).toHaveLength(1));
      expect(model.sent[0]).toEqual({ type: "image", filename: "cat.png" });
      expect(model.buffers[0]).toHaveLength(1);
      expect([...new Uint8Array(model.buffers[0][0])]).toEqual([137, 80, 78, 71, 1, 2, 3]);
      expect(has($(".neuron-groups"), "is-computing")).toBe(true);
      model.set("status", "computing");
      model.set("status", "ready");
      await tick();
      expect(has($(".neuron-groups"), "is-computing")).toBe(false);
    });

    it(`${view}: a file dropped on the widget is sent like an upload`, async () => {
      const { $, model } = mount(state());
      const root = $(".neuron-groups");
      const file = new File([new Uint8Array([1, 2, 3, 4])], "dropped.jpg", { type: "image/jpeg" });
      const dataTransfer = { types: ["Files"], files: [file], dropEffect: "none" };
      const drag = (type, target = root) => {
        const e = new Event(type, { bubbles: true, cancelable: true });
        Object.defineProperty(e, "dataTransfer", { value: dataTransfer });
        target.dispatchEvent(e);
        return e;
      };
      const over = drag("dragover", $(".ng-panel-image"));
      expect(over.defaultPrevented).toBe(true); // accepts the drop
      expect(has(root, "is-dropping")).toBe(true);
      const drop = drag("drop", $(".ng-image"));
      expect(drop.defaultPrevented).toBe(true);
      expect(has(root, "is-dropping")).toBe(false);
      await vi.waitFor(() => expect(model.sent).toHaveLength(1));
      expect(model.sent[0]).toEqual({ type: "image", filename: "dropped.jpg" });
      expect([...new Uint8Array(model.buffers[0][0])]).toEqual([1, 2, 3, 4]);
    });
  }

  it("any change the kernel sends answers; without one the picker comes back after a while", async () => {
    vi.useFakeTimers();
    try {
      const { $, model } = mount();
      const select = $(".ng-image-select");
      const choose = (name) => {
        select.value = name;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      };
      choose("flowers");
      expect(select.disabled).toBe(true);
      model.set("progress_text", "reading flowers"); // any trait the kernel changes
      await vi.advanceTimersByTimeAsync(0);
      expect(select.disabled).toBe(false);
      expect(has($(".neuron-groups"), "is-computing")).toBe(false);
      choose("dog_cat");
      expect(select.disabled).toBe(true);
      await vi.advanceTimersByTimeAsync(29_000);
      expect(select.disabled).toBe(true);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(select.disabled).toBe(false);
      expect(model.sent).toEqual([
        { type: "image", name: "flowers" },
        { type: "image", name: "dog_cat" },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a file that cannot be read says so in the picker and sends nothing", async () => {
    const { $, model } = mount();
    const input = $(".ng-image-file");
    const broken = new File([new Uint8Array([1])], "broken.png");
    broken.arrayBuffer = () => Promise.reject(new Error("disk gone"));
    Object.defineProperty(input, "files", { value: [broken], configurable: true });
    input.dispatchEvent(new Event("change", { bubbles: true }));
    await vi.waitFor(() => expect($(".ng-image-message").textContent).toContain("Could not read broken.png"));
    expect(model.sent).toEqual([]);
    expect($(".ng-image-select").disabled).toBe(false);
  });

  it("is hidden in a standalone page, and a drop there sends nothing", () => {
    const root = document.createElement("div");
    document.body.append(root);
    const { model, cleanup } = mountPage(root, { state: multiState() });
    track({ cleanup });
    expect(root.querySelector(".ng-image-picker").hidden).toBe(true);
    const e = new Event("drop", { bubbles: true, cancelable: true });
    const file = new File([new Uint8Array([1])], "x.png");
    Object.defineProperty(e, "dataTransfer", { value: { types: ["Files"], files: [file] } });
    root.querySelector(".neuron-groups").dispatchEvent(e);
    expect(e.defaultPrevented).toBe(false);
    expect(model.sent).toEqual([]);
    // The page's multi-layer view still works.
    expect(root.querySelectorAll(".ng-column")).toHaveLength(3);
  });

  it("is hidden where the host marks the kernel disconnected", async () => {
    const host = document.createElement("div");
    document.body.append(host);
    const { $ } = mount(multiState(), { parent: host });
    expect($(".ng-image-picker").hidden).toBe(false);
    host.classList.add("jupyter-widgets-disconnected");
    await tick();
    expect($(".ng-image-picker").hidden).toBe(true);
    expect($('.ng-layer-groups[data-layer="mixed4a"]').disabled).toBe(true);
  });
});
