// Tests of the pure helpers (decoding, colours, layers, shares) and of the canvas drawing path,
// with a small fake 2D context standing in for the one jsdom lacks.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import widget, {
  StaticModel,
  attributionColor,
  cellAt,
  cellShares,
  computeLayers,
  decodeBase64,
  decodeFloat32,
  fadeOpacity,
  formatValue,
  parseColor,
  readGroupData,
  spotlightLevel,
  toBytes,
} from "./widget.js";

function f32(values) {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return view;
}

describe("decoding", () => {
  it("decodeBase64 handles plain, data: URL, whitespace and base64url", () => {
    const bytes = (dv) => [...new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength)];
    expect(decodeBase64("AAEC/w==")).toBeInstanceOf(DataView);
    expect(bytes(decodeBase64("AAEC/w=="))).toEqual([0, 1, 2, 255]);
    expect(bytes(decodeBase64("data:application/octet-stream;base64,AAEC/w=="))).toEqual([0, 1, 2, 255]);
    expect(bytes(decodeBase64("AAEC\n/w"))).toEqual([0, 1, 2, 255]);
    expect(bytes(decodeBase64("AAEC_w"))).toEqual([0, 1, 2, 255]);
    expect(decodeBase64("").byteLength).toBe(0);
  });

  it("decodeFloat32 reads little-endian floats at any offset", () => {
    const src = f32([1.5, -2, 0.25]);
    const shifted = new Uint8Array(13);
    shifted.set(new Uint8Array(src.buffer), 1);
    const view = new DataView(shifted.buffer, 1, 12);
    expect([...decodeFloat32(view)]).toEqual([1.5, -2, 0.25]);
    expect([...decodeFloat32(src.buffer)]).toEqual([1.5, -2, 0.25]);
    expect(decodeFloat32(new Uint8Array(5))).toBeNull();
    expect(decodeFloat32(null)).toBeNull();
    expect(toBytes("nope")).toBeNull();
  });

  it("readGroupData keeps the data consistent while traits arrive one by one", () => {
    const m = new StaticModel({
      spatial: f32(new Array(12).fill(0.5)),
      spatial_shape: [3, 2, 2],
      n_groups: 4, // already changed; spatial not yet
      group_colors: ["#f00", "#0f0", "#00f", "#ff0"],
      class_names: ["a"],
      attributions: f32([1, 2, 3, 4]), // 4 groups: does not match 3 -> ignored
    });
    const d = readGroupData(m);
    expect(d.n).toBe(3);
    expect(d.attributions).toBeNull();
    expect(d.rgb).toEqual([
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ]);
    m.set("spatial", null);
    const d2 = readGroupData(m);
    expect(d2.spatial).toBeNull();
    expect(d2.n).toBe(4);
    expect(d2.attributions).not.toBeNull();
    expect(d2.maxAbs).toBe(4);
  });

  it("falls back to the original hue-circle colours", () => {
    const m = new StaticModel({ n_groups: 2, group_colors: ["not-a-colour"] });
    const d = readGroupData(m);
    expect(d.colors).toEqual(["hsl(0, 80%, 50%)", "hsl(180, 80%, 50%)"]);
  });
});

describe("pure helpers", () => {
  it("parseColor", () => {
    expect(parseColor("#abc")).toEqual([170, 187, 204]);
    expect(parseColor("#1f77b4")).toEqual([31, 119, 180]);
    expect(parseColor("#1f77b4cc")).toEqual([31, 119, 180]);
    expect(parseColor("rgb(1, 2, 3)")).toEqual([1, 2, 3]);
    expect(parseColor("rgba(1 2 3 / 0.5)")).toEqual([1, 2, 3]);
    expect(parseColor("hsl(120, 100%, 50%)")).toEqual([0, 255, 0]);
    expect(parseColor("hsl(0.5turn 100% 50%)")).toEqual([0, 255, 255]);
    expect(parseColor("rebeccapurple")).toBeNull();
  });

  it("computeLayers: colour layers, lighten composite, spotlight masks", () => {
    const spatial = new Float32Array([1, 0, 0.5, 0.25, 0, 1]); // 2 groups, 1x3
    const { color, gray, composite } = computeLayers(spatial, 2, 1, 3, [
      [255, 0, 0],
      [0, 0, 200],
    ]);
    expect([...color[0].slice(0, 4)]).toEqual([255, 0, 0, 255]);
    expect([...color[1].slice(8, 12)]).toEqual([0, 0, 200, 255]);
    // composite = per-channel max
    expect([...composite]).toEqual([255, 0, 50, 255, 0, 0, 0, 255, 128, 0, 200, 255]);
    expect(gray[0][0]).toBe(255);
    expect(gray[0][4]).toBe(0);
    expect(gray[0][8]).toBe(Math.round(spotlightLevel(0.5) * 255));
  });

  it("cellShares and fadeOpacity", () => {
    const spatial = new Float32Array([0.2, 0, 0.8, 0, 0.4, 0]); // 3 groups, 1x2
    const shares = cellShares(spatial, 3, 1, 2, { row: 0, col: 0 });
    expect([...shares].map((s) => +s.toFixed(3))).toEqual([0.25, 1, 0.5]);
    expect([...cellShares(spatial, 3, 1, 2, { row: 0, col: 1 })]).toEqual([0, 0, 0]);
    expect(fadeOpacity(0)).toBe(0.15);
    expect(fadeOpacity(1)).toBe(1);
    expect(fadeOpacity(0.5)).toBe(0.575);
  });

  it("cellAt maps pointer positions to cells", () => {
    const rect = { left: 10, top: 20, width: 140, height: 140 };
    expect(cellAt(10, 20, rect, 14, 14)).toEqual({ row: 0, col: 0 });
    expect(cellAt(149.9, 159.9, rect, 14, 14)).toEqual({ row: 13, col: 13 });
    expect(cellAt(150, 30, rect, 14, 14)).toBeNull();
    expect(cellAt(5, 30, rect, 14, 14)).toBeNull();
    expect(cellAt(50, 50, { left: 0, top: 0, width: 0, height: 0 }, 14, 14)).toBeNull();
  });

  it("formatValue and attributionColor", () => {
    expect(formatValue(0.12345)).toBe("0.123");
    expect(formatValue(-0.0001)).toBe("0.000");
    expect(formatValue(-1.5)).toBe("-1.500");
    expect(formatValue(NaN)).toBe("–");
    expect(attributionColor(1, 2)).toBe("rgba(33, 113, 181, 0.4)");
    expect(attributionColor(-2, 2)).toBe("rgba(230, 85, 13, 0.8)");
    expect(attributionColor(0, 2)).toBe("transparent");
    expect(attributionColor(1, 0)).toBe("transparent");
  });
});

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
      group_colors: ["#ff0000", "#0000ff"],
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

  it("recomputes the canvases when spatial changes", async () => {
    const { $, model, cleanup } = mountDrawing();
    model.set("spatial", f32([0, 0, 0, 0, 1, 1, 1, 1]));
    await new Promise((r) => setTimeout(r, 0));
    expect([...contexts.get($(".ng-map")).pixels.slice(0, 4)]).toEqual([0, 0, 255, 255]);
    cleanup();
  });
});
