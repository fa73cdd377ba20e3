// @vitest-environment node
// The attribution tables and flows in the method shown, and the explained-variance curve's
// geometry: pure functions, on synthetic states.
import { describe, expect, it } from "vitest";
import {
  StaticModel,
  classFlow,
  columnFlows,
  curvePaths,
  decodeFlow,
  explainedAt,
  explainedText,
  offeredMethods,
  readGroupData,
  readState,
  readTable,
  shownMethod,
  stabilityText,
  varianceCurve,
} from "../src/index.js";
import { f32 } from "./testing.js";

const u8 = (values) => new DataView(new Uint8Array(values).buffer);

// 2 classes x 3 groups, one table per method.
const TABLES = {
  integrated: [1, -2, 3, 4, 5, -6],
  linear: [0.5, 0.25, -1, 2, -4, 1],
  ablation: [0.125, 0.25, 0.375, 0.5, 0.625, -0.75],
};

function model(overrides = {}) {
  return new StaticModel({
    spatial: f32(new Array(12).fill(0.5)),
    spatial_shape: [3, 2, 2],
    n_groups: 3,
    class_names: ["a", "b"],
    attributions: f32(TABLES.integrated),
    tables: Object.fromEntries(Object.entries(TABLES).map(([m, v]) => [m, f32(v)])),
    attribution_methods: ["integrated", "linear", "ablation"],
    attribution_method: "integrated",
    rest: f32([0.75, -0.5]),
    disagreements: u8([0, 1, 0, 0, 0, 1]),
    ...overrides,
  });
}

/** The table of a model's state. */
function tableOf(m, previous = null) {
  return readTable(readState(m), readGroupData(m), previous);
}

describe("the methods offered", () => {
  const tables = { linear: f32([1, 2]), integrated: f32([1, 2]), ablation: f32([1]), other: f32([3, 4]) };

  it("are the listed ones whose table has the right size, in the listed order", () => {
    expect(offeredMethods(tables, ["linear", "ablation", "integrated"], 2)).toEqual(["linear", "integrated"]);
    expect(offeredMethods(tables, ["integrated", "missing"], 2)).toEqual(["integrated"]);
  });

  it("without a list: the known methods first, then the others", () => {
    expect(offeredMethods(tables, [], 2)).toEqual(["integrated", "linear", "other"]);
    expect(offeredMethods({}, [], 2)).toEqual([]);
  });

  it("the one shown is the one asked for when offered, else the first", () => {
    expect(shownMethod("linear", ["integrated", "linear"])).toBe("linear");
    expect(shownMethod("ablation", ["integrated", "linear"])).toBe("integrated");
    expect(shownMethod("", [])).toBe("");
  });
});

describe("readTable", () => {
  it("shows tables[attribution_method], with the rest only for integrated gradients", () => {
    const t = tableOf(model());
    expect(t.methods).toEqual(["integrated", "linear", "ablation"]);
    expect(t.method).toBe("integrated");
    expect([...t.values]).toEqual(TABLES.integrated);
    expect(t.maxAbs).toBe(6);
    expect([...t.rest]).toEqual([0.75, -0.5]);
    expect([...t.disagreements]).toEqual([0, 1, 0, 0, 0, 1]);

    const lin = tableOf(model({ attribution_method: "linear" }));
    expect(lin.method).toBe("linear");
    expect([...lin.values]).toEqual(TABLES.linear);
    expect(lin.maxAbs).toBe(4);
    expect(lin.rest).toBeNull();
    expect([...lin.disagreements]).toEqual([0, 1, 0, 0, 0, 1]); // marked whatever is shown
  });

  it("an older state (no tables) shows its attributions, as the only table", () => {
    const t = tableOf(model({ tables: undefined, attribution_methods: undefined, attribution_method: undefined, rest: undefined, disagreements: undefined }));
    expect(t.methods).toEqual([]);
    expect(t.method).toBe("");
    expect([...t.values]).toEqual(TABLES.integrated);
    expect(t.rest).toBeNull();
    expect(t.disagreements).toBeNull();
  });

  it("ignores what does not match the table's shape (traits arriving one by one)", () => {
    const t = tableOf(model({ rest: f32([1, 2, 3]), disagreements: u8([1, 1]), attribution_method: "nonsense" }));
    expect(t.method).toBe("integrated");
    expect(t.rest).toBeNull();
    expect(t.disagreements).toBeNull();
    const four = tableOf(model({ n_groups: 4, spatial: null, spatial_shape: [] }));
    expect(four.methods).toEqual([]);
    expect(four.values).toBeNull();
  });

  it("is decoded again only when something it comes from changed", () => {
    const m = model();
    const first = tableOf(m);
    expect(tableOf(m, first)).toBe(first);
    m.set("attribution_method", "ablation");
    const next = tableOf(m, first);
    expect(next).not.toBe(first);
    expect([...next.values]).toEqual(TABLES.ablation);
  });
});

describe("flows in a method", () => {
  const entry = {
    from: "mixed4a",
    to: "mixed4d",
    values: f32([1, 2, 3, 4, 5, 6]),
    shape: [2, 3],
    tables: { integrated: f32([6, 5, 4, 3, 2, 1]), linear: f32([1, 2]) },
    rest: f32([0, 0, 0]),
    disagreements: u8([0, 0, 1, 0, 0, 0]),
  };

  it("takes tables[method] when well formed, else values", () => {
    expect([...decodeFlow(entry, "integrated").values]).toEqual([6, 5, 4, 3, 2, 1]);
    expect([...decodeFlow(entry, "linear").values]).toEqual([1, 2, 3, 4, 5, 6]); // malformed table
    expect([...decodeFlow(entry, "ablation").values]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...decodeFlow({ ...entry, tables: undefined }).values]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...decodeFlow(entry, "integrated").disagreements]).toEqual([0, 0, 1, 0, 0, 0]);
    expect(decodeFlow({ ...entry, disagreements: u8([1]) }).disagreements).toBeNull();
  });

  it("the flow to the classes is the table shown, transposed with its marks", () => {
    const f = classFlow(tableOf(model({ attribution_method: "linear" })), "mixed4d");
    expect([f.nFrom, f.nTo]).toEqual([3, 2]);
    expect([...f.values]).toEqual([0.5, 2, 0.25, -4, -1, 1]);
    expect([...f.disagreements]).toEqual([0, 0, 1, 0, 0, 1]);
    const flows = columnFlows(["mixed4a", "mixed4d", "classes"], [entry], tableOf(model()));
    expect([...flows[0].values]).toEqual([6, 5, 4, 3, 2, 1]);
    expect([...flows[1].values]).toEqual([1, 4, -2, 5, 3, -6]);
  });

  it("curves carry the marks of their flow", () => {
    const column = (n) => Array.from({ length: n }, (_, j) => ({ left: 0, right: 10, y: 10 * j }));
    const curves = curvePaths([decodeFlow(entry, "integrated")], [column(2), column(3)], 0);
    expect(curves.filter((c) => c.disagrees).map((c) => [c.from, c.to])).toEqual([[0, 2]]);
    const unmarked = curvePaths([{ ...decodeFlow(entry), disagreements: null }], [column(2), column(3)], 0);
    expect(unmarked.some((c) => c.disagrees)).toBe(false);
  });
});

describe("explained variance and stability", () => {
  it("reads shares as numbers in [0, 1], NaN where unknown", () => {
    const s = readState(
      new StaticModel({
        explained_variance: null,
        explained_variance_by_k: [0.4, null, "nan", 1.5, -0.2, 0.7],
        stability: [0.93, undefined],
      }),
    );
    expect(s.explained_variance).toBeNaN();
    expect(s.explained_variance_by_k).toEqual([0.4, NaN, NaN, 1, 0, 0.7]);
    expect(s.stability).toEqual([0.93, NaN]);
    expect(readState(new StaticModel({ explained_variance: 0.72 })).explained_variance).toBe(0.72);
    expect(readState(new StaticModel({})).explained_variance).toBeNaN();
  });

  it("writes them as words", () => {
    expect(explainedText(0.724)).toBe("72% explained");
    expect(explainedText(NaN)).toBe("");
    expect(stabilityText(0.926)).toBe("0.93");
    expect(stabilityText(NaN)).toBe("");
    expect(explainedAt(0.5, [0.1, 0.2], 2)).toBe(0.5);
    expect(explainedAt(NaN, [0.1, 0.2], 2)).toBe(0.2);
    expect(explainedAt(NaN, [0.1], 2)).toBeNaN();
  });

  it("the curve: x by count, y from its lowest to its highest, broken where unknown", () => {
    const { points, d, current } = varianceCurve([0.2, 0.6, NaN, 1.0], 2);
    expect(points.map((p) => p.k)).toEqual([1, 2, 4]);
    // 120 x 36 box, 4 px of room: x 4 .. 116 over counts 1..4; y 32 (lowest) .. 4 (highest).
    expect(points.map((p) => [p.x, p.y])).toEqual([
      [4, 32],
      [41.3, 18],
      [116, 4],
    ]);
    expect(d).toBe("M 4 32 L 41.3 18 M 116 4");
    expect(current).toEqual({ k: 2, value: 0.6, x: 41.3, y: 18 });
    expect(varianceCurve([0.2, 0.6], 5).current).toBeNull();
    expect(varianceCurve([], 2)).toEqual({ points: [], d: "", current: null });
    expect(varianceCurve([0.5], 1).points).toEqual([{ k: 1, value: 0.5, x: 60, y: 18 }]);
  });
});
