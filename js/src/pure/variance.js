/**
 * How much of a layer the groups explain: the words ("72% explained"), stability's words,
 * and the geometry of the small curve of explained variance over group counts drawn beside a
 * count control (the way to choose a count).
 */

/** The curve's box (SVG user units; CSS may scale it). */
export const CURVE_WIDTH = 120;
export const CURVE_HEIGHT = 36;
/** Room kept round the points so that the dots are not cut. */
const PAD = 4;

/**
 * @param {number} v a share in [0, 1], NaN unknown
 * @returns {string} "72% explained", "" when unknown
 */
export function explainedText(v) {
  return Number.isFinite(v) ? `${Math.round(v * 100)}% explained` : "";
}

/**
 * The share explained at `count` groups: `explained` when known, else the curve's entry.
 * @param {number} explained
 * @param {number[]} byK entry k-1 for k groups
 * @param {number} count
 * @returns {number} NaN when unknown
 */
export function explainedAt(explained, byK, count) {
  if (Number.isFinite(explained)) return explained;
  const v = byK[count - 1];
  return Number.isFinite(v) ? v : NaN;
}

/**
 * @param {number} v stability in [0, 1], NaN unknown
 * @returns {string} "0.93", "" when unknown
 */
export function stabilityText(v) {
  return Number.isFinite(v) ? v.toFixed(2) : "";
}

/** What a group's stability means (its tooltip, after "stability 0.93: "). */
export const STABILITY_TEXT =
  "mean cosine of this group's channel direction with its match in 5 refits on resampled positions; 1 = always found again";

/** What a shared group's split-half stability means (the gallery's tooltip). */
export const SPLIT_HALF_TEXT =
  "split-half stability: mean cosine of this group's channel direction with its match when the groups are fitted " +
  "again on each half of the images; 1 = always found again";

/**
 * One point of the curve.
 * @typedef {{ k: number, value: number, x: number, y: number }} CurvePoint
 */

/**
 * The curve of explained variance over counts in a CURVE_WIDTH x CURVE_HEIGHT box: a point
 * per known entry (x by count, y by value between the curve's lowest and highest), the path
 * through them (broken where an entry is unknown) and the point of the current count.
 * @param {number[]} byK entry k-1 for k groups (NaN unknown)
 * @param {number} count the current count
 * @returns {{ points: CurvePoint[], d: string, current: CurvePoint | null }}
 */
export function varianceCurve(byK, count) {
  const known = byK.filter(Number.isFinite);
  if (known.length === 0) return { points: [], d: "", current: null };
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  const r = (/** @type {number} */ v) => Math.round(v * 10) / 10;
  const xOf = (/** @type {number} */ k) =>
    byK.length > 1 ? PAD + ((k - 1) / (byK.length - 1)) * (CURVE_WIDTH - 2 * PAD) : CURVE_WIDTH / 2;
  const yOf = (/** @type {number} */ v) =>
    hi > lo ? CURVE_HEIGHT - PAD - ((v - lo) / (hi - lo)) * (CURVE_HEIGHT - 2 * PAD) : CURVE_HEIGHT / 2;
  /** @type {CurvePoint[]} */
  const points = [];
  let d = "";
  let joined = false;
  byK.forEach((value, i) => {
    if (!Number.isFinite(value)) {
      joined = false;
      return;
    }
    const p = { k: i + 1, value, x: r(xOf(i + 1)), y: r(yOf(value)) };
    points.push(p);
    d += `${d ? " " : ""}${joined ? "L" : "M"} ${p.x} ${p.y}`;
    joined = true;
  });
  return { points, d, current: points.find((p) => p.k === count) ?? null };
}
