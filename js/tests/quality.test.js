// How far the groups can be trusted, in the widget (issues 19 and 22): each tile's stability,
// the explained-variance curve beside the count control, the image region a tile shows while
// its icon is pending, the gallery's explained variance and stability, and older states
// without any of it (vitest + jsdom, synthetic states).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StaticModel, decodeBase64 } from "../src/index.js";
import { click, createMounter, f32, png, tick } from "./testing.js";

const EMPTY = new DataView(new ArrayBuffer(0));
// Another valid 1x1 PNG: a region, told apart from the icons by its bytes.
const region = () =>
  decodeBase64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");
const COLORS = [
  [255, 0, 0],
  [0, 128, 0],
  [0, 0, 255],
  [255, 165, 0],
];

/** The group fields of n groups (as a page's variant carries them). */
function groups(n, { explained = 0.5 + n / 10, stability = [0.93, 0.5, 1, 0.25].slice(0, n), icons } = {}) {
  return {
    n_groups: n,
    spatial: f32(new Array(n * 4).fill(0.5)),
    spatial_shape: [n, 2, 2],
    icons: icons ?? Array.from({ length: n }, () => png()),
    icon_size: 80,
    attributions: f32(new Array(2 * n).fill(1)),
    class_names: ["a", "b"],
    group_colors: COLORS.slice(0, n),
    explained_variance: explained,
    stability,
    regions: Array.from({ length: n }, () => region()),
  };
}

function state(overrides = {}) {
  return {
    image: png(),
    ...groups(3),
    classes: [],
    class_options: [],
    predictions: [],
    n_groups_options: [2, 3, 4],
    selected_group: -1,
    status: "ready",
    progress: 1,
    progress_text: "",
    error: "",
    layer: "mixed4d",
    model_name: "InceptionV1",
    title: "dog_cat",
    explained_variance_by_k: [0.3, 0.6, 0.8, 0.9],
    ...overrides,
  };
}

let created;
let revoked;
const { mountModel, unmountAll } = createMounter();

beforeEach(() => {
  created = [];
  revoked = [];
  let i = 0;
  URL.createObjectURL = vi.fn((blob) => {
    const url = `blob:test/${++i}`;
    created.push([url, blob]);
    return url;
  });
  URL.revokeObjectURL = vi.fn((url) => revoked.push(url));
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => unmountAll());

const mount = (s = state(), variants = {}, options = {}) => mountModel(new StaticModel(s, variants, options));
const tile = ($, j, layer) => $(`.ng-tile[data-group="${j}"]${layer ? `[data-layer="${layer}"]` : ""}`);

describe("stability on the tiles", () => {
  it("each tile shows its stability, with its meaning on hover", () => {
    const { $, $$ } = mount();
    expect($$(".ng-tile-stability").map((s) => s.textContent)).toEqual(["0.93", "0.50", "1.00"]);
    expect($$(".ng-tile").map((t) => t.dataset.stability)).toEqual(["0.93", "0.50", "1.00"]);
    const s0 = tile($, 0).querySelector(".ng-tile-stability");
    expect(s0.title).toBe(
      "stability 0.93: mean cosine of this group's channel direction with its match in 5 refits on resampled positions; 1 = always found again",
    );
    expect(tile($, 0).getAttribute("aria-label")).toBe("Group 0, stability 0.93");
    expect(tile($, 1).querySelector(".ng-stability-bar").style.width).toBe("50%");
  });

  it("shows nothing until measured, then updates in place", async () => {
    const { $, $$, model } = mount(state({ stability: [] }));
    expect($$(".ng-tile-stability").every((s) => s.hidden)).toBe(true);
    expect($$(".ng-stability-bar").every((s) => s.hidden)).toBe(true);
    expect(tile($, 0).getAttribute("aria-label")).toBe("Group 0");
    const before = tile($, 0);
    model.set("stability", [0.2, 0.4, 0.6]);
    await tick();
    expect(tile($, 0)).toBe(before); // not rebuilt
    expect($$(".ng-tile-stability").map((s) => s.textContent)).toEqual(["0.20", "0.40", "0.60"]);
  });
});

describe("the explained-variance curve beside the count control", () => {
  it("draws the curve with the current count marked and its share in words", () => {
    const { $, $$ } = mount();
    const box = $(".ng-groups-control .ng-explained");
    expect(box.hidden).toBe(false);
    expect($(".ng-ev-text").textContent).toBe("80% explained");
    const svg = $(".ng-ev-curve");
    expect(svg.hasAttribute("hidden")).toBe(false);
    expect(svg.getAttribute("width")).toBe("120");
    expect(svg.getAttribute("height")).toBe("36");
    const points = $$(".ng-ev-point");
    expect(points.map((p) => p.getAttribute("data-k"))).toEqual(["1", "2", "3", "4"]);
    expect(points[2].querySelector("title").textContent).toBe("3 groups: 80% explained");
    const current = $(".ng-ev-current");
    expect(current.getAttribute("data-k")).toBe("3");
    expect(current.getAttribute("cx")).toBe(points[2].getAttribute("cx"));
    expect(current.getAttribute("cy")).toBe(points[2].getAttribute("cy"));
    // Only the other offered counts can be chosen by a click (1 is not offered).
    expect(points.map((p) => p.classList.contains("is-choosable"))).toEqual([false, true, false, true]);
  });

  it("moves the mark and the words when n_groups changes", async () => {
    const { $, $$, model } = mount(state(), { 2: groups(2), 3: groups(3), 4: groups(4) });
    model.set("n_groups", 4);
    await tick();
    expect($(".ng-ev-current").getAttribute("data-k")).toBe("4");
    expect($(".ng-ev-current").getAttribute("cx")).toBe($$(".ng-ev-point")[3].getAttribute("cx"));
    expect($(".ng-ev-text").textContent).toBe("90% explained"); // the variant's explained_variance
  });

  it("a click on a point chooses that count", async () => {
    const { $, $$, model } = mount(state(), { 2: groups(2), 3: groups(3), 4: groups(4) });
    click($$(".ng-ev-point")[1]);
    expect(model.get("n_groups")).toBe(2);
    await tick();
    expect($$(".ng-tile")).toHaveLength(2);
    expect($(".ng-ev-current").getAttribute("data-k")).toBe("2");
    click($$(".ng-ev-point")[0]); // 1 is not offered: nothing happens
    expect(model.get("n_groups")).toBe(2);
  });

  it("before the curve arrives, shows the current share alone; then the curve", async () => {
    const { $, model } = mount(state({ explained_variance_by_k: [] }));
    expect($(".ng-ev-text").textContent).toBe("80% explained");
    expect($(".ng-ev-curve").hasAttribute("hidden")).toBe(true);
    model.set("explained_variance_by_k", [0.3, 0.6, 0.8, 0.9]);
    await tick();
    expect($(".ng-ev-curve").hasAttribute("hidden")).toBe(false);
    expect($(".ng-ev-current").getAttribute("data-k")).toBe("3");
  });

  it("is hidden while nothing is known", () => {
    const { $ } = mount(state({ explained_variance: null, explained_variance_by_k: [] }));
    expect($(".ng-groups-control .ng-explained").hidden).toBe(true);
  });
});

describe("the image region while an icon is pending", () => {
  const pendingIcons = [EMPTY, png(), EMPTY];

  it("a pending tile shows its region, labelled, then the icon replaces it", async () => {
    const { $, model } = mount(state({ icons: pendingIcons }));
    const t0 = tile($, 0);
    const placeholder = t0.querySelector(".ng-icon-placeholder");
    const regionImg = t0.querySelector("img.ng-tile-region");
    expect(placeholder.hidden).toBe(false);
    expect(placeholder.classList.contains("has-region")).toBe(true);
    expect(regionImg.hidden).toBe(false);
    expect(regionImg.getAttribute("src")).toMatch(/^blob:/);
    expect(t0.querySelector(".ng-region-tag").textContent).toBe("region");
    expect(placeholder.getAttribute("aria-label")).toMatch(/^Image region where group 0 is strongest/);
    expect(t0.querySelector("img.ng-icon").hidden).toBe(true);
    // A tile whose icon is there shows the icon, not its region.
    expect(tile($, 1).querySelector(".ng-icon-placeholder").hidden).toBe(true);
    expect(tile($, 1).querySelector("img.ng-tile-region").hidden).toBe(true);

    const regionUrl = regionImg.getAttribute("src");
    model.set("icons", [png(), png(), EMPTY]); // the first icon snapshot of group 0
    await tick();
    expect(t0.querySelector("img.ng-icon").hidden).toBe(false);
    expect(placeholder.hidden).toBe(true);
    expect(regionImg.hidden).toBe(true);
    expect(regionImg.hasAttribute("src")).toBe(false);
    expect(revoked).toContain(regionUrl);
    // Group 2 is still pending: still its region.
    expect(tile($, 2).querySelector("img.ng-tile-region").hidden).toBe(false);
  });

  it("without a region, the placeholder is as before", () => {
    const { $ } = mount(state({ icons: pendingIcons, regions: [] }));
    const placeholder = tile($, 0).querySelector(".ng-icon-placeholder");
    expect(placeholder.hidden).toBe(false);
    expect(placeholder.classList.contains("has-region")).toBe(false);
    expect(placeholder.getAttribute("aria-label")).toBe("Icon of group 0 not ready yet");
    expect(tile($, 0).querySelector("img.ng-tile-region").hidden).toBe(true);
  });
});

describe("earlier layers", () => {
  const earlier = {
    layer: "mixed4a",
    n_groups: 2,
    n_groups_options: [1, 2, 3],
    spatial: f32(new Array(8).fill(0.25)),
    spatial_shape: [2, 2, 2],
    icons: [EMPTY, png()],
    group_colors: COLORS.slice(0, 2),
    explained_variance: 0.55,
    explained_variance_by_k: [0.4, 0.55, 0.6],
    stability: [0.8, 0.7],
    regions: [region(), region()],
  };
  const multi = (overrides = {}) =>
    state({
      earlier_layers: [earlier],
      flows: [{ from: "mixed4a", to: "mixed4d", values: f32(new Array(6).fill(1)), shape: [2, 3] }],
      layer_groups: [2, 3],
      selected_layer: "",
      image_options: ["dog_cat"],
      ...overrides,
    });

  it("their tiles show stability and regions; each column's count has its curve", () => {
    const { $, model } = mount(multi());
    expect(tile($, 0, "mixed4a").querySelector(".ng-tile-stability").textContent).toBe("0.80");
    expect(tile($, 0, "mixed4a").querySelector("img.ng-tile-region").hidden).toBe(false);
    expect(tile($, 1, "mixed4a").querySelector("img.ng-tile-region").hidden).toBe(true);
    expect(tile($, 2, "mixed4d").querySelector(".ng-tile-stability").textContent).toBe("1.00");
    const head = (layer) => $(`.ng-column[data-layer="${layer}"] .ng-column-head`);
    expect(head("mixed4a").querySelector(".ng-ev-text").textContent).toBe("55% explained");
    expect(head("mixed4a").querySelector(".ng-ev-current").getAttribute("data-k")).toBe("2");
    expect(head("mixed4a").querySelectorAll(".ng-ev-point")).toHaveLength(3);
    expect(head("mixed4d").querySelector(".ng-ev-text").textContent).toBe("80% explained");
    // The single-layer control is hidden in this view.
    expect($(".ng-groups-control").hidden).toBe(true);
    // A click on an earlier layer's point asks for that count there.
    click(head("mixed4a").querySelectorAll(".ng-ev-point")[2]);
    expect(model.get("layer_groups")).toEqual([3, 3]);
  });

  it("without the new keys, they render as before", () => {
    const { explained_variance, explained_variance_by_k, stability, regions, ...old } = earlier;
    const { $ } = mount(multi({ earlier_layers: [old] }));
    expect(tile($, 0, "mixed4a").querySelector(".ng-tile-stability").hidden).toBe(true);
    expect(tile($, 0, "mixed4a").querySelector(".ng-icon-placeholder").classList.contains("has-region")).toBe(false);
    expect($('.ng-column[data-layer="mixed4a"] .ng-explained').hidden).toBe(true);
  });
});

describe("an older state without any of it", () => {
  it("renders as before: no stability, no curve, placeholders for pending icons", () => {
    const s = state({ icons: [EMPTY, png(), png()] });
    for (const k of ["explained_variance", "explained_variance_by_k", "stability", "regions"]) delete s[k];
    const { $, $$ } = mount(s);
    expect($$(".ng-tile")).toHaveLength(3);
    expect($$(".ng-tile-stability").every((n) => n.hidden)).toBe(true);
    expect($(".ng-explained").hidden).toBe(true);
    expect(tile($, 0).querySelector(".ng-icon-placeholder").hidden).toBe(false);
    expect(tile($, 0).getAttribute("aria-label")).toBe("Group 0");
  });
});

describe("the gallery", () => {
  const gallery = (overrides = {}) => ({
    view: "gallery",
    title: "",
    model_name: "InceptionV1",
    layer: "mixed4d",
    n_images: 100,
    gallery: [0, 1].map((j) => ({ usage: 0.5, classes: [], regions: [] })),
    group_colors: COLORS.slice(0, 2),
    icons: [png(), png()],
    icon_size: 80,
    status: "ready",
    progress: 0,
    progress_text: "",
    error: "",
    selected_group: -1,
    explained_variance: 0.64,
    stability: [0.91, 0.42],
    ...overrides,
  });

  it("shows the explained variance in its header and each group's split-half stability", () => {
    const { $, $$ } = mount(gallery());
    expect($(".ng-gallery-explained").textContent).toBe("The groups explain 64% of the layer over the images");
    expect($(".ng-gallery-explained").hidden).toBe(false);
    expect($$(".ng-gallery-stability").map((n) => n.textContent)).toEqual(["stability 0.91", "stability 0.42"]);
    expect($$(".ng-gallery-stability")[0].title).toMatch(/^stability 0\.91: split-half stability/);
  });

  it("without them, shows neither", async () => {
    const { $, $$, model } = mount(gallery({ explained_variance: undefined, stability: undefined }));
    expect($(".ng-gallery-explained").hidden).toBe(true);
    expect($$(".ng-gallery-stability").every((n) => n.hidden)).toBe(true);
    model.set("stability", [0.5, 0.6]);
    await tick();
    expect($$(".ng-gallery-stability").map((n) => n.textContent)).toEqual(["stability 0.50", "stability 0.60"]);
  });
});
