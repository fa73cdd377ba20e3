// The gallery view of shared groups (view "gallery"): rendering from GalleryState, hover and
// pin, icons streamed in place, the Stop button, and a standalone page of it.
import { afterEach, describe, expect, it } from "vitest";
import { createMounter, click, hover, key, leave, png, PNG_B64 } from "./testing.js";
import { boxStyle, classesText, GALLERY_FIELDS, mountPage, regionText, shortImageName, StaticModel } from "../src/index.js";

const COLORS = [
  [230, 26, 26],
  [26, 230, 26],
  [62, 62, 234],
];

/** @param {number} j @param {number} i */
function region(j, i) {
  return {
    image: `photos/dog_${j}_${i}.jpg`,
    index: 10 * j + i,
    y: i,
    x: j,
    value: 3 - i / 2,
    crop: png(),
    box: [1 / 3, 1 / 3, 2 / 3, 2 / 3],
  };
}

function state(overrides = {}) {
  return {
    view: "gallery",
    title: "Retrievers",
    model_name: "InceptionV1",
    layer: "mixed4d",
    n_images: 2000,
    gallery: [0, 1, 2].map((j) => ({
      usage: [0.5, 0.3, 0.2][j],
      classes: j === 2 ? [] : [{ name: "Labrador retriever", value: 0.41 }, { name: "tennis ball", value: 0.1 }],
      regions: [0, 1, 2, 3].map((i) => region(j, i)),
    })),
    group_colors: COLORS,
    icons: [png(), new Uint8Array(0), png()],
    icon_size: 80,
    status: "ready",
    progress: 0,
    progress_text: "",
    error: "",
    selected_group: -1,
    ...overrides,
  };
}

const mounter = createMounter();
afterEach(() => mounter.unmountAll());

describe("gallery helpers", () => {
  it("names regions and classes in words", () => {
    expect(regionText(region(1, 2))).toBe("photos/dog_1_2.jpg · cell (2, 1) · value 2.000");
    expect(classesText(state().gallery[0])).toBe("Pushes Labrador retriever (0.410), tennis ball (0.100)");
    expect(classesText(state().gallery[2])).toBe("");
    expect(shortImageName("a/b/c.jpg")).toBe("c.jpg");
    expect(shortImageName("C:\\x\\" + "n".repeat(30) + ".jpg")).toHaveLength(24);
  });

  it("places the cell box in percent of the crop, clamped", () => {
    expect(boxStyle([0.25, 0.5, 0.75, 1])).toEqual({ top: "25.00%", left: "50.00%", width: "50.00%", height: "50.00%" });
    expect(boxStyle([-1, 0, 2, 0.5])).toEqual({ top: "0.00%", left: "0.00%", width: "50.00%", height: "100.00%" });
  });
});

describe("gallery view", () => {
  it("renders each group with its icon, usage, classes and regions", () => {
    const { $, $$ } = mounter.mountModel(new StaticModel(state()));
    expect($(".neuron-groups").classList.contains("ng-gallery-view")).toBe(true);
    expect($(".ng-title").textContent).toBe("Retrievers");
    expect($(".ng-meta").textContent).toBe("InceptionV1 · mixed4d · 3 groups over 2000 images");
    expect($$(".ng-gallery-group")).toHaveLength(3);
    expect($$(".ng-region")).toHaveLength(12);
    expect($$(".ng-gallery-usage").map((n) => n.textContent)).toEqual(["50.0% of use", "30.0% of use", "20.0% of use"]);
    const classes = $$(".ng-gallery-classes");
    expect(classes[0].textContent).toContain("Labrador retriever");
    expect(classes[2].hidden).toBe(true);
    // The icon of group 1 is pending: a placeholder.
    const heads = $$(".ng-tile");
    expect(heads[0].querySelector("img.ng-icon").hidden).toBe(false);
    expect(heads[1].querySelector("img.ng-icon").hidden).toBe(true);
    expect(heads[1].classList.contains("is-loading")).toBe(true);
    // Each region: its crop, its cell box in the group's colour, its value.
    const r = $('.ng-region[data-group="2"][data-index="1"]');
    expect(r.querySelector("img.ng-region-crop").getAttribute("src")).toMatch(/^(blob:|data:image\/jpeg)/);
    const cell = r.querySelector(".ng-region-cell");
    expect(cell.style.top).toBe("33.33%");
    expect(cell.style.width).toBe("33.33%");
    expect(cell.style.borderColor).toBe("rgb(62, 62, 234)");
    expect(r.querySelector(".ng-region-caption").textContent).toBe("2.500");
    expect(r.getAttribute("title")).toBe(regionText(region(2, 1)));
  });

  it("reads a region on hover and shows its group", () => {
    const { $ } = mounter.mountModel(new StaticModel(state()));
    const root = $(".neuron-groups");
    const r = $('.ng-region[data-group="1"][data-index="3"]');
    hover(r);
    expect($(".ng-gallery-detail").textContent).toBe(regionText(region(1, 3)));
    expect(r.classList.contains("is-hovered")).toBe(true);
    expect(root.dataset.selected).toBe("1");
    expect($('.ng-gallery-group[data-group="1"]').classList.contains("is-selected")).toBe(true);
    leave($(".ng-gallery"));
    expect(root.dataset.selected).toBe("-1");
    expect(r.classList.contains("is-hovered")).toBe(false);
  });

  it("pins a group by click or keyboard, and unpins it", () => {
    const model = new StaticModel(state());
    const { $ } = mounter.mountModel(model);
    const head = $('.ng-tile[data-group="2"]');
    click(head);
    expect(model.get("selected_group")).toBe(2);
    expect(model.saves).toBe(1);
    expect($(".neuron-groups").dataset.pinned).toBe("2");
    expect(head.getAttribute("aria-pressed")).toBe("true");
    expect($('.ng-gallery-group[data-group="2"]').classList.contains("is-pinned")).toBe(true);
    key(head, "Enter");
    expect(model.get("selected_group")).toBe(-1);
    click($('.ng-region[data-group="0"][data-index="0"]'));
    expect(model.get("selected_group")).toBe(0);
  });

  it("updates icons in place and shows progress with a Stop button while working", () => {
    const model = new StaticModel(state({ status: "optimizing", progress: 0.25, progress_text: "Icons: step 4 / 16" }));
    const { $, $$ } = mounter.mountModel(model);
    const before = $$(".ng-region")[0];
    expect($(".ng-progress").hidden).toBe(false);
    expect($(".ng-progress-text").textContent).toBe("Icons: step 4 / 16");
    model.set("icons", [png(), png(), png()]);
    expect($$(".ng-tile")[1].querySelector("img.ng-icon").hidden).toBe(false);
    expect($$(".ng-region")[0]).toBe(before); // the crops were not rebuilt
    click($(".ng-stop"));
    expect(model.sent).toEqual([{ type: "stop" }]);
    expect($(".ng-stop").disabled).toBe(true);
    model.set("status", "ready");
    expect($(".ng-progress").hidden).toBe(true);
  });

  it("shows classes when they arrive and errors when they fail", () => {
    const model = new StaticModel(state());
    const { $, $$ } = mounter.mountModel(model);
    const gallery = state().gallery;
    gallery[2] = { ...gallery[2], classes: [{ name: "tiger cat", value: 0.2 }] };
    model.set("gallery", gallery);
    expect($$(".ng-gallery-classes")[2].textContent).toBe("Pushes tiger cat (0.200)");
    model.set("error", "These groups were fitted with another model.");
    expect($(".ng-error").hidden).toBe(false);
  });

  it("lists the same fields as the Python GalleryState, and cleans up its listeners", () => {
    expect(GALLERY_FIELDS).toContain("gallery");
    const model = new StaticModel(state());
    const { cleanup } = mounter.mountModel(model);
    expect(model.listenerCount()).toBeGreaterThan(0);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    mounter.unmountAll();
  });
});

describe("gallery page", () => {
  it("mounts from page JSON (bytes as base64) without a kernel", () => {
    const s = state();
    const json = JSON.stringify({
      esm: "",
      state: {
        ...s,
        icons: [{ $base64: PNG_B64 }, { $base64: "" }, { $base64: PNG_B64 }],
        gallery: s.gallery.map((g) => ({ ...g, regions: g.regions.map((r) => ({ ...r, crop: { $base64: PNG_B64 } })) })),
      },
      variants: {},
    });
    const root = document.createElement("div");
    document.body.append(root);
    const { model, cleanup } = mountPage(root, JSON.parse(json));
    mounter.track({ cleanup });
    expect(root.dataset.ready).toBe("true");
    expect(root.querySelectorAll(".ng-region img.ng-region-crop")).toHaveLength(12);
    expect(root.querySelector(".ng-progress").hidden).toBe(true);
    click(root.querySelector('.ng-tile[data-group="1"]'));
    expect(model.get("selected_group")).toBe(1);
  });
});
