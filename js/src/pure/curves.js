/**
 * The curves of the multi-layer diagram (one per pair of groups of neighbouring columns: width
 * by the flow's size in its pair, colour by its sign) and the keyboard moves between columns.
 */
import { signColor } from "./colors.js";

/**
 * Each flow's share of its pair's largest: |v| / max |v| (0 where the pair has no flow).
 * @param {ArrayLike<number>} values
 * @returns {{ maxAbs: number, fractions: Float32Array }}
 */
export function normalizeFlow(values) {
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const fractions = new Float32Array(values.length);
  if (maxAbs > 0) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      fractions[i] = Number.isFinite(v) ? Math.abs(v) / maxAbs : 0;
    }
  }
  return { maxAbs, fractions };
}

/** Stroke width (px) of the largest flow of a pair; the others scale with |flow|. */
export const CURVE_MAX_WIDTH = 8;
/** Thinnest stroke drawn, so that a small flow above the threshold stays visible. */
export const CURVE_MIN_WIDTH = 0.5;

/**
 * Where a node (tile) sits in the diagram, in px relative to it.
 * @typedef {{ left: number, right: number, y: number }} NodeBox
 */

/**
 * One curve of the diagram.
 * @typedef {object} Curve
 * @property {number} pair      index p of the pair (columns p and p + 1)
 * @property {number} from      group in column p
 * @property {number} to        group (or class row) in column p + 1
 * @property {number} value     the flow
 * @property {number} fraction  |value| / the pair's max |value|, in [0, 1]
 * @property {number} width     stroke width, px
 * @property {string} color     by sign, the table's palette
 * @property {string} d         SVG path: from the right edge of `from` to the left edge of `to`
 * @property {boolean} hidden   fraction below the threshold
 * @property {boolean} disagrees linear attribution and measured effect disagree in sign
 */

/**
 * Whether a curve is hidden: under the threshold (a fraction of its pair's largest), or 0.
 * @param {number} fraction
 * @param {number} threshold
 * @returns {boolean}
 */
export function belowThreshold(fraction, threshold) {
  return !(fraction >= threshold) || fraction === 0;
}

/**
 * A horizontal S-curve from (x0, y0) to (x1, y1).
 * @param {number} x0
 * @param {number} y0
 * @param {number} x1
 * @param {number} y1
 * @returns {string}
 */
export function curveD(x0, y0, x1, y1) {
  const r = (/** @type {number} */ v) => Math.round(v * 10) / 10;
  const xm = r((x0 + x1) / 2);
  return `M ${r(x0)} ${r(y0)} C ${xm} ${r(y0)}, ${xm} ${r(y1)}, ${r(x1)} ${r(y1)}`;
}

/**
 * The curves between neighbouring columns: one per (from, to) of each pair whose flow matches
 * the columns' sizes. Width by |flow| normalized per pair (the pair's largest gets
 * CURVE_MAX_WIDTH), colour by sign, hidden under `threshold` (a fraction of the pair's largest).
 * @param {Array<{ values: ArrayLike<number> | null, nFrom: number, nTo: number,
 *         disagreements?: ArrayLike<number> | null } | null>} flows
 *        flows[p]: between columns p and p + 1, row-major (from, to); disagreements: 1 where
 *        linear and measured disagree in sign
 * @param {NodeBox[][]} columns each column's nodes, in group order
 * @param {number} threshold 0..1
 * @returns {Curve[]}
 */
export function curvePaths(flows, columns, threshold) {
  /** @type {Curve[]} */
  const curves = [];
  flows.forEach((flow, p) => {
    const left = columns[p];
    const right = columns[p + 1];
    if (!flow || !flow.values || !left || !right) return;
    const { values, nFrom, nTo } = flow;
    const marks = flow.disagreements?.length === values.length ? flow.disagreements : null;
    if (left.length !== nFrom || right.length !== nTo || values.length !== nFrom * nTo) return;
    const { fractions } = normalizeFlow(values);
    for (let a = 0; a < nFrom; a++) {
      for (let b = 0; b < nTo; b++) {
        const value = values[a * nTo + b];
        const fraction = fractions[a * nTo + b];
        curves.push({
          pair: p,
          from: a,
          to: b,
          value,
          fraction,
          width: Math.max(CURVE_MIN_WIDTH, CURVE_MAX_WIDTH * fraction),
          color: signColor(value),
          d: curveD(left[a].right, left[a].y, right[b].left, right[b].y),
          hidden: belowThreshold(fraction, threshold),
          disagrees: marks?.[a * nTo + b] === 1,
        });
      }
    }
  });
  return curves;
}

/**
 * Where the focus goes from group `group` of column `col` for a key, in the multi-layer view:
 * Up/Down within the column (wrapping), Home/End to its ends, Left/Right to the neighbouring
 * column (the same index, or its last group), not past the first or last column.
 * @param {string} key
 * @param {number} col
 * @param {number} group
 * @param {number[]} counts groups per column
 * @returns {{ col: number, group: number } | null} null when the key does not move the focus
 */
export function moveAcrossColumns(key, col, group, counts) {
  const n = counts[col] ?? 0;
  if (n === 0) return null;
  switch (key) {
    case "ArrowUp":
      return { col, group: (group - 1 + n) % n };
    case "ArrowDown":
      return { col, group: (group + 1) % n };
    case "Home":
      return { col, group: 0 };
    case "End":
      return { col, group: n - 1 };
    case "ArrowLeft":
    case "ArrowRight": {
      const step = key === "ArrowLeft" ? -1 : 1;
      for (let c = col + step; c >= 0 && c < counts.length; c += step) {
        if (counts[c] > 0) return { col: c, group: Math.min(group, counts[c] - 1) };
      }
      return { col, group };
    }
    default:
      return null;
  }
}

/** Default threshold of the curves: hide those under this fraction of their pair's largest. */
export const DEFAULT_THRESHOLD = 0.1;
