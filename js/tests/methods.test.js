// The attribution method switch (issue 19): the table and the flows in the method shown,
// switched at once from data already present; the rest column of integrated gradients; the
// marks where linear and measured effects disagree (vitest + jsdom, synthetic states).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DISAGREEMENT_TEXT, REST_TEXT, StaticModel, mountPage } from "../src/index.js";
import { createMounter, f32, png } from "./testing.js";

const EMPTY = new DataView(new ArrayBuffer(0));
const u8 = (values) => new DataView(new Uint8Array(values).buffer);
const b64 = (dv) => ({ $base64: btoa(String.fromCharCode(...new Uint8Array(dv.buffer))) });

// 2 classes x 3 groups.
const TABLES = {
  integrated: [1, -2, 3, 4, 5, -6],
  linear: [0.5, 0.25, -1, 2, -4, 1],
  ablation: [0.125, 0.25, 0.375, 0.5, 0.625, -0.75],
};
const FMT = (vs) => vs.map((v) => v.toFixed(3));

function state(overrides = {}) {
  return {
    image: png(),
    spatial: f32(new Array(12).fill(0.5)),
    spatial_shape: [3, 2, 2],
    icons: [png(), png(), png()],
    icon_size: 80,
    attributions: f32(TABLES.integrated),
    class_names: ["Labrador retriever", "tiger cat"],
    classes: [],
    class_options: [],
    predictions: [],
    n_groups: 3,
    n_groups_options: [3],
    group_colors: [
      [255, 0, 0],
      [0, 128, 0],
      [0, 0, 255],
    ],
    selected_group: -1,
    status: "ready",
    progress: 1,
    progress_text: "",
    error: "",
    layer: "mixed4d",
    model_name: "InceptionV1",
    title: "dog_cat",
    attribution_method: "integrated",
    attribution_methods: ["integrated", "linear", "ablation"],
    tables: Object.fromEntries(Object.entries(TABLES).map(([m, v]) => [m, f32(v)])),
    rest: f32([0.75, -0.5]),
    disagreements: u8([0, 1, 0, 0, 0, 1]),
    ...overrides,
  };
}

// mixed4a (2 groups) -> mixed4d (3 groups) -> classes; flow (2, 3) in each method.
const FLOW_TABLES = { integrated: [2, -1, 0.5, 1, 1, 1], linear: [-2, 1, 0.5, 1, 1, -1], ablation: [1, 1, 1, 1, 1, 2] };

function multiState(overrides = {}) {
  return state({
    earlier_layers: [
      {
        layer: "mixed4a",
        n_groups: 2,
        n_groups_options: [2],
        spatial: f32(new Array(8).fill(0.25)),
        spatial_shape: [2, 2, 2],
        icons: [png(), png()],
        group_colors: [
          [10, 10, 10],
          [200, 200, 200],
        ],
      },
    ],
    flows: [
      {
        from: "mixed4a",
        to: "mixed4d",
        values: f32(FLOW_TABLES.integrated),
        shape: [2, 3],
        tables: Object.fromEntries(Object.entries(FLOW_TABLES).map(([m, v]) => [m, f32(v)])),
        rest: f32([0, 0, 0]),
        disagreements: u8([1, 0, 0, 0, 0, 0]),
      },
    ],
    layer_groups: [2, 3],
    selected_layer: "",
    ...overrides,
  });
}

const { mountModel, track, unmountAll } = createMounter();

beforeEach(() => {
  let i = 0;
  URL.createObjectURL = vi.fn(() => `blob:test/${++i}`);
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => unmountAll());

const mount = (s = state(), options = {}) => mountModel(new StaticModel(s, {}, options));
const cells = ($$) => $$(".ng-table tbody td[data-group]").map((td) => td.textContent);
/** Choose a method the way a user does: click its segment. */
const choose = ($, method) => $(`.ng-method[data-method="${method}"] input`).click();

describe("the method switch", () => {
  it("offers the methods present, in order, each with its one-line meaning", () => {
    const { $, $$ } = mount();
    const sw = $(".ng-method-switch");
    expect(sw.hidden).toBe(false);
    expect(sw.getAttribute("role")).toBe("radiogroup");
    expect($$(".ng-method").map((l) => l.dataset.method)).toEqual(["integrated", "linear", "ablation"]);
    expect($$(".ng-method").map((l) => l.textContent)).toEqual([
      "Integrated gradients",
      "Linear (article)",
      "Measured (ablation)",
    ]);
    for (const label of $$(".ng-method")) expect(label.title.length).toBeGreaterThan(30);
    expect($$(".ng-method-input").map((i) => i.checked)).toEqual([true, false, false]);
    expect($(".ng-table caption").textContent).toBe("Effect of neuron groups on output classes (integrated gradients)");
    expect($(".ng-table").dataset.method).toBe("integrated");
    expect(cells($$)).toEqual(FMT(TABLES.integrated));
  });

  it("changes the table at once and saves attribution_method", () => {
    const { $, $$, model } = mount();
    choose($, "linear");
    // Redrawn synchronously, from the data present: no message to a kernel.
    expect(cells($$)).toEqual(FMT(TABLES.linear));
    expect($(".ng-table caption").textContent).toContain("(linear, as in the article)");
    expect(model.get("attribution_method")).toBe("linear");
    expect(model.saves).toBe(1);
    expect(model.sent).toEqual([]);
    expect($(".ng-method[data-method=linear]").classList.contains("is-checked")).toBe(true);
    // Colours follow the table shown: -4 is this table's largest.
    const strongest = $('.ng-table td[data-group="1"][data-class="tiger cat"]');
    expect(strongest.style.background).toBe("rgba(230, 85, 13, 0.8)");

    choose($, "ablation");
    expect(cells($$)).toEqual(FMT(TABLES.ablation));
    expect(model.saves).toBe(2);
  });

  it("follows attribution_method set by Python", async () => {
    const { $, $$, model } = mount();
    model.set("attribution_method", "ablation");
    await new Promise((r) => setTimeout(r, 0));
    expect(cells($$)).toEqual(FMT(TABLES.ablation));
    expect($(".ng-method[data-method=ablation] input").checked).toBe(true);
  });

  it("is hidden with one method; the caption still names it", () => {
    const { $ } = mount(
      state({ attribution_methods: ["linear"], attribution_method: "linear", tables: { linear: f32(TABLES.linear) } }),
    );
    expect($(".ng-method-switch").hidden).toBe(true);
    expect($(".ng-table caption").textContent).toContain("(linear, as in the article)");
  });

  it("works in a standalone page (no kernel), from its JSON", () => {
    const root = document.createElement("div");
    document.body.append(root);
    const s = state();
    const page = {
      state: {
        ...s,
        image: b64(png()),
        spatial: b64(s.spatial),
        icons: s.icons.map(b64),
        attributions: b64(s.attributions),
        tables: Object.fromEntries(Object.entries(s.tables).map(([m, v]) => [m, b64(v)])),
        rest: b64(s.rest),
        disagreements: b64(s.disagreements),
      },
    };
    const mounted = mountPage(root, page);
    track(mounted);
    const $ = (sel) => root.querySelector(sel);
    const $$ = (sel) => [...root.querySelectorAll(sel)];
    choose($, "ablation");
    expect(cells($$)).toEqual(FMT(TABLES.ablation));
    expect(mounted.model.get("attribution_method")).toBe("ablation");
    expect($(".ng-error").hidden).toBe(true);
  });
});

describe("the rest column", () => {
  it("is shown, grey and explained, for integrated gradients only", () => {
    const { $, $$ } = mount();
    const head = $(".ng-table th.ng-rest-head");
    expect(head.textContent).toBe("rest");
    expect(head.title).toBe(REST_TEXT);
    expect(head.hasAttribute("data-group")).toBe(false);
    expect($$(".ng-table td.ng-rest").map((td) => td.textContent)).toEqual(["0.750", "-0.500"]);
    expect($$(".ng-table td.ng-rest").every((td) => td.style.background === "")).toBe(true);
    // The group columns are unchanged: one header per group.
    expect($$(".ng-table thead th[data-group]")).toHaveLength(3);
    choose($, "linear");
    expect($(".ng-table .ng-rest-head")).toBeNull();
    expect($$(".ng-table td.ng-rest")).toHaveLength(0);
    choose($, "integrated");
    expect($$(".ng-table td.ng-rest")).toHaveLength(2);
  });

  it("is absent when the state has no rest", () => {
    const { $$ } = mount(state({ rest: EMPTY }));
    expect($$(".ng-table .ng-rest, .ng-table .ng-rest-head")).toHaveLength(0);
  });
});

describe("disagreement marks", () => {
  it("mark the cells whatever method is shown, with the explanation on hover", () => {
    const { $, $$ } = mount();
    const marked = () => $$(".ng-table td.has-disagreement").map((td) => [td.dataset.group, td.dataset.class]);
    const expected = [
      ["1", "Labrador retriever"],
      ["2", "tiger cat"],
    ];
    expect(marked()).toEqual(expected);
    const td = $('.ng-table td[data-group="1"][data-class="Labrador retriever"]');
    expect(td.dataset.disagrees).toBe("true");
    expect(td.title).toContain(DISAGREEMENT_TEXT);
    expect(td.getAttribute("aria-label")).toContain(DISAGREEMENT_TEXT);
    // The value stays the cell's text (the mark is drawn by CSS).
    expect(td.textContent).toBe("-2.000");
    const plain = $('.ng-table td[data-group="0"][data-class="Labrador retriever"]');
    expect(plain.title).not.toContain(DISAGREEMENT_TEXT);
    expect(plain.hasAttribute("aria-label")).toBe(false);
    choose($, "ablation");
    expect(marked()).toEqual(expected);
  });
});

describe("an older state", () => {
  it("without the new fields shows its attributions as before: no switch, no rest, no marks", () => {
    const s = state();
    for (const k of ["attribution_method", "attribution_methods", "tables", "rest", "disagreements"]) delete s[k];
    const { $, $$ } = mount(s);
    expect($(".ng-method-switch").hidden).toBe(true);
    expect($(".ng-table caption").textContent).toBe("Effect of neuron groups on output classes");
    expect(cells($$)).toEqual(FMT(TABLES.integrated));
    expect($$(".ng-rest, .ng-rest-head, .has-disagreement")).toHaveLength(0);
  });
});

describe("flows in the method shown", () => {
  const curve = ($, from, to, pair = 0) =>
    $(`.ng-curve[data-pair="${pair}"][data-from="${from}"][data-to="${to}"]`);

  it("the switch changes the curves between layers and to the classes", () => {
    const { $, $$ } = mount(multiState());
    expect($$(".ng-curve").length).toBeGreaterThan(0);
    expect(Number(curve($, 0, 0).dataset.value)).toBe(2);
    expect(Number(curve($, 1, 1, 1).dataset.value)).toBe(5); // mixed4d group 1 -> tiger cat
    choose($, "linear");
    expect(Number(curve($, 0, 0).dataset.value)).toBe(-2);
    expect(curve($, 0, 0).getAttribute("stroke")).toBe("rgb(230, 85, 13)");
    expect(Number(curve($, 1, 1, 1).dataset.value)).toBe(-4);
    choose($, "ablation");
    expect(Number(curve($, 1, 0).dataset.value)).toBe(1);
    expect(Number(curve($, 1, 2).dataset.value)).toBe(2);
  });

  it("mark disagreeing curves (dashed) with the explanation", () => {
    const { $, $$ } = mount(multiState());
    const marked = $$(".ng-curve.is-disagreeing").map((p) => [p.dataset.pair, p.dataset.from, p.dataset.to]);
    // Pair 0: (0, 0) from the flow; pair 1: the table's marks, transposed (group, class).
    expect(marked).toEqual([
      ["0", "0", "0"],
      ["1", "1", "0"],
      ["1", "2", "1"],
    ]);
    const path = curve($, 0, 0);
    expect(path.dataset.disagrees).toBe("true");
    expect(path.querySelector("title").textContent).toContain(DISAGREEMENT_TEXT);
    expect(curve($, 0, 1).querySelector("title").textContent).not.toContain(DISAGREEMENT_TEXT);
  });

  it("flows without tables keep their values", () => {
    const s = multiState();
    delete s.flows[0].tables;
    const { $ } = mount(s);
    choose($, "linear");
    expect(Number(curve($, 0, 0).dataset.value)).toBe(2);
  });
});
