// The standalone page's start-up (mountPage) and its groups control, from page JSON as the
// Python page writer produces it: {"esm", "state", "variants"}, bytes as {"$base64": ...}.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GROUP_FIELDS, mountPage } from "../src/index.js";

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/** {"$base64"} of float32 little-endian values */
function f32(values) {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  return { $base64: btoa(String.fromCharCode(...bytes)) };
}

const HUES = [
  [230, 25, 25],
  [255, 255, 0],
  [0, 255, 255],
  [20, 20, 200],
  [40, 160, 40],
  [160, 40, 160],
];

/** The GROUP_FIELDS of n groups on a 2x2 map, 2 classes; attributions 1, 2, ... */
function groupState(n) {
  return {
    n_groups: n,
    spatial: f32(Array.from({ length: n * 4 }, (_, i) => (i % 4) / 3)),
    spatial_shape: [n, 2, 2],
    icons: Array.from({ length: n }, () => ({ $base64: PNG_B64 })),
    icon_size: 80,
    attributions: f32(Array.from({ length: 2 * n }, (_, i) => i + 1)),
    class_names: ["Labrador retriever", "tiger cat"],
    group_colors: HUES.slice(0, n),
  };
}

/** Page data as JSON text, the way the page carries it. */
function pageJson(current, counts) {
  const state = {
    image: { $base64: PNG_B64 },
    ...groupState(current),
    class_options: [],
    predictions: [{ name: "Labrador retriever", probability: 0.6 }],
    n_groups_options: counts,
    layer: "mixed4d",
    model_name: "InceptionV1",
    title: "dog_cat",
    progress_text: "",
    error: "",
    status: "ready",
    progress: 1,
    classes: [208, "tiger cat"],
    selected_group: -1,
  };
  const variants = {};
  if (counts.length > 1) for (const n of counts) if (n !== current) variants[String(n)] = groupState(n);
  return JSON.stringify({ esm: "/* the module */", state, variants });
}

let root;
let mounted;

beforeEach(() => {
  URL.createObjectURL = vi.fn(() => "blob:page");
  URL.revokeObjectURL = vi.fn();
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  root = document.createElement("div");
  root.id = "neuron-groups-root";
  document.body.append(root);
  mounted = null;
});

afterEach(() => {
  mounted?.cleanup();
  document.body.replaceChildren();
});

const $ = (sel) => root.querySelector(sel);
const $$ = (sel) => [...root.querySelectorAll(sel)];
const tick = () => new Promise((r) => setTimeout(r, 0));
const values = () => $$(".ng-table tbody td[data-group]").map((td) => td.textContent);

describe("mountPage", () => {
  it("renders the page's state with its bytes revived and marks the root ready", () => {
    mounted = mountPage(root, JSON.parse(pageJson(6, [6])));
    expect(root.dataset.ready).toBe("true");
    expect($(".ng-title").textContent).toBe("dog_cat");
    expect($$(".ng-tile")).toHaveLength(6);
    expect($$("img.ng-icon").filter((i) => !i.hidden)).toHaveLength(6);
    expect($(".ng-image").getAttribute("src")).toBe("blob:page");
    expect(values().slice(0, 3)).toEqual(["1.000", "2.000", "3.000"]);
    // Revived bytes: the model holds DataViews, not {$base64} objects.
    expect(mounted.model.get("spatial")).toBeInstanceOf(DataView);
    expect(mounted.model.get("icons")[0]).toBeInstanceOf(DataView);
    // Integer classes show their rows; the page has no picker, so no remove buttons.
    expect($$(".ng-chip").map((c) => c.textContent)).toEqual(["Labrador retriever", "tiger cat"]);
    expect($$(".ng-chip-remove")).toHaveLength(0);
    expect($(".ng-class-entry").hidden).toBe(true);
  });

  it("strip digits are black on yellow and cyan, white on dark colours", () => {
    mounted = mountPage(root, JSON.parse(pageJson(6, [6])));
    const strips = $$(".ng-tile-strip").map((s) => [s.style.background, s.style.color]);
    expect(strips).toEqual([
      ["rgb(230, 25, 25)", "rgb(255, 255, 255)"], // luminance 0.176: just on the white side
      ["rgb(255, 255, 0)", "rgb(0, 0, 0)"],
      ["rgb(0, 255, 255)", "rgb(0, 0, 0)"],
      ["rgb(20, 20, 200)", "rgb(255, 255, 255)"],
      ["rgb(40, 160, 40)", "rgb(0, 0, 0)"],
      ["rgb(160, 40, 160)", "rgb(255, 255, 255)"],
    ]);
  });

  it("with one cached count, the groups control is text, not a slider", () => {
    mounted = mountPage(root, JSON.parse(pageJson(6, [6])));
    expect($(".ng-groups-control").dataset.mode).toBe("text");
    expect($(".ng-groups-value").textContent).toBe("6 groups");
    expect($(".ng-groups-value").hidden).toBe(false);
    expect($(".ng-groups-input").hidden).toBe(true);
    expect($(".ng-groups-select").hidden).toBe(true);
  });

  it("with several cached counts, offers exactly those and switches between them", async () => {
    mounted = mountPage(root, JSON.parse(pageJson(6, [4, 6])));
    const select = $(".ng-groups-select");
    expect($(".ng-groups-control").dataset.mode).toBe("select");
    expect(select.hidden).toBe(false);
    expect(select.disabled).toBe(false);
    expect($(".ng-groups-input").hidden).toBe(true);
    expect($$(".ng-groups-select option").map((o) => o.textContent)).toEqual(["4", "6"]);
    expect(select.value).toBe("6");

    select.value = "4";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    expect($$(".ng-tile")).toHaveLength(4);
    expect($$(".ng-table thead th[data-group]")).toHaveLength(4);
    expect(values()).toEqual(["1.000", "2.000", "3.000", "4.000", "5.000", "6.000", "7.000", "8.000"]);
    expect(select.value).toBe("4");
    expect($(".ng-error").hidden).toBe(true);

    // Back to the count shown first: its variant was rebuilt from the state.
    select.value = "6";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    expect($$(".ng-tile")).toHaveLength(6);
    expect(values()).toHaveLength(12);
    expect(Object.keys(mounted.model.variants).sort()).toEqual(["4", "6"]);
    expect(Object.keys(mounted.model.variants["6"]).sort()).toEqual([...GROUP_FIELDS].sort());
  });

  it("each cached count carries its tables, stability and explained variance; the method stays", async () => {
    const data = JSON.parse(pageJson(6, [4, 6]));
    /** The new group fields of n groups: linear = -(integrated). */
    const quality = (n) => ({
      tables: {
        integrated: f32(Array.from({ length: 2 * n }, (_, i) => i + 1)),
        linear: f32(Array.from({ length: 2 * n }, (_, i) => -(i + 1))),
      },
      rest: f32([0.5, 0.25]),
      disagreements: { $base64: btoa(String.fromCharCode(...new Uint8Array(2 * n).fill(0))) },
      explained_variance: n / 10,
      stability: Array.from({ length: n }, () => n / 10),
      regions: Array.from({ length: n }, () => ({ $base64: PNG_B64 })),
    });
    Object.assign(data.state, quality(6), {
      attribution_method: "integrated",
      attribution_methods: ["integrated", "linear"],
      explained_variance_by_k: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    });
    Object.assign(data.variants["4"], quality(4));
    mounted = mountPage(root, data);
    $('.ng-method[data-method="linear"] input').click();
    expect(values().slice(0, 2)).toEqual(["-1.000", "-2.000"]);
    const select = $(".ng-groups-select");
    select.value = "4";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    await tick();
    expect(values()).toHaveLength(8);
    expect(values().slice(0, 2)).toEqual(["-1.000", "-2.000"]); // still linear, the variant's table
    expect($$(".ng-tile-stability").map((n) => n.textContent)).toEqual(["0.40", "0.40", "0.40", "0.40"]);
    expect($(".ng-ev-text").textContent).toBe("40% explained");
    expect($(".ng-ev-current").getAttribute("data-k")).toBe("4");
    $('.ng-method[data-method="integrated"] input').click();
    expect($$(".ng-table td.ng-rest").map((td) => td.textContent)).toEqual(["0.500", "0.250"]);
    expect(Object.keys(mounted.model.variants["6"]).sort()).toEqual([...GROUP_FIELDS].sort());
  });

  it("contiguous cached counts get the slider", () => {
    mounted = mountPage(root, JSON.parse(pageJson(5, [4, 5, 6])));
    expect($(".ng-groups-control").dataset.mode).toBe("range");
    expect($(".ng-groups-input").disabled).toBe(false);
    expect($(".ng-groups-value").textContent).toBe("5");
  });

  it("on failure shows a message in the root and rethrows", () => {
    root.append(document.createElement("span"));
    expect(() => mountPage(root, { esm: "" })).toThrow(TypeError);
    expect(root.children).toHaveLength(1);
    const message = root.firstElementChild;
    expect(message.className).toBe("ng-page-error");
    expect(message.textContent).toBe("The neuron groups could not be shown: TypeError: the page has no widget state");
    expect(root.dataset.ready).toBeUndefined();
  });

  it("bad base64 in the data is reported the same way", () => {
    const data = JSON.parse(pageJson(6, [6]));
    data.state.image = { $base64: "not base64!" };
    expect(() => mountPage(root, data)).toThrow();
    expect($(".ng-page-error").textContent).toMatch(/^The neuron groups could not be shown: /);
    expect($(".neuron-groups")).toBeNull();
  });
});
