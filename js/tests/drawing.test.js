// The canvas drawing path, with a small fake 2D context standing in for the one jsdom lacks.
// (The pixel functions themselves are tested in pure.test.js.)
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { f32 } from "./testing.js";
import widget, { StaticModel, groupMapPixels } from "../src/index.js";


// ---- canvas path with a fake 2D context ---------------------------------------------------

/** A fake 2D context that keeps a pixel buffer per canvas (enough for this widget). */
function installFakeCanvas() {
  const contexts = new Map();
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(function () {
    if (!contexts.has(this)) {
      const canvas = this;
      const ctx = {
        canvas,
        fillStyle: "#000",
        pixels: new Uint8ClampedArray(0),
        calls: [],
        size() {
          const n = canvas.width * canvas.height * 4;
          if (ctx.pixels.length !== n) ctx.pixels = new Uint8ClampedArray(n);
        },
        createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
        putImageData(image) {
          ctx.size();
          ctx.pixels.set(image.data);
          ctx.calls.push("putImageData");
        },
        drawImage(src) {
          ctx.size();
          ctx.pixels.set(contexts.get(src).pixels);
          ctx.calls.push("drawImage");
        },
        clearRect() {
          ctx.size();
          ctx.pixels.fill(0);
        },
        fillRect() {
          ctx.calls.push("fillRect");
        },
        getImageData: () => ({ data: new Uint8ClampedArray([0, 0, 0, 255]) }),
      };
      contexts.set(this, ctx);
    }
    return contexts.get(this);
  });
  return contexts;
}

describe("drawing", () => {
  let contexts;
  beforeEach(() => {
    contexts = installFakeCanvas();
    URL.createObjectURL = vi.fn(() => "blob:x");
    URL.revokeObjectURL = vi.fn();
  });
  afterEach(() => document.body.replaceChildren());

  function mountDrawing() {
    const model = new StaticModel({
      spatial: f32([1, 0, 0, 0.5, /* g1 */ 0, 1, 0, 0.5]),
      spatial_shape: [2, 2, 2],
      group_colors: [
        [255, 0, 0],
        [0, 0, 255],
      ],
      n_groups: 2,
      class_names: [],
      selected_group: -1,
    });
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = widget.render({ model, el });
    return { model, el, cleanup, $: (s) => el.querySelector(s) };
  }

  it("draws the composite map once and blits cached group canvases on hover", () => {
    const { $, cleanup } = mountDrawing();
    const map = $(".ng-map");
    expect(map.width).toBe(2);
    expect(map.height).toBe(2);
    const mapCtx = contexts.get(map);
    // lighten composite: red, blue, black, (128, 0, 128)
    expect([...mapCtx.pixels]).toEqual([255, 0, 0, 255, 0, 0, 255, 255, 0, 0, 0, 255, 128, 0, 128, 255]);

    const putsBefore = [...contexts.values()].reduce(
      (n, c) => n + c.calls.filter((k) => k === "putImageData").length,
      0,
    );
    $('.ng-tile[data-group="1"]').dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    const groupCtx = contexts.get($(".ng-map-group"));
    expect([...groupCtx.pixels.slice(0, 8)]).toEqual([0, 0, 0, 255, 0, 0, 255, 255]);
    const spotCtx = contexts.get($(".ng-spotlight"));
    expect(spotCtx.pixels[4]).toBe(255); // group 1 present at cell 1
    expect(spotCtx.pixels[0]).toBe(0); // absent at cell 0
    // Hover only copied cached canvases: no new pixel computation.
    const putsAfter = [...contexts.values()].reduce(
      (n, c) => n + c.calls.filter((k) => k === "putImageData").length,
      0,
    );
    expect(putsAfter).toBe(putsBefore);
    cleanup();
  });

  it("the map shows groupMapPixels of the traits", () => {
    const { $, model, cleanup } = mountDrawing();
    const expected = groupMapPixels(new Float32Array([1, 0, 0, 0.5, 0, 1, 0, 0.5]), [2, 2, 2], model.get("group_colors"));
    expect([...contexts.get($(".ng-map")).pixels]).toEqual([...expected]);
    cleanup();
  });

  it("recomputes the canvases when spatial or the colours change", async () => {
    const { $, model, cleanup } = mountDrawing();
    model.set("spatial", f32([0, 0, 0, 0, 1, 1, 1, 1]));
    await new Promise((r) => setTimeout(r, 0));
    expect([...contexts.get($(".ng-map")).pixels.slice(0, 4)]).toEqual([0, 0, 255, 255]);
    model.set("group_colors", [
      [255, 0, 0],
      [10, 200, 30],
    ]);
    await new Promise((r) => setTimeout(r, 0));
    expect([...contexts.get($(".ng-map")).pixels.slice(0, 4)]).toEqual([10, 200, 30, 255]);
    cleanup();
  });

  it("without maps the map is filled black and nothing else is drawn", () => {
    const model = new StaticModel({ n_groups: 2, group_colors: [[255, 0, 0], [0, 0, 255]] });
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = widget.render({ model, el });
    const mapCtx = contexts.get(el.querySelector(".ng-map"));
    expect(mapCtx.calls).toEqual(["fillRect"]);
    expect(mapCtx.fillStyle).toBe("#000");
    cleanup();
  });
});
