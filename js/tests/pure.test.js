// @vitest-environment node
// The pure functions, in node without any DOM: importing the module must not touch one
// (a pytest imports it with node to cross-check formatValue, attributionColor, textColor and
// groupMapPixels against Python).
import { describe, expect, it } from "vitest";
import { f32 } from "./testing.js";
import {
  FIELDS,
  GALLERY_FIELDS,
  GROUP_FIELDS,
  StaticModel,
  attributionColor,
  cellAt,
  cellShares,
  chipLabels,
  computeLayers,
  cssColor,
  decodeBase64,
  decodeFloat32,
  fadeOpacity,
  formatValue,
  groupCounts,
  groupMapPixels,
  groupsMode,
  readGroupData,
  readState,
  relativeLuminance,
  resolveClass,
  reviveBinary,
  spotlightLevel,
  textColor,
  toBytes,
  toRGB,
} from "../src/index.js";


const bytesOf = (dv) => [...new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength)];

describe("module", () => {
  it("imports without a DOM", () => {
    expect(typeof document).toBe("undefined");
    expect(typeof formatValue).toBe("function");
  });

  it("FIELDS names every synced trait once; GROUP_FIELDS are among them", () => {
    expect(new Set(FIELDS).size).toBe(FIELDS.length);
    expect([...FIELDS].sort()).toEqual(
      [
        "attributions", "class_names", "class_options", "classes", "error", "group_colors",
        "icon_size", "icons", "image", "layer", "model_name", "n_groups", "n_groups_options",
        "predictions", "progress", "progress_text", "selected_group", "spatial", "spatial_shape",
        "status", "title", "earlier_layers", "flows", "layer_groups", "selected_layer",
        "image_options", "attribution_method", "attribution_methods", "tables", "rest",
        "disagreements", "explained_variance", "explained_variance_by_k", "stability", "regions",
      ].sort(),
    );
    expect([...GROUP_FIELDS].sort()).toEqual(
      [
        "attributions", "class_names", "group_colors", "icon_size", "icons", "n_groups", "spatial", "spatial_shape",
        "tables", "rest", "disagreements", "explained_variance", "stability", "regions",
      ].sort(),
    );
    expect([...GALLERY_FIELDS].sort()).toEqual(
      [
        "view", "title", "model_name", "layer", "n_images", "gallery", "group_colors", "icons", "icon_size",
        "status", "progress", "progress_text", "error", "selected_group", "explained_variance", "stability",
      ].sort(),
    );
    expect(GROUP_FIELDS.every((f) => FIELDS.includes(f))).toBe(true);
    expect(Object.isFrozen(FIELDS)).toBe(true);
  });
});

describe("decoding", () => {
  it("decodeBase64 handles plain, data: URL, whitespace and base64url", () => {
    expect(decodeBase64("AAEC/w==")).toBeInstanceOf(DataView);
    expect(bytesOf(decodeBase64("AAEC/w=="))).toEqual([0, 1, 2, 255]);
    expect(bytesOf(decodeBase64("data:application/octet-stream;base64,AAEC/w=="))).toEqual([0, 1, 2, 255]);
    expect(bytesOf(decodeBase64("AAEC\n/w"))).toEqual([0, 1, 2, 255]);
    expect(bytesOf(decodeBase64("AAEC_w"))).toEqual([0, 1, 2, 255]);
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

  it("reviveBinary turns every {$base64} into bytes, at any depth, and leaves the rest", () => {
    const revived = reviveBinary({
      image: { $base64: "AAEC" },
      icons: [{ $base64: "/w==" }, { $base64: "" }],
      nested: { deeper: [{ $base64: "AQ==" }] },
      classes: ["tabby", 208],
      n_groups: 3,
      title: null,
    });
    expect(bytesOf(revived.image)).toEqual([0, 1, 2]);
    expect(revived.icons.map(bytesOf)).toEqual([[255], []]);
    expect(bytesOf(revived.nested.deeper[0])).toEqual([1]);
    expect(revived.classes).toEqual(["tabby", 208]);
    expect(revived.n_groups).toBe(3);
    expect(revived.title).toBeNull();
  });

  it("readState brings each trait to its type; ints stay ints in classes", () => {
    const s = readState(
      new StaticModel({
        classes: [208, "tabby", null, 1.5],
        group_colors: [[255, 0, 0], "hsl(0, 80%, 50%)", [300, -4, 12.6]],
        n_groups_options: [2, "3", 0, 4.5],
        selected_group: "x",
        predictions: [{ name: "tabby", probability: 0.5 }, null],
        status: undefined,
        progress: 3,
      }),
    );
    expect(s.classes).toEqual([208, "tabby"]);
    expect(s.group_colors).toEqual([
      [255, 0, 0],
      [128, 128, 128], // not a colour: the neutral fallback
      [255, 0, 13],
    ]);
    expect(s.n_groups_options).toEqual([2, 3]);
    expect(s.selected_group).toBe(-1);
    expect(s.predictions).toEqual([{ name: "tabby", probability: 0.5 }]);
    expect(s.status).toBe("ready");
    expect(s.progress).toBe(1);
    expect(s.class_names).toEqual([]);
    expect(s.title).toBe("");
  });

  it("readGroupData keeps the data consistent while traits arrive one by one", () => {
    const m = new StaticModel({
      spatial: f32(new Array(12).fill(0.5)),
      spatial_shape: [3, 2, 2],
      n_groups: 4, // already changed; spatial not yet
      group_colors: [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
        [255, 255, 0],
      ],
      class_names: ["a"],
      attributions: f32([1, -5, 3, 4]), // 4 groups: does not match 3 -> ignored
    });
    const d = readGroupData(m);
    expect([d.n, d.h, d.w]).toEqual([3, 2, 2]);
    expect(d.attributions).toBeNull();
    expect(d.maxAbs).toBe(0);
    expect(d.rgb).toEqual([
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ]);
    m.set("spatial", null);
    const d2 = readGroupData(m);
    expect(d2.spatial).toBeNull();
    expect(d2.n).toBe(4);
    expect([...d2.attributions]).toEqual([1, -5, 3, 4]);
    expect(d2.maxAbs).toBe(5);
  });

  it("readGroupData gives groups without a colour the neutral grey", () => {
    const d = readGroupData(new StaticModel({ n_groups: 2, group_colors: [[10, 20, 30]] }));
    expect(d.rgb).toEqual([
      [10, 20, 30],
      [128, 128, 128],
    ]);
  });
});

describe("colours", () => {
  it("toRGB accepts three numbers, rounds and clamps them; anything else is null", () => {
    expect(toRGB([1, 2, 3])).toEqual([1, 2, 3]);
    expect(toRGB([254.6, -3, 300])).toEqual([255, 0, 255]);
    expect(toRGB([1, 2])).toBeNull();
    expect(toRGB([1, 2, "x"])).toBeNull();
    expect(toRGB("#ff0000")).toBeNull();
  });

  it("cssColor writes rgb() with numbers", () => {
    expect(cssColor([12, 0, 255])).toBe("rgb(12 0 255)");
  });

  it("relativeLuminance follows WCAG 2", () => {
    expect(relativeLuminance([0, 0, 0])).toBe(0);
    expect(relativeLuminance([255, 255, 255])).toBeCloseTo(1, 12);
    expect(relativeLuminance([255, 0, 0])).toBeCloseTo(0.2126, 12);
    expect(relativeLuminance([0, 255, 0])).toBeCloseTo(0.7152, 12);
    // sRGB 128 -> linear ((128/255 + 0.055) / 1.055) ** 2.4
    expect(relativeLuminance([128, 128, 128])).toBeCloseTo(((128 / 255 + 0.055) / 1.055) ** 2.4, 12);
  });

  it("textColor picks the higher contrast: black on yellow and cyan, white on blue", () => {
    const contrast = (a, b) => {
      const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const samples = [
      [255, 255, 0],
      [0, 255, 255],
      [0, 0, 255],
      [255, 0, 0],
      [0, 128, 0],
      [128, 0, 255],
      [230, 230, 230],
      [20, 20, 20],
    ];
    for (const rgb of samples) {
      const black = contrast(rgb, [0, 0, 0]);
      const white = contrast(rgb, [255, 255, 255]);
      expect(textColor(rgb)).toBe(black >= white ? "#000" : "#fff");
    }
    expect(textColor([255, 255, 0])).toBe("#000");
    expect(textColor([0, 255, 255])).toBe("#000");
    expect(textColor([0, 0, 255])).toBe("#fff");
  });

  it("textColor switches where both contrasts are equal (luminance sqrt(0.0525) - 0.05)", () => {
    // Equal contrast at L* = sqrt(0.0525) - 0.05 ~ 0.17913; grey 118 is just above, 117 below.
    expect(relativeLuminance([118, 118, 118])).toBeGreaterThan(Math.sqrt(0.0525) - 0.05);
    expect(relativeLuminance([117, 117, 117])).toBeLessThan(Math.sqrt(0.0525) - 0.05);
    expect(textColor([118, 118, 118])).toBe("#000");
    expect(textColor([117, 117, 117])).toBe("#fff");
  });

  it("formatValue and attributionColor", () => {
    expect(formatValue(0.12345)).toBe("0.123");
    expect(formatValue(-0.0001)).toBe("0.000");
    expect(formatValue(-1.5)).toBe("-1.500");
    expect(formatValue(1e-7)).toBe("0.000");
    expect(formatValue(NaN)).toBe("–");
    expect(formatValue(Infinity)).toBe("–");
    expect(attributionColor(1, 2)).toBe("rgba(33, 113, 181, 0.4)");
    expect(attributionColor(-2, 2)).toBe("rgba(230, 85, 13, 0.8)");
    expect(attributionColor(5, 2)).toBe("rgba(33, 113, 181, 0.8)");
    expect(attributionColor(0, 2)).toBe("transparent");
    expect(attributionColor(1, 0)).toBe("transparent");
    expect(attributionColor(NaN, 1)).toBe("transparent");
  });
});

describe("pixels", () => {
  it("groupMapPixels: each group's colour scaled by its clipped presence, max per channel", () => {
    // 2 groups on a 1x3 map; values outside [0, 1] are clipped, NaN is absent.
    const spatial = new Float32Array([1, 0.5, 2, /* g1 */ 0.25, NaN, -1]);
    const px = groupMapPixels(spatial, [2, 1, 3], [
      [255, 0, 0],
      [0, 0, 200],
    ]);
    expect(px).toBeInstanceOf(Uint8ClampedArray);
    expect([...px]).toEqual([255, 0, 50, 255, 128, 0, 0, 255, 255, 0, 0, 255]);
  });

  it("groupMapPixels: lighter wins per channel, not per group", () => {
    const px = groupMapPixels(new Float32Array([1, 1]), [2, 1, 1], [
      [200, 10, 0],
      [0, 100, 50],
    ]);
    expect([...px]).toEqual([200, 100, 50, 255]);
  });

  it("groupMapPixels: no groups is opaque black; too few values is an error", () => {
    expect([...groupMapPixels(new Float32Array(0), [0, 1, 2], [])]).toEqual([0, 0, 0, 255, 0, 0, 0, 255]);
    expect(() => groupMapPixels(new Float32Array(3), [1, 2, 2], [[1, 2, 3]])).toThrow(RangeError);
  });

  it("computeLayers: colour layers, their composite is groupMapPixels, spotlight masks", () => {
    const spatial = new Float32Array([1, 0, 0.5, 0.25, 0, 1]); // 2 groups, 1x3
    const rgb = [
      [255, 0, 0],
      [0, 0, 200],
    ];
    const { color, gray, composite } = computeLayers(spatial, 2, 1, 3, rgb);
    expect([...color[0]]).toEqual([255, 0, 0, 255, 0, 0, 0, 255, 128, 0, 0, 255]);
    expect([...color[1]]).toEqual([0, 0, 50, 255, 0, 0, 0, 255, 0, 0, 200, 255]);
    expect([...composite]).toEqual([...groupMapPixels(spatial, [2, 1, 3], rgb)]);
    expect([...gray[0]]).toEqual([255, 255, 255, 255, 0, 0, 0, 255, ...Array(3).fill(Math.round(spotlightLevel(0.5) * 255)), 255]);
  });

  it("spotlightLevel brightens mid values and saturates at 1", () => {
    expect(spotlightLevel(0)).toBe(0);
    expect(spotlightLevel(1)).toBe(1);
    expect(spotlightLevel(0.5)).toBeCloseTo(1.5 * 0.5 ** 0.75, 12);
    expect(spotlightLevel(0.8)).toBe(1);
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
});

describe("controls", () => {
  it("groupsMode: text for one count, a slider for a range, a choice for scattered counts", () => {
    expect(groupsMode([])).toBe("text");
    expect(groupsMode([6])).toBe("text");
    expect(groupsMode([1, 2, 3, 4, 5, 6])).toBe("range");
    expect(groupsMode([4, 5])).toBe("range");
    expect(groupsMode([4, 6])).toBe("select");
    expect(groupsMode([2, 3, 8])).toBe("select");
  });

  it("groupCounts: the options plus the current count, sorted, once each", () => {
    expect(groupCounts([6, 4], 6)).toEqual([4, 6]);
    expect(groupCounts([1, 2, 3], 5)).toEqual([1, 2, 3, 5]);
    expect(groupCounts([], 6)).toEqual([6]);
    expect(groupCounts([], 0)).toEqual([]);
  });

  it("chipLabels: an index shows its class name, a name its row's spelling", () => {
    const options = ["tench", "goldfish", "great white shark"];
    expect(chipLabels([1, "Tench"], ["goldfish", "tench"], options)).toEqual(["goldfish", "tench"]);
    // A standalone page has no options: an index shows its row.
    expect(chipLabels([208], ["Labrador retriever"], [])).toEqual(["Labrador retriever"]);
    // Pending changes (rows not recomputed yet): names as written, indices by their option,
    // even when the lengths happen to agree.
    expect(chipLabels([1, "tench"], ["goldfish"], options)).toEqual(["goldfish", "tench"]);
    expect(chipLabels(["tench", 2], ["a", "b"], options)).toEqual(["tench", "great white shark"]);
    expect(chipLabels([208, "tench"], [], [])).toEqual(["208", "tench"]);
  });

  it("resolveClass: exact (any case), else the only one containing it, else a prefix", () => {
    const options = ["tiger cat", "tiger", "tiger shark", "tabby"];
    expect(resolveClass("TIGER CAT", options)).toBe("tiger cat");
    expect(resolveClass("shark", options)).toBe("tiger shark");
    expect(resolveClass("tig", options)).toBe("tiger cat");
    expect(resolveClass("zebra", options)).toBeNull();
    expect(resolveClass("  ", options)).toBeNull();
  });
});
