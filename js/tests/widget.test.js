// Unit tests of the widget's DOM behaviour against StaticModel (vitest + jsdom).
// jsdom has no 2D canvas: getContext is stubbed to return null here, so these tests also prove
// the widget works (minus pixels) without one. Drawing is tested in drawing.test.js.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import widget, { FIELDS, StaticModel, decodeBase64 } from "../src/index.js";
import { click, createMounter, f32, hover, key, leave, png, tick } from "./testing.js";

// Another valid 1x1 PNG (different pixel), for "the icon changed".
const png2 = () =>
  decodeBase64(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  );
const EMPTY = new DataView(new ArrayBuffer(0));


// 3 groups on a 2x2 map. Cell (0,1): values 0.2, 0.8, 0.4 -> shares 0.25, 1, 0.5.
const SPATIAL3 = [
  [1.0, 0.2, 0.0, 0.5],
  [0.0, 0.8, 0.3, 0.5],
  [0.5, 0.4, 0.9, 0.0],
].flat();

function baseState(overrides = {}) {
  return {
    image: png(),
    spatial: f32(SPATIAL3),
    spatial_shape: [3, 2, 2],
    icons: [png(), EMPTY, png()],
    icon_size: 80,
    attributions: f32([0.5, -0.25, 0.0, -1.0, 0.125, 0.0004]),
    class_names: ["Labrador retriever", "tiger cat"],
    classes: [],
    class_options: ["Labrador retriever", "tiger cat", "tiger", "tiger shark", "tabby"],
    predictions: [
      { name: "Labrador retriever", probability: 0.6 },
      { name: "tiger cat", probability: 0.2 },
    ],
    n_groups: 3,
    n_groups_options: [2, 3, 4],
    group_colors: [
      [255, 0, 0],
      [0, 128, 0],
      [0, 0, 255],
    ],
    selected_group: -1,
    status: "ready",
    progress: 0,
    progress_text: "",
    error: "",
    layer: "mixed4d",
    model_name: "InceptionV1",
    title: "dog_cat",
    ...overrides,
  };
}

const VARIANT4 = {
  spatial: f32(new Array(4 * 2 * 2).fill(0).map((_, i) => (i % 5) / 4)),
  spatial_shape: [4, 2, 2],
  icons: [EMPTY, EMPTY, EMPTY, EMPTY],
  attributions: f32([0.1, 0.2, 0.3, 0.4, -0.1, -0.2, -0.3, -0.4]),
  group_colors: [
    [255, 0, 0],
    [0, 128, 0],
    [0, 0, 255],
    [255, 165, 0],
  ],
};


let created;
let revoked;
const { mountModel, unmountAll } = createMounter();

beforeEach(() => {
  created = [];
  revoked = [];
  let i = 0;
  URL.createObjectURL = vi.fn(() => {
    const url = `blob:test/${++i}`;
    created.push(url);
    return url;
  });
  URL.revokeObjectURL = vi.fn((url) => revoked.push(url));
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => unmountAll());

function mount(state = baseState(), variants = {}) {
  return mountModel(new StaticModel(state, variants));
}


function columnCells(el, j) {
  return [...el.querySelectorAll(`.ng-table [data-group="${j}"]`)];
}

describe("initial render", () => {
  it("builds image, map, tiles, table and caption from the traits", () => {
    const { el, $, $$ } = mount();
    expect(el.firstElementChild.className).toBe("neuron-groups");
    expect($(".ng-image").getAttribute("src")).toMatch(/^blob:/);
    expect($(".ng-image").alt).toMatch(/Input image/);
    expect($$(".ng-tile").map((t) => t.dataset.group)).toEqual(["0", "1", "2"]);
    for (const t of $$(".ng-tile")) {
      expect(t.getAttribute("role")).toBe("button");
      expect(t.getAttribute("tabindex")).toBe("0");
      expect(t.getAttribute("aria-pressed")).toBe("false");
    }
    expect($$(".ng-tile-strip").map((s) => s.style.background)).toEqual([
      "rgb(255, 0, 0)",
      "rgb(0, 128, 0)",
      "rgb(0, 0, 255)",
    ]);
    expect($$(".ng-swatch").map((s) => s.style.background)).toEqual([
      "rgb(255, 0, 0)",
      "rgb(0, 128, 0)",
      "rgb(0, 0, 255)",
    ]);
    // Icons: group 1 has no icon yet -> placeholder.
    const tile1 = $('.ng-tile[data-group="1"]');
    expect(tile1.querySelector("img.ng-icon").hidden).toBe(true);
    expect(tile1.querySelector(".ng-icon-placeholder").hidden).toBe(false);
    expect($('.ng-tile[data-group="0"] img.ng-icon').hidden).toBe(false);
    expect($('.ng-tile[data-group="0"] img.ng-icon').alt).toMatch(/group 0/);

    expect($(".ng-table caption").textContent).toBe("Effect of neuron groups on output classes");
    expect($$(".ng-table thead th[data-group]")).toHaveLength(3);
    expect($$(".ng-table .ng-class-name").map((th) => th.textContent)).toEqual([
      "Labrador retriever",
      "tiger cat",
    ]);
    const values = $$(".ng-table tbody td[data-group]").map((td) => td.textContent);
    expect(values).toEqual(["0.500", "-0.250", "0.000", "-1.000", "0.125", "0.000"]);
    const neg = $('.ng-table td[data-group="0"][data-class="tiger cat"]');
    expect(neg.classList.contains("is-negative")).toBe(true);
    expect(neg.title).toContain("-1");
    // Strength by opacity: -1.0 is the strongest, 0.5 half as strong.
    const alpha = (td) => Number(/rgba\([^)]*,\s*([\d.]+)\)/.exec(td.style.background)[1]);
    const pos = $('.ng-table td[data-group="0"][data-class="Labrador retriever"]');
    expect(alpha(neg)).toBeCloseTo(2 * alpha(pos), 5);

    expect($(".ng-title").textContent).toBe("dog_cat");
    expect($(".ng-meta").textContent).toBe("InceptionV1 · mixed4d");
    expect($(".ng-predictions").textContent).toContain("Labrador retriever (60.0%)");
    expect($(".ng-error").hidden).toBe(true);
    expect($(".ng-progress").hidden).toBe(true);
    expect($(".ng-spotlight").hidden).toBe(true);
    expect($(".ng-spotlight").getAttribute("role")).toBe("img");
    expect($(".ng-map").getAttribute("aria-label")).toBe(
      "Group map: each cell is coloured by the groups present there",
    );
    expect($$(".ng-reticle").every((r) => r.hidden)).toBe(true);
    expect(el.querySelectorAll("img:not([alt])")).toHaveLength(0);
  });

  it("tolerates missing data (empty model)", () => {
    const { $$, $ } = mount(new StaticModel({}).state);
    expect($$(".ng-tile")).toHaveLength(0);
    expect($(".ng-table .ng-empty").textContent).toBe("No classes to show yet.");
    expect($(".ng-image").hidden).toBe(true);
  });
});

describe("hover and pin", () => {
  it("hovering a tile shows the spotlight, isolates the map and highlights the column", () => {
    const { el, $, $$, model } = mount();
    const tile = $('.ng-tile[data-group="1"]');
    hover(tile);
    expect(tile.classList.contains("is-selected")).toBe(true);
    expect($('.ng-tile[data-group="0"]').classList.contains("is-selected")).toBe(false);
    expect($(".ng-spotlight").hidden).toBe(false);
    expect($(".ng-map").hidden).toBe(true);
    expect($(".ng-map-group").hidden).toBe(false);
    expect($(".neuron-groups").dataset.selected).toBe("1");
    expect(columnCells(el, 1).every((c) => c.classList.contains("is-selected"))).toBe(true);
    expect(columnCells(el, 1)).toHaveLength(3); // header + 2 rows
    expect(columnCells(el, 0).some((c) => c.classList.contains("is-selected"))).toBe(false);
    // Hover alone never writes to the model.
    expect(model.get("selected_group")).toBe(-1);
    expect(model.saves).toBe(0);

    leave($(".ng-tiles"));
    expect(tile.classList.contains("is-selected")).toBe(false);
    expect($(".ng-spotlight").hidden).toBe(true);
    expect($(".ng-map").hidden).toBe(false);
    expect($$(".is-selected")).toHaveLength(0);
  });

  it("click pins (selected_group + save_changes), click again unpins", () => {
    const { $, model } = mount();
    const tile = $('.ng-tile[data-group="2"]');
    hover(tile);
    click(tile);
    expect(model.get("selected_group")).toBe(2);
    expect(model.saves).toBe(1);
    expect(tile.getAttribute("aria-pressed")).toBe("true");
    expect(tile.classList.contains("is-pinned")).toBe(true);
    leave($(".ng-tiles"));
    // Still shown after the pointer left: it is pinned.
    expect(tile.classList.contains("is-selected")).toBe(true);
    expect($(".ng-spotlight").hidden).toBe(false);
    expect($(".neuron-groups").dataset.pinned).toBe("2");

    click(tile);
    expect(model.get("selected_group")).toBe(-1);
    expect(model.saves).toBe(2);
    expect(tile.getAttribute("aria-pressed")).toBe("false");
    leave($(".ng-tiles"));
    expect($(".ng-spotlight").hidden).toBe(true);
  });

  it("hovering another group previews it, leaving returns to the pinned one", () => {
    const { $ } = mount(baseState({ selected_group: 0 }));
    expect($(".neuron-groups").dataset.selected).toBe("0");
    hover($('.ng-tile[data-group="2"]'));
    expect($(".neuron-groups").dataset.selected).toBe("2");
    expect($('.ng-tile[data-group="0"]').classList.contains("is-pinned")).toBe(true);
    leave($(".ng-tiles"));
    expect($(".neuron-groups").dataset.selected).toBe("0");
  });

  it("Escape unpins", () => {
    const { $, model } = mount();
    const tile = $('.ng-tile[data-group="1"]');
    click(tile);
    expect(model.get("selected_group")).toBe(1);
    key(tile, "Escape");
    expect(model.get("selected_group")).toBe(-1);
    expect(tile.getAttribute("aria-pressed")).toBe("false");
    expect($(".ng-spotlight").hidden).toBe(true);
  });

  it("table headers and cells select and pin their group", () => {
    const { el, $, model } = mount();
    const th = $('.ng-table th[data-group="2"]');
    hover(th);
    expect(columnCells(el, 2).every((c) => c.classList.contains("is-selected"))).toBe(true);
    expect($('.ng-tile[data-group="2"]').classList.contains("is-selected")).toBe(true);
    expect($(".ng-spotlight").hidden).toBe(false);
    leave($(".ng-table"));
    expect($(".ng-spotlight").hidden).toBe(true);

    click($('.ng-table td[data-group="1"][data-class="tiger cat"]'));
    expect(model.get("selected_group")).toBe(1);
    click($('.ng-table th[data-group="1"]'));
    expect(model.get("selected_group")).toBe(-1);
  });

  it("setting selected_group from Python updates the view", async () => {
    const { el, $, model } = mount();
    model.set("selected_group", 2);
    await tick();
    expect($('.ng-tile[data-group="2"]').getAttribute("aria-pressed")).toBe("true");
    expect(columnCells(el, 2).every((c) => c.classList.contains("is-pinned"))).toBe(true);
    expect($(".ng-spotlight").hidden).toBe(false);
    model.set("selected_group", -1);
    await tick();
    expect($(".ng-spotlight").hidden).toBe(true);
    // Out of range: nothing selected, no crash.
    model.set("selected_group", 9);
    await tick();
    expect($(".neuron-groups").dataset.selected).toBe("-1");
  });
});

describe("keyboard", () => {
  it("arrow keys move focus between tiles, Enter and Space pin", () => {
    const { $, model } = mount();
    const tiles = [0, 1, 2].map((j) => $(`.ng-tile[data-group="${j}"]`));
    tiles[0].focus();
    expect(document.activeElement).toBe(tiles[0]);
    // Focus previews the group like hover.
    expect(tiles[0].classList.contains("is-selected")).toBe(true);
    key(tiles[0], "ArrowRight");
    expect(document.activeElement).toBe(tiles[1]);
    expect(tiles[1].classList.contains("is-selected")).toBe(true);
    key(tiles[1], "ArrowDown");
    expect(document.activeElement).toBe(tiles[2]);
    key(tiles[2], "ArrowRight"); // wraps
    expect(document.activeElement).toBe(tiles[0]);
    key(tiles[0], "ArrowLeft"); // wraps back
    expect(document.activeElement).toBe(tiles[2]);
    key(tiles[2], "Home");
    expect(document.activeElement).toBe(tiles[0]);
    key(tiles[0], "End");
    expect(document.activeElement).toBe(tiles[2]);

    key(tiles[2], "Enter");
    expect(model.get("selected_group")).toBe(2);
    expect(tiles[2].getAttribute("aria-pressed")).toBe("true");
    key(tiles[2], " ");
    expect(model.get("selected_group")).toBe(-1);
    key(tiles[2], " ");
    expect(model.get("selected_group")).toBe(2);
    key(tiles[2], "Escape");
    expect(model.get("selected_group")).toBe(-1);
  });

  it("keys pressed in the widget never reach the notebook's shortcuts", () => {
    const { $ } = mount();
    const reached = [];
    const listener = (e) => reached.push(e.key);
    document.addEventListener("keydown", listener);
    try {
      key($('.ng-tile[data-group="1"]'), "b");
      key($(".ng-groups-input"), "ArrowLeft");
      key($(".ng-class-input"), "d");
    } finally {
      document.removeEventListener("keydown", listener);
    }
    expect(reached).toEqual([]);
    // A key outside the widget still reaches the document.
    document.addEventListener("keydown", listener);
    key(document.body, "x");
    document.removeEventListener("keydown", listener);
    expect(reached).toEqual(["x"]);
  });
});

describe("image shape", () => {
  it("panels take a non-square image's aspect ratio once it loads", () => {
    const { $ } = mount();
    const img = $(".ng-image");
    Object.defineProperty(img, "naturalWidth", { value: 320 });
    Object.defineProperty(img, "naturalHeight", { value: 240 });
    img.dispatchEvent(new Event("load"));
    expect($(".ng-panel-image").style.aspectRatio).toBe("320 / 240");
    expect($(".ng-panel-map").style.aspectRatio).toBe("320 / 240");
  });
});

describe("probing a cell", () => {
  function stubRect(node, rect = { left: 0, top: 0, width: 200, height: 200 }) {
    node.getBoundingClientRect = () => ({ ...rect, right: rect.left + rect.width, bottom: rect.top + rect.height, x: rect.left, y: rect.top });
  }
  const move = (node, x, y) =>
    node.dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: x, clientY: y }));

  it("shows a reticle on both panels and fades tiles and columns by share", () => {
    const { el, $, $$ } = mount();
    const panel = $(".ng-panel-image");
    stubRect(panel);
    move($(".ng-image"), 150, 50); // row 0, col 1
    const reticles = $$(".ng-reticle");
    expect(reticles).toHaveLength(2);
    for (const r of reticles) {
      expect(r.hidden).toBe(false);
      expect(r.style.left).toBe("50%");
      expect(r.style.top).toBe("0%");
      expect(r.style.width).toBe("50%");
      expect(r.dataset.row).toBe("0");
      expect(r.dataset.col).toBe("1");
    }
    expect($(".ng-panel-map .ng-reticle").hidden).toBe(false);
    // shares 0.25, 1, 0.5 -> opacity 0.15 + 0.85 * share
    const op = (j) => Number($(`.ng-tile[data-group="${j}"]`).style.opacity);
    expect(op(0)).toBeCloseTo(0.3625, 2);
    expect(op(1)).toBeCloseTo(1, 3);
    expect(op(2)).toBeCloseTo(0.575, 2);
    // The columns fade like the tiles (header + 2 cells each).
    for (const [j, opacity] of [[0, 0.3625], [1, 1], [2, 0.575]]) {
      const cells = columnCells(el, j);
      expect(cells).toHaveLength(3);
      for (const c of cells) expect(Number(c.style.opacity)).toBeCloseTo(opacity, 2);
    }
    expect($('.ng-tile[data-group="1"]').dataset.share).toBe("1.000");

    // The map panel probes the same cells.
    const mapPanel = $(".ng-panel-map");
    stubRect(mapPanel, { left: 300, top: 0, width: 100, height: 100 });
    move($(".ng-map"), 360, 60); // row 1, col 1: 0.5, 0.5, 0.0
    expect(reticles[0].dataset.row).toBe("1");
    expect(reticles[0].dataset.col).toBe("1");
    expect(op(0)).toBeCloseTo(1, 3);
    expect(op(2)).toBeCloseTo(0.15, 3);

    leave($(".ng-panels"));
    expect($$(".ng-reticle").every((r) => r.hidden)).toBe(true);
    expect($('.ng-tile[data-group="0"]').style.opacity).toBe("");
    expect(columnCells(el, 0).every((c) => c.style.opacity === "")).toBe(true);
  });

  it("entering a panel clears a hover selection but keeps the pin", () => {
    const { $, model } = mount();
    hover($('.ng-tile[data-group="1"]'));
    $(".ng-panels").dispatchEvent(new MouseEvent("mouseenter"));
    expect($(".neuron-groups").dataset.selected).toBe("-1");
    model.set("selected_group", 0);
    click($('.ng-tile[data-group="0"]')); // unpin
    click($('.ng-tile[data-group="0"]')); // pin again
    $(".ng-panels").dispatchEvent(new MouseEvent("mouseenter"));
    expect($(".neuron-groups").dataset.selected).toBe("0");
  });
});

describe("progress, stop and errors", () => {
  it("shows the progress bar while optimizing; Stop sends {type: 'stop'}", async () => {
    const { $, model } = mount();
    expect($(".ng-progress").hidden).toBe(true);
    model.set("status", "optimizing");
    model.set("progress", 0.25);
    model.set("progress_text", "Icons: step 128 / 512");
    await tick();
    expect($(".ng-progress").hidden).toBe(false);
    expect($(".ng-progress-bar").value).toBeCloseTo(0.25);
    expect($(".ng-progress-text").textContent).toBe("Icons: step 128 / 512");
    expect($(".neuron-groups").dataset.status).toBe("optimizing");
    click($(".ng-stop"));
    expect(model.sent).toEqual([{ type: "stop" }]);
    expect($(".ng-stop").disabled).toBe(true);
    model.set("status", "stopped");
    await tick();
    expect($(".ng-progress").hidden).toBe(true);
    expect($(".ng-status").hidden).toBe(false);
    expect($(".ng-status").textContent).toMatch(/stopped/i);
    model.set("status", "optimizing");
    await tick();
    expect($(".ng-stop").disabled).toBe(false);
    model.set("status", "ready");
    await tick();
    expect($(".ng-progress").hidden).toBe(true);
    expect($(".ng-status").hidden).toBe(true);
  });

  it("shows 'computing' state", async () => {
    const { $, model } = mount();
    model.set("status", "computing");
    await tick();
    expect($(".neuron-groups").classList.contains("is-computing")).toBe(true);
    expect($(".ng-status").textContent).toMatch(/Computing/);
    expect($(".neuron-groups").getAttribute("aria-busy")).toBe("true");
  });

  it("shows a loading state before anything is computed (the first model load)", async () => {
    const { $, model } = mount();
    model.set("status", "loading");
    await tick();
    expect($(".neuron-groups").classList.contains("is-computing")).toBe(true);
    expect($(".ng-status").textContent).toBe("Loading the model (the first time in this kernel)…");
    expect($(".ng-status").hidden).toBe(false);
    expect($(".neuron-groups").getAttribute("aria-busy")).toBe("true");
    model.set("status", "ready");
    await tick();
    expect($(".neuron-groups").getAttribute("aria-busy")).toBe("false");
    expect($(".ng-status").hidden).toBe(true);
  });

  it("shows and hides the error banner; the rest stays usable", async () => {
    const { $, model } = mount();
    model.set("error", "Unknown class: 'tigre cat'. Did you mean 'tiger cat'?");
    await tick();
    const banner = $(".ng-error");
    expect(banner.hidden).toBe(false);
    expect(banner.getAttribute("role")).toBe("alert");
    expect(banner.textContent).toContain("Unknown class");
    hover($('.ng-tile[data-group="0"]'));
    expect($(".ng-spotlight").hidden).toBe(false);
    model.set("error", "");
    await tick();
    expect(banner.hidden).toBe(true);
    expect(banner.textContent).toBe("");
  });

  it("error text is inserted as text, not HTML", async () => {
    const { $, model } = mount();
    model.set("error", "<img src=x onerror=alert(1)>");
    model.set("class_names", ["</script><b>x</b>"]);
    model.set("attributions", f32([0, 0, 0]));
    await tick();
    expect($(".ng-error img")).toBeNull();
    expect($(".ng-table .ng-class-name").textContent).toBe("</script><b>x</b>");
    expect($(".ng-table b")).toBeNull();
  });
});

describe("trait changes", () => {
  it("n_groups swaps in a variant: tiles and columns follow", async () => {
    const { $, $$, model } = mount(baseState(), { 3: baseState(), 4: VARIANT4 });
    model.set("n_groups", 4);
    await tick();
    expect($$(".ng-tile")).toHaveLength(4);
    expect($$(".ng-table thead th[data-group]")).toHaveLength(4);
    expect($$(".ng-table tbody td[data-group]").map((td) => td.textContent).slice(0, 4)).toEqual([
      "0.100",
      "0.200",
      "0.300",
      "0.400",
    ]);
    expect($$(".ng-icon-placeholder").filter((p) => !p.hidden)).toHaveLength(4);
    expect($(".ng-groups-value").textContent).toBe("4");
    model.set("n_groups", 3);
    await tick();
    expect($$(".ng-tile")).toHaveLength(3);
  });

  it("the groups control writes n_groups", () => {
    const { $, model } = mount();
    const input = $(".ng-groups-input");
    expect(input.max).toBe("2");
    expect(input.value).toBe("1");
    input.value = "2";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    expect($(".ng-groups-value").textContent).toBe("4");
    input.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("n_groups")).toBe(4);
    expect(model.saves).toBe(1);
  });

  it("spatial changes are used by the next probe", async () => {
    const { $, model } = mount();
    $(".ng-panel-image").getBoundingClientRect = () => ({ left: 0, top: 0, width: 100, height: 100 });
    model.set("spatial", f32([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]));
    await tick();
    $(".ng-image").dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: 10, clientY: 10 }));
    expect(Number($('.ng-tile[data-group="2"]').style.opacity)).toBe(1);
    expect(Number($('.ng-tile[data-group="0"]').style.opacity)).toBeCloseTo(0.15);
  });

  it("icons update in place, revoking the URLs they replace", async () => {
    const { $, model } = mount();
    const tile = $('.ng-tile[data-group="0"]');
    const img = tile.querySelector("img.ng-icon");
    const before = img.getAttribute("src");
    hover(tile); // state survives icon snapshots
    model.set("icons", [png2(), png(), EMPTY]);
    await tick();
    expect($('.ng-tile[data-group="0"]')).toBe(tile); // same element, not rebuilt
    expect(img.getAttribute("src")).not.toBe(before);
    expect(revoked).toContain(before);
    expect(tile.classList.contains("is-selected")).toBe(true);
    expect($('.ng-tile[data-group="1"] img.ng-icon').hidden).toBe(false);
    expect($('.ng-tile[data-group="2"] img.ng-icon').hidden).toBe(true);
    expect($('.ng-tile[data-group="2"] .ng-icon-placeholder').hidden).toBe(false);
  });

  it("unchanged icon bytes keep their URL (no flicker between snapshots)", async () => {
    const { $, model } = mount();
    const img = $('.ng-tile[data-group="0"] img.ng-icon');
    const before = img.getAttribute("src");
    const count = created.length;
    model.set("icons", [png(), EMPTY, png()]); // new DataViews, same bytes
    await tick();
    expect(img.getAttribute("src")).toBe(before);
    expect(created.length).toBe(count);
    expect(revoked).not.toContain(before);
  });

  it("accepts ArrayBuffer and Uint8Array for binary traits", async () => {
    const { $, $$, model } = mount();
    model.set("attributions", f32([1, 2, 3, 4, 5, 6]).buffer);
    model.set("icons", [new Uint8Array(png().buffer), EMPTY, EMPTY]);
    await tick();
    expect($$(".ng-table tbody td[data-group]")[5].textContent).toBe("6.000");
    expect($('.ng-tile[data-group="0"] img.ng-icon').hidden).toBe(false);
  });

  it("class_names and attributions rebuild the rows", async () => {
    const { $$, model } = mount();
    model.set("class_names", ["a", "b", "c"]);
    model.set("attributions", f32([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await tick();
    expect($$(".ng-table .ng-class-name").map((t) => t.textContent)).toEqual(["a", "b", "c"]);
    expect($$(".ng-table tbody td[data-group]")).toHaveLength(9);
  });

  it("image changes replace and revoke the object URL", async () => {
    const { $, model } = mount();
    const first = $(".ng-image").getAttribute("src");
    model.set("image", png2());
    await tick();
    expect($(".ng-image").getAttribute("src")).not.toBe(first);
    expect(revoked).toContain(first);
  });

  it("caption and predictions follow their traits", async () => {
    const { $, model } = mount();
    model.set("title", "");
    model.set("layer", "mixed4a");
    model.set("predictions", [{ name: "tabby", probability: 0.5 }]);
    await tick();
    expect($(".ng-title").hidden).toBe(true);
    expect($(".ng-meta").textContent).toBe("InceptionV1 · mixed4a");
    expect($(".ng-predictions").textContent).toBe("Predicted: tabby (50.0%)");
  });
});

describe("class picker", () => {
  it("adds a class by typing and Enter, removes it with its chip button", async () => {
    const { $, $$, model } = mount();
    expect($(".ng-class-hint").hidden).toBe(false);
    expect($$("datalist option")).toHaveLength(5);
    const input = $(".ng-class-input");
    expect(input.getAttribute("list")).toBe($("datalist").id);
    input.value = "TIGER CAT";
    key(input, "Enter");
    expect(model.get("classes")).toEqual(["tiger cat"]);
    expect(model.saves).toBe(1);
    expect(input.value).toBe("");
    input.value = "shark"; // unique substring
    key(input, "Enter");
    expect(model.get("classes")).toEqual(["tiger cat", "tiger shark"]);
    await tick();
    expect($$(".ng-chip").map((c) => c.dataset.class)).toEqual(["tiger cat", "tiger shark"]);
    expect($(".ng-class-hint").hidden).toBe(true);

    input.value = "zebra";
    key(input, "Enter");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect($(".ng-class-message").textContent).toContain("zebra");
    expect(model.get("classes")).toHaveLength(2);

    click($('.ng-chip[data-class="tiger cat"] .ng-chip-remove'));
    expect(model.get("classes")).toEqual(["tiger shark"]);
    expect($$(".ng-chip")).toHaveLength(1);
  });

  it("picking a datalist option adds it", () => {
    const { $, model } = mount();
    const input = $(".ng-class-input");
    input.value = "tabby";
    input.dispatchEvent(new Event("input", { bubbles: true })); // not typing: a pick
    expect(model.get("classes")).toEqual(["tabby"]);
    // Typing an exact name does not add it before Enter.
    input.value = "tiger";
    input.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText" }));
    expect(model.get("classes")).toEqual(["tabby"]);
  });

  it("disables the kernel-backed controls while disconnected (exported notebook)", async () => {
    const { $, $$, el } = mount(baseState({ classes: ["tiger cat"] }));
    expect($(".ng-groups-input").disabled).toBe(false);
    expect($$(".ng-chip-remove")).toHaveLength(1);
    el.classList.add("jupyter-widgets-disconnected");
    await tick();
    expect($(".ng-groups-input").disabled).toBe(true);
    expect($(".ng-class-entry").hidden).toBe(true);
    expect($$(".ng-chip-remove")).toHaveLength(0);
    el.classList.remove("jupyter-widgets-disconnected");
    await tick();
    expect($(".ng-groups-input").disabled).toBe(false);
    expect($(".ng-class-entry").hidden).toBe(false);
    expect($$(".ng-chip-remove")).toHaveLength(1);
  });

  it("is read-only without class options: chips have no remove button, and no room for one", () => {
    const { $, $$ } = mount(baseState({ classes: ["tiger cat"], class_options: [] }));
    expect($(".ng-class-entry").hidden).toBe(true);
    expect($$(".ng-chip").map((c) => c.textContent)).toEqual(["tiger cat"]);
    expect($$(".ng-chip-remove")).toHaveLength(0);
    expect($(".ng-chip").classList.contains("is-removable")).toBe(false);
    const editable = mount(baseState({ classes: ["tiger cat"] }));
    expect(editable.$(".ng-class-entry").hidden).toBe(false);
    expect(editable.$(".ng-chip").classList.contains("is-removable")).toBe(true);
    expect(editable.$(".ng-chip-remove").getAttribute("aria-label")).toBe("Remove tiger cat");
  });

  it("integer classes show their row's name and stay integers when another chip changes", () => {
    const { $, $$, model } = mount(
      baseState({ classes: [208, "tiger cat"], class_names: ["Labrador retriever", "tiger cat"] }),
    );
    expect($$(".ng-chip").map((c) => c.dataset.class)).toEqual(["Labrador retriever", "tiger cat"]);
    expect($$(".ng-chip-label").map((c) => c.textContent)).toEqual(["Labrador retriever", "tiger cat"]);
    // Adding from the picker appends the name; the index stays an index.
    const input = $(".ng-class-input");
    input.value = "tabby";
    key(input, "Enter");
    expect(model.get("classes")).toEqual([208, "tiger cat", "tabby"]);
    // Removing a chip sends the classes without that element.
    click($('.ng-chip[data-class="tiger cat"] .ng-chip-remove'));
    expect(model.get("classes")).toEqual([208, "tabby"]);
    // Backspace in the empty field removes the last chip.
    key(input, "Backspace");
    expect(model.get("classes")).toEqual([208]);
    click($(".ng-chip-remove"));
    expect(model.get("classes")).toEqual([]);
    expect(model.saves).toBe(4);
  });

  it("adding a class already chosen (by name or by index) sends nothing", () => {
    const { $, model } = mount(
      baseState({ classes: [0], class_names: ["Labrador retriever"], class_options: ["Labrador retriever", "tabby"] }),
    );
    const input = $(".ng-class-input");
    input.value = "labrador retriever";
    key(input, "Enter");
    expect(model.get("classes")).toEqual([0]);
    expect(model.saves).toBe(0);
    expect(input.value).toBe("");
  });
});

describe("the groups control", () => {
  const control = ($) => {
    const box = $(".ng-groups-control");
    return {
      mode: box.dataset.mode,
      hidden: box.hidden,
      range: !$(".ng-groups-input").hidden,
      select: !$(".ng-groups-select").hidden,
      value: $(".ng-groups-value").hidden ? null : $(".ng-groups-value").textContent,
    };
  };

  it("is a slider over a contiguous range of counts (the live widget)", () => {
    const { $ } = mount(baseState({ n_groups_options: [1, 2, 3, 4, 5, 6] }));
    expect(control($)).toEqual({ mode: "range", hidden: false, range: true, select: false, value: "3" });
    expect($(".ng-groups-input").max).toBe("5");
    expect($(".ng-groups-input").value).toBe("2");
    expect($(".ng-groups-control label").htmlFor).toBe($(".ng-groups-input").id);
  });

  it("with one count, shows it as text", () => {
    const { $ } = mount(baseState({ n_groups_options: [3] }));
    expect(control($)).toEqual({ mode: "text", hidden: false, range: false, select: false, value: "3 groups" });
    expect($(".ng-groups-control label").hidden).toBe(true);
  });

  it("with scattered counts, offers exactly those", () => {
    const { $, $$, model } = mount(baseState({ n_groups_options: [2, 3, 8] }));
    expect(control($)).toEqual({ mode: "select", hidden: false, range: false, select: true, value: null });
    expect($$(".ng-groups-select option").map((o) => o.value)).toEqual(["2", "3", "8"]);
    expect($(".ng-groups-select").value).toBe("3");
    expect($(".ng-groups-control label").htmlFor).toBe($(".ng-groups-select").id);
    $(".ng-groups-select").value = "8";
    $(".ng-groups-select").dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("n_groups")).toBe(8);
    expect(model.saves).toBe(1);
  });

  it("follows n_groups_options when they arrive", async () => {
    const { $, model } = mount(baseState({ n_groups_options: [] }));
    expect(control($).mode).toBe("text");
    model.set("n_groups_options", [1, 2, 3, 4]);
    await tick();
    expect(control($)).toEqual({ mode: "range", hidden: false, range: true, select: false, value: "3" });
  });
});

/** A model whose "kernel" refuses some values: after save_changes it sets the last valid one. */
class RefusingModel extends StaticModel {
  constructor(state, refuse) {
    super(state);
    this.refuse = refuse;
    this.valid = { ...state };
  }

  save_changes() {
    super.save_changes();
    // The kernel answers in a later message.
    setTimeout(() => {
      for (const name of ["n_groups", "classes"]) {
        if (this.refuse(name, this.get(name))) this.set(name, this.valid[name]);
        else this.valid[name] = this.get(name);
      }
    }, 0);
  }
}

describe("a refused change", () => {
  it("the slider goes back to the model's n_groups", async () => {
    const model = new RefusingModel(baseState({ n_groups_options: [1, 2, 3, 4] }), (name, v) => name === "n_groups" && v === 1);
    const { el } = mountModel(model);
    const input = el.querySelector(".ng-groups-input");
    input.value = "0"; // count 1
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("n_groups")).toBe(1);
    expect(el.querySelector(".ng-groups-value").textContent).toBe("1");
    await tick(); // the kernel refuses
    await tick();
    expect(model.get("n_groups")).toBe(3);
    expect(input.value).toBe("2");
    expect(el.querySelector(".ng-groups-value").textContent).toBe("3");
    expect(el.querySelectorAll(".ng-tile")).toHaveLength(3);
  });

  it("the chips go back to the model's classes", async () => {
    const model = new RefusingModel(baseState({ classes: ["tiger cat"], class_names: ["tiger cat"] }), (name, v) => name === "classes" && v.includes("tabby"));
    const { el } = mountModel(model);
    const input = el.querySelector(".ng-class-input");
    input.value = "tabby";
    key(input, "Enter");
    const chips = () => [...el.querySelectorAll(".ng-chip")].map((c) => c.dataset.class);
    expect(chips()).toEqual(["tiger cat", "tabby"]);
    await tick();
    await tick();
    expect(model.get("classes")).toEqual(["tiger cat"]);
    expect(chips()).toEqual(["tiger cat"]);
  });

  it("a count the page has no data for leaves the control on the shown count", () => {
    const { $, model } = mount(baseState({ n_groups_options: [2, 3, 8] }), { 3: baseState(), 8: VARIANT4 });
    // 8's variant is there, 2's is not: choosing 2 is refused without any n_groups event.
    $(".ng-groups-select").value = "2";
    $(".ng-groups-select").dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("n_groups")).toBe(3);
    expect($(".ng-groups-select").value).toBe("3");
    expect(model.get("error")).toMatch(/n_groups=2/);
  });
});

describe("cleanup", () => {
  it("removes model listeners, DOM and revokes object URLs", async () => {
    const model = new StaticModel(baseState());
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = widget.render({ model, el });
    expect(model.listenerCount()).toBe(FIELDS.length);
    expect(created.length).toBe(3); // image + 2 icons
    const tile = el.querySelector(".ng-tile");
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect([...revoked].sort()).toEqual([...created].sort());
    expect(el.querySelector(".neuron-groups")).toBeNull();
    // DOM listeners are gone: clicking a detached tile does nothing.
    click(tile);
    expect(model.get("selected_group")).toBe(-1);
    // Trait changes after cleanup are ignored.
    model.set("icons", [png(), png(), png()]);
    await tick();
    expect(created.length).toBe(3);
  });

  it("two views of one model are independent", () => {
    const model = new StaticModel(baseState());
    const a = document.createElement("div");
    const b = document.createElement("div");
    document.body.append(a, b);
    const ca = widget.render({ model, el: a });
    const cb = widget.render({ model, el: b });
    expect(a.querySelector("datalist").id).not.toBe(b.querySelector("datalist").id);
    a.querySelector('.ng-tile[data-group="1"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    ca();
    expect(model.listenerCount()).toBe(FIELDS.length);
    cb();
    expect(model.listenerCount()).toBe(0);
  });
});

describe("StaticModel", () => {
  it("get/set/on/off/save_changes/send", () => {
    const m = new StaticModel({ a: 1 });
    const seen = [];
    const cb = (_m, v) => seen.push(v);
    m.on("change:a", cb);
    m.set("a", 2);
    m.set("a", 2); // unchanged: no event
    expect(seen).toEqual([2]);
    m.off("change:a", cb);
    m.set("a", 3);
    expect(seen).toEqual([2]);
    m.on("change:a change:b", cb);
    m.off();
    m.set("b", 1);
    expect(seen).toEqual([2]);
    m.save_changes();
    m.send({ type: "stop" });
    expect(m.saves).toBe(1);
    expect(m.sent).toEqual([{ type: "stop" }]);
  });

  it("swaps variants on n_groups and reports counts it has no data for", () => {
    const m = new StaticModel({ n_groups: 3, spatial_shape: [3, 2, 2], error: "" }, { 3: { spatial_shape: [3, 2, 2] }, 4: { spatial_shape: [4, 2, 2] } });
    const events = [];
    m.on("change:n_groups change:spatial_shape change:error", (_m, v) => events.push(v));
    m.set("n_groups", 4);
    expect(m.get("spatial_shape")).toEqual([4, 2, 2]);
    expect(m.get("n_groups")).toBe(4);
    m.set("n_groups", 7);
    expect(m.get("n_groups")).toBe(4);
    expect(m.get("error")).toMatch(/n_groups=7.*3, 4/);
    m.set("n_groups", 3);
    expect(m.get("error")).toBe("");
    expect(m.get("spatial_shape")).toEqual([3, 2, 2]);
    expect(events).toEqual([
      [4, 2, 2], // the variant first, then n_groups
      4,
      "No precomputed groups for n_groups=7 in this page (available: 3, 4).",
      [3, 2, 2],
      "", // the variant, then the error cleared, then n_groups
      3,
    ]);
  });

  it("without variants n_groups is a plain trait", () => {
    const m = new StaticModel({ n_groups: 3 });
    m.set("n_groups", 8);
    expect(m.get("n_groups")).toBe(8);
    expect(m.get("error")).toBeUndefined();
  });
});
